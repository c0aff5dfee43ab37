// Shared by the fuzz targets, the seed generators and the replay main: the
// property check that turns a violation into a crash libFuzzer reports, the
// link-type table fuzz_frame indexes with its first byte, and the ICMPv6
// round-trip properties three targets share.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/frame.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/nd.hpp"
#include "teredo/wire/result.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// A property the codec must keep. abort() raises SIGABRT, which libFuzzer
// reports as a crash and saves the input as crash-<sha1>.
#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "property violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

namespace teredo::fuzz {

using wire::Bytes;
using wire::ByteVector;
using wire::ParseError;

inline bool same_bytes(Bytes a, Bytes b) { return std::ranges::equal(a, b); }

// True when `inner` lies inside `outer` (parsers hand out views, never copies).
inline bool inside(Bytes inner, Bytes outer) {
  if (inner.empty()) return true;
  const std::less_equal<const std::uint8_t*> le;
  return le(outer.data(), inner.data()) && le(inner.data() + inner.size(), outer.data() + outer.size());
}

// Every error a parser returns has its stable name.
inline void check_error(ParseError error) {
  FUZZ_CHECK(error != ParseError::none);
  FUZZ_CHECK(wire::to_string(error) != "unknown_error");
}

inline std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// RFC 1071 the slow, obvious way (big-endian 16-bit words, an odd last byte
// padded with zero), to check the codec's optimised checksum against. Takes
// the chunks of one message; only the last may have odd length.
class ReferenceChecksum {
 public:
  void add(Bytes bytes) {
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
      const std::uint32_t hi = bytes[i];
      const std::uint32_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
      sum_ += (hi << 8) | lo;
    }
  }
  void add_u16(std::uint16_t v) { sum_ += v; }
  [[nodiscard]] std::uint16_t finish() const {
    std::uint64_t sum = sum_;
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xFFFF);
  }

 private:
  std::uint64_t sum_ = 0;
};

// The ICMPv6 checksum over the RFC 8200 §8.1 pseudo-header, checksum field
// taken as zero (a message too short to hold one is summed whole).
inline std::uint16_t reference_icmpv6_checksum(const wire::Ipv6Address& source,
                                               const wire::Ipv6Address& destination, Bytes message) {
  ReferenceChecksum sum;
  sum.add(source.bytes);
  sum.add(destination.bytes);
  const auto length = static_cast<std::uint32_t>(message.size());
  sum.add_u16(static_cast<std::uint16_t>(length >> 16));
  sum.add_u16(static_cast<std::uint16_t>(length));
  sum.add_u16(wire::kNextHeaderIcmpv6);
  if (message.size() >= 4) {
    sum.add(message.first(2));
    sum.add(message.subspan(4));
  } else {
    sum.add(message);
  }
  return sum.finish();
}

// fuzz_frame: a first byte below 8 picks one of these; any other value is used
// as the link type itself (mostly unsupported ones).
inline constexpr std::array<wire::LinkType, 8> kLinkTypes = {
    wire::LinkType::null,      wire::LinkType::ethernet, wire::LinkType::raw,
    wire::LinkType::loop,      wire::LinkType::linux_sll, wire::LinkType::ipv4,
    wire::LinkType::ipv6,      wire::LinkType::linux_sll2,
};

// The secret fuzz_datagram signs and verifies with (make_seeds signs one seed
// with it, so the "value matches" branch is reached from the start).
inline constexpr std::array<std::uint8_t, 4> kFuzzSecret = {'f', 'u', 'z', 'z'};

