// The requirement catalog in the repo (conformance/catalog/requirements.json):
// every entry quotes the RFC sentence it rests on, and every quote occurs
// verbatim in the RFC text (../shared/rfc, read only by this test; the driver
// never needs it). Quotes are compared after folding whitespace and removing
// the page furniture of the RFC .txt files, so a sentence that crosses a page
// break still matches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/catalog.hpp"

namespace teredo::conformance {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kCatalog = fs::path(TEREDO_SOURCE_DIR) / "conformance" / "catalog" / "requirements.json";
const fs::path kRfcDir = fs::path(TEREDO_SOURCE_DIR) / ".." / "shared" / "rfc";
constexpr std::string_view kElision = " [...] ";

#define REQUIRE_RFC_TEXTS()                                                                                       \
  if (!fs::is_directory(kRfcDir))                                                                                 \
  GTEST_SKIP() << "the RFC texts are not at " << kRfcDir.string()                                                 \
               << " (../shared/rfc beside the source tree): the quotes cannot be checked against them here"

// RFC .txt text as one line: page furniture gone (form feeds, the footer
// "Huitema  Standards Track  [Page 12]", the header "RFC 4380  Teredo
// February 2006"), every run of whitespace one space, and a word broken at a
// hyphen across lines joined again ("link-\n   local" -> "link-local").
std::string normalise_rfc(std::string_view raw) {
  static const std::regex header(R"(^RFC \d{4} {2,}.*\S$)");
  static const std::regex footer(R"(^\S.*\[Page \d+\]\s*$)");
  if (raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);  // v3 RFC texts start with a BOM
  std::string out;
  std::istringstream lines{std::string(raw)};
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find('\f') != std::string::npos || std::regex_match(line, header) || std::regex_match(line, footer)) continue;
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t") - first + 1);
    const bool broken_word = out.size() >= 2 && out.back() == '-' && std::isalnum(static_cast<unsigned char>(out[out.size() - 2]));
    if (!out.empty() && !broken_word) out += ' ';
    out += line;
  }
  std::string folded;
  for (const char c : out) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && !folded.empty() && folded.back() == ' ') continue;
    folded += space ? ' ' : c;
  }
  return folded;
}

