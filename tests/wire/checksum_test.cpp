// The Internet checksum (RFC 1071), against the RFC's example and against a
// plain reference loop written here (big-endian 16-bit words, end-around
// carry), over many lengths, alignments and chunkings; and the ICMPv6
// verification path against the same reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "teredo/wire/checksum.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::hex;
using test::v6;

// RFC 1071 §1 as written: 16-bit big-endian words, odd byte padded with zero,
// carries folded back, result complemented.
std::uint16_t reference_checksum(const std::vector<std::uint8_t>& data) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const std::uint32_t hi = data[i];
    const std::uint32_t lo = i + 1 < data.size() ? data[i + 1] : 0;
    sum += (hi << 8) | lo;
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

// Deterministic pseudo-random bytes (a 32-bit LCG; no dependence on <random>
// distributions, whose output differs between standard libraries).
std::vector<std::uint8_t> bytes_from_seed(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> out(n);
  std::uint32_t x = seed;
  for (auto& b : out) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return out;
}

TEST(Checksum, Rfc1071NumericalExample) {
  // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (one's
  // complement), so the checksum is ~ddf2 = 220d.
  ChecksumAccumulator sum;
  sum.add(hex("0001f203f4f5f6f7"));
  EXPECT_EQ(sum.finish(), 0x220d);
  ChecksumAccumulator chunks;  // even-length chunks and 16/32-bit values
  chunks.add(hex("0001"));
  chunks.add(hex("f203f4f5"));
  chunks.add_u16(0xf6f7);
  EXPECT_EQ(chunks.finish(), 0x220d);
  ChecksumAccumulator words;
  words.add_u32(0x0001f203);
  words.add_u32(0xf4f5f6f7);
  EXPECT_EQ(words.finish(), 0x220d);
}

TEST(Checksum, EdgeValues) {
  EXPECT_EQ(ChecksumAccumulator{}.finish(), 0xffff);  // empty
  ChecksumAccumulator zeros;
  zeros.add(std::vector<std::uint8_t>(64, 0));
  EXPECT_EQ(zeros.finish(), 0xffff);
  ChecksumAccumulator odd;  // an odd byte is the high half of a word: 01 -> 0100
  odd.add(hex("01"));
  EXPECT_EQ(odd.finish(), 0xfeff);
  ChecksumAccumulator ones;  // 0xffff words sum to "negative zero"
  ones.add(std::vector<std::uint8_t>(64, 0xff));
  EXPECT_EQ(ones.finish(), 0x0000);
  ChecksumAccumulator carry;  // 8000 + 8000 = 1 after the end-around carry
  carry.add(hex("80008000"));
  EXPECT_EQ(carry.finish(), 0xfffe);
  // ffff + ffff + 0001: the first fold leaves 0x10000, which needs a second.
  ChecksumAccumulator twice;
  twice.add_u32(0xffffffff);
  twice.add_u16(0x0001);
  EXPECT_EQ(twice.finish(), 0xfffe);
  ChecksumAccumulator twice_bytes;
  twice_bytes.add(hex("ffffffff"));
  twice_bytes.add(hex("0001"));
  EXPECT_EQ(twice_bytes.finish(), 0xfffe);
}

TEST(Checksum, MatchesReferenceForEveryLengthAndAlignment) {
  for (std::uint32_t seed : {1u, 2u, 0xdeadbeefu}) {
    const std::vector<std::uint8_t> buffer = bytes_from_seed(200, seed);
    for (std::size_t offset = 0; offset < 8; ++offset) {
      for (std::size_t n = 0; n <= 130; ++n) {
        const std::vector<std::uint8_t> data(
            buffer.begin() + static_cast<std::ptrdiff_t>(offset),
            buffer.begin() + static_cast<std::ptrdiff_t>(offset + n));
        ChecksumAccumulator sum;
        sum.add(Bytes(buffer).subspan(offset, n));  // possibly unaligned start
        ASSERT_EQ(sum.finish(), reference_checksum(data))
            << "seed " << seed << " offset " << offset << " length " << n;
      }
    }
  }
}

TEST(Checksum, MatchesReferenceWhenFedInEvenChunks) {
  const std::vector<std::uint8_t> data = bytes_from_seed(301, 7);
  const std::uint16_t expected = reference_checksum(data);
  for (std::size_t chunk = 2; chunk <= 40; chunk += 2) {
    ChecksumAccumulator sum;
    for (std::size_t at = 0; at < data.size(); at += chunk) {
      sum.add(Bytes(data).subspan(at, std::min(chunk, data.size() - at)));
    }
    EXPECT_EQ(sum.finish(), expected) << "chunk " << chunk;
  }
}

TEST(Checksum, CarryHeavyInputs) {
  // All-0xff and 0xff..fe patterns over lengths that exercise every tail size
  // and a 64 KiB buffer (many carries into the upper bits).
  for (std::size_t n : {1u, 2u, 3u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 33u, 65535u}) {
    std::vector<std::uint8_t> ff(n, 0xff);
    ChecksumAccumulator a;
    a.add(ff);
    EXPECT_EQ(a.finish(), reference_checksum(ff)) << n;
    if (n > 1) ff[n - 2] = 0xfe;
    ChecksumAccumulator b;
    b.add(ff);
    EXPECT_EQ(b.finish(), reference_checksum(ff)) << n;
  }
}

