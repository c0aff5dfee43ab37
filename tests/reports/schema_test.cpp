// The JSON Schema (reports/schema/teredo-compliance-report.schema.json),
// checked with python3-jsonschema: the fixture and what write_reports() writes
// validate; broken reports do not (the schema is strict).
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "report_fixture.hpp"
#include "teredo/reports/check.hpp"
#include "teredo/reports/write.hpp"

namespace teredo::reports::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kSchema = source_path("reports/schema/teredo-compliance-report.schema.json");
const fs::path kScript = source_path("tests/reports/validate_report.py");

// One line per file: "VALID path" or "INVALID path: ...".
std::map<std::string, std::string> validate(const std::vector<fs::path>& files) {
  std::vector<std::string> argv = {python_with_jsonschema(), kScript.string(), kSchema.string()};
  for (const fs::path& f : files) argv.push_back(f.string());
  const ProcessResult r = run_process(argv);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << "validate_report.py exit " << r.exit_code << "\n" << r.out << r.err;
  std::map<std::string, std::string> lines;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    for (const fs::path& f : files) {
      const std::string p = f.string();
      if (line.starts_with("VALID " + p) || line.starts_with("INVALID " + p + ":")) lines[p] = line;
    }
  }
  return lines;
}

#define REQUIRE_JSONSCHEMA()                                                                             \
  if (python_with_jsonschema().empty()) {                                                                \
    GTEST_SKIP() << "python3 with jsonschema not found (apt-get install python3-jsonschema); the schema " \
                    "is not checked";                                                                    \
  }

TEST(ReportSchema, SchemaHasIdAndVersion) {
  const json schema = json::parse(read_file(kSchema));
  EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
  EXPECT_TRUE(schema["$id"].get<std::string>().ends_with(":" + teredo::reports::schema_version()));
  EXPECT_EQ(schema["version"], schema_version());
  EXPECT_EQ(schema["properties"]["schema"]["const"], schema_name());
  EXPECT_EQ(schema["additionalProperties"], false);
}

TEST(ReportSchema, FixtureAndWrittenReportsValidate) {
  REQUIRE_JSONSCHEMA();
  TempDir dir;
  std::vector<fs::path> files;
  int i = 0;
  for (const FixtureOptions& o : {FixtureOptions{}, FixtureOptions{.strict = true}, FixtureOptions{.with_error = false},
                                  FixtureOptions{.iut_name = "teredo-ref", .iut_version = "0.1.0", .with_error = false}}) {
    const fs::path out = dir.path() / ("run" + std::to_string(i++));
    write_reports(make_report(o), out.string());  // report.json as the driver writes it
    files.push_back(out / "report.json");
  }
  const auto lines = validate(files);
  for (const fs::path& f : files) {
    ASSERT_TRUE(lines.contains(f.string())) << f;
    EXPECT_TRUE(lines.at(f.string()).starts_with("VALID ")) << lines.at(f.string());
  }
}

// A report the views cannot read: report.json is still written (it is all a
// user has), junit.xml and report.html are not, and the error is one line.
TEST(ReportWrite, ASchemaInvalidReportKeepsReportJsonAndIsOneClearError) {
  TempDir dir;
  int i = 0;
  EXPECT_EQ(one_clear_error_failures([&](const json& r) {
              const fs::path out = dir.path() / ("bad" + std::to_string(i++));
              write_reports(r, out.string());
              return std::string();
            }),
            "");
  for (int k = 0; k < i; ++k) {
    const fs::path out = dir.path() / ("bad" + std::to_string(k));
    EXPECT_TRUE(fs::exists(out / "report.json")) << out;
    EXPECT_FALSE(fs::exists(out / "junit.xml")) << out;
    EXPECT_FALSE(fs::exists(out / "report.html")) << out;
  }
  EXPECT_EQ(i, static_cast<int>(invalid_documents().size()));
}

struct Broken {
  const char* name;
  std::function<void(json&)> apply;
};

