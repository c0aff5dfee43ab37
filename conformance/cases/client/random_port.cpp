// RFC 6081 §5.4 Port-Preserving Symmetric NAT Extension and §5.5 Sequential
// Port-Symmetric NAT Extension, with the Random Port Trailer (§4.5). The IUT
// client sits behind the lab's symmetric NAT: "symmetric" preserves a new
// internal port's number (§5.4), "symmetric-sequential" gives each new
// mapping the next port (§5.5). The driver plays the IUT's server (its RAs
// carry the mapping each RS came from, so the secondary address sees another
// one and the IUT knows it is behind a symmetric NAT) and Teredo peer A
// (198.51.100.7: port 41701 is the mapping its address embeds, 41702 its
// random port). Everything is judged by content from the captures: "lan"
// (what the IUT sent, its local ports) and "inet" (the same datagrams after
// the NAT).
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "cases/client/client_driver.hpp"
#include "cases/client/random_port.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// §5.4: the random port, its trailer, and the direct bubbles through it.

const std::vector<std::string> kPortPreservingRequirements = {
    "R6081-4.5-01",     "R6081-4.5-02",     "R6081-4.5-03",     "R6081-5.4.3-04",   "R6081-5.4.4.2-02",
    "R6081-5.4.4.2-03", "R6081-5.4.4.2-04", "R6081-5.4.4.3-01", "R6081-5.4.4.3-02", "R6081-5.4.4.3-03",
    "R6081-5.4.4.3-04", "R6081-5.4.4.4-02", "R6081-5.4.4.5-12", "R6081-5.4.4.5-13", "R6081-5.4.4.5-14",
    "R6081-5.4.2.1-03", "R6081-5.4.2.1-05", "R6081-5.4.3-03",   "R6081-5.4.4.2-01", "R6081-5.4.4.4-01",
    "R6081-5.4.3-02",   "R6081-5.4.2.1-01"};

