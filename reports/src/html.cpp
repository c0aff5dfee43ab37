#include "teredo/reports/html.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "teredo/reports/gate.hpp"
#include "style.hpp"
#include "text.hpp"

namespace teredo::reports {

namespace {

using nlohmann::json;
using detail::array;
using detail::field;
using detail::integer;
using detail::requirement_label;
using detail::text;

std::string h(std::string_view s) { return detail::html_escape(s); }
std::string code(std::string_view s) { return "<code>" + h(s) + "</code>"; }
std::string num(std::int64_t n) { return std::to_string(n); }

std::string badge(std::string_view verdict) {
  const std::string v = detail::is_verdict(verdict) ? std::string(verdict) : std::string("missing");
  return "<span class=\"v v-" + v + "\">" + h(verdict.empty() ? std::string_view("?") : verdict) + "</span>";
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

std::string dl_row(std::string_view term, const std::string& value_html) {
  return "<dt>" + h(term) + "</dt><dd>" + value_html + "</dd>\n";
}

std::string dl_object(const json& object) {
  std::string out;
  if (!object.is_object()) return h(plain_value(object));
  for (const auto& [k, v] : object.items()) out += (out.empty() ? "" : " · ") + h(k) + " " + code(plain_value(v));
  return out.empty() ? std::string("—") : out;
}

std::string render_head(const json& report) {
  const json& iut = field(report, "iut");
  std::string title = "Teredo conformance: " + text(iut, "name");
  if (!text(iut, "version").empty()) title += " " + text(iut, "version");
  std::string x = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  x += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing is fetched: no scripts, styles, fonts or images from anywhere.
  x += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n";
  x += "<meta name=\"generator\" content=\"teredo-conform (teredo_reports)\">\n";
  x += "<title>" + h(title) + "</title>\n<style>" + std::string(detail::kBaseCss) + R"css(
header .sub{color:var(--muted);margin:0}
.cards{display:flex;flex-wrap:wrap;gap:.5rem;margin:.4rem 0 .8rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.35rem .8rem;min-width:6.5rem;background:var(--bg)}
.card .n{display:block;font-size:1.5rem;font-weight:700;font-variant-numeric:tabular-nums}
.card .l{font-size:12px;color:var(--muted)}
.card.v{border-radius:6px;text-align:left;font-weight:400}
.card.v .l{color:inherit;font-weight:600}
.zero{color:var(--muted)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.3rem 0}
dl.meta dt{font-weight:600;color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:0 2rem}
#filters{display:flex;flex-wrap:wrap;gap:.6rem 1.2rem;align-items:flex-end;background:var(--soft);border:1px solid var(--line);
border-radius:6px;padding:.6rem .8rem;margin:.5rem 0 .8rem}
#filters fieldset{border:none;margin:0;padding:0}#filters legend{font-weight:600;font-size:12px;color:var(--muted);padding:0}
#filters label{margin-right:.6rem;white-space:nowrap}#filters select,#filters input[type=search]{font:inherit}
#shown-count{font-weight:600}
#cases tbody.case>tr.row>td{border-bottom:none}
#cases tbody.case{border-left:4px solid var(--line)}
#cases tbody.verdict-pass{border-left-color:var(--pass)}#cases tbody.verdict-fail{border-left-color:var(--fail)}
#cases tbody.verdict-warn{border-left-color:var(--warn)}#cases tbody.verdict-error{border-left-color:var(--err)}
#cases tbody.verdict-flaky{border-left-color:var(--flaky)}#cases tbody.verdict-inconclusive{border-left-color:var(--inc)}
#cases tbody.verdict-not-applicable{border-left-color:var(--na)}
#cases .title{color:var(--muted)}
#cases tr.details>td{padding-top:0}
details>summary{cursor:pointer;color:var(--muted);font-size:12.5px}
details[open]>summary{margin-bottom:.3rem}
.detail{padding:.2rem 0 .6rem .2rem}
.detail table{margin:.2rem 0}
.detail table th,.detail table td{font-size:13px}
.known{font-weight:600;color:var(--warn)}
.rfc-quote{margin:.2rem 0 .4rem;padding:.1rem .6rem;border-left:3px solid var(--line);color:var(--muted);font-style:italic}
)css";
  x += "</style>\n</head>\n";
  return x;
}

std::string render_gate(const json& report) {
  const json& gate = field(report, "gate");
  const std::string result = text(gate, "result");
  const std::string policy = text(gate, "policy");
  const std::string exit_code = text(gate, "exit_code");
  const std::string cls =
      result == "pass" || result == "fail" || result == "error" || result == "inconclusive" ? result : std::string("error");
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
  std::string x = "<section id=\"gate\" class=\"banner gate-" + cls + "\" data-result=\"" + h(result) + "\" data-exit-code=\"" +
                  h(exit_code) + "\" data-policy=\"" + h(policy) + "\">\n";
  std::string upper = result;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
  x += "<strong>Gate: " + h(upper.empty() ? std::string("?") : upper) + "</strong> — exit code <strong>" + h(exit_code) +
       "</strong> under the " + h(policy.empty() ? std::string("default") : policy) + " policy (" + h(why) + ").";
  const json& blocking = array(gate, "blocking");
  if (!blocking.empty()) {
    x += "<br>Blocking: ";
    bool first = true;
    for (const json& b : blocking) {
      x += (first ? "" : ", ") + std::string("<a href=\"#") + detail::url_path_encode(detail::case_anchor(text(b))) + "\">" +
           code(text(b)) + "</a>";
      first = false;
    }
    x += ".";
  }
  if (!field(gate, "baseline_file").is_null()) x += "<br>Baseline (known failures): " + code(text(gate, "baseline_file")) + ".";
  x += "\n</section>\n";
  return x;
}

std::string render_summary(const json& report) {
  const Tally t = tally(report);
  std::string x = "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n";
  x += "<div class=\"card\" id=\"count-total\" data-count=\"" + num(t.total) + "\"><span class=\"n\">" + num(t.total) +
       "</span><span class=\"l\">cases</span></div>\n";
  for (const std::string_view v : detail::kVerdicts) {
    const std::string verdict(v);
    const auto it = t.by_verdict.find(verdict);
    const std::int64_t n = it == t.by_verdict.end() ? 0 : it->second;
    x += "<div class=\"card v v-" + verdict + (n == 0 ? " zero" : "") + "\" id=\"count-" + verdict + "\" data-verdict=\"" + verdict +
         "\" data-count=\"" + num(n) + "\"><span class=\"n\">" + num(n) + "</span><span class=\"l\">" + verdict + "</span></div>\n";
  }
  x += "</div>\n<table class=\"by-level\">\n<thead><tr><th>Level</th>";
  for (const std::string_view v : detail::kVerdicts) x += "<th class=\"num\">" + std::string(v) + "</th>";
  x += "<th class=\"num\">total</th></tr></thead>\n<tbody>\n";
  std::set<std::string> levels(std::begin(detail::kLevels), std::end(detail::kLevels));
  std::vector<std::string> order(std::begin(detail::kLevels), std::end(detail::kLevels));
  for (const auto& [level, counts] : t.by_level) {
    if (!levels.contains(level)) order.push_back(level);
  }
  for (const std::string& level : order) {
    const auto lv = t.by_level.find(level);
    std::int64_t sum = 0;
    std::string cells;
    for (const std::string_view v : detail::kVerdicts) {
      const std::string verdict(v);
      std::int64_t n = 0;
      if (lv != t.by_level.end()) {
        const auto it = lv->second.find(verdict);
        if (it != lv->second.end()) n = it->second;
      }
      sum += n;
      cells += "<td class=\"num" + std::string(n == 0 ? " zero" : "") + "\" id=\"count-" + h(level) + "-" + verdict +
               "\" data-level=\"" + h(level) + "\" data-verdict=\"" + verdict + "\" data-count=\"" + num(n) + "\">" + num(n) + "</td>";
    }
    x += "<tr><th>" + h(level) + "</th>" + cells + "<td class=\"num\" id=\"count-" + h(level) + "-total\" data-count=\"" + num(sum) +
         "\">" + num(sum) + "</td></tr>\n";
  }
  x += "</tbody>\n</table>\n";

  const json& cov = field(field(report, "summary"), "coverage");
  const std::int64_t testable = integer(cov, "testable"), covered = integer(cov, "covered");
  const json& pv = field(cov, "percent");
  const double percent = pv.is_number() ? pv.get<double>() : 0.0;
  x += "<p id=\"coverage\" data-covered=\"" + num(covered) + "\" data-testable=\"" + num(testable) + "\" data-percent=\"" +
       detail::one_decimal(percent) + "\">Requirement coverage: <strong>" + detail::one_decimal(percent) + "%</strong> (" +
       num(covered) + " of " + num(testable) + " testable requirements cited by a case that ran).</p>\n";
  const json& uncovered = array(cov, "uncovered");
  if (!uncovered.empty()) {
    const json& reqs = field(report, "requirements");
    x += "<details id=\"uncovered\"><summary>Uncovered requirements (" + num(static_cast<std::int64_t>(uncovered.size())) +
         ")</summary>\n<ul>\n";
    for (const json& u : uncovered) {
      const json& r = field(reqs, text(u));
      x += "<li>" + code(text(u));
      if (r.is_object()) x += " " + h(text(r, "level")) + " — " + h(text(r, "summary"));
      x += "</li>\n";
    }
    x += "</ul>\n</details>\n";
  }
  x += "</section>\n";
  return x;
}

std::string render_metadata(const json& report) {
  const json& run = field(report, "run");
  const json& iut = field(report, "iut");
  const json& harness = field(run, "harness");
  std::string x = "<section id=\"run\">\n<h2>Run and implementation</h2>\n<div class=\"cols\">\n<div>\n<h3>Implementation under test</h3>\n<dl class=\"meta\">\n";
  x += dl_row("Name", h(text(iut, "name")));
  x += dl_row("Version", h(plain_value(field(iut, "version"))));
  x += dl_row("Adapter", code(text(iut, "adapter")));
  x += dl_row("Adapter SHA-256", code(plain_value(field(iut, "adapter_sha256"))));
  x += dl_row("Roles", h(plain_value(field(iut, "roles"))));
  x += dl_row("Capabilities", h(plain_value(field(iut, "capabilities"))));
  x += "</dl>\n</div>\n<div>\n<h3>Run</h3>\n<dl class=\"meta\">\n";
  x += dl_row("Run ID", code(text(run, "run_id")));
  x += dl_row("Started", h(text(run, "started_at")));
  x += dl_row("Finished", h(text(run, "finished_at")));
  x += dl_row("Duration", h(duration_text(integer(run, "duration_ms"))));
  x += dl_row("Complete", field(report, "complete") == json(false) ? std::string("<strong>no</strong> (interrupted or aborted)") : std::string("yes"));
  std::string harness_text = text(harness, "name") + " " + text(harness, "version");
  if (!field(harness, "git_commit").is_null()) harness_text += " (" + text(harness, "git_commit") + ")";
  x += dl_row("Harness", h(harness_text));
  x += dl_row("Host", dl_object(field(run, "host")));
  x += dl_row("Command", code(text(run, "command_line")));
  x += dl_row("Master seed", code(text(run, "master_seed")));
  x += dl_row("Selection", dl_object(field(run, "selection")));
  x += dl_row("Options", dl_object(field(run, "options")));
  x += dl_row("Report format", h(text(report, "schema") + " " + text(report, "schema_version")));
  x += "</dl>\n</div>\n</div>\n</section>\n";
  return x;
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

std::string render_case_details(const json& c, const json& requirements) {
  const json& evidence = field(c, "evidence");
  std::string x = "<div class=\"detail\">\n";
  if (!text(c, "description").empty()) x += "<p><strong>What it does.</strong> " + h(text(c, "description")) + "</p>\n";
  if (!text(c, "judgement").empty()) x += "<p><strong>Passes when.</strong> " + h(text(c, "judgement")) + "</p>\n";
  x += "<p class=\"muted\">Topology " + code(text(c, "topology")) + " · NAT profile " + code(plain_value(field(c, "nat_profile"))) +
       " · duration " + h(duration_text(integer(c, "duration_ms"))) + "</p>\n";
  if (text(c, "baseline") == "known") {
    x += "<p class=\"known\">Known failure: the baseline lists this case, so it does not block the gate.</p>\n";
  }

  const json& reqs = array(c, "requirements");
  if (!reqs.empty()) {
    x += "<h4>Requirements</h4>\n<ul>\n";
    for (const json& r : reqs) {
      const json& req = field(requirements, text(r));
      x += "<li>" + code(text(r));
      if (req.is_object()) {
        x += " <strong>" + h(text(req, "level")) + "</strong> " + h(text(req, "doc")) + " §" + h(text(req, "section")) + " (" +
             h(text(req, "role")) + "): " + h(text(req, "summary"));
        // The RFC's own sentence, beside our paraphrase: the verdict is judged against it.
        if (!text(req, "quote").empty()) x += "\n<blockquote class=\"rfc-quote\">" + h(text(req, "quote")) + "</blockquote>";
      }
      x += "</li>\n";
    }
    x += "</ul>\n";
  }

  const json& assertions = array(c, "assertions");
  if (!assertions.empty()) {
    x += "<h4>Assertions</h4>\n<table class=\"assertions\">\n<thead><tr><th>Outcome</th><th>Requirement</th><th>Expected</th>"
         "<th>Observed</th><th>Message</th><th>Frames</th></tr></thead>\n<tbody>\n";
    for (const json& a : assertions) {
      x += "<tr class=\"o-" + h(text(a, "outcome")) + "\"><td>" + badge(text(a, "outcome")) + "</td><td>" + code(requirement_label(a)) +
           "<br><span class=\"muted\">" + h(text(a, "level")) + "</span></td>";
      for (const char* key : {"expected", "observed"}) {
        x += field(a, key).is_null() ? std::string("<td class=\"muted\">—</td>") : "<td><pre>" + h(text(a, key)) + "</pre></td>";
      }
      x += "<td>" + h(text(a, "message"));
      if (!field(a, "code").is_null()) x += " " + code(text(a, "code"));
      x += "</td><td>";
      bool first = true;
      for (const json& f : array(a, "frames")) {
        const std::string capture = text(f, "capture");
        const std::string href = capture_href(evidence, capture);
        const std::string label = h(capture) + " #" + h(text(f, "frame"));
        x += (first ? "" : "<br>") + (href.empty() ? label : "<a href=\"" + h(href) + "\">" + label + "</a>");
        first = false;
      }
      x += "</td></tr>\n";
    }
    x += "</tbody>\n</table>\n";
  }

  const json& attempts = array(c, "attempts");
  if (attempts.size() > 1 || text(c, "verdict") == "flaky") {
    x += "<h4>Attempts</h4>\n<table class=\"attempts\">\n<thead><tr><th class=\"num\">#</th><th>Verdict</th><th class=\"num\">Duration</th>"
         "<th class=\"num\">Seed</th></tr></thead>\n<tbody>\n";
    for (const json& a : attempts) {
      x += "<tr><td class=\"num\">" + h(text(a, "n")) + "</td><td>" + badge(text(a, "verdict")) + "</td><td class=\"num\">" +
           h(duration_text(integer(a, "duration_ms"))) + "</td><td class=\"num\">" + h(text(a, "seed")) + "</td></tr>\n";
    }
    x += "</tbody>\n</table>\n";
  }

  const json& messages = array(c, "messages");
  if (!messages.empty()) {
    x += "<h4>Messages</h4>\n<table class=\"messages\">\n<thead><tr><th class=\"num\">t</th><th>Level</th><th>Text</th></tr></thead>\n<tbody>\n";
    for (const json& m : messages) {
      x += "<tr class=\"m-" + h(text(m, "level")) + "\"><td class=\"num\">+" + h(text(m, "t_ms")) + " ms</td><td>" + h(text(m, "level")) +
           "</td><td>" + h(text(m, "text"));
      if (!field(m, "code").is_null()) x += " " + code(text(m, "code"));
      x += "</td></tr>\n";
    }
    x += "</tbody>\n</table>\n";
  }

  const json& pcaps = array(evidence, "pcaps");
  const json& logs = array(evidence, "logs");
  if (!pcaps.empty() || !logs.empty() || !field(evidence, "dir").is_null()) {
    x += "<h4>Evidence</h4>\n<ul class=\"evidence\">\n";
    if (!field(evidence, "dir").is_null()) {
      const std::string dir = text(evidence, "dir");
      x += "<li>directory <a href=\"" + h(detail::url_path_encode(dir.ends_with('/') ? dir : dir + "/")) + "\">" + code(dir) + "</a></li>\n";
    }
    for (const json& p : pcaps) {
      const std::string sha = text(p, "sha256");
      x += "<li>capture <a href=\"" + h(detail::url_path_encode(text(p, "path"))) + "\">" + code(text(p, "path")) + "</a> — " +
           h(text(p, "vantage")) + ", " + h(text(p, "packets")) + " packets";
      if (!sha.empty()) x += ", sha256 <code title=\"" + h(sha) + "\">" + h(sha.substr(0, 12)) + "…</code>";
      x += "</li>\n";
    }
    for (const json& l : logs) {
      x += "<li>log <a href=\"" + h(detail::url_path_encode(text(l, "path"))) + "\">" + code(text(l, "path")) + "</a> — " +
           h(text(l, "what")) + "</li>\n";
    }
    x += "</ul>\n";
  }
  if (!text(c, "reproducer").empty()) {
    x += "<h4>Reproduce</h4>\n<pre class=\"reproducer\"><code>" + h(text(c, "reproducer")) + "</code></pre>\n";
  }
  x += "</div>\n";
  return x;
}

std::string render_cases(const json& report) {
  const json& cases = array(report, "cases");
  const json& requirements = field(report, "requirements");
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
  std::vector<std::string> verdicts(std::begin(detail::kVerdicts), std::end(detail::kVerdicts));
  for (const std::string& v : verdicts_seen) {
    if (!detail::is_verdict(v)) verdicts.push_back(v);
  }
  std::vector<std::string> levels(std::begin(detail::kLevels), std::end(detail::kLevels));
  for (const std::string& l : levels_seen) {
    if (!detail::is_level(l)) levels.push_back(l);
  }
  std::vector<std::string> roles;
  for (const std::string_view r : detail::kRoles) {
    if (roles_seen.contains(std::string(r))) roles.emplace_back(r);
  }
  for (const std::string& r : roles_seen) {
    if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
  }

  std::string x = "<section id=\"cases\">\n<h2>Cases</h2>\n";
  // The filters appear only once the script has wired them (no dead controls
  // without JavaScript).
  x += "<form id=\"filters\" hidden>\n<fieldset><legend>Verdict</legend>\n";
  for (const std::string& v : verdicts) {
    x += "<label><input type=\"checkbox\" name=\"verdict\" value=\"" + h(v) + "\" checked> " + badge(v) + " <span class=\"muted\">" +
         num(verdict_n[v]) + "</span></label>\n";
  }
  x += "</fieldset>\n<fieldset><legend>Level</legend>\n";
  for (const std::string& l : levels) {
    x += "<label><input type=\"checkbox\" name=\"level\" value=\"" + h(l) + "\" checked> " + h(l.empty() ? std::string("(none)") : l) +
         " <span class=\"muted\">" + num(level_n[l]) + "</span></label>\n";
  }
  x += "</fieldset>\n<fieldset><legend>Role</legend><select name=\"role\"><option value=\"\">all roles</option>";
  for (const std::string& r : roles) x += "<option value=\"" + h(r) + "\">" + h(r) + "</option>";
  x += "</select></fieldset>\n<fieldset><legend>RFC section</legend><select name=\"section\"><option value=\"\">all sections</option>";
  for (const std::string& s : sections) x += "<option value=\"" + h(s) + "\">" + h(s) + "</option>";
  x += "</select></fieldset>\n<fieldset><legend>Search</legend><input type=\"search\" name=\"q\" placeholder=\"case, title, requirement\" "
       "aria-label=\"Search cases\"></fieldset>\n";
  x += "<fieldset><button type=\"button\" id=\"filter-problems\">Problems only</button> <button type=\"button\" "
       "id=\"filter-reset\">Show all</button></fieldset>\n";
  x += "<output id=\"shown-count\" data-shown=\"" + num(static_cast<std::int64_t>(cases.size())) + "\">" +
       num(static_cast<std::int64_t>(cases.size())) + " of " + num(static_cast<std::int64_t>(cases.size())) + " cases shown</output>\n";
  x += "</form>\n";
  x += "<noscript><p class=\"muted noprint\">JavaScript is off: the filters are unavailable and every case is shown.</p></noscript>\n";

  x += "<table id=\"case-table\">\n<thead><tr><th>Verdict</th><th>Case</th><th>Level</th><th>Role</th><th>Requirements</th>"
       "<th class=\"num\">Time</th></tr></thead>\n";
  for (const json& c : cases) {
    const std::string id = text(c, "case_id");
    const std::string verdict = text(c, "verdict");
    json sections_json = json::array();
    for (const json& s : array(c, "rfc_sections")) sections_json.push_back(text(s));
    const std::string cls = detail::is_verdict(verdict) ? verdict : std::string("missing");
    x += "<tbody class=\"case verdict-" + cls + "\" id=\"" + h(detail::case_anchor(id)) + "\" data-case-id=\"" + h(id) + "\" data-verdict=\"" +
         h(verdict) + "\" data-level=\"" + h(text(c, "level")) + "\" data-role=\"" + h(text(c, "role")) + "\" data-sections=\"" +
         h(sections_json.dump(-1, ' ', false, json::error_handler_t::replace)) + "\">\n";
    x += "<tr class=\"row\"><td>" + badge(verdict);
    if (text(c, "baseline") == "known") x += "<br><span class=\"known\">known</span>";
    x += "</td><td><a href=\"#" + h(detail::url_path_encode(detail::case_anchor(id))) + "\">" + code(id) + "</a><div class=\"title\">" +
         h(text(c, "title")) + "</div></td><td>" + h(text(c, "level")) + "</td><td>" + h(text(c, "role")) + "</td><td>";
    bool first = true;
    for (const json& r : array(c, "requirements")) {
      x += (first ? "" : "<br>") + code(text(r));
      first = false;
    }
    const std::string secs = plain_value(sections_json);
    x += "<div class=\"muted\">" + h(sections_json.empty() ? std::string() : secs) + "</div></td><td class=\"num\">" +
         h(duration_text(integer(c, "duration_ms"))) + "</td></tr>\n";
    const bool open = verdict == "fail" || verdict == "error";
    std::string what = num(static_cast<std::int64_t>(array(c, "assertions").size())) + " assertion(s), " +
                       num(static_cast<std::int64_t>(array(c, "messages").size())) + " message(s)";
    const std::size_t files = array(field(c, "evidence"), "pcaps").size() + array(field(c, "evidence"), "logs").size();
    if (files > 0) what += ", " + num(static_cast<std::int64_t>(files)) + " evidence file(s)";
    x += "<tr class=\"details\"><td></td><td colspan=\"5\"><details" + std::string(open ? " open" : "") + "><summary>Details: " + h(what) +
         "</summary>\n" + render_case_details(c, requirements) + "</details></td></tr>\n";
    x += "</tbody>\n";
  }
  if (cases.empty()) x += "<tbody><tr><td colspan=\"6\" class=\"muted\">No case ran.</td></tr></tbody>\n";
  x += "</table>\n</section>\n";
  return x;
}

// The filters. Plain ES5, no dependencies. Any exception leaves every case
// visible and records itself on <body data-js-error>.
constexpr std::string_view kScript = R"js(
(function () {
  'use strict';
  var body = document.body;
  var form = document.getElementById('filters');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#case-table tbody.case'));
  try {
    var shown = document.getElementById('shown-count');
    var info = rows.map(function (r) {
      var head = r.querySelector('tr.row');
      return {
        verdict: r.getAttribute('data-verdict') || '',
        level: r.getAttribute('data-level') || '',
        role: r.getAttribute('data-role') || '',
        sections: JSON.parse(r.getAttribute('data-sections') || '[]'),
        text: (head ? head.textContent : r.textContent).toLowerCase()
      };
    });
    var boxes = function (name) {
      return Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name="' + name + '"]'));
    };
    var picked = function (name) {
      var set = {};
      boxes(name).forEach(function (b) { if (b.checked) set[b.value] = true; });
      return set;
    };
    var apply = function () {
      var verdicts = picked('verdict'), levels = picked('level');
      var role = form.elements.role.value, section = form.elements.section.value;
      var q = form.elements.q.value.replace(/^\s+|\s+$/g, '').toLowerCase();
      var n = 0;
      rows.forEach(function (r, i) {
        var c = info[i];
        var ok = verdicts[c.verdict] === true && levels[c.level] === true &&
          (role === '' || c.role === role) &&
          (section === '' || c.sections.indexOf(section) >= 0) &&
          (q === '' || c.text.indexOf(q) >= 0);
        r.hidden = !ok;
        if (ok) n += 1;
      });
      shown.textContent = n + ' of ' + rows.length + ' cases shown';
      shown.setAttribute('data-shown', String(n));
    };
    var encode = function () {
      var parts = [];
      ['verdict', 'level'].forEach(function (name) {
        var all = boxes(name), on = all.filter(function (b) { return b.checked; });
        if (on.length !== all.length) {
          parts.push(name + '=' + on.map(function (b) { return encodeURIComponent(b.value); }).join(','));
        }
      });
      ['role', 'section', 'q'].forEach(function (name) {
        var v = form.elements[name].value;
        if (v !== '') parts.push(name + '=' + encodeURIComponent(v));
      });
      return parts.join('&');
    };
    var remember = function () {
      try {
        var state = encode();
        history.replaceState(null, '', state === '' ? location.pathname + location.search : '#' + state);
      } catch (ignored) { /* a browser that refuses replaceState keeps working without it */ }
    };
    var restore = function () {
      var hash = location.hash.replace(/^#/, '');
      if (hash.indexOf('=') < 0) return;
      hash.split('&').forEach(function (kv) {
        var at = kv.indexOf('=');
        if (at < 0) return;
        var key, value;
        try {
          key = decodeURIComponent(kv.slice(0, at));
          value = decodeURIComponent(kv.slice(at + 1));
        } catch (malformed) { return; }
        if (key === 'verdict' || key === 'level') {
          var want = {};
          value.split(',').forEach(function (v) { want[v] = true; });
          boxes(key).forEach(function (b) { b.checked = want[b.value] === true; });
        } else if (key === 'role' || key === 'section') {
          var select = form.elements[key];
          select.value = value;
          if (select.value !== value) select.value = '';
        } else if (key === 'q') {
          form.elements.q.value = value;
        }
      });
    };
    var preset = function (verdicts) {
      boxes('verdict').forEach(function (b) { b.checked = verdicts === null || verdicts.indexOf(b.value) >= 0; });
      if (verdicts === null) {
        boxes('level').forEach(function (b) { b.checked = true; });
        form.elements.role.value = '';
        form.elements.section.value = '';
        form.elements.q.value = '';
      }
      apply();
      remember();
    };
    restore();
    form.addEventListener('change', function () { apply(); remember(); });
    form.addEventListener('input', function () { apply(); remember(); });
    form.addEventListener('submit', function (e) { e.preventDefault(); });
    document.getElementById('filter-problems').addEventListener('click', function () {
      preset(['fail', 'warn', 'error', 'flaky', 'inconclusive']);
    });
    document.getElementById('filter-reset').addEventListener('click', function () { preset(null); });
    var reopen = [];
    window.addEventListener('beforeprint', function () {
      reopen = Array.prototype.slice.call(document.querySelectorAll('details:not([open])'));
      reopen.forEach(function (d) { d.open = true; });
    });
    window.addEventListener('afterprint', function () {
      reopen.forEach(function (d) { d.open = false; });
      reopen = [];
    });
    apply();
    form.hidden = false;
    body.setAttribute('data-js-ok', '1');
  } catch (e) {
    rows.forEach(function (r) { r.hidden = false; });
    if (form) form.hidden = true;
    body.setAttribute('data-js-ok', '0');
    body.setAttribute('data-js-error', String(e && e.message ? e.message : e));
  }
})();
)js";

}  // namespace