TEST(ReportSchema, RejectsBrokenReports) {
  REQUIRE_JSONSCHEMA();
  const std::vector<Broken> broken = {
      {"missing-gate", [](json& r) { r.erase("gate"); }},
      {"missing-case-key", [](json& r) { r["cases"][0].erase("verdict"); }},
      {"bad-verdict", [](json& r) { r["cases"][0]["verdict"] = "passed"; }},
      {"bad-attempt-verdict", [](json& r) { r["cases"][0]["attempts"][0]["verdict"] = "flaky"; }},
      {"bad-level", [](json& r) { r["cases"][0]["level"] = "must"; }},
      {"bad-outcome", [](json& r) { r["cases"][0]["assertions"][0]["outcome"] = "ok"; }},
      {"bad-message-level", [](json& r) { r["cases"][0]["messages"][0]["level"] = "debug"; }},
      {"extra-top-level-key", [](json& r) { r["extra"] = true; }},
      {"extra-case-key", [](json& r) { r["cases"][0]["verdikt"] = "pass"; }},
      {"major-2", [](json& r) { r["schema_version"] = "2.0.0"; }},
      {"wrong-schema-name", [](json& r) { r["schema"] = "something-else"; }},
      {"flaky-one-attempt", [](json& r) {
         for (json& c : r["cases"]) if (c["case_id"] == kFlakyCase) c["attempts"].erase(0);
       }},
      {"ran-without-attempt", [](json& r) { r["cases"][0]["attempts"] = json::array(); }},
      {"gate-fail-exit-0", [](json& r) { r["gate"]["result"] = "fail"; r["gate"]["exit_code"] = 0; }},
      {"gate-pass-with-blocking", [](json& r) { r["gate"]["result"] = "pass"; r["gate"]["exit_code"] = 0; }},
      {"gate-exit-3", [](json& r) { r["gate"]["exit_code"] = 3; }},
      {"policy-not-strict", [](json& r) { r["run"]["options"]["strict"] = true; }},
      {"absolute-evidence", [](json& r) { r["cases"][0]["evidence"]["pcaps"][0]["path"] = "/etc/passwd"; }},
      {"url-evidence", [](json& r) { r["cases"][0]["evidence"]["logs"][0]["path"] = "javascript:alert(1)"; }},
      {"dotdot-evidence", [](json& r) { r["cases"][0]["evidence"]["dir"] = "cases/../../etc"; }},
      {"bad-sha", [](json& r) { r["cases"][0]["evidence"]["pcaps"][0]["sha256"] = "xyz"; }},
      {"case-id-with-space", [](json& r) { r["cases"][0]["case_id"] = "server rs"; }},
      {"requirement-without-quote", [](json& r) { r["requirements"]["R4380-5.3.2-07"].erase("quote"); }},
      {"bad-requirement-id", [](json& r) { r["cases"][0]["requirements"][0] = "5.3.2"; }},
      {"by-verdict-missing", [](json& r) { r["summary"]["by_verdict"].erase("flaky"); }},
      {"by-level-bad-key", [](json& r) { r["summary"]["by_level"]["must"] = json::object(); }},
      {"negative-duration", [](json& r) { r["cases"][0]["duration_ms"] = -1; }},
      {"timestamp-not-utc", [](json& r) { r["run"]["started_at"] = "2026-11-26 16:00:00"; }},
      {"known-on-pass", [](json& r) { r["cases"][0]["baseline"] = "known"; }},
      {"percent-over-100", [](json& r) { r["summary"]["coverage"]["percent"] = 101; }},
  };
  TempDir dir;
  std::vector<fs::path> files;
  const json base = make_report();
  for (const Broken& b : broken) {
    json report = base;
    b.apply(report);
    files.push_back(dir.path() / (std::string(b.name) + ".json"));
    write_text(files.back(), report.dump(2, ' ', false, json::error_handler_t::replace));
  }
  // The unbroken report in the same run: the rejections are the mutations'.
  files.push_back(dir.path() / "unbroken.json");
  write_text(files.back(), base.dump(2, ' ', false, json::error_handler_t::replace));
  const auto lines = validate(files);
  for (std::size_t i = 0; i < broken.size(); ++i) {
    const std::string key = files[i].string();
    ASSERT_TRUE(lines.contains(key)) << key;
    EXPECT_TRUE(lines.at(key).starts_with("INVALID ")) << broken[i].name << " validated: " << lines.at(key);
  }
  ASSERT_TRUE(lines.contains(files.back().string()));
  EXPECT_TRUE(lines.at(files.back().string()).starts_with("VALID ")) << lines.at(files.back().string());
}

// FORMAT.md's rules the schema once contradicted: a case judged without
// running (inconclusive, fail) has no attempt, and a known failure may be an
// inconclusive case. Both the published schema (python3-jsonschema) and
// check_report accept them.
TEST(ReportSchema, AcceptsCasesJudgedWithoutRunningAndKnownInconclusives) {
  json report = make_report();
  for (json& c : report["cases"]) {
    if (c["case_id"] == kInconclusiveCase) {
      c["attempts"] = json::array();
      c["baseline"] = "known";
    }
    if (c["case_id"] == kFailCase) c["attempts"] = json::array();
  }
  finalize(report);  // the known inconclusive no longer blocks
  EXPECT_TRUE(check_report(report).empty()) << check_report(report).front();
  if (python_with_jsonschema().empty()) GTEST_SKIP() << "python3 with jsonschema not found";
  TempDir dir;
  const fs::path file = dir.path() / "judged-without-running.json";
  write_text(file, report.dump(2, ' ', false, json::error_handler_t::replace));
  const auto lines = validate({file});
  ASSERT_TRUE(lines.contains(file.string()));
  EXPECT_TRUE(lines.at(file.string()).starts_with("VALID ")) << lines.at(file.string());
}

TEST(ReportSchema, WrittenReportReadsBackAndChecksClean) {
  TempDir dir;
  const json report = make_report();
  write_reports(report, (dir.path() / "out").string());
  for (const char* name : {"report.json", "junit.xml", "report.html"}) {
    EXPECT_TRUE(fs::exists(dir.path() / "out" / name)) << name;
  }
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path() / "out")) ++files;
  EXPECT_EQ(files, 3);
  const json back = json::parse(read_file(dir.path() / "out" / "report.json"));
  EXPECT_TRUE(check_report(back).empty());
  // Bytes that are not UTF-8 are written as U+FFFD; everything else is as built.
  EXPECT_EQ(back["summary"], report["summary"]);
  EXPECT_EQ(back["gate"], report["gate"]);
  EXPECT_NE(read_file(dir.path() / "out" / "report.json").find(kUnicode), std::string::npos);
}

}  // namespace
}  // namespace teredo::reports::test
