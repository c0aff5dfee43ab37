// ICMPv6 view and checksum (RFC 4443 §2.3, RFC 8200 §8.1), echo, bubbles.
#include <gtest/gtest.h>

#include "captures.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/nd.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::hex;
using test::hexstr;
using test::v6;
namespace cap = test::captures;

// The IPv6 packet of a captured frame: after Ethernet, IPv4, UDP and `skip`
// bytes of Teredo encapsulation.
ByteVector ipv6_of(std::string_view frame, std::size_t skip) {
  const ByteVector f = hex(frame);
  return ByteVector(f.begin() + static_cast<std::ptrdiff_t>(cap::kEthIpv4UdpHeaders + skip),
                    f.end());
}
ByteVector captured_rs() { return ipv6_of(cap::kNdpiFrame1, 13); }    // after auth
ByteVector captured_ra() { return ipv6_of(cap::kNdpiFrame2, 21); }    // after auth + origin
ByteVector captured_echo() { return ipv6_of(cap::kNdpiFrame9, 0); }
ByteVector captured_bubble() { return ipv6_of(cap::kNdpiFrame16, 0); }

Result<Icmpv6Message> icmp(const ByteVector& packet,
                           ChecksumPolicy policy = ChecksumPolicy::verify) {
  const auto p = parse_ipv6_packet(packet);
  if (!p) return p.error();
  return parse_icmpv6(*p, policy);
}

TEST(Icmpv6, CapturedRouterSolicitationChecksumVerifies) {
  const ByteVector rs = captured_rs();
  ASSERT_EQ(rs.size(), 48u);
  const auto p = parse_ipv6_packet(rs);
  ASSERT_TRUE(p.ok());
  const auto m = parse_icmpv6(*p);
  ASSERT_TRUE(m.ok()) << to_string(m.error());
  EXPECT_EQ(m->type, 133);
  EXPECT_EQ(m->code, 0);
  EXPECT_EQ(m->checksum, 0x7d38);  // tshark: 0x7d38 [correct]
  EXPECT_EQ(hexstr(m->body), "00000000");
  EXPECT_EQ(m->message.size(), 8u);
  EXPECT_EQ(icmpv6_checksum(p->header.source, p->header.destination, m->message), 0x7d38);
}

TEST(Icmpv6, CapturedRouterAdvertisementChecksumVerifies) {
  const ByteVector ra = captured_ra();
  ASSERT_EQ(ra.size(), 88u);
  const auto p = parse_ipv6_packet(ra);
  ASSERT_TRUE(p.ok());
  const auto m = parse_icmpv6(*p);
  ASSERT_TRUE(m.ok()) << to_string(m.error());
  EXPECT_EQ(m->type, 134);
  EXPECT_EQ(m->checksum, 0x649d);  // tshark: 0x649d [correct]
  EXPECT_EQ(icmpv6_checksum(p->header.source, p->header.destination, m->message), 0x649d);
}

TEST(Icmpv6, CapturedEchoRequestMatchesTshark) {
  const ByteVector echo = captured_echo();
  const auto p = parse_ipv6_packet(echo);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->header.hop_limit, 21);
  const auto m = parse_icmpv6(*p);
  ASSERT_TRUE(m.ok()) << to_string(m.error());
  EXPECT_EQ(m->type, 128);
  EXPECT_EQ(m->checksum, 0xeb08);
  const auto e = parse_echo(*m);
  ASSERT_TRUE(e.ok()) << to_string(e.error());
  EXPECT_FALSE(e->reply);
  EXPECT_EQ(e->identifier, 0x28f0);
  EXPECT_EQ(e->sequence, 45679);
  EXPECT_EQ(hexstr(e->data), "00000000");
}

// Every single-byte change of the checksummed bytes (pseudo-header addresses
// and the ICMPv6 message) must be caught.
TEST(Icmpv6, FlippingAnyCoveredByteBreaksTheChecksum) {
  for (const ByteVector& packet : {captured_rs(), captured_ra(), captured_echo()}) {
    ASSERT_TRUE(icmp(packet).ok());
    for (std::size_t i = 8; i < packet.size(); ++i) {
      ByteVector bad = packet;
      bad[i] ^= 0xFF;
      EXPECT_EQ(icmp(bad).error(), ParseError::bad_icmpv6_checksum) << "byte " << i;
      EXPECT_TRUE(icmp(bad, ChecksumPolicy::ignore).ok()) << "byte " << i;
    }
  }
}

