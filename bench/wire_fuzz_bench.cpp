// bench_wire_fuzz (needs root): the wire fuzzer's figures (issue 13), all in
// one run, printed, never asserted:
//  1. a plain UDP flood at teredo-ref server: the fuzzer's own datagrams
//     (same seed, same generator), built before timing and sent with sendmmsg
//     from one socket, no liveness probe, no capture, no log scan;
//  2. `teredo-conform fuzz --iut reference` with a probe every 1,000
//     datagrams: its rate, and where its fuzzing time went (the summary's
//     time_s: generating, sending, judging);
//  3. `teredo-conform fuzz minimize` of a 10,000-datagram capture holding one
//     datagram that crashes tests/fuzz/iuts/planted_server.py: the wall time
//     to the 1-datagram reproducer and the fresh IUTs it took.
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "capture/pcap_file.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/rig.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/netns/topology.hpp"
#include "teredo/wire/wire.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace teredo::wire;
using Clock = std::chrono::steady_clock;
namespace fuzz = teredo::conformance::fuzz;

// The defect planted_server.py crashes on: an authentication header whose
// ID-len + AU-len run past the payload.
bool planted_defect(Bytes p) {
  return p.size() >= 4 && p[0] == 0 && p[1] == 1 && std::size_t{4} + p[2] + p[3] > p.size();
}

