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
#include "teredo/wire/trailer.hpp"

namespace teredo::conformance::client::trailers {

// The codec is reference/wire's trailer.hpp; these read what a captured
// datagram carries and name the values as the cases do.
inline constexpr std::uint8_t kNonce = wire::kTrailerNonce;
inline constexpr std::uint8_t kAlternateAddress = wire::kTrailerAlternateAddress;
inline constexpr std::uint8_t kNeighborDiscovery = wire::kTrailerNeighborDiscovery;
inline constexpr std::uint8_t kSolicitation = wire::kDiscoverySolicitation;   // §4.4 TeredoDiscoverySolicitation
inline constexpr std::uint8_t kAdvertisement = wire::kDiscoveryAdvertisement;  // §4.4 TeredoDiscoveryAdvertisement

struct Trailer {
  std::uint8_t type = 0;
  wire::ByteVector value{};  // Length bytes (a copy: it outlives the datagram)
};

// The trailers after the IPv6 packet, in order, up to a malformed one
// (`malformed` set: under 2 bytes left or fewer than Length).
inline std::vector<Trailer> read(wire::Bytes bytes, bool* malformed = nullptr) {
  std::vector<Trailer> out;
  wire::TrailerWalk walk(bytes);
  wire::Trailer t;
  while (walk.next(t)) out.push_back(Trailer{t.type, wire::ByteVector(t.value.begin(), t.value.end())});
  if (malformed != nullptr) *malformed = walk.malformed();
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
  if (!t) return std::nullopt;
  const auto n = wire::parse_nonce_trailer(wire::Trailer{t->type, t->value});
  return n ? std::optional<std::uint32_t>(*n) : std::nullopt;
}
// §4.4 DiscoveryType of a Neighbor Discovery Option Trailer of length 4.
inline std::optional<std::uint8_t> discovery_type_of(const Seen& s) {
  const auto t = find(s, kNeighborDiscovery);
  if (!t || t->value.size() != 4) return std::nullopt;
  return t->value[0];  // any value: the case judges it (R6081-4.4-03)
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

inline void append_nonce(wire::ByteVector& out, std::uint32_t nonce) { wire::append_nonce_trailer(out, nonce); }
// An Alternate Address Trailer with `length` in its Length field (well formed
// when it is 2 + 6 * entries): the played parties also send malformed ones,
// which wire's builder refuses to write.
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
  wire::append_neighbor_discovery_trailer(out, discovery_type);
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
