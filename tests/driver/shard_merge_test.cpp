// `run --shard K/N` and `report merge` as a CI matrix uses them: a small
// selection run once whole and once as 3 shards; the shards split the
// selection (each case in exactly one, with the seed the whole run gives it),
// and their merged report equals the whole run's in everything but timing and
// lab names: case order and IDs, verdicts, attempts and seeds, assertion
// outcomes and codes, requirements and coverage, summary and gate. The merged
// directory holds every evidence file its report names, junit.xml and
// report.html; merging a shard twice is refused in one line with exit 2.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "conform_process.hpp"
#include "teredo/reports/check.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ShardMergeTest : public teredo::testing::ConformProcessTest {
 protected:
  json read(const fs::path& path) const {
    std::ifstream in(path);
    return json::parse(in);
  }
  // Start and wait, stderr in `<name>.err`.
  int conform(const std::vector<std::string>& args, const std::string& name) const {
    return wait_exit(start(args, name + ".err"));
  }
};

// What a verdict depends on: a report without its timing, lab names, PIDs
// and capture frame numbers.
json verdicts_of(const json& report) {
  json cases = json::array();
  for (const json& c : report["cases"]) {
    json attempts = json::array();
    for (const json& a : c["attempts"]) attempts.push_back({a["n"], a["verdict"], a["seed"]});
    json assertions = json::array();
    for (const json& a : c["assertions"]) assertions.push_back({a["requirement"], a["level"], a["outcome"], a["code"]});
    cases.push_back({{"case_id", c["case_id"]}, {"verdict", c["verdict"]}, {"level", c["level"]},
                     {"reproducer", c["reproducer"]}, {"attempts", attempts}, {"assertions", assertions},
                     {"baseline", c["baseline"]}});
  }
  return {{"complete", report["complete"]}, {"cases", cases},        {"requirements", report["requirements"]},
          {"summary", report["summary"]},   {"gate", report["gate"]}, {"iut", report["iut"]},
          {"selection", report["run"]["selection"]}};
}

TEST_F(ShardMergeTest, ThreeShardsMergedEqualOneRun) {
  const std::vector<std::string> selection = {"run", "--iut", "reference", "--role", "server",
                                              "--cases", "server.forward.*", "--jobs", "2"};
  auto with = [&selection](std::vector<std::string> more) {
    std::vector<std::string> args = selection;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const fs::path whole_dir = dir_ / "whole";
  const int whole_code = conform(with({"--out", whole_dir.string()}), "whole");
  ASSERT_TRUE(fs::exists(whole_dir / "report.json")) << err("whole.err");
  const json whole = read(whole_dir / "report.json");
  ASSERT_GE(whole["cases"].size(), 6u) << "the selection should hold a handful of cases";
  EXPECT_FALSE(whole["run"].contains("shard"));

  std::vector<std::string> shard_reports;
  std::multiset<std::string> sharded_ids;
  for (int k = 1; k <= 3; ++k) {
    const fs::path out = dir_ / ("shard" + std::to_string(k));
    const std::string name = "shard" + std::to_string(k);
    conform(with({"--shard", std::to_string(k) + "/3", "--out", out.string()}), name);
    ASSERT_TRUE(fs::exists(out / "report.json")) << err(name + ".err");
    const json shard = read(out / "report.json");
    EXPECT_EQ(teredo::reports::check_report(shard), std::vector<std::string>{});
    EXPECT_EQ(shard["run"]["shard"], json({{"index", k}, {"count", 3}}));
    EXPECT_GE(shard["cases"].size(), 1u) << "8 cases balanced over 3 shards leave none empty";
    for (const json& c : shard["cases"]) sharded_ids.insert(c["case_id"].get<std::string>());
    shard_reports.push_back((out / "report.json").string());
  }
  std::multiset<std::string> whole_ids;
  for (const json& c : whole["cases"]) whole_ids.insert(c["case_id"].get<std::string>());
  EXPECT_EQ(sharded_ids, whole_ids) << "every case in exactly one shard";

  const fs::path merged_dir = dir_ / "merged";
  std::vector<std::string> merge = {"report", "merge"};
  // In reverse: the order of the arguments does not matter.
  merge.insert(merge.end(), shard_reports.rbegin(), shard_reports.rend());
  merge.insert(merge.end(), {"--out", merged_dir.string()});
  const int merged_code = conform(merge, "merge");
  ASSERT_TRUE(fs::exists(merged_dir / "report.json")) << err("merge.err");
  const json merged = read(merged_dir / "report.json");
  EXPECT_EQ(teredo::reports::check_report(merged), std::vector<std::string>{});
  EXPECT_EQ(merged_code, whole_code) << err("merge.err");
  EXPECT_EQ(verdicts_of(merged), verdicts_of(whole));
  ASSERT_EQ(merged["run"]["merged_from"].size(), 3u);

  // Every evidence file the merged report names is under the merged directory.
  int files = 0;
  for (const json& c : merged["cases"]) {
    for (const char* kind : {"pcaps", "logs"}) {
      for (const json& item : c["evidence"][kind]) {
        EXPECT_TRUE(fs::exists(merged_dir / item["path"].get<std::string>())) << item["path"];
        ++files;
      }
    }
  }
  EXPECT_GT(files, 0);
  EXPECT_TRUE(fs::exists(merged_dir / "junit.xml"));
  EXPECT_TRUE(fs::exists(merged_dir / "report.html"));

  // A shard given twice (and shard 3 missing) is refused: one line, exit 2.
  const int twice = conform({"report", "merge", shard_reports[0], shard_reports[1], shard_reports[1], "--out",
                             (dir_ / "refused").string()},
                            "twice");
  EXPECT_EQ(twice, 2);
  const std::string why = err("twice.err");
  EXPECT_NE(why.find("given twice"), std::string::npos) << why;
  EXPECT_EQ(std::count(why.begin(), why.end(), '\n'), 1) << why;
  EXPECT_FALSE(fs::exists(dir_ / "refused" / "report.json"));
}

TEST_F(ShardMergeTest, BadShardIsBadUsage) {
  for (const char* bad : {"0/3", "4/3", "1/65", "x"}) {
    EXPECT_EQ(conform({"run", "--role", "server", "--shard", bad, "--out", (dir_ / "out").string()}, "bad"), 3) << bad;
    EXPECT_NE(err("bad.err").find("--shard"), std::string::npos);
  }
}

}  // namespace
