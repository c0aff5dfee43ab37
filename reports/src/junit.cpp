#include "teredo/reports/junit.hpp"

#include <map>
#include <set>

#include "teredo/reports/gate.hpp"
#include "text.hpp"

namespace teredo::reports {

namespace {

using nlohmann::json;
using detail::array;
using detail::field;
using detail::integer;
using detail::requirement_label;
using detail::text;

std::string attr(std::string_view s) { return detail::xml_escape(s, true); }
std::string body(std::string_view s) { return detail::xml_escape(s, false); }

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

std::string classname(const json& c) {
  const json& sections = array(c, "rfc_sections");
  const std::string section = sections.empty() ? std::string() : text(sections.front());
  return "teredo." + token(text(c, "role"), "unknown") + "." + token(section, "unspecified");
}

std::string frames_text(const json& assertion) {
  std::string out;
  for (const json& f : array(assertion, "frames")) {
    if (!out.empty()) out += ", ";
    out += text(f, "capture") + " #" + text(f, "frame");
  }
  return out;
}

// The RFC sentence a requirement rests on (report["requirements"][id].quote),
// empty when the report does not hold it.
std::string quote_of(const json& requirements, const std::string& id) { return text(field(requirements, id), "quote"); }

// One assertion, as lines of text, with the sentence it is judged against.
std::string assertion_text(const json& a, const json& requirements) {
  std::string out = "[" + text(a, "outcome") + "] " + requirement_label(a) + " " + text(a, "level");
  const std::string message = text(a, "message");
  if (!message.empty()) out += ": " + message;
  out += "\n";
  const std::string quote = quote_of(requirements, text(a, "requirement"));
  if (!quote.empty()) out += "    RFC: \"" + quote + "\"\n";
  if (!field(a, "expected").is_null()) out += "    expected: " + text(a, "expected") + "\n";
  if (!field(a, "observed").is_null()) out += "    observed: " + text(a, "observed") + "\n";
  if (!field(a, "code").is_null()) out += "    code: " + text(a, "code") + "\n";
  const std::string frames = frames_text(a);
  if (!frames.empty()) out += "    frames: " + frames + "\n";
  return out;
}

// The one-line reason of a non-passing case: its first assertion with the
// given outcome, else its first error/warn message, else the verdict.
std::string reason(const json& c, std::string_view outcome) {
  for (const json& a : array(c, "assertions")) {
    if (text(a, "outcome") != outcome) continue;
    std::string out = requirement_label(a) + " " + text(a, "level") + ": ";
    const std::string message = text(a, "message");
    if (!message.empty()) return out + message;
    return out + "expected " + text(a, "expected") + ", observed " + text(a, "observed");
  }
  for (const std::string_view level : {"error", "warn", "info"}) {
    for (const json& m : array(c, "messages")) {
      if (text(m, "level") == level) return text(m, "text");
    }
  }
  return "verdict " + text(c, "verdict");
}

// The strongest level among the case's assertions with this outcome.
std::string failing_level(const json& c, std::string_view outcome, std::string_view fallback) {
  for (const std::string_view level : kLevelNames) {
    for (const json& a : array(c, "assertions")) {
      if (text(a, "outcome") == outcome && text(a, "level") == level) return std::string(level);
    }
  }
  return std::string(fallback);
}

// The assertions that did not pass, as text.
std::string non_pass_assertions(const json& c, const json& requirements) {
  std::string out;
  for (const json& a : array(c, "assertions")) {
    if (text(a, "outcome") != "pass") out += assertion_text(a, requirements);
  }
  return out;
}

std::string reproduce_line(const json& c) {
  const std::string r = text(c, "reproducer");
  return r.empty() ? std::string() : "reproduce: " + r + "\n";
}

std::string system_out(const json& c, const json& requirements, std::string_view preface) {
  std::string out(preface);
  out += text(c, "title") + "\n";
  out += "verdict: " + text(c, "verdict") + " | level " + text(c, "level") + " | role " + text(c, "role") + " | topology " +
         text(c, "topology");
  const std::string nat = text(c, "nat_profile");
  out += " | NAT " + (nat.empty() ? std::string("none") : nat) + "\n";
  if (!array(c, "requirements").empty()) {
    out += "requirements:\n";
    for (const json& r : array(c, "requirements")) {
      const std::string quote = quote_of(requirements, text(r));
      out += "  " + text(r) + (quote.empty() ? std::string() : ": \"" + quote + "\"") + "\n";
    }
  }
  std::string sections;
  for (const json& s : array(c, "rfc_sections")) sections += (sections.empty() ? "" : ", ") + text(s);
  if (!sections.empty()) out += "sections: " + sections + "\n";
  if (!array(c, "assertions").empty()) {
    out += "assertions:\n";
    for (const json& a : array(c, "assertions")) out += "  " + assertion_text(a, requirements);
  }
  if (!array(c, "messages").empty()) {
    out += "messages:\n";
    for (const json& m : array(c, "messages")) {
      out += "  +" + text(m, "t_ms") + " ms " + text(m, "level") + ": " + text(m, "text");
      if (!field(m, "code").is_null()) out += " [" + text(m, "code") + "]";
      out += "\n";
    }
  }
  const json& attempts = array(c, "attempts");
  if (!attempts.empty()) {
    out += "attempts:\n";
    for (const json& a : attempts) {
      out += "  " + text(a, "n") + ": " + text(a, "verdict") + ", " + text(a, "duration_ms") + " ms, seed " + text(a, "seed") + "\n";
    }
  }
  const json& evidence = field(c, "evidence");
  const bool any_evidence = !field(evidence, "dir").is_null() || !array(evidence, "pcaps").empty() || !array(evidence, "logs").empty();
  if (any_evidence) {
    out += "evidence (relative to report.json):\n";
    if (!field(evidence, "dir").is_null()) out += "  dir " + text(evidence, "dir") + "\n";
    for (const json& p : array(evidence, "pcaps")) {
      out += "  pcap " + text(p, "path") + " (" + text(p, "vantage") + ", " + text(p, "packets") + " packets)\n";
    }
    for (const json& l : array(evidence, "logs")) out += "  log " + text(l, "path") + " (" + text(l, "what") + ")\n";
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

// A testcase name: the case ID; never empty and unique in its suite, even in
// a malformed report (Jenkins and test-reporter need a name).
std::string testcase_name(const json& c, std::set<std::string>& used) {
  std::string name = text(c, "case_id");
  if (name.empty()) name = "unnamed-case";
  std::string unique = name;
  for (int k = 2; used.contains(unique); ++k) unique = name + " (" + std::to_string(k) + ")";
  used.insert(unique);
  return unique;
}

std::string render_case(const json& c, const json& requirements, bool strict, Counts& n, std::set<std::string>& names) {
  const std::string verdict = text(c, "verdict");
  const std::int64_t ms = integer(c, "duration_ms");
  ++n.tests;
  n.ms += ms;
  std::string x = "  <testcase name=\"" + attr(testcase_name(c, names)) + "\" classname=\"" + attr(classname(c)) + "\" time=\"" +
                  detail::seconds(ms) + "\">\n";
  std::string preface;
  const GateEffect effect = gate_effect(c, strict);
  const bool known = text(c, "baseline") == "known";
  if (effect == GateEffect::error) {
    ++n.errors;
    x += std::string(kIndent) + "<error message=\"" + attr(detail::truncate(reason(c, "fail"), 1024)) +
         "\" type=\"harness-error\">" + body(non_pass_assertions(c, requirements) + reproduce_line(c)) + "</error>\n";
  } else if (effect == GateEffect::failure) {
    ++n.failures;
    const std::string outcome = verdict == "warn" ? "warn" : "fail";
    const std::string type = failing_level(c, outcome, verdict == "warn" ? "SHOULD" : "MUST");
    x += std::string(kIndent) + "<failure message=\"" + attr(detail::truncate(reason(c, outcome), 1024)) + "\" type=\"" + attr(type) +
         "\">" + body(non_pass_assertions(c, requirements) + reproduce_line(c)) + "</failure>\n";
    if (verdict == "warn") preface = "WARNING: a SHOULD is not met; the strict policy makes it a failure.\n";
  } else if (effect == GateEffect::inconclusive) {
    // Not a requirement failed: the case could not be judged, and a gate
    // cannot vouch for what it did not judge (exit 4 when nothing fails).
    ++n.failures;
    x += std::string(kIndent) + "<failure message=\"" +
         attr(detail::truncate("inconclusive: " + reason(c, "inconclusive"), 1024)) + "\" type=\"inconclusive\">" +
         body(non_pass_assertions(c, requirements) + reproduce_line(c)) + "</failure>\n";
  } else if (known && (verdict == "fail" || verdict == "inconclusive" || (verdict == "warn" && strict))) {
    // A failure the baseline lists: reported, not counted against the gate.
    ++n.skipped;
    const std::string outcome = verdict == "warn" ? "warn" : verdict == "inconclusive" ? "inconclusive" : "fail";
    x += std::string(kIndent) + "<skipped message=\"" +
         attr(detail::truncate("known failure (baseline): " + reason(c, outcome), 1024)) + "\"/>\n";
    preface = "KNOWN FAILURE: the baseline lists this case; it does not block the gate.\n";
  } else if (verdict == "warn") {
    preface = "WARNING: a SHOULD is not met (" + reason(c, "warn") +
              "). Not a failure under the default policy; --strict makes it one" +
              (known ? std::string(" (the baseline lists it)") : std::string()) + ".\n";
  } else if (verdict == "not-applicable") {
    ++n.skipped;
    x += std::string(kIndent) + "<skipped message=\"" + attr(detail::truncate("not applicable: " + reason(c, "fail"), 1024)) +
         "\"/>\n";
  } else if (verdict == "flaky") {
    const json& attempts = array(c, "attempts");
    std::string history;
    for (const json& a : attempts) {
      const std::string av = text(a, "verdict");
      history += (history.empty() ? "" : ", ") + ("attempt " + text(a, "n") + " " + av);
      if (av == "pass") continue;
      const bool error = av == "error";
      const std::string type = av == "fail" ? "MUST" : av == "warn" ? "SHOULD" : error ? "harness-error" : av;
      const std::string what = "attempt " + text(a, "n") + " of " + std::to_string(attempts.size()) + ": " + av;
      const std::string element = error ? "flakyError" : "flakyFailure";
      x += std::string(kIndent) + "<" + element + " message=\"" + attr(what) + "\" type=\"" + attr(type) + "\">\n";
      x += std::string(kIndent) + "  <stackTrace>" +
           body(what + " after " + text(a, "duration_ms") + " ms with seed " + text(a, "seed") + "\n" + reproduce_line(c)) +
           "</stackTrace>\n";
      x += std::string(kIndent) + "</" + element + ">\n";
    }
    preface = "FLAKY: the IUT varied over " + std::to_string(attempts.size()) + " attempts (" + history +
              "): a SHOULD met on one attempt, not on another (a MUST failed on any attempt would be a fail).\n";
  }
  x += std::string(kIndent) + "<system-out>" + body(system_out(c, requirements, preface)) + "</system-out>\n";
  x += "  </testcase>\n";
  return x;
}

std::string properties(const json& report, std::string_view indent) {
  const json& run = field(report, "run");
  const json& iut = field(report, "iut");
  const json& gate = field(report, "gate");
  const std::pair<std::string_view, std::string> props[] = {
      {"iut.name", text(iut, "name")},
      {"iut.version", text(iut, "version")},
      {"iut.adapter", text(iut, "adapter")},
      {"run.run_id", text(run, "run_id")},
      {"run.started_at", text(run, "started_at")},
      {"run.master_seed", text(run, "master_seed")},
      {"run.command_line", text(run, "command_line")},
      {"harness.version", text(field(run, "harness"), "version")},
      {"harness.git_commit", text(field(run, "harness"), "git_commit")},
      {"report.schema_version", text(report, "schema_version")},
      {"report.complete", text(report, "complete")},
      {"gate.policy", text(gate, "policy")},
      {"gate.result", text(gate, "result")},
      {"gate.exit_code", text(gate, "exit_code")},
  };
  std::string x = std::string(indent) + "<properties>\n";
  for (const auto& [name, value] : props) {
    x += std::string(indent) + "  <property name=\"" + attr(name) + "\" value=\"" + attr(value) + "\"/>\n";
  }
  return x + std::string(indent) + "</properties>\n";
}

// xs:dateTime accepts RFC 3339 as the report writes it; anything else is left out.
std::string timestamp_attr(const json& run) {
  const std::string t = text(run, "started_at");
  if (t.size() < 19 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':') return {};
  for (const char c : t) {
    const bool ok = (c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == 'Z' || c == '.' || c == '+';
    if (!ok) return {};
  }
  return " timestamp=\"" + t + "\"";
}

}  // namespace

std::string render_junit(const nlohmann::json& report) {
  const bool strict = strict_policy(report);
  const json& run = field(report, "run");
  const std::string timestamp = timestamp_attr(run);

  // Roles in the order they first appear; cases in run order within a role.
  std::vector<std::string> roles;
  std::map<std::string, std::vector<const json*>> by_role;
  for (const json& c : array(report, "cases")) {
    const std::string role = text(c, "role");
    auto& list = by_role[role];
    if (list.empty()) roles.push_back(role);
    list.push_back(&c);
  }

  std::string suites;
  Counts total;
  bool error_case = false;
  for (const std::string& role : roles) {
    Counts n;
    std::string cases;
    std::set<std::string> names;
    for (const json* c : by_role[role]) {
      cases += render_case(*c, field(report, "requirements"), strict, n, names);
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
  const json& gate = field(report, "gate");
  if (text(gate, "result") == "error" && !error_case) {
    Counts n;
    n.tests = 1;
    n.errors = 1;
    std::string message = "the run ended in a harness error (gate result error, exit code " + text(gate, "exit_code") + ")";
    if (field(report, "complete") == json(false)) message += "; the run is incomplete";
    suites += " <testsuite name=\"teredo.harness\"" + count_attrs(n, 0) + timestamp + ">\n";
    suites += properties(report, "  ");
    suites += "  <testcase name=\"harness\" classname=\"teredo.harness.run\" time=\"0.000\">\n";
    suites += std::string(kIndent) + "<error message=\"" + attr(message) + "\" type=\"harness-error\">" +
              body(message + "\nSee report.json and the harness log; command: " + text(run, "command_line") + "\n") +
              "</error>\n";
    suites += "  </testcase>\n";
    suites += " </testsuite>\n";
    total.add(n);
  }

  const json& iut = field(report, "iut");
  std::string name = "teredo-conform: " + text(iut, "name");
  if (!text(iut, "version").empty()) name += " " + text(iut, "version");
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<testsuites name=\"" + attr(name) + "\"" + count_attrs(total, integer(run, "duration_ms", total.ms)) + timestamp + ">\n";
  x += suites;
  x += "</testsuites>\n";
  return x;
}

}  // namespace teredo::reports
