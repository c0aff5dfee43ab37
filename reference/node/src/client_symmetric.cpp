// RFC 6081 §4 trailers (as a client processes them, §5.1.2) and the nonce
// trailer of its Symmetric NAT Support Extension (§4.2, §5.2).
#include <string>

#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

namespace {
// RFC 6081 §4.2-4.5 (the catalog's trailer type table).
constexpr std::uint8_t kTrailerNonce = 0x01;
constexpr std::uint8_t kTrailerAlternateAddress = 0x03;
constexpr std::uint8_t kTrailerNeighborDiscovery = 0x04;
constexpr std::uint8_t kTrailerRandomPort = 0x05;
}  // namespace

bool Client::trailers_acceptable(const wire::TeredoDatagram& d, std::uint32_t& nonce,
                                 Outbox& out) const {
  nonce = 0;
  wire::ByteReader r(d.ipv6.trailer);
  // R6081-5.1.2-01: in the order they appear.
  while (r.remaining() > 0) {
    std::uint8_t type = 0;
    std::uint8_t length = 0;
    wire::Bytes value;
    // R6081-5.1.2-04: a malformed trailer (under 2 bytes left, or fewer than
    // 2 + Length) ends trailer processing; the packet itself stands.
    if (!r.u8(type) || !r.u8(length) || !r.take(length, value)) {
      out.drop("malformed_trailer", "R6081-5.1.2-04", "trailer processing stopped");
      return true;
    }
    switch (type) {
      case kTrailerNonce:
        if (length == 4) {
          nonce = (std::uint32_t{value[0]} << 24) | (std::uint32_t{value[1]} << 16) |
                  (std::uint32_t{value[2]} << 8) | value[3];
        }
        break;
      case kTrailerAlternateAddress:
      case kTrailerNeighborDiscovery:
      case kTrailerRandomPort:
        break;  // recognized; the extensions that use them are not implemented
      default:
        // R6081-5.1.2-02: an unknown type whose top bits are 01: drop the packet.
        if ((type & 0xC0) == 0x40) {
          out.drop("drop_unknown_mandatory_trailer", "R6081-5.1.2-02",
                   "type " + std::to_string(type));
          return false;
        }
        break;  // R6081-5.1.2-03: other unknown trailers are skipped
    }
  }
  return true;
}

wire::ByteVector Client::bubble_datagram(const wire::Ipv6Address& destination,
                                         std::uint32_t nonce) const {
  const wire::ByteVector bubble = wire::build_bubble(*address_, destination);
  if (nonce == 0) return bubble;
  // RFC 6081 §4.2: type 0x01, length 4, the nonce.
  const wire::ByteVector trailer{kTrailerNonce,
                                 4,
                                 static_cast<std::uint8_t>(nonce >> 24),
                                 static_cast<std::uint8_t>(nonce >> 16),
                                 static_cast<std::uint8_t>(nonce >> 8),
                                 static_cast<std::uint8_t>(nonce)};
  wire::ByteVector payload;
  (void)wire::append_datagram(payload, std::nullopt, std::nullopt, bubble, trailer);
  return payload;
}

}  // namespace teredo::node
