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

json case_durations_from_reports(const std::vector<json>& documents) {
  json durations = json::object();
  json sources = json::array();
  for (const json& document : documents) {
    const reports::Report r = reports::report_from_json(document);
    for (const reports::Case& c : r.cases) {
      if (!durations.contains(c.case_id) || durations[c.case_id].get<std::int64_t>() < c.duration_ms) {
        durations[c.case_id] = c.duration_ms;
      }
    }
    sources.push_back({{"iut", r.iut.name},
                       {"run_id", r.run.run_id},
                       {"started_at", r.run.started_at},
                       {"git_commit", r.run.harness.git_commit},
                       {"jobs", r.run.options.jobs}});
  }
  return {{"about",
           "Expected duration of each case (ms), for `run --shard K/N`: longest first, each to the least loaded "
           "shard. Regenerate from a full reference run: teredo-conform report durations OUT/report.json > "
           "conformance/catalog/case_durations.json"},
          {"sources", sources},
          {"durations_ms", durations}};
}

json merge_shard_reports(const std::vector<json>& documents, const std::vector<std::string>& names,
                         const std::vector<std::string>& selection, const std::string& command_line) {
  std::vector<reports::Report> shards;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    try {
      shards.push_back(reports::report_from_json(documents[i]));
    } catch (const reports::InvalidReport& e) {
      throw MergeError(fmt::format("{}: {}", names[i], e.what()));
    }
  }
  return merge_shard_reports(shards, names, selection, command_line);
}

