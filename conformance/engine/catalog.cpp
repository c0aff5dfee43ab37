#include "engine/catalog.hpp"

#include "engine/data_dir.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>

namespace teredo::conformance {

Level level_from_catalog(const std::string& text) {
  std::string upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  if (upper.rfind("SHOULD", 0) == 0 || upper == "RECOMMENDED" || upper == "NOT RECOMMENDED") return Level::should;
  if (upper == "MAY" || upper == "OPTIONAL") return Level::may;
  return Level::must;  // MUST, MUST NOT, SHALL, SHALL NOT, REQUIRED, PROCEDURE, FORMAT
}

bool Requirement::applies_to(const std::string& role_name) const {
  if (role == "all") return true;
  // "client, server" lists several roles; "host-specific relay" is its own role.
  std::size_t start = 0;
  while (start < role.size()) {
    std::size_t end = role.find(',', start);
    if (end == std::string::npos) end = role.size();
    std::string part = role.substr(start, end - start);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (part == role_name) return true;
    // The catalog's "host-specific relay" is the harness's role "host-relay".
    if (part == "host-specific relay" && role_name == "host-relay") return true;
    start = end + 1;
  }
  return false;
}

std::string Catalog::default_path() {
  if (const char* env = std::getenv("TEREDO_REQUIREMENTS"); env && *env) return env;
  return catalog_file("requirements.json");
}

Catalog Catalog::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open the requirement catalog " + path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("the requirement catalog " + path + " is not valid JSON: " + e.what());
  }
  Catalog c;
  c.path_ = path;
  for (const auto& r : j) {
    Requirement q;
    q.id = r.value("id", "");
    q.section = r.value("section", "");
    q.role = r.value("role", "");
    q.level_text = r.value("level", "");
    q.summary = r.value("summary", "");
    q.testable = r.value("testable", "");
    q.quote = r.value("quote", "");
    q.quote_from = r.value("quote_from", "");
    q.level = level_from_catalog(q.level_text);
    q.doc = q.id.size() > 5 ? "RFC" + q.id.substr(1, q.id.find('-') - 1) : "";
    if (!q.id.empty()) c.by_id_.emplace(q.id, q);
  }
  if (c.by_id_.empty()) throw std::runtime_error("the requirement catalog " + path + " holds no requirement");
  return c;
}

const Requirement* Catalog::find(const std::string& id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::vector<const Requirement*> Catalog::testable_for(const std::string& role) const {
  std::vector<const Requirement*> out;
  for (const auto& [id, r] : by_id_) {
    if (r.testable_black_box() && r.applies_to(role)) out.push_back(&r);
  }
  return out;
}

}  // namespace teredo::conformance
