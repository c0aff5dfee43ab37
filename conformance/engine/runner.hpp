// Runs the selected cases against an IUT, one lab per case, `jobs` at a
// time, with bounded visible retries, and assembles report.json
// (reports/FORMAT.md). The gate turns the report into an exit code.
#pragma once

#include <atomic>
#include <cstdint>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "teredo/reports/report.hpp"

#include "engine/case.hpp"
#include "engine/catalog.hpp"
#include "engine/iut_adapter.hpp"
#include "engine/schedule.hpp"
#include "engine/shard.hpp"

namespace teredo::conformance {

struct RunOptions {
  std::vector<std::string> roles;  // empty: every role the adapter offers
  std::string cases = "*";         // glob over case IDs
  // Labs (cases) at once; kJobsAuto: as many as engine/schedule.hpp allows.
  // Either way the CPU-heavy phases run at most one per core at once and the
  // longest cases start first.
  int jobs = 1;
  int retries = 1;                 // extra attempts after a fail/warn/error; disagreement is "flaky"
  std::uint64_t seed = 1;                  // the master seed: case i of the selection gets seed*1000+i
  std::optional<std::uint64_t> case_seed;  // --case-seed: the seed of the run's only case (its reproducer)
  std::string out_dir = "out";
  bool strict = false;             // SHOULD failures fail the gate too
  std::string baseline;            // report.json or {"known_failures": [...]}: accepted failures
  std::string command_line;
  // Per case attempt, each capture file and the IUT's log keep at most this
  // many bytes; the report says when a cap was hit (code evidence_capped).
  std::uint64_t evidence_cap_bytes = Capture::kDefaultCapBytes;
  // --shard K/N: only shard K of the selection (engine/shard.hpp); each case
  // keeps the seed of its place in the whole selection.
  std::optional<ShardSpec> shard;
};

// Seeds stay at most 2^53-1, so every seed in report.json reads back exactly
// in any JSON reader (JavaScript and many others hold numbers as doubles).
inline constexpr std::uint64_t kMaxSeed = (std::uint64_t{1} << 53) - 1;
// The largest master seed: case i gets seed*1000+i and its retries the seeds
// after it, all within kMaxSeed (check_seeds checks the actual selection).
inline constexpr std::uint64_t kMaxMasterSeed = kMaxSeed / 1000 - 1;

// The seed of the case at `index` of the selection: --case-seed when given,
// else seed*1000+index. Attempt n of the case runs with this seed + n - 1.
std::uint64_t case_seed(const RunOptions& options, std::size_t index);
// Why the seeds of a run of `selected` cases are refused ("" when they are
// not): --case-seed with more than one case, or a seed of some attempt past
// kMaxSeed.
std::string check_seeds(const RunOptions& options, std::size_t selected);

// `text` as one word of a POSIX shell: as is when it has only characters no
// shell treats specially, else in single quotes, a ' inside written '\''.
std::string shell_quote(const std::string& text);
// Each word shell_quote'd, joined by spaces.
std::string shell_join(const std::vector<std::string>& words);

struct Progress {
  std::size_t done = 0, total = 0, failures = 0;
  double elapsed_s = 0;
  std::string last_case, last_verdict;
};

// What is wrong with the case definitions, one line each (empty: nothing):
// duplicate IDs, a role no adapter has, a requirement the catalog lacks, a
// capability the table does not know, a topology that does not load, a NAT
// profile that is unknown or whose topology has no NAT to apply it to, a
// vantage point on a host the topology lacks. Such a case would run in a lab
// other than the one its verdict claims (a profile silently unused), or
// fail as a harness error only when it runs. `run` and `list` refuse to
// start on any (exit 2).
std::vector<std::string> case_spec_problems(const std::vector<CaseSpec>& cases, const Catalog& catalog,
                                            const std::string& topologies_dir);

// The cases `options` selects for `adapter`, in registry order.
std::vector<const CaseSpec*> select_cases(const Adapter& adapter, const RunOptions& options);

// One run of the selected cases, one lab each, longest expected first, as
// many at once as the Concurrency of `jobs` allows (engine/schedule.hpp). The
// verdicts finished so far can be read from another thread while run()
// works: a second Ctrl-C writes them as an incomplete report before the labs
// go down.
class Suite {
 public:
  // Throws std::runtime_error when the case durations table (the run's
  // order, and --shard's partition) is malformed.
  Suite(const Adapter& adapter, const Catalog& catalog, RunOptions options);
  // The cases this run runs: the selection, or its shard.
  [[nodiscard]] const std::vector<const CaseSpec*>& selected() const noexcept { return selected_; }
  // The size of the whole selection (the seeds run up to it).
  [[nodiscard]] std::size_t selection_size() const noexcept { return selection_size_; }
  // Labs and CPU-heavy phases at once.
  [[nodiscard]] const Concurrency& concurrency() const noexcept { return concurrency_; }
  // The positions in selected() in the order the cases start.
  [[nodiscard]] const std::vector<std::size_t>& order() const noexcept { return order_; }
  // The critical path of the cases finished so far (describe_critical_path);
  // "" when none ran.
  [[nodiscard]] std::string critical_path() const;
  // Runs the cases until all are done or `interrupted` (cases finishing
  // after it are not reported).
  void run(const std::function<void(const Progress&)>& progress, const std::atomic<bool>& interrupted);
  // report.json, without the gate, from the verdicts finished so far:
  // complete when every selected case finished and nothing interrupted.
  [[nodiscard]] nlohmann::json report(bool interrupted) const;
  // No verdict is recorded from now on: a report being written stays true.
  void freeze();

