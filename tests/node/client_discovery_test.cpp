// RFC 4380 §5.2.8 local client discovery (optional, off by default) and the
// local-peer cases of §5.2.3 (4, 5) and §5.2.4 (3).
#include <gtest/gtest.h>

#include <set>

#include "client_fixture.hpp"

namespace teredo::node::test {
namespace {

// Behind a NAT at 198.51.100.7 on the LAN 192.168.1.0/24.
constexpr UdpEndpoint kLocal{v4(192, 168, 1, 10), 3545};
constexpr UdpEndpoint kNeighbour{v4(192, 168, 1, 20), 41000};  // its local endpoint
constexpr UdpEndpoint kGroup{v4(224, 0, 0, 253), 3544};
// The neighbour's Teredo address: same public IPv4, mapped port 41001:
// ~41001 = 0x5fd6 (41001 = 0xa029).
wire::Ipv6Address neighbour_v6() { return v6("2001:0:c000:22d:0:5fd6:39cc:9bf8"); }

ClientConfig discovery_config() {
  ClientConfig c = client_config();
  c.local = kLocal;
  c.local_discovery = true;
  c.local_subnet = Ipv4Subnet{v4(192, 168, 1, 0), 24};
  return c;
}

struct Lan : Driver {
  explicit Lan(ClientConfig c = discovery_config()) : Driver(std::move(c)) {
    qualify(kClient);
    (void)at(Time{0});  // the first discovery bubble, sent on qualification
  }
  Outbox discovery(UdpEndpoint from, Bytes payload) {
    Outbox out;
    client.handle_discovery_datagram(now, from, payload, out);
    return out;
  }
};

TEST(NodeClientDiscovery, TheFixtureNeighbourAddressIsWhatTheRfcSays) {
  EXPECT_EQ(teredo_address(kPrimary, 0, ep(v4(198, 51, 100, 7), 41001)), neighbour_v6());
}

TEST(NodeClientDiscovery, OffByDefault) {
  Driver d;
  d.qualify();
  EXPECT_FALSE(d.client.discovery_enabled());
  for (int s = 1; s <= 400; s += 10) {
    for (const auto& dg : d.at(Time{std::chrono::seconds{s}}).datagrams) EXPECT_NE(dg.to, kGroup);
  }
  Outbox out;
  d.client.handle_discovery_datagram(d.now, kNeighbour, bubble(neighbour_v6(), all_nodes_v6(), 1), out);
  EXPECT_TRUE(has_drop(out, "drop_discovery_disabled", "R4380-5.2.8-02")) << dump(out);
}

TEST(NodeClientDiscovery, LocalBubblesEvery200To300sWithTtl1) {
  ClientConfig c = discovery_config();
  c.timers.refresh_interval = 100000s;  // keep refreshes out of the way
  Driver d(c);
  std::vector<Time> times;
  const auto collect = [&](const Outbox& out) {
    for (const auto& dg : to(out, kGroup)) {
      times.push_back(d.now);
      // R4380-5.2.8-04: from the service port, TTL 1, a bubble from our
      // Teredo address to ff02::1 with hop limit 1.
      EXPECT_EQ(dg.from, kLocal);
      EXPECT_EQ(dg.ttl, 1);
      EXPECT_EQ(hexstr(dg.payload), hexstr(bubble(client_teredo(), all_nodes_v6(), 1)));
    }
  };
  Outbox out = d.start();
  out = d.receive(kPrimaryEp, make_ra(parse_rs(out.datagrams.at(0))));
  out = d.receive(kSecondaryEp, make_ra(parse_rs(out.datagrams.at(0))));
  ASSERT_TRUE(d.client.discovery_enabled());
  collect(d.at(Time{0}));
  for (int s = 1; s <= 3000; ++s) collect(d.at(Time{std::chrono::seconds{s}}));
  // R4380-5.2.8-03: uniformly between 200 and 300 s (1 s clock resolution).
  ASSERT_GE(times.size(), 10u);
  std::set<Duration::rep> gaps;
  for (std::size_t i = 1; i < times.size(); ++i) {
    EXPECT_GE(times[i] - times[i - 1], Duration{200s});
    EXPECT_LE(times[i] - times[i - 1], Duration{301s});
    gaps.insert((times[i] - times[i - 1]).count());
  }
  EXPECT_GT(gaps.size(), 3u);
}

TEST(NodeClientDiscovery, DiscoveryBubbleCreatesAnUntrustedLocalEntryAndIsAnswered) {
  Lan d;
  d.now = Time{5s};
  const Outbox out = d.discovery(kNeighbour, bubble(neighbour_v6(), all_nodes_v6(), 1));
  // R4380-5.2.3-12: a unicast bubble to the bubble's IPv4 source and port,
  // from our Teredo address to its IPv6 source (a private IPv4: allowed for
  // a local peer).
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kNeighbour);
  EXPECT_EQ(out.datagrams[0].from, kLocal);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(bubble(client_teredo(), neighbour_v6())));
  // R4380-5.2.8-09, R4380-5.2.3-11: untrusted, local address/port, last
  // reception now, one bubble (the answer) sent.
  const Peer* p = d.client.peers().find(neighbour_v6());
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->trusted);
  EXPECT_EQ(p->local, kNeighbour);
  EXPECT_EQ(p->last_receive, Time{5s});
  EXPECT_EQ(p->bubble_count, 1u);
}

