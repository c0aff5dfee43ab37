// RFC 4380 §5.5 automatic sunset and §3.2.1: a node with IPv6 connectivity
// by other means does not act as a Teredo client. The client host gets a
// native global IPv6 address (2001:db8:5::10/64 on its LAN interface, with a
// default route) before the IUT starts; the case then watches for any
// Teredo activity, and finally takes the address away to see the IUT
// qualify, which shows it was alive and able to act all along (an IUT that
// never sends anything proves nothing and is judged inconclusive).
#include <fmt/format.h>

#include <thread>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client {
namespace {

using namespace std::chrono_literals;

constexpr const char* kNativeAddress = "2001:db8:5::10/64";
constexpr const char* kNativeGateway = "fe80::1";

void give_native_ipv6(CaseRun& run) {
  open_played_server(run);
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"ip", "-6", "addr", "add", kNativeAddress, "dev", "eth0", "nodad"},
           {"ip", "-6", "route", "add", "default", "via", kNativeGateway, "dev", "eth0", "metric", "1024"}}) {
    const auto r = run.lab().exec("client", argv);
    if (r.exit_code != 0) throw std::runtime_error(fmt::format("native IPv6 for the client host: {}", r.output));
  }
}

void native_ipv6(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  Capture& lan_capture = run.capture("lan");
  const std::vector<std::string> reqs = {"R4380-5.5-01", "R4380-5-01", "R4380-3.2.1-01", "R4380-3.2.1-02"};
  // Phase 1: native IPv6 present for three qualification retries + 2 s.
  const auto window = 3 * t.retry + 2000ms;
  App app(run);
  std::this_thread::sleep_for(window / 2);
  const std::string mark = marker("native", 1);
  (void)app.send(kit::ipv6(kNative), kit::bytes_of(mark.c_str()));
  std::this_thread::sleep_for(window / 2);
  const auto to_server = all_seen(run, iut_to(lan_capture, kServer));
  const auto to_server2 = all_seen(run, iut_to(lan_capture, kServer2));
  const auto teredo_data = all_seen(run, iut_containing(lan_capture, mark));
  const auto address_then = iut_address(run);
  const auto rs_then = server.seen().size();
  std::string phase1 = fmt::format("with {} on eth0 for {}: {} datagram(s) to {}:3544, {} to {}, {} RS(s) at the "
                                   "played server, Teredo address {}; the application's packet to {} {}",
                                   kNativeAddress, ms_text(window), to_server.size(), kServer, to_server2.size(),
                                   kServer2, rs_then, address_then ? to_string(*address_then) : "none", kNative,
                                   teredo_data.empty() ? "not tunnelled" : "tunnelled: " + describe(teredo_data.front()));
  std::vector<FrameRef> frames = lan_frames({to_server.empty() ? 0 : to_server.front().frame,
                                             to_server2.empty() ? 0 : to_server2.front().frame,
                                             teredo_data.empty() ? 0 : teredo_data.front().frame});
  const bool acted = !to_server.empty() || !to_server2.empty() || address_then.has_value();

  // Phase 2: the native address goes; a live IUT qualifies.
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"ip", "-6", "route", "del", "default", "via", kNativeGateway, "dev", "eth0"},
           {"ip", "-6", "addr", "del", kNativeAddress, "dev", "eth0"}}) {
    (void)run.lab().exec("client", argv);
  }
  const auto later = wait_address(run, 3 * t.retry + 4000ms);
  phase1 += fmt::format("; after the native address was removed: {}",
                        later ? "qualified as " + to_string(*later) : "no Teredo address either");
  if (!acted && !later) {
    for (const auto& r : reqs) {
      run.inconclusive(r,
                       "the IUT never acted as a Teredo client, with or without native IPv6, so its silence "
                       "proves nothing: " +
                           phase1,
                       "never_acted_as_teredo_client");
    }
    return;
  }
  run.check("R4380-5.5-01", "teredo_active_with_native_ipv6", !acted,
            "no Teredo client activity (no RS to the server, no Teredo address) while the host has native IPv6", phase1,
            frames);
  run.check("R4380-5-01", "teredo_active_with_native_ipv6", !acted,
            "the §5.5 sunset implemented: the client stands down while native IPv6 exists", phase1, frames);
  run.check("R4380-3.2.1-01", "teredo_active_with_native_ipv6", !acted,
            "Teredo only as a last resort: not started while native IPv6 is there", phase1, frames);
  run.check("R4380-3.2.1-02", "native_destination_sent_via_teredo", teredo_data.empty(),
            fmt::format("the application's packet to the native host {} not sent through Teredo", kNative), phase1,
            frames);
}

