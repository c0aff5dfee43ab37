// fuzz: the wire fuzzer against an IUT (issue 13: the server, relay and
// client roles). See fuzz/session.hpp for what it does and finds.
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/rootless.hpp"
#include "engine/iut_adapter.hpp"
#include "engine/runner.hpp"
#include "capture/pcap_file.hpp"
#include "engine/catalog.hpp"
#include "engine/data_dir.hpp"
#include "fuzz/fuzz_report.hpp"
#include "fuzz/regressions.hpp"
#include "fuzz/replay_session.hpp"
#include "fuzz/rig.hpp"
#include "fuzz/session.hpp"
#include "teredo/reports/gate.hpp"
#include "teredo/reports/write.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace teredo::conformance;

namespace {

std::atomic<bool> g_fuzz_interrupted{false};

// --out must be a directory we can write: checked by writing in it, before
// any lab is built.
void check_writable(const std::string& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir + "/fuzz/findings", ec);
  if (ec) throw InputError(fmt::format("--out {}: cannot create it: {}", out_dir, ec.message()));
  const std::string probe = out_dir + "/fuzz/.write-check";
  if (!std::ofstream(probe)) throw InputError(fmt::format("--out {}: cannot write in it", out_dir));
  fs::remove(probe, ec);
}

int exit_code(const json& summary) { return summary.value("findings", json::array()).empty() ? kExitOk : 1; }

std::atomic<bool> g_replay_interrupted{false};

// Every frame of a capture, in order, to `take` (bad input: InputError).
void each_frame(const std::string& path, const std::function<void(const capture::Frame&, wire::LinkType)>& take) {
  capture::PcapReader reader = [&] {
    try {
      return capture::PcapReader(path);
    } catch (const capture::CaptureError& e) {
      throw InputError(fmt::format("--pcap {}: {}", path, e.what()));
    }
  }();
  if (!wire::is_supported_link_type(reader.link_type())) {
    throw InputError(fmt::format("--pcap {}: link type {} is not supported", path, reader.link_type()));
  }
  const auto link = static_cast<wire::LinkType>(reader.link_type());
  capture::Frame frame;
  for (;;) {
    const auto status = reader.next(frame);
    if (status == capture::PcapReader::Status::end) break;
    if (status == capture::PcapReader::Status::error) {
      throw InputError(fmt::format("--pcap {}: after frame {}: {}", path, frame.number, reader.error()));
    }
    take(frame, link);
  }
}

// The datagrams a capture sent to a Teredo server, in capture order.
std::vector<fuzz::ReplayDatagram> datagrams_to_servers(const std::string& path) {
  std::vector<fuzz::ReplayDatagram> out;
  each_frame(path, [&](const capture::Frame& frame, wire::LinkType link) {
    if (auto d = fuzz::to_teredo_server(frame.number, link, frame.data)) out.push_back(std::move(*d));
  });
  return out;
}

// What a capture holds for a client (fuzz/replay.hpp to_client_input), in order.
std::vector<fuzz::ReplayInput> datagrams_to_clients(const std::string& path) {
  std::vector<fuzz::ReplayInput> out;
  each_frame(path, [&](const capture::Frame& frame, wire::LinkType link) {
    if (auto d = fuzz::to_client_input(frame.number, link, frame.data)) {
      fuzz::Sent sent{std::move(d->payload), std::move(d->base), {}, std::nullopt, 0};
      out.push_back({d->frame, std::move(sent), std::move(d->what)});
    }
  });
  return out;
}

// What a capture holds for a relay (fuzz/replay.hpp to_relay_input), in order.
std::vector<fuzz::ReplayInput> datagrams_to_relays(const std::string& path) {
  std::vector<fuzz::ReplayInput> out;
  each_frame(path, [&](const capture::Frame& frame, wire::LinkType link) {
    if (auto d = fuzz::to_relay_input(frame.number, link, frame.data)) {
      fuzz::Sent sent{std::move(d->payload), "capture", {}, d->native_to, d->native_port};
      out.push_back({d->frame, std::move(sent), std::move(d->what)});
    }
  });
  return out;
}

