// The kit's silence judgement on synthetic captures: silence proves a discard
// only when a later control is answered; reactions are attributed by content,
// never by order, and never to a frame the driver sent itself; silence about
// what the IUT sends is inconclusive, never a fail.
#include "kit/judge.hpp"

#include <gtest/gtest.h>

#include "kit/datagram.hpp"
#include "kit_frames.hpp"

namespace teredo::conformance::kit {
namespace {

using namespace teredo::wire;
using test::udp_frame;

constexpr const char* kIut = "203.0.113.1";

// A probe sent from 198.51.100.7:<port> (its own frame `own`): the reaction
// is any datagram back to that endpoint.
Probe probe_from(std::uint16_t port, std::uint64_t own, std::uint64_t after) {
  Probe p;
  p.what = "probe from port " + std::to_string(port);
  p.sent = frames_of("driver", {own});
  p.after = after;
  p.reaction = udp_to(LinkType::ethernet, "198.51.100.7", port);
  p.expected = "silently discarded";
  p.code = "test_probe_answered";
  return p;
}

TEST(SilenceJudgement, SilenceAndAnsweredControlProveTheDiscard) {
  const auto j = judge_silence({"R-1", "R-2"}, {probe_from(40001, 1, 0)}, {std::nullopt}, true, std::nullopt);
  ASSERT_EQ(j.size(), 2u);
  for (const auto& x : j) {
    EXPECT_EQ(x.outcome, Outcome::pass);
    EXPECT_EQ(x.code, kDiscardProven);
    EXPECT_NE(x.observed.find("control was answered"), std::string::npos);
  }
  EXPECT_EQ(j[0].requirement, "R-1");
  EXPECT_EQ(j[1].requirement, "R-2");
}

TEST(SilenceJudgement, SilenceAndUnansweredControlAreInconclusive) {
  const auto j = judge_silence({"R-1"}, {probe_from(40001, 1, 0)}, {std::nullopt}, true,
                               std::string("the server did not answer a valid control RS either"));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].outcome, Outcome::inconclusive);
  EXPECT_EQ(j[0].code, kControlUnanswered);
  EXPECT_NE(j[0].observed.find("did not answer a valid control RS"), std::string::npos);
}

TEST(SilenceJudgement, SilenceWithoutAControlIsInconclusive) {
  const auto j = judge_silence({"R-1"}, {probe_from(40001, 1, 0)}, {std::nullopt}, false, std::nullopt);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].outcome, Outcome::inconclusive);
  EXPECT_EQ(j[0].code, kNoControl);
}

TEST(SilenceJudgement, AReactionFailsWithTheProbesCodeAndCitesBothFrames) {
  const auto j = judge_silence({"R-1"}, {probe_from(40001, 3, 2)},
                               {Reaction{5, "RA from 203.0.113.1:3544 (driver frame 5)"}}, false, std::nullopt);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].outcome, Outcome::fail);
  EXPECT_EQ(j[0].code, "test_probe_answered");
  ASSERT_EQ(j[0].frames.size(), 2u);
  EXPECT_EQ(j[0].frames[0].frame, 3u);
  EXPECT_EQ(j[0].frames[1].frame, 5u);
  EXPECT_EQ(j[0].frames[1].capture, "driver.pcap");
}

TEST(SilenceJudgement, MixedProbesAreJudgedOneByOne) {
  const auto j = judge_silence({"R-1"}, {probe_from(40001, 1, 0), probe_from(40002, 2, 1)},
                               {std::nullopt, Reaction{4, "x"}}, true, std::nullopt);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0].outcome, Outcome::pass);
  EXPECT_EQ(j[1].outcome, Outcome::fail);
}

// Capture: A's probe (1), B's probe (2), B's reaction (3), an unrelated
// datagram (4), A's reaction (5): out of order and interleaved.
std::vector<CapturedFrame> interleaved() {
  const ByteVector x = {0xAA};
  return {udp_frame(1, "198.51.100.7", 40001, kIut, 3544, x), udp_frame(2, "198.51.100.7", 40002, kIut, 3544, x),
          udp_frame(3, kIut, 3544, "198.51.100.7", 40002, x), udp_frame(4, kIut, 3544, "198.51.100.8", 40001, x),
          udp_frame(5, kIut, 3544, "198.51.100.7", 40001, x)};
}