int run_process(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (std::freopen(log.c_str(), "w", stderr) == nullptr) ::_exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, false);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_wire_fuzz: the wire fuzzer's rate beside a plain UDP flood, and its minimization (needs root)"};
  std::uint64_t datagrams = 200000, seed = 1;
  std::size_t history = 10000;
  std::string work = "/tmp/bench-wire-fuzz";
  app.add_option("--datagrams", datagrams, "Datagrams for the flood and for the fuzz run")->check(CLI::Range(1000, 100000000));
  app.add_option("--history", history, "Datagrams of the capture to minimize")->check(CLI::Range(2, 1000000));
  app.add_option("--seed", seed, "Generator seed");
  app.add_option("--work", work, "Scratch directory (outputs of the runs)");
  CLI11_PARSE(app, argc, argv);
  if (::geteuid() != 0) {
    fmt::print(stderr, "bench_wire_fuzz needs root (network namespaces)\n");
    return 2;
  }
  teredo::netns::install_teardown_on_signals();
  fs::create_directories(work);
  auto rig = fuzz::make_rig("server", seed);
  fuzz::DatagramGenerator generator(seed, rig->context());
  std::vector<ByteVector> built;
  built.reserve(datagrams);
  for (std::uint64_t i = 0; i < datagrams; ++i) built.push_back(generator.next().payload);

  // 1. The plain flood.
  double flood_rate = 0;
  {
    auto lab = teredo::netns::Lab::up(
        teredo::netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/server-only.json"));
    const pid_t server = lab->spawn("server", {TEREDO_REF_BIN, "server", "--primary", "203.0.113.1", "--secondary",
                                               "203.0.113.2"},
                                    lab->run_dir() + "/teredo-ref.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const int fd = fuzz::bind_driver_socket(*lab, 41000);
    const auto t0 = Clock::now();
    for (std::size_t at = 0; at < built.size(); at += 64) {
      std::vector<const ByteVector*> batch;
      for (std::size_t i = at; i < std::min(built.size(), at + 64); ++i) batch.push_back(&built[i]);
      fuzz::send_batch(fd, "203.0.113.1", 3544, batch);
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    flood_rate = static_cast<double>(built.size()) / elapsed;
    ::close(fd);
    fmt::print("plain UDP flood at teredo-ref server: {} datagrams in {:.2f} s: {:.0f}/s (server alive: {})\n",
               built.size(), elapsed, flood_rate, teredo::netns::process_alive(server) ? "yes" : "no");
  }

  // 2. The fuzzer at the same server, probe every 1,000.
  {
    const std::string out = work + "/fuzz-reference";
    fs::remove_all(out);
    const int code = run_process({TEREDO_CONFORM_BIN, "fuzz", "--iut", "reference", "--seed", std::to_string(seed),
                                  "--datagrams", std::to_string(datagrams), "--probe-every", "1000", "--duration",
                                  "600", "--out", out},
                                 work + "/fuzz-reference.log");
    const json s = read_json(out + "/fuzz/summary.json");
    if (s.is_discarded()) {
      fmt::print("teredo-conform fuzz: exit {}, no summary (see {}/fuzz-reference.log)\n", code, work);
      return 1;
    }
    const double rate = s["rate_per_s"].get<double>();
    const double fuzzing = s["fuzzing_s"].get<double>();
    const json& t = s["time_s"];
    const double generating = t["generating"].get<double>(), sending = t["sending"].get<double>(),
                 judging = t["judging"].get<double>();
    fmt::print("teredo-conform fuzz --iut reference, probe every 1000: {} datagrams in {:.2f} s: {:.0f}/s ({:.0f}% of "
               "the flood), {} probes ({} failed), {} finding(s), exit {}\n",
               s["datagrams_sent"].get<std::uint64_t>(), fuzzing, rate, 100.0 * rate / flood_rate,
               s["probes"]["sent"].get<std::uint64_t>(), s["probes"]["failed"].get<std::uint64_t>(),
               s["findings"].size(), code);
    fmt::print("  where the fuzzing time went: generating {:.2f} s ({:.0f}%), sending {:.2f} s ({:.0f}%), judging "
               "(capture, log, probes) {:.2f} s ({:.0f}%), the rest {:.2f} s\n",
               generating, 100 * generating / fuzzing, sending, 100 * sending / fuzzing, judging,
               100 * judging / fuzzing, fuzzing - generating - sending - judging);
  }

  // 3. Minimizing a long history to the one datagram that crashes.
  {
    const std::string pcap = work + "/history.pcap";
    {
      teredo::capture::PcapWriter writer(pcap, 1 /* Ethernet */);
      const Ipv4UdpEndpoints e{*parse_ipv4("198.51.100.7"), 41000, *parse_ipv4("203.0.113.1"), 3544};
      const std::size_t crash_at = history * 7321 / 10000;
      std::size_t written = 0;
      std::int64_t t = 0;
      for (const ByteVector& d : built) {
        if (written == history) break;
        if (planted_defect(d)) continue;
        if (written == crash_at) {
          const ByteVector crash = {0x00, 0x01, 0x20, 0x20, 0x60, 0, 0, 0};
          writer.write(t += 1000, build_ethernet_ipv4_udp(e, crash));
          ++written;
          continue;
        }
        writer.write(t += 1000, build_ethernet_ipv4_udp(e, d));
        ++written;
      }
      writer.close();
    }
    const std::string adapter = work + "/planted-server.json";
    std::ofstream(adapter) << json{
        {"name", "planted-server"},
        {"roles",
         {{"server",
           {{"command", {"python3", std::string(TEREDO_SOURCE_DIR) + "/tests/fuzz/iuts/planted_server.py", "--bug",
                         "crash", "{server_v4}", "{server_v4_secondary}"}},
            {"ready", {{"kind", "log-line"}, {"pattern", "planted_server ready"}, {"timeout_ms", 20000}}}}}}}}
                                  .dump(2);
    const std::string out = work + "/minimize";
    fs::remove_all(out);
    const auto t0 = Clock::now();
    const int code = run_process({TEREDO_CONFORM_BIN, "fuzz", "minimize", "--iut", adapter, "--pcap", pcap, "--out",
                                  out},
                                 work + "/minimize.log");
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const json s = read_json(out + "/fuzz/summary.json");
    if (s.is_discarded() || s["findings"].empty() || s["findings"][0]["dir"].is_null()) {
      fmt::print("teredo-conform fuzz minimize: exit {}, no finding (see {}/minimize.log)\n", code, work);
      return 1;
    }
    const json f = read_json(out + "/" + s["findings"][0]["dir"].get<std::string>() + "/finding.json");
    fmt::print("minimize a {}-datagram capture with one crashing datagram (planted_server.py): {} -> {} datagram(s), "
               "{} fresh IUTs, {:.1f} s minimizing, {:.1f} s wall for the whole command (exit {})\n",
               f["datagrams_before_minimization"].get<std::size_t>(), f["oracle"].get<std::string>(),
               f["datagrams_after_minimization"].get<std::size_t>(),
               f["minimization"]["fresh_iut_runs"].get<std::size_t>(), f["minimization"]["seconds"].get<double>(),
               wall, code);
  }
  return 0;
}
