// Whole Teredo UDP payloads (RFC 4380 §5.1.1): [authentication][origin] IPv6.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "captures.hpp"
#include "teredo/wire/datagram.hpp"
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

ByteVector udp_payload(std::string_view frame) {
  const ByteVector f = hex(frame);
  return ByteVector(f.begin() + cap::kEthIpv4UdpHeaders, f.end());
}

// Rebuilds the bytes of a parsed datagram from its fields.
ByteVector rebuild(const TeredoDatagram& d) {
  std::optional<AuthenticationFields> auth;
  if (d.authentication) {
    auth = AuthenticationFields{d.authentication->client_id,
                                d.authentication->authentication_value, d.authentication->nonce,
                                d.authentication->confirmation};
  }
  ByteVector out;
  EXPECT_TRUE(append_datagram(out, auth, d.origin, d.ipv6.packet, d.ipv6.trailer));
  return out;
}

TEST(Datagram, CapturedRouterSolicitationWithAuthentication) {
  const ByteVector payload = udp_payload(cap::kNdpiFrame1);
  ASSERT_EQ(payload.size(), 61u);  // tshark: UDP payload (61 bytes)
  const auto d = parse_datagram(payload);
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  ASSERT_TRUE(d->authentication.has_value());
  EXPECT_EQ(hexstr(d->authentication->nonce), "b11b3fea46a9afe9");
  EXPECT_EQ(d->authentication->confirmation, 0);
  EXPECT_TRUE(d->authentication->client_id.empty());
  EXPECT_TRUE(d->authentication->authentication_value.empty());
  EXPECT_FALSE(d->origin.has_value());
  EXPECT_TRUE(d->origin_encoded.empty());
  EXPECT_EQ(d->ipv6.header.source, v6("fe80::ffff:ffff:fffe"));
  EXPECT_EQ(d->ipv6.header.destination, v6("ff02::2"));
  EXPECT_EQ(d->ipv6.header.payload_length, 8);
  EXPECT_EQ(d->ipv6.header.next_header, 58);
  EXPECT_EQ(d->ipv6.header.hop_limit, 255);
  EXPECT_EQ(d->ipv6.packet.size(), 48u);
  EXPECT_EQ(d->ipv6.packet.data(), payload.data() + 13);
  EXPECT_TRUE(d->ipv6.trailer.empty());
}

TEST(Datagram, CapturedRouterAdvertisementWithAuthenticationAndOrigin) {
  const ByteVector payload = udp_payload(cap::kNdpiFrame2);
  ASSERT_EQ(payload.size(), 109u);
  const auto d = parse_datagram(payload);
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  ASSERT_TRUE(d->authentication.has_value());
  EXPECT_EQ(hexstr(d->authentication->nonce), "b11b3fea46a9afe9");
  ASSERT_TRUE(d->origin.has_value());
  EXPECT_EQ(d->origin->port, 52513);
  EXPECT_EQ(d->origin->address, v4(185, 6, 192, 185));
  EXPECT_EQ(hexstr(d->origin_encoded), "000032de46f93f46");
  EXPECT_EQ(d->ipv6.header.source, v6("fe80::8000:f227:3d77:e3b3"));
  EXPECT_EQ(d->ipv6.header.destination, v6("fe80::ffff:ffff:fffe"));
  EXPECT_EQ(d->ipv6.header.payload_length, 48);
  EXPECT_EQ(d->ipv6.packet.size(), 88u);
}

TEST(Datagram, CapturedEchoRequestIsSimpleEncapsulation) {
  const ByteVector payload = udp_payload(cap::kNdpiFrame9);
  const auto d = parse_datagram(payload);
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_FALSE(d->authentication.has_value());
  EXPECT_FALSE(d->origin.has_value());
  EXPECT_EQ(d->ipv6.header.source, v6("2001:0:c288:1c4c:20f3:359b:46f9:3f46"));
  EXPECT_EQ(d->ipv6.header.destination, v6("2002:c288:1c4c::c288:1c4d"));
  EXPECT_EQ(d->ipv6.header.hop_limit, 21);
  EXPECT_EQ(d->ipv6.packet.size(), payload.size());
}

