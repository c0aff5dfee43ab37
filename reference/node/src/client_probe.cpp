// Getting a peer to answer: bubbles (RFC 4380 §5.2.4 cases 3 and 5, §5.2.6)
// and the direct IPv6 connectivity test (§5.2.9), with their repetitions.
#include <algorithm>
#include <string>

#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

void Client::probe(Time now, Peer& peer, Outbox& out) {
  if (wire::is_teredo(peer.address)) {
    send_bubbles(now, peer, out);
  } else {
    send_echo_test(now, peer, out);
  }
  // Repeated every 2 s while something waits for the peer (handle_timeout).
  if (!peer.queue.empty()) peers_.schedule_retry(peer);
}

void Client::send_echo_test(Time now, Peer& peer, Outbox& out) {
  // R4380-5.2.9-02: a random nonce of 64 bits as the echo data, kept in the
  // (provisional) entry; one nonce per test, its repetitions included.
  if (!peer.echo_pending) {
    random_bytes(peer.echo_nonce);
    peer.echo_pending = true;
  }
  std::array<std::uint8_t, 2> id{};
  random_bytes(id);
  wire::EchoMessage echo;
  echo.identifier = static_cast<std::uint16_t>((id[0] << 8) | id[1]);
  echo.sequence = static_cast<std::uint16_t>(std::min<std::uint32_t>(peer.bubble_count, 0xFFFF));
  echo.data = peer.echo_nonce;
  // R4380-5.2.9-01: from our Teredo address to the native node, through the
  // server (its IPv4 address, the Teredo port).
  const UdpEndpoint server{config_.server, config_.server_port};
  const bool sent = send(server, wire::build_echo(*address_, peer.address, 64, echo), "R4380-5.2.9-01", out);
  // The test shares the §5.2.6 budget: 4 tries, 2 s apart (R4380-5.2.4-03).
  peers_.record_bubble(peer, now);
  if (sent) {
    out.action("echo_test_sent", "R4380-5.2.9-01",
               "for " + wire::to_string(peer.address) + " via " + to_string(server) + " (" +
                   std::to_string(peers_.bubbles_in_window(peer, now)) + " in window)");
  }
}

void Client::send_bubbles(Time now, Peer& peer, Outbox& out) {
  if (is_local_peer(peer, now)) {
    // R4380-5.2.4-04: a unicast bubble to the local address and port, and a
    // local bubble to the discovery address.
    const bool sent = send(*peer.local, wire::build_bubble(*address_, peer.address),
                           "R4380-5.2.4-04", out, true);
    send_discovery_bubble(now, out);
    peers_.record_bubble(peer, now);
    if (sent) out.action("local_bubble_sent", "R4380-5.2.4-04", "to " + to_string(*peer.local));
    return;
  }
  const auto destination = wire::parse_teredo(peer.address);
  if (!destination) return;
  // RFC 6081 §5.4.4.2: a random port first; §5.5.4.1: or an Echo Test instead.
  if (!random_port_before_indirect(now, peer, out)) return;
  // RFC 6081 §5.2.4.1: an indirect bubble carries a fresh random nonce
  // (R6081-5.6.4.1-04: with hairpinning too).
  std::uint32_t nonce = 0;
  if (config_.symmetric_nat_support || config_.hairpinning) {
    std::array<std::uint8_t, 4> b{};
    random_bytes(b);
    nonce = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
    if (nonce == 0) nonce = 1;  // 0 means "none"
    peer.nonce_sent = nonce;
  }
  // R4380-5.2.6-02: to the server in the peer's address, on the Teredo port.
  const UdpEndpoint server{destination->server, wire::kUdpPortTeredo};
  const bool indirect =
      send(server, with_random_port(peer, indirect_bubble_datagram(peer, nonce)), "R4380-5.2.4-07", out);
  // R4380-5.2.4-06: a direct bubble unless behind a cone NAT (R4380-5.2.4-10:
  // optionally always); RFC 6081 §5.2.4.2: with the peer's nonce, if any.
  bool direct = false;
  if (!cone_ || config_.always_direct_bubble) {
    const UdpEndpoint to{destination->mapped_ipv4, destination->mapped_port};
    direct = send(to, bubble_datagram(peer.address, peer.nonce_received), "R4380-5.2.4-07", out);
  }
  // RFC 6081 §5.4.4.3: and one from our random port to the peer's.
  random_port_direct_bubble(now, peer, out);
  // R4380-5.2.6-06/07: last transmission and bubble count. The direct and
  // indirect bubbles of one attempt count once (the RFC does not say).
  peers_.record_bubble(peer, now);
  if (indirect || direct) {
    out.action("bubbles_sent", "R4380-5.2.4-06",
               "for " + wire::to_string(peer.address) + (indirect ? " indirect via " + to_string(server) : "") +
                   (direct ? " direct" : "") + " (" + std::to_string(peers_.bubbles_in_window(peer, now)) +
                   " in window)");
  }
}

