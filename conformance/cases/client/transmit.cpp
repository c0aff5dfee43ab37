// RFC 4380 §5.2.4 and §5.2.6 (as updated by RFC 5991 §3.2): what the client
// does with packets its application sends to Teredo peers. The driver
// qualifies the IUT, then the played application (a UDP socket in the
// client's namespace) sends to peers the driver plays; the lan capture
// (client:eth0) shows what the IUT emitted.
#include <fmt/format.h>

#include <thread>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;


void outer_header(CaseRun& run) {
  Capture& lan_capture = run.capture("lan");
  // Outer IPv4 header of everything the IUT sent: DF clear, ECN zero.
  std::uint64_t df_frame = 0, ecn_frame = 0;
  std::size_t total = 0;
  for (const auto& f : lan_capture.frames(from_iut(lan_capture))) {
    const auto meta = kit::ipv4_meta(lan_capture.link_type(), f.data);
    if (!meta) continue;
    ++total;
    if (meta->dont_fragment && df_frame == 0) df_frame = f.number;
    if ((meta->tos & 0x03) != 0 && ecn_frame == 0) ecn_frame = f.number;
  }
  run.check("R4380-5.1.2-02", "df_bit_set", df_frame == 0, "DF clear in the outer IPv4 header of every Teredo datagram",
            df_frame ? fmt::format("DF set (lan frame {})", df_frame)
                     : fmt::format("{} datagrams from the IUT, DF clear in each", total),
            lan_frames({df_frame}));
  run.check("R9601-6.1.3-01", "outer_ecn_not_cleared", ecn_frame == 0,
            "ECN field of the outer IPv4 header zero (no ECN propagation)",
            ecn_frame ? fmt::format("ECN bits set (lan frame {})", ecn_frame)
                      : fmt::format("{} datagrams from the IUT, ECN zero in each", total),
            lan_frames({ecn_frame}));
}

