// RFC 4380 §5.3.1: acceptance checks and forwarding at the reference server.
#include <gtest/gtest.h>

#include "server_fixture.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/teredo_address.hpp"

namespace teredo::node::test {
namespace {

// Client A is kClient (2001:0:c000:22d:0:63bf:39cc:9bf8). Client B, also
// ours, is mapped to 203.0.113.20:50000: ~c350 = 3caf, ~cb007114 = 34ff8eeb.
constexpr UdpEndpoint kClientB{v4(203, 0, 113, 20), 50000};
wire::Ipv6Address client_b() { return v6("2001:0:c000:22d:0:3caf:34ff:8eeb"); }
// Client C uses another server (198.51.100.200) and 203.0.113.30:50001.
constexpr UdpEndpoint kClientC{v4(203, 0, 113, 30), 50001};
wire::Ipv6Address client_c() { return v6("2001:0:c633:64c8:0:3cae:34ff:8ee1"); }
// A relay with a native address, at 203.0.113.10:3544.
constexpr UdpEndpoint kRelay{v4(203, 0, 113, 10), 3544};

const char* const kOriginA = "0000 63bf 39cc 9bf8";      // 198.51.100.7:40000
const char* const kOriginRelay = "0000 f227 34ff 8ef5";  // 203.0.113.10:3544

ByteVector bubble(const wire::Ipv6Address& src, const wire::Ipv6Address& dst) {
  return wire::build_bubble(src, dst);
}

ByteVector echo_request(const wire::Ipv6Address& src, const wire::Ipv6Address& dst, std::size_t data) {
  wire::EchoMessage echo;
  echo.identifier = 0x1234;
  echo.sequence = 7;
  const ByteVector bytes(data, 0xab);
  echo.data = bytes;
  return wire::build_echo(src, dst, 64, echo);
}

wire::Ipv6Address teredo_of(wire::Ipv4Address server, UdpEndpoint mapped) {
  wire::TeredoAddress t;
  t.server = server;
  t.mapped_ipv4 = mapped.address;
  t.mapped_port = mapped.port;
  return t.to_ipv6();
}

TEST(NodeServerForward, IndirectBubbleReachesOurClientWithOrigin) {
  Server server(server_config());
  const ByteVector b = bubble(client_teredo(), client_b());
  const auto out = deliver(server, kPrimaryEp, kClient, b);
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  // R4380-5.3.1-07 accepted; R4380-5.3.1-15 from the server address and
  // port 3544 to the mapping in the destination; R4380-5.3.1-16 origin of A.
  EXPECT_EQ(out.datagrams[0].from, kPrimaryEp);
  EXPECT_EQ(out.datagrams[0].to, kClientB);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(concat({hex(kOriginA), b})));
}

TEST(NodeServerForward, IndirectBubbleKeepsItsRfc6081TrailersWhenTheServerAcceptsThem) {
  auto config = server_config();
  config.accept_trailers = true;
  Server server(config);
  const ByteVector b = bubble(client_teredo(), client_b());
  // A Nonce Trailer then an Alternate Address Trailer (192.168.1.10:40000).
  const ByteVector trailers = hex("01 04 5ca1ab1e 03 08 0000 c0a8010a 9c40");
  const auto out = deliver(server, kPrimaryEp, kClient, concat({b, trailers}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(concat({hex(kOriginA), b, trailers})));
}

TEST(NodeServerForward, PacketsReceivedOnTheSecondaryAreForwardedFromThePrimary) {
  Server server(server_config());
  const auto out = deliver(server, kSecondaryEp, kClient, bubble(client_teredo(), client_b()));
  ASSERT_EQ(out.datagrams.size(), 1u);
  EXPECT_EQ(out.datagrams[0].from, kPrimaryEp);
}

TEST(NodeServerForward, ClientsOfOtherServersGetNoOriginIndication) {
  Server server(server_config());
  const ByteVector b = bubble(client_teredo(), client_c());
  const auto out = deliver(server, kPrimaryEp, kClient, b);
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kClientC);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(b));  // R4380-5.3.1-16 only for ours
}

