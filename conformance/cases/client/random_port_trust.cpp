// RFC 6081 §5.4.4.4 and §5.4.4.5: what a client behind a port-preserving
// symmetric NAT does with a peer once the peer is "trusted" and the peer then
// moves between its mappings, or advertises another random port.
//
// Both cases start as client.random-port.port-preserving does (random_port.cpp):
// the IUT qualifies behind the "symmetric" NAT profile, the application writes
// to Teredo peer A (198.51.100.7, embedded port 41701), the played server
// relays A's indirect bubble advertising A's random port 41702, and A's
// direct bubble from 41702 to the IUT's random port mapping makes A trusted
// there (the application's packet then leaves from the random port to
// 198.51.100.7:41702). From then on the played A moves:
//  - its embedded mapping 41701, its random port 41702, and a "new" mapping
//    198.51.100.7:41703 (what A's own NAT would give it after deleting a
//    mapping, R6081-5.4.4.5-07/-17);
//  - the NAT is switched to address-dependent filtering before the IUT
//    starts (symmetric mapping, ports preserved, RFC 4787 address-dependent
//    filtering): the lab's symmetric profile filters by address and port, so
//    nothing from A's new mapping could reach the IUT, which has never sent
//    there, and the rules for it could not be tried.
// "More than 30 seconds" of idleness is the IUT's scaled clock
// (rfc_time(), from the adapter's bubble_interval).
//
// Everything is judged by content: which local port the IUT sent from and to
// which address/port ("lan"), whether an indirect bubble for A went to A's
// server 203.0.113.3:3544, which port its Random Port Trailer names; an
// acceptance is shown by a reaction (an echo request sent through that
// mapping answered through it, or the application's packet sent there), and
// silence is inconclusive unless a later control packet is answered.
#include <fmt/format.h>

#include <stdexcept>
#include <thread>

#include "cases/client/client_driver.hpp"
#include "cases/client/random_port.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

constexpr std::uint16_t kPeerMovedPort = 41703;      // A's mapping after its NAT "reassigned" it
constexpr std::uint16_t kPeerNewRandomPort = 41704;  // the random port A advertises later
constexpr std::uint16_t kEchoId = 0x7275;            // "ru": the echo requests of these cases
constexpr std::chrono::milliseconds kReplyTimeout{1500};

// The before_iut hook: the played server listens, and the NAT filters by
// address only from the IUT's first packet on.
void open_server_address_filtering(CaseRun& run) {
  open_played_server(run);
  const std::string reply = run.lab().nat_command("nat", "filtering address-dependent");
  // Without it the moved peer's bubbles would be filtered by the NAT, not
  // judged by the IUT: a harness error, never a verdict.
  if (reply.find("\"filtering\"") == std::string::npos) {
    throw std::runtime_error("the lab NAT did not switch to address-dependent filtering: " + reply);
  }
  run.info("NAT switched to address-dependent filtering (mapping still per destination, ports preserved): " +
           reply);
}

// Where the exchange of client.random-port.port-preserving left A and the IUT.
struct Trusted {
  Ipv6Address address{};        // the IUT's Teredo address
  Endpoint mapping{};           // the IUT's embedded mapping (its service port outside)
  std::uint16_t service_port = 0;
  std::uint16_t random_port = 0;  // R: the IUT's random port for A (local = external, port-preserving)
  Endpoint random_mapping{};      // R outside: where A's random port reaches it
  Endpoint primary_to_a{};        // the NAT's mapping of the service port towards A's 41701
};