void bubbles_and_queue(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.6-02", "R4380-5.2.4-06", "R4380-5.2.6-01", "R4380-5.2.3-10",
                                         "R4380-5.2.3-07", "R4380-5.2.4-02", "R4380-5.2.3-09",
                                         "R4380-5.1.2-01", "R4380-5.1.2-02", "R9601-6.1.3-01"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  App app(run);
  const Peer p = make_peer(run, kPeerA, 41101);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  Capture& lan_capture = run.capture("lan");
  const std::uint64_t before = lan_mark(run);
  const std::string m1 = marker("queued", 1);
  const auto sent_at = Clock::now();
  std::string error;
  if (!app.send(p.teredo, kit::bytes_of(m1.c_str()), &error)) {
    for (const auto& r : reqs) {
      run.inconclusive(r, "the application could not send to the peer: " + error, "application_send_refused");
    }
    return;
  }
  const FrameMatch bubble = iut_bubble_for(lan_capture, p.teredo);
  const auto first = wait_seen(run, bubble, t.bubble + 1500ms, before);
  std::this_thread::sleep_for(300ms);
  const auto bubbles = all_seen(run, bubble, before);
  std::optional<Seen> indirect, direct, wrong_server;
  for (const auto& b : bubbles) {
    if (!indirect && to_endpoint(b, kPeerServer, kTeredoPort)) indirect = b;
    if (!direct && to_endpoint(b, p.address, p.port)) direct = b;
    if (!wrong_server && to_endpoint(b, kServer, kTeredoPort)) wrong_server = b;
  }
  const auto early_data = all_seen(run, iut_containing(lan_capture, m1), before);
  const std::string peer_text = fmt::format("the Teredo peer {} (server {}, mapping {})", to_string(p.teredo),
                                            kPeerServer, p.where());
  // Requirements about what the IUT sends are not judged on silence: with
  // nothing at all sent for the peer (no bubble, no data) they are
  // inconclusive. Once the IUT reacted to the application's packet, an
  // element missing from its reaction is judged.
  if (bubbles.empty() && early_data.empty()) {
    for (const auto& r : reqs) {
      if (r == "R4380-5.1.2-02" || r == "R9601-6.1.3-01") continue;  // judged on every datagram, RSs included
      run.inconclusive(r,
                       fmt::format("the application's packet to the Teredo peer {} produced nothing from the IUT "
                                   "within {} (no bubble, no data): the silence proves nothing",
                                   to_string(p.teredo), ms_text(t.bubble + 1800ms)),
                       "nothing_sent_for_peer");
    }
    outer_header(run);
    return;
  }
  // §5.2.6: the indirect bubble to the peer's server.
  run.check("R4380-5.2.6-02", "no_indirect_bubble_to_peer_server", indirect.has_value(),
            fmt::format("an indirect bubble to the peer's server {}:3544 (bits 32-63 of its address), not to the "
                        "IUT's own server",
                        kPeerServer),
            indirect ? describe(*indirect)
                     : wrong_server ? "the bubble went to the IUT's own server: " + describe(*wrong_server)
                                    : fmt::format("no bubble to {}:3544 within {}", kPeerServer,
                                                  ms_text(t.bubble + 1800ms)),
            lan_frames({indirect ? indirect->frame : 0, wrong_server ? wrong_server->frame : 0}));
  // §5.2.4 case 5: queued, direct bubble (not behind a cone NAT), indirect bubble.
  std::string case5 = fmt::format("indirect: {}; direct: {}; data before any answer: {}",
                                  indirect ? describe(*indirect) : "none", direct ? describe(*direct) : "none",
                                  early_data.empty() ? "none" : describe(early_data.front()));
  run.check("R4380-5.2.4-06", "unknown_peer_not_queued_and_bubbled", indirect && direct && early_data.empty(),
            "for " + peer_text + ": the packet queued, a direct bubble to the mapping (the IUT is behind a "
                                 "restricted NAT) and an indirect bubble through the peer's server",
            case5, lan_frames({indirect ? indirect->frame : 0, direct ? direct->frame : 0,
                               early_data.empty() ? 0 : early_data.front().frame}));
  if (first) {
    const auto delay = since(sent_at, first->at);
    run.check("R4380-5.2.6-01", "first_bubble_delayed", delay <= 500ms,
              "the first bubble for a peer without entry sent at once (its entry starts with last transmission "
              "30 s ago), within 500 ms of the application's packet",
              fmt::format("first bubble {} ms after the application's send: {}", delay.count(), describe(*first)),
              {lan(first->frame)});
  } else {
    run.inconclusive("R4380-5.2.6-01",
                     "no bubble for the peer (data went instead: judged as R4380-5.2.4-06): no "
                     "first bubble to time",
                     "no_bubble_to_time");
  }
  if (!direct || !mapping) {
    for (const char* r : {"R4380-5.2.3-10", "R4380-5.2.3-07", "R4380-5.2.4-02", "R4380-5.2.3-09",
                          "R4380-5.1.2-01"}) {
      run.inconclusive(r,
                       "no direct bubble opened the port-restricted NAT to the peer's mapping, so the peer's "
                       "answer cannot reach the IUT: " +
                           case5,
                       "no_direct_bubble_to_open_nat");
    }
    outer_header(run);
    return;
  }
  // The peer answers with a bubble from its mapping (§5.2.3 case 3).
  const std::uint64_t before_answer = lan_mark(run);
  const std::uint64_t answer = send_from(run, p, kit::bubble_packet(p.teredo, *address), *mapping);
  const auto released = wait_seen(run, iut_containing(lan_capture, m1), 1500ms, before_answer);
  const std::vector<FrameRef> answer_frames = {inet(answer)};
  std::string released_text = released ? describe(*released) : "the queued packet was not sent within 1500 ms";
  if (!released) {
    // Silence: the queued packet's release (what the IUT sends) is not judged.
    for (const char* r : {"R4380-5.2.3-10", "R4380-5.2.3-07"}) {
      run.inconclusive(r,
                       fmt::format("peer bubble from {} (inet frame {}); {}: the silence proves nothing", p.where(),
                                   answer, released_text),
                       "queued_packet_not_released");
    }
  } else {
    run.check("R4380-5.2.3-10", "queued_packet_not_sent_when_trusted", true,
              "the queued packet sent once the peer's bubble from its mapping made it trusted",
              fmt::format("peer bubble (inet frame {}); then {}", answer, released_text),
              {inet(answer), lan(released->frame)});
    run.check("R4380-5.2.3-07", "queued_packet_not_sent_to_mapping", to_endpoint(*released, p.address, p.port),
              "an entry for the bubble's source with its mapping " + p.where() + ": the packet goes there directly",
              released_text, {inet(answer), lan(released->frame)});
  }
  // Trusted: the next packet goes straight to the mapping, no bubble.
  const std::uint64_t before2 = lan_mark(run);
  const std::string m2 = marker("trusted", 2);
  (void)app.send(p.teredo, kit::bytes_of(m2.c_str()));
  const auto direct2 = wait_seen(run, iut_containing(lan_capture, m2), 1000ms, before2);
  const auto late_bubbles = all_seen(run, bubble, before2);
  if (!direct2 && late_bubbles.empty()) {
    run.inconclusive("R4380-5.2.4-02",
                     "the application's next packet to the trusted peer produced nothing within "
                     "1000 ms (no data, no bubble): the silence proves nothing",
                     "nothing_sent_to_trusted_peer");
  } else {
    run.check("R4380-5.2.4-02", "trusted_peer_not_sent_directly",
              direct2 && to_endpoint(*direct2, p.address, p.port) && late_bubbles.empty(),
              "to a trusted peer: the packet over UDP to the stored mapping " + p.where() + ", no bubble",
              (direct2 ? describe(*direct2) : std::string("no data within 1000 ms")) +
                  (late_bubbles.empty() ? "" : "; a bubble: " + describe(late_bubbles.front())),
              lan_frames({direct2 ? direct2->frame : 0, late_bubbles.empty() ? 0 : late_bubbles.front().frame}));
  }
  // An echo request from the trusted peer's mapping (§5.2.3 case 1): delivered.
  const std::uint64_t before3 = lan_mark(run);
  const std::uint64_t echo = send_from(run, p, kit::echo_packet(p.teredo, *address, 0x7e1a, 5), *mapping);
  const auto reply = wait_seen(run, iut_echo_reply(lan_capture, 0x7e1a, 5), 1500ms, before3);
  const std::string reply_text = reply ? describe(*reply) : "no echo reply within 1500 ms";
  // (Whether the trusted peer's packet is accepted *because* of its entry
  // is R4380-5.2.3-05, judged by client.receive.trusted-mapping-state: here
  // the peer's address embeds the mapping, so a client keeping no peer list
  // would answer it too.)
  if (!reply) {
    run.inconclusive("R4380-5.2.3-09",
                     fmt::format("the trusted peer's echo request (inet frame {}): {}: the silence "
                                 "proves nothing about its delivery",
                                 echo, reply_text),
                     "echo_request_unanswered");
  } else {
    run.check("R4380-5.2.3-09", "trusted_peer_packet_not_delivered", true,
              "bubbles consumed, other packets (the echo request) delivered",
              fmt::format("peer bubble (inet frame {}) produced no upper-layer reply; echo request (inet frame {}): {}",
                          answer, echo, reply_text),
              {inet(echo), lan(reply->frame)});
  }
  // MTU: 1400 bytes of UDP payload leave in IPv6 packets of at most 1280.
  const std::uint64_t before4 = lan_mark(run);
  const std::string m3 = marker("big", 3);
  std::string big = m3;
  big.resize(1400, 'x');
  std::string big_error;
  const bool big_sent = app.send(p.teredo, kit::bytes_of(big.c_str()), &big_error);
  std::this_thread::sleep_for(500ms);
  const auto to_peer = all_seen(run, iut_to(lan_capture, p.address, p.port), before4);
  std::size_t largest = 0;
  std::vector<FrameRef> big_frames;
  for (const auto& s : to_peer) {
    big_frames.push_back(lan(s.frame));
    if (s.datagram) largest = std::max<std::size_t>(largest, kIpv6HeaderSize + s.datagram->ipv6.header.payload_length);
  }
  if (!big_sent || to_peer.empty()) {
    run.inconclusive("R4380-5.1.2-01",
                     "a 1400-byte UDP payload to the trusted peer produced no datagram (" +
                         (big_sent ? std::string("sent") : big_error) + ")",
                     "large_packet_not_sent");
  } else {
    run.check("R4380-5.1.2-01", "packet_exceeds_teredo_mtu", largest <= 1280 && largest > 0,
              "a 1400-byte UDP payload leaves in IPv6 packets of at most 1280 bytes (the Teredo MTU)",
              fmt::format("{} datagram(s) to {}, largest IPv6 packet {} bytes", to_peer.size(), p.where(), largest),
              big_frames);
  }
  outer_header(run);
}