std::string render_html(const nlohmann::json& report) {
  const json& iut = field(report, "iut");
  const json& run = field(report, "run");
  std::string x = render_head(report);
  x += "<body>\n<header>\n<h1>Teredo conformance report</h1>\n<p class=\"sub\">" + h(text(iut, "name"));
  if (!text(iut, "version").empty()) x += " " + h(text(iut, "version"));
  x += " · roles " + h(plain_value(field(field(run, "selection"), "roles"))) + " · run " + code(text(run, "run_id")) + " · " +
       h(text(run, "started_at")) + "</p>\n</header>\n<main>\n";
  if (field(report, "complete") == json(false)) {
    x += "<p id=\"incomplete\" class=\"banner incomplete\"><strong>Incomplete run</strong> (interrupted or aborted): the cases below "
         "are those that finished.</p>\n";
  }
  x += render_gate(report);
  x += render_summary(report);
  x += render_cases(report);
  x += render_metadata(report);
  x += "</main>\n<footer class=\"muted\"><p>Rendered from <a href=\"report.json\">report.json</a> (" + h(text(report, "schema")) + " " +
       h(text(report, "schema_version")) + "); JUnit view: <a href=\"junit.xml\">junit.xml</a>. Evidence links are relative to this "
       "page.</p></footer>\n";
  x += "<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return x;
}

}  // namespace teredo::reports
