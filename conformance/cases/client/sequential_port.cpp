// RFC 6081 §5.5 Sequential Port-Symmetric NAT Extension: what the Peer
// Refresh Timer does to the Echo Test's state (§5.5.2.1) and what a direct
// bubble on the primary port does to a running Echo Test (§5.5.4.3); and
// three §5.4 (port-preserving) rules seen only over time or behind another
// NAT: data defers the refresh bubbles (§5.4.4.1), the Connection Refresh
// Count caps them (§5.4.2.1), and the NAT flags start FALSE (§5.4.3, behind
// a port-preserving cone NAT).
//
// The lab is client.random-port.*'s (random_port.cpp): the IUT client behind
// the lab's symmetric NAT, "symmetric-sequential" (each new mapping takes the
// next port) or "symmetric" (port-preserving), or its port-preserving cone
// NAT; the driver plays the IUT's server and Teredo peer A (198.51.100.7,
// embedded mapping 41701). Behind an address-and-port-dependent NAT, A
// reaches a port of the IUT only through a mapping the IUT opened towards
// A's exact endpoint: each case first makes the IUT open the one it needs
// (seen leaving the NAT in "inet") and sends A's bubbles there. Everything is judged by content (ports, nonces,
// trailers, markers) from the captures.
#include <fmt/format.h>

#include <thread>

#include "cases/client/client_driver.hpp"
#include "cases/client/random_port.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kSettle{1000};  // what follows one stimulus, scaled timers

// A datagram from `from` (address:port) to the IUT's LAN address on `local_port`, as it reached the IUT (lan).
FrameMatch to_iut_from(const Capture& capture, const std::string& address, std::uint16_t port,
                       std::uint16_t local_port) {
  const LinkType link = capture.link_type();
  const Ipv4Address source = kit::ipv4(address);
  const Ipv4Address iut = kit::ipv4(kClientLan);
  return [link, source, port, iut, local_port](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->source4 == source && c->source_port == port && c->destination4 == iut &&
           c->destination_port == local_port;
  };
}

// A FrameMatch narrowed to datagrams the IUT sent from `local_port`.
FrameMatch from_port(const Capture& capture, FrameMatch match, std::uint16_t local_port) {
  const LinkType link = capture.link_type();
  return [link, match, local_port](const CapturedFrame& f) {
    if (!match(f)) return false;
    const auto c = find_udp_carrier(link, f.data);
    return c && c->source_port == local_port;
  };
}

// Where the NAT put a datagram the IUT sent (lan) towards address:port: its
// external endpoint, read from the same payload in inet. Bubbles from two
// local ports may be byte for byte the same: the n-th such payload in lan is
// the n-th in inet (the NAT forwards in order).
std::optional<Endpoint> external_of(CaseRun& run, const Seen& lan_frame, const std::string& address,
                                    std::uint16_t port) {
  Capture& lan_capture = run.capture("lan");
  const FrameMatch same_lan = [link = lan_capture.link_type(), &lan_frame, to = kit::ipv4(address),
                               port](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->destination4 == to && c->destination_port == port &&
           kit::same(c->payload, lan_frame.carrier.payload);
  };
  std::size_t n = 0;
  for (const auto& f : all_seen(run, same_lan)) n += f.frame <= lan_frame.frame ? 1 : 0;
  if (n == 0) return std::nullopt;
  const FrameMatch same_inet = same_payload_to(run.capture("inet"), lan_frame, address, port);
  Capture& inet_capture = run.capture("inet");
  std::vector<CapturedFrame> outside;
  for (int tries = 0; tries < 10 && outside.size() < n; ++tries) {
    outside = inet_capture.frames(same_inet);
    if (outside.size() < n) std::this_thread::sleep_for(100ms);
  }
  if (outside.size() < n) return std::nullopt;
  const auto seen = kit::CapturedDatagram::parse(outside[n - 1], inet_capture.link_type(), "inet");
  if (!seen) return std::nullopt;
  return Endpoint{seen->carrier.source4, seen->carrier.source_port};
}

// Qualification behind the NAT, and the service port (the source of the first
// RS). nullopt: inconclusive recorded.
struct Start {
  Ipv6Address address{};
  Endpoint mapping{};
  std::uint16_t service_port = 0;
};
std::optional<Start> start(CaseRun& run, PlayedServer& server, const std::vector<std::string>& reqs,
                           bool want_preserved) {
  const auto address = qualify(run, server, reqs);
  if (!address) return std::nullopt;
  const auto rss = all_seen(run, iut_rs(run.capture("lan")));
  if (rss.empty()) {
    all_inconclusive(run, reqs, "no RS in lan.pcap", "no_rs_captured");
    return std::nullopt;
  }
  Start s{*address, embedded_mapping(*address), rss.front().carrier.source_port};
  if ((s.mapping.port == s.service_port) != want_preserved) {
    const std::string why = fmt::format("service port {} mapped to {}: not the {} NAT the case needs",
                                        s.service_port, to_text(s.mapping),
                                        want_preserved ? "port-preserving" : "sequential");
    if (want_preserved) {
      all_inconclusive(run, reqs, why, "nat_not_port_preserving");
    } else {
      all_inconclusive(run, reqs, why, "nat_preserved_port");
    }
    return std::nullopt;
  }
  run.info(fmt::format("qualified as {}; service port {} mapped to {}", to_string(s.address), s.service_port,
                       to_text(s.mapping)));
  return s;
}