void no_non_global(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.4-07", "R4380-5.2.4-08", "R5991-3.2-02", "R4380-5.2.4-09",
                                         "R4380-5.2.4-05"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  App app(run);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  Capture& lan_capture = run.capture("lan");
  const std::vector<std::string> bad = {"10.0.0.1",    "127.0.0.1",   "169.254.1.1",     "172.16.0.1",
                                        "192.168.0.1", "192.88.99.1", "224.0.0.1",       "255.255.255.255",
                                        "0.1.2.3",     "192.0.2.255"};
  const std::uint64_t before = lan_mark(run);
  int n = 0;
  for (const auto& v4 : bad) {
    for (const std::uint16_t flags : {std::uint16_t{0}, kFlagCone}) {
      const std::string m = marker("non-global", ++n);
      (void)app.send(kit::teredo_address(kPeerServer, flags, v4, 40000), kit::bytes_of(m.c_str()));
    }
  }
  std::this_thread::sleep_for(t.bubble + 1000ms);
  std::vector<Seen> leaked;
  for (const auto& v4 : bad) {
    for (auto& s : all_seen(run, iut_to(lan_capture, v4), before)) leaked.push_back(std::move(s));
  }
  // The control: a cone-bit peer with a global mapping.
  const Peer q = make_peer(run, kPeerB, 41201, kFlagCone);
  const std::uint64_t before_control = lan_mark(run);
  const std::string mq = marker("cone-peer", 1);
  (void)app.send(q.teredo, kit::bytes_of(mq.c_str()));
  const FrameMatch for_q = iut_bubble_for(lan_capture, q.teredo);
  const FrameMatch data_q = iut_containing(lan_capture, mq);
  const auto control = wait_seen(
      run, [&](const CapturedFrame& f) { return for_q(f) || data_q(f); }, t.bubble + 1500ms, before_control);
  std::this_thread::sleep_for(300ms);
  const auto q_data = all_seen(run, data_q, before_control);
  const auto q_bubbles = all_seen(run, for_q, before_control);
  std::optional<Seen> q_indirect;
  for (const auto& b : q_bubbles) {
    if (to_endpoint(b, kPeerServer, kTeredoPort)) q_indirect = b;
  }
  const std::string what = fmt::format("{} packets to Teredo addresses (cone bit 0 and 1) embedding {} non-global "
                                       "IPv4 addresses ({}, ...), port 40000",
                                       2 * bad.size(), bad.size(), bad.front());
  for (const char* r : {"R4380-5.2.4-07", "R4380-5.2.4-08"}) {
    if (!leaked.empty()) {
      std::string list;
      std::vector<FrameRef> frames;
      for (const auto& l : leaked) {
        list += (list.empty() ? "" : "; ") + describe(l);
        frames.push_back(lan(l.frame));
      }
      run.check(r, "sent_to_non_global_ipv4", false,
                "no datagram to a non-global IPv4 address: the packets silently discarded",
                what + fmt::format(": {} datagram(s) to them: ", leaked.size()) + list, frames);
    } else if (!control) {
      run.inconclusive(r,
                       what + " produced no datagram, but a packet to the valid cone peer " + to_string(q.teredo) +
                           " produced nothing either: the silence proves nothing",
                       kit::kControlUnanswered);
    } else {
      run.check(r, "sent_to_non_global_ipv4", true,
                "no datagram to a non-global IPv4 address: the packets silently discarded",
                what + fmt::format(": none to those addresses within {}; the control (a global peer) got {}",
                                   ms_text(t.bubble + 1000ms), describe(*control)),
                {lan(control->frame)});
    }
  }
  // RFC 5991 §3.2: the peer's cone bit read as 0: no data straight to its mapping.
  if (!control) return;
  const std::string observed =
      fmt::format("to the cone-bit peer {} (mapping {}): {}; data sent before any answer: {}", to_string(q.teredo),
                  q.where(), q_indirect ? describe(*q_indirect) : "no indirect bubble",
                  q_data.empty() ? "none" : describe(q_data.front()));
  const std::vector<FrameRef> frames =
      lan_frames({q_indirect ? q_indirect->frame : 0, q_data.empty() ? 0 : q_data.front().frame});
  run.check("R5991-3.2-02", "cone_bit_not_ignored", q_indirect && q_data.empty(),
            "the cone bit ignored: the packet queued and an indirect bubble through the peer's server, no data "
            "straight to the mapping",
            observed, frames);
  run.check("R4380-5.2.4-09", "cone_peer_choice_invalid", true,
            "either behaviour (case 4 or case 5 for a cone-bit peer)", observed, frames);
  // §5.2.4 case 4 (straight to a cone peer's mapping) is what RFC 5991 §3.2
  // removed; R5991-3.2-02 above judges that. Recorded.
  run.check("R4380-5.2.4-05", "legacy_case_4_choice_invalid", true,
            "case 4 superseded by RFC 5991 §3.2 (judged as R5991-3.2-02): the legacy direct datagram or case 5, "
            "recorded",
            observed, frames);
}