// report.json, junit.xml and report.html of a fuzz session (each finding a
// failing case, fuzz/fuzz_report.hpp) and the summary lines; returns the
// gate's exit code.
int write_fuzz_outputs(const json& summary, const Adapter& adapter, const std::string& out) {
  int code = exit_code(summary);
  try {
    const json report = fuzz::fuzz_report(summary, adapter, Catalog::load(Catalog::default_path()), out, code);
    reports::write_reports(report, out);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("--out {}: the report: {}", out, e.what()));
  }
  std::cerr << fmt::format("teredo-conform fuzz: {} datagrams at {:.0f}/s, {} finding(s); {}/report.json, "
                           "{}/fuzz/summary.json\n",
                           summary["datagrams_sent"].get<std::uint64_t>(), summary["rate_per_s"].get<double>(),
                           summary["findings"].size(), out, out);
  for (const auto& f : summary["findings"]) {
    if (f["dir"].is_null()) continue;
    std::cerr << fmt::format("  {}: {} ({}), {} datagram(s) after minimization: {}/{}\n", f["id"].get<std::string>(),
                             f["oracle"].get<std::string>(), f["signature"].get<std::string>(),
                             f["datagrams_after_minimization"].get<std::size_t>(), out, f["dir"].get<std::string>());
  }
  return code;
}

Adapter load_role_adapter(const std::string& iut, const std::string& role) {
  Adapter adapter;
  try {
    adapter = load_adapter(iut);
  } catch (const AdapterError& e) {
    throw InputError(e.what());
  }
  if (!adapter.roles.count(role)) throw InputError(fmt::format("adapter {} has no {} role", adapter.name, role));
  return adapter;
}

}  // namespace

