#include "interop/cell_runner.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <tuple>

#include "engine/capture.hpp"
#include "cases/server/driver.hpp"
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
// nullopt when it sent its requests (exit 0, or 1: some went unanswered);
// else why it could not, after retrying for up to 3 s (an address or route
// an implementation is still installing: "Network is unreachable").
std::optional<std::string> ping6(netns::Lab& lab, const std::string& host, const std::string& to,
                                 const char* pattern) {
  netns::CommandResult r;
  for (int attempt = 0; attempt < 15; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(200ms);
    r = lab.exec(host, {"ping", "-6", "-n", "-c", "4", "-i", "0.5", "-W", "2", "-p", pattern, to});
    if (r.exit_code == 0 || r.exit_code == 1) return std::nullopt;
  }
  std::string output = r.output;
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return fmt::format("ping6 from {} to {} could not send (exit {}): {}", host, to, r.exit_code,
                     output.substr(0, 200));
}

// Both pings of a scenario; the first that could not send is the scenario's
// harness fault.
void ping_both(netns::Lab& lab, char letter, Evidence& evidence,
               std::initializer_list<std::tuple<const char*, std::string, const char*>> pings) {
  for (const auto& [host, to, pattern] : pings) {
    if (auto failed = ping6(lab, host, to, pattern)) {
      evidence.harness_faults.emplace(letter, std::move(*failed));
      return;
    }
  }
}

