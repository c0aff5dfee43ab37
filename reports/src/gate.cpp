#include "teredo/reports/gate.hpp"

#include <algorithm>

namespace teredo::reports {

GateEffect gate_effect(Verdict verdict, bool known, bool strict) {
  if (verdict == Verdict::error) return GateEffect::error;
  if (verdict == Verdict::fail && !known) return GateEffect::failure;
  if (verdict == Verdict::warn && strict && !known) return GateEffect::failure;
  if (verdict == Verdict::inconclusive && !known) return GateEffect::inconclusive;
  return GateEffect::none;
}

GateEffect gate_effect(const Case& report_case, bool strict) {
  return gate_effect(report_case.verdict, report_case.baseline == "known", strict);
}

bool strict_policy(const Report& report) {
  return report.gate ? report.gate->policy == "strict" : report.run.options.strict;
}

std::vector<std::string> blocking_cases(const std::vector<Case>& cases, bool strict) {
  std::vector<std::string> out;
  for (const Case& c : cases) {
    if (gate_effect(c, strict) != GateEffect::none) out.push_back(c.case_id);
  }
  return out;
}

std::vector<std::string> blocking_cases(const Report& report) { return blocking_cases(report.cases, strict_policy(report)); }

int cases_exit_code(const std::vector<Case>& cases, bool strict) {
  int code = 0;
  for (const Case& c : cases) {
    const GateEffect effect = gate_effect(c, strict);
    if (effect == GateEffect::error) return 2;
    if (effect == GateEffect::failure) code = 1;
    if (effect == GateEffect::inconclusive && code == 0) code = kExitInconclusive;
  }
  return code;
}

int cases_exit_code(const Report& report) { return cases_exit_code(report.cases, strict_policy(report)); }

std::string gate_result(int exit_code) {
  switch (exit_code) {
    case 0: return "pass";
    case 1: return "fail";
    case kExitInconclusive: return "inconclusive";
    default: return "error";
  }
}

Verdict combine_attempt_verdicts(const std::vector<Verdict>& attempts) {
  const auto any = [&](Verdict v) { return std::find(attempts.begin(), attempts.end(), v) != attempts.end(); };
  if (any(Verdict::fail)) return Verdict::fail;
  if (any(Verdict::warn)) return any(Verdict::pass) ? Verdict::flaky : Verdict::warn;
  if (any(Verdict::pass)) return Verdict::pass;
  if (any(Verdict::inconclusive)) return Verdict::inconclusive;
  if (any(Verdict::not_applicable)) return Verdict::not_applicable;
  return Verdict::error;
}

}  // namespace teredo::reports
