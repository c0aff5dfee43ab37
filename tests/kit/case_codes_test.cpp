// Every assertion carries a named reason (conformance/JUDGING.md §8).
//
// CaseRun::check(requirement, code, ok, ...) and inconclusive(requirement,
// why, code) take an AssertionCode, whose literal is checked when the case
// compiles; there is no form without one. A code may also come from a
// variable, which the compiler cannot read: this test reads the sources of
// every role's cases and fails on any check/inconclusive call that names no
// reason, or names a generic one.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/case.hpp"
#include "kit/judge.hpp"

namespace {

using teredo::conformance::AssertionCode;
using teredo::conformance::is_assertion_code;

// A literal is checked when it compiles: these would not.
static_assert(AssertionCode("nonce_not_echoed").name() == "nonce_not_echoed");
static_assert(!is_assertion_code("check_failed"));

TEST(AssertionCode, AcceptsSpecificSnakeCaseNames) {
  for (const char* name : {"ra_not_from_secondary", "origin_not_obfuscated", "nonce_not_echoed",
                           "bubble_forwarded_to_non_global_ipv4", "ra_mtu_not_1280", "iut_died"}) {
    EXPECT_TRUE(is_assertion_code(name)) << name;
  }
}

TEST(AssertionCode, RefusesGenericOrMalformedNames) {
  for (const char* name : {"", "check_failed", "assertion_failed", "not_ok", "failed", "looped", "RaFromSecondary",
                           "ra-not-from-secondary", "ra not from secondary", "ra__from", "_ra_from", "ra_from_",
                           "9_lives", "Ra_from"}) {
    EXPECT_FALSE(is_assertion_code(name)) << name;
  }
}

TEST(AssertionCode, TheKitsOwnCodesAreAssertionCodes) {
  namespace kit = teredo::conformance::kit;
  for (const char* name : {kit::kDiscardProven, kit::kControlUnanswered, kit::kNoControl, kit::kSentAsRequired,
                           kit::kNothingSent}) {
    EXPECT_TRUE(is_assertion_code(name)) << name;
  }
  EXPECT_TRUE(is_assertion_code(kit::Probe{}.code));
}

TEST(AssertionCode, ARunTimeNameIsCheckedToo) {
  EXPECT_EQ(AssertionCode::checked("control_unanswered").name(), "control_unanswered");
  EXPECT_THROW(AssertionCode::checked("check_failed"), std::invalid_argument);
  EXPECT_THROW(AssertionCode::checked(""), std::invalid_argument);
}

// ---- The source rule for the cases of every role ----

struct Call {
  std::string function;  // check | inconclusive
  int line = 0;
  std::vector<std::string> arguments;  // top level, trimmed
};

// Comments blanked (newlines kept, so line numbers stay), string literals
// kept as they are.
std::string without_comments(const std::string& s) {
  std::string out = s;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '"' || out[i] == '\'') {
      const char quote = out[i];
      for (++i; i < out.size() && out[i] != quote; ++i) {
        if (out[i] == '\\') ++i;
      }
    } else if (out.compare(i, 2, "//") == 0) {
      while (i < out.size() && out[i] != '\n') out[i++] = ' ';
    } else if (out.compare(i, 2, "/*") == 0) {
      const std::size_t end = std::min(out.find("*/", i + 2), out.size() - 2) + 2;
      for (; i < end; ++i) {
        if (out[i] != '\n') out[i] = ' ';
      }
      --i;
    }
  }
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// Every member call .check( / ->check( / .inconclusive( in `source`, with
// its arguments split at top-level commas.
std::vector<Call> assertion_calls(const std::string& text) {
  const std::string source = without_comments(text);
  std::vector<Call> calls;
  static const std::regex call(R"((\.|->)(check|inconclusive)\s*\()");
  for (auto it = std::sregex_iterator(source.begin(), source.end(), call); it != std::sregex_iterator(); ++it) {
    Call c;
    c.function = (*it)[2];
    const auto at = static_cast<std::size_t>(it->position(0));
    c.line = 1 + static_cast<int>(std::count(source.begin(), source.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    std::size_t i = at + static_cast<std::size_t>(it->length(0));
    int depth = 0;
    std::string argument;
    for (; i < source.size(); ++i) {
      const char ch = source[i];
      if (ch == '"' || ch == '\'') {
        const std::size_t start = i;
        for (++i; i < source.size() && source[i] != ch; ++i) {
          if (source[i] == '\\') ++i;
        }
        argument += source.substr(start, i - start + 1);
        continue;
      }
      if (depth == 0 && (ch == ',' || ch == ')')) {
        if (!trim(argument).empty() || ch == ',') c.arguments.push_back(trim(argument));
        argument.clear();
        if (ch == ')') break;
        continue;
      }
      if (ch == '(' || ch == '[' || ch == '{') ++depth;
      if (ch == ')' || ch == ']' || ch == '}') --depth;
      argument += ch;
    }
    calls.push_back(std::move(c));
  }
  return calls;
}

// A code argument: a literal that is an assertion code, or one of the kit's
// named codes (kit::kControlUnanswered), or a variable that holds one
// (`code`, `j.code`).
bool names_a_reason(const std::string& argument) {
  static const std::regex literal(R"re(^"([^"\\]*)"$)re");
  static const std::regex kit_constant(R"(^(kit::)?k[A-Z][A-Za-z0-9]*$)");
  static const std::regex variable(R"(^([a-z_][a-z0-9_]*\.)?[a-z_]*code$)");
  std::smatch m;
  if (std::regex_match(argument, m, literal)) return is_assertion_code(m[1].str());
  return std::regex_match(argument, kit_constant) || std::regex_match(argument, variable);
}

// Why `call` names no reason, or empty when it does.
std::string missing_reason(const Call& c) {
  if (c.function == "check") {
    // check(requirement, code, ok, expected, observed[, frames[, message]])
    if (c.arguments.size() >= 5 && names_a_reason(c.arguments[1])) return {};
    return "check(...) without a code as its second argument" +
           (c.arguments.size() > 1 ? " (got: " + c.arguments[1] + ")" : std::string());
  }
  // inconclusive(requirement, why, code)
  if (c.arguments.size() == 3 && names_a_reason(c.arguments[2])) return {};
  return "inconclusive(...) without a code as its third argument";
}

std::vector<std::string> violations(const std::string& file, const std::string& text) {
  std::vector<std::string> out;
  for (const Call& c : assertion_calls(text)) {
    if (const std::string why = missing_reason(c); !why.empty()) {
      out.push_back(file + ":" + std::to_string(c.line) + ": " + why);
    }
  }
  return out;
}

TEST(CaseCodes, TheScannerFindsCallsThatNameNoReason) {
  const std::string source = R"cpp(
    // run.check("R1", ok, "commented out", "not a call");
    run.check("R4380-5.3.2-07", "ra_not_from_secondary", ok, "an RA from (203.0.113.2, 3544)",
              fmt::format("{}, {}", a, b), {frame_ref(1, "v6host")});
    run.check("R4380-5.3.2-07", ok, "an RA from 203.0.113.2:3544", describe(r));
    run.check("R4380-5.3.2-07", "check_failed", ok, "expected", "observed");
    run.inconclusive("R4380-5.4.1-03", "the client never became trusted: " + k.story(c), "client_not_trusted");
    run.inconclusive(r, fmt::format("no answer, {} ms", 1), kit::kNothingSent);
    run.inconclusive("R4380-5.4.1-03", "the client never became trusted");
    run.check(requirement, code, ok, expected, observed);
  )cpp";
  const auto calls = assertion_calls(source);
  ASSERT_EQ(calls.size(), 7u);  // the commented-out one is not a call
  EXPECT_EQ(calls[0].arguments.size(), 6u);
  EXPECT_EQ(calls[0].arguments[3], "\"an RA from (203.0.113.2, 3544)\"");
  EXPECT_EQ(calls[0].line, 3);
  const auto found = violations("x.cpp", source);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].rfind("x.cpp:5: check(...)", 0), 0u) << found[0];  // no code
  EXPECT_EQ(found[1].rfind("x.cpp:6: check(...)", 0), 0u) << found[1];  // a generic code
  EXPECT_EQ(found[2].rfind("x.cpp:9: inconclusive(...)", 0), 0u) << found[2];
}

TEST(CaseCodes, EveryAssertionOfEveryRoleNamesItsReason) {
  namespace fs = std::filesystem;
  std::vector<std::string> problems;
  std::size_t calls = 0, files = 0;
  for (const char* role : {"server", "relay", "client"}) {
    const fs::path dir = fs::path(TEREDO_SOURCE_DIR) / "conformance" / "cases" / role;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".cpp") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      ++files;
      calls += assertion_calls(text.str()).size();
      const std::string name = std::string(role) + "/" + entry.path().filename().string();
      for (auto& p : violations(name, text.str())) problems.push_back(std::move(p));
    }
  }
  // The cases are there to be read: an empty scan proves nothing.
  EXPECT_GE(files, 10u);
  EXPECT_GE(calls, 100u);
  std::string listing;
  for (const auto& p : problems) listing += "\n  " + p;
  EXPECT_TRUE(problems.empty()) << problems.size() << " assertion(s) without a named reason "
                                << "(conformance/JUDGING.md §8):" << listing;
}

}  // namespace
