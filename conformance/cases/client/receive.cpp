// RFC 4380 §5.2.3 (reception), RFC 6081 §4/§5.1.2 (trailers), §5.2.4 case 2
// and §5.2.9 (the direct IPv6 connectivity test). The NAT is full-cone in
// these cases so that the driver's peers and relay can reach the IUT's
// mapping without a previous bubble; what the IUT answers is judged from the
// lan capture. Negative probes wait the silence window, then a valid control
// must be answered: silence only counts when the IUT is shown alive.
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kEchoId = 0x7e1a;
constexpr std::chrono::milliseconds kSilence{1000};
constexpr std::chrono::milliseconds kReplyTimeout{1500};

struct Probe {
  std::string what{};
  std::vector<std::string> requirements{};
  std::uint16_t sequence = 0;
  std::uint64_t sent_frame = 0;  // inet
  std::uint64_t after = 0;       // lan mark before
  bool expect_reply = false;     // a positive probe: the echo must be answered
};

ByteVector with_prefix(std::initializer_list<std::uint8_t> prefix, Bytes packet) {
  ByteVector out(prefix);
  out.insert(out.end(), packet.begin(), packet.end());
  return out;
}

struct Trusted {
  Peer peer{};
  Endpoint mapping{};
  Ipv6Address address{};
};

// Qualifies and makes a first echo exchange with peer P (full-cone NAT).
std::optional<Trusted> setup(CaseRun& run, PlayedServer& server, const std::vector<std::string>& reqs,
                             std::uint16_t port) {
  const auto address = qualify(run, server, reqs);
  if (!address) return std::nullopt;
  const auto mapping = server.mapping();
  Trusted t{make_peer(run, kPeerA, port), *mapping, *address};
  const std::uint64_t before = lan_mark(run);
  const std::uint64_t sent = send_from(run, t.peer, kit::echo_packet(t.peer.teredo, t.address, kEchoId, 1), t.mapping);
  const auto reply = wait_seen(run, iut_echo_reply(run.capture("lan"), kEchoId, 1), kReplyTimeout, before);
  if (!reply) {
    for (const auto& r : reqs) {
      run.inconclusive(r, fmt::format("setup: a valid echo request from the Teredo peer {} (inet frame {}) to the "
                                      "IUT's mapping {} got no echo reply within {}",
                                      t.peer.where(), sent, to_text(t.mapping), ms_text(kReplyTimeout)),
                       "peer_echo_unanswered");
    }
    return std::nullopt;
  }
  run.info(fmt::format("setup: echo request from {} (inet frame {}) answered: {}", t.peer.where(), sent,
                       describe(*reply)));
  return t;
}

Probe send_probe(CaseRun& run, const Trusted& t, ByteVector payload, std::uint16_t sequence, std::string what,
                 std::vector<std::string> requirements, bool expect_reply = false) {
  Probe p;
  p.after = lan_mark(run);
  p.sequence = sequence;
  p.sent_frame = send_from(run, t.peer, payload, t.mapping);
  p.what = fmt::format("{} (echo sequence {}, inet frame {})", what, sequence, p.sent_frame);
  p.requirements = std::move(requirements);
  p.expect_reply = expect_reply;
  return p;
}

// The probes' reactions are their own echo replies (by sequence number, never
// by timing); the control barrier is a valid echo request (sequence 99). A
// probe that must be discarded is judged by the kit's silence rule; one that
// must be processed fails only when it went unanswered while the later control
// was answered.
void judge(CaseRun& run, const Trusted& t, const std::vector<Probe>& probes) {
  std::this_thread::sleep_for(kSilence);
  Capture& lan_capture = run.capture("lan");
  std::vector<std::optional<Seen>> replies;
  for (const auto& p : probes) {
    const auto found = all_seen(run, iut_echo_reply(lan_capture, kEchoId, p.sequence), p.after);
    replies.push_back(found.empty() ? std::nullopt : std::optional<Seen>(found.front()));
  }
  const std::uint64_t before = lan_mark(run);
  const std::uint64_t control =
      send_from(run, t.peer, kit::echo_packet(t.peer.teredo, t.address, kEchoId, 99), t.mapping);
  const auto answered = wait_seen(run, iut_echo_reply(lan_capture, kEchoId, 99), kReplyTimeout, before);
  const std::optional<std::string> control_failure =
      answered ? std::nullopt
               : std::optional<std::string>(fmt::format("neither did a valid echo request (inet frame {}) within {}",
                                                        control, ms_text(kReplyTimeout)));
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const Probe& p = probes[i];
    if (!p.expect_reply) {
      const kit::Probe discarded{.what = p.what,
                                 .sent = {inet(p.sent_frame)},
                                 .capture = "lan",
                                 .after = p.after,
                                 .reaction = {},
                                 .expected = "silently discarded: no echo reply",
                                 .code = "invalid_packet_answered"};
      std::optional<kit::Reaction> reaction;
      if (replies[i]) reaction = kit::Reaction{replies[i]->frame, describe(*replies[i])};
      kit::record(run, kit::judge_silence(p.requirements, {discarded}, {reaction}, true, control_failure, kSilence));
      continue;
    }
    // A packet the IUT must process: its echo reply is judged; without one,
    // the kit's rule (a discard only when the later control was answered).
    for (const auto& r : p.requirements) {
      if (replies[i]) {
        run.check(r, "valid_packet_discarded", true, "processed: the echo request answered",
                  p.what + ": " + describe(*replies[i]), {inet(p.sent_frame), lan(replies[i]->frame)});
      } else {
        kit::record(run, {kit::unanswered_judgement(r, p.what, "processed: the echo request answered",
                                                    {inet(p.sent_frame)}, control_failure, "valid_packet_discarded",
                                                    kSilence)});
      }
    }
  }
}

