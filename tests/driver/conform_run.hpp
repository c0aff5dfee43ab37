// What the lab tests that hold a case against a deliberately broken IUT
// share (broken_client_test, broken_random_port_test,
// upnp_broken_reference_test): one `teredo-conform run` in a child process
// and the report's case entries, and the one-line summaries their failure
// messages print.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace teredo::test {

// `teredo-conform run --iut IUT --cases CASES --out DIR/NAME --retries 0`
// plus `extra`, its stderr in DIR/NAME.stderr; the report's "cases" (an empty
// array and a test failure when it wrote no report).
inline nlohmann::json run_cases(const std::filesystem::path& dir, const std::string& name, const std::string& iut,
                                const std::string& cases, const std::vector<std::string>& extra = {}) {
  const std::filesystem::path out = dir / name;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string log = (dir / (name + ".stderr")).string();
    (void)std::freopen(log.c_str(), "w", stderr);
    (void)std::freopen("/dev/null", "w", stdout);
    std::vector<std::string> args = {TEREDO_CONFORM_BIN, "run",         "--iut",     iut, "--cases",
                                     cases,              "--out",       out.string(), "--retries", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(TEREDO_CONFORM_BIN, argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::ifstream in(out / "report.json");
  if (!in) {
    ADD_FAILURE() << "no report for " << cases << " against " << iut << "; see " << (dir / (name + ".stderr"));
    return nlohmann::json::array();
  }
  return nlohmann::json::parse(in)["cases"];
}

// The outcome of `requirement` in one case entry ("" when not asserted).
inline std::string outcome_of(const nlohmann::json& c, const std::string& requirement) {
  for (const auto& a : c.value("assertions", nlohmann::json::array())) {
    if (a["requirement"] == requirement) return a["outcome"].get<std::string>();
  }
  return {};
}

// "case verdict: REQ=outcome ..." per case entry, for failure messages.
inline std::string outcomes(const nlohmann::json& cases) {
  std::string out;
  for (const auto& c : cases) {
    out += c.value("case_id", std::string("?")) + " " + c.value("verdict", std::string("?")) + ":";
    for (const auto& a : c.value("assertions", nlohmann::json::array())) {
      out += " " + (a["requirement"].is_null() ? std::string("harness-rule") : a["requirement"].get<std::string>()) +
             "=" + a["outcome"].get<std::string>();
    }
    out += "\n";
  }
  return out;
}

}  // namespace teredo::test