void bubble_budget(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.6-03", "R4380-5.2.6-04", "R4380-5.2.6-06", "R4380-5.2.6-07",
                                         "R4380-5.2.6-05"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  App app(run);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  const Peer r = make_peer(run, kPeerB, 41301);  // never answers
  Capture& lan_capture = run.capture("lan");
  // The application keeps sending for W = min(the 300 s window, 12 bubble
  // intervals): a conforming IUT sends at most 4 bubbles (of each kind) in it.
  const auto window = std::min(t.window, 12 * t.bubble);
  const auto step = std::max<std::chrono::milliseconds>(t.bubble / 2, 50ms);
  const std::uint64_t before = lan_mark(run);
  const auto start = Clock::now();
  int sent = 0;
  for (int guard = 0; guard < 10000 && Clock::now() - start < window; ++guard) {
    const std::string m = marker("budget", ++sent);
    (void)app.send(r.teredo, kit::bytes_of(m.c_str()));
    std::this_thread::sleep_for(step);
  }
  std::this_thread::sleep_for(200ms);
  const auto bubbles = all_seen(run, iut_bubble_for(lan_capture, r.teredo), before);
  std::vector<Seen> indirect, direct;
  for (const auto& b : bubbles) {
    (to_endpoint(b, r.address, r.port) ? direct : indirect).push_back(b);
  }
  const auto min_gap = t.bubble * 9 / 10 - 20ms;
  std::string gaps;
  bool gaps_ok = true;
  std::vector<FrameRef> frames;
  for (const auto* list : {&indirect, &direct}) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      frames.push_back(lan((*list)[i].frame));
      if (i == 0) continue;
      const auto gap = since((*list)[i - 1].at, (*list)[i].at);
      gaps += fmt::format("{}{} {} ms (lan {}->{})", gaps.empty() ? "" : ", ", list == &indirect ? "indirect" : "direct",
                          gap.count(), (*list)[i - 1].frame, (*list)[i].frame);
      if (gap < min_gap) gaps_ok = false;
    }
  }
  const std::string observed =
      fmt::format("{} packets sent every {} for {}; {} indirect and {} direct bubble(s) for {}; gaps: {}", sent,
                  ms_text(step), ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(window)),
                  indirect.size(), direct.size(), to_string(r.teredo), gaps.empty() ? "none" : gaps);
  if (bubbles.empty()) {
    for (const auto& q : reqs) {
      run.inconclusive(q, "no bubble at all for the silent peer: " + observed, "no_bubble_for_silent_peer");
    }
    return;
  }
  run.check("R4380-5.2.6-03", "bubbles_too_close", gaps_ok,
            fmt::format("no bubble to the peer less than the bubble interval {} after the previous one (accepted "
                        ">= {})",
                        ms_text(t.bubble), ms_text(min_gap)),
            observed, frames);
  run.check("R4380-5.2.6-06", "bubbles_too_close", gaps_ok,
            "each bubble updates the last-transmission time (bubbles spaced)", observed, frames);
  const bool budget = indirect.size() <= 4 && direct.size() <= 4;
  run.check("R4380-5.2.6-04", "bubble_budget_exceeded", budget,
            "at most 4 bubbles (of each kind) to the unanswering peer within the 300 s window", observed, frames);
  run.check("R4380-5.2.6-07", "bubble_budget_exceeded", budget, "each bubble counted: the budget of 4 holds", observed,
            frames);
  run.check("R4380-5.2.6-05", "bubble_choice_invalid", true,
            "within the two limits the client may send bubbles (MAY): recorded", observed, frames);
}