// The ICMPv6 properties, over any parsed IPv6 packet:
//  - the strict and lenient parses agree, and the strict one accepts exactly
//    the messages whose checksum field equals icmpv6_checksum() (or 0xFFFF
//    when that is 0: the other one's-complement zero);
//  - build_icmpv6_packet, build_echo, build_router_solicitation,
//    build_router_advertisement and build_bubble rebuild the very bytes
//    (checksum as computed) from the parsed fields, whenever the packet is
//    one the builders can write (traffic class and flow label 0, code 0,
//    RS reserved 0).
inline void check_icmpv6(const wire::Ipv6PacketView& packet) {
  using namespace wire;
  const Ipv6Header& h = packet.header;
  const bool plain_header = h.traffic_class == 0 && h.flow_label == 0;
  if (is_bubble(packet)) {
    FUZZ_CHECK(packet.payload.empty() && packet.packet.size() == kIpv6HeaderSize);
    if (plain_header) {
      FUZZ_CHECK(same_bytes(build_bubble(h.source, h.destination, h.hop_limit), packet.packet));
    }
  }

  const auto loose = parse_icmpv6(packet, ChecksumPolicy::ignore);
  const auto strict = parse_icmpv6(packet, ChecksumPolicy::verify);
  if (!loose) {
    check_error(loose.error());
    FUZZ_CHECK(loose.error() == ParseError::not_icmpv6 || loose.error() == ParseError::truncated_icmpv6);
    FUZZ_CHECK(!strict && strict.error() == loose.error());
    FUZZ_CHECK((h.next_header != kNextHeaderIcmpv6) == (loose.error() == ParseError::not_icmpv6));
    return;
  }
  const Icmpv6Message& m = *loose;
  FUZZ_CHECK(h.next_header == kNextHeaderIcmpv6);
  FUZZ_CHECK(same_bytes(m.message, packet.payload) && m.message.size() >= 4);
  FUZZ_CHECK(m.type == m.message[0] && m.code == m.message[1] && m.checksum == be16(&m.message[2]));
  FUZZ_CHECK(same_bytes(m.body, m.message.subspan(4)));

  const std::uint16_t computed = icmpv6_checksum(h.source, h.destination, m.message);
  FUZZ_CHECK(computed == reference_icmpv6_checksum(h.source, h.destination, m.message));
  FUZZ_CHECK(computed != 0xFFFF);  // the sum over the pseudo-header is never zero
  if (!strict) {
    check_error(strict.error());
    FUZZ_CHECK(strict.error() == ParseError::bad_icmpv6_checksum);
  }
  FUZZ_CHECK(strict.ok() == (m.checksum == computed || (m.checksum == 0xFFFF && computed == 0)));

  if (!plain_header) return;
  // What a builder must write: these bytes with the checksum it computes.
  ByteVector expected(packet.packet.begin(), packet.packet.end());
  expected[kIpv6HeaderSize + 2] = static_cast<std::uint8_t>(computed >> 8);
  expected[kIpv6HeaderSize + 3] = static_cast<std::uint8_t>(computed);
  FUZZ_CHECK(same_bytes(build_icmpv6_packet(h.source, h.destination, h.hop_limit, m.type, m.code, m.body),
                        expected));
  {
    const auto rebuilt = parse_ipv6_packet(expected);
    FUZZ_CHECK(rebuilt && parse_icmpv6(*rebuilt, ChecksumPolicy::verify).ok());
  }

  const auto echo = parse_echo(m);
  if (echo) {
    FUZZ_CHECK(m.type == kIcmpv6EchoRequest || m.type == kIcmpv6EchoReply);
    FUZZ_CHECK(echo->reply == (m.type == kIcmpv6EchoReply));
    FUZZ_CHECK(echo->identifier == be16(&m.body[0]) && echo->sequence == be16(&m.body[2]));
    FUZZ_CHECK(same_bytes(echo->data, m.body.subspan(4)));
    if (m.code == 0) {
      FUZZ_CHECK(same_bytes(build_echo(h.source, h.destination, h.hop_limit, *echo), expected));
    }
  } else {
    check_error(echo.error());
    const bool is_echo = m.type == kIcmpv6EchoRequest || m.type == kIcmpv6EchoReply;
    FUZZ_CHECK(echo.error() == (is_echo ? ParseError::truncated_echo : ParseError::wrong_icmpv6_type));
    FUZZ_CHECK(!is_echo || m.body.size() < 4);
  }

  const auto rs = parse_router_solicitation(m);
  if (rs) {
    FUZZ_CHECK(m.type == kIcmpv6RouterSolicitation && m.body.size() >= 4);
    FUZZ_CHECK(same_bytes(rs->options.encoded, m.body.subspan(4)));
    const bool reserved_zero = m.body[0] == 0 && m.body[1] == 0 && m.body[2] == 0 && m.body[3] == 0;
    if (m.code == 0 && reserved_zero) {
      FUZZ_CHECK(same_bytes(
          build_router_solicitation(h.source, h.destination, rs->options.encoded, h.hop_limit), expected));
    }
  } else {
    check_error(rs.error());
    FUZZ_CHECK(m.type != kIcmpv6RouterSolicitation || rs.error() != ParseError::wrong_icmpv6_type);
  }

  const auto ra = parse_router_advertisement(m);
  if (ra) {
    FUZZ_CHECK(m.type == kIcmpv6RouterAdvertisement && m.body.size() >= 12);
    FUZZ_CHECK(ra->cur_hop_limit == m.body[0] && ra->flags == m.body[1]);
    FUZZ_CHECK(ra->router_lifetime == be16(&m.body[2]) && ra->reachable_time == be32(&m.body[4]) &&
               ra->retrans_timer == be32(&m.body[8]));
    FUZZ_CHECK(same_bytes(ra->options.encoded, m.body.subspan(12)));
    if (m.code == 0) {
      FUZZ_CHECK(same_bytes(build_router_advertisement(h.source, h.destination, *ra, ra->options.encoded,
                                                       h.hop_limit),
                            expected));
    }
  } else {
    check_error(ra.error());
    FUZZ_CHECK(m.type != kIcmpv6RouterAdvertisement || ra.error() != ParseError::wrong_icmpv6_type);
  }
}

// Wraps an ICMPv6 message (as the fuzz input gives it) into an IPv6 packet
// between fixed link-local addresses, as RS/RA/echo travel in Teredo.
inline ByteVector wrap_icmpv6(Bytes message) {
  wire::Ipv6Header h;
  h.next_header = wire::kNextHeaderIcmpv6;
  h.hop_limit = 255;
  h.source.bytes = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0xf2, 0x27, 0xbe, 0xc4, 0xb1, 0xb4};
  h.destination.bytes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
  return wire::build_ipv6_packet(h, message);
}

}  // namespace teredo::fuzz