json merge_shard_reports(const std::vector<reports::Report>& shards, const std::vector<std::string>& names,
                         const std::vector<std::string>& selection, const std::string& command_line) {
  if (shards.empty()) throw MergeError("report merge: no report given");
  const reports::Report& first = shards.front();
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
    const std::string& version = shards[i].schema_version;
    const auto [major, minor] = major_minor(version);
    if (major != our_major || minor > our_minor) {
      throw MergeError(fmt::format("{}: schema version {} is newer than this tool's {}", names[i], version,
                                   reports::schema_version()));
    }
    if (!shards[i].run.shard) {
      throw MergeError(fmt::format("{}: not the report of a shard (run --shard K/N)", names[i]));
    }
  }
  using reports::Report;
  same("schema_version", [](const Report& r) { return json(r.schema_version); });
  same("IUT (name, version, adapter_sha256, roles, capabilities)", [](const Report& r) {
    return json{r.iut.name, r.iut.version, r.iut.adapter_sha256, r.iut.roles, r.iut.capabilities};
  });
  same("selection (--role, --cases)", [](const Report& r) { return json(r.run.selection); });
  same("master seed", [](const Report& r) { return json(r.run.master_seed); });
  same("gate policy and baseline", [](const Report& r) {
    return json{r.run.options.strict, r.run.options.baseline, r.gate ? json(r.gate->baseline_file) : json()};
  });
  // The partition comes from the build's case registry and durations table.
  same("harness build", [](const Report& r) { return json(r.run.harness); });
  same("shard count", [](const Report& r) { return json(r.run.shard->count); });

  const auto count = static_cast<std::size_t>(first.run.shard->count);
  std::vector<int> given(count + 1, -1);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const auto k = static_cast<std::size_t>(shards[i].run.shard->index);
    if (given[k] >= 0) {
      throw MergeError(fmt::format("shard {}/{} is given twice: {} and {}", k, count,
                                   names[static_cast<std::size_t>(given[k])], names[i]));
    }
    given[k] = static_cast<int>(i);
  }
  for (std::size_t k = 1; k <= count; ++k) {
    if (given[k] < 0) throw MergeError(fmt::format("shard {}/{} is missing", k, count));
  }

  // Cases, in the order the unsharded run lists them.
  std::map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < selection.size(); ++i) position.emplace(selection[i], i);
  std::vector<const reports::Case*> by_position(selection.size(), nullptr);
  std::vector<std::string> from(selection.size());
  bool complete = true;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    complete = complete && shards[i].complete;
    for (const reports::Case& c : shards[i].cases) {
      const auto it = position.find(c.case_id);
      if (it == position.end()) {
        throw MergeError(fmt::format("{}: case {} is not in the selection of this build", names[i], c.case_id));
      }
      if (by_position[it->second] != nullptr) {
        throw MergeError(fmt::format("case {} is in two shards: {} and {}", c.case_id, from[it->second], names[i]));
      }
      by_position[it->second] = &c;
      from[it->second] = names[i];
    }
  }
  Report report;
  std::set<std::string> known;
  for (std::size_t p = 0; p < selection.size(); ++p) {
    if (by_position[p] == nullptr) {
      // A complete shard ran every case it was given: the selection of this
      // build is not the one the shards split.
      if (complete) throw MergeError(fmt::format("case {} of the selection is in no shard", selection[p]));
      continue;
    }
    report.cases.push_back(*by_position[p]);
    if (by_position[p]->baseline == "known") known.insert(selection[p]);
  }

  // Requirements: the union of the shards' maps; covered_by in case order.
  for (const Report& s : shards) {
    for (const auto& [id, req] : s.requirements) {
      if (report.requirements.contains(id)) continue;
      report.requirements[id] = req;
      report.requirements[id].covered_by.clear();
    }
  }
  for (const reports::Case& c : report.cases) {
    for (auto& [id, req] : report.requirements) {
      for (const Report& s : shards) {
        const auto theirs = s.requirements.find(id);
        if (theirs == s.requirements.end()) continue;
        const auto& by = theirs->second.covered_by;
        if (std::find(by.begin(), by.end(), c.case_id) != by.end()) {
          req.covered_by.push_back(c.case_id);
          break;
        }
      }
    }
  }
  // Every shard covers the same testable set (same roles, same catalog); a
  // requirement is uncovered when no shard covers it.
  same("coverage.testable", [](const Report& r) { return json(r.summary.coverage.testable); });
  reports::Coverage coverage;
  for (const std::string& id : first.summary.coverage.uncovered) {
    const auto it = report.requirements.find(id);
    if (it == report.requirements.end() || it->second.covered_by.empty()) coverage.uncovered.push_back(id);
  }
  coverage.testable = first.summary.coverage.testable;
  coverage.covered = coverage.testable - static_cast<std::int64_t>(coverage.uncovered.size());
  coverage.percent =
      coverage_percent(static_cast<std::size_t>(coverage.covered), static_cast<std::size_t>(coverage.testable));

  report.schema = reports::schema_name();
  report.schema_version = reports::schema_version();
  report.complete = complete;
  report.run = first.run;
  report.run.shard.reset();
  report.run.merged_from.emplace();
  std::string started = first.run.started_at, finished = first.run.finished_at;
  std::int64_t longest = 0;
  for (std::size_t k = 1; k <= count; ++k) {
    const Report& s = shards[static_cast<std::size_t>(given[k])];
    report.run.merged_from->push_back({.index = static_cast<std::int64_t>(k),
                                       .count = static_cast<std::int64_t>(count),
                                       .run_id = s.run.run_id,
                                       .duration_ms = s.run.duration_ms,
                                       .cases = static_cast<std::int64_t>(s.cases.size())});
    started = std::min(started, s.run.started_at);
    finished = std::max(finished, s.run.finished_at);
    longest = std::max(longest, s.run.duration_ms);
  }
  report.run.run_id = "merge-of-" + first.run.run_id;
  report.run.started_at = started;
  report.run.finished_at = finished;
  report.run.duration_ms = longest;  // the shards ran side by side: the longest is the wall time
  report.run.command_line = command_line;
  report.iut = first.iut;
  report.summary = reports::summarize(report.cases, std::move(coverage));
  json merged = report;
  const auto& gate = first.gate;
  apply_gate(merged, gate && gate->policy == "strict", gate ? gate->baseline_file.value_or("") : std::string(), known);
  return merged;
}

}  // namespace teredo::conformance
