// RFC 4380 §5.4.1: IPv6 packets from the native side to Teredo clients.
#include <algorithm>
#include <string>

#include "teredo/node/relay.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

void Relay::handle_ipv6(Time now, wire::Bytes packet, Outbox& out) {
  const auto parsed = wire::parse_ipv6_packet(packet);
  if (!parsed) {
    out.drop(wire::to_string(parsed.error()), "", "from the IPv6 side");
    return;
  }
  if (!parsed->trailer.empty()) {
    out.drop("trailing_bytes_after_ipv6_packet", "", "from the IPv6 side");
    return;
  }
  // R4380-5.1.2-01: nothing larger than the Teredo link MTU goes over UDP.
  // (An ICMPv6 Packet Too Big back to the sender is left to a later version.)
  if (packet.size() > config_.mtu) {
    out.drop("drop_oversized", "R4380-5.1.2-01",
             std::to_string(packet.size()) + " bytes from the IPv6 side");
    return;
  }
  const wire::Ipv6Header& h = parsed->header;
  if (!check_native_source(h.source, out)) return;
  // §5.4.1: relays only send over UDP packets whose destination is a valid
  // Teredo address (anything else reaching us is a routing mistake).
  const auto destination = wire::parse_teredo(h.destination);
  if (!destination) {
    out.drop("drop_non_teredo_destination", "", wire::to_string(h.destination));
    return;
  }
  // R4380-5.4.1-01, R4380-5.4.1-02: the IPv4 address embedded in the Teredo
  // destination must be global unicast, or the packet is silently dropped.
  if (!wire::is_global_unicast(destination->mapped_ipv4)) {
    out.drop("drop_non_global_mapped_ipv4", "R4380-5.4.1-02",
             std::string(wire::to_string(wire::classify_ipv4(destination->mapped_ipv4))) + " " +
                 wire::to_string(h.destination));
    return;
  }
  // R4380-5.2.4-07/08 (relays keep the clients' peer list, R4380-5.4-02): the
  // indirect bubble goes to the server in the address: it must be global too.
  if (!wire::is_global_unicast(destination->server)) {
    out.drop("drop_non_global_server", "R4380-5.2.4-08",
             std::string(wire::to_string(wire::classify_ipv4(destination->server))) + " " +
                 wire::to_string(h.destination));
    return;
  }
  if (destination->mapped_port == 0) {
    out.drop("drop_zero_mapped_port", "", wire::to_string(h.destination));
    return;
  }
  const UdpEndpoint embedded{destination->mapped_ipv4, destination->mapped_port};

  Peer* peer = peers_.find(h.destination);
  // R4380-5.4.1-03 (case 1): a trusted, valid entry: straight to its mapping.
  if (peer != nullptr && peer->trusted && peers_.is_valid(*peer, now)) {
    send_to_peer(now, *peer, wire::ByteVector(packet.begin(), packet.end()), out);
    return;
  }
  if (peer == nullptr) {
    const auto inserted = peers_.find_or_insert(now, h.destination);
    if (inserted.peer == nullptr) {
      out.drop("drop_peer_list_disabled", "R4380-5.4-02", wire::to_string(h.destination));
      return;
    }
    if (inserted.evicted && out.record_actions) {
      out.action("peer_evicted", "R4380-5.2-06",
                 "least recently used entry, " + std::to_string(inserted.evicted_packets) +
                     " queued packets discarded");
    }
    peer = inserted.peer;
    peer->mapped = embedded;
  }
  // R4380-5.4.1-04 (case 2), only when configured: RFC 5991 (R5991-3.2-02)
  // tells relays to treat every cone bit as 0 (R4380-5.4.1-12 allows it).
  if (config_.honour_cone_bit && destination->cone()) {
    peer->trusted = true;  // R4380-5.4.1-11: trusted in case 2
    peer->mapped = embedded;
    peers_.cancel_retry(*peer);
    // Anything queued while it was untrusted goes first (R4380-5.4.1-08).
    for (auto& queued : peers_.take_queue(*peer)) send_to_peer(now, *peer, std::move(queued), out);
    send_to_peer(now, *peer, wire::ByteVector(packet.begin(), packet.end()), out);
    return;
  }
  // R4380-5.4.1-05 (case 3): untrusted (or no longer valid): queue, bubble.
  peer->trusted = false;
  peers_.touch(*peer, now);
  const bool probing = peers_.retry_scheduled(*peer);
  // R4380-5.2.6-04: 4 bubbles in 300 s already went unanswered: no bubble
  // can go, so nothing would ever carry this packet.
  if (!probing && peers_.bubbles_in_window(*peer, now) >= kMaxBubblesInWindow) {
    out.drop("drop_bubble_budget_exhausted", "R4380-5.2.6-04", wire::to_string(h.destination));
    return;
  }
  // R4380-5.4.1-07: packets to untrusted entries are queued; R4380-5.4.1-10:
  // within the per-entry and global bounds.
  const EnqueueResult queued = peers_.enqueue(*peer, packet);
  if (queued != EnqueueResult::queued) {
    out.drop(to_event_code(queued), "R4380-5.4.1-10",
             wire::to_string(h.destination) + ": " + std::to_string(peer->queue.size()) +
                 " packets, " + std::to_string(peer->queued_bytes) + " bytes queued");
  }
  if (probing) return;  // a bubble is out; handle_timeout repeats it
  if (peers_.spacing_elapsed(*peer, now)) {
    send_bubbles(now, *peer, *destination, out);
  } else {
    // R4380-5.2.6-03: less than 2 s since the last transmission: later.
    peers_.schedule_retry(*peer);
  }
}

