#include "teredo/reports/gate.hpp"

#include "text.hpp"

namespace teredo::reports {

using detail::field;
using detail::text;

GateEffect gate_effect(const nlohmann::json& report_case, bool strict) {
  const std::string verdict = text(report_case, "verdict");
  const bool known = text(report_case, "baseline") == "known";
  if (verdict == "error") return GateEffect::error;
  if (verdict == "fail" && !known) return GateEffect::failure;
  if (verdict == "warn" && strict && !known) return GateEffect::failure;
  if (verdict == "inconclusive" && !known) return GateEffect::inconclusive;
  return GateEffect::none;
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

std::string combine_attempt_verdicts(const std::vector<std::string>& attempts) {
  const auto any = [&](const char* v) {
    for (const auto& a : attempts) {
      if (a == v) return true;
    }
    return false;
  };
  if (any("fail")) return "fail";
  if (any("warn")) return any("pass") ? "flaky" : "warn";
  if (any("pass")) return "pass";
  if (any("inconclusive")) return "inconclusive";
  if (any("not-applicable")) return "not-applicable";
  return "error";
}

}  // namespace teredo::reports
