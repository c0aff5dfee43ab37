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
#include "engine/data_dir.hpp"

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

// Client B of scenario D: the client role under another name, its files
// ({run_dir}/...: pid and state files) renamed, so that two instances of one
// implementation share a lab without sharing a file.
Adapter second_client(const Adapter& client) {
  Adapter b = client;
  RoleLaunch launch = client.roles.at("client");
  const auto rename = [](std::string text) {
    const std::string from = "{run_dir}/";
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + from.size())) {
      text.replace(at, from.size(), "{run_dir}/client-b-");
    }
    return text;
  };
  for (auto& arg : launch.command) arg = rename(arg);
  launch.config_template = rename(launch.config_template);
  launch.variants.clear();
  b.roles.erase("client");
  b.roles.emplace("client-b", std::move(launch));
  return b;
}

// Scenario D in its own lab (two-clients.json), evidence into `evidence`
// (captures named d-*, logs d-*.log in `dir`).
void run_direct(const Cell& cell, const Adapter& client, const Adapter& server, const std::string& dir,
                Evidence& evidence) {
  netns::Topology topology =
      netns::load_topology(topology_file("two-clients"));
  for (const char* nat : {"nat-a", "nat-b"}) {
    if (!netns::apply_nat_profile(cell.nat, *topology.hosts.at(nat).nat)) {
      throw std::runtime_error("unknown NAT profile " + cell.nat);
    }
  }
  auto lab = netns::Lab::up(topology);
  lab->wait_ipv6_ready();
  std::vector<std::unique_ptr<Capture>> captures;
  for (const VantagePoint& v : kDirectVantagePoints) {
    captures.push_back(std::make_unique<Capture>(v.name, lab->netns(v.host), v.ifname,
                                                 fmt::format("{}/{}.pcap", dir, v.name)));
  }
  const Adapter client_b = second_client(client);
  std::vector<std::pair<std::string, IutProcess>> parties;
  const auto stop_all = [&] {
    for (auto it = parties.rbegin(); it != parties.rend(); ++it) stop_iut(it->second);
    for (const auto& [role, iut] : parties) copy_if_exists(iut.log_path, fmt::format("{}/d-{}.log", dir, role));
  };
  try {
    const Placeholders values = lab_placeholders(*lab);
    parties.emplace_back("server", start_iut(server, "server", *lab, "server", values));
    parties.emplace_back("client", start_iut(client, "client", *lab, "client-a", values));
    parties.emplace_back("client-b", start_iut(client_b, "client-b", *lab, "client-b", values));
    const auto deadline = std::chrono::steady_clock::now() + qualification_window(client);
    while ((!evidence.direct_a || !evidence.direct_b) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      if (!evidence.direct_a) evidence.direct_a = observe_iut_address(client, "client", *lab, "client-a");
      if (!evidence.direct_b) evidence.direct_b = observe_iut_address(client_b, "client-b", *lab, "client-b");
    }
    if (evidence.direct_a && evidence.direct_b) {
      ping6(*lab, "client-a", *evidence.direct_b, kAtoBPattern);
      ping6(*lab, "client-b", *evidence.direct_a, kBtoAPattern);
    }
  } catch (...) {
    stop_all();
    throw;
  }
  for (const auto& [role, iut] : parties) {
    // Client B is the same implementation as A: its death is the client's.
    if (const auto ended = iut_exit_status(iut)) evidence.died[role == "client-b" ? "client" : role] = netns::describe(*ended);
  }
  stop_all();
  std::this_thread::sleep_for(200ms);
  for (auto& c : captures) {
    c->stop();
    auto packets = read_packets(c->vantage(), c->link_type(), c->frames([](const CapturedFrame&) { return true; }));
    evidence.packets.insert(evidence.packets.end(), std::make_move_iterator(packets.begin()),
                            std::make_move_iterator(packets.end()));
  }
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
  // Q and N share the client-nat lab; D has a lab of its own.
  const bool needs_client_nat = plan.letters.find_first_of("QN") != std::string::npos;
  if (needs_client_nat) try {
    netns::Topology topology =
        netns::load_topology(topology_file("client-nat"));
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
  // D needs its own lab; a death in it is D's alone.
  Evidence direct;
  direct.nat_profile = cell.nat;
  std::optional<std::string> direct_error;
  if (plan.letters.find('D') != std::string::npos) {
    try {
      run_direct(cell, client, server, dir, direct);
    } catch (const std::exception& e) {
      direct_error = fmt::format("harness: {}", e.what());
    }
  }
  for (const char c : plan.letters) {
    if (c == 'D') {
      findings.push_back(direct_error ? Finding{'D', "error", "", "", *direct_error, {}} : judge('D', direct));
    } else {
      findings.push_back(judge(c, evidence));
    }
  }
  return finish(std::move(findings));
}

}  // namespace teredo::conformance::interop
