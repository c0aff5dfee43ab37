#include "teredo/reports/gate.hpp"

#include <algorithm>

#include "text.hpp"

namespace teredo::reports {

using detail::field;
using detail::text;

GateEffect gate_effect(Verdict verdict, bool known, bool strict) {
  if (verdict == Verdict::error) return GateEffect::error;
  if (verdict == Verdict::fail && !known) return GateEffect::failure;
  if (verdict == Verdict::warn && strict && !known) return GateEffect::failure;
  if (verdict == Verdict::inconclusive && !known) return GateEffect::inconclusive;
  return GateEffect::none;
}

GateEffect gate_effect(const nlohmann::json& report_case, bool strict) {
  // A verdict this format does not know is a harness error, never a pass.
  const Verdict verdict = verdict_from_string(text(report_case, "verdict")).value_or(Verdict::error);
  return gate_effect(verdict, text(report_case, "baseline") == "known", strict);
}

bool strict_policy(const nlohmann::json& report) {
  const nlohmann::json& policy = field(field(report, "gate"), "policy");
  if (policy.is_string()) return policy.get_ref<const std::string&>() == "strict";
  const nlohmann::json& strict = field(field(field(report, "run"), "options"), "strict");
  return strict.is_boolean() && strict.get<bool>();
}

std::vector<std::string> blocking_cases(const nlohmann::json& report) {
  const bool strict = strict_policy(report);
  std::vector<std::string> out;
  for (const nlohmann::json& c : detail::array(report, "cases")) {
    if (gate_effect(c, strict) != GateEffect::none) out.push_back(text(c, "case_id"));
  }
  return out;
}

int cases_exit_code(const nlohmann::json& report) {
  const bool strict = strict_policy(report);
  int code = 0;
  for (const nlohmann::json& c : detail::array(report, "cases")) {
    const GateEffect effect = gate_effect(c, strict);
    if (effect == GateEffect::error) return 2;
    if (effect == GateEffect::failure) code = 1;
    if (effect == GateEffect::inconclusive && code == 0) code = kExitInconclusive;
  }
  return code;
}

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
