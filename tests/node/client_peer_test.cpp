// RFC 4380 §5.2.3 reception and §5.2.4 transmission at a qualified client:
// the peer list cases, bubbles and their §5.2.6 limits, the global-unicast
// check, and the flooding bound (§7.3.3).
#include <gtest/gtest.h>

#include "client_fixture.hpp"

namespace teredo::node::test {
namespace {

// A peer behind another server (203.0.113.77), mapped to 203.0.113.5:5000:
// 2001:0:cb00:714d:0:ec77:34ff:8efa (~5000 = ec77, ~203.0.113.5 = 34ff8efa).
constexpr UdpEndpoint kPeerMapping{v4(203, 0, 113, 5), 5000};
constexpr UdpEndpoint kPeerServer{v4(203, 0, 113, 77), 3544};
wire::Ipv6Address peer_v6() { return v6("2001:0:cb00:714d:0:ec77:34ff:8efa"); }

struct Qualified : Driver {
  explicit Qualified(ClientConfig c = client_config()) : Driver(std::move(c)) {
    qualify();
    EXPECT_EQ(client.address(), client_teredo());
  }
};

TEST(NodeClientPeer, TheFixturePeerAddressIsWhatTheRfcSays) {
  EXPECT_EQ(teredo_address(v4(203, 0, 113, 77), 0, kPeerMapping), peer_v6());
}

TEST(NodeClientPeer, Case5QueuesAndSendsIndirectAndDirectBubbles) {
  Qualified d;
  const Outbox out = d.tun(echo(client_teredo(), peer_v6()));
  // R4380-5.2.4-06, R4380-5.2.6-02: an indirect bubble to the peer's server
  // (from its address) on 3544, and (not behind a cone NAT) a direct one.
  ASSERT_EQ(out.datagrams.size(), 2u) << dump(out);
  const ByteVector expected = bubble(client_teredo(), peer_v6());
  EXPECT_EQ(to(out, kPeerServer).size(), 1u);
  EXPECT_EQ(to(out, kPeerMapping).size(), 1u);
  for (const auto& dg : out.datagrams) {
    EXPECT_EQ(dg.from, kClient);
    EXPECT_EQ(hexstr(dg.payload), hexstr(expected));
  }
  const Peer* p = d.client.peers().find(peer_v6());
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->trusted);
  EXPECT_EQ(p->queue.size(), 1u);
  EXPECT_TRUE(out.to_tunnel.empty());
}

TEST(NodeClientPeer, DirectBubbleFromTheMappingTrustsAndFlushes) {
  Qualified d;
  const ByteVector first = echo(client_teredo(), peer_v6(), 8, 1);
  (void)d.tun(first);
  d.now = Time{500ms};
  Outbox out = d.receive(kPeerMapping, bubble(peer_v6(), client_teredo()));
  // R4380-5.2.3-07/10: trusted at its mapping; the queued packet goes there;
  // R4380-5.2.3-09: the bubble itself is not delivered.
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(first));
  EXPECT_TRUE(out.to_tunnel.empty());
  EXPECT_TRUE(d.client.peers().find(peer_v6())->trusted);
  // R4380-5.2.4-02 (case 1): the next packet goes straight to the mapping.
  const ByteVector second = echo(client_teredo(), peer_v6(), 8, 2);
  out = d.tun(second);
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(second));
  // R4380-5.2.3-05: data from the trusted mapping is delivered.
  const ByteVector reply = echo(peer_v6(), client_teredo(), 8, 3);
  out = d.receive(kPeerMapping, reply);
  ASSERT_EQ(out.to_tunnel.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(out.to_tunnel[0]), hexstr(reply));
}

// §5.2.6 checked independently on a list of bubble times.
void expect_bubble_limits(const std::vector<Time>& times) {
  for (std::size_t i = 1; i < times.size(); ++i) {
    EXPECT_GE(times[i] - times[i - 1], Duration{2s}) << "R4380-5.2.6-03 at bubble " << i;
  }
  for (std::size_t i = 0; i < times.size(); ++i) {
    std::size_t in_window = 0;
    for (std::size_t j = 0; j <= i; ++j) in_window += times[i] - times[j] < Duration{300s} ? 1 : 0;
    EXPECT_LE(in_window, 4u) << "R4380-5.2.6-04 at bubble " << i;
  }
}

