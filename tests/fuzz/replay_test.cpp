// `teredo-conform replay`'s pure part: which frames of a capture went to a
// Teredo server, and how the IUT's answers to a replayed RS are judged (an
// RA repeating its nonce; silence only against an answered control).
#include <gtest/gtest.h>

#include "fuzz/oracles.hpp"
#include "fuzz/replay.hpp"

namespace {

using namespace teredo::wire;
using teredo::conformance::fuzz::judge_replayed_rs;
using teredo::conformance::fuzz::ReplayDatagram;
using teredo::conformance::fuzz::to_teredo_server;

Ipv6Address v6(const char* text) { return parse_ipv6(text).value(); }
Ipv4Address v4(const char* text) { return parse_ipv4(text).value(); }

constexpr Nonce kNonce = {1, 2, 3, 4, 5, 6, 7, 8};

ByteVector rs_payload(std::optional<Nonce> nonce, std::uint8_t hop_limit = 255) {
  const ByteVector rs = build_router_solicitation(v6("fe80::ffff:ffff:fffd"), v6("ff02::2"), {}, hop_limit);
  ByteVector out;
  std::optional<AuthenticationFields> auth;
  if (nonce) auth = AuthenticationFields{{}, {}, *nonce, 0};
  EXPECT_TRUE(append_datagram(out, auth, std::nullopt, rs));
  return out;
}

ByteVector ra_payload(std::optional<Nonce> nonce) {
  const ByteVector ra =
      build_router_advertisement(v6("fe80::8000:f227:34ff:8efe"), v6("fe80::ffff:ffff:fffd"), {}, {});
  ByteVector out;
  std::optional<AuthenticationFields> auth;
  if (nonce) auth = AuthenticationFields{{}, {}, *nonce, 0};
  EXPECT_TRUE(append_datagram(out, auth, std::nullopt, ra));
  return out;
}

// An echo request in a simple encapsulation.
ByteVector kit_echo() {
  ByteVector data = {1, 2, 3, 4};
  ByteVector out;
  EXPECT_TRUE(append_datagram(out, std::nullopt, std::nullopt,
                              build_echo(v6("2001:0:cb00:7103::1"), v6("2001:0:cb00:7101::1"), 64,
                                         EchoMessage{.reply = false, .identifier = 1, .sequence = 1, .data = data})));
  return out;
}

ByteVector frame_to(std::uint16_t port, Bytes payload) {
  return build_ethernet_ipv4_udp({.source = v4("192.0.2.1"), .source_port = 50000, .destination = v4("203.0.113.1"),
                                  .destination_port = port},
                                 payload);
}

TEST(ReplaySource, ARouterSolicitationToPort3544IsTakenWithItsNonce) {
  const ByteVector payload = rs_payload(kNonce);
  const auto d = to_teredo_server(7, LinkType::ethernet, frame_to(3544, payload));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->frame, 7u);
  EXPECT_TRUE(d->router_solicitation);
  ASSERT_TRUE(d->nonce);
  EXPECT_EQ(*d->nonce, kNonce);
  EXPECT_EQ(d->payload, payload);
  EXPECT_NE(d->what.find("192.0.2.1:50000 (frame 7)"), std::string::npos) << d->what;
}

TEST(ReplaySource, OtherPortsAreLeftOutMalformedPayloadsAndBadRssAreKeptUnjudged) {
  EXPECT_FALSE(to_teredo_server(1, LinkType::ethernet, frame_to(3545, rs_payload(kNonce))));
  // A reproducer is malformed on purpose: it is replayed, not judged as an RS.
  const ByteVector cut = {0x00, 0x01, 0x08, 0x08, 0x00};
  const auto malformed = to_teredo_server(2, LinkType::ethernet, frame_to(3544, cut));
  ASSERT_TRUE(malformed);
  EXPECT_FALSE(malformed->router_solicitation);
  EXPECT_NE(malformed->what.find("rejects"), std::string::npos) << malformed->what;
  // RFC 4861 §6.1.1: an RS with hop limit 254 is not a valid RS to judge.
  const auto hop = to_teredo_server(3, LinkType::ethernet, frame_to(3544, rs_payload(kNonce, 254)));
  ASSERT_TRUE(hop);
  EXPECT_FALSE(hop->router_solicitation);
}

// The probe and control RS of fuzz and replay is a valid RS carrying its nonce.
TEST(ReplaySource, TheProbeRsIsAValidRsWithItsNonce) {
  const auto d =
      to_teredo_server(1, LinkType::ethernet, frame_to(3544, teredo::conformance::fuzz::probe_rs(kNonce)));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->router_solicitation);
  EXPECT_EQ(d->nonce, std::optional<Nonce>(kNonce));
}

ReplayDatagram rs_with(std::optional<Nonce> nonce) {
  auto d = to_teredo_server(1, LinkType::ethernet, frame_to(3544, rs_payload(nonce)));
  EXPECT_TRUE(d);
  return *d;
}

TEST(ReplayJudgement, AnRaRepeatingTheNoncePasses) {
  const auto v = judge_replayed_rs(rs_with(kNonce), {ra_payload(Nonce{9, 9, 9, 9, 9, 9, 9, 9}), ra_payload(kNonce)},
                                   false);
  EXPECT_EQ(v.outcome, "pass");
  EXPECT_EQ(v.requirement, "R4380-5.3.2-11");
}

