// RFC 6081 §5.4 Port-Preserving Symmetric NAT Extension and §5.5 Sequential
// Port-Symmetric NAT Extension, with the Random Port Trailer (§4.5: type
// 0x05, length 2, the port in network byte order): the flag from the origin
// indication, the random port and its trailer, the direct bubbles from it,
// the §5.4.4.5 trust rules, the Peer Refresh Timer and the §5.5 Echo Test.
//
// The client is kClient (198.51.100.7:40000) behind a symmetric NAT: the
// primary server address sees 198.51.100.7:40000 (port-preserving) or
// :50000 (not), the secondary another port.
#include <gtest/gtest.h>

#include <algorithm>

#include "client_fixture.hpp"

namespace teredo::node::test {
namespace {

constexpr UdpEndpoint kPeerMapping{v4(203, 0, 113, 5), 5000};
constexpr UdpEndpoint kPeerServer{v4(203, 0, 113, 77), 3544};
constexpr UdpEndpoint kPeerRandom{v4(203, 0, 113, 5), 8080};      // the peer's random port mapping
constexpr UdpEndpoint kPeerElsewhere{v4(203, 0, 113, 5), 6000};   // another mapping of the peer's NAT
wire::Ipv6Address peer_v6() { return v6("2001:0:cb00:714d:0:ec77:34ff:8efa"); }
// The client's own mapping towards the primary server address.
constexpr UdpEndpoint kPreserved = kClient;
constexpr UdpEndpoint kNotPreserved{v4(198, 51, 100, 7), 50000};

enum class Extension { port_preserving, sequential, symmetric_only };

ClientConfig config_for(Extension e) {
  ClientConfig c = client_config();
  c.symmetric_nat_support = true;
  c.port_preserving_nat = e != Extension::symmetric_only;
  c.sequential_port_nat = e == Extension::sequential;
  return c;
}

struct Behind : Driver {
  // Qualifies behind a symmetric NAT whose primary mapping is `primary` (the
  // secondary one is the next port: another mapping).
  explicit Behind(Extension e, UdpEndpoint primary = kPreserved) : Driver(config_for(e)) {
    Outbox out = start();
    RaSpec spec;
    spec.mapping = primary;
    out = receive(kPrimaryEp, make_ra(parse_rs(out.datagrams.at(0)), spec));
    qualified_events = out;
    spec.mapping.port = static_cast<std::uint16_t>(primary.port + 1);
    const Outbox last = receive(kSecondaryEp, make_ra(parse_rs(out.datagrams.at(0)), spec));
    qualified_events.events.insert(qualified_events.events.end(), last.events.begin(), last.events.end());
  }
  [[nodiscard]] wire::Ipv6Address self() const { return *client.address(); }
  Outbox on_random_port(std::uint16_t port, UdpEndpoint from, Bytes payload) {
    Outbox out;
    client.handle_random_port_datagram(now, port, from, payload, out);
    return out;
  }
  Outbox qualified_events;
};

// The port of a Random Port Trailer ending `payload`, checked byte by byte.
std::uint16_t trailer_port(const ByteVector& payload) {
  EXPECT_GE(payload.size(), 44u);
  if (payload.size() < 44) return 0;
  EXPECT_EQ(payload[payload.size() - 4], 0x05);  // R6081-4.5-01
  EXPECT_EQ(payload[payload.size() - 3], 0x02);  // R6081-4.5-02
  return static_cast<std::uint16_t>((payload[payload.size() - 2] << 8) | payload[payload.size() - 1]);
}

std::vector<OutgoingDatagram> from_port(const Outbox& out, std::uint16_t port) {
  std::vector<OutgoingDatagram> found;
  for (const auto& d : out.datagrams) {
    if (d.from.port == port) found.push_back(d);
  }
  return found;
}

// The port the client opened for the peer on its first indirect bubble.
std::uint16_t first_contact(Behind& d, Outbox* out = nullptr) {
  const Outbox o = d.tun(echo(d.self(), peer_v6()));
  if (out != nullptr) *out = o;
  const auto ports = d.client.random_ports();
  return ports.size() == 1 ? ports.front() : 0;
}

// Answers every RS the client sends to its server (its maintenance) so it
// stays qualified, and collects everything else it sends up to `until`.
Outbox run_until(Behind& d, Time until) {
  Outbox all;
  while (const auto next = d.client.next_timeout()) {
    if (*next > until) break;
    Outbox out = d.at(*next);
    for (const auto& datagram : out.datagrams) {
      if (datagram.to == kPrimaryEp && datagram.from == kClient) {
        RaSpec spec;
        spec.mapping = kPreserved;
        (void)d.receive(kPrimaryEp, make_ra(parse_rs(datagram), spec));
      } else {
        all.datagrams.push_back(datagram);
      }
    }
    all.events.insert(all.events.end(), out.events.begin(), out.events.end());
  }
  d.now = until;
  return all;
}

TEST(NodeClientRandomPort, PortPreservingFlagComesFromTheOriginIndication) {
  // R6081-5.4.3-01: FALSE until qualification says otherwise.
  Driver before(config_for(Extension::port_preserving));
  (void)before.start();
  EXPECT_FALSE(before.client.port_preserving_nat());
  // R6081-5.4.3-03/04: the origin indication's port against the local port.
  Behind preserved(Extension::port_preserving, kPreserved);
  EXPECT_EQ(preserved.client.nat_type(), NatType::symmetric);
  EXPECT_TRUE(preserved.client.port_preserving_nat());
  EXPECT_TRUE(has_event(preserved.qualified_events, "port_preserving_nat")) << dump(preserved.qualified_events);
  Behind moved(Extension::port_preserving, kNotPreserved);
  EXPECT_EQ(moved.client.nat_type(), NatType::symmetric);
  EXPECT_FALSE(moved.client.port_preserving_nat());
}

TEST(NodeClientRandomPort, IndirectBubbleToAnUntrustedPeerAdvertisesANewRandomPort) {
  Behind d(Extension::port_preserving);
  Outbox out;
  const std::uint16_t port = first_contact(d, &out);
  // R6081-5.4.4.2-02: a port of its own, listened on (the edge opens it).
  ASSERT_NE(port, 0) << dump(out);
  EXPECT_GE(port, 49152);
  EXPECT_NE(port, kClient.port);
  const auto indirect = to(out, kPeerServer);
  ASSERT_EQ(indirect.size(), 1u) << dump(out);
  EXPECT_EQ(indirect[0].from, kClient) << "from the service port";
  // The §5.2 nonce trailer, then R6081-5.4.4.2-03/04: the Random Port
  // Trailer naming that port (the NAT preserves it).
  const ByteVector plain = bubble(client_teredo(), peer_v6());
  ASSERT_EQ(indirect[0].payload.size(), plain.size() + 6 + 4);
  EXPECT_EQ(hexstr(Bytes(indirect[0].payload).subspan(plain.size(), 2)), "0104");
  EXPECT_EQ(trailer_port(indirect[0].payload), port);
  // The direct bubble to the embedded mapping goes from the service port,
  // without it; the peer's random port is not known yet: nothing else.
  const auto direct = to(out, kPeerMapping);
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_EQ(hexstr(direct[0].payload), hexstr(plain));
  EXPECT_TRUE(from_port(out, port).empty());
  // R6081-5.4.4.2-03: the same port on the next attempt.
  d.now = Time{2s};
  out = d.at(d.now);
  const auto again = to(out, kPeerServer);
  ASSERT_EQ(again.size(), 1u) << dump(out);
  EXPECT_EQ(trailer_port(again[0].payload), port);
  EXPECT_EQ(d.client.random_ports(), std::vector<std::uint16_t>{port});
}

TEST(NodeClientRandomPort, NoRandomPortWithoutTheExtensionOrTheNatItIsFor) {
  // §5.2 alone: a nonce trailer only.
  Behind symmetric_only(Extension::symmetric_only);
  Outbox out = symmetric_only.tun(echo(client_teredo(), peer_v6()));
  ASSERT_EQ(to(out, kPeerServer).size(), 1u);
  EXPECT_EQ(to(out, kPeerServer)[0].payload.size(), bubble(client_teredo(), peer_v6()).size() + 6);
  EXPECT_TRUE(symmetric_only.client.random_ports().empty());
  // §5.4 behind a NAT that does not preserve the port (and no §5.5): none.
  Behind moved(Extension::port_preserving, kNotPreserved);
  out = moved.tun(echo(moved.self(), peer_v6()));
  ASSERT_EQ(to(out, kPeerServer).size(), 1u) << dump(out);
  EXPECT_EQ(to(out, kPeerServer)[0].payload.size(), bubble(moved.self(), peer_v6()).size() + 6);
  EXPECT_TRUE(moved.client.random_ports().empty());
  // §5.4 behind a cone NAT (one mapping for both server addresses): none.
  Driver cone(config_for(Extension::port_preserving));
  cone.qualify();
  EXPECT_EQ(cone.client.nat_type(), NatType::restricted);
  out = cone.tun(echo(client_teredo(), peer_v6()));
  ASSERT_EQ(to(out, kPeerServer).size(), 1u);
  EXPECT_TRUE(cone.client.random_ports().empty());
}

TEST(NodeClientRandomPort, DirectBubbleFromTheRandomPortToThePeersRandomPort) {
  Behind d(Extension::port_preserving);
  const std::uint16_t port = first_contact(d);
  ASSERT_NE(port, 0);
  // The peer's indirect bubble advertises its random port 8080
  // (R6081-5.4.4.4-02: stored). (2 s on: the §5.2.6 spacing lets the RFC
  // 4380 answer go too.)
  d.now = Time{2s};
  const Outbox out = d.receive(kPrimaryEp, concat({origin_of(kPeerMapping), bubble(peer_v6(), client_teredo()),
                                                   hex("0502 1f90")}));
  EXPECT_TRUE(has_event(out, "peer_random_port_stored")) << dump(out);
  // R6081-5.4.4.3-02: from our random port to the peer's; -03: at the
  // address its Teredo address embeds; -04: with our Random Port Trailer.
  const auto random = from_port(out, port);
  ASSERT_EQ(random.size(), 1u) << dump(out);
  EXPECT_EQ(random[0].from, (UdpEndpoint{kClient.address, port}));
  EXPECT_EQ(random[0].to, kPeerRandom);
  EXPECT_EQ(hexstr(random[0].payload), hexstr(concat({bubble(client_teredo(), peer_v6()), hex("0502"),
                                                      ByteVector{static_cast<std::uint8_t>(port >> 8),
                                                                 static_cast<std::uint8_t>(port)}})));
  // RFC 4380 §5.2.3's answer to the indirect bubble still goes, from the service port.
  ASSERT_EQ(to(out, kPeerMapping).size(), 1u);
  EXPECT_EQ(to(out, kPeerMapping)[0].from, kClient);
}

TEST(NodeClientRandomPort, ANewAdvertisedPortIsIgnoredWhileActiveAndTakenAfter30sIdle) {
  Behind d(Extension::port_preserving);
  const std::uint16_t port = first_contact(d);
  ASSERT_NE(port, 0);
  const ByteVector indirect = concat({origin_of(kPeerMapping), bubble(peer_v6(), client_teredo())});
  d.now = Time{1s};
  (void)d.receive(kPrimaryEp, concat({indirect, hex("0502 1f90")}));
  // R6081-5.4.4.4-03: another port within 30 s of the last transmission: ignored.
  d.now = Time{5s};
  Outbox out = d.receive(kPrimaryEp, concat({indirect, hex("0502 1f91")}));
  EXPECT_TRUE(has_drop(out, "drop_peer_random_port_change", "R6081-5.4.4.4-03")) << dump(out);
  // R6081-5.4.4.4-04: after 30 s without exchange: taken, and our random port
  // is dropped (a new one comes with the next indirect bubble).
  d.now = Time{200s};
  out = d.receive(kPrimaryEp, concat({indirect, hex("0502 1f91")}));
  EXPECT_TRUE(has_event(out, "peer_random_port_changed")) << dump(out);
  const auto ports = d.client.random_ports();
  ASSERT_EQ(ports.size(), 1u) << "a new one, opened for the bubbles in answer";
  EXPECT_NE(ports.front(), port);
  const auto random = from_port(out, ports.front());
  ASSERT_EQ(random.size(), 1u) << dump(out);
  EXPECT_EQ(random[0].to, (UdpEndpoint{kPeerRandom.address, 0x1f91}));
}

TEST(NodeClientRandomPort, ADirectBubbleOnTheRandomPortTrustsThePeerThereAndDataFollows) {
  Behind d(Extension::port_preserving);
  const ByteVector ping = echo(client_teredo(), peer_v6());
  const std::uint16_t port = first_contact(d);
  ASSERT_NE(port, 0);
  // R6081-5.4.4.5-12/13/14: trusted at the mapping it came from; the queued
  // packet goes there, from the random port.
  d.now = Time{1s};
  Outbox out = d.on_random_port(port, kPeerRandom, bubble(peer_v6(), client_teredo()));
  ASSERT_TRUE(d.client.peers().find(peer_v6())->trusted) << dump(out);
  EXPECT_EQ(d.client.peers().find(peer_v6())->mapped, kPeerRandom);
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].from, (UdpEndpoint{kClient.address, port}));
  EXPECT_EQ(out.datagrams[0].to, kPeerRandom);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(ping));
  // Data from the peer there is delivered.
  out = d.on_random_port(port, kPeerRandom, echo(peer_v6(), client_teredo()));
  EXPECT_EQ(out.to_tunnel.size(), 1u) << dump(out);
  // R6081-5.4.4.5-16: a later bubble from the stored mapping changes nothing.
  out = d.on_random_port(port, kPeerRandom, bubble(peer_v6(), client_teredo()));
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_EQ(d.client.random_ports(), std::vector<std::uint16_t>{port});
  // Anyone else on that port: dropped.
  out = d.on_random_port(port, kPeerElsewhere, echo(peer_v6(), client_teredo()));
  EXPECT_TRUE(has_drop(out, "drop_unverified", "R4380-5.2.3-14")) << dump(out);
  out = d.on_random_port(static_cast<std::uint16_t>(port + 1), kPeerRandom, bubble(peer_v6(), client_teredo()));
  EXPECT_TRUE(has_drop(out, "drop_random_port_unexpected", "")) << dump(out);
}

