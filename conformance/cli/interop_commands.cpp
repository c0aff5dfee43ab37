// teredo-conform interop: every client × server × relay × NAT profile
// combination of the given adapters, each cell a lab of its own, each
// scenario letter judged from the cell's captures
// (conformance/interop/README.md).
#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "teredo/reports/json_schema.hpp"
#include "interop/cell_runner.hpp"
#include "interop/output.hpp"
#include "interop/plan.hpp"

namespace teredo::cli {

namespace fs = std::filesystem;
namespace interop = teredo::conformance::interop;

namespace {

// --out must be a directory we can write in: checked before anything runs.
void check_out_dir(const std::string& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw InputError(fmt::format("--out {}: cannot create it: {}", out_dir, ec.message()));
  const std::string probe = out_dir + "/.interop-write-check";
  {
    std::ofstream f(probe);
    f << "x";
    if (!f) throw InputError(fmt::format("--out {}: cannot write in it", out_dir));
  }
  fs::remove(probe, ec);
}

std::string one_result(const interop::Finding& f) {
  return fmt::format("{} {}{}", f.scenario, f.verdict, f.party.empty() ? "" : " (" + f.party + ")");
}

}  // namespace

std::vector<Command> add_interop_commands(CLI::App& app) {
  struct Args {
    std::vector<std::string> clients, servers, relays, nats;
    std::string letters, out = "interop-out";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "interop",
      "Pairwise interop: each client x server x relay x NAT profile in a lab of its own, scenarios Q "
      "(qualification), N (ping6 both ways through the relay), D (two clients reach each other directly), L "
      "(local discovery behind one NAT), S (secure qualification), R (the NAT rebinds, N again from the new "
      "address), H (two clients through a hairpinning NAT) and E (D with the RFC 6081 extension made for a "
      "symmetric NAT kind on) judged from the captures; writes "
      "OUT/interop.json, OUT/junit.xml, OUT/interop.html and OUT/cells/<cell>/ (captures, logs). Exit 0 all "
      "pass, 1 a failure, 2 bad input or a harness error, 4 inconclusive only");
  cmd->add_option("--client", a->clients, "Client adapters, built-in names or files (default: every built-in with the role)")
      ->delimiter(',');
  cmd->add_option("--server", a->servers, "Server adapters (default: every built-in with the role)")->delimiter(',');
  cmd->add_option("--relay", a->relays, "Relay adapters (default: every built-in with the role)")->delimiter(',');
  cmd->add_option("--nat", a->nats, "NAT profiles, each also as <profile>+upnp (a UPnP IGD in the NAT; not linux-masquerade) (default: every profile, no +upnp)")->delimiter(',');
  cmd->add_option("--scenarios", a->letters, "Scenario letters, e.g. QN (default: every offered scenario, QNDLSRHE)");
  cmd->add_option("--out", a->out, "Output directory (default interop-out)");

  const auto run = [a]() -> int {
    interop::Plan plan;
    try {
      plan = interop::make_plan({a->clients, a->servers, a->relays, a->nats, a->letters});
    } catch (const interop::PlanError& e) {
      throw InputError(e.what());
    }
    check_out_dir(a->out);
    std::cout << interop::describe_plan(plan) << std::flush;
    if (::geteuid() != 0) throw InputError("interop builds network namespaces: run it as root");

    const std::string started = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<interop::CellResult> results;
    for (std::size_t i = 0; i < plan.cells.size(); ++i) {
      const interop::Cell& cell = plan.cells[i];
      interop::CellResult r = interop::run_cell(plan, cell, a->out);
      std::string line = fmt::format("[{}/{}] NAT {} client {} server {} relay {}:", i + 1, plan.cells.size(),
                                     cell.nat, cell.client, cell.server, cell.relay);
      for (const auto& f : r.findings) line += " " + one_result(f);
      std::cout << line << fmt::format(" ({:.1f} s)", static_cast<double>(r.duration_ms) / 1000.0) << std::endl;
      results.push_back(std::move(r));
    }
    const std::int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    const nlohmann::json report = interop::interop_json(plan, results, {started, ms, command_line()});
    // The file's one definition is the schema: a report that breaks it is a
    // harness bug, reported as such rather than written as if sound.
    const auto problems =
        schema::JsonSchema::load(interop::interop_schema_path()).validate(report);
    if (!problems.empty()) {
      throw InputError(fmt::format("internal: interop.json breaks its schema: {}", to_string(problems.front())));
    }
    interop::write_interop_files(report, a->out);
    std::cout << interop::direct_path_table(plan, results) << std::flush;
    const nlohmann::json& counts = report["summary"]["counts"];
    const int code = interop::interop_exit_code(report);
    std::cerr << fmt::format(
        "interop: {} cells, {} pass, {} fail, {} inconclusive, {} not-applicable, {} error in {:.1f} s; exit {}; "
        "{}/interop.html\n",
        results.size(), counts["pass"].get<int>(), counts["fail"].get<int>(), counts["inconclusive"].get<int>(),
        counts["not-applicable"].get<int>(), counts["error"].get<int>(), static_cast<double>(ms) / 1000.0, code,
        a->out);
    return code;
  };
  return {{cmd, run}};
}

}  // namespace teredo::cli
