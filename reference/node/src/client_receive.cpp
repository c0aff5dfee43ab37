// RFC 4380 §5.2.3: datagrams received on the service port.
#include <string>

#include "teredo/node/addressing.hpp"
#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

void Client::handle_datagram(Time now, UdpEndpoint from, wire::Bytes payload, Outbox& out) {
  const auto from_text = [&from] { return "from " + to_string(from); };
  if (payload.size() > config_.mtu + kMaxEncapsulationOverhead) {
    out.drop("drop_oversized", "R4380-5.1.2-01", std::to_string(payload.size()) + " bytes " + from_text());
    return;
  }
  if (from == config_.local || (mapped_ && from == *mapped_)) {
    out.drop("drop_loop_from_self", "", "MTFL-SA-0603 " + from_text());
    return;
  }
  const auto parsed = parse_or_drop(payload, from_text, out);
  if (!parsed) return;
  const wire::TeredoDatagram& d = *parsed;
  const wire::Ipv6Header& h = d.ipv6.header;
  if (d.ipv6.packet.size() > config_.mtu) {
    out.drop("drop_oversized", "R4380-5.1.2-01",
             "IPv6 packet of " + std::to_string(d.ipv6.packet.size()) + " bytes " + from_text());
    return;
  }
  // A router advertisement: qualification or maintenance decides (§5.2.1, §5.2.5).
  if (h.next_header == wire::kNextHeaderIcmpv6 && !d.ipv6.payload.empty() &&
      d.ipv6.payload[0] == wire::kIcmpv6RouterAdvertisement) {
    handle_ra(now, from, d, out);
    return;
  }
  // R4380-5.2-04: no Teredo traffic before qualification.
  if (state_ != QualificationState::qualified || !address_) {
    out.drop("drop_not_qualified", "R4380-5.2-04", std::string(to_string(state_)) + " " + from_text());
    return;
  }
  std::uint32_t nonce = 0;
  if (!trailers_acceptable(d, nonce, out)) return;
  // R4380-5.2.8-05: a discovery bubble that came to our unicast address.
  if (wire::is_bubble(d.ipv6) && h.destination == all_nodes()) {
    out.drop("drop_discovery_bubble_on_unicast", "R4380-5.2.8-05", from_text());
    return;
  }
  // R4380-5.2.3-02: the destination must be our Teredo address (and only the
  // current one: R4380-5.2.5-06 invalidated the old one).
  if (h.destination != *address_) {
    out.drop("drop_not_our_address", "R4380-5.2.3-02", wire::to_string(h.destination) + " " + from_text());
    return;
  }
  // Hardening: no multicast, unspecified, loopback or link-local source, and
  // not our own address coming back. One exception: a bubble from a
  // link-local address. Miredo's relay sends its bubbles from the link-local
  // address of its TUN device, RFC 4380 puts no scope on a bubble's source,
  // and a bubble delivers nothing: it is only answered (§5.2.3), which is
  // what lets that relay trust us and release the packets it holds.
  const bool link_local = h.source.bytes[0] == 0xFE && (h.source.bytes[1] & 0xC0) == 0x80;
  if ((!is_global_scope(h.source) && !(link_local && wire::is_bubble(d.ipv6))) || h.source == *address_) {
    out.drop("drop_bad_ipv6_source", "", wire::to_string(h.source) + " " + from_text());
    return;
  }
  if (from == UdpEndpoint{config_.server, config_.server_port}) {
    receive_from_server(now, d, nonce, out);
  } else {
    receive_from_peer(now, from, d, nonce, out);
  }
}

