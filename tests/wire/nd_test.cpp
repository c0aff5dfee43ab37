// Router solicitation / advertisement and ND options (RFC 4861 §4.1, §4.2, §4.6).
#include <gtest/gtest.h>

#include "captures.hpp"
#include "teredo/wire/nd.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::concat;
using test::hex;
using test::hexstr;
using test::v6;
namespace cap = test::captures;

Result<Icmpv6Message> icmp_of(const ByteVector& packet) {
  const auto p = parse_ipv6_packet(packet);
  if (!p) return p.error();
  return parse_icmpv6(*p);
}

// An ICMPv6 message view over `message` (type, code, checksum, body), for
// parser tests that do not need a packet or a checksum.
Icmpv6Message message_of(const ByteVector& message) {
  Icmpv6Message m;
  m.type = message.at(0);
  m.code = message.at(1);
  m.checksum = static_cast<std::uint16_t>((message.at(2) << 8) | message.at(3));
  m.body = Bytes(message).subspan(4);
  m.message = message;
  return m;
}

TEST(RouterAdvertisement, CapturedRaMatchesTshark) {
  const ByteVector frame = hex(cap::kNdpiFrame2);
  const ByteVector ipv6(frame.begin() + cap::kEthIpv4UdpHeaders + 21, frame.end());
  const auto m = icmp_of(ipv6);
  ASSERT_TRUE(m.ok()) << to_string(m.error());
  const auto ra = parse_router_advertisement(*m);
  ASSERT_TRUE(ra.ok()) << to_string(ra.error());
  EXPECT_EQ(ra->cur_hop_limit, 0);
  EXPECT_EQ(ra->flags, 0);
  EXPECT_EQ(ra->router_lifetime, 0);
  EXPECT_EQ(ra->reachable_time, 15000u);
  EXPECT_EQ(ra->retrans_timer, 2000u);
  const NdOptions& o = ra->options;
  EXPECT_EQ(o.count, 1);
  EXPECT_EQ(o.prefix_information_count, 1);
  EXPECT_EQ(o.unknown_count, 0);
  EXPECT_FALSE(o.mtu.has_value());
  EXPECT_TRUE(o.source_link_layer.empty());
  EXPECT_EQ(o.encoded.size(), 32u);
  ASSERT_TRUE(o.prefix_information.has_value());
  EXPECT_EQ(o.prefix_information->prefix_length, 64);
  EXPECT_EQ(o.prefix_information->flags, 0x40);
  EXPECT_EQ(o.prefix_information->valid_lifetime, 4294967295u);
  EXPECT_EQ(o.prefix_information->preferred_lifetime, 4294967295u);
  EXPECT_EQ(o.prefix_information->prefix, v6("2001:0:c288:1c4c:ff00:0:20:100"));
}

TEST(RouterAdvertisement, CapturedRaRebuildsExactly) {
  const ByteVector frame = hex(cap::kNdpiFrame2);
  const ByteVector ipv6(frame.begin() + cap::kEthIpv4UdpHeaders + 21, frame.end());
  RouterAdvertisement fields;
  fields.reachable_time = 15000;
  fields.retrans_timer = 2000;
  PrefixInformation pi;
  pi.prefix_length = 64;
  pi.flags = 0x40;
  pi.prefix = v6("2001:0:c288:1c4c:ff00:0:20:100");
  ByteVector options;
  append_prefix_information_option(options, pi);
  EXPECT_EQ(hexstr(build_router_advertisement(v6("fe80::8000:f227:3d77:e3b3"),
                                              v6("fe80::ffff:ffff:fffe"), fields, options)),
            hexstr(ipv6));
}

TEST(RouterSolicitation, CapturedRsHasNoOptions) {
  const ByteVector frame = hex(cap::kNdpiFrame1);
  const ByteVector ipv6(frame.begin() + cap::kEthIpv4UdpHeaders + 13, frame.end());
  const auto m = icmp_of(ipv6);
  ASSERT_TRUE(m.ok());
  const auto rs = parse_router_solicitation(*m);
  ASSERT_TRUE(rs.ok()) << to_string(rs.error());
  EXPECT_EQ(rs->options.count, 0);
  EXPECT_TRUE(rs->options.encoded.empty());
}