TEST(NodeServerForward, NativeSourceToOurClientIsAccepted) {
  Server server(server_config());
  const ByteVector b = bubble(v6("2001:db8:1::1"), client_b());
  const auto out = deliver(server, kPrimaryEp, kRelay, b);
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);  // R4380-5.3.1-08
  EXPECT_EQ(out.datagrams[0].to, kClientB);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(concat({hex(kOriginRelay), b})));
}

TEST(NodeServerForward, NativeSourceToAForeignDestinationIsDropped) {
  Server server(server_config());
  for (const auto& dst : {client_c(), v6("2001:db8:9::9")}) {
    const auto out = deliver(server, kPrimaryEp, kRelay, bubble(v6("2001:db8:1::1"), dst));
    EXPECT_TRUE(out.datagrams.empty());
    EXPECT_TRUE(out.to_tunnel.empty());
    EXPECT_TRUE(has_drop(out, "drop_foreign_destination", "R4380-5.3.1-09")) << dump(out);
  }
}

TEST(NodeServerForward, SpoofedTeredoSourcesAreDropped) {
  Server server(server_config());
  const ByteVector b = bubble(client_teredo(), client_b());
  // The source address says 198.51.100.7:40000; the datagram says otherwise.
  for (const UdpEndpoint from : {ep(v4(198, 51, 100, 7), 40001), ep(v4(198, 51, 100, 8), 40000),
                                 ep(v4(203, 0, 113, 99), 3544)}) {
    const auto out = deliver(server, kPrimaryEp, from, b);
    EXPECT_TRUE(out.datagrams.empty()) << to_string(from);
    EXPECT_TRUE(has_drop(out, "drop_source_mismatch", "R4380-5.3.1-09")) << dump(out);
  }
}

TEST(NodeServerForward, FlagsDoNotMatterOnReceipt) {
  // R4380-4-03: z/random bits are ignored: flags 0x7fff on the source.
  Server server(server_config());
  const auto src = v6("2001:0:c000:22d:7fff:63bf:39cc:9bf8");
  EXPECT_EQ(deliver(server, kPrimaryEp, kClient, bubble(src, client_b())).datagrams.size(), 1u);
}

TEST(NodeServerForward, NonGlobalMappedDestinationsAreDropped) {
  Server server(server_config());
  for (const auto a : {v4(0, 1, 2, 3), v4(10, 1, 2, 3), v4(127, 0, 0, 1), v4(169, 254, 1, 1),
                       v4(172, 16, 0, 1), v4(192, 168, 0, 1), v4(192, 88, 99, 1), v4(224, 0, 0, 1),
                       v4(255, 255, 255, 255)}) {
    const auto dst = teredo_of(kPrimary, ep(a, 40000));
    const auto out = deliver(server, kPrimaryEp, kClient, bubble(client_teredo(), dst));
    EXPECT_TRUE(out.datagrams.empty()) << wire::to_string(a);
    // R4380-5.3.1-13/14
    EXPECT_TRUE(has_drop(out, "drop_non_global_destination_ipv4", "R4380-5.3.1-14"))
        << wire::to_string(a) << "\n" << dump(out);
  }
}

TEST(NodeServerForward, BubblesToTheServerItselfAreNotLooped) {
  Server server(server_config());
  // Miredo advisory MTFL-SA-0603: a Teredo destination mapped to the
  // server's own address and port would bounce forever.
  for (const UdpEndpoint self : {kPrimaryEp, kSecondaryEp}) {
    const auto out = deliver(server, kPrimaryEp, kClient, bubble(client_teredo(), teredo_of(kPrimary, self)));
    EXPECT_TRUE(out.datagrams.empty()) << to_string(self);
    EXPECT_TRUE(has_drop(out, "drop_loop_to_self", "")) << dump(out);
  }
  // And a datagram that claims to come from the server itself is ignored.
  const auto self_src = teredo_of(kPrimary, kPrimaryEp);
  const auto out = deliver(server, kPrimaryEp, kPrimaryEp, bubble(self_src, client_b()));
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "drop_loop_from_self", "")) << dump(out);
}

