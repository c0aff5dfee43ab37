// Shards: one selection of cases split over N machines (`run --shard K/N`)
// and their reports merged back into the report one run would have written
// (`report merge`).
//
// The partition depends on the selected case list and the committed table of
// expected durations (conformance/catalog/case_durations.json) alone, so every
// machine of a CI matrix computes the same shards: longest expected case
// first, each to the shard with the least expected time so far (LPT greedy;
// ties go to the case earlier in the selection and to the lower shard). A
// case the table does not know is expected to take the table's median.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "teredo/reports/report.hpp"

namespace teredo::conformance {

inline constexpr int kMaxShards = 64;

struct ShardSpec {
  int index = 1;  // 1..count
  int count = 1;  // 1..kMaxShards
};

// "K/N" with 1 <= K <= N <= kMaxShards, digits only; nullopt otherwise.
std::optional<ShardSpec> parse_shard(const std::string& text);

// Expected duration of each case, in ms, by case ID.
using CaseDurations = std::map<std::string, std::int64_t>;

// conformance/catalog/case_durations.json (TEREDO_CASE_DURATIONS overrides).
std::string default_case_durations_path();
// Reads {"durations_ms": {ID: ms, ...}, ...}. A missing file gives an empty
// table (every case then weighs the same); a malformed one throws
// std::runtime_error (one line).
CaseDurations load_case_durations(const std::string& path);
// The table's median (the lower middle of an even count); 1000 when empty.
std::int64_t median_duration(const CaseDurations& durations);

// The positions of `case_ids`, longest expected case first (a case the table
// lacks weighs its median); equal weights keep the selection's order. The
// order partition_cases deals the cases in, and the order a run starts them.
std::vector<std::size_t> longest_first(const std::vector<std::string>& case_ids, const CaseDurations& durations);

// For each shard (index 0 is shard 1), the positions in `case_ids` of its
// cases, ascending. Every position is in exactly one shard; a shard may be
// empty when there are fewer cases than shards.
std::vector<std::vector<std::size_t>> partition_cases(const std::vector<std::string>& case_ids,
                                                      const CaseDurations& durations, int count);

// The durations file written from one or more reports (`report durations`):
// each case's duration_ms (the longest when cases repeat), and where it came
// from.
nlohmann::json case_durations_from_reports(const std::vector<nlohmann::json>& reports);

// Why shard reports cannot be merged: one line, exit 2.
struct MergeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One report from the (checked) reports of shards 1..N of one run: cases in
// the order of `selection` (the case IDs the unsharded run would list, in its
// order), requirements and coverage over the union, summary and gate
// recomputed by the runner's own code (apply_gate). `names` label the inputs
// in error messages. Throws MergeError for mixed IUTs, selections, seeds,
// policies or harness builds, incompatible schema versions, a shard missing
// or given twice, a case in two shards or outside the selection.
nlohmann::json merge_shard_reports(const std::vector<reports::Report>& shards, const std::vector<std::string>& names,
                                   const std::vector<std::string>& selection, const std::string& command_line);
// The same from report.json documents, each read once into the types; one
// that does not read is a MergeError naming it.
nlohmann::json merge_shard_reports(const std::vector<nlohmann::json>& shards, const std::vector<std::string>& names,
                                   const std::vector<std::string>& selection, const std::string& command_line);

}  // namespace teredo::conformance