TEST(Attribution, ReactionsAreFoundByContentNotByOrder) {
  const auto frames = interleaved();
  const auto a = find_reaction(probe_from(40001, 1, 0), frames);
  const auto b = find_reaction(probe_from(40002, 2, 1), frames);
  const auto c = find_reaction(probe_from(40003, 0, 2), frames);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->number, 5u);  // not frame 3, the first answer after A was sent
  EXPECT_EQ(b->number, 3u);
  EXPECT_FALSE(c.has_value());  // frames 3-5 answer other stimuli
}

TEST(Attribution, OnlyFramesAfterTheProbesMarkCount) {
  const auto frames = interleaved();
  EXPECT_FALSE(find_reaction(probe_from(40002, 2, 3), frames).has_value());
}

TEST(Attribution, AFrameTheDriverSentIsNotTheIutsReaction) {
  // The reaction is "a datagram holding the marker"; the driver's own probe
  // holds it too.
  const std::string m = marker("own", 1);
  Probe p;
  p.sent = frames_of("driver", {1});
  p.after = 0;
  p.reaction = [](const CapturedFrame& f) {
    const auto c = find_udp_carrier(LinkType::ethernet, f.data);
    return c && contains(c->payload, marker("own", 1));
  };
  const std::vector<CapturedFrame> only_own = {udp_frame(1, "198.51.100.7", 40001, kIut, 3544, bytes_of(m.c_str()))};
  EXPECT_FALSE(find_reaction(p, only_own).has_value());
  auto with_iut = only_own;
  with_iut.push_back(udp_frame(2, kIut, 3544, "198.51.100.7", 40001, bytes_of(m.c_str())));
  const auto r = find_reaction(p, with_iut);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->number, 2u);
  // Own frames of another capture do not hide this capture's frame 1.
  p.sent = frames_of("v6host", {1});
  const auto other = find_reaction(p, only_own);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->number, 1u);
}

TEST(UnansweredJudgement, SilenceBeforeAnAnsweredControlIsADiscardOfWhatMustBeProcessed) {
  const auto j = unanswered_judgement("R-1", "a valid RS (driver frame 3)", "an RA", frames_of("driver", {3}),
                                      std::nullopt, "valid_rs_discarded", std::chrono::milliseconds(1500));
  EXPECT_EQ(j.outcome, Outcome::fail);
  EXPECT_EQ(j.code, "valid_rs_discarded");
  EXPECT_NE(j.observed.find("a valid RS (driver frame 3)"), std::string::npos);
  EXPECT_NE(j.observed.find("1500 ms"), std::string::npos);
  ASSERT_EQ(j.frames.size(), 1u);
  EXPECT_EQ(j.frames[0].frame, 3u);
}

TEST(UnansweredJudgement, SilenceBeforeAnUnansweredControlProvesNothing) {
  const auto j = unanswered_judgement("R-1", "a valid RS", "an RA", {}, std::string("the control RS got no RA"),
                                      "valid_rs_discarded", std::chrono::milliseconds(1500));
  EXPECT_EQ(j.outcome, Outcome::inconclusive);
  EXPECT_EQ(j.code, kControlUnanswered);
  EXPECT_NE(j.observed.find("the control RS got no RA"), std::string::npos);
  EXPECT_NE(j.observed.find("proves nothing"), std::string::npos);
}

TEST(SentJudgement, SilenceAboutWhatTheIutSendsIsNeverAFail) {
  const Judgement j = sent_judgement("R-1", false, false, "an RA", "", {}, "ra_missing", "no RA within 1500 ms");
  EXPECT_EQ(j.outcome, Outcome::inconclusive);
  EXPECT_EQ(j.code, kNothingSent);
  EXPECT_NE(j.observed.find("no RA within 1500 ms"), std::string::npos);
}

TEST(SentJudgement, WhatWasSentIsJudged) {
  const Judgement bad = sent_judgement("R-1", true, false, "nonce echoed", "nonce 01..", frames_of("driver", {4}),
                                       "ra_nonce_mismatch", "unused");
  EXPECT_EQ(bad.outcome, Outcome::fail);
  EXPECT_EQ(bad.code, "ra_nonce_mismatch");
  ASSERT_EQ(bad.frames.size(), 1u);
  const Judgement good = sent_judgement("R-1", true, true, "nonce echoed", "nonce echoed", {}, "x", "unused");
  EXPECT_EQ(good.outcome, Outcome::pass);
  EXPECT_EQ(good.code, kSentAsRequired);
}

