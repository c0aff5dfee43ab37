#include "teredo/reports/junit.hpp"

#include <map>
#include <set>

#include "teredo/reports/gate.hpp"
#include "text.hpp"

namespace teredo::reports {

namespace {


std::string attr(std::string_view s) { return detail::xml_escape(s, true); }
std::string body(std::string_view s) { return detail::xml_escape(s, false); }
using detail::requirement_label;

// A classname token: dots would split Jenkins' package/class view, so every
// character outside [A-Za-z0-9_-] becomes '_' ("RFC4380 5.3.2" -> "RFC4380_5_3_2").
std::string token(std::string_view s, std::string_view fallback) {
  std::string out;
  for (const char c : s) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    out += keep ? c : '_';
  }
  return out.empty() ? std::string(fallback) : out;
}

std::string classname(const Case& c) {
  const std::string section = c.rfc_sections.empty() ? std::string() : c.rfc_sections.front();
  return "teredo." + token(c.role, "unknown") + "." + token(section, "unspecified");
}

std::string level_name(Level level) { return std::string(to_string(level)); }
std::string verdict_name(Verdict verdict) { return std::string(to_string(verdict)); }

std::string frames_text(const Assertion& assertion) {
  std::string out;
  for (const Frame& f : assertion.frames) {
    if (!out.empty()) out += ", ";
    out += f.capture + " #" + std::to_string(f.frame);
  }
  return out;
}

using Requirements = std::map<std::string, Requirement>;

// The RFC sentence a requirement rests on (report.requirements[id].quote),
// empty when the report does not hold it.
std::string quote_of(const Requirements& requirements, const std::optional<std::string>& id) {
  if (!id) return {};
  const auto it = requirements.find(*id);
  return it == requirements.end() ? std::string() : it->second.quote;
}

// One assertion, as lines of text, with the sentence it is judged against.
std::string assertion_text(const Assertion& a, const Requirements& requirements) {
  std::string out = "[" + verdict_name(a.outcome) + "] " + requirement_label(a) + " " + level_name(a.level);
  const std::string message = a.message.value_or("");
  if (!message.empty()) out += ": " + message;
  out += "\n";
  const std::string quote = quote_of(requirements, a.requirement);
  if (!quote.empty()) out += "    RFC: \"" + quote + "\"\n";
  if (a.expected) out += "    expected: " + *a.expected + "\n";
  if (a.observed) out += "    observed: " + *a.observed + "\n";
  if (a.code) out += "    code: " + *a.code + "\n";
  const std::string frames = frames_text(a);
  if (!frames.empty()) out += "    frames: " + frames + "\n";
  return out;
}

// The one-line reason of a non-passing case: its first assertion with the
// given outcome, else its first error/warn message, else the verdict.
std::string reason(const Case& c, Verdict outcome) {
  for (const Assertion& a : c.assertions) {
    if (a.outcome != outcome) continue;
    std::string out = requirement_label(a) + " " + level_name(a.level) + ": ";
    const std::string message = a.message.value_or("");
    if (!message.empty()) return out + message;
    return out + "expected " + a.expected.value_or("") + ", observed " + a.observed.value_or("");
  }
  for (const std::string_view level : {"error", "warn", "info"}) {
    for (const Message& m : c.messages) {
      if (m.level == level) return m.text;
    }
  }
  return "verdict " + verdict_name(c.verdict);
}

// The strongest level among the case's assertions with this outcome.
std::string failing_level(const Case& c, Verdict outcome, std::string_view fallback) {
  for (const Level level : kLevels) {
    for (const Assertion& a : c.assertions) {
      if (a.outcome == outcome && a.level == level) return level_name(level);
    }
  }
  return std::string(fallback);
}

// The assertions that did not pass, as text.
std::string non_pass_assertions(const Case& c, const Requirements& requirements) {
  std::string out;
  for (const Assertion& a : c.assertions) {
    if (a.outcome != Verdict::pass) out += assertion_text(a, requirements);
  }
  return out;
}

std::string reproduce_line(const Case& c) { return c.reproducer.empty() ? std::string() : "reproduce: " + c.reproducer + "\n"; }

std::string system_out(const Case& c, const Requirements& requirements, std::string_view preface) {
  std::string out(preface);
  out += c.title + "\n";
  out += "verdict: " + verdict_name(c.verdict) + " | level " + level_name(c.level) + " | role " + c.role + " | topology " + c.topology;
  const std::string nat = c.nat_profile.value_or("");
  out += " | NAT " + (nat.empty() ? std::string("none") : nat) + "\n";
  if (!c.requirements.empty()) {
    out += "requirements:\n";
    for (const std::string& r : c.requirements) {
      const std::string quote = quote_of(requirements, r);
      out += "  " + r + (quote.empty() ? std::string() : ": \"" + quote + "\"") + "\n";
    }
  }
  std::string sections;
  for (const std::string& s : c.rfc_sections) sections += (sections.empty() ? "" : ", ") + s;
  if (!sections.empty()) out += "sections: " + sections + "\n";
  if (!c.assertions.empty()) {
    out += "assertions:\n";
    for (const Assertion& a : c.assertions) out += "  " + assertion_text(a, requirements);
  }
  if (!c.messages.empty()) {
    out += "messages:\n";
    for (const Message& m : c.messages) {
      out += "  +" + std::to_string(m.t_ms) + " ms " + m.level + ": " + m.text;
      if (m.code) out += " [" + *m.code + "]";
      out += "\n";
    }
  }
  if (!c.attempts.empty()) {
    out += "attempts:\n";
    for (const Attempt& a : c.attempts) {
      out += "  " + std::to_string(a.n) + ": " + verdict_name(a.verdict) + ", " + std::to_string(a.duration_ms) + " ms, seed " +
             std::to_string(a.seed) + "\n";
    }
  }
  const Evidence& evidence = c.evidence;
  if (evidence.dir || !evidence.pcaps.empty() || !evidence.logs.empty()) {
    out += "evidence (relative to report.json):\n";
    if (evidence.dir) out += "  dir " + *evidence.dir + "\n";
    for (const Pcap& p : evidence.pcaps) {
      out += "  pcap " + p.path + " (" + p.vantage + ", " + std::to_string(p.packets) + " packets)\n";
    }
    for (const Log& l : evidence.logs) out += "  log " + l.path + " (" + l.what + ")\n";
  }
  out += reproduce_line(c);
  return out;
}

struct Counts {
  std::int64_t tests = 0, failures = 0, errors = 0, skipped = 0, ms = 0;
  void add(const Counts& o) {
    tests += o.tests;
    failures += o.failures;
    errors += o.errors;
    skipped += o.skipped;
    ms += o.ms;
  }
};

std::string count_attrs(const Counts& n, std::int64_t ms) {
  return " tests=\"" + std::to_string(n.tests) + "\" failures=\"" + std::to_string(n.failures) + "\" errors=\"" +
         std::to_string(n.errors) + "\" skipped=\"" + std::to_string(n.skipped) + "\" time=\"" + detail::seconds(ms) + "\"";
}

constexpr std::string_view kIndent = "    ";

// A testcase name: the case ID; never empty and unique in its suite (Jenkins
// and test-reporter need a name).
std::string testcase_name(const Case& c, std::set<std::string>& used) {
  std::string name = c.case_id;
  if (name.empty()) name = "unnamed-case";
  std::string unique = name;
  for (int k = 2; used.contains(unique); ++k) unique = name + " (" + std::to_string(k) + ")";
  used.insert(unique);
  return unique;
}

std::string render_case(const Case& c, const Requirements& requirements, bool strict, Counts& n, std::set<std::string>& names) {
  const Verdict verdict = c.verdict;
  const std::int64_t ms = c.duration_ms;
  ++n.tests;
  n.ms += ms;
  std::string x = "  <testcase name=\"" + attr(testcase_name(c, names)) + "\" classname=\"" + attr(classname(c)) + "\" time=\"" +
                  detail::seconds(ms) + "\">\n";
  std::string preface;
  const GateEffect effect = gate_effect(c, strict);
  const bool known = c.baseline == "known";
  if (effect == GateEffect::error) {
    ++n.errors;
    x += std::string(kIndent) + "<error message=\"" + attr(detail::truncate(reason(c, Verdict::fail), 1024)) +
         "\" type=\"harness-error\">" + body(non_pass_assertions(c, requirements) + reproduce_line(c)) + "</error>\n";
  } else if (effect == GateEffect::failure) {
    ++n.failures;
    const Verdict outcome = verdict == Verdict::warn ? Verdict::warn : Verdict::fail;
    const std::string type = failing_level(c, outcome, verdict == Verdict::warn ? "SHOULD" : "MUST");
    x += std::string(kIndent) + "<failure message=\"" + attr(detail::truncate(reason(c, outcome), 1024)) + "\" type=\"" + attr(type) +
         "\">" + body(non_pass_assertions(c, requirements) + reproduce_line(c)) + "</failure>\n";
    if (verdict == Verdict::warn) preface = "WARNING: a SHOULD is not met; the strict policy makes it a failure.\n";
  } else if (effect == GateEffect::inconclusive) {
    // Not a requirement failed: the case could not be judged, and a gate
    // cannot vouch for what it did not judge (exit 4 when nothing fails).
    ++n.failures;
    x += std::string(kIndent) + "<failure message=\"" +
         attr(detail::truncate("inconclusive: " + reason(c, Verdict::inconclusive), 1024)) + "\" type=\"inconclusive\">" +
         body(non_pass_assertions(c, requirements) + reproduce_line(c)) + "</failure>\n";
  } else if (known && (verdict == Verdict::fail || verdict == Verdict::inconclusive || (verdict == Verdict::warn && strict))) {
    // A failure the baseline lists: reported, not counted against the gate.
    ++n.skipped;
    const Verdict outcome = verdict == Verdict::warn ? Verdict::warn : verdict == Verdict::inconclusive ? Verdict::inconclusive : Verdict::fail;
    x += std::string(kIndent) + "<skipped message=\"" +
         attr(detail::truncate("known failure (baseline): " + reason(c, outcome), 1024)) + "\"/>\n";
    preface = "KNOWN FAILURE: the baseline lists this case; it does not block the gate.\n";
  } else if (verdict == Verdict::warn) {
    preface = "WARNING: a SHOULD is not met (" + reason(c, Verdict::warn) +
              "). Not a failure under the default policy; --strict makes it one" +
              (known ? std::string(" (the baseline lists it)") : std::string()) + ".\n";
  } else if (verdict == Verdict::not_applicable) {
    ++n.skipped;
    x += std::string(kIndent) + "<skipped message=\"" + attr(detail::truncate("not applicable: " + reason(c, Verdict::fail), 1024)) +
         "\"/>\n";
  } else if (verdict == Verdict::flaky) {
    std::string history;
    for (const Attempt& a : c.attempts) {
      const std::string av = verdict_name(a.verdict);
      history += (history.empty() ? "" : ", ") + ("attempt " + std::to_string(a.n) + " " + av);
      if (a.verdict == Verdict::pass) continue;
      const bool error = a.verdict == Verdict::error;
      const std::string type = a.verdict == Verdict::fail ? "MUST" : a.verdict == Verdict::warn ? "SHOULD" : error ? "harness-error" : av;
      const std::string what = "attempt " + std::to_string(a.n) + " of " + std::to_string(c.attempts.size()) + ": " + av;
      const std::string element = error ? "flakyError" : "flakyFailure";
      x += std::string(kIndent) + "<" + element + " message=\"" + attr(what) + "\" type=\"" + attr(type) + "\">\n";
      x += std::string(kIndent) + "  <stackTrace>" +
           body(what + " after " + std::to_string(a.duration_ms) + " ms with seed " + std::to_string(a.seed) + "\n" + reproduce_line(c)) +
           "</stackTrace>\n";
      x += std::string(kIndent) + "</" + element + ">\n";
    }
    preface = "FLAKY: the IUT varied over " + std::to_string(c.attempts.size()) + " attempts (" + history +
              "): a SHOULD met on one attempt, not on another (a MUST failed on any attempt would be a fail).\n";
  }
  x += std::string(kIndent) + "<system-out>" + body(system_out(c, requirements, preface)) + "</system-out>\n";
  x += "  </testcase>\n";
  return x;
}

std::string properties(const Report& report, std::string_view indent) {
  const Run& run = report.run;
  const Iut& iut = report.iut;
  const std::optional<Gate>& gate = report.gate;
  const std::pair<std::string_view, std::string> props[] = {
      {"iut.name", iut.name},
      {"iut.version", iut.version.value_or("")},
      {"iut.adapter", iut.adapter},
      {"run.run_id", run.run_id},
      {"run.started_at", run.started_at},
      {"run.master_seed", std::to_string(run.master_seed)},
      {"run.command_line", run.command_line},
      {"harness.version", run.harness.version},
      {"harness.git_commit", run.harness.git_commit.value_or("")},
      {"report.schema_version", report.schema_version},
      {"report.complete", report.complete ? "true" : "false"},
      {"gate.policy", gate ? gate->policy : std::string()},
      {"gate.result", gate ? gate->result : std::string()},
      {"gate.exit_code", gate ? std::to_string(gate->exit_code) : std::string()},
  };
  std::string x = std::string(indent) + "<properties>\n";
  for (const auto& [name, value] : props) {
    x += std::string(indent) + "  <property name=\"" + attr(name) + "\" value=\"" + attr(value) + "\"/>\n";
  }
  return x + std::string(indent) + "</properties>\n";
}

// xs:dateTime accepts RFC 3339 as the report writes it; anything else is left out.
std::string timestamp_attr(const Run& run) {
  const std::string& t = run.started_at;
  if (t.size() < 19 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':') return {};
  for (const char c : t) {
    const bool ok = (c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == 'Z' || c == '.' || c == '+';
    if (!ok) return {};
  }
  return " timestamp=\"" + t + "\"";
}

}  // namespace

std::string render_junit(const Report& report) {
  const bool strict = strict_policy(report);
  const std::string timestamp = timestamp_attr(report.run);

  // Roles in the order they first appear; cases in run order within a role.
  std::vector<std::string> roles;
  std::map<std::string, std::vector<const Case*>> by_role;
  for (const Case& c : report.cases) {
    auto& list = by_role[c.role];
    if (list.empty()) roles.push_back(c.role);
    list.push_back(&c);
  }

  std::string suites;
  Counts total;
  bool error_case = false;
  for (const std::string& role : roles) {
    Counts n;
    std::string cases;
    std::set<std::string> names;
    for (const Case* c : by_role[role]) {
      cases += render_case(*c, report.requirements, strict, n, names);
      error_case = error_case || gate_effect(*c, strict) == GateEffect::error;
    }
    suites += " <testsuite name=\"" + attr("teredo." + (role.empty() ? std::string("unknown") : role)) + "\"" +
              count_attrs(n, n.ms) + timestamp + ">\n";
    suites += properties(report, "  ");
    suites += cases;
    suites += " </testsuite>\n";
    total.add(n);
  }

  // A harness error outside the cases (bad adapter, lab not built, run
  // aborted) still exits 2: CI must see it as an error too.
  if (report.gate && report.gate->result == "error" && !error_case) {
    Counts n;
    n.tests = 1;
    n.errors = 1;
    std::string message =
        "the run ended in a harness error (gate result error, exit code " + std::to_string(report.gate->exit_code) + ")";
    if (!report.complete) message += "; the run is incomplete";
    suites += " <testsuite name=\"teredo.harness\"" + count_attrs(n, 0) + timestamp + ">\n";
    suites += properties(report, "  ");
    suites += "  <testcase name=\"harness\" classname=\"teredo.harness.run\" time=\"0.000\">\n";
    suites += std::string(kIndent) + "<error message=\"" + attr(message) + "\" type=\"harness-error\">" +
              body(message + "\nSee report.json and the harness log; command: " + report.run.command_line + "\n") +
              "</error>\n";
    suites += "  </testcase>\n";
    suites += " </testsuite>\n";
    total.add(n);
  }

  std::string name = "teredo-conform: " + report.iut.name;
  if (report.iut.version && !report.iut.version->empty()) name += " " + *report.iut.version;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<testsuites name=\"" + attr(name) + "\"" + count_attrs(total, report.run.duration_ms) + timestamp + ">\n";
  x += suites;
  x += "</testsuites>\n";
  return x;
}

std::string render_junit(const nlohmann::json& report) { return render_junit(report_from_json(report)); }

}  // namespace teredo::reports
