// RFC 4380 §5.4.2: datagrams from Teredo clients, to the native side.
#include <algorithm>
#include <string>

#include "teredo/node/relay.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

void Relay::handle_datagram(Time now, UdpEndpoint from, wire::Bytes payload, Outbox& out) {
  // Built only when an event is recorded: this is the relay's hot path.
  const auto from_text = [&from] { return "from " + to_string(from); };
  if (payload.size() > config_.mtu + kMaxEncapsulationOverhead) {
    out.drop("drop_oversized", "R4380-5.1.2-01", std::to_string(payload.size()) + " bytes " + from_text());
    return;
  }
  if (from == config_.local) {
    out.drop("drop_loop_from_self", "", "MTFL-SA-0603 " + from_text());
    return;
  }
  // R4380-5.4.2-02 with R4380-4-04: a client's mapping is global unicast, so
  // a datagram from anything else cannot match a valid Teredo source.
  if (!wire::is_global_unicast(from.address)) {
    out.drop("drop_non_global_source", "R4380-5.4.2-02",
             std::string(wire::to_string(wire::classify_ipv4(from.address))) + " " + from_text());
    return;
  }
  // R4380-5.4.2-01: not a valid IPv6 packet: silently dropped.
  const auto parsed = wire::parse_datagram(payload, {.accept_trailers = config_.accept_trailers});
  if (!parsed) {
    out.drop(wire::to_string(parsed.error()), "R4380-5.4.2-01", from_text());
    return;
  }
  const wire::Ipv6PacketView& packet = parsed->ipv6;
  const wire::Ipv6Header& h = packet.header;
  if (packet.packet.size() > config_.mtu) {
    out.drop("drop_oversized", "R4380-5.1.2-01",
             "IPv6 packet of " + std::to_string(packet.packet.size()) + " bytes " + from_text());
    return;
  }
  // R4380-5.4.2-02: the source must be a Teredo address whose mapped IPv4
  // address and port are the datagram's source.
  const auto source = wire::parse_teredo(h.source);
  if (!source) {
    out.drop("drop_non_teredo_source", "R4380-5.4.2-02", wire::to_string(h.source) + " " + from_text());
    return;
  }
  if (source->mapped_ipv4 != from.address || source->mapped_port != from.port) {
    out.drop("drop_source_mismatch", "R4380-5.4.2-02", wire::to_string(h.source) + " " + from_text());
    return;
  }

  const bool bubble = wire::is_bubble(packet);
  // R4380-5.4.2-05: the relay forwards Teredo -> native only, and only into
  // its served ranges (never to another Teredo address nor a non-global scope).
  std::string_view refusal;
  if (!bubble) {
    if (wire::is_teredo(h.destination)) {
      refusal = "drop_teredo_destination";
    } else if (!is_global_scope(h.destination)) {
      refusal = "drop_non_global_destination";
    } else if (!serves(h.destination)) {
      refusal = "drop_destination_not_served";
    }
  }

  // R4380-5.4.2-03: an existing entry becomes trusted and its date of last
  // reception is updated (before the destination check, as the RFC orders it).
  Peer* peer = peers_.find(h.source);
  if (peer == nullptr) {
    if (!config_.accept_unknown_peers) {
      out.drop("drop_unknown_peer", "R4380-5.4.2-03", wire::to_string(h.source) + " " + from_text());
      return;
    }
    // A new entry only for a packet we take (bubble or deliverable), so junk
    // cannot churn the list.
    if (refusal.empty()) {
      const auto inserted = peers_.find_or_insert(now, h.source);
      if (inserted.evicted && out.record_actions) {
        out.action("peer_evicted", "R4380-5.2-06",
                   "least recently used entry, " + std::to_string(inserted.evicted_packets) +
                       " queued packets discarded");
      }
      peer = inserted.peer;
    }
  }
  if (peer != nullptr) trust(now, *peer, from, out);

  if (bubble) {
    // R4380-5.2.3-09: bubbles are consumed once the peer entry is updated.
    if (out.record_actions) {
      out.action("bubble_received", "R4380-5.2.3-09", wire::to_string(h.source) + " " + from_text());
    }
    return;
  }
  if (!refusal.empty()) {
    out.drop(refusal, "R4380-5.4.2-05",
             wire::to_string(h.source) + " -> " + wire::to_string(h.destination));
    return;
  }
  // R4380-5.4.2-04: a destination in the served range is forwarded.
  out.to_tunnel.emplace_back(packet.packet.begin(), packet.packet.end());
  if (out.record_actions) {
    out.action("delivered_to_ipv6", "R4380-5.4.2-04",
               wire::to_string(h.source) + " -> " + wire::to_string(h.destination));
  }
}

bool Relay::serves(const wire::Ipv6Address& destination) const noexcept {
  if (config_.host_specific) {
    // R4380-5.5-03: a host-specific relay delivers only to its own host.
    const auto& own = config_.host_addresses;
    return std::find(own.begin(), own.end(), destination) != own.end();
  }
  return std::any_of(config_.served_prefixes.begin(), config_.served_prefixes.end(),
                     [&](const Ipv6Prefix& p) { return p.contains(destination); });
}

void Relay::trust(Time now, Peer& peer, UdpEndpoint from, Outbox& out) {
  const bool was_trusted = peer.trusted;
  peer.trusted = true;
  peer.mapped = from;
  peer.last_receive = now;
  // §5.2.6: the budget counts bubbles "without receiving a direct response".
  PeerList::reset_bubbles(peer);
  peers_.cancel_retry(peer);
  peers_.touch(peer, now);
  // R4380-5.4.1-08: queued packets are sent once the entry is trusted.
  std::vector<wire::ByteVector> queued = peers_.take_queue(peer);
  for (auto& packet : queued) send_to_peer(now, peer, std::move(packet), out);
  if (!was_trusted && out.record_actions) out.action("peer_trusted", "R4380-5.4.2-03", wire::to_string(peer.address));
  if (!queued.empty() && out.record_actions) {
    out.action("queue_flushed", "R4380-5.4.1-08",
               std::to_string(queued.size()) + " packets to " + to_string(from));
  }
}

}  // namespace teredo::node
