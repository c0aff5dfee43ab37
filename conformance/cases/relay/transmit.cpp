// RFC 4380 §5.4.1 (and RFC 5991 §3.2): what the relay does with native IPv6
// packets bound to Teredo clients. The native host (v6host) sends UDP
// packets to Teredo addresses of clients the driver plays; the relay's
// bubbles and deliveries are judged from the driver capture.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <thread>

#include "cases/relay/relay_driver.hpp"

namespace teredo::conformance::relay {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

std::string join_frames(const std::vector<CapturedFrame>& frames) {
  std::string out;
  for (const auto& f : frames) out += (out.empty() ? "" : ", ") + std::to_string(f.number);
  return out.empty() ? "none" : out;
}

std::vector<FrameRef> refs(const std::vector<CapturedFrame>& frames, std::size_t limit = 8) {
  std::vector<FrameRef> out;
  for (const auto& f : frames) {
    if (out.size() >= limit) break;
    out.push_back(frame_ref(f.number));
  }
  return out;
}

bool local_unicast_source(const Ipv6Address& a) {
  const Ipv6Address unspecified{};
  return !a.is_multicast() && !(a == unspecified) && !is_teredo(a);
}

void bubble_through_server(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5001);
  const Peer c = make_peer(run, kClients, 41001);
  const Contact k = contact(run, host, c, marker("bubble-through-server", 1), false);
  std::this_thread::sleep_for(300ms);
  Capture& capture = run.capture("driver");
  const auto bubbles = capture.frames(relay_bubble_for(capture, c.teredo), k.sent.driver_mark);
  std::optional<Reply> via_server, direct;
  for (const auto& f : bubbles) {
    const auto r = as_reply(f, capture.link_type());
    if (!r) continue;
    if (indirect(*r, c) && !via_server) via_server = r;
    if (r->carrier.destination4 == ipv4(c.address) && r->carrier.destination_port == c.port && !direct) {
      direct = r;
    }
  }
  const std::string expected = fmt::format(
      "a bubble (next header 59, payload length 0) from a local IPv6 address of the relay to {}, sent over UDP to "
      "the client's server 203.0.113.1:3544 (§5.4.1 case 3, cone bit 0)",
      to_string(c.teredo));
  if (bubbles.empty() && !k.early && !k.delivered) {
    // The relay sent nothing for the client: a discard only if it is shown
    // alive afterwards: it forwards a fresh client's packet to the native
    // side (which it may refuse, §5.4.2), or it bubbles for another client
    // (JUDGING.md 2).
    const Peer fresh = make_peer(run, kClients, 41002);
    kit::judge_unanswered(run, {"R4380-5.4.1-05"}, k.story(c), expected, k.frames(),
                          kit::either(control_forward(fresh, host.address()),
                                      control_bubble(host, make_peer(run, kClients, 41003))),
                          "no_bubble_via_server", kBubbleTimeout);
    return;
  }
  if (!via_server) {
    run.check("R4380-5.4.1-05", "no_bubble_via_server", false, expected,
              k.story(c) + (bubbles.empty() ? std::string() : "; bubbles seen only at frames " + join_frames(bubbles)),
              k.frames());
    return;
  }
  const Ipv6Address source = via_server->datagram->ipv6.header.source;
  run.check("R4380-5.4.1-05", "bubble_source_not_local_unicast", local_unicast_source(source), expected,
            fmt::format("{} with IPv6 source {} (v6host frame {} triggered it)", describe(*via_server),
                        to_string(source), k.sent.frame),
            {frame_ref(k.sent.frame, "v6host"), frame_ref(via_server->frame)});
  run.check("R4380-5.4.1-13", "direct_bubble_choice_invalid", true,
            "either behaviour conforms: a direct bubble to the client's mapping 198.51.100.7:41001 as well, or none",
            direct ? "a direct bubble too: " + describe(*direct)
                   : std::string("no direct bubble, only the one via the server"),
            frames_of({via_server->frame, direct ? direct->frame : 0}));
}