void malformed(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R4380-5.2.3-01", "R4380-5.2.3-02", "R4380-4-03"};
  const auto t = setup(run, server, reqs, 41401);
  if (!t) return;
  const auto echo = [&](std::uint16_t seq) { return kit::echo_packet(t->peer.teredo, t->address, kEchoId, seq); };
  std::vector<Probe> probes;
  probes.push_back(send_probe(run, *t, with_prefix({0x00, 0x02, 0, 0, 0, 0, 0, 0}, echo(10)), 10,
                              "an echo request behind an unknown indicator 00 02", {"R4380-5.2.3-01"}));
  probes.push_back(send_probe(run, *t, with_prefix({0x00, 0x01, 200, 200}, echo(11)), 11,
                              "an authentication header whose ID-len and AU-len (200 + 200) exceed the datagram",
                              {"R4380-5.2.3-01"}));
  {
    ByteVector e = echo(12);
    e[0] = static_cast<std::uint8_t>((e[0] & 0x0F) | 0x50);
    probes.push_back(send_probe(run, *t, with_prefix({0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, e), 12,
                                "an origin indication followed by a packet of IP version 5", {"R4380-5.2.3-01",
                                "R4380-5.2.3-02"}));
  }
  {
    ByteVector e = echo(13);
    const std::uint16_t length = static_cast<std::uint16_t>(((e[4] << 8) | e[5]) + 24);
    e[4] = static_cast<std::uint8_t>(length >> 8);
    e[5] = static_cast<std::uint8_t>(length & 0xFF);
    probes.push_back(send_probe(run, *t, e, 13, "an echo request whose IPv6 payload length exceeds the UDP payload "
                                                "by 24 bytes", {"R4380-5.2.3-02"}));
  }
  {
    // A Teredo source with the reserved z flag set: ignored when receiving.
    const Ipv6Address z = kit::teredo_address(kPeerServer, kFlagReserved, t->peer.address, t->peer.port);
    probes.push_back(send_probe(run, *t, kit::echo_packet(z, t->address, kEchoId, 14), 14,
                                "an echo request from " + to_string(z) + " (z flag 0x4000 set, mapping matching)",
                                {"R4380-4-03"}, true));
  }
  judge(run, *t, probes);
}

void trailers(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R6081-4-01", "R6081-5.1.2-03", "R6081-5.1.2-02", "R6081-5.1.2-04",
                                         "R6081-4.1-01", "R6081-5.1.2-01"};
  const auto t = setup(run, server, reqs, 41411);
  if (!t) return;
  const auto echo = [&](std::uint16_t seq, std::initializer_list<std::uint8_t> trailer) {
    ByteVector e = kit::echo_packet(t->peer.teredo, t->address, kEchoId, seq);
    e.insert(e.end(), trailer);
    return e;
  };
  std::vector<Probe> probes;
  probes.push_back(send_probe(run, *t, echo(20, {0x80, 0x04, 1, 2, 3, 4}), 20,
                              "an echo request followed by an unknown trailer of type 0x80 (skip), 4 bytes",
                              {"R6081-4-01", "R6081-5.1.2-03", "R6081-4.1-01"}, true));
  probes.push_back(send_probe(run, *t, echo(21, {0x4F, 0x02, 9, 9}), 21,
                              "an echo request followed by an unknown trailer of type 0x4F (top bits 01: drop)",
                              {"R6081-5.1.2-02", "R6081-4.1-01"}));
  probes.push_back(send_probe(run, *t, echo(23, {0x80, 0x02, 1, 2, 0x4F, 0x02, 9, 9}), 23,
                              "an echo request followed by a skippable trailer (0x80) and then a 0x4F one: processed "
                              "in order, the second drops the packet",
                              {"R6081-5.1.2-01"}));
  // A malformed trailer (length beyond the datagram): parsing stops there;
  // the RFC does not say whether the packet is processed. Recorded; the
  // requirement is that the IUT goes on working (the control is answered).
  const Probe bad = send_probe(run, *t, echo(22, {0x80, 0x0A, 1}), 22,
                               "an echo request followed by a truncated trailer (type 0x80, length 10, 1 byte)", {});
  judge(run, *t, probes);
  Capture& lan_capture = run.capture("lan");
  const auto answered22 = all_seen(run, iut_echo_reply(lan_capture, kEchoId, 22), bad.after);
  const auto control = all_seen(run, iut_echo_reply(lan_capture, kEchoId, 99), bad.after);
  if (control.empty()) {
    run.inconclusive("R6081-5.1.2-04",
                     bad.what + ": the later valid echo request was not answered either: the silence proves nothing",
                     "control_unanswered");
    return;
  }
  run.check("R6081-5.1.2-04", "stopped_after_malformed_trailer", !control.empty(),
            "trailer parsing stops at the malformed trailer; the IUT keeps working (a valid echo request "
            "afterwards answered)",
            bad.what + (answered22.empty() ? ": not answered" : ": answered (" + describe(answered22.front()) + ")") +
                (control.empty() ? "; the later valid echo request was not answered"
                                 : "; the later valid echo request was answered: " + describe(control.front())),
            control.empty() ? std::vector<FrameRef>{inet(bad.sent_frame)}
                            : std::vector<FrameRef>{inet(bad.sent_frame), lan(control.front().frame)});
}

// The IUT's echo tests (ICMPv6 echo request from its Teredo address to
// `native`, through the server) after `after`.
std::vector<Seen> echo_tests(CaseRun& run, const Ipv6Address& native, std::uint64_t after) {
  Capture& lan_capture = run.capture("lan");
  const FrameMatch to_server = iut_to(lan_capture, kServer, kTeredoPort);
  std::vector<Seen> out;
  for (auto& s : all_seen(run, to_server, after)) {
    if (!s.datagram || s.datagram->ipv6.header.destination != native ||
        s.datagram->ipv6.header.next_header != kNextHeaderIcmpv6) {
      continue;
    }
    const auto icmp = parse_icmpv6(s.datagram->ipv6, ChecksumPolicy::ignore);
    if (icmp && icmp->type == kIcmpv6EchoRequest) out.push_back(std::move(s));
  }
  return out;
}

