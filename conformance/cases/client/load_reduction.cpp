// RFC 6081 §5.7 Server Load Reduction Extension, with the Neighbor Discovery
// Option Trailer (§4.4). Every case needs the "server_load_reduction"
// capability (its launch variant). A Teredo peer played by the driver
// (198.51.100.7, server 203.0.113.3) first gets communication established
// the RFC 4380 way; then the IUT's direct bubbles are read from the lan
// capture, their trailers byte by byte. The "two seconds" of §5.7 are the
// adapter's bubble_interval (the RFC's 2 s, scaled like the IUT's timers)
// and "30 seconds" its peer_validity.
#include <fmt/format.h>

#include <thread>

#include "cases/client/client_driver.hpp"
#include "cases/client/extension_trailers.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kReplyTimeout{1500};
constexpr std::uint16_t kEchoId = 0x5107;


// The IUT's bubbles for `peer` after `after`, split into direct ones to the
// peer's mapping and indirect ones to its server.
struct Bubbles {
  std::vector<Seen> direct, indirect;
};
Bubbles bubbles_for(CaseRun& run, const Peer& peer, std::uint64_t after) {
  Bubbles b;
  const Endpoint mapping{kit::ipv4(peer.address), peer.port};
  const Endpoint server{kit::ipv4(kPeerServer), kTeredoPort};
  for (auto& s : all_seen(run, iut_bubble_for(run.capture("lan"), peer.teredo), after)) {
    if (to_endpoint(s, mapping)) b.direct.push_back(std::move(s));
    else if (to_endpoint(s, server)) b.indirect.push_back(std::move(s));
  }
  return b;
}

// The four §4.4 field checks on one bubble's Neighbor Discovery Option
// Trailer, which must carry `discovery_type`.
void judge_trailer(CaseRun& run, const Seen& s, std::uint8_t discovery_type, const std::string& what) {
  const auto t = trailers::find(s, trailers::kNeighborDiscovery);
  const std::string seen = what + ": " + describe(s) + " with " + trailers::text(trailers::read(s));
  const std::vector<FrameRef> frames = {lan(s.frame)};
  // "Type (1 byte): The Trailer Option type. This field MUST be set to 0x04."
  run.check("R6081-4.4-01", "discovery_trailer_type_wrong", t.has_value(),
            "a trailer of type 0x04 (Neighbor Discovery Option)", seen, frames);
  if (!t) {
    for (const char* r : {"R6081-4.4-02", "R6081-4.4-03", "R6081-4.4-04"}) {
      run.inconclusive(r, "no trailer of type 0x04 to read: " + seen, "no_discovery_trailer");
    }
    return;
  }
  // "Length (1 byte): ... This field MUST be set to 0x04."
  run.check("R6081-4.4-02", "discovery_trailer_length_wrong", t->value.size() == 4, "Length 4",
            fmt::format("Length {}; {}", t->value.size(), seen), frames);
  // "DiscoveryType (1 byte): This field MUST be set to one of the following values"
  run.check("R6081-4.4-03", "discovery_type_wrong", !t->value.empty() && t->value[0] == discovery_type,
            fmt::format("DiscoveryType {} ({})", discovery_type,
                        discovery_type == trailers::kSolicitation ? "TeredoDiscoverySolicitation"
                                                                  : "TeredoDiscoveryAdvertisement"),
            seen, frames);
  // "Reserved (3 bytes): This field MUST be set to 0x000000 on transmission"
  const bool reserved = t->value.size() == 4 && t->value[1] == 0 && t->value[2] == 0 && t->value[3] == 0;
  run.check("R6081-4.4-04", "discovery_reserved_not_zero", reserved, "Reserved 0x000000", seen, frames);
}

