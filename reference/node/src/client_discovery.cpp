// RFC 4380 §5.2.8: optional local client discovery (and the discovery side
// of §5.2.3 case 4).
#include <string>

#include "teredo/node/addressing.hpp"
#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

namespace {
// The Teredo IPv4 Discovery Address (RFC 4380 §2.17).
constexpr wire::Ipv4Address kDiscoveryAddress{0xE00000FD};  // 224.0.0.253
}  // namespace

bool Client::is_local_peer(const Peer& peer, Time now) const noexcept {
  // §5.2.4 case 3: a discovery bubble from it within the last 600 s.
  return config_.local_discovery && peer.local.has_value() &&
         now - peer.last_discovery < timers_.local_peer_lifetime;
}

void Client::send_discovery_bubble(Time now, Outbox& out) {
  (void)now;
  if (!address_) return;
  // R4380-5.2.8-04: from our Teredo address to ff02::1, next header 59,
  // payload length 0, hop limit 1; UDP from the service port to
  // 224.0.0.253:3544 with IPv4 TTL 1.
  OutgoingDatagram d{config_.local, UdpEndpoint{kDiscoveryAddress, wire::kUdpPortTeredo},
                     wire::build_bubble(*address_, all_nodes(), 1)};
  d.ttl = 1;
  out.datagrams.push_back(std::move(d));
  out.action("discovery_bubble_sent", "R4380-5.2.8-04", "to 224.0.0.253:3544");
}

void Client::handle_discovery_datagram(Time now, UdpEndpoint from, wire::Bytes payload, Outbox& out) {
  const auto from_text = [&from] { return "from " + to_string(from); };
  // R4380-5.2-08: the procedure is optional; without it discovery bubbles
  // are not processed (§5.2.3 case 4).
  if (!discovery_enabled() || !address_) {
    out.drop("drop_discovery_disabled", "R4380-5.2.8-02", from_text());
    return;
  }
  if (from == config_.local) {
    out.drop("drop_own_discovery_bubble", "", from_text());
    return;
  }
  const auto d = parse_or_drop(payload, from_text, out);
  if (!d) return;
  const wire::Ipv6Header& h = d->ipv6.header;
  // R4380-5.2.3-11: a bubble to ff02::1, nothing else.
  if (!wire::is_bubble(d->ipv6) || h.destination != all_nodes() || d->origin || d->authentication) {
    out.drop("drop_not_discovery_bubble", "R4380-5.2.3-11", from_text());
    return;
  }
  if (h.source == *address_) {
    out.drop("drop_own_discovery_bubble", "", from_text());
    return;
  }
  // R4380-5.2.8-06: a well-formed Teredo source (a global mapped IPv4 and a
  // port, R4380-4-04) ...
  const auto teredo = wire::parse_teredo(h.source);
  if (!teredo || !wire::is_global_unicast(teredo->mapped_ipv4) || teredo->mapped_port == 0) {
    out.drop("drop_discovery_not_teredo_source", "R4380-5.2.8-06",
             wire::to_string(h.source) + " " + from_text());
    return;
  }
  // ... sent from the local IPv4 subnet.
  if (!config_.local_subnet || !config_.local_subnet->contains(from.address)) {
    out.drop("drop_discovery_off_subnet", "R4380-5.2.8-06", from_text());
    return;
  }
  // R4380-5.2.8-07 (optional): only peers behind our own public IPv4.
  if (config_.discovery_same_mapped_ipv4_only && mapped_ && teredo->mapped_ipv4 != mapped_->address) {
    out.drop("drop_discovery_other_mapped_ipv4", "R4380-5.2.8-07", wire::to_string(h.source));
    return;
  }
  Peer* peer = peers_.find(h.source);
  if (peer != nullptr) {
    // R4380-5.2.8-08: the entry's local address and port follow the bubble.
    peer->local = from;
  } else {
    peer = peer_for(now, h.source, out);
    if (peer == nullptr) return;
    // R4380-5.2.8-09, R4380-5.2.3-11: a new, untrusted entry: local
    // address/port from the bubble, last reception now; last transmission
    // 30 s ago and no bubbles (PeerList::find_or_insert).
    peer->local = from;
    peer->last_receive = now;
  }
  peer->last_discovery = now;
  peers_.touch(*peer, now);
  out.action("discovery_bubble_received", "R4380-5.2.8-02", wire::to_string(h.source) + " " + from_text());
  // R4380-5.2.3-12: answer with a unicast bubble to the bubble's IPv4 source
  // and port, from our Teredo address to the bubble's source.
  reply_bubble(now, *peer, from, true, out);
}

}  // namespace teredo::node
