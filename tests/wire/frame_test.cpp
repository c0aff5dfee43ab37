// From captured frames to the UDP carrier (frame.hpp), and the frame builders.
#include <gtest/gtest.h>

#include <string>

#include "captures.hpp"
#include "teredo/wire/checksum.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/frame.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::concat;
using test::hex;
using test::hexstr;
using test::v4;
using test::v6;
namespace cap = test::captures;

ByteVector from(const ByteVector& b, std::size_t at) {
  return ByteVector(b.begin() + static_cast<std::ptrdiff_t>(at), b.end());
}

// ndpi-teredo.pcap frame 1 without its Ethernet header: IPv4 / UDP / Teredo.
ByteVector frame1_ip() { return from(hex(cap::kNdpiFrame1), 14); }
std::string frame1_payload_hex() { return hexstr(from(hex(cap::kNdpiFrame1), 42)); }

const ByteVector kMacs = hex("6c416a8c8089 001b17000115");

// Checks the carrier of ndpi-teredo.pcap frame 1 against tshark's values.
void ExpectFrame1Carrier(const Result<UdpCarrier>& c, std::uint8_t depth = 0) {
  ASSERT_TRUE(c.ok()) << to_string(c.error());
  EXPECT_FALSE(c->ipv6);
  EXPECT_EQ(c->source4, v4(10, 112, 16, 106));
  EXPECT_EQ(c->destination4, v4(194, 136, 28, 76));
  EXPECT_EQ(c->source_port, 52513);
  EXPECT_EQ(c->destination_port, 3544);
  EXPECT_EQ(c->udp_length, 69);
  EXPECT_EQ(c->payload.size(), 61u);
  EXPECT_EQ(hexstr(c->payload), frame1_payload_hex());
  EXPECT_FALSE(c->payload_truncated);
  EXPECT_EQ(c->tunnel_depth, depth);
}

TEST(Frame, CapturedEthernetIpv4Udp) {
  const ByteVector frame = hex(cap::kNdpiFrame1);
  ExpectFrame1Carrier(find_udp_carrier(LinkType::ethernet, frame));
}

TEST(Frame, CapturedFramesCarryTeredo) {
  // Every captured ndpi frame yields a carrier whose payload is a Teredo datagram.
  for (std::string_view f : {cap::kNdpiFrame1, cap::kNdpiFrame2, cap::kNdpiFrame9,
                             cap::kNdpiFrame15, cap::kNdpiFrame16}) {
    const ByteVector frame = hex(f);
    const auto c = find_udp_carrier(LinkType::ethernet, frame);
    ASSERT_TRUE(c.ok()) << to_string(c.error());
    EXPECT_TRUE(c->source_port == 3544 || c->destination_port == 3544);
    EXPECT_EQ(c->payload.size(), frame.size() - cap::kEthIpv4UdpHeaders);
    EXPECT_TRUE(parse_datagram(c->payload).ok());
  }
}

TEST(Frame, EthernetWithVlanTags) {
  const ByteVector ip = frame1_ip();
  ExpectFrame1Carrier(
      find_udp_carrier(LinkType::ethernet, concat({kMacs, hex("8100 0064 0800"), ip})));
  // 802.1ad outer tag, 802.1Q inner tag.
  ExpectFrame1Carrier(find_udp_carrier(
      LinkType::ethernet, concat({kMacs, hex("88a8 0010 8100 0064 0800"), ip})));
}

TEST(Frame, EthernetPaddingIsNotPayload) {
  ByteVector frame = hex(cap::kNdpiFrame1);
  frame.insert(frame.end(), 12, 0x00);
  ExpectFrame1Carrier(find_udp_carrier(LinkType::ethernet, frame));
}

TEST(Frame, LinuxCookedV1AndV2) {
  const ByteVector ip = frame1_ip();
  //        pkttype arphrd addrlen address (8)        protocol
  const ByteVector sll = hex("0000 0001 0006 001b170001150000 0800");
  ExpectFrame1Carrier(find_udp_carrier(LinkType::linux_sll, concat({sll, ip})));
  //         protocol reserved ifindex  arphrd pkttype addrlen address (8)
  const ByteVector sll2 = hex("0800 0000 00000002 0001 00 06 001b170001150000");
  ExpectFrame1Carrier(find_udp_carrier(LinkType::linux_sll2, concat({sll2, ip})));
}