void peer_validity(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.4-01"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  App app(run);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  const Peer p = make_peer(run, kPeerA, 41701);
  Capture& lan_capture = run.capture("lan");
  // Trust: the peer answers the IUT's direct bubble from its mapping.
  std::string story;
  const auto released = data_on_wire(run, app, p, *mapping, *address, marker("validity", 1), story);
  if (!released) {
    run.inconclusive(reqs[0], "the peer could not be made trusted first: " + story, "peer_not_trusted");
    return;
  }
  // Silence from the peer for peer_validity + 1 s, then the application sends again.
  const auto quiet = t.validity + 1000ms;
  std::this_thread::sleep_for(quiet);
  const std::uint64_t m1 = lan_mark(run);
  const std::string m = marker("validity", 2);
  (void)app.send(p.teredo, kit::bytes_of(m.c_str()));
  std::this_thread::sleep_for(t.bubble + 500ms);
  const auto bubbles = all_seen(run, iut_bubble_for(lan_capture, p.teredo), m1);
  const auto data = all_seen(run, iut_containing(lan_capture, m), m1);
  const std::string observed = fmt::format(
      "trusted at {} (queued packet released: {}); after {} without anything from the peer: {}; data sent "
      "blindly: {}",
      p.where(), describe(*released), ms_text(quiet), bubbles.empty() ? "no bubble" : describe(bubbles.front()),
      data.empty() ? "no" : describe(data.front()));
  if (bubbles.empty() && data.empty()) {
    run.inconclusive("R4380-5.2.4-01",
                     "the application's packet after the validity period produced nothing (no "
                     "bubble, no data): the silence proves nothing: " +
                         observed,
                     "nothing_sent_after_validity");
    return;
  }
  run.check("R4380-5.2.4-01", "expired_entry_still_trusted", !bubbles.empty() && data.empty(),
            fmt::format("the entry no longer valid for sending after {} (peer_validity) without reception: new "
                        "bubbles, the packet queued",
                        ms_text(t.validity)),
            observed, lan_frames({released->frame, bubbles.empty() ? 0 : bubbles.front().frame,
                                  data.empty() ? 0 : data.front().frame}));
}

