// RFC 6081 §5.4 Port-Preserving Symmetric NAT Extension and §5.5 Sequential
// Port-Symmetric NAT Extension, with the Random Port Trailer (§4.5).
//
// Behind a symmetric NAT every new destination gets a new mapping, so a
// peer's direct bubble to our embedded mapping never gets in. Both extensions
// give each untrusted peer a fresh local port (the "random port") and tell
// the peer, in a Random Port Trailer on the indirect bubble, which external
// port the NAT will give it towards that peer: the same number behind a
// port-preserving NAT (§5.4), the midpoint of the two ports an Echo Test
// brackets it with behind a sequential one (§5.5). The peer sends its direct
// bubbles there; we send ours from the random port to the peer's.
//
// The random ports are opened and closed by the I/O edge, as the §5.2.7
// secondary port is: it keeps a socket on each of random_ports(), sends the
// datagrams whose `from` is one of them through it, and hands what arrives to
// handle_random_port_datagram.
#include <algorithm>
#include <string>

#include "teredo/node/addressing.hpp"
#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/trailer.hpp"

namespace teredo::node {

namespace {

// §5.4.2.1 / §5.4.4.4 / §5.4.4.5: the 30 s of the Peer Refresh Timer and of
// "the last exchange of data"; 20 refresh bubbles at most in a row.
constexpr Duration kPeerRefresh = 30s;
constexpr unsigned kMaxConnectionRefreshes = 20;
// The random port is drawn from the dynamic range (RFC 6335 §6).
constexpr std::uint16_t kRandomPortFirst = 49152;

// The port of the first well-formed Random Port Trailer, 0 when none (the
// walk stops where trailers_acceptable stops, R6081-5.1.2-04).
std::uint16_t random_port_trailer(const wire::TeredoDatagram& d) {
  wire::Trailer t;
  if (!wire::find_trailer(d.ipv6.trailer, wire::kTrailerRandomPort, t)) return 0;
  // R6081-4.5-01/02: type 0x05, length 2; R6081-4.5-03: network byte order.
  const auto port = wire::parse_random_port_trailer(t);
  return port ? *port : std::uint16_t{0};
}

}  // namespace

bool Client::port_preserving_mode() const noexcept {
  // §5.4.4.2/§5.4.4.3: the Port-Preserving NAT flag and the Symmetric NAT flag.
  return config_.port_preserving_nat && port_preserving_ && symmetric_nat_flag();
}

bool Client::sequential_mode() const noexcept {
  // §5.5.4.1: the Symmetric NAT flag TRUE and the Port-Preserving NAT flag FALSE.
  return config_.sequential_port_nat && !port_preserving_ && symmetric_nat_flag();
}

bool Client::symmetric_nat_flag() const noexcept {
  // The Symmetric NAT flag is the NAT type qualification assigned.
  return nat_ == NatType::symmetric || config_.faults.nat_flags_true_at_start;  // the fault: the harness's only
}

std::vector<std::uint16_t> Client::random_ports() const {
  std::vector<std::uint16_t> ports;
  for (const wire::Ipv6Address& address : random_port_peers_) {
    const Peer* peer = peers_.find(address);
    if (peer != nullptr && peer->random_port.local != 0) ports.push_back(peer->random_port.local);
  }
  return ports;
}

void Client::random_port_start(Time now) {
  // R6081-5.4.3-01: both flags FALSE at start (the Symmetric NAT flag is
  // nat_, which start() resets); a restart forgets every random port.
  port_preserving_ = config_.faults.nat_flags_true_at_start;  // the fault: the harness's only
  for (const wire::Ipv6Address& address : random_port_peers_) {
    if (Peer* peer = peers_.find(address)) peer->random_port = Peer::RandomPort{};
  }
  random_port_peers_.clear();
  // R6081-5.4.3-02: the Peer Refresh Timer, 30 s from start.
  peer_refresh_at_.reset();
  if (config_.port_preserving_nat) peer_refresh_at_ = now + config_.time_scale(kPeerRefresh);
}

void Client::random_port_qualified(const ValidRa& ra, Outbox& out) {
  if (!config_.port_preserving_nat) return;
  // R6081-5.4.3-03: the port of the origin indication of the RA from the
  // Teredo server address against the local port; R6081-5.4.3-04: equal,
  // the NAT is port-preserving.
  port_preserving_ = ra.mapping.port == config_.local.port || (config_.faults.nat_flags_true_at_start && port_preserving_);
  out.action(port_preserving_ ? "port_preserving_nat" : "port_not_preserved", "R6081-5.4.3-04",
             "local port " + std::to_string(config_.local.port) + ", mapping " + to_string(ra.mapping));
}

std::uint16_t Client::open_random_port(Peer& peer, Outbox& out) {
  std::uint16_t port = 0;
  const std::vector<std::uint16_t> taken = random_ports();
  while (port == 0) {
    std::array<std::uint8_t, 2> b{};
    random_bytes(b);
    const auto candidate =
        static_cast<std::uint16_t>(kRandomPortFirst + (((b[0] << 8) | b[1]) % (65536 - kRandomPortFirst)));
    if (candidate == config_.local.port || candidate == config_.secondary_local.port ||
        std::find(taken.begin(), taken.end(), candidate) != taken.end()) {
      continue;
    }
    port = candidate;
  }
  peer.random_port.local = port;
  if (std::find(random_port_peers_.begin(), random_port_peers_.end(), peer.address) == random_port_peers_.end()) {
    random_port_peers_.push_back(peer.address);
  }
  out.action("random_port_opened", sequential_mode() ? "R6081-5.5.4.1-01" : "R6081-5.4.4.2-02",
             std::to_string(port) + " for " + wire::to_string(peer.address));
  return port;
}

void Client::close_random_port(Peer& peer, std::string_view requirement, Outbox& out) {
  Peer::RandomPort& r = peer.random_port;
  if (r.local != 0) out.action("random_port_closed", requirement, std::to_string(r.local) + " for " + wire::to_string(peer.address));
  r.local = 0;
  r.predicted = 0;
}

bool Client::random_port_before_indirect(Time now, Peer& peer, Outbox& out) {
  Peer::RandomPort& r = peer.random_port;
  if (peer.trusted || r.predicted != 0) return true;
  if (port_preserving_mode()) {
    // R6081-5.4.4.2-02: a random port, listened on; R6081-5.4.4.2-03: the
    // NAT preserves it, so it is also the external port predicted.
    r.predicted = open_random_port(peer, out);
    return true;
  }
  if (!sequential_mode()) return true;
  if (r.echo_failover) {
    // An Echo Test is out; its failover timer decides what follows (§5.5.2.2).
    // The attempt counts as one, so the §5.2.6 spacing holds.
    peers_.record_bubble(peer, now);
    return false;
  }
  if (r.local != 0) return true;  // the Echo Tests are over: a plain indirect bubble
  // R6081-5.5.4.1-01: instead of the indirect bubble, a random port and an Echo Test.
  (void)open_random_port(peer, out);
  r.echo_retries = 0;
  start_echo_test(now, peer, out);
  peers_.record_bubble(peer, now);
  return false;
}

wire::ByteVector Client::with_random_port(const Peer& peer, wire::ByteVector datagram) const {
  // R6081-5.4.4.2-04 / R6081-5.5.4.2-01: a non-zero Random Port is advertised.
  if (peer.random_port.predicted == 0 || !(port_preserving_mode() || sequential_mode())) return datagram;
  // R6081-4.5-01: type 0x05; R6081-4.5-02: length 2; R6081-4.5-03: the port,
  // network byte order.
  wire::append_random_port_trailer(datagram, peer.random_port.predicted);
  return datagram;
}

void Client::random_port_direct_bubble(Time now, Peer& peer, Outbox& out) {
  (void)now;
  const Peer::RandomPort& r = peer.random_port;
  if (!(port_preserving_mode() || sequential_mode()) || peer.trusted || r.peer == 0 || r.local == 0 ||
      r.predicted == 0) {
    return;
  }
  const auto teredo = wire::parse_teredo(peer.address);
  if (!teredo) return;
  // R6081-5.4.4.3-02: another direct bubble, from our random port to the
  // peer's; R6081-5.4.4.3-03: at the mapped address the peer's Teredo address
  // embeds; R6081-5.4.4.3-04: with our Random Port Trailer.
  const UdpEndpoint to{teredo->mapped_ipv4, r.peer};
  if (send(to, with_random_port(peer, bubble_datagram(peer.address, peer.nonce_received)), "R6081-5.4.4.3-02", out,
           false, UdpEndpoint{config_.local.address, r.local})) {
    out.action("random_port_bubble_sent", "R6081-5.4.4.3-02",
               "from port " + std::to_string(r.local) + " to " + to_string(to));
  }
}

void Client::random_port_indirect_received(Time now, Peer& peer, const wire::TeredoDatagram& d, Outbox& out) {
  if (!config_.port_preserving_nat) return;
  const std::uint16_t advertised = random_port_trailer(d);
  if (advertised == 0) return;  // R6081-5.4.4.4-01: only with a Random Port Trailer
  Peer::RandomPort& r = peer.random_port;
  const Duration window = config_.time_scale(kPeerRefresh);
  if (r.peer == 0) {
    // R6081-5.4.4.4-02: stored.
    r.peer = advertised;
    out.action("peer_random_port_stored", "R6081-5.4.4.4-02",
               std::to_string(advertised) + " for " + wire::to_string(peer.address));
  } else if (r.peer == advertised || now - peer.last_send < window || now - peer.last_receive < window) {
    // R6081-5.4.4.4-03: the same port, or data exchanged in the last 30 s: ignored.
    if (r.peer != advertised) {
      out.drop("drop_peer_random_port_change", "R6081-5.4.4.4-03",
               std::to_string(advertised) + " while active on " + std::to_string(r.peer));
    }
  } else {
    // R6081-5.4.4.4-04 (SHOULD): the peer changed its random port; so do we.
    r.peer = advertised;
    if (port_preserving_) close_random_port(peer, "R6081-5.4.4.4-04", out);
    out.action("peer_random_port_changed", "R6081-5.4.4.4-04",
               std::to_string(advertised) + " for " + wire::to_string(peer.address));
  }
  if (peer.trusted || !(port_preserving_mode() || sequential_mode())) return;
  if (r.local == 0) {
    // RFC 6081 §5.1: the packets of a first connection attempt may be sent
    // at other times: the peer wants to reach us, so it gets our random port
    // (in an indirect bubble) and our direct bubbles now.
    out.action("random_port_on_indirect_bubble", "", "RFC 6081 §5.1 for " + wire::to_string(peer.address));
    send_bubbles(now, peer, out);
    return;
  }
  random_port_direct_bubble(now, peer, out);
}

Client::BubbleRule Client::random_port_primary_bubble(Time now, Peer& peer, UdpEndpoint from, std::uint32_t nonce,
                                                      Outbox& out) {
  // R6081-5.5.4.3-01: behind a sequential NAT, as if the Port-Preserving NAT flag were TRUE.
  if (!(port_preserving_mode() || sequential_mode())) return BubbleRule::not_mine;
  Peer::RandomPort& r = peer.random_port;
  const auto echo_test_over = [&] {
    // R6081-5.5.4.3-02/03: a direct bubble on the primary port ends the Echo Test.
    if (r.direct_receive_primary && r.echo_failover && !config_.faults.echo_test_not_cancelled) {
      r.echo_failover.reset();
      r.echo_lower = r.echo_upper = 0;
      r.echo_retries = 0;
      out.action("echo_test_cancelled", "R6081-5.5.4.3-02", wire::to_string(peer.address));
    }
  };
  if (!peer.trusted) {
    // The RFC 4380 / §5.2.4.4 rules still decide whether it is the peer's
    // bubble at all: its embedded mapping, or the nonce of our indirect bubble.
    const auto teredo = wire::parse_teredo(peer.address);
    const bool embedded = teredo && UdpEndpoint{teredo->mapped_ipv4, teredo->mapped_port} == from;
    if (!embedded && !(nonce != 0 && peer.nonce_sent == nonce)) return BubbleRule::not_mine;
    // R6081-5.4.4.5-01/02: trusted, Direct Receive on Primary Port TRUE;
    // R6081-5.4.4.5-03: its mapping recorded (trust); R6081-5.4.4.5-04: the
    // random port zeroed and closed.
    r.direct_receive_primary = true;
    close_random_port(peer, "R6081-5.4.4.5-04", out);
    trust(now, peer, from, "R6081-5.4.4.5-01", out);
    echo_test_over();
    out.action("bubble_received", "R6081-5.4.4.5-01", "on the primary port from " + to_string(from));
    return BubbleRule::handled;
  }
  if (r.direct_receive_primary) {
    // R6081-5.4.4.5-05/06: the stored mapping: accepted (RFC 4380 case 1).
    if (same_mapping(peer, from)) return BubbleRule::not_mine;
    const Duration window = config_.time_scale(kPeerRefresh);
    if (now - peer.last_send > window && now - peer.last_receive > window) {
      // R6081-5.4.4.5-07: the peer's NAT mapping changed: not trusted any
      // more, and an indirect bubble through its server.
      peer.trusted = false;
      r.direct_receive_primary = false;
      out.action("peer_mapping_changed", "R6081-5.4.4.5-07",
                 wire::to_string(peer.address) + " now at " + to_string(from));
      send_bubbles(now, peer, out);
      return BubbleRule::handled;
    }
    return BubbleRule::not_mine;
  }
  if (r.direct_receive_random) {
    // R6081-5.4.4.5-08: the mapping it came from is stored; -09: Direct
    // Receive on Primary Port TRUE; -10: the random port closed; -11: Direct
    // Receive on Random Port FALSE.
    r.direct_receive_primary = true;
    r.direct_receive_random = false;
    close_random_port(peer, "R6081-5.4.4.5-10", out);
    trust(now, peer, from, "R6081-5.4.4.5-08", out);
    echo_test_over();
    out.action("bubble_received", "R6081-5.4.4.5-08", "on the primary port from " + to_string(from));
    return BubbleRule::handled;
  }
  return BubbleRule::not_mine;
}

UdpEndpoint Client::peer_source(const Peer& peer) const noexcept {
  // §5.4.2.1's peers "communicating through the random port".
  const Peer::RandomPort& r = peer.random_port;
  if (r.local != 0 && r.direct_receive_random && !r.direct_receive_primary) {
    return UdpEndpoint{config_.local.address, r.local};
  }
  return UdpEndpoint{};  // the service port
}

bool Client::same_mapping(const Peer& peer, UdpEndpoint from) const noexcept {
  // R6081-5.4.4.5-05 / -15: the direct bubble's mapping against the Peer Entry's.
  const bool same = from == peer.mapped;
  return config_.faults.invert_mapping_check ? !same : same;  // the harness's fault injection only
}

void Client::random_port_data_sent(Time now, Peer& peer) {
  // R6081-5.4.4.1-01: the Last Data Packet Sent Timestamp.
  if (config_.port_preserving_nat && !config_.faults.data_sent_not_stamped) peer.random_port.last_data_send = now;
}

void Client::handle_random_port_datagram(Time now, std::uint16_t local_port, UdpEndpoint from, wire::Bytes payload,
                                         Outbox& out) {
  const auto from_text = [&] { return "port " + std::to_string(local_port) + " from " + to_string(from); };
  if (payload.size() > config_.mtu + kMaxEncapsulationOverhead) {
    out.drop("drop_oversized", "R4380-5.1.2-01", from_text());
    return;
  }
  const auto d = parse_or_drop(payload, from_text, out);
  if (!d) return;
  const wire::Ipv6Header& h = d->ipv6.header;
  if (h.next_header == wire::kNextHeaderIcmpv6 && !d->ipv6.payload.empty() &&
      d->ipv6.payload[0] == wire::kIcmpv6RouterAdvertisement) {
    if (!random_port_ra(now, from, *d, out)) out.drop("drop_ra_unsolicited", "R6081-5.5.4.4-01", from_text());
    return;
  }
  if (state_ != QualificationState::qualified || !address_) {
    out.drop("drop_not_qualified", "R4380-5.2-04", from_text());
    return;
  }
  std::uint32_t nonce = 0;
  if (!trailers_acceptable(*d, nonce, out)) return;
  Peer* peer = h.destination == *address_ ? peers_.find(h.source) : nullptr;
  // Only the peer the port was opened for is expected here.
  if (peer == nullptr || peer->random_port.local != local_port) {
    out.drop("drop_random_port_unexpected", "", wire::to_string(h.source) + " " + from_text());
    return;
  }
  Peer::RandomPort& r = peer->random_port;
  if (wire::is_bubble(d->ipv6)) {
    if (!peer->trusted) {
      // R6081-5.4.4.5-12: trusted; -13: Direct Receive on Random Port TRUE
      // (first: the queue it releases leaves from this port); -14: its mapping.
      r.direct_receive_random = true;
      trust(now, *peer, from, "R6081-5.4.4.5-12", out);
      out.action("bubble_received", "R6081-5.4.4.5-12", "on the random " + from_text());
      return;
    }
    if (!r.direct_receive_primary) {
      if (same_mapping(*peer, from)) {
        // R6081-5.4.4.5-15/16: the stored mapping: accepted.
        trust(now, *peer, from, "R6081-5.4.4.5-16", out);
        out.action("bubble_received", "R6081-5.4.4.5-16", "on the random " + from_text());
        return;
      }
      // R6081-5.4.4.5-17 (SHOULD): the NAT gave the peer's mapping another
      // port: this random port is done; an indirect bubble (§5.4.4.2).
      close_random_port(*peer, "R6081-5.4.4.5-17", out);
      send_bubbles(now, *peer, out);
      return;
    }
    out.drop("drop_random_port_after_primary", "", from_text());
    return;
  }
  // Data: only from the trusted peer at its mapping (RFC 4380 case 1).
  if (peer->trusted && from == peer->mapped) {
    trust(now, *peer, from, "R4380-5.2.3-05", out);
    deliver(*d, "R4380-5.2.3-05", out);
    return;
  }
  out.drop("drop_unverified", "R4380-5.2.3-14", wire::to_string(h.source) + " " + from_text());
}

void Client::start_echo_test(Time now, Peer& peer, Outbox& out) {
  Peer::RandomPort& r = peer.random_port;
  const UdpEndpoint port{config_.local.address, r.local};
  const auto solicitation = [&](wire::Ipv4Address server) {
    Solicitation rs;
    rs.from = port;
    rs.to = UdpEndpoint{server, config_.server_port};
    rs.expected_from = rs.to;
    rs.source = client_link_local(config_.local.address, r.local, false);
    return rs;
  };
  // R6081-5.5.4.1.1-01: three packets from the random port. -02/-03: an RS
  // to the Teredo server address with a random nonce (send_rs draws it);
  // -04: kept as EchoTestNonce1.
  Solicitation first = solicitation(config_.server);
  send_rs(now, first, out);
  r.echo_nonce1 = first.nonce;
  // R6081-5.5.4.1.1-05: a direct bubble to the peer.
  if (const auto teredo = wire::parse_teredo(peer.address)) {
    (void)send(UdpEndpoint{teredo->mapped_ipv4, teredo->mapped_port},
               bubble_datagram(peer.address, peer.nonce_received), "R6081-5.5.4.1.1-05", out, false, port);
  }
  // R6081-5.5.4.1.1-06/07: an RS to the secondary address; -08: EchoTestNonce2.
  Solicitation second = solicitation(config_.server_secondary);
  send_rs(now, second, out);
  r.echo_nonce2 = second.nonce;
  // R6081-5.5.4.1.1-09: the counter, and the failover in that many seconds.
  ++r.echo_retries;
  r.echo_failover = now + config_.time_scale(Duration{std::chrono::seconds(r.echo_retries)});
  if (std::find(random_port_peers_.begin(), random_port_peers_.end(), peer.address) == random_port_peers_.end()) {
    random_port_peers_.push_back(peer.address);
  }
  out.action("echo_test_started", "R6081-5.5.4.1.1-01",
             "attempt " + std::to_string(r.echo_retries) + " from port " + std::to_string(r.local) + " for " +
                 wire::to_string(peer.address));
}

bool Client::random_port_ra(Time now, UdpEndpoint from, const wire::TeredoDatagram& d, Outbox& out) {
  if (!d.authentication || state_ != QualificationState::qualified) return false;
  // R6081-5.5.4.4-01: the Peer Entry whose EchoTestNonce1 or 2 the RA echoes.
  for (const wire::Ipv6Address& address : random_port_peers_) {
    Peer* peer = peers_.find(address);
    if (peer == nullptr || peer->random_port.local == 0) continue;
    Peer::RandomPort& r = peer->random_port;
    const bool lower = d.authentication->nonce == r.echo_nonce1;
    const bool upper = !lower && d.authentication->nonce == r.echo_nonce2;
    if (!lower && !upper) continue;
    Solicitation rs;
    rs.from = UdpEndpoint{config_.local.address, r.local};
    rs.to = UdpEndpoint{lower ? config_.server : config_.server_secondary, config_.server_port};
    rs.expected_from = rs.to;
    rs.source = client_link_local(config_.local.address, r.local, false);
    rs.nonce = lower ? r.echo_nonce1 : r.echo_nonce2;
    const auto ra = validate_ra(rs, from, d, out);
    if (!ra) return true;
    // R6081-5.5.4.4-02: the port of the origin indication; R6081-5.5.4.4-03:
    // the lower one from the Teredo server address, -04: the upper from the
    // secondary, each only once.
    std::uint16_t& slot = lower ? r.echo_lower : r.echo_upper;
    if (slot == 0) slot = ra->mapping.port;
    out.action("echo_test_answered", lower ? "R6081-5.5.4.4-03" : "R6081-5.5.4.4-04",
               std::string(lower ? "lower " : "upper ") + std::to_string(ra->mapping.port) + " for " +
                   wire::to_string(peer->address));
    if (r.echo_lower != 0 && r.echo_upper != 0 && r.predicted == 0) {
      // R6081-5.5.4.4-05: the port between the two, rounded down. (The text
      // says "(EchoTestUpperPort + EchoTestUpperPort)/2", which is the upper
      // port itself; the midpoint is what the Echo Test brackets.) The Echo
      // Test is over: its failover timer goes.
      r.predicted = static_cast<std::uint16_t>((std::uint32_t{r.echo_lower} + r.echo_upper) / 2);
      r.echo_failover.reset();
      out.action("random_port_predicted", "R6081-5.5.4.4-05",
                 std::to_string(r.predicted) + " for " + wire::to_string(peer->address));
      send_bubbles(now, *peer, out);
    }
    return true;
  }
  return false;
}

void Client::random_port_timeout(Time now, Outbox& out) {
  for (std::size_t i = 0; i < random_port_peers_.size(); ++i) {
    Peer* peer = peers_.find(random_port_peers_[i]);
    if (peer == nullptr || !peer->random_port.echo_failover || *peer->random_port.echo_failover > now) continue;
    Peer::RandomPort& r = peer->random_port;
    r.echo_failover.reset();
    if (r.echo_retries >= 2) {
      // R6081-5.5.2.2-02: the second Echo Test failed: an indirect bubble (§5.2.4.1).
      out.action("echo_test_failed", "R6081-5.5.2.2-02", wire::to_string(peer->address));
      send_bubbles(now, *peer, out);
    } else {
      // R6081-5.5.2.2-03: the first one failed: another Echo Test.
      start_echo_test(now, *peer, out);
    }
  }
  if (!peer_refresh_at_ || *peer_refresh_at_ > now) return;
  // R6081-5.4.2.1-01: every peer reached through its random port.
  const Duration window = config_.time_scale(kPeerRefresh);
  std::erase_if(random_port_peers_, [&](const wire::Ipv6Address& address) { return peers_.find(address) == nullptr; });
  for (const wire::Ipv6Address& address : random_port_peers_) {
    Peer* peer = peers_.find(address);
    Peer::RandomPort& r = peer->random_port;
    if (config_.sequential_port_nat && !config_.faults.echo_ports_kept_on_refresh) {
      // R6081-5.5.2.1-02: the Echo Test's ports and counter start afresh.
      r.echo_lower = r.echo_upper = 0;
      r.echo_retries = 0;
    }
    const UdpEndpoint source = peer_source(*peer);
    if (source.port == 0 || !peer->trusted) continue;
    const bool data_sent = r.last_data_send && now - *r.last_data_send < window;
    if (data_sent) {
      // R6081-5.4.2.1-04: data in the last 30 s: the count starts again.
      if (!config_.faults.refresh_count_not_reset) r.refresh_count = 0;
      continue;
    }
    // R6081-5.4.2.1-02: at most 20 in a row; R6081-5.4.2.1-03: a direct
    // bubble (§5.4.4.3: from the random port, with its trailer), counted.
    if (r.refresh_count >= kMaxConnectionRefreshes && !config_.faults.refresh_count_uncapped) continue;
    if (send(peer->mapped, with_random_port(*peer, bubble_datagram(peer->address, peer->nonce_received)),
             "R6081-5.4.2.1-03", out, false, source)) {
      ++r.refresh_count;
      peer->last_send = now;
      peers_.touch(*peer, now);  // the entry lives as long as its mapping is kept
      out.action("peer_refresh_bubble", "R6081-5.4.2.1-03",
                 "to " + to_string(peer->mapped) + " (" + std::to_string(r.refresh_count) + ")");
    }
  }
  // R6081-5.4.2.1-05: again in 30 s.
  peer_refresh_at_ = now + window;
}

std::optional<Time> Client::random_port_next_timeout() const noexcept {
  std::optional<Time> next = peer_refresh_at_;
  for (const wire::Ipv6Address& address : random_port_peers_) {
    const Peer* peer = peers_.find(address);
    if (peer == nullptr || !peer->random_port.echo_failover) continue;
    if (!next || *peer->random_port.echo_failover < *next) next = *peer->random_port.echo_failover;
  }
  return next;
}

}  // namespace teredo::node
