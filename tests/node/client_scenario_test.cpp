// The client end to end on the in-memory Internet: the reference server and
// relay as its peers, NAT boxes of each class, a virtual clock.
#include <gtest/gtest.h>

#include "client_net.hpp"

namespace teredo::node::test {
namespace {

constexpr UdpEndpoint kLocalA{v4(192, 168, 1, 10), 3545};
constexpr UdpEndpoint kLocalB{v4(192, 168, 1, 11), 3545};
constexpr UdpEndpoint kLocalC{v4(10, 0, 0, 10), 3545};
constexpr wire::Ipv4Address kNatA = v4(198, 51, 100, 7);
constexpr wire::Ipv4Address kNatC = v4(203, 0, 113, 50);

ClientConfig behind_nat(UdpEndpoint local) {
  ClientConfig c = client_config();
  c.local = local;
  return c;
}

void expect_only_global_or_lan_destinations(const ClientNet& net) {
  for (const Logged& l : net.log) {
    const auto scope = wire::classify_ipv4(l.datagram.to.address);
    EXPECT_TRUE(scope == wire::Ipv4Scope::global_unicast || scope == wire::Ipv4Scope::private_use ||
                (scope == wire::Ipv4Scope::multicast && l.datagram.to.address == v4(224, 0, 0, 253)))
        << to_string(l.datagram.to);
  }
}

struct Lab {
  Server server{server_config()};
  ClientNet net;
  Lab() { net.server = &server; }
};

TEST(NodeClientScenario, QualifiesBehindAPortRestrictedNat) {
  Lab lab;
  Nat nat(NatKind::port_restricted, kNatA, 40000);
  ClientHost a(behind_nat(kLocalA), &nat);
  lab.net.hosts = {&a};
  lab.net.start(a);
  // RFC 5991: one cone-0 RS to each server address; the NAT maps both to
  // 198.51.100.7:40000 (endpoint-independent mapping): restricted, qualified.
  EXPECT_EQ(a.client.state(), QualificationState::qualified);
  EXPECT_EQ(a.client.nat_type(), NatType::restricted);
  EXPECT_EQ(a.client.address(), v6("2001:0:c000:22d:0:63bf:39cc:9bf8"));
  EXPECT_EQ(lab.net.sent(a, kPrimaryEp).size(), 1u);
  EXPECT_EQ(lab.net.sent(a, kSecondaryEp).size(), 1u);
}

TEST(NodeClientScenario, SymmetricNatIsDetected) {
  Lab lab;
  Nat nat(NatKind::symmetric, kNatA, 40000);
  ClientHost a(behind_nat(kLocalA), &nat);
  lab.net.hosts = {&a};
  lab.net.start(a);
  // R4380-5.2.1-05: :40000 seen by the primary, :40001 by the secondary.
  EXPECT_EQ(a.client.state(), QualificationState::offline);
  EXPECT_FALSE(a.client.address().has_value());
}

TEST(NodeClientScenario, StrictRfc4380FindsAFullConeNat) {
  Lab lab;
  Nat nat(NatKind::full_cone, kNatA, 40000);
  ClientConfig c = behind_nat(kLocalA);
  c.use_rfc4380_qualification();
  ClientHost a(c, &nat);
  lab.net.hosts = {&a};
  lab.net.start(a);
  // The server answers the cone RS from 192.0.2.46; a full cone lets it in.
  EXPECT_EQ(a.client.state(), QualificationState::qualified);
  EXPECT_EQ(a.client.nat_type(), NatType::cone);
  EXPECT_EQ(a.client.address(), v6("2001:0:c000:22d:8000:63bf:39cc:9bf8"));
}

TEST(NodeClientScenario, StrictRfc4380BehindARestrictedNatFallsBackToConeZero) {
  Lab lab;
  Nat nat(NatKind::restricted, kNatA, 40000);
  ClientConfig c = behind_nat(kLocalA);
  c.use_rfc4380_qualification();
  ClientHost a(c, &nat);
  lab.net.hosts = {&a};
  lab.net.start(a);
  lab.net.advance_to(Time{15s});
  // The RA from the secondary is filtered (never contacted): 4 cone RSs.
  EXPECT_EQ(a.client.state(), QualificationState::probing_cone);
  EXPECT_EQ(lab.net.filtered.size(), 4u);
  lab.net.advance_to(Time{17s});
  EXPECT_EQ(a.client.state(), QualificationState::qualified);
  EXPECT_EQ(a.client.nat_type(), NatType::restricted);
  EXPECT_EQ(a.client.address(), v6("2001:0:c000:22d:0:63bf:39cc:9bf8"));
}

TEST(NodeClientScenario, TwoClientsBehindRestrictedNatsReachEachOther) {
  Lab lab;
  Nat nat_a(NatKind::port_restricted, kNatA, 40000);
  Nat nat_c(NatKind::port_restricted, kNatC, 50000);
  ClientConfig ca = behind_nat(kLocalA);
  ClientConfig cc = behind_nat(kLocalC);
  ca.random_flags = cc.random_flags = true;  // RFC 5991 addresses
  cc.random = seeded_random(99);
  ClientHost a(ca, &nat_a);
  ClientHost c(cc, &nat_c);
  lab.net.hosts = {&a, &c};
  lab.net.start(a);
  lab.net.start(c);
  ASSERT_TRUE(a.client.address() && c.client.address());
  const ByteVector ping = echo(*a.client.address(), *c.client.address(), 8, 1);
  lab.net.tun(a, ping);
  // A's bubbles open its NAT; C's server forwards the indirect one with A's
  // origin; C answers directly; A trusts C and flushes; C's NAT now lets A in.
  ASSERT_EQ(c.tunnel.size(), 1u);
  EXPECT_EQ(hexstr(c.tunnel[0]), hexstr(ping));
  EXPECT_TRUE(a.client.peers().find(*c.client.address())->trusted);
  EXPECT_TRUE(c.client.peers().find(*a.client.address())->trusted);
  const ByteVector pong = echo(*c.client.address(), *a.client.address(), 8, 2);
  const std::size_t before = lab.net.log.size();
  lab.net.tun(c, pong);
  ASSERT_EQ(a.tunnel.size(), 1u);
  EXPECT_EQ(hexstr(a.tunnel[0]), hexstr(pong));
  EXPECT_EQ(lab.net.log.size(), before + 1);  // straight, no bubbles
  expect_only_global_or_lan_destinations(lab.net);
  EXPECT_TRUE(lab.net.undeliverable.empty());
}

TEST(NodeClientScenario, NatRebindingGivesANewAddressAtTheNextRefresh) {
  Lab lab;
  Nat nat(NatKind::port_restricted, kNatA, 40000);
  ClientHost a(behind_nat(kLocalA), &nat);
  lab.net.hosts = {&a};
  lab.net.start(a);
  ASSERT_EQ(a.client.address(), v6("2001:0:c000:22d:0:63bf:39cc:9bf8"));
  nat.rebind(lab.net.now);  // the mapping moves to :40001
  lab.net.advance_to(Time{31s});
  // R4380-5.2.5-06: ~40001 = 63be.
  EXPECT_EQ(a.client.address(), v6("2001:0:c000:22d:0:63be:39cc:9bf8"));
  bool changed = false;
  for (const Event& e : lab.net.events) changed = changed || e.code == "address_changed";
  EXPECT_TRUE(changed);
}

TEST(NodeClientScenario, NativePingThroughTheReferenceRelay) {
  Lab lab;
  Relay relay(relay_config());
  lab.net.relay = &relay;
  Nat nat(NatKind::port_restricted, kNatA, 40000);
  ClientHost a(behind_nat(kLocalA), &nat);
  lab.net.hosts = {&a};
  lab.net.start(a);
  const ByteVector ping = echo(client_teredo(), native_host(), 8, 7);
  lab.net.tun(a, ping);
  // R4380-5.2.4-03, R4380-5.2.9-01: the data waits; an echo request with a
  // nonce goes through the server to the native host.
  ASSERT_EQ(lab.net.server_tunnel.size(), 1u);
  EXPECT_TRUE(a.client.peers().find(native_host())->echo_pending);
  // The IPv6 Internet: the native host answers; its nearest relay carries
  // the reply (relay bubble via the server, client's direct bubble back,
  // relay flushes the reply to the client's mapping).
  {
    const auto request = wire::parse_ipv6_packet(lab.net.server_tunnel[0]);
    ASSERT_TRUE(request);
    const auto icmp = wire::parse_icmpv6(*request);
    ASSERT_TRUE(icmp);
    const auto e = wire::parse_echo(*icmp);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->data.size(), 8u);  // R4380-5.2.9-02
    wire::EchoMessage reply = *e;
    reply.reply = true;
    lab.net.from_native(wire::build_echo(native_host(), client_teredo(), 64, reply));
  }
  // R4380-5.2.3-06: the reply with the nonce trusts the relay's endpoint and
  // the queued ping goes there, then on to the native side.
  const Peer* p = a.client.peers().find(native_host());
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->trusted);
  EXPECT_EQ(p->mapped, kRelayEp);
  ASSERT_EQ(lab.net.relay_tunnel.size(), 1u);
  EXPECT_EQ(hexstr(lab.net.relay_tunnel[0]), hexstr(ping));
  EXPECT_TRUE(a.tunnel.empty());  // the test's reply is not the host's business
  // The native host's answer to the ping comes back through the relay.
  const ByteVector pong = echo(native_host(), client_teredo(), 8, 8);
  lab.net.from_native(pong);
  ASSERT_EQ(a.tunnel.size(), 1u);
  EXPECT_EQ(hexstr(a.tunnel[0]), hexstr(pong));
}

