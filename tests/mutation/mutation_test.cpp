// The harness's mutation score (issue 12): for every fault of fault_table.hpp,
// a mutant adapter (reference.json with each launch command run under the
// fault shim) is run against the cases that must catch the fault; the fault is
// caught when one of them fails (or warns on) the fault's requirement, or, for
// a crash fault, fails with code iut_died. The same case selections are run
// against the plain reference: every case must pass (a non-pass is a false
// verdict). Prints the score fault by fault.
//
// Environment: TEREDO_MUTATION_FAULTS=<glob> runs only matching faults (the
// threshold is then not applied); TEREDO_MUTATION_PARALLEL=<n> (default 3)
// teredo-conform runs at once; TEREDO_MUTATION_KEEP=1 keeps the reports.
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "mutation/fault_table.hpp"
#include "mutation/mutant_adapter.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using teredo::mutation::FaultRow;
using teredo::mutation::kFaults;
using teredo::mutation::kIutDied;

constexpr double kMinimumScore = 0.95;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

json mutant_adapter(const json& reference, const std::string& fault) {
  return teredo::testing::mutant_adapter(reference, fault, TEREDO_FAULT_SHIM);
}

struct ConformRun {
  std::string label;    // fault name, or "reference"
  std::string adapter;  // a file, or the built-in name "reference"
  std::string role, cases;
  fs::path out;
  pid_t pid = -1;
  int status = -1;
  json report{};
  [[nodiscard]] std::vector<std::string> argv() const {
    return {TEREDO_CONFORM_BIN, "run", "--iut", adapter, "--role", role, "--cases", cases, "--retries", "0", "--jobs",
            "2", "--out", out.string()};
  }
};

pid_t start(const ConformRun& r) {
  const std::vector<std::string> args = r.argv();
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string log = (r.out.parent_path() / (r.out.filename().string() + ".log")).string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (::chdir(TEREDO_SOURCE_DIR) != 0) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Runs every run, `parallel` at a time, and reads the reports.
void run_all(std::vector<ConformRun>& runs, std::size_t parallel) {
  std::size_t next = 0, running = 0;
  std::map<pid_t, ConformRun*> by_pid;
  while (next < runs.size() || running > 0) {
    while (running < parallel && next < runs.size()) {
      ConformRun& r = runs[next++];
      r.pid = start(r);
      if (r.pid < 0) continue;
      by_pid[r.pid] = &r;
      ++running;
    }
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, 0);
    if (done < 0) break;
    const auto it = by_pid.find(done);
    if (it == by_pid.end()) continue;
    it->second->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::ifstream in(it->second->out / "report.json");
    if (in) it->second->report = json::parse(in, nullptr, false);
    by_pid.erase(it);
    --running;
  }
}