// The control RS (judge.hpp kControlPort): from the relay's host, which no
// NAT separates from the server. `signed_for_client`: signed for the lab's client
// identifier (scenario S, whose server rightly drops an unsigned RS).
void send_control_rs(netns::Lab& lab, bool signed_for_client = false, bool md5 = false) {
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
  wire::ByteVector rs;
  if (signed_for_client) {
    const wire::Bytes id = kit::bytes_of(kit::lab::kClientId);
    rs = server::signed_rs({.nonce = nonce, .client_id = wire::ByteVector(id.begin(), id.end())},
                           kit::bytes_of(kit::lab::kSecret),
                           md5 ? wire::MacAlgorithm::hmac_md5 : wire::MacAlgorithm::hmac_sha1);
  } else {
    rs = fuzz::probe_rs(nonce);
  }
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
// implementation share a lab without sharing a file. `capability`: its launch
// for that capability when it has one (scenario E), else the plain one.
Adapter second_client(const Adapter& client, const std::string& capability = {}) {
  Adapter b = client;
  RoleLaunch launch = client.roles.at("client");
  if (const auto variant = launch.variants.find(capability); variant != launch.variants.end()) {
    launch.command = variant->second.command;
    launch.config_template = variant->second.config_template;
  }
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

// A two-client scenario's lab: D (two-clients.json, a NAT each), L
// (same-nat.json, one NAT that does not hairpin) and H
// (same-nat-hairpin.json, one hairpinning NAT). Every NAT host of the
// topology takes the cell's profile.
struct PairLab {
  const char* topology;
  std::vector<const char*> nats;
  std::vector<VantagePoint> vantage_points;
  const char* prefix;  // of its logs: "d-", "l-", "h-"
};

PairLab pair_lab(char letter) {
  switch (letter) {
    case 'L':
      return {"same-nat", {"nat"}, {std::begin(kLocalVantagePoints), std::end(kLocalVantagePoints)}, "l-"};
    case 'H':
      return {"same-nat-hairpin", {"nat"}, {std::begin(kHairpinVantagePoints), std::end(kHairpinVantagePoints)}, "h-"};
    case 'E':
      return {"two-clients", {"nat-a", "nat-b"},
              {std::begin(kExtensionVantagePoints), std::end(kExtensionVantagePoints)}, "e-"};
    default:
      return {"two-clients", {"nat-a", "nat-b"}, {std::begin(kDirectVantagePoints), std::end(kDirectVantagePoints)},
              "d-"};
  }
}

// RFC 6081's Peer Refresh Timer period (§5.4.2: 30 s) on the clock of each
// client that runs the extension: the adapter's bubble_interval (RFC: 2 s)
// says how it is scaled; the slower of them.
std::chrono::milliseconds peer_refresh_period(const std::vector<const Adapter*>& running) {
  std::int64_t longest = 0;
  for (const Adapter* client : running) {
    const auto it = client->timers_ms.find("bubble_interval");
    const std::int64_t bubble = it == client->timers_ms.end() ? 2000 : it->second;
    longest = std::max(longest, 30000 * bubble / 2000);
  }
  return std::chrono::milliseconds(longest);
}

// Captures stopped and read into `evidence`.
void collect(std::vector<std::unique_ptr<Capture>>& captures, Evidence& evidence) {
  std::this_thread::sleep_for(200ms);
  for (auto& c : captures) {
    c->stop();
    auto packets = read_packets(c->vantage(), c->link_type(), c->frames([](const CapturedFrame&) { return true; }));
    evidence.packets.insert(evidence.packets.end(), std::make_move_iterator(packets.begin()),
                            std::make_move_iterator(packets.end()));
  }
}

// A two-client scenario (D, L, H, E) in its own lab, evidence into `evidence`
// (captures named <prefix>*, logs <prefix>*.log in `dir`): both clients
// qualify, then each pings the other. E starts each client that declares the
// NAT kind's RFC 6081 extension with its launch for it, and the server with
// its trailers launch.
void run_pair(char letter, const Cell& cell, const Adapter& client, const Adapter& partner, const Adapter& server,
              const std::string& dir, Evidence& evidence) {
  const auto extension = letter == 'E' ? extension_for_nat(cell.nat) : std::nullopt;
  const std::string capability = extension ? extension->capability : "";
  evidence.extension_a = extension && client.has(capability);
  evidence.extension_b = extension && partner.has(capability);
  const PairLab spec = pair_lab(letter);
  netns::Topology topology = netns::load_topology(topology_file(spec.topology));
  for (const char* nat : spec.nats) {
    if (!netns::apply_nat_profile(cell.nat, *topology.hosts.at(nat).nat)) {
      throw std::runtime_error("unknown NAT profile " + cell.nat);
    }
  }
  auto lab = netns::Lab::up(topology);
  lab->wait_ipv6_ready();
  std::vector<std::unique_ptr<Capture>> captures;
  for (const VantagePoint& v : spec.vantage_points) {
    captures.push_back(std::make_unique<Capture>(v.name, lab->netns(v.host), v.ifname,
                                                 fmt::format("{}/{}.pcap", dir, v.name)));
  }
  const Adapter client_b = second_client(partner, evidence.extension_b ? capability : "");
  evidence.client_a_name = fmt::format("client A ({})", client.name);
  evidence.client_b_name = fmt::format("client B ({})", partner.name);
  std::vector<std::pair<std::string, IutProcess>> parties;
  const auto stop_all = [&] {
    for (auto it = parties.rbegin(); it != parties.rend(); ++it) stop_iut(it->second);
    for (const auto& [role, iut] : parties) {
      copy_if_exists(iut.log_path, fmt::format("{}/{}{}.log", dir, spec.prefix, role));
    }
  };
  try {
    const Placeholders values = lab_placeholders(*lab);
    parties.emplace_back("server", start_iut(server, "server", *lab, "server", values,
                                             extension ? "rfc6081_trailers" : ""));
    parties.emplace_back("client", start_iut(client, "client", *lab, "client-a", values,
                                             evidence.extension_a ? capability : ""));
    parties.emplace_back("client-b", start_iut(client_b, "client-b", *lab, "client-b", values));
    const auto deadline =
        std::chrono::steady_clock::now() + std::max(qualification_window(client), qualification_window(partner));
    while ((!evidence.direct_a || !evidence.direct_b) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      if (!evidence.direct_a) evidence.direct_a = observe_iut_address(client, "client", *lab, "client-a");
      if (!evidence.direct_b) evidence.direct_b = observe_iut_address(client_b, "client-b", *lab, "client-b");
    }
    if (evidence.direct_a && evidence.direct_b && extension) {
      ping_both(*lab, letter, evidence,
                {{"client-a", *evidence.direct_b, kWarmUpAtoBPattern},
                 {"client-b", *evidence.direct_a, kWarmUpBtoAPattern}});
      std::vector<const Adapter*> running;
      if (evidence.extension_a) running.push_back(&client);
      if (evidence.extension_b) running.push_back(&partner);
      std::this_thread::sleep_for(peer_refresh_period(running) * 3 / 2);
    }
    if (evidence.direct_a && evidence.direct_b && !evidence.harness_faults.count(letter)) {
      ping_both(*lab, letter, evidence,
                {{"client-a", *evidence.direct_b, kAtoBPattern}, {"client-b", *evidence.direct_a, kBtoAPattern}});
    }
  } catch (...) {
    stop_all();
    throw;
  }
  for (const auto& [role, iut] : parties) {
    // Client B plays the client role too: its death is the client's, named.
    if (const auto ended = iut_exit_status(iut)) {
      evidence.died[role == "client-b" ? "client" : role] =
          netns::describe(*ended) + (role == "client-b" ? " (" + evidence.client_b_name + ")" : "");
    }
  }
  stop_all();
  collect(captures, evidence);
}

// Scenario S in its own client-nat lab: client and server started with their
// secure launch (the lab's shared secret, client identifier client-7).
void run_secure(const Cell& cell, const Adapter& client, const Adapter& server, const std::string& dir,
                Evidence& evidence) {
  netns::Topology topology = netns::load_topology(topology_file("client-nat"));
  if (!netns::apply_nat_profile(cell.nat, *topology.hosts.at("nat").nat)) {
    throw std::runtime_error("unknown NAT profile " + cell.nat);
  }
  auto lab = netns::Lab::up(topology);
  lab->wait_ipv6_ready();
  std::vector<std::unique_ptr<Capture>> captures;
  for (const VantagePoint& v : kSecureVantagePoints) {
    captures.push_back(std::make_unique<Capture>(v.name, lab->netns(v.host), v.ifname,
                                                 fmt::format("{}/{}.pcap", dir, v.name)));
  }
  // The MAC the pair agreed on: the server's declaration, as the server
  // cases read it (cases/server/secure.cpp).
  evidence.mac_md5 = server.has("secure_qualification:hmac-md5");
  std::vector<std::pair<std::string, IutProcess>> parties;
  const auto stop_all = [&] {
    for (auto it = parties.rbegin(); it != parties.rend(); ++it) stop_iut(it->second);
    for (const auto& [role, iut] : parties) copy_if_exists(iut.log_path, fmt::format("{}/s-{}.log", dir, role));
  };
  try {
    const Placeholders values = lab_placeholders(*lab);
    parties.emplace_back("server",
                         start_iut(server, "server", *lab, iut_host("server"), values, "secure_qualification"));
    parties.emplace_back("client",
                         start_iut(client, "client", *lab, iut_host("client"), values, "secure_qualification"));
    const auto deadline = std::chrono::steady_clock::now() + qualification_window(client);
    while (!evidence.client_address && std::chrono::steady_clock::now() < deadline &&
           !iut_exit_status(parties.back().second)) {
      std::this_thread::sleep_for(100ms);
      evidence.client_address = observe_iut_address(client, "client", *lab, iut_host("client"));
    }
    send_control_rs(*lab, true, evidence.mac_md5);
  } catch (...) {
    stop_all();
    throw;
  }
  for (const auto& [role, iut] : parties) {
    if (const auto ended = iut_exit_status(iut)) evidence.died[role] = netns::describe(*ended);
  }
  stop_all();
  collect(captures, evidence);
}

// Scenario R in the cell's client-nat lab, after N: the NAT rebinds, the
// client has up to one randomized refresh interval (RFC 6081 §5.1.1: at most
// 150 % of it) and two RS retries to take the new mapping, then ping6 both
// ways from its new address.
void run_rebind(netns::Lab& lab, const Adapter& client, const IutProcess& client_process, const Capture& server,
                Evidence& evidence) {
  evidence.rebind_server_frame = server.count();
  lab.nat_command("nat", "rebind");  // throws LabError: a harness fault
  evidence.rebound = true;
  const auto timer = [&](const char* name, std::int64_t fallback) {
    const auto it = client.timers_ms.find(name);
    return std::chrono::milliseconds(it == client.timers_ms.end() ? fallback : it->second);
  };
  const auto budget = timer("refresh_interval", 30000) * 3 / 2 + 2 * timer("qualification_retry", 4000) + 2000ms;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (!evidence.rebind_address && std::chrono::steady_clock::now() < deadline && !iut_exit_status(client_process)) {
    std::this_thread::sleep_for(100ms);
    const auto now = observe_iut_address(client, "client", lab, iut_host("client"));
    if (now && now != evidence.client_address) evidence.rebind_address = now;
  }
  if (evidence.rebind_address) {
    ping_both(lab, 'R', evidence,
              {{"client", kit::lab::kV6Host, kRebindOutPattern}, {"v6host", *evidence.rebind_address, kRebindInPattern}});
    evidence.rebind_pinged = true;
  }
}

}  // namespace

const Adapter& direct_partner(const Plan& plan, const Cell& cell) {
  for (std::size_t i = 0; i < plan.clients.size(); ++i) {
    if (plan.clients[i].name == cell.client) return plan.clients[(i + 1) % plan.clients.size()];
  }
  return plan.adapter("client", cell.client);
}

std::string direct_path_table(const Plan& plan, const std::vector<CellResult>& results) {
  const bool d = plan.letters.find('D') != std::string::npos, e = plan.letters.find('E') != std::string::npos;
  if (!d && !e) return {};
  const auto path = [](const CellResult& r, char letter) -> std::string {
    for (const Finding& f : r.findings) {
      if (f.scenario != letter) continue;
      if (f.verdict == "pass") return "yes";
      return fmt::format("no ({}{})", f.verdict, f.party.empty() ? "" : ", " + f.party);
    }
    return "-";
  };
  std::string out = "direct path between two clients, each behind a NAT of the profile (D: RFC 6081 extensions off, "
                    "E: on; yes = the captures show every marked ping crossing NAT to NAT):\n";
  out += fmt::format("  {:<26} {:<28} {:<12} {:<32} {}\n", "NAT", "client A x client B", "server", "D (off)", "E (on)");
  std::set<std::string> seen;
  for (const CellResult& r : results) {
    const std::string pair = r.cell.client + " x " + direct_partner(plan, r.cell).name;
    if (!seen.insert(r.cell.nat + "|" + pair + "|" + r.cell.server).second) continue;
    out += fmt::format("  {:<26} {:<28} {:<12} {:<32} {}\n", r.cell.nat, pair, r.cell.server, d ? path(r, 'D') : "-",
                       e ? path(r, 'E') : "-");
  }
  return out;
}

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
  // What the pairing cannot run (a capability not declared, a NAT the lab
  // cannot make remap or hairpin) is not-applicable and never started.
  std::map<char, Finding> inapplicable;
  const Adapter& partner = direct_partner(plan, cell);
  for (const char c : plan.letters) {
    if (auto na = not_applicable(c, {{client.name, client.capabilities},
                                     {partner.name, partner.capabilities},
                                     {server.name, server.capabilities},
                                     cell.nat})) {
      inapplicable.emplace(c, std::move(*na));
    }
  }
  const auto wanted = [&](char c) { return plan.letters.find(c) != std::string::npos && inapplicable.count(c) == 0; };
  // Q, N and R share the client-nat lab; D, L, H and S have labs of their own.
  const bool needs_client_nat = wanted('Q') || wanted('N') || wanted('R');
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
      if (evidence.client_address && wanted('N')) {
        ping_both(*lab, 'N', evidence,
                  {{"client", kit::lab::kV6Host, kOutPattern}, {"v6host", *evidence.client_address, kInPattern}});
        evidence.pinged = true;
      }
      if (evidence.client_address && wanted('R')) {
        try {
          const auto server_capture = std::find_if(captures.begin(), captures.end(),
                                                   [](const auto& c) { return c->vantage() == "server"; });
          run_rebind(*lab, client, parties.back().second, **server_capture, evidence);
        } catch (const netns::LabError&) {
          evidence.rebound = false;  // R's error alone: Q and N stand
        }
      }
      send_control_rs(*lab);
    } catch (const std::exception& e) {
      stop_all();
      for (const auto& [role, iut] : parties) copy_if_exists(iut.log_path, fmt::format("{}/{}.log", dir, role));
      return finish(every_letter(plan, "error", fmt::format("harness: {}", e.what())));
    }
    for (const auto& [role, iut] : parties) {
      if (const auto ended = iut_exit_status(iut)) evidence.died[role] = netns::describe(*ended);
    }
    stop_all();
    collect(captures, evidence);
    for (const auto& [role, iut] : parties) copy_if_exists(iut.log_path, fmt::format("{}/{}.log", dir, role));
  } catch (const std::exception& e) {
    return finish(every_letter(plan, "error", fmt::format("harness: {}", e.what())));
  }
  result.client_address = evidence.client_address;
  std::vector<Finding> findings;
  for (const char c : plan.letters) {
    if (const auto na = inapplicable.find(c); na != inapplicable.end()) {
      findings.push_back(na->second);
      continue;
    }
    if (c == 'Q' || c == 'N' || c == 'R') {
      findings.push_back(judge(c, evidence));
      continue;
    }
    // D, L, H, E and S run in labs of their own; a death there is that
    // scenario's alone.
    Evidence own;
    own.nat_profile = cell.nat;
    try {
      if (c == 'S') {
        run_secure(cell, client, server, dir, own);
      } else {
        // D and E pair the cell's client with the next client of the plan
        // (two implementations when the plan has more); L and H two
        // instances of the cell's client.
        run_pair(c, cell, client, c == 'D' || c == 'E' ? partner : client, server, dir, own);
      }
      findings.push_back(judge(c, own));
    } catch (const std::exception& e) {
      findings.push_back(Finding{c, "error", "", "", fmt::format("harness: {}", e.what()), {}});
    }
  }
  return finish(std::move(findings));
}

}  // namespace teredo::conformance::interop