TEST(Datagram, CapturedBubbleWithOrigin) {
  const ByteVector payload = udp_payload(cap::kNdpiFrame15);
  const auto d = parse_datagram(payload);
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_FALSE(d->authentication.has_value());
  ASSERT_TRUE(d->origin.has_value());
  EXPECT_EQ(d->origin->port, 3544);
  EXPECT_EQ(d->origin->address, v4(194, 136, 28, 76));
  EXPECT_TRUE(is_bubble(d->ipv6));
  EXPECT_EQ(d->ipv6.header.hop_limit, 21);
  EXPECT_EQ(d->ipv6.header.destination, v6("2001:0:c288:1c4c:20f3:359b:46f9:3f46"));
}

TEST(Datagram, ParseThenRebuildGivesIdenticalBytes) {
  for (std::string_view frame : {cap::kNdpiFrame1, cap::kNdpiFrame2, cap::kNdpiFrame9,
                                 cap::kNdpiFrame15, cap::kNdpiFrame16}) {
    const ByteVector payload = udp_payload(frame);
    const auto d = parse_datagram(payload);
    ASSERT_TRUE(d.ok()) << to_string(d.error());
    EXPECT_EQ(hexstr(rebuild(*d)), hexstr(payload));
  }
}

// Build -> parse for every combination of the two optional encapsulations.
class DatagramRoundTrip : public testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(DatagramRoundTrip, BuildThenParseGivesTheSameFields) {
  const auto [with_auth, with_origin] = GetParam();
  const ByteVector id = {'c', 'l', 'i', 'e', 'n', 't'};
  const ByteVector value = hex("00112233445566778899aabbccddeeff01234567");
  const ByteVector ipv6 =
      build_echo(v6("2001:0:4136:e378:8000:63bf:3fff:fdd2"), v6("2001:db8::1"), 64,
                 EchoMessage{false, 0x1234, 0x0001, Bytes(value).first(5)});

  std::optional<AuthenticationFields> auth;
  if (with_auth) {
    auth = AuthenticationFields{id, value, {8, 7, 6, 5, 4, 3, 2, 1}, 0x01};
  }
  std::optional<OriginIndication> origin;
  if (with_origin) origin = OriginIndication{40000, v4(192, 0, 2, 45)};

  ByteVector out;
  ASSERT_TRUE(append_datagram(out, auth, origin, ipv6));
  const std::size_t expected_size =
      (with_auth ? 13 + id.size() + value.size() : 0) + (with_origin ? 8 : 0) + ipv6.size();
  ASSERT_EQ(out.size(), expected_size);

  const auto d = parse_datagram(out);
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(d->authentication.has_value(), with_auth);
  if (with_auth) {
    EXPECT_EQ(hexstr(d->authentication->client_id), "636c69656e74");
    EXPECT_EQ(hexstr(d->authentication->authentication_value),
              "00112233445566778899aabbccddeeff01234567");
    EXPECT_EQ(hexstr(d->authentication->nonce), "0807060504030201");
    EXPECT_EQ(d->authentication->confirmation, 1);
    EXPECT_EQ(d->authentication->encoded.size(), 13u + 6 + 20);
  }
  EXPECT_EQ(d->origin.has_value(), with_origin);
  if (with_origin) {
    EXPECT_EQ(d->origin->port, 40000);
    EXPECT_EQ(d->origin->address, v4(192, 0, 2, 45));
    EXPECT_EQ(hexstr(d->origin_encoded), "000063bf3ffffdd2");
  } else {
    EXPECT_TRUE(d->origin_encoded.empty());
  }
  EXPECT_EQ(hexstr(d->ipv6.packet), hexstr(ipv6));
  EXPECT_TRUE(d->ipv6.trailer.empty());
  EXPECT_EQ(hexstr(rebuild(*d)), hexstr(out));
}

INSTANTIATE_TEST_SUITE_P(AuthAndOrigin, DatagramRoundTrip,
                         testing::Combine(testing::Bool(), testing::Bool()),
                         [](const testing::TestParamInfo<std::tuple<bool, bool>>& p) {
                           return std::string(std::get<0>(p.param) ? "Auth" : "NoAuth") +
                                  (std::get<1>(p.param) ? "Origin" : "NoOrigin");
                         });

TEST(Datagram, AppendRefusesOversizedAuthenticationAndWritesNothing) {
  const ByteVector big(256, 1);
  AuthenticationFields f;
  f.authentication_value = big;
  ByteVector out;
  EXPECT_FALSE(append_datagram(out, f, std::nullopt, hex("6000000000003b15")));
  EXPECT_TRUE(out.empty());
}

