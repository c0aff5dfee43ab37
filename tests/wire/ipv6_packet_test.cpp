// The fixed IPv6 header view and builder.
#include <gtest/gtest.h>

#include "teredo/wire/ipv6.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::hex;
using test::hexstr;
using test::v6;

// Version 6, traffic class 0xab, flow label 0xcdef0, payload length 3,
// next header 17, hop limit 7, 2001:db8::1 -> 2001:db8::2, payload 010203,
// then two trailer bytes.
constexpr std::string_view kPacket =
    "6abcdef0 0003 11 07"
    "20010db8000000000000000000000001"
    "20010db8000000000000000000000002"
    "010203"
    "eeff";

TEST(Ipv6Packet, ParsesEveryHeaderField) {
  const ByteVector bytes = hex(kPacket);
  const auto p = parse_ipv6_packet(bytes);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->header.traffic_class, 0xAB);
  EXPECT_EQ(p->header.flow_label, 0xCDEF0u);
  EXPECT_EQ(p->header.payload_length, 3);
  EXPECT_EQ(p->header.next_header, 17);
  EXPECT_EQ(p->header.hop_limit, 7);
  EXPECT_EQ(p->header.source, v6("2001:db8::1"));
  EXPECT_EQ(p->header.destination, v6("2001:db8::2"));
  EXPECT_EQ(p->packet.size(), 43u);
  EXPECT_EQ(p->packet.data(), bytes.data());
  EXPECT_EQ(hexstr(p->payload), "010203");
  EXPECT_EQ(hexstr(p->trailer), "eeff");
}

TEST(Ipv6Packet, BuildWritesExactBytes) {
  Ipv6Header h;
  h.traffic_class = 0xAB;
  h.flow_label = 0xCDEF0;
  h.next_header = 17;
  h.hop_limit = 7;
  h.source = v6("2001:db8::1");
  h.destination = v6("2001:db8::2");
  h.payload_length = 999;  // ignored: the payload size is written
  const ByteVector payload = {1, 2, 3};
  const ByteVector expected = hex(std::string_view(kPacket).substr(0, kPacket.size() - 4));
  EXPECT_EQ(hexstr(build_ipv6_packet(h, payload)), hexstr(expected));

  ByteVector out = {0x55};
  append_ipv6_packet(out, h, payload);
  EXPECT_EQ(hexstr(out), "55" + hexstr(expected));
}

TEST(Ipv6Packet, FlowLabelIsMaskedTo20Bits) {
  Ipv6Header h;
  h.flow_label = 0xFFFFFFFF;
  h.traffic_class = 0;
  const ByteVector b = build_ipv6_packet(h, {});
  EXPECT_EQ(hexstr(Bytes(b).first(4)), "600fffff");
}

TEST(Ipv6Packet, ParseRebuildIsIdentity) {
  const ByteVector bytes = hex(kPacket);
  const auto p = parse_ipv6_packet(bytes);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(hexstr(build_ipv6_packet(p->header, p->payload)), hexstr(p->packet));
}

TEST(Ipv6Packet, Errors) {
  EXPECT_EQ(parse_ipv6_packet({}).error(), ParseError::not_ipv6);
  EXPECT_EQ(parse_ipv6_packet(hex("45000014")).error(), ParseError::not_ipv6);
  EXPECT_EQ(parse_ipv6_packet(hex("70")).error(), ParseError::not_ipv6);
  const ByteVector bytes = hex(kPacket);
  EXPECT_EQ(parse_ipv6_packet(Bytes(bytes).first(1)).error(), ParseError::truncated_ipv6_header);
  EXPECT_EQ(parse_ipv6_packet(Bytes(bytes).first(39)).error(), ParseError::truncated_ipv6_header);
  EXPECT_TRUE(parse_ipv6_packet(Bytes(bytes).first(40 + 3)).ok());
  EXPECT_EQ(parse_ipv6_packet(Bytes(bytes).first(40 + 2)).error(),
            ParseError::truncated_ipv6_payload);
  EXPECT_EQ(parse_ipv6_packet(Bytes(bytes).first(40)).error(), ParseError::truncated_ipv6_payload);
}

}  // namespace
}  // namespace teredo::wire
