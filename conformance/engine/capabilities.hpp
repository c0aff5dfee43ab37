// What an adapter may declare in "capabilities", and what a case that needs
// an undeclared one is (conformance/JUDGING.md §6): `not-applicable` only for
// a feature the RFC makes optional. A launch form the harness needs to reach
// a state (every timer at its default) is not a feature: without it the case
// is inconclusive. A behaviour the RFC requires cannot be declared away: a
// case that needs it runs, and judges what it finds.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace teredo::conformance {

enum class CapabilityKind {
  optional_feature,  // the RFC makes it optional: absent -> not-applicable
  launch_form,       // a way to start the IUT the harness needs: absent -> inconclusive
  required,          // the RFC requires it: absent -> the case fails on `requirement`
};

struct CapabilityInfo {
  std::string_view name;
  CapabilityKind kind;
  std::string_view why;          // the RFC's words that make it optional, or what the harness needs it for
  std::string_view requirement;  // kind required: the requirement an undeclared one fails
};

// Every capability the harness knows, in one table.
const std::vector<CapabilityInfo>& capability_table();
const CapabilityInfo* find_capability(std::string_view name);

// What a case needing `missing` (capabilities the adapter does not declare)
// is without running it: nullopt when it must run all the same (only
// `required` ones are missing: the body judges, or the engine fails it on the
// requirement); else not-applicable or inconclusive with the reason.
struct MissingCapabilities {
  enum class Outcome { run, not_applicable, inconclusive, fail } outcome = Outcome::run;
  std::string reason;
  std::string requirement;  // Outcome::fail: the requirement not met
};
MissingCapabilities judge_missing_capabilities(const std::vector<std::string>& missing);

}  // namespace teredo::conformance