// The relay answers the IUT's echo test; `right_nonce` false flips the data.
std::uint64_t relay_answer(CaseRun& run, const Peer& relay, const Seen& test, const Endpoint& mapping,
                           bool right_nonce) {
  const auto icmp = parse_icmpv6(test.datagram->ipv6, ChecksumPolicy::ignore);
  const auto echo = parse_echo(*icmp);
  ByteVector data;
  data.reserve(echo->data.size() + 1);
  for (const std::uint8_t b : echo->data) data.push_back(b);
  if (!right_nonce) {
    if (data.empty()) {
      data.push_back(0x55);
    } else {
      data[0] = static_cast<std::uint8_t>(data[0] ^ 0xFF);
    }
  }
  const ByteVector reply = build_echo(test.datagram->ipv6.header.destination, test.datagram->ipv6.header.source, 64,
                                      EchoMessage{.reply = true, .identifier = echo->identifier,
                                                  .sequence = echo->sequence, .data = data});
  return send_from(run, relay, reply, mapping);
}

void native_echo_test(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.4-03", "R4380-5.2.9-01", "R4380-5.2.9-02", "R4380-5.2.3-06"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  App app(run);
  Peer relay;
  relay.fd = run.udp_socket("server", kRelay, kTeredoPort);
  relay.address = kRelay;
  relay.port = kTeredoPort;
  const Ipv6Address native = kit::ipv6(kNative);
  const std::uint64_t before = lan_mark(run);
  const std::string m = marker("native", 1);
  const auto sent_at = Clock::now();
  (void)app.send(native, kit::bytes_of(m.c_str()));
  // Up to 4 tests, echo_test_retry apart: observe 5 retries' worth.
  std::this_thread::sleep_for(5 * t.echo + 500ms);
  const auto tests = echo_tests(run, native, before);
  Capture& lan_capture = run.capture("lan");
  const auto early = all_seen(run, iut_containing(lan_capture, m), before);
  if (tests.empty()) {
    // No test and nothing sent: silence, not judged. The packet sent at once
    // without a test: judged.
    if (early.empty()) {
      for (const auto& r : reqs) {
        run.inconclusive(r, fmt::format("the application's packet to {} produced nothing from the IUT within {} (no "
                                        "echo test, no data): the silence proves nothing",
                                        kNative, ms_text(5 * t.echo + 500ms)),
                         "application_packet_ignored");
      }
      return;
    }
    for (const char* r : {"R4380-5.2.4-03", "R4380-5.2.9-01"}) {
      run.check(r, "sent_without_connectivity_test", false,
                "an ICMPv6 echo request from the IUT's Teredo address to " + std::string(kNative) +
                    " through its server 203.0.113.1:3544 before sending to the native host",
                fmt::format("none within {} after the application's packet{}",
                            ms_text(5 * t.echo + 500ms),
                            early.empty() ? "" : "; the packet went out at once: " + describe(early.front())),
                early.empty() ? std::vector<FrameRef>{} : std::vector<FrameRef>{lan(early.front().frame)});
    }
    run.inconclusive("R4380-5.2.9-02", "no echo test to look at", "no_echo_test");
    run.inconclusive("R4380-5.2.3-06", "no echo test to answer", "no_echo_test");
    return;
  }
  std::vector<FrameRef> frames;
  std::string gaps;
  bool spacing = true;
  std::size_t shortest = 64;
  for (std::size_t i = 0; i < tests.size(); ++i) {
    frames.push_back(lan(tests[i].frame));
    const auto icmp = parse_icmpv6(tests[i].datagram->ipv6, ChecksumPolicy::ignore);
    const auto echo = parse_echo(*icmp);
    shortest = std::min<std::size_t>(shortest, echo ? echo->data.size() : 0);
    if (i == 0) continue;
    const auto gap = since(tests[i - 1].at, tests[i].at);
    gaps += fmt::format("{}{} ms", gaps.empty() ? "" : ", ", gap.count());
    if (gap < t.echo * 9 / 10 - 20ms) spacing = false;
  }
  const auto first_delay = since(sent_at, tests.front().at);
  const std::string observed =
      fmt::format("{} echo test(s) to 203.0.113.1:3544 (first {} ms after the packet: {}), gaps {}; the "
                  "application's packet before any reply: {}",
                  tests.size(), first_delay.count(), describe(tests.front()), gaps.empty() ? "none" : gaps,
                  early.empty() ? "held" : "sent (" + describe(early.front()) + ")");
  run.check("R4380-5.2.9-01", "sent_without_connectivity_test", early.empty(),
            "before sending to a native node without valid entry, a nonce echo test through the server", observed,
            frames);
  run.check("R4380-5.2.4-03", "echo_test_schedule_wrong", early.empty() && spacing && tests.size() <= 4,
            fmt::format("the packet queued; the test repeated at the echo_test_retry {} (>= 90 %), at most 4 in all",
                        ms_text(t.echo)),
            observed, frames);
  run.check("R4380-5.2.9-02", "echo_nonce_too_short", shortest >= 8, "the echo data (nonce) at least 64 bits",
            fmt::format("shortest echo data {} bytes over {} test(s)", shortest, tests.size()), frames);
  // A second packet, to another native host: a relay answers its first test
  // at once with a wrong nonce, then (before the tests run out) the latest
  // test with the right one.
  const Ipv6Address native2 = kit::ipv6("2001:db8:1::11");
  const std::string m2 = marker("native", 2);
  const std::uint64_t before2 = lan_mark(run);
  (void)app.send(native2, kit::bytes_of(m2.c_str()));
  const auto deadline = Clock::now() + t.echo + 1000ms;
  std::vector<Seen> tests2;
  for (int guard = 0; guard < 100000 && Clock::now() < deadline && tests2.empty(); ++guard) {
    tests2 = echo_tests(run, native2, before2);
    if (tests2.empty()) std::this_thread::sleep_for(10ms);
  }
  if (tests2.empty()) {
    run.inconclusive("R4380-5.2.3-06", "no echo test for the second native destination 2001:db8:1::11",
                     "no_echo_test");
    return;
  }
  const auto hold = std::clamp<std::chrono::milliseconds>(t.echo / 2, 100ms, 1000ms);
  const std::uint64_t before_wrong = lan_mark(run);
  const std::uint64_t wrong = relay_answer(run, relay, tests2.front(), *mapping, false);
  std::this_thread::sleep_for(hold);
  const auto after_wrong = all_seen(run, iut_to(lan_capture, kRelay, kTeredoPort), before_wrong);
  tests2 = echo_tests(run, native2, before2);
  const std::uint64_t before_right = lan_mark(run);
  const std::uint64_t right = relay_answer(run, relay, tests2.back(), *mapping, true);
  const auto released = wait_seen(run, iut_containing(lan_capture, m2), kReplyTimeout, before_right);
  const bool released_to_relay = released && released->carrier.destination4 == kit::ipv4(kRelay) &&
                                 released->carrier.destination_port == kTeredoPort;
  if (after_wrong.empty() && !released) {
    run.inconclusive("R4380-5.2.3-06", fmt::format("nothing sent after the wrong-nonce reply (inet frame {}) nor "
                                                   "after the right one (inet frame {}) within {}: the silence proves "
                                                   "nothing about the release",
                                                   wrong, right, ms_text(kReplyTimeout)),
                     "nothing_released");
    return;
  }
  // R4380-5.2.3-17: only the reply with the stored nonce makes the entry
  // trusted; the wrong-nonce reply before it releases nothing. A client that
  // trusts any echo reply (no nonce kept per entry) fails here.
  if (!after_wrong.empty() || released) {
    run.check("R4380-5.2.3-17", "untrusted_entry_trusted_without_its_nonce", after_wrong.empty(),
              "nothing sent to 198.51.100.9:3544 after an echo reply with the wrong nonce (inet frame " +
                  std::to_string(wrong) + ")",
              after_wrong.empty() ? "nothing; the right-nonce reply then released the packet: " + describe(*released)
                                  : describe(after_wrong.front()),
              lan_frames({tests2.front().frame, after_wrong.empty() ? 0 : after_wrong.front().frame,
                          released ? released->frame : 0}));
  }
  run.check("R4380-5.2.3-06", "echo_reply_nonce_not_checked", after_wrong.empty() && released_to_relay,
            "an echo reply with the wrong nonce changes nothing; with the nonce the queued packet goes to the "
            "reply's source 198.51.100.9:3544",
            fmt::format("packet to 2001:db8:1::11, test {}; wrong-nonce reply (inet frame {}): {} within {}; "
                        "right-nonce reply to the test of lan frame {} (inet frame {}): {}",
                        describe(tests2.front()), wrong,
                        after_wrong.empty() ? "nothing sent to the relay" : describe(after_wrong.front()),
                        ms_text(hold), tests2.back().frame, right,
                        released ? describe(*released) : "the queued packet was not sent within 1500 ms"),
            lan_frames({tests2.front().frame, after_wrong.empty() ? 0 : after_wrong.front().frame,
                        released ? released->frame : 0}));
}

