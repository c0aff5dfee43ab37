// RFC 4380 §5.2.1 qualification as RFC 5991 §3.2 updates it, and strict
// RFC 4380 as an option; the RA checks of §5.2.1 and RFC 2461 §6.1.2.
// Every RA here is written by hand (client_fixture.hpp: make_ra).
#include <gtest/gtest.h>

#include <set>

#include "client_fixture.hpp"

namespace teredo::node::test {
namespace {

// The RS the RFC asks for, by hand: IPv6 version 6, payload 8, next header
// 58, hop limit 255, from fe80::<flags>:~40000:~198.51.100.7 to ff02::2;
// ICMPv6 133/0, checksum, reserved.
ByteVector expected_rs(bool cone) {
  ByteVector rs = hex("6000 0000 0008 3aff");
  const auto src = cone ? v6("fe80::8000:63bf:39cc:9bf8") : v6("fe80::63bf:39cc:9bf8");
  rs = concat({rs, src.bytes, v6("ff02::2").bytes, hex("8500 0000 0000 0000")});
  fix_icmpv6_checksum(rs);
  return rs;
}

TEST(NodeClientQualify, FirstRsIsFromATeredoLinkLocalToAllRoutersOverUdp) {
  Driver d;
  EXPECT_EQ(d.client.state(), QualificationState::starting);
  const Outbox out = d.start();
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  const OutgoingDatagram& rs = out.datagrams[0];
  // R4380-5.2.1-01: from the service port to the server's IPv4 and port 3544.
  EXPECT_EQ(rs.from, kClient);
  EXPECT_EQ(rs.to, kPrimaryEp);
  EXPECT_EQ(rs.ttl, 0);
  // R4380-5.2.2-01: 00 01, ID-len 0, AU-len 0, an 8-byte nonce, confirmation
  // 0, then the RS; R5991-3.2-01: the cone bit is 0.
  ASSERT_EQ(rs.payload.size(), 13u + 48u);
  const ByteVector nonce(rs.payload.begin() + 4, rs.payload.begin() + 12);
  EXPECT_EQ(hexstr(rs.payload), hexstr(concat({hex("0001 0000"), nonce, hex("00"), expected_rs(false)})));
  EXPECT_EQ(d.client.state(), QualificationState::probing_restricted);
  EXPECT_FALSE(d.client.address().has_value());
  EXPECT_EQ(events_with(out, "rs_sent").size(), 1u);
}

TEST(NodeClientQualify, SilentServerFourRsFourSecondsApartThenOffline) {
  Driver d;
  std::vector<OutgoingDatagram> rss = d.start().datagrams;
  for (int s = 1; s <= 20; ++s) {
    const Outbox out = d.at(Time{std::chrono::seconds{s}});
    for (const auto& dg : out.datagrams) rss.push_back(dg);
    if (s == 16) {
      // R4380-5.2.1-02: after N = 3 repetitions without an answer: off-line.
      EXPECT_TRUE(has_event(out, "qualification_failed")) << dump(out);
      EXPECT_EQ(d.client.state(), QualificationState::offline);
    }
  }
  // RSs at 0, 4, 8, 12 s (T = 4 s), all cone 0 (R5991-3.2-01), fresh nonces.
  ASSERT_EQ(rss.size(), 4u);
  std::set<std::string> nonces;
  for (const auto& dg : rss) {
    const SentRs rs = parse_rs(dg);
    EXPECT_EQ(rs.source, v6("fe80::63bf:39cc:9bf8"));
    EXPECT_EQ(rs.to, kPrimaryEp);
    nonces.insert(hexstr(rs.nonce));
  }
  EXPECT_EQ(nonces.size(), 4u);
  EXPECT_FALSE(d.client.next_timeout().has_value());
}

TEST(NodeClientQualify, StrictRfc4380TriesTheConeBitFirst) {
  ClientConfig c = client_config();
  c.use_rfc4380_qualification();
  Driver d(c);
  std::vector<std::pair<int, SentRs>> rss;
  for (const auto& dg : d.start().datagrams) rss.emplace_back(0, parse_rs(dg));
  for (int s = 1; s <= 40; ++s) {
    for (const auto& dg : d.at(Time{std::chrono::seconds{s}}).datagrams) rss.emplace_back(s, parse_rs(dg));
  }
  // R4380-5.2.1-02: 4 cone-bit RSs (0-12 s), then 4 with the cone bit clear
  // (16-28 s), then off-line at 32 s.
  ASSERT_EQ(rss.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(rss[i].first, static_cast<int>(4 * i));
    EXPECT_EQ(rss[i].second.source, i < 4 ? v6("fe80::8000:63bf:39cc:9bf8") : v6("fe80::63bf:39cc:9bf8"));
    EXPECT_EQ(rss[i].second.to, kPrimaryEp);
  }
  EXPECT_EQ(d.client.state(), QualificationState::offline);
}

TEST(NodeClientQualify, PrimaryThenSecondaryRaWithTheSameMappingQualifies) {
  Driver d;
  Outbox out = d.start();
  const SentRs first = parse_rs(out.datagrams.at(0));
  out = d.receive(kPrimaryEp, make_ra(first));
  // R4380-5.2.1-05: the same RS (cone 0) to the secondary address.
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(d.client.state(), QualificationState::checking_symmetric);
  const SentRs second = parse_rs(out.datagrams[0]);
  EXPECT_EQ(second.to, kSecondaryEp);
  EXPECT_EQ(second.source, v6("fe80::63bf:39cc:9bf8"));
  EXPECT_FALSE(d.client.address().has_value());
  out = d.receive(kSecondaryEp, make_ra(second));
  EXPECT_EQ(d.client.state(), QualificationState::qualified) << dump(out);
  EXPECT_EQ(d.client.nat_type(), NatType::restricted);
  // R4380-5.2.1-07: 2001:0:<192.0.2.45>:<flags 0>:~40000:~198.51.100.7.
  ASSERT_TRUE(d.client.address().has_value());
  EXPECT_EQ(*d.client.address(), v6("2001:0:c000:22d:0:63bf:39cc:9bf8"));
  EXPECT_EQ(d.client.mapped(), kClient);
  EXPECT_EQ(events_with(out, "qualified").size(), 1u);
  EXPECT_TRUE(out.datagrams.empty());
}

TEST(NodeClientQualify, RandomFlagBitsFollowRfc5991Mask) {
  // R5991-3.1-01/02/03, R4380-4-01: C z Random1 U G Random2 = 0x3CFF for
  // all-ones random bits; z, U, G and (RFC 5991) C stay 0.
  const std::pair<std::uint8_t, const char*> cases[] = {
      {0xFF, "2001:0:c000:22d:3cff:63bf:39cc:9bf8"},
      {0xC3, "2001:0:c000:22d:c3:63bf:39cc:9bf8"},  // 0xC3C3 & 0x3CFF
      {0x00, "2001:0:c000:22d:0:63bf:39cc:9bf8"},
  };
  for (const auto& [byte, expected] : cases) {
    ClientConfig c = client_config();
    c.random_flags = true;
    c.random = fixed_random(byte);
    Driver d(c);
    d.qualify();
    ASSERT_TRUE(d.client.address().has_value()) << int{byte};
    EXPECT_EQ(*d.client.address(), v6(expected)) << int{byte};
  }
}

TEST(NodeClientQualify, RandomFlagBitsVaryAcrossQualifications) {
  std::set<int> random1, random2;
  for (std::uint64_t seed = 1; seed <= 64; ++seed) {
    ClientConfig c = client_config();
    c.random_flags = true;
    c.random = seeded_random(seed);
    Driver d(c);
    d.qualify();
    ASSERT_TRUE(d.client.address().has_value());
    const int flags = (d.client.address()->bytes[8] << 8) | d.client.address()->bytes[9];
    EXPECT_EQ(flags & 0xC300, 0) << std::hex << flags;  // C, z, U, G
    random1.insert(flags & 0x3C00);
    random2.insert(flags & 0x00FF);
  }
  EXPECT_GE(random1.size(), 8u);   // 16 possible values
  EXPECT_GE(random2.size(), 32u);  // 256 possible values
}

struct BadRa {
  const char* name;
  std::function<void(RaSpec&)> mutate;
  UdpEndpoint from;
  const char* code;
  const char* requirement;
};

class NodeClientBadRa : public ::testing::TestWithParam<BadRa> {};

TEST_P(NodeClientBadRa, IsDiscardedAndQualificationGoesOn) {
  const BadRa& p = GetParam();
  Driver d;
  const SentRs rs = parse_rs(d.start().datagrams.at(0));
  RaSpec spec;
  p.mutate(spec);
  Outbox out = d.receive(p.from, make_ra(rs, spec));
  EXPECT_TRUE(has_drop(out, p.code, p.requirement)) << dump(out);
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_EQ(d.client.state(), QualificationState::probing_restricted);
  EXPECT_FALSE(d.client.address().has_value());
  // The client keeps soliciting (R4380-5.2.1-03: simply discarded).
  out = d.at(Time{4s});
  EXPECT_EQ(to(out, kPrimaryEp).size(), 1u) << dump(out);
}

const BadRa kBadRas[] = {
    {"wrong_nonce", [](RaSpec& s) { s.flip_nonce = true; }, kPrimaryEp, "drop_ra_nonce_mismatch", "R4380-5.2.2-02"},
    {"no_authentication", [](RaSpec& s) { s.auth = false; }, kPrimaryEp, "drop_ra_auth_missing", "R4380-5.2.2-02"},
    {"no_origin", [](RaSpec& s) { s.origin = false; }, kPrimaryEp, "drop_ra_no_origin", "R4380-5.2.1-03"},
    {"hop_limit_64", [](RaSpec& s) { s.hop_limit = 64; }, kPrimaryEp, "drop_ra_hop_limit", "R2461-6.1.2-02"},
    {"global_source", [](RaSpec& s) { s.source = v6("2001:db8::1"); }, kPrimaryEp,
     "drop_ra_source_not_link_local", "R2461-6.1.2-01"},
    {"other_destination", [](RaSpec& s) { s.destination = v6("fe80::8000:63bf:39cc:9bf8"); }, kPrimaryEp,
     "drop_ra_wrong_destination", "R4380-5.2.1-03"},
    {"bad_checksum", [](RaSpec& s) { s.corrupt_checksum = true; }, kPrimaryEp, "bad_icmpv6_checksum",
     "R2461-6.1.2-03"},
    {"code_1", [](RaSpec& s) { s.code = 1; }, kPrimaryEp, "drop_ra_code", "R2461-6.1.2-04"},
    {"truncated", [](RaSpec& s) { s.truncated = true; s.prefixes.clear(); }, kPrimaryEp,
     "truncated_router_advertisement", "R2461-6.1.2-05"},
    {"zero_length_option", [](RaSpec& s) { s.zero_length_option = true; }, kPrimaryEp, "nd_option_zero_length",
     "R2461-6.1.2-06"},
    {"no_prefix", [](RaSpec& s) { s.prefixes.clear(); }, kPrimaryEp, "drop_ra_prefix_count", "R4380-5.2.1-03"},
    {"two_prefixes", [](RaSpec& s) { s.prefixes.push_back("2001:0:c000:22d::"); }, kPrimaryEp,
     "drop_ra_prefix_count", "R4380-5.2.1-03"},
    {"non_teredo_prefix", [](RaSpec& s) { s.prefixes = {"2001:db8::"}; }, kPrimaryEp, "drop_ra_not_teredo_prefix",
     "R4380-5.2.1-04"},
    {"other_server_prefix", [](RaSpec& s) { s.prefixes = {"2001:0:c000:22e::"}; }, kPrimaryEp,
     "drop_ra_not_teredo_prefix", "R4380-5.2.1-04"},
    {"prefix_length_48", [](RaSpec& s) { s.prefix_length = 48; }, kPrimaryEp, "drop_ra_not_teredo_prefix",
     "R4380-5.2.1-04"},
    {"mapped_private_10", [](RaSpec& s) { s.mapping = ep(v4(10, 1, 2, 3), 40000); }, kPrimaryEp,
     "drop_ra_non_global_mapping", "R4380-4-04"},
    {"mapped_private_192_168", [](RaSpec& s) { s.mapping = ep(v4(192, 168, 0, 1), 40000); }, kPrimaryEp,
     "drop_ra_non_global_mapping", "R4380-4-04"},
    {"mapped_link_local", [](RaSpec& s) { s.mapping = ep(v4(169, 254, 1, 1), 40000); }, kPrimaryEp,
     "drop_ra_non_global_mapping", "R4380-4-04"},
    {"from_a_stranger", [](RaSpec&) {}, ep(v4(203, 0, 113, 99), 3544), "drop_ra_unexpected_source",
     "R4380-5.2.1-03"},
    {"from_the_secondary", [](RaSpec&) {}, kSecondaryEp, "drop_ra_unexpected_source", "R4380-5.2.1-03"},
    {"from_another_port", [](RaSpec&) {}, ep(kPrimary, 3545), "drop_ra_unexpected_source", "R4380-5.2.1-03"},
};
INSTANTIATE_TEST_SUITE_P(NodeClient, NodeClientBadRa, ::testing::ValuesIn(kBadRas),
                         [](const ::testing::TestParamInfo<BadRa>& p) { return std::string(p.param.name); });

TEST(NodeClientQualify, MalformedDatagramIsDiscarded) {
  Driver d;
  (void)d.start();
  // R4380-5.2.3-01: an authentication header whose ID-len runs past the end.
  const Outbox out = d.receive(kPrimaryEp, hex("0001 ff00 0102"));
  EXPECT_TRUE(has_drop(out, "truncated_authentication", "R4380-5.2.3-01")) << dump(out);
  EXPECT_EQ(d.client.state(), QualificationState::probing_restricted);
}

TEST(NodeClientQualify, DifferentMappingAtTheSecondaryMeansSymmetricNatAndOffline) {
  Driver d;
  Outbox out = d.start();
  out = d.receive(kPrimaryEp, make_ra(parse_rs(out.datagrams.at(0))));
  RaSpec other;
  other.mapping = ep(v4(198, 51, 100, 7), 40001);  // the NAT picked another port
  out = d.receive(kSecondaryEp, make_ra(parse_rs(out.datagrams.at(0)), other));
  // R4380-5.2.1-05: symmetric NAT: the service cannot be used.
  EXPECT_TRUE(has_event(out, "symmetric_nat_detected")) << dump(out);
  EXPECT_EQ(events_with(out, "symmetric_nat").at(0).requirement, "R4380-5.2.1-05");
  EXPECT_EQ(d.client.state(), QualificationState::offline);
  EXPECT_EQ(d.client.nat_type(), NatType::symmetric);
  EXPECT_FALSE(d.client.address().has_value());
  EXPECT_TRUE(has_drop(d.tun(echo(client_teredo(), native_host())), "drop_not_qualified", "R4380-5.2-04"));
  EXPECT_FALSE(d.client.next_timeout().has_value());
}

TEST(NodeClientQualify, SymmetricNatSupportQualifiesWithThePrimaryMapping) {
  ClientConfig c = client_config();
  c.symmetric_nat_support = true;  // RFC 6081 §5.2
  Driver d(c);
  Outbox out = d.start();
  out = d.receive(kPrimaryEp, make_ra(parse_rs(out.datagrams.at(0))));
  RaSpec other;
  other.mapping = ep(v4(198, 51, 100, 7), 40001);
  out = d.receive(kSecondaryEp, make_ra(parse_rs(out.datagrams.at(0)), other));
  EXPECT_EQ(d.client.state(), QualificationState::qualified) << dump(out);
  EXPECT_EQ(d.client.nat_type(), NatType::symmetric);
  EXPECT_EQ(d.client.address(), v6("2001:0:c000:22d:0:63bf:39cc:9bf8"));
}

TEST(NodeClientQualify, SilentSecondaryMeansTheServiceIsNotUsable) {
  Driver d;
  Outbox out = d.start();
  out = d.receive(kPrimaryEp, make_ra(parse_rs(out.datagrams.at(0))));
  std::size_t to_secondary = to(out, kSecondaryEp).size();
  for (int s = 1; s <= 16; ++s) {
    out = d.at(Time{std::chrono::seconds{s}});
    to_secondary += to(out, kSecondaryEp).size();
    EXPECT_TRUE(to(out, kPrimaryEp).empty());
  }
  EXPECT_EQ(to_secondary, 4u);
  // R4380-5.2.1-05: "If the client does not receive a response, it detects
  // that the service is not usable."
  EXPECT_TRUE(has_event(out, "secondary_server_silent")) << dump(out);
  EXPECT_EQ(d.client.state(), QualificationState::offline);
}

TEST(NodeClientQualify, WithoutTheSymmetricCheckThePrimaryRaQualifies) {
  ClientConfig c = client_config();
  c.check_symmetric = false;
  Driver d(c);
  const Outbox out = d.receive(kPrimaryEp, make_ra(parse_rs(d.start().datagrams.at(0))));
  EXPECT_EQ(d.client.state(), QualificationState::qualified) << dump(out);
  EXPECT_EQ(d.client.nat_type(), NatType::unknown);
  EXPECT_TRUE(out.datagrams.empty());
}

TEST(NodeClientQualify, StrictConeRaFromTheSecondaryMeansConeNat) {
  ClientConfig c = client_config();
  c.use_rfc4380_qualification();
  Driver d(c);
  const SentRs rs = parse_rs(d.start().datagrams.at(0));
  EXPECT_EQ(rs.source, v6("fe80::8000:63bf:39cc:9bf8"));
  // A cone RS is answered from the other server address (§5.3.2); from the
  // primary it proves nothing.
  Outbox out = d.receive(kPrimaryEp, make_ra(rs));
  EXPECT_TRUE(has_drop(out, "drop_ra_unexpected_source", "R4380-5.2.1-03")) << dump(out);
  out = d.receive(kSecondaryEp, make_ra(rs));
  // R4380-5.2.1-06: cone bit 1 in the address; no secondary check needed.
  EXPECT_EQ(d.client.state(), QualificationState::qualified) << dump(out);
  EXPECT_EQ(d.client.nat_type(), NatType::cone);
  EXPECT_EQ(d.client.address(), v6("2001:0:c000:22d:8000:63bf:39cc:9bf8"));
  EXPECT_TRUE(out.datagrams.empty());
}

TEST(NodeClientQualify, StrictRestrictedNatKeepsConeBitZero) {
  ClientConfig c = client_config();
  c.use_rfc4380_qualification();
  Driver d(c);
  (void)d.start();
  Outbox out;
  for (int s = 4; s <= 16; s += 4) out = d.at(Time{std::chrono::seconds{s}});
  ASSERT_EQ(d.client.state(), QualificationState::probing_restricted) << dump(out);
  out = d.receive(kPrimaryEp, make_ra(parse_rs(to(out, kPrimaryEp).at(0))));
  out = d.receive(kSecondaryEp, make_ra(parse_rs(out.datagrams.at(0))));
  EXPECT_EQ(d.client.state(), QualificationState::qualified) << dump(out);
  // R4380-5.2.1-06: the cone bit that got the RA: 0.
  EXPECT_EQ(d.client.address(), v6("2001:0:c000:22d:0:63bf:39cc:9bf8"));
}

TEST(NodeClientQualify, OfflineRetryAndStartAreExplicit) {
  ClientConfig c = client_config();
  c.timers.offline_retry = 100s;
  Driver d(c);
  (void)d.start();
  EXPECT_TRUE(has_drop(d.start(), "drop_start_while_running", ""));
  for (int s = 4; s <= 16; s += 4) (void)d.at(Time{std::chrono::seconds{s}});
  ASSERT_EQ(d.client.state(), QualificationState::offline);
  EXPECT_EQ(d.client.next_timeout(), Time{116s});
  const Outbox out = d.at(Time{116s});
  EXPECT_EQ(to(out, kPrimaryEp).size(), 1u) << dump(out);
  EXPECT_EQ(d.client.state(), QualificationState::probing_restricted);
}

TEST(NodeClientQualify, NoTeredoTrafficBeforeQualification) {
  Driver d;
  (void)d.start();
  // R4380-5.2-04: neither packets from the tunnel nor peers' packets.
  EXPECT_TRUE(has_drop(d.tun(echo(client_teredo(), native_host())), "drop_not_qualified", "R4380-5.2-04"));
  const Outbox out = d.receive(ep(v4(203, 0, 113, 5), 5000),
                               bubble(teredo_address(kPrimary, 0, ep(v4(203, 0, 113, 5), 5000)), client_teredo()));
  EXPECT_TRUE(has_drop(out, "drop_not_qualified", "R4380-5.2-04")) << dump(out);
  EXPECT_TRUE(out.datagrams.empty());
}

}  // namespace
}  // namespace teredo::node::test