// True when every part of the quote (parts split at " [...] ") occurs in the
// text, in order.
bool occurs_verbatim(const std::string& text, const std::string& quote) {
  std::size_t from = 0, start = 0;
  while (true) {
    const std::size_t end = quote.find(kElision, start);
    const std::string part = quote.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty()) return false;
    const std::size_t at = text.find(part, from);
    if (at == std::string::npos) return false;
    from = at + part.size();
    if (end == std::string::npos) return true;
    start = end + kElision.size();
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

json catalog_json() {
  std::ifstream in(kCatalog);
  if (!in) throw std::runtime_error("cannot open " + kCatalog.string());
  return json::parse(in);
}

// The RFC text a quote comes from: quote_from ("RFC4380 5.3.2") when present,
// else the ID's prefix (R5991-... -> rfc5991.txt).
std::string quote_document(const json& entry) {
  const std::string id = entry.at("id");
  std::string doc = entry.contains("quote_from") ? entry.at("quote_from").get<std::string>().substr(3, 4) : id.substr(1, id.find('-') - 1);
  return "rfc" + doc + ".txt";
}

TEST(CatalogQuote, NormaliserRemovesPageFurnitureAndCatchesADoctoredQuote) {
  // A sentence split by a page break, a hyphenated word split across lines.
  const std::string page =
      "   The Teredo server responds to the router solicitation by sending a\n"
      "   Router Advertisement message [RFC2461].  The router advertisement\n"
      "   MUST advertise the Teredo IPv6 prefix composed from the service\n"
      "\n\n\n"
      "Huitema                     Standards Track                    [Page 32]\n"
      "\f\n"
      "RFC 4380                         Teredo                    February 2006\n"
      "\n\n"
      "   prefix and the server's IPv4 address.  The IPv6 destination is the\n"
      "   link-\n"
      "   local address.\n";
  const std::string text = normalise_rfc(page);
  EXPECT_EQ(text,
            "The Teredo server responds to the router solicitation by sending a Router Advertisement message [RFC2461]. The router "
            "advertisement MUST advertise the Teredo IPv6 prefix composed from the service prefix and the server's IPv4 address. "
            "The IPv6 destination is the link-local address.");
  const std::string quote =
      "The router advertisement MUST advertise the Teredo IPv6 prefix composed from the service prefix and the server's IPv4 address.";
  EXPECT_TRUE(occurs_verbatim(text, quote));
  // One word changed, a word dropped, the page footer kept: none of them occurs.
  EXPECT_FALSE(occurs_verbatim(text, "The router advertisement SHOULD advertise the Teredo IPv6 prefix"));
  EXPECT_FALSE(occurs_verbatim(text, "The router advertisement MUST advertise the IPv6 prefix"));
  EXPECT_FALSE(occurs_verbatim(text, "composed from the service [Page 32] prefix"));
  // Elided parts must each occur, in the text's order.
  EXPECT_TRUE(occurs_verbatim(text, "by sending a Router Advertisement message [RFC2461]. [...] the link-local address."));
  EXPECT_FALSE(occurs_verbatim(text, "the link-local address. [...] by sending a Router Advertisement message [RFC2461]."));
  EXPECT_FALSE(occurs_verbatim(text, "by sending a Router Advertisement message [RFC2461]. [...] the link-global address."));
}

TEST(CatalogQuote, EveryEntryHasAQuote) {
  const json catalog = catalog_json();
  ASSERT_TRUE(catalog.is_array());
  EXPECT_GE(catalog.size(), 181u);
  std::set<std::string> ids;
  for (const json& entry : catalog) {
    const std::string id = entry.value("id", "");
    EXPECT_TRUE(ids.insert(id).second) << "duplicate ID " << id;
    ASSERT_TRUE(entry.contains("quote") && entry["quote"].is_string()) << id;
    const std::string quote = entry["quote"];
    EXPECT_FALSE(quote.empty()) << id;
    // Folded already: no line breaks, no double spaces, no padding.
    EXPECT_EQ(quote.find('\n'), std::string::npos) << id;
    EXPECT_EQ(quote.find("  "), std::string::npos) << id;
    EXPECT_FALSE(!quote.empty() && (quote.front() == ' ' || quote.back() == ' ')) << id;
  }
}

TEST(CatalogQuote, EveryQuoteOccursVerbatimInItsRfc) {
  REQUIRE_RFC_TEXTS();
  std::map<std::string, std::string> texts;
  std::vector<std::string> problems;
  const json catalog = catalog_json();
  for (const json& entry : catalog) {
    const std::string id = entry.at("id");
    const std::string doc = quote_document(entry);
    if (!texts.contains(doc)) {
      const fs::path path = kRfcDir / doc;
      ASSERT_TRUE(fs::exists(path)) << id << " quotes " << path.string() << ", which is missing";
      texts[doc] = normalise_rfc(read_file(path));
    }
    if (!occurs_verbatim(texts[doc], entry.at("quote"))) problems.push_back(id + " (" + doc + "): " + entry.at("quote").get<std::string>());
  }
  std::string all;
  for (const std::string& p : problems) all += "\n  " + p;
  EXPECT_TRUE(problems.empty()) << problems.size() << " quote(s) not found verbatim:" << all;
  EXPECT_GE(texts.size(), 4u);  // RFC 4380, 5991, 6081 and 9601 were all read
}

TEST(CatalogQuote, KeepsEveryEntryAndFieldOfTheSharedCatalog) {
  REQUIRE_RFC_TEXTS();
  const fs::path shared = kRfcDir / "requirements.json";
  if (!fs::exists(shared)) GTEST_SKIP() << shared.string() << " is absent";
  std::ifstream in(shared);
  const json original = json::parse(in);
  std::map<std::string, json> ours;
  for (const json& entry : catalog_json()) ours[entry.at("id")] = entry;
  for (const json& entry : original) {
    const std::string id = entry.at("id");
    ASSERT_TRUE(ours.contains(id)) << id << " was dropped";
    for (const auto& [key, value] : entry.items()) EXPECT_EQ(ours[id].value(key, json()), value) << id << "." << key;
  }
}

// Upper-case BCP 14 keywords in a stretch of folded text ("MUST NOT" is one).
int count_bcp14_keywords(const std::string& text) {
  static const std::regex keyword(R"(\b(MUST NOT|MUST|SHALL NOT|SHALL|SHOULD NOT|SHOULD|NOT RECOMMENDED|RECOMMENDED|REQUIRED|MAY|OPTIONAL)\b)");
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), keyword), std::sregex_iterator()));
}