// Reaches A through the IUT's random port; nullopt (every requirement
// inconclusive, saying why) when a step the cases build on did not happen.
std::optional<Trusted> trusted_on_random_port(CaseRun& run, PlayedServer& server, App& app, const Peer& a,
                                              const Peer& a_random, const std::vector<std::string>& reqs) {
  const Timers t = timers(run);
  const auto address = qualify(run, server, reqs);
  if (!address) return std::nullopt;
  Trusted s{*address, embedded_mapping(*address)};
  Capture& lan_capture = run.capture("lan");
  Capture& inet_capture = run.capture("inet");
  const auto setup_failed = [&](const std::string& why, AssertionCode code) {
    all_inconclusive(run, reqs, "setup: " + why, code);
    return std::nullopt;
  };
  std::uint64_t before = lan_mark(run);
  if (!app_write(run, app, a, marker("trust", 1), reqs)) return std::nullopt;
  const auto indirect = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerServer, kTeredoPort), t.bubble + 1500ms,
                                  before);
  if (!indirect) return setup_failed("no indirect bubble for A to its server", "no_indirect_bubble");
  s.service_port = indirect->carrier.source_port;
  if (s.mapping.port != s.service_port) {
    return setup_failed(fmt::format("the NAT did not preserve the service port ({} inside, {} outside)",
                                    s.service_port, s.mapping.port),
                        "nat_not_port_preserving");
  }
  const auto advertised = advertised_port(random_port_option(*indirect));
  if (!advertised) {
    return setup_failed("the indirect bubble for A names no random port: " + describe(*indirect),
                        "no_random_port_trailer");
  }
  s.random_port = *advertised;
  // The direct bubble to A's embedded mapping opened the service port's
  // mapping towards A: where A's primary-port bubbles will be sent.
  const auto direct = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerA, kPeerPort), t.bubble + 1500ms, before);
  const auto direct_out = direct ? wait_inet(run, same_payload_to(inet_capture, *direct, kPeerA, kPeerPort), 1000ms)
                                 : std::nullopt;
  if (!direct_out) {
    return setup_failed("no direct bubble to A's embedded mapping seen leaving the NAT", "no_direct_bubble");
  }
  s.primary_to_a = Endpoint{kit::ipv4(kNatOutside), direct_out->carrier.source_port};

  before = lan_mark(run);
  server.send_from_primary(s.mapping, relayed_bubble(a, s.address, kPeerRandomPort));
  const auto through = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerA, kPeerRandomPort), kSettle, before);
  const auto through_out =
      through && through->carrier.source_port == s.random_port
          ? wait_inet(run, same_payload_to(inet_capture, *through, kPeerA, kPeerRandomPort), 1000ms)
          : std::nullopt;
  if (!through_out) {
    return setup_failed(fmt::format("after A's indirect bubble advertising {}, no direct bubble from the random port "
                                    "{} to {}:{} seen leaving the NAT",
                                    kPeerRandomPort, s.random_port, kPeerA, kPeerRandomPort),
                        "no_random_port_bubble");
  }
  s.random_mapping = Endpoint{kit::ipv4(kNatOutside), through_out->carrier.source_port};

  const std::uint64_t answer = send_from(run, a_random, kit::bubble_packet(a.teredo, s.address), s.random_mapping);
  std::this_thread::sleep_for(200ms);
  before = lan_mark(run);
  const std::string mark = marker("trust", 2);
  if (!app_write(run, app, a, mark, reqs)) return std::nullopt;
  const auto data = wait_seen(run, iut_containing(lan_capture, mark), t.bubble + 1500ms, before);
  if (!data || data->carrier.source_port != s.random_port || !to_endpoint(*data, kPeerA, kPeerRandomPort)) {
    return setup_failed(fmt::format("after A's direct bubble to the random port's mapping {} (inet frame {}) the "
                                    "application's packet did not go from {} to {}:{}: {}",
                                    to_text(s.random_mapping), answer, s.random_port, kPeerA, kPeerRandomPort,
                                    data ? describe(*data) : "nothing seen"),
                        "peer_not_trusted_on_random_port");
  }
  run.info(fmt::format("setup: A trusted on the random port {} (outside {}), service port {} (towards A: {}); data: {}",
                       s.random_port, to_text(s.random_mapping), s.service_port, to_text(s.primary_to_a),
                       describe(*data)));
  return s;
}

// An echo request from A's Teredo address, sent from `socket` to `to`, and
// the IUT's reply (by identifier and sequence), if any.
struct EchoSeen {
  std::uint64_t sent = 0;  // inet frame
  std::optional<Seen> reply{};
  std::string text() const {
    return fmt::format("echo request (inet frame {}): {}", sent, reply ? describe(*reply) : "no reply");
  }
};
EchoSeen echo_through(CaseRun& run, const Peer& socket, const Peer& a, const Ipv6Address& iut, const Endpoint& to,
                      std::uint16_t sequence) {
  const std::uint64_t before = lan_mark(run);
  EchoSeen e;
  e.sent = send_from(run, socket, kit::echo_packet(a.teredo, iut, kEchoId, sequence), to);
  e.reply = wait_seen(run, iut_echo_reply(run.capture("lan"), kEchoId, sequence), kReplyTimeout, before);
  return e;
}

std::vector<Seen> indirect_bubbles(CaseRun& run, const Peer& a, std::uint64_t after) {
  return all_seen(run, iut_bubble_to(run.capture("lan"), a, kPeerServer, kTeredoPort), after);
}

std::vector<FrameRef> frames_of(std::initializer_list<const std::optional<Seen>*> seen,
                                std::vector<FrameRef> more = {}) {
  for (const auto* s : seen) {
    if (*s) more.push_back(lan((*s)->frame));
  }
  return more;
}

// ---------------------------------------------------------------------------
// §5.4.4.5, the random port: a trusted peer reached there (Direct Receive on
// Primary Port FALSE) sends a direct bubble from its stored mapping, then
// from another one.

