// Runs the selected cases against an IUT, one lab per case, `jobs` at a
// time, with bounded visible retries, and assembles report.json
// (reports/FORMAT.md). The gate turns the report into an exit code.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/case.hpp"
#include "engine/catalog.hpp"
#include "engine/iut_adapter.hpp"

namespace teredo::conformance {

struct RunOptions {
  std::vector<std::string> roles;  // empty: every role the adapter offers
  std::string cases = "*";         // glob over case IDs
  int jobs = 1;
  int retries = 1;                 // extra attempts after a fail/warn/error; disagreement is "flaky"
  std::uint64_t seed = 1;
  std::string out_dir = "out";
  bool strict = false;             // SHOULD failures fail the gate too
  std::string baseline;            // report.json or {"known_failures": [...]}: accepted failures
  std::string command_line;
};

struct Progress {
  std::size_t done = 0, total = 0, failures = 0;
  double elapsed_s = 0;
  std::string last_case, last_verdict;
};

// The cases `options` selects for `adapter`, in registry order.
std::vector<const CaseSpec*> select_cases(const Adapter& adapter, const RunOptions& options);

nlohmann::json run_suite(const Adapter& adapter, const Catalog& catalog, const RunOptions& options,
                         const std::function<void(const Progress&)>& progress, const std::atomic<bool>& interrupted);

// Fills report["gate"] and returns the exit code: 0 pass, 1 a MUST failed
// (a SHOULD too under strict), 2 a harness error or an incomplete run.
int apply_gate(nlohmann::json& report, bool strict, const std::string& baseline_path);

// Requirement coverage of a role set by the registered cases (for `list --coverage`).
nlohmann::json coverage(const Catalog& catalog, const std::vector<std::string>& roles,
                        const std::vector<const CaseSpec*>& cases);

}  // namespace teredo::conformance