// Qualifies and establishes communication with peer A (RFC 4380: bubbles,
// the peer's direct bubble from its mapping releases the packet).
struct Established {
  Ipv6Address address{};
  Endpoint mapping{};
  Peer peer{};
};
std::optional<Established> establish(CaseRun& run, App& app, const std::vector<std::string>& reqs,
                                     std::uint16_t port) {
  PlayedServer& server = played_server(run);
  const auto address = qualify(run, server, reqs);
  if (!address) return std::nullopt;
  const auto mapping = server.mapping();
  Established e{*address, mapping.value_or(Endpoint{}), make_peer(run, kPeerA, port)};
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  std::string story;
  const auto released = mapping ? data_on_wire(run, app, e.peer, e.mapping, e.address, marker("slr", 0), story)
                                : std::nullopt;
  if (!released) {
    for (const auto& r : reqs) {
      run.inconclusive(r, "setup: communication with the Teredo peer " + e.peer.where() + " not established: " + story,
                       "setup_failed");
    }
    return std::nullopt;
  }
  run.info("setup: communication established with " + e.peer.where() + ": " + story);
  return e;
}

// ---------------------------------------------------------------------------
// §5.7.4.1 and §5.7.2: a packet for a peer idle for 30 s.

void solicitation(CaseRun& run) {
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R6081-5.7.4.1-01", "R6081-5.7.4.1-02", "R6081-5.7.4.1-03",
                                         "R6081-5.7.4.1-04", "R6081-5.7.2-01",   "R6081-5.7.2-02",
                                         "R6081-5.7.2-03",   "R6081-4.4-01",     "R6081-4.4-02",
                                         "R6081-4.4-03",     "R6081-4.4-04"};
  App app(run);
  const auto e = establish(run, app, reqs, 41701);
  if (!e) return;
  Capture& lan_capture = run.capture("lan");
  // Within 30 s of the exchange: RFC 4380 case 1, the packet goes directly.
  const std::uint64_t before_recent = lan_mark(run);
  const std::string recent = marker("slr", 1);
  (void)app.send(e->peer.teredo, kit::bytes_of(recent.c_str()));
  const auto recent_data = wait_seen(run, iut_containing(lan_capture, recent), kReplyTimeout, before_recent);
  const Bubbles recent_bubbles = bubbles_for(run, e->peer, before_recent);
  // Nothing exchanged for longer than peer_validity ("30 seconds").
  std::this_thread::sleep_for(t.validity + t.validity / 5 + 200ms);
  const std::uint64_t before = lan_mark(run);
  const std::string idle = marker("slr", 2);
  std::string error;
  if (!app.send(e->peer.teredo, kit::bytes_of(idle.c_str()), &error)) {
    for (const auto& r : reqs) run.inconclusive(r, "the application could not send: " + error, "application_send_refused");
    return;
  }
  // Unanswered: three solicitations bubble_interval apart, then the indirect
  // bubble. Observed for 5 intervals and a margin.
  std::this_thread::sleep_for(5 * t.bubble + 1000ms);
  const Bubbles b = bubbles_for(run, e->peer, before);
  const auto early_data = all_seen(run, iut_containing(lan_capture, idle), before);
  std::vector<Seen> solicitations;
  for (const auto& s : b.direct) {
    if (trailers::discovery_type_of(s) == trailers::kSolicitation) solicitations.push_back(s);
  }
  std::string observed = fmt::format("after {} idle: {} direct bubble(s) to {}, {} of them solicitations",
                                     ms_text(t.validity + t.validity / 5 + 200ms), b.direct.size(), e->peer.where(),
                                     solicitations.size());
  std::vector<FrameRef> frames;
  for (const auto& s : b.direct) {
    observed += "; " + describe(s) + " with " + trailers::text(trailers::read(s));
    frames.push_back(lan(s.frame));
  }
  for (const auto& s : b.indirect) {
    observed += "; indirect " + describe(s);
    frames.push_back(lan(s.frame));
  }
  if (!early_data.empty()) observed += "; the packet itself: " + describe(early_data.front());

  // "MUST determine whether data has been exchanged ... in the last 30
  // seconds": within them no solicitation, after them one.
  const bool recent_direct = recent_data && recent_bubbles.direct.empty() && recent_bubbles.indirect.empty();
  if (b.direct.empty() && b.indirect.empty() && early_data.empty()) {
    for (const auto& r : reqs) {
      run.inconclusive(r,
                       fmt::format("the application's packet to the idle peer produced nothing from the IUT within "
                                   "{}: the silence proves nothing",
                                   ms_text(5 * t.bubble + 1000ms)),
                       "nothing_sent_for_idle_peer");
    }
    return;
  }
  const Seen* first_reaction = nullptr;
  for (const auto* list : {&b.direct, &b.indirect, &early_data}) {
    for (const auto& s : *list) {
      if (first_reaction == nullptr || s.frame < first_reaction->frame) first_reaction = &s;
    }
  }
  const bool solicited_first = !solicitations.empty() && first_reaction->frame == solicitations.front().frame;
  run.check("R6081-5.7.4.1-01", "idle_peer_not_solicited", recent_direct && solicited_first,
            fmt::format("within peer_validity ({}) of the exchange the packet went straight to the peer; after it, "
                        "a solicitation first",
                        ms_text(t.validity)),
            fmt::format("recent packet: {}{}; idle packet: {}",
                        recent_data ? describe(*recent_data) : "not seen",
                        recent_bubbles.direct.empty() && recent_bubbles.indirect.empty() ? "" : " (with bubbles)",
                        observed),
            frames);
  // "If not, the Teredo client MUST send a direct bubble with a Neighbor
  // Discovery Option Trailer having the DiscoveryType field set to
  // TeredoDiscoverySolicitation."
  run.check("R6081-5.7.4.1-02", "no_solicitation_for_idle_peer", solicited_first,
            fmt::format("the first reaction: a direct bubble to the peer's mapping {} with a TeredoDiscovery"
                        "Solicitation trailer (not an indirect bubble through its server)",
                        e->peer.where()),
            observed, frames);
  if (solicitations.empty()) {
    for (const char* r : {"R6081-5.7.4.1-03", "R6081-5.7.4.1-04", "R6081-5.7.2-01", "R6081-5.7.2-02",
                          "R6081-5.7.2-03"}) {
      run.inconclusive(r, "no solicitation to time or count: " + observed, "no_solicitation");
    }
    // The §4.4 fields bind a trailer that is there: none to read.
    for (const char* r : {"R6081-4.4-01", "R6081-4.4-02", "R6081-4.4-03", "R6081-4.4-04"}) {
      run.inconclusive(r, "no solicitation's Neighbor Discovery Option Trailer to read: " + observed,
                       "no_solicitation");
    }
    return;
  }
  judge_trailer(run, solicitations.front(), trailers::kSolicitation, "the first solicitation");
  // The timer: bubble_interval, with 10 % and 20 ms below, 50 % and 100 ms above.
  const auto in_time = [&](std::chrono::milliseconds gap) {
    return gap >= t.bubble * 9 / 10 - 20ms && gap <= t.bubble * 3 / 2 + 100ms;
  };
  std::string gaps;
  for (std::size_t i = 1; i < solicitations.size(); ++i) {
    gaps += fmt::format("{}{} ms", gaps.empty() ? "" : ", ", since(solicitations[i - 1].at, solicitations[i].at).count());
  }
  const std::string timing = fmt::format("{} solicitation(s), gaps {}; {}", solicitations.size(),
                                         gaps.empty() ? "none" : gaps, observed);
  // "The retransmission timer MUST be set to expire in two seconds."
  if (solicitations.size() < 2) {
    for (const char* r : {"R6081-5.7.4.1-04", "R6081-5.7.2-02"}) {
      run.check(r, "solicitation_not_retransmitted", false,
                fmt::format("the solicitation retransmitted {} later (unanswered)", ms_text(t.bubble)), timing, frames);
    }
  } else {
    run.check("R6081-5.7.4.1-04", "solicitation_timer_wrong",
              in_time(since(solicitations[0].at, solicitations[1].at)),
              fmt::format("the second solicitation {} after the first (bubble_interval, 90 %-150 %)", ms_text(t.bubble)),
              timing, frames);
    // "If the count is less than three, it MUST then reset the timer to expire in two seconds."
    if (solicitations.size() < 3) {
      run.check("R6081-5.7.2-02", "solicitation_timer_not_reset", false,
                fmt::format("a third solicitation {} after the second", ms_text(t.bubble)), timing, frames);
    } else {
      run.check("R6081-5.7.2-02", "solicitation_timer_wrong", in_time(since(solicitations[1].at, solicitations[2].at)),
                fmt::format("the third solicitation {} after the second (bubble_interval, 90 %-150 %)",
                            ms_text(t.bubble)),
                timing, frames);
    }
  }
  // "When the retransmission timer expires, the Teredo client MUST
  // retransmit a direct bubble with a Neighbor Discovery Option Trailer, and
  // increment the Count of Solicitations Transmitted."
  run.check("R6081-5.7.2-01", "solicitation_not_retransmitted", solicitations.size() == 3,
            "three solicitations in all (the first and two retransmissions), no fourth", timing, frames);
  // "The Count of Solicitations Transmitted field MUST be set to 1": seen
  // as three solicitations in all before the fallback (a count started at
  // 0 or 2 would give four or two).
  run.check("R6081-5.7.4.1-03", "solicitation_count_wrong", solicitations.size() == 3,
            "the count starts at 1: exactly three solicitations before the indirect bubble", timing, frames);
  // "Otherwise (if the count is now three), it MUST send an indirect bubble
  // to the Teredo peer to re-establish connectivity as if no communication
  // between the Teredo client and the Teredo peer had been established."
  const Seen* fallback = nullptr;
  for (const auto& s : b.indirect) {
    if (solicitations.size() >= 3 && s.frame > solicitations[2].frame) {
      fallback = &s;
      break;
    }
  }
  const bool early_indirect = !b.indirect.empty() && solicitations.size() >= 3 &&
                              b.indirect.front().frame < solicitations[2].frame;
  run.check("R6081-5.7.2-03", "no_indirect_bubble_after_solicitations", fallback != nullptr && !early_indirect,
            fmt::format("after the third unanswered solicitation, an indirect bubble to the peer's server {}:3544 "
                        "(none before it)",
                        kPeerServer),
            fallback ? "indirect bubble " + describe(*fallback) + "; " + timing : timing, frames);
}

