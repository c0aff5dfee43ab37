// interop.html in headless Chromium (label ui, as tests/reports/html_ui_test.cpp
// does for report.html): the page loads without a console message, draws one
// section per NAT profile, a grid cell per client x server/relay with a
// letter per scenario carrying its verdict, and its counts are interop.json's.
// Skips when chromium is not installed.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "interop_fixture.hpp"
#include "report_fixture.hpp"

namespace teredo::conformance::interop {
namespace {

using teredo::reports::test::find_program;
using teredo::reports::test::run_process;
using teredo::reports::test::TempDir;
using teredo::reports::test::write_text;

std::size_t count(const std::string& text, const std::regex& pattern) {
  return static_cast<std::size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), pattern),
                                                std::sregex_iterator()));
}

TEST(InteropHtmlUi, GridRendersWithASectionPerProfileAndALetterPerScenario) {
  const std::string chromium = find_program({"chromium", "chromium-browser", "google-chrome"});
  if (chromium.empty()) GTEST_SKIP() << "chromium not found: interop.html is not rendered";
  const nlohmann::json interop = sample_interop();
  TempDir dir, profile;
  write_text(dir.path() / "interop.html", render_interop_html(interop));
  const auto p = run_process({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              "--disable-background-networking", "--disable-component-update", "--disable-sync",
                              "--disable-extensions", "--user-data-dir=" + profile.path().string(),
                              "--enable-logging=stderr", "--v=0", "--dump-dom",
                              "file://" + (dir.path() / "interop.html").string()},
                             std::chrono::seconds(90));
  ASSERT_FALSE(p.out.empty()) << "chromium printed no DOM: " << p.err;
  std::istringstream err(p.err);
  for (std::string line; std::getline(err, line);) {
    EXPECT_EQ(line.find("CONSOLE"), std::string::npos) << line;
    EXPECT_EQ(line.find("Uncaught"), std::string::npos) << line;
  }
  const std::string& dom = p.out;
  EXPECT_EQ(count(dom, std::regex("<section id=\"nat-")), interop["plan"]["nat_profiles"].size());
  EXPECT_EQ(count(dom, std::regex("<td id=\"cell-")), interop["cells"].size());
  std::size_t letters = 0;
  for (const auto& cell : interop["cells"]) letters += cell["results"].size();
  EXPECT_EQ(count(dom, std::regex("<a class=\"v v-[a-z-]+\" href=\"#why-")), letters);
  for (const auto& [verdict, n] : interop["summary"]["counts"].items()) {
    EXPECT_NE(dom.find("data-verdict=\"" + verdict + "\">" + std::to_string(n.get<int>()) + " " + verdict),
              std::string::npos)
        << verdict;
  }
  EXPECT_EQ(dom.find("<markup>"), std::string::npos) << "hostile text stays text";
}

}  // namespace
}  // namespace teredo::conformance::interop