TEST(NodeClientPeer, BubblesAre2sApartAndAtMost4In300s) {
  Qualified d;
  std::vector<Time> indirect;
  bool gave_up = false;
  std::size_t refused = 0;
  // The application sends every second for 10 minutes; the peer never answers.
  for (int s = 0; s <= 600; ++s) {
    Outbox out = d.at(Time{std::chrono::seconds{s}});
    gave_up = gave_up || has_event(out, "peer_unreachable");
    for (std::size_t i = 0; i < to(out, kPeerServer).size(); ++i) indirect.push_back(d.now);
    // Keep the server quiet about refreshes: answer them.
    for (const auto& rs : to(out, kPrimaryEp)) (void)d.receive(kPrimaryEp, make_ra(parse_rs(rs)));
    out = d.tun(echo(client_teredo(), peer_v6(), 8, static_cast<std::uint16_t>(s)));
    refused += has_drop(out, "drop_bubble_budget_exhausted", "R4380-5.2.6-04") ? 1 : 0;
    for (std::size_t i = 0; i < to(out, kPeerServer).size(); ++i) indirect.push_back(d.now);
  }
  expect_bubble_limits(indirect);
  // R4380-5.2.6-04/05: 4 at 0, 2, 4, 6 s; again once the window has passed.
  ASSERT_GE(indirect.size(), 8u);
  EXPECT_EQ(indirect[0], Time{0});
  EXPECT_EQ(indirect[3], Time{6s});
  EXPECT_EQ(indirect[4], Time{300s});
  EXPECT_TRUE(gave_up);
  EXPECT_GT(refused, 200u);
}

TEST(NodeClientPeer, PeerConeBitIsIgnoredUnlessConfigured) {
  const auto cone_peer = teredo_address(v4(203, 0, 113, 77), 0x8000, kPeerMapping);
  Qualified d;
  // R5991-3.2-02: treated as cone 0: bubbles, no data.
  Outbox out = d.tun(echo(client_teredo(), cone_peer));
  EXPECT_EQ(to(out, kPeerServer).size(), 1u) << dump(out);
  ClientConfig c = client_config();
  c.honour_cone_bit = true;
  Qualified legacy(c);
  const ByteVector packet = echo(client_teredo(), cone_peer);
  out = legacy.tun(packet);
  // R4380-5.2.4-05 (case 4): the packet itself, straight to the mapping.
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(packet));
}

class NodeClientNonGlobal : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(NodeClientNonGlobal, NothingIsSentToANonGlobalMappedIpv4) {
  const wire::Ipv4Address bad{GetParam()};
  for (bool honour : {false, true}) {
    ClientConfig c = client_config();
    c.honour_cone_bit = honour;
    Qualified d(c);
    for (std::uint16_t flags : {std::uint16_t{0}, std::uint16_t{0x8000}}) {
      const Outbox out = d.tun(echo(client_teredo(), teredo_address(kPrimary, flags, ep(bad, 5000))));
      // R4380-5.2.4-07/08: cases 4 and 5: silently discarded.
      EXPECT_TRUE(out.datagrams.empty()) << to_string(ep(bad, 5000)) << "\n" << dump(out);
      EXPECT_TRUE(has_drop(out, "drop_non_global_mapped_ipv4", "R4380-5.2.4-08")) << dump(out);
    }
  }
}
INSTANTIATE_TEST_SUITE_P(NodeClient, NodeClientNonGlobal,
                         ::testing::Values(v4(0, 1, 2, 3).value, v4(10, 0, 0, 1).value, v4(127, 0, 0, 1).value,
                                           v4(169, 254, 1, 1).value, v4(172, 16, 0, 1).value,
                                           v4(172, 31, 255, 254).value, v4(192, 168, 0, 1).value,
                                           v4(192, 88, 99, 1).value, v4(224, 0, 0, 1).value,
                                           v4(239, 255, 255, 250).value, v4(255, 255, 255, 255).value));

TEST(NodeClientPeer, NonGlobalServerInTheDestinationIsRefused) {
  Qualified d;
  const Outbox out = d.tun(echo(client_teredo(), teredo_address(v4(10, 0, 0, 1), 0, kPeerMapping)));
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "drop_non_global_server", "R4380-5.2.4-08")) << dump(out);
}

