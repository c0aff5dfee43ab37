// What a server must not do with hostile or broken input: loop through
// itself (Miredo advisory MTFL-SA-0603), act on malformed encapsulations
// (§5.3.1 rule 1), stop serving after a packet over the Teredo MTU, carry
// what is neither a bubble nor ICMPv6 (§5.3.1 rule 2), or ignore a
// must-discard trailer (RFC 6081 §4.1).
#include <fmt/format.h>

#include <thread>

#include "cases/server/driver.hpp"

namespace teredo::conformance::server {
namespace {

using namespace teredo::wire;

ByteVector origin_bytes(const std::string& address, std::uint16_t port) {
  ByteVector out;
  append_origin_indication(out, OriginIndication{.port = port, .address = ipv4(address)});
  return out;
}

ByteVector nonce_auth() {
  ByteVector out;
  append_authentication(out, AuthenticationFields{.nonce = {1, 2, 3, 4, 5, 6, 7, 8}});
  return out;
}

ByteVector concat(std::initializer_list<ByteVector> parts) {
  ByteVector out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void malformed(CaseRun& run, const std::vector<std::pair<ByteVector, std::string>>& payloads, std::uint16_t first_port) {
  std::vector<SilenceProbe> probes;
  std::uint16_t port = first_port;
  for (const auto& [payload, what] : payloads) {
    const Peer p = make_peer(run, kDriver, port++);
    probes.push_back(probe_answer(run, p, payload, what));
  }
  judge_silence(run, {"R4380-5.3.1-02"}, probes, control_rs());
}

void origin_before_auth(CaseRun& run) {
  malformed(run,
            {{concat({origin_bytes(kDriver, 40711), nonce_auth(), rs_packet({})}),
              "origin indication, then authentication, then a valid RS"}},
            40711);
}

void two_origins(CaseRun& run) {
  malformed(run,
            {{concat({origin_bytes(kDriver, 40712), origin_bytes(kDriver, 40712), rs_packet({})}),
              "two origin indications, then a valid RS"},
             {concat({nonce_auth(), nonce_auth(), rs_packet({})}), "two authentication encapsulations, then a valid RS"}},
            40712);
}

void truncated_auth(CaseRun& run) {
  const ByteVector cut = nonce_auth();
  malformed(run,
            {{concat({ByteVector{0x00, 0x01, 0xff, 0xff}, rs_packet({})}),
              "an authentication header whose ID-len and AU-len (255 each) run past the datagram, then a valid RS"},
             {ByteVector(cut.begin(), cut.begin() + 9), "an authentication encapsulation cut after 9 of its 13 bytes"}},
            40714);
}

void malformed_ipv6(CaseRun& run) {
  ByteVector long_length = rs_packet({});
  long_length[4] = 0x00;
  long_length[5] = 100;  // payload length 100, 8 bytes follow
  ByteVector version4 = rs_packet({});
  version4[0] = static_cast<std::uint8_t>((version4[0] & 0x0f) | 0x40);
  const ByteVector full = rs_packet({});
  malformed(run,
            {{concat({nonce_auth(), long_length}), "an RS whose IPv6 payload length (100) runs past the datagram"},
             {concat({nonce_auth(), version4}), "an RS whose IP version field is 4"},
             {concat({nonce_auth(), ByteVector(full.begin(), full.begin() + 30)}),
              "an IPv6 header cut after 30 bytes"}},
            40716);
}

void loop_own_endpoint(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40701);
  const Ipv6Address native = ipv6("2001:db8::5");
  const Ipv6Address self1 = teredo_address(kPrimary, 0, kPrimary, kTeredoPort);
  const Ipv6Address self2 = teredo_address(kPrimary, 0, kSecondary, kTeredoPort);
  Capture& lo = run.capture("server-lo");
  const std::uint64_t lo_mark = lo.count();
  std::vector<Sent> sent;
  std::vector<std::string> what;
  for (const auto& [s, d] : {std::pair{native, self1}, std::pair{native, self2}, std::pair{a.teredo, self1}}) {
    sent.push_back(send_from(run, a, encapsulate(bubble_packet(s, d))));
    what.push_back(fmt::format("a bubble {} -> {} (frame {})", to_string(s), to_string(d), sent.back().frame));
  }
  std::this_thread::sleep_for(kSilenceWindow);
  const auto link = lo.link_type();
  const Ipv4Address primary = ipv4(kPrimary), secondary = ipv4(kSecondary);
  const auto self_datagrams = lo.frames(
      [&](const CapturedFrame& f) {
        const auto c = find_udp_carrier(link, f.data);
        return c && !c->ipv6 && (c->source4 == primary || c->source4 == secondary) &&
               c->source_port == kTeredoPort && (c->destination4 == primary || c->destination4 == secondary) &&
               c->destination_port == kTeredoPort;
      },
      lo_mark);
  Capture& driver = run.capture("driver");
  const auto back = driver.frames(udp_to(driver, a.address, a.port), sent.front().mark);
  const auto control = control_rs()(run);
  std::string probes;
  for (const auto& w : what) probes += (probes.empty() ? "" : "; ") + w;
  const std::string expected = fmt::format(
      "no loop: at most one datagram per probe from the server's endpoint to its own endpoint on server:lo (the "
      "looped copy dropped on receipt), none to the driver, within {} ms",
      kSilenceWindow.count());
  std::vector<FrameRef> frames;
  for (const auto& s : sent) {
    if (s.frame) frames.push_back(frame_ref(s.frame));
  }
  for (std::size_t i = 0; i < self_datagrams.size() && i < 8; ++i) {
    frames.push_back(frame_ref(self_datagrams[i].number, "server-lo"));
  }
  if (!back.empty()) frames.push_back(frame_ref(back.front().number));
  const bool looped = self_datagrams.size() > sent.size() || !back.empty();
  if (!looped && control) {
    run.inconclusive(
        "R4380-5.3.1-01",
        "no loop seen after " + probes + ", but " + *control + ": a server that sends nothing proves nothing",
        kit::kControlUnanswered);
    return;
  }
  run.check("R4380-5.3.1-01", "packet_to_own_endpoint_looped", !looped, expected,
            fmt::format("{} datagram(s) from a server endpoint to a server endpoint on server:lo, {} to the driver, "
                        "after {}",
                        self_datagrams.size(), back.size(), probes),
            frames);
  if (!self_datagrams.empty() && !looped) {
    run.info(fmt::format("the server sent {} datagram(s) to its own endpoint and dropped them on receipt; dropping "
                         "before sending would spare the round",
                         self_datagrams.size()),
             "own_endpoint_datagrams_dropped_on_receipt");
  }
}

// R4380-5.1.2-01 sets the Teredo link MTU (1280) and says nothing about
// what a server does with a larger packet it is handed: whether it relays one
// is recorded (info), never judged. What the case judges is that the server
// keeps serving after it: a valid bubble A -> B sent afterwards is forwarded
// (§5.3.1, R4380-5.3.1-07). Unforwarded by a live server: inconclusive (the
// silence proves nothing); a server that died fails (the engine's rule).
void oversized(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40741);
  const Peer b = make_peer(run, kDriver, 40742);
  const ByteVector packet = echo_packet(a.teredo, b.teredo, 0x741, 1, 1400 - 48);  // a 1400-byte IPv6 packet
  const SilenceProbe probe =
      probe_carry(run, a, encapsulate(packet), "a 1400-byte echo request A -> B", a.teredo, b.teredo);
  std::this_thread::sleep_for(kSilenceWindow);
  Capture& capture = run.capture("driver");
  const auto carried = capture.frames(probe.reaction, probe.after);
  run.info(carried.empty()
               ? fmt::format("{}: not relayed within {} (recorded only: RFC 4380 §5.1.2 sets the link MTU and does "
                             "not say what a server does with a larger packet)",
                             probe.what, fmt::format("{} ms", kSilenceWindow.count()))
               : fmt::format("{}: relayed ({}); recorded only: RFC 4380 §5.1.2 sets the link MTU and does not say "
                             "what a server does with a larger packet",
                             probe.what, describe_frame(carried.front(), capture.link_type())));
  const Sent control = send_from(run, a, encapsulate(bubble_packet(a.teredo, b.teredo)));
  const auto forwarded = wait_forward(run, b, a.teredo, b.teredo, control.mark);
  if (!forwarded) {
    run.inconclusive("R4380-5.3.1-07",
                     fmt::format("after {}, a valid bubble A -> B (frame {}) was not forwarded within {}: the "
                                 "silence proves nothing about the server's forwarding",
                                 probe.what, control.frame, fmt::format("{} ms", kAnswerTimeout.count())),
                     kit::kControlUnanswered);
    return;
  }
  std::vector<FrameRef> frames = probe.sent;
  for (const FrameRef& f : frames_of({control.frame, forwarded->frame})) frames.push_back(f);
  run.check("R4380-5.3.1-07", "forwarding_stopped_after_oversized_packet", true,
            "the server keeps serving after a packet over the link MTU: a valid bubble A -> B (A's Teredo address "
            "embeds its endpoint) forwarded",
            fmt::format("after {}, the bubble A -> B (frame {}) was forwarded: {}", probe.what, control.frame,
                        describe(*forwarded)),
            frames);
}

void not_bubble_nor_icmpv6(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40751);
  const Peer b1 = make_peer(run, kDriver, 40752);
  const Peer b2 = make_peer(run, kDriver, 40753);
  const Peer b3 = make_peer(run, kDriver, 40754);
  // UDP in IPv6: source port 5000, destination 6000, 4 data bytes, checksum 0
  // (the server does not look inside; a relay would).
  Ipv6Header udp;
  udp.next_header = kNextHeaderUdp;
  udp.hop_limit = 64;
  udp.source = a.teredo;
  udp.destination = b1.teredo;
  const ByteVector udp_packet = build_ipv6_packet(udp, ByteVector{0x13, 0x88, 0x17, 0x70, 0x00, 0x0c, 0x00, 0x00,
                                                                  't', 'e', 's', 't'});
  // Next header 59 with a payload: not a bubble (§2.8: a bubble has no payload).
  Ipv6Header fake;
  fake.next_header = kNextHeaderNone;
  fake.source = a.teredo;
  fake.destination = b2.teredo;
  const ByteVector fake_bubble = build_ipv6_packet(fake, ByteVector(8, 0xAA));
  std::vector<SilenceProbe> probes;
  probes.push_back(probe_carry(run, a, encapsulate(udp_packet), "a UDP-in-IPv6 packet A -> B1", a.teredo, b1.teredo));
  probes.push_back(probe_carry(run, a, encapsulate(fake_bubble),
                               "an IPv6 packet A -> B2 with next header 59 and 8 payload bytes (not a bubble)", a.teredo,
                               b2.teredo));
  judge_silence(run, {"R4380-5.3.1-03"}, probes, control_forward(a, b3));
}

