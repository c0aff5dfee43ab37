// interop.html in headless Chromium (label ui, as tests/reports/html_ui_test.cpp
// does for report.html): the page loads without a console message, draws one
// tab per NAT profile (the first selected, a click on another shows its grid
// alone), a grid cell per client x server/relay with a letter per scenario
// carrying its verdict, and its counts are interop.json's.
// Skips when chromium is not installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

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

// The page's DOM after its scripts ran, loaded at `fragment` ("" or
// "#nat-symmetric": what a click on that tab's link navigates to); no console
// message.
std::string rendered_dom(const std::string& chromium, const std::filesystem::path& page, const std::string& fragment) {
  TempDir profile;
  const auto p = run_process({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              "--disable-background-networking", "--disable-component-update", "--disable-sync",
                              "--disable-extensions", "--user-data-dir=" + profile.path().string(),
                              "--enable-logging=stderr", "--v=0", "--dump-dom", "file://" + page.string() + fragment},
                             std::chrono::seconds(90));
  EXPECT_FALSE(p.out.empty()) << "chromium printed no DOM: " << p.err;
  std::istringstream err(p.err);
  for (std::string line; std::getline(err, line);) {
    EXPECT_EQ(line.find("CONSOLE"), std::string::npos) << line;
    EXPECT_EQ(line.find("Uncaught"), std::string::npos) << line;
  }
  return p.out;
}

// Which panel shows: the ids of the tab panels not hidden.
std::vector<std::string> shown_panels(const std::string& dom) {
  std::vector<std::string> out;
  const std::regex panel("<section id=\"(nat-[a-z-]+)\" role=\"tabpanel\"([^>]*)>");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), panel); it != std::sregex_iterator(); ++it) {
    if ((*it)[2].str().find("hidden") == std::string::npos) out.push_back((*it)[1].str());
  }
  return out;
}

TEST(InteropHtmlUi, GridRendersWithATabPerProfileAndALetterPerScenario) {
  const std::string chromium = find_program({"chromium", "chromium-browser", "google-chrome"});
  if (chromium.empty()) GTEST_SKIP() << "chromium not found: interop.html is not rendered";
  const nlohmann::json interop = sample_interop();
  TempDir dir;
  write_text(dir.path() / "interop.html", render_interop_html(interop));
  const std::string dom = rendered_dom(chromium, dir.path() / "interop.html", "");
  ASSERT_FALSE(dom.empty());
  EXPECT_EQ(count(dom, std::regex("<a role=\"tab\" ")), interop["plan"]["nat_profiles"].size());
  // The first profile's tab is selected, its panel alone shows.
  EXPECT_EQ(shown_panels(dom), std::vector<std::string>{"nat-full-cone"});
  EXPECT_NE(dom.find("id=\"tab-nat-full-cone\" href=\"#nat-full-cone\" aria-controls=\"nat-full-cone\" "
                     "aria-selected=\"true\""),
            std::string::npos);
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

TEST(InteropHtmlUi, ClickingAProfilesTabShowsItsGridAlone) {
  const std::string chromium = find_program({"chromium", "chromium-browser", "google-chrome"});
  if (chromium.empty()) GTEST_SKIP() << "chromium not found: interop.html is not rendered";
  TempDir dir;
  write_text(dir.path() / "interop.html", render_interop_html(sample_interop()));
  // The symmetric tab's link is href="#nat-symmetric": following it is the click.
  const std::string dom = rendered_dom(chromium, dir.path() / "interop.html", "#nat-symmetric");
  ASSERT_FALSE(dom.empty());
  EXPECT_EQ(shown_panels(dom), std::vector<std::string>{"nat-symmetric"});
  EXPECT_NE(dom.find("id=\"tab-nat-symmetric\" href=\"#nat-symmetric\" aria-controls=\"nat-symmetric\" "
                     "aria-selected=\"true\""),
            std::string::npos);
  EXPECT_NE(dom.find("id=\"tab-nat-full-cone\" href=\"#nat-full-cone\" aria-controls=\"nat-full-cone\" "
                     "aria-selected=\"false\""),
            std::string::npos);
  // The selected panel's grid cells are the symmetric cells.
  const auto at = dom.find("<section id=\"nat-symmetric\"");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(dom.find("<td id=\"cell-symmetric--reference--reference--reference\">", at), std::string::npos);
}

}  // namespace
}  // namespace teredo::conformance::interop
