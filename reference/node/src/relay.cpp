// The relay's timers and its one way out to the IPv4 side.
#include <algorithm>
#include <string>

#include "teredo/node/relay.hpp"

namespace teredo::node {

namespace {
PeerListConfig scaled(PeerListConfig peers, const TimeScale& scale) {
  peers.timers.validity = scale(peers.timers.validity);
  peers.timers.bubble_spacing = scale(peers.timers.bubble_spacing);
  peers.timers.bubble_window = scale(peers.timers.bubble_window);
  peers.timers.idle_timeout = scale(peers.timers.idle_timeout);
  return peers;
}
}  // namespace

Relay::Relay(RelayConfig config)
    : config_(std::move(config)), peers_(scaled(config_.peers, config_.time_scale)) {}

void Relay::handle_timeout(Time now, Outbox& out) {
  const PeerTimers& timers = peers_.config().timers;
  // Entries waiting for a client's answer, in deadline order.
  while (Peer* peer = peers_.retry_front()) {
    if (peer->last_send + timers.bubble_spacing > now) break;
    if (peer->trusted) {
      peers_.cancel_retry(*peer);
      continue;
    }
    // R4380-5.4.1-06: no answer within 2 s: the bubble "may" be repeated, up
    // to three times. The §5.2.6 budget (R4380-5.2.6-04: 4 per 300 s) is
    // what stops it: with the RFC's numbers, exactly after three repeats.
    if (peers_.bubble_allowed(*peer, now)) {
      const auto destination = wire::parse_teredo(peer->address);
      send_bubbles(now, *peer, *destination, out);
    } else {
      give_up(*peer, out);
    }
  }
  const auto expired = peers_.expire(now);
  if (expired.peers > 0) {
    // R4380-5.4.1-09: queued packets go with their entry.
    out.action("peers_expired", "R4380-5.4.1-09",
               std::to_string(expired.peers) + " idle entries, " +
                   std::to_string(expired.packets) + " queued packets discarded");
  }
}

std::optional<Time> Relay::next_timeout() const noexcept {
  std::optional<Time> next = peers_.next_expiry();
  if (const Peer* peer = peers_.retry_front()) {
    const Time retry = peer->last_send + peers_.config().timers.bubble_spacing;
    next = next ? std::min(*next, retry) : retry;
  }
  return next;
}

void Relay::give_up(Peer& peer, Outbox& out) {
  peers_.cancel_retry(peer);
  // R4380-5.4.1-09: queued packets are deleted with the attempt. The entry
  // itself stays, untrusted and empty, as the record of the bubbles already
  // spent (R4380-5.2.6-04), until idle expiry or LRU eviction.
  const std::size_t discarded = peers_.clear_queue(peer);
  out.action("peer_unreachable", "R4380-5.4.1-06",
             wire::to_string(peer.address) + " did not answer " +
                 std::to_string(std::min<std::size_t>(peer.bubble_count, kMaxBubblesInWindow)) +
                 " bubbles; " + std::to_string(discarded) + " queued packets discarded");
}

bool Relay::send(UdpEndpoint to, wire::ByteVector payload, std::string_view requirement,
                 Outbox& out) {
  // §5.2.4 via R4380-5.4.1-02: nothing ever goes to a non-global IPv4.
  if (!wire::is_global_unicast(to.address)) {
    out.drop("drop_non_global_destination_ipv4", requirement, "to " + to_string(to));
    return false;
  }
  if (to.port == 0) {
    out.drop("drop_zero_destination_port", "", "to " + to_string(to));
    return false;
  }
  // Hardening (cf. Miredo advisory MTFL-SA-0603): never to ourselves.
  if (to == config_.local) {
    out.drop("drop_loop_to_self", "", "to " + to_string(to));
    return false;
  }
  // R4380-5.4-02: always from the relay's Teredo service port.
  out.datagrams.push_back(OutgoingDatagram{config_.local, to, std::move(payload)});
  return true;
}

}  // namespace teredo::node