 private:
  const Adapter& adapter_;
  const Catalog& catalog_;
  RunOptions options_;
  std::vector<const CaseSpec*> selected_;
  std::vector<std::size_t> positions_;  // of selected_[i] in the whole selection: its seed
  std::size_t selection_size_ = 0;
  std::vector<std::size_t> order_;      // of selected_, longest expected first
  Concurrency concurrency_;
  std::chrono::steady_clock::time_point start_;
  std::string started_at_;
  mutable std::mutex mutex_;
  std::vector<reports::Case> results_;
  std::vector<bool> finished_;
  std::vector<CaseTiming> timings_;
  bool frozen_ = false;
  Progress progress_;
};

// Suite::run then Suite::report.
nlohmann::json run_suite(const Adapter& adapter, const Catalog& catalog, const RunOptions& options,
                         const std::function<void(const Progress&)>& progress, const std::atomic<bool>& interrupted);

// The case IDs a baseline accepts as known failures: a previous report.json
// (its fail, warn and flaky cases) or {"known_failures": [...]}. Empty path:
// none. Throws std::runtime_error (one line) when the file cannot be read or
// is neither.
std::set<std::string> load_baseline(const std::string& path);

// Fills report["gate"] and returns the exit code: 0 pass, 1 a MUST failed
// (a SHOULD too under strict), 2 a harness error or an incomplete run.
int apply_gate(nlohmann::json& report, bool strict, const std::string& baseline_path,
               const std::set<std::string>& known_failures);
// The same, reading the baseline (load_baseline).
int apply_gate(nlohmann::json& report, bool strict, const std::string& baseline_path);
// The same on the typed report (the JSON forms read into it once).
int apply_gate(reports::Report& report, bool strict, const std::string& baseline_path,
               const std::set<std::string>& known_failures);

// summary.coverage.percent: 100 * covered / testable to one decimal, 0 when
// nothing is testable.
double coverage_percent(std::size_t covered, std::size_t testable);
// The parts of report.json every writer shares (reports/FORMAT.md): run,
// iut, one entry of requirements; the UTC time as report.json writes it
// and a file's SHA-256 (evidence).
reports::Run report_run(const std::string& started_at, std::int64_t duration_ms,
                        const std::vector<std::string>& roles, const RunOptions& options);
reports::Iut report_iut(const Adapter& adapter);
reports::Requirement requirement_entry(const Requirement& requirement, std::vector<std::string> covered_by);
std::string utc_now();
std::string file_sha256(const std::string& path);

// Requirement coverage of a role set by the registered cases (for `list --coverage`).
nlohmann::json coverage(const Catalog& catalog, const std::vector<std::string>& roles,
                        const std::vector<const CaseSpec*>& cases);

}  // namespace teredo::conformance