void Client::receive_from_server(Time now, const wire::TeredoDatagram& d, std::uint32_t nonce,
                                 Outbox& out) {
  const wire::Ipv6Header& h = d.ipv6.header;
  const bool bubble = wire::is_bubble(d.ipv6);
  // R4380-5.2.3-03: from the server's address and the Teredo port.
  last_server_interaction_ = now;
  if (d.origin) {
    const UdpEndpoint origin{d.origin->address, d.origin->port};
    if (Peer* peer = peer_for(now, h.source, out)) {
      // RFC 6081 §5.6.4.2: a malformed Alternate Address Trailer drops the bubble.
      if (config_.hairpinning && bubble && !hairpin_indirect_bubble(*peer, d, out)) return;
      // RFC 6081 §5.2.4.3: remember the indirect bubble's nonce (0 clears it).
      if ((config_.symmetric_nat_support || config_.hairpinning) && bubble) peer->nonce_received = nonce;
      // RFC 6081 §5.4.4.4: a Random Port Trailer on an indirect bubble (read
      // before the answer below counts as an exchange).
      if (bubble) random_port_indirect_received(now, *peer, d, out);
      if (!bubble && !wire::is_teredo(h.source)) {
        // R4380-5.2.3-04: a native sender: the direct IPv6 connectivity test
        // (its reply comes from the sender's relay and establishes the path;
        // a bubble as well would fall within 2 s of it, R4380-5.2.6-03).
        if (!peer->echo_pending && !(peer->trusted && peers_.is_valid(*peer, now)) &&
            peers_.bubble_allowed(*peer, now)) {
          send_echo_test(now, *peer, out);
        }
      } else {
        // R4380-5.2.3-15 (§5.2.6 limits): a direct bubble to where the
        // sender is, so our NAT lets its packets in and it learns our mapping.
        const UdpEndpoint to = upnp_destination(*peer, origin, "R6081-5.3.4.2-01", out);
        if (config_.hairpinning) {
          hairpin_reply(now, *peer, to, out);  // RFC 6081 §5.6.4.2
        } else {
          reply_bubble(now, *peer, to, false, out);
        }
      }
    }
  }
  if (bubble) {
    out.action("bubble_received", "R4380-5.2.3-09",
               "from " + wire::to_string(h.source) + (d.origin ? " via the server" : ""));
    return;
  }
  deliver(d, "R4380-5.2.3-03", out);
}

