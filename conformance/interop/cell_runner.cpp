#include "interop/cell_runner.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <thread>

#include "engine/capture.hpp"
#include "fuzz/oracles.hpp"
#include "kit/lab_facts.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/netns/topology.hpp"

namespace teredo::conformance::interop {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How long the client has to qualify: three of its RS retries and two
// seconds, between 5 and 20 seconds (the adapter's timers_ms, Miredo's 4 s
// retry by default).
std::chrono::milliseconds qualification_window(const Adapter& client) {
  const auto it = client.timers_ms.find("qualification_retry");
  const std::int64_t retry = it == client.timers_ms.end() ? 4000 : it->second;
  return std::chrono::milliseconds(std::clamp<std::int64_t>(3 * retry + 2000, 5000, 20000));
}

// ping6 with a data pattern that names the direction (judge.hpp kOutPattern).
void ping6(netns::Lab& lab, const std::string& host, const std::string& to, const char* pattern) {
  lab.exec(host, {"ping", "-6", "-n", "-c", "4", "-i", "0.5", "-W", "2", "-p", pattern, to});
}

// The control RS (judge.hpp kControlPort): from the relay's host, which no
// NAT separates from the server.
void send_control_rs(netns::Lab& lab) {
  const int fd = lab.socket("relay", AF_INET, SOCK_DGRAM);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(kControlPort);
  ::inet_pton(AF_INET, kit::lab::kRelay, &local.sin_addr);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(kit::lab::kTeredoPort);
  ::inet_pton(AF_INET, kit::lab::kServerPrimary, &server.sin_addr);
  wire::Nonce nonce{};
  std::copy_n(kControlNonce, nonce.size(), nonce.begin());
  const wire::ByteVector rs = fuzz::probe_rs(nonce);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) == 0) {
    ::sendto(fd, rs.data(), rs.size(), 0, reinterpret_cast<const sockaddr*>(&server), sizeof server);
  }
  std::this_thread::sleep_for(500ms);
  ::close(fd);
}

std::vector<Finding> every_letter(const Plan& plan, const std::string& verdict, const std::string& reason) {
  std::vector<Finding> out;
  for (const char c : plan.letters) out.push_back(Finding{c, verdict, "", "", reason, {}});
  return out;
}

void copy_if_exists(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (fs::exists(from, ec)) fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
}

}  // namespace

CellResult run_cell(const Plan& plan, const Cell& cell, const std::string& out_dir) {
  const auto started = std::chrono::steady_clock::now();
  CellResult result;
  result.cell = cell;
  result.dir = "cells/" + cell.id();
  const std::string dir = out_dir + "/" + result.dir;
  fs::create_directories(dir);
  const auto finish = [&](std::vector<Finding> findings) {
    result.findings = std::move(findings);
    result.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    for (const auto& entry : fs::directory_iterator(dir)) result.files.push_back(entry.path().filename().string());
    std::sort(result.files.begin(), result.files.end());
    return result;
  };

  const Adapter& client = plan.adapter("client", cell.client);
  const Adapter& server = plan.adapter("server", cell.server);
  const Adapter& relay = plan.adapter("relay", cell.relay);
  Evidence evidence;
  evidence.nat_profile = cell.nat;
  try {
    netns::Topology topology =
        netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/client-nat.json");
    if (!netns::apply_nat_profile(cell.nat, *topology.hosts.at("nat").nat)) {
      return finish(every_letter(plan, "error", "unknown NAT profile " + cell.nat));
    }
    auto lab = netns::Lab::up(topology);
    lab->wait_ipv6_ready();
    std::vector<std::unique_ptr<Capture>> captures;
    for (const VantagePoint& v : kVantagePoints) {
      captures.push_back(std::make_unique<Capture>(v.name, lab->netns(v.host), v.ifname,
                                                   fmt::format("{}/{}.pcap", dir, v.name)));
    }
    std::vector<std::pair<std::string, IutProcess>> parties;
    const auto stop_all = [&] {
      for (auto it = parties.rbegin(); it != parties.rend(); ++it) stop_iut(it->second);
    };
    try {
      const Placeholders values = lab_placeholders(*lab);
      parties.emplace_back("server", start_iut(server, "server", *lab, iut_host("server"), values));
      parties.emplace_back("relay", start_iut(relay, "relay", *lab, iut_host("relay"), values));
      parties.emplace_back("client", start_iut(client, "client", *lab, iut_host("client"), values));

      const auto deadline = std::chrono::steady_clock::now() + qualification_window(client);
      while (!evidence.client_address && std::chrono::steady_clock::now() < deadline &&
             !iut_exit_status(parties.back().second)) {
        std::this_thread::sleep_for(100ms);
        evidence.client_address = observe_iut_address(client, "client", *lab, iut_host("client"));
      }
      if (evidence.client_address && plan.letters.find('N') != std::string::npos) {
        ping6(*lab, "client", kit::lab::kV6Host, kOutPattern);
        ping6(*lab, "v6host", *evidence.client_address, kInPattern);
        evidence.pinged = true;
      }
      send_control_rs(*lab);
    } catch (const AdapterError& e) {
      stop_all();
      for (const auto& [role, iut] : parties) copy_if_exists(iut.log_path, fmt::format("{}/{}.log", dir, role));
      return finish(every_letter(plan, "error", fmt::format("harness: {}", e.what())));
    }
    for (const auto& [role, iut] : parties) {
      if (const auto ended = iut_exit_status(iut)) evidence.died[role] = netns::describe(*ended);
    }
    stop_all();
    std::this_thread::sleep_for(200ms);
    for (auto& c : captures) {
      c->stop();
      const auto frames = c->frames([](const CapturedFrame&) { return true; });
      auto packets = read_packets(c->vantage(), c->link_type(), frames);
      evidence.packets.insert(evidence.packets.end(), std::make_move_iterator(packets.begin()),
                              std::make_move_iterator(packets.end()));
    }
    for (const auto& [role, iut] : parties) copy_if_exists(iut.log_path, fmt::format("{}/{}.log", dir, role));
  } catch (const std::exception& e) {
    return finish(every_letter(plan, "error", fmt::format("harness: {}", e.what())));
  }
  result.client_address = evidence.client_address;
  std::vector<Finding> findings;
  for (const char c : plan.letters) findings.push_back(judge(c, evidence));
  return finish(std::move(findings));
}

}  // namespace teredo::conformance::interop