TEST(Frame, RawAndLoopbackLinkTypes) {
  const ByteVector ip = frame1_ip();
  ExpectFrame1Carrier(find_udp_carrier(LinkType::raw, ip));
  ExpectFrame1Carrier(find_udp_carrier(LinkType::ipv4, ip));
  // BSD loopback: AF_INET (2) in the writer's byte order, either order.
  ExpectFrame1Carrier(find_udp_carrier(LinkType::null, concat({hex("02000000"), ip})));
  ExpectFrame1Carrier(find_udp_carrier(LinkType::null, concat({hex("00000002"), ip})));
  ExpectFrame1Carrier(find_udp_carrier(LinkType::loop, concat({hex("00000002"), ip})));
}

TEST(Frame, SupportedLinkTypes) {
  for (std::uint32_t t : {0u, 1u, 101u, 108u, 113u, 228u, 229u, 276u}) {
    EXPECT_TRUE(is_supported_link_type(t)) << t;
  }
  for (std::uint32_t t : {2u, 100u, 105u, 127u, 147u, 192u, 0xFFFFFFFFu}) {
    EXPECT_FALSE(is_supported_link_type(t)) << t;
  }
}

// An IPv6 packet: header (next header `nh`), then `rest` (extension headers,
// UDP header and payload); payload length = rest size.
ByteVector ipv6_packet(std::uint8_t nh, const ByteVector& rest) {
  Ipv6Header h;
  h.next_header = nh;
  h.hop_limit = 64;
  h.source = v6("2001:db8::1");
  h.destination = v6("2001:db8::2");
  return build_ipv6_packet(h, rest);
}
const ByteVector kUdp = hex("1f40 0dd8 000c 0000 61626364");  // 8000 -> 3544, "abcd"

void ExpectIpv6Carrier(const Result<UdpCarrier>& c) {
  ASSERT_TRUE(c.ok()) << to_string(c.error());
  EXPECT_TRUE(c->ipv6);
  EXPECT_EQ(c->source6, v6("2001:db8::1"));
  EXPECT_EQ(c->destination6, v6("2001:db8::2"));
  EXPECT_EQ(c->source_port, 8000);
  EXPECT_EQ(c->destination_port, 3544);
  EXPECT_EQ(c->udp_length, 12);
  EXPECT_EQ(hexstr(c->payload), "61626364");
  EXPECT_FALSE(c->payload_truncated);
}

TEST(Frame, CapturedIpv6OuterCarrier) {
  // zeek-teredo-udp-in-udp.pcap frame 1: IPv6/UDP outer; tshark (heuristic)
  // reads an origin indication 255.255.255.252:59135 in the payload.
  const ByteVector frame = hex(cap::kUdpInUdpFrame1);
  const auto c = find_udp_carrier(LinkType::ethernet, frame);
  ASSERT_TRUE(c.ok()) << to_string(c.error());
  EXPECT_TRUE(c->ipv6);
  EXPECT_EQ(c->source6, v6("::38:5f55:6265:726b"));
  EXPECT_EQ(c->destination6, v6("2090:9090:9090:9090:9090:9000::"));
  EXPECT_EQ(c->source_port, 25977);
  EXPECT_EQ(c->destination_port, 25964);
  EXPECT_EQ(c->udp_length, 81);
  EXPECT_EQ(c->payload.size(), 73u);
  EXPECT_EQ(hexstr(c->payload), hexstr(from(frame, cap::kUdpInUdpPayload)));
  const auto d = parse_datagram(c->payload);
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  ASSERT_TRUE(d->origin.has_value());
  EXPECT_EQ(d->origin->port, 59135);
  EXPECT_EQ(d->origin->address, v4(255, 255, 255, 252));
  EXPECT_EQ(d->ipv6.header.next_header, 17);
  EXPECT_EQ(d->ipv6.header.payload_length, 25);
}

TEST(Frame, Ipv6OuterWithExtensionHeaders) {
  ExpectIpv6Carrier(find_udp_carrier(LinkType::raw, ipv6_packet(17, kUdp)));
  ExpectIpv6Carrier(find_udp_carrier(LinkType::ipv6, ipv6_packet(17, kUdp)));
  ExpectIpv6Carrier(find_udp_carrier(LinkType::ethernet,
                                     concat({kMacs, hex("86dd"), ipv6_packet(17, kUdp)})));
  // BSD loopback AF_INET6 values: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
  for (const char* family : {"18000000", "1c000000", "1e000000", "0000001e"}) {
    ExpectIpv6Carrier(
        find_udp_carrier(LinkType::null, concat({hex(family), ipv6_packet(17, kUdp)})));
  }
  // Hop-by-hop (PadN) -> destination options (length 1: 16 bytes) -> first
  // fragment (offset 0, M=1) -> UDP.
  const ByteVector hbh = hex("3c00 0104 00000000");
  const ByteVector dst = hex("2c01 010c 000000000000000000000000");
  const ByteVector frag = hex("1100 0001 12345678");
  ExpectIpv6Carrier(
      find_udp_carrier(LinkType::raw, ipv6_packet(0, concat({hbh, dst, frag, kUdp}))));
  // Routing header (43).
  ExpectIpv6Carrier(
      find_udp_carrier(LinkType::raw, ipv6_packet(43, concat({hex("1100 0000 00000000"), kUdp}))));
}

