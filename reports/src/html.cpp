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
// The fuzz section is JSON in the report's types (conformance/fuzz owns it).
using detail::array;
using detail::field;
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

// A list as "a, b, c" ("—" when empty).
std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out.empty() ? std::string("—") : out;
}
// An optional string as itself ("—" when null).
std::string shown(const std::optional<std::string>& value) { return value ? *value : std::string("—"); }

// A value of the report as plain text (nlohmann's spelling for numbers and
// booleans, "—" for null, a list joined).
std::string plain_value(const json& v) {
  if (v.is_array()) {
    std::string out;
    for (const json& x : v) out += (out.empty() ? "" : ", ") + text(x);
    return out.empty() ? std::string("—") : out;
  }
  if (v.is_null()) return "—";
  return text(v);
}

// A record of the report as "key value · key value", in key order.
json pairs_view(const json& object) {
  json pairs = json::array();
  for (const auto& [k, v] : object.items()) pairs.push_back({{"first", pairs.empty()}, {"key", k}, {"value", plain_value(v)}});
  return {{"pairs", pairs}, {"text", "—"}};
}

json gate_view(const std::optional<Gate>& gate) {
  const std::string result = gate ? gate->result : std::string();
  const std::string policy = gate ? gate->policy : std::string();
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
  if (gate) {
    for (const std::string& b : gate->blocking) {
      blocking.push_back({{"first", blocking.empty()}, {"case_id", b}, {"href", detail::url_path_encode(detail::case_anchor(b))}});
    }
  }
  json view = {
      {"class", result == "pass" || result == "fail" || result == "error" || result == "inconclusive" ? result : std::string("error")},
      {"result", result},
      {"headline", upper.empty() ? std::string("?") : upper},
      {"exit_code", gate ? std::to_string(gate->exit_code) : std::string()},
      {"policy", policy},
      {"policy_name", policy.empty() ? std::string("default") : policy},
      {"why", why},
      {"any_blocking", !blocking.empty()},
      {"blocking", blocking},
      {"baseline", nullptr}};
  if (gate && gate->baseline_file) view["baseline"] = {{"file", *gate->baseline_file}};
  return view;
}

json summary_view(const Report& report) {
  const Summary& s = report.summary;
  const auto count = [](const VerdictCounts& counts, std::string_view verdict) -> std::int64_t {
    const auto it = counts.find(std::string(verdict));
    return it == counts.end() ? 0 : it->second;
  };
  json cards = json::array(), verdicts = json::array(), levels = json::array();
  for (const std::string_view v : kVerdictNames) {
    const std::int64_t n = count(s.by_verdict, v);
    cards.push_back({{"verdict", std::string(v)}, {"n", n}, {"zero", n == 0}});
    verdicts.push_back(std::string(v));
  }
  const std::set<std::string> known(std::begin(kLevelNames), std::end(kLevelNames));
  std::vector<std::string> order(std::begin(kLevelNames), std::end(kLevelNames));
  for (const auto& [level, counts] : s.by_level) {
    if (!known.contains(level)) order.push_back(level);
  }
  for (const std::string& level : order) {
    const auto lv = s.by_level.find(level);
    std::int64_t sum = 0;
    json cells = json::array();
    for (const std::string_view v : kVerdictNames) {
      const std::int64_t n = lv == s.by_level.end() ? 0 : count(lv->second, v);
      sum += n;
      cells.push_back({{"level", level}, {"verdict", std::string(v)}, {"n", n}, {"zero", n == 0}});
    }
    levels.push_back({{"level", level}, {"cells", cells}, {"total", sum}});
  }

  const Coverage& cov = s.coverage;
  json uncovered = json::array();
  for (const std::string& id : cov.uncovered) {
    const auto r = report.requirements.find(id);
    uncovered.push_back({{"id", id},
                         {"catalog", r != report.requirements.end()
                                         ? json{{"level", to_string(r->second.level)}, {"summary", r->second.summary}}
                                         : json()}});
  }
  return {{"total", s.total},
          {"cards", cards},
          {"verdicts", verdicts},
          {"levels", levels},
          {"covered", cov.covered},
          {"testable", cov.testable},
          {"percent", detail::one_decimal(cov.percent)},
          {"any_uncovered", !uncovered.empty()},
          {"uncovered_count", uncovered.size()},
          {"uncovered", uncovered}};
}

