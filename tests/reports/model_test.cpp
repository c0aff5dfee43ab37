// The report's model (teredo/reports/report.hpp, verdict.hpp) against the
// published schema and reports/FORMAT.md: the enums spell exactly the
// schema's enums, the C++ types write exactly the keys the schema defines
// and read back what they wrote, and FORMAT.md names every key of the
// schema and no other, so none of the three can drift from the others.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "report_fixture.hpp"
#include "teredo/reports/check.hpp"
#include "teredo/reports/report.hpp"

namespace teredo::reports::test {
namespace {

using nlohmann::json;

const json& defs() { return report_schema_json().at("$defs"); }

std::vector<std::string> enum_of(const json& def) { return def.at("enum").get<std::vector<std::string>>(); }

template <std::size_t N>
std::vector<std::string> names(const std::array<std::string_view, N>& list) {
  return {list.begin(), list.end()};
}

TEST(ReportModel, VerdictsLevelsAndRolesAreTheSchemas) {
  EXPECT_EQ(names(kVerdictNames), enum_of(defs().at("verdict")));
  std::vector<std::string> attempt_verdicts = names(kVerdictNames);
  std::erase(attempt_verdicts, "flaky");  // a verdict over attempts, never an attempt's
  EXPECT_EQ(attempt_verdicts, enum_of(defs().at("attempt_verdict")));
  EXPECT_EQ(names(kLevelNames), enum_of(defs().at("level")));
  const std::vector<std::string> roles = names(kRoles), schema_roles = enum_of(defs().at("role"));
  EXPECT_EQ(std::set<std::string>(roles.begin(), roles.end()), std::set<std::string>(schema_roles.begin(), schema_roles.end()));
  for (const Verdict v : kVerdicts) EXPECT_EQ(verdict_from_string(to_string(v)), v);
  for (const Level l : kLevels) EXPECT_EQ(level_from_string(to_string(l)), l);
  EXPECT_FALSE(verdict_from_string("passed").has_value());
  EXPECT_FALSE(level_from_string("must").has_value());
}

TEST(ReportModel, NameAndVersionAreTheEmbeddedSchemas) {
  const json file = json::parse(read_file(source_path("reports/schema/teredo-compliance-report.schema.json")));
  EXPECT_EQ(report_schema_json(), file) << "the embedded schema is not the published file";
  EXPECT_EQ(schema_name(), "teredo-compliance-report");
  EXPECT_TRUE(std::regex_match(schema_version(), std::regex(R"(1\.[0-9]+\.[0-9]+)")));
  EXPECT_TRUE(file.at("$id").get<std::string>().ends_with(":" + schema_version()));
}

// A report with every optional key present and one element in every list and
// map: what the types can write.
Report every_key() {
  Report r;
  r.schema = schema_name();
  r.schema_version = schema_version();
  r.complete = true;
  // Member by member: GCC 12 sees optionals in one large aggregate
  // temporary as maybe uninitialized.
  Run& run = r.run;
  run.run_id = "run-1";
  run.started_at = "2026-11-26T16:00:00Z";
  run.finished_at = "2026-11-26T16:01:00Z";
  run.duration_ms = 60000;
  run.harness.name = "teredo-conform";
  run.harness.version = "0.1.0";
  run.harness.git_commit = "abc1234";
  run.host.kernel = "6.1.0";
  run.host.cpus = 2;
  run.command_line = "teredo-conform run";
  run.master_seed = 1;
  run.selection.roles = {"server"};
  run.selection.cases = "*";
  run.options.jobs = 2;
  run.options.baseline = "b.json";
  run.shard = ShardRef{.index = 1, .count = 1};
  run.merged_from.emplace();
  run.merged_from->push_back({.index = 1, .count = 1, .run_id = "run-0", .duration_ms = 1, .cases = 1});
  r.iut.name = "ref";
  r.iut.version = "1";
  r.iut.adapter = "a.json";
  r.iut.adapter_sha256 = std::string(64, 'a');
  r.iut.roles = {"server"};
  r.iut.capabilities = {"x"};
  Requirement& req = r.requirements["R4380-5.3.2-01"];
  req.doc = "RFC4380";
  req.section = "5.3.2";
  req.role = "server";
  req.summary = "s";
  req.quote = "q";
  req.testable = "yes";
  req.covered_by = {"server.a"};
  Case c;
  c.case_id = "server.a";
  c.title = "t";
  c.description = "d";
  c.judgement = "j";
  c.role = "server";
  c.requirements = {"R4380-5.3.2-01"};
  c.rfc_sections = {"RFC4380 5.3.2"};
  c.topology = "server-only";
  c.nat_profile = "cone";
  c.verdict = Verdict::fail;
  c.duration_ms = 5;
  c.attempts.push_back({.n = 1, .verdict = Verdict::fail, .duration_ms = 5, .seed = 7});
  Assertion& a = c.assertions.emplace_back();
  a.requirement = "R4380-5.3.2-01";
  a.outcome = Verdict::fail;
  a.expected = "e";
  a.observed = "o";
  a.message = "m";
  a.code = "ra_not_sent";
  a.frames.push_back({.capture = "driver.pcap", .frame = 1});
  Message& m = c.messages.emplace_back();
  m.t_ms = 1;
  m.level = "info";
  m.text = "x";
  m.code = "iut_started";
  c.evidence.dir = "cases/server.a";
  Pcap& pcap = c.evidence.pcaps.emplace_back();
  pcap.path = "cases/server.a/driver.pcap";
  pcap.vantage = "driver";
  pcap.packets = 1;
  pcap.sha256 = std::string(64, 'b');
  pcap.capped = false;
  Log& log = c.evidence.logs.emplace_back();
  log.path = "cases/server.a/iut.log";
  log.what = "log";
  log.capped = false;
  c.evidence.cap_bytes = 1024;
  c.reproducer = "teredo-conform run";
  c.baseline = "known";
  r.cases.push_back(c);
  r.summary = summarize(r.cases, {.testable = 1, .covered = 1, .percent = 100.0, .uncovered = {}});
  Gate& gate = r.gate.emplace();
  gate.policy = "default";
  gate.baseline_file = "b.json";
  gate.result = "pass";
  return r;
}

// Walks `value` with its schema: every key of an object with "properties"
// must be one of them (unknown), and every one of them must be in the value
// (unwritten). Maps (additionalProperties with a schema) are walked per entry.
class KeyWalk {
 public:
  std::set<std::string> unknown, unwritten;

