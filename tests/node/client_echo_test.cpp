// RFC 4380 §5.2.9 direct IPv6 connectivity test (native destinations, §5.2.4
// case 2) and the §5.2.3 cases that start it or end it (server origin
// indication, case 2, case 6); cone clients' bubbles.
#include <gtest/gtest.h>

#include <set>

#include "client_fixture.hpp"

namespace teredo::node::test {
namespace {

struct Qualified : Driver {
  explicit Qualified(ClientConfig c = client_config()) : Driver(std::move(c)) { qualify(); }
};

// The echo data (the nonce) of an echo request the client sent, after
// checking the layout by hand: IPv6 payload 16, next header 58 (the hop
// limit is the client's choice), from our
// Teredo address to `dst`; ICMPv6 type 128 code 0, valid checksum.
ByteVector echo_nonce(const OutgoingDatagram& d, const wire::Ipv6Address& dst) {
  const ByteVector& p = d.payload;
  EXPECT_EQ(p.size(), 40u + 16u);
  if (p.size() != 56) return {};
  EXPECT_EQ(hexstr(Bytes(p).first(7)), "6000000000103a");
  EXPECT_EQ(hexstr(Bytes(p).subspan(8, 16)), hexstr(client_teredo().bytes));
  EXPECT_EQ(hexstr(Bytes(p).subspan(24, 16)), hexstr(dst.bytes));
  EXPECT_EQ(p[40], 128);
  EXPECT_EQ(p[41], 0);
  EXPECT_EQ(icmpv6_sum(p), 0);
  return ByteVector(p.begin() + 48, p.end());
}

// An echo reply from `src` carrying `data`, by hand.
ByteVector echo_reply(const wire::Ipv6Address& src, Bytes data) {
  ByteVector r = concat({hex("6000 0000 0010 3a40"), src.bytes, client_teredo().bytes, hex("8100 0000 1234 0001"), data});
  fix_icmpv6_checksum(r);
  return r;
}

TEST(NodeClientEcho, NativeDestinationGetsAnEchoTestThroughTheServer) {
  Qualified d;
  const Outbox out = d.tun(echo(client_teredo(), native_host()));
  // R4380-5.2.4-03: queued; R4380-5.2.9-01: an echo request to the native
  // node, through the server's address and the Teredo port.
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPrimaryEp);
  EXPECT_EQ(out.datagrams[0].from, kClient);
  EXPECT_EQ(echo_nonce(out.datagrams[0], native_host()).size(), 8u);  // R4380-5.2.9-02: 64 bits
  EXPECT_EQ(d.client.peers().find(native_host())->queue.size(), 1u);
  EXPECT_TRUE(out.to_tunnel.empty());
}

TEST(NodeClientEcho, RepeatedEvery2sWithTheSameNonceThenAbandoned) {
  Qualified d;
  const ByteVector nonce = echo_nonce(d.tun(echo(client_teredo(), native_host())).datagrams.at(0), native_host());
  for (int s : {2, 4, 6}) {
    const Outbox out = d.at(Time{std::chrono::seconds{s}});
    ASSERT_EQ(to(out, kPrimaryEp).size(), 1u) << s << "\n" << dump(out);
    EXPECT_EQ(hexstr(echo_nonce(to(out, kPrimaryEp)[0], native_host())), hexstr(nonce));
  }
  // R4380-5.2.4-03: repeated up to 3 times: after the 4th, the test failed.
  Outbox out = d.at(Time{8s});
  EXPECT_TRUE(out.datagrams.empty());
  const auto gave_up = events_with(out, "peer_unreachable");
  ASSERT_EQ(gave_up.size(), 1u) << dump(out);
  EXPECT_EQ(gave_up[0].requirement, "R4380-5.2.4-03");
  EXPECT_TRUE(d.client.peers().find(native_host())->queue.empty());
  EXPECT_TRUE(d.at(Time{20s}).datagrams.empty());
}

TEST(NodeClientEcho, NoncesAreFreshPerDestination) {
  Qualified d;
  std::set<std::string> nonces;
  for (std::uint8_t i = 1; i <= 16; ++i) {
    wire::Ipv6Address dst = native_host();
    dst.bytes[15] = i;
    const Outbox out = d.tun(echo(client_teredo(), dst));
    nonces.insert(hexstr(echo_nonce(out.datagrams.at(0), dst)));
  }
  EXPECT_EQ(nonces.size(), 16u);  // R4380-5.2.9-02: no repeats
}

TEST(NodeClientEcho, ReplyWithTheNonceTrustsTheRelayAndFlushesTheQueue) {
  Qualified d;
  const ByteVector ping = echo(client_teredo(), native_host(), 8, 1);
  const ByteVector nonce = echo_nonce(d.tun(ping).datagrams.at(0), native_host());
  d.now = Time{300ms};
  Outbox out = d.receive(kRelayEp, echo_reply(native_host(), nonce));
  // R4380-5.2.3-06: trusted at the relay's address and port; the queue goes
  // there; the test's reply is consumed.
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kRelayEp);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(ping));
  EXPECT_TRUE(out.to_tunnel.empty());
  const Peer* p = d.client.peers().find(native_host());
  EXPECT_TRUE(p->trusted);
  EXPECT_EQ(p->mapped, kRelayEp);
  // Case 1 from now on, in both directions.
  out = d.tun(echo(client_teredo(), native_host(), 8, 2));
  ASSERT_EQ(out.datagrams.size(), 1u);
  EXPECT_EQ(out.datagrams[0].to, kRelayEp);
  out = d.receive(kRelayEp, echo(native_host(), client_teredo(), 8, 3));
  EXPECT_EQ(out.to_tunnel.size(), 1u);
}

