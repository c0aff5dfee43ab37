// RFC 6081 §5.2 Symmetric NAT Support Extension (off by default): nonce
// trailers (§4.2: type 0x01, length 4) on indirect bubbles, echoed in direct
// bubbles, and direct bubbles from an unexpected mapping accepted on them.
#include <gtest/gtest.h>

#include "client_fixture.hpp"

namespace teredo::node::test {
namespace {

constexpr UdpEndpoint kPeerMapping{v4(203, 0, 113, 5), 5000};
constexpr UdpEndpoint kPeerServer{v4(203, 0, 113, 77), 3544};
constexpr UdpEndpoint kPeerElsewhere{v4(203, 0, 113, 5), 6000};  // its symmetric NAT's other port
wire::Ipv6Address peer_v6() { return v6("2001:0:cb00:714d:0:ec77:34ff:8efa"); }

struct Symmetric : Driver {
  Symmetric() : Driver([] {
    ClientConfig c = client_config();
    c.symmetric_nat_support = true;
    return c;
  }()) {
    qualify();
  }
};

TEST(NodeClientSymmetric, IndirectBubblesCarryANonceDirectOnesDoNotYet) {
  Symmetric d;
  const Outbox out = d.tun(echo(client_teredo(), peer_v6()));
  // RFC 6081 §5.2.4.1: a random 4-byte nonce in a nonce trailer.
  const auto indirect = to(out, kPeerServer);
  ASSERT_EQ(indirect.size(), 1u) << dump(out);
  const ByteVector plain = bubble(client_teredo(), peer_v6());
  ASSERT_EQ(indirect[0].payload.size(), plain.size() + 6);
  EXPECT_EQ(hexstr(Bytes(indirect[0].payload).first(plain.size())), hexstr(plain));
  EXPECT_EQ(hexstr(Bytes(indirect[0].payload).subspan(plain.size(), 2)), "0104");
  EXPECT_EQ(d.client.peers().find(peer_v6())->nonce_sent,
            (std::uint32_t{indirect[0].payload[42]} << 24) | (std::uint32_t{indirect[0].payload[43]} << 16) |
                (std::uint32_t{indirect[0].payload[44]} << 8) | indirect[0].payload[45]);
  // RFC 6081 §5.2.4.2: no nonce received yet: no trailer on the direct bubble.
  const auto direct = to(out, kPeerMapping);
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_EQ(hexstr(direct[0].payload), hexstr(plain));
}

TEST(NodeClientSymmetric, DirectBubbleFromElsewhereIsAcceptedOnlyWithOurNonce) {
  Symmetric d;
  const ByteVector ping = echo(client_teredo(), peer_v6());
  const Outbox first = d.tun(ping);
  const ByteVector indirect = to(first, kPeerServer).at(0).payload;
  const ByteVector trailer(indirect.end() - 6, indirect.end());
  ByteVector wrong = trailer;
  wrong[5] ^= 0x01;
  // RFC 6081 §5.2.4.4: neither the embedded mapping nor our nonce: dropped.
  Outbox out = d.receive(kPeerElsewhere, concat({bubble(peer_v6(), client_teredo()), wrong}));
  EXPECT_TRUE(has_drop(out, "drop_bubble_mapping_mismatch", "R4380-5.2.3-14")) << dump(out);
  out = d.receive(kPeerElsewhere, bubble(peer_v6(), client_teredo()));
  EXPECT_TRUE(out.datagrams.empty());
  // With the nonce: accepted, and the mapping it came from is recorded.
  out = d.receive(kPeerElsewhere, concat({bubble(peer_v6(), client_teredo()), trailer}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerElsewhere);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(ping));
  EXPECT_EQ(d.client.peers().find(peer_v6())->mapped, kPeerElsewhere);
}

TEST(NodeClientSymmetric, TheNonceOfAnIndirectBubbleIsEchoedInTheDirectOne) {
  Symmetric d;
  const ByteVector indirect = bubble(peer_v6(), client_teredo());
  Outbox out = d.receive(kPrimaryEp, concat({origin_of(kPeerMapping), indirect, hex("0104 dead beef")}));
  // RFC 6081 §5.2.4.3 stores it; §5.2.4.2 echoes it.
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(concat({bubble(client_teredo(), peer_v6()), hex("0104 deadbeef")})));
  // A later indirect bubble without a nonce clears it (SHOULD).
  d.now = Time{3s};
  out = d.receive(kPrimaryEp, concat({origin_of(kPeerMapping), indirect}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(bubble(client_teredo(), peer_v6())));
}

}  // namespace
}  // namespace teredo::node::test