  void walk(const json& schema, const json& value, const std::string& path) {
    if (!schema.is_object()) return;
    if (schema.contains("$ref")) {
      walk(report_schema_json().at(json::json_pointer(schema["$ref"].get<std::string>().substr(1))), value, path);
    }
    for (const char* list : {"allOf", "anyOf", "oneOf"}) {
      if (schema.contains(list)) {
        for (const json& sub : schema[list]) walk(sub, value, path);
      }
    }
    if (value.is_array() && schema.contains("items")) {
      for (const json& item : value) walk(schema["items"], item, path + "[]");
    }
    if (!value.is_object()) return;
    const json* properties = schema.contains("properties") ? &schema["properties"] : nullptr;
    if (properties != nullptr) {
      for (const auto& [key, sub] : properties->items()) {
        if (!value.contains(key)) unwritten.insert(path + "." + key);
      }
    }
    for (const auto& [key, member] : value.items()) {
      if (properties != nullptr && properties->contains(key)) {
        walk((*properties)[key], member, path + "." + key);
      } else if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
        walk(schema["additionalProperties"], member, path + ".*");
      } else if (properties != nullptr && schema.value("additionalProperties", json(true)) == json(false)) {
        unknown.insert(path + "." + key);
      }
    }
  }
};

TEST(ReportModel, TypesWriteEveryKeyOfTheSchemaAndNoOther) {
  const json written = every_key();
  KeyWalk walk;
  walk.walk(report_schema_json(), written, "");
  walk.unwritten.erase(".fuzz");  // a fuzz run's section, written by conformance/fuzz (kept as JSON here)
  EXPECT_TRUE(walk.unknown.empty()) << json(walk.unknown).dump();
  EXPECT_TRUE(walk.unwritten.empty()) << "keys of the schema the types never write: " << json(walk.unwritten).dump();
  // Every value valid for the schema too (shard beside merged_from is a rule
  // across fields, check_report's, not the schema's).
  const auto problems = report_schema().validate(written);
  EXPECT_TRUE(problems.empty()) << schema::to_string(problems.front());
}

TEST(ReportModel, TypesReadBackWhatTheyWrite) {
  const json written = every_key();
  EXPECT_EQ(json(written.get<Report>()), written);
  // And the fixture, which the tests build as plain JSON: nothing lost.
  for (const bool strict : {false, true}) {
    const json fixture = make_report({.strict = strict});
    EXPECT_EQ(json(fixture.get<Report>()), fixture);
  }
}

TEST(ReportModel, AbsentKeysStayAbsent) {
  Report r = every_key();
  r.run.shard.reset();
  r.run.merged_from.reset();
  r.cases[0].evidence.cap_bytes.reset();
  r.cases[0].evidence.pcaps[0].capped.reset();
  r.cases[0].nat_profile.reset();
  const json j = r;
  EXPECT_FALSE(j["run"].contains("shard"));
  EXPECT_FALSE(j["run"].contains("merged_from"));
  EXPECT_FALSE(j["cases"][0]["evidence"].contains("cap_bytes"));
  EXPECT_FALSE(j["cases"][0]["evidence"]["pcaps"][0].contains("capped"));
  EXPECT_TRUE(j["cases"][0]["nat_profile"].is_null());  // nullable: present, null
}

// Every key name the schema defines (the last component of each path).
std::set<std::string> schema_key_names(const json& node) {
  std::set<std::string> out;
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "properties" && value.is_object()) {
        for (const auto& [name, sub] : value.items()) out.insert(name);
      }
      if (key == "enum" || key == "const" || key == "required") continue;
      const auto inner = schema_key_names(value);
      out.insert(inner.begin(), inner.end());
    }
  } else if (node.is_array()) {
    for (const json& v : node) {
      const auto inner = schema_key_names(v);
      out.insert(inner.begin(), inner.end());
    }
  }
  return out;
}