std::vector<Command> add_fuzz_commands(CLI::App& app) {
  struct FuzzArgs {
    std::string iut = "reference", role = "server", out = "out";
    std::uint64_t seed = 1;
    double duration = 60;
    std::uint64_t datagrams = 20000, probe_every = 1000;
    std::size_t minimize_calls = 150;
    double minimize_seconds = 180;
    std::uint64_t rss_growth_mb = 256;
  };
  auto a = std::make_shared<FuzzArgs>();
  auto* fuzz = app.add_subcommand("fuzz", "Fuzz an IUT over the wire from a protocol state; minimize and record findings");
  fuzz->add_option("--iut", a->iut, "IUT adapter: a name from conformance/iut (reference, miredo) or a JSON file");
  fuzz->add_option("--role", a->role,
                   "The IUT's role: server (after a qualified client), relay (with a trusted peer and a native host) "
                   "or client (behind a full-cone NAT: while qualifying, fuzzed RAs; qualified, fuzzed bubbles, "
                   "echoes, relayed packets, discovery bubbles when declared)");
  fuzz->add_option("--duration", a->duration, "Seconds of fuzzing at most (minimization not counted)")
      ->check(CLI::Range(0.1, 86400.0));
  fuzz->add_option("--datagrams", a->datagrams, "Generated datagrams at most")->check(CLI::Range(1, 1000000000));
  fuzz->add_option("--seed", a->seed, "Seed of the datagram generator: the same seed sends the same datagrams")
      ->check(CLI::Range(std::uint64_t{0}, kMaxSeed));
  fuzz->add_option("--probe-every", a->probe_every,
                   "A liveness probe every this many datagrams (server: a valid RS answered; relay: a packet "
                   "relayed; client: an echo answered, while qualifying after a valid RA)")
      ->check(CLI::Range(1, 1000000));
  fuzz->add_option("--minimize-runs", a->minimize_calls, "Fresh IUT runs at most to minimize one finding")
      ->check(CLI::Range(1, 10000));
  fuzz->add_option("--minimize-seconds", a->minimize_seconds, "Seconds at most to minimize one finding")
      ->check(CLI::Range(1.0, 86400.0));
  fuzz->add_option("--rss-growth-mb", a->rss_growth_mb,
                   "A finding when the IUT's resident memory grows more than this over a qualified start (MiB)")
      ->check(CLI::Range(1, 1048576));
  fuzz->add_option("--out", a->out, "Output directory: OUT/fuzz/summary.json and OUT/fuzz/findings/<id>/");
  struct ReplayArgs {
    std::string iut = "reference", role = "server", pcap, out = "out";
  };
  auto r = std::make_shared<ReplayArgs>();
  auto* replay = app.add_subcommand(
      "replay", "Replay a capture's Teredo datagrams into the IUT of a lab (server, relay or client) and judge them");
  replay->add_option("--iut", r->iut, "IUT adapter: a name from conformance/iut (reference, miredo) or a JSON file");
  replay->add_option("--role", r->role,
                     "The IUT's role: server (RSs judged by their RAs), relay or client (judged by the fuzzer's "
                     "oracles, in the fuzzer's state)");
  replay->add_option("--pcap", r->pcap, "The capture (pcap or pcapng; a finding's reproducer.pcap, a sample, a real one)")
      ->required();
  replay->add_option("--out", r->out, "Output directory: OUT/replay/replay.json and OUT/replay/iut.log");
  struct PromoteArgs {
    std::string finding, id, into = regressions_dir();
  };
  auto p = std::make_shared<PromoteArgs>();
  auto* promote = fuzz->add_subcommand(
      "promote", "Keep a minimized finding as a regression case (regression.<id>) that run executes against every IUT");
  promote->add_option("FINDING_DIR", p->finding, "A finding's directory: OUT/fuzz/findings/<id>")->required();
  promote->add_option("--id", p->id, "The regression's ID ([a-z0-9-]; default: from the role and the signature)");
  promote->add_option("--into", p->into, "Directory of the regression files")->capture_default_str();
  struct MinimizeArgs {
    std::string iut = "reference", role = "server", pcap, out = "out";
    std::size_t minimize_calls = 300;
    double minimize_seconds = 600;
  };
  auto m = std::make_shared<MinimizeArgs>();
  auto* minimize = fuzz->add_subcommand(
      "minimize", "Send a capture's datagrams to a fresh IUT; when an oracle fires, minimize them to a finding");
  minimize->add_option("--iut", m->iut, "IUT adapter: a name from conformance/iut or a JSON file");
  minimize->add_option("--role", m->role, "The IUT's role: server, relay or client");
  minimize->add_option("--pcap", m->pcap, "The capture (as replay reads it for the role)")->required();
  minimize->add_option("--minimize-runs", m->minimize_calls, "Fresh IUT runs at most")->check(CLI::Range(1, 10000));
  minimize->add_option("--minimize-seconds", m->minimize_seconds, "Seconds at most")->check(CLI::Range(1.0, 86400.0));
  minimize->add_option("--out", m->out, "Output directory, as fuzz writes it");
  fuzz->require_subcommand(0, 1);
  std::vector<Command> commands;
  // Before `fuzz`: `fuzz promote` and `fuzz minimize` parse `fuzz` too.
  commands.push_back({minimize, [m] {
    if (m->role != "server" && m->role != "relay" && m->role != "client") {
      throw InputError(fmt::format("--role {}: the roles fuzzed are server, relay, client", m->role));
    }
    const Adapter adapter = load_role_adapter(m->iut, m->role);
    std::vector<fuzz::ReplayInput> inputs;
    if (m->role == "server") {
      for (auto& d : datagrams_to_servers(m->pcap)) {
        inputs.push_back({d.frame, fuzz::Sent{std::move(d.payload), "capture", {}, std::nullopt, 0}, d.what});
      }
    } else {
      inputs = m->role == "relay" ? datagrams_to_relays(m->pcap) : datagrams_to_clients(m->pcap);
    }
    if (inputs.empty()) throw InputError(fmt::format("--pcap {}: no datagram for a {}", m->pcap, m->role));
    require_lab_root("fuzz minimize");
    check_writable(m->out);
    fuzz::FuzzOptions options;
    options.out_dir = m->out;
    options.minimize_calls = m->minimize_calls;
    options.minimize_seconds = m->minimize_seconds;
    options.command_line = command_line();
    netns::install_teardown_on_signals(
        [](int) {
          g_fuzz_interrupted = true;
          std::fprintf(stderr, "\nteredo-conform fuzz minimize: interrupted (again to abort)\n");
        },
        [](int) { return 2; });
    std::cerr << fmt::format("teredo-conform fuzz minimize: {} datagram(s) of {} into {} {}\n", inputs.size(), m->pcap,
                             adapter.name, m->role);
    json summary;
    try {
      summary = fuzz::minimize_capture(adapter, m->role, inputs, options, g_fuzz_interrupted);
    } catch (const AdapterError& e) {
      throw InputError(std::string("the IUT: ") + e.what());
    }
    if (summary["findings"].empty()) {
      std::cerr << "teredo-conform fuzz minimize: the capture broke no oracle on a fresh IUT: nothing to minimize\n";
    }
    return write_fuzz_outputs(summary, adapter, m->out);
  }});
  commands.push_back({promote, [p] {
    std::ifstream in(p->finding + "/finding.json");
    if (!in) throw InputError(fmt::format("{}: no finding.json in it", p->finding));
    const json finding = json::parse(in, nullptr, false);
    if (finding.is_discarded()) throw InputError(fmt::format("{}/finding.json: not JSON", p->finding));
    json regression;
    try {
      regression = fuzz::regression_from_finding(finding, p->id);
      (void)fuzz::regression_case(regression, p->finding);  // it must load as a case
    } catch (const std::exception& e) {
      throw InputError(fmt::format("{}: {}", p->finding, e.what()));
    }
    const fs::path file = fs::path(p->into) / (regression["id"].get<std::string>() + ".json");
    if (fs::exists(file)) throw InputError(fmt::format("{} exists: give another --id", file.string()));
    std::error_code ec;
    fs::create_directories(p->into, ec);
    std::ofstream out(file);
    if (ec || !(out << regression.dump(2) << '\n')) throw InputError(fmt::format("--into {}: cannot write", p->into));
    std::cerr << fmt::format("teredo-conform fuzz promote: {} -> {}: run executes it as regression.{} ({} datagram(s), "
                             "{})\n",
                             p->finding, file.string(), regression["id"].get<std::string>(),
                             regression["datagrams"].size(), regression["requirement"].get<std::string>());
    return 0;
  }});
  commands.push_back({replay, [r] {
    if (r->role != "server" && r->role != "relay" && r->role != "client") {
      throw InputError(fmt::format("--role {}: the roles replayed are server, relay and client", r->role));
    }
    Adapter adapter;
    try {
      adapter = load_adapter(r->iut);
    } catch (const AdapterError& e) {
      throw InputError(e.what());
    }
    if (!adapter.roles.count(r->role)) {
      throw InputError(fmt::format("adapter {} has no {} role", adapter.name, r->role));
    }
    const auto datagrams = r->role == "server" ? datagrams_to_servers(r->pcap) : std::vector<fuzz::ReplayDatagram>{};
    const auto relay_inputs = r->role == "relay"    ? datagrams_to_relays(r->pcap)
                              : r->role == "client" ? datagrams_to_clients(r->pcap)
                                                    : std::vector<fuzz::ReplayInput>{};
    require_lab_root("replay");  // it builds a network-namespace lab
    std::error_code ec;
    fs::create_directories(r->out + "/replay", ec);
    if (ec || !std::ofstream(r->out + "/replay/.write-check")) {
      throw InputError(fmt::format("--out {}: cannot write in it", r->out));
    }
    fs::remove(r->out + "/replay/.write-check", ec);
    netns::install_teardown_on_signals(
        [](int) {
          g_replay_interrupted = true;
          std::fprintf(stderr, "\nteredo-conform replay: interrupted: writing what was replayed (again to abort)\n");
        },
        [](int) { return 2; });
    std::size_t rs = 0;
    for (const auto& d : datagrams) rs += d.router_solicitation ? 1 : 0;
    if (r->role == "server") {
      std::cerr << fmt::format("teredo-conform replay: {} datagram(s) to a Teredo server in {} ({} RS), into {} server\n",
                               datagrams.size(), r->pcap, rs, adapter.name);
    } else {
      std::cerr << fmt::format("teredo-conform replay: {} datagram(s) for a {} in {}, into {} {}\n",
                               relay_inputs.size(), r->role, r->pcap, adapter.name, r->role);
    }
    const std::size_t total = r->role == "server" ? datagrams.size() : relay_inputs.size();
    json result;
    try {
      result = r->role == "server"
                   ? fuzz::replay_server(adapter, r->pcap, datagrams, r->out, g_replay_interrupted)
                   : fuzz::replay_through_rig(adapter, r->role, r->pcap, relay_inputs, r->out, g_replay_interrupted);
    } catch (const AdapterError& e) {
      throw InputError(std::string("the IUT: ") + e.what());
    }
    for (const auto& x : result["results"]) {
      if (x["outcome"] != "sent") {
        std::cerr << fmt::format("  {:<12} {:<15} {}\n", x["outcome"].get<std::string>(),
                                 x["requirement"].is_null() ? std::string("harness rule")
                                                            : x["requirement"].get<std::string>(),
                                 x["observed"].get<std::string>());
      }
    }
    std::cerr << fmt::format("teredo-conform replay: {} of {} replayed: {}; {}/replay/replay.json (exit {})\n",
                             result["replayed"].get<std::size_t>(), total, result["counts"].dump(), r->out,
                             result["exit_code"].get<int>());
    return result["exit_code"].get<int>();
  }});
  commands.push_back({fuzz, [a] {
             if (const auto roles = fuzz::fuzzed_roles(); std::find(roles.begin(), roles.end(), a->role) == roles.end()) {
               throw InputError(fmt::format("--role {}: the roles fuzzed are {}", a->role, fmt::join(roles, ", ")));
             }
             Adapter adapter;
             try {
               adapter = load_adapter(a->iut);
             } catch (const AdapterError& e) {
               throw InputError(e.what());
             }
             if (!adapter.roles.count(a->role)) {
               throw InputError(fmt::format("adapter {} has no {} role", adapter.name, a->role));
             }
             require_lab_root("fuzz");  // it builds a network-namespace lab
             check_writable(a->out);
             fuzz::FuzzOptions options;
             options.seed = a->seed;
             options.duration_s = a->duration;
             options.datagrams = a->datagrams;
             options.probe_every = a->probe_every;
             options.minimize_calls = a->minimize_calls;
             options.minimize_seconds = a->minimize_seconds;
             options.rss_growth_mb = a->rss_growth_mb;
             options.out_dir = a->out;
             options.command_line = command_line();
             // The first signal stops the run (the findings so far are
             // written, the lab goes down); a second writes what is known and
             // tears down at once (netns::install_teardown_on_signals).
             netns::install_teardown_on_signals(
                 [](int) {
                   g_fuzz_interrupted = true;
                   std::fprintf(stderr, "\nteredo-conform fuzz: interrupted: writing the findings (again to abort)\n");
                 },
                 [](int) {
                   const json summary = fuzz::running_fuzz_summary();
                   return summary.is_null() ? 2 : exit_code(summary);
                 });
             std::cerr << fmt::format("teredo-conform fuzz: {} {} for at most {} datagrams / {} s, seed {}, out {}\n",
                                      adapter.name, a->role, a->datagrams, a->duration, a->seed, a->out);
             json summary;
             try {
               summary = fuzz::fuzz_iut(adapter, a->role, options, g_fuzz_interrupted);
             } catch (const AdapterError& e) {
               throw InputError(std::string("the IUT: ") + e.what());
             }
             return write_fuzz_outputs(summary, adapter, a->out);
           }});
  return commands;
}

}  // namespace teredo::cli