TEST(NodeClientPeer, EntriesAreValidFor30sAfterTheLastReception) {
  Qualified d;
  (void)d.receive(kPeerMapping, bubble(peer_v6(), client_teredo()));  // trusted at 0 s
  d.now = Time{29s};
  EXPECT_EQ(d.tun(echo(client_teredo(), peer_v6())).datagrams.size(), 1u);
  d.now = Time{31s};
  // R4380-5.2.4-01: nothing received for 30 s: bubbles again.
  const Outbox out = d.tun(echo(client_teredo(), peer_v6()));
  EXPECT_EQ(to(out, kPeerServer).size(), 1u) << dump(out);
}

TEST(NodeClientPeer, OtherMappingIsNotTrusted) {
  Qualified d;
  (void)d.receive(kPeerMapping, bubble(peer_v6(), client_teredo()));
  const UdpEndpoint other{kPeerMapping.address, 5001};
  // A bubble from elsewhere: RFC 6081 §5.2.4.4 drops it.
  EXPECT_TRUE(has_drop(d.receive(other, bubble(peer_v6(), client_teredo())), "drop_bubble_mapping_mismatch",
                       "R4380-5.2.3-14"));
  // Data from elsewhere: case 6, accepted but the entry is unchanged.
  const Outbox out = d.receive(other, echo(peer_v6(), client_teredo()));
  EXPECT_EQ(out.to_tunnel.size(), 1u) << dump(out);
  EXPECT_EQ(d.client.peers().find(peer_v6())->mapped, kPeerMapping);
  ClientConfig strict = client_config();
  strict.accept_unverified = false;
  Qualified s(strict);
  EXPECT_TRUE(has_drop(s.receive(other, echo(peer_v6(), client_teredo())), "drop_unverified", "R4380-5.2.3-14"));
}

TEST(NodeClientPeer, PacketsNotForOurAddressOrMalformedAreDropped) {
  Qualified d;
  const auto stranger = teredo_address(kPrimary, 0, ep(v4(198, 51, 100, 8), 40000));
  EXPECT_TRUE(has_drop(d.receive(kPeerMapping, echo(peer_v6(), stranger)), "drop_not_our_address", "R4380-5.2.3-02"));
  // R4380-5.2.3-01: IPv4 where IPv6 should be; an unknown encapsulation;
  // a payload length that runs past the datagram; trailing bytes.
  ByteVector v4packet = echo(peer_v6(), client_teredo());
  v4packet[0] = 0x45;
  EXPECT_TRUE(has_drop(d.receive(kPeerMapping, v4packet), "not_ipv6", "R4380-5.2.3-01"));
  EXPECT_TRUE(has_drop(d.receive(kPeerMapping, hex("0002 0000 0000 0000")), "unknown_encapsulation", "R4380-5.2.3-01"));
  ByteVector longer = echo(peer_v6(), client_teredo());
  longer[5] = static_cast<std::uint8_t>(longer[5] + 1);
  EXPECT_TRUE(has_drop(d.receive(kPeerMapping, longer), "truncated_ipv6_payload", "R4380-5.2.3-01"));
  const ByteVector trailing = concat({echo(peer_v6(), client_teredo()), hex("8100")});
  EXPECT_TRUE(has_drop(d.receive(kPeerMapping, trailing), "trailing_bytes_after_ipv6_packet", "R4380-5.2.3-01"));
}

TEST(NodeClientPeer, IndirectBubbleGetsADirectBubbleToItsOrigin) {
  Qualified d;
  Outbox out = d.receive(kPrimaryEp, concat({origin_of(kPeerMapping), bubble(peer_v6(), client_teredo())}));
  // R4380-5.2.3-15: a bubble back, directly, so our NAT opens to the peer.
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(bubble(client_teredo(), peer_v6())));
  EXPECT_TRUE(out.to_tunnel.empty());
  // A relay's bubble (native source, origin = the relay) likewise.
  out = d.receive(kPrimaryEp, concat({hex(kRelayOrigin), bubble(relay_v6(), client_teredo())}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kRelayEp);
  // R4380-5.2.6-03: a second indirect bubble within 2 s gets no answer.
  out = d.receive(kPrimaryEp, concat({origin_of(kPeerMapping), bubble(peer_v6(), client_teredo())}));
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "drop_bubble_rate_limited", "R4380-5.2.6-03")) << dump(out);
}

