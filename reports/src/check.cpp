#include "teredo/reports/check.hpp"

#include <cmath>
#include <map>
#include <set>

#include "teredo/reports/gate.hpp"
#include "teredo/reports/report.hpp"
#include "text.hpp"

namespace teredo::reports {

namespace {

using nlohmann::json;

// The rules of FORMAT.md that a JSON Schema cannot state: values that must
// agree across the report. They read a report the schema has accepted.
class CrossCheck {
 public:
  explicit CrossCheck(const Report& report) : r_(report) {}

  std::vector<std::string> run() {
    cases();
    requirements();
    summary();
    gate();
    shards();
    if (r_.fuzz) fuzz(*r_.fuzz);
    return problems_;
  }

 private:
  void add(const std::string& pointer, const std::string& what) { problems_.push_back(pointer + ": " + what); }
  static std::string at(const std::string& list, std::size_t i) { return "/" + list + "/" + std::to_string(i); }

  void cases() {
    for (std::size_t i = 0; i < r_.cases.size(); ++i) {
      const Case& c = r_.cases[i];
      const std::string path = at("cases", i);
      if (!ids_.insert(c.case_id).second) add(path + "/case_id", "\"" + c.case_id + "\" appears twice");
      cites_.emplace(c.case_id, std::set<std::string>(c.requirements.begin(), c.requirements.end()));
      for (std::size_t k = 0; k < c.requirements.size(); ++k) {
        if (!r_.requirements.contains(c.requirements[k])) {
          add(path + "/requirements/" + std::to_string(k), "\"" + c.requirements[k] + "\" is not in the report's requirements");
        }
      }
      std::vector<Verdict> verdicts;
      for (std::size_t k = 0; k < c.attempts.size(); ++k) {
        const Attempt& a = c.attempts[k];
        if (a.n != static_cast<std::int64_t>(k + 1)) {
          add(path + "/attempts/" + std::to_string(k) + "/n",
              "is " + std::to_string(a.n) + ", expected " + std::to_string(k + 1) + " (attempts are numbered 1, 2, ...)");
        }
        verdicts.push_back(a.verdict);
      }
      // No attempt: judged without running (the schema allows it for
      // not-applicable, inconclusive and fail only).
      if (verdicts.empty()) continue;
      if (const Verdict combined = combine_attempt_verdicts(verdicts); combined != c.verdict) {
        add(path + "/attempts", "the attempts combine to \"" + std::string(to_string(combined)) + "\" (JUDGING.md §5), not the case's \"" +
                                    std::string(to_string(c.verdict)) + "\"");
      }
    }
  }

  void requirements() {
    for (const auto& [id, req] : r_.requirements) {
      for (const std::string& by : req.covered_by) {
        const auto it = cites_.find(by);
        const std::string where = "/requirements/" + id + "/covered_by";
        if (it == cites_.end()) add(where, "names \"" + by + "\", which is not a case of the report");
        else if (!it->second.contains(id)) add(where, "names \"" + by + "\", which does not cite " + id);
      }
    }
  }

  void counts(const std::string& where, const VerdictCounts& stated, const VerdictCounts& counted) {
    for (const std::string_view v : kVerdictNames) {
      const std::string key(v);
      const auto s = stated.find(key);
      const auto c = counted.find(key);
      const std::int64_t want = c == counted.end() ? 0 : c->second;
      if (s == stated.end()) {
        if (want != 0) add(where + "/" + key, "missing, but " + std::to_string(want) + " case(s) have this verdict");
      } else if (s->second != want) {
        add(where + "/" + key, "says " + std::to_string(s->second) + ", the cases count " + std::to_string(want));
      }
    }
  }

  void summary() {
    const Summary& s = r_.summary;
    const Summary counted = summarize(r_.cases, {});
    if (s.total != counted.total) {
      add("/summary/total", "says " + std::to_string(s.total) + ", the report holds " + std::to_string(counted.total) + " case(s)");
    }
    counts("/summary/by_verdict", s.by_verdict, counted.by_verdict);
    for (const std::string_view l : kLevelNames) {
      const std::string level(l);
      const auto stated = s.by_level.find(level);
      const auto want = counted.by_level.find(level);
      if (stated == s.by_level.end()) {
        if (want != counted.by_level.end()) add("/summary/by_level/" + level, "missing, but cases have this level");
        continue;
      }
      counts("/summary/by_level/" + level, stated->second, want == counted.by_level.end() ? VerdictCounts{} : want->second);
    }
    const Coverage& cov = s.coverage;
    if (cov.covered > cov.testable) {
      add("/summary/coverage/covered", "exceeds testable (" + std::to_string(cov.covered) + " > " + std::to_string(cov.testable) + ")");
    }
    const double want = cov.testable == 0 ? 0.0 : 100.0 * static_cast<double>(cov.covered) / static_cast<double>(cov.testable);
    if (std::abs(cov.percent - want) > 0.051) {
      add("/summary/coverage/percent", "says " + json(cov.percent).dump() + ", covered/testable is " + detail::one_decimal(want));
    }
    if (static_cast<std::int64_t>(cov.uncovered.size()) != cov.testable - cov.covered) {
      add("/summary/coverage/uncovered", "lists " + std::to_string(cov.uncovered.size()) +
                                             " requirement(s), testable - covered is " + std::to_string(cov.testable - cov.covered));
    }
    for (const std::string& id : cov.uncovered) {
      const auto it = r_.requirements.find(id);
      if (it == r_.requirements.end()) add("/summary/coverage/uncovered", "\"" + id + "\" is not in the report's requirements");
      else if (!it->second.covered_by.empty()) add("/summary/coverage/uncovered", "\"" + id + "\" is covered_by " + json(it->second.covered_by).dump());
    }
  }

