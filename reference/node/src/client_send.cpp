// RFC 4380 §5.2.4: IPv6 packets from the tunnel, to Teredo peers, relays or
// the server.
#include <string>

#include "teredo/node/addressing.hpp"
#include "teredo/node/client.hpp"

namespace teredo::node {

void Client::handle_ipv6(Time now, wire::Bytes packet, Outbox& out) {
  // R4380-5.2-04: nothing is sent before qualification succeeded.
  if (state_ != QualificationState::qualified || !address_) {
    out.drop("drop_not_qualified", "R4380-5.2-04", std::string(to_string(state_)));
    return;
  }
  const auto parsed = wire::parse_ipv6_packet(packet);
  if (!parsed) {
    out.drop(wire::to_string(parsed.error()), "", "from the tunnel");
    return;
  }
  if (!parsed->trailer.empty()) {
    out.drop("trailing_bytes_after_ipv6_packet", "", "from the tunnel");
    return;
  }
  if (packet.size() > config_.mtu) {
    out.drop("drop_oversized", "R4380-5.1.2-01", std::to_string(packet.size()) + " bytes from the tunnel");
    return;
  }
  const wire::Ipv6Header& h = parsed->header;
  // R4380-5.2.5-06: only the current Teredo address is used (the host may
  // still send from an old one). Link-local and other sources (the host's own
  // ND traffic on the tunnel) have no business on the Teredo link either.
  if (h.source != *address_) {
    out.drop("drop_not_from_our_address", wire::is_teredo(h.source) ? "R4380-5.2.5-06" : "",
             wire::to_string(h.source));
    return;
  }
  if (!is_global_scope(h.destination) || h.destination == *address_) {
    out.drop("drop_bad_ipv6_destination", "", wire::to_string(h.destination));
    return;
  }
  Peer* peer = peers_.find(h.destination);
  // Case 1, R4380-5.2.4-01/02: a trusted entry that heard from its peer in
  // the last 30 s: straight to its mapping.
  if (peer != nullptr && peer->trusted && peers_.is_valid(*peer, now)) {
    send_to_peer(now, *peer, wire::ByteVector(packet.begin(), packet.end()), out);
    return;
  }
  // RFC 6081 §5.7.4.1: an idle trusted peer is solicited directly.
  if (peer != nullptr && solicit(now, *peer, packet, out)) return;
  const auto teredo = wire::parse_teredo(h.destination);
  if (!teredo) {
    // Case 2, R4380-5.2.4-03: queued while a direct IPv6 connectivity test runs.
    if (peer == nullptr) peer = peer_for(now, h.destination, out);
    if (peer != nullptr) (void)queue_and_probe(now, *peer, packet, out);
    return;
  }
  // Case 3, R4380-5.2.4-04: a local peer (discovery bubble in the last 600 s).
  if (peer != nullptr && is_local_peer(*peer, now)) {
    (void)queue_and_probe(now, *peer, packet, out);
    return;
  }
  // R4380-5.2.4-07/08: cases 4 and 5 send to the IPv4 address in the
  // destination (and to its server): global unicast, or silently dropped.
  if (!wire::is_global_unicast(teredo->mapped_ipv4) || teredo->mapped_port == 0) {
    out.drop("drop_non_global_mapped_ipv4", "R4380-5.2.4-08",
             std::string(wire::to_string(wire::classify_ipv4(teredo->mapped_ipv4))) + " " +
                 wire::to_string(h.destination));
    return;
  }
  if (!wire::is_global_unicast(teredo->server)) {
    out.drop("drop_non_global_server", "R4380-5.2.4-08",
             std::string(wire::to_string(wire::classify_ipv4(teredo->server))) + " " +
                 wire::to_string(h.destination));
    return;
  }
  // Case 4, R4380-5.2.4-05: a cone peer, straight to its mapping; only when
  // configured (R5991-3.2-02, R4380-5.2.4-09: read every cone bit as 0).
  if (config_.honour_cone_bit && teredo->cone()) {
    const UdpEndpoint to{teredo->mapped_ipv4, teredo->mapped_port};
    if (send(to, wire::ByteVector(packet.begin(), packet.end()), "R4380-5.2.4-07", out)) {
      if (peer != nullptr) peer->last_send = now;
      if (out.record_actions) out.action("sent_to_cone_peer", "R4380-5.2.4-05", "to " + to_string(to));
    }
    return;
  }
  // Case 5, R4380-5.2.4-06: queued; direct and indirect bubbles.
  if (peer == nullptr) peer = peer_for(now, h.destination, out);
  if (peer != nullptr) (void)queue_and_probe(now, *peer, packet, out);
}

Peer* Client::peer_for(Time now, const wire::Ipv6Address& address, Outbox& out) {
  const auto inserted = peers_.find_or_insert(now, address);
  if (inserted.peer == nullptr) {
    out.drop("drop_peer_list_disabled", "R4380-5.2-06", wire::to_string(address));
    return nullptr;
  }
  if (inserted.created) {
    // R4380-5.2.6-01: new entries start 30 s in the past with no bubbles
    // (PeerList::find_or_insert); untrusted, mapped to the embedded mapping.
    if (const auto t = wire::parse_teredo(address)) inserted.peer->mapped = {t->mapped_ipv4, t->mapped_port};
  }
  if (inserted.evicted) {
    // R4380-5.2-06, §7.3.3: the list is bounded; the least recently used goes.
    out.action("peer_evicted", "R4380-5.2-06",
               "least recently used entry, " + std::to_string(inserted.evicted_packets) +
                   " queued packets discarded");
  }
  return inserted.peer;
}

void Client::send_to_peer(Time now, Peer& peer, wire::ByteVector packet, Outbox& out) {
  // §5.2.4: "a packet can legitimately be sent to a non-global unicast
  // address in case 1, as a result of the local discovery procedure".
  const bool local = (peer.local && peer.mapped == *peer.local) || hairpin_path(peer);
  // RFC 6081 §5.3.4.3: a symmetric peer behind UPnP may be reached at its embedded mapping.
  const UdpEndpoint to = local ? peer.mapped : upnp_destination(peer, peer.mapped, "R6081-5.3.4.3-01", out);
  // RFC 6081 §5.4: through the random port when that is where the peer is reached.
  if (!send(to, std::move(packet), "R4380-5.2.4-07", out, local, peer_source(peer))) return;
  // R4380-5.2.4-02: the date of last transmission.
  peer.last_send = now;
  random_port_data_sent(now, peer);
  peers_.touch(peer, now);
  if (out.record_actions) out.action("sent_to_peer", "R4380-5.2.4-02", "to " + to_string(to));
}

bool Client::queue_and_probe(Time now, Peer& peer, wire::Bytes packet, Outbox& out) {
  // An entry no longer valid must be confirmed again before it is used.
  peer.trusted = false;
  peers_.touch(peer, now);
  const bool probing = peers_.retry_scheduled(peer);
  // R4380-5.2.6-04: 4 unanswered bubbles (or tests) in 300 s: nothing may
  // go, so nothing would ever carry this packet.
  if (!probing && peers_.bubbles_in_window(peer, now) >= kMaxBubblesInWindow) {
    out.drop("drop_bubble_budget_exhausted", "R4380-5.2.6-04", wire::to_string(peer.address));
    return false;
  }
  const EnqueueResult queued = peers_.enqueue(peer, packet);
  if (queued != EnqueueResult::queued) {
    out.drop(to_event_code(queued), "R4380-5.2-06",
             wire::to_string(peer.address) + ": " + std::to_string(peer.queue.size()) + " packets, " +
                 std::to_string(peer.queued_bytes) + " bytes queued");
  }
  if (probing) return queued == EnqueueResult::queued;  // a probe is out; handle_timeout repeats it
  if (peers_.spacing_elapsed(peer, now)) {
    probe(now, peer, out);
  } else {
    // R4380-5.2.6-03: less than 2 s since the last transmission: later.
    peers_.schedule_retry(peer);
  }
  return queued == EnqueueResult::queued;
}

}  // namespace teredo::node