// ---------------------------------------------------------------------------
// §5.7.4.2: a solicitation received.

void advertisement(CaseRun& run) {
  const std::vector<std::string> reqs = {"R6081-5.7.4.2-01", "R6081-4.4-01", "R6081-4.4-02", "R6081-4.4-03",
                                         "R6081-4.4-04"};
  App app(run);
  const auto e = establish(run, app, reqs, 41711);
  if (!e) return;
  Capture& lan_capture = run.capture("lan");
  // The bubble budget's spacing after the setup's exchange.
  std::this_thread::sleep_for(timers(run).bubble + 100ms);
  ByteVector trailer;
  trailers::append_discovery(trailer, trailers::kSolicitation);
  const std::uint64_t before = lan_mark(run);
  const std::uint64_t sent =
      send_from(run, e->peer, trailers::datagram(kit::bubble_packet(e->peer.teredo, e->address), trailer), e->mapping);
  const auto is_advertisement = [&](const CapturedFrame& f) {
    const auto s = parse_seen(f, lan_capture.link_type());
    return s && iut_bubble_for(lan_capture, e->peer.teredo)(f) &&
           to_endpoint(*s, Endpoint{kit::ipv4(e->peer.address), e->peer.port}) &&
           trailers::find(*s, trailers::kNeighborDiscovery).has_value();
  };
  const auto answer = wait_seen(run, is_advertisement, kReplyTimeout, before);
  const std::string what = fmt::format("a direct bubble with a TeredoDiscoverySolicitation trailer from the trusted "
                                       "peer's mapping {} (inet frame {})",
                                       e->peer.where(), sent);
  if (answer) {
    // "upon receiving a direct bubble containing a Neighbor Discovery Option
    // Trailer with DiscoveryType field set to TeredoDiscoverySolicitation,
    // the Teredo client MUST respond with a direct bubble with the Neighbor
    // Discovery Option Trailer having the DiscoveryType field set to
    // TeredoDiscoveryAdvertisement."
    run.check("R6081-5.7.4.2-01", "solicitation_not_answered_with_advertisement",
              trailers::discovery_type_of(*answer) == trailers::kAdvertisement,
              "a direct bubble back to the peer's mapping with DiscoveryType TeredoDiscoveryAdvertisement (1)",
              what + "; answered: " + describe(*answer) + " with " + trailers::text(trailers::read(*answer)),
              {inet(sent), lan(answer->frame)});
    judge_trailer(run, *answer, trailers::kAdvertisement, "the answer to the solicitation");
    return;
  }
  // Silence: a discard only when a later control (an echo request from the
  // same peer) is answered.
  const std::uint64_t before_control = lan_mark(run);
  const std::uint64_t control = send_from(run, e->peer, kit::echo_packet(e->peer.teredo, e->address, kEchoId, 1), e->mapping);
  const auto reply = wait_seen(run, iut_echo_reply(lan_capture, kEchoId, 1), kReplyTimeout, before_control);
  const std::optional<std::string> control_failure =
      reply ? std::nullopt
            : std::optional<std::string>(fmt::format("neither did the peer's later echo request (inet frame {}) get "
                                                     "a reply within {}",
                                                     control, ms_text(kReplyTimeout)));
  kit::record(run, {kit::unanswered_judgement("R6081-5.7.4.2-01", what,
                                              "a direct bubble back with a TeredoDiscoveryAdvertisement trailer",
                                              {inet(sent)}, control_failure,
                                              "solicitation_not_answered_with_advertisement", kReplyTimeout)});
  for (const char* r : {"R6081-4.4-01", "R6081-4.4-02", "R6081-4.4-03", "R6081-4.4-04"}) {
    run.inconclusive(r, "no advertisement to read", "no_advertisement");
  }
}

}  // namespace