void trailer_discard_type(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40731);
  const Peer b = make_peer(run, kDriver, 40732);
  // Type 0x41: the two high bits are 01, 'discard the packet' when unknown.
  const SilenceProbe probe =
      probe_answer(run, a, rs_datagram({.trailer = {0x41, 0x02, 0xab, 0xcd}}),
                   "a valid RS followed by an unknown trailer of type 0x41 (high bits 01), length 2");
  // Type 0x81 (high bits 10: skip when unknown), recorded only.
  const Sent skip = send_from(run, b, rs_datagram({.trailer = {0x81, 0x02, 0xab, 0xcd}}));
  judge_silence(run, {"R6081-4.1-01"}, {probe}, control_rs());
  Capture& capture = run.capture("driver");
  const auto answered = capture.frames(udp_to(capture, b.address, b.port), skip.mark);
  run.info(answered.empty()
               ? fmt::format("the RS with a type 0x81 trailer (frame {}) was not answered: the server does not accept "
                             "RFC 6081 trailers at all (RFC 4380 §5.1.1 alone has no bytes after the IPv6 packet)",
                             skip.frame)
               : fmt::format("the RS with a type 0x81 trailer (frame {}) was answered ({}): the bytes after the "
                             "IPv6 packet were skipped, as RFC 6081 §4.1 asks for types whose high bits are 00, 10 "
                             "or 11",
                             skip.frame, describe_frame(answered.front(), capture.link_type())),
           "skip_type_trailer_handling");
}