TEST(ReportFormatDoc, NamesEveryKeyOfTheSchemaAndNoOther) {
  const std::string doc = read_file(source_path("reports/FORMAT.md"));
  const std::set<std::string> keys = schema_key_names(report_schema_json());
  // A key is named as "key" (the example, the fuzz section) or `key` / `a.key`
  // in the prose.
  for (const std::string& key : keys) {
    const bool named = doc.find("\"" + key + "\"") != std::string::npos || doc.find("`" + key + "`") != std::string::npos ||
                       doc.find("." + key + "`") != std::string::npos;
    EXPECT_TRUE(named) << "FORMAT.md does not name the schema's key " << key;
  }
  // Every key of the example's JSON is the schema's.
  const std::size_t open = doc.find("```jsonc"), close = doc.find("```", open + 3);
  ASSERT_NE(open, std::string::npos);
  const std::string example = doc.substr(open, close - open);
  const std::regex key_re("\"([A-Za-z_][A-Za-z0-9_]*)\"\\s*:");
  std::set<std::string> example_keys;
  for (auto it = std::sregex_iterator(example.begin(), example.end(), key_re); it != std::sregex_iterator(); ++it) {
    example_keys.insert((*it)[1]);
  }
  EXPECT_GT(example_keys.size(), 50u);
  for (const std::string& key : example_keys) {
    // requirements and by_level are maps: their keys are IDs and levels, not names.
    if (key.starts_with("R4380") || is_level(key) || is_verdict(key)) continue;
    EXPECT_TRUE(keys.contains(key)) << "FORMAT.md's example has the key " << key << ", which the schema does not define";
  }
  // The version in the title is the schema's.
  EXPECT_NE(doc.find("# report.json, version " + schema_version()), std::string::npos);
}

}  // namespace
}  // namespace teredo::reports::test
