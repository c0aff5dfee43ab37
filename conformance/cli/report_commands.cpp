// report render | matrix | merge | durations: views of report.json files
// after the fact, the report of a sharded run, the durations that balance
// shards.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "teredo/reports/json_schema.hpp"
#include "engine/runner.hpp"
#include "engine/shard.hpp"
#include "interop/output.hpp"
#include "teredo/reports/reports.hpp"

namespace teredo::cli {

namespace fs = std::filesystem;
using nlohmann::json;
namespace interop = teredo::conformance::interop;

namespace {

json parse_report(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("cannot open {}", path));
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw InputError(fmt::format("{}: malformed JSON at byte {}", path, e.byte));
  }
}

json read_report(const std::string& path) {
  json j = parse_report(path);
  const auto problems = reports::check_report(j);
  if (!problems.empty()) throw InputError(fmt::format("{}: not a valid report: {}", path, problems.front()));
  return j;
}

// The case IDs the unsharded run of `report`'s selection lists, in its order,
// from this build's case registry.
std::vector<std::string> selection_of(const reports::Report& report) {
  conformance::Adapter adapter;
  for (const std::string& role : report.iut.roles) adapter.roles[role] = {};
  conformance::RunOptions options;
  options.roles = report.run.selection.roles;
  options.cases = report.run.selection.cases;
  std::vector<std::string> ids;
  for (const auto* spec : conformance::select_cases(adapter, options)) ids.push_back(spec->id);
  return ids;
}

// The evidence of each case of a shard (its cases/<ID> directory, every
// attempt) copied under `out`, so the merged report's paths stay valid.
void copy_evidence(const reports::Report& shard, const fs::path& shard_dir, const fs::path& out) {
  for (const reports::Case& c : shard.cases) {
    const fs::path rel = fs::path("cases") / c.case_id;
    const fs::path from = shard_dir / rel, to = out / rel;
    std::error_code ec;
    if (!fs::exists(from, ec)) continue;  // a case judged without running has none
    if (fs::exists(to, ec) && fs::equivalent(from, to, ec)) continue;
    fs::create_directories(to, ec);
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) throw InputError(fmt::format("cannot copy the evidence {} to {}: {}", from.string(), to.string(), ec.message()));
  }
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("cannot open {}", path));
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw InputError(fmt::format("{}: malformed JSON at byte {}", path, e.byte));
  }
}

// An interop.json (teredo-conform interop) rather than a report.json.
bool is_interop(const std::string& path) {
  const json j = read_json(path);
  return j.is_object() && j.value("format", "") == interop::kInteropFormat;
}

// `report matrix` over interop.json files: one grid across them, written as
// interop.json (valid against its schema), interop.html and junit.xml.
int interop_matrix(const std::vector<std::string>& inputs, const std::string& out) {
  const auto schema = schema::JsonSchema::load(interop::interop_schema_path());
  std::vector<json> all;
  for (const std::string& path : inputs) {
    json j = read_json(path);
    if (j.value("format", "") != interop::kInteropFormat) {
      throw InputError(fmt::format("{}: not an interop.json (give report.json files or interop.json files, not both)",
                                   path));
    }
    if (const auto problems = schema.validate(j); !problems.empty()) {
      throw InputError(fmt::format("{}: not a valid interop.json: {}", path, to_string(problems.front())));
    }
    all.push_back(std::move(j));
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError(fmt::format("--out {}: cannot create it: {}", out, ec.message()));
  json combined;
  try {
    combined = interop::combine_interop(all, inputs, out, command_line());
  } catch (const std::invalid_argument& e) {
    throw InputError(std::string("report matrix: ") + e.what());
  }
  if (const auto problems = schema.validate(combined); !problems.empty()) {
    throw InputError(fmt::format("internal: the combined interop.json breaks its schema: {}", to_string(problems.front())));
  }
  interop::write_interop_files(combined, out);
  const json& counts = combined["summary"]["counts"];
  std::cout << fmt::format(
      "wrote {0}/interop.json, {0}/interop.html and {0}/junit.xml: {1} files, {2} cells, {3} pass, {4} fail, {5} "
      "inconclusive, {6} not-applicable, {7} error\n",
      out, inputs.size(), combined["cells"].size(), counts["pass"].get<int>(), counts["fail"].get<int>(),
      counts["inconclusive"].get<int>(), counts["not-applicable"].get<int>(), counts["error"].get<int>());
  return kExitOk;
}

}  // namespace

