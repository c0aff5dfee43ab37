#include "engine/shard.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <set>

#include "engine/data_dir.hpp"
#include "engine/runner.hpp"
#include "teredo/reports/check.hpp"

namespace teredo::conformance {

using nlohmann::json;

namespace {

std::optional<int> small_number(std::string_view text) {
  if (text.empty() || text.size() > 3 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// MAJOR.MINOR of a schema_version the checker accepted.
std::pair<int, int> major_minor(const std::string& version) {
  const auto dot = version.find('.');
  const auto dot2 = version.find('.', dot + 1);
  return {std::stoi(version.substr(0, dot)), std::stoi(version.substr(dot + 1, dot2 - dot - 1))};
}

// A case's expected duration: the table's, else `fallback` (the median).
std::int64_t expected_ms(const CaseDurations& durations, const std::string& id, std::int64_t fallback) {
  const auto it = durations.find(id);
  return it != durations.end() ? it->second : fallback;
}

}  // namespace

std::optional<ShardSpec> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const auto k = small_number(std::string_view(text).substr(0, slash));
  const auto n = small_number(std::string_view(text).substr(slash + 1));
  if (!k || !n || *k < 1 || *k > *n || *n > kMaxShards) return std::nullopt;
  return ShardSpec{*k, *n};
}

std::string default_case_durations_path() {
  if (const char* env = std::getenv("TEREDO_CASE_DURATIONS"); env && *env) return env;
  return catalog_file("case_durations.json");
}

CaseDurations load_case_durations(const std::string& path) {
  CaseDurations out;
  std::ifstream in(path);
  if (!in) return out;
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("durations_ms") || !j["durations_ms"].is_object()) {
    throw std::runtime_error("the case durations " + path + " are not {\"durations_ms\": {case ID: ms}}");
  }
  for (const auto& [id, ms] : j["durations_ms"].items()) {
    if (!ms.is_number_integer() || ms.get<std::int64_t>() < 0) {
      throw std::runtime_error(fmt::format("the case durations {}: {} is not a count of ms", path, id));
    }
    out[id] = ms.get<std::int64_t>();
  }
  return out;
}

std::int64_t median_duration(const CaseDurations& durations) {
  if (durations.empty()) return 1000;
  std::vector<std::int64_t> values;
  for (const auto& [id, ms] : durations) values.push_back(ms);
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

std::vector<std::size_t> longest_first(const std::vector<std::string>& case_ids, const CaseDurations& durations) {
  const std::int64_t fallback = median_duration(durations);
  std::vector<std::int64_t> weight(case_ids.size());
  for (std::size_t i = 0; i < case_ids.size(); ++i) weight[i] = expected_ms(durations, case_ids[i], fallback);
  std::vector<std::size_t> order(case_ids.size());
  std::iota(order.begin(), order.end(), 0);
  // Equal weights keep selection order (stable).
  std::stable_sort(order.begin(), order.end(), [&weight](std::size_t a, std::size_t b) { return weight[a] > weight[b]; });
  return order;
}

std::vector<std::vector<std::size_t>> partition_cases(const std::vector<std::string>& case_ids,
                                                      const CaseDurations& durations, int count) {
  const std::int64_t fallback = median_duration(durations);
  std::vector<std::vector<std::size_t>> shards(static_cast<std::size_t>(std::max(1, count)));
  std::vector<std::int64_t> load(shards.size(), 0);
  for (const std::size_t i : longest_first(case_ids, durations)) {
    // min_element: the first (lowest) shard among equally loaded ones.
    const auto least = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    shards[least].push_back(i);
    load[least] += expected_ms(durations, case_ids[i], fallback);
  }
  for (auto& s : shards) std::sort(s.begin(), s.end());
  return shards;
}

json case_durations_from_reports(const std::vector<json>& reports) {
  json durations = json::object();
  json sources = json::array();
  for (const json& r : reports) {
    for (const json& c : r["cases"]) {
      const std::string id = c["case_id"];
      const std::int64_t ms = c["duration_ms"];
      if (!durations.contains(id) || durations[id].get<std::int64_t>() < ms) durations[id] = ms;
    }
    sources.push_back({{"iut", r["iut"]["name"]},
                       {"run_id", r["run"]["run_id"]},
                       {"started_at", r["run"]["started_at"]},
                       {"git_commit", r["run"]["harness"]["git_commit"]},
                       {"jobs", r["run"]["options"]["jobs"]}});
  }
  return {{"about",
           "Expected duration of each case (ms), for `run --shard K/N`: longest first, each to the least loaded "
           "shard. Regenerate from a full reference run: teredo-conform report durations OUT/report.json > "
           "conformance/catalog/case_durations.json"},
          {"sources", sources},
          {"durations_ms", durations}};
}

json merge_shard_reports(const std::vector<json>& shards, const std::vector<std::string>& names,
                         const std::vector<std::string>& selection, const std::string& command_line) {
  if (shards.empty()) throw MergeError("report merge: no report given");
  const json& first = shards.front();
  const auto [our_major, our_minor] = major_minor(reports::schema_version());
  // What every shard of one run shares; anything else is a different run.
  const auto same = [&](const char* what, const auto& get) {
    for (std::size_t i = 1; i < shards.size(); ++i) {
      if (get(shards[i]) != get(first)) {
        throw MergeError(fmt::format("{} and {} differ in {}: {} vs {}", names.front(), names[i], what,
                                     get(first).dump(), get(shards[i]).dump()));
      }
    }
  };
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string version = shards[i]["schema_version"];
    const auto [major, minor] = major_minor(version);
    if (major != our_major || minor > our_minor) {
      throw MergeError(fmt::format("{}: schema version {} is newer than this tool's {}", names[i], version,
                                   reports::schema_version()));
    }
    if (!shards[i]["run"].contains("shard")) {
      throw MergeError(fmt::format("{}: not the report of a shard (run --shard K/N)", names[i]));
    }
  }
  same("schema_version", [](const json& r) { return r["schema_version"]; });
  same("IUT (name, version, adapter_sha256, roles, capabilities)", [](const json& r) {
    return json{r["iut"]["name"], r["iut"]["version"], r["iut"]["adapter_sha256"], r["iut"]["roles"],
                r["iut"]["capabilities"]};
  });
  same("selection (--role, --cases)", [](const json& r) { return r["run"]["selection"]; });
  same("master seed", [](const json& r) { return r["run"]["master_seed"]; });
  same("gate policy and baseline", [](const json& r) {
    return json{r["run"]["options"]["strict"], r["run"]["options"]["baseline"], r["gate"]["baseline_file"]};
  });
  // The partition comes from the build's case registry and durations table.
  same("harness build", [](const json& r) { return r["run"]["harness"]; });
  same("shard count", [](const json& r) { return r["run"]["shard"]["count"]; });

  const int count = first["run"]["shard"]["count"];
  std::vector<int> given(static_cast<std::size_t>(count) + 1, -1);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const int k = shards[i]["run"]["shard"]["index"];
    if (given[static_cast<std::size_t>(k)] >= 0) {
      throw MergeError(fmt::format("shard {}/{} is given twice: {} and {}", k, count,
                                   names[static_cast<std::size_t>(given[static_cast<std::size_t>(k)])], names[i]));
    }
    given[static_cast<std::size_t>(k)] = static_cast<int>(i);
  }
  for (int k = 1; k <= count; ++k) {
    if (given[static_cast<std::size_t>(k)] < 0) throw MergeError(fmt::format("shard {}/{} is missing", k, count));
  }