// An Echo Test the played server answered and the indirect bubble that
// followed (§5.5.4.4): the ports it saw and the port the trailer names.
struct AnsweredEchoTest {
  EchoTestSeen echo{};
  std::optional<Seen> indirect{};
  std::uint16_t lower = 0, upper = 0, named = 0;
  [[nodiscard]] std::uint16_t midpoint() const {
    return static_cast<std::uint16_t>((std::uint32_t{lower} + upper) / 2);
  }
  // The midpoint; RFC 6081's literal "(EchoTestUpperPort + EchoTestUpperPort)/2" (the upper port) is accepted.
  [[nodiscard]] bool predicted() const { return named != 0 && (named == midpoint() || named == upper); }
  [[nodiscard]] std::string text() const {
    return fmt::format("Echo Test from port {} (RAs: lower {}, upper {}); indirect bubble {}, trailer naming {}",
                       echo.port, lower, upper, indirect ? describe(*indirect) : "none", named);
  }
  [[nodiscard]] std::vector<FrameRef> frames() const {
    std::vector<FrameRef> f;
    for (const auto* s : {&echo.rs1, &echo.bubble, &echo.rs2, &indirect}) {
      if (*s) f.push_back(lan((*s)->frame));
    }
    return f;
  }
};
AnsweredEchoTest answered_echo_test(CaseRun& run, PlayedServer& server, const Peer& a, std::uint16_t service_port,
                                    std::uint64_t after, std::chrono::milliseconds timeout) {
  AnsweredEchoTest r;
  r.indirect = wait_seen(run, iut_bubble_to(run.capture("lan"), a, kPeerServer, kTeredoPort), timeout, after);
  std::this_thread::sleep_for(100ms);
  r.echo = find_echo_test(run, a, service_port, after);
  const auto n1 = nonce_of(r.echo.rs1);
  const auto n2 = nonce_of(r.echo.rs2);
  for (const auto& rs : server.seen()) {
    if (!rs.answered || !rs.authenticated) continue;
    if (n1 && rs.nonce == *n1) r.lower = rs.from.port;
    if (n2 && rs.nonce == *n2) r.upper = rs.from.port;
  }
  if (r.indirect) r.named = advertised_port(random_port_option(*r.indirect)).value_or(0);
  return r;
}

// ---------------------------------------------------------------------------
// §5.5.2.1: the Peer Refresh Timer behind a sequential NAT.

const std::vector<std::string> kRefreshRequirements = {"R6081-5.5.2.1-01", "R6081-5.5.2.1-02"};

void refresh_resets_echo_test(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kRefreshRequirements;
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  const Peer a_moved = make_peer(run, kPeerA, kPeerPort + 2);  // A's mapping after its NAT changed it
  App app(run);
  const auto s = start(run, server, reqs, false);
  if (!s) return;
  Capture& lan_capture = run.capture("lan");
  const auto period = rfc_time(t, 30000ms);

  // 1. The application writes to A: an Echo Test, answered, predicts the
  // random port's mapping (client.sequential-port.echo-test judges it).
  std::uint64_t before = lan_mark(run);
  if (!app_write(run, app, a, marker("seq-refresh", 1), reqs)) return;
  const AnsweredEchoTest first = answered_echo_test(run, server, a, s->service_port, before, t.bubble + 1500ms);
  run.info("first Echo Test: " + first.text());
  if (!first.echo.rs2 || first.named == 0) {
    all_inconclusive(run, reqs, "no answered Echo Test followed by a Random Port Trailer: " + first.text(),
                     "no_predicted_random_port");
    return;
  }
  const std::uint16_t random_port = first.echo.port;
  // 2. A answers from its embedded mapping to the predicted mapping: the IUT
  // trusts A through the random port; the application writes again.
  const Endpoint predicted{kit::ipv4(kNatOutside), first.named};
  const std::uint64_t answer = send_from(run, a, kit::bubble_packet(a.teredo, s->address), predicted);
  std::this_thread::sleep_for(200ms);
  before = lan_mark(run);
  const std::string mark2 = marker("seq-refresh", 2);
  if (!app_write(run, app, a, mark2, reqs)) return;
  const auto data = wait_seen(run, iut_containing(lan_capture, mark2), t.bubble + 1500ms, before);
  if (!data || data->carrier.source_port != random_port || !to_endpoint(*data, kPeerA, kPeerPort)) {
    all_inconclusive(run, reqs,
                     fmt::format("after A's bubble to the predicted mapping {} (inet frame {}), the application's "
                                 "packet did not go from the random port {} to {}: {}",
                                 to_text(predicted), answer, random_port, a.where(),
                                 data ? describe(*data) : "not seen"),
                     "no_random_port_peer");
    return;
  }
  run.info("A is reached through the random port: " + describe(*data));

  // 3. Idle: the Peer Refresh Timer's direct bubble through the random port.
  const auto refresh = wait_seen(run, from_port(lan_capture, iut_bubble_to(lan_capture, a, kPeerA, kPeerPort), random_port),
                                 2 * period + period / 2, data->frame);
  // "The processing of the Peer Refresh Timer Expiry MUST be completed as
  // specified in Section 5.4.2.1": no data for 30 s, so a direct bubble
  // (§5.4.4.3: from the random port, with its Random Port Trailer).
  const bool refresh_ok = refresh && advertised_port(random_port_option(*refresh)) == first.named;
  kit::record(run, {kit::sent_judgement("R6081-5.5.2.1-01", refresh.has_value(), refresh_ok,
                                        fmt::format("idle, a direct bubble from the random port {} to {} with a "
                                                    "Random Port Trailer naming {}",
                                                    random_port, a.where(), first.named),
                                        refresh ? describe(*refresh) : std::string(),
                                        refresh ? std::vector{lan(refresh->frame)} : std::vector<FrameRef>{},
                                        "refresh_bubble_malformed",
                                        fmt::format("no bubble from the random port to {} within {} of the last data",
                                                    a.where(), ms_text(2 * period + period / 2)))});

  // 4. A moves to the IUT's primary port (§5.4.4.5, third rule): through the
  // mapping of the IUT's service port towards A, which its direct bubble
  // beside the indirect one opened.
  const auto primary_bubble = all_seen(
      run, from_port(lan_capture, iut_bubble_to(lan_capture, a, kPeerA, kPeerPort), s->service_port), first.echo.rs1->frame);
  if (primary_bubble.empty()) {
    run.inconclusive("R6081-5.5.2.1-02", "the IUT sent nothing to A from its service port: A cannot reach it there",
                     "no_primary_mapping");
    return;
  }
  const auto primary_to_a = external_of(run, primary_bubble.front(), kPeerA, kPeerPort);
  if (!primary_to_a) {
    run.inconclusive("R6081-5.5.2.1-02", "the service port's bubble to A was not seen leaving the NAT",
                     "no_primary_mapping");
    return;
  }
  (void)send_from(run, a, kit::bubble_packet(a.teredo, s->address), *primary_to_a);
  std::this_thread::sleep_for(200ms);
  // 5. A's NAT gives it another mapping (41703): its server relays its
  // indirect bubble from there; the IUT's answer opens the way back.
  before = lan_mark(run);
  server.send_from_primary(s->mapping, relayed_bubble(a, s->address, 0, a_moved.port));
  const auto reply = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerA, a_moved.port), kSettle, before);
  const auto primary_to_moved = reply ? external_of(run, *reply, kPeerA, a_moved.port) : std::nullopt;
  if (!primary_to_moved) {
    run.inconclusive("R6081-5.5.2.1-02",
                     fmt::format("A's indirect bubble from its new mapping {}:{} drew no direct bubble there from "
                                 "the IUT (seen leaving the NAT)",
                                 kPeerA, a_moved.port),
                     "no_bubble_to_new_mapping");
    return;
  }
  // 6. More than 30 s (scaled) without exchange, then A's direct bubble from
  // the new mapping on the primary port: A is "not-trusted" again and an
  // indirect bubble is due (§5.4.4.5, second rule), which behind this NAT is
  // a new Echo Test (§5.5.4.1). Several Peer Refresh Timer expiries passed
  // since the first Echo Test's RAs.
  std::this_thread::sleep_for(period + 500ms);
  before = lan_mark(run);
  const std::uint64_t moved = send_from(run, a_moved, kit::bubble_packet(a.teredo, s->address), *primary_to_moved);
  const AnsweredEchoTest second = answered_echo_test(run, server, a, s->service_port, before, t.bubble + 1500ms);
  run.info("second Echo Test: " + second.text());
  const auto elapsed = second.echo.rs1 ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                             second.echo.rs1->at - first.echo.rs2->at)
                                       : 0ms;
  if (!second.echo.rs2 || second.lower == 0 || second.upper == 0 || second.indirect == std::nullopt) {
    run.inconclusive("R6081-5.5.2.1-02",
                     fmt::format("A's bubble from {}:{} to the primary mapping {} (inet frame {}) was not followed "
                                 "by a complete, answered Echo Test and an indirect bubble: {}",
                                 kPeerA, a_moved.port, to_text(*primary_to_moved), moved, second.text()),
                     "no_second_echo_test");
    return;
  }
  // "the Teredo client MUST set the EchoTestLowerPort, EchoTestUpperPort, and
  // EchoTestRetryCounter to zero": the second Echo Test's RAs are taken (an
  // EchoTestLowerPort left from the first would be kept, "if
  // EchoTestLowerPort is zero"), so the trailer names their midpoint, not the
  // first one's. (The counter: the new Echo Test is a first one, inferred.)
  const bool stale = second.named == first.named;
  std::vector<FrameRef> frames = first.frames();
  for (const auto& f : second.frames()) frames.push_back(f);
  const std::string expected =
      fmt::format("{} after the first Echo Test (more than a Peer Refresh period), a Random Port Trailer naming "
                  "({} + {}) / 2 = {} (the new Echo Test's RAs), not the first Echo Test's {}",
                  ms_text(elapsed), second.lower, second.upper, second.midpoint(), first.named);
  if (stale) {
    run.check("R6081-5.5.2.1-02", "echo_test_ports_not_reset", false, expected, second.text(), frames);
  } else {
    run.check("R6081-5.5.2.1-02", "random_port_not_predicted", second.predicted(), expected, second.text(), frames);
  }
}