void peer_flood(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R4380-5.2-06"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  // The first peer, then 400 others (each from its own port, its Teredo
  // address embedding it) send bubbles; then the first peer sends an echo
  // request, which must still be answered.
  const Peer first = make_peer(run, kPeerA, 41801);
  const std::uint64_t m0 = lan_mark(run);
  (void)send_from(run, first, kit::echo_packet(first.teredo, *address, 0x7e1c, 1), *mapping);
  const auto r0 = wait_seen(run, iut_echo_reply(run.capture("lan"), 0x7e1c, 1), 1500ms, m0);
  if (!r0) {
    run.inconclusive(reqs[0], "the first peer's echo request was not answered before the flood",
                     "echo_request_unanswered_before_flood");
    return;
  }
  constexpr int kPeers = 400;
  for (int i = 0; i < kPeers; ++i) {
    const std::uint16_t port = static_cast<std::uint16_t>(20000 + i);
    const int fd = run.udp_socket("server", kPeerB, port);
    const Ipv6Address source = kit::teredo_address(kPeerServer, 0, kPeerB, port);
    run.send_udp(fd, to_string(mapping->address), mapping->port, kit::bubble_packet(source, *address));
    if (i % 50 == 49) std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(500ms);
  const std::uint64_t m1 = lan_mark(run);
  const std::uint64_t echo = send_from(run, first, kit::echo_packet(first.teredo, *address, 0x7e1c, 2), *mapping);
  const auto r1 = wait_seen(run, iut_echo_reply(run.capture("lan"), 0x7e1c, 2), 3000ms, m1);
  run.check("R4380-5.2-06", "unresponsive_after_peer_flood", r1.has_value(),
            fmt::format("after bubbles from {} distinct Teredo peers the IUT stays responsive: the older peer's echo "
                        "request answered (its entry kept, or re-established)",
                        kPeers),
            fmt::format("before the flood: {}; after it, echo request (inet frame {}): {}", describe(*r0), echo,
                        r1 ? describe(*r1) : "no echo reply within 3000 ms"),
            r1 ? std::vector<FrameRef>{lan(r0->frame), inet(echo), lan(r1->frame)}
               : std::vector<FrameRef>{lan(r0->frame), inet(echo)});
}

// R4380-5.2.4-10 (MAY): behind a full-cone NAT, does the IUT still send a
// direct bubble in case 5? Either answer conforms; the case records which,
// and needs the indirect bubble to show it reached case 5 at all.
void case5_behind_cone(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto address = qualify(run, server, {"R4380-5.2.4-10"});
  if (!address) return;
  App app(run);
  const Peer p = make_peer(run, kPeerA, 41131);
  Capture& lan_capture = run.capture("lan");
  const std::uint64_t before = lan_mark(run);
  (void)app.send(p.teredo, kit::bytes_of(marker("cone", 1).c_str()));
  (void)wait_seen(run, iut_bubble_for(lan_capture, p.teredo), t.bubble + 1500ms, before);
  std::this_thread::sleep_for(300ms);
  std::optional<Seen> indirect, direct;
  for (const auto& b : all_seen(run, iut_bubble_for(lan_capture, p.teredo), before)) {
    if (!indirect && to_endpoint(b, kPeerServer, kTeredoPort)) indirect = b;
    if (!direct && to_endpoint(b, p.address, p.port)) direct = b;
  }
  if (!indirect) {
    run.inconclusive("R4380-5.2.4-10", "no indirect bubble to the peer's server: the IUT did not take §5.2.4 case 5",
                     "case5_not_taken");
    return;
  }
  const bool cone = (flags_of(*address) & kFlagCone) != 0;
  run.check("R4380-5.2.4-10", "cone_direct_bubble_choice_invalid", true,
            "behind a full-cone NAT, case 5 with or without a direct bubble (MAY): recorded",
            fmt::format("own address {} (cone bit {}); indirect bubble {}; direct bubble {}", to_string(*address),
                        cone ? 1 : 0, describe(*indirect), direct ? describe(*direct) : "none"),
            lan_frames({indirect->frame, direct ? direct->frame : 0}));
}

}  // namespace