void port_preserving(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kPortPreservingRequirements;
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const Endpoint mapping = embedded_mapping(*address);
  Capture& lan_capture = run.capture("lan");
  Capture& inet_capture = run.capture("inet");
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  const Peer a_random = make_peer(run, kPeerA, kPeerRandomPort);
  App app(run);

  // 1. The application writes to A: an indirect bubble via A's server.
  std::uint64_t before = lan_mark(run);
  if (!app_write(run, app, a, marker("random-port", 1), reqs)) return;
  const auto indirect = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerServer, kTeredoPort), t.bubble + 1500ms,
                                  before);
  if (!indirect) {
    all_inconclusive(run, reqs,
                     fmt::format("the application's packet to peer A produced no indirect bubble to {}:{} within {}",
                                 kPeerServer, kTeredoPort, ms_text(t.bubble + 1500ms)),
                     "no_indirect_bubble");
    return;
  }
  const std::uint16_t service_port = indirect->carrier.source_port;
  const auto option = random_port_option(*indirect);
  const auto advertised = advertised_port(option);
  const std::string seen_text = describe(*indirect);
  // "Since the NAT is port-preserving": the mapping the server saw kept the service port.
  if (mapping.port != service_port) {
    all_inconclusive(run, reqs,
                     fmt::format("the NAT did not preserve the service port ({} inside, {} outside): not the "
                                 "port-preserving symmetric NAT the case needs",
                                 service_port, mapping.port),
                     "nat_not_port_preserving");
    return;
  }
  run.info(fmt::format("service port {} kept outside ({}): the NAT is port-preserving", service_port,
                       to_text(mapping)));
  // "If the Random Port value is non-zero, the Teredo client MUST append a
  // Random Port Trailer to the indirect bubble."
  run.check("R6081-5.4.4.2-04", "random_port_trailer_missing", option.has_value(),
            "the indirect bubble to an untrusted peer carries a Random Port Trailer (type 0x05)", seen_text,
            {lan(indirect->frame)});
  // "If both values match, the client MUST set the Port-Preserving NAT flag to TRUE."
  for (const char* r : {"R6081-5.4.3-03", "R6081-5.4.3-04", "R6081-5.4.4.2-01"}) {
    run.check(r, "port_preserving_flag_not_set", option.has_value(),
              "origin port = local port, so the flag is TRUE: a Random Port Trailer on the indirect bubble",
              seen_text, {lan(indirect->frame)});
  }
  if (!option) {
    for (const char* r : {"R6081-4.5-01", "R6081-4.5-02", "R6081-4.5-03", "R6081-5.4.4.2-02", "R6081-5.4.4.2-03",
                          "R6081-5.4.4.3-02", "R6081-5.4.4.3-03", "R6081-5.4.4.3-04", "R6081-5.4.4.4-01",
                          "R6081-5.4.4.4-02", "R6081-5.4.4.5-12", "R6081-5.4.4.5-13", "R6081-5.4.4.5-14",
                          "R6081-5.4.2.1-01", "R6081-5.4.2.1-03", "R6081-5.4.2.1-05", "R6081-5.4.3-02"}) {
      run.inconclusive(r, "no Random Port Trailer to examine: " + seen_text, "no_random_port_trailer");
    }
  } else {
    // "This field MUST be set to 0x05." / "This field MUST be set to 0x02."
    run.check("R6081-4.5-01", "random_port_trailer_type", option->type == kRandomPortTrailer, "type 0x05",
              fmt::format("type 0x{:02x}", option->type), {lan(indirect->frame)});
    run.check("R6081-4.5-02", "random_port_trailer_length", option->length == 2, "length 0x02",
              fmt::format("length {}", option->length), {lan(indirect->frame)});
  }
  // "the Teredo client MUST send a direct bubble destined to the mapped
  // address/port embedded in the Teredo IPv6 address of the Teredo peer."
  const auto direct = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerA, kPeerPort), t.bubble + 1500ms, before);
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.3-01", direct.has_value(), true,
                                        "a direct bubble to A's embedded mapping " + a.where(),
                                        direct ? describe(*direct) : std::string(),
                                        direct ? std::vector{lan(direct->frame)} : std::vector<FrameRef>{},
                                        "direct_bubble_missing",
                                        "no direct bubble to " + a.where() + " within " +
                                            ms_text(t.bubble + 1500ms))});
  if (!advertised) return;

  // 2. A's indirect bubble (through the IUT's server) advertises A's random port.
  before = lan_mark(run);
  server.send_from_primary(mapping, relayed_bubble(a, *address, kPeerRandomPort));
  run.info(fmt::format("the played server relays A's indirect bubble with a Random Port Trailer naming {} to {}",
                       kPeerRandomPort, to_text(mapping)));
  const auto through = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerA, kPeerRandomPort), kSettle, before);
  const std::string why_silent =
      fmt::format("no bubble to A's random port {}:{} within {}", kPeerA, kPeerRandomPort, ms_text(kSettle));
  const std::vector<FrameRef> through_frames = through ? std::vector{lan(through->frame)} : std::vector<FrameRef>{};
  const std::string through_text = through ? describe(*through) : std::string();
  const std::uint16_t local = through ? through->carrier.source_port : 0;
  const auto echoed = through ? advertised_port(random_port_option(*through)) : std::nullopt;
  // "the Teredo client MUST send another direct bubble from its own random port, destined to the peer random port."
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.3-02", through.has_value(), local == *advertised,
                                        fmt::format("a direct bubble from the random port {} to {}:{}", *advertised,
                                                    kPeerA, kPeerRandomPort),
                                        through_text, through_frames, "not_from_random_port", why_silent)});
  // "MUST first select a random port number to use, and then begin listening on that port."
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.2-02", through.has_value(),
                                        local == *advertised && local != service_port,
                                        fmt::format("a port of its own (not the service port {}), named in the "
                                                    "trailer, used to reach A",
                                                    service_port),
                                        through_text, through_frames, "no_random_port", why_silent)});
  // "The IPv4 destination address MUST be the mapped address embedded in the Teredo IPv6 address."
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.3-03", through.has_value(), true,
                                        "IPv4 destination " + std::string(kPeerA) + " (A's embedded address)",
                                        through_text, through_frames, "wrong_destination_address", why_silent)});
  // "In addition, the Teredo client MUST include the Random Port Trailer (Section 4.5)."
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.3-04", through.has_value(), echoed == advertised,
                                        fmt::format("a Random Port Trailer naming {}", *advertised), through_text,
                                        through_frames, "random_port_trailer_missing", why_silent)});
  // "the Teredo client MUST store the port from the Random Port Trailer in the Peer Random Port field"
  for (const char* r : {"R6081-5.4.4.4-01", "R6081-5.4.4.4-02"}) {
    kit::record(run, {kit::sent_judgement(r, through.has_value(), true,
                                          fmt::format("the advertised port {} used as A's random port", kPeerRandomPort),
                                          through_text, through_frames, "peer_random_port_not_stored", why_silent)});
  }
  if (!through) {
    for (const char* r : {"R6081-4.5-03", "R6081-5.4.4.2-03", "R6081-5.4.4.5-12", "R6081-5.4.4.5-13",
                          "R6081-5.4.4.5-14", "R6081-5.4.2.1-01", "R6081-5.4.2.1-03", "R6081-5.4.2.1-05",
                          "R6081-5.4.3-02"}) {
      run.inconclusive(r, why_silent, "no_random_port_bubble");
    }
    return;
  }
  // The same bubble after the NAT: its source port is the external port the
  // trailer predicted. "The external port that the sender predicts that its
  // NAT has assigned it for communication with the destination."
  const auto outside = wait_inet(run, same_payload_to(inet_capture, *through, kPeerA, kPeerRandomPort), 1000ms);
  const std::uint16_t external = outside ? outside->carrier.source_port : 0;
  for (const char* r : {"R6081-4.5-03", "R6081-5.4.4.2-03"}) {
    kit::record(run, {kit::sent_judgement(r, outside.has_value(), external == *advertised,
                                          fmt::format("the NAT's external port for it = the predicted {}", *advertised),
                                          outside ? describe(*outside) : std::string(),
                                          outside ? std::vector{lan(through->frame), inet(outside->frame)}
                                                  : std::vector<FrameRef>{},
                                          "random_port_prediction_wrong",
                                          "the bubble was not seen leaving the NAT in inet.pcap")});
  }

  // 3. A answers from its random port to that mapping: the IUT must trust A there.
  const Endpoint random_mapping{kit::ipv4(kNatOutside), external};
  const std::uint64_t answer = send_from(run, a_random, kit::bubble_packet(a.teredo, *address), random_mapping);
  std::this_thread::sleep_for(200ms);
  before = lan_mark(run);
  const std::string mark = marker("random-port", 2);
  if (!app_write(run, app, a, mark,
                 {"R6081-5.4.4.5-12", "R6081-5.4.4.5-13", "R6081-5.4.4.5-14", "R6081-5.4.2.1-01", "R6081-5.4.2.1-03",
                  "R6081-5.4.2.1-05", "R6081-5.4.3-02"})) {
    return;
  }
  const auto data = wait_seen(run, iut_containing(lan_capture, mark), t.bubble + 1500ms, before);
  const bool to_random = data && data->carrier.destination4 == kit::ipv4(kPeerA) &&
                         data->carrier.destination_port == kPeerRandomPort;
  const std::string data_text = data ? describe(*data) : std::string();
  const std::vector<FrameRef> data_frames =
      data ? std::vector{inet(answer), lan(data->frame)} : std::vector<FrameRef>{inet(answer)};
  const std::string no_data = fmt::format("A's direct bubble to the random port's mapping {} (inet frame {}), then "
                                          "the application's packet: nothing carrying it within {}",
                                          to_text(random_mapping), answer, ms_text(t.bubble + 1500ms));
  // "the status field of the Teredo client MUST be changed to "trusted""
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.5-12", data.has_value(), to_random,
                                        "trusted: the packet goes straight to A, not queued behind bubbles", data_text,
                                        data_frames, "peer_not_trusted_on_random_port", no_data)});
  // "The mapped address/port from which the direct bubble was received MUST be recorded"
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.5-14", data.has_value(), to_random,
                                        fmt::format("to the mapping the bubble came from, {}:{}", kPeerA,
                                                    kPeerRandomPort),
                                        data_text, data_frames, "mapping_not_recorded", no_data)});
  // "the Direct Receive on Random Port flag MUST be set to TRUE": the peer is
  // reached through the random port (§5.4.2.1).
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.5-13", data.has_value(),
                                        data && data->carrier.source_port == *advertised,
                                        fmt::format("from the random port {}", *advertised), data_text, data_frames,
                                        "not_through_random_port", no_data)});

  // 4. Idle: the Peer Refresh Timer (30 s, scaled) keeps the random port's
  // mappings alive with direct bubbles to A.
  if (!data || !to_random) {
    for (const char* r : {"R6081-5.4.2.1-01", "R6081-5.4.2.1-03", "R6081-5.4.2.1-05", "R6081-5.4.3-02"}) {
      run.inconclusive(r, "A is not reached through the random port: nothing to refresh", "no_random_port_peer");
    }
    return;
  }
  const auto period = rfc_time(t, 30000ms);
  std::this_thread::sleep_for(3 * period + period / 2);
  std::vector<Seen> refreshes;
  for (const auto& b : all_seen(run, iut_bubble_to(lan_capture, a, kPeerA, kPeerRandomPort), data->frame)) {
    refreshes.push_back(b);
  }
  const std::string no_refresh = fmt::format("no bubble to A's random port in the {} after the last data",
                                             ms_text(3 * period + period / 2));
  std::string listed;
  bool from_random = !refreshes.empty();
  std::vector<FrameRef> refresh_frames;
  for (const auto& b : refreshes) {
    listed += (listed.empty() ? "" : "; ") + describe(b);
    from_random = from_random && b.carrier.source_port == *advertised &&
                  advertised_port(random_port_option(b)) == advertised;
    refresh_frames.push_back(lan(b.frame));
  }
  // "If both checks are FALSE, the Teredo client MUST send a direct bubble
  // (as specified in Section 5.4.4.3) to the peer"
  // (R6081-5.4.3-02, R6081-5.4.2.1-01: the timer runs and walks the peers,
  // inferred from the same bubbles.)
  for (const char* r : {"R6081-5.4.2.1-03", "R6081-5.4.2.1-01", "R6081-5.4.3-02"}) {
    kit::record(run, {kit::sent_judgement(r, !refreshes.empty(), from_random,
                                          fmt::format("while idle, direct bubbles from the random port {} to {}:{} "
                                                      "with its trailer",
                                                      *advertised, kPeerA, kPeerRandomPort),
                                          listed, refresh_frames, "refresh_bubble_malformed", no_refresh)});
  }
  // "The Peer Refresh Timer MUST then be rescheduled to expire in 30 seconds."
  if (refreshes.size() < 2) {
    run.inconclusive("R6081-5.4.2.1-05", "fewer than two refresh bubbles to time: " + (listed.empty() ? no_refresh : listed),
                     "too_few_refresh_bubbles");
    return;
  }
  bool spaced = true;
  std::string gaps;
  for (std::size_t i = 1; i < refreshes.size(); ++i) {
    const auto g = std::chrono::duration_cast<std::chrono::milliseconds>(refreshes[i].at - refreshes[i - 1].at);
    gaps += (gaps.empty() ? "" : ", ") + ms_text(g);
    spaced = spaced && g >= period * 3 / 4 && g <= period * 3 / 2 + 150ms;
  }
  run.check("R6081-5.4.2.1-05", "refresh_period_wrong", spaced,
            fmt::format("refresh bubbles {} apart (30 s scaled; 75-150 % + 150 ms)", ms_text(period)),
            "gaps " + gaps, refresh_frames);
}

