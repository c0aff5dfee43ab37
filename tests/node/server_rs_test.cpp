// RFC 4380 §5.3.2 (RA construction), RFC 2461 §6.1.1 (RS validation) and
// §5.2.2 secure qualification at the reference server.
#include <gtest/gtest.h>

#include "server_fixture.hpp"
#include "teredo/wire/datagram.hpp"

namespace teredo::node::test {
namespace {

// The RA the RFCs call for, byte by byte, checksum left zero:
//   IPv6: version 6, payload 56 (16 RA + 32 prefix option + 8 MTU option),
//   next header 58, hop limit 255, from fe80::8000:f227:3fff:fdd2 (cone bit,
//   ~3544 = f227, ~192.0.2.45 = 3ffffdd2; R4380-5.3.2-03), to the RS source.
//   ICMPv6 134/0; RA fields (unconstrained by Teredo) at the configured
//   defaults: retrans timer 2000 as Miredo; prefix option type 3 length 4,
//   /64, flags A, infinite lifetimes, 2001:0000:c000:022d:: (R4380-5.3.2-02);
//   MTU option type 5 length 1, 1280 = 0x500 (R4380-5.1.2-01).
ByteVector expected_ra(bool cone) {
  ByteVector ra = hex(
      "6000 0000 0038 3aff"
      "fe80 0000 0000 0000 8000 f227 3fff fdd2");
  const auto dst = rs_source(cone);
  ra.insert(ra.end(), dst.bytes.begin(), dst.bytes.end());
  const ByteVector icmp = hex(
      "8600 0000 0000 0000 0000 0000 0000 07d0"
      "0304 4040 ffff ffff ffff ffff 0000 0000"
      "2001 0000 c000 022d 0000 0000 0000 0000"
      "0501 0000 0000 0500");
  ra.insert(ra.end(), icmp.begin(), icmp.end());
  fix_icmpv6_checksum(ra);
  return ra;
}

// Origin indication for 198.51.100.7:40000: 00 00 ~9c40 ~c6336407.
const char* const kClientOrigin = "0000 63bf 39cc 9bf8";

TEST(NodeServerRs, ConeBitZeroIsAnsweredFromTheSameAddress) {
  Server server(server_config());
  const auto out = deliver(server, kPrimaryEp, kClient, rs_packet(false));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  // R4380-5.3.2-06/07: cone 0 -> the address the RS came to; R4380-5.3.2-05: to the mapping.
  EXPECT_EQ(out.datagrams[0].from, kPrimaryEp);
  EXPECT_EQ(out.datagrams[0].to, kClient);
  EXPECT_EQ(events_with(out, "rs_answered").size(), 1u);
}

TEST(NodeServerRs, ConeBitOneIsAnsweredFromTheSecondaryAddress) {
  Server server(server_config());
  const auto out = deliver(server, kPrimaryEp, kClient, rs_packet(true));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  // R4380-5.3.2-07, R5991-3.2-03: a different IPv4 source for a cone RS.
  EXPECT_EQ(out.datagrams[0].from, kSecondaryEp);
  EXPECT_EQ(out.datagrams[0].to, kClient);
}

TEST(NodeServerRs, RsReceivedOnTheSecondaryFollowsTheSameRule) {
  Server server(server_config());
  // RFC 4380 phase 2 sends a cone-0 RS to the secondary: same address back.
  auto out = deliver(server, kSecondaryEp, kClient, rs_packet(false));
  ASSERT_EQ(out.datagrams.size(), 1u);
  EXPECT_EQ(out.datagrams[0].from, kSecondaryEp);
  out = deliver(server, kSecondaryEp, kClient, rs_packet(true));
  ASSERT_EQ(out.datagrams.size(), 1u);
  EXPECT_EQ(out.datagrams[0].from, kPrimaryEp);
}

TEST(NodeServerRs, RaBytesAreExactlyWhatTheRfcsDescribe) {
  Server server(server_config());
  for (bool cone : {false, true}) {
    const auto out = deliver(server, kPrimaryEp, kClient, rs_packet(cone));
    ASSERT_EQ(out.datagrams.size(), 1u);
    // R4380-5.1.1-01 and R4380-5.3.2-01: origin first, then the RA.
    EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(concat({hex(kClientOrigin), expected_ra(cone)})))
        << "cone " << cone;
  }
}

TEST(NodeServerRs, RaParsesAsAValidAdvertisementForTheClient) {
  Server server(server_config());
  const ByteVector rs = rs_packet(false);
  const auto out = deliver(server, kPrimaryEp, kClient, rs);
  ASSERT_EQ(out.datagrams.size(), 1u);
  const auto d = wire::parse_datagram(out.datagrams[0].payload);
  ASSERT_TRUE(d) << wire::to_string(d.error());
  EXPECT_FALSE(d->authentication);  // the RS had none
  ASSERT_TRUE(d->origin);
  EXPECT_EQ(d->origin->address, kClient.address);  // R4380-5.3.2-01
  EXPECT_EQ(d->origin->port, kClient.port);
  EXPECT_EQ(d->ipv6.header.hop_limit, 255);
  EXPECT_EQ(d->ipv6.header.source, v6("fe80::8000:f227:3fff:fdd2"));  // R4380-5.3.2-03
  EXPECT_EQ(d->ipv6.header.destination, rs_source(false));          // R4380-5.3.2-04
  EXPECT_EQ(icmpv6_sum(d->ipv6.packet), 0);                          // independent checksum
  const auto icmp = wire::parse_icmpv6(d->ipv6, wire::ChecksumPolicy::verify);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type, 134);
  EXPECT_EQ(icmp->code, 0);
  const auto ra = wire::parse_router_advertisement(*icmp);
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->options.prefix_information_count, 1);  // exactly one (R4380-5.2.1-03)
  ASSERT_TRUE(ra->options.prefix_information);
  EXPECT_EQ(ra->options.prefix_information->prefix_length, 64);
  EXPECT_EQ(ra->options.prefix_information->prefix, v6("2001:0:c000:22d::"));  // R4380-5.3.2-02
  ASSERT_TRUE(ra->options.mtu);
  EXPECT_EQ(*ra->options.mtu, 1280u);  // R4380-5.1.2-01
}

