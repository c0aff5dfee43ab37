#include "teredo/reports/check.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "teredo/reports/gate.hpp"
#include "text.hpp"

namespace teredo::reports {

namespace {

using nlohmann::json;

enum class Kind { string, nullable_string, count, integer, number, boolean, object, array };

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::string: return "a string";
    case Kind::nullable_string: return "a string or null";
    case Kind::count: return "a non-negative integer";
    case Kind::integer: return "an integer";
    case Kind::number: return "a number";
    case Kind::boolean: return "a boolean";
    case Kind::object: return "an object";
    case Kind::array: return "an array";
  }
  return "?";
}

bool is_kind(const json& v, Kind kind) {
  switch (kind) {
    case Kind::string: return v.is_string();
    case Kind::nullable_string: return v.is_string() || v.is_null();
    case Kind::count: return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
    case Kind::integer: return v.is_number_integer();
    case Kind::number: return v.is_number();
    case Kind::boolean: return v.is_boolean();
    case Kind::object: return v.is_object();
    case Kind::array: return v.is_array();
  }
  return false;
}

std::string quoted(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

template <std::size_t N>
std::string one_of(const std::string_view (&values)[N]) {
  std::string out;
  for (const std::string_view v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

class Checker {
 public:
  std::vector<std::string> problems;

  void add(const std::string& path, const std::string& what) { problems.push_back(path + ": " + what); }

  // The member `key` of `object` when present and of the right kind, else
  // nullptr (and a problem is recorded).
  const json* need(const json& object, const std::string& path, std::string_view key, Kind kind) {
    const std::string where = path.empty() ? std::string(key) : path + "." + std::string(key);
    const auto it = object.find(key);
    if (it == object.end()) {
      add(where, "missing");
      return nullptr;
    }
    if (!is_kind(*it, kind)) {
      add(where, "must be " + std::string(kind_name(kind)) + ", is " + truncated(*it));
      return nullptr;
    }
    return &*it;
  }

  template <std::size_t N>
  const json* need_enum(const json& object, const std::string& path, std::string_view key,
                        const std::string_view (&values)[N], bool nullable = false) {
    const json* v = need(object, path, key, nullable ? Kind::nullable_string : Kind::string);
    if (v == nullptr || v->is_null()) return v;
    const auto& s = v->get_ref<const std::string&>();
    if (std::find(std::begin(values), std::end(values), s) == std::end(values)) {
      add(path + "." + std::string(key), truncated(*v) + " is not one of " + one_of(values));
      return nullptr;
    }
    return v;
  }

  static std::string truncated(const json& v) { return detail::truncate(quoted(v), 80); }
};

constexpr std::string_view kAttemptVerdicts[] = {"pass", "fail", "warn", "not-applicable", "inconclusive", "error"};
constexpr std::string_view kOutcomes[] = {"pass", "fail", "warn", "inconclusive"};
constexpr std::string_view kMessageLevels[] = {"info", "warn", "error"};
constexpr std::string_view kTestable[] = {"yes", "partly", "no"};
constexpr std::string_view kPolicies[] = {"default", "strict"};
constexpr std::string_view kResults[] = {"pass", "fail", "error", "inconclusive"};
constexpr std::string_view kBaseline[] = {"known"};

void check_version(Checker& ck, const json& report) {
  const json* name = ck.need(report, "", "schema", Kind::string);
  if (name != nullptr && name->get_ref<const std::string&>() != kSchemaName) {
    ck.add("schema", "must be \"" + std::string(kSchemaName) + "\", is " + Checker::truncated(*name));
  }
  const json* version = ck.need(report, "", "schema_version", Kind::string);
  if (version == nullptr) return;
  const std::string& v = version->get_ref<const std::string&>();
  int parts = 0;
  bool ok = !v.empty();
  std::size_t start = 0;
  while (ok && start <= v.size()) {
    const std::size_t dot = v.find('.', start);
    const std::string_view part = std::string_view(v).substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    ok = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    ++parts;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (!ok || parts != 3) {
    ck.add("schema_version", Checker::truncated(*version) + " is not MAJOR.MINOR.PATCH");
  } else if (v.substr(0, v.find('.')) != "1") {
    ck.add("schema_version", Checker::truncated(*version) + ": this reader knows major version 1 only");
  }
}

void check_run(Checker& ck, const json& report) {
  const json* run = ck.need(report, "", "run", Kind::object);
  if (run != nullptr) {
    ck.need(*run, "run", "run_id", Kind::string);
    ck.need(*run, "run", "started_at", Kind::string);
    ck.need(*run, "run", "finished_at", Kind::string);
    ck.need(*run, "run", "duration_ms", Kind::count);
    if (const json* h = ck.need(*run, "run", "harness", Kind::object)) {
      ck.need(*h, "run.harness", "name", Kind::string);
      ck.need(*h, "run.harness", "version", Kind::string);
      ck.need(*h, "run.harness", "git_commit", Kind::nullable_string);
    }
    if (const json* h = ck.need(*run, "run", "host", Kind::object)) {
      ck.need(*h, "run.host", "kernel", Kind::string);
      ck.need(*h, "run.host", "cpus", Kind::count);
    }
    ck.need(*run, "run", "command_line", Kind::string);
    ck.need(*run, "run", "master_seed", Kind::count);
    if (const json* s = ck.need(*run, "run", "selection", Kind::object)) {
      ck.need(*s, "run.selection", "roles", Kind::array);
      ck.need(*s, "run.selection", "cases", Kind::string);
    }
    if (const json* o = ck.need(*run, "run", "options", Kind::object)) {
      ck.need(*o, "run.options", "jobs", Kind::count);
      ck.need(*o, "run.options", "strict", Kind::boolean);
      ck.need(*o, "run.options", "baseline", Kind::nullable_string);
    }
    // 1.2: the shard a run ran, or the shards a merged report joins.
    const auto check_shard = [&ck](const json& shard, const std::string& path) {
      const json* index = ck.need(shard, path, "index", Kind::count);
      const json* count = ck.need(shard, path, "count", Kind::count);
      if (index == nullptr || count == nullptr) return;
      const auto k = index->get<std::int64_t>(), n = count->get<std::int64_t>();
      if (k < 1 || k > n || n > 64) ck.add(path, "index " + index->dump() + " of count " + count->dump() + " is not 1 <= index <= count <= 64");
    };
    if (run->contains("shard")) {
      if (const json* shard = ck.need(*run, "run", "shard", Kind::object)) check_shard(*shard, "run.shard");
    }
    if (run->contains("merged_from")) {
      if (const json* from = ck.need(*run, "run", "merged_from", Kind::array)) {
        for (std::size_t i = 0; i < from->size(); ++i) {
          const std::string path = "run.merged_from[" + std::to_string(i) + "]";
          const json& s = (*from)[i];
          if (!s.is_object()) {
            ck.add(path, "must be an object");
            continue;
          }
          check_shard(s, path);
          if (const json* index = s.find("index") != s.end() ? &s["index"] : nullptr;
              index != nullptr && *index != json(i + 1)) {
            ck.add(path + ".index", "is " + index->dump() + ", shards are listed 1..count in order");
          }
          if (s.contains("count") && s["count"] != json(from->size())) {
            ck.add(path + ".count", "is " + s["count"].dump() + " but " + std::to_string(from->size()) + " shards are listed");
          }
          ck.need(s, path, "run_id", Kind::string);
          ck.need(s, path, "duration_ms", Kind::count);
          ck.need(s, path, "cases", Kind::count);
        }
      }
      if (run->contains("shard")) ck.add("run", "has both shard and merged_from");
    }
  }
  if (const json* iut = ck.need(report, "", "iut", Kind::object)) {
    ck.need(*iut, "iut", "name", Kind::string);
    ck.need(*iut, "iut", "version", Kind::nullable_string);
    ck.need(*iut, "iut", "adapter", Kind::string);
    ck.need(*iut, "iut", "adapter_sha256", Kind::nullable_string);
    if (const json* roles = ck.need(*iut, "iut", "roles", Kind::array)) {
      for (std::size_t i = 0; i < roles->size(); ++i) {
        const json& r = (*roles)[i];
        if (!r.is_string() || std::find(std::begin(detail::kRoles), std::end(detail::kRoles),
                                        r.get_ref<const std::string&>()) == std::end(detail::kRoles)) {
          ck.add("iut.roles[" + std::to_string(i) + "]", Checker::truncated(r) + " is not one of " + one_of(detail::kRoles));
        }
      }
    }
    ck.need(*iut, "iut", "capabilities", Kind::array);
  }
}

void check_requirements(Checker& ck, const json& requirements) {
  for (const auto& [id, req] : requirements.items()) {
    const std::string path = "requirements[\"" + id + "\"]";
    if (!req.is_object()) {
      ck.add(path, "must be an object");
      continue;
    }
    ck.need(req, path, "doc", Kind::string);
    ck.need(req, path, "section", Kind::string);
    ck.need_enum(req, path, "level", detail::kLevels);
    ck.need(req, path, "role", Kind::string);
    ck.need(req, path, "summary", Kind::string);
    ck.need(req, path, "quote", Kind::string);
    ck.need_enum(req, path, "testable", kTestable);
    ck.need(req, path, "covered_by", Kind::array);
  }
}

void check_attempts(Checker& ck, const json& c, const std::string& path, const std::string& verdict) {
  const json* attempts = ck.need(c, path, "attempts", Kind::array);
  if (attempts == nullptr) return;
  std::vector<std::string> verdicts;
  for (std::size_t i = 0; i < attempts->size(); ++i) {
    const json& a = (*attempts)[i];
    const std::string ap = path + ".attempts[" + std::to_string(i) + "]";
    if (!a.is_object()) {
      ck.add(ap, "must be an object");
      continue;
    }
    if (const json* n = ck.need(a, ap, "n", Kind::count); n != nullptr && n->get<std::uint64_t>() != i + 1) {
      ck.add(ap + ".n", "is " + n->dump() + ", expected " + std::to_string(i + 1) + " (attempts are numbered 1, 2, ...)");
    }
    const json* v = ck.need_enum(a, ap, "verdict", kAttemptVerdicts);
    verdicts.push_back(v != nullptr ? v->get<std::string>() : std::string());
    ck.need(a, ap, "duration_ms", Kind::count);
    ck.need(a, ap, "seed", Kind::count);
  }
  if (verdict.empty()) return;
  if (verdicts.empty()) {
    // Judged without running: a capability the adapter does not declare
    // (not-applicable, inconclusive, or a fail on a required one).
    if (verdict != "not-applicable" && verdict != "inconclusive" && verdict != "fail") {
      ck.add(path + ".attempts", "empty, but only a case judged without running (not-applicable, inconclusive, fail) "
                                 "may have no attempt");
    }
  } else if (const std::string combined = combine_attempt_verdicts(verdicts); combined != verdict) {
    ck.add(path + ".attempts", "the attempts combine to \"" + combined + "\" (JUDGING.md §5), not the case's \"" +
                                   verdict + "\"");
  }
}

// The schema's relative_path: not empty, no leading '/', no backslash, no
// ".." component, no URL scheme ("name:" before any '/').
bool relative_path_ok(const std::string& s) {
  if (s.empty() || s.front() == '/' || s.find('\\') != std::string::npos) return false;
  const std::size_t colon = s.find(':');
  if (colon != std::string::npos && colon < s.find('/')) {
    const bool scheme = std::isalpha(static_cast<unsigned char>(s[0])) != 0 &&
                        std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '.' || c == '-';
                        });
    if (scheme) return false;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = s.find('/', start);
    if (s.compare(start, slash == std::string::npos ? std::string::npos : slash - start, "..") == 0) return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

struct CaseIndex {
  std::map<std::string, std::set<std::string>> cites;  // case_id -> requirement IDs
};

void check_case(Checker& ck, const json& c, const std::string& path, const json* requirements, CaseIndex& index) {
  if (!c.is_object()) {
    ck.add(path, "must be an object");
    return;
  }
  std::string id;
  if (const json* v = ck.need(c, path, "case_id", Kind::string)) {
    id = v->get<std::string>();
    if (id.empty()) ck.add(path + ".case_id", "empty");
    if (index.cites.contains(id)) ck.add(path + ".case_id", "\"" + id + "\" appears twice");
  }
  ck.need(c, path, "title", Kind::string);
  ck.need(c, path, "description", Kind::string);
  ck.need(c, path, "judgement", Kind::string);
  ck.need_enum(c, path, "role", detail::kRoles);
  ck.need_enum(c, path, "level", detail::kLevels);
  std::set<std::string> cites;
  if (const json* reqs = ck.need(c, path, "requirements", Kind::array)) {
    for (std::size_t i = 0; i < reqs->size(); ++i) {
      const json& r = (*reqs)[i];
      const std::string rp = path + ".requirements[" + std::to_string(i) + "]";
      if (!r.is_string()) {
        ck.add(rp, "must be a string");
        continue;
      }
      cites.insert(r.get<std::string>());
      if (requirements != nullptr && !requirements->contains(r.get_ref<const std::string&>())) {
        ck.add(rp, Checker::truncated(r) + " is not in the report's requirements");
      }
    }
  }
  ck.need(c, path, "rfc_sections", Kind::array);
  ck.need(c, path, "topology", Kind::string);
  ck.need(c, path, "nat_profile", Kind::nullable_string);
  std::string verdict;
  if (const json* v = ck.need_enum(c, path, "verdict", detail::kVerdicts)) verdict = v->get<std::string>();
  ck.need(c, path, "duration_ms", Kind::count);
  check_attempts(ck, c, path, verdict);
  if (const json* assertions = ck.need(c, path, "assertions", Kind::array)) {
    for (std::size_t i = 0; i < assertions->size(); ++i) {
      const json& a = (*assertions)[i];
      const std::string ap = path + ".assertions[" + std::to_string(i) + "]";
      if (!a.is_object()) {
        ck.add(ap, "must be an object");
        continue;
      }
      ck.need(a, ap, "requirement", Kind::nullable_string);  // null: a harness rule (JUDGING.md)
      ck.need_enum(a, ap, "level", detail::kLevels);
      ck.need_enum(a, ap, "outcome", kOutcomes);
      ck.need(a, ap, "expected", Kind::nullable_string);
      ck.need(a, ap, "observed", Kind::nullable_string);
      ck.need(a, ap, "message", Kind::nullable_string);
      ck.need(a, ap, "code", Kind::nullable_string);
      ck.need(a, ap, "frames", Kind::array);
    }
  }
  if (const json* messages = ck.need(c, path, "messages", Kind::array)) {
    for (std::size_t i = 0; i < messages->size(); ++i) {
      const json& m = (*messages)[i];
      const std::string mp = path + ".messages[" + std::to_string(i) + "]";
      if (!m.is_object()) {
        ck.add(mp, "must be an object");
        continue;
      }
      ck.need(m, mp, "t_ms", Kind::count);
      ck.need_enum(m, mp, "level", kMessageLevels);
      ck.need(m, mp, "text", Kind::string);
      ck.need(m, mp, "code", Kind::nullable_string);
    }
  }
  if (const json* e = ck.need(c, path, "evidence", Kind::object)) {
    const json* dir = ck.need(*e, path + ".evidence", "dir", Kind::nullable_string);
    if (dir != nullptr && dir->is_string() && !relative_path_ok(dir->get<std::string>())) {
      ck.add(path + ".evidence.dir", Checker::truncated(*dir) + " must be relative to the report (no leading '/', no '..', no scheme)");
    }
    for (const char* list : {"pcaps", "logs"}) {
      const json* items = ck.need(*e, path + ".evidence", list, Kind::array);
      if (items == nullptr) continue;
      for (std::size_t i = 0; i < items->size(); ++i) {
        const json& item = (*items)[i];
        const std::string ip = path + ".evidence." + list + "[" + std::to_string(i) + "]";
        if (!item.is_object()) {
          ck.add(ip, "must be an object");
          continue;
        }
        if (const json* p = ck.need(item, ip, "path", Kind::string); p != nullptr && !relative_path_ok(p->get<std::string>())) {
          ck.add(ip + ".path", Checker::truncated(*p) + " must be relative to the report (no leading '/', no '..', no scheme)");
        }
      }
    }
  }
  ck.need(c, path, "reproducer", Kind::string);
  const json* baseline = ck.need_enum(c, path, "baseline", kBaseline, true);
  if (baseline != nullptr && baseline->is_string() && verdict != "fail" && verdict != "warn" && !verdict.empty()) {
    ck.add(path + ".baseline", "\"known\" on a " + verdict + " case (only a fail or warn can be a known failure)");
  }
  if (!id.empty() && !index.cites.contains(id)) index.cites.emplace(id, std::move(cites));
}

void check_counts(Checker& ck, const std::string& path, const json& stated, const std::map<std::string, std::int64_t>& computed,
                  bool all_required) {
  if (!stated.is_object()) {
    ck.add(path, "must be an object");
    return;
  }
  for (const auto& [key, value] : stated.items()) {
    if (!detail::is_verdict(key)) ck.add(path, "\"" + key + "\" is not a verdict");
    else if (!is_kind(value, Kind::count)) ck.add(path + "." + key, "must be a non-negative integer");
  }
  for (const std::string_view v : detail::kVerdicts) {
    const std::string key(v);
    const auto it = stated.find(key);
    const auto c = computed.find(key);
    const std::int64_t want = c == computed.end() ? 0 : c->second;
    if (it == stated.end()) {
      if (all_required) ck.add(path + "." + key, "missing");
      else if (want != 0) ck.add(path + "." + key, "missing, but " + std::to_string(want) + " case(s) have this verdict");
      continue;
    }
    if (is_kind(*it, Kind::count) && it->get<std::int64_t>() != want) {
      ck.add(path + "." + key, "says " + it->dump() + ", the cases count " + std::to_string(want));
    }
  }
}

void check_summary(Checker& ck, const json& report, const json* cases, const json* requirements) {
  const json* summary = ck.need(report, "", "summary", Kind::object);
  if (summary == nullptr) return;
  std::map<std::string, std::int64_t> by_verdict;
  std::map<std::string, std::map<std::string, std::int64_t>> by_level;
  std::int64_t total = 0;
  if (cases != nullptr) {
    for (const json& c : *cases) {
      ++total;
      const std::string v = detail::text(c, "verdict");
      ++by_verdict[v];
      ++by_level[detail::text(c, "level")][v];
    }
  }
  if (const json* t = ck.need(*summary, "summary", "total", Kind::count); t != nullptr && cases != nullptr) {
    if (t->get<std::int64_t>() != total) {
      ck.add("summary.total", "says " + t->dump() + ", the report holds " + std::to_string(total) + " case(s)");
    }
  }
  if (const json* bv = ck.need(*summary, "summary", "by_verdict", Kind::object); bv != nullptr && cases != nullptr) {
    check_counts(ck, "summary.by_verdict", *bv, by_verdict, true);
  }
  if (const json* bl = ck.need(*summary, "summary", "by_level", Kind::object); bl != nullptr && cases != nullptr) {
    for (const auto& [level, counts] : bl->items()) {
      if (!detail::is_level(level)) ck.add("summary.by_level", "\"" + level + "\" is not a level");
    }
    for (const std::string_view l : detail::kLevels) {
      const std::string level(l);
      const auto computed = by_level.find(level);
      const std::map<std::string, std::int64_t> none;
      const auto& want = computed == by_level.end() ? none : computed->second;
      const auto it = bl->find(level);
      if (it == bl->end()) {
        if (!want.empty()) ck.add("summary.by_level." + level, "missing, but " + std::to_string(want.size()) + " verdict(s) occur at this level");
        continue;
      }
      check_counts(ck, "summary.by_level." + level, *it, want, false);
    }
  }
  const json* cov = ck.need(*summary, "summary", "coverage", Kind::object);
  if (cov == nullptr) return;
  const json* testable = ck.need(*cov, "summary.coverage", "testable", Kind::count);
  const json* covered = ck.need(*cov, "summary.coverage", "covered", Kind::count);
  const json* percent = ck.need(*cov, "summary.coverage", "percent", Kind::number);
  const json* uncovered = ck.need(*cov, "summary.coverage", "uncovered", Kind::array);
  if (testable == nullptr || covered == nullptr) return;
  const auto t = testable->get<std::int64_t>();
  const auto k = covered->get<std::int64_t>();
  if (k > t) ck.add("summary.coverage.covered", "exceeds testable (" + std::to_string(k) + " > " + std::to_string(t) + ")");
  if (percent != nullptr) {
    const double p = percent->get<double>();
    const double want = t == 0 ? 0.0 : 100.0 * static_cast<double>(k) / static_cast<double>(t);
    const bool ok = std::abs(p - want) <= 0.051;
    if (!ok) ck.add("summary.coverage.percent", "says " + percent->dump() + ", covered/testable is " + detail::one_decimal(want));
  }
  if (uncovered != nullptr) {
    if (static_cast<std::int64_t>(uncovered->size()) != t - k) {
      ck.add("summary.coverage.uncovered", "lists " + std::to_string(uncovered->size()) + " requirement(s), testable - covered is " +
                                               std::to_string(t - k));
    }
    for (const json& r : *uncovered) {
      if (!r.is_string()) continue;
      const auto& id = r.get_ref<const std::string&>();
      if (requirements == nullptr) continue;
      const auto it = requirements->find(id);
      if (it == requirements->end()) {
        ck.add("summary.coverage.uncovered", "\"" + id + "\" is not in the report's requirements");
      } else if (!detail::array(*it, "covered_by").empty()) {
        ck.add("summary.coverage.uncovered", "\"" + id + "\" is covered_by " + detail::array(*it, "covered_by").dump());
      }
    }
  }
}

void check_gate(Checker& ck, const json& report, const json* cases) {
  const json* gate = ck.need(report, "", "gate", Kind::object);
  if (gate == nullptr) return;
  const json* policy = ck.need_enum(*gate, "gate", "policy", kPolicies);
  ck.need(*gate, "gate", "baseline_file", Kind::nullable_string);
  const json* result = ck.need_enum(*gate, "gate", "result", kResults);
  const json* exit_code = ck.need(*gate, "gate", "exit_code", Kind::count);
  const json* blocking = ck.need(*gate, "gate", "blocking", Kind::array);

  const json& strict = detail::field(detail::field(detail::field(report, "run"), "options"), "strict");
  if (policy != nullptr && strict.is_boolean() && (policy->get<std::string>() == "strict") != strict.get<bool>()) {
    ck.add("gate.policy", "is " + policy->dump() + " but run.options.strict is " + strict.dump());
  }
  const std::string res = result != nullptr ? result->get<std::string>() : std::string();
  if (result != nullptr && exit_code != nullptr) {
    const int want = res == "pass" ? 0 : res == "fail" ? 1 : res == "inconclusive" ? kExitInconclusive : 2;
    if (exit_code->get<std::int64_t>() != want) {
      ck.add("gate.exit_code", "is " + exit_code->dump() + " but a gate result of \"" + res + "\" exits " + std::to_string(want));
    }
  }
  if (cases == nullptr) return;
  const std::vector<std::string> want = blocking_cases(report);
  if (blocking != nullptr) {
    std::set<std::string> stated;
    for (const json& b : *blocking) {
      if (b.is_string()) stated.insert(b.get<std::string>());
      else ck.add("gate.blocking", Checker::truncated(b) + " is not a case ID");
    }
    const std::set<std::string> wanted(want.begin(), want.end());
    for (const std::string& id : wanted) {
      if (!stated.contains(id)) ck.add("gate.blocking", "misses \"" + id + "\", which blocks under the " + std::string(strict_policy(report) ? "strict" : "default") + " policy");
    }
    for (const std::string& id : stated) {
      if (!wanted.contains(id)) ck.add("gate.blocking", "lists \"" + id + "\", which does not block (gate.hpp)");
    }
  }
  if (result == nullptr) return;
  const int code = cases_exit_code(report);
  if (code == 2 && res != "error") ck.add("gate.result", "is \"" + res + "\" but a case has the verdict error");
  if (code == 1 && res == "pass") ck.add("gate.result", "is \"pass\" but blocking case(s) failed");
  if (code == 0 && res == "fail") ck.add("gate.result", "is \"fail\" but no case blocks");
  if (code == kExitInconclusive && res == "pass") {
    ck.add("gate.result", "is \"pass\" but a case is inconclusive (the gate cannot vouch for it)");
  }
  if (code != kExitInconclusive && res == "inconclusive") {
    ck.add("gate.result", "is \"inconclusive\" but the cases give exit " + std::to_string(code));
  }
}

}  // namespace

// 1.4: a fuzz run's section. Every written finding is a failing case of the
// report, and the report's cases are its findings.
void check_fuzz(Checker& ck, const json& fuzz, const json* cases) {
  if (!fuzz.is_object()) {
    ck.add("fuzz", "must be an object");
    return;
  }
  ck.need(fuzz, "fuzz", "role", Kind::string);
  ck.need(fuzz, "fuzz", "seed", Kind::count);
  ck.need(fuzz, "fuzz", "datagrams_sent", Kind::count);
  ck.need(fuzz, "fuzz", "rate_per_s", Kind::number);
  ck.need(fuzz, "fuzz", "by_state", Kind::object);
  ck.need(fuzz, "fuzz", "probes", Kind::object);
  const json* findings = ck.need(fuzz, "fuzz", "findings", Kind::array);
  if (findings == nullptr || cases == nullptr) return;
  std::set<std::string> written;
  for (std::size_t i = 0; i < findings->size(); ++i) {
    const json& f = (*findings)[i];
    const std::string path = "fuzz.findings[" + std::to_string(i) + "]";
    if (!f.is_object()) {
      ck.add(path, "must be an object");
      continue;
    }
    ck.need(f, path, "oracle", Kind::string);
    const json* id = ck.need(f, path, "case_id", Kind::nullable_string);
    if (id == nullptr || id->is_null()) continue;
    const std::string case_id = id->get<std::string>();
    written.insert(case_id);
    const auto it = std::find_if(cases->begin(), cases->end(),
                                 [&](const json& c) { return detail::text(c, "case_id") == case_id; });
    if (it == cases->end()) ck.add(path + ".case_id", "names \"" + case_id + "\", which is not a case of the report");
    else if (detail::text(*it, "verdict") != "fail") ck.add(path + ".case_id", "names \"" + case_id + "\", which does not fail");
  }
  for (const json& c : *cases) {
    const std::string id = detail::text(c, "case_id");
    if (!written.contains(id)) ck.add("fuzz.findings", "misses the case \"" + id + "\": a fuzz report's cases are its findings");
  }
}

std::vector<std::string> check_report(const nlohmann::json& report) {
  Checker ck;
  if (!report.is_object()) {
    ck.add("report", "must be a JSON object");
    return ck.problems;
  }
  static constexpr std::string_view known[] = {"schema", "schema_version", "complete", "run", "iut", "requirements", "cases", "summary", "gate", "fuzz"};
  for (const auto& [key, value] : report.items()) {
    if (std::find(std::begin(known), std::end(known), key) == std::end(known)) ck.add(key, "unknown top-level key");
  }
  check_version(ck, report);
  ck.need(report, "", "complete", Kind::boolean);
  check_run(ck, report);
  const json* requirements = ck.need(report, "", "requirements", Kind::object);
  if (requirements != nullptr) check_requirements(ck, *requirements);
  const json* cases = ck.need(report, "", "cases", Kind::array);
  CaseIndex index;
  if (cases != nullptr) {
    for (std::size_t i = 0; i < cases->size(); ++i) check_case(ck, (*cases)[i], "cases[" + std::to_string(i) + "]", requirements, index);
  }
  if (requirements != nullptr && cases != nullptr) {
    for (const auto& [id, req] : requirements->items()) {
      for (const json& by : detail::array(req, "covered_by")) {
        const std::string c = detail::text(by);
        const auto it = index.cites.find(c);
        if (it == index.cites.end()) {
          ck.add("requirements[\"" + id + "\"].covered_by", "names \"" + c + "\", which is not a case of the report");
        } else if (!it->second.contains(id)) {
          ck.add("requirements[\"" + id + "\"].covered_by", "names \"" + c + "\", which does not cite " + id);
        }
      }
    }
  }
  check_summary(ck, report, cases, requirements);
  check_gate(ck, report, cases);
  if (report.contains("fuzz")) check_fuzz(ck, report["fuzz"], cases);
  return ck.problems;
}

}  // namespace teredo::reports