// Issue 16: RFC 6081 §3-§5 have one catalog entry per upper-case keyword, as
// RFC 4380 §3-§5 and RFC 5991 §3-§4 do (../shared/rfc/requirements.md).
TEST(CatalogQuote, EveryRfc6081KeywordOfSections3To5HasAnEntry) {
  REQUIRE_RFC_TEXTS();
  // The RFC's own lines, section by section: a heading starts at column 0
  // ("5.4.4.5.  Receiving a Direct Bubble"); the table of contents is indented.
  static const std::regex heading(R"(^(\d+(?:\.\d+)*)\.  \S.*)");
  std::map<std::string, std::string> raw_sections;
  std::string section;
  std::istringstream lines{read_file(kRfcDir / "rfc6081.txt")};
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, heading)) {
      section = m[1];
      continue;
    }
    if (!section.empty()) raw_sections[section] += line + "\n";
  }
  std::map<std::string, int> in_rfc;
  for (const auto& [name, raw] : raw_sections) {
    const int major = std::stoi(name.substr(0, name.find('.')));
    if (major >= 3 && major <= 5) in_rfc[name] = count_bcp14_keywords(normalise_rfc(raw));
  }
  // §5.1.1 quotes RFC 4380 §5.2.5 ("the client MUST check ...", "SHOULD send a
  // router solicitation"): those two are RFC 4380's, catalogued as R4380-5.2.5-01/02.
  ASSERT_TRUE(in_rfc.contains("5.1.1"));
  in_rfc["5.1.1"] -= 2;
  // Headings the RFC has, so a broken split cannot pass for "no keywords".
  for (const char* s : {"3.1", "4.3", "5.3.3", "5.4.4.5", "5.5.4.1.1", "5.7.4.2"}) EXPECT_TRUE(in_rfc.contains(s)) << s;

  std::map<std::string, int> in_catalog;
  for (const json& entry : catalog_json()) {
    const std::string id = entry.at("id");
    const std::string level = entry.value("level", "");
    const bool bcp14 = !level.empty() && std::none_of(level.begin(), level.end(), [](unsigned char c) { return std::islower(c); });
    if (id.starts_with("R6081-") && bcp14) ++in_catalog[entry.at("section").get<std::string>()];
  }
  int total = 0;
  for (const auto& [name, count] : in_rfc) {
    EXPECT_EQ(in_catalog[name], count) << "RFC 6081 §" << name << " has " << count << " upper-case keyword(s)";
    total += count;
  }
  for (const auto& [name, count] : in_catalog) EXPECT_TRUE(in_rfc.contains(name)) << "no RFC 6081 §" << name;
  EXPECT_EQ(total, 151);
}

TEST(CatalogQuote, CatalogLoadExposesTheQuote) {
  const Catalog catalog = Catalog::load(kCatalog.string());
  const Requirement* cone = catalog.find("R4380-5.3.2-07");
  ASSERT_NE(cone, nullptr);
  EXPECT_EQ(cone->quote,
            "If the cone bit of the client's IPv6 address is set to 1, the RA must be sent from a different IPv4 source address than "
            "the server address over which the RS was received; if the cone bit is set to zero, the response must be sent back from "
            "the same address.");
  EXPECT_EQ(cone->quote_from, "");
  // RFC 2461 is not among the reference texts: its entries quote the RFC 4380 sentence that applies it.
  const Requirement* hop_limit = catalog.find("R2461-6.1.1-01");
  ASSERT_NE(hop_limit, nullptr);
  EXPECT_EQ(hop_limit->quote_from, "RFC4380 5.3.2");
  EXPECT_NE(hop_limit->quote.find("Router Solicitation message (RS, [RFC2461])"), std::string::npos);
  // The entries issue 12 added: RS nonce quality and the 5.2.3 source checks.
  for (const char* id : {"R4380-5.2.2-07", "R4380-5.2.2-08", "R4380-5.2.3-16", "R4380-5.2.3-17", "R4380-5.2.3-18", "R4380-5.2.3-19"}) {
    const Requirement* r = catalog.find(id);
    ASSERT_NE(r, nullptr) << id;
    EXPECT_FALSE(r->quote.empty()) << id;
    EXPECT_TRUE(r->applies_to("client")) << id;
  }
  EXPECT_NE(catalog.find("R4380-5.2.2-08")->quote.find("can be defeated only if the attacker is \"on path\""), std::string::npos);
}

TEST(CatalogQuote, DefaultPathIsTheInRepoCatalog) {
  const char* saved = std::getenv("TEREDO_REQUIREMENTS");
  const std::string restore = saved ? saved : "";
  ::unsetenv("TEREDO_REQUIREMENTS");
  EXPECT_EQ(fs::path(Catalog::default_path()), kCatalog);
  EXPECT_EQ(Catalog::default_path().find("shared"), std::string::npos);
  ::setenv("TEREDO_REQUIREMENTS", "/tmp/other-catalog.json", 1);
  EXPECT_EQ(Catalog::default_path(), "/tmp/other-catalog.json");
  if (saved) {
    ::setenv("TEREDO_REQUIREMENTS", restore.c_str(), 1);
  } else {
    ::unsetenv("TEREDO_REQUIREMENTS");
  }
}

}  // namespace
}  // namespace teredo::conformance