TEST(NodeClientRandomPort, ThenABubbleOnThePrimaryPortMovesThePeerThereAndClosesTheRandomPort) {
  Behind d(Extension::port_preserving);
  const std::uint16_t port = first_contact(d);
  d.now = Time{1s};
  (void)d.on_random_port(port, kPeerRandom, bubble(peer_v6(), client_teredo()));
  // R6081-5.4.4.5-08..11: the primary port's mapping is stored, the random
  // port closed.
  Outbox out = d.receive(kPeerMapping, bubble(peer_v6(), client_teredo()));
  EXPECT_TRUE(has_event(out, "random_port_closed")) << dump(out);
  EXPECT_TRUE(d.client.random_ports().empty());
  EXPECT_EQ(d.client.peers().find(peer_v6())->mapped, kPeerMapping);
  out = d.tun(echo(client_teredo(), peer_v6()));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].from, kClient);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
}

TEST(NodeClientRandomPort, AnUntrustedPeersBubbleOnThePrimaryPortClosesTheRandomPort) {
  Behind d(Extension::port_preserving);
  const std::uint16_t port = first_contact(d);
  ASSERT_NE(port, 0);
  d.now = Time{1s};
  // R6081-5.4.4.5-01..04: trusted, its mapping recorded, the random port zeroed.
  Outbox out = d.receive(kPeerMapping, bubble(peer_v6(), client_teredo()));
  ASSERT_TRUE(d.client.peers().find(peer_v6())->trusted) << dump(out);
  EXPECT_TRUE(d.client.random_ports().empty());
  ASSERT_EQ(to(out, kPeerMapping).size(), 1u) << "the queued packet";
  EXPECT_EQ(to(out, kPeerMapping)[0].from, kClient);
  // Without the embedded mapping or our nonce it is not the peer's: dropped.
  Behind other(Extension::port_preserving);
  (void)first_contact(other);
  out = other.receive(kPeerElsewhere, bubble(peer_v6(), client_teredo()));
  EXPECT_FALSE(other.client.peers().find(peer_v6())->trusted);
  EXPECT_EQ(other.client.random_ports().size(), 1u);
}

