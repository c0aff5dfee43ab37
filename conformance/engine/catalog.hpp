// The requirement catalog (conformance/catalog/requirements.json): every
// normative statement with a stable ID and the RFC sentence it rests on.
// Cases cite IDs; a case's level and the coverage figures come from here,
// never from the case itself.
#pragma once

#include "teredo/reports/verdict.hpp"

#include <map>
#include <string>
#include <vector>

namespace teredo::conformance {

// MUST covers MUST, MUST NOT, SHALL, REQUIRED and the catalog's lower-case
// "must", "procedure" and "format" (RFC 4380 writes much of its protocol in
// them); SHOULD covers SHOULD (NOT), RECOMMENDED and "should"; MAY the rest.
// (The levels are report.json's, teredo/reports/verdict.hpp.)
using Level = reports::Level;
Level level_from_catalog(const std::string& text);

struct Requirement {
  std::string id, doc, section, role, level_text, summary, testable;
  // The normative sentence(s) verbatim from the RFC, whitespace folded; " [...] "
  // marks an elision. quote_from ("RFC4380 5.2.1") names the source when it is
  // not the entry's own document and section (the RFC 2461 entries).
  std::string quote, quote_from;
  Level level = Level::must;
  [[nodiscard]] bool testable_black_box() const { return testable == "yes" || testable == "partly"; }
  [[nodiscard]] bool applies_to(const std::string& role_name) const;  // "all" applies to every role
};

class Catalog {
 public:
  static Catalog load(const std::string& path);  // throws std::runtime_error naming the problem
  static std::string default_path();             // $TEREDO_REQUIREMENTS, else <source>/conformance/catalog/requirements.json
  [[nodiscard]] const Requirement* find(const std::string& id) const;
  [[nodiscard]] std::vector<const Requirement*> testable_for(const std::string& role) const;
  [[nodiscard]] const std::map<std::string, Requirement>& all() const noexcept { return by_id_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::map<std::string, Requirement> by_id_;
  std::string path_;
};

}  // namespace teredo::conformance
