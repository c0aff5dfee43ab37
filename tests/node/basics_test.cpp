// The small pieces: time scaling, endpoints, events, address helpers, SipHash.
#include <gtest/gtest.h>

#include <unordered_set>

#include "node_test_util.hpp"
#include "teredo/node/addressing.hpp"
#include "teredo/node/time.hpp"

namespace teredo::node::test {
namespace {

TEST(NodeTimeScale, ScalesDurations) {
  EXPECT_EQ(TimeScale()(Duration{2s}), Duration{2s});
  EXPECT_EQ(TimeScale(0.01)(Duration{2s}), Duration{20ms});
  EXPECT_EQ(TimeScale(0.01)(Duration{300s}), Duration{3s});
  EXPECT_EQ(TimeScale(10.0)(Duration{30s}), Duration{300s});
  EXPECT_EQ(TimeScale(1e-12)(Duration{1s}), Duration{1});  // never a zero timer
  EXPECT_EQ(TimeScale(0.5)(Duration{0}), Duration{0});
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_FALSE(TimeScale::valid_factor(bad));
    EXPECT_EQ(TimeScale(bad).factor(), 1.0);
  }
}

TEST(NodeEndpoint, TextEqualityHash) {
  const UdpEndpoint a{v4(192, 0, 2, 1), 3544};
  EXPECT_EQ(to_string(a), "192.0.2.1:3544");
  EXPECT_EQ(a, (UdpEndpoint{v4(192, 0, 2, 1), 3544}));
  EXPECT_NE(a, (UdpEndpoint{v4(192, 0, 2, 1), 3545}));
  std::unordered_set<UdpEndpoint> set;
  for (std::uint16_t p = 0; p < 1000; ++p) set.insert(UdpEndpoint{v4(192, 0, 2, 1), p});
  set.insert(UdpEndpoint{v4(192, 0, 2, 1), 500});  // already there
  EXPECT_EQ(set.size(), 1000u);
  set.insert(a);
  EXPECT_EQ(set.size(), 1001u);
}

TEST(NodeEvent, OneLine) {
  Outbox out;
  out.drop("drop_non_global_source", "R4380-5.3.1-04", "from 10.0.0.5:1234");
  out.action("rs_answered", "", "");
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(to_string(out.events[0]), "drop drop_non_global_source R4380-5.3.1-04 from 10.0.0.5:1234");
  EXPECT_EQ(to_string(out.events[1]), "action rs_answered");
  out.clear();
  EXPECT_TRUE(out.events.empty());
}

TEST(NodeAddressing, ServerLinkLocalMatchesTheCatalogExample) {
  // requirements.md, worked example: server 192.0.2.45 -> fe80::8000:f227:3fff:fdd2.
  EXPECT_EQ(server_link_local(v4(192, 0, 2, 45), 3544), v6("fe80::8000:f227:3fff:fdd2"));
  EXPECT_EQ(all_routers(), v6("ff02::2"));
  EXPECT_TRUE(identifier_cone_bit(v6("fe80::8000:63bf:39cc:9bf8")));
  EXPECT_FALSE(identifier_cone_bit(v6("fe80::7fff:63bf:39cc:9bf8")));
}

TEST(NodeAddressing, GlobalScope) {
  for (const char* a : {"2001:db8::1", "2001:0:c000:22d::1", "fc00::1", "2002:c000:22d::1", "::2", "64:ff9b::1"}) {
    EXPECT_TRUE(is_global_scope(v6(a))) << a;
  }
  for (const char* a : {"::", "::1", "fe80::1", "febf::1", "fec0::1", "ff02::1", "ff0e::1", "::ffff:192.0.2.1"}) {
    EXPECT_FALSE(is_global_scope(v6(a))) << a;
  }
}

TEST(NodeAddressing, Prefixes) {
  const auto p = parse_ipv6_prefix("2001:db8::/32");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 32);
  EXPECT_EQ(to_string(*p), "2001:db8::/32");
  EXPECT_TRUE(p->contains(v6("2001:db8:ffff::1")));
  EXPECT_FALSE(p->contains(v6("2001:db9::1")));
  const Ipv6Prefix odd{v6("2001:db8:8000::"), 33};
  EXPECT_TRUE(odd.contains(v6("2001:db8:ffff::")));
  EXPECT_FALSE(odd.contains(v6("2001:db8:7fff::")));
  EXPECT_TRUE((Ipv6Prefix{v6("::"), 0}).contains(v6("ff02::1")));
  EXPECT_TRUE((Ipv6Prefix{v6("2001:db8::1"), 128}).contains(v6("2001:db8::1")));
  EXPECT_FALSE((Ipv6Prefix{v6("2001:db8::1"), 128}).contains(v6("2001:db8::2")));
  for (const char* bad : {"2001:db8::", "2001:db8::/129", "x/3", "2001:db8::/", "2001:db8::/3a", "/32"}) {
    EXPECT_FALSE(parse_ipv6_prefix(bad)) << bad;
  }
}

TEST(NodeAddressing, SipHashReferenceVectors) {
  // Aumasson & Bernstein, "SipHash: a fast short-input PRF", appendix A:
  // key 00..0f, message 00..0e -> a129ca6149be45e5; empty message -> the
  // first entry of the reference vectors, 726fdb47dd0e0e31.
  SipKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  ByteVector message(15);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(siphash24(key, message), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(siphash24(key, {}), 0x726fdb47dd0e0e31ULL);
}

}  // namespace
}  // namespace teredo::node::test
