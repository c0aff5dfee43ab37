// The gate rule, shared by every view of a report: which cases make
// `teredo-conform run` exit non-zero. junit.xml marks exactly these cases as
// <failure>/<error>, and check_report() verifies that gate.blocking lists
// exactly them, so a CI reading junit.xml sees what the exit code reflects.
//
//   verdict error                      -> error   (exit 2; a baseline never hides it)
//   verdict fail, baseline not "known" -> failure (exit 1)
//   verdict warn, baseline not "known",
//     policy strict                    -> failure (exit 1)
//   verdict inconclusive, baseline not
//     "known"                          -> inconclusive (exit 4 when nothing
//                                         fails: the run could not judge it,
//                                         so the gate cannot vouch for it)
//   anything else (pass, flaky, not-applicable, known failures,
//     warn under the default policy)   -> none
#pragma once

#include <string>
#include <vector>

#include "teredo/reports/report.hpp"
#include "teredo/reports/verdict.hpp"

namespace teredo::reports {

enum class GateEffect { none, failure, error, inconclusive };

// The effect of a case of that verdict, known to the baseline or not, under a
// policy; of one case of a report.
GateEffect gate_effect(Verdict verdict, bool known, bool strict);
GateEffect gate_effect(const Case& report_case, bool strict);

// The report's policy: gate.policy == "strict", or run.options.strict when the
// report has no gate yet.
bool strict_policy(const Report& report);

// The IDs of the cases whose effect is not none, in run order: what
// gate.blocking must hold.
std::vector<std::string> blocking_cases(const std::vector<Case>& cases, bool strict);
std::vector<std::string> blocking_cases(const Report& report);

// The exit code the cases alone decide: 2 if a case is an error, else 1 if a
// case fails, else 4 if a case is inconclusive, else 0. gate.exit_code may
// still be 2 for a fault outside the cases (a bad adapter, a lab that could
// not be built).
inline constexpr int kExitInconclusive = 4;
int cases_exit_code(const std::vector<Case>& cases, bool strict);
int cases_exit_code(const Report& report);
// gate.result for an exit code: "pass" 0, "fail" 1, "inconclusive" 4,
// "error" otherwise.
std::string gate_result(int exit_code);

// The final verdict of a case from its attempts' verdicts, in order
// (conformance/JUDGING.md §5): a fail on any attempt is final; "flaky" only
// when the IUT varied (a warn and a pass); an "error" attempt (a harness
// fault) is left out, so "error" only when every attempt was one; else
// warn, pass, inconclusive, not-applicable. The engine decides with it and
// check_report() verifies reports with it.
Verdict combine_attempt_verdicts(const std::vector<Verdict>& attempts);

}  // namespace teredo::reports
