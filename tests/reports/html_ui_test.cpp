// report.html in a real browser (headless Chromium, label ui): the script runs
// without an exception or a console message, the summary counts in the DOM are
// the report's, the filters hide rows, and without the script every case is
// shown. Skips when chromium is not installed.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "report_fixture.hpp"
#include "teredo/reports/html.hpp"

namespace teredo::reports::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string chromium() {
  static const std::string path = find_program({"chromium", "chromium-browser", "google-chrome"});
  return path;
}

#define REQUIRE_CHROMIUM() \
  if (chromium().empty()) GTEST_SKIP() << "chromium not found (apt-get install chromium); report.html is not rendered"

struct Rendered {
  std::string dom;
  std::vector<std::string> console;  // console messages and uncaught exceptions
};

// Loads url in headless Chromium and returns the DOM after the page's scripts
// ran (--dump-dom), with what the page wrote to the console (logged to stderr
// by --enable-logging=stderr).
Rendered render(const std::string& url) {
  Rendered r;
  for (int launch = 0; launch < 2 && r.dom.empty(); ++launch) {  // a second launch only if the first printed nothing
    TempDir profile;
    const ProcessResult p = run_process({chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                         "--disable-extensions", "--user-data-dir=" + profile.path().string(), "--enable-logging=stderr",
                                         "--v=0", "--dump-dom", url},
                                        std::chrono::seconds(90));
    EXPECT_FALSE(p.timed_out) << url;
    r.dom = p.out;
    r.console.clear();
    std::istringstream err(p.err);
    std::string line;
    while (std::getline(err, line)) {
      if (line.find("CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) r.console.push_back(line);
    }
  }
  return r;
}

// The <body ...> start tag (the script's own text mentions its attributes, so
// only the tag is searched).
std::string body_tag(const std::string& dom) {
  std::smatch m;
  return std::regex_search(dom, m, std::regex("<body[^>]*>")) ? m.str() : std::string("<no body>");
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

std::string attribute_of(const std::string& html, const std::string& id, const std::string& attr) {
  const std::regex tag("<[^>]*\\bid=\"" + id + "\"[^>]*>");
  std::smatch m;
  if (!std::regex_search(html, m, tag)) return "<no element #" + id + ">";
  const std::string t = m.str();
  const std::regex a("\\b" + attr + "=\"([^\"]*)\"");
  std::smatch v;
  return std::regex_search(t, v, a) ? v[1].str() : "<no " + attr + " on #" + id + ">";
}

// case_id -> shown (the <tbody class="case"> has no hidden attribute).
std::map<std::string, bool> rows(const std::string& dom) {
  std::map<std::string, bool> out;
  const std::regex tbody("<tbody class=\"case[^\"]*\"[^>]*>");
  const std::regex id("data-case-id=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), tbody); it != std::sregex_iterator(); ++it) {
    const std::string tag = it->str();
    std::smatch m;
    if (!std::regex_search(tag, m, id)) continue;
    out[m[1].str()] = !std::regex_search(tag, std::regex("\\shidden(=\"[^\"]*\")?[\\s>]"));
  }
  return out;
}

class ReportHtmlUi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (chromium().empty()) return;
    report_ = make_report();
    page_ = dir_.path() / "report.html";
    write_text(page_, render_html(report_));
  }
  std::string url(const std::string& fragment = "") const { return "file://" + page_.string() + fragment; }

  TempDir dir_;
  json report_;
  fs::path page_;
};

TEST_F(ReportHtmlUi, ScriptRunsCleanAndCountsMatch) {
  REQUIRE_CHROMIUM();
  const Rendered r = render(url());
  ASSERT_FALSE(r.dom.empty()) << "chromium printed no DOM";
  EXPECT_TRUE(r.console.empty()) << joined(r.console);
  EXPECT_EQ(body_tag(r.dom), "<body data-js-ok=\"1\">");
  // Summary counts as the browser sees them = the report's.
  const auto n = verdict_counts(report_);
  EXPECT_EQ(attribute_of(r.dom, "count-total", "data-count"), std::to_string(report_["cases"].size()));
  for (const char* v : {"pass", "fail", "warn", "not-applicable", "inconclusive", "error", "flaky"}) {
    const auto it = n.find(v);
    EXPECT_EQ(attribute_of(r.dom, std::string("count-") + v, "data-count"), std::to_string(it == n.end() ? 0 : it->second)) << v;
  }
  EXPECT_EQ(attribute_of(r.dom, "gate", "data-exit-code"), "2");
  // The filters are shown, every case is visible, and the counter agrees.
  EXPECT_NE(r.dom.find("<form id=\"filters\">"), std::string::npos);
  const auto shown = rows(r.dom);
  EXPECT_EQ(shown.size(), report_["cases"].size());
  for (const auto& [id, visible] : shown) EXPECT_TRUE(visible) << id;
  EXPECT_EQ(attribute_of(r.dom, "shown-count", "data-shown"), std::to_string(report_["cases"].size()));
  // The hostile text is text in the DOM, not markup.
  EXPECT_EQ(r.dom.find("<script>alert"), std::string::npos);
}

TEST_F(ReportHtmlUi, FragmentFiltersRows) {
  REQUIRE_CHROMIUM();
  {
    const Rendered r = render(url("#verdict=fail,error"));
    ASSERT_FALSE(r.dom.empty());
    EXPECT_TRUE(r.console.empty()) << joined(r.console);
    std::set<std::string> visible;
    for (const auto& [id, v] : rows(r.dom)) {
      if (v) visible.insert(id);
    }
    EXPECT_EQ(visible, (std::set<std::string>{kFailCase, kKnownCase, kErrorCase}));
    EXPECT_EQ(attribute_of(r.dom, "shown-count", "data-shown"), "3");
  }
  {
    const Rendered r = render(url("#section=RFC4380%205.4.2&level=MUST"));
    ASSERT_FALSE(r.dom.empty());
    std::set<std::string> visible;
    for (const auto& [id, v] : rows(r.dom)) {
      if (v) visible.insert(id);
    }
    EXPECT_EQ(visible, (std::set<std::string>{kErrorCase, kFlakyCase}));
  }
  {
    // A broken fragment is ignored, not an exception.
    const Rendered r = render(url("#verdict=%E0%A4%A&q=%"));
    ASSERT_FALSE(r.dom.empty());
    EXPECT_TRUE(r.console.empty()) << joined(r.console);
    EXPECT_EQ(body_tag(r.dom), "<body data-js-ok=\"1\">");
  }
}

TEST_F(ReportHtmlUi, WithoutScriptEveryCaseIsShown) {
  REQUIRE_CHROMIUM();
  // Headless Chromium cannot dump the DOM with JavaScript switched off, so the
  // page's own script is blocked instead: the same page with script-src 'none'.
  std::string html = read_file(page_);
  const std::string allow = "script-src 'unsafe-inline'";
  const std::size_t at = html.find(allow);
  ASSERT_NE(at, std::string::npos);
  html.replace(at, allow.size(), "script-src 'none'");
  const fs::path blocked = dir_.path() / "noscript.html";
  write_text(blocked, html);
  const Rendered r = render("file://" + blocked.string());
  ASSERT_FALSE(r.dom.empty());
  EXPECT_EQ(body_tag(r.dom), "<body>");
  EXPECT_NE(r.dom.find("<form id=\"filters\" hidden=\"\">"), std::string::npos);
  const auto shown = rows(r.dom);
  EXPECT_EQ(shown.size(), report_["cases"].size());
  for (const auto& [id, visible] : shown) EXPECT_TRUE(visible) << id;
}

}  // namespace
}  // namespace teredo::reports::test
