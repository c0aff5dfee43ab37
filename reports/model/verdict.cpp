#include "teredo/reports/verdict.hpp"

#include <string>

namespace teredo::reports {

void to_json(nlohmann::json& j, Verdict verdict) { j = std::string(to_string(verdict)); }

void from_json(const nlohmann::json& j, Verdict& verdict) {
  const auto v = j.is_string() ? verdict_from_string(j.get_ref<const std::string&>()) : std::nullopt;
  if (!v) throw nlohmann::json::other_error::create(501, "not a verdict: " + j.dump(), &j);
  verdict = *v;
}

void to_json(nlohmann::json& j, Level level) { j = std::string(to_string(level)); }

void from_json(const nlohmann::json& j, Level& level) {
  const auto l = j.is_string() ? level_from_string(j.get_ref<const std::string&>()) : std::nullopt;
  if (!l) throw nlohmann::json::other_error::create(501, "not a level: " + j.dump(), &j);
  level = *l;
}

}  // namespace teredo::reports