TEST(NodeServerRs, NonceOnlyAuthenticationIsEchoedFirst) {
  Server server(server_config());
  const ByteVector nonce = hex("0102030405060708");
  const ByteVector payload = concat({auth_header({}, {}, nonce), rs_packet(false)});
  const auto out = deliver(server, kPrimaryEp, kClient, payload);
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  // R4380-5.1.1-02: auth, then origin, then IPv6; R4380-5.3.2-11: same nonce;
  // confirmation 0 (R4380-5.3.2-12).
  const std::string expected =
      hexstr(concat({hex("0001 0000 0102030405060708 00"), hex(kClientOrigin), expected_ra(false)}));
  EXPECT_EQ(hexstr(out.datagrams[0].payload), expected);
}

TEST(NodeServerRs, ClientIdIsEchoedWithoutSecureQualification) {
  Server server(server_config());
  const ByteVector id = bytes_of("abc");
  const ByteVector nonce = hex("a1a2a3a4a5a6a7a8");
  const auto out = deliver(server, kPrimaryEp, kClient,
                           concat({auth_header(id, hex("ffff"), nonce), rs_packet(false)}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  // ID-len 3, AU-len 0 (no secret to sign with), id, nonce, confirmation 0.
  const ByteVector& p = out.datagrams[0].payload;
  EXPECT_EQ(hexstr(Bytes(p).first(16)), "00010300616263a1a2a3a4a5a6a7a800");
}

// R2461-6.1.1-0x: invalid RSs get no RA and a drop event naming the rule.
struct BadRs {
  const char* name;
  ByteVector packet;
  const char* code;
  const char* requirement;
};

std::vector<BadRs> bad_solicitations() {
  const auto src = rs_source(false);
  const auto dst = all_routers_v6();
  std::vector<BadRs> cases;
  cases.push_back({"hop limit 254", wire::build_router_solicitation(src, dst, {}, 254),
                   "drop_rs_hop_limit", "R2461-6.1.1-01"});
  ByteVector bad_sum = rs_packet(false);
  bad_sum[43] ^= 0x01;
  cases.push_back({"bad checksum", bad_sum, "bad_icmpv6_checksum", "R2461-6.1.1-02"});
  cases.push_back({"code 1", wire::build_icmpv6_packet(src, dst, 255, 133, 1, hex("00000000")),
                   "drop_rs_code", "R2461-6.1.1-03"});
  cases.push_back({"6-octet ICMPv6", wire::build_icmpv6_packet(src, dst, 255, 133, 0, hex("0000")),
                   "truncated_router_solicitation", "R2461-6.1.1-04"});
  cases.push_back({"3-octet ICMPv6", wire::build_icmpv6_packet(src, dst, 255, 133, 0, {}),
                   "truncated_router_solicitation", "R2461-6.1.1-04"});
  // An option of length 0 (RFC 4861 §4.6): the walk would never advance.
  cases.push_back({"zero-length option",
                   wire::build_icmpv6_packet(src, dst, 255, 133, 0, hex("00000000 0100 000000000000")),
                   "nd_option_zero_length", "R2461-6.1.1-05"});
  // A source link-layer option announcing 16 octets with only 8 present.
  cases.push_back({"truncated option",
                   wire::build_icmpv6_packet(src, dst, 255, 133, 0, hex("00000000 0102 000000000000")),
                   "nd_option_overlong", "R4380-5.3.1-02"});
  cases.push_back({"option header cut", wire::build_icmpv6_packet(src, dst, 255, 133, 0, hex("00000000 01")),
                   "truncated_nd_option", "R4380-5.3.1-02"});
  return cases;
}

TEST(NodeServerRs, InvalidSolicitationsAreDropped) {
  Server server(server_config());
  for (const BadRs& c : bad_solicitations()) {
    const auto out = deliver(server, kPrimaryEp, kClient, c.packet);
    EXPECT_TRUE(out.datagrams.empty()) << c.name;
    EXPECT_TRUE(has_drop(out, c.code, c.requirement)) << c.name << "\n" << dump(out);
  }
}

TEST(NodeServerRs, SolicitationsFromNonGlobalIpv4AreDropped) {
  Server server(server_config());
  // RFC 4380 §5.2.4's list, one address from each range.
  for (const auto a : {v4(0, 1, 2, 3), v4(10, 0, 0, 5), v4(127, 0, 0, 2), v4(169, 254, 1, 1),
                       v4(172, 16, 0, 1), v4(172, 31, 255, 254), v4(192, 168, 1, 1),
                       v4(192, 88, 99, 1), v4(224, 1, 1, 1), v4(239, 255, 255, 255),
                       v4(255, 255, 255, 255)}) {
    const auto out = deliver(server, kPrimaryEp, ep(a, 40000), rs_packet(false));
    EXPECT_TRUE(out.datagrams.empty()) << wire::to_string(a);
    // R4380-5.3.1-04 (R4380-5.3.2-08/09 at the RA: the same address).
    EXPECT_TRUE(has_drop(out, "drop_non_global_source", "R4380-5.3.1-04")) << wire::to_string(a);
  }
  // The boundaries next to those ranges are global: still answered.
  for (const auto a : {v4(11, 0, 0, 1), v4(172, 32, 0, 1), v4(192, 88, 100, 1), v4(223, 255, 255, 254)}) {
    EXPECT_EQ(deliver(server, kPrimaryEp, ep(a, 40000), rs_packet(false)).datagrams.size(), 1u)
        << wire::to_string(a);
  }
}

TEST(NodeServerRs, LinkLocalIdentifierMayEmbedAPrivateAddress) {
  // R4380-4-05: fe80::<identifier of 192.168.1.1> is still answered.
  Server server(server_config());
  const auto src = v6("fe80::63bf:3f57:fefe");
  const auto out = deliver(server, kPrimaryEp, kClient,
                           wire::build_router_solicitation(src, all_routers_v6(), {}, 255));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
}

TEST(NodeServerRs, SolicitationMustComeFromLinkLocalToAllRouters) {
  Server server(server_config());
  // R4380-5.3.1-05 is the only way in for an RS; others fall to rule 7.
  auto out = deliver(server, kPrimaryEp, kClient,
                     wire::build_router_solicitation(v6("2001:db8::1"), all_routers_v6(), {}, 255));
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "drop_foreign_destination", "R4380-5.3.1-09")) << dump(out);
  out = deliver(server, kPrimaryEp, kClient,
                wire::build_router_solicitation(v6("::"), all_routers_v6(), hex("0101 000000000000"), 255));
  EXPECT_TRUE(out.datagrams.empty()) << "R2461-6.1.1-06: unspecified source";
}

TEST(NodeServerRs, Rfc6081TrailersFollowTheConfiguration) {
  const ByteVector payload = concat({rs_packet(false), hex("01 04 deadbeef")});
  Server strict(server_config());
  auto out = deliver(strict, kPrimaryEp, kClient, payload);
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "trailing_bytes_after_ipv6_packet", "R4380-5.3.1-02"));
  auto config = server_config();
  config.accept_trailers = true;
  Server lenient(config);
  EXPECT_EQ(deliver(lenient, kPrimaryEp, kClient, payload).datagrams.size(), 1u);
}

TEST(NodeServerRs, ActionEventsCanBeSwitchedOff) {
  Server server(server_config());
  Outbox out;
  out.record_actions = false;
  server.handle_datagram(Time{0}, kPrimaryEp, kClient, rs_packet(false), out);
  EXPECT_EQ(out.datagrams.size(), 1u);
  EXPECT_TRUE(out.events.empty());
  server.handle_datagram(Time{0}, kPrimaryEp, ep(v4(10, 0, 0, 1), 1), rs_packet(false), out);
  EXPECT_EQ(out.events.size(), 1u) << "drops are always recorded";
}

}  // namespace
}  // namespace teredo::node::test