TEST(Icmpv6, OneFlippedBitInTheCapturedRaIsBadChecksum) {
  ByteVector ra = captured_ra();
  ra[40 + 16] ^= 0x01;  // reachable time, inside the RA body
  EXPECT_EQ(icmp(ra).error(), ParseError::bad_icmpv6_checksum);
  const auto m = icmp(ra, ChecksumPolicy::ignore);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->checksum, 0x649d);
}

TEST(Icmpv6, HopLimitAndFlowAreNotCovered) {
  ByteVector rs = captured_rs();
  rs[7] = 1;     // hop limit
  rs[3] = 0x42;  // flow label
  EXPECT_TRUE(icmp(rs).ok());
}

TEST(Icmpv6, ChecksumOfOddLengthMessage) {
  // Echo request 2001:db8::1 -> 2001:db8::2, id 0x1234, seq 1, data "abc".
  // The checksum 0x4dad was computed with an independent RFC 1071 routine
  // (Python) over the pseudo-header and the message zero-padded to even length.
  const ByteVector packet = build_echo(v6("2001:db8::1"), v6("2001:db8::2"), 64,
                                       EchoMessage{false, 0x1234, 1, hex("616263")});
  ASSERT_EQ(packet.size(), 40u + 11);
  EXPECT_EQ(hexstr(Bytes(packet).subspan(40)), "80004dad12340001616263");
  const auto m = icmp(packet);
  ASSERT_TRUE(m.ok()) << to_string(m.error());
  EXPECT_EQ(m->checksum, 0x4dad);
}

TEST(Icmpv6, BuildersReproduceCapturedPacketsExactly) {
  // Router solicitation with no options, as in ndpi-teredo.pcap frame 1.
  EXPECT_EQ(hexstr(build_router_solicitation(v6("fe80::ffff:ffff:fffe"), v6("ff02::2"), {})),
            hexstr(captured_rs()));
  // Echo request, ndpi-teredo.pcap frame 9.
  EXPECT_EQ(hexstr(build_echo(v6("2001:0:c288:1c4c:20f3:359b:46f9:3f46"),
                              v6("2002:c288:1c4c::c288:1c4d"), 21,
                              EchoMessage{false, 0x28f0, 45679, hex("00000000")})),
            hexstr(captured_echo()));
  // Bubble, ndpi-teredo.pcap frame 16.
  EXPECT_EQ(hexstr(build_bubble(v6("2001:0:c288:1c4c:20f3:359b:46f9:3f46"),
                                v6("fe80::8000:f227:3d77:e3b3"), 21)),
            hexstr(captured_bubble()));
}

TEST(Icmpv6, GenericBuilderWritesTypeCodeAndChecksum) {
  const ByteVector body = hex("00000000");
  const ByteVector p = build_icmpv6_packet(v6("fe80::ffff:ffff:fffe"), v6("ff02::2"), 255,
                                           kIcmpv6RouterSolicitation, 0, body);
  EXPECT_EQ(hexstr(p), hexstr(captured_rs()));
}

TEST(Icmpv6, ChecksumIgnoresTheChecksumField) {
  ByteVector rs = captured_rs();
  rs[42] = 0x12;
  rs[43] = 0x34;
  EXPECT_EQ(icmpv6_checksum(v6("fe80::ffff:ffff:fffe"), v6("ff02::2"), Bytes(rs).subspan(40)),
            0x7d38);
}

TEST(Echo, RequestAndReplyRoundTrip) {
  for (bool reply : {false, true}) {
    const ByteVector data = hex("deadbeef00");
    const ByteVector p = build_echo(v6("2001:db8::a"), v6("2001:0:4136:e378:8000:63bf:3fff:fdd2"),
                                    33, EchoMessage{reply, 0xBEEF, 0xFFFF, data});
    const auto packet = parse_ipv6_packet(p);
    ASSERT_TRUE(packet.ok());
    EXPECT_EQ(packet->header.hop_limit, 33);
    EXPECT_EQ(packet->header.next_header, 58);
    const auto m = parse_icmpv6(*packet);
    ASSERT_TRUE(m.ok()) << to_string(m.error());
    EXPECT_EQ(m->type, reply ? 129 : 128);
    EXPECT_EQ(m->code, 0);
    const auto e = parse_echo(*m);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->reply, reply);
    EXPECT_EQ(e->identifier, 0xBEEF);
    EXPECT_EQ(e->sequence, 0xFFFF);
    EXPECT_EQ(hexstr(e->data), "deadbeef00");
    // parse -> rebuild is the identity.
    EXPECT_EQ(hexstr(build_echo(packet->header.source, packet->header.destination,
                                packet->header.hop_limit, *e)),
              hexstr(p));
  }
}