void Client::receive_from_peer(Time now, UdpEndpoint from, const wire::TeredoDatagram& d,
                               std::uint32_t nonce, Outbox& out) {
  const wire::Ipv6Header& h = d.ipv6.header;
  const bool bubble = wire::is_bubble(d.ipv6);
  Peer* peer = peers_.find(h.source);
  const auto consume_or_deliver = [&](std::string_view requirement) {
    if (bubble) {
      // R4380-5.2.3-09: a bubble is discarded once the entry is updated.
      out.action("bubble_received", "R4380-5.2.3-09", "from " + to_string(from));
      if (config_.server_load_reduction && peer != nullptr) answer_solicitation(now, *peer, from, d, out);
    } else {
      deliver(d, requirement, out);
    }
  };
  // RFC 6081 §5.4.4.5 (§5.5.4.3): the primary port's rules for direct bubbles.
  if (bubble && peer != nullptr &&
      random_port_primary_bubble(now, *peer, from, nonce, out) == BubbleRule::handled) {
    return;
  }
  // Case 1, R4380-5.2.3-05: a trusted entry with this mapping.
  if (peer != nullptr && peer->trusted && peer->mapped == from) {
    const bool test_reply = echo_matches(*peer, d);
    trust(now, *peer, from, "R4380-5.2.3-05", out);
    if (test_reply) return;  // our own probe's answer: not for the host
    consume_or_deliver("R4380-5.2.3-05");
    return;
  }
  // Case 2, R4380-5.2.3-06: the echo reply of a direct IPv6 connectivity test.
  if (peer != nullptr && !peer->trusted && echo_matches(*peer, d)) {
    trust(now, *peer, from, "R4380-5.2.3-06", out);
    return;
  }
  const auto teredo = wire::parse_teredo(h.source);
  if (teredo) {
    const UdpEndpoint embedded{teredo->mapped_ipv4, teredo->mapped_port};
    // Case 3, R4380-5.2.3-07/08: the source address's own mapping (a global
    // one, R4380-4-04): an entry, trusted, at this mapping (R6081-5.6.4.3-01).
    if (embedded == from && wire::is_global_unicast(embedded.address)) {
      if (peer == nullptr) peer = peer_for(now, h.source, out);
      if (peer != nullptr) trust(now, *peer, from, "R4380-5.2.3-07", out);
      consume_or_deliver("R4380-5.2.3-07");
      return;
    }
    // RFC 6081 §5.2.4.4: a direct bubble from elsewhere is accepted when it
    // carries the nonce of our last indirect bubble to that peer.
    // R6081-5.6.4.3-02: the same rule for a peer behind our own NAT.
    if ((config_.symmetric_nat_support || config_.hairpinning) && bubble && nonce != 0 && peer != nullptr &&
        peer->nonce_sent == nonce) {
      upnp_direct_bubble(*peer, from, embedded, out);  // RFC 6081 §5.3.4.1, before trust() sends the queue
      trust(now, *peer, from, "", out);
      out.action("symmetric_peer_trusted", config_.hairpinning ? "R6081-5.6.4.3-02" : "",
                 "RFC 6081 §5.2.4.4 nonce match, at " + to_string(from));
      if (config_.server_load_reduction) answer_solicitation(now, *peer, from, d, out);
      return;
    }
    // Case 5, R4380-5.2.3-13: the local address of a local peer (§5.2.8).
    if (peer != nullptr && peer->local && *peer->local == from) {
      trust(now, *peer, from, "R4380-5.2.3-13", out);
      consume_or_deliver("R4380-5.2.3-13");
      return;
    }
    if (bubble) {
      // RFC 6081 §5.2.4.4, R6081-5.6.4.3-03: neither matches: the direct bubble MUST be dropped.
      out.drop("drop_bubble_mapping_mismatch", "R4380-5.2.3-14",
               wire::to_string(h.source) + " from " + to_string(from));
      return;
    }
  }
  // Case 6, R4380-5.2.3-14: possibly spoofed. A bubble carries nothing to accept.
  if (bubble || !config_.accept_unverified) {
    out.drop(bubble ? "drop_unverified_bubble" : "drop_unverified", "R4380-5.2.3-14",
             wire::to_string(h.source) + " from " + to_string(from));
    return;
  }
  if (!teredo) {
    // R4380-5.2.3-14: a native source: run the direct IPv6 connectivity test.
    if (peer == nullptr) peer = peer_for(now, h.source, out);
    if (peer != nullptr && !peer->echo_pending && !(peer->trusted && peers_.is_valid(*peer, now)) &&
        peers_.bubble_allowed(*peer, now)) {
      peer->trusted = false;
      send_echo_test(now, *peer, out);
    }
  }
  deliver(d, "R4380-5.2.3-14", out);
}

void Client::trust(Time now, Peer& peer, UdpEndpoint from, std::string_view requirement,
                   Outbox& out) {
  const bool was_trusted = peer.trusted;
  peer.trusted = true;
  peer.mapped = from;
  peer.last_receive = now;
  peer.echo_pending = false;
  peer.solicitations = 0;  // RFC 6081 §5.7: an answer ends the solicitations
  // §5.2.6: the budget counts bubbles "without receiving a direct response".
  PeerList::reset_bubbles(peer);
  peers_.cancel_retry(peer);
  peers_.touch(peer, now);
  // R4380-5.2.3-06, R4380-5.2.3-10: what was queued for the peer goes now.
  std::vector<wire::ByteVector> queued = peers_.take_queue(peer);
  for (auto& packet : queued) send_to_peer(now, peer, std::move(packet), out);
  if (!was_trusted) out.action("peer_trusted", requirement, wire::to_string(peer.address) + " at " + to_string(from));
  if (!queued.empty()) {
    out.action("queue_flushed", wire::is_teredo(peer.address) ? "R4380-5.2.3-10" : "R4380-5.2.3-06",
               std::to_string(queued.size()) + " packets to " + to_string(from));
  }
}

void Client::deliver(const wire::TeredoDatagram& d, std::string_view requirement, Outbox& out) {
  out.to_tunnel.emplace_back(d.ipv6.packet.begin(), d.ipv6.packet.end());
  if (out.record_actions) out.action("delivered", requirement, "from " + wire::to_string(d.ipv6.header.source));
}

}  // namespace teredo::node