TEREDO_CASE({
    .id = "client.sequential-port.refresh",
    .title = "Behind a sequential port-symmetric NAT: the Peer Refresh Timer refreshes and clears the Echo Test",
    .description =
        "NAT profile symmetric-sequential. The played server answers every RS. The application writes to Teredo "
        "peer A; after the Echo Test and the indirect bubble naming the predicted port P1, A sends a direct bubble "
        "from 198.51.100.7:41701 to P1 and the application writes again; then idle until a refresh bubble. A then "
        "sends a bubble to the IUT's service-port mapping towards it, its server relays an indirect bubble from "
        "A's new mapping 198.51.100.7:41703, and after a refresh period A sends a direct bubble from 41703 to the "
        "mapping the IUT's answer opened.",
    .judgement = "Idle, a direct bubble from the random port to 198.51.100.7:41701 with the trailer P1 (§5.4.2.1). "
                 "After A's bubble from 41703: a new Echo Test whose indirect bubble names the midpoint of the new "
                 "RAs' ports (or the upper one, the RFC's literal formula), not P1. Silence is inconclusive.",
    .role = "client",
    .requirements = kRefreshRequirements,
    .capabilities = {"sequential_port_symmetric_nat"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric-sequential"),
    .captures = client_captures(),
    .body = refresh_resets_echo_test,
    .before_iut = open_played_server,
});

// ---------------------------------------------------------------------------
// §5.5.4.3: a direct bubble on the primary port while an Echo Test runs.

const std::vector<std::string> kPrimaryBubbleRequirements = {"R6081-5.5.4.3-01", "R6081-5.5.4.3-02",
                                                             "R6081-5.5.4.3-03"};

void primary_bubble_cancels_echo_test(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kPrimaryBubbleRequirements;
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  App app(run);
  const auto s = start(run, server, reqs, false);
  if (!s) return;
  Capture& lan_capture = run.capture("lan");

  // 1. A's indirect bubble (no trailer) through the IUT's server: the IUT
  // answers with a direct bubble from its service port to A's mapping
  // (RFC 4380 §5.2.3), which opens the NAT's mapping A will use.
  std::uint64_t before = lan_mark(run);
  server.send_from_primary(s->mapping, relayed_bubble(a, s->address, 0));
  const auto reply = wait_seen(
      run, from_port(lan_capture, iut_bubble_to(lan_capture, a, kPeerA, kPeerPort), s->service_port), kSettle, before);
  const auto primary_to_a = reply ? external_of(run, *reply, kPeerA, kPeerPort) : std::nullopt;
  if (!primary_to_a) {
    all_inconclusive(run, reqs,
                     "A's indirect bubble drew no direct bubble from the service port to " + a.where() +
                         " (seen leaving the NAT): A has no way to the primary port",
                     "no_primary_mapping");
    return;
  }
  run.info(fmt::format("the service port's mapping towards A: {} ({})", to_text(*primary_to_a), describe(*reply)));

  // 2. The application writes to A: an Echo Test, whose two RSs the played
  // server leaves unanswered so its failover timer runs. As soon as its
  // first RS reaches the server, A sends a direct bubble to that mapping: it
  // reaches the IUT on the primary port while the Echo Test is out.
  server.push(RaPlan{.fault = RaFault::silent});
  server.push(RaPlan{.fault = RaFault::silent});
  const std::size_t rs_before = server.seen().size();
  before = lan_mark(run);
  if (!app_write(run, app, a, marker("seq-primary", 1), reqs)) return;
  const auto deadline = std::chrono::steady_clock::now() + t.bubble + 1500ms;
  bool echo_rs = false;
  while (!echo_rs && std::chrono::steady_clock::now() < deadline) {
    const auto seen = server.seen();
    for (std::size_t i = rs_before; i < seen.size(); ++i) echo_rs = echo_rs || !(seen[i].from == s->mapping);
    if (!echo_rs) std::this_thread::sleep_for(2ms);
  }
  if (!echo_rs) {
    all_inconclusive(run, reqs, "no RS from a port other than the service port within " + ms_text(t.bubble + 1500ms) +
                                    " of the application's packet: no Echo Test",
                     "no_echo_test");
    return;
  }
  const std::uint64_t sent = send_from(run, a, kit::bubble_packet(a.teredo, s->address), *primary_to_a);
  const auto arrival =
      wait_seen(run, to_iut_from(lan_capture, kPeerA, kPeerPort, s->service_port), kSettle, before);
  if (!arrival) {
    all_inconclusive(run, reqs,
                     fmt::format("A's bubble to {} (inet frame {}) did not reach the IUT's service port",
                                 to_text(*primary_to_a), sent),
                     "bubble_not_delivered");
    return;
  }
  // 3. Both failovers' worth of time (1 s then 2 s, scaled), then the control:
  // the application writes again.
  std::this_thread::sleep_for(rfc_time(t, 3000ms) + 300ms);
  const std::uint64_t control_mark = lan_mark(run);
  const std::string mark2 = marker("seq-primary", 2);
  if (!app_write(run, app, a, mark2, reqs)) return;
  const auto control = wait_seen(run, iut_containing(lan_capture, mark2), t.bubble + 1500ms, control_mark);

  // Was an Echo Test out when A's bubble arrived? One had started, and no
  // indirect bubble (the failovers' end) had gone yet.
  const EchoTestSeen echo = find_echo_test(run, a, s->service_port, before);
  const auto indirect = all_seen(run, iut_bubble_to(lan_capture, a, kPeerServer, kTeredoPort), before);
  const bool echo_running = echo.rs1 && echo.rs1->frame < arrival->frame &&
                            (indirect.empty() || indirect.front().frame > arrival->frame);
  const std::string echo_text =
      fmt::format("Echo Test: {}; A's bubble arrived: {}", echo.rs1 ? describe(*echo.rs1) : "none",
                  describe(*arrival));
  if (!echo_running) {
    all_inconclusive(run, reqs,
                     echo_text + (indirect.empty() || !echo.rs1 ? std::string()
                                                                : "; first indirect bubble: " +
                                                                      describe(indirect.front())) +
                         ": A's bubble did not arrive while an Echo Test was out",
                     "bubble_outside_echo_test");
    return;
  }
  // "The processing of the direct bubble MUST be completed as specified in
  // Section 5.4.4.5, as if the Port-Preserving NAT flag were TRUE": A is
  // trusted at the mapping the bubble came from, reached from the primary
  // port (the random port is closed).
  const std::string no_control = "the application's second packet was not sent within " + ms_text(t.bubble + 1500ms);
  const std::vector<FrameRef> control_frames =
      control ? std::vector{lan(arrival->frame), lan(control->frame)} : std::vector{lan(arrival->frame)};
  kit::record(run, {kit::sent_judgement(
                       "R6081-5.5.4.3-01", control.has_value(),
                       control && control->carrier.source_port == s->service_port &&
                           to_endpoint(*control, kPeerA, kPeerPort),
                       fmt::format("A trusted on the primary port: the packet from the service port {} to {}",
                                   s->service_port, a.where()),
                       control ? describe(*control) : std::string(), control_frames, "not_trusted_on_primary_port",
                       no_control)});
  if (!control) {
    for (const char* r : {"R6081-5.5.4.3-02", "R6081-5.5.4.3-03"}) {
      run.inconclusive(r, "no control after the failover window (" + no_control + "): silence proves nothing",
                       "control_unanswered");
    }
    return;
  }
  // What a failover would have sent after A's bubble (§5.5.2.2): another
  // Echo Test (an RS to the secondary address other than the running
  // test's third packet) or the indirect bubble.
  // The running Echo Test: the last RS to the server address from a port
  // other than the service port before A's bubble; its third packet may
  // still follow the bubble.
  const auto to_secondary = [](const Seen& rs) { return rs.carrier.destination4 == kit::ipv4(kServer2); };
  std::uint16_t running_port = 0;
  for (const auto& rs : all_seen(run, iut_rs(lan_capture), before)) {
    if (rs.frame >= arrival->frame) break;
    if (rs.carrier.source_port == s->service_port) continue;
    if (!to_secondary(rs)) running_port = rs.carrier.source_port;  // an Echo Test's first packet
    if (to_secondary(rs) && rs.carrier.source_port == running_port) running_port = 0;  // its third: complete
  }
  std::vector<Seen> failover;
  for (const auto& rs : all_seen(run, iut_rs(lan_capture), arrival->frame)) {
    if (rs.frame >= control->frame) break;
    if (!to_secondary(rs)) continue;
    if (running_port != 0 && rs.carrier.source_port == running_port) {
      running_port = 0;  // the running test's third packet
      continue;
    }
    failover.push_back(rs);
  }
  for (const auto& b : indirect) {
    if (b.frame > arrival->frame && b.frame < control->frame) failover.push_back(b);
  }
  std::string listed;
  std::vector<FrameRef> frames{lan(echo.rs1->frame), lan(arrival->frame)};
  for (const auto& f : failover) {
    listed += (listed.empty() ? "" : "; ") + describe(f);
    frames.push_back(lan(f.frame));
  }
  frames.push_back(lan(control->frame));
  // "the Echo Test Failover Timer MUST be canceled": between A's bubble and
  // the control, neither a new Echo Test nor the indirect bubble.
  run.check("R6081-5.5.4.3-02", "echo_test_failover_not_cancelled", failover.empty(),
            fmt::format("after A's bubble on the primary port, no further Echo Test and no indirect bubble for A "
                        "until the control packet ({} later)",
                        ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(control->at - arrival->at))),
            failover.empty() ? "none; control: " + describe(*control) : listed, frames);
  // "and EchoTestLowerPort, EchoTestUpperPort, and EchoTestRetryCounter MUST
  // be set to zero": inferred from the same (any later Echo Test for A comes
  // after a Peer Refresh Timer expiry, which zeroes them too, §5.5.2.1).
  run.check("R6081-5.5.4.3-03", "echo_test_failover_not_cancelled", failover.empty(),
            "the Echo Test over with A's bubble (its state cleared, inferred from no failover action)",
            failover.empty() ? "none; control: " + describe(*control) : listed, frames);
}