TEST(NodeClientDiscovery, BadDiscoveryBubblesAreDropped) {
  Lan d;
  // R4380-5.2.8-06: not a Teredo source; off the local subnet.
  EXPECT_TRUE(has_drop(d.discovery(kNeighbour, bubble(v6("2001:db8::1"), all_nodes_v6(), 1)),
                       "drop_discovery_not_teredo_source", "R4380-5.2.8-06"));
  EXPECT_TRUE(has_drop(d.discovery(kNeighbour, bubble(teredo_address(kPrimary, 0, ep(v4(10, 0, 0, 1), 5)),
                                                      all_nodes_v6(), 1)),
                       "drop_discovery_not_teredo_source", "R4380-5.2.8-06"));
  EXPECT_TRUE(has_drop(d.discovery(ep(v4(192, 168, 2, 20), 41000), bubble(neighbour_v6(), all_nodes_v6(), 1)),
                       "drop_discovery_off_subnet", "R4380-5.2.8-06"));
  // R4380-5.2.3-11: a bubble to ff02::1 only.
  EXPECT_TRUE(has_drop(d.discovery(kNeighbour, bubble(neighbour_v6(), client_teredo(), 1)),
                       "drop_not_discovery_bubble", "R4380-5.2.3-11"));
  EXPECT_TRUE(has_drop(d.discovery(kNeighbour, echo(neighbour_v6(), all_nodes_v6())), "drop_not_discovery_bubble",
                       "R4380-5.2.3-11"));
  // R4380-5.2.8-05: arriving on the unicast service port.
  EXPECT_TRUE(has_drop(d.receive(kNeighbour, bubble(neighbour_v6(), all_nodes_v6(), 1)),
                       "drop_discovery_bubble_on_unicast", "R4380-5.2.8-05"));
  EXPECT_EQ(d.client.peers().size(), 0u);
}

TEST(NodeClientDiscovery, OptionallyOnlyPeersBehindTheSamePublicAddress) {
  const auto elsewhere = teredo_address(kPrimary, 0, ep(v4(203, 0, 113, 5), 41001));
  Lan permissive;
  EXPECT_EQ(permissive.discovery(kNeighbour, bubble(elsewhere, all_nodes_v6(), 1)).datagrams.size(), 1u);
  ClientConfig c = discovery_config();
  c.discovery_same_mapped_ipv4_only = true;
  Lan strict(c);
  // R4380-5.2.8-07 (MAY).
  EXPECT_TRUE(has_drop(strict.discovery(kNeighbour, bubble(elsewhere, all_nodes_v6(), 1)),
                       "drop_discovery_other_mapped_ipv4", "R4380-5.2.8-07"));
  EXPECT_EQ(strict.discovery(kNeighbour, bubble(neighbour_v6(), all_nodes_v6(), 1)).datagrams.size(), 1u);
}