TEST(ChecksumUpdate, Rfc1624Example) {
  // RFC 1624 §4: a field 0x5555 becomes 0x3285; the sum of the other header
  // words is 0xCD7A, so HC = ~(0xCD7A + 0x5555) = 0xDD2F, and eqn. 3 gives
  // HC' = ~(~HC + ~m + m') = ~(0x22D0 + 0xAAAA + 0x3285) = 0x0000 (where
  // RFC 1141's incremental update wrongly gave 0xFFFF).
  EXPECT_EQ(checksum_update(0xDD2F, hex("5555"), hex("3285")), 0x0000);
  // Nothing changed: the checksum is kept.
  EXPECT_EQ(checksum_update(0x1234, hex("abcd"), hex("abcd")), 0x1234);
}

TEST(ChecksumUpdate, MatchesARecomputeAfterRewritingWords) {
  // A 60-byte message; rewrite an aligned 4- or 16-byte field (an IPv4 or
  // IPv6 address, as a NAT does) and compare with the reference recompute.
  for (std::uint32_t seed = 1; seed <= 50; ++seed) {
    std::vector<std::uint8_t> message = bytes_from_seed(60, seed);
    const std::uint16_t before = reference_checksum(message);
    const std::size_t at = 2 * (seed % 20);
    const std::size_t length = seed % 2 == 0 ? 4 : 16;
    const std::vector<std::uint8_t> old_bytes(
        message.begin() + static_cast<std::ptrdiff_t>(at),
        message.begin() + static_cast<std::ptrdiff_t>(at + length));
    const std::vector<std::uint8_t> new_bytes = bytes_from_seed(length, seed * 7919u);
    std::copy(new_bytes.begin(), new_bytes.end(),
              message.begin() + static_cast<std::ptrdiff_t>(at));
    EXPECT_EQ(checksum_update(before, old_bytes, new_bytes), reference_checksum(message))
        << "seed " << seed;
  }
}

TEST(ChecksumUpdate, AWrongChecksumStaysWrong) {
  // A message holding its checksum verifies (sum 0); one holding a wrong
  // checksum must still fail to verify after the update.
  std::vector<std::uint8_t> message = bytes_from_seed(40, 99);
  message[10] = 0;
  message[11] = 0;
  const std::uint16_t right = reference_checksum(message);
  const auto wrong = static_cast<std::uint16_t>(right ^ 0x0100);
  message[10] = static_cast<std::uint8_t>(wrong >> 8);
  message[11] = static_cast<std::uint8_t>(wrong);
  const std::vector<std::uint8_t> old_bytes(message.begin() + 12, message.begin() + 16);
  const std::vector<std::uint8_t> new_bytes = {192, 0, 2, 1};
  const std::uint16_t updated = checksum_update(wrong, old_bytes, new_bytes);
  std::copy(new_bytes.begin(), new_bytes.end(), message.begin() + 12);
  message[10] = static_cast<std::uint8_t>(updated >> 8);
  message[11] = static_cast<std::uint8_t>(updated);
  EXPECT_NE(reference_checksum(message), 0);
  // With the right checksum the same update verifies.
  message[10] = 0;
  message[11] = 0;
  const std::uint16_t new_right = reference_checksum(message);
  EXPECT_EQ(checksum_update(right, old_bytes, new_bytes), new_right);
}

// ICMPv6 messages of every length from 4 to 100 bytes with the checksum
// computed by the reference loop over the pseudo-header: the parser accepts
// them, rejects the checksum off by one, and icmpv6_checksum() agrees.
TEST(Checksum, Icmpv6VerificationMatchesReference) {
  const Ipv6Address src = v6("2001:0:4136:e378:8000:63bf:3fff:fdd2");
  const Ipv6Address dst = v6("fe80::8000:f227:3d77:e3b3");
  for (std::size_t n = 4; n <= 100; ++n) {
    std::vector<std::uint8_t> message = bytes_from_seed(n, static_cast<std::uint32_t>(n));
    message[2] = 0;
    message[3] = 0;
    std::vector<std::uint8_t> pseudo(src.bytes.begin(), src.bytes.end());
    pseudo.insert(pseudo.end(), dst.bytes.begin(), dst.bytes.end());
    pseudo.insert(pseudo.end(), {0, 0, static_cast<std::uint8_t>(n >> 8),
                                 static_cast<std::uint8_t>(n), 0, 0, 0, 58});
    pseudo.insert(pseudo.end(), message.begin(), message.end());
    const std::uint16_t checksum = reference_checksum(pseudo);
    EXPECT_EQ(icmpv6_checksum(src, dst, message), checksum) << n;

    message[2] = static_cast<std::uint8_t>(checksum >> 8);
    message[3] = static_cast<std::uint8_t>(checksum);
    Ipv6Header h;
    h.next_header = kNextHeaderIcmpv6;
    h.source = src;
    h.destination = dst;
    const ByteVector good = build_ipv6_packet(h, message);
    const auto p = parse_ipv6_packet(good);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(parse_icmpv6(*p).ok()) << n;

    message[3] = static_cast<std::uint8_t>(message[3] ^ 0x01);
    const ByteVector bad = build_ipv6_packet(h, message);
    const auto q = parse_ipv6_packet(bad);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(parse_icmpv6(*q).error(), ParseError::bad_icmpv6_checksum) << n;
  }
}

}  // namespace
}  // namespace teredo::wire