TEREDO_CASE({
    .id = "client.sequential-port.primary-bubble-cancels-echo-test",
    .title = "Behind a sequential port-symmetric NAT: a direct bubble on the primary port ends a running Echo Test",
    .description =
        "NAT profile symmetric-sequential. The played server relays an indirect bubble from Teredo peer A (no "
        "trailer); the IUT's direct bubble answering it opens its service port's mapping towards "
        "198.51.100.7:41701. The played server will leave the next two RSs unanswered. The application writes to "
        "A; as soon as an RS from another port reaches the played server, A sends a direct bubble to that "
        "mapping. After 3 s (scaled) the application writes again (the control).",
    .judgement = "A's bubble arrives on the service port after the Echo Test's first RS and before any indirect "
                 "bubble for A (otherwise inconclusive). The control packet goes from the service port to "
                 "198.51.100.7:41701 (§5.4.4.5 applied); between A's bubble and the control, no RS to "
                 "203.0.113.2 other than the running Echo Test's and no indirect bubble for A (the failover timer "
                 "cancelled). Without the control, inconclusive.",
    .role = "client",
    .requirements = kPrimaryBubbleRequirements,
    .capabilities = {"sequential_port_symmetric_nat"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric-sequential"),
    .captures = client_captures(),
    .body = primary_bubble_cancels_echo_test,
    .before_iut = open_played_server,
});

// ---------------------------------------------------------------------------
// §5.4.4.1: behind a port-preserving symmetric NAT, data sent to a peer
// reached through the random port defers the Peer Refresh Timer's bubbles.

// A random port for A (client.random-port.port-preserving judges it): the
// indirect bubble names it; A's indirect bubble names A's random port 41702;
// the IUT's bubble from its random port to 41702 opens the mapping A's
// random port then sends its bubbles to. nullopt: every requirement
// inconclusive, saying why.
struct RandomPortToA {
  std::uint16_t random_port = 0;  // the IUT's local random port
  Endpoint random_mapping{};      // where the NAT put it towards 198.51.100.7:41702
};
std::optional<RandomPortToA> random_port_to_a(CaseRun& run, PlayedServer& server, App& app, const Peer& a,
                                              const Start& s, const std::string& mark,
                                              const std::vector<std::string>& reqs) {
  const Timers t = timers(run);
  Capture& lan_capture = run.capture("lan");
  std::uint64_t before = lan_mark(run);
  if (!app_write(run, app, a, mark, reqs)) return std::nullopt;
  const auto indirect = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerServer, kTeredoPort), t.bubble + 1500ms,
                                  before);
  const auto advertised = indirect ? advertised_port(random_port_option(*indirect)) : std::nullopt;
  if (!advertised) {
    all_inconclusive(run, reqs,
                     "no indirect bubble for A with a Random Port Trailer: " +
                         (indirect ? describe(*indirect) : std::string("none")),
                     "no_random_port_trailer");
    return std::nullopt;
  }
  before = lan_mark(run);
  server.send_from_primary(s.mapping, relayed_bubble(a, s.address, kPeerRandomPort));
  const auto through = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerA, kPeerRandomPort), kSettle, before);
  const auto random_mapping = through ? external_of(run, *through, kPeerA, kPeerRandomPort) : std::nullopt;
  if (!random_mapping) {
    all_inconclusive(run, reqs, "no bubble from the random port to A's random port seen leaving the NAT",
                     "no_random_port_bubble");
    return std::nullopt;
  }
  return RandomPortToA{through->carrier.source_port, *random_mapping};
}