void server_origin_test(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.3-04", "R4380-5.2.3-14"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  (void)run.udp_socket("server", kRelay, kTeredoPort);
  const Ipv6Address native = kit::ipv6(kNative);
  // The server forwards a native host's echo request with the origin
  // indication of the relay it came through (§5.3.1 / §5.4.1 case 3).
  const ByteVector packet = kit::echo_packet(native, *address, 0x7e1b, 1);
  ByteVector payload;
  (void)append_datagram(payload, std::nullopt, OriginIndication{kTeredoPort, kit::ipv4(kRelay)}, packet);
  const std::uint64_t before = lan_mark(run);
  const std::uint64_t inet_before = inet_mark(run);
  server.send_from_primary(*mapping, payload);
  std::this_thread::sleep_for(t.echo + 1000ms);
  const auto tests = echo_tests(run, native, before);
  Capture& lan_capture = run.capture("lan");
  const auto sent = lan_capture.frames(ra_to_iut(lan_capture), before);
  const std::uint64_t in_frame = sent.empty() ? 0 : sent.front().number;
  const auto direct_reply = all_seen(run, iut_echo_reply(lan_capture, 0x7e1b, 1), before);
  std::optional<Seen> reply_out;
  for (const auto& s : direct_reply) {
    if (!(s.carrier.destination4 == kit::ipv4(kServer))) reply_out = s;
  }
  const std::string observed = fmt::format(
      "echo request {} -> {} from 203.0.113.1:3544 with origin 198.51.100.9:3544 (lan frame {}, inet after {}); "
      "echo test through the server: {}; the echo reply sent straight to a relay before any test: {}",
      kNative, to_string(*address), in_frame, inet_before, tests.empty() ? "none" : describe(tests.front()),
      reply_out ? describe(*reply_out) : "no");
  const std::vector<FrameRef> frames =
      lan_frames({in_frame, tests.empty() ? 0 : tests.front().frame, reply_out ? reply_out->frame : 0});
  if (tests.empty() && !reply_out) {
    for (const auto& r : reqs) {
      run.inconclusive(r,
                       "the IUT sent nothing in answer (no echo test, no reply to the relay): the silence proves "
                       "nothing: " + observed,
                       "nothing_sent");
    }
    return;
  }
  run.check("R4380-5.2.3-04", "no_connectivity_test_on_origin", !tests.empty(),
            "a packet from the server with an origin indication: the direct IPv6 connectivity test on its source",
            observed, frames);
  run.check("R4380-5.2.3-14", "processed_before_connectivity_test", !tests.empty() && !reply_out,
            "a packet from a non-Teredo source with no entry: the connectivity test first, nothing sent to it "
            "blindly",
            observed, frames);
}

// A datagram from the peer's mapping reaching the IUT (lan capture).
FrameMatch peer_to_iut(const Capture& capture, const Peer& peer) {
  const LinkType link = capture.link_type();
  const Ipv4Address source = kit::ipv4(peer.address), iut = kit::ipv4(kClientLan);
  const std::uint16_t port = peer.port;
  return [link, source, iut, port](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->source4 == source && c->source_port == port && c->destination4 == iut;
  };
}

