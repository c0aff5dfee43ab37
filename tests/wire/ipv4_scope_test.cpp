// IPv4 text and the global-unicast test of RFC 4380 §5.2.4.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "teredo/wire/ipv4.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::v4;

struct ScopeCase {
  Ipv4Address address;
  Ipv4Scope scope;
};

void PrintTo(const ScopeCase& c, std::ostream* os) { *os << to_string(c.address); }

// Each range RFC 4380 §5.2.4 excludes, at its first and its last address.
const ScopeCase kExcluded[] = {
    {v4(0, 0, 0, 0), Ipv4Scope::this_network},          // 0.0.0.0/8
    {v4(0, 255, 255, 255), Ipv4Scope::this_network},
    {v4(10, 0, 0, 0), Ipv4Scope::private_use},          // 10.0.0.0/8
    {v4(10, 255, 255, 255), Ipv4Scope::private_use},
    {v4(127, 0, 0, 0), Ipv4Scope::loopback},            // 127.0.0.0/8
    {v4(127, 255, 255, 255), Ipv4Scope::loopback},
    {v4(169, 254, 0, 0), Ipv4Scope::link_local},        // 169.254.0.0/16
    {v4(169, 254, 255, 255), Ipv4Scope::link_local},
    {v4(172, 16, 0, 0), Ipv4Scope::private_use},        // 172.16.0.0/12
    {v4(172, 31, 255, 255), Ipv4Scope::private_use},
    {v4(192, 168, 0, 0), Ipv4Scope::private_use},       // 192.168.0.0/16
    {v4(192, 168, 255, 255), Ipv4Scope::private_use},
    {v4(192, 88, 99, 0), Ipv4Scope::relay_anycast},     // 192.88.99.0/24
    {v4(192, 88, 99, 255), Ipv4Scope::relay_anycast},
    {v4(224, 0, 0, 0), Ipv4Scope::multicast},           // 224.0.0.0/4
    {v4(239, 255, 255, 255), Ipv4Scope::multicast},
    {v4(255, 255, 255, 255), Ipv4Scope::broadcast},     // limited broadcast
    // A few inside addresses, away from the edges.
    {v4(10, 112, 16, 106), Ipv4Scope::private_use},
    {v4(127, 0, 0, 1), Ipv4Scope::loopback},
    {v4(172, 24, 204, 200), Ipv4Scope::private_use},
    {v4(192, 168, 1, 1), Ipv4Scope::private_use},
    {v4(192, 88, 99, 1), Ipv4Scope::relay_anycast},
    {v4(230, 1, 2, 3), Ipv4Scope::multicast},
};

class ExcludedRange : public testing::TestWithParam<ScopeCase> {};

TEST_P(ExcludedRange, IsNotGlobalUnicast) {
  const ScopeCase& c = GetParam();
  EXPECT_EQ(classify_ipv4(c.address), c.scope) << to_string(c.address);
  EXPECT_FALSE(is_global_unicast(c.address)) << to_string(c.address);
}

INSTANTIATE_TEST_SUITE_P(Rfc4380Section524, ExcludedRange, testing::ValuesIn(kExcluded));

// The neighbours just outside each excluded range, and the documentation
// ranges (which §5.2.4 does not exclude).
const Ipv4Address kGlobal[] = {
    v4(1, 0, 0, 0),         v4(9, 255, 255, 255),   v4(11, 0, 0, 0),
    v4(126, 255, 255, 255), v4(128, 0, 0, 0),       v4(169, 253, 255, 255),
    v4(169, 255, 0, 0),     v4(172, 15, 255, 255),  v4(172, 32, 0, 0),
    v4(192, 167, 255, 255), v4(192, 169, 0, 0),     v4(192, 88, 98, 255),
    v4(192, 88, 100, 0),    v4(223, 255, 255, 255), v4(240, 0, 0, 0),
    v4(255, 255, 255, 254), v4(192, 0, 2, 1),       v4(198, 51, 100, 1),
    v4(203, 0, 113, 1),     v4(65, 54, 227, 120),   v4(194, 136, 28, 76),
    v4(185, 6, 192, 185),
};

class GlobalAddress : public testing::TestWithParam<Ipv4Address> {};

TEST_P(GlobalAddress, IsGlobalUnicast) {
  EXPECT_EQ(classify_ipv4(GetParam()), Ipv4Scope::global_unicast) << to_string(GetParam());
  EXPECT_TRUE(is_global_unicast(GetParam())) << to_string(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Rfc4380Section524, GlobalAddress, testing::ValuesIn(kGlobal),
                         [](const testing::TestParamInfo<Ipv4Address>& p) {
                           std::string name = to_string(p.param);
                           for (char& ch : name) {
                             if (ch == '.') ch = '_';
                           }
                           return name;
                         });

TEST(Ipv4Scope, NamesAreStable) {
  EXPECT_EQ(to_string(Ipv4Scope::global_unicast), "global_unicast");
  EXPECT_EQ(to_string(Ipv4Scope::this_network), "this_network");
  EXPECT_EQ(to_string(Ipv4Scope::private_use), "private_use");
  EXPECT_EQ(to_string(Ipv4Scope::loopback), "loopback");
  EXPECT_EQ(to_string(Ipv4Scope::link_local), "link_local");
  EXPECT_EQ(to_string(Ipv4Scope::relay_anycast), "relay_anycast");
  EXPECT_EQ(to_string(Ipv4Scope::multicast), "multicast");
  EXPECT_EQ(to_string(Ipv4Scope::broadcast), "broadcast");
}

TEST(Ipv4Text, ParsesDottedQuads) {
  struct Case {
    const char* text;
    std::uint32_t value;
  };
  for (const Case c : {Case{"192.0.2.1", 0xC0000201}, Case{"0.0.0.0", 0},
                       Case{"255.255.255.255", 0xFFFFFFFF}, Case{"1.2.3.4", 0x01020304},
                       Case{"65.54.227.120", 0x4136E378}}) {
    const auto a = parse_ipv4(c.text);
    ASSERT_TRUE(a.ok()) << c.text;
    EXPECT_EQ(a->value, c.value) << c.text;
    EXPECT_EQ(to_string(*a), c.text);
  }
}

TEST(Ipv4Text, OctetsAreNetworkOrder) {
  const auto o = v4(192, 0, 2, 45).octets();
  EXPECT_EQ(o[0], 192);
  EXPECT_EQ(o[1], 0);
  EXPECT_EQ(o[2], 2);
  EXPECT_EQ(o[3], 45);
  EXPECT_EQ(Ipv4Address::from_octets(192, 0, 2, 45), v4(192, 0, 2, 45));
}

TEST(Ipv4Text, RejectsAnythingButAStrictDottedQuad) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "1.2.3.4.", "256.0.0.0", "1.2.3.-4", " 1.2.3.4",
                          "1.2.3.4 ", "01.2.3.4", "0x1.2.3.4", "1..3.4", "a.b.c.d", "::1",
                          "1111111111111111111", "1.2.3.4/32"}) {
    EXPECT_EQ(parse_ipv4(bad).error(), ParseError::bad_ipv4_text) << '"' << bad << '"';
  }
}

TEST(Ipv4Text, RejectsEmbeddedNul) {
  EXPECT_EQ(parse_ipv4(std::string_view("1.2.3.4\0", 8)).error(), ParseError::bad_ipv4_text);
  EXPECT_EQ(parse_ipv4(std::string_view("10.0.0.1\0.5", 11)).error(), ParseError::bad_ipv4_text);
}

}  // namespace
}  // namespace teredo::wire