const std::vector<std::string> kRandomPortTrustRequirements = {"R6081-5.4.4.5-15", "R6081-5.4.4.5-16",
                                                               "R6081-5.4.4.5-17"};

void trust_on_random_port(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kRandomPortTrustRequirements;
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  const Peer a_random = make_peer(run, kPeerA, kPeerRandomPort);
  const Peer a_moved = make_peer(run, kPeerA, kPeerMovedPort);
  App app(run);
  const auto s = trusted_on_random_port(run, server, app, a, a_random, reqs);
  if (!s) return;

  // 1. A's direct bubble from the stored mapping 198.51.100.7:41702 to the
  // random port; then an echo request through the same mapping.
  std::uint64_t before = lan_mark(run);
  const std::uint64_t same = send_from(run, a_random, kit::bubble_packet(a.teredo, s->address), s->random_mapping);
  std::this_thread::sleep_for(200ms);
  const EchoSeen echo = echo_through(run, a_random, a, s->address, s->random_mapping, 1);
  std::this_thread::sleep_for(200ms);
  const auto changed_after_same = indirect_bubbles(run, a, before);
  const bool echo_through_random = echo.reply && echo.reply->carrier.source_port == s->random_port &&
                                   to_endpoint(*echo.reply, kPeerA, kPeerRandomPort);
  const std::string same_story =
      fmt::format("A's direct bubble from {}:{} to {} (inet frame {}); {}; indirect bubbles for A since: {}", kPeerA,
                  kPeerRandomPort, to_text(s->random_mapping), same, echo.text(),
                  changed_after_same.empty() ? "none" : describe(changed_after_same.front()));
  std::vector<FrameRef> same_frames = frames_of({&echo.reply}, {inet(same), inet(echo.sent)});
  if (!changed_after_same.empty()) same_frames.push_back(lan(changed_after_same.front().frame));
  // "If the two mappings are the same, the direct bubble MUST be accepted."
  // Accepted: nothing re-established (no indirect bubble), and A is still
  // answered through the random port at that mapping.
  const bool same_seen = echo.reply.has_value() || !changed_after_same.empty();
  const bool same_ok = changed_after_same.empty() && echo_through_random;
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.5-16", same_seen, same_ok,
                                        fmt::format("accepted: no indirect bubble for A, and the echo request "
                                                    "through the same mapping answered from the random port {} to "
                                                    "{}:{}",
                                                    s->random_port, kPeerA, kPeerRandomPort),
                                        same_story, same_frames, "same_mapping_not_accepted",
                                        "neither an indirect bubble nor an echo reply: " + same_story)});

  // 2. A's direct bubble from another mapping, 198.51.100.7:41703, to the random port.
  before = lan_mark(run);
  const std::uint64_t moved = send_from(run, a_moved, kit::bubble_packet(a.teredo, s->address), s->random_mapping);
  const auto indirect =
      wait_seen(run, iut_bubble_to(run.capture("lan"), a, kPeerServer, kTeredoPort), t.bubble + kSettle, before);
  const std::string moved_text =
      fmt::format("A's direct bubble from {}:{} (another mapping) to the random port's mapping {} (inet frame {})",
                  kPeerA, kPeerMovedPort, to_text(s->random_mapping), moved);
  const auto named = indirect ? advertised_port(random_port_option(*indirect)) : std::nullopt;
  if (indirect) {
    // The old random port is no longer listened on: A's echo request to it
    // must not be answered from it.
    const EchoSeen old_port = echo_through(run, a_random, a, s->address, s->random_mapping, 2);
    const bool still_random = old_port.reply && old_port.reply->carrier.source_port == s->random_port;
    const std::string observed = fmt::format("{}: {}; then {}", moved_text, describe(*indirect), old_port.text());
    // "the Teredo client SHOULD set the Random Port field to zero, stop
    // listening on the old random port, and send an indirect bubble to the
    // Teredo peer as specified in Section 5.4.4.2."
    run.check("R6081-5.4.4.5-17", "random_port_kept_after_remap", named != s->random_port && !still_random,
              fmt::format("an indirect bubble for A via {}:{} that no longer advertises the random port {}, "
                          "and nothing more from {}",
                          kPeerServer, kTeredoPort, s->random_port, s->random_port),
              observed, frames_of({&indirect, &old_port.reply}, {inet(moved), inet(old_port.sent)}));
  } else {
    // Silence: a discard only if A is still answered afterwards, at either mapping.
    const EchoSeen control_old = echo_through(run, a_random, a, s->address, s->random_mapping, 3);
    const EchoSeen control_new =
        control_old.reply ? EchoSeen{} : echo_through(run, a_moved, a, s->address, s->random_mapping, 4);
    const bool alive = control_old.reply.has_value() || control_new.reply.has_value();
    const std::optional<std::string> control_failure =
        alive ? std::nullopt
              : std::optional<std::string>("neither was A's echo request from 41702 nor from 41703: " +
                                           control_old.text() + "; " + control_new.text());
    if (alive) {
      run.info("control: " + (control_old.reply ? control_old.text() : control_new.text()));
    }
    kit::record(run, {kit::unanswered_judgement(
                         "R6081-5.4.4.5-17", moved_text,
                         fmt::format("an indirect bubble for A via {}:{} within {}", kPeerServer, kTeredoPort,
                                     ms_text(t.bubble + kSettle)),
                         {inet(moved)}, control_failure, "no_indirect_bubble_after_remap", t.bubble + kSettle)});
  }
  // "the Teredo client MUST compare the mapped address/port in the direct
  // bubble with the mapped address/port in the Peer Entry": the two bubbles
  // differ only in their mapping; the IUT accepted one and acted on the other.
  if (!same_seen) {
    run.inconclusive("R6081-5.4.4.5-15", "nothing to compare: the same-mapping step was unanswered",
                     "same_mapping_unanswered");
  } else if (!same_ok) {
    run.check("R6081-5.4.4.5-15", "mapping_not_compared", false,
              "a bubble from the stored mapping treated unlike one from another mapping", same_story, same_frames);
  } else if (!indirect) {
    run.inconclusive("R6081-5.4.4.5-15",
                     "the bubble from another mapping met no indirect bubble (R6081-5.4.4.5-17 is a SHOULD): "
                     "whether the mappings were compared cannot be told",
                     "remap_not_acted_on");
  } else {
    run.check("R6081-5.4.4.5-15", "mapping_not_compared", true,
              "a bubble from the stored mapping accepted, one from another mapping acted on",
              same_story + "; " + moved_text + ": " + describe(*indirect), frames_of({&indirect}, same_frames));
  }
}