void queue_while_waiting(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5002);
  const Peer c = make_peer(run, kClients, 41011);
  const std::string mark = marker("queue-while-waiting", 1);
  const Contact k = contact(run, host, c, mark);
  if (!k.bubble && !k.early) {
    run.inconclusive("R4380-5.4.1-08", "the relay neither bubbled nor delivered: " + k.story(c),
                     "relay_neither_bubbled_nor_delivered");
    return;
  }
  // Case 3 leaves the entry untrusted: nothing goes to the mapping before the
  // client has answered.
  run.check("R4380-5.4.1-11", "data_sent_before_peer_trusted", !k.early,
            "no packet to the client's mapping before the client answered (case 3: the new entry is not trusted)",
            k.story(c), k.frames());
  if (k.early) return;
  run.check("R4380-5.4.1-07", "queueing_choice_invalid", true,
            "either behaviour conforms: the packet queued until the entry is trusted, or discarded",
            k.delivered
                ? "queued: delivered after the client's bubble (frame " + std::to_string(k.delivered->frame) + ")"
                : std::string("not delivered after the client's bubble: the relay does not queue, or lost it"),
            k.frames());
  if (!k.delivered) {
    run.inconclusive("R4380-5.4.1-08",
                     "no queued packet came after the client's answer; a relay that does not queue "
                     "(R4380-5.4.1-07 MAY) cannot be judged on de-queuing: " +
                         k.story(c),
                     "relay_does_not_queue");
    return;
  }
  const bool intact = k.delivered->datagram && contains(k.delivered->datagram->ipv6.packet, mark) &&
                      k.delivered->datagram->ipv6.header.destination == c.teredo;
  run.check("R4380-5.4.1-08", "queued_packet_not_delivered_intact", intact,
            fmt::format("the queued packet to {} delivered to the client's mapping {} once its bubble arrived",
                        to_string(c.teredo), c.where()),
            k.story(c), k.frames());
}

void trusted_direct(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5003);
  const Peer c = make_peer(run, kClients, 41021);
  const Contact k = contact(run, host, c, marker("trusted-direct", 1));
  if (!k.trusted()) {
    run.inconclusive("R4380-5.4.1-03", "the client never became trusted: " + k.story(c), "client_not_trusted");
    return;
  }
  Capture& capture = run.capture("driver");
  const std::string second = marker("trusted-direct", 2);
  const auto sent = host.send(c.teredo, bytes_of(second.c_str()));
  const auto delivered = capture.wait_for(relay_delivery(capture, c, second), kDeliveryTimeout, sent.driver_mark);
  const auto bubbles = capture.frames(relay_bubble_for(capture, c.teredo), sent.driver_mark);
  std::vector<FrameRef> frames = k.frames();
  frames.push_back(frame_ref(sent.frame, "v6host"));
  if (delivered) frames.push_back(frame_ref(delivered->number));
  run.check("R4380-5.4.1-03", "trusted_peer_not_sent_directly", delivered && bubbles.empty(),
            fmt::format("once trusted ({}), the next packet (v6host frame {}) goes straight to the entry's mapping {} "
                        "without a new bubble",
                        k.story(c), sent.frame, c.where()),
            delivered ? fmt::format("{}; bubbles for the client after it: {}",
                                    describe_frame(*delivered, capture.link_type()), join_frames(bubbles))
                      : fmt::format("nothing delivered within {} ms; bubbles: {}", kDeliveryTimeout.count(),
                                    join_frames(bubbles)),
            frames);
}