void Client::reply_bubble(Time now, Peer& peer, UdpEndpoint to, bool local, Outbox& out) {
  // R4380-5.2.6-03/04: not within 2 s of the last transmission, not beyond
  // 4 in 300 s.
  if (!peers_.bubble_allowed(peer, now)) {
    out.drop("drop_bubble_rate_limited",
             peers_.spacing_elapsed(peer, now) ? "R4380-5.2.6-04" : "R4380-5.2.6-03",
             "to " + wire::to_string(peer.address));
    return;
  }
  if (!send(to, bubble_datagram(peer.address, local ? 0 : peer.nonce_received),
            local ? "R4380-5.2.3-12" : "R4380-5.2.4-07", out, local)) {
    return;
  }
  peers_.record_bubble(peer, now);
  out.action("bubble_replied", local ? "R4380-5.2.3-12" : "R4380-5.2.3-15",
             "to " + wire::to_string(peer.address) + " at " + to_string(to));
}

bool Client::echo_matches(const Peer& peer, const wire::TeredoDatagram& d) noexcept {
  if (!peer.echo_pending || d.ipv6.header.next_header != wire::kNextHeaderIcmpv6) return false;
  const auto icmp = wire::parse_icmpv6(d.ipv6, wire::ChecksumPolicy::verify);
  if (!icmp || icmp->type != wire::kIcmpv6EchoReply || icmp->code != 0) return false;
  const auto echo = wire::parse_echo(*icmp);
  return echo && echo->data.size() == peer.echo_nonce.size() &&
         std::equal(peer.echo_nonce.begin(), peer.echo_nonce.end(), echo->data.begin());
}

void Client::retry_probes(Time now, Outbox& out) {
  const Duration spacing = peers_.config().timers.bubble_spacing;
  while (Peer* peer = peers_.retry_front()) {
    if (peer->last_send + spacing > now) break;
    if (peer->solicitations > 0) {  // RFC 6081 §5.7.2 (client_load_reduction.cpp)
      solicitation_timed_out(now, *peer, out);
      continue;
    }
    if ((peer->trusted && peers_.is_valid(*peer, now)) || peer->queue.empty() ||
        state_ != QualificationState::qualified || !address_) {
      peers_.cancel_retry(*peer);
      continue;
    }
    // R4380-5.2.4-03/06: no answer within 2 s: repeated up to 3 times; the
    // §5.2.6 budget (R4380-5.2.6-04) stops it after exactly that.
    if (peers_.bubble_allowed(*peer, now)) {
      probe(now, *peer, out);
      continue;
    }
    peers_.cancel_retry(*peer);
    peer->echo_pending = false;
    const std::size_t discarded = peers_.clear_queue(*peer);
    out.action("peer_unreachable", wire::is_teredo(peer->address) ? "R4380-5.2.4-06" : "R4380-5.2.4-03",
               wire::to_string(peer->address) + " did not answer; " + std::to_string(discarded) +
                   " queued packets discarded");
  }
}

}  // namespace teredo::node
