// junit.xml: valid against reports/schema/junit.xsd (xmllint), counts equal
// to the report, the same failures as the gate, escaping, flaky encoding.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "report_fixture.hpp"
#include "teredo/reports/junit.hpp"

namespace teredo::reports::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kXsd = source_path("reports/schema/junit.xsd");

std::string xmllint() {
  static const std::string path = find_program({"xmllint"});
  return path;
}

#define REQUIRE_XMLLINT() \
  if (xmllint().empty()) GTEST_SKIP() << "xmllint not found (apt-get install libxml2-utils)"

class JunitFile {
 public:
  explicit JunitFile(const json& report) : xml_(render_junit(report)) {
    path_ = dir_.path() / "junit.xml";
    write_text(path_, xml_);
  }
  const std::string& xml() const { return xml_; }
  const fs::path& path() const { return path_; }

  // An XPath expression evaluated by xmllint (independent of our renderer).
  std::string xpath(const std::string& expr) const {
    const ProcessResult r = run_process({xmllint(), "--xpath", expr, path_.string()});
    EXPECT_EQ(r.exit_code, 0) << expr << "\n" << r.err;
    std::string out = r.out;
    if (out.ends_with('\n')) out.pop_back();  // xmllint ends its output with a newline
    return out;
  }
  int count(const std::string& expr) const { return std::stoi(xpath("count(" + expr + ")")); }

 private:
  TempDir dir_;
  fs::path path_;
  std::string xml_;
};

TEST(ReportJunit, WellFormedAndValidAgainstXsd) {
  REQUIRE_XMLLINT();
  for (const FixtureOptions& o : {FixtureOptions{}, FixtureOptions{.strict = true}, FixtureOptions{.with_error = false}}) {
    const JunitFile f(make_report(o));
    const ProcessResult wf = run_process({xmllint(), "--noout", f.path().string()});
    EXPECT_EQ(wf.exit_code, 0) << wf.err;
    const ProcessResult valid = run_process({xmllint(), "--noout", "--schema", kXsd.string(), f.path().string()});
    EXPECT_EQ(valid.exit_code, 0) << valid.err << "\n" << f.xml();
  }
}

TEST(ReportJunit, XsdRejectsATestcaseWithoutName) {
  REQUIRE_XMLLINT();
  // The h2spec PR #123 lesson: the XSD must catch a nameless testcase.
  TempDir dir;
  const fs::path bad = dir.path() / "bad.xml";
  write_text(bad, "<?xml version=\"1.0\"?><testsuites name=\"x\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0\">"
                  "<testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0\">"
                  "<testcase classname=\"c\" time=\"0\"/></testsuite></testsuites>");
  EXPECT_NE(run_process({xmllint(), "--noout", "--schema", kXsd.string(), bad.string()}).exit_code, 0);
  const fs::path comma = dir.path() / "comma.xml";
  write_text(comma, "<?xml version=\"1.0\"?><testsuites name=\"x\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"1,5\"/>");
  EXPECT_NE(run_process({xmllint(), "--noout", "--schema", kXsd.string(), comma.string()}).exit_code, 0);
}

