// conformance/uncovered.json against the cases: every testable requirement
// that some role leaves without a case has its reason there, and every reason
// there names a requirement some role still leaves uncovered. A reason kept
// after its case was written would tell a reader of `list --coverage` that
// something is untested when it is tested.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/data_dir.hpp"
#include "reports/report_fixture.hpp"

namespace {

using nlohmann::json;
using teredo::reports::test::run_process;

TEST(UncoveredReasons, EveryUncoveredRequirementHasOneAndNoneIsStale) {
  const auto r = run_process({TEREDO_CONFORM_BIN, "list", "--coverage", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json coverage = json::parse(r.out);
  std::ifstream in(teredo::conformance::uncovered_file());
  ASSERT_TRUE(in) << teredo::conformance::uncovered_file();
  const json reasons = json::parse(in).at("requirements");

  std::set<std::string> uncovered_somewhere;
  for (const auto& [role, c] : coverage.items()) {
    for (const auto& id : c.at("uncovered")) {
      uncovered_somewhere.insert(id.get<std::string>());
      EXPECT_TRUE(reasons.contains(id.get<std::string>()))
          << id << " has no case in role " << role << " and no reason in uncovered.json";
    }
  }
  ASSERT_FALSE(coverage.empty());
  for (const auto& [id, why] : reasons.items()) {
    EXPECT_TRUE(uncovered_somewhere.count(id)) << id << " is covered in every role it names, yet uncovered.json "
                                               << "still says why it is not: " << why.get<std::string>();
  }
}

}  // namespace