std::vector<Command> add_report_commands(CLI::App& app) {
  std::vector<Command> commands;
  auto* report = app.add_subcommand("report", "Render views of report.json files");
  report->require_subcommand(1);

  struct RenderArgs {
    std::string input, out;
  };
  auto r = std::make_shared<RenderArgs>();
  auto* render = report->add_subcommand("render", "Write junit.xml and report.html for a report.json");
  render->add_option("REPORT", r->input, "report.json")->required();
  render->add_option("--out", r->out, "Output directory (default: the report's own)");
  commands.push_back({render, [r] {
                        const json j = read_report(r->input);
                        const std::string out = r->out.empty() ? fs::path(r->input).parent_path().string() : r->out;
                        reports::write_reports(j, out.empty() ? "." : out);
                        std::cout << fmt::format("wrote {}/junit.xml and report.html\n", out.empty() ? "." : out);
                        return kExitOk;
                      }});

  auto checked = std::make_shared<std::vector<std::string>>();
  auto* check = report->add_subcommand(
      "check", "Check report.json files against the report's schema and the rules across its fields (exit 0 sound, 2 not)");
  check->add_option("REPORT", *checked, "report.json files")->required();
  commands.push_back({check, [checked] {
                        int code = kExitOk;
                        for (const std::string& path : *checked) {
                          const auto problems = reports::check_report(parse_report(path));
                          for (const std::string& p : problems) std::cout << path << ": " << p << "\n";
                          if (problems.empty()) std::cout << path << ": sound (" << reports::schema_name() << " " << reports::schema_version() << ")\n";
                          else code = kExitInput;
                        }
                        return code;
                      }});

  struct MatrixArgs {
    std::vector<std::string> inputs;
    std::string out = ".";
  };
  auto m = std::make_shared<MatrixArgs>();
  auto* matrix = report->add_subcommand(
      "matrix",
      "Implementations x cases: matrix.html and matrix.md from report.json files; or, from interop.json files "
      "(teredo-conform interop), one grid across them: interop.json, interop.html and junit.xml");
  matrix->add_option("REPORTS", m->inputs,
                     "report.json files, one or more per implementation; or interop.json files (not both kinds)")
      ->required();
  matrix->add_option("--out", m->out, "Output directory");
  commands.push_back({matrix, [m] {
                        if (is_interop(m->inputs.front())) return interop_matrix(m->inputs, m->out);
                        std::vector<reports::Report> all;  // each read once, through the report's types
                        for (const auto& path : m->inputs) all.push_back(reports::report_from_json(read_report(path)));
                        fs::create_directories(m->out);
                        reports::write_file(m->out + "/matrix.html", reports::render_matrix_html(all));
                        reports::write_file(m->out + "/matrix.md", reports::render_matrix_markdown(all));
                        std::cout << fmt::format("wrote {0}/matrix.html and {0}/matrix.md\n", m->out);
                        return kExitOk;
                      }});

  struct MergeArgs {
    std::vector<std::string> inputs;
    std::string out;
  };
  auto g = std::make_shared<MergeArgs>();
  auto* merge = report->add_subcommand(
      "merge", "Join the report.json of shards 1..N of one run (run --shard K/N) into the report of the whole run; "
               "exits with its gate's code");
  merge->add_option("REPORTS", g->inputs, "report.json of each shard")->required();
  merge->add_option("--out", g->out, "Output directory: report.json, junit.xml, report.html and the evidence")
      ->required();
  commands.push_back({merge, [g] {
                        std::vector<reports::Report> shards;  // each read once, through the report's types
                        for (const auto& path : g->inputs) shards.push_back(reports::report_from_json(read_report(path)));
                        json merged;
                        try {
                          merged = conformance::merge_shard_reports(shards, g->inputs, selection_of(shards.front()),
                                                                    command_line());
                        } catch (const conformance::MergeError& e) {
                          throw InputError(std::string("report merge: ") + e.what());
                        }
                        std::error_code ec;
                        fs::create_directories(g->out, ec);
                        if (ec) throw InputError(fmt::format("--out {}: cannot create it: {}", g->out, ec.message()));
                        for (std::size_t i = 0; i < shards.size(); ++i) {
                          const fs::path dir = fs::path(g->inputs[i]).parent_path();
                          copy_evidence(shards[i], dir.empty() ? fs::path(".") : dir, g->out);
                        }
                        write_report_files(merged, g->out);
                        const int code = merged["gate"]["exit_code"];
                        print_summary(merged, code, g->out);
                        return code;
                      }});

  auto durations_inputs = std::make_shared<std::vector<std::string>>();
  auto* durations = report->add_subcommand(
      "durations", "Print the case durations table (conformance/catalog/case_durations.json) from reports");
  durations->add_option("REPORTS", *durations_inputs, "report.json of a full run (or its shards)")->required();
  commands.push_back({durations, [durations_inputs] {
                        std::vector<json> all;
                        for (const auto& path : *durations_inputs) all.push_back(read_report(path));
                        std::cout << conformance::case_durations_from_reports(all).dump(2) << '\n';
                        return kExitOk;
                      }});
  return commands;
}

}  // namespace teredo::cli