TEST(ReportJunit, CountsMatchTheReport) {
  REQUIRE_XMLLINT();
  const json report = make_report();
  const JunitFile f(report);
  const auto n = verdict_counts(report);
  const int cases = static_cast<int>(report["cases"].size());
  EXPECT_EQ(f.count("//testcase"), cases);
  EXPECT_EQ(f.count("//testsuite"), 3);  // server, client, relay
  EXPECT_EQ(f.xpath("string(/testsuites/@tests)"), std::to_string(cases));
  // Default policy: the MUST failure and the inconclusive case fail (the
  // gate cannot vouch for what it did not judge); the known failure and
  // not-applicable are skipped; the harness error is an error; warn and
  // flaky pass.
  EXPECT_EQ(f.count("//testcase/failure"), 1 + n.at("inconclusive"));
  EXPECT_EQ(f.count("//testcase/error"), n.at("error"));
  EXPECT_EQ(f.count("//testcase/skipped"), n.at("not-applicable") + 1);
  EXPECT_EQ(f.xpath("string(/testsuites/@failures)"), "2");
  EXPECT_EQ(f.xpath("string(/testsuites/@errors)"), "1");
  EXPECT_EQ(f.xpath("string(/testsuites/@skipped)"), "2");
  for (const char* suite : {"teredo.server", "teredo.client", "teredo.relay"}) {
    const std::string s = std::string("/testsuites/testsuite[@name='") + suite + "']";
    EXPECT_EQ(f.xpath("string(" + s + "/@tests)"), std::to_string(f.count(s + "/testcase"))) << suite;
    EXPECT_EQ(f.xpath("string(" + s + "/@failures)"), std::to_string(f.count(s + "/testcase/failure"))) << suite;
    EXPECT_EQ(f.xpath("string(" + s + "/@errors)"), std::to_string(f.count(s + "/testcase/error"))) << suite;
    EXPECT_EQ(f.xpath("string(" + s + "/@skipped)"), std::to_string(f.count(s + "/testcase/skipped"))) << suite;
    EXPECT_EQ(f.xpath("string(" + s + "/@timestamp)"), "2026-11-26T16:00:00Z") << suite;
  }
  EXPECT_EQ(f.count("//testcase[not(@name) or @name='' or not(@classname) or @classname='']"), 0);
  // Every case, by name, with its classname and time in seconds.
  for (const json& c : report["cases"]) {
    const std::string id = c["case_id"];
    EXPECT_EQ(f.count("//testcase[@name='" + id + "']"), 1) << id;
  }
  EXPECT_EQ(f.xpath("string(//testcase[@name='server.rs.answer-rs']/@classname)"), "teredo.server.RFC4380_5_3_2");
  EXPECT_EQ(f.xpath("string(//testcase[@name='server.rs.answer-rs']/@time)"), "0.640");
  EXPECT_EQ(f.xpath("string(//testcase[@name='relay.forward.to-native']/@classname)"), "teredo.relay.RFC4380_5_4_1");
}

TEST(ReportJunit, FailureCarriesTheAssertionAndSurvivesHostileText) {
  REQUIRE_XMLLINT();
  const json report = make_report();
  const JunitFile f(report);
  const std::string failure = std::string("//testcase[@name='") + kFailCase + "']/failure";
  EXPECT_EQ(f.xpath("string(" + failure + "/@type)"), "MUST");
  // xmllint decodes what we escaped: the hostile text comes back intact.
  const std::string message = f.xpath("string(" + failure + "/@message)");
  EXPECT_NE(message.find("R4380-5.3.2-07 MUST: source was the primary address " + kHostile), std::string::npos) << message;
  const std::string text = f.xpath("string(" + failure + ")");
  EXPECT_NE(text.find("expected: RA from 203.0.113.2:3544"), std::string::npos) << text;
  EXPECT_NE(text.find("observed: RA from 203.0.113.1:3544 " + kHostile + " " + kUnicode), std::string::npos) << text;
  EXPECT_NE(text.find("frames: driver.pcap #2, nat-outer.pcap #5"), std::string::npos) << text;
  EXPECT_NE(text.find("reproduce: teredo-conform run"), std::string::npos) << text;
  // Control bytes and non-UTF-8 bytes are spelled out; never raw in the file.
  const std::string out = f.xpath(std::string("string(//testcase[@name='") + kFailCase + "']/system-out)");
  EXPECT_NE(out.find("bytes \\x01\\x02\\x1B[31m and \\x7F, then \\xFF\\xFE end"), std::string::npos) << out;
  EXPECT_EQ(f.xml().find('\x01'), std::string::npos);
  EXPECT_EQ(f.xml().find("<script>"), std::string::npos);
  // Evidence paths and the reproducer are in system-out.
  EXPECT_NE(out.find("pcap cases/server.rs.cone-reply-from-secondary/driver.pcap (driver, 4 packets)"), std::string::npos) << out;
  EXPECT_NE(out.find("log cases/server.rs.cone-reply-from-secondary/iut.log"), std::string::npos) << out;
}

TEST(ReportJunit, FailureAndSystemOutQuoteTheRfcSentence) {
  REQUIRE_XMLLINT();
  const JunitFile f(make_report());
  // Beside the failing assertion: the sentence of its requirement, from report["requirements"].
  const std::string failure = f.xpath(std::string("string(//testcase[@name='") + kFailCase + "']/failure)");
  EXPECT_NE(failure.find("[fail] R4380-5.3.2-07 MUST: source was the primary address"), std::string::npos) << failure;
  EXPECT_NE(failure.find("    RFC: \"" + kConeQuote + "\"\n"), std::string::npos) << failure;
  const std::string out = f.xpath(std::string("string(//testcase[@name='") + kFailCase + "']/system-out)");
  EXPECT_NE(out.find("requirements:\n  R4380-5.3.2-07: \"" + kConeQuote + "\"\n"), std::string::npos) << out;
  // A requirement whose quote is empty is listed bare, with no empty quotation.
  const std::string pass = f.xpath("string(//testcase[@name='server.rs.answer-rs']/system-out)");
  EXPECT_NE(pass.find("requirements:\n  R4380-5.3.2-02\n"), std::string::npos) << pass;
  EXPECT_EQ(pass.find("RFC: "), std::string::npos) << pass;
}