TEST(NdOptionEncoders, WriteExactBytes) {
  ByteVector mtu;
  append_mtu_option(mtu, 1280);
  EXPECT_EQ(hexstr(mtu), "0501000000000500");

  ByteVector slla;
  append_source_link_layer_option(slla, hex("001b17000115"));
  EXPECT_EQ(hexstr(slla), "0101001b17000115");

  ByteVector long_slla;  // 8 address bytes need two units, zero padded
  append_source_link_layer_option(long_slla, hex("0102030405060708"));
  EXPECT_EQ(hexstr(long_slla), "0102010203040506" "0708000000000000");

  PrefixInformation pi;
  pi.prefix_length = 64;
  pi.flags = 0xC0;
  pi.valid_lifetime = 0x01020304;
  pi.preferred_lifetime = 0x05060708;
  pi.prefix = v6("2001:0:4136:e378::");
  ByteVector prefix;
  append_prefix_information_option(prefix, pi);
  EXPECT_EQ(hexstr(prefix),
            "0304" "40" "c0" "01020304" "05060708" "00000000" "200100004136e3780000000000000000");
}

TEST(RouterSolicitation, WithSourceLinkLayerRoundTrip) {
  ByteVector options;
  append_source_link_layer_option(options, hex("001b17000115"));
  const ByteVector packet =
      build_router_solicitation(v6("fe80::8000:ffff:ffff:fffd"), v6("ff02::2"), options);
  EXPECT_EQ(hexstr(Bytes(packet).subspan(40, 4)).substr(0, 4), "8500");
  EXPECT_EQ(hexstr(Bytes(packet).subspan(44)), "00000000" "0101001b17000115");
  const auto p = parse_ipv6_packet(packet);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->header.hop_limit, 255);
  const auto m = parse_icmpv6(*p);
  ASSERT_TRUE(m.ok()) << to_string(m.error());
  const auto rs = parse_router_solicitation(*m);
  ASSERT_TRUE(rs.ok()) << to_string(rs.error());
  EXPECT_EQ(rs->options.count, 1);
  EXPECT_EQ(hexstr(rs->options.source_link_layer), "001b17000115");
  EXPECT_EQ(rs->options.unknown_count, 0);
  EXPECT_EQ(rs->options.prefix_information_count, 0);
  // parse -> rebuild is the identity.
  EXPECT_EQ(hexstr(build_router_solicitation(p->header.source, p->header.destination,
                                             rs->options.encoded, p->header.hop_limit)),
            hexstr(packet));
}

TEST(RouterAdvertisement, WithPrefixAndMtuRoundTrip) {
  RouterAdvertisement fields;
  fields.cur_hop_limit = 64;
  fields.flags = 0xC0;
  fields.router_lifetime = 1800;
  fields.reachable_time = 30000;
  fields.retrans_timer = 1000;
  PrefixInformation pi;
  pi.prefix_length = 64;
  pi.flags = 0x40;
  pi.valid_lifetime = 86400;
  pi.preferred_lifetime = 14400;
  pi.prefix = v6("2001:0:4136:e378::");
  ByteVector options;
  append_prefix_information_option(options, pi);
  append_mtu_option(options, 1280);

  const ByteVector packet = build_router_advertisement(v6("fe80::8000:f227:3d77:e3b3"),
                                                       v6("fe80::ffff:ffff:fffe"), fields, options,
                                                       200);
  ASSERT_EQ(packet.size(), 40u + 16 + 32 + 8);
  EXPECT_EQ(hexstr(Bytes(packet).subspan(44, 12)), "40c00708" "00007530" "000003e8");
  const auto p = parse_ipv6_packet(packet);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->header.hop_limit, 200);
  const auto m = parse_icmpv6(*p);
  ASSERT_TRUE(m.ok()) << to_string(m.error());
  const auto ra = parse_router_advertisement(*m);
  ASSERT_TRUE(ra.ok()) << to_string(ra.error());
  EXPECT_EQ(ra->cur_hop_limit, 64);
  EXPECT_EQ(ra->flags, 0xC0);
  EXPECT_EQ(ra->router_lifetime, 1800);
  EXPECT_EQ(ra->reachable_time, 30000u);
  EXPECT_EQ(ra->retrans_timer, 1000u);
  EXPECT_EQ(ra->options.count, 2);
  EXPECT_EQ(ra->options.prefix_information_count, 1);
  ASSERT_TRUE(ra->options.prefix_information.has_value());
  EXPECT_EQ(*ra->options.prefix_information, pi);
  ASSERT_TRUE(ra->options.mtu.has_value());
  EXPECT_EQ(*ra->options.mtu, 1280u);
  EXPECT_EQ(hexstr(build_router_advertisement(p->header.source, p->header.destination, *ra,
                                              ra->options.encoded, p->header.hop_limit)),
            hexstr(packet));
}

