// RFC 6081 §4 trailers as the client cases read them in what the IUT sends
// and write them in what the played parties send: the Nonce (§4.2),
// Alternate Address (§4.3) and Neighbor Discovery Option (§4.4) trailers.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client::trailers {

inline constexpr std::uint8_t kNonce = 0x01;
inline constexpr std::uint8_t kAlternateAddress = 0x03;
inline constexpr std::uint8_t kNeighborDiscovery = 0x04;
inline constexpr std::uint8_t kSolicitation = 0x00;   // §4.4 TeredoDiscoverySolicitation
inline constexpr std::uint8_t kAdvertisement = 0x01;  // §4.4 TeredoDiscoveryAdvertisement

struct Trailer {
  std::uint8_t type = 0;
  wire::ByteVector value{};  // Length bytes
};

// The trailers after the IPv6 packet, in order, up to a malformed one
// (`malformed` set: under 2 bytes left or fewer than Length).
inline std::vector<Trailer> read(wire::Bytes bytes, bool* malformed = nullptr) {
  std::vector<Trailer> out;
  std::size_t i = 0;
  if (malformed != nullptr) *malformed = false;
  while (i < bytes.size()) {
    if (bytes.size() - i < 2 || bytes.size() - i - 2 < bytes[i + 1]) {
      if (malformed != nullptr) *malformed = true;
      break;
    }
    Trailer t{bytes[i], wire::ByteVector(bytes.begin() + static_cast<std::ptrdiff_t>(i) + 2,
                                         bytes.begin() + static_cast<std::ptrdiff_t>(i) + 2 + bytes[i + 1])};
    i += 2 + bytes[i + 1];
    out.push_back(std::move(t));
  }
  return out;
}
inline std::vector<Trailer> read(const Seen& s) {
  return s.datagram ? read(s.datagram->ipv6.trailer) : std::vector<Trailer>{};
}
inline std::optional<Trailer> find(const Seen& s, std::uint8_t type) {
  for (auto& t : read(s)) {
    if (t.type == type) return t;
  }
  return std::nullopt;
}
// The value of a well-formed Nonce Trailer (length 4).
inline std::optional<std::uint32_t> nonce_of(const Seen& s) {
  const auto t = find(s, kNonce);
  if (!t || t->value.size() != 4) return std::nullopt;
  return (std::uint32_t{t->value[0]} << 24) | (std::uint32_t{t->value[1]} << 16) |
         (std::uint32_t{t->value[2]} << 8) | t->value[3];
}
// §4.4 DiscoveryType of a Neighbor Discovery Option Trailer of length 4.
inline std::optional<std::uint8_t> discovery_type_of(const Seen& s) {
  const auto t = find(s, kNeighborDiscovery);
  if (!t || t->value.size() != 4) return std::nullopt;
  return t->value[0];
}

// "01 04 de ad be ef, 03 08 ..." for observed texts.
inline std::string text(const std::vector<Trailer>& list) {
  std::string s;
  for (const auto& t : list) {
    if (!s.empty()) s += ", ";
    s += fmt::format("{:02x} {:02x}", t.type, t.value.size());
    if (!t.value.empty()) s += " " + kit::hex(t.value);
  }
  return s.empty() ? "no trailer" : s;
}

inline void append_nonce(wire::ByteVector& out, std::uint32_t nonce) {
  out.insert(out.end(), {kNonce, 4, static_cast<std::uint8_t>(nonce >> 24), static_cast<std::uint8_t>(nonce >> 16),
                         static_cast<std::uint8_t>(nonce >> 8), static_cast<std::uint8_t>(nonce)});
}
// An Alternate Address Trailer with `length` in its Length field (well formed
// when it is 2 + 6 * entries).
inline void append_alternates(wire::ByteVector& out, const std::vector<Endpoint>& list, std::uint8_t length) {
  out.insert(out.end(), {kAlternateAddress, length, 0, 0});
  std::size_t written = 2;
  for (const Endpoint& e : list) {
    const std::uint32_t a = e.address.value;
    out.insert(out.end(), {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                           static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a),
                           static_cast<std::uint8_t>(e.port >> 8), static_cast<std::uint8_t>(e.port)});
    written += 6;
  }
  for (; written < length; ++written) out.push_back(0);  // padding of a malformed length
}
inline void append_discovery(wire::ByteVector& out, std::uint8_t discovery_type) {
  out.insert(out.end(), {kNeighborDiscovery, 4, discovery_type, 0, 0, 0});
}

// A Teredo UDP payload: [origin indication] packet trailers.
inline wire::ByteVector datagram(wire::Bytes packet, wire::Bytes trailer,
                                 std::optional<Endpoint> origin = std::nullopt) {
  wire::ByteVector payload;
  std::optional<wire::OriginIndication> o;
  if (origin) o = wire::OriginIndication{origin->port, origin->address};
  (void)wire::append_datagram(payload, std::nullopt, o, packet, trailer);
  return payload;
}

}  // namespace teredo::conformance::client::trailers