TEREDO_CASE({
    .id = "client.transmit.case5-behind-cone-nat",
    .title = "§5.2.4 case 5 behind a full-cone NAT: whether a direct bubble goes too (MAY, recorded)",
    .description = "Behind the full-cone NAT profile, after qualification the application sends to a Teredo peer "
                   "with cone bit 0 (198.51.100.7:41131 via 203.0.113.3).",
    .judgement = "An indirect bubble to 203.0.113.3:3544 shows case 5 was taken (else inconclusive); the presence "
                 "or absence of a direct bubble to the mapping is recorded (either conforms).",
    .role = "client",
    .requirements = {"R4380-5.2.4-10"},
    .topology = kTopology,
    .nat_profile = "full-cone",
    .captures = client_captures(),
    .body = case5_behind_cone,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.transmit.peer-validity-expires",
    .title = "A trusted peer silent for longer than the peer validity is bubbled again before sending",
    .description = "After qualification the application sends to a Teredo peer, which answers the IUT's bubble "
                   "from its mapping (trusted). After peer_validity + 1 s of silence the application sends again.",
    .judgement = "New bubbles for the peer and no data sent to it blindly.",
    .role = "client",
    .requirements = {"R4380-5.2.4-01"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = peer_validity,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.limits.peer-flood",
    .title = "Bubbles from 400 distinct Teredo peers: the peer list stays bounded and the client responsive",
    .description = "NAT profile full-cone. After qualification a first peer's echo request is answered; then 400 "
                   "other Teredo peers (198.51.100.8, ports 20000-20399) each send a bubble from their mapping; "
                   "then the first peer sends another echo request.",
    .judgement = "The second echo request answered within 3 s.",
    .role = "client",
    .requirements = {"R4380-5.2-06"},
    .topology = kTopology,
    .nat_profile = std::string("full-cone"),
    .captures = client_captures(),
    .body = peer_flood,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.transmit.indirect-and-direct-bubbles",
    .title = "To a cone-bit-0 Teredo peer: queue, direct and indirect bubbles, release on the peer's bubble",
    .description = "After qualification the application sends to a Teredo peer whose server is 203.0.113.3 and "
                   "mapping 198.51.100.7:41101. The peer answers with a bubble from its mapping; the application "
                   "sends again; the peer sends an echo request; the application sends 1400 bytes.",
    .judgement = "An indirect bubble to 203.0.113.3:3544 and a direct bubble to the mapping, the first at once, "
                 "no data before the peer's bubble; then the queued packet straight to the mapping, the next packet "
                 "direct without bubble, the echo request answered, IPv6 packets <= 1280 bytes; DF clear and ECN 0 "
                 "on every datagram.",
    .role = "client",
    .requirements = {"R4380-5.2.6-02", "R4380-5.2.4-06", "R4380-5.2.6-01", "R4380-5.2.3-10", "R4380-5.2.3-07",
                     "R4380-5.2.4-02", "R4380-5.2.3-09", "R4380-5.1.2-01", "R4380-5.1.2-02", "R9601-6.1.3-01"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = bubbles_and_queue,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.transmit.no-non-global-ipv4",
    .title = "Packets to Teredo addresses embedding non-global IPv4s are discarded; the cone bit is ignored",
    .description = "After qualification the application sends to Teredo addresses (cone bit 0 and 1) embedding "
                   "10.0.0.1, 127.0.0.1, 169.254.1.1, 172.16.0.1, 192.168.0.1, 192.88.99.1, 224.0.0.1, "
                   "255.255.255.255, 0.1.2.3 and the LAN's directed broadcast 192.0.2.255 (RFC 4380 §5.2.4's list); then (control) to a "
                   "cone-bit peer with a global mapping.",
    .judgement = "No datagram to any of those IPv4 addresses; for the cone-bit peer an indirect bubble and no data "
                 "straight to its mapping (RFC 5991).",
    .role = "client",
    .requirements = {"R4380-5.2.4-07", "R4380-5.2.4-08", "R5991-3.2-02", "R4380-5.2.4-09", "R4380-5.2.4-05"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = no_non_global,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.bubbles.limit-4-per-300s",
    .title = "Bubbles to a peer that never answers: spaced by the bubble interval, at most 4",
    .description = "After qualification the application sends to a silent Teredo peer every half bubble interval "
                   "for min(300 s window, 12 bubble intervals) of the adapter's timers.",
    .judgement = "Consecutive bubbles of each kind (direct, indirect) at least 90 % of bubble_interval apart "
                 "(-20 ms), at most 4 of each kind.",
    .role = "client",
    .requirements = {"R4380-5.2.6-03", "R4380-5.2.6-04", "R4380-5.2.6-06", "R4380-5.2.6-07", "R4380-5.2.6-05"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = bubble_budget,
    .before_iut = open_played_server,
});

}  // namespace teredo::conformance::client