TEST(Frame, Ipv6PayloadLengthBoundsTheUdpSegment) {
  ByteVector p = ipv6_packet(17, kUdp);
  p.insert(p.end(), {0xEE, 0xEE, 0xEE});  // beyond the IPv6 payload length
  ExpectIpv6Carrier(find_udp_carrier(LinkType::raw, p));
}

TEST(Frame, Ipv6Errors) {
  const ByteVector good = ipv6_packet(17, kUdp);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, Bytes(good).first(39)).error(),
            ParseError::truncated_ipv6_header);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ipv6_packet(6, hex("00500050 00000000"))).error(),
            ParseError::not_udp);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ipv6_packet(59, {})).error(), ParseError::not_udp);
  // Hop-by-hop with fewer than 8 bytes, or shorter than its length says.
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ipv6_packet(0, hex("1100 0104"))).error(),
            ParseError::truncated_ipv6_extension_header);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ipv6_packet(0, hex("1101 0104 00000000"))).error(),
            ParseError::truncated_ipv6_extension_header);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ipv6_packet(44, hex("1100 0000"))).error(),
            ParseError::truncated_ipv6_extension_header);
  // A fragment header with a non-zero offset (8 bytes in), with and without M.
  EXPECT_EQ(
      find_udp_carrier(LinkType::raw, ipv6_packet(44, concat({hex("1100 0008 12345678"), kUdp})))
          .error(),
      ParseError::non_first_fragment);
  EXPECT_EQ(
      find_udp_carrier(LinkType::raw, ipv6_packet(44, concat({hex("1100 fff9 12345678"), kUdp})))
          .error(),
      ParseError::non_first_fragment);
  // UDP header cut by the IPv6 payload length.
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ipv6_packet(17, test::to_vector(Bytes(kUdp).first(7))))
                .error(),
            ParseError::truncated_udp_header);
}

// --- IPv4 --------------------------------------------------------------------

// Frame 1's IPv4 packet with byte `at` set to `value`.
ByteVector ip_with(std::size_t at, std::uint8_t value) {
  ByteVector ip = frame1_ip();
  ip.at(at) = value;
  return ip;
}

TEST(Frame, Ipv4FirstFragmentIsDecoded) {
  // MF set, offset 0 (as in snort3_demo-fragged-teredo.pcap).
  ExpectFrame1Carrier(find_udp_carrier(LinkType::raw, ip_with(6, 0x20)));
  // DF set.
  ExpectFrame1Carrier(find_udp_carrier(LinkType::raw, ip_with(6, 0x40)));
}

TEST(Frame, Ipv4NonFirstFragment) {
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ip_with(7, 0x01)).error(),
            ParseError::non_first_fragment);
  ByteVector last = ip_with(6, 0x1F);  // offset 0x1f00, no MF: the last fragment
  EXPECT_EQ(find_udp_carrier(LinkType::raw, last).error(), ParseError::non_first_fragment);
  // Offset 0x1000 (the highest offset bit alone).
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ip_with(6, 0x10)).error(),
            ParseError::non_first_fragment);
  ByteVector middle = ip_with(6, 0x20);
  middle[7] = 0xB9;  // MF and offset 185
  EXPECT_EQ(find_udp_carrier(LinkType::raw, middle).error(), ParseError::non_first_fragment);
}

TEST(Frame, Ipv4WithOptions) {
  ByteVector ip = frame1_ip();
  ip[0] = 0x46;  // IHL 6: one 4-byte option word (four NOPs)
  ip[3] = static_cast<std::uint8_t>(ip[3] + 4);
  ip.insert(ip.begin() + 20, {0x01, 0x01, 0x01, 0x01});
  ExpectFrame1Carrier(find_udp_carrier(LinkType::raw, ip));
}