void cone_bit_ignored(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5004);
  const Peer c = make_peer(run, kClients, 41031, kFlagCone);
  const Contact k = contact(run, host, c, marker("cone", 1));
  const std::string what = fmt::format("a native packet to the cone-bit-1 address {}", to_string(c.teredo));
  if (!k.bubble && !k.early) {
    // Nothing sent toward the client: a discard only if the relay bubbles
    // for another (cone-bit-0) client afterwards.
    kit::judge_unanswered(run, {"R5991-3.2-02", "R4380-5.4.1-04"}, what + ": " + k.story(c),
                          "a bubble via the server (RFC 5991) or a direct delivery (RFC 4380 case 2)", k.frames(),
                          control_bubble(host, make_peer(run, kClients, 41032)), "cone_client_not_contacted",
                          kBubbleTimeout);
    return;
  }
  if (k.early) {
    run.check("R4380-5.4.1-04", "cone_client_not_contacted", true,
              "RFC 4380 case 2: sent directly to the mapping embedded in the address", k.story(c), k.frames());
    run.check("R5991-3.2-02", "cone_bit_not_ignored", false,
              "the cone bit ignored (RFC 5991 §3.2: 'clients and relays SHOULD ignore the cone bit'): a bubble via "
              "the client's server first, no direct data to an untrusted peer",
              "direct delivery of " + what + ": " + k.story(c), k.frames());
    run.check("R4380-5.4.1-12", "cone_bit_choice_invalid", true, "either behaviour conforms",
              "the relay honours the cone bit (case 2)", k.frames());
    return;
  }
  const bool via_server = indirect(*k.bubble, c);
  run.check("R5991-3.2-02", "cone_bit_not_ignored", via_server,
            "the cone bit ignored: a bubble via the client's server 203.0.113.1:3544, as for cone bit 0", k.story(c),
            k.frames());
  run.check("R4380-5.4.1-04", "cone_client_not_contacted", true,
            "RFC 4380 case 2 (direct) or, as RFC 5991 §3.2 updates it, case 3 (bubble via the server)", k.story(c),
            k.frames());
  run.check("R4380-5.4.1-12", "cone_bit_choice_invalid", true, "either behaviour conforms",
            "the relay ignores the cone bit (always case 3)", k.frames());
}

void bubble_retry(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5005);
  const Peer c = make_peer(run, kClients, 41041);
  Capture& capture = run.capture("driver");
  const std::uint64_t start = capture.count();
  // A packet every 500 ms for 10 s; the client stays silent.
  std::vector<NativeHost::Sent> sent;
  for (int i = 1; i <= 20; ++i) {
    const std::string m = marker("retry", i);
    sent.push_back(host.send(c.teredo, bytes_of(m.c_str()), 0, false));
    std::this_thread::sleep_for(500ms);
  }
  std::this_thread::sleep_for(2000ms);
  const auto bubbles = capture.frames(relay_bubble_for(capture, c.teredo), start);
  // Indirect and direct bubbles sent together count once.
  std::size_t rounds = 0;
  for (std::size_t i = 0; i < bubbles.size(); ++i) {
    if (i == 0 || std::chrono::duration_cast<std::chrono::milliseconds>(bubbles[i].at - bubbles[i - 1].at).count() > 100) {
      ++rounds;
    }
  }
  std::int64_t min_round_gap = -1;
  {
    std::vector<std::chrono::steady_clock::time_point> starts;
    for (std::size_t i = 0; i < bubbles.size(); ++i) {
      if (i == 0 || bubbles[i].at - bubbles[i - 1].at > 100ms) starts.push_back(bubbles[i].at);
    }
    for (std::size_t i = 1; i < starts.size(); ++i) {
      const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(starts[i] - starts[i - 1]).count();
      if (min_round_gap < 0 || gap < min_round_gap) min_round_gap = gap;
    }
  }
  if (bubbles.empty()) {
    run.inconclusive("R4380-5.4.1-06",
                     "the relay sent no bubble at all for 20 native packets to " + to_string(c.teredo) + " in 10 s",
                     kit::kNothingSent);
    return;
  }
  run.check("R4380-5.4.1-06", "bubble_rate_limit_exceeded", rounds <= 4 && (rounds < 2 || min_round_gap >= 1900),
            "while the client stays silent: the first bubble, then at most three repeats, each at least 2 s after "
            "the previous one (§5.4.1 case 3, §5.2.6)",
            fmt::format("{} bubble round(s) for 20 packets sent over 10 s (v6host frames from {}); closest rounds "
                        "{} ms apart; bubble frames {}",
                        rounds, sent.front().native_mark + 1, min_round_gap, join_frames(bubbles)),
            refs(bubbles));
  // The attempt failed: the entry is removed with its queue. A late answer
  // from the client must not bring the old packets out.
  const auto last = as_reply(bubbles.back(), capture.link_type());
  const ByteVector back = bubble_packet(c.teredo, last->datagram->ipv6.header.source);
  const Sent answer = client_send(run, c, back, to_string(last->carrier.source4), last->carrier.source_port);
  std::this_thread::sleep_for(kDeliveryTimeout);
  const auto old = capture.frames(
      [&](const CapturedFrame& f) {
        const auto x = find_udp_carrier(capture.link_type(), f.data);
        return x && !x->ipv6 && x->source4 == ipv4(kRelay) && contains(x->payload, "teredo-conformance retry #");
      },
      answer.mark);
  // Control: the relay still serves this client (a new packet is bubbled or,
  // if the late answer made the entry trusted, delivered).
  const std::string fresh = marker("after-retry", 1);
  const auto after = host.send(c.teredo, bytes_of(fresh.c_str()));
  const auto alive = capture.wait_for(
      [&, bubble = relay_bubble_for(capture, c.teredo), delivery = relay_delivery(capture, c, fresh)](
          const CapturedFrame& f) { return bubble(f) || delivery(f); },
      kBubbleTimeout, after.driver_mark);
  const std::string expected =
      "none of the 20 packets queued during the failed attempt delivered after the client's late bubble (frame " +
      std::to_string(answer.frame) + "): 'the entry is removed from the list of peers', queued packets 'SHOULD be "
      "deleted if the entry is deleted'";
  if (!old.empty()) {
    run.check("R4380-5.4.1-09", "stale_queue_delivered_after_failure", false, expected,
              fmt::format("{} of them delivered after the late answer: frames {}", old.size(), join_frames(old)), [&] {
                auto r = frames_of({answer.frame});
                for (const auto& f : refs(old, 4)) r.push_back(f);
                return r;
              }());
  } else if (!alive) {
    run.inconclusive("R4380-5.4.1-09",
                     fmt::format("nothing old delivered, but the relay did not act on a new packet "
                                 "to the client either (v6host frame {}): the silence proves nothing",
                                 after.frame),
                     kit::kControlUnanswered);
  } else {
    run.check("R4380-5.4.1-09", "stale_queue_delivered_after_failure", true, expected,
              fmt::format("nothing old delivered within {} ms; a new packet (v6host frame {}) was handled: {}",
                          kDeliveryTimeout.count(), after.frame, describe_frame(*alive, capture.link_type())),
              frames_of({answer.frame, alive->number}));
  }
}