TEREDO_CASE({
    .id = "client.load-reduction.solicitation",
    .title = "Server load reduction: a peer idle for 30 s is solicited directly, three times 2 s apart, then the "
             "indirect bubble",
    .description = "NAT profile port-restricted cone. After qualification communication with a Teredo peer "
                   "(198.51.100.7, server 203.0.113.3) is established (its direct bubble releases a first packet); "
                   "a second packet follows at once; after peer_validity and a margin with nothing exchanged a "
                   "third one, whose bubbles are not answered for 5 bubble_intervals.",
    .judgement = "The second packet goes straight to the peer; for the third the IUT's first reaction is a direct "
                 "bubble to the peer's mapping with a Neighbor Discovery Option Trailer (type 4, Length 4, "
                 "DiscoveryType 0, Reserved 0); three such solicitations bubble_interval apart (90 %-150 %), then "
                 "an indirect bubble to 203.0.113.3:3544 and no fourth solicitation.",
    .role = "client",
    .requirements = {"R6081-5.7.4.1-01", "R6081-5.7.4.1-02", "R6081-5.7.4.1-03", "R6081-5.7.4.1-04",
                     "R6081-5.7.2-01", "R6081-5.7.2-02", "R6081-5.7.2-03", "R6081-4.4-01", "R6081-4.4-02",
                     "R6081-4.4-03", "R6081-4.4-04"},
    .capabilities = {"server_load_reduction"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = solicitation,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.load-reduction.advertisement",
    .title = "Server load reduction: a direct bubble soliciting a response is answered with an advertisement",
    .description = "NAT profile port-restricted cone. After communication with a Teredo peer (198.51.100.7) is "
                   "established, the peer sends a direct bubble from its mapping with a Neighbor Discovery Option "
                   "Trailer of DiscoveryType TeredoDiscoverySolicitation; without an answer, an echo request from "
                   "the peer is the control.",
    .judgement = "A direct bubble back to the peer's mapping with a Neighbor Discovery Option Trailer (type 4, "
                 "Length 4, DiscoveryType 1, Reserved 0); no answer while the control is answered fails.",
    .role = "client",
    .requirements = {"R6081-5.7.4.2-01", "R6081-4.4-01", "R6081-4.4-02", "R6081-4.4-03", "R6081-4.4-04"},
    .capabilities = {"server_load_reduction"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = advertisement,
    .before_iut = open_played_server,
});

}  // namespace teredo::conformance::client