TEST(NodeClientRandomPort, AnotherMappingOnThePrimaryPortAfter30sIdleReestablishes) {
  Behind d(Extension::port_preserving);
  (void)first_contact(d);
  d.now = Time{1s};
  (void)d.receive(kPeerMapping, bubble(peer_v6(), client_teredo()));
  // Within 30 s of the exchange: not the peer's (dropped, nothing sent).
  d.now = Time{10s};
  Outbox out = d.receive(kPeerElsewhere, bubble(peer_v6(), client_teredo()));
  EXPECT_TRUE(out.datagrams.empty()) << dump(out);
  EXPECT_TRUE(d.client.peers().find(peer_v6())->trusted);
  // R6081-5.4.4.5-07: more than 30 s since both: not trusted, an indirect
  // bubble through its server (with a new random port).
  d.now = Time{100s};
  out = d.receive(kPeerElsewhere, bubble(peer_v6(), client_teredo()));
  EXPECT_FALSE(d.client.peers().find(peer_v6())->trusted);
  const auto indirect = to(out, kPeerServer);
  ASSERT_EQ(indirect.size(), 1u) << dump(out);
  EXPECT_EQ(trailer_port(indirect[0].payload), d.client.random_ports().at(0));
}

TEST(NodeClientRandomPort, AnotherMappingOnTheRandomPortClosesItAndBubblesIndirectly) {
  Behind d(Extension::port_preserving);
  const std::uint16_t port = first_contact(d);
  d.now = Time{1s};
  (void)d.on_random_port(port, kPeerRandom, bubble(peer_v6(), client_teredo()));
  // R6081-5.4.4.5-17 (SHOULD): the NAT remapped the peer: random port
  // zeroed and closed, an indirect bubble via the peer's server.
  d.now = Time{4s};
  const Outbox out = d.on_random_port(port, kPeerElsewhere, bubble(peer_v6(), client_teredo()));
  EXPECT_TRUE(has_event(out, "random_port_closed")) << dump(out);
  EXPECT_TRUE(d.client.random_ports().empty());
  EXPECT_EQ(to(out, kPeerServer).size(), 1u) << dump(out);
}