TEST(NodeServerForward, NonGlobalIpv6DestinationsAreNeverForwarded) {
  Server server(server_config());
  for (const char* dst : {"fe80::1", "ff05::1", "ff0e::1", "::1", "::", "fec0::1", "::ffff:198.51.100.1"}) {
    const auto out = deliver(server, kPrimaryEp, kClient, bubble(client_teredo(), v6(dst)));
    EXPECT_TRUE(out.datagrams.empty()) << dst;
    EXPECT_TRUE(out.to_tunnel.empty()) << dst;
    EXPECT_TRUE(has_drop(out, "drop_non_global_destination", "R4380-5.3.1-11")) << dst << "\n" << dump(out);
  }
}

TEST(NodeServerForward, OnlyBubblesAndIcmpv6AreRelayed) {
  wire::Ipv6Header h;
  h.next_header = 17;  // UDP
  h.source = client_teredo();
  h.destination = v6("2001:db8::1");
  const ByteVector udp = wire::build_ipv6_packet(h, hex("1234 5678 0008 0000"));
  Server server(server_config());
  auto out = deliver(server, kPrimaryEp, kClient, udp);
  EXPECT_TRUE(out.to_tunnel.empty());
  EXPECT_TRUE(has_drop(out, "drop_not_bubble_or_icmpv6", "R4380-5.3.1-03")) << dump(out);
  // "No next header" with a payload is not a bubble either.
  h.next_header = 59;
  out = deliver(server, kPrimaryEp, kClient, wire::build_ipv6_packet(h, hex("00")));
  EXPECT_TRUE(has_drop(out, "drop_not_bubble_or_icmpv6", "R4380-5.3.1-03")) << dump(out);
  // A server that is also a relay (R4380-5.4.3-02) forwards it.
  auto config = server_config();
  config.forward_any_protocol = true;
  Server combined(config);
  out = deliver(combined, kPrimaryEp, kClient, udp);
  ASSERT_EQ(out.to_tunnel.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(out.to_tunnel[0]), hexstr(udp));
}

TEST(NodeServerForward, NativeDestinationsGoToTheIpv6Side) {
  const ByteVector echo = echo_request(client_teredo(), v6("2001:db8::1"), 16);
  Server server(server_config());
  auto out = deliver(server, kPrimaryEp, kClient, echo);
  EXPECT_TRUE(out.datagrams.empty());
  ASSERT_EQ(out.to_tunnel.size(), 1u) << dump(out);  // R4380-5.3.1-12
  EXPECT_EQ(hexstr(out.to_tunnel[0]), hexstr(echo));
  auto config = server_config();
  config.forward_native = false;
  Server closed(config);
  out = deliver(closed, kPrimaryEp, kClient, echo);
  EXPECT_TRUE(out.to_tunnel.empty());
  EXPECT_TRUE(has_drop(out, "drop_native_forwarding_disabled", "R4380-5.3.1-12"));
}

TEST(NodeServerForward, EchoToTheServerLinkLocalIsAnswered) {
  Server server(server_config());
  const auto ll = v6("fe80::8000:f227:3fff:fdd2");
  const auto out = deliver(server, kSecondaryEp, kClient, echo_request(client_teredo(), ll, 8));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);  // R4380-5.3.1-10
  EXPECT_EQ(out.datagrams[0].from, kSecondaryEp);
  EXPECT_EQ(out.datagrams[0].to, kClient);
  const auto packet = wire::parse_ipv6_packet(out.datagrams[0].payload);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->header.source, ll);
  EXPECT_EQ(packet->header.destination, client_teredo());
  EXPECT_EQ(icmpv6_sum(packet->packet), 0);
  // type 129, code 0, checksum, identifier 1234, sequence 0007, 8 x ab
  EXPECT_EQ(hexstr(packet->payload.subspan(4)), "12340007abababababababab");
  EXPECT_EQ(packet->payload[0], 129);
  // Other local traffic (a bubble to ff02::2) is consumed without reply.
  const auto other = deliver(server, kPrimaryEp, kClient, bubble(client_teredo(), v6("ff02::2")));
  EXPECT_TRUE(other.datagrams.empty());
  EXPECT_TRUE(has_drop(other, "drop_local_unhandled", "R4380-5.3.1-10"));
}

