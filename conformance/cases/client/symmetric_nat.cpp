// RFC 6081 §5.2, the Symmetric NAT Support Extension, and the Nonce Trailer
// it uses (§4.2): a nonce on every indirect bubble, echoed by the peer's
// direct bubble, so that a direct bubble from a mapping other than the one
// its Teredo address embeds (the peer is behind a symmetric NAT) can still
// be trusted. Every case needs the symmetric_nat_support capability (the
// extension is optional, §3) and runs the adapter's "symmetric_nat" launch.
// The nonces are read from the lan capture (what the IUT sent) and the
// verdicts follow them by value.
#include <fmt/format.h>

#include <thread>

#include "cases/client/client_driver.hpp"
#include "teredo/wire/trailer.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;


// What a bubble carries as RFC 6081 trailers: its Nonce Trailer, if any.
struct NonceSeen {
  bool trailer = false;     // a trailer of type 0x01 is present
  bool well_formed = false; // ... with Length 4
  std::uint32_t nonce = 0;
};
NonceSeen nonce_of(const Seen& s) {
  NonceSeen out;
  if (!s.datagram) return out;
  Trailer t;
  if (!find_trailer(s.datagram->ipv6.trailer, kTrailerNonce, t)) return out;
  out.trailer = true;
  const auto n = parse_nonce_trailer(t);
  out.well_formed = n.ok();
  out.nonce = n.ok() ? *n : 0;
  return out;
}

std::string nonce_text(const NonceSeen& n) {
  if (!n.trailer) return "no Nonce Trailer";
  if (!n.well_formed) return "a Nonce Trailer of the wrong length";
  return fmt::format("nonce {:08x}", n.nonce);
}

ByteVector nonce_trailer(std::uint32_t nonce) {
  ByteVector t;
  append_nonce_trailer(t, nonce);  // wire/trailer.hpp
  return t;
}

// Waits until the IUT has sent no bubble for `peer` for `quiet` (its
// bubble burst is over: RFC 4380 §5.2.6 limits it), at most `limit`.
std::vector<Seen> bubbles_until_quiet(CaseRun& run, const FrameMatch& bubble, std::uint64_t after,
                                      std::chrono::milliseconds quiet, std::chrono::milliseconds limit) {
  const auto start = Clock::now();
  std::size_t count = 0;
  auto last_change = Clock::now();
  while (Clock::now() - start < limit) {
    std::this_thread::sleep_for(50ms);
    const auto seen = all_seen(run, bubble, after);
    if (seen.size() != count) {
      count = seen.size();
      last_change = Clock::now();
    } else if (count > 0 && Clock::now() - last_change >= quiet) {
      break;
    }
  }
  return all_seen(run, bubble, after);
}

