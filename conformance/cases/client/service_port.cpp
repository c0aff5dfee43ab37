// The client's service port: RFC 4380 §5.2 (clients behind one NAT pick
// distinct ports, at random when not configured) and §5.2.10 (the port can
// be configured, to match a NAT port reservation). Read from the lan
// capture: the UDP source port of the IUT's RSs before the NAT.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <thread>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client {
namespace {

using namespace std::chrono_literals;

// The source port of the IUT's first RS after lan frame `after`.
std::optional<Seen> first_rs(CaseRun& run, std::uint64_t after) {
  return wait_seen(run, iut_rs(run.capture("lan")), timers(run).retry + 3000ms, after);
}

void configured_port(CaseRun& run) {
  const std::string configured = lab_placeholders(run.lab()).at("service_port");
  const auto rs = first_rs(run, 0);
  if (!rs) {
    run.inconclusive("R4380-5.2.10-01", "no RS from the IUT within qualification_retry + 3 s", "no_rs_sent");
    return;
  }
  const std::string seen = std::to_string(rs->carrier.source_port);
  run.check(
      "R4380-5.2.10-01", "configured_service_port_not_used", seen == configured,
      fmt::format("the IUT started with its service port set to {} ({{service_port}}): RSs from that port", configured),
      fmt::format("first RS from {}:{} ({})", kClientLan, seen, describe(*rs)), {lan(rs->frame)});
}

void random_ports(CaseRun& run) {
  constexpr int kStarts = 3;
  std::vector<std::uint16_t> ports;
  std::vector<FrameRef> frames;
  std::string story;
  for (int i = 0; i < kStarts; ++i) {
    std::uint64_t after = 0;
    if (i > 0) {
      // Qualification sends more RSs from the same port (to the secondary
      // server address): let the previous start finish them first.
      std::this_thread::sleep_for(500ms);
      after = lan_mark(run);
      run.restart_iut();
    }
    const auto rs = first_rs(run, after);
    if (!rs) {
      run.inconclusive("R4380-5.2-03",
                       fmt::format("start {}: no RS from the IUT within qualification_retry + 3 s "
                                   "(so far: {})",
                                   i + 1, story.empty() ? "nothing" : story),
                       "no_rs_sent");
      return;
    }
    ports.push_back(rs->carrier.source_port);
    frames.push_back(lan(rs->frame));
    story += fmt::format("{}start {}: port {} (lan frame {})", story.empty() ? "" : ", ", i + 1,
                         rs->carrier.source_port, rs->frame);
  }
  const std::set<std::uint16_t> distinct(ports.begin(), ports.end());
  const bool teredo_port = distinct.count(kTeredoPort) != 0;
  run.check("R4380-5.2-03", "service_port_not_random", distinct.size() == ports.size() && !teredo_port,
            fmt::format("with no port configured, a service port picked anew at each start: {} starts, {} "
                        "different ports, none of them 3544",
                        kStarts, kStarts),
            story, frames);
}

}  // namespace

TEREDO_CASE({
    .id = "client.service-port.configured",
    .title = "§5.2.10: the service port can be configured",
    .description = "The IUT starts through the adapter's service_port launch, configured to use {service_port} "
                   "(45123) as its service port; the played server answers its RSs.",
    .judgement = "The IUT's first RS leaves the client host (lan capture, before the NAT) from UDP port 45123.",
    .role = "client",
    .requirements = {"R4380-5.2.10-01"},
    .capabilities = {"configurable_service_port"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = configured_port,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.service-port.random-per-start",
    .title = "§5.2: without configuration the service port is picked at random",
    .description = "The IUT is started with its plain launch, then stopped and started again twice; the source "
                   "port of its first RS is read from the lan capture each time.",
    .judgement = "Three different ports, none of them 3544 (a fixed port would make two clients behind one NAT "
                 "collide). A SHOULD: a repeated port is a warning.",
    .role = "client",
    .requirements = {"R4380-5.2-03"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = random_ports,
    .before_iut = open_played_server,
});

}  // namespace teredo::conformance::client