TEREDO_CASE({
    .id = "client.random-port.trust-on-random-port",
    .title = "A peer trusted on the random port: its stored mapping accepted, another mapping re-established",
    .description =
        "NAT profile symmetric (port-preserving), switched to address-dependent filtering before the IUT starts. "
        "As client.random-port.port-preserving, Teredo peer A (198.51.100.7, embedded 41701) becomes trusted on the "
        "IUT's random port R through its random port 41702. A then sends a direct bubble from 41702 to R's mapping "
        "and an echo request the same way; then a direct bubble from 198.51.100.7:41703.",
    .judgement = "After the bubble from 41702: no indirect bubble for A and the echo reply from R to "
                 "198.51.100.7:41702 (accepted, R6081-5.4.4.5-16). After the bubble from 41703: an indirect bubble for "
                 "A to 203.0.113.3:3544 whose Random Port Trailer, if any, no longer names R, and an echo request "
                 "from 41702 to R's mapping no longer answered from R (R6081-5.4.4.5-17, SHOULD); with no indirect "
                 "bubble a fail only if a later echo request from A is answered. -15 (the comparison) is inferred "
                 "from the two. Silence is inconclusive.",
    .role = "client",
    .requirements = kRandomPortTrustRequirements,
    .capabilities = {"port_preserving_symmetric_nat"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric"),
    .captures = client_captures(),
    .body = trust_on_random_port,
    .before_iut = open_server_address_filtering,
});

// ---------------------------------------------------------------------------
// §5.4.4.5, the primary port, and §5.4.4.4: the peer trusted on the random
// port reaches the primary port; then it is idle, moves, and advertises
// another random port.

const std::vector<std::string> kPrimaryPortTrustRequirements = {
    "R6081-5.4.4.5-08", "R6081-5.4.4.5-09", "R6081-5.4.4.5-11", "R6081-5.4.4.5-06", "R6081-5.4.4.5-05",
    "R6081-5.4.4.5-07", "R6081-5.4.4.5-10", "R6081-5.4.4.4-03", "R6081-5.4.4.4-04", "R6081-5.4.4.5-01",
    "R6081-5.4.4.5-02", "R6081-5.4.4.5-03", "R6081-5.4.4.5-04"};

void trust_on_primary_port(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kPrimaryPortTrustRequirements;
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  const Peer a_random = make_peer(run, kPeerA, kPeerRandomPort);
  const Peer a_moved = make_peer(run, kPeerA, kPeerMovedPort);
  App app(run);
  const auto s = trusted_on_random_port(run, server, app, a, a_random, reqs);
  if (!s) return;
  Capture& lan_capture = run.capture("lan");
  const auto remaining_inconclusive = [&](std::initializer_list<const char*> ids, const std::string& why,
                                          AssertionCode code) {
    for (const char* r : ids) run.inconclusive(r, why, code);
  };
  const auto idle = rfc_time(t, 30000ms) + 600ms;  // "more than 30 seconds", scaled

  // 1. A's direct bubble from its embedded mapping 198.51.100.7:41701 to the
  // service port's mapping towards it; then the application writes to A.
  std::uint64_t before = lan_mark(run);
  const std::uint64_t primary = send_from(run, a, kit::bubble_packet(a.teredo, s->address), s->primary_to_a);
  std::this_thread::sleep_for(200ms);
  const std::string mark = marker("trust", 3);
  if (!app_write(run, app, a, mark, reqs)) return;
  const auto data = wait_seen(run, iut_containing(lan_capture, mark), t.bubble + 1500ms, before);
  const bool to_primary_mapping = data && to_endpoint(*data, kPeerA, kPeerPort);
  const bool from_primary = data && data->carrier.source_port == s->service_port;
  const std::string data_text = data ? describe(*data) : std::string();
  const std::vector<FrameRef> data_frames = frames_of({&data}, {inet(primary)});
  const std::string no_data = fmt::format("A's direct bubble from {}:{} to {} (inet frame {}), then the application's "
                                          "packet: nothing carrying it within {}",
                                          kPeerA, kPeerPort, to_text(s->primary_to_a), primary,
                                          ms_text(t.bubble + 1500ms));
  // "the mapped address/port from which the direct bubble is received MUST be
  // stored in the mapped address/port fields of the Peer Entry."
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.5-08", data.has_value(), to_primary_mapping,
                                        fmt::format("the application's packet to the bubble's mapping {}:{}", kPeerA,
                                                    kPeerPort),
                                        data_text, data_frames, "primary_mapping_not_stored", no_data)});
  // "The Direct Receive on Primary Port flag MUST be set to TRUE." / "Finally,
  // the Direct Receive on Random Port flag MUST be set to FALSE." Inferred:
  // A is reached from the primary (service) port, no longer through the random port.
  for (const char* r : {"R6081-5.4.4.5-09", "R6081-5.4.4.5-11"}) {
    kit::record(run, {kit::sent_judgement(r, data.has_value(), to_primary_mapping && from_primary,
                                          fmt::format("from the service port {}, not the random port {}",
                                                      s->service_port, s->random_port),
                                          data_text, data_frames, "still_through_random_port", no_data)});
  }
  if (!to_primary_mapping || !from_primary) {
    remaining_inconclusive({"R6081-5.4.4.5-06", "R6081-5.4.4.5-05", "R6081-5.4.4.5-07", "R6081-5.4.4.5-10",
                            "R6081-5.4.4.4-03", "R6081-5.4.4.4-04", "R6081-5.4.4.5-01", "R6081-5.4.4.5-02",
                            "R6081-5.4.4.5-03", "R6081-5.4.4.5-04"},
                           "A is not reached on the primary port (Direct Receive on Primary Port): " +
                               (data ? data_text : no_data),
                           "peer_not_trusted_on_primary_port");
    return;
  }

  // 2. Trusted, Direct Receive on Primary Port TRUE: a direct bubble from the
  // same mapping; then an echo request the same way.
  before = lan_mark(run);
  const std::uint64_t same = send_from(run, a, kit::bubble_packet(a.teredo, s->address), s->primary_to_a);
  std::this_thread::sleep_for(200ms);
  const EchoSeen echo = echo_through(run, a, a, s->address, s->primary_to_a, 11);
  std::this_thread::sleep_for(200ms);
  const auto changed_after_same = indirect_bubbles(run, a, before);
  const bool same_seen = echo.reply.has_value() || !changed_after_same.empty();
  const bool same_ok = changed_after_same.empty() && echo.reply && echo.reply->carrier.source_port == s->service_port &&
                       to_endpoint(*echo.reply, kPeerA, kPeerPort);
  const std::string same_story =
      fmt::format("A's direct bubble from {}:{} to {} (inet frame {}); {}; indirect bubbles for A since: {}", kPeerA,
                  kPeerPort, to_text(s->primary_to_a), same, echo.text(),
                  changed_after_same.empty() ? "none" : describe(changed_after_same.front()));
  std::vector<FrameRef> same_frames = frames_of({&echo.reply}, {inet(same), inet(echo.sent)});
  if (!changed_after_same.empty()) same_frames.push_back(lan(changed_after_same.front().frame));
  // "If both mappings are the same, the direct bubble MUST be accepted."
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.5-06", same_seen, same_ok,
                                        fmt::format("accepted: no indirect bubble for A, and the echo request "
                                                    "through the same mapping answered from the service port {} to "
                                                    "{}:{}",
                                                    s->service_port, kPeerA, kPeerPort),
                                        same_story, same_frames, "same_mapping_not_accepted",
                                        "neither an indirect bubble nor an echo reply: " + same_story)});

  // 3. While data was exchanged in the last 30 s (the echo just now), A's
  // indirect bubble advertises another random port, 41704.
  const std::uint64_t advertise_while_active = inet_mark(run);
  server.send_from_primary(s->mapping, relayed_bubble(a, s->address, kPeerNewRandomPort));
  run.info(fmt::format("the played server relays A's indirect bubble advertising {} (after inet frame {}), with data "
                       "exchanged just before",
                       kPeerNewRandomPort, advertise_while_active));

  // 4. Idle for more than 30 s, then A's direct bubble from another mapping,
  // 198.51.100.7:41703, to the primary port.
  std::this_thread::sleep_for(idle);
  before = lan_mark(run);
  const std::uint64_t moved = send_from(run, a_moved, kit::bubble_packet(a.teredo, s->address), s->primary_to_a);
  const auto indirect = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerServer, kTeredoPort), t.bubble + kSettle,
                                  before);
  const std::string moved_text =
      fmt::format("A's direct bubble from {}:{} (another mapping) to {} (inet frame {}) after {} idle", kPeerA,
                  kPeerMovedPort, to_text(s->primary_to_a), moved, ms_text(idle));
  if (!indirect) {
    const EchoSeen control_old = echo_through(run, a, a, s->address, s->primary_to_a, 12);
    const EchoSeen control_new =
        control_old.reply ? EchoSeen{} : echo_through(run, a_moved, a, s->address, s->primary_to_a, 13);
    const bool alive = control_old.reply.has_value() || control_new.reply.has_value();
    if (alive) run.info("control: " + (control_old.reply ? control_old.text() : control_new.text()));
    // "This MUST be done by changing the status of the peer to
    // "not-trusted", setting the Direct Receive on Primary Port flag to FALSE,
    // and sending an indirect bubble to the Teredo peer via its Teredo server."
    kit::record(run, {kit::unanswered_judgement(
                         "R6081-5.4.4.5-07", moved_text,
                         fmt::format("an indirect bubble for A via {}:{} within {}", kPeerServer, kTeredoPort,
                                     ms_text(t.bubble + kSettle)),
                         {inet(moved)}, alive ? std::nullopt
                                              : std::optional<std::string>("neither was A's echo request: " +
                                                                           control_old.text() + "; " +
                                                                           control_new.text()),
                         "no_indirect_bubble_after_remap", t.bubble + kSettle)});
    remaining_inconclusive({"R6081-5.4.4.5-05", "R6081-5.4.4.5-10", "R6081-5.4.4.4-03", "R6081-5.4.4.4-04",
                            "R6081-5.4.4.5-01", "R6081-5.4.4.5-02", "R6081-5.4.4.5-03", "R6081-5.4.4.5-04"},
                           "A's move met no indirect bubble: " + moved_text, "no_indirect_bubble_after_remap");
    return;
  }
  const std::uint16_t new_random = advertised_port(random_port_option(*indirect)).value_or(0);
  run.check("R6081-5.4.4.5-07", "no_indirect_bubble_after_remap", true,
            fmt::format("not trusted any more: an indirect bubble for A via {}:{}", kPeerServer, kTeredoPort),
            moved_text + ": " + describe(*indirect), frames_of({&indirect}, {inet(moved)}));
  // "the Teredo client MUST compare the mapped address/port of the direct
  // bubble with the mapped address/port of the Peer Entry": inferred, the
  // same mapping was accepted (step 2) and another one acted on.
  if (same_seen) {
    run.check("R6081-5.4.4.5-05", "mapping_not_compared", same_ok,
              "a bubble from the stored mapping accepted, one from another mapping acted on",
              same_story + "; " + moved_text + ": " + describe(*indirect), frames_of({&indirect}, same_frames));
  } else {
    run.inconclusive("R6081-5.4.4.5-05", "nothing to compare: the same-mapping step was unanswered: " + same_story,
                     "same_mapping_unanswered");
  }
  // "The Teredo client MUST then set the Random Port field in the Peer Entry
  // to zero and stop listening on the old random port": the peer, now not
  // trusted, gets a newly chosen random port (§5.4.4.2: only when the field is zero).
  if (new_random == 0) {
    run.inconclusive("R6081-5.4.4.5-10",
                     "the indirect bubble after the move names no random port: " + describe(*indirect),
                     "no_random_port_trailer");
  } else {
    run.check("R6081-5.4.4.5-10", "random_port_not_cleared", new_random != s->random_port,
              fmt::format("a new random port in the trailer, not the old {}", s->random_port),
              fmt::format("the trailer names {}: {}", new_random, describe(*indirect)),
              frames_of({&indirect}));
  }
  // §5.4.4.4: the port advertised in step 3 while data flowed "MUST be
  // ignored": the IUT's bubble from its random port still goes to 41702.
  std::this_thread::sleep_for(300ms);
  std::optional<Seen> through;
  for (const auto& b : all_seen(run, iut_bubble_for(lan_capture, a.teredo), before)) {
    if (b.carrier.source_port != s->service_port && b.carrier.destination4 == kit::ipv4(kPeerA)) {
      through = b;
      break;
    }
  }
  const std::uint16_t through_port = through ? through->carrier.destination_port : 0;
  kit::record(run, {kit::sent_judgement(
                       "R6081-5.4.4.4-03", through.has_value(), through_port == kPeerRandomPort,
                       fmt::format("the direct bubble from the random port to {}:{} (the port {} advertised while "
                                   "data flowed ignored)",
                                   kPeerA, kPeerRandomPort, kPeerNewRandomPort),
                       through ? describe(*through) : std::string(), frames_of({&through}),
                       "peer_random_port_changed_while_active",
                       "no direct bubble for A from a random port after the indirect bubble")});
  const std::uint16_t second_random = through ? through->carrier.source_port : new_random;

  // 5. Idle for more than 30 s again; A's indirect bubble advertises 41704.
  std::this_thread::sleep_for(idle);
  before = lan_mark(run);
  const std::uint64_t advertise_idle = inet_mark(run);
  server.send_from_primary(s->mapping, relayed_bubble(a, s->address, kPeerNewRandomPort));
  auto to_new = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerA, kPeerNewRandomPort), kSettle, before);
  if (!to_new) {
    // The IUT may wait for traffic: the application writes to A (untrusted: bubbles).
    (void)app.send(a.teredo, kit::bytes_of(marker("trust", 4).c_str()));
    to_new = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerA, kPeerNewRandomPort), t.bubble + kSettle, before);
  }
  std::optional<Seen> to_old;
  for (const auto& b : all_seen(run, iut_bubble_to(lan_capture, a, kPeerA, kPeerRandomPort), before)) {
    if (b.carrier.source_port != s->service_port) {
      to_old = b;
      break;
    }
  }
  const std::string advertise_text = fmt::format("after {} idle, A's indirect bubble advertising {} (after inet "
                                                 "frame {})",
                                                 ms_text(idle), kPeerNewRandomPort, advertise_idle);
  // "the Teredo client SHOULD store the new advertised port value in the Peer
  // Random Port field and, if the Port-Preserving NAT flag is TRUE, then clear
  // the Random Port field, and stop listening on the old random port."
  const bool adopted = to_new && to_new->carrier.source_port != s->service_port &&
                       to_new->carrier.source_port != second_random;
  kit::record(run, {kit::sent_judgement(
                       "R6081-5.4.4.4-04", to_new.has_value() || to_old.has_value(), adopted && !to_old,
                       fmt::format("direct bubbles to {}:{} from a new random port (not {}), none to {}", kPeerA,
                                   kPeerNewRandomPort, second_random, kPeerRandomPort),
                       advertise_text + ": " + (to_new ? describe(*to_new) : "no bubble to the new port") +
                           (to_old ? "; " + describe(*to_old) : std::string()),
                       frames_of({&to_new, &to_old}), "peer_random_port_not_adopted",
                       advertise_text + ": no direct bubble for A to either random port of A")});

  // 6. Not trusted: A's direct bubble from its embedded mapping to the
  // primary port. "the status field of the Teredo client MUST be changed to
  // "trusted" and the Direct Receive on Primary Port flag MUST be set to TRUE."
  before = lan_mark(run);
  const std::uint64_t untrusted = send_from(run, a, kit::bubble_packet(a.teredo, s->address), s->primary_to_a);
  std::this_thread::sleep_for(200ms);
  const std::string last_mark = marker("trust", 5);
  (void)app.send(a.teredo, kit::bytes_of(last_mark.c_str()));
  const auto last = wait_seen(run, iut_containing(lan_capture, last_mark), t.bubble + 1500ms, before);
  const std::string last_text = last ? describe(*last) : std::string();
  const std::vector<FrameRef> last_frames = frames_of({&last}, {inet(untrusted)});
  const std::string no_last = fmt::format("A's direct bubble from {}:{} (inet frame {}), then the application's "
                                          "packet: nothing carrying it within {}",
                                          kPeerA, kPeerPort, untrusted, ms_text(t.bubble + 1500ms));
  const bool last_direct = last && to_endpoint(*last, kPeerA, kPeerPort);
  const bool last_primary = last_direct && last->carrier.source_port == s->service_port;
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.5-01", last.has_value(), last_direct,
                                        fmt::format("trusted: the packet goes straight to {}:{}", kPeerA, kPeerPort),
                                        last_text, last_frames, "peer_not_trusted_on_primary_port", no_last)});
  // "The mapped address/port from which the direct bubble was received MUST be recorded"
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.5-03", last.has_value(), last_direct,
                                        fmt::format("to the bubble's mapping {}:{}", kPeerA, kPeerPort), last_text,
                                        last_frames, "mapping_not_recorded", no_last)});
  // Direct Receive on Primary Port (inferred): the random port opened for A
  // is in use, yet A is reached from the primary port.
  kit::record(run, {kit::sent_judgement("R6081-5.4.4.5-02", last.has_value(), last_primary,
                                        fmt::format("from the service port {}", s->service_port), last_text,
                                        last_frames, "not_from_primary_port", no_last)});

  // 7. "The Teredo client MUST then set the Random Port field in the Peer
  // Entry to zero and stop listening on the old random port." Seen at the
  // next remap: idle, A's bubble from 41703 again; the indirect bubble for
  // the peer, now not trusted, names a newly chosen random port (§5.4.4.2
  // chooses one only when the field is zero), not the one of step 5.
  const std::uint16_t third_random = to_new ? to_new->carrier.source_port : 0;
  if (!last_primary || third_random == 0) {
    run.inconclusive("R6081-5.4.4.5-04",
                     "A was not shown trusted on the primary port after a random port was in use for it: " +
                         (last ? last_text : no_last),
                     "peer_not_trusted_on_primary_port");
    return;
  }
  std::this_thread::sleep_for(idle);
  before = lan_mark(run);
  const std::uint64_t again = send_from(run, a_moved, kit::bubble_packet(a.teredo, s->address), s->primary_to_a);
  const auto reestablish = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerServer, kTeredoPort),
                                     t.bubble + kSettle, before);
  const std::string again_text = fmt::format("A's direct bubble from {}:{} to {} (inet frame {}) after {} idle",
                                             kPeerA, kPeerMovedPort, to_text(s->primary_to_a), again, ms_text(idle));
  const std::uint16_t fourth_random =
      reestablish ? advertised_port(random_port_option(*reestablish)).value_or(0) : std::uint16_t{0};
  if (fourth_random == 0) {
    run.inconclusive("R6081-5.4.4.5-04",
                     again_text + ": " +
                         (reestablish ? "the indirect bubble names no random port: " + describe(*reestablish)
                                      : std::string("no indirect bubble for A (R6081-5.4.4.5-07 judged above)")),
                     "no_random_port_trailer");
    return;
  }
  run.check("R6081-5.4.4.5-04", "random_port_not_cleared", fourth_random != third_random,
            fmt::format("a new random port in the trailer, not {} (the one in use before A's bubble on the "
                        "primary port)",
                        third_random),
            fmt::format("{}: the trailer names {}: {}", again_text, fourth_random, describe(*reestablish)),
            frames_of({&reestablish, &last}, {inet(again)}));
}