// A datagram from the IUT (203.0.113.1:3544): a bubble, with `trailers`
// after its IPv6 packet.
CapturedDatagram iut_bubble(std::uint64_t number, const ByteVector& trailers) {
  ByteVector payload = bubble_packet(ipv6("2001:0:cb00:7101::1"), ipv6("2001:0:cb00:7101::2"));
  payload.insert(payload.end(), trailers.begin(), trailers.end());
  return *CapturedDatagram::parse(udp_frame(number, kIut, 3544, "198.51.100.7", 40001, payload), LinkType::ethernet,
                                  "driver");
}

TEST(AlternateAddressAbsent, ATrailerOfType3InAnyDatagramFailsAndIsCitedOthersPass) {
  ByteVector nonce, alternate;
  append_nonce_trailer(nonce, 0x01020304);
  const AlternateAddress entry{ipv4("192.0.2.9"), 40009};
  ASSERT_TRUE(append_alternate_address_trailer(alternate, &entry, 1));
  ByteVector both = nonce;
  both.insert(both.end(), alternate.begin(), alternate.end());

  const Judgement clean = alternate_address_absent({iut_bubble(3, {}), iut_bubble(5, nonce)}, "the server");
  EXPECT_EQ(clean.requirement, "R6081-4.3-01");
  EXPECT_EQ(clean.outcome, Outcome::pass);
  EXPECT_NE(clean.observed.find("2 datagrams from the server"), std::string::npos) << clean.observed;

  // Behind another trailer it is still found; only the carrying frame is cited.
  const Judgement bad = alternate_address_absent({iut_bubble(3, nonce), iut_bubble(7, both)}, "the relay");
  EXPECT_EQ(bad.outcome, Outcome::fail);
  EXPECT_EQ(bad.code, kAlternateAddressTrailerSent);
  ASSERT_EQ(bad.frames.size(), 1u);
  EXPECT_EQ(bad.frames[0].frame, 7u);
}

TEST(AlternateAddressAbsent, NoDatagramIsInconclusive) {
  const Judgement j = alternate_address_absent({}, "the relay");
  EXPECT_EQ(j.outcome, Outcome::inconclusive);
  EXPECT_EQ(j.code, kNothingSent);
}

TEST(Matchers, OwnFrameAndItsAnswerAreTold) {
  const auto own = udp_between(LinkType::ethernet, "198.51.100.7", 40001, kIut, 3544);
  const auto frames = interleaved();
  EXPECT_TRUE(own(frames[0]));
  EXPECT_FALSE(own(frames[4]));  // the answer goes the other way
  EXPECT_TRUE(udp_from(LinkType::ethernet, kIut)(frames[4]));
  EXPECT_FALSE(udp_from(LinkType::ethernet, kIut)(frames[0]));
}

TEST(Matchers, BubbleFromMatchesByDestination) {
  const ByteVector b = bubble_packet(ipv6("2001:0:cb00:7101::1"), ipv6("2001:0:cb00:7101::2"));
  const auto f = udp_frame(1, "198.51.100.20", 3544, "203.0.113.1", 3544, b);
  EXPECT_TRUE(bubble_from(LinkType::ethernet, "198.51.100.20", ipv6("2001:0:cb00:7101::2"))(f));
  EXPECT_FALSE(bubble_from(LinkType::ethernet, "198.51.100.20", ipv6("2001:0:cb00:7101::3"))(f));
  EXPECT_FALSE(bubble_from(LinkType::ethernet, "198.51.100.21", ipv6("2001:0:cb00:7101::2"))(f));
}

TEST(Timing, MillisecondsAreWrittenOneWay) {
  EXPECT_EQ(ms(timeout::answer), "1500 ms");
  EXPECT_EQ(ms(std::chrono::milliseconds(0)), "0 ms");
  const auto t = std::chrono::steady_clock::now();
  EXPECT_EQ(since(t, t + std::chrono::microseconds(2500)).count(), 2);
}

}  // namespace
}  // namespace teredo::conformance::kit