void queue_bounded(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5006);
  const Peer c = make_peer(run, kClients, 41051);
  Capture& capture = run.capture("driver");
  constexpr int kPackets = 256;
  const std::uint64_t start = capture.count();
  NativeHost::Sent first;
  for (int i = 1; i <= kPackets; ++i) {
    // ~100-byte UDP payloads, as fast as the socket takes them.
    std::string m = marker("bounded", i);
    m.resize(100, '.');
    const auto s = host.send(c.teredo, bytes_of(m.c_str()), 0, i == 1);
    if (i == 1) first = s;
    if (i % 32 == 0) std::this_thread::sleep_for(5ms);
  }
  const auto bubble = capture.wait_for(relay_bubble_for(capture, c.teredo), kBubbleTimeout, start);
  if (!bubble) {
    run.inconclusive("R4380-5.4.1-10", "the relay sent no bubble for the client the packets were addressed to",
                     kit::kNothingSent);
    return;
  }
  const auto b = as_reply(*bubble, capture.link_type());
  const ByteVector back = bubble_packet(c.teredo, b->datagram->ipv6.header.source);
  const Sent answer = client_send(run, c, back, to_string(b->carrier.source4), b->carrier.source_port);
  std::this_thread::sleep_for(2000ms);
  const auto delivered = capture.frames(
      [&](const CapturedFrame& f) {
        const auto x = find_udp_carrier(capture.link_type(), f.data);
        return x && !x->ipv6 && x->source4 == ipv4(kRelay) && x->destination_port == c.port &&
               contains(x->payload, "teredo-conformance bounded #");
      },
      answer.mark);
  if (delivered.empty()) {
    run.inconclusive("R4380-5.4.1-10",
                     fmt::format("nothing was delivered after the client's bubble (frame {}): the "
                                 "relay does not queue, so no queue to bound",
                                 answer.frame),
                     "relay_does_not_queue");
    return;
  }
  std::vector<FrameRef> frames = frames_of({bubble->number, answer.frame});
  for (const auto& f : refs(delivered, 4)) frames.push_back(f);
  run.check("R4380-5.4.1-10", "queue_unbounded", delivered.size() < kPackets / 4,
            fmt::format("the queue of an untrusted entry bounded: far fewer than the {} packets sent (at most {}) "
                        "delivered once the client answered",
                        kPackets, kPackets / 4 - 1),
            fmt::format("{} of {} delivered after the client's bubble (frame {}), frames {}", delivered.size(),
                        kPackets, answer.frame, join_frames(delivered)),
            frames);
}

