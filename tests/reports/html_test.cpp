// report.html without a browser: self-contained, escaped, with the stable
// hooks (ids, data attributes) tools and the ui test read.
#include <gtest/gtest.h>

#include <regex>

#include "report_fixture.hpp"
#include "teredo/reports/html.hpp"

namespace teredo::reports::test {
namespace {

using nlohmann::json;

std::size_t occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + needle.size())) ++n;
  return n;
}

// The value of attribute `attr` on the element whose id is `id`.
std::string attribute_of(const std::string& html, const std::string& id, const std::string& attr) {
  const std::regex tag("<[^>]*\\bid=\"" + id + "\"[^>]*>");
  std::smatch m;
  if (!std::regex_search(html, m, tag)) return "<no element #" + id + ">";
  const std::string t = m.str();
  const std::regex a("\\b" + attr + "=\"([^\"]*)\"");
  std::smatch v;
  return std::regex_search(t, v, a) ? v[1].str() : "<no " + attr + " on #" + id + ">";
}

TEST(ReportHtml, SelfContainedNoNetwork) {
  const std::string html = render_html(make_report());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none';"), std::string::npos);
  // Nothing to fetch: no external scripts, styles, fonts, images or frames.
  for (const char* bad : {"http://", "https://", "<link", " src=", "@import", "url(", "<iframe", "<img"}) {
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  }
  EXPECT_EQ(occurrences(html, "<script"), 1u);
  EXPECT_EQ(occurrences(html, "<style"), 1u);
  EXPECT_TRUE(html.ends_with("</html>\n"));
}

TEST(ReportHtml, EscapesEverything) {
  const std::string html = render_html(make_report());
  EXPECT_EQ(html.find(kHostile), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;apos&#39; ]]&gt; -- &lt;&amp;&quot;&#39;&gt;"),
            std::string::npos);
  EXPECT_NE(html.find(kUnicode), std::string::npos);  // UTF-8 as is
  EXPECT_NE(html.find("bytes \\x01\\x02\\x1B[31m and \\x7F, then \\xFF\\xFE end"), std::string::npos);
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  EXPECT_EQ(html.find('\xff'), std::string::npos);
}

TEST(ReportHtml, SummaryHooksCarryTheCounts) {
  const json report = make_report();
  const std::string html = render_html(report);
  const auto n = verdict_counts(report);
  EXPECT_EQ(attribute_of(html, "count-total", "data-count"), std::to_string(report["cases"].size()));
  for (const char* v : {"pass", "fail", "warn", "not-applicable", "inconclusive", "error", "flaky"}) {
    const auto it = n.find(v);
    EXPECT_EQ(attribute_of(html, std::string("count-") + v, "data-count"), std::to_string(it == n.end() ? 0 : it->second)) << v;
  }
  EXPECT_EQ(attribute_of(html, "count-MUST-fail", "data-count"), "2");
  EXPECT_EQ(attribute_of(html, "count-SHOULD-warn", "data-count"), "1");
  EXPECT_EQ(attribute_of(html, "count-MAY-total", "data-count"), "0");
  EXPECT_EQ(attribute_of(html, "coverage", "data-covered"), report["summary"]["coverage"]["covered"].dump());
  EXPECT_EQ(attribute_of(html, "coverage", "data-testable"), report["summary"]["coverage"]["testable"].dump());
  EXPECT_EQ(attribute_of(html, "gate", "data-result"), "error");
  EXPECT_EQ(attribute_of(html, "gate", "data-exit-code"), "2");
  EXPECT_EQ(attribute_of(html, "gate", "data-policy"), "default");
}

TEST(ReportHtml, OneRowGroupPerCaseWithDetails) {
  const json report = make_report();
  const std::string html = render_html(report);
  EXPECT_EQ(occurrences(html, "<tbody class=\"case "), report["cases"].size());
  for (const json& c : report["cases"]) {
    const std::string id = c["case_id"];
    EXPECT_NE(html.find("data-case-id=\"" + id + "\" data-verdict=\"" + c["verdict"].get<std::string>() + "\""), std::string::npos) << id;
    EXPECT_NE(html.find(c["reproducer"].get<std::string>().substr(0, 40)), std::string::npos) << id;
  }
  // Failing cases open their details; the rest are one click away.
  EXPECT_EQ(occurrences(html, "<details open>"), 3u);  // two fail, one error
  // The filters stay hidden until the script shows them.
  EXPECT_NE(html.find("<form id=\"filters\" hidden>"), std::string::npos);
  EXPECT_NE(html.find("<option value=\"RFC4380 5.3.2\">"), std::string::npos);
  EXPECT_NE(html.find("data-sections=\"[&quot;RFC4380 5.4.1&quot;,&quot;RFC4380 5.4.2&quot;]\""), std::string::npos);
}

TEST(ReportHtml, RequirementsShowTheRfcSentence) {
  const std::string html = render_html(make_report());
  // The quote sits in the failing case's details, escaped ("client's"), once:
  // only R4380-5.3.2-07 has one, and only that case cites it.
  std::string escaped = kConeQuote;
  escaped.replace(escaped.find('\''), 1, "&#39;");
  EXPECT_EQ(occurrences(html, "<blockquote class=\"rfc-quote\">"), 1u);
  const std::size_t quote = html.find("<blockquote class=\"rfc-quote\">" + escaped + "</blockquote>");
  ASSERT_NE(quote, std::string::npos);
  const std::size_t case_start = html.find(std::string("data-case-id=\"") + kFailCase + "\"");
  ASSERT_NE(case_start, std::string::npos);
  EXPECT_GT(quote, case_start);
  EXPECT_LT(quote, html.find("</tbody>", case_start));
}

