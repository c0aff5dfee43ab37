// Shards without a lab: `--shard K/N` parsing; the partition (deterministic,
// every case in exactly one shard, longest-first greedy within the LPT bound
// of the best split, the median for cases the table lacks); and `report
// merge` of a report split into shards: the merged report equals the whole
// (cases in order, covered_by, summary, gate) and mixed inputs are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>

#include "../reports/report_fixture.hpp"
#include "engine/shard.hpp"
#include "teredo/reports/check.hpp"

namespace {

using nlohmann::json;
using namespace teredo::conformance;

TEST(ShardSpec, ParsesKOfNAndRefusesTheRest) {
  ASSERT_TRUE(parse_shard("1/1"));
  EXPECT_EQ(parse_shard("2/3")->index, 2);
  EXPECT_EQ(parse_shard("2/3")->count, 3);
  EXPECT_EQ(parse_shard("64/64")->count, 64);
  for (const char* bad : {"0/3", "4/3", "1/65", "3", "/3", "1/", "a/b", "1/3x", " 1/3", "-1/3", "1/-3", "1//3", ""}) {
    EXPECT_FALSE(parse_shard(bad)) << bad;
  }
}

TEST(CaseDurations, MedianIsTheLowerMiddleAndHasADefault) {
  EXPECT_EQ(median_duration({}), 1000);
  EXPECT_EQ(median_duration({{"a", 7}}), 7);
  EXPECT_EQ(median_duration({{"a", 4}, {"b", 1}, {"c", 3}, {"d", 2}}), 2);
}

TEST(CaseDurations, CommittedTableLoadsAndAMalformedOneThrows) {
  const CaseDurations table = load_case_durations(default_case_durations_path());
  EXPECT_GT(table.size(), 50u);
  EXPECT_TRUE(load_case_durations("/nonexistent/case_durations.json").empty());
  teredo::reports::test::TempDir dir;
  teredo::reports::test::write_text(dir.path() / "bad.json", R"({"durations_ms": {"x": "slow"}})");
  EXPECT_THROW(load_case_durations((dir.path() / "bad.json").string()), std::runtime_error);
  teredo::reports::test::write_text(dir.path() / "bad2.json", "[1, 2]");
  EXPECT_THROW(load_case_durations((dir.path() / "bad2.json").string()), std::runtime_error);
}

// Worked by hand: f is missing from the table, so it weighs the median 6; the
// order is a10 b8 c6 f6 (c first: earlier in the selection) d5 e1, each to the
// lighter shard (the lower one on a tie): S1 a,f,e = 17; S2 b,c,d = 19.
TEST(Partition, LongestFirstToTheLightestShard) {
  const std::vector<std::string> ids = {"a", "b", "c", "d", "e", "f"};
  const CaseDurations table = {{"a", 10}, {"b", 8}, {"c", 6}, {"d", 5}, {"e", 1}};
  const auto shards = partition_cases(ids, table, 2);
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0], (std::vector<std::size_t>{0, 4, 5}));
  EXPECT_EQ(shards[1], (std::vector<std::size_t>{1, 2, 3}));
}

// A fixed pseudo-random table: the same on every machine.
CaseDurations synthetic_table(std::vector<std::string>& ids, std::size_t n, std::uint64_t seed) {
  CaseDurations table;
  std::uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    ids.push_back("case." + std::to_string(i));
    // Mostly short cases and a few long ones, as in the suite.
    const std::int64_t ms = (x >> 33) % 10 == 0 ? 5000 + static_cast<std::int64_t>((x >> 20) % 30000)
                                                : 100 + static_cast<std::int64_t>((x >> 20) % 1500);
    if ((x >> 40) % 7 != 0) table[ids.back()] = ms;  // some cases are missing: the median stands in
  }
  return table;
}

