// RFC 6081 §5.7, the Server Load Reduction Extension: a trusted Teredo peer
// that exchanged nothing for 30 s is asked directly whether it is still
// there, with a direct bubble carrying a Neighbor Discovery Option Trailer
// (§4.4) of type TeredoDiscoverySolicitation, instead of a new round of
// indirect bubbles through its server. The solicitation is repeated every
// 2 s; the third without an answer falls back to the indirect bubble. A
// solicitation received is answered with an advertisement.
//
// The solicitations are not counted in the §5.2.6 budget of 4 bubbles in
// 300 s: §5.7.2 bounds them itself (3, 2 s apart), and counting them would
// leave the fallback it mandates a single indirect bubble.
#include <string>

#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/trailer.hpp"

namespace teredo::node {

namespace {
constexpr unsigned kMaxSolicitations = 3;  // §5.7.2

wire::ByteVector nd_bubble(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
                           std::uint8_t discovery_type) {
  const wire::ByteVector bubble = wire::build_bubble(source, destination);
  wire::ByteVector trailer;
  // R6081-4.4-01..04: type 0x04, length 4, the DiscoveryType, Reserved 0.
  wire::append_neighbor_discovery_trailer(trailer, discovery_type);
  wire::ByteVector payload;
  (void)wire::append_datagram(payload, std::nullopt, std::nullopt, bubble, trailer);
  return payload;
}
}  // namespace

bool Client::solicit(Time now, Peer& peer, wire::Bytes packet, Outbox& out) {
  // Only for a Teredo peer whose mapping a direct packet confirmed (trusted),
  // not a local peer of §5.2.8 (RFC 4380 case 3 keeps it).
  if (!config_.server_load_reduction || !peer.trusted || !wire::is_teredo(peer.address) ||
      is_local_peer(peer, now)) {
    return false;
  }
  const Duration recent = peers_.config().timers.validity;  // 30 s
  if (peer.solicitations == 0) {
    // R6081-5.7.4.1-01: data exchanged in either direction in the last 30 s:
    // RFC 4380 processing (case 1 already took the last reception).
    if (peer.last_receive + recent > now || peer.last_send + recent > now) return false;
  }
  const EnqueueResult queued = peers_.enqueue(peer, packet);
  if (queued != EnqueueResult::queued) {
    out.drop(to_event_code(queued), "R4380-5.2-06", wire::to_string(peer.address));
  }
  peers_.touch(peer, now);
  if (peer.solicitations > 0) return true;  // one is out; its timer repeats it
  // R6081-5.7.4.1-02: a direct bubble with a TeredoDiscoverySolicitation.
  const bool sent = send(peer.mapped, nd_bubble(*address_, peer.address, wire::kDiscoverySolicitation),
                         "R6081-5.7.4.1-02", out, (peer.local && peer.mapped == *peer.local) || hairpin_path(peer));
  // R6081-5.7.4.1-03: the count is 1. R6081-5.7.4.1-04: the retransmission
  // timer expires in 2 s (the retry list's spacing after last_send).
  peer.solicitations = 1;
  peer.last_send = now;
  peers_.schedule_retry(peer);
  if (sent) out.action("solicitation_sent", "R6081-5.7.4.1-02", "1 to " + to_string(peer.mapped));
  return true;
}

void Client::solicitation_timed_out(Time now, Peer& peer, Outbox& out) {
  peers_.cancel_retry(peer);
  // R6081-5.7.2-01: the timer expired: retransmit and count.
  const bool sent = send(peer.mapped, nd_bubble(*address_, peer.address, wire::kDiscoverySolicitation),
                         "R6081-5.7.2-01", out, (peer.local && peer.mapped == *peer.local) || hairpin_path(peer));
  ++peer.solicitations;
  peer.last_send = now;
  if (sent) {
    out.action("solicitation_sent", "R6081-5.7.2-01",
               std::to_string(peer.solicitations) + " to " + to_string(peer.mapped));
  }
  if (peer.solicitations < kMaxSolicitations) {
    // R6081-5.7.2-02: under three: again in 2 s.
    peers_.schedule_retry(peer);
    return;
  }
  // R6081-5.7.2-03: the third: an indirect bubble, as if no communication
  // had been established (untrusted: RFC 4380 case 5 from here on).
  peer.solicitations = 0;
  peer.trusted = false;
  out.action("solicitations_unanswered", "R6081-5.7.2-03", wire::to_string(peer.address));
  probe(now, peer, out);
}

void Client::answer_solicitation(Time now, Peer& peer, UdpEndpoint from, const wire::TeredoDatagram& d,
                                 Outbox& out) {
  (void)now;
  wire::Trailer t;
  if (!wire::find_trailer(d.ipv6.trailer, wire::kTrailerNeighborDiscovery, t)) return;
  // R6081-4.4-02: length 4; R6081-4.4-03: the solicitation is type 0x00.
  const auto discovery_type = wire::parse_neighbor_discovery_trailer(t);
  if (!discovery_type || *discovery_type != wire::kDiscoverySolicitation) return;
  // R6081-5.7.4.2-01: answered with a direct bubble carrying a
  // TeredoDiscoveryAdvertisement, to where the solicitation came from. Not
  // held to the §5.2.6 spacing: the peer repeats its solicitation every 2 s
  // and one unanswered would cost it an indirect round.
  if (send(from, nd_bubble(*address_, peer.address, wire::kDiscoveryAdvertisement), "R6081-5.7.4.2-01", out,
           (peer.local && from == *peer.local) || hairpin_path(peer))) {
    out.action("advertisement_sent", "R6081-5.7.4.2-01", "to " + to_string(from));
  }
}

}  // namespace teredo::node