void new_entry_bubble(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.3-08"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  Capture& lan_capture = run.capture("lan");
  const Peer p = make_peer(run, kPeerA, 41421);
  // 1. A bubble from the peer's own mapping (case 3): a new entry, trusted.
  const std::uint64_t before = lan_mark(run);
  const std::uint64_t direct = send_from(run, p, kit::bubble_packet(p.teredo, *address), *mapping);
  const auto arrived = lan_capture.wait_for(peer_to_iut(lan_capture, p), 1000ms, before);
  if (!arrived) {
    run.inconclusive(reqs[0], fmt::format("the peer's bubble from {} (inet frame {}) did not reach the IUT's LAN "
                                          "address within 1000 ms",
                                          p.where(), direct),
                     "peer_bubble_not_delivered");
    return;
  }
  // 2. At once, the same peer's bubble relayed by the IUT's server with its
  // mapping as origin indication: a client that bubbles back toward the
  // sender (§5.2.3 last paragraph, §5.2.6) may do so only when the entry's
  // last transmission is 2 s old.
  const std::uint64_t relayed_inet = indirect_bubble(run, server, p, *address, *mapping);
  const auto bubble = wait_seen(run, iut_bubble_for(lan_capture, p.teredo), t.bubble + 1500ms, before);
  const auto relayed = lan_capture.frames(ra_to_iut(lan_capture), arrived->number);
  const std::uint64_t relayed_frame = relayed.empty() ? 0 : relayed.front().number;
  const std::string setup = fmt::format(
      "the peer's bubble from its mapping {} reached the IUT (lan frame {}, a new entry by case 3); its bubble "
      "relayed by 203.0.113.1:3544 with origin {} (inet frame {}, lan frame {})",
      p.where(), arrived->number, p.where(), relayed_inet, relayed_frame);
  if (!bubble) {
    run.inconclusive(reqs[0], setup + fmt::format("; the IUT sent no bubble toward the peer within {} (sending one "
                                                  "is optional): the new entry's last-transmission date cannot be "
                                                  "observed",
                                                  ms_text(t.bubble + 1500ms)),
                     "no_bubble_to_peer");
    return;
  }
  const auto gap = since(arrived->at, bubble->at);
  const auto hold_off = t.bubble * 9 / 10 - 20ms;
  run.check(reqs[0], "new_entry_transmission_date_recent", gap < hold_off,
            fmt::format("the new entry starts with last transmission 30 s ago and no bubbles: a bubble toward the "
                        "peer may go at once, less than the bubble interval {} (90 %: {}) after the entry's "
                        "creation",
                        ms_text(t.bubble), ms_text(hold_off)),
            setup + fmt::format("; then {}, {} ms after the entry's creation", describe(*bubble), gap.count()),
            lan_frames({arrived->number, relayed_frame, bubble->frame}));
}

void optional_bubble(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.3-15"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  Capture& lan_capture = run.capture("lan");
  // Probe A: an echo request straight from a new Teredo peer's mapping.
  const Peer a = make_peer(run, kPeerA, 41441);
  const std::uint64_t before_a = lan_mark(run);
  const std::uint64_t echo = send_from(run, a, kit::echo_packet(a.teredo, *address, kEchoId, 41), *mapping);
  // Probe B: another new peer's bubble relayed by the IUT's server (origin
  // indication: its mapping).
  const Peer b = make_peer(run, kPeerB, 41442);
  const std::uint64_t before_b = lan_mark(run);
  const std::uint64_t inet_b = indirect_bubble(run, server, b, *address, *mapping);
  std::this_thread::sleep_for(std::max<std::chrono::milliseconds>(1500ms, t.bubble + 500ms));
  const auto reply = all_seen(run, iut_echo_reply(lan_capture, kEchoId, 41), before_a);
  const auto bubbles_a = all_seen(run, iut_bubble_for(lan_capture, a.teredo), before_a);
  const auto bubbles_b = all_seen(run, iut_bubble_for(lan_capture, b.teredo), before_b);
  const auto relayed = lan_capture.frames(ra_to_iut(lan_capture), before_b);
  const std::uint64_t relayed_frame = relayed.empty() ? 0 : relayed.front().number;
  const auto list = [](const std::vector<Seen>& seen) {
    std::string out;
    for (const auto& s : seen) out += (out.empty() ? "" : "; ") + describe(s);
    return out.empty() ? std::string("no bubble") : out;
  };
  const std::string observed = fmt::format(
      "A: echo request from the Teredo peer {} (inet frame {}): echo reply {}; bubbles toward it: {}. B: the "
      "Teredo peer {}'s bubble relayed by 203.0.113.1:3544 with origin {} (inet frame {}, lan frame {}): "
      "bubbles toward it: {}",
      a.where(), echo, reply.empty() ? "none" : describe(reply.front()), list(bubbles_a), b.where(), b.where(),
      inet_b, relayed_frame, list(bubbles_b));
  std::vector<FrameRef> frames = {inet(echo)};
  if (inet_b != 0) frames.push_back(inet(inet_b));
  for (const auto* seen : {&reply, &bubbles_a, &bubbles_b}) {
    if (!seen->empty()) frames.push_back(lan(seen->front().frame));
  }
  if (relayed_frame != 0) frames.push_back(lan(relayed_frame));
  run.info(fmt::format("optional bubble on reception (MAY): after a direct packet {}; after a relayed one {}",
                       bubbles_a.empty() ? "none" : "sent", bubbles_b.empty() ? "none" : "sent"));
  run.check(reqs[0], "optional_bubble_recorded", true,
            "either behaviour: a bubble toward the sender after a reception, or none (MAY): recorded",
            observed, frames);
}

