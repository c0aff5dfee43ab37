// RFC 6081 §5.6, the Hairpinning Extension (its UPnP calls and comparison,
// §5.6.3, are client_upnp.cpp's): an indirect bubble tells the peer our local
// address/port, and a UPnP mapping kept after qualification, in an Alternate
// Address Trailer (§4.3), and an indirect bubble carrying one gets direct
// bubbles to every address it lists. A direct bubble from an address other
// than the one the peer's Teredo address embeds is accepted on the nonce of
// our last indirect bubble (§5.6.4.3, the §5.2.4.4 rule client_receive.cpp
// applies with symmetric NAT support or hairpinning).
#include <string>

#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/trailer.hpp"

namespace teredo::node {

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
  wire::append_nonce_trailer(trailer, nonce);
  // R6081-5.6.4.1-02: the node's local address/port. R6081-5.6.4.1-03: the
  // UPnP Mapped Address/Port too when it is non-zero (§5.6.3 zeroes it after
  // qualification when the server saw the same mapping: a single NAT; kept,
  // it is the inner NAT's forward behind nested NATs). So one or two
  // entries, length 8 or 14 (R6081-4.3-04: at most 14).
  // R6081-4.3-02/-03/-05/-06: type 0x03, length 2 + 6 n, Reserved 0, the
  // address then the port (wire/trailer.hpp).
  wire::AlternateAddress list[2] = {{local.address, local.port}, {}};
  std::size_t count = 1;
  if (upnp_mapped_ && upnp_mapped_->address.value != 0 && upnp_mapped_->port != 0) {
    list[count++] = {upnp_mapped_->address, upnp_mapped_->port};
  }
  (void)wire::append_alternate_address_trailer(trailer, list, count);
  wire::ByteVector payload;
  (void)wire::append_datagram(payload, std::nullopt, std::nullopt, bubble, trailer);
  return payload;
}

bool Client::hairpin_indirect_bubble(Peer& peer, const wire::TeredoDatagram& d, Outbox& out) {
  wire::Trailer t;
  if (!wire::find_trailer(d.ipv6.trailer, wire::kTrailerAlternateAddress, t)) {
    peer.alternates.clear();  // this bubble advertises none
    return true;
  }
  // R6081-4.3-03: length 8-26 in steps of 6; R6081-4.3-07: valid unicast
  // addresses; R6081-4.3-08: no port 0; R6081-4.3-05: Reserved ignored.
  const auto parsed = wire::parse_alternate_address_trailer(t);
  if (!parsed) {
    // R6081-5.6.4.2-01: a malformed Alternate Address Trailer drops the bubble.
    out.drop("drop_malformed_alternate_address_trailer", "R6081-5.6.4.2-01",
             std::string(wire::to_string(parsed.error())) + " length " + std::to_string(t.value.size()) + " from " +
                 wire::to_string(peer.address));
    return false;
  }
  std::vector<UdpEndpoint> list;
  for (std::size_t i = 0; i < parsed->count; ++i) list.push_back({parsed->entries[i].address, parsed->entries[i].port});
  // R6081-5.6.4.2-02: the Peer Entry takes the trailer's list.
  peer.alternates = std::move(list);
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