TEST(Partition, EveryCaseInExactlyOneShardAndTheSameEveryTime) {
  std::vector<std::string> ids;
  const CaseDurations table = synthetic_table(ids, 128, 7);
  for (int count = 1; count <= 9; ++count) {
    const auto shards = partition_cases(ids, table, count);
    ASSERT_EQ(shards.size(), static_cast<std::size_t>(count));
    EXPECT_EQ(partition_cases(ids, table, count), shards) << "not deterministic for " << count << " shards";
    std::vector<std::size_t> all;
    for (const auto& s : shards) {
      EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
      all.insert(all.end(), s.begin(), s.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<std::size_t> expected(ids.size());
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = i;
    EXPECT_EQ(all, expected) << count << " shards";
  }
  // More shards than cases: some shards are empty, no case is lost.
  const auto many = partition_cases({"x", "y"}, {}, 5);
  ASSERT_EQ(many.size(), 5u);
  EXPECT_EQ(many[0], std::vector<std::size_t>{0});
  EXPECT_EQ(many[1], std::vector<std::size_t>{1});
  for (std::size_t k = 2; k < 5; ++k) EXPECT_TRUE(many[k].empty());
}

// Graham's bound for longest-processing-time-first: the longest shard is at
// most (4/3 - 1/(3m)) times the best possible, found here by trying every
// assignment of 10 cases to 3 shards.
TEST(Partition, WithinTheLptBoundOfTheBestSplit) {
  constexpr int m = 3;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    std::vector<std::string> ids;
    CaseDurations table = synthetic_table(ids, 10, seed);
    const std::int64_t median = median_duration(table);
    for (const auto& id : ids) table.emplace(id, median);  // the weights the partition sees
    std::vector<std::int64_t> w;
    for (const auto& id : ids) w.push_back(table.at(id));
    std::int64_t best = INT64_MAX;
    int assignments = 1;
    for (std::size_t i = 0; i < ids.size(); ++i) assignments *= m;
    for (int a = 0; a < assignments; ++a) {
      std::int64_t load[m] = {0, 0, 0};
      for (int i = 0, rest = a; i < static_cast<int>(ids.size()); ++i, rest /= m) load[rest % m] += w[static_cast<std::size_t>(i)];
      best = std::min(best, *std::max_element(load, load + m));
    }
    std::int64_t longest = 0;
    for (const auto& shard : partition_cases(ids, table, m)) {
      std::int64_t load = 0;
      for (const std::size_t i : shard) load += w[i];
      longest = std::max(longest, load);
    }
    EXPECT_LE(static_cast<double>(longest), (4.0 / 3.0 - 1.0 / (3.0 * m)) * static_cast<double>(best)) << "seed " << seed;
  }
}

// --- merge ----------------------------------------------------------------------

// The fixture's whole report cut into `count` shards (case i to shard i % count + 1),
// each finalized by the fixture's own rules, as `run --shard` would write it.
std::vector<json> split(const json& whole, int count) {
  std::vector<json> shards;
  for (int k = 1; k <= count; ++k) {
    json s = whole;
    s["schema_version"] = teredo::reports::schema_version();
    s["cases"] = json::array();
    for (std::size_t i = 0; i < whole["cases"].size(); ++i) {
      if (static_cast<int>(i % static_cast<std::size_t>(count)) + 1 == k) s["cases"].push_back(whole["cases"][i]);
    }
    s["run"]["shard"] = {{"index", k}, {"count", count}};
    s["run"]["run_id"] = "tc-shard" + std::to_string(k);
    teredo::reports::test::finalize(s);
    EXPECT_EQ(teredo::reports::check_report(s), std::vector<std::string>{}) << "shard " << k;
    shards.push_back(s);
  }
  return shards;
}

std::vector<std::string> case_ids(const json& report) {
  std::vector<std::string> ids;
  for (const auto& c : report["cases"]) ids.push_back(c["case_id"]);
  return ids;
}

const std::vector<std::string> kNames = {"s1/report.json", "s2/report.json", "s3/report.json"};

TEST(Merge, ShardsOfAReportMergeBackIntoIt) {
  for (const bool strict : {false, true}) {
    json whole = teredo::reports::test::make_report({.strict = strict});
    teredo::reports::test::finalize(whole);
    const std::vector<json> shards = split(whole, 3);
    // Given in any order.
    const json merged = merge_shard_reports(std::vector<json>{shards[2], shards[0], shards[1]}, {kNames[2], kNames[0], kNames[1]},
                                            case_ids(whole), "teredo-conform report merge ...");
    EXPECT_EQ(teredo::reports::check_report(merged), std::vector<std::string>{});
    EXPECT_EQ(merged["cases"], whole["cases"]);
    EXPECT_EQ(merged["requirements"], whole["requirements"]);
    EXPECT_EQ(merged["summary"], whole["summary"]);
    EXPECT_EQ(merged["gate"], whole["gate"]);
    EXPECT_EQ(merged["iut"], whole["iut"]);
    EXPECT_TRUE(merged["complete"].get<bool>());
    EXPECT_FALSE(merged["run"].contains("shard"));
    ASSERT_EQ(merged["run"]["merged_from"].size(), 3u);
    EXPECT_EQ(merged["run"]["merged_from"][1]["run_id"], "tc-shard2");
    EXPECT_NE(whole["gate"]["exit_code"], 0) << "the fixture should block, so the gate is really recomputed";
  }
}

TEST(Merge, AnIncompleteShardMakesAnIncompleteReportThatErrs) {
  json whole = teredo::reports::test::make_report({.with_error = false});
  teredo::reports::test::finalize(whole);
  std::vector<json> shards = split(whole, 3);
  shards[1]["complete"] = false;
  shards[1]["cases"].erase(shards[1]["cases"].begin());
  teredo::reports::test::finalize(shards[1]);
  shards[1]["gate"]["exit_code"] = 2;
  shards[1]["gate"]["result"] = "error";
  const json merged = merge_shard_reports(shards, kNames, case_ids(whole), "merge");
  EXPECT_FALSE(merged["complete"].get<bool>());
  EXPECT_EQ(merged["cases"].size(), whole["cases"].size() - 1);
  EXPECT_EQ(merged["gate"]["exit_code"], 2);
}

void expect_refused(const std::vector<json>& shards, const std::vector<std::string>& selection, const std::string& why) {
  std::vector<std::string> names(kNames.begin(), kNames.begin() + static_cast<std::ptrdiff_t>(shards.size()));
  try {
    merge_shard_reports(shards, names, selection, "merge");
    ADD_FAILURE() << "merged, but should be refused: " << why;
  } catch (const MergeError& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
  }
}

TEST(Merge, RefusesMixedOrIncompleteInputs) {
  json whole = teredo::reports::test::make_report();
  teredo::reports::test::finalize(whole);
  const std::vector<std::string> selection = case_ids(whole);
  const std::vector<json> good = split(whole, 3);

  auto other_iut = good;
  other_iut[1]["iut"]["version"] = "9.9";
  expect_refused(other_iut, selection, "IUT");

  auto other_roles = good;
  other_roles[2]["run"]["selection"]["roles"] = {"server"};
  expect_refused(other_roles, selection, "selection");

  auto other_seed = good;
  other_seed[2]["run"]["master_seed"] = 99;
  expect_refused(other_seed, selection, "master seed");

  auto newer = good;
  for (auto& s : newer) s["schema_version"] = "1.99.0";
  expect_refused(newer, selection, "newer");

  auto mixed_versions = good;
  mixed_versions[0]["schema_version"] = "1.1.0";
  expect_refused(mixed_versions, selection, "schema_version");

  auto unsharded = good;
  unsharded[1]["run"].erase("shard");
  expect_refused(unsharded, selection, "not the report of a shard");

  expect_refused({good[0], good[2]}, selection, "shard 2/3 is missing");
  expect_refused({good[0], good[1], good[1]}, selection, "given twice");

  auto duplicate = good;
  duplicate[1]["cases"].push_back(good[0]["cases"][0]);
  teredo::reports::test::finalize(duplicate[1]);
  expect_refused(duplicate, selection, "in two shards");

  std::vector<std::string> smaller(selection.begin() + 1, selection.end());
  expect_refused(good, smaller, "not in the selection");
  std::vector<std::string> larger = selection;
  larger.push_back("server.rs.not-run-by-any-shard");
  expect_refused(good, larger, "in no shard");
}

// A shard that does not read into the report's types is refused with one
// line naming the file and where the schema rejects it.
TEST(Merge, ASchemaInvalidShardIsOneClearError) {
  json whole = teredo::reports::test::make_report();
  teredo::reports::test::finalize(whole);
  auto shards = split(whole, 3);
  shards[1]["cases"][0]["verdict"] = 3;
  expect_refused(shards, case_ids(whole), "s2/report.json: not a report.json");
  expect_refused(shards, case_ids(whole), "/cases/0/verdict: ");
  shards[1] = json::array();
  expect_refused(shards, case_ids(whole), "s2/report.json: not a report.json");
}

bool has_problem(const json& report, const std::string& where) {
  for (const auto& p : teredo::reports::check_report(report)) {
    if (p.starts_with(where)) return true;
  }
  return false;
}

TEST(Merge, CheckerRefusesInconsistentShardKeys) {
  json whole = teredo::reports::test::make_report();
  teredo::reports::test::finalize(whole);
  json shard = split(whole, 3)[0];
  shard["run"]["shard"] = {{"index", 4}, {"count", 3}};
  EXPECT_TRUE(has_problem(shard, "/run/shard: index 4 of count 3"));
  shard["run"]["shard"] = {{"index", 1}};
  EXPECT_TRUE(has_problem(shard, "/run/shard/count: is required but missing"));

  const auto shards = split(whole, 3);
  json merged = merge_shard_reports(shards, kNames, case_ids(whole), "merge");
  ASSERT_FALSE(has_problem(merged, "run"));
  std::swap(merged["run"]["merged_from"][0], merged["run"]["merged_from"][1]);
  EXPECT_TRUE(has_problem(merged, "/run/merged_from/0/index: is 2"));
  std::swap(merged["run"]["merged_from"][0], merged["run"]["merged_from"][1]);
  merged["run"]["shard"] = {{"index", 1}, {"count", 3}};
  EXPECT_TRUE(has_problem(merged, "/run: has both"));
}

}  // namespace