// §5.2.3 case 1 needs per-peer state: "If there is an entry for the source
// IPv6 address in the list of peers whose status is trusted, the client
// compares the mapped IPv4 address and mapped port in the entry with the
// source IPv4 address and source port of the packet. If the values match,
// the packet is accepted". A client that keeps no peer list cannot tell the
// trusted mapping from any other: the case sends the same packet from the
// trusted mapping and from another one and needs them treated differently.
//  - Native part (needs state): a native host N's echo request comes through
//    the server with the origin indication of relay R (198.51.100.9:3544);
//    the IUT's direct connectivity test (§5.2.9) is answered by R with the
//    nonce, which makes N trusted at R (§5.2.3 case 2). Then N's echo request
//    arrives from R2 (198.51.100.9:3545, the impostor), then from R (the
//    control barrier).
//  - Teredo part: peer P (its address embeds 198.51.100.7:41471) is trusted at
//    that mapping (case 3, its echo request answered); then P's echo request
//    from 198.51.100.7:41472 (the impostor), then from the mapping again.
// An answer sent to an impostor's endpoint is blind acceptance: the entry's
// mapping was ignored (case 1 fails; cases 2, 3 and 5 do not apply; case 6
// asks for the connectivity test before processing).
constexpr std::uint16_t kStateEchoId = 0x7e1d;

struct StatePart {
  std::string story;
  std::vector<FrameRef> frames;
  bool reached = false;            // the trusted state was shown
  std::optional<Seen> impostor_answer;  // an echo reply sent to the impostor's endpoint
  bool tested = false;             // an echo test for the source between the impostor's probe and that answer
  std::optional<Seen> control;     // the echo request from the trusted mapping answered there
};

std::optional<Seen> echo_reply_to(CaseRun& run, std::uint16_t sequence, const Endpoint& to, std::uint64_t after,
                                  std::chrono::milliseconds wait) {
  Capture& lan_capture = run.capture("lan");
  const FrameMatch reply = iut_echo_reply(lan_capture, kStateEchoId, sequence);
  const LinkType link = lan_capture.link_type();
  const auto f = lan_capture.wait_for(
      [&](const CapturedFrame& frame) {
        if (!reply(frame)) return false;
        const auto c = find_udp_carrier(link, frame.data);
        return c && c->destination4 == to.address && c->destination_port == to.port;
      },
      wait, after);
  if (!f) return std::nullopt;
  return parse_seen(*f, link);
}

StatePart teredo_part(CaseRun& run, const Ipv6Address& iut, const Endpoint& mapping) {
  StatePart part;
  const Peer p = make_peer(run, kPeerA, 41471);
  Peer impostor = make_peer(run, kPeerA, 41472);
  impostor.teredo = p.teredo;
  const Endpoint trusted{kit::ipv4(p.address), p.port}, other{kit::ipv4(impostor.address), impostor.port};
  std::uint64_t mark = lan_mark(run);
  const std::uint64_t first = send_from(run, p, kit::echo_packet(p.teredo, iut, kStateEchoId, 11), mapping);
  const auto trusted_reply = echo_reply_to(run, 11, trusted, mark, kReplyTimeout);
  if (!trusted_reply) {
    part.story = fmt::format("Teredo part: P's echo request from its own mapping {} (inet frame {}) got no reply "
                             "there within {}: P not shown trusted",
                             p.where(), first, ms_text(kReplyTimeout));
    return part;
  }
  part.reached = true;
  mark = lan_mark(run);
  const std::uint64_t probe = send_from(run, impostor, kit::echo_packet(p.teredo, iut, kStateEchoId, 12), mapping);
  std::this_thread::sleep_for(kSilence);
  part.impostor_answer = echo_reply_to(run, 12, other, mark, 0ms);
  const std::uint64_t mark_control = lan_mark(run);
  const std::uint64_t control = send_from(run, p, kit::echo_packet(p.teredo, iut, kStateEchoId, 13), mapping);
  part.control = echo_reply_to(run, 13, trusted, mark_control, kReplyTimeout);
  part.story = fmt::format(
      "Teredo part: P {} trusted at {} (echo answered: {}); P's echo request from {} (inet frame {}): {}; P's echo "
      "request from {} again (inet frame {}): {}",
      to_string(p.teredo), p.where(), describe(*trusted_reply), impostor.where(), probe,
      part.impostor_answer ? "answered there: " + describe(*part.impostor_answer)
                           : "not answered there within " + ms_text(kSilence),
      p.where(), control, part.control ? describe(*part.control) : "no reply there within " + ms_text(kReplyTimeout));
  part.frames = {inet(probe)};
  if (part.impostor_answer) part.frames.push_back(lan(part.impostor_answer->frame));
  if (part.control) part.frames.push_back(lan(part.control->frame));
  return part;
}