void no_non_global_ipv4(CaseRun& run) {
  open_server(run);
  const NativeSide side = native_side(run);
  NativeHost host(run, 5007, side.host, side.address, side.capture);
  Capture& capture = run.capture("driver");
  const std::vector<std::pair<const char*, const char*>> targets = {
      {kNonGlobal, "6to4 relay anycast 192.88.99.0/24"}, {"10.1.2.3", "private 10/8"},
      {"172.16.5.4", "private 172.16/12"},                {"192.168.1.1", "private 192.168/16"},
      {"169.254.1.1", "link-local 169.254/16"},           {"127.0.0.1", "loopback"},
      {"0.1.2.3", "0.0.0.0/8"},                           {"224.1.1.1", "multicast"},
      {"255.255.255.255", "limited broadcast"}};
  std::vector<Probe> probes;
  std::uint16_t port = 41061;
  for (const auto& [address, kind] : targets) {
    const Ipv6Address d = teredo_address(kServer, 0, address, port++);
    Probe p;
    const std::string m = marker("non-global", port);
    const auto s = host.send(d, bytes_of(m.c_str()));
    p.sent = host.refs(s);
    p.capture = "driver";
    p.after = s.driver_mark;
    p.reaction = relay_carrying(capture, d);
    p.what = fmt::format("a native packet to {} (embeds {}, {}; v6host frame {})", to_string(d), address, kind, s.frame);
    p.expected = fmt::format("silently discarded: no bubble or datagram from the relay for {} and nothing to {}",
                             to_string(d), address);
    probes.push_back(std::move(p));
  }
  const Peer fresh = make_peer(run, kClients, 41079);
  judge_silence(run, {"R4380-5.4.1-01", "R4380-5.4.1-02", "R4380-4-04"}, probes, control_bubble(host, fresh));
}

void ecn_and_df(CaseRun& run) {
  open_server(run);
  const NativeSide side = native_side(run);
  NativeHost host(run, 5008, side.host, side.address, side.capture);
  const Peer c = make_peer(run, kClients, 41081);
  const Contact k = contact(run, host, c, marker("ecn", 1));
  if (!k.trusted()) {
    run.inconclusive("R9601-6.1.3-01", "the client never became trusted: " + k.story(c), "client_not_trusted");
    return;
  }
  Capture& capture = run.capture("driver");
  const std::string m = marker("ecn", 2);
  const auto sent = host.send(c.teredo, bytes_of(m.c_str()), 0x03);  // CE
  const auto f = capture.wait_for(relay_delivery(capture, c, m), kDeliveryTimeout, sent.driver_mark);
  if (!f) {
    run.inconclusive("R9601-6.1.3-01",
                     fmt::format("the CE-marked packet (v6host frame {}) was not delivered", sent.frame),
                     kit::kNothingSent);
    return;
  }
  const auto meta = ipv4_meta(capture.link_type(), f->data);
  const auto r = as_reply(*f, capture.link_type());
  const bool inner_ce = r && r->datagram && (r->datagram->ipv6.header.traffic_class & 0x03) == 0x03;
  run.check("R9601-6.1.3-01", "outer_ecn_not_cleared", meta && (meta->tos & 0x03) == 0,
            "the outer IPv4 ECN field 00 (Not-ECT) for an encapsulator without ECN propagation",
            fmt::format("outer TOS 0x{:02x} on {}; inner traffic class ECN {}", meta ? meta->tos : 0,
                        describe_frame(*f, capture.link_type()), inner_ce ? "CE (kept)" : "not CE"),
            [&] {
              // The host's own packet is in no capture when the host is the
              // relay itself (host-relay): cite only frames that exist.
              std::vector<FrameRef> frames = host.refs(sent);
              frames.push_back(frame_ref(f->number));
              return frames;
            }());
  std::vector<std::uint64_t> df;
  std::vector<FrameRef> checked;
  for (const auto& x : capture.frames(from_relay(capture))) {
    const auto m4 = ipv4_meta(capture.link_type(), x.data);
    checked.push_back(frame_ref(x.number));
    if (m4 && m4->dont_fragment) df.push_back(x.number);
  }
  std::string df_list;
  for (const auto n : df) df_list += (df_list.empty() ? "" : ", ") + std::to_string(n);
  run.check("R4380-5.1.2-02", "df_bit_set", df.empty(),
            "the DF bit clear on every datagram the relay sent (bubbles and data)",
            df.empty() ? fmt::format("{} datagrams from the relay, none with DF", checked.size())
                       : "DF set on frames " + df_list,
            checked.size() > 8 ? std::vector<FrameRef>(checked.begin(), checked.begin() + 8) : checked);
}