constexpr const char* kMalformedJudgement =
    "Pass when no probe is answered within 1 s while a valid control RS sent afterwards is: RFC 4380 §5.3.1 rule 1 "
    "'If the UDP content is not a well-formed Teredo IPv6 packet, as defined in Section 5.1.1, the packet MUST be "
    "silently discarded'.";

}  // namespace

TEREDO_CASE({.id = "server.hardening.loop-own-endpoint",
             .title = "Packets addressed to the server's own endpoint do not loop (MTFL-SA-0603)",
             .description = "Client A (198.51.100.7:40701) sends three bubbles: from 2001:db8::5 (non-Teredo, so "
                            "§5.3.1 rule 6 accepts it) to the Teredo addresses of this server that map to "
                            "203.0.113.1:3544 and 203.0.113.2:3544, and from A's own Teredo address to the first. A "
                            "capture on server:lo sees what the server sends to itself.",
             .judgement = "Pass when within 1 s the server sends at most one datagram per probe from its endpoint to "
                          "its own endpoint (a copy dropped on receipt ends the loop; Miredo advisory MTFL-SA-0603 "
                          "fixed an endless loop there), nothing reaches the driver, and a control RS is answered. "
                          "The server validates the IPv4 source and UDP port before acting (§5.3.1): a datagram "
                          "from its own endpoint is its own output.",
             .role = "server",
             .requirements = {"R4380-5.3.1-01"},
             .captures = {{"driver", "driver", "eth0"}, {"server-lo", "server", "lo"}},
             .body = loop_own_endpoint});