StatePart native_part(CaseRun& run, PlayedServer& server, const Ipv6Address& iut, const Endpoint& mapping) {
  const Timers t = timers(run);
  StatePart part;
  Peer relay;
  relay.fd = run.udp_socket("server", kRelay, kTeredoPort);
  relay.address = kRelay;
  relay.port = kTeredoPort;
  Peer impostor;
  impostor.fd = run.udp_socket("server", kRelay, kTeredoPort + 1);
  impostor.address = kRelay;
  impostor.port = kTeredoPort + 1;
  const Endpoint at_relay{kit::ipv4(kRelay), kTeredoPort}, at_impostor{kit::ipv4(kRelay), kTeredoPort + 1};
  const Ipv6Address native = kit::ipv6("2001:db8:1::12");
  // 1. N's echo request through the server, origin indication R.
  ByteVector payload;
  (void)append_datagram(payload, std::nullopt, OriginIndication{kTeredoPort, kit::ipv4(kRelay)},
                        kit::echo_packet(native, iut, kStateEchoId, 1));
  std::uint64_t mark = lan_mark(run);
  server.send_from_primary(mapping, payload);
  const auto deadline = Clock::now() + t.echo + 1000ms;
  std::vector<Seen> tests;
  for (int guard = 0; guard < 100000 && Clock::now() < deadline && tests.empty(); ++guard) {
    tests = echo_tests(run, native, mark);
    if (tests.empty()) std::this_thread::sleep_for(10ms);
  }
  if (tests.empty()) {
    part.story = fmt::format("native part: {}'s echo request through the server with origin {} brought no direct "
                             "connectivity test within {}: N could not be made trusted at R",
                             to_string(native), to_text(at_relay), ms_text(t.echo + 1000ms));
    return part;
  }
  // 2. R answers the test with its nonce: N trusted at R (case 2).
  const std::uint64_t answer = relay_answer(run, relay, tests.back(), mapping, true);
  const auto released = echo_reply_to(run, 1, at_relay, mark, kReplyTimeout);
  // 3. The impostor R2, then the control from R.
  mark = lan_mark(run);
  const std::uint64_t probe = send_from(run, impostor, kit::echo_packet(native, iut, kStateEchoId, 2), mapping);
  std::this_thread::sleep_for(kSilence);
  part.impostor_answer = echo_reply_to(run, 2, at_impostor, mark, 0ms);
  if (part.impostor_answer) {
    for (const auto& test : echo_tests(run, native, mark)) {
      if (test.frame < part.impostor_answer->frame) part.tested = true;
    }
  }
  const std::uint64_t mark_control = lan_mark(run);
  const std::uint64_t control = send_from(run, relay, kit::echo_packet(native, iut, kStateEchoId, 3), mapping);
  part.control = echo_reply_to(run, 3, at_relay, mark_control, kReplyTimeout);
  part.reached = true;
  part.story = fmt::format(
      "native part: test {} answered by R {} with the nonce (inet frame {}); the first echo request's reply {}; "
      "N's echo request from R2 {} (inet frame {}): {}; N's echo request from R again (inet frame {}): {}",
      describe(tests.back()), to_text(at_relay), answer,
      released ? "released to R: " + describe(*released) : "not seen at R",
      to_text(at_impostor), probe,
      part.impostor_answer ? fmt::format("answered there ({}test first): {}", part.tested ? "" : "no ",
                                         describe(*part.impostor_answer))
                           : "not answered there within " + ms_text(kSilence),
      control, part.control ? describe(*part.control) : "no reply at R within " + ms_text(kReplyTimeout));
  part.frames = lan_frames({tests.back().frame, released ? released->frame : 0});
  part.frames.push_back(inet(probe));
  if (part.impostor_answer) part.frames.push_back(lan(part.impostor_answer->frame));
  if (part.control) part.frames.push_back(lan(part.control->frame));
  return part;
}

void trusted_mapping_state(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R4380-5.2.3-05", "R4380-5.2.3-16", "R4380-5.2.3-18", "R4380-5.2.3-14"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  const StatePart teredo = teredo_part(run, *address, *mapping);
  const StatePart native = native_part(run, server, *address, *mapping);
  const std::string story = teredo.story + "; " + native.story;
  std::vector<FrameRef> frames = teredo.frames;
  frames.insert(frames.end(), native.frames.begin(), native.frames.end());
  // R4380-5.2.3-05: case 1, the packet from the entry's trusted mapping is
  // accepted. Silence proves nothing: pass or inconclusive only.
  const std::string expected05 = "the packet from the entry's trusted mapping accepted (answered there)";
  if (native.control) {
    run.check("R4380-5.2.3-05", "trusted_mapping_packet_refused", true, expected05, story, frames);
  } else {
    run.inconclusive("R4380-5.2.3-05",
                     "the state that needs a peer list was not shown (a native peer trusted at its relay, its later "
                     "packet answered there): " + story,
                     "peer_never_trusted");
  }
  // R4380-5.2.3-16 (native peer N, trusted at relay R) and R4380-5.2.3-18
  // (Teredo peer P, whose address embeds its mapping): the same packet from
  // another mapping is not taken for the trusted peer's. A client without a
  // peer list answers wherever a packet came from, and fails here.
  const auto judge_impostor = [&](const char* requirement, const StatePart& part, const std::string& expected,
                                  AssertionCode code) {
    if (part.impostor_answer) {
      run.check(requirement, code, false, expected, part.story, part.frames);
    } else if (part.control) {
      run.check(requirement, code, true, expected, part.story, part.frames);
    } else {
      run.inconclusive(requirement,
                       "no answer to the other mapping, but no control answered after it either: " + part.story,
                       "control_unanswered");
    }
  };
  judge_impostor("R4380-5.2.3-16", native,
                 "a trusted entry vouches only for its stored mapping: N's packet from R2 not answered at R2 as N's",
                 "trusted_entry_vouched_for_other_mapping");
  judge_impostor("R4380-5.2.3-18", teredo,
                 "P's packet from another port of P's address (not the mapping P's address embeds) creates no "
                 "trusted entry: nothing answered to that port",
                 "mismatched_mapping_trusted");
  // R4380-5.2.3-14: case 6 (no entry vouches for R2): "before processing the
  // packet, the client should perform the direct IPv6 connectivity test".
  const std::string expected14 =
      "N's packet from R2 (no entry holds that mapping) not processed before a direct connectivity test: no answer "
      "to R2 without a test first";
  if (native.impostor_answer) {
    run.check("R4380-5.2.3-14", "processed_before_connectivity_test", native.tested, expected14, native.story, native.frames);
  } else if (native.reached && native.control) {
    run.check("R4380-5.2.3-14", "processed_before_connectivity_test", true, expected14, native.story, native.frames);
  } else {
    run.inconclusive("R4380-5.2.3-14", "no answer to R2, but no control answered after it either: " + native.story,
                     "control_unanswered");
  }
}

}  // namespace