// §5.5 / §3.2.1: "nodes that have a global IPv4 address SHOULD obtain
// connectivity through the 6to4 service rather than through the Teredo
// service". In client-public the IUT owns 192.0.2.10 with no NAT in the
// way; the played server's RA tells it so (the mapping is its own address).
void global_ipv4(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.5-02", "R4380-3.2.1-03"};
  const auto window = 3 * t.retry + 2000ms;
  std::this_thread::sleep_for(window);
  const auto address = iut_address(run);
  const auto rs = server.seen();
  const auto sent = all_seen(run, iut_rs(run.capture("lan")));
  if (rs.empty()) {
    for (const auto& r : reqs) {
      run.inconclusive(r, fmt::format("no RS from the IUT within {}: a silent IUT proves nothing", ms_text(window)),
                       "no_rs_sent");
    }
    return;
  }
  const std::string observed = fmt::format(
      "{} RS(s), the played server saw them from {} (the IUT's own address: no NAT); {} later: Teredo address {}",
      rs.size(), to_text(rs.front().from), ms_text(window), address ? to_string(*address) : "none");
  const std::vector<FrameRef> frames = lan_frames({sent.empty() ? 0 : sent.front().frame});
  run.check("R4380-5.5-02", "teredo_address_with_global_ipv4", !address,
            "with its own global IPv4 address the node does not keep a Teredo address (6to4 rather than Teredo)",
            observed, frames);
  run.check("R4380-3.2.1-03", "teredo_address_with_global_ipv4", !address,
            "a node owning a global IPv4 address does not use Teredo", observed, frames);
}

}  // namespace

TEREDO_CASE({
    .id = "client.sunset.global-ipv4",
    .title = "§5.5: a node with a global IPv4 address (no NAT) does not keep using Teredo",
    .description = "Topology client-public: the IUT owns 192.0.2.10 on the driver's segment, no NAT. The played "
                   "server answers its RSs; RAs carry its own address as the mapping. After 3 qualification "
                   "retries + 2 s the adapter's address probe is read.",
    .judgement = "No Teredo address configured at the end (a SHOULD: a warning otherwise). No RS at all is "
                 "inconclusive.",
    .role = "client",
    .requirements = {"R4380-5.5-02", "R4380-3.2.1-03"},
    .topology = "client-public",
    .captures = client_captures(),
    .body = global_ipv4,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.sunset.native-ipv6",
    .title = "§5.5: no Teredo client while the host has native IPv6",
    .description = "Before the IUT starts, the client host gets 2001:db8:5::10/64 on eth0 and a default IPv6 "
                   "route. For 3 qualification retries + 2 s the case watches the lan capture, and the "
                   "application sends a packet to the native host 2001:db8:1::10. Then the native address and "
                   "route are removed and the IUT is given time to qualify.",
    .judgement = "While native IPv6 is there: no datagram to the Teredo server, no Teredo address, the "
                 "application's packet not tunnelled. If the IUT qualifies neither before nor after the removal, "
                 "inconclusive (a silent IUT proves nothing).",
    .role = "client",
    .requirements = {"R4380-5.5-01", "R4380-5-01", "R4380-3.2.1-01", "R4380-3.2.1-02"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = native_ipv6,
    .before_iut = give_native_ipv6,
});

}  // namespace teredo::conformance::client