TEST(ReplayJudgement, AnRaWithAnotherNonceFailsTheEchoRequirement) {
  const auto v = judge_replayed_rs(rs_with(kNonce), {ra_payload(Nonce{9, 9, 9, 9, 9, 9, 9, 9})}, true);
  EXPECT_EQ(v.outcome, "fail");
  EXPECT_EQ(v.requirement, "R4380-5.3.2-11");
  EXPECT_EQ(v.code, "nonce_not_echoed");
  const auto none = judge_replayed_rs(rs_with(kNonce), {ra_payload(std::nullopt)}, true);
  EXPECT_EQ(none.outcome, "fail");
}

TEST(ReplayJudgement, AnRsWithoutNonceTakesAnyRa) {
  const auto v = judge_replayed_rs(rs_with(std::nullopt), {ra_payload(std::nullopt)}, false);
  EXPECT_EQ(v.outcome, "pass");
  EXPECT_EQ(v.requirement, "R4380-5.3.1-05");
}

TEST(ReplayJudgement, SilenceIsADiscardOnlyWhenTheControlWasAnswered) {
  const auto discarded = judge_replayed_rs(rs_with(kNonce), {}, true);
  EXPECT_EQ(discarded.outcome, "fail");
  EXPECT_EQ(discarded.requirement, "R4380-5.3.1-05");
  EXPECT_EQ(discarded.code, "valid_rs_discarded");
  const auto unknown = judge_replayed_rs(rs_with(kNonce), {}, false);
  EXPECT_EQ(unknown.outcome, "inconclusive");
  EXPECT_EQ(unknown.code, "control_unanswered");
  // Something that is not an RA is no answer to judge the RS by.
  const auto junk = judge_replayed_rs(rs_with(kNonce), {ByteVector{1, 2, 3}}, false);
  EXPECT_EQ(junk.outcome, "inconclusive");
}

TEST(ReplaySource, ForARelayDatagramsToPort3544AndNativePacketsToTeredoAddressesAreTaken) {
  using teredo::conformance::fuzz::to_relay_input;
  const auto client = to_relay_input(4, LinkType::ethernet, frame_to(3544, rs_payload(kNonce)));
  ASSERT_TRUE(client);
  EXPECT_EQ(client->frame, 4u);
  EXPECT_FALSE(client->native_to);
  EXPECT_EQ(client->payload, rs_payload(kNonce));
  EXPECT_FALSE(to_relay_input(5, LinkType::ethernet, frame_to(3545, rs_payload(kNonce))));

  // A native host's UDP packet to a Teredo address: its data, sent again to
  // the same address and port.
  const auto ipv6_frame = [](const Ipv6Address& to) {
    ByteVector udp = {0x17, 0x70, 0x66, 0x22, 0x00, 0x0a, 0x00, 0x00, 'h', 'i'};
    Ipv6Header h;
    h.next_header = kNextHeaderUdp;
    h.source = v6("2001:db8:1::10");
    h.destination = to;
    ByteVector frame = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xDD};
    const ByteVector packet = build_ipv6_packet(h, udp);
    frame.insert(frame.end(), packet.begin(), packet.end());
    return frame;
  };
  const Ipv6Address teredo = v6("2001:0:cb00:7101:0:347a:3fa7:9cf8");
  const auto native = to_relay_input(6, LinkType::ethernet, ipv6_frame(teredo));
  ASSERT_TRUE(native);
  ASSERT_TRUE(native->native_to);
  EXPECT_EQ(*native->native_to, teredo);
  EXPECT_EQ(native->native_port, 0x6622);
  EXPECT_EQ(native->payload, (ByteVector{'h', 'i'}));
  // A native packet to a native address is no relay's input.
  EXPECT_FALSE(to_relay_input(7, LinkType::ethernet, ipv6_frame(v6("2001:db8:2::1"))));
}

TEST(ReplaySource, ForAClientEachDatagramGoesAsThePartyItsSourceNames) {
  using teredo::conformance::fuzz::to_client_input;
  const auto from = [](const char* source, std::uint16_t source_port, const char* to, std::uint16_t port,
                       Bytes payload) {
    return build_ethernet_ipv4_udp(
        {.source = v4(source), .source_port = source_port, .destination = v4(to), .destination_port = port}, payload);
  };
  // A real server's RA to a client: sent as an RA, whatever its address.
  const auto ra = to_client_input(1, LinkType::ethernet, from("192.0.2.99", 3544, "198.51.100.1", 40000, ra_payload(kNonce)));
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->base, "ra");
  // Junk from the lab's server: an RA, so that it reaches a qualifying client.
  const ByteVector junk = {0x00, 0x01, 0xff, 0xff};
  EXPECT_EQ(to_client_input(2, LinkType::ethernet, from("203.0.113.1", 3544, "198.51.100.1", 40000, junk))->base, "ra");
  // Anything else from the server: an indirect bubble; the relay's; a peer's.
  const ByteVector echo = kit_echo();
  EXPECT_EQ(to_client_input(3, LinkType::ethernet, from("203.0.113.1", 3544, "198.51.100.1", 40000, echo))->base,
            "bubble_via_server");
  EXPECT_EQ(to_client_input(4, LinkType::ethernet, from("198.51.100.9", 3544, "198.51.100.1", 40000, echo))->base,
            "data_from_relay");
  EXPECT_EQ(to_client_input(5, LinkType::ethernet, from("198.51.100.7", 41001, "198.51.100.1", 40000, echo))->base,
            "echo_to_client");
  EXPECT_EQ(to_client_input(6, LinkType::ethernet, from("192.0.2.20", 41500, "224.0.0.253", 3544, echo))->base,
            "discovery_bubble");
  // An RS to a server is nothing a client is handed.
  EXPECT_FALSE(to_client_input(7, LinkType::ethernet, frame_to(3544, rs_payload(kNonce))));
}

}  // namespace