// The application's packet `mark`, seen going from the random port to A's
// random port 41702 (after lan frame `before`); nullopt: not seen so, and
// `seen` says what was (the packet elsewhere, or nothing).
std::optional<Seen> data_through_random_port(CaseRun& run, const std::string& mark, std::uint16_t random_port,
                                             std::uint64_t before, std::string& seen) {
  const auto data = wait_seen(run, iut_containing(run.capture("lan"), mark), kSettle, before);
  seen = data ? describe(*data) : "not seen within " + ms_text(kSettle);
  if (!data || data->carrier.source_port != random_port || !to_endpoint(*data, kPeerA, kPeerRandomPort)) {
    return std::nullopt;
  }
  return data;
}

const std::vector<std::string> kDataDefersRefreshRequirements = {"R6081-5.4.4.1-01"};

void data_defers_refresh(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kDataDefersRefreshRequirements;
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  const Peer a_random = make_peer(run, kPeerA, kPeerRandomPort);
  App app(run);
  const auto s = start(run, server, reqs, true);
  if (!s) return;
  Capture& lan_capture = run.capture("lan");
  const auto period = rfc_time(t, 30000ms);

  // 1. A random port for A.
  const auto opened = random_port_to_a(run, server, app, a, *s, marker("data-refresh", 0), reqs);
  if (!opened) return;
  const std::uint16_t random_port = opened->random_port;
  const Endpoint random_mapping = opened->random_mapping;
  const ByteVector a_bubble = kit::bubble_packet(a.teredo, s->address);

  // 2. Data: A's bubble makes it trusted through the random port, then the
  // application writes every 10 s (scaled) for more than two refresh
  // periods; A's bubble beside each write keeps its entry valid (RFC 4380
  // §5.2.4: 30 s from the last reception) so the data goes straight to it.
  (void)send_from(run, a_random, a_bubble, random_mapping);
  std::this_thread::sleep_for(200ms);
  const auto step = rfc_time(t, 10000ms);
  const int writes = static_cast<int>((2 * period + period / 2) / step) + 1;
  const std::uint64_t before = lan_mark(run);
  std::optional<Seen> first_data, last_data;
  for (int i = 1; i <= writes; ++i) {
    const std::string mark = marker("data-refresh", i);
    if (!app_write(run, app, a, mark, reqs)) return;
    std::string seen;
    const auto data = data_through_random_port(run, mark, random_port, before, seen);
    if (!data) {
      all_inconclusive(run, reqs,
                       fmt::format("write {}: the application's packet did not go from the random port {} to "
                                   "{}:{}: {}",
                                   i, random_port, kPeerA, kPeerRandomPort, seen),
                       "no_random_port_peer");
      return;
    }
    if (!first_data) first_data = data;
    last_data = data;
    (void)send_from(run, a_random, a_bubble, random_mapping);
    if (i < writes) std::this_thread::sleep_for(step);
  }
  // 3. Idle: the refresh bubbles come (the control: the timer runs and
  // A is refreshed once the data stops).
  const FrameMatch refresh = from_port(lan_capture, iut_bubble_to(lan_capture, a, kPeerA, kPeerRandomPort), random_port);
  const auto idle_refresh = wait_seen(run, refresh, 2 * period + period / 2, last_data->frame);
  std::vector<Seen> during;
  for (const auto& b : all_seen(run, refresh, first_data->frame)) {
    if (b.frame < last_data->frame) during.push_back(b);
  }
  const auto data_span =
      std::chrono::duration_cast<std::chrono::milliseconds>(last_data->at - first_data->at);
  if (!idle_refresh) {
    run.inconclusive("R6081-5.4.4.1-01",
                     fmt::format("no refresh bubble from the random port within {} after the data stopped: the "
                                 "absence of refresh bubbles during the data proves nothing",
                                 ms_text(2 * period + period / 2)),
                     "no_idle_refresh");
    return;
  }
  std::string listed;
  std::vector<FrameRef> frames{lan(first_data->frame), lan(last_data->frame)};
  for (const auto& b : during) {
    listed += (listed.empty() ? "" : "; ") + describe(b);
    frames.push_back(lan(b.frame));
  }
  frames.push_back(lan(idle_refresh->frame));
  // "the Teredo client MUST update the Last Data Packet Sent Timestamp when
  // the packet is actually sent": with data in the last 30 s, no refresh
  // bubble (§5.4.2.1) while the data flows; one comes once it stops.
  run.check("R6081-5.4.4.1-01", "refresh_while_data_flows", during.empty(),
            fmt::format("no refresh bubble from the random port {} during {} of data every {} (a refresh bubble "
                        "after it stopped: {})",
                        random_port, ms_text(data_span), ms_text(step), describe(*idle_refresh)),
            during.empty() ? "none" : listed, frames);
}

