// report.json -> JUnit XML, for Jenkins (junit plugin), GitHub test reporters
// and anything that reads Ant/Surefire-style results. The encoding is
// described in reports/README.md; in short: one <testsuite> per role, one
// <testcase> per case (name = case_id, classname = teredo.<role>.<RFC4380_5_3_2>),
// <failure>/<error> exactly for the cases that decide the exit code (gate.hpp),
// <skipped> for not-applicable, inconclusive and known (baseline) failures,
// <flakyFailure>/<flakyError> per failed attempt of a flaky (passing) case.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "teredo/reports/report.hpp"

namespace teredo::reports {

std::string render_junit(const Report& report);
// The same from report.json; throws InvalidReport when it does not read into
// the types.
std::string render_junit(const nlohmann::json& report);

}  // namespace teredo::reports
