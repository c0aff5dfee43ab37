// Teredo addresses (RFC 4380 §4, flags per RFC 5991 §3.1) and IPv6 address text.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "teredo/wire/teredo_address.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::hexstr;
using test::v4;
using test::v6;

// The well-known example address: server 65.54.227.120, cone flag, mapped
// port 40000, mapped client IPv4 192.0.2.45 (port and IPv4 bit-inverted).
constexpr const char* kWellKnown = "2001:0000:4136:e378:8000:63bf:3fff:fdd2";

TEST(TeredoAddress, WellKnownExampleParsesToItsFields) {
  const auto t = parse_teredo(kWellKnown);
  ASSERT_TRUE(t.ok()) << to_string(t.error());
  EXPECT_EQ(t->server, v4(65, 54, 227, 120));
  EXPECT_EQ(t->server.value, 0x4136E378u);
  EXPECT_EQ(t->flags, 0x8000);
  EXPECT_TRUE(t->cone());
  EXPECT_EQ(t->random_bits(), 0);
  EXPECT_TRUE(t->flags_valid_to_send());
  EXPECT_EQ(t->mapped_port, 40000);
  EXPECT_EQ(t->mapped_ipv4, v4(192, 0, 2, 45));
}

TEST(TeredoAddress, WellKnownExampleBuildsFromItsFields) {
  TeredoAddress t;
  t.server = v4(65, 54, 227, 120);
  t.flags = 0x8000;
  t.mapped_port = 40000;
  t.mapped_ipv4 = v4(192, 0, 2, 45);
  const Ipv6Address a = t.to_ipv6();
  EXPECT_EQ(hexstr(a.bytes), "20010000" "4136e378" "8000" "63bf" "3ffffdd2");
  EXPECT_EQ(a, v6(kWellKnown));
  EXPECT_EQ(to_string(a), "2001:0:4136:e378:8000:63bf:3fff:fdd2");
}

TEST(TeredoAddress, CapturedRfc5991AddressMatchesTshark) {
  // ndpi-teredo.pcap frame 9: tshark shows server 194.136.28.76, client port
  // 51812, client IPv4 185.6.192.185; flags 0x20f3 are RFC 5991 random bits.
  const auto t = parse_teredo(v6("2001:0:c288:1c4c:20f3:359b:46f9:3f46"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->server, v4(194, 136, 28, 76));
  EXPECT_EQ(t->mapped_port, 51812);
  EXPECT_EQ(t->mapped_ipv4, v4(185, 6, 192, 185));
  EXPECT_EQ(t->flags, 0x20F3);
  EXPECT_FALSE(t->cone());
  EXPECT_EQ(t->random_bits(), 0x20F3);
  EXPECT_TRUE(t->flags_valid_to_send());
}

TEST(TeredoAddress, MakeFlagsKeepsOnlyConeAndRandomBits) {
  EXPECT_EQ(make_teredo_flags(false, 0x0000), 0x0000);
  EXPECT_EQ(make_teredo_flags(true, 0x0000), 0x8000);
  EXPECT_EQ(make_teredo_flags(false, 0xFFFF), 0x3CFF);
  EXPECT_EQ(make_teredo_flags(true, 0xFFFF), 0xBCFF);
  EXPECT_EQ(make_teredo_flags(false, 0x4300), 0x0000);  // R, U, G never set
  EXPECT_EQ(make_teredo_flags(false, 0x8000), 0x0000);  // random cannot set C
  EXPECT_EQ(make_teredo_flags(true, 0x1234), 0x9034);
}

TEST(TeredoAddress, MakeFlagsNeverSetsReservedUniversalOrGroupForAnyRandom) {
  for (std::uint32_t r = 0; r <= 0xFFFF; ++r) {
    const auto random = static_cast<std::uint16_t>(r);
    for (bool cone : {false, true}) {
      const std::uint16_t f = make_teredo_flags(cone, random);
      ASSERT_EQ(f & 0x4000, 0) << r;
      ASSERT_EQ(f & 0x0200, 0) << r;
      ASSERT_EQ(f & 0x0100, 0) << r;
      ASSERT_EQ(f & 0x3CFF, r & 0x3CFF) << r;
      ASSERT_EQ((f & 0x8000) != 0, cone) << r;
    }
  }
}

TEST(TeredoAddress, AnyFlagsAreAcceptedOnParse) {
  const auto all = parse_teredo("2001:0:4136:e378:ffff:63bf:3fff:fdd2");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->flags, 0xFFFF);
  EXPECT_TRUE(all->cone());
  EXPECT_EQ(all->random_bits(), 0x3CFF);
  EXPECT_FALSE(all->flags_valid_to_send());
  EXPECT_EQ(all->mapped_port, 40000);

  struct Case {
    std::uint16_t flags;
    bool valid;
  };
  for (const Case c : {Case{0x4000, false}, Case{0x0200, false}, Case{0x0100, false},
                       Case{0x0000, true}, Case{0x8000, true}, Case{0x3CFF, true},
                       Case{0xBCFF, true}}) {
    Ipv6Address a = v6(kWellKnown);
    a.bytes[8] = static_cast<std::uint8_t>(c.flags >> 8);
    a.bytes[9] = static_cast<std::uint8_t>(c.flags);
    const auto t = parse_teredo(a);
    ASSERT_TRUE(t.ok()) << c.flags;
    EXPECT_EQ(t->flags, c.flags);
    EXPECT_EQ(t->flags_valid_to_send(), c.valid) << std::hex << c.flags;
  }
}