TEST(NodeClientRandomPort, PeerRefreshTimerKeepsTheRandomPortMappingAliveTwentyTimes) {
  Behind d(Extension::port_preserving);
  const std::uint16_t port = first_contact(d);
  d.now = Time{1s};
  (void)d.on_random_port(port, kPeerRandom, bubble(peer_v6(), client_teredo()));  // data flushed at 1 s
  // R6081-5.4.3-02 / R6081-5.4.2.1-05: ticks every 30 s from start (0 s):
  // 30 s is under 30 s after the data (1 s): count reset, no bubble
  // (R6081-5.4.2.1-04); from 60 s on a direct bubble per tick, from the
  // random port with its trailer (R6081-5.4.2.1-03), 20 at most (-02).
  const Outbox out = run_until(d, Time{30s * 25 + 1s});
  const auto refresh = to(out, kPeerRandom);
  ASSERT_EQ(refresh.size(), 20u) << dump(out);
  for (const auto& b : refresh) {
    EXPECT_EQ(b.from, (UdpEndpoint{kClient.address, port}));
    EXPECT_EQ(trailer_port(b.payload), port);
  }
  std::size_t count = 0;
  for (const Event& e : out.events) count += e.code == "peer_refresh_bubble";
  EXPECT_EQ(count, 20u);
  // Data again: valid (the peer sent), so it goes; the next tick only resets
  // the count, and the ticks after it send bubbles again.
  (void)d.on_random_port(port, kPeerRandom, echo(peer_v6(), client_teredo()));
  const Outbox data = d.tun(echo(client_teredo(), peer_v6()));
  ASSERT_EQ(to(data, kPeerRandom).size(), 1u) << dump(data);
  const Outbox next = run_until(d, d.now + 30s);
  EXPECT_TRUE(to(next, kPeerRandom).empty()) << dump(next);
  const Outbox later = run_until(d, d.now + 30s);
  EXPECT_EQ(to(later, kPeerRandom).size(), 1u) << dump(later);
}