// A fuzz run's figures and findings (report format 1.4): null for a run.
json fuzz_view(const std::optional<json>& section) {
  if (!section || !section->is_object()) return nullptr;
  const json& fuzz = *section;
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
std::string capture_href(const Evidence& evidence, const std::string& capture) {
  for (const Pcap& p : evidence.pcaps) {
    const std::string& path = p.path;
    if (path == capture || (path.size() > capture.size() && path.ends_with("/" + capture))) return detail::url_path_encode(path);
  }
  return {};
}

json optional_text(const std::optional<std::string>& value) { return value ? json(*value) : json(); }

json case_view(const Case& c, const std::map<std::string, Requirement>& requirements) {
  const std::string& id = c.case_id;
  const std::string verdict(to_string(c.verdict));
  const Evidence& evidence = c.evidence;

  json reqs = json::array();
  for (const std::string& r : c.requirements) {
    const auto req = requirements.find(r);
    json catalog;
    if (req != requirements.end()) {
      const Requirement& q = req->second;
      catalog = {{"level", to_string(q.level)}, {"doc", q.doc},         {"section", q.section},
                 {"role", q.role},              {"summary", q.summary}, {"quote", q.quote}};
    }
    reqs.push_back({{"first", reqs.empty()}, {"id", r}, {"catalog", catalog}});
  }

  json assertions = json::array();
  for (const Assertion& a : c.assertions) {
    json values = json::array();
    for (const auto* value : {&a.expected, &a.observed}) values.push_back({{"present", value->has_value()}, {"text", value->value_or("")}});
    json frames = json::array();
    for (const Frame& f : a.frames) {
      frames.push_back({{"first", frames.empty()},
                        {"capture", f.capture},
                        {"frame", std::to_string(f.frame)},
                        {"href", capture_href(evidence, f.capture)}});
    }
    const std::string outcome(to_string(a.outcome));
    assertions.push_back({{"outcome", outcome},
                          {"badge", badge(outcome)},
                          {"requirement", detail::requirement_label(a)},
                          {"level", to_string(a.level)},
                          {"values", values},
                          {"message", a.message.value_or("")},
                          {"code", optional_text(a.code)},
                          {"frames", frames}});
  }

  json attempts = json::array();
  for (const Attempt& a : c.attempts) {
    attempts.push_back({{"n", std::to_string(a.n)},
                        {"badge", badge(to_string(a.verdict))},
                        {"duration", duration_text(a.duration_ms)},
                        {"seed", std::to_string(a.seed)}});
  }

  json messages = json::array();
  for (const Message& m : c.messages) {
    messages.push_back({{"level", m.level}, {"t_ms", std::to_string(m.t_ms)}, {"text", m.text}, {"code", optional_text(m.code)}});
  }

  json evidence_view;
  if (!evidence.pcaps.empty() || !evidence.logs.empty() || evidence.dir) {
    evidence_view = {{"dir", nullptr}, {"pcaps", json::array()}, {"logs", json::array()}};
    if (evidence.dir) {
      const std::string& dir = *evidence.dir;
      evidence_view["dir"] = {{"path", dir}, {"href", detail::url_path_encode(dir.ends_with('/') ? dir : dir + "/")}};
    }
    for (const Pcap& p : evidence.pcaps) {
      evidence_view["pcaps"].push_back(
          {{"path", p.path},
           {"href", detail::url_path_encode(p.path)},
           {"vantage", p.vantage},
           {"packets", std::to_string(p.packets)},
           {"sha256", p.sha256.empty() ? json() : json{{"full", p.sha256}, {"short", p.sha256.substr(0, 12)}}}});
    }
    for (const Log& l : evidence.logs) {
      evidence_view["logs"].push_back({{"path", l.path}, {"href", detail::url_path_encode(l.path)}, {"what", l.what}});
    }
  }

  std::string what = num(static_cast<std::int64_t>(c.assertions.size())) + " assertion(s), " +
                     num(static_cast<std::int64_t>(c.messages.size())) + " message(s)";
  const std::size_t files = evidence.pcaps.size() + evidence.logs.size();
  if (files > 0) what += ", " + num(static_cast<std::int64_t>(files)) + " evidence file(s)";

  return {{"case_id", id},
          {"anchor", detail::case_anchor(id)},
          {"href", detail::url_path_encode(detail::case_anchor(id))},
          {"verdict", verdict},
          {"badge", badge(verdict)},
          {"level", to_string(c.level)},
          {"role", c.role},
          {"title", c.title},
          {"sections_json", json(c.rfc_sections).dump(-1, ' ', false, json::error_handler_t::replace)},
          {"sections", c.rfc_sections.empty() ? std::string() : joined(c.rfc_sections)},
          {"known", c.baseline == "known"},
          {"duration", duration_text(c.duration_ms)},
          {"open", c.verdict == Verdict::fail || c.verdict == Verdict::error},
          {"what", what},
          {"description", c.description},
          {"judgement", c.judgement},
          {"topology", c.topology},
          {"nat_profile", shown(c.nat_profile)},
          {"any_requirements", !reqs.empty()},
          {"requirements", reqs},
          {"any_assertions", !assertions.empty()},
          {"assertions", assertions},
          {"any_attempts", attempts.size() > 1 || c.verdict == Verdict::flaky},
          {"attempts", attempts},
          {"any_messages", !messages.empty()},
          {"messages", messages},
          {"evidence", evidence_view},
          {"reproducer", c.reproducer}};
}

// The filter choices: every verdict and level, the roles and RFC sections the
// cases have.
json filters_view(const std::vector<Case>& cases) {
  std::set<std::string> roles_seen;
  std::set<std::string, decltype(&natural_less)> sections(&natural_less);
  std::map<std::string, std::int64_t> verdict_n, level_n;
  for (const Case& c : cases) {
    roles_seen.insert(c.role);
    ++verdict_n[std::string(to_string(c.verdict))];
    ++level_n[std::string(to_string(c.level))];
    for (const std::string& s : c.rfc_sections) sections.insert(s);
  }
  std::vector<std::string> roles;
  for (const std::string_view r : kRoles) {
    if (roles_seen.contains(std::string(r))) roles.emplace_back(r);
  }
  for (const std::string& r : roles_seen) {
    if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
  }
  json view = {{"verdicts", json::array()}, {"levels", json::array()}, {"roles", roles}, {"sections", sections}};
  for (const std::string_view v : kVerdictNames) {
    view["verdicts"].push_back({{"value", v}, {"badge", badge(v)}, {"n", verdict_n[std::string(v)]}});
  }
  for (const std::string_view l : kLevelNames) {
    view["levels"].push_back({{"value", l}, {"label", l}, {"n", level_n[std::string(l)]}});
  }
  return view;
}

json page_view(const Report& report) {
  const Iut& iut = report.iut;
  const Run& run = report.run;
  const Harness& harness = run.harness;
  std::string harness_text = harness.name + " " + harness.version;
  if (harness.git_commit) harness_text += " (" + *harness.git_commit + ")";
  json case_views = json::array();
  for (const Case& c : report.cases) case_views.push_back(case_view(c, report.requirements));
  return {{"base_css", detail::kBaseCss},
          {"report_css", assets::kReportCss},
          {"report_js", assets::kReportJs},
          {"iut",
           {{"name", iut.name},
            {"version", iut.version.value_or("")},
            {"version_shown", shown(iut.version)},
            {"adapter", iut.adapter},
            {"adapter_sha256", shown(iut.adapter_sha256)},
            {"roles", joined(iut.roles)},
            {"capabilities", joined(iut.capabilities)}}},
          {"run",
           {{"roles", joined(run.selection.roles)},
            {"run_id", run.run_id},
            {"started_at", run.started_at},
            {"finished_at", run.finished_at},
            {"duration", duration_text(run.duration_ms)},
            {"harness", harness_text},
            {"host", pairs_view(json(run.host))},
            {"command_line", run.command_line},
            {"master_seed", std::to_string(run.master_seed)},
            {"selection", pairs_view(json(run.selection))},
            {"options", pairs_view(json(run.options))}}},
          {"incomplete", !report.complete},
          {"gate", gate_view(report.gate)},
          {"summary", summary_view(report)},
          {"fuzz", fuzz_view(report.fuzz)},
          {"filters", filters_view(report.cases)},
          {"case_count", report.cases.size()},
          {"cases", case_views},
          {"schema", report.schema},
          {"schema_version", report.schema_version}};
}

}  // namespace

std::string render_html(const Report& report) { return detail::render_template(assets::kReportHtml, page_view(report)); }

std::string render_html(const nlohmann::json& report) { return render_html(report_from_json(report)); }

}  // namespace teredo::reports