TEST(Frame, Ipv4Errors) {
  const ByteVector ip = frame1_ip();
  EXPECT_EQ(find_udp_carrier(LinkType::raw, Bytes(ip).first(19)).error(),
            ParseError::truncated_ipv4_header);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, Bytes(ip).first(1)).error(),
            ParseError::truncated_ipv4_header);
  // IHL 15 (60 bytes) in a 40-byte packet.
  ByteVector ihl15 = ip_with(0, 0x4F);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, Bytes(ihl15).first(40)).error(),
            ParseError::truncated_ipv4_header);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ip_with(0, 0x44)).error(), ParseError::bad_ipv4_header);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ip_with(0, 0x40)).error(), ParseError::bad_ipv4_header);
  ByteVector short_total = ip_with(2, 0x00);
  short_total[3] = 19;  // total length below the header length
  EXPECT_EQ(find_udp_carrier(LinkType::raw, short_total).error(), ParseError::bad_ipv4_header);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ip_with(9, 6)).error(), ParseError::not_udp);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ip_with(9, 1)).error(), ParseError::not_udp);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, Bytes(ip).first(27)).error(),
            ParseError::truncated_udp_header);
  ByteVector total_27 = ip_with(2, 0);
  total_27[3] = 27;  // the IPv4 total length leaves 7 UDP bytes
  EXPECT_EQ(find_udp_carrier(LinkType::raw, total_27).error(), ParseError::truncated_udp_header);
  ByteVector udp7 = ip_with(24, 0);
  udp7[25] = 7;
  EXPECT_EQ(find_udp_carrier(LinkType::raw, udp7).error(), ParseError::bad_udp_length);
  ByteVector udp0 = ip_with(24, 0);
  udp0[25] = 0;
  EXPECT_EQ(find_udp_carrier(LinkType::raw, udp0).error(), ParseError::bad_udp_length);
}

TEST(Frame, UdpLengthZeroPayloadIsAllowed) {
  ByteVector ip = ip_with(24, 0);
  ip[25] = 8;
  const auto c = find_udp_carrier(LinkType::raw, ip);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->udp_length, 8);
  EXPECT_TRUE(c->payload.empty());
  EXPECT_FALSE(c->payload_truncated);
}

TEST(Frame, TruncatedPayloadIsFlagged) {
  // The UDP header announces 256 bytes; the capture holds 61.
  ByteVector ip = ip_with(24, 0x01);
  ip[25] = 0x00;
  auto c = find_udp_carrier(LinkType::raw, ip);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->udp_length, 256);
  EXPECT_TRUE(c->payload_truncated);
  EXPECT_EQ(hexstr(c->payload), frame1_payload_hex());
  // The capture was cut short (snaplen): the payload is what is there.
  const ByteVector cut = test::to_vector(Bytes(frame1_ip()).first(20 + 8 + 10));
  c = find_udp_carrier(LinkType::raw, cut);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->udp_length, 69);
  EXPECT_TRUE(c->payload_truncated);
  EXPECT_EQ(hexstr(c->payload), frame1_payload_hex().substr(0, 20));
  // The IPv4 total length cuts the UDP datagram (a first fragment).
  ByteVector frag = ip_with(6, 0x20);
  frag[2] = 0;
  frag[3] = 20 + 8 + 16;
  c = find_udp_carrier(LinkType::raw, frag);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->payload_truncated);
  EXPECT_EQ(hexstr(c->payload), frame1_payload_hex().substr(0, 32));
}

// --- link-layer errors ---------------------------------------------------------

