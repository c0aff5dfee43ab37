// RFC 6081 §5.7 Server Load Reduction Extension (off by default): an idle
// trusted peer is solicited with direct bubbles carrying a Neighbor
// Discovery Option Trailer (§4.4: type 0x04, length 4, DiscoveryType,
// 3 reserved zero bytes), every 2 s, three times, then the indirect bubble;
// a solicitation received is answered with an advertisement.
#include <gtest/gtest.h>

#include "client_fixture.hpp"

namespace teredo::node::test {
namespace {

constexpr UdpEndpoint kPeerMapping{v4(203, 0, 113, 5), 5000};
constexpr UdpEndpoint kPeerServer{v4(203, 0, 113, 77), 3544};
constexpr UdpEndpoint kElsewhere{v4(203, 0, 113, 6), 7000};
wire::Ipv6Address peer_v6() { return v6("2001:0:cb00:714d:0:ec77:34ff:8efa"); }

const char* const kSolicitation = "0404 00 000000";
const char* const kAdvertisement = "0404 01 000000";

struct LoadReduction : Driver {
  explicit LoadReduction(bool on = true) : Driver([on] {
    ClientConfig c = client_config();
    c.server_load_reduction = on;
    c.accept_trailers = true;
    c.timers.refresh_interval = 600s;  // no refresh RS within the test's minute
    return c;
  }()) {
    qualify();
    // Communication established at 0 s: our packet, the peer's direct
    // bubble from its mapping, the packet released to it.
    (void)tun(echo(client_teredo(), peer_v6()));
    const Outbox out = receive(kPeerMapping, bubble(peer_v6(), client_teredo()));
    EXPECT_EQ(to(out, kPeerMapping).size(), 1u) << dump(out);
  }
  ByteVector nd(const char* trailer) const { return concat({bubble(client_teredo(), peer_v6()), hex(trailer)}); }
};

TEST(NodeClientLoadReduction, AnIdlePeerIsSolicitedDirectlyNotThroughItsServer) {
  LoadReduction d;
  d.now = Time{31s};
  const Outbox out = d.tun(echo(client_teredo(), peer_v6(), 9));
  // R6081-5.7.4.1-01/02, R6081-4.4-01..04: nothing in 30 s: one direct bubble
  // to the peer's mapping with a TeredoDiscoverySolicitation; no indirect one.
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(d.nd(kSolicitation)));
  // R6081-5.7.4.1-03/04: count 1, the retransmission timer at +2 s.
  EXPECT_EQ(d.client.peers().find(peer_v6())->solicitations, 1u);
  EXPECT_EQ(d.client.next_timeout(), Time{33s});
}

TEST(NodeClientLoadReduction, WithinThirtySecondsOfAnExchangeNoSolicitation) {
  LoadReduction d;
  // 20 s after the last reception: RFC 4380 case 1, straight to the peer.
  d.now = Time{20s};
  Outbox out = d.tun(echo(client_teredo(), peer_v6(), 9));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(echo(client_teredo(), peer_v6(), 9)));
  // 40 s after the last reception but 20 s after our last packet: data was
  // exchanged "in either direction" (R6081-5.7.4.1-01): RFC 4380 processing,
  // the indirect bubble, no solicitation.
  d.now = Time{40s};
  out = d.tun(echo(client_teredo(), peer_v6(), 10));
  EXPECT_EQ(to(out, kPeerServer).size(), 1u) << dump(out);
  for (const auto& sent : out.datagrams) EXPECT_NE(hexstr(sent.payload), hexstr(d.nd(kSolicitation)));
}

TEST(NodeClientLoadReduction, ThreeSolicitationsTwoSecondsApartThenTheIndirectBubble) {
  LoadReduction d;
  d.now = Time{31s};
  (void)d.tun(echo(client_teredo(), peer_v6(), 9));
  EXPECT_TRUE(d.at(Time{32s}).datagrams.empty());
  // R6081-5.7.2-01/02: the timer expires: the second, and again in 2 s.
  Outbox out = d.at(Time{33s});
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(d.nd(kSolicitation)));
  EXPECT_EQ(d.client.next_timeout(), Time{35s});
  // R6081-5.7.2-01/03: the third, and the count is three: the indirect
  // bubble to the peer's server, as if nothing had been established.
  out = d.at(Time{35s});
  const auto direct = to(out, kPeerMapping);
  ASSERT_FALSE(direct.empty()) << dump(out);
  EXPECT_EQ(hexstr(direct[0].payload), hexstr(d.nd(kSolicitation)));
  const auto indirect = to(out, kPeerServer);
  ASSERT_EQ(indirect.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(indirect[0].payload), hexstr(bubble(client_teredo(), peer_v6())));
  EXPECT_FALSE(d.client.peers().find(peer_v6())->trusted);
  // No fourth solicitation: RFC 4380's bubbles from here on.
  out = d.at(Time{37s});
  for (const auto& sent : out.datagrams) EXPECT_NE(hexstr(sent.payload), hexstr(d.nd(kSolicitation)));
}

TEST(NodeClientLoadReduction, AnAdvertisementEndsTheSolicitationsAndReleasesThePacket) {
  LoadReduction d;
  d.now = Time{31s};
  const ByteVector ping = echo(client_teredo(), peer_v6(), 9);
  (void)d.tun(ping);
  d.now = Time{32s};
  const Outbox out =
      d.receive(kPeerMapping, concat({bubble(peer_v6(), client_teredo()), hex(kAdvertisement)}));
  const auto sent = to(out, kPeerMapping);
  ASSERT_EQ(sent.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(sent[0].payload), hexstr(ping));
  EXPECT_EQ(d.client.peers().find(peer_v6())->solicitations, 0u);
  EXPECT_TRUE(d.at(Time{33s}).datagrams.empty());
}

TEST(NodeClientLoadReduction, ASolicitationIsAnsweredWithAnAdvertisement) {
  LoadReduction d;
  d.now = Time{1s};
  // R6081-5.7.4.2-01, R6081-4.4-01..04: type 0x04, length 4, DiscoveryType 1.
  Outbox out = d.receive(kPeerMapping, concat({bubble(peer_v6(), client_teredo()), hex(kSolicitation)}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(d.nd(kAdvertisement)));
  // An advertisement is not answered.
  out = d.receive(kPeerMapping, concat({bubble(peer_v6(), client_teredo()), hex(kAdvertisement)}));
  EXPECT_TRUE(out.datagrams.empty()) << dump(out);
  // A solicitation in a bubble the §5.2.3 rules drop (from neither the
  // peer's mapping nor with a nonce) is not answered either.
  out = d.receive(kElsewhere, concat({bubble(peer_v6(), client_teredo()), hex(kSolicitation)}));
  EXPECT_TRUE(out.datagrams.empty()) << dump(out);
}

TEST(NodeClientLoadReduction, WithoutTheExtensionNeitherSolicitedNorAnswered) {
  LoadReduction d(false);
  d.now = Time{31s};
  Outbox out = d.tun(echo(client_teredo(), peer_v6(), 9));
  EXPECT_EQ(to(out, kPeerServer).size(), 1u) << dump(out);
  for (const auto& sent : out.datagrams) EXPECT_NE(hexstr(sent.payload), hexstr(d.nd(kSolicitation)));
  d.now = Time{40s};
  out = d.receive(kPeerMapping, concat({bubble(peer_v6(), client_teredo()), hex(kSolicitation)}));
  for (const auto& sent : out.datagrams) EXPECT_NE(hexstr(sent.payload), hexstr(d.nd(kAdvertisement)));
}

}  // namespace
}  // namespace teredo::node::test