TEST(TeredoAddress, PrefixBoundaries) {
  EXPECT_TRUE(is_teredo(v6("2001::")));
  EXPECT_TRUE(is_teredo(v6("2001:0:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(is_teredo(v6("2001:1::")));
  EXPECT_FALSE(is_teredo(v6("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(is_teredo(v6("2002:c288:1c4c::c288:1c4d")));  // 6to4
  EXPECT_FALSE(is_teredo(v6("fe80::8000:f227:3d77:e3b3")));
  EXPECT_EQ(parse_teredo(v6("2001:1::1")).error(), ParseError::not_teredo_prefix);
  EXPECT_EQ(parse_teredo(v6("::")).error(), ParseError::not_teredo_prefix);
}

TEST(TeredoAddress, TextErrors) {
  EXPECT_EQ(parse_teredo("2002::1").error(), ParseError::not_teredo_prefix);
  EXPECT_EQ(parse_teredo("not an address").error(), ParseError::bad_ipv6_text);
  EXPECT_EQ(parse_teredo("").error(), ParseError::bad_ipv6_text);
  EXPECT_EQ(parse_teredo("65.54.227.120").error(), ParseError::bad_ipv6_text);
}

TEST(TeredoAddress, ServerPrefix) {
  EXPECT_EQ(teredo_prefix(v4(65, 54, 227, 120)), v6("2001:0:4136:e378::"));
  EXPECT_EQ(teredo_prefix(v4(194, 136, 28, 76)), v6("2001:0:c288:1c4c::"));
  EXPECT_EQ(teredo_prefix(v4(0, 0, 0, 0)), v6("2001::"));
}

TEST(TeredoAddress, BuildThenParseGivesTheSameFields) {
  const std::array<TeredoAddress, 5> cases = {{
      {v4(65, 54, 227, 120), 0x8000, 40000, v4(192, 0, 2, 45)},
      {v4(192, 0, 2, 1), 0x0000, 0, v4(0, 0, 0, 0)},
      {v4(255, 255, 255, 255), 0xFFFF, 65535, v4(255, 255, 255, 255)},
      {v4(198, 51, 100, 7), make_teredo_flags(false, 0x2A5A), 3544, v4(203, 0, 113, 9)},
      {v4(1, 2, 3, 4), 0x0001, 1, v4(1, 2, 3, 4)},
  }};
  for (const TeredoAddress& t : cases) {
    const auto back = parse_teredo(t.to_ipv6());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, t) << to_string(t.to_ipv6());
  }
}

TEST(TeredoAddress, ObfuscationIsBitInversion) {
  // Port 0 and IPv4 0.0.0.0 are all ones on the wire; port 65535 and
  // 255.255.255.255 are all zeros (RFC 4380 §4: XOR with 0xFFFF / 0xFFFFFFFF).
  TeredoAddress t{v4(192, 0, 2, 1), 0, 0, v4(0, 0, 0, 0)};
  EXPECT_EQ(hexstr(t.to_ipv6().bytes), "20010000c0000201" "0000" "ffff" "ffffffff");
  t.mapped_port = 0xFFFF;
  t.mapped_ipv4 = v4(255, 255, 255, 255);
  EXPECT_EQ(hexstr(t.to_ipv6().bytes), "20010000c0000201" "0000" "0000" "00000000");
}

TEST(Ipv6Text, ParsesRfc4291Forms) {
  const auto full = parse_ipv6("2001:0db8:0000:0000:0000:0000:0000:0001");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(hexstr(full->bytes), "20010db8000000000000000000000001");
  const auto compressed = parse_ipv6("2001:DB8::1");
  ASSERT_TRUE(compressed.ok());
  EXPECT_EQ(*compressed, *full);
  const auto mapped = parse_ipv6("::ffff:192.0.2.1");
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(hexstr(mapped->bytes), "00000000000000000000ffffc0000201");
  const auto zero = parse_ipv6("::");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(hexstr(zero->bytes), std::string(32, '0'));
}

TEST(Ipv6Text, WritesRfc5952CanonicalText) {
  // RFC 5952 §4: lower case, no leading zeros, "::" for the longest run of
  // two or more zero groups (the first one on a tie), never for one group.
  EXPECT_EQ(to_string(v6("2001:0DB8:0000:0000:0000:0000:0002:0001")), "2001:db8::2:1");
  EXPECT_EQ(to_string(v6("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  EXPECT_EQ(to_string(v6("2001:db8:0:1:1:1:1:1")), "2001:db8:0:1:1:1:1:1");
  EXPECT_EQ(to_string(v6("2001:0:0:1:0:0:0:1")), "2001:0:0:1::1");
  EXPECT_EQ(to_string(v6("fe80:0:0:0:0:ffff:ffff:fffe")), "fe80::ffff:ffff:fffe");
  EXPECT_EQ(to_string(v6("ff02:0:0:0:0:0:0:2")), "ff02::2");
  EXPECT_EQ(to_string(v6("0:0:0:0:0:0:0:0")), "::");
  EXPECT_EQ(to_string(v6("0:0:0:0:0:0:0:1")), "::1");
}

TEST(Ipv6Text, RejectsMalformedText) {
  for (const char* bad : {"", "1::2::3", "12345::", "::g", "1:2:3:4:5:6:7:8:9", ":::", "1.2.3.4",
                          "2001:db8::1%eth0", " ::1", "::1 ", "[::1]",
                          "2001:0db8:0000:0000:0000:0000:0000:00001"}) {
    EXPECT_EQ(parse_ipv6(bad).error(), ParseError::bad_ipv6_text) << '"' << bad << '"';
  }
  // Longer than any valid address text.
  EXPECT_EQ(parse_ipv6(std::string(100, '1')).error(), ParseError::bad_ipv6_text);
}

TEST(Ipv6Text, RejectsEmbeddedNul) {
  // A string_view may hold a NUL; the text before it is valid but the whole
  // text is not an address.
  EXPECT_EQ(parse_ipv6(std::string_view("::1\0", 4)).error(), ParseError::bad_ipv6_text);
  EXPECT_EQ(parse_ipv6(std::string_view("2001:db8::1\0junk", 16)).error(),
            ParseError::bad_ipv6_text);
}

TEST(Ipv6Address, GroupsAndScopes) {
  const Ipv6Address a = v6("2001:db8:1:2:3:4:5:fffe");
  EXPECT_EQ(a.group(0), 0x2001);
  EXPECT_EQ(a.group(1), 0x0db8);
  EXPECT_EQ(a.group(7), 0xfffe);
  EXPECT_TRUE(v6("fe80::1").is_link_local());
  EXPECT_TRUE(v6("febf:ffff::1").is_link_local());
  EXPECT_FALSE(v6("fec0::1").is_link_local());
  EXPECT_FALSE(v6("fe7f::1").is_link_local());
  EXPECT_TRUE(v6("ff02::2").is_multicast());
  EXPECT_FALSE(v6("fe80::1").is_multicast());
}

}  // namespace
}  // namespace teredo::wire
