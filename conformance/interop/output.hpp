// The interop run's outputs, rendered from interop.json alone (pure: JSON in,
// text out): interop.json itself (interop.schema.json beside this file is its
// one definition), junit.xml (one testcase per cell × scenario, outcomes as
// the gate counts them) and interop.html (a grid per NAT profile: client rows
// × server/relay columns, a letter per scenario coloured by verdict, linking
// to the cell's captures and logs).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "interop/cell_runner.hpp"
#include "interop/plan.hpp"

namespace teredo::conformance::interop {

inline constexpr const char* kInteropFormat = "teredo-interop";
inline constexpr const char* kInteropVersion = "1.0";
std::string interop_schema_path();

struct RunFacts {
  std::string started;       // RFC 3339 UTC
  std::int64_t duration_ms = 0;
  std::string command_line;
};

nlohmann::json interop_json(const Plan& plan, const std::vector<CellResult>& cells, const RunFacts& facts);
// 2 when a verdict is error, else 1 when one fails, else 4 when one is
// inconclusive, else 0: the run gate's rule (reports/.../gate.hpp
// cases_exit_code) over every cell × scenario.
int interop_exit_code(const nlohmann::json& interop);
// {"pass": n, "fail": n, ...} over every cell × scenario.
nlohmann::json verdict_counts(const nlohmann::json& interop);
// The grid alone, for comparing two runs: "cell letter verdict party" lines.
std::string grid_text(const nlohmann::json& interop);

std::string render_interop_junit(const nlohmann::json& interop);
std::string render_interop_html(const nlohmann::json& interop);

// Several interop.json (each already valid against the schema) as one: the
// plans' adapters, NAT profiles (nat_profiles() order) and scenarios (grid
// order) united, every cell once, its `dir` made relative to `out_dir` so the
// links still reach the captures. `sources[i]` is the path inputs[i] was read
// from. Throws std::invalid_argument naming the two files when the same
// cell's scenario has a verdict in both (one grid, no silent choice).
nlohmann::json combine_interop(const std::vector<nlohmann::json>& inputs, const std::vector<std::string>& sources,
                               const std::string& out_dir, const std::string& command_line);

// Writes interop.json, junit.xml and interop.html into out_dir.
void write_interop_files(const nlohmann::json& interop, const std::string& out_dir);

}  // namespace teredo::conformance::interop
