// The verdicts and requirement levels of report.json, named once: the engine
// judges with these enums, the report's types serialize them, the renderers
// and the checker list them from here. Their spellings are the schema's
// ($defs/verdict, $defs/level in reports/schema/), which a test compares.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace teredo::reports {

// pass; fail: a MUST not met; warn: a SHOULD not met; not_applicable: an
// optional capability the adapter does not claim; inconclusive: the lab
// could not reach the state to judge; error: a harness fault, never blamed on
// the IUT; flaky: the last attempt passed after an earlier one did not (a
// verdict over attempts, never an attempt's).
enum class Verdict { pass, fail, warn, not_applicable, inconclusive, error, flaky };

// Every verdict, in the order every view lists them.
inline constexpr std::array<Verdict, 7> kVerdicts = {Verdict::pass,         Verdict::fail,  Verdict::warn,
                                                     Verdict::not_applicable, Verdict::inconclusive, Verdict::error,
                                                     Verdict::flaky};

// "pass", "not-applicable", ...
constexpr std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::warn: return "warn";
    case Verdict::not_applicable: return "not-applicable";
    case Verdict::inconclusive: return "inconclusive";
    case Verdict::error: return "error";
    case Verdict::flaky: return "flaky";
  }
  return "error";
}
// The verdict spelled `text`, or nullopt.
constexpr std::optional<Verdict> verdict_from_string(std::string_view text) {
  for (const Verdict v : kVerdicts) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}
constexpr bool is_verdict(std::string_view text) { return verdict_from_string(text).has_value(); }

// A requirement's or a case's level: MUST covers MUST (NOT), SHALL (NOT),
// REQUIRED; SHOULD covers SHOULD (NOT), (NOT) RECOMMENDED; MAY the rest.
enum class Level { must, should, may };
inline constexpr std::array<Level, 3> kLevels = {Level::must, Level::should, Level::may};

constexpr std::string_view to_string(Level level) {  // "MUST", "SHOULD", "MAY"
  switch (level) {
    case Level::must: return "MUST";
    case Level::should: return "SHOULD";
    case Level::may: return "MAY";
  }
  return "MUST";
}
constexpr std::optional<Level> level_from_string(std::string_view text) {
  for (const Level l : kLevels) {
    if (to_string(l) == text) return l;
  }
  return std::nullopt;
}
constexpr bool is_level(std::string_view text) { return level_from_string(text).has_value(); }

// The names, in the same order, for the views that list them.
template <typename Enum, std::size_t N>
constexpr std::array<std::string_view, N> names_of(const std::array<Enum, N>& values) {
  std::array<std::string_view, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = to_string(values[i]);
  return out;
}
inline constexpr auto kVerdictNames = names_of(kVerdicts);
inline constexpr auto kLevelNames = names_of(kLevels);

// The roles a case or an IUT plays.
inline constexpr std::array<std::string_view, 4> kRoles = {"server", "client", "relay", "host-relay"};

void to_json(nlohmann::json& j, Verdict verdict);
void from_json(const nlohmann::json& j, Verdict& verdict);  // throws nlohmann::json::other_error on an unknown name
void to_json(nlohmann::json& j, Level level);
void from_json(const nlohmann::json& j, Level& level);

}  // namespace teredo::reports