// RFC 6081 §4.3 from a relay's side: a relay sends no client's indirect
// bubble, and none of the driver's packets carries a trailer to pass on, so
// none of its bubbles or deliveries may carry the Alternate Address Trailer.
void no_alternate_address_trailer(CaseRun& run) {
  open_server(run);
  const NativeSide side = native_side(run);
  NativeHost host(run, 5009, side.host, side.address, side.capture);
  const Peer c = make_peer(run, kClients, 41091);
  Capture& capture = run.capture("driver");
  const std::uint64_t start = capture.count();
  const Contact k = contact(run, host, c, marker("alternate-address", 1));
  if (k.trusted()) {
    const std::string m = marker("alternate-address", 2);
    const auto sent = host.send(c.teredo, bytes_of(m.c_str()));
    capture.wait_for(relay_delivery(capture, c, m), kDeliveryTimeout, sent.driver_mark);
  }
  std::vector<Reply> sent;
  for (const auto& f : capture.frames(from_relay(capture), start)) {
    if (auto r = as_reply(f, capture.link_type())) sent.push_back(std::move(*r));
  }
  kit::record(run, {kit::alternate_address_absent(sent, "the relay (its bubbles and deliveries to 198.51.100.7:41091)")});
}

}  // namespace

TEREDO_CASE({.id = "relay.transmit.bubble-through-server",
             .title = "A packet to an unknown cone-0 client makes the relay send a bubble via the client's server",
             .description = "v6host (2001:db8:1::10) sends a UDP packet to the Teredo address of a client with "
                            "cone bit 0 (server 203.0.113.1, mapping 198.51.100.7:41001) that the relay has never "
                            "seen. The client does not answer.",
             .judgement = "Pass when the relay sends a bubble whose IPv6 source is a local unicast address of its "
                          "own and whose destination is the client's Teredo address, over UDP to "
                          "203.0.113.1:3544 (§5.4.1 case 3: 'the Teredo relay creates a bubble whose source address "
                          "is set to a local IPv6 address ... The bubble is sent to the server address "
                          "corresponding to the Teredo destination'). A direct bubble to the mapping as well is "
                          "recorded; it is allowed (R4380-5.4.1-13).",
             .role = "relay",
             .requirements = {"R4380-5.4.1-05", "R4380-5.4.1-13"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = bubble_through_server});

TEREDO_CASE({.id = "relay.transmit.queue-while-waiting",
             .title = "A packet to an untrusted client is held until the client answers the bubble, then delivered",
             .description = "v6host sends a UDP packet to an unknown cone-0 client (198.51.100.7:41011); when the "
                            "relay's bubble reaches the client's server (the driver), the client answers with a bubble "
                            "from its mapped endpoint to the relay's endpoint.",
             .judgement = "Pass when nothing reaches the client's mapping before its answer (the case-3 entry is "
                          "untrusted, R4380-5.4.1-11) and the queued packet is delivered to the mapping once the "
                          "answer arrived (§5.4.1: 'the queued packets SHOULD be de-queued and forwarded when the "
                          "entry becomes trusted'). Not queuing at all is allowed (MAY): then de-queuing is "
                          "inconclusive.",
             .role = "relay",
             .requirements = {"R4380-5.4.1-07", "R4380-5.4.1-08", "R4380-5.4.1-11"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = queue_while_waiting});

TEREDO_CASE({.id = "relay.transmit.trusted-direct",
             .title = "Once a client is trusted, packets go straight to its mapping",
             .description = "After the bubble exchange of relay.transmit.queue-while-waiting with client "
                            "198.51.100.7:41021, v6host sends a second packet to the client.",
             .judgement = "Pass when the second packet is delivered to 198.51.100.7:41021 within 1.5 s with no new "
                          "bubble (§5.4.1 case 1: 'the IPv6 packet should be sent over UDP to the mapped IPv4 address "
                          "and mapped UDP port of the entry').",
             .role = "relay",
             .requirements = {"R4380-5.4.1-03"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = trusted_direct});

TEREDO_CASE({.id = "relay.transmit.cone-bit-ignored",
             .title = "The relay treats a cone-bit-1 destination as cone 0 (RFC 5991)",
             .description = "v6host sends a packet to an unknown client whose Teredo address has the cone bit set "
                            "(flags 0x8000, mapping 198.51.100.7:41031); the client answers any bubble.",
             .judgement = "Pass for R5991-3.2-02 when the relay first bubbles via the client's server instead of "
                          "sending the packet straight to the embedded mapping (RFC 5991 §3.2: 'clients and relays "
                          "SHOULD ignore the cone bit'). RFC 4380 case 2 (direct) still satisfies R4380-5.4.1-04 and "
                          "R4380-5.4.1-12 allows either; a direct delivery is a warning under RFC 5991 only.",
             .role = "relay",
             .requirements = {"R5991-3.2-02", "R4380-5.4.1-04", "R4380-5.4.1-12"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = cone_bit_ignored});

TEREDO_CASE({.id = "relay.transmit.bubble-retry-limit",
             .title = "Bubbles to a silent client stop after three repeats, and its queue goes with the entry",
             .description = "v6host sends a packet to a cone-0 client (198.51.100.7:41041) every 500 ms for 10 s; "
                            "the client stays silent. 2 s later it answers the last bubble (too late), then v6host "
                            "sends one more packet.",
             .judgement = "R4380-5.4.1-06: at most 4 bubble rounds (the first and up to three repeats), at least "
                          "2 s apart ('the Teredo relay may repeat the bubble, up to three times'). "
                          "R4380-5.4.1-09: none of the packets of the failed attempt comes out after the late "
                          "answer ('the entry is removed from the list of peers'; queued packets 'SHOULD be deleted "
                          "if the entry is deleted'); judged only when the relay still acts on the new packet.",
             .role = "relay",
             .requirements = {"R4380-5.4.1-06", "R4380-5.4.1-09"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = bubble_retry});

TEREDO_CASE({.id = "relay.transmit.queue-bounded",
             .title = "The queue of an untrusted entry is bounded",
             .description = "v6host sends 256 UDP packets (about 150 bytes each) at once to an untrusted cone-0 "
                            "client (198.51.100.7:41051); the client answers the relay's first bubble after all were "
                            "sent.",
             .judgement = "Pass when fewer than 64 of the 256 packets are delivered after the answer (§5.4.1: 'To "
                          "avoid denial of service attacks, the relays SHOULD limit the number of packets in such "
                          "queues'; §7.3.5). Inconclusive when nothing at all was queued.",
             .role = "relay",
             .requirements = {"R4380-5.4.1-10"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = queue_bounded});

TEREDO_CASE({.id = "relay.transmit.no-non-global-ipv4",
             .title = "Packets to Teredo addresses embedding non-global IPv4 addresses are discarded",
             .description = "v6host sends one packet to each of nine Teredo addresses (server 203.0.113.1, cone 0) "
                            "whose mapped address is 192.88.99.7, 10.1.2.3, 172.16.5.4, 192.168.1.1, 169.254.1.1, "
                            "127.0.0.1, 0.1.2.3, 224.1.1.1 or 255.255.255.255; then, as control, one to a valid "
                            "client 198.51.100.7:41079.",
             .judgement = "Pass when the relay emits nothing for any of them (no bubble to the server, nothing to "
                          "the embedded address) within 1 s while the control is bubbled: §5.4.1 'Before processing "
                          "these packets, the Teredo Relay MUST check that the IPv4 destination address embedded in "
                          "the Teredo IPv6 address is in the format of a global unicast address; if this is not the "
                          "case, the packet MUST be silently discarded'.",
             .role = "relay",
             .requirements = {"R4380-5.4.1-01", "R4380-5.4.1-02", "R4380-4-04"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = no_non_global_ipv4});

TEREDO_CASE({.id = "relay.transmit.ecn-and-df",
             .title = "Encapsulated packets carry ECN 00 and DF clear in the outer IPv4 header",
             .description = "After a bubble exchange with client 198.51.100.7:41081, v6host sends a packet marked CE "
                            "(traffic class 0x03).",
             .judgement = "Pass for R9601-6.1.3-01 when the datagram delivering it has outer ECN bits 00, and for "
                          "R4380-5.1.2-02 when no datagram from the relay in the case has DF set.",
             .role = "relay",
             .requirements = {"R9601-6.1.3-01", "R4380-5.1.2-02"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = ecn_and_df});

// The same two for a host-specific relay: its host's own packets (§5.5),
// the rules of §4 and RFC 9601 unchanged.
TEREDO_CASE({.id = "host-relay.transmit.no-non-global-ipv4",
             .title = "Host-specific relay: its host's packets to Teredo addresses embedding non-global IPv4s are "
                      "discarded",
             .description = "As relay.transmit.no-non-global-ipv4, the packets sent by the relay's host itself "
                            "(2001:db8:1::1) instead of v6host.",
             .judgement = "As relay.transmit.no-non-global-ipv4.",
             .role = "host-relay",
             .requirements = {"R4380-5.4.1-01", "R4380-5.4.1-02", "R4380-4-04"},
             .capabilities = {"host_specific_relay"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = no_non_global_ipv4});

TEREDO_CASE({.id = "host-relay.transmit.ecn-and-df",
             .title = "Host-specific relay: encapsulated packets carry ECN 00 and DF clear",
             .description = "As relay.transmit.ecn-and-df, the CE-marked packet sent by the relay's host itself.",
             .judgement = "As relay.transmit.ecn-and-df.",
             .role = "host-relay",
             .requirements = {"R9601-6.1.3-01", "R4380-5.1.2-02"},
             .capabilities = {"host_specific_relay"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = ecn_and_df});

// RFC 6081 §4.3, for both kinds of relay.
TEREDO_CASE({.id = "relay.transmit.no-alternate-address-trailer",
             .title = "Nothing the relay sends carries an RFC 6081 Alternate Address Trailer",
             .description = "v6host sends a packet to an unknown client (198.51.100.7:41091), the client answers the "
                            "relay's bubble, then v6host sends a second packet. No packet the driver sends carries a "
                            "trailer.",
             .judgement = "Pass when none of the datagrams the relay sends in the case (bubbles, deliveries) carries "
                          "a type 0x03 trailer after the IPv6 packet (RFC 6081 §4.3: 'The Alternate Address Trailer "
                          "MUST NOT be present in any packets other than indirect bubbles sent by a Teredo "
                          "client'); inconclusive when the relay sent nothing at all.",
             .role = "relay",
             .requirements = {"R6081-4.3-01"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = no_alternate_address_trailer});

TEREDO_CASE({.id = "host-relay.transmit.no-alternate-address-trailer",
             .title = "Host-specific relay: nothing it sends carries an RFC 6081 Alternate Address Trailer",
             .description = "As relay.transmit.no-alternate-address-trailer, the packets sent by the relay's host "
                            "itself (2001:db8:1::1) instead of v6host.",
             .judgement = "As relay.transmit.no-alternate-address-trailer.",
             .role = "host-relay",
             .requirements = {"R6081-4.3-01"},
             .capabilities = {"host_specific_relay"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = no_alternate_address_trailer});

}  // namespace teredo::conformance::relay