TEREDO_CASE({
    .id = "client.random-port.data-defers-refresh",
    .title = "Behind a port-preserving symmetric NAT: no refresh bubbles while data flows through the random port",
    .description =
        "NAT profile symmetric (port-preserving). The played server answers every RS. The application writes to "
        "Teredo peer A; the played server relays A's indirect bubble naming A's random port 41702; A's random port "
        "sends a direct bubble to the mapping of the IUT's bubble to it; then the application writes every 10 s "
        "(scaled) for two and a half Peer Refresh periods, A sending a bubble beside each write; then idle.",
    .judgement = "Every write goes from the IUT's random port to 198.51.100.7:41702 (otherwise inconclusive). No "
                 "bubble from the random port to 198.51.100.7:41702 between the first and the last write; a "
                 "refresh bubble within two and a half periods after the last (without it, inconclusive).",
    .role = "client",
    .requirements = kDataDefersRefreshRequirements,
    .capabilities = {"port_preserving_symmetric_nat"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric"),
    .captures = client_captures(),
    .body = data_defers_refresh,
    .before_iut = open_played_server,
});

// ---------------------------------------------------------------------------
// §5.4.2.1: the Connection Refresh Count. At most 20 refresh bubbles in a row
// to a peer reached through the random port; data sent in the last 30 s
// starts the count again. Twenty Peer Refresh periods of 30 s do not fit a
// case at the usual time scale: the case runs the adapter's fast-timer launch
// (fast_timers: the reference at 0.02, a period of 600 ms).

const std::vector<std::string> kRefreshCountRequirements = {"R6081-5.4.2.1-02", "R6081-5.4.2.1-04"};
constexpr std::size_t kMaxRefreshes = 20;        // "the maximum allowed value of 20"
constexpr std::size_t kRefreshesBeforeData = 5;  // let through before the data that must reset the count

void refresh_count(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kRefreshCountRequirements;
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  const Peer a_random = make_peer(run, kPeerA, kPeerRandomPort);
  App app(run);
  const auto s = start(run, server, reqs, true);
  if (!s) return;
  Capture& lan_capture = run.capture("lan");
  const auto period = rfc_time(t, 30000ms);
  const auto periods = [&](std::size_t m) { return period * static_cast<int>(m); };
  const auto opened = random_port_to_a(run, server, app, a, *s, marker("refresh-count", 0), reqs);
  if (!opened) return;
  const ByteVector a_bubble = kit::bubble_packet(a.teredo, s->address);
  const FrameMatch refresh =
      from_port(lan_capture, iut_bubble_to(lan_capture, a, kPeerA, kPeerRandomPort), opened->random_port);
  // A's bubble to the random port's mapping (A trusted there, its entry
  // valid: RFC 4380 §5.2.4), then the application's packet n, seen going
  // from the random port to A's random port. Not seen so: nullopt, and
  // `seen` says what was (app_write records its own failure).
  bool app_failed = false;
  std::string seen;
  const auto data_to_a = [&](int n) -> std::optional<Seen> {
    (void)send_from(run, a_random, a_bubble, opened->random_mapping);
    std::this_thread::sleep_for(200ms);
    const std::uint64_t before = lan_mark(run);
    const std::string mark = marker("refresh-count", n);
    if (!app_write(run, app, a, mark, reqs)) {
      app_failed = true;
      return std::nullopt;
    }
    return data_through_random_port(run, mark, opened->random_port, before, seen);
  };
  const auto bubbles_between = [&](const Seen& from, std::uint64_t until) {
    std::vector<Seen> out;
    for (auto& b : all_seen(run, refresh, from.frame)) {
      if (until == 0 || b.frame < until) out.push_back(std::move(b));
    }
    return out;
  };

  // 1. Data through the random port: the count starts at zero.
  const auto first = data_to_a(1);
  if (!first) {
    if (!app_failed) {
      all_inconclusive(run, reqs,
                       "setup: the application's first packet to A did not go through the random port: " + seen,
                       "no_random_port_peer");
    }
    return;
  }
  // 2. Idle until a few refresh bubbles have gone (bounded).
  const auto idle_deadline = std::chrono::steady_clock::now() + periods(kRefreshesBeforeData + 3);
  while (bubbles_between(*first, 0).size() < kRefreshesBeforeData &&
         std::chrono::steady_clock::now() < idle_deadline) {
    std::this_thread::sleep_for(50ms);
  }
  // 3. Data again: a count that was not reset would now be k, not zero.
  const auto second = data_to_a(2);
  if (!second) {
    if (!app_failed) {
      all_inconclusive(run, reqs, "the application's second packet to A did not go through the random port: " + seen,
                       "no_random_port_peer");
    }
    return;
  }
  const std::size_t k = bubbles_between(*first, second->frame).size();
  if (k == 0) {
    all_inconclusive(run, reqs,
                     fmt::format("no refresh bubble from the random port {} within {} of idle: nothing to count",
                                 opened->random_port, ms_text(periods(kRefreshesBeforeData + 3))),
                     "no_idle_refresh");
    return;
  }
  // 4. Idle until the bubbles have stopped: at least 21 periods, then three
  // of the longest gaps seen (or the declared period) without one; bounded.
  const auto idle_start = std::chrono::steady_clock::now();
  const auto hard_deadline = idle_start + periods(kMaxRefreshes + 10);
  std::vector<Seen> after = bubbles_between(*second, 0);
  auto last_change = idle_start;
  std::chrono::milliseconds longest_gap = period;
  bool quiet = false;
  while (!quiet && std::chrono::steady_clock::now() < hard_deadline) {
    std::this_thread::sleep_for(50ms);
    const auto now = std::chrono::steady_clock::now();
    std::vector<Seen> now_seen = bubbles_between(*second, 0);
    if (now_seen.size() != after.size()) {
      after = std::move(now_seen);
      last_change = now;
      for (std::size_t i = 1; i < after.size(); ++i) {
        longest_gap = std::max(longest_gap, std::chrono::duration_cast<std::chrono::milliseconds>(after[i].at -
                                                                                                 after[i - 1].at));
      }
    }
    quiet = now - idle_start >= periods(kMaxRefreshes + 1) && now - last_change >= 3 * longest_gap;
  }
  const auto silence = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                             last_change);
  // 5. The control: A's bubble and the application's packet still go
  // through the random port, so the IUT is alive and still reaches A there.
  const auto control = data_to_a(3);
  if (app_failed) return;
  const std::size_t n = after.size();
  std::vector<FrameRef> frames{lan(first->frame), lan(second->frame)};
  std::string listed;
  for (const auto& b : after) {
    frames.push_back(lan(b.frame));
    listed += (listed.empty() ? "" : ", ") + std::to_string(b.frame);
  }
  if (control) frames.push_back(lan(control->frame));
  const std::string story = fmt::format(
      "{} refresh bubble(s) from the random port {} between the data in lan frames {} and {}; {} after it (lan "
      "frames {}), then {} without one; the application's later packet {}",
      k, opened->random_port, first->frame, second->frame, n, listed.empty() ? "none" : listed, ms_text(silence),
      control ? "went through the random port (lan frame " + std::to_string(control->frame) + ")"
              : "did not go through the random port: " + seen);
  run.info(story);
  // "check the Connection Refresh Count field to determine if the count has
  // reached the maximum allowed value of 20": never more than 20 in a row.
  if (n > kMaxRefreshes) {
    run.check("R6081-5.4.2.1-02", "refresh_count_not_capped", false,
              fmt::format("at most {} refresh bubbles in a row after the data", kMaxRefreshes), story, frames);
    run.inconclusive("R6081-5.4.2.1-04", "no cap to show the reset against: " + story, "refresh_count_not_capped");
    return;
  }
  if (n == 0 || !quiet || !control) {
    // The stop is silence: it proves something only while A is still
    // reached through the random port afterwards, and after a long enough wait.
    const std::string why = n == 0    ? "no refresh bubble after the data: " + story
                            : !quiet  ? "the refresh bubbles had not stopped within the bound: " + story
                                      : "the silence proves nothing without the control: " + story;
    if (n == 0) {
      all_inconclusive(run, reqs, why, "no_idle_refresh");
    } else if (!quiet) {
      all_inconclusive(run, reqs, why, "refresh_not_settled");
    } else {
      all_inconclusive(run, reqs, why, "no_control");
    }
    return;
  }
  // "If on the other hand, data has been sent to the peer in the last 30
  // seconds, the Connection Refresh Count MUST be reset to zero": 20 again
  // after the data; a count left at k stops after 20 - k.
  const bool not_reset = n + k == kMaxRefreshes;
  run.check("R6081-5.4.2.1-04", "refresh_count_not_reset", n == kMaxRefreshes,
            fmt::format("{} refresh bubbles after the data ({} before it, so a count not reset would allow {})",
                        kMaxRefreshes, k, kMaxRefreshes - k),
            story, frames);
  // The stop itself: at a count of 20, whether or not it was reset.
  run.check("R6081-5.4.2.1-02", "refresh_stopped_early", n == kMaxRefreshes || not_reset,
            fmt::format("the bubbles stop when the count reaches {}", kMaxRefreshes), story, frames);
}