TEST(NodeClientScenario, LocalDiscoveryConnectsNeighboursWithoutHairpinning) {
  for (bool discovery : {false, true}) {
    Lab lab;
    Nat nat(NatKind::port_restricted, kNatA, 40000);
    ClientConfig ca = behind_nat(kLocalA);
    ClientConfig cb = behind_nat(kLocalB);
    for (ClientConfig* c : {&ca, &cb}) {
      c->local_discovery = discovery;
      c->local_subnet = Ipv4Subnet{v4(192, 168, 1, 0), 24};
    }
    ClientHost a(ca, &nat);
    ClientHost b(cb, &nat);
    lab.net.hosts = {&a, &b};
    lab.net.start(a);
    lab.net.start(b);
    lab.net.advance_to(Time{3s});
    ASSERT_TRUE(a.client.address() && b.client.address());
    const ByteVector ping = echo(*a.client.address(), *b.client.address(), 8, 1);
    lab.net.tun(a, ping);
    lab.net.advance_to(Time{20s});
    if (!discovery) {
      // The NAT does not hairpin: B's answers to A's public mapping are lost.
      EXPECT_TRUE(b.tunnel.empty());
      EXPECT_FALSE(lab.net.filtered.empty());
      continue;
    }
    // §5.2.8: discovery bubbles made each a local peer of the other; the
    // ping went over the LAN (R4380-5.2.4-04, R4380-5.2.3-13).
    ASSERT_EQ(b.tunnel.size(), 1u);
    EXPECT_EQ(hexstr(b.tunnel[0]), hexstr(ping));
    EXPECT_EQ(a.client.peers().find(*b.client.address())->mapped, kLocalB);
    EXPECT_TRUE(lab.net.filtered.empty());
    expect_only_global_or_lan_destinations(lab.net);
  }
}