// §5.2.4.1 / §5.2.4.2: the IUT contacts a new peer.
void nonce_on_indirect_bubbles(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R6081-5.2.4.1-01", "R6081-4.2-01", "R6081-4.2-02", "R6081-5.2.4.2-02"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  App app(run);
  Capture& lan_capture = run.capture("lan");
  const Peer a = make_peer(run, kPeerA, 41201);
  const Peer b = make_peer(run, kPeerB, 41202);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  const std::uint64_t before = lan_mark(run);
  const std::string ma = marker("sym-a", 1), mb = marker("sym-b", 2);
  std::string error;
  if (!app.send(a.teredo, kit::bytes_of(ma.c_str()), &error) || !app.send(b.teredo, kit::bytes_of(mb.c_str()), &error)) {
    for (const auto& r : reqs) {
      run.inconclusive(r, "the application could not send to the peers: " + error, "application_send_refused");
    }
    return;
  }
  const auto quiet = t.bubble * 2 + 300ms;
  const auto limit = std::max<std::chrono::milliseconds>(4 * t.bubble + 2000ms, 3000ms);
  std::vector<Seen> bubbles = bubbles_until_quiet(run, iut_bubble_for(lan_capture, a.teredo), before, quiet, limit);
  for (auto& s : all_seen(run, iut_bubble_for(lan_capture, b.teredo), before)) bubbles.push_back(std::move(s));
  std::vector<Seen> indirect, direct;
  for (auto& s : bubbles) {
    if (to_endpoint(s, kPeerServer, kTeredoPort)) {
      indirect.push_back(s);
    } else if (to_endpoint(s, a.address, a.port) || to_endpoint(s, b.address, b.port)) {
      direct.push_back(s);
    }
  }
  if (indirect.empty()) {
    for (const char* r : {"R6081-5.2.4.1-01", "R6081-4.2-01", "R6081-4.2-02"}) {
      run.inconclusive(r,
                       fmt::format("the application's packets to two new Teredo peers produced no indirect bubble to "
                                   "their server {}:3544 within {}: no indirect bubble to judge",
                                   kPeerServer, ms_text(limit)),
                       "no_indirect_bubble");
    }
  } else {
    // §5.2.4.1: "it MUST generate a random 4-byte value and include it in the
    // Nonce field of a Nonce Trailer (Section 4.2) appended to the indirect
    // bubble".
    const Seen* missing = nullptr;
    const Seen* wrong_length = nullptr;
    const Seen* wrong_type = nullptr;
    std::vector<std::uint32_t> nonces;
    std::string list;
    std::vector<FrameRef> frames;
    for (const auto& s : indirect) {
      const NonceSeen n = nonce_of(s);
      list += (list.empty() ? "" : "; ") + describe(s) + ": " + nonce_text(n);
      frames.push_back(lan(s.frame));
      if (!n.trailer) {
        if (!missing) missing = &s;
        // A trailer of another type where the nonce should be is what a
        // wrong Type value looks like.
        if (s.datagram && !s.datagram->ipv6.trailer.empty() && !wrong_type) wrong_type = &s;
      } else if (!n.well_formed) {
        if (!wrong_length) wrong_length = &s;
      } else {
        nonces.push_back(n.nonce);
      }
    }
    run.check("R6081-5.2.4.1-01", "indirect_bubble_without_nonce", missing == nullptr && wrong_length == nullptr,
              "every indirect bubble carries a Nonce Trailer (Type 0x01, Length 4) with a random nonce", list,
              frames);
    run.check("R6081-4.2-01", "nonce_trailer_wrong_type", wrong_type == nullptr,
              "the Nonce Trailer's Type is 0x01",
              wrong_type ? "a trailer without type 0x01 where the nonce belongs: " + describe(*wrong_type) : list,
              frames);
    if (nonces.empty() && wrong_length == nullptr) {
      run.inconclusive("R6081-4.2-02", "no Nonce Trailer in any indirect bubble (judged as R6081-5.2.4.1-01): no "
                                       "Length to judge",
                       "no_nonce_trailer");
    } else {
      run.check("R6081-4.2-02", "nonce_trailer_wrong_length", wrong_length == nullptr,
                "the Nonce Trailer's Length is 4",
                wrong_length ? "a Nonce Trailer of another length: " + describe(*wrong_length) : list, frames);
    }
    // "generate a random 4-byte value" for each indirect bubble: a value
    // repeated across bubbles (two peers, or one peer's retransmissions) is
    // not generated per bubble (a repeat of a random 32-bit value is a
    // one-in-four-billion event).
    std::vector<std::uint32_t> sorted = nonces;
    std::sort(sorted.begin(), sorted.end());
    const bool repeated = std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
    if (nonces.size() >= 2) {
      run.check("R6081-5.2.4.1-01", "indirect_bubble_nonce_repeated", !repeated,
                "a fresh random nonce in each indirect bubble (no value repeated)",
                fmt::format("{} indirect bubbles with nonces: {}", nonces.size(), list), frames);
    }
  }
  // §5.2.4.2: "If the Teredo client is about to send a direct bubble before
  // it has received an indirect bubble from the Teredo peer, the Teredo
  // client MUST NOT include a Nonce Trailer."
  if (direct.empty()) {
    run.inconclusive("R6081-5.2.4.2-02",
                     "no direct bubble to either peer's mapping (sending one depends on the NAT the IUT found): "
                     "nothing to judge",
                     "no_direct_bubble");
  } else {
    const Seen* with_nonce = nullptr;
    std::string list;
    std::vector<FrameRef> frames;
    for (const auto& s : direct) {
      const NonceSeen n = nonce_of(s);
      list += (list.empty() ? "" : "; ") + describe(s) + ": " + nonce_text(n);
      frames.push_back(lan(s.frame));
      if (n.trailer && !with_nonce) with_nonce = &s;
    }
    run.check("R6081-5.2.4.2-02", "direct_bubble_nonce_before_indirect", with_nonce == nullptr,
              "a direct bubble to a peer from which no indirect bubble came carries no Nonce Trailer", list, frames);
  }
}