TEST(Frame, LinkLayerErrors) {
  const ByteVector frame = hex(cap::kNdpiFrame1);
  const ByteVector ip = frame1_ip();
  EXPECT_EQ(find_udp_carrier(LinkType::ethernet, Bytes(frame).first(13)).error(),
            ParseError::truncated_link_header);
  EXPECT_EQ(find_udp_carrier(LinkType::ethernet, {}).error(), ParseError::truncated_link_header);
  EXPECT_EQ(find_udp_carrier(LinkType::ethernet, concat({kMacs, hex("8100 00")})).error(),
            ParseError::truncated_link_header);
  EXPECT_EQ(find_udp_carrier(LinkType::ethernet, concat({kMacs, hex("8100 0064 88a8 00")})).error(),
            ParseError::truncated_link_header);
  EXPECT_EQ(find_udp_carrier(LinkType::linux_sll, ByteVector(15, 0)).error(),
            ParseError::truncated_link_header);
  EXPECT_EQ(find_udp_carrier(LinkType::linux_sll2, ByteVector(19, 0)).error(),
            ParseError::truncated_link_header);
  EXPECT_EQ(find_udp_carrier(LinkType::null, hex("020000")).error(),
            ParseError::truncated_link_header);
  EXPECT_EQ(find_udp_carrier(LinkType::loop, {}).error(), ParseError::truncated_link_header);

  // Not IP: ARP, an 802.3 length field, an unknown BSD family, a bad version.
  EXPECT_EQ(find_udp_carrier(LinkType::ethernet, concat({kMacs, hex("0806"), ip})).error(),
            ParseError::not_ip);
  EXPECT_EQ(find_udp_carrier(LinkType::ethernet, concat({kMacs, hex("0059"), ip})).error(),
            ParseError::not_ip);
  EXPECT_EQ(
      find_udp_carrier(LinkType::ethernet, concat({kMacs, hex("8100 0064 0806"), ip})).error(),
      ParseError::not_ip);
  EXPECT_EQ(find_udp_carrier(LinkType::linux_sll,
                             concat({hex("0000 0001 0006 001b170001150000 0806"), ip}))
                .error(),
            ParseError::not_ip);
  EXPECT_EQ(find_udp_carrier(LinkType::null, concat({hex("63000000"), ip})).error(),
            ParseError::not_ip);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, {}).error(), ParseError::not_ip);
  EXPECT_EQ(find_udp_carrier(LinkType::raw, ip_with(0, 0x55)).error(), ParseError::not_ip);
  // An IPv4 ethertype in front of something that is neither IPv4 nor IPv6.
  EXPECT_EQ(find_udp_carrier(LinkType::ethernet, concat({kMacs, hex("0800 00112233")})).error(),
            ParseError::not_ip);

  EXPECT_EQ(find_udp_carrier(static_cast<LinkType>(147), frame).error(),
            ParseError::unsupported_link_type);
  EXPECT_EQ(find_udp_carrier(static_cast<LinkType>(105), frame).error(),
            ParseError::unsupported_link_type);
}

// --- GTP-U -----------------------------------------------------------------------

TEST(Frame, CapturedGtpUInnerCarrier) {
  const ByteVector frame = hex(cap::kGtpFrame1);
  const auto c = find_udp_carrier(LinkType::ethernet, frame);
  ASSERT_TRUE(c.ok()) << to_string(c.error());
  EXPECT_EQ(c->tunnel_depth, 1);
  EXPECT_FALSE(c->ipv6);
  EXPECT_EQ(c->source4, v4(172, 24, 204, 200));
  EXPECT_EQ(c->destination4, v4(65, 55, 158, 118));
  EXPECT_EQ(c->source_port, 56528);
  EXPECT_EQ(c->destination_port, 3544);
  EXPECT_EQ(c->udp_length, 68);
  EXPECT_EQ(c->payload.size(), 60u);
  EXPECT_EQ(hexstr(c->payload), hexstr(from(frame, cap::kGtpFrame1InnerPayload)));
  EXPECT_FALSE(c->payload_truncated);

  // A bubble followed by 20 bytes of RFC 6081 trailers.
  EXPECT_EQ(parse_datagram(c->payload).error(), ParseError::trailing_bytes_after_ipv6_packet);
  const auto d = parse_datagram(c->payload, {.accept_trailers = true});
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_TRUE(is_bubble(d->ipv6));
  EXPECT_EQ(d->ipv6.trailer.size(), 20u);
  EXPECT_EQ(d->ipv6.header.source, v6("2001:0:5ef5:79fd:3ca5:6ae6:2b37:be97"));
  EXPECT_EQ(d->ipv6.header.destination, v6("2001:0:4137:9e76:201a:3f51:3afd:573e"));
}

// Outer IPv4/UDP to the GTP-U port around `gtp` (header + inner packet).
ByteVector gtp_frame(const ByteVector& gtp, std::uint16_t port = kUdpPortGtpU) {
  Ipv4UdpEndpoints e;
  e.source = v4(198, 51, 100, 1);
  e.destination = v4(198, 51, 100, 2);
  e.source_port = port;
  e.destination_port = port;
  return build_ethernet_ipv4_udp(e, gtp);
}