// ---- §5.5 Sequential Port-Symmetric NAT Extension -----------------------------

struct EchoTest {
  std::uint16_t port = 0;
  SentRs lower, upper;
};

// The three packets of an Echo Test, in order, from one port.
EchoTest echo_test_in(const Outbox& out, const wire::Ipv6Address& self) {
  EchoTest t;
  std::vector<OutgoingDatagram> sent;
  for (const auto& d : out.datagrams) {
    if (d.from != kClient) sent.push_back(d);
  }
  EXPECT_EQ(sent.size(), 3u) << dump(out);
  if (sent.size() != 3) return t;
  t.port = sent[0].from.port;
  for (const auto& d : sent) EXPECT_EQ(d.from, (UdpEndpoint{kClient.address, t.port}));
  // R6081-5.5.4.1.1-02/03: an RS to the server address with a nonce.
  EXPECT_EQ(sent[0].to, kPrimaryEp);
  t.lower = parse_rs(sent[0]);
  EXPECT_EQ(t.lower.icmp_type, 133);
  EXPECT_TRUE(t.lower.has_auth);
  // R6081-5.5.4.1.1-05: a direct bubble to the peer.
  EXPECT_EQ(sent[1].to, kPeerMapping);
  EXPECT_EQ(hexstr(sent[1].payload), hexstr(bubble(self, peer_v6())));
  // R6081-5.5.4.1.1-06/07: an RS to the secondary address, another nonce.
  EXPECT_EQ(sent[2].to, kSecondaryEp);
  t.upper = parse_rs(sent[2]);
  EXPECT_TRUE(t.upper.has_auth);
  EXPECT_NE(hexstr(t.lower.nonce), hexstr(t.upper.nonce));
  return t;
}