// §5.2.4.2 / §5.2.4.3: the peer contacts the IUT through the IUT's server.
void direct_bubble_echoes_nonce(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R6081-5.2.4.2-01", "R6081-5.2.4.3-01", "R6081-5.2.4.3-02"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  if (!mapping) {
    for (const auto& r : reqs) run.inconclusive(r, "the played server saw no RS mapping", "no_mapping");
    return;
  }
  Capture& lan_capture = run.capture("lan");
  const Peer p = make_peer(run, kPeerA, 41211);
  const FrameMatch bubble = iut_bubble_for(lan_capture, p.teredo);
  // Each step waits out the bubble interval, so a direct bubble is allowed
  // again (RFC 4380 §5.2.6), and stays within its 4 bubbles per window.
  struct Step {
    const char* what;
    std::optional<std::uint32_t> nonce;  // the trailer sent, none when nullopt
    std::uint64_t inet = 0;
    std::optional<Seen> answer{};
  };
  Step steps[] = {{"an indirect bubble with nonce 5ca1ab1e", 0x5ca1ab1eu},
                  {"a second indirect bubble with nonce 0ddba11f", 0x0ddba11fu},
                  {"an indirect bubble without a Nonce Trailer", std::nullopt}};
  std::string story;
  for (auto& step : steps) {
    const std::uint64_t before = lan_mark(run);
    const ByteVector trailer = step.nonce ? nonce_trailer(*step.nonce) : ByteVector{};
    step.inet = indirect_bubble(run, server, p, *address, *mapping, trailer);
    step.answer = wait_seen(
        run, [&](const CapturedFrame& f) {
          if (!bubble(f)) return false;
          const auto s = parse_seen(f, lan_capture.link_type());
          return s && to_endpoint(*s, p.address, p.port);
        },
        t.bubble + 1500ms, before);
    story += fmt::format("{}{} (inet frame {}): {}", story.empty() ? "" : "; ", step.what, step.inet,
                         step.answer ? describe(*step.answer) + " with " + nonce_text(nonce_of(*step.answer))
                                     : "no direct bubble within " + ms_text(t.bubble + 1500ms));
    std::this_thread::sleep_for(t.bubble + 200ms);
  }
  const auto frames = [&](const Step& s) {
    return std::vector<FrameRef>{inet(s.inet), lan(s.answer ? s.answer->frame : 0)};
  };
  // §5.2.4.2: "When a Teredo client sends a direct bubble to a peer after
  // receiving an indirect bubble with a Nonce Trailer, it MUST include in the
  // direct bubble a Nonce Trailer with the same nonce value."
  if (!steps[0].answer) {
    run.inconclusive("R6081-5.2.4.2-01",
                     "no direct bubble toward the peer's mapping after its indirect bubble (RFC 4380 makes that "
                     "bubble optional): " + story,
                     "no_direct_bubble");
  } else {
    const NonceSeen n = nonce_of(*steps[0].answer);
    run.check("R6081-5.2.4.2-01", "direct_bubble_nonce_not_echoed", n.well_formed && n.nonce == *steps[0].nonce,
              "the direct bubble after an indirect bubble with nonce 5ca1ab1e carries a Nonce Trailer with 5ca1ab1e",
              story, frames(steps[0]));
  }
  // §5.2.4.3: "the Teredo client MUST store the nonce in the Nonce Received
  // field": the stored value is what the next direct bubble carries.
  if (!steps[1].answer) {
    run.inconclusive("R6081-5.2.4.3-01", "no direct bubble after the second indirect bubble: " + story,
                     "no_direct_bubble");
  } else {
    const NonceSeen n = nonce_of(*steps[1].answer);
    run.check("R6081-5.2.4.3-01", "nonce_received_not_stored", n.well_formed && n.nonce == *steps[1].nonce,
              "the second indirect bubble's nonce 0ddba11f stored as Nonce Received and echoed in the direct bubble "
              "that follows it",
              story, frames(steps[1]));
  }
  // "If an indirect bubble is received without a Nonce Trailer, and the Nonce
  // Received field in the Peer Entry is non-zero, the Nonce Received field
  // SHOULD be set to zero."
  if (!steps[2].answer) {
    run.inconclusive("R6081-5.2.4.3-02", "no direct bubble after the indirect bubble without a nonce: " + story,
                     "no_direct_bubble");
  } else {
    const NonceSeen n = nonce_of(*steps[2].answer);
    run.check("R6081-5.2.4.3-02", "nonce_received_not_cleared", !n.trailer,
              "after an indirect bubble without a Nonce Trailer the stored nonce is zero: the direct bubble that "
              "follows carries none",
              story, frames(steps[2]));
  }
}

