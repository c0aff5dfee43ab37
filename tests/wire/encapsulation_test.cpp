// The authentication and origin-indication encapsulations (RFC 4380 §5.1.1).
#include <gtest/gtest.h>

#include <string>

#include "captures.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::hex;
using test::hexstr;
using test::v4;

TEST(OriginIndication, Rfc4380ExampleEncodes) {
  // §5.1.1: "if the original UDP port number was 337 (hexadecimal 0151) and
  // original IPv4 address was 1.2.3.4 (hexadecimal 01020304), the origin
  // indication would contain the value "0000FEAEFEFDFCFB"."
  ByteVector out;
  append_origin_indication(out, OriginIndication{337, v4(1, 2, 3, 4)});
  EXPECT_EQ(hexstr(out), "0000feaefefdfcfb");
}

TEST(OriginIndication, Rfc4380ExampleParses) {
  const ByteVector bytes = {0x00, 0x00, 0xFE, 0xAE, 0xFE, 0xFD, 0xFC, 0xFB};
  const auto o = parse_origin_indication(bytes);
  ASSERT_TRUE(o.ok()) << to_string(o.error());
  EXPECT_EQ(o->port, 337);
  EXPECT_EQ(o->address, v4(1, 2, 3, 4));
}

TEST(OriginIndication, CapturedOriginMatchesTshark) {
  // ndpi-teredo.pcap frame 2, UDP payload bytes 13..20: tshark shows origin
  // port 52513, origin address 185.6.192.185.
  const auto o = parse_origin_indication(hex("0000 32de 46f9 3f46"));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->port, 52513);
  EXPECT_EQ(o->address, v4(185, 6, 192, 185));
}

TEST(OriginIndication, ExtremeValues) {
  ByteVector out;
  append_origin_indication(out, OriginIndication{0, v4(0, 0, 0, 0)});
  EXPECT_EQ(hexstr(out), "0000ffffffffffff");
  out.clear();
  append_origin_indication(out, OriginIndication{65535, v4(255, 255, 255, 255)});
  EXPECT_EQ(hexstr(out), "0000000000000000");
  const auto o = parse_origin_indication(out);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->port, 65535);
  EXPECT_EQ(o->address, v4(255, 255, 255, 255));
}

TEST(OriginIndication, AppendsAfterExistingBytes) {
  ByteVector out = {0xAA};
  append_origin_indication(out, OriginIndication{3544, v4(194, 136, 28, 76)});
  EXPECT_EQ(hexstr(out), "aa" "0000f227" "3d77e3b3");  // ndpi-teredo.pcap frame 15
}

TEST(OriginIndication, EveryTruncationIsReported) {
  const ByteVector full = hex("0000feaefefdfcfb");
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(parse_origin_indication(Bytes(full).first(n)).error(),
              ParseError::truncated_origin_indication)
        << n;
  }
}

TEST(OriginIndication, WrongIndicatorIsUnknownEncapsulation) {
  EXPECT_EQ(parse_origin_indication(hex("0001feaefefdfcfb")).error(),
            ParseError::unknown_encapsulation);
  EXPECT_EQ(parse_origin_indication(hex("6000000000000000")).error(),
            ParseError::unknown_encapsulation);
}

TEST(Authentication, CapturedAuthenticationMatchesTshark) {
  // ndpi-teredo.pcap frame 1, first 13 bytes of the UDP payload: ID-len 0,
  // AU-len 0, nonce b11b3fea46a9afe9, confirmation 0; followed by IPv6.
  const ByteVector payload = hex("00010000b11b3fea46a9afe900 6000");
  const auto a = parse_authentication(payload);
  ASSERT_TRUE(a.ok()) << to_string(a.error());
  EXPECT_TRUE(a->client_id.empty());
  EXPECT_TRUE(a->authentication_value.empty());
  EXPECT_EQ(hexstr(a->nonce), "b11b3fea46a9afe9");
  EXPECT_EQ(a->confirmation, 0);
  EXPECT_EQ(a->encoded.size(), 13u);
  EXPECT_EQ(a->encoded.data(), payload.data());
}

