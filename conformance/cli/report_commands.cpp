// report render | matrix: views of report.json files after the fact.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "teredo/reports/reports.hpp"

namespace teredo::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json read_report(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("cannot open {}", path));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw InputError(fmt::format("{}: malformed JSON at byte {}", path, e.byte));
  }
  const auto problems = reports::check_report(j);
  if (!problems.empty()) throw InputError(fmt::format("{}: not a valid report: {}", path, problems.front()));
  return j;
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

  struct MatrixArgs {
    std::vector<std::string> inputs;
    std::string out = ".";
  };
  auto m = std::make_shared<MatrixArgs>();
  auto* matrix = report->add_subcommand("matrix", "Implementations x cases: matrix.html and matrix.md");
  matrix->add_option("REPORTS", m->inputs, "report.json files, one or more per implementation")->required();
  matrix->add_option("--out", m->out, "Output directory");
  commands.push_back({matrix, [m] {
                        std::vector<json> all;
                        for (const auto& path : m->inputs) all.push_back(read_report(path));
                        fs::create_directories(m->out);
                        reports::write_file(m->out + "/matrix.html", reports::render_matrix_html(all));
                        reports::write_file(m->out + "/matrix.md", reports::render_matrix_markdown(all));
                        std::cout << fmt::format("wrote {0}/matrix.html and {0}/matrix.md\n", m->out);
                        return kExitOk;
                      }});
  return commands;
}

}  // namespace teredo::cli