// §5.2.4.4: the IUT contacts a peer whose NAT is symmetric: the peer's direct
// bubble comes from another mapping than its address embeds.
void direct_bubble_from_other_mapping(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R6081-5.2.4.4-01", "R6081-5.2.4.4-02", "R6081-5.2.4.4-03",
                                         "R6081-5.2.4.4-04"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  if (!mapping) {
    for (const auto& r : reqs) run.inconclusive(r, "the played server saw no RS mapping", "no_mapping");
    return;
  }
  App app(run);
  Capture& lan_capture = run.capture("lan");
  // The peer's address embeds 198.51.100.7:41221; its NAT gives it other
  // mappings toward the IUT: 41222 and 41223 (one socket each, all sending
  // with the same Teredo source).
  const Peer p = make_peer(run, kPeerA, 41221);
  const Peer other1 = make_peer(run, kPeerA, 41222);
  const Peer other2 = make_peer(run, kPeerA, 41223);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  const std::uint64_t before = lan_mark(run);
  const std::string m1 = marker("symq", 1);
  std::string error;
  if (!app.send(p.teredo, kit::bytes_of(m1.c_str()), &error)) {
    for (const auto& r : reqs) run.inconclusive(r, "the application could not send: " + error, "application_send_refused");
    return;
  }
  const FrameMatch bubble = iut_bubble_for(lan_capture, p.teredo);
  const FrameMatch indirect_match = [&, bubble](const CapturedFrame& f) {
    if (!bubble(f)) return false;
    const auto seen = parse_seen(f, lan_capture.link_type());
    return seen && to_endpoint(*seen, kPeerServer, kTeredoPort);
  };
  // The peer answers as soon as the first indirect bubble shows (an IUT
  // gives up on the peer, discarding the held packet, after its last bubble).
  const auto limit = t.bubble + 1500ms;
  std::optional<Seen> last_indirect = wait_seen(run, indirect_match, limit, before);
  const auto early = all_seen(run, iut_containing(lan_capture, m1), before);
  if (!early.empty()) {
    for (const auto& r : reqs) {
      run.inconclusive(r, "the IUT sent the application's packet before any bubble came back (" +
                              describe(early.front()) + "): nothing was held to show what it accepts",
                       "data_not_held");
    }
    return;
  }
  const NonceSeen sent = last_indirect ? nonce_of(*last_indirect) : NonceSeen{};
  if (!sent.well_formed) {
    for (const char* r : {"R6081-5.2.4.4-02", "R6081-5.2.4.4-03", "R6081-5.2.4.4-04"}) {
      run.inconclusive(r,
                       last_indirect ? "the IUT's indirect bubble carries " + nonce_text(sent) +
                                           " (judged by client.symmetric.indirect-bubble-nonce): no Nonce Sent to "
                                           "answer with"
                                     : "no indirect bubble for the peer within " + ms_text(limit) +
                                           ": no Nonce Sent to answer with",
                       "no_nonce_sent");
    }
  }
  const FrameMatch held = iut_containing(lan_capture, m1);
  const std::uint64_t mark1 = lan_mark(run);
  // 1. From 41222, a direct bubble whose nonce is not Nonce Sent; at once
  // 2. from 41223, one carrying Nonce Sent. Where the held packet goes tells
  // which one the IUT accepted (its destination port), whatever the timing.
  std::uint64_t wrong_inet = 0, right_inet = 0;
  bool newer_nonce = false;
  if (sent.well_formed) {
    ByteVector wrong;
    (void)append_datagram(wrong, std::nullopt, std::nullopt, kit::bubble_packet(p.teredo, *address),
                          nonce_trailer(~sent.nonce));
    wrong_inet = send_from(run, other1, wrong, *mapping);
    ByteVector right;
    (void)append_datagram(right, std::nullopt, std::nullopt, kit::bubble_packet(p.teredo, *address),
                          nonce_trailer(sent.nonce));
    right_inet = send_from(run, other2, right, *mapping);
    // An indirect bubble sent before the answer arrived replaced Nonce Sent.
    newer_nonce = !lan_capture.frames(indirect_match, last_indirect->frame).empty();
  }
  std::optional<Seen> released = sent.well_formed ? wait_seen(run, held, t.bubble / 2 + 250ms, mark1) : std::nullopt;
  const bool to_wrong = released && to_endpoint(*released, other1.address, other1.port);
  const bool to_right = released && to_endpoint(*released, other2.address, other2.port);
  // 3. The control: a direct bubble from the mapping the address embeds.
  std::uint64_t control_inet = 0;
  std::optional<Seen> after_control;
  if (!released) {
    const std::uint64_t mark3 = lan_mark(run);
    control_inet = send_from(run, p, kit::bubble_packet(p.teredo, *address), *mapping);
    after_control = wait_seen(run, held, 1000ms, mark3);
  }
  const std::string story = fmt::format(
      "the application's packet to {} held; the IUT's indirect bubble {} carries {}; from {} a direct bubble with "
      "nonce {:08x} (not Nonce Sent; inet frame {}) and at once from {} one with Nonce Sent (inet frame {}): {}; {}",
      to_string(p.teredo), last_indirect ? describe(*last_indirect) : "none", nonce_text(sent), other1.where(),
      ~sent.nonce, wrong_inet, other2.where(), right_inet,
      released ? "the held packet went out: " + describe(*released) : "the held packet not sent",
      control_inet == 0 ? std::string("no control needed")
                        : fmt::format("then from the embedded mapping {} a direct bubble (inet frame {}): {}",
                                      p.where(), control_inet,
                                      after_control ? describe(*after_control) : "the held packet not sent"));
  const std::vector<FrameRef> frames = {inet(wrong_inet), inet(right_inet), inet(control_inet),
                                        lan(released ? released->frame : 0),
                                        lan(after_control ? after_control->frame : 0)};
  if (!sent.well_formed) {
    if (after_control) {
      run.check("R6081-5.2.4.4-01", "direct_bubble_from_embedded_mapping_dropped",
                to_endpoint(*after_control, p.address, p.port),
                "a direct bubble from the mapping its Teredo source embeds is accepted", story, frames);
    } else {
      run.inconclusive("R6081-5.2.4.4-01", "the held packet was not sent after the peer's bubble: " + story,
                       "held_packet_not_released");
    }
    return;
  }
  if (!released && !after_control) {
    for (const auto& r : reqs) {
      run.inconclusive(r, "the held packet was never sent, not even after the bubble from the embedded mapping: the "
                          "silence proves nothing: " + story,
                       "held_packet_not_released");
    }
    return;
  }
  // §5.2.4.4: "If neither of the above conditions is true, the direct bubble
  // MUST be dropped." Accepting it would have sent the held packet there.
  run.check("R6081-5.2.4.4-03", "direct_bubble_wrong_nonce_accepted", !to_wrong,
            "the direct bubble from " + other1.where() + " (not the embedded mapping, nonce not Nonce Sent) dropped: "
            "the held packet not sent there",
            story, frames);
  if (to_wrong) return;
  // "if the mapped address/port does not match the embedded address/port but
  // the direct bubble contains a Nonce Trailer with a nonce that matches the
  // Nonce Sent field of the Teredo peer, the direct bubble MUST be accepted."
  if (!to_right && newer_nonce) {
    run.inconclusive("R6081-5.2.4.4-02",
                     "the IUT sent another indirect bubble (a new Nonce Sent) before the answer carrying the old "
                     "one arrived: " + story,
                     "nonce_sent_replaced");
  } else {
    run.check("R6081-5.2.4.4-02", "direct_bubble_matching_nonce_dropped", to_right,
              "the direct bubble from " + other2.where() + " carrying Nonce Sent accepted: the held packet sent "
              "there (else the control from the embedded mapping shows the IUT was still holding it)",
              story, frames);
  }
  if (to_right) {
    // "the Teredo client MUST record the mapped address/port from which the
    // direct bubble is received in the mapped address/port fields".
    const std::uint64_t mark4 = lan_mark(run);
    const std::string m2 = marker("symq", 2);
    (void)app.send(p.teredo, kit::bytes_of(m2.c_str()));
    const auto next = wait_seen(run, iut_containing(lan_capture, m2), 1000ms, mark4);
    if (!next) {
      run.inconclusive("R6081-5.2.4.4-04",
                       "the held packet went to " + other2.where() + "; the application's next packet was not sent "
                       "within 1000 ms: " + story,
                       "next_packet_not_sent");
    } else {
      run.check("R6081-5.2.4.4-04", "accepted_bubble_mapping_not_recorded",
                to_endpoint(*next, other2.address, other2.port),
                "the accepted bubble's source " + other2.where() + " recorded as the peer's mapping: the next packet "
                "goes there, not to the embedded " + p.where(),
                story + "; the next packet: " + describe(*next),
                {inet(right_inet), lan(released->frame), lan(next->frame)});
    }
    // "If the mapped address/port of the direct bubble matches the mapped
    // address/port embedded in the source Teredo IPv6 address, the direct
    // bubble MUST be accepted": a second peer answers from the mapping its
    // address embeds, without a nonce.
    const Peer q = make_peer(run, kPeerB, 41224);
    const std::uint64_t mark5 = lan_mark(run);
    const std::string m3 = marker("symq", 3);
    (void)app.send(q.teredo, kit::bytes_of(m3.c_str()));
    const FrameMatch q_bubble = iut_bubble_for(lan_capture, q.teredo);
    const auto q_first = wait_seen(run, q_bubble, limit, mark5);
    std::uint64_t q_inet = 0;
    std::optional<Seen> q_released;
    if (q_first) {
      const std::uint64_t mark6 = lan_mark(run);
      q_inet = send_from(run, q, kit::bubble_packet(q.teredo, *address), *mapping);
      q_released = wait_seen(run, iut_containing(lan_capture, m3), 1000ms, mark6);
    }
    const std::string q_story = fmt::format(
        "the application's packet to a second peer {} held; its bubble {}; the peer's direct bubble from its "
        "embedded mapping {} without a nonce (inet frame {}): {}",
        to_string(q.teredo), q_first ? describe(*q_first) : "none within " + ms_text(limit), q.where(), q_inet,
        q_released ? describe(*q_released) : "the held packet not sent within 1000 ms");
    if (!q_released) {
      run.inconclusive("R6081-5.2.4.4-01", "the silence proves nothing: " + q_story, "held_packet_not_released");
    } else {
      run.check("R6081-5.2.4.4-01", "direct_bubble_from_embedded_mapping_dropped",
                to_endpoint(*q_released, q.address, q.port),
                "a direct bubble from the mapping its Teredo source embeds accepted (no nonce needed): the held "
                "packet goes there",
                q_story, {inet(q_inet), lan(q_released->frame)});
    }
  } else {
    run.check("R6081-5.2.4.4-01", "direct_bubble_from_embedded_mapping_dropped",
              after_control && to_endpoint(*after_control, p.address, p.port),
              "a direct bubble from the mapping its Teredo source embeds accepted: the held packet goes there", story,
              frames);
    run.inconclusive("R6081-5.2.4.4-04", "no bubble from another mapping was accepted: " + story, "not_reached");
  }
}