TEREDO_CASE({.id = "server.hardening.origin-before-auth",
             .title = "An RS with the origin indication before the authentication encapsulation is dropped",
             .description = "The driver sends origin indication | authentication (nonce) | valid RS from "
                            "198.51.100.7:40711, then a valid control RS.",
             .judgement = std::string(kMalformedJudgement) + " §5.1.1: 'the authentication encapsulation MUST be the "
                                                             "first element in the UDP payload'.",
             .role = "server",
             .requirements = {"R4380-5.3.1-02"},
             .body = origin_before_auth});

TEREDO_CASE({.id = "server.hardening.duplicate-encapsulations",
             .title = "An RS behind two origin indications, or two authentication encapsulations, is dropped",
             .description = "The driver sends origin | origin | valid RS (40712) and authentication | authentication "
                            "| valid RS (40713), then a valid control RS.",
             .judgement = kMalformedJudgement,
             .role = "server",
             .requirements = {"R4380-5.3.1-02"},
             .body = two_origins});

TEREDO_CASE({.id = "server.hardening.truncated-auth",
             .title = "Truncated authentication encapsulations are dropped",
             .description = "The driver sends an authentication header whose ID-len = AU-len = 255 run past the "
                            "datagram, followed by a valid RS (40714), and an authentication encapsulation cut after "
                            "9 bytes (40715), then a valid control RS.",
             .judgement = kMalformedJudgement,
             .role = "server",
             .requirements = {"R4380-5.3.1-02"},
             .body = truncated_auth});

TEREDO_CASE({.id = "server.hardening.malformed-ipv6",
             .title = "Datagrams whose IPv6 packet is not well formed are dropped",
             .description = "After a nonce authentication, the driver sends an RS whose IPv6 payload length (100) "
                            "runs past the datagram (40716), an RS with IP version 4 (40717), and an IPv6 header cut "
                            "after 30 bytes (40718), then a valid control RS.",
             .judgement = kMalformedJudgement,
             .role = "server",
             .requirements = {"R4380-5.3.1-02"},
             .body = malformed_ipv6});

TEREDO_CASE({.id = "server.hardening.oversized-packet",
             .title = "After a packet larger than the 1280-byte Teredo MTU the server keeps forwarding",
             .description = "Client A sends client B a 1400-byte ICMPv6 echo request (inner IPv6 packet > 1280), "
                            "then a valid bubble A -> B.",
             .judgement = "Pass when the valid bubble sent after the oversized packet is forwarded (the server keeps "
                          "serving); inconclusive when it is not. Whether the 1400-byte packet itself was relayed is "
                          "recorded as information only: RFC 4380 §5.1.2 (R4380-5.1.2-01) sets the link MTU and says "
                          "nothing about forwarding larger packets.",
             .role = "server",
             .requirements = {"R4380-5.3.1-07"},
             .body = oversized});

TEREDO_CASE({.id = "server.hardening.not-bubble-nor-icmpv6",
             .title = "Packets that are neither bubbles nor ICMPv6 are not forwarded by a pure server",
             .description = "Client A sends client B1 a UDP-in-IPv6 packet and client B2 a next-header-59 packet with "
                            "8 payload bytes (not a bubble), then a valid control bubble to B3.",
             .judgement = "Pass when neither is forwarded within 1 s while the control is: §5.3.1 rule 2 'If the UDP "
                          "packet is not a Teredo bubble or an ICMPv6 message, it SHOULD be discarded' (the adapter "
                          "starts a pure server, not a server+relay); a warning otherwise.",
             .role = "server",
             .requirements = {"R4380-5.3.1-03"},
             .body = not_bubble_nor_icmpv6});

TEREDO_CASE({.id = "server.hardening.trailer-discard-type",
             .title = "An RS followed by an unknown must-discard trailer (type 0x41) is dropped",
             .description = "The driver sends a valid RS followed by the trailer 41 02 ab cd from 198.51.100.7:40731, "
                            "and, recorded only, a valid RS followed by 81 02 ab cd from 40732; then a valid control "
                            "RS.",
             .judgement = "Pass when the 0x41 RS is not answered within 1 s while the control is: RFC 6081 §4.1 "
                          "'01 - discard the packet' for an unrecognised trailer type whose two high bits are 01 (a "
                          "server without RFC 6081 drops any trailing bytes as not well formed, RFC 4380 §5.3.1 rule "
                          "1, which is also a discard). Whether the 0x81 RS is answered is only recorded: a server "
                          "need not implement RFC 6081 trailers.",
             .role = "server",
             .requirements = {"R6081-4.1-01"},
             .body = trailer_discard_type});

}  // namespace teredo::conformance::server