TEST(ReportJunit, WarnFailsOnlyUnderStrict) {
  REQUIRE_XMLLINT();
  const std::string warn = std::string("//testcase[@name='") + kWarnCase + "']";
  const JunitFile lax(make_report({.with_error = false}));
  EXPECT_EQ(lax.count(warn + "/failure"), 0);
  EXPECT_EQ(lax.count(warn + "/skipped"), 0);
  EXPECT_NE(lax.xpath("string(" + warn + "/system-out)").find("WARNING: a SHOULD is not met"), std::string::npos);
  const JunitFile strict(make_report({.strict = true, .with_error = false}));
  EXPECT_EQ(strict.count(warn + "/failure"), 1);
  EXPECT_EQ(strict.xpath("string(" + warn + "/failure/@type)"), "SHOULD");
}

TEST(ReportJunit, KnownFailureIsSkippedNotFailed) {
  REQUIRE_XMLLINT();
  const JunitFile f(make_report());
  const std::string known = std::string("//testcase[@name='") + kKnownCase + "']";
  EXPECT_EQ(f.count(known + "/failure"), 0);
  EXPECT_EQ(f.xpath("substring(" + known + "/skipped/@message, 1, 26)"), "known failure (baseline): ");
  // A known warn: skipped under strict (where it would have failed), a plain
  // warning under the default policy.
  const std::string warn = std::string("//testcase[@name='") + kWarnCase + "']";
  for (const bool strict : {false, true}) {
    json report = make_report({.strict = strict, .with_error = false});
    for (json& c : report["cases"]) {
      if (c["case_id"] == kWarnCase) c["baseline"] = "known";
    }
    finalize(report);
    const JunitFile w(report);
    EXPECT_EQ(w.count(warn + "/failure"), 0) << strict;
    EXPECT_EQ(w.count(warn + "/skipped"), strict ? 1 : 0) << strict;
    if (!strict) {
      EXPECT_NE(w.xpath("string(" + warn + "/system-out)").find("(the baseline lists it)"), std::string::npos);
    }
  }
}

TEST(ReportJunit, NotApplicableIsSkippedInconclusiveFailsAsInconclusive) {
  REQUIRE_XMLLINT();
  const JunitFile f(make_report());
  EXPECT_NE(f.xpath(std::string("string(//testcase[@name='") + kNaCase + "']/skipped/@message)").find("not applicable: the adapter does not declare"),
            std::string::npos);
  EXPECT_NE(f.xpath(std::string("string(//testcase[@name='") + kInconclusiveCase + "']/failure/@message)").find("inconclusive: "),
            std::string::npos);
  EXPECT_EQ(f.xpath(std::string("string(//testcase[@name='") + kInconclusiveCase + "']/failure/@type)"), "inconclusive");
}

TEST(ReportJunit, ErrorIsAnError) {
  REQUIRE_XMLLINT();
  const JunitFile f(make_report());
  const std::string error = std::string("//testcase[@name='") + kErrorCase + "']/error";
  EXPECT_EQ(f.xpath("string(" + error + "/@type)"), "harness-error");
  EXPECT_EQ(f.xpath("string(" + error + "/@message)"), "lab: cannot create veth tc-1a2b3c-r0: File exists");
}

