// The interop matrix: implementations x cases, merged by case_id.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "report_fixture.hpp"
#include "teredo/reports/matrix.hpp"

namespace teredo::reports::test {
namespace {

using nlohmann::json;

// The reference implementation passes everything it ran; it lacks the flaky
// relay case but has one case Miredo's reports do not.
json reference_report() {
  json r = make_report({.iut_name = "teredo-ref",
                        .iut_version = "0.1.0",
                        .with_error = false,
                        .drop = {kFlakyCase},
                        .force = {{kFailCase, "pass"}, {kWarnCase, "pass"}, {kInconclusiveCase, "pass"}, {kNaCase, "pass"}, {kKnownCase, "pass"}}});
  json extra = r["cases"][0];
  extra["case_id"] = "server.rs.only-in-reference";
  r["cases"].push_back(extra);
  finalize(r);
  return r;
}

// Miredo as two reports (one per run): the server cases, then client+relay.
std::vector<json> miredo_reports() {
  const json full = make_report();
  json server = full, others = full;
  server["cases"] = json::array();
  others["cases"] = json::array();
  for (const json& c : full["cases"]) (c["role"] == "server" ? server : others)["cases"].push_back(c);
  finalize(server);
  finalize(others);
  return {server, others};
}

// Markdown table rows as cells (first cell = the row's label).
std::map<std::string, std::vector<std::string>> md_rows(const std::string& md) {
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream in(md);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("| ")) continue;
    std::vector<std::string> cells;
    std::string cell;
    for (std::size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        cell += line[++i];
      } else if (line[i] == '|') {
        const auto b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
        cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
        cell.clear();
      } else {
        cell += line[i];
      }
    }
    if (!cells.empty()) rows[cells[0]] = std::vector<std::string>(cells.begin() + 1, cells.end());
  }
  return rows;
}

TEST(ReportMatrix, MarkdownCellsAndRoleSummaries) {
  std::vector<json> reports = {reference_report()};
  for (json& m : miredo_reports()) reports.push_back(m);
  const std::string md = render_matrix_markdown(reports);
  const auto rows = md_rows(md);
  ASSERT_TRUE(rows.contains("Case")) << md;
  EXPECT_EQ(rows.at("Case"), (std::vector<std::string>{"teredo-ref 0.1.0", "miredo 1.2.6"})) << md;
  const auto cells = [&](const std::string& id) { return rows.contains(id) ? rows.at(id) : std::vector<std::string>{"<no row>"}; };
  EXPECT_EQ(cells("server.rs.answer-rs"), (std::vector<std::string>{"pass", "pass"}));
  EXPECT_EQ(cells(kFailCase), (std::vector<std::string>{"pass", "fail"}));
  EXPECT_EQ(cells(kWarnCase), (std::vector<std::string>{"pass", "warn"}));
  EXPECT_EQ(cells(kNaCase), (std::vector<std::string>{"pass", "not-applicable"}));
  EXPECT_EQ(cells(kInconclusiveCase), (std::vector<std::string>{"pass", "inconclusive"}));
  EXPECT_EQ(cells(kErrorCase), (std::vector<std::string>{"pass", "error"}));
  EXPECT_EQ(cells(kFlakyCase), (std::vector<std::string>{"—", "flaky"}));
  EXPECT_EQ(cells("server.rs.only-in-reference"), (std::vector<std::string>{"pass", "—"}));
  EXPECT_EQ(cells("**server**"), (std::vector<std::string>{"**5/5 pass**", "**2/4 pass, 1 fail, 1 warn**"}));
  EXPECT_EQ(cells("**client**"), (std::vector<std::string>{"**3/3 pass**", "**0/3 pass, 1 fail, 1 not-applicable, 1 inconclusive**"}));
  EXPECT_EQ(cells("**relay**"), (std::vector<std::string>{"**1/1 pass**", "**0/2 pass, 1 error, 1 flaky**"}));
  // Rows grouped by role: server, then client, then relay.
  EXPECT_LT(md.find("| **server**"), md.find("| " + std::string(kFailCase)));
  EXPECT_LT(md.find("| " + std::string(kFailCase)), md.find("| **client**"));
  EXPECT_LT(md.find("| **client**"), md.find("| **relay**"));
  EXPECT_LT(md.find("| **relay**"), md.find("| " + std::string(kFlakyCase)));
}

TEST(ReportMatrix, MarkdownEscapesNames) {
  json odd = make_report({.iut_name = "a|b *c* <d>", .iut_version = "1_0"});
  const std::string md = render_matrix_markdown(std::vector<json>{odd});
  EXPECT_NE(md.find("| Case | a\\|b \\*c\\* \\<d\\> 1\\_0 |"), std::string::npos) << md;
}

TEST(ReportMatrix, HtmlCells) {
  std::vector<json> reports = {reference_report()};
  for (json& m : miredo_reports()) reports.push_back(m);
  const std::string html = render_matrix_html(reports);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  const auto cell = [&](const std::string& id, const std::string& impl) {
    const std::regex row("<tr data-case=\"" + std::regex_replace(id, std::regex("\\."), "\\.") + "\">(.*?)</tr>");
    std::smatch m;
    if (!std::regex_search(html, m, row)) return std::string("<no row>");
    const std::string r = m[1].str();
    const std::regex td("<td class=\"cell\" data-impl=\"" + impl + "\" data-verdict=\"([^\"]*)\"><span class=\"v v-[a-z-]+\">([^<]*)</span>");
    std::smatch c;
    return std::regex_search(r, c, td) ? c[2].str() : std::string("<no cell>");
  };
  EXPECT_EQ(cell(kFailCase, "miredo 1.2.6"), "fail");
  EXPECT_EQ(cell(kFailCase, "teredo-ref 0.1.0"), "pass");
  EXPECT_EQ(cell(kFlakyCase, "teredo-ref 0.1.0"), "—");
  EXPECT_EQ(cell(kFlakyCase, "miredo 1.2.6"), "flaky");
  EXPECT_EQ(cell("server.rs.only-in-reference", "miredo 1.2.6"), "—");
  EXPECT_NE(html.find("data-role-summary=\"relay\">0/2 pass, 1 error, 1 flaky</td>"), std::string::npos);
  EXPECT_NE(html.find("<th class=\"impl\" data-impl=\"miredo 1.2.6\">"), std::string::npos);
}

TEST(ReportMatrix, LaterReportOfTheSameImplementationWins) {
  json first = make_report({.with_error = false});
  json second = make_report({.with_error = false, .force = {{kFailCase, "pass"}}});
  const auto rows = md_rows(render_matrix_markdown(std::vector<json>{first, second}));
  EXPECT_EQ(rows.at(kFailCase), std::vector<std::string>{"pass"});
  EXPECT_EQ(rows.at("Case").size(), 1u);
}

TEST(ReportMatrix, NoReports) {
  EXPECT_NE(render_matrix_markdown(std::vector<Report>{}).find("| Case |"), std::string::npos);
  EXPECT_NE(render_matrix_html(std::vector<Report>{}).find("No case in these reports."), std::string::npos);
}

// One document that does not read into the report's types spoils the
// matrix with one clear line, whichever view is asked for.
TEST(ReportMatrix, ASchemaInvalidReportIsOneClearError) {
  EXPECT_EQ(one_clear_error_failures([](const json& r) { return render_matrix_markdown(std::vector<json>{reference_report(), r}); }), "");
  EXPECT_EQ(one_clear_error_failures([](const json& r) { return render_matrix_html(std::vector<json>{reference_report(), r}); }), "");
}

}  // namespace
}  // namespace teredo::reports::test