  void gate() {
    if (!r_.gate) return;  // the schema requires it
    const Gate& g = *r_.gate;
    const std::vector<std::string> want = blocking_cases(r_);
    const std::set<std::string> wanted(want.begin(), want.end()), stated(g.blocking.begin(), g.blocking.end());
    for (const std::string& id : wanted) {
      if (!stated.contains(id)) add("/gate/blocking", "misses \"" + id + "\", which blocks under the " + g.policy + " policy");
    }
    for (const std::string& id : stated) {
      if (!wanted.contains(id)) add("/gate/blocking", "lists \"" + id + "\", which does not block (gate.hpp)");
    }
    const int code = cases_exit_code(r_);
    const std::string& res = g.result;
    if (code == 2 && res != "error") add("/gate/result", "is \"" + res + "\" but a case has the verdict error");
    if (code == 1 && res == "pass") add("/gate/result", "is \"pass\" but blocking case(s) failed");
    if (code == 0 && res == "fail") add("/gate/result", "is \"fail\" but no case blocks");
    if (code == kExitInconclusive && res == "pass") add("/gate/result", "is \"pass\" but a case is inconclusive (the gate cannot vouch for it)");
    if (code != kExitInconclusive && res == "inconclusive") {
      add("/gate/result", "is \"inconclusive\" but the cases give exit " + std::to_string(code));
    }
  }

  // 1.3: the shard a run ran, or the shards a merged report joins.
  void shards() {
    if (r_.run.shard && r_.run.shard->index > r_.run.shard->count) {
      add("/run/shard", "index " + std::to_string(r_.run.shard->index) + " of count " + std::to_string(r_.run.shard->count) +
                            " is not 1 <= index <= count");
    }
    if (!r_.run.merged_from) return;
    if (r_.run.shard) add("/run", "has both shard and merged_from");
    const auto& from = *r_.run.merged_from;
    for (std::size_t i = 0; i < from.size(); ++i) {
      const std::string path = "/run/merged_from/" + std::to_string(i);
      if (from[i].index != static_cast<std::int64_t>(i + 1)) {
        add(path + "/index", "is " + std::to_string(from[i].index) + ", shards are listed 1..count in order");
      }
      if (from[i].count != static_cast<std::int64_t>(from.size())) {
        add(path + "/count", "is " + std::to_string(from[i].count) + " but " + std::to_string(from.size()) + " shards are listed");
      }
    }
  }

  // 1.4: every written finding of a fuzz run is a failing case of the
  // report, and the report's cases are its findings.
  void fuzz(const json& section) {
    std::set<std::string> written;
    const json& findings = section.at("findings");
    for (std::size_t i = 0; i < findings.size(); ++i) {
      const json& id = findings[i].at("case_id");
      if (id.is_null()) continue;
      const std::string case_id = id.get<std::string>();
      written.insert(case_id);
      const auto it = std::find_if(r_.cases.begin(), r_.cases.end(), [&](const Case& c) { return c.case_id == case_id; });
      const std::string where = "/fuzz/findings/" + std::to_string(i) + "/case_id";
      if (it == r_.cases.end()) add(where, "names \"" + case_id + "\", which is not a case of the report");
      else if (it->verdict != Verdict::fail) add(where, "names \"" + case_id + "\", which does not fail");
    }
    for (const Case& c : r_.cases) {
      if (!written.contains(c.case_id)) add("/fuzz/findings", "misses the case \"" + c.case_id + "\": a fuzz report's cases are its findings");
    }
  }

  const Report& r_;
  std::vector<std::string> problems_;
  std::set<std::string> ids_;
  std::map<std::string, std::set<std::string>> cites_;  // case_id -> requirement IDs
};

}  // namespace

std::vector<std::string> check_report(const nlohmann::json& report) {
  std::vector<std::string> problems;
  for (const schema::SchemaProblem& p : report_schema().validate(report)) problems.push_back(schema::to_string(p));
  if (!problems.empty()) return problems;  // the cross-field rules read a report of the schema's shape
  try {
    return CrossCheck(report.get<Report>()).run();
  } catch (const nlohmann::json::exception& e) {
    // The schema and report.hpp disagree: a defect of this library.
    return {std::string("/: the schema accepts the report but its types do not read it: ") + e.what()};
  }
}

}  // namespace teredo::reports