  // Cases, in the order the unsharded run lists them.
  std::map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < selection.size(); ++i) position.emplace(selection[i], i);
  std::vector<const json*> by_position(selection.size(), nullptr);
  std::vector<std::string> from(selection.size());
  bool complete = true;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    complete = complete && shards[i]["complete"].get<bool>();
    for (const json& c : shards[i]["cases"]) {
      const std::string id = c["case_id"];
      const auto it = position.find(id);
      if (it == position.end()) {
        throw MergeError(fmt::format("{}: case {} is not in the selection of this build", names[i], id));
      }
      if (by_position[it->second] != nullptr) {
        throw MergeError(fmt::format("case {} is in two shards: {} and {}", id, from[it->second], names[i]));
      }
      by_position[it->second] = &c;
      from[it->second] = names[i];
    }
  }
  json cases = json::array();
  std::set<std::string> known;
  for (std::size_t p = 0; p < selection.size(); ++p) {
    if (by_position[p] == nullptr) {
      // A complete shard ran every case it was given: the selection of this
      // build is not the one the shards split.
      if (complete) throw MergeError(fmt::format("case {} of the selection is in no shard", selection[p]));
      continue;
    }
    cases.push_back(*by_position[p]);
    if (by_position[p]->value("baseline", json()) == "known") known.insert(selection[p]);
  }

  // Requirements: the union of the shards' maps; covered_by in case order.
  json requirements = json::object();
  for (const json& s : shards) {
    for (const auto& [id, req] : s["requirements"].items()) {
      if (!requirements.contains(id)) {
        requirements[id] = req;
        requirements[id]["covered_by"] = json::array();
      }
    }
  }
  for (const json& c : cases) {
    for (const auto& [id, req] : requirements.items()) {
      for (const json& s : shards) {
        const json& theirs = s["requirements"].value(id, json::object());
        const json& by = theirs.value("covered_by", json::array());
        if (std::find(by.begin(), by.end(), c["case_id"]) != by.end()) {
          req["covered_by"].push_back(c["case_id"]);
          break;
        }
      }
    }
  }
  // Every shard covers the same testable set (same roles, same catalog); a
  // requirement is uncovered when no shard covers it.
  same("coverage.testable", [](const json& r) { return r["summary"]["coverage"]["testable"]; });
  json uncovered = json::array();
  for (const json& id : first["summary"]["coverage"]["uncovered"]) {
    if (requirements[id.get<std::string>()]["covered_by"].empty()) uncovered.push_back(id);
  }
  const std::size_t testable = first["summary"]["coverage"]["testable"];
  const std::size_t covered = testable - uncovered.size();
  const json coverage_summary = {{"testable", testable},
                                 {"covered", covered},
                                 {"percent", coverage_percent(covered, testable)},
                                 {"uncovered", uncovered}};

  json report;
  report["schema"] = reports::schema_name();
  report["schema_version"] = reports::schema_version();
  report["complete"] = complete;
  json run = first["run"];
  run.erase("shard");
  json merged_from = json::array();
  std::string started = first["run"]["started_at"], finished = first["run"]["finished_at"];
  std::int64_t longest = 0;
  for (int k = 1; k <= count; ++k) {
    const json& s = shards[static_cast<std::size_t>(given[static_cast<std::size_t>(k)])];
    merged_from.push_back({{"index", k},
                           {"count", count},
                           {"run_id", s["run"]["run_id"]},
                           {"duration_ms", s["run"]["duration_ms"]},
                           {"cases", s["cases"].size()}});
    started = std::min(started, s["run"]["started_at"].get<std::string>());
    finished = std::max(finished, s["run"]["finished_at"].get<std::string>());
    longest = std::max(longest, s["run"]["duration_ms"].get<std::int64_t>());
  }
  run["run_id"] = "merge-of-" + first["run"]["run_id"].get<std::string>();
  run["started_at"] = started;
  run["finished_at"] = finished;
  run["duration_ms"] = longest;  // the shards ran side by side: the longest is the wall time
  run["command_line"] = command_line;
  run["merged_from"] = merged_from;
  report["run"] = run;
  report["iut"] = first["iut"];
  report["requirements"] = requirements;
  report["cases"] = cases;
  report["summary"] = summarize_cases(cases, coverage_summary);
  const json& gate = first["gate"];
  apply_gate(report, gate["policy"] == "strict",
             gate["baseline_file"].is_string() ? gate["baseline_file"].get<std::string>() : std::string(), known);
  return report;
}

}  // namespace teredo::conformance