const std::vector<std::string> kCapability = {"symmetric_nat_support"};

TEREDO_CASE({
    .id = "client.symmetric.indirect-bubble-nonce",
    .title = "Symmetric NAT Support: every indirect bubble carries a fresh Nonce Trailer, first direct bubbles none",
    .description = "The IUT runs with the Symmetric NAT Support Extension (RFC 6081 §5.2). After qualification the "
                   "application sends to two new Teredo peers; the lan capture shows the IUT's bubbles for them.",
    .judgement = "Each indirect bubble (to the peers' server) carries a Nonce Trailer of Type 0x01 and Length 4, no "
                 "nonce repeated; a direct bubble sent before any indirect bubble came from the peer carries no "
                 "Nonce Trailer. Inconclusive when no bubble at all was sent.",
    .role = "client",
    .requirements = {"R6081-5.2.4.1-01", "R6081-4.2-01", "R6081-4.2-02", "R6081-5.2.4.2-02"},
    .capabilities = kCapability,
    .topology = kTopology,
    .captures = client_captures(),
    .body = nonce_on_indirect_bubbles,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.symmetric.direct-bubble-echoes-nonce",
    .title = "Symmetric NAT Support: the direct bubble answering an indirect bubble echoes its nonce",
    .description = "The IUT runs with the Symmetric NAT Support Extension. After qualification its server relays a "
                   "Teredo peer's indirect bubbles (origin indication: the peer's mapping): with nonce 5ca1ab1e, "
                   "then with nonce 0ddba11f, then with no Nonce Trailer, each a bubble interval apart.",
    .judgement = "The IUT's direct bubble to the peer's mapping after each carries 5ca1ab1e, then 0ddba11f (the "
                 "stored Nonce Received), then no Nonce Trailer (SHOULD: cleared). No direct bubble: inconclusive "
                 "(RFC 4380 makes it optional).",
    .role = "client",
    .requirements = {"R6081-5.2.4.2-01", "R6081-5.2.4.3-01", "R6081-5.2.4.3-02"},
    .capabilities = kCapability,
    .topology = kTopology,
    .captures = client_captures(),
    .body = direct_bubble_echoes_nonce,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.symmetric.direct-bubble-from-other-mapping",
    .title = "Symmetric NAT Support: a direct bubble from another mapping is trusted only with Nonce Sent",
    .description = "NAT profile full-cone. The IUT runs with the Symmetric NAT Support Extension. The application "
                   "sends to a new Teredo peer whose address embeds 198.51.100.7:41221; the IUT holds the packet and "
                   "bubbles. At its first indirect bubble the peer answers from other mappings, as a peer behind a "
                   "symmetric NAT does: from :41222 a direct bubble with a nonce that is not the indirect bubble's, "
                   "at once from :41223 one carrying it; a direct bubble from the embedded :41221 is the control "
                   "when neither released the packet. Then the application sends again, and to a second peer (198.51.100.8:41224) "
                   "that answers from its embedded mapping without a nonce.",
    .judgement = "The held packet's destination port says which bubble was accepted: not :41222 (dropped), "
                 ":41223 (accepted), and the next packet goes to :41223 too (the recorded mapping). A packet released only by the control fails "
                 "the acceptance of the nonce-matching bubble; never released: inconclusive.",
    .role = "client",
    .requirements = {"R6081-5.2.4.4-01", "R6081-5.2.4.4-02", "R6081-5.2.4.4-03", "R6081-5.2.4.4-04"},
    .capabilities = kCapability,
    .topology = kTopology,
    .nat_profile = std::string("full-cone"),
    .captures = client_captures(),
    .body = direct_bubble_from_other_mapping,
    .before_iut = open_played_server,
});

}  // namespace
}  // namespace teredo::conformance::client
