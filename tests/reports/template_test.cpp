// The page template renderer (reports/src/template.hpp): values are escaped
// unless the template asks for them raw, sections repeat over lists and
// test conditions, a section tag alone on its line takes the line with it,
// and a malformed template is refused rather than rendered half.
#include <gtest/gtest.h>

#include <stdexcept>

#include "template.hpp"

namespace {

using nlohmann::json;
using teredo::reports::detail::render_template;

TEST(PageTemplate, EscapesValuesUnlessRaw) {
  const json view = {{"x", "<a href='1'>&\"</a>"}, {"n", 42}, {"f", false}, {"none", nullptr}};
  EXPECT_EQ(render_template("[{{x}}]", view), "[&lt;a href=&#39;1&#39;&gt;&amp;&quot;&lt;/a&gt;]");
  EXPECT_EQ(render_template("[{{{x}}}]", view), "[<a href='1'>&\"</a>]");
  EXPECT_EQ(render_template("{{n}} {{f}} [{{none}}] [{{missing}}] {{ n }}", view), "42 false [] [] 42");
}

TEST(PageTemplate, SectionsRepeatOverListsAndTestConditions) {
  const json view = {{"items", {{{"name", "a"}, {"first", true}}, {{"name", "b"}, {"first", false}}}},
                     {"words", {"x", "<y>"}},
                     {"empty", json::array()},
                     {"yes", true},
                     {"blank", ""},
                     {"title", "T"},
                     {"inner", {{"deep", {{"v", "d"}}}}}};
  EXPECT_EQ(render_template("{{#items}}{{^first}}, {{/first}}{{name}}{{/items}}", view), "a, b");
  EXPECT_EQ(render_template("{{#words}}[{{.}}]{{/words}}", view), "[x][&lt;y&gt;]");
  // Outer names are visible inside a section; the innermost one wins.
  EXPECT_EQ(render_template("{{#items}}{{title}}{{name}}{{/items}}", view), "TaTb");
  EXPECT_EQ(render_template("{{#empty}}no{{/empty}}{{^empty}}none{{/empty}}", view), "none");
  EXPECT_EQ(render_template("{{#yes}}y{{/yes}}{{#blank}}b{{/blank}}{{^blank}}-{{/blank}}{{#missing}}m{{/missing}}", view), "y-");
  EXPECT_EQ(render_template("{{inner.deep.v}} {{#inner.deep}}{{v}}{{/inner.deep}} [{{inner.nope.v}}]", view), "d d []");
}

TEST(PageTemplate, StandaloneSectionAndCommentLinesVanish) {
  const json view = {{"rows", {"a", "b"}}};
  EXPECT_EQ(render_template("<ul>\n{{! a comment }}\n  {{#rows}}\n<li>{{.}}</li>\n  {{/rows}}\n</ul>\n", view),
            "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n");
  // A tag with other text on its line keeps the line.
  EXPECT_EQ(render_template("<p>{{#rows}}{{.}}{{/rows}}</p>\n", view), "<p>ab</p>\n");
}

TEST(PageTemplate, MalformedTemplatesAreRefused) {
  const json view = json::object();
  EXPECT_THROW(render_template("{{#a}}open", view), std::invalid_argument);
  EXPECT_THROW(render_template("{{#a}}x{{/b}}", view), std::invalid_argument);
  EXPECT_THROW(render_template("x{{/a}}", view), std::invalid_argument);
  EXPECT_THROW(render_template("{{name", view), std::invalid_argument);
}

}  // namespace