TEST(Authentication, FieldsWithIdAndValue) {
  //            ind  idl aul  id "abc"  value      nonce            conf
  const ByteVector bytes = hex("0001 03 02 616263 fe01 0102030405060708 07 ffff");
  const auto a = parse_authentication(bytes);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(hexstr(a->client_id), "616263");
  EXPECT_EQ(hexstr(a->authentication_value), "fe01");
  EXPECT_EQ(hexstr(a->nonce), "0102030405060708");
  EXPECT_EQ(a->confirmation, 7);
  EXPECT_EQ(a->encoded.size(), 18u);  // the two trailing bytes are not part of it
}

TEST(Authentication, AppendWritesTheRfcLayout) {
  const ByteVector id = {'a', 'b', 'c'};
  const ByteVector value = {0xFE, 0x01};
  AuthenticationFields f;
  f.client_id = id;
  f.authentication_value = value;
  f.nonce = {1, 2, 3, 4, 5, 6, 7, 8};
  f.confirmation = 7;
  ByteVector out = {0x99};
  ASSERT_TRUE(append_authentication(out, f));
  EXPECT_EQ(hexstr(out), "99" "0001" "03" "02" "616263" "fe01" "0102030405060708" "07");
}

TEST(Authentication, AppendWithoutIdOrValueIsThirteenBytes) {
  AuthenticationFields f;
  f.nonce = {0xb1, 0x1b, 0x3f, 0xea, 0x46, 0xa9, 0xaf, 0xe9};
  ByteVector out;
  ASSERT_TRUE(append_authentication(out, f));
  EXPECT_EQ(hexstr(out), "00010000b11b3fea46a9afe900");  // ndpi-teredo.pcap frame 1
}

TEST(Authentication, AppendRefusesLengthsAbove255AndWritesNothing) {
  const ByteVector big(256, 0x5A);
  const ByteVector max(255, 0x5A);
  ByteVector out = {0x42};
  AuthenticationFields f;
  f.client_id = big;
  EXPECT_FALSE(append_authentication(out, f));
  EXPECT_EQ(hexstr(out), "42");
  f.client_id = {};
  f.authentication_value = big;
  EXPECT_FALSE(append_authentication(out, f));
  EXPECT_EQ(hexstr(out), "42");

  f.client_id = max;
  f.authentication_value = max;
  ASSERT_TRUE(append_authentication(out, f));
  ASSERT_EQ(out.size(), 1u + 4 + 255 + 255 + 8 + 1);
  EXPECT_EQ(out[3], 0xFF);
  EXPECT_EQ(out[4], 0xFF);
  const auto back = parse_authentication(Bytes(out).subspan(1));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->client_id.size(), 255u);
  EXPECT_EQ(back->authentication_value.size(), 255u);
}

TEST(Authentication, EveryTruncationIsReported) {
  const ByteVector full = hex("0001 03 02 616263 fe01 0102030405060708 07");
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(parse_authentication(Bytes(full).first(n)).error(),
              ParseError::truncated_authentication)
        << n;
  }
  EXPECT_TRUE(parse_authentication(full).ok());
}

TEST(Authentication, LengthsRunningPastTheBufferAreTruncation) {
  // ID-len 255 with only a nonce and confirmation behind it.
  EXPECT_EQ(parse_authentication(hex("0001ff00 0102030405060708 00")).error(),
            ParseError::truncated_authentication);
  EXPECT_EQ(parse_authentication(hex("000100ff 0102030405060708 00")).error(),
            ParseError::truncated_authentication);
}

TEST(Authentication, WrongIndicatorIsUnknownEncapsulation) {
  EXPECT_EQ(parse_authentication(hex("00020000 0102030405060708 00")).error(),
            ParseError::unknown_encapsulation);
}

}  // namespace
}  // namespace teredo::wire