std::string text_of(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::string shorten(std::string s, std::size_t n = 160) {
  if (s.size() > n) s = s.substr(0, n - 3) + "...";
  return s;
}

struct Judgement {
  bool caught = false;
  std::string where;  // the catching case/assertion, or what the cases judged instead
};

bool has_code(const json& c, std::string_view code) {
  for (const char* list : {"assertions", "messages"}) {
    if (!c.contains(list)) continue;
    for (const auto& a : c[list]) {
      if (text_of(a, "code") == code) return true;
    }
  }
  return false;
}

Judgement judge(const FaultRow& f, const ConformRun& r) {
  Judgement j;
  if (r.report.is_discarded() || !r.report.contains("cases")) {
    j.where = fmt::format("no report (teredo-conform exit {}; see {}.log)", r.status, r.out.string());
    return j;
  }
  std::vector<std::string> instead;
  for (const auto& c : r.report["cases"]) {
    const std::string id = text_of(c, "case_id"), verdict = text_of(c, "verdict");
    if (f.requirement == kIutDied) {
      if (verdict == "fail" && has_code(c, kIutDied)) {
        j.caught = true;
        j.where = id + ": fail, iut_died";
        return j;
      }
      instead.push_back(id + ": " + verdict);
      continue;
    }
    std::string seen;
    for (const auto& a : c.value("assertions", json::array())) {
      if (text_of(a, "requirement") != f.requirement) continue;
      const std::string outcome = text_of(a, "outcome");
      if (outcome == "fail" || outcome == "warn") {
        j.caught = true;
        j.where = fmt::format("{}: {} {}: observed {}", id, f.requirement, outcome, shorten(text_of(a, "observed")));
        return j;
      }
      seen += fmt::format("; {} {}: {}", f.requirement, outcome,
                          shorten(text_of(a, "observed").empty() ? text_of(a, "message") : text_of(a, "observed")));
    }
    instead.push_back(id + ": " + verdict + (seen.empty() ? fmt::format("; no assertion on {}", f.requirement) : seen));
  }
  if (instead.empty()) instead.push_back("no case selected");
  for (const auto& s : instead) j.where += (j.where.empty() ? "" : " | ") + s;
  return j;
}

TEST(Mutation, FaultsCaughtOnTheirRequirementAndNoFalseVerdictOnTheReference) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root and network namespaces";
  const std::string only = env_or("TEREDO_MUTATION_FAULTS", "*");
  const std::size_t parallel = std::stoul(env_or("TEREDO_MUTATION_PARALLEL", "3"));
  char pattern[] = "/tmp/teredo-mutation-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const fs::path work = pattern;
  std::ifstream reference_file(fs::path(TEREDO_SOURCE_DIR) / "conformance/iut/reference.json");
  const json reference = json::parse(reference_file);

  std::vector<const FaultRow*> faults;
  for (const auto& f : kFaults) {
    if (::fnmatch(only.c_str(), std::string(f.name).c_str(), 0) == 0) faults.push_back(&f);
  }
  ASSERT_FALSE(faults.empty()) << "no fault matches " << only;

  std::vector<ConformRun> runs;
  std::set<std::pair<std::string, std::string>> selections;
  for (const FaultRow* f : faults) {
    const std::string name(f->name);
    const fs::path adapter = work / (name + ".json");
    std::ofstream(adapter) << mutant_adapter(reference, name).dump(2) << '\n';
    runs.push_back({name, adapter.string(), std::string(f->role), std::string(f->cases), work / name});
    selections.insert({std::string(f->role), std::string(f->cases)});
  }
  std::size_t first_baseline = runs.size();
  for (const auto& [role, cases] : selections) {
    runs.push_back({"reference", "reference", role, cases, work / ("reference-" + cases)});
  }
  // Client cases are the long ones: start them first.
  std::stable_partition(runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(first_baseline),
                        [](const ConformRun& r) { return r.role == "client"; });
  const auto started = std::chrono::steady_clock::now();
  run_all(runs, parallel);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();

  std::size_t caught = 0;
  std::vector<std::string> missed;
  std::string table = fmt::format("{:<40} {:<7} {:<16} {:<6} {}\n", "fault", "role", "requirement", "caught", "where");
  for (std::size_t i = 0; i < first_baseline; ++i) {
    const FaultRow& f = *teredo::mutation::find_fault(runs[i].label);
    const Judgement j = judge(f, runs[i]);
    caught += j.caught ? 1 : 0;
    if (!j.caught) missed.push_back(std::string(f.name));
    table += fmt::format("{:<40} {:<7} {:<16} {:<6} {}\n", f.name, f.role, f.requirement, j.caught ? "yes" : "NO",
                         j.where);
  }
  std::size_t false_verdicts = 0, reference_cases = 0;
  std::string false_text;
  for (std::size_t i = first_baseline; i < runs.size(); ++i) {
    const ConformRun& r = runs[i];
    if (r.report.is_discarded() || !r.report.contains("cases") || r.report["cases"].empty()) {
      ++false_verdicts;
      false_text += fmt::format("  reference {} '{}': no report or no case (exit {})\n", r.role, r.cases, r.status);
      continue;
    }
    for (const auto& c : r.report["cases"]) {
      ++reference_cases;
      if (text_of(c, "verdict") == "pass") continue;
      ++false_verdicts;
      false_text += fmt::format("  reference {}: {}\n", text_of(c, "case_id"), text_of(c, "verdict"));
    }
  }
  const double score = static_cast<double>(caught) / static_cast<double>(faults.size());
  std::cout << table
            << fmt::format("mutation score: {}/{} faults caught on the right requirement ({:.1f} %)\n", caught,
                           faults.size(), 100.0 * score)
            << fmt::format("false verdicts on the unmutated reference: {} of {} cases\n", false_verdicts,
                           reference_cases)
            << false_text << fmt::format("wall time {} s ({} teredo-conform runs, {} at a time); reports in {}\n",
                                         seconds, runs.size(), parallel, work.string());
  if (env_or("TEREDO_MUTATION_KEEP", "").empty() && missed.empty() && false_verdicts == 0) fs::remove_all(work);
  EXPECT_EQ(false_verdicts, 0u) << false_text;
  if (only == "*") {
    std::string names;
    for (const auto& m : missed) names += " " + m;
    EXPECT_GE(score, kMinimumScore) << "missed:" << names;
  }
}

}  // namespace
