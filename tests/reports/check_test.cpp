// check_report(): the light structural checks the driver runs before writing.
#include <gtest/gtest.h>

#include <functional>

#include "report_fixture.hpp"
#include "teredo/reports/check.hpp"
#include "teredo/reports/gate.hpp"

namespace teredo::reports::test {
namespace {

using nlohmann::json;

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

TEST(ReportCheck, FixtureVariantsHaveNoProblems) {
  for (const FixtureOptions& o : {FixtureOptions{}, FixtureOptions{.strict = true}, FixtureOptions{.with_error = false},
                                  FixtureOptions{.strict = true, .with_error = false}}) {
    const json report = make_report(o);
    EXPECT_TRUE(check_report(report).empty()) << joined(check_report(report));
  }
}

TEST(ReportCheck, GateRuleMatchesTheFixture) {
  const Report report = report_from_json(make_report({.with_error = false}));
  EXPECT_EQ(blocking_cases(report), (std::vector<std::string>{kFailCase, kInconclusiveCase}));
  EXPECT_EQ(cases_exit_code(report), 1);
  const Report strict = report_from_json(make_report({.strict = true, .with_error = false}));
  EXPECT_EQ(blocking_cases(strict), (std::vector<std::string>{kFailCase, kWarnCase, kInconclusiveCase}));
  const Report with_error = report_from_json(make_report());
  EXPECT_EQ(cases_exit_code(with_error), 2);
  // A known (baseline) failure and a flaky case never block.
  for (const Case& c : with_error.cases) {
    if (c.case_id == kKnownCase || c.case_id == kFlakyCase) {
      EXPECT_EQ(gate_effect(c, true), GateEffect::none);
    }
  }
}

// A run that judged nothing wrong but could not judge a case does not pass:
// the gate vouches only for what was judged (exit 4, result "inconclusive").
TEST(ReportCheck, AnInconclusiveCaseKeepsTheGateFromPassing) {
  const json only_inconclusive = make_report({.with_error = false, .force = {{kFailCase, "pass"}}});
  EXPECT_EQ(blocking_cases(report_from_json(only_inconclusive)), std::vector<std::string>{kInconclusiveCase});
  EXPECT_EQ(cases_exit_code(report_from_json(only_inconclusive)), kExitInconclusive);
  EXPECT_EQ(gate_result(kExitInconclusive), "inconclusive");
  EXPECT_EQ(only_inconclusive["gate"]["result"], "inconclusive");
  EXPECT_TRUE(check_report(only_inconclusive).empty()) << joined(check_report(only_inconclusive));
  // A report claiming "pass" over it is refused.
  json lying = only_inconclusive;
  lying["gate"]["result"] = "pass";
  lying["gate"]["exit_code"] = 0;
  lying["gate"]["blocking"] = json::array();
  EXPECT_NE(joined(check_report(lying)).find("inconclusive"), std::string::npos) << joined(check_report(lying));
  // Every case judged: the gate passes.
  const json all_judged =
      make_report({.with_error = false, .force = {{kFailCase, "pass"}, {kInconclusiveCase, "pass"}}});
  EXPECT_EQ(cases_exit_code(report_from_json(all_judged)), 0);
}

struct Mutation {
  const char* what;
  std::function<void(json&)> apply;
  const char* expect;  // a substring of one problem
};

TEST(ReportCheck, NamesEachProblem) {
  // Schema problems are named by JSON pointer and the schema's words; the
  // rules across fields by pointer too.
  const std::vector<Mutation> mutations = {
      {"not an object", [](json& r) { r = json::array(); }, "/: [] is an array, must be object"},
      {"major version 2", [](json& r) { r["schema_version"] = "2.0.0"; }, "/schema_version: '2.0.0' does not match"},
      {"not semver", [](json& r) { r["schema_version"] = "1.0"; }, "/schema_version: '1.0' does not match"},
      {"wrong schema", [](json& r) { r["schema"] = "other"; }, "/schema: 'other' must be 'teredo-compliance-report'"},
      {"missing gate", [](json& r) { r.erase("gate"); }, "/gate: is required but missing"},
      {"unknown key", [](json& r) { r["extra"] = 1; }, "/extra: 'extra' is not a known key here"},
      {"missing run key", [](json& r) { r["run"].erase("master_seed"); }, "/run/master_seed: is required but missing"},
      {"bad verdict", [](json& r) { r["cases"][0]["verdict"] = "passed"; }, "/cases/0/verdict: 'passed' is not one of"},
      {"bad level", [](json& r) { r["cases"][0]["level"] = "must"; }, "/cases/0/level: 'must' is not one of MUST"},
      {"bad role", [](json& r) { r["cases"][0]["role"] = "router"; }, "/cases/0/role"},
      {"bad outcome", [](json& r) { r["cases"][0]["assertions"][0]["outcome"] = "ok"; }, "/cases/0/assertions/0/outcome"},
      {"missing case key", [](json& r) { r["cases"][1].erase("reproducer"); }, "/cases/1/reproducer: is required but missing"},
      {"duplicate case", [](json& r) { r["cases"][1]["case_id"] = r["cases"][0]["case_id"]; }, "/cases/1/case_id: \"server.rs.answer-rs\" appears twice"},
      {"duplicate role", [](json& r) { r["iut"]["roles"].push_back(r["iut"]["roles"][0]); }, "items must be unique"},
      {"total off", [](json& r) { r["summary"]["total"] = 99; }, "/summary/total: says 99"},
      {"by_verdict off", [](json& r) { r["summary"]["by_verdict"]["pass"] = 7; }, "/summary/by_verdict/pass: says 7"},
      {"by_verdict missing", [](json& r) { r["summary"]["by_verdict"].erase("flaky"); }, "/summary/by_verdict/flaky: is required but missing"},
      {"by_level off", [](json& r) { r["summary"]["by_level"]["MUST"]["fail"] = 0; }, "/summary/by_level/MUST/fail"},
      {"coverage percent", [](json& r) { r["summary"]["coverage"]["percent"] = 12.5; }, "/summary/coverage/percent"},
      {"coverage uncovered", [](json& r) { r["summary"]["coverage"]["uncovered"] = json::array(); }, "/summary/coverage/uncovered"},
      {"requirement unknown", [](json& r) { r["cases"][0]["requirements"].push_back("R4380-9.9-01"); }, "is not in the report's requirements"},
      {"requirement without quote", [](json& r) { r["requirements"]["R4380-5.3.2-07"].erase("quote"); }, "/requirements/R4380-5.3.2-07/quote: is required but missing"},
      {"covered_by unknown case", [](json& r) { r["requirements"]["R4380-5.3.2-02"]["covered_by"].push_back("no.such.case"); }, "not a case of the report"},
      {"flaky, one attempt", [](json& r) {
         for (json& c : r["cases"]) if (c["case_id"] == kFlakyCase) c["attempts"].erase(0);
       }, "/attempts: must have at least 2 items"},
      {"passed without running", [](json& r) { r["cases"][0]["attempts"] = json::array(); r["cases"][0]["verdict"] = "pass"; }, "/cases/0/attempts: must not be empty"},
      {"attempt differs", [](json& r) { r["cases"][0]["attempts"][0]["verdict"] = "fail"; }, "the attempts combine to \"fail\""},
      {"a MUST fail downgraded to flaky", [](json& r) {
         for (json& c : r["cases"]) if (c["case_id"] == kFlakyCase) c["attempts"][0]["verdict"] = "fail";
       }, "the attempts combine to \"fail\" (JUDGING.md §5), not the case's \"flaky\""},
      {"a harness error counted as flaky", [](json& r) {
         for (json& c : r["cases"]) if (c["case_id"] == kFlakyCase) c["attempts"][0]["verdict"] = "error";
       }, "the attempts combine to \"pass\""},
      {"an attempt called flaky", [](json& r) { r["cases"][0]["attempts"][0]["verdict"] = "flaky"; }, "/cases/0/attempts/0/verdict: 'flaky' is not one of"},
      {"attempt numbering", [](json& r) {
         for (json& c : r["cases"]) if (c["case_id"] == kFlakyCase) c["attempts"][1]["n"] = 3;
       }, "attempts are numbered"},
      {"known on a pass", [](json& r) { r["cases"][0]["baseline"] = "known"; r["cases"][0]["verdict"] = "pass"; }, "/cases/0/verdict: 'pass' is not one of fail, warn, inconclusive"},
      {"absolute evidence", [](json& r) { r["cases"][0]["evidence"]["pcaps"][0]["path"] = "/etc/passwd"; }, "/cases/0/evidence/pcaps/0/path: '/etc/passwd' does not match"},
      {"scheme evidence", [](json& r) { r["cases"][0]["evidence"]["logs"][0]["path"] = "javascript:alert(1)"; }, "/cases/0/evidence/logs/0/path"},
      {"dotdot evidence dir", [](json& r) { r["cases"][0]["evidence"]["dir"] = "cases/../.."; }, "/cases/0/evidence/dir: 'cases/../..' matches none of the 2 forms"},
      {"blocking misses", [](json& r) { r["gate"]["blocking"] = json::array(); }, "/gate/blocking: misses"},
      {"blocking extra", [](json& r) { r["gate"]["blocking"].push_back("server.rs.answer-rs"); }, "/gate/blocking: lists"},
      {"exit code", [](json& r) { r["gate"]["exit_code"] = 0; }, "/gate/exit_code"},
      {"result vs cases", [](json& r) { r["gate"]["result"] = "fail"; r["gate"]["exit_code"] = 1; }, "/gate/result: is \"fail\" but a case has the verdict error"},
      {"policy vs strict", [](json& r) { r["gate"]["policy"] = "strict"; }, "/gate/policy: 'strict' must be 'default'"},
      {"shard past its count", [](json& r) { r["run"]["shard"] = {{"index", 3}, {"count", 2}}; }, "/run/shard: index 3 of count 2"},
  };
  const json base = make_report();
  ASSERT_TRUE(check_report(base).empty()) << joined(check_report(base));
  for (const Mutation& m : mutations) {
    json report = base;
    m.apply(report);
    const std::vector<std::string> problems = check_report(report);
    const bool found = std::any_of(problems.begin(), problems.end(),
                                   [&](const std::string& p) { return p.find(m.expect) != std::string::npos; });
    EXPECT_TRUE(found) << m.what << ": expected a problem containing \"" << m.expect << "\", got:\n" << joined(problems);
  }
}

}  // namespace
}  // namespace teredo::reports::test