TEST(NodeClientPeer, LinkLocalSourceIsAnsweredOnlyForABubble) {
  Qualified d;
  // Miredo's relay bubbles from its TUN's link-local address: answered
  // with a direct bubble to the origin, like any indirect bubble.
  const wire::Ipv6Address relay_link_local = v6("fe80::bc9c:31c2:2fb3:7d1");
  Outbox out = d.receive(kPrimaryEp, concat({hex(kRelayOrigin), bubble(relay_link_local, client_teredo())}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kRelayEp);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(bubble(client_teredo(), relay_link_local)));
  EXPECT_TRUE(out.to_tunnel.empty());
  // Anything with a payload from a link-local source is still dropped.
  out = d.receive(kRelayEp, echo(v6("fe80::1"), client_teredo()));
  EXPECT_TRUE(has_drop(out, "drop_bad_ipv6_source", "")) << dump(out);
  EXPECT_TRUE(out.to_tunnel.empty());
  // And a bubble from a multicast or loopback source too.
  EXPECT_TRUE(has_drop(d.receive(kRelayEp, bubble(v6("ff02::1"), client_teredo())), "drop_bad_ipv6_source", ""));
  EXPECT_TRUE(has_drop(d.receive(kRelayEp, bubble(v6("::1"), client_teredo())), "drop_bad_ipv6_source", ""));
}

TEST(NodeClientPeer, PeerCacheStaysBoundedUnderAFlood) {
  ClientConfig c = client_config();
  c.peers.capacity = 64;
  Qualified d(c);
  std::size_t evicted = 0;
  // §7.3.3: thousands of distinct Teredo peers, each from its own mapping.
  for (std::uint32_t i = 0; i < 5000; ++i) {
    const UdpEndpoint mapping{wire::Ipv4Address{v4(203, 0, 113, 0).value + (i % 200)},
                              static_cast<std::uint16_t>(1024 + i)};
    const Outbox out = d.receive(mapping, bubble(teredo_address(kPrimary, 0, mapping), client_teredo()));
    evicted += events_with(out, "peer_evicted").size();
  }
  // R4380-5.2-06: bounded, least recently used out; a real peer still works.
  EXPECT_LE(d.client.peers().size(), 64u);
  EXPECT_EQ(evicted, 5000u - 64u);
  EXPECT_EQ(d.tun(echo(client_teredo(), peer_v6())).datagrams.size(), 2u);
  (void)d.receive(kPeerMapping, bubble(peer_v6(), client_teredo()));
  EXPECT_TRUE(d.client.peers().find(peer_v6())->trusted);
}

TEST(NodeClientPeer, Rfc6081TrailersWhenAccepted) {
  ClientConfig c = client_config();
  c.accept_trailers = true;
  Qualified d(c);
  (void)d.receive(kPeerMapping, bubble(peer_v6(), client_teredo()));
  const ByteVector data = echo(peer_v6(), client_teredo());
  // R6081-5.1.2-02: unknown type 01xxxxxx: drop; R6081-5.1.2-03: others are
  // skipped; R6081-5.1.2-04: a malformed trailer stops trailer processing.
  EXPECT_TRUE(has_drop(d.receive(kPeerMapping, concat({data, hex("4100")})), "drop_unknown_mandatory_trailer",
                       "R6081-5.1.2-02"));
  EXPECT_EQ(d.receive(kPeerMapping, concat({data, hex("8102 abcd")})).to_tunnel.size(), 1u);
  EXPECT_EQ(d.receive(kPeerMapping, concat({data, hex("0100")})).to_tunnel.size(), 1u);
  const Outbox out = d.receive(kPeerMapping, concat({data, hex("8105 01")}));
  EXPECT_EQ(out.to_tunnel.size(), 1u);
  EXPECT_TRUE(has_drop(out, "malformed_trailer", "R6081-5.1.2-04"));
}

}  // namespace
}  // namespace teredo::node::test