TEREDO_CASE({
    .id = "client.random-port.refresh-count",
    .title = "Behind a port-preserving symmetric NAT: at most 20 refresh bubbles in a row, the count reset by data",
    .description =
        "NAT profile symmetric (port-preserving), the adapter's fast-timer launch (a Peer Refresh period of 30 s "
        "scaled, 600 ms for the reference). The played server answers every RS. The application writes to Teredo "
        "peer A; the played server relays A's indirect bubble naming A's random port 41702; A's random port sends "
        "a direct bubble to the mapping of the IUT's bubble to it and the application writes; idle until five "
        "refresh bubbles have gone (at most eight periods); A's bubble and the application's packet again; idle "
        "for at least 21 periods and until three of the longest gaps pass without a refresh bubble (at most 30 "
        "periods); A's bubble and the application's packet once more (the control).",
    .judgement = "Every packet of the application goes from the IUT's random port to 198.51.100.7:41702. Counting "
                 "the bubbles from the random port to 198.51.100.7:41702: after the second packet exactly 20, then "
                 "none (more than 20: fail R6081-5.4.2.1-02; 20 minus those between the first and the second "
                 "packet: fail R6081-5.4.2.1-04, the count was not reset; fewer otherwise: fail "
                 "R6081-5.4.2.1-02, stopped early). The stop is judged only when the control packet goes through "
                 "the random port; otherwise, or without any refresh bubble, inconclusive.",
    .role = "client",
    .requirements = kRefreshCountRequirements,
    .capabilities = {"port_preserving_symmetric_nat", "fast_timers"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric"),
    .captures = client_captures(),
    .body = refresh_count,
    .before_iut = open_played_server,
});

// ---------------------------------------------------------------------------
// §5.4.3: the NAT flags start FALSE. Behind a port-preserving cone NAT,
// qualification sets the Port-Preserving NAT flag (the RA's origin port is
// the local port) and never the Symmetric NAT flag (one mapping for every
// destination). Nothing in RFC 6081 sets either flag FALSE, so an IUT that
// started with the Symmetric NAT flag TRUE would have both TRUE here and use
// random ports (§5.4.4.2), where a conforming one does not.

const std::vector<std::string> kFlagsAtStartRequirements = {"R6081-5.4.3-01"};

// A datagram the IUT sent to 198.51.100.7 (A, any port) from a local port
// other than `service_port`.
FrameMatch to_a_from_another_port(const Capture& capture, std::uint16_t service_port) {
  const LinkType link = capture.link_type();
  const Ipv4Address iut = kit::ipv4(kClientLan);
  const Ipv4Address peer = kit::ipv4(kPeerA);
  return [link, iut, peer, service_port](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->source4 == iut && c->destination4 == peer && c->source_port != service_port;
  };
}

void flags_false_at_start(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto& reqs = kFlagsAtStartRequirements;
  const Peer a = make_peer(run, kPeerA, kPeerPort);
  App app(run);
  const auto s = start(run, server, reqs, true);
  if (!s) return;
  Capture& lan_capture = run.capture("lan");
  const std::uint64_t before = lan_mark(run);

  // 1. The application writes to A: the indirect bubble for A. With both
  // flags TRUE it would carry a Random Port Trailer (§5.4.4.2).
  if (!app_write(run, app, a, marker("nat-flags", 1), reqs)) return;
  const auto indirect = wait_seen(run, iut_bubble_to(lan_capture, a, kPeerServer, kTeredoPort), t.bubble + 1500ms,
                                  before);
  if (!indirect) {
    run.inconclusive("R6081-5.4.3-01",
                     fmt::format("the application's packet to A produced no indirect bubble to {}:{} within {}",
                                 kPeerServer, kTeredoPort, ms_text(t.bubble + 1500ms)),
                     "no_indirect_bubble");
    return;
  }
  // 2. A's indirect bubble names A's random port: with both flags TRUE the
  // IUT would answer it from a random port of its own (§5.4.4.3).
  server.send_from_primary(s->mapping, relayed_bubble(a, s->address, kPeerRandomPort));
  std::this_thread::sleep_for(kSettle);
  // 3. The control: A's direct bubble from its embedded mapping, then the
  // application's packet, which must reach A.
  const std::uint64_t answer = send_from(run, a, kit::bubble_packet(a.teredo, s->address), s->mapping);
  std::this_thread::sleep_for(200ms);
  const std::uint64_t control_mark = lan_mark(run);
  const std::string mark = marker("nat-flags", 2);
  if (!app_write(run, app, a, mark, reqs)) return;
  const auto control = wait_seen(run, iut_containing(lan_capture, mark), t.bubble + 1500ms, control_mark);

  const auto option = random_port_option(*indirect);
  const auto elsewhere = all_seen(run, to_a_from_another_port(lan_capture, s->service_port), before);
  std::vector<FrameRef> frames{lan(indirect->frame), inet(answer)};
  std::string listed;
  for (const auto& e : elsewhere) {
    frames.push_back(lan(e.frame));
    listed += (listed.empty() ? "" : "; ") + describe(e);
  }
  if (control) frames.push_back(lan(control->frame));
  const std::string story = fmt::format(
      "service port {} kept outside ({}); indirect bubble: {}; to A from another port: {}; the application's "
      "packet after A's bubble: {}",
      s->service_port, to_text(s->mapping), describe(*indirect), listed.empty() ? "nothing" : listed,
      control ? describe(*control) : std::string("not seen"));
  // "the Port-Preserving NAT flag and Symmetric NAT flag MUST be set to FALSE
  // when the Teredo client is started."
  if (option || !elsewhere.empty()) {
    run.check("R6081-5.4.3-01", "symmetric_nat_flag_set_at_start", false,
              "behind a cone NAT no Random Port Trailer and nothing to A from a port other than the service port "
              "(the Symmetric NAT flag stayed FALSE)",
              story, frames);
    return;
  }
  if (!control || control->carrier.source_port != s->service_port) {
    run.inconclusive("R6081-5.4.3-01",
                     "no random port seen, but the application's packet after A's bubble was not seen going from "
                     "the service port: the absence proves nothing. " +
                         story,
                     "no_control");
    return;
  }
  run.check("R6081-5.4.3-01", "symmetric_nat_flag_set_at_start", true,
            "behind a cone NAT no Random Port Trailer and nothing to A from a port other than the service port (the "
            "Symmetric NAT flag stayed FALSE)",
            story, frames);
}

TEREDO_CASE({
    .id = "client.random-port.flags-false-at-start",
    .title = "Behind a port-preserving cone NAT: the client with the port-preserving extension opens no random port",
    .description =
        "NAT profile port-restricted-cone (ports preserved: the mapping keeps the service port), the adapter's "
        "port-preserving launch. The played server answers every RS with the mapping it saw (the same for both "
        "server addresses). The application writes to Teredo peer A; the played server relays A's indirect "
        "bubble with a Random Port Trailer naming 41702; A sends a direct bubble from its embedded mapping; the "
        "application writes again (the control).",
    .judgement = "The indirect bubble to A carries no Random Port Trailer and nothing goes to 198.51.100.7 from a "
                 "port other than the service port (a trailer or another port: fail); with that, the control "
                 "packet goes from the service port, otherwise inconclusive. No indirect bubble, or a NAT that did "
                 "not keep the service port: inconclusive.",
    .role = "client",
    .requirements = kFlagsAtStartRequirements,
    .capabilities = {"port_preserving_symmetric_nat"},
    .topology = kTopology,
    .nat_profile = std::string("port-restricted-cone"),
    .captures = client_captures(),
    .body = flags_false_at_start,
    .before_iut = open_played_server,
});

}  // namespace
}  // namespace teredo::conformance::client