TEST(NodeClientEcho, WrongNonceOrBadChecksumTrustsNothing) {
  Qualified d;
  const ByteVector nonce = echo_nonce(d.tun(echo(client_teredo(), native_host())).datagrams.at(0), native_host());
  ByteVector wrong = nonce;
  wrong[0] ^= 0x01;
  Outbox out = d.receive(kRelayEp, echo_reply(native_host(), wrong));
  EXPECT_TRUE(to(out, kRelayEp).empty()) << dump(out);
  ByteVector corrupt = echo_reply(native_host(), nonce);
  corrupt[43] ^= 0x01;
  out = d.receive(kRelayEp, corrupt);
  EXPECT_TRUE(to(out, kRelayEp).empty()) << dump(out);
  EXPECT_FALSE(d.client.peers().find(native_host())->trusted);
  EXPECT_EQ(d.client.peers().find(native_host())->queue.size(), 1u);
}

TEST(NodeClientEcho, NativePacketFromTheServerWithOriginStartsATest) {
  Qualified d;
  const ByteVector packet = echo(native_host(), client_teredo());
  const Outbox out = d.receive(kPrimaryEp, concat({hex(kRelayOrigin), packet}));
  // Delivered; R4380-5.2.3-04: the direct IPv6 connectivity test for the
  // native source (rather than a bubble to the origin: both within 2 s
  // would break R4380-5.2.6-03).
  ASSERT_EQ(out.to_tunnel.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(out.to_tunnel[0]), hexstr(packet));
  EXPECT_TRUE(to(out, kRelayEp).empty());
  const auto tests = to(out, kPrimaryEp);
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(echo_nonce(tests[0], native_host()).size(), 8u);
}

TEST(NodeClientEcho, PacketFromAnUnknownRelayIsAcceptedAfterStartingATest) {
  Qualified d;
  Outbox out = d.receive(kRelayEp, echo(native_host(), client_teredo(), 8, 1));
  // R4380-5.2.3-14 (case 6): accepted, and a test for the source.
  EXPECT_EQ(out.to_tunnel.size(), 1u) << dump(out);
  ASSERT_EQ(to(out, kPrimaryEp).size(), 1u);
  const ByteVector nonce = echo_nonce(to(out, kPrimaryEp)[0], native_host());
  out = d.receive(kRelayEp, echo(native_host(), client_teredo(), 8, 2));
  EXPECT_TRUE(out.datagrams.empty()) << "one test at a time";
  out = d.receive(kRelayEp, echo_reply(native_host(), nonce));
  EXPECT_TRUE(d.client.peers().find(native_host())->trusted) << dump(out);
}

TEST(NodeClientEcho, ConeClientSendsOnlyTheIndirectBubbleUnlessConfigured) {
  const auto peer = teredo_address(v4(203, 0, 113, 77), 0, ep(v4(203, 0, 113, 5), 5000));
  ClientConfig c = client_config();
  c.use_rfc4380_qualification();
  Driver cone(c);
  (void)cone.receive(kSecondaryEp, make_ra(parse_rs(cone.start().datagrams.at(0))));
  ASSERT_EQ(cone.client.nat_type(), NatType::cone);
  const auto cone_v6 = v6("2001:0:c000:22d:8000:63bf:39cc:9bf8");
  // R4380-5.2.4-06: no direct bubble behind a cone NAT ...
  Outbox out = cone.tun(echo(cone_v6, peer));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, ep(v4(203, 0, 113, 77), 3544));
  // ... R4380-5.2.4-10: unless always asked for.
  c.always_direct_bubble = true;
  Driver both(c);
  (void)both.receive(kSecondaryEp, make_ra(parse_rs(both.start().datagrams.at(0))));
  out = both.tun(echo(cone_v6, peer));
  EXPECT_EQ(out.datagrams.size(), 2u) << dump(out);
}

}  // namespace
}  // namespace teredo::node::test