TEST(Frame, GtpUHeaderVariants) {
  const ByteVector ip = frame1_ip();
  // Minimal header: version 1, PT 1, T-PDU.
  ExpectFrame1Carrier(
      find_udp_carrier(LinkType::ethernet, gtp_frame(concat({hex("30ff 0059 00000001"), ip}))), 1);
  // S flag: 4 optional bytes (sequence number, N-PDU, next extension 0).
  ExpectFrame1Carrier(
      find_udp_carrier(LinkType::ethernet,
                       gtp_frame(concat({hex("32ff 005d 00000001 1234 00 00"), ip}))),
      1);
  // E flag with a PDU session container extension (length 1 = 4 bytes).
  ExpectFrame1Carrier(
      find_udp_carrier(LinkType::ethernet, gtp_frame(concat({hex("34ff 0061 00000001 0000 00 85"),
                                                             hex("01 0009 00"), ip}))),
      1);
  // Two chained extension headers (length 1 and 2).
  ExpectFrame1Carrier(
      find_udp_carrier(LinkType::ethernet,
                       gtp_frame(concat({hex("34ff 0069 00000001 0000 00 85"), hex("01 0009 40"),
                                         hex("02 000000000000 00"), ip}))),
      1);
  // GTP-U on the source port only.
  Ipv4UdpEndpoints e;
  e.source = v4(198, 51, 100, 1);
  e.destination = v4(198, 51, 100, 2);
  e.source_port = kUdpPortGtpU;
  e.destination_port = 40000;
  ExpectFrame1Carrier(
      find_udp_carrier(LinkType::ethernet,
                       build_ethernet_ipv4_udp(e, concat({hex("30ff 0059 00000001"), ip}))),
      1);
}

void ExpectOuterGtpCarrier(const Result<UdpCarrier>& c) {
  ASSERT_TRUE(c.ok()) << to_string(c.error());
  EXPECT_EQ(c->tunnel_depth, 0);
  EXPECT_EQ(c->source4, v4(198, 51, 100, 1));
  EXPECT_EQ(c->destination_port, kUdpPortGtpU);
}

TEST(Frame, GtpUThatIsNotATPduKeepsTheOuterCarrier) {
  const ByteVector ip = frame1_ip();
  // Echo request (type 1), GTPv0, GTP' (PT 0), truncated header, extension
  // header of length 0, extension running past the payload, inner not IP/UDP.
  for (const ByteVector& gtp : {
           concat({hex("3001 0059 00000001"), ip}),
           concat({hex("10ff 0059 00000001"), ip}),
           concat({hex("20ff 0059 00000001"), ip}),
           hex("30ff 0000 0000"),
           hex("34ff 0000 00000001 0000 00"),
           concat({hex("34ff 0061 00000001 0000 00 85"), hex("00 0009 00"), ip}),
           hex("34ff 0061 00000001 0000 00 85 09 0000"),
           concat({hex("30ff 0059 00000001"), ip_with(9, 6)}),
           concat({hex("30ff 0004 00000001"), hex("00112233")}),
       }) {
    ExpectOuterGtpCarrier(find_udp_carrier(LinkType::ethernet, gtp_frame(gtp)));
  }
}

TEST(Frame, GtpUNestingStopsAtFourLayers) {
  // Five GTP-U layers around frame 1's IPv4/UDP: four are removed, the fifth
  // outer UDP (to port 2152) is the carrier.
  ByteVector inner = frame1_ip();
  for (int layer = 0; layer < 5; ++layer) {
    Ipv4UdpEndpoints e;
    e.source = v4(198, 51, 100, static_cast<std::uint32_t>(10 + layer));
    e.destination = v4(198, 51, 100, 2);
    e.source_port = kUdpPortGtpU;
    e.destination_port = kUdpPortGtpU;
    const ByteVector gtp = concat({hex("30ff"),
                                   ByteVector{static_cast<std::uint8_t>(inner.size() >> 8),
                                              static_cast<std::uint8_t>(inner.size())},
                                   hex("00000001"), inner});
    inner = build_ipv4_udp(e, gtp);
  }
  const auto c = find_udp_carrier(LinkType::raw, inner);
  ASSERT_TRUE(c.ok()) << to_string(c.error());
  EXPECT_EQ(c->tunnel_depth, 4);
  EXPECT_EQ(c->destination_port, kUdpPortGtpU);
  EXPECT_EQ(c->source4, v4(198, 51, 100, 10));  // the innermost GTP layer
}

// --- builders --------------------------------------------------------------------

