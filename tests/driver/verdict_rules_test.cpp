// The final verdict of a case from its attempts (conformance/JUDGING.md §5):
// a fail is never downgraded, flaky only when the IUT varied, a harness error
// never counts as the IUT's flakiness.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/capabilities.hpp"
#include "engine/case.hpp"

namespace {

using teredo::conformance::combine_attempts;
using teredo::conformance::Verdict;
using V = Verdict;

TEST(VerdictRules, AFailIsNeverDowngradedByALaterAttempt) {
  EXPECT_EQ(combine_attempts({V::fail, V::pass}), V::fail);
  EXPECT_EQ(combine_attempts({V::fail, V::inconclusive}), V::fail) << "the issue's row: MUST fail, then inconclusive";
  EXPECT_EQ(combine_attempts({V::fail, V::error}), V::fail);
  EXPECT_EQ(combine_attempts({V::pass, V::fail}), V::fail);
  EXPECT_EQ(combine_attempts({V::warn, V::fail}), V::fail);
}

TEST(VerdictRules, FlakyOnlyWhenTheIutVaried) {
  EXPECT_EQ(combine_attempts({V::warn, V::pass}), V::flaky);
  EXPECT_EQ(combine_attempts({V::warn, V::warn}), V::warn);
  EXPECT_EQ(combine_attempts({V::pass}), V::pass);
}

TEST(VerdictRules, AHarnessErrorIsNeverPartOfFlaky) {
  EXPECT_EQ(combine_attempts({V::error, V::pass}), V::pass);
  EXPECT_EQ(combine_attempts({V::error, V::warn}), V::warn);
  EXPECT_EQ(combine_attempts({V::error, V::inconclusive}), V::inconclusive);
  EXPECT_EQ(combine_attempts({V::error, V::error}), V::error);
  EXPECT_EQ(combine_attempts({}), V::error);
}

TEST(VerdictRules, SingleAttemptsKeepTheirVerdict) {
  for (const V v : {V::pass, V::fail, V::warn, V::inconclusive, V::error, V::not_applicable}) {
    EXPECT_EQ(combine_attempts({v}), v) << teredo::reports::to_string(v);
  }
}

}  // namespace

namespace {

using teredo::conformance::judge_missing_capabilities;
using Outcome = teredo::conformance::MissingCapabilities::Outcome;

// JUDGING.md §6: not-applicable only for what the RFC makes optional.
TEST(VerdictRules, NotApplicableOnlyForFeaturesTheRfcMakesOptional) {
  EXPECT_EQ(judge_missing_capabilities({}).outcome, Outcome::run);
  EXPECT_EQ(judge_missing_capabilities({"secure_qualification"}).outcome, Outcome::not_applicable);
  EXPECT_EQ(judge_missing_capabilities({"interval_determination"}).outcome, Outcome::not_applicable);
  // A launch form the harness needs is not a feature of the IUT.
  EXPECT_EQ(judge_missing_capabilities({"default_timers"}).outcome, Outcome::inconclusive);
  EXPECT_EQ(judge_missing_capabilities({"fast_timers"}).outcome, Outcome::inconclusive);
  // §5.2.10: the service port "must" be provisionable: declaring no way is a fail on that requirement.
  const auto port = judge_missing_capabilities({"configurable_service_port"});
  EXPECT_EQ(port.outcome, Outcome::fail);
  EXPECT_EQ(port.requirement, "R4380-5.2.10-01");
  // §5.2.9 is a SHOULD: the case runs and judges it.
  EXPECT_EQ(judge_missing_capabilities({"direct_connectivity_test"}).outcome, Outcome::run);
  // An optional feature absent makes the case moot whatever else is missing.
  EXPECT_EQ(judge_missing_capabilities({"configurable_service_port", "local_discovery"}).outcome,
            Outcome::not_applicable);
}

TEST(VerdictRules, EveryOptionalCapabilityCitesTheRfc) {
  for (const auto& c : teredo::conformance::capability_table()) {
    if (c.kind == teredo::conformance::CapabilityKind::launch_form) continue;
    EXPECT_NE(c.why.find("RFC "), std::string_view::npos) << c.name;
  }
}

// One list of capabilities: the adapter schema refuses any name outside it
// (conformance/iut/adapter.schema.json) and the engine knows what each one's
// absence means.
TEST(VerdictRules, TheAdapterSchemaKnowsExactlyTheCapabilitiesTheEngineJudges) {
  std::ifstream in(std::string(TEREDO_SOURCE_DIR) + "/conformance/iut/adapter.schema.json");
  const auto schema = nlohmann::json::parse(in);
  std::set<std::string> in_schema;
  for (const auto& name : schema["properties"]["capabilities"]["items"]["enum"]) in_schema.insert(name.get<std::string>());
  std::set<std::string> in_table;
  for (const auto& c : teredo::conformance::capability_table()) in_table.insert(std::string(c.name));
  EXPECT_EQ(in_schema, in_table);
}

}  // namespace
