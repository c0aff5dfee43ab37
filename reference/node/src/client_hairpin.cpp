// RFC 6081 §5.6, the Hairpinning Extension (without its UPnP parts): an
// indirect bubble tells the peer our local address/port in an Alternate
// Address Trailer (§4.3), and an indirect bubble carrying one gets direct
// bubbles to every address it lists. A direct bubble from an address other
// than the one the peer's Teredo address embeds is accepted on the nonce of
// our last indirect bubble (§5.6.4.3, the §5.2.4.4 rule client_receive.cpp
// applies with symmetric NAT support or hairpinning).
#include <string>

#include "client_trailers.hpp"
#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

std::optional<std::vector<UdpEndpoint>> trailers::parse_alternate_address(wire::Bytes value) {
  // R6081-4.3-03: the length is 2 + 6 n, n = 1..4 (8, 14, 20, 26).
  if (value.size() < 8 || value.size() > 26 || (value.size() - 2) % 6 != 0) return std::nullopt;
  std::vector<UdpEndpoint> list;
  for (std::size_t i = 2; i < value.size(); i += 6) {
    const UdpEndpoint e{wire::Ipv4Address{(std::uint32_t{value[i]} << 24) | (std::uint32_t{value[i + 1]} << 16) |
                                          (std::uint32_t{value[i + 2]} << 8) | value[i + 3]},
                        static_cast<std::uint16_t>((value[i + 4] << 8) | value[i + 5])};
    // R6081-4.3-07: a valid unicast address (global, or a private or
    // link-local one behind the NAT); R6081-4.3-08: a non-zero port.
    const wire::Ipv4Scope scope = wire::classify_ipv4(e.address);
    if (scope != wire::Ipv4Scope::global_unicast && scope != wire::Ipv4Scope::private_use &&
        scope != wire::Ipv4Scope::link_local) {
      return std::nullopt;
    }
    if (e.port == 0) return std::nullopt;
    list.push_back(e);
  }
  return list;
}

UdpEndpoint Client::local_endpoint() const noexcept {
  return {config_.local.address.value != 0 ? config_.local.address : config_.local_address, config_.local.port};
}

bool Client::hairpin_path(const Peer& peer) const noexcept {
  // A peer behind our own NAT is reached at its local (often private)
  // address once a nonce-verified direct bubble came from there (§5.6.4.3).
  return config_.hairpinning && peer.trusted;
}

wire::ByteVector Client::indirect_bubble_datagram(const Peer& peer, std::uint32_t nonce) const {
  const UdpEndpoint local = local_endpoint();
  // R6081-5.6.4.1-01: only while communication with the peer is not established.
  if (!config_.hairpinning || peer.trusted || local.address.value == 0 || local.port == 0) {
    return bubble_datagram(peer.address, nonce);
  }
  const wire::ByteVector bubble = wire::build_bubble(*address_, peer.address);
  wire::ByteVector trailer;
  // R6081-5.6.4.1-04: the indirect bubble also carries a Nonce Trailer
  // (send_bubbles draws one when hairpinning is on).
  trailers::append_nonce(trailer, nonce);
  // R6081-5.6.4.1-02: the node's local address/port. R6081-5.6.4.1-03 (the
  // UPnP mapping) does not apply: no UPnP here, so one entry, length 8
  // (R6081-4.3-04: at most 14).
  const UdpEndpoint list[] = {local};
  trailers::append_alternate_address(trailer, list);
  wire::ByteVector payload;
  (void)wire::append_datagram(payload, std::nullopt, std::nullopt, bubble, trailer);
  return payload;
}

bool Client::hairpin_indirect_bubble(Peer& peer, const wire::TeredoDatagram& d, Outbox& out) {
  const auto value = trailers::find(d.ipv6.trailer, trailers::kAlternateAddress);
  if (!value) {
    peer.alternates.clear();  // this bubble advertises none
    return true;
  }
  auto list = trailers::parse_alternate_address(*value);
  if (!list) {
    // R6081-5.6.4.2-01: a malformed Alternate Address Trailer drops the bubble.
    out.drop("drop_malformed_alternate_address_trailer", "R6081-5.6.4.2-01",
             "length " + std::to_string(value->size()) + " from " + wire::to_string(peer.address));
    return false;
  }
  // R6081-5.6.4.2-02: the Peer Entry takes the trailer's list.
  peer.alternates = std::move(*list);
  out.action("alternates_learned", "R6081-5.6.4.2-02",
             std::to_string(peer.alternates.size()) + " for " + wire::to_string(peer.address));
  return true;
}

void Client::hairpin_reply(Time now, Peer& peer, UdpEndpoint origin, Outbox& out) {
  // The §5.2.6 limits of the one reply this answers (R4380-5.2.3-15).
  if (!peers_.bubble_allowed(peer, now)) {
    out.drop("drop_bubble_rate_limited", peers_.spacing_elapsed(peer, now) ? "R4380-5.2.6-04" : "R4380-5.2.6-03",
             "to " + wire::to_string(peer.address));
    return;
  }
  // R6081-5.6.4.2-04: each direct bubble carries the nonce of the indirect one.
  const wire::ByteVector bubble = bubble_datagram(peer.address, peer.nonce_received);
  std::string sent;
  if (send(origin, bubble, "R4380-5.2.4-07", out)) sent += " " + to_string(origin);
  // R6081-5.6.4.2-03: also one to each advertised address/port (a local
  // address behind the shared NAT may be private).
  for (const UdpEndpoint& alternate : peer.alternates) {
    if (send(alternate, bubble, "R6081-5.6.4.2-03", out, true)) sent += " " + to_string(alternate);
  }
  peers_.record_bubble(peer, now);
  if (!sent.empty()) {
    out.action("hairpin_bubbles_sent", "R6081-5.6.4.2-03", "to " + wire::to_string(peer.address) + " at" + sent);
  }
}

}  // namespace teredo::node