TEST(FrameBuilder, ReproducesCapturedIpv4UdpExactly) {
  // ndpi-teredo.pcap frame 1: id 0x59ba, TTL 126, no DF; tshark's header
  // checksum 0xe92b and UDP checksum 0x7d87 (both verified independently).
  Ipv4UdpEndpoints e;
  e.source = v4(10, 112, 16, 106);
  e.source_port = 52513;
  e.destination = v4(194, 136, 28, 76);
  e.destination_port = 3544;
  e.ttl = 126;
  e.identification = 0x59ba;
  const ByteVector payload = from(hex(cap::kNdpiFrame1), 42);
  EXPECT_EQ(hexstr(build_ipv4_udp(e, payload)), hexstr(frame1_ip()));
  const ByteVector eth = build_ethernet_ipv4_udp(e, payload);
  ASSERT_EQ(eth.size(), 103u);
  EXPECT_EQ(hexstr(Bytes(eth).subspan(12)), hexstr(from(hex(cap::kNdpiFrame1), 12)));
}

TEST(FrameBuilder, OddPayloadAndZeroChecksum) {
  // Expected packets from an independent Python builder (RFC 791 / RFC 768).
  Ipv4UdpEndpoints e;
  e.source = v4(192, 0, 2, 1);
  e.source_port = 1000;
  e.destination = v4(192, 0, 2, 2);
  e.destination_port = 3544;
  e.identification = 0x1234;
  EXPECT_EQ(hexstr(build_ipv4_udp(e, hex("616263"))),
            "4500001f123400004011e496c0000201c0000202" "03e80dd8000ba5b1" "616263");
  // This payload makes the computed UDP checksum 0, sent as 0xffff (RFC 768).
  EXPECT_EQ(hexstr(build_ipv4_udp(e, hex("6a16"))),
            "4500001e123400004011e497c0000201c0000202" "03e80dd8000affff" "6a16");
}

TEST(FrameBuilder, EthernetFrameParsesBackAndChecksumsVerify) {
  Ipv4UdpEndpoints e;
  e.source = v4(192, 0, 2, 45);
  e.source_port = 40000;
  e.destination = v4(65, 54, 227, 120);
  e.destination_port = 3544;
  e.ttl = 17;
  e.identification = 0xBEEF;
  const ByteVector payload =
      build_bubble(v6("2001:0:4136:e378:8000:63bf:3fff:fdd2"), v6("2001:db8::1"));
  const ByteVector frame = build_ethernet_ipv4_udp(e, payload);
  ASSERT_EQ(frame.size(), 14u + 20 + 8 + 40);
  EXPECT_EQ(hexstr(Bytes(frame).subspan(12, 2)), "0800");
  EXPECT_EQ(frame[14], 0x45);
  EXPECT_EQ(hexstr(Bytes(frame).subspan(14 + 4, 4)), "beef0000");  // id, no DF, offset 0
  EXPECT_EQ(frame[14 + 8], 17);                                     // TTL
  EXPECT_EQ(frame[14 + 9], 17);                                     // UDP

  const auto c = find_udp_carrier(LinkType::ethernet, frame);
  ASSERT_TRUE(c.ok()) << to_string(c.error());
  EXPECT_EQ(c->source4, v4(192, 0, 2, 45));
  EXPECT_EQ(c->destination4, v4(65, 54, 227, 120));
  EXPECT_EQ(c->source_port, 40000);
  EXPECT_EQ(c->destination_port, 3544);
  EXPECT_EQ(c->udp_length, 48);
  EXPECT_EQ(hexstr(c->payload), hexstr(payload));

  // The IPv4 header checksum: summing the header including its checksum gives 0.
  ChecksumAccumulator ip_sum;
  ip_sum.add(Bytes(frame).subspan(14, 20));
  EXPECT_EQ(ip_sum.finish(), 0);
  // The UDP checksum over the RFC 768 pseudo-header gives 0 too.
  ChecksumAccumulator udp_sum;
  udp_sum.add(Bytes(frame).subspan(14 + 12, 8));  // source and destination addresses
  udp_sum.add_u16(17);
  udp_sum.add_u16(48);
  udp_sum.add(Bytes(frame).subspan(14 + 20));
  EXPECT_EQ(udp_sum.finish(), 0);
  EXPECT_NE(hexstr(Bytes(frame).subspan(14 + 20 + 6, 2)), "0000");
}