TEST(ReportHtml, EvidenceLinksAreRelative) {
  const std::string html = render_html(make_report());
  EXPECT_NE(html.find("href=\"cases/server.rs.cone-reply-from-secondary/driver.pcap\""), std::string::npos);
  EXPECT_NE(html.find("href=\"cases/server.rs.cone-reply-from-secondary/iut.log\""), std::string::npos);
  const std::regex href("href=\"([^\"]*)\"");
  int links = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), href); it != std::sregex_iterator(); ++it) {
    const std::string h = (*it)[1].str();
    ++links;
    EXPECT_FALSE(h.empty());
    EXPECT_NE(h.front(), '/') << h;
    EXPECT_EQ(h.find(':'), std::string::npos) << h;
    EXPECT_EQ(h.find(".."), std::string::npos) << h;
  }
  EXPECT_GT(links, 20);
  // A path crafted as a URL stays a relative path.
  json report = make_report();
  report["cases"][0]["evidence"]["logs"][0]["path"] = "javascript:alert(1)";
  const std::string bad = render_html(report);
  EXPECT_EQ(bad.find("href=\"javascript:"), std::string::npos);
  EXPECT_NE(bad.find("href=\"javascript%3Aalert%281%29\""), std::string::npos);
}

TEST(ReportHtml, IncompleteRunIsFlagged) {
  json report = make_report();
  EXPECT_EQ(render_html(report).find("id=\"incomplete\""), std::string::npos);
  report["complete"] = false;
  EXPECT_NE(render_html(report).find("id=\"incomplete\""), std::string::npos);
}

TEST(ReportHtml, AReportWithoutCasesStillRenders) {
  json report = make_report();
  report["cases"] = json::array();
  finalize(report);
  const std::string html = render_html(report);
  EXPECT_TRUE(html.ends_with("</html>\n"));
  EXPECT_EQ(attribute_of(html, "count-total", "data-count"), "0");
  EXPECT_EQ(occurrences(html, "<tbody class=\"case "), 0u);
}

// A document that does not read into the report's types is one clear line
// (the first place the schema rejects), never a half-rendered page.
TEST(ReportHtml, ASchemaInvalidReportIsOneClearError) {
  EXPECT_EQ(one_clear_error_failures([](const json& r) { return render_html(r); }), "");
}

// A fuzz report (format 1.4): the run's figures and a findings table whose
// rows link to each finding's case and its directory; a run report has no
// such section, a fuzz run without findings says so.
TEST(ReportHtml, AFuzzReportShowsItsFiguresAndAFindingsTable) {
  nlohmann::json report = make_report();
  EXPECT_EQ(render_html(report).find("id=\"fuzz\""), std::string::npos);
  const std::string case_id = report["cases"][0]["case_id"];
  report["fuzz"] = {{"role", "relay"},
                    {"seed", 3},
                    {"stopped_by", "datagrams"},
                    {"duration_s", 2.0},
                    {"fuzzing_s", 0.4},
                    {"minimizing_s", 1.6},
                    {"datagrams_sent", 5000},
                    {"rate_per_s", 12506.3},
                    {"by_state", {{"with_trusted_peer", {{"mutated", 4399}, {"valid", 601}}}}},
                    {"probes", {{"sent", 6}, {"failed", 1}}},
                    {"iut_starts", 15},
                    {"iut_datagrams_seen", 604},
                    {"summary_file", "fuzz/summary.json"},
                    {"findings",
                     {{{"id", "0001-wire_invariant"},
                       {"case_id", case_id},
                       {"oracle", "wire_invariant"},
                       {"signature", "teredo_destination_not_global"},
                       {"requirement", "R4380-5.4.1-01"},
                       {"hits", 57},
                       {"datagrams_after_minimization", 1},
                       {"dir", "fuzz/findings/0001-wire_invariant"}}}}};
  const std::string html = render_html(report);
  const std::size_t at = html.find("<section id=\"fuzz\" data-findings=\"1\">");
  ASSERT_NE(at, std::string::npos);
  const std::string section = html.substr(at, html.find("</section>", at) - at);
  EXPECT_NE(section.find("5000 datagrams at 12506/s, 6 liveness probes (1 failed)"), std::string::npos) << section;
  EXPECT_NE(section.find("with_trusted_peer: 4399 mutated, 601 valid"), std::string::npos) << section;
  EXPECT_NE(section.find("<a href=\"#case-" + case_id + "\"><code>0001-wire_invariant</code></a>"), std::string::npos)
      << section;
  EXPECT_NE(section.find("teredo_destination_not_global"), std::string::npos);
  EXPECT_NE(section.find("<a href=\"fuzz/findings/0001-wire_invariant/\">"), std::string::npos) << section;

  report["fuzz"]["findings"] = nlohmann::json::array();
  EXPECT_NE(render_html(report).find("<p id=\"no-findings\">No finding.</p>"), std::string::npos);
}

}  // namespace
}  // namespace teredo::reports::test