TEREDO_CASE({
    .id = "client.random-port.port-preserving",
    .title = "Behind a port-preserving symmetric NAT: a random port per peer, its trailer, bubbles through it",
    .description =
        "NAT profile symmetric (port-preserving). The played server answers every RS with the mapping it saw. The "
        "application writes to Teredo peer A; the played server then relays A's indirect bubble with a Random Port "
        "Trailer naming 41702; A's random port then sends a direct bubble to the IUT's random port mapping, the "
        "application writes again, then stays idle for three and a half refresh periods.",
    .judgement = "The indirect bubble to A carries a Random Port Trailer (type 0x05, length 2) naming a port R other "
                 "than the service port; a direct bubble goes to A's embedded mapping; after A's indirect bubble a "
                 "direct bubble goes from local port R to 198.51.100.7:41702 with the trailer R, and leaves the NAT "
                 "from port R; after A's bubble to that mapping the application's packet goes from R to "
                 "198.51.100.7:41702; idle, refresh bubbles from R to 198.51.100.7:41702 with the trailer, 30 s "
                 "apart (scaled by the adapter's bubble_interval). Silence is inconclusive.",
    .role = "client",
    .requirements = kPortPreservingRequirements,
    .capabilities = {"port_preserving_symmetric_nat"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric"),
    .captures = client_captures(),
    .body = port_preserving,
    .before_iut = open_played_server,
});

// ---------------------------------------------------------------------------
// §5.5: the Echo Test and the predicted random port.

// EchoTestSeen, find_echo_test and nonce_of: random_port.hpp.

const std::vector<std::string> kEchoTestRequirements = {
    "R6081-5.5.4.1-01",   "R6081-5.5.4.1.1-01", "R6081-5.5.4.1.1-02", "R6081-5.5.4.1.1-03", "R6081-5.5.4.1.1-05",
    "R6081-5.5.4.1.1-06", "R6081-5.5.4.1.1-07", "R6081-5.5.4.4-03",   "R6081-5.5.4.4-04",   "R6081-5.5.4.4-05",
    "R6081-5.5.4.2-01",   "R6081-5.5.4.1.1-04", "R6081-5.5.4.1.1-08", "R6081-5.5.4.4-01",   "R6081-5.5.4.4-02"};

// Qualifies behind the sequential NAT and makes the application write to A;
// the service port (nullopt: inconclusive recorded).
struct SequentialStart {
  Ipv6Address address{};
  std::uint16_t service_port = 0;
  std::uint64_t before = 0;
  std::optional<Seen> first_indirect{};
};
std::optional<SequentialStart> sequential_start(CaseRun& run, PlayedServer& server, const Peer& a, App& app,
                                                const std::vector<std::string>& reqs) {
  const auto address = qualify(run, server, reqs);
  if (!address) return std::nullopt;
  const Endpoint mapping = embedded_mapping(*address);
  const auto rss = all_seen(run, iut_rs(run.capture("lan")));
  if (rss.empty()) {
    all_inconclusive(run, reqs, "no RS in lan.pcap", "no_rs_captured");
    return std::nullopt;
  }
  SequentialStart s{*address, rss.front().carrier.source_port, lan_mark(run), std::nullopt};
  if (mapping.port == s.service_port) {
    all_inconclusive(run, reqs,
                     fmt::format("the NAT preserved the service port {}: not the sequential NAT the case needs",
                                 s.service_port),
                     "nat_preserved_port");
    return std::nullopt;
  }
  run.info(fmt::format("service port {} mapped to {}: the NAT does not preserve ports", s.service_port,
                       to_text(mapping)));
  if (!app_write(run, app, a, marker("sequential", 1), reqs)) return std::nullopt;
  return s;
}

void echo_test(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kEchoTestRequirements;
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  App app(run);
  const auto start = sequential_start(run, server, a, app, reqs);
  if (!start) return;
  Capture& lan_capture = run.capture("lan");
  // Wait for the indirect bubble (which must come after the Echo Test).
  const auto indirect =
      wait_seen(run, iut_bubble_to(lan_capture, a, kPeerServer, kTeredoPort), t.bubble + 1500ms, start->before);
  std::this_thread::sleep_for(200ms);
  const EchoTestSeen e = find_echo_test(run, a, start->service_port, start->before);
  const bool complete = e.rs1 && e.bubble && e.rs2;
  std::string story = fmt::format("after the application's packet to A: {}; {}; {}; indirect bubble: {}",
                                  e.rs1 ? describe(*e.rs1) : "no RS from another port",
                                  e.bubble ? describe(*e.bubble) : "no direct bubble from it",
                                  e.rs2 ? describe(*e.rs2) : "no RS to the secondary from it",
                                  indirect ? describe(*indirect) : "none");
  std::vector<FrameRef> frames;
  for (const auto* s : {&e.rs1, &e.bubble, &e.rs2, &indirect}) {
    if (*s) frames.push_back(lan((*s)->frame));
  }
  const bool seen = complete || indirect.has_value();
  const std::string why_silent = "neither an Echo Test nor an indirect bubble for A within " +
                                 ms_text(t.bubble + 1500ms);
  // "MUST select a random port number to use, begin listening on that port,
  // and start an Echo Test" -- instead of the indirect bubble.
  const bool echo_first = complete && (!indirect || indirect->frame > e.rs2->frame);
  kit::record(run, {kit::sent_judgement("R6081-5.5.4.1-01", seen, echo_first,
                                        "from a new local port: an Echo Test before any indirect bubble", story,
                                        frames, "no_echo_test", why_silent)});
  if (!complete) {
    for (const auto& r : reqs) {
      if (r == "R6081-5.5.4.1-01") continue;
      run.inconclusive(r, "no complete Echo Test to examine: " + story, "no_echo_test");
    }
    return;
  }
  // "the Teredo client MUST send the following three packets from this port"
  run.check("R6081-5.5.4.1.1-01", "echo_test_ports_differ", true,
            fmt::format("three packets from one local port ({})", e.port), story, frames);
  // "First, a router solicitation ... MUST be sent to the Teredo server address."
  run.check("R6081-5.5.4.1.1-02", "echo_test_rs1_misdirected",
            e.rs1->carrier.destination4 == kit::ipv4(kServer) && e.rs1->carrier.destination_port == kTeredoPort,
            fmt::format("an RS to {}:{}", kServer, kTeredoPort), describe(*e.rs1), {lan(e.rs1->frame)});
  // "Second, a direct bubble MUST be sent to the peer."
  run.check("R6081-5.5.4.1.1-05", "echo_test_bubble_misdirected",
            e.bubble->carrier.destination4 == kit::ipv4(kPeerA) && e.bubble->carrier.destination_port == kPeerPort,
            "a direct bubble to A's embedded mapping " + a.where(), describe(*e.bubble), {lan(e.bubble->frame)});
  // "Third, a router solicitation MUST be sent to the secondary Teredo server address."
  run.check("R6081-5.5.4.1.1-06", "echo_test_rs2_misdirected",
            e.rs2->carrier.destination4 == kit::ipv4(kServer2) && e.rs2->carrier.destination_port == kTeredoPort,
            fmt::format("an RS to {}:{}", kServer2, kTeredoPort), describe(*e.rs2), {lan(e.rs2->frame)});
  // "The router solicitation MUST include an authentication encapsulation with a randomly generated Nonce field"
  const auto n1 = nonce_of(e.rs1);
  const auto n2 = nonce_of(e.rs2);
  std::vector<Nonce> earlier;
  for (const auto& rs : all_seen(run, iut_rs(lan_capture))) {
    if (rs.frame >= e.rs1->frame) break;
    if (const auto n = nonce_of(rs)) earlier.push_back(*n);
  }
  const auto fresh = [&](const std::optional<Nonce>& n, const std::optional<Nonce>& other) {
    return n && (!other || *n != *other) && std::find(earlier.begin(), earlier.end(), *n) == earlier.end();
  };
  run.check("R6081-5.5.4.1.1-03", "echo_test_rs1_nonce", fresh(n1, n2),
            "an authentication encapsulation with a nonce not used before", describe(*e.rs1), {lan(e.rs1->frame)});
  run.check("R6081-5.5.4.1.1-07", "echo_test_rs2_nonce", fresh(n2, n1),
            "an authentication encapsulation with a nonce of its own", describe(*e.rs2), {lan(e.rs2->frame)});

  // The played server answered both RSs with the mapping it saw: the lower
  // and upper ports. The indirect bubble then names their midpoint.
  std::optional<std::uint16_t> lower, upper;
  for (const auto& rs : server.seen()) {
    if (!rs.answered || !rs.authenticated) continue;
    if (n1 && rs.nonce == *n1) lower = rs.from.port;
    if (n2 && rs.nonce == *n2) upper = rs.from.port;
  }
  if (!lower || !upper) {
    for (const char* r : {"R6081-5.5.4.4-01", "R6081-5.5.4.4-02", "R6081-5.5.4.4-03", "R6081-5.5.4.4-04",
                          "R6081-5.5.4.4-05", "R6081-5.5.4.2-01", "R6081-5.5.4.1.1-04", "R6081-5.5.4.1.1-08"}) {
      run.inconclusive(r, "the played server did not answer both Echo Test RSs", "echo_test_unanswered");
    }
    return;
  }
  const auto after_echo = all_seen(run, iut_bubble_to(lan_capture, a, kPeerServer, kTeredoPort), e.rs2->frame);
  const std::optional<Seen> predicted_bubble =
      after_echo.empty() ? std::nullopt : std::optional<Seen>(after_echo.front());
  const std::uint16_t named =
      predicted_bubble ? advertised_port(random_port_option(*predicted_bubble)).value_or(0) : std::uint16_t{0};
  const std::uint16_t midpoint = static_cast<std::uint16_t>((std::uint32_t{*lower} + *upper) / 2);
  const std::string text = predicted_bubble ? describe(*predicted_bubble) : std::string();
  const std::vector<FrameRef> bubble_frames =
      predicted_bubble ? std::vector{lan(e.rs1->frame), lan(e.rs2->frame), lan(predicted_bubble->frame)}
                       : std::vector<FrameRef>{};
  const std::string no_bubble = "no indirect bubble for A after the Echo Test's RAs";
  run.info(fmt::format("Echo Test answers: lower port {} (RA to the first RS), upper port {}", *lower, *upper));
  // "If the Random Port value is non-zero, then the Teredo client MUST append a Random Port Trailer"
  kit::record(run, {kit::sent_judgement("R6081-5.5.4.2-01", predicted_bubble.has_value(), named != 0,
                                        "a Random Port Trailer on the indirect bubble", text, bubble_frames,
                                        "random_port_trailer_missing", no_bubble)});
  // "set the Random Port field of the Peer Entry to (EchoTestUpperPort +
  // EchoTestUpperPort)/2, rounded down" -- the midpoint; the literal reading
  // (the upper port) is accepted and noted.
  const bool literal = named != 0 && named == *upper;
  if (literal) run.info("the trailer names the upper port: RFC 6081's literal (EchoTestUpperPort + EchoTestUpperPort)/2");
  // (R6081-5.5.4.1.1-04/08: the nonces were kept; R6081-5.5.4.4-01..04: the
  // RAs were matched by them and their ports taken, inferred from the same.)
  for (const char* r : {"R6081-5.5.4.4-03", "R6081-5.5.4.4-04", "R6081-5.5.4.4-05", "R6081-5.5.4.1.1-04",
                        "R6081-5.5.4.1.1-08", "R6081-5.5.4.4-01", "R6081-5.5.4.4-02"}) {
    kit::record(run, {kit::sent_judgement(r, predicted_bubble.has_value(), named != 0 && (named == midpoint || literal),
                                          fmt::format("a Random Port Trailer naming ({} + {}) / 2 = {}", *lower,
                                                      *upper, midpoint),
                                          text, bubble_frames, "random_port_not_predicted", no_bubble)});
  }
  // What the NAT really did (its property, not the IUT's): the Echo Test's
  // bubble left from the predicted port.
  const auto outside = wait_inet(run, same_payload_to(run.capture("inet"), *e.bubble, kPeerA, kPeerPort), 500ms);
  if (outside) {
    run.info(fmt::format("the Echo Test's bubble left the NAT from port {} ({})", outside->carrier.source_port,
                         describe(*outside)));
  }
}

TEREDO_CASE({
    .id = "client.sequential-port.echo-test",
    .title = "Behind a sequential port-symmetric NAT: an Echo Test predicts the random port's mapping",
    .description = "NAT profile symmetric-sequential (no port preservation, each new mapping on the next port). The "
                   "played server answers every RS with the mapping it saw. The application writes to Teredo peer "
                   "A.",
    .judgement = "From a new local port, before any indirect bubble for A: an RS to 203.0.113.1:3544 with a fresh "
                 "nonce, a direct bubble to A's embedded mapping, an RS to 203.0.113.2:3544 with another fresh "
                 "nonce; after their RAs the indirect bubble to A carries a Random Port Trailer naming the midpoint "
                 "of the two RAs' origin ports (the literal reading, the upper port, is accepted and noted). "
                 "Silence is inconclusive.",
    .role = "client",
    .requirements = kEchoTestRequirements,
    .capabilities = {"sequential_port_symmetric_nat"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric-sequential"),
    .captures = client_captures(),
    .body = echo_test,
    .before_iut = open_played_server,
});

const std::vector<std::string> kFailoverRequirements = {"R6081-5.5.4.1-01", "R6081-5.5.2.2-01", "R6081-5.5.2.2-02",
                                                        "R6081-5.5.2.2-03", "R6081-5.5.4.1.1-09"};

void echo_test_failover(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kFailoverRequirements;
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  App app(run);
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  // From now on the played server answers nothing: the Echo Tests fail.
  server.set_default(RaPlan{.fault = RaFault::silent});
  const auto rss = all_seen(run, iut_rs(run.capture("lan")));
  if (rss.empty()) {
    all_inconclusive(run, reqs, "no RS in lan.pcap", "no_rs_captured");
    return;
  }
  const std::uint16_t service_port = rss.front().carrier.source_port;
  const std::uint64_t before = lan_mark(run);
  if (!app_write(run, app, a, marker("failover", 1), reqs)) return;
  // The RFC's failover times are 1 s then 2 s, on the IUT's clock.
  const auto scaled = [&t](std::chrono::milliseconds d) { return rfc_time(t, d); };
  std::this_thread::sleep_for(scaled(3000ms) + 1500ms);
  const EchoTestSeen first = find_echo_test(run, a, service_port, before);
  const auto indirect_any = all_seen(run, iut_bubble_to(run.capture("lan"), a, kPeerServer, kTeredoPort), before);
  const bool first_complete = first.rs1 && first.bubble && first.rs2;
  // As in client.sequential-port.echo-test: the Echo Test comes before any indirect bubble.
  kit::record(run, {kit::sent_judgement(
                       "R6081-5.5.4.1-01", first_complete || !indirect_any.empty(),
                       first_complete && (indirect_any.empty() || indirect_any.front().frame > first.rs2->frame),
                       "from a new local port: an Echo Test before any indirect bubble",
                       first_complete ? describe(*first.rs1)
                                      : (indirect_any.empty() ? std::string() : describe(indirect_any.front())),
                       first_complete ? std::vector{lan(first.rs1->frame)}
                                      : (indirect_any.empty() ? std::vector<FrameRef>{}
                                                              : std::vector{lan(indirect_any.front().frame)}),
                       "no_echo_test", "neither an Echo Test nor an indirect bubble for A")});
  if (!first_complete) {
    for (const auto& r : reqs) {
      if (r != "R6081-5.5.4.1-01") run.inconclusive(r, "no complete first Echo Test for A in lan.pcap", "no_echo_test");
    }
    return;
  }
  const EchoTestSeen second = find_echo_test(run, a, service_port, first.rs2->frame);
  const std::string second_text = second.rs1 ? describe(*second.rs1) : "no second Echo Test";
  const auto indirect = all_seen(run, iut_bubble_to(run.capture("lan"), a, kPeerServer, kTeredoPort), before);
  // "If the value of the EchoTestRetryCounter is one, then the Teredo client
  // MUST start another Echo Test"
  const bool second_complete = second.rs1 && second.bubble && second.rs2 && second.port == first.port;
  // (R6081-5.5.2.2-01: the failover acted, inferred from the same.)
  const bool second_first = second_complete && (indirect.empty() || indirect.front().frame > second.rs2->frame);
  const std::vector<FrameRef> second_frames =
      second.rs1 ? std::vector{lan(second.rs1->frame)} : std::vector<FrameRef>{};
  for (const char* r : {"R6081-5.5.2.2-03", "R6081-5.5.2.2-01"}) {
    kit::record(run, {kit::sent_judgement(r, second.rs1.has_value() || !indirect.empty(), second_first,
                                          fmt::format("a second Echo Test from port {} before any indirect bubble",
                                                      first.port),
                                          second_text, second_frames, "no_second_echo_test",
                                          "neither a second Echo Test nor an indirect bubble")});
  }
  if (!second_complete) {
    run.inconclusive("R6081-5.5.2.2-02", "no second Echo Test to count from", "no_second_echo_test");
    if (second.rs1) run.info("a second Echo Test started but was incomplete or from another port");
    run.inconclusive("R6081-5.5.4.1.1-09", "no second Echo Test to time", "no_second_echo_test");
    return;
  }
  // "If the value of the EchoTestRetryCounter is two, then the Teredo client
  // MUST send an indirect bubble"
  const auto after_second = all_seen(run, iut_bubble_to(run.capture("lan"), a, kPeerServer, kTeredoPort),
                                     second.rs2->frame);
  kit::record(run, {kit::sent_judgement("R6081-5.5.2.2-02", !after_second.empty(), true,
                                        "an indirect bubble for A via its server after the second Echo Test",
                                        after_second.empty() ? std::string() : describe(after_second.front()),
                                        after_second.empty() ? std::vector<FrameRef>{} :
                                                               std::vector{lan(after_second.front().frame)},
                                        "no_indirect_bubble", "no indirect bubble after the second Echo Test")});
  // "set the Echo Test Failover Timer to expire in a number of seconds equal
  // to EchoTestRetryCounter": 1 s, then 2 s (scaled), with explicit tolerance.
  const auto gap = [](const Seen& from, const Seen& to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to.at - from.at);
  };
  const auto within = [&](std::chrono::milliseconds got, std::chrono::milliseconds want) {
    return got >= want / 2 && got <= want * 3 / 2 + 150ms;
  };
  const auto gap1 = gap(*first.rs1, *second.rs1);
  std::string observed = fmt::format("second Echo Test {} after the first", ms_text(gap1));
  bool ok = within(gap1, scaled(1000ms));
  std::vector<FrameRef> frames{lan(first.rs1->frame), lan(second.rs1->frame)};
  if (!after_second.empty()) {
    const auto gap2 = gap(*second.rs1, after_second.front());
    observed += fmt::format(", the indirect bubble {} after the second", ms_text(gap2));
    ok = ok && within(gap2, scaled(2000ms));
    frames.push_back(lan(after_second.front().frame));
  }
  run.check("R6081-5.5.4.1.1-09", "echo_test_failover_timing", ok,
            fmt::format("failovers after {} then {} (1 s, 2 s scaled; 50-150 % + 150 ms)", ms_text(scaled(1000ms)),
                        ms_text(scaled(2000ms))),
            observed, frames);
}

TEREDO_CASE({
    .id = "client.sequential-port.echo-test-failover",
    .title = "Unanswered Echo Tests: a second one after 1 s, then an indirect bubble after 2 s",
    .description = "NAT profile symmetric-sequential. After qualification the played server answers nothing. The "
                   "application writes to Teredo peer A.",
    .judgement = "A first Echo Test (RS, direct bubble, RS from one new port) before any indirect bubble, a second "
                 "one from the same port about "
                 "1 s later (scaled by the adapter's bubble_interval), then an indirect bubble for A about 2 s "
                 "later. Silence is inconclusive.",
    .role = "client",
    .requirements = kFailoverRequirements,
    .capabilities = {"sequential_port_symmetric_nat"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric-sequential"),
    .captures = client_captures(),
    .body = echo_test_failover,
    .before_iut = open_played_server,
});

}  // namespace
}  // namespace teredo::conformance::client