// The in-place writer (a packet ring's transmit frame) is the builders' one
// layout: same bytes, the given MACs, nothing written past the frame or
// into a buffer too small for it.
TEST(FrameWriter, WritesInPlaceTheBytesTheBuilderReturns) {
  Ipv4UdpEndpoints e;
  e.source = v4(192, 0, 2, 1);
  e.source_port = 1000;
  e.destination = v4(192, 0, 2, 2);
  e.destination_port = 3544;
  e.identification = 0x1234;
  const EthernetAddresses macs{{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc}, {0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
  ByteVector buffer(200, 0xEE);
  const std::size_t n = write_ethernet_ipv4_udp(buffer, macs, e, hex("616263"));
  ASSERT_EQ(n, 14u + 31);
  // Expected bytes from an independent Python builder (as OddPayloadAndZeroChecksum).
  EXPECT_EQ(hexstr(Bytes(buffer).first(n)), "525400aabbcc" "021122334455" "0800"
                                            "4500001f123400004011e496c0000201c0000202" "03e80dd8000ba5b1" "616263");
  for (std::size_t i = n; i < buffer.size(); ++i) ASSERT_EQ(buffer[i], 0xEE) << "byte " << i;
  // IPv4 alone, and the ones-complement zero sent as 0xffff.
  ByteVector ip(40, 0xEE);
  ASSERT_EQ(write_ipv4_udp(ip, e, hex("6a16")), 30u);
  EXPECT_EQ(hexstr(Bytes(ip).first(30)), "4500001e123400004011e497c0000201c0000202" "03e80dd8000affff" "6a16");

  // One byte short: nothing is written.
  ByteVector small(14 + 30, 0xEE);
  EXPECT_EQ(write_ethernet_ipv4_udp(small, macs, e, hex("616263")), 0u);
  EXPECT_EQ(small, ByteVector(14 + 30, 0xEE));
  ByteVector tiny(10, 0xEE);
  EXPECT_EQ(write_ethernet_ipv4_udp(tiny, macs, e, hex("61")), 0u);
  EXPECT_EQ(tiny, ByteVector(10, 0xEE));
  // A payload no UDP datagram can hold.
  const ByteVector huge_payload(65508);
  ByteVector out(70000);
  EXPECT_EQ(write_ipv4_udp(out, e, huge_payload), 0u);
  EXPECT_EQ(write_ipv4_udp(out, e, Bytes(huge_payload).first(65507)), 65535u);
}

TEST(FrameWriter, RoundTripsThroughTheParserWithVerifiedChecksums) {
  Ipv4UdpEndpoints e;
  e.source = v4(203, 0, 113, 2);
  e.source_port = 3544;
  e.destination = v4(198, 51, 100, 7);
  e.destination_port = 20001;
  e.ttl = 1;
  e.identification = 0xFFFF;
  const EthernetAddresses macs{{0x02, 0, 0, 0, 0, 0x09}, {0x02, 0, 0, 0, 0, 0x0a}};
  for (std::size_t size : {0u, 1u, 2u, 77u, 1300u}) {
    SCOPED_TRACE(size);
    ByteVector payload(size);
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::uint8_t>(i * 7 + 3);
    ByteVector frame(2048);
    const std::size_t n = write_ethernet_ipv4_udp(frame, macs, e, payload);
    ASSERT_EQ(n, 14 + 28 + size);
    frame.resize(n);
    EXPECT_EQ(hexstr(Bytes(frame).first(12)), "020000000009" "02000000000a");
    const auto c = find_udp_carrier(LinkType::ethernet, frame);
    ASSERT_TRUE(c.ok()) << to_string(c.error());
    EXPECT_FALSE(c->payload_truncated);
    EXPECT_EQ(c->source4, e.source);
    EXPECT_EQ(c->destination4, e.destination);
    EXPECT_EQ(c->source_port, 3544);
    EXPECT_EQ(c->destination_port, 20001);
    EXPECT_EQ(c->udp_length, 8 + size);
    EXPECT_EQ(hexstr(c->payload), hexstr(payload));
    EXPECT_EQ(frame[14 + 8], 1);  // TTL
    ChecksumAccumulator ip_sum;
    ip_sum.add(Bytes(frame).subspan(14, 20));
    EXPECT_EQ(ip_sum.finish(), 0);
    ChecksumAccumulator udp_sum;
    udp_sum.add(Bytes(frame).subspan(14 + 12, 8));
    udp_sum.add_u16(17);
    udp_sum.add_u16(static_cast<std::uint16_t>(8 + size));
    udp_sum.add(Bytes(frame).subspan(14 + 20));
    EXPECT_EQ(udp_sum.finish(), 0);
    // A flipped payload bit breaks the UDP checksum.
    if (size > 0) {
      frame.back() ^= 0x01;
      ChecksumAccumulator bad;
      bad.add(Bytes(frame).subspan(14 + 12, 8));
      bad.add_u16(17);
      bad.add_u16(static_cast<std::uint16_t>(8 + size));
      bad.add(Bytes(frame).subspan(14 + 20));
      EXPECT_NE(bad.finish(), 0);
    }
  }
}

}  // namespace
}  // namespace teredo::wire