ByteVector echo_ra(const SentRs& rs, std::uint16_t origin_port) {
  RaSpec spec;
  spec.mapping = UdpEndpoint{kNotPreserved.address, origin_port};
  return make_ra(rs, spec);
}

TEST(NodeClientSequentialPort, AnEchoTestReplacesTheFirstIndirectBubble) {
  Behind d(Extension::sequential, kNotPreserved);
  ASSERT_FALSE(d.client.port_preserving_nat());
  const Outbox out = d.tun(echo(d.self(), peer_v6()));
  // R6081-5.5.4.1-01: a new port and an Echo Test; no indirect bubble yet.
  const EchoTest t = echo_test_in(out, d.self());
  EXPECT_EQ(d.client.random_ports(), std::vector<std::uint16_t>{t.port});
  EXPECT_TRUE(to(out, kPeerServer).empty()) << dump(out);
  // R6081-5.5.4.1.1-09: the failover in EchoTestRetryCounter (1) seconds.
  EXPECT_EQ(d.client.next_timeout(), Time{1s});
}

TEST(NodeClientSequentialPort, TheRandomPortIsTheMidpointOfTheTwoAnswers) {
  Behind d(Extension::sequential, kNotPreserved);
  const EchoTest t = echo_test_in(d.tun(echo(d.self(), peer_v6())), d.self());
  // R6081-5.5.4.4-01..04: the RAs echo the nonces; their origin ports are the
  // lower (50010) and upper (50012) ports.
  Outbox out = d.on_random_port(t.port, kPrimaryEp, echo_ra(t.lower, 50010));
  EXPECT_TRUE(has_event(out, "echo_test_answered")) << dump(out);
  EXPECT_TRUE(to(out, kPeerServer).empty());
  // An RA echoing no nonce of ours: not an Echo Test answer.
  SentRs stranger = t.upper;
  stranger.nonce[0] ^= 0xFF;
  out = d.on_random_port(t.port, kSecondaryEp, echo_ra(stranger, 50012));
  EXPECT_TRUE(has_drop(out, "drop_ra_unsolicited", "R6081-5.5.4.4-01")) << dump(out);
  out = d.on_random_port(t.port, kSecondaryEp, echo_ra(t.upper, 50012));
  // R6081-5.5.4.4-05 and R6081-5.5.4.2-01: the indirect bubble with a Random
  // Port Trailer of (50010 + 50012) / 2.
  const auto indirect = to(out, kPeerServer);
  ASSERT_EQ(indirect.size(), 1u) << dump(out);
  EXPECT_EQ(trailer_port(indirect[0].payload), 50011);
  // The Echo Test is over: no failover.
  const Outbox later = d.at(Time{1s});
  EXPECT_FALSE(has_event(later, "echo_test_started")) << dump(later);
}