TEREDO_CASE({
    .id = "client.random-port.trust-on-primary-port",
    .title = "A peer trusted on the random port reaches the primary port, moves after 30 s idle, changes its "
             "random port",
    .description =
        "NAT profile symmetric (port-preserving), switched to address-dependent filtering before the IUT starts. "
        "As client.random-port.port-preserving, Teredo peer A (198.51.100.7, embedded 41701, random port 41702) "
        "becomes trusted on the IUT's random port R. A then sends a direct bubble from 41701 to the service port's "
        "mapping towards it (the application writes), again (with an echo request); the played server relays A's "
        "indirect bubble advertising 41704 at once; after 30 s (scaled) idle A's direct bubble comes from "
        "198.51.100.7:41703; after 30 s idle again A advertises 41704; then A's direct bubble from 41701 (the "
        "application writes); after 30 s idle A's direct bubble from 41703 again.",
    .judgement =
        "The application's packet from the service port to 198.51.100.7:41701 (-08; -09, -11 inferred); the second "
        "bubble accepted: no indirect bubble, the echo reply from the service port to 41701 (-06); after the idle "
        "move an indirect bubble for A to 203.0.113.3:3544 (-07; with no indirect bubble a fail only if a later echo "
        "request from A is answered) naming a random port other than R (-10), and the direct bubble from the new "
        "random port still to 41702 (-04.4-03: the port advertised while data flowed ignored; -05 inferred); after "
        "the idle advertisement direct bubbles to 41704 from yet another random port and none to 41702 (-04.4-04, "
        "SHOULD); after the bubble from 41701 the application's packet from the service port to 41701 (-01, -03; "
        "-02 inferred); after the last move an indirect bubble naming a random port other than the one in use "
        "before (-04). Silence is inconclusive.",
    .role = "client",
    .requirements = kPrimaryPortTrustRequirements,
    .capabilities = {"port_preserving_symmetric_nat"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric"),
    .captures = client_captures(),
    .body = trust_on_primary_port,
    .before_iut = open_server_address_filtering,
});

}  // namespace
}  // namespace teredo::conformance::client