TEST(NodeClientDiscovery, SendingToALocalPeerUsesTheLanAndTheGroup) {
  Lan d;
  (void)d.discovery(kNeighbour, bubble(neighbour_v6(), all_nodes_v6(), 1));
  const ByteVector packet = echo(client_teredo(), neighbour_v6());
  Outbox out = d.tun(packet);
  // The answer bubble just went: R4380-5.2.6-03 holds the next one 2 s.
  EXPECT_TRUE(out.datagrams.empty()) << dump(out);
  out = d.at(Time{2s});
  // R4380-5.2.4-04: queued; a unicast bubble to the local address and a
  // local bubble to the discovery address; nothing via servers or mappings.
  ASSERT_EQ(out.datagrams.size(), 2u) << dump(out);
  EXPECT_EQ(to(out, kNeighbour).size(), 1u);
  ASSERT_EQ(to(out, kGroup).size(), 1u);
  EXPECT_EQ(to(out, kGroup)[0].ttl, 1);
  // R4380-5.2.3-13 (case 5): its bubble from the local address trusts the
  // local entry; the queue goes to the LAN address (§5.2.4 case 1 note).
  d.now = Time{3s};
  out = d.receive(kNeighbour, bubble(neighbour_v6(), client_teredo()));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kNeighbour);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(packet));
  EXPECT_TRUE(d.client.peers().find(neighbour_v6())->trusted);
  // And data from the local address is delivered.
  const ByteVector reply = echo(neighbour_v6(), client_teredo());
  out = d.receive(kNeighbour, reply);
  ASSERT_EQ(out.to_tunnel.size(), 1u);
  out = d.tun(echo(client_teredo(), neighbour_v6(), 8, 2));
  ASSERT_EQ(out.datagrams.size(), 1u);
  EXPECT_EQ(out.datagrams[0].to, kNeighbour);
}

TEST(NodeClientDiscovery, ExistingEntryGetsTheLocalAddress) {
  Lan d;
  const UdpEndpoint mapping{v4(198, 51, 100, 7), 41001};
  (void)d.receive(mapping, bubble(neighbour_v6(), client_teredo()));  // trusted at its mapping
  ASSERT_TRUE(d.client.peers().find(neighbour_v6())->trusted);
  (void)d.discovery(kNeighbour, bubble(neighbour_v6(), all_nodes_v6(), 1));
  // R4380-5.2.8-08: the local address and port follow the discovery bubble.
  const Peer* p = d.client.peers().find(neighbour_v6());
  EXPECT_EQ(p->local, kNeighbour);
  EXPECT_TRUE(p->trusted);
  EXPECT_EQ(p->mapped, mapping);
}

TEST(NodeClientDiscovery, ALocalPeerStaysOneFor600s) {
  ClientConfig c = discovery_config();
  c.timers.refresh_interval = 100000s;
  Lan d(c);
  (void)d.discovery(kNeighbour, bubble(neighbour_v6(), all_nodes_v6(), 1));
  d.now = Time{601s};
  const Outbox out = d.tun(echo(client_teredo(), neighbour_v6()));
  // §5.2.4 case 3 no longer applies: case 5, via its server and mapping.
  EXPECT_EQ(to(out, kPrimaryEp).size(), 1u) << dump(out);
  EXPECT_EQ(to(out, ep(v4(198, 51, 100, 7), 41001)).size(), 1u);  // direct: needs NAT hairpinning
  EXPECT_TRUE(to(out, kNeighbour).empty());
}

}  // namespace
}  // namespace teredo::node::test