TEST(NodeServerForward, MalformedEncapsulationsAreDropped) {
  Server server(server_config());
  const ByteVector b = bubble(client_teredo(), client_b());
  struct Case {
    ByteVector payload;
    const char* code;
  };
  ByteVector long_payload = b;
  long_payload[5] = 8;  // payload length 8, nothing follows the header
  ByteVector version4 = b;
  version4[0] = 0x45;
  const std::vector<Case> cases = {
      {{}, "empty_datagram"},
      {hex("00"), "unknown_encapsulation"},
      {hex("0000 1234"), "truncated_origin_indication"},
      {hex("0001 0505 00"), "truncated_authentication"},
      {concat({hex("0002 0000"), b}), "unknown_encapsulation"},
      {hex("6000 0000"), "truncated_ipv6_header"},
      {long_payload, "truncated_ipv6_payload"},
      {version4, "not_ipv6"},
      {concat({hex(kOriginA), hex(kOriginA), b}), "duplicate_origin_indication"},
      {concat({hex(kOriginA), hex("0001 0000 0000000000000000 00"), b}), "authentication_after_origin_indication"},
      {concat({b, hex("00")}), "trailing_bytes_after_ipv6_packet"},
  };
  for (const Case& c : cases) {
    const auto out = deliver(server, kPrimaryEp, kClient, c.payload);
    EXPECT_TRUE(out.datagrams.empty()) << c.code;
    EXPECT_TRUE(out.to_tunnel.empty()) << c.code;
    EXPECT_TRUE(has_drop(out, c.code, "R4380-5.3.1-02")) << c.code << "\n" << dump(out);
  }
}

// The size bound: the Teredo link MTU is 1280 (R4380-5.1.2-01), so no
// legitimate IPv6 packet is longer, and nothing legitimate precedes it but an
// authentication encapsulation (at most 4 + 255 + 255 + 8 + 1 = 523 bytes)
// and an origin indication (8): a UDP payload over 1280 + 531 = 1811 bytes is
// dropped unparsed, and an IPv6 packet over 1280 bytes after parsing.
TEST(NodeServerForward, OversizedPacketsAreDropped) {
  Server server(server_config());
  const ByteVector junk(1812, 0x60);
  auto out = deliver(server, kPrimaryEp, kClient, junk);
  EXPECT_TRUE(has_drop(out, "drop_oversized", "R4380-5.1.2-01")) << dump(out);
  // 40 + 8 (ICMPv6 echo header) + data.
  out = deliver(server, kPrimaryEp, kClient, echo_request(client_teredo(), client_b(), 1280 - 48 + 1));
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "drop_oversized", "R4380-5.1.2-01")) << dump(out);
  const ByteVector full = echo_request(client_teredo(), client_b(), 1280 - 48);
  ASSERT_EQ(full.size(), 1280u);
  out = deliver(server, kPrimaryEp, kClient, full);
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].payload.size(), 1288u);
}

TEST(NodeServerForward, OddInputsAreDropped) {
  Server server(server_config());
  const ByteVector b = bubble(client_teredo(), client_b());
  auto out = deliver(server, ep(v4(192, 0, 2, 99), 3544), kClient, b);
  EXPECT_TRUE(has_drop(out, "drop_unknown_local_endpoint", ""));
  out = deliver(server, kPrimaryEp, ep(kClient.address, 0), b);
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "drop_zero_source_port", ""));
  // Mapped port 0 in a destination: nothing can be sent there.
  out = deliver(server, kPrimaryEp, kClient, bubble(client_teredo(), teredo_of(kPrimary, ep(kClientB.address, 0))));
  EXPECT_TRUE(out.datagrams.empty());
  // A link-local source is never routed on (rule 6 would accept it)...
  out = deliver(server, kPrimaryEp, kRelay, echo_request(v6("fe80::1"), client_b(), 8));
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "drop_non_global_ipv6_source", "")) << dump(out);
  out = deliver(server, kPrimaryEp, kRelay, bubble(v6("ff02::1"), client_b()));
  EXPECT_TRUE(has_drop(out, "drop_non_global_ipv6_source", "")) << dump(out);
  // ... except a bubble to one of our clients (Miredo's relay bubbles from
  // its TUN's link-local address): forwarded with the relay as its origin.
  out = deliver(server, kPrimaryEp, kRelay, bubble(v6("fe80::1"), client_b()));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kClientB);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(concat({hex(kOriginRelay), bubble(v6("fe80::1"), client_b())})));
}

}  // namespace
}  // namespace teredo::node::test
