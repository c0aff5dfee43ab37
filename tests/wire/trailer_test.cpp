// RFC 6081 §4 trailers: the walk (order, skipping, stopping at a malformed
// one), each trailer's typed value, and build -> parse round trips.
#include <gtest/gtest.h>

#include "teredo/wire/trailer.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::hex;

TEST(TrailerWalk, GivesTrailersInOrderAndStopsAtAMalformedOne) {
  // nonce, an unknown skippable 0x80 of 2 bytes, then a trailer claiming 9
  // bytes with 1 left (R6081-5.1.2-04).
  const ByteVector in = hex("01 04 de ad be ef 80 02 aa bb 05 09 01");
  TrailerWalk walk(in);
  Trailer t;
  ASSERT_TRUE(walk.next(t));
  EXPECT_EQ(t.type, kTrailerNonce);
  EXPECT_EQ(parse_nonce_trailer(t).value(), 0xdeadbeefu);
  ASSERT_TRUE(walk.next(t));
  EXPECT_EQ(t.type, 0x80);
  EXPECT_EQ(t.value.size(), 2u);
  EXPECT_FALSE(walk.next(t));
  EXPECT_TRUE(walk.malformed());
  EXPECT_FALSE(walk.next(t));  // stays stopped
}

TEST(TrailerWalk, EndIsNotMalformedAndOneByteLeftIs) {
  const ByteVector whole = hex("05 02 30 39");
  TrailerWalk a(whole);
  Trailer t;
  ASSERT_TRUE(a.next(t));
  EXPECT_FALSE(a.next(t));
  EXPECT_FALSE(a.malformed());
  const ByteVector one = hex("05 02 30 39 01");
  TrailerWalk b(one);
  ASSERT_TRUE(b.next(t));
  EXPECT_FALSE(b.next(t));
  EXPECT_TRUE(b.malformed());
}

TEST(TrailerWalk, FindTrailerSeesNothingPastAMalformedOne) {
  Trailer t;
  const ByteVector skip_then_port = hex("80 00 05 02 30 39");  // t views into it
  EXPECT_TRUE(find_trailer(skip_then_port, kTrailerRandomPort, t));
  EXPECT_EQ(parse_random_port_trailer(t).value(), 12345);
  EXPECT_FALSE(find_trailer(hex("80 05 00 05 02 30 39"), kTrailerRandomPort, t));  // inside the 0x80 one's value
  EXPECT_FALSE(find_trailer(hex("01"), kTrailerNonce, t));
}

TEST(TrailerMustBeUnderstood, TopBits01Only) {
  EXPECT_TRUE(trailer_type_must_be_understood(0x40));
  EXPECT_TRUE(trailer_type_must_be_understood(0x7f));
  EXPECT_FALSE(trailer_type_must_be_understood(0x80));
  EXPECT_FALSE(trailer_type_must_be_understood(0x01));
  EXPECT_FALSE(trailer_type_must_be_understood(0xc0));
}

TEST(TrailerBuild, EachTrailerRoundTrips) {
  ByteVector out;
  append_nonce_trailer(out, 0x01020304);
  const AlternateAddress alt[2] = {{Ipv4Address::from_octets(192, 0, 2, 20), 3544},
                                   {Ipv4Address::from_octets(198, 51, 100, 1), 40001}};
  ASSERT_TRUE(append_alternate_address_trailer(out, alt, 2));
  append_neighbor_discovery_trailer(out, kDiscoveryAdvertisement);
  append_random_port_trailer(out, 50000);
  EXPECT_EQ(out, hex("01 04 01 02 03 04"
                     "03 0e 00 00 c0 00 02 14 0d d8 c6 33 64 01 9c 41"
                     "04 04 01 00 00 00"
                     "05 02 c3 50"));
  TrailerWalk walk(out);
  Trailer t;
  ASSERT_TRUE(walk.next(t));
  EXPECT_EQ(parse_nonce_trailer(t).value(), 0x01020304u);
  ASSERT_TRUE(walk.next(t));
  const auto a = parse_alternate_address_trailer(t);
  ASSERT_TRUE(a.ok()) << to_string(a.error());
  ASSERT_EQ(a.value().count, 2u);
  EXPECT_EQ(a.value().entries[0], alt[0]);
  EXPECT_EQ(a.value().entries[1], alt[1]);
  ASSERT_TRUE(walk.next(t));
  EXPECT_EQ(parse_neighbor_discovery_trailer(t).value(), kDiscoveryAdvertisement);
  ASSERT_TRUE(walk.next(t));
  EXPECT_EQ(parse_random_port_trailer(t).value(), 50000);
  EXPECT_FALSE(walk.next(t));
  EXPECT_FALSE(walk.malformed());
}

TEST(TrailerBuild, AlternateAddressListOfNoneOrFiveIsRefused) {
  ByteVector out;
  const AlternateAddress five[5] = {};
  EXPECT_FALSE(append_alternate_address_trailer(out, five, 0));
  EXPECT_FALSE(append_alternate_address_trailer(out, five, 5));
  EXPECT_TRUE(out.empty());
}

TEST(TrailerParse, ReservedBytesAreIgnoredOnReceipt) {
  Trailer t;
  const ByteVector alternate = hex("03 08 ff ff c0 00 02 14 0d d8");  // t views into it
  ASSERT_TRUE(find_trailer(alternate, kTrailerAlternateAddress, t));
  const auto a = parse_alternate_address_trailer(t);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().reserved, 0xffff);
  EXPECT_EQ(a.value().count, 1u);
  const ByteVector discovery = hex("04 04 00 ff ff ff");
  ASSERT_TRUE(find_trailer(discovery, kTrailerNeighborDiscovery, t));
  EXPECT_EQ(parse_neighbor_discovery_trailer(t).value(), kDiscoverySolicitation);
}

TEST(TrailerParse, FourEntriesIsTheMostAndAPrivateAddressIsUnicast) {
  Trailer t;
  const ByteVector four = hex("03 1a 00 00 0a 00 00 01 00 01 0a 00 00 02 00 02 0a 00 00 03 00 03 0a 00 00 04 00 04");
  ASSERT_TRUE(find_trailer(four, kTrailerAlternateAddress, t));
  const auto a = parse_alternate_address_trailer(t);
  ASSERT_TRUE(a.ok()) << to_string(a.error());
  EXPECT_EQ(a.value().count, 4u);
  const ByteVector five = hex("03 20 00 00 0a 00 00 01 00 01 0a 00 00 02 00 02 0a 00 00 03 00 03 0a 00 00 04 00 04 "
                               "0a 00 00 05 00 05");
  ASSERT_TRUE(find_trailer(five, kTrailerAlternateAddress, t));
  EXPECT_EQ(parse_alternate_address_trailer(t).error(), ParseError::bad_trailer_length);
}

}  // namespace
}  // namespace teredo::wire