TEST(Datagram, TrailersAreRejectedByDefaultAndKeptOnRequest) {
  // RFC 6081 §4 trailers after a bubble, as in zeek-teredo_bubble_with_payload.pcap
  // ("1234" after a zero-length IPv6 packet).
  const ByteVector bubble = build_bubble(v6("2001:db8::1"), v6("2001:db8::2"));
  const ByteVector trailer = {'1', '2', '3', '4'};
  ByteVector out;
  ASSERT_TRUE(append_datagram(out, std::nullopt, OriginIndication{3544, v4(192, 0, 2, 1)},
                              bubble, trailer));
  ASSERT_EQ(out.size(), 8 + 40 + 4u);
  EXPECT_EQ(parse_datagram(out).error(), ParseError::trailing_bytes_after_ipv6_packet);
  const auto d = parse_datagram(out, DatagramParseOptions{.accept_trailers = true});
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(hexstr(d->ipv6.trailer), "31323334");
  EXPECT_EQ(d->ipv6.packet.size(), 40u);
  EXPECT_TRUE(is_bubble(d->ipv6));
  EXPECT_EQ(hexstr(rebuild(*d)), hexstr(out));
}

TEST(Datagram, Errors) {
  const ByteVector ipv6 = build_bubble(v6("2001:db8::1"), v6("2001:db8::2"));
  const ByteVector auth = hex("00010000 0102030405060708 00");
  const ByteVector origin = hex("0000feaefefdfcfb");

  EXPECT_EQ(parse_datagram({}).error(), ParseError::empty_datagram);
  EXPECT_EQ(parse_datagram(hex("00")).error(), ParseError::unknown_encapsulation);
  EXPECT_EQ(parse_datagram(concat({auth, hex("00")})).error(), ParseError::unknown_encapsulation);
  EXPECT_EQ(parse_datagram(concat({hex("0002"), ipv6})).error(),
            ParseError::unknown_encapsulation);
  EXPECT_EQ(parse_datagram(concat({hex("00ff"), ipv6})).error(),
            ParseError::unknown_encapsulation);
  EXPECT_EQ(parse_datagram(concat({auth, auth, ipv6})).error(),
            ParseError::duplicate_authentication);
  EXPECT_EQ(parse_datagram(concat({auth, origin, origin, ipv6})).error(),
            ParseError::duplicate_origin_indication);
  EXPECT_EQ(parse_datagram(concat({origin, auth, ipv6})).error(),
            ParseError::authentication_after_origin_indication);
  EXPECT_EQ(parse_datagram(concat({origin, origin, ipv6})).error(),
            ParseError::duplicate_origin_indication);
  EXPECT_EQ(parse_datagram(Bytes(auth).first(12)).error(), ParseError::truncated_authentication);
  EXPECT_EQ(parse_datagram(hex("0001ff00 0102030405060708 00")).error(),
            ParseError::truncated_authentication);
  EXPECT_EQ(parse_datagram(Bytes(origin).first(7)).error(),
            ParseError::truncated_origin_indication);
  EXPECT_EQ(parse_datagram(concat({auth, Bytes(origin).first(3)})).error(),
            ParseError::truncated_origin_indication);
  // Encapsulations with no IPv6 packet behind them.
  EXPECT_EQ(parse_datagram(auth).error(), ParseError::not_ipv6);
  EXPECT_EQ(parse_datagram(origin).error(), ParseError::not_ipv6);
  // Not IPv6 at all: an IPv4 header, a DNS-like payload.
  EXPECT_EQ(parse_datagram(hex("4500001c")).error(), ParseError::not_ipv6);
  EXPECT_EQ(parse_datagram(hex("01")).error(), ParseError::not_ipv6);
  EXPECT_EQ(parse_datagram(Bytes(ipv6).first(39)).error(), ParseError::truncated_ipv6_header);
  ByteVector long_payload = ipv6;
  long_payload[5] = 1;  // payload length 1, nothing behind the header
  EXPECT_EQ(parse_datagram(long_payload).error(), ParseError::truncated_ipv6_payload);
  EXPECT_EQ(parse_datagram(concat({ipv6, hex("00")})).error(),
            ParseError::trailing_bytes_after_ipv6_packet);
}

}  // namespace
}  // namespace teredo::wire