TEREDO_CASE({
    .id = "client.receive.malformed-dropped",
    .title = "Datagrams that are not (auth)(origin) IPv6, or whose IPv6 length is wrong, are discarded",
    .description = "NAT profile full-cone. After qualification and one answered echo request from a Teredo peer "
                   "(its address embeds its real endpoint), the peer sends echo requests behind an unknown "
                   "indicator 00 02, behind an authentication header whose lengths exceed the datagram, after an "
                   "origin indication with IP version 5, and with a payload length 24 bytes too long, and one "
                   "from a Teredo source with the z flag set (mapping matching); then a valid echo request (the "
                   "control).",
    .judgement = "No echo reply to the malformed probes within 1 s, and the control answered; the z-flag one "
                 "answered (the flag ignored when receiving).",
    .role = "client",
    .requirements = {"R4380-5.2.3-01", "R4380-5.2.3-02", "R4380-4-03"},
    .topology = kTopology,
    .nat_profile = std::string("full-cone"),
    .captures = client_captures(),
    .body = malformed,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.receive.rfc6081-trailers",
    .title = "RFC 6081 trailers: unknown skippable trailers ignored, 01-type ones drop the packet",
    .description = "NAT profile full-cone. After one answered echo request, the peer sends echo requests followed "
                   "by a trailer of unknown type 0x80, one of unknown type 0x4F, one with 0x80 then 0x4F, and a "
                   "truncated trailer; then a valid echo request (the control).",
    .judgement = "The 0x80 one answered, the 0x4F one not (control answered); after the truncated trailer the IUT "
                 "still answers.",
    .role = "client",
    .requirements = {"R6081-4-01", "R6081-5.1.2-03", "R6081-5.1.2-02", "R6081-5.1.2-04", "R6081-4.1-01",
                     "R6081-5.1.2-01"},
    .topology = kTopology,
    .nat_profile = std::string("full-cone"),
    .captures = client_captures(),
    .body = trailers,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.direct-test.native-destination",
    .title = "To a native IPv6 host: queue, nonce echo test through the server, release on the right reply",
    .description = "NAT profile full-cone. After qualification the application sends to 2001:db8:1::10 and "
                   "nobody answers for 5 echo_test_retry periods. Then it sends to 2001:db8:1::11; a played relay "
                   "(198.51.100.9:3544) answers the first echo test at once with a wrong nonce, then (half an "
                   "echo_test_retry later) the latest test with the right one.",
    .judgement = "Echo requests from the Teredo address to 2001:db8:1::10 via 203.0.113.1:3544, data >= 8 bytes, "
                 "spaced >= 90 % of echo_test_retry, at most 4; the packet held until the right reply, then sent to "
                 "198.51.100.9:3544; nothing after the wrong one.",
    .role = "client",
    .requirements = {"R4380-5.2.4-03", "R4380-5.2.9-01", "R4380-5.2.9-02", "R4380-5.2.3-06", "R4380-5.2.3-17"},
    .capabilities = {"direct_connectivity_test"},
    .topology = kTopology,
    .nat_profile = std::string("full-cone"),
    .captures = client_captures(),
    .body = native_echo_test,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.direct-test.server-origin",
    .title = "A native packet forwarded by the server with an origin indication triggers the connectivity test",
    .description = "NAT profile full-cone. After qualification the played server sends the IUT an echo request "
                   "from 2001:db8:1::10 with the origin indication 198.51.100.9:3544 (a relay).",
    .judgement = "The IUT sends an echo request (the test) to 2001:db8:1::10 through 203.0.113.1:3544 and sends "
                 "nothing straight to the relay first.",
    .role = "client",
    .requirements = {"R4380-5.2.3-04", "R4380-5.2.3-14"},
    .capabilities = {"direct_connectivity_test"},
    .topology = kTopology,
    .nat_profile = std::string("full-cone"),
    .captures = client_captures(),
    .body = server_origin_test,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.receive.new-entry-bubbles-at-once",
    .title = "A peer entry created by a case-3 reception may bubble at once (last transmission 30 s ago)",
    .description = "NAT profile full-cone. After qualification a new Teredo peer (198.51.100.7:41421, its address "
                   "embeds that mapping) sends a bubble from its mapping (§5.2.3 case 3: a new entry); right after "
                   "it, the IUT's server relays the same peer's bubble with the origin indication 198.51.100.7:41421.",
    .judgement = "The IUT's first bubble toward the peer leaves less than 90 % of bubble_interval (-20 ms) after "
                 "the entry's creation (lan capture times): no 2 s hold-off. No bubble at all: inconclusive (sending "
                 "it is optional).",
    .role = "client",
    .requirements = {"R4380-5.2.3-08"},
    .topology = kTopology,
    .nat_profile = std::string("full-cone"),
    .captures = client_captures(),
    .body = new_entry_bubble,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.receive.optional-bubble-to-sender",
    .title = "On reception the client may send a bubble toward the sender (recorded)",
    .description = "NAT profile full-cone. After qualification a new Teredo peer (198.51.100.7:41441) sends an echo "
                   "request from its mapping, and the IUT's server relays another new peer's bubble "
                   "(198.51.100.8:41442, as origin indication); the lan capture is watched for 1.5 s (at least "
                   "bubble_interval + 0.5 s).",
    .judgement = "Optional (MAY): bubbles toward either sender, or none, are recorded; always pass.",
    .role = "client",
    .requirements = {"R4380-5.2.3-15"},
    .topology = kTopology,
    .nat_profile = std::string("full-cone"),
    .captures = client_captures(),
    .body = optional_bubble,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.receive.trusted-mapping-state",
    .title = "§5.2.3 case 1 needs the peer list: the same packet from the trusted mapping and from another differ",
    .description = "NAT profile full-cone. Teredo part: peer P (198.51.100.7:41471, embedded in its address) is "
                   "trusted by an answered echo request; P's echo request then comes from 198.51.100.7:41472, then "
                   "from its mapping again. Native part: 2001:db8:1::12's echo request comes through the server with "
                   "the origin 198.51.100.9:3544 (relay R); R answers the IUT's connectivity test with the nonce "
                   "(trusted at R); the host's echo request then comes from 198.51.100.9:3545 (R2), then from R.",
    .judgement = "Nothing answered to an impostor's endpoint (41472, R2) and the native host's later packet from R "
                 "answered at R (which only a client keeping a peer list can do): R4380-5.2.3-05. An answer to R2 "
                 "needs a connectivity test before it (R4380-5.2.3-14). Neither trusted state shown: inconclusive.",
    .role = "client",
    .requirements = {"R4380-5.2.3-05", "R4380-5.2.3-16", "R4380-5.2.3-18", "R4380-5.2.3-14"},
    .capabilities = {"direct_connectivity_test"},
    .topology = kTopology,
    .nat_profile = std::string("full-cone"),
    .captures = client_captures(),
    .body = trusted_mapping_state,
    .before_iut = open_played_server,
});

}  // namespace teredo::conformance::client
