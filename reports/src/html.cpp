#include "teredo/reports/html.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "teredo/reports/gate.hpp"
#include "report_assets.hpp"
#include "style.hpp"
#include "template.hpp"
#include "text.hpp"

// report.html is reports/assets/report.html rendered against a view of the
// report built here. The view holds only text, numbers and flags: markup
// lives in the template, and the template renderer escapes every value.
namespace teredo::reports {

namespace {

using nlohmann::json;
using detail::array;
using detail::field;
using detail::integer;
using detail::requirement_label;
using detail::text;

std::string num(std::int64_t n) { return std::to_string(n); }

// A verdict's badge: its class (missing for anything not a verdict) and label.
json badge(std::string_view verdict) {
  return {{"class", is_verdict(verdict) ? std::string(verdict) : std::string("missing")},
          {"label", verdict.empty() ? std::string("?") : std::string(verdict)}};
}

std::string duration_text(std::int64_t ms) {
  if (ms < 1000) return num(ms) + " ms";
  return detail::seconds(ms) + " s";
}

// Natural order: "RFC4380 5.10" after "RFC4380 5.9".
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
    if (da && db) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && a[ie] >= '0' && a[ie] <= '9') ++ie;
      while (je < b.size() && b[je] >= '0' && b[je] <= '9') ++je;
      const std::string_view na = std::string_view(a).substr(i, ie - i), nb = std::string_view(b).substr(j, je - j);
      const std::size_t za = na.find_first_not_of('0'), zb = nb.find_first_not_of('0');
      const std::string_view ta = za == std::string_view::npos ? "" : na.substr(za);
      const std::string_view tb = zb == std::string_view::npos ? "" : nb.substr(zb);
      if (ta.size() != tb.size()) return ta.size() < tb.size();
      if (ta != tb) return ta < tb;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

// Counts by verdict and by level/verdict: the report's summary when it has
// one, the cases otherwise.
struct Tally {
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> by_verdict;
  std::map<std::string, std::map<std::string, std::int64_t>> by_level;
};

Tally tally(const json& report) {
  Tally t;
  const json& summary = field(report, "summary");
  if (summary.is_object()) {
    t.total = integer(summary, "total");
    for (const auto& [k, v] : field(summary, "by_verdict").items()) t.by_verdict[k] = v.is_number() ? v.get<std::int64_t>() : 0;
    for (const auto& [level, counts] : field(summary, "by_level").items()) {
      for (const auto& [k, v] : counts.items()) t.by_level[level][k] = v.is_number() ? v.get<std::int64_t>() : 0;
    }
    return t;
  }
  for (const json& c : array(report, "cases")) {
    ++t.total;
    ++t.by_verdict[text(c, "verdict")];
    ++t.by_level[text(c, "level")][text(c, "verdict")];
  }
  return t;
}

std::string plain_value(const json& v) {
  if (v.is_array()) {
    std::string out;
    for (const json& x : v) out += (out.empty() ? "" : ", ") + text(x);
    return out.empty() ? std::string("—") : out;
  }
  if (v.is_null()) return "—";
  return text(v);
}

// A key/value object as "key value · key value" (a non-object as plain text).
json pairs_view(const json& object) {
  json pairs = json::array();
  if (object.is_object()) {
    for (const auto& [k, v] : object.items()) pairs.push_back({{"first", pairs.empty()}, {"key", k}, {"value", plain_value(v)}});
  }
  return {{"pairs", pairs}, {"text", object.is_object() ? std::string("—") : plain_value(object)}};
}

json gate_view(const json& report) {
  const json& gate = field(report, "gate");
  const std::string result = text(gate, "result");
  const std::string policy = text(gate, "policy");
  std::string why;
  if (result == "pass") {
    why = policy == "strict" ? "no MUST or SHOULD failed and no harness error" : "no MUST failed and no harness error";
  } else if (result == "fail") {
    why = policy == "strict" ? "a MUST or SHOULD requirement failed" : "a MUST requirement failed";
  } else if (result == "inconclusive") {
    why = "nothing failed, but a case could not be judged: the run cannot vouch for it";
  } else {
    why = "a harness error: the run cannot vouch for the IUT";
  }
  std::string upper = result;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
  json blocking = json::array();
  for (const json& b : array(gate, "blocking")) {
    blocking.push_back({{"first", blocking.empty()},
                        {"case_id", text(b)},
                        {"href", detail::url_path_encode(detail::case_anchor(text(b)))}});
  }
  json view = {
      {"class", result == "pass" || result == "fail" || result == "error" || result == "inconclusive" ? result : std::string("error")},
      {"result", result},
      {"headline", upper.empty() ? std::string("?") : upper},
      {"exit_code", text(gate, "exit_code")},
      {"policy", policy},
      {"policy_name", policy.empty() ? std::string("default") : policy},
      {"why", why},
      {"any_blocking", !blocking.empty()},
      {"blocking", blocking},
      {"baseline", nullptr}};
  if (!field(gate, "baseline_file").is_null()) view["baseline"] = {{"file", text(gate, "baseline_file")}};
  return view;
}

json summary_view(const json& report) {
  const Tally t = tally(report);
  json cards = json::array(), verdicts = json::array(), levels = json::array();
  for (const std::string_view v : kVerdictNames) {
    const auto it = t.by_verdict.find(std::string(v));
    const std::int64_t n = it == t.by_verdict.end() ? 0 : it->second;
    cards.push_back({{"verdict", std::string(v)}, {"n", n}, {"zero", n == 0}});
    verdicts.push_back(std::string(v));
  }
  const std::set<std::string> known(std::begin(kLevelNames), std::end(kLevelNames));
  std::vector<std::string> order(std::begin(kLevelNames), std::end(kLevelNames));
  for (const auto& [level, counts] : t.by_level) {
    if (!known.contains(level)) order.push_back(level);
  }
  for (const std::string& level : order) {
    const auto lv = t.by_level.find(level);
    std::int64_t sum = 0;
    json cells = json::array();
    for (const std::string_view v : kVerdictNames) {
      std::int64_t n = 0;
      if (lv != t.by_level.end()) {
        const auto it = lv->second.find(std::string(v));
        if (it != lv->second.end()) n = it->second;
      }
      sum += n;
      cells.push_back({{"level", level}, {"verdict", std::string(v)}, {"n", n}, {"zero", n == 0}});
    }
    levels.push_back({{"level", level}, {"cells", cells}, {"total", sum}});
  }

  const json& cov = field(field(report, "summary"), "coverage");
  const json& pv = field(cov, "percent");
  json uncovered = json::array();
  for (const json& u : array(cov, "uncovered")) {
    const json& r = field(field(report, "requirements"), text(u));
    uncovered.push_back({{"id", text(u)},
                         {"catalog", r.is_object() ? json{{"level", text(r, "level")}, {"summary", text(r, "summary")}} : json()}});
  }
  return {{"total", t.total},
          {"cards", cards},
          {"verdicts", verdicts},
          {"levels", levels},
          {"covered", integer(cov, "covered")},
          {"testable", integer(cov, "testable")},
          {"percent", detail::one_decimal(pv.is_number() ? pv.get<double>() : 0.0)},
          {"any_uncovered", !uncovered.empty()},
          {"uncovered_count", uncovered.size()},
          {"uncovered", uncovered}};
}

// A fuzz run's figures and findings (report format 1.4): null for a run.
json fuzz_view(const json& report) {
  const json& fuzz = field(report, "fuzz");
  if (!fuzz.is_object()) return nullptr;
  json states = json::array();
  for (const auto& [state, counts] : field(fuzz, "by_state").items()) {
    states.push_back({{"state", state}, {"mutated", text(counts, "mutated")}, {"valid", text(counts, "valid")}});
  }
  json findings = json::array();
  for (const json& f : array(fuzz, "findings")) {
    const std::string case_id = field(f, "case_id").is_string() ? text(f, "case_id") : "";
    const std::string dir = field(f, "dir").is_string() ? text(f, "dir") : "";
    findings.push_back(
        {{"id", text(f, "id")},
         {"oracle", text(f, "oracle")},
         {"signature", text(f, "signature")},
         {"requirement", field(f, "requirement").is_string() ? text(f, "requirement") : std::string("harness rule")},
         {"hits", text(f, "hits")},
         {"kept", field(f, "datagrams_after_minimization").is_number() ? text(f, "datagrams_after_minimization")
                                                                         : std::string("—")},
         {"case", case_id.empty() ? json(nullptr)
                                  : json{{"case_id", case_id}, {"id", text(f, "id")},
                                         {"href", detail::url_path_encode(detail::case_anchor(case_id))}}},
         {"dir", dir.empty() ? json(nullptr)
                             : json{{"path", dir}, {"href", detail::url_path_encode(dir + "/")}}}});
  }
  const json& probes = field(fuzz, "probes");
  const json& rate = field(fuzz, "rate_per_s");
  return {{"role", text(fuzz, "role")},
          {"seed", text(fuzz, "seed")},
          {"stopped_by", text(fuzz, "stopped_by")},
          {"datagrams_sent", text(fuzz, "datagrams_sent")},
          {"rate", std::to_string(std::llround(rate.is_number() ? rate.get<double>() : 0.0))},
          {"probes_sent", text(probes, "sent")},
          {"probes_failed", text(probes, "failed")},
          {"states", states},
          {"any_findings", !findings.empty()},
          {"finding_count", findings.size()},
          {"findings", findings}};
}

// The href of a capture named in an assertion's frames: the case's pcap whose
// path ends in that name.
std::string capture_href(const json& evidence, const std::string& capture) {
  for (const json& p : array(evidence, "pcaps")) {
    const std::string path = text(p, "path");
    if (path == capture || (path.size() > capture.size() && path.ends_with("/" + capture))) return detail::url_path_encode(path);
  }
  return {};
}

json case_view(const json& c, const json& requirements) {
  const std::string id = text(c, "case_id");
  const std::string verdict = text(c, "verdict");
  const json& evidence = field(c, "evidence");
  json sections = json::array();
  for (const json& s : array(c, "rfc_sections")) sections.push_back(text(s));

  json reqs = json::array();
  for (const json& r : array(c, "requirements")) {
    const json& req = field(requirements, text(r));
    json catalog;
    if (req.is_object()) {
      catalog = {{"level", text(req, "level")}, {"doc", text(req, "doc")},         {"section", text(req, "section")},
                 {"role", text(req, "role")},   {"summary", text(req, "summary")}, {"quote", text(req, "quote")}};
    }
    reqs.push_back({{"first", reqs.empty()}, {"id", text(r)}, {"catalog", catalog}});
  }

  json assertions = json::array();
  for (const json& a : array(c, "assertions")) {
    json values = json::array();
    for (const char* key : {"expected", "observed"}) values.push_back({{"present", !field(a, key).is_null()}, {"text", text(a, key)}});
    json frames = json::array();
    for (const json& f : array(a, "frames")) {
      const std::string href = capture_href(evidence, text(f, "capture"));
      frames.push_back({{"first", frames.empty()},
                        {"capture", text(f, "capture")},
                        {"frame", text(f, "frame")},
                        {"href", href}});
    }
    assertions.push_back({{"outcome", text(a, "outcome")},
                          {"badge", badge(text(a, "outcome"))},
                          {"requirement", requirement_label(a)},
                          {"level", text(a, "level")},
                          {"values", values},
                          {"message", text(a, "message")},
                          {"code", field(a, "code").is_null() ? json() : json(text(a, "code"))},
                          {"frames", frames}});
  }

  json attempts = json::array();
  for (const json& a : array(c, "attempts")) {
    attempts.push_back({{"n", text(a, "n")},
                        {"badge", badge(text(a, "verdict"))},
                        {"duration", duration_text(integer(a, "duration_ms"))},
                        {"seed", text(a, "seed")}});
  }

  json messages = json::array();
  for (const json& m : array(c, "messages")) {
    messages.push_back({{"level", text(m, "level")},
                        {"t_ms", text(m, "t_ms")},
                        {"text", text(m, "text")},
                        {"code", field(m, "code").is_null() ? json() : json(text(m, "code"))}});
  }

  const json& pcaps = array(evidence, "pcaps");
  const json& logs = array(evidence, "logs");
  json evidence_view;
  if (!pcaps.empty() || !logs.empty() || !field(evidence, "dir").is_null()) {
    evidence_view = {{"dir", nullptr}, {"pcaps", json::array()}, {"logs", json::array()}};
    if (!field(evidence, "dir").is_null()) {
      const std::string dir = text(evidence, "dir");
      evidence_view["dir"] = {{"path", dir}, {"href", detail::url_path_encode(dir.ends_with('/') ? dir : dir + "/")}};
    }
    for (const json& p : pcaps) {
      const std::string sha = text(p, "sha256");
      evidence_view["pcaps"].push_back(
          {{"path", text(p, "path")},
           {"href", detail::url_path_encode(text(p, "path"))},
           {"vantage", text(p, "vantage")},
           {"packets", text(p, "packets")},
           {"sha256", sha.empty() ? json() : json{{"full", sha}, {"short", sha.substr(0, 12)}}}});
    }
    for (const json& l : logs) {
      evidence_view["logs"].push_back(
          {{"path", text(l, "path")}, {"href", detail::url_path_encode(text(l, "path"))}, {"what", text(l, "what")}});
    }
  }

  std::string what = num(static_cast<std::int64_t>(array(c, "assertions").size())) + " assertion(s), " +
                     num(static_cast<std::int64_t>(array(c, "messages").size())) + " message(s)";
  const std::size_t files = pcaps.size() + logs.size();
  if (files > 0) what += ", " + num(static_cast<std::int64_t>(files)) + " evidence file(s)";

  return {{"case_id", id},
          {"anchor", detail::case_anchor(id)},
          {"href", detail::url_path_encode(detail::case_anchor(id))},
          {"verdict", verdict},
          {"badge", badge(verdict)},
          {"level", text(c, "level")},
          {"role", text(c, "role")},
          {"title", text(c, "title")},
          {"sections_json", sections.dump(-1, ' ', false, json::error_handler_t::replace)},
          {"sections", sections.empty() ? std::string() : plain_value(sections)},
          {"known", text(c, "baseline") == "known"},
          {"duration", duration_text(integer(c, "duration_ms"))},
          {"open", verdict == "fail" || verdict == "error"},
          {"what", what},
          {"description", text(c, "description")},
          {"judgement", text(c, "judgement")},
          {"topology", text(c, "topology")},
          {"nat_profile", plain_value(field(c, "nat_profile"))},
          {"any_requirements", !reqs.empty()},
          {"requirements", reqs},
          {"any_assertions", !assertions.empty()},
          {"assertions", assertions},
          {"any_attempts", attempts.size() > 1 || verdict == "flaky"},
          {"attempts", attempts},
          {"any_messages", !messages.empty()},
          {"messages", messages},
          {"evidence", evidence_view},
          {"reproducer", text(c, "reproducer")}};
}

// The filter choices: every verdict and level (and any unknown ones the
// cases carry), the roles and RFC sections the cases have.
json filters_view(const json& cases) {
  std::set<std::string> verdicts_seen, levels_seen, roles_seen;
  std::set<std::string, decltype(&natural_less)> sections(&natural_less);
  std::map<std::string, std::int64_t> verdict_n, level_n;
  for (const json& c : cases) {
    verdicts_seen.insert(text(c, "verdict"));
    levels_seen.insert(text(c, "level"));
    roles_seen.insert(text(c, "role"));
    ++verdict_n[text(c, "verdict")];
    ++level_n[text(c, "level")];
    for (const json& s : array(c, "rfc_sections")) sections.insert(text(s));
  }
  std::vector<std::string> verdicts(std::begin(kVerdictNames), std::end(kVerdictNames));
  for (const std::string& v : verdicts_seen) {
    if (!is_verdict(v)) verdicts.push_back(std::string(v));
  }
  std::vector<std::string> levels(std::begin(kLevelNames), std::end(kLevelNames));
  for (const std::string& l : levels_seen) {
    if (!is_level(l)) levels.push_back(l);
  }
  std::vector<std::string> roles;
  for (const std::string_view r : kRoles) {
    if (roles_seen.contains(std::string(r))) roles.emplace_back(r);
  }
  for (const std::string& r : roles_seen) {
    if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
  }
  json view = {{"verdicts", json::array()}, {"levels", json::array()}, {"roles", roles}, {"sections", sections}};
  for (const std::string& v : verdicts) view["verdicts"].push_back({{"value", v}, {"badge", badge(v)}, {"n", verdict_n[v]}});
  for (const std::string& l : levels) {
    view["levels"].push_back({{"value", l}, {"label", l.empty() ? std::string("(none)") : l}, {"n", level_n[l]}});
  }
  return view;
}

json page_view(const json& report) {
  const json& iut = field(report, "iut");
  const json& run = field(report, "run");
  const json& harness = field(run, "harness");
  const json& cases = array(report, "cases");
  std::string harness_text = text(harness, "name") + " " + text(harness, "version");
  if (!field(harness, "git_commit").is_null()) harness_text += " (" + text(harness, "git_commit") + ")";
  json case_views = json::array();
  for (const json& c : cases) case_views.push_back(case_view(c, field(report, "requirements")));
  return {{"base_css", detail::kBaseCss},
          {"report_css", assets::kReportCss},
          {"report_js", assets::kReportJs},
          {"iut",
           {{"name", text(iut, "name")},
            {"version", text(iut, "version")},
            {"version_shown", plain_value(field(iut, "version"))},
            {"adapter", text(iut, "adapter")},
            {"adapter_sha256", plain_value(field(iut, "adapter_sha256"))},
            {"roles", plain_value(field(iut, "roles"))},
            {"capabilities", plain_value(field(iut, "capabilities"))}}},
          {"run",
           {{"roles", plain_value(field(field(run, "selection"), "roles"))},
            {"run_id", text(run, "run_id")},
            {"started_at", text(run, "started_at")},
            {"finished_at", text(run, "finished_at")},
            {"duration", duration_text(integer(run, "duration_ms"))},
            {"harness", harness_text},
            {"host", pairs_view(field(run, "host"))},
            {"command_line", text(run, "command_line")},
            {"master_seed", text(run, "master_seed")},
            {"selection", pairs_view(field(run, "selection"))},
            {"options", pairs_view(field(run, "options"))}}},
          {"incomplete", field(report, "complete") == json(false)},
          {"gate", gate_view(report)},
          {"summary", summary_view(report)},
          {"fuzz", fuzz_view(report)},
          {"filters", filters_view(cases)},
          {"case_count", cases.size()},
          {"cases", case_views},
          {"schema", text(report, "schema")},
          {"schema_version", text(report, "schema_version")}};
}

}  // namespace

std::string render_html(const nlohmann::json& report) {
  return detail::render_template(assets::kReportHtml, page_view(report));
}

}  // namespace teredo::reports