// --- option lists -----------------------------------------------------------

const char* const kPrefixOption =
    "0304 40 40 ffffffff ffffffff 00000000 20010000c2881c4cff00000000200100";
const char* const kOtherPrefixOption =
    "0304 30 80 00000001 00000002 00000000 20010db8000000000000000000000000";

TEST(NdOptions, EmptyList) {
  const auto o = parse_nd_options({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->count, 0);
}

TEST(NdOptions, ZeroLengthOption) {
  EXPECT_EQ(parse_nd_options(hex("0100 000000000000")).error(), ParseError::nd_option_zero_length);
  // Also after a valid option, and for an unknown type.
  EXPECT_EQ(parse_nd_options(hex("0501000000000500 1900")).error(),
            ParseError::nd_option_zero_length);
}

TEST(NdOptions, OverlongOption) {
  // Length 2 (16 bytes) with only 8 bytes present.
  EXPECT_EQ(parse_nd_options(hex("0102 001b17000115")).error(), ParseError::nd_option_overlong);
  // Length 4 prefix information cut short by one byte.
  ByteVector cut = hex(kPrefixOption);
  cut.pop_back();
  EXPECT_EQ(parse_nd_options(cut).error(), ParseError::nd_option_overlong);
  // Length 255 at the end of a list.
  EXPECT_EQ(parse_nd_options(hex("0501000000000500 19ff")).error(),
            ParseError::nd_option_overlong);
}

TEST(NdOptions, TruncatedOptionHeader) {
  EXPECT_EQ(parse_nd_options(hex("01")).error(), ParseError::truncated_nd_option);
  EXPECT_EQ(parse_nd_options(hex("0501000000000500 03")).error(),
            ParseError::truncated_nd_option);
}

TEST(NdOptions, PrefixInformationWithLength3Or5) {
  // Type 3 with length 3 (24 bytes, all present) and length 5 (40 bytes).
  EXPECT_EQ(parse_nd_options(hex("0303 4040 ffffffff ffffffff 00000000 2001000000000000"))
                .error(),
            ParseError::bad_prefix_information_length);
  EXPECT_EQ(parse_nd_options(hex("0305 4040 ffffffff ffffffff 00000000"
                                 "20010000c2881c4cff00000000200100 0000000000000000"))
                .error(),
            ParseError::bad_prefix_information_length);
  EXPECT_EQ(parse_nd_options(hex("0301 4040 00000000")).error(),
            ParseError::bad_prefix_information_length);
}

TEST(NdOptions, MtuWithLength2) {
  EXPECT_EQ(parse_nd_options(hex("0502 0000 00000500 0000000000000000")).error(),
            ParseError::bad_mtu_option_length);
}

TEST(NdOptions, TwoPrefixOptionsAreCountedAndTheFirstIsKept) {
  const ByteVector list = concat({hex(kPrefixOption), hex(kOtherPrefixOption)});
  const auto o = parse_nd_options(list);
  ASSERT_TRUE(o.ok()) << to_string(o.error());
  EXPECT_EQ(o->count, 2);
  EXPECT_EQ(o->prefix_information_count, 2);
  ASSERT_TRUE(o->prefix_information.has_value());
  EXPECT_EQ(o->prefix_information->prefix, v6("2001:0:c288:1c4c:ff00:0:20:100"));
  EXPECT_EQ(o->prefix_information->prefix_length, 64);
}

TEST(NdOptions, UnknownOptionsAreSkipped) {
  // RDNSS (type 25, length 3) before and a made-up type 200 (length 1) after
  // an MTU option.
  const ByteVector list = hex(
      "1903 0000 00000e10 20010db8000000000000000000000053"
      "0501 0000 000005dc"
      "c801 000000000000");
  const auto o = parse_nd_options(list);
  ASSERT_TRUE(o.ok()) << to_string(o.error());
  EXPECT_EQ(o->count, 3);
  EXPECT_EQ(o->unknown_count, 2);
  ASSERT_TRUE(o->mtu.has_value());
  EXPECT_EQ(*o->mtu, 1500u);
  EXPECT_FALSE(o->prefix_information.has_value());
  EXPECT_EQ(o->encoded.size(), list.size());
}

TEST(NdOptions, FirstMtuAndFirstSourceLinkLayerAreKept) {
  const ByteVector list = hex(
      "0501 0000 00000500"
      "0101 001b17000115"
      "0501 0000 000005dc"
      "0101 6c416a8c8089");
  const auto o = parse_nd_options(list);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->count, 4);
  EXPECT_EQ(*o->mtu, 1280u);
  EXPECT_EQ(hexstr(o->source_link_layer), "001b17000115");
  EXPECT_EQ(o->unknown_count, 0);
}

