// Private to reference/wire/src (not installed, not part of the API): the
// pieces the hot decode path shares between translation units.
//
// Why this exists (bench/README.md has the figures): returning a view through
// a temporary and then `Result(T value)` costs a zero-fill, a copy and, worse,
// store-to-load forwarding stalls (the copy reloads 16 bytes at a time what
// was just stored a byte or a word at a time). So parsers here fill the value
// inside the Result that the caller receives (named return value, no copy),
// and the checksum sums 64-bit words instead of assembling 32-bit ones byte by
// byte. Every bounds check of the ByteReader versions is kept, as an explicit
// size test before the bytes are touched.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/nd.hpp"
#include "teredo/wire/result.hpp"

namespace teredo::wire::detail {

// Runs `fill(T&)`, which returns ParseError::none or an error, on the value
// inside the Result handed back. On an error the Result is reset to
// Result<T>(error), so its value is T{} exactly as when parsers returned the
// error directly. The single named Result is what every path returns, which
// lets the compiler build it in the caller's storage.
//
// The Result starts as a copy of a constant ok Result holding T{}, rather
// than as Result<T>(ParseError::none): value-initializing T zero-fills the
// whole object first, and GCC (generic tuning) clears anything over a few
// dozen bytes with `rep stos`, whose start-up cost was half of parse_datagram
// (a fifth of an RA decode). Copying a constant is a handful of vector moves.
template <class T, class Fill>
inline Result<T> parse_in_place(Fill&& fill) noexcept {
  static const Result<T> kOkDefault(ParseError::none);  // ok, value T{}
  Result<T> result = kOkDefault;
  const ParseError error = fill(result.value());
  if (error != ParseError::none) result = Result<T>(error);
  return result;
}

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// ---------------------------------------------------------------------------
// Internet checksum (RFC 1071) over native 64-bit words.
//
// RFC 1071 §2: the one's complement sum does not depend on byte order (sum the
// words as the host loads them, swap the folded result) and may be taken over
// wider words (2^16, 2^32, 2^48 are all 1 modulo 2^16 - 1, and 2^64 - 1 is a
// multiple of 2^16 - 1). A 64-bit sum with end-around carry is therefore
// congruent, modulo 0xFFFF, to the exact sum of the big-endian 16-bit words,
// and it is zero only when every byte is zero, as that sum is. Folding either
// one to 16 bits gives the same value, so results are bit-identical to the
// 16/32-bit big-endian loop this replaces.
// ---------------------------------------------------------------------------

inline std::uint64_t add_end_around(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t s = 0;
  const bool carry = __builtin_add_overflow(a, b, &s);
  return s + static_cast<std::uint64_t>(carry);  // cannot overflow again
}

inline std::uint64_t load_native64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Adds `n` bytes starting at `p` (which must start a 16-bit word of the
// message) to a native-order end-around-carry sum. An odd final byte is
// padded with a zero byte after it.
inline std::uint64_t add_native(std::uint64_t acc, const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t acc2 = 0;  // a second carry chain: the two run in parallel
  while (n >= 16) {
    acc = add_end_around(acc, load_native64(p));
    acc2 = add_end_around(acc2, load_native64(p + 8));
    p += 16;
    n -= 16;
  }
  acc = add_end_around(acc, acc2);
  if (n >= 8) {
    acc = add_end_around(acc, load_native64(p));
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    // The last 1..7 bytes, followed by zeros, as one native word.
    std::uint64_t tail = 0;
    if constexpr (std::endian::native == std::endian::little) {
      unsigned shift = 0;
      if (n >= 4) {
        std::uint32_t v = 0;
        std::memcpy(&v, p, 4);
        tail = v;
        p += 4;
        n -= 4;
        shift = 32;
      }
      if (n >= 2) {
        std::uint16_t v = 0;
        std::memcpy(&v, p, 2);
        tail |= std::uint64_t{v} << shift;
        p += 2;
        n -= 2;
        shift += 16;
      }
      if (n == 1) tail |= std::uint64_t{*p} << shift;
    } else {
      std::uint8_t bytes[8] = {};
      std::memcpy(bytes, p, n);
      tail = load_native64(bytes);
    }
    acc = add_end_around(acc, tail);
  }
  return acc;
}

// Folds a native-order sum to 16 bits and puts it in big-endian word order:
// the value the big-endian 16-bit loop would hold, modulo 0xFFFF (and zero
// exactly when it would be zero).
inline std::uint32_t fold_native(std::uint64_t acc) noexcept {
  std::uint64_t s = (acc & 0xFFFFFFFF) + (acc >> 32);  // <= 2^33 - 2
  s = (s & 0xFFFF) + (s >> 16);                        // < 2^18
  s = (s & 0xFFFF) + (s >> 16);                        // <= 0x10002
  s = (s & 0xFFFF) + (s >> 16);                        // <= 0xFFFF
  auto v = static_cast<std::uint16_t>(s);
  if constexpr (std::endian::native == std::endian::little) {
    v = static_cast<std::uint16_t>((v >> 8) | (v << 8));
  }
  return v;
}

// ---------------------------------------------------------------------------
// Parsers that fill a value in place and return the error. On an error the
// value may be partly written: callers discard it (parse_in_place resets it).
// ---------------------------------------------------------------------------

//   0x00 0x01 | ID-len | AU-len | client id | auth value | nonce (8) | confirmation
inline ParseError parse_authentication_into(Bytes buffer, Authentication& a) noexcept {
  // Any shortfall is truncation, checked before the indicator (as before).
  if (buffer.size() < 4) return ParseError::truncated_authentication;
  const std::size_t id_length = buffer[2];
  const std::size_t value_length = buffer[3];
  const std::size_t size = kAuthenticationFixedSize + id_length + value_length;
  if (buffer.size() < size) return ParseError::truncated_authentication;
  if (load_be16(buffer.data()) != kIndicatorAuthentication) {
    return ParseError::unknown_encapsulation;
  }
  a.client_id = buffer.subspan(4, id_length);
  a.authentication_value = buffer.subspan(4 + id_length, value_length);
  std::memcpy(a.nonce.data(), buffer.data() + 4 + id_length + value_length, kNonceSize);
  a.confirmation = buffer[size - 1];
  a.encoded = buffer.first(size);
  return ParseError::none;
}

//   0x00 0x00 | ~port (16) | ~IPv4 (32)
inline ParseError parse_origin_indication_into(Bytes buffer, OriginIndication& o) noexcept {
  if (buffer.size() < kOriginIndicationSize) return ParseError::truncated_origin_indication;
  if (load_be16(buffer.data()) != kIndicatorOrigin) return ParseError::unknown_encapsulation;
  // §5.1.1: each bit of the port and address is reversed on the wire.
  o.port = static_cast<std::uint16_t>(~load_be16(buffer.data() + 2));
  o.address = Ipv4Address{~load_be32(buffer.data() + 4)};
  return ParseError::none;
}

inline ParseError parse_ipv6_packet_into(Bytes buffer, Ipv6PacketView& view) noexcept {
  if (buffer.empty() || (buffer[0] >> 4) != 6) return ParseError::not_ipv6;
  if (buffer.size() < kIpv6HeaderSize) return ParseError::truncated_ipv6_header;
  const std::uint8_t* b = buffer.data();
  const std::uint16_t payload_length = load_be16(b + 4);
  const std::size_t total = kIpv6HeaderSize + payload_length;
  if (buffer.size() < total) return ParseError::truncated_ipv6_payload;
  Ipv6Header& h = view.header;
  const std::uint32_t first = load_be32(b);
  h.traffic_class = static_cast<std::uint8_t>(first >> 20);
  h.flow_label = first & 0xFFFFF;
  h.payload_length = payload_length;
  h.next_header = b[6];
  h.hop_limit = b[7];
  std::memcpy(h.source.bytes.data(), b + 8, 16);
  std::memcpy(h.destination.bytes.data(), b + 24, 16);
  view.packet = buffer.first(total);
  view.payload = buffer.subspan(kIpv6HeaderSize, payload_length);
  view.trailer = buffer.subspan(total);
  return ParseError::none;
}

// RFC 4861 §4.6 option walk (see nd.hpp for the errors and their order).
inline ParseError parse_nd_options_into(Bytes options, NdOptions& out) noexcept {
  out.encoded = options;
  const std::uint8_t* p = options.data();
  std::size_t left = options.size();
  while (left > 0) {
    if (left < 2) return ParseError::truncated_nd_option;
    const std::uint8_t type = p[0];
    const std::uint8_t units = p[1];
    // Length is in units of 8 bytes, and 0 is invalid (a walk over it would
    // never advance).
    if (units == 0) return ParseError::nd_option_zero_length;
    const std::size_t size = std::size_t{units} * 8;
    if (left < size) return ParseError::nd_option_overlong;
    const std::uint8_t* body = p + 2;  // size - 2 bytes
    ++out.count;
    switch (type) {
      case kNdOptionSourceLinkLayer:
        if (out.source_link_layer.empty()) out.source_link_layer = Bytes(body, size - 2);
        break;
      case kNdOptionPrefixInformation: {
        if (units != 4) return ParseError::bad_prefix_information_length;
        ++out.prefix_information_count;
        if (!out.prefix_information) {
          // 30 body bytes: length, flags, valid (4), preferred (4),
          // reserved (4), prefix (16).
          PrefixInformation& pi = out.prefix_information.emplace();
          pi.prefix_length = body[0];
          pi.flags = body[1];
          pi.valid_lifetime = load_be32(body + 2);
          pi.preferred_lifetime = load_be32(body + 6);
          std::memcpy(pi.prefix.bytes.data(), body + 14, 16);
        }
        break;
      }
      case kNdOptionMtu:
        if (units != 1) return ParseError::bad_mtu_option_length;
        // 6 body bytes: reserved (2), MTU (4).
        if (!out.mtu) out.mtu = load_be32(body + 2);
        break;
      default:
        ++out.unknown_count;  // RFC 4861 §4.6: unknown options are skipped
        break;
    }
    p += size;
    left -= size;
  }
  return ParseError::none;
}

}  // namespace teredo::wire::detail
