// RFC 6081 §4 trailers the client's extensions build and read (internal to
// reference/node): finding one by type, and the encodings of the Nonce
// (§4.2), Alternate Address (§4.3) and Neighbor Discovery Option (§4.4)
// trailers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "teredo/node/endpoint.hpp"
#include "teredo/wire/bytes.hpp"

namespace teredo::node::trailers {

inline constexpr std::uint8_t kNonce = 0x01;
inline constexpr std::uint8_t kAlternateAddress = 0x03;
inline constexpr std::uint8_t kNeighborDiscovery = 0x04;
// §4.4 DiscoveryType values.
inline constexpr std::uint8_t kDiscoverySolicitation = 0x00;
inline constexpr std::uint8_t kDiscoveryAdvertisement = 0x01;

// The value of the first trailer of `type`, walking them in order
// (R6081-5.1.2-01); nullopt when there is none before the end or before a
// malformed one (R6081-5.1.2-04 ends trailer processing there).
inline std::optional<wire::Bytes> find(wire::Bytes trailer, std::uint8_t type) {
  wire::ByteReader r(trailer);
  while (r.remaining() > 0) {
    std::uint8_t t = 0;
    std::uint8_t length = 0;
    wire::Bytes value;
    if (!r.u8(t) || !r.u8(length) || !r.take(length, value)) return std::nullopt;
    if (t == type) return value;
  }
  return std::nullopt;
}

inline void append_nonce(wire::ByteVector& out, std::uint32_t nonce) {
  // §4.2: type 0x01, length 4, the nonce.
  out.insert(out.end(), {kNonce, 4, static_cast<std::uint8_t>(nonce >> 24), static_cast<std::uint8_t>(nonce >> 16),
                         static_cast<std::uint8_t>(nonce >> 8), static_cast<std::uint8_t>(nonce)});
}

// §4.3: at most four entries (the caller gives one or two).
inline void append_alternate_address(wire::ByteVector& out, std::span<const UdpEndpoint> list) {
  // R6081-4.3-02: type 0x03. R6081-4.3-03: length 2 + 6 per entry (8..26).
  // R6081-4.3-05: Reserved 0x0000.
  out.insert(out.end(), {kAlternateAddress, static_cast<std::uint8_t>(2 + 6 * list.size()), 0, 0});
  for (const UdpEndpoint& e : list) {
    // R6081-4.3-06: IPv4 address then port, network byte order.
    const std::uint32_t a = e.address.value;
    out.insert(out.end(), {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                           static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a),
                           static_cast<std::uint8_t>(e.port >> 8), static_cast<std::uint8_t>(e.port)});
  }
}

// The list of a well-formed Alternate Address Trailer value (§4.3); nullopt
// when it is not: a length other than 8, 14, 20 or 26 (R6081-4.3-03), an
// address that is not a valid unicast one (R6081-4.3-07) or a zero port
// (R6081-4.3-08). Reserved is ignored on receipt (R6081-4.3-05).
std::optional<std::vector<UdpEndpoint>> parse_alternate_address(wire::Bytes value);

inline void append_neighbor_discovery(wire::ByteVector& out, std::uint8_t discovery_type) {
  // R6081-4.4-01: type 0x04. R6081-4.4-02: length 4. R6081-4.4-03: one of the
  // two DiscoveryType values. R6081-4.4-04: Reserved 0x000000.
  out.insert(out.end(), {kNeighborDiscovery, 4, discovery_type, 0, 0, 0});
}

}  // namespace teredo::node::trailers