TEST(ReportJunit, FlakyIsAPassWithFlakyFailures) {
  REQUIRE_XMLLINT();
  const JunitFile f(make_report());
  const std::string flaky = std::string("//testcase[@name='") + kFlakyCase + "']";
  EXPECT_EQ(f.count(flaky + "/failure | " + flaky + "/error | " + flaky + "/skipped"), 0);
  EXPECT_EQ(f.count(flaky + "/flakyFailure"), 1);
  EXPECT_EQ(f.xpath("string(" + flaky + "/flakyFailure/@message)"), "attempt 1 of 2: warn");
  EXPECT_EQ(f.xpath("string(" + flaky + "/flakyFailure/@type)"), "SHOULD");
  EXPECT_NE(f.xpath("string(" + flaky + "/flakyFailure/stackTrace)").find("with seed 17"), std::string::npos);
  EXPECT_NE(f.xpath("string(" + flaky + "/system-out)").find("FLAKY: the IUT varied over 2 attempts (attempt 1 warn, attempt 2 pass)"),
            std::string::npos);
  // Three attempts, a warn and a harness error: one element per attempt that did not pass.
  json report = make_report();
  for (json& c : report["cases"]) {
    if (c["case_id"] != kFlakyCase) continue;
    c["attempts"] = json::array({{{"n", 1}, {"verdict", "warn"}, {"duration_ms", 10}, {"seed", 1}},
                                 {{"n", 2}, {"verdict", "error"}, {"duration_ms", 10}, {"seed", 2}},
                                 {{"n", 3}, {"verdict", "pass"}, {"duration_ms", 10}, {"seed", 3}}});
  }
  const JunitFile three(report);
  EXPECT_EQ(three.count(flaky + "/flakyFailure"), 1);
  EXPECT_EQ(three.count(flaky + "/flakyError"), 1);
  EXPECT_EQ(run_process({xmllint(), "--noout", "--schema", kXsd.string(), three.path().string()}).exit_code, 0);
}

// What CI reads from junit.xml is what the exit code says: the testcases with
// <failure>/<error> are exactly gate.blocking, and there are some iff the exit
// code is not 0.
TEST(ReportJunit, AgreesWithTheGate) {
  REQUIRE_XMLLINT();
  struct Variant {
    const char* name;
    json report;
  };
  std::vector<Variant> variants = {
      {"default with error", make_report()},
      {"default", make_report({.with_error = false})},
      {"strict", make_report({.strict = true, .with_error = false})},
      {"all pass", make_report({.with_error = false, .force = {{kFailCase, "pass"}, {kWarnCase, "pass"}}})},
      {"strict, warn only", make_report({.strict = true, .with_error = false, .force = {{kFailCase, "pass"}}})},
      {"default, warn only", make_report({.with_error = false, .force = {{kFailCase, "pass"}}})},
  };
  // A harness fault outside the cases (the lab could not be built): exit 2
  // with no error case; junit.xml must still show an error.
  json aborted = make_report({.with_error = false, .force = {{kFailCase, "pass"}}});
  aborted["complete"] = false;
  aborted["gate"]["result"] = "error";
  aborted["gate"]["exit_code"] = 2;
  variants.push_back({"aborted", aborted});
  for (const Variant& v : variants) {
    const JunitFile f(v.report);
    const int exit_code = v.report["gate"]["exit_code"];
    const int bad = f.count("//testcase[failure or error]");
    EXPECT_EQ(bad > 0, exit_code != 0) << v.name;
    std::set<std::string> blocking;
    for (const json& b : v.report["gate"]["blocking"]) blocking.insert(b.get<std::string>());
    std::set<std::string> failed;
    for (const json& c : v.report["cases"]) {
      const std::string id = c["case_id"];
      if (f.count("//testcase[@name='" + id + "'][failure or error]") > 0) failed.insert(id);
    }
    EXPECT_EQ(failed, blocking) << v.name;
    if (std::string(v.name) == "aborted") {
      EXPECT_EQ(f.count("//testsuite[@name='teredo.harness']/testcase[@name='harness']/error"), 1);
      EXPECT_NE(f.xpath("string(//testcase[@name='harness']/error/@message)").find("incomplete"), std::string::npos);
    }
    EXPECT_EQ(run_process({xmllint(), "--noout", "--schema", kXsd.string(), f.path().string()}).exit_code, 0) << v.name;
  }
}

TEST(ReportJunit, AReportWithoutCasesStillRendersValidXml) {
  REQUIRE_XMLLINT();
  json report = make_report();
  report["cases"] = json::array();
  finalize(report);
  const JunitFile f(report);
  const ProcessResult valid = run_process({xmllint(), "--noout", "--schema", kXsd.string(), f.path().string()});
  EXPECT_EQ(valid.exit_code, 0) << valid.err << "\n" << f.xml();
  EXPECT_EQ(f.count("//testcase"), 0);
}

// A document that does not read into the report's types is one clear line
// (the first place the schema rejects), never a half-rendered file.
TEST(ReportJunit, ASchemaInvalidReportIsOneClearError) {
  EXPECT_EQ(one_clear_error_failures([](const json& r) { return render_junit(r); }), "");
}

}  // namespace
}  // namespace teredo::reports::test