bool Relay::check_native_source(const wire::Ipv6Address& source, Outbox& out) const {
  if (config_.host_specific) {
    // R4380-5.5-03: a host-specific relay serves only its own host.
    const auto& own = config_.host_addresses;
    if (std::find(own.begin(), own.end(), source) == own.end()) {
      out.drop("drop_source_not_local_host", "R4380-5.5-03", wire::to_string(source));
      return false;
    }
    return true;
  }
  // Hardening: a router forwards no link-local, multicast or unspecified
  // source (RFC 4291 §2.5.6), and a Teredo source on the native side would
  // send Teredo-to-Teredo traffic through the relay, which only carries
  // native <-> Teredo.
  if (!is_global_scope(source)) {
    out.drop("drop_non_global_ipv6_source", "", wire::to_string(source));
    return false;
  }
  if (wire::is_teredo(source)) {
    out.drop("drop_teredo_source", "", wire::to_string(source));
    return false;
  }
  return true;
}

void Relay::send_bubbles(Time now, Peer& peer, const wire::TeredoAddress& destination,
                         Outbox& out) {
  // R4380-5.4.1-05: a bubble from a local IPv6 address to the client's
  // Teredo address, sent to the server in that address (R4380-5.2.6-02: its
  // IPv4 address and the Teredo port), which forwards it to the client.
  const wire::ByteVector bubble = wire::build_bubble(config_.ipv6_address, peer.address);
  const UdpEndpoint server{destination.server, wire::kUdpPortTeredo};
  const bool sent = send(server, bubble, "R4380-5.4.1-02", out);
  // R4380-5.4.1-11, R4380-5.4.1-13: optionally a direct bubble too.
  if (config_.direct_bubbles) (void)send(peer.mapped, bubble, "R4380-5.4.1-02", out);
  // R4380-5.2.6-06, R4380-5.2.6-07: last transmission and bubble count.
  // (Indirect and direct bubbles sent together count once: the RFC does not
  // say whether they share the budget.)
  peers_.record_bubble(peer, now);
  peers_.schedule_retry(peer);
  if (sent && out.record_actions) {
    out.action("bubble_sent", "R4380-5.4.1-05",
               "for " + wire::to_string(peer.address) + " via " + to_string(server) + " (" +
                   std::to_string(peers_.bubbles_in_window(peer, now)) + " in window)");
  }
}

void Relay::send_to_peer(Time now, Peer& peer, wire::ByteVector payload, Outbox& out) {
  const UdpEndpoint to = peer.mapped;
  if (!send(to, std::move(payload), "R4380-5.4.1-02", out)) return;
  // R4380-5.4.1-03: the relay updates the date of last transmission.
  peer.last_send = now;
  peers_.touch(peer, now);
  if (out.record_actions) out.action("forwarded_to_peer", "R4380-5.4.1-03", "to " + to_string(to));
}

}  // namespace teredo::node