TEST(NodeClientSequentialPort, WithoutAnswersASecondEchoTestThenAnIndirectBubble) {
  Behind d(Extension::sequential, kNotPreserved);
  const EchoTest first = echo_test_in(d.tun(echo(d.self(), peer_v6())), d.self());
  // R6081-5.5.2.2-03: counter 1 at the failover: another Echo Test, same port.
  Outbox out = d.at(Time{1s});
  const EchoTest second = echo_test_in(out, d.self());
  EXPECT_EQ(second.port, first.port);
  EXPECT_NE(hexstr(second.lower.nonce), hexstr(first.lower.nonce));
  EXPECT_TRUE(to(out, kPeerServer).empty());
  // R6081-5.5.4.1.1-09: the next failover in 2 s; R6081-5.5.2.2-02: then an
  // indirect bubble (no Random Port yet, so no trailer; the §5.2 nonce).
  out = d.at(Time{2s});
  EXPECT_TRUE(to(out, kPeerServer).empty()) << dump(out);
  out = d.at(Time{3s});
  const auto indirect = to(out, kPeerServer);
  ASSERT_EQ(indirect.size(), 1u) << dump(out);
  EXPECT_EQ(indirect[0].payload.size(), bubble(d.self(), peer_v6()).size() + 6);
}

TEST(NodeClientSequentialPort, ADirectBubbleOnThePrimaryPortCancelsTheEchoTest) {
  Behind d(Extension::sequential, kNotPreserved);
  (void)echo_test_in(d.tun(echo(d.self(), peer_v6())), d.self());
  d.now = Time{500ms};
  // R6081-5.5.4.3-01 (§5.4.4.5 as if port-preserving), -02: failover cancelled.
  Outbox out = d.receive(kPeerMapping, bubble(peer_v6(), d.self()));
  EXPECT_TRUE(has_event(out, "echo_test_cancelled")) << dump(out);
  EXPECT_TRUE(d.client.random_ports().empty());
  out = d.at(Time{1s});
  EXPECT_TRUE(out.datagrams.empty()) << dump(out);
}

}  // namespace
}  // namespace teredo::node::test
