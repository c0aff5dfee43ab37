// fuzz: the wire fuzzer against an IUT (issue 13; this slice: the server
// role). See fuzz/server_session.hpp for what it does and finds.
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "engine/iut_adapter.hpp"
#include "engine/runner.hpp"
#include "capture/pcap_file.hpp"
#include "fuzz/replay_session.hpp"
#include "fuzz/server_session.hpp"
#include "teredo/reports/gate.hpp"
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

// The datagrams a capture sent to a Teredo server, in capture order.
std::vector<fuzz::ReplayDatagram> datagrams_to_servers(const std::string& path) {
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
  std::vector<fuzz::ReplayDatagram> out;
  capture::Frame frame;
  for (;;) {
    const auto status = reader.next(frame);
    if (status == capture::PcapReader::Status::end) break;
    if (status == capture::PcapReader::Status::error) {
      throw InputError(fmt::format("--pcap {}: after frame {}: {}", path, frame.number, reader.error()));
    }
    if (auto d = fuzz::to_teredo_server(frame.number, link, frame.data)) out.push_back(std::move(*d));
  }
  return out;
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
  fuzz->add_option("--role", a->role, "The IUT's role (server; relay and client are not fuzzed yet)");
  fuzz->add_option("--duration", a->duration, "Seconds of fuzzing at most (minimization not counted)")
      ->check(CLI::Range(0.1, 86400.0));
  fuzz->add_option("--datagrams", a->datagrams, "Generated datagrams at most")->check(CLI::Range(1, 1000000000));
  fuzz->add_option("--seed", a->seed, "Seed of the datagram generator: the same seed sends the same datagrams")
      ->check(CLI::Range(std::uint64_t{0}, kMaxSeed));
  fuzz->add_option("--probe-every", a->probe_every, "A liveness probe (a valid RS) every this many datagrams")
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
      "replay", "Replay the datagrams a capture sent to a Teredo server into the IUT server of a lab and judge the answers");
  replay->add_option("--iut", r->iut, "IUT adapter: a name from conformance/iut (reference, miredo) or a JSON file");
  replay->add_option("--role", r->role, "The IUT's role (server; relay and client are not replayed yet)");
  replay->add_option("--pcap", r->pcap, "The capture (pcap or pcapng; a finding's reproducer.pcap, a sample, a real one)")
      ->required();
  replay->add_option("--out", r->out, "Output directory: OUT/replay/replay.json and OUT/replay/iut.log");
  std::vector<Command> commands;
  commands.push_back({replay, [r] {
    if (r->role != "server") throw InputError(fmt::format("--role {}: only the server role is replayed so far", r->role));
    Adapter adapter;
    try {
      adapter = load_adapter(r->iut);
    } catch (const AdapterError& e) {
      throw InputError(e.what());
    }
    if (!adapter.roles.count("server")) throw InputError(fmt::format("adapter {} has no server role", adapter.name));
    const auto datagrams = datagrams_to_servers(r->pcap);
    if (::geteuid() != 0) throw InputError("replay needs root: it builds a network-namespace lab");
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
    std::cerr << fmt::format("teredo-conform replay: {} datagram(s) to a Teredo server in {} ({} RS), into {} server\n",
                             datagrams.size(), r->pcap, rs, adapter.name);
    json result;
    try {
      result = fuzz::replay_server(adapter, r->pcap, datagrams, r->out, g_replay_interrupted);
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
                             result["replayed"].get<std::size_t>(), datagrams.size(), result["counts"].dump(), r->out,
                             result["exit_code"].get<int>());
    return result["exit_code"].get<int>();
  }});
  commands.push_back({fuzz, [a] {
             if (a->role != "server") {
               throw InputError(fmt::format("--role {}: only the server role is fuzzed so far", a->role));
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
             if (::geteuid() != 0) throw InputError("fuzz needs root: it builds a network-namespace lab");
             check_writable(a->out);
             fuzz::ServerFuzzOptions options;
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
               summary = fuzz::fuzz_server(adapter, options, g_fuzz_interrupted);
             } catch (const AdapterError& e) {
               throw InputError(std::string("the IUT: ") + e.what());
             }
             std::cerr << fmt::format("teredo-conform fuzz: {} datagrams at {:.0f}/s, {} finding(s); {}/fuzz/summary.json\n",
                                      summary["datagrams_sent"].get<std::uint64_t>(), summary["rate_per_s"].get<double>(),
                                      summary["findings"].size(), a->out);
             for (const auto& f : summary["findings"]) {
               std::cerr << fmt::format("  {}: {} ({}), {} datagram(s) after minimization: {}/{}\n",
                                        f["id"].get<std::string>(), f["oracle"].get<std::string>(),
                                        f["signature"].get<std::string>(), f["datagrams_after_minimization"].get<std::size_t>(),
                                        a->out, f["dir"].get<std::string>());
             }
             return exit_code(summary);
           }});
  return commands;
}

}  // namespace teredo::cli
