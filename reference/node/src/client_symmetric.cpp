// RFC 6081 §4 trailers (as a client processes them, §5.1.2) and the nonce
// trailer of its Symmetric NAT Support Extension (§4.2, §5.2).
#include <string>

#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/trailer.hpp"

namespace teredo::node {

bool Client::trailers_acceptable(const wire::TeredoDatagram& d, std::uint32_t& nonce,
                                 Outbox& out) const {
  nonce = 0;
  // R6081-5.1.2-01: in the order they appear.
  wire::TrailerWalk walk(d.ipv6.trailer);
  wire::Trailer t;
  while (walk.next(t)) {
    switch (t.type) {
      case wire::kTrailerNonce:
        if (const auto n = wire::parse_nonce_trailer(t)) nonce = *n;
        break;
      case wire::kTrailerAlternateAddress:
      case wire::kTrailerNeighborDiscovery:
      case wire::kTrailerRandomPort:
        break;  // recognized; the extensions that use them read them where they apply
      default:
        // R6081-5.1.2-02: an unknown type whose top bits are 01: drop the packet.
        if (wire::trailer_type_must_be_understood(t.type)) {
          out.drop("drop_unknown_mandatory_trailer", "R6081-5.1.2-02", "type " + std::to_string(t.type));
          return false;
        }
        break;  // R6081-5.1.2-03: other unknown trailers are skipped
    }
  }
  // R6081-5.1.2-04: a malformed trailer (under 2 bytes left, or fewer than
  // 2 + Length) ends trailer processing; the packet itself stands.
  if (walk.malformed()) out.drop("malformed_trailer", "R6081-5.1.2-04", "trailer processing stopped");
  return true;
}

wire::ByteVector Client::bubble_datagram(const wire::Ipv6Address& destination,
                                         std::uint32_t nonce) const {
  const wire::ByteVector bubble = wire::build_bubble(*address_, destination);
  if (nonce == 0) return bubble;
  // RFC 6081 §4.2: type 0x01, length 4, the nonce.
  wire::ByteVector trailer;
  wire::append_nonce_trailer(trailer, nonce);
  wire::ByteVector payload;
  (void)wire::append_datagram(payload, std::nullopt, std::nullopt, bubble, trailer);
  return payload;
}

}  // namespace teredo::node