TEST(NdOptions, ErrorsPropagateThroughRsAndRa) {
  const ByteVector rs = concat({hex("85000000 00000000"), hex("0100")});
  EXPECT_EQ(parse_router_solicitation(message_of(rs)).error(), ParseError::nd_option_zero_length);
  const ByteVector ra = concat({hex("86000000 00000000 00000000 00000000"), hex("0502")});
  EXPECT_EQ(parse_router_advertisement(message_of(ra)).error(), ParseError::nd_option_overlong);
  const ByteVector ra_pi = concat(
      {hex("86000000 00000000 00000000 00000000"), hex("0301 4040 00000000")});
  EXPECT_EQ(parse_router_advertisement(message_of(ra_pi)).error(),
            ParseError::bad_prefix_information_length);
}

TEST(RouterMessages, Errors) {
  // Wrong type for each parser.
  EXPECT_EQ(parse_router_solicitation(message_of(hex("86000000 00000000 00000000 00000000")))
                .error(),
            ParseError::wrong_icmpv6_type);
  EXPECT_EQ(parse_router_advertisement(message_of(hex("85000000 00000000"))).error(),
            ParseError::wrong_icmpv6_type);
  EXPECT_EQ(parse_router_solicitation(message_of(hex("80000000 00000000"))).error(),
            ParseError::wrong_icmpv6_type);
  // RS shorter than its 4 reserved bytes; RA shorter than its 12 fixed bytes.
  EXPECT_EQ(parse_router_solicitation(message_of(hex("85000000"))).error(),
            ParseError::truncated_router_solicitation);
  EXPECT_EQ(parse_router_solicitation(message_of(hex("85000000 000000"))).error(),
            ParseError::truncated_router_solicitation);
  EXPECT_TRUE(parse_router_solicitation(message_of(hex("85000000 00000000"))).ok());
  EXPECT_EQ(parse_router_advertisement(message_of(hex("86000000 00000000 00000000 000000")))
                .error(),
            ParseError::truncated_router_advertisement);
  EXPECT_EQ(parse_router_advertisement(message_of(hex("86000000"))).error(),
            ParseError::truncated_router_advertisement);
  EXPECT_TRUE(
      parse_router_advertisement(message_of(hex("86000000 00000000 00000000 00000000"))).ok());
}

}  // namespace
}  // namespace teredo::wire