TEST(NodeClientScenario, RefreshIntervalDeterminationFindsTheNatLifetime) {
  Lab lab;
  Nat nat(NatKind::full_cone, kNatA, 40000, 80s);  // idle mappings die after 80 s
  ClientConfig c = behind_nat(kLocalA);
  c.interval_determination = true;
  c.secondary_local = UdpEndpoint{kLocalA.address, 3546};
  ClientHost a(c, &nat);
  lab.net.hosts = {&a};
  lab.net.start(a);
  // R4380-5.2.7-01: the secondary port qualifies right after the service port.
  EXPECT_TRUE(a.client.secondary_port_open());
  EXPECT_FALSE(a.client.interval_concluded());
  EXPECT_EQ(lab.net.sent(a, kPrimaryEp).size(), 1u);
  lab.net.advance_to(Time{400s});
  // R4380-5.2.7-02, by hand: 60 s succeeds (60 < 80) -> interval 60,
  // candidate 90 fails -> maximum 90, candidate 75 succeeds -> interval 75,
  // candidate min(150, 82.5) fails -> maximum 82.5; 75 >= 75 % of 82.5: done.
  EXPECT_EQ(a.client.refresh_interval(), Duration{75s});
  EXPECT_FALSE(a.client.secondary_port_open());  // R4380-5.2.7-04
  EXPECT_TRUE(a.client.interval_concluded());     // the edge closes the port
  EXPECT_EQ(a.client.state(), QualificationState::qualified);
  // R4380-5.2.7-03: the secondary port sent RSs only.
  for (const Logged& l : lab.net.log) {
    if (l.datagram.from != c.secondary_local) continue;
    EXPECT_EQ(l.datagram.to, kPrimaryEp);
    EXPECT_EQ(parse_rs(l.datagram).icmp_type, 133);
  }
  // The service port's mapping survives on the longer interval.
  lab.net.advance_to(Time{1200s});
  EXPECT_EQ(a.client.address(), v6("2001:0:c000:22d:0:63bf:39cc:9bf8"));
}

TEST(NodeClientScenario, IntervalDeterminationGivesUpWithoutASecondaryRa) {
  Lab lab;
  ClientConfig c = client_config();
  c.interval_determination = true;
  c.secondary_local = UdpEndpoint{kClient.address, 40001};
  ClientHost a(c, nullptr);
  lab.net.hosts = {&a};
  lab.net.script(kPrimaryEp, [](UdpEndpoint, const OutgoingDatagram&) {});
  lab.net.server = nullptr;
  // A hand-made qualification: only the service port's RSs are answered.
  Outbox out;
  a.client.start(Time{0}, out);
  Outbox in;
  a.client.handle_datagram(Time{0}, kPrimaryEp, make_ra(parse_rs(out.datagrams.at(0))), in);
  Outbox in2;
  a.client.handle_datagram(Time{0}, kSecondaryEp, make_ra(parse_rs(in.datagrams.at(0))), in2);
  ASSERT_EQ(a.client.state(), QualificationState::qualified);
  ASSERT_EQ(in2.datagrams.size(), 1u);
  EXPECT_EQ(in2.datagrams[0].from, c.secondary_local);
  lab.net.advance_to(Time{17s});
  // §5.2.7: the secondary qualification failed: the interval stays 30 s.
  EXPECT_FALSE(a.client.secondary_port_open());
  EXPECT_TRUE(a.client.interval_concluded());
  EXPECT_EQ(a.client.refresh_interval(), Duration{30s});
}

}  // namespace
}  // namespace teredo::node::test