TEST(Echo, EmptyDataIsAllowed) {
  const ByteVector p = build_echo(v6("::1"), v6("::2"), 1, EchoMessage{true, 1, 2, {}});
  const auto m = icmp(p);
  ASSERT_TRUE(m.ok());
  const auto e = parse_echo(*m);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->data.empty());
}

TEST(Echo, Errors) {
  const ByteVector rs_packet = captured_rs();
  const auto rs = icmp(rs_packet);
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(parse_echo(*rs).error(), ParseError::wrong_icmpv6_type);
  const ByteVector short_echo =
      build_icmpv6_packet(v6("::1"), v6("::2"), 64, kIcmpv6EchoRequest, 0, hex("123456"));
  const auto m = icmp(short_echo);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(parse_echo(*m).error(), ParseError::truncated_echo);
  Icmpv6Message empty_reply;
  empty_reply.type = kIcmpv6EchoReply;
  EXPECT_EQ(parse_echo(empty_reply).error(), ParseError::truncated_echo);
}

TEST(Icmpv6, Errors) {
  // A bubble carries no ICMPv6 (next header 59).
  EXPECT_EQ(icmp(captured_bubble()).error(), ParseError::not_icmpv6);
  // Next header 58 but fewer than 4 payload bytes.
  Ipv6Header h;
  h.next_header = kNextHeaderIcmpv6;
  for (std::size_t n = 0; n < 4; ++n) {
    const ByteVector p = build_ipv6_packet(h, ByteVector(n, 0));
    EXPECT_EQ(icmp(p).error(), ParseError::truncated_icmpv6) << n;
    EXPECT_EQ(icmp(p, ChecksumPolicy::ignore).error(), ParseError::truncated_icmpv6) << n;
  }
  // An extension header before ICMPv6 is not_icmpv6 (hop-by-hop, 0).
  h.next_header = 0;
  EXPECT_EQ(icmp(build_ipv6_packet(h, hex("3a00010400000000 80000000"))).error(),
            ParseError::not_icmpv6);
}

TEST(Bubble, CapturedBubblesAreBubbles) {
  const ByteVector bubble = captured_bubble();
  const auto p = parse_ipv6_packet(bubble);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(is_bubble(*p));
  EXPECT_EQ(p->header.next_header, 59);
  EXPECT_EQ(p->header.payload_length, 0);
}

TEST(Bubble, BuildWritesExactBytes) {
  EXPECT_EQ(hexstr(build_bubble(v6("2001:db8::1"), v6("2001:db8::2"))),
            "6000000000003bff"
            "20010db8000000000000000000000001"
            "20010db8000000000000000000000002");
}

TEST(Bubble, BuildThenParseThenRebuild) {
  const Ipv6Address src = v6("2001:0:4136:e378:8000:63bf:3fff:fdd2");
  const Ipv6Address dst = v6("2001:0:c288:1c4c:20f3:359b:46f9:3f46");
  const ByteVector bubble = build_bubble(src, dst, 21);
  const auto p = parse_ipv6_packet(bubble);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(is_bubble(*p));
  EXPECT_EQ(p->header.source, src);
  EXPECT_EQ(p->header.destination, dst);
  EXPECT_EQ(p->header.hop_limit, 21);
  EXPECT_EQ(p->header.traffic_class, 0);
  EXPECT_EQ(p->header.flow_label, 0u);
  EXPECT_TRUE(p->payload.empty());
  EXPECT_EQ(hexstr(build_bubble(p->header.source, p->header.destination, p->header.hop_limit)),
            hexstr(bubble));
}

TEST(Bubble, NonBubbles) {
  const ByteVector echo_packet = captured_echo();
  const auto echo = parse_ipv6_packet(echo_packet);
  ASSERT_TRUE(echo.ok());
  EXPECT_FALSE(is_bubble(*echo));
  // Next header 59 with a non-empty payload is not a bubble.
  Ipv6Header h;
  h.next_header = kNextHeaderNone;
  const ByteVector with_payload = build_ipv6_packet(h, hex("31323334"));
  const auto p = parse_ipv6_packet(with_payload);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(is_bubble(*p));
  // Bytes after a zero-length packet (RFC 6081 trailers) leave it a bubble.
  ByteVector trailer = captured_bubble();
  trailer.insert(trailer.end(), {'1', '2', '3', '4'});
  const auto t = parse_ipv6_packet(trailer);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(is_bubble(*t));
  EXPECT_EQ(hexstr(t->trailer), "31323334");
}

}  // namespace
}  // namespace teredo::wire
