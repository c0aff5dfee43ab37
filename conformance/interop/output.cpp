#include "interop/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "teredo/netns/topology.hpp"
#include "teredo/reports/gate.hpp"
#include "engine/data_dir.hpp"
#include "text.hpp"  // reports/src: clean_text, xml_escape, html_escape, url_path_encode, seconds

namespace teredo::conformance::interop {

using nlohmann::json;
namespace text = teredo::reports::detail;

std::string interop_schema_path() {
  return interop_schema_file();
}

namespace {

json adapters_json(const std::vector<Adapter>& list) {
  json out = json::array();
  for (const Adapter& a : list) {
    out.push_back({{"name", a.name}, {"path", a.path}, {"sha256", a.sha256}, {"version", a.version()}});
  }
  return out;
}

// The verdicts a cell's scenario can have (no SHOULD is judged, so no warn;
// one attempt, so no flaky), in this order in every view.
constexpr reports::Verdict kCellVerdicts[] = {reports::Verdict::pass, reports::Verdict::fail, reports::Verdict::inconclusive,
                                              reports::Verdict::not_applicable, reports::Verdict::error};

}  // namespace

json interop_json(const Plan& plan, const std::vector<CellResult>& cells, const RunFacts& facts) {
  json scenarios = json::array();
  for (const char c : plan.letters) {
    const Scenario& s = scenario(c);
    scenarios.push_back(
        {{"letter", std::string(1, s.letter)}, {"name", s.name}, {"summary", s.summary}, {"requirements", s.requirements}});
  }
  json cells_json = json::array();
  for (const CellResult& r : cells) {
    json results = json::array();
    for (const Finding& f : r.findings) {
      json frames = json::array();
      for (const FrameCite& c : f.frames) frames.push_back({{"capture", c.capture}, {"frame", c.frame}});
      results.push_back({{"scenario", std::string(1, f.scenario)},
                         {"verdict", f.verdict},
                         {"party", f.party},
                         {"requirement", f.requirement},
                         {"reason", f.reason},
                         {"frames", frames}});
    }
    cells_json.push_back({{"id", r.cell.id()},
                          {"nat", r.cell.nat},
                          {"client", r.cell.client},
                          {"server", r.cell.server},
                          {"relay", r.cell.relay},
                          {"dir", r.dir},
                          {"duration_ms", r.duration_ms},
                          {"client_address", r.client_address ? json(*r.client_address) : json(nullptr)},
                          {"files", r.files},
                          {"results", results}});
  }
  json out = {{"format", kInteropFormat},
              {"version", kInteropVersion},
              {"run", {{"started", facts.started}, {"duration_ms", facts.duration_ms}, {"command_line", facts.command_line}}},
              {"plan",
               {{"clients", adapters_json(plan.clients)},
                {"servers", adapters_json(plan.servers)},
                {"relays", adapters_json(plan.relays)},
                {"nat_profiles", plan.nat_profiles},
                {"scenarios", scenarios}}},
              {"cells", cells_json}};
  out["summary"] = {{"counts", verdict_counts(out)}, {"exit_code", interop_exit_code(out)}};
  return out;
}

json verdict_counts(const json& interop) {
  json counts = json::object();
  for (const reports::Verdict v : kCellVerdicts) counts[std::string(to_string(v))] = 0;
  for (const json& cell : text::array(interop, "cells")) {
    for (const json& r : text::array(cell, "results")) {
      const std::string v = text::text(r, "verdict");
      if (counts.contains(v)) counts[v] = counts[v].get<int>() + 1;
    }
  }
  return counts;
}

int interop_exit_code(const json& interop) {
  // The run's gate over every cell x scenario, as cases.
  std::vector<reports::Case> as_cases;
  for (const json& cell : text::array(interop, "cells")) {
    for (const json& r : text::array(cell, "results")) {
      // A verdict the format does not know is a harness error, never a pass.
      reports::Case c;
      c.verdict = reports::verdict_from_string(text::text(r, "verdict")).value_or(reports::Verdict::error);
      as_cases.push_back(std::move(c));
    }
  }
  return reports::cases_exit_code(as_cases, false);
}

std::string grid_text(const json& interop) {
  std::string out;
  for (const json& cell : text::array(interop, "cells")) {
    for (const json& r : text::array(cell, "results")) {
      out += fmt::format("{} {} {} {}\n", text::text(cell, "id"), text::text(r, "scenario"), text::text(r, "verdict"),
                         text::text(r, "party"));
    }
  }
  return out;
}

// ------------------------------------------------------------------ JUnit

std::string render_interop_junit(const json& interop) {
  const auto attr = [](const std::string& s) { return text::xml_escape(text::clean_text(s), true); };
  std::string cases;
  std::int64_t tests = 0, failures = 0, errors = 0, skipped = 0, total_ms = 0;
  for (const json& cell : text::array(interop, "cells")) {
    const std::int64_t ms = text::integer(cell, "duration_ms");
    total_ms += ms;
    const auto& results = text::array(cell, "results");
    const std::int64_t share = results.empty() ? 0 : ms / static_cast<std::int64_t>(results.size());
    for (const json& r : results) {
      ++tests;
      const std::string verdict = text::text(r, "verdict");
      const std::string party = text::text(r, "party");
      const std::string requirement = text::text(r, "requirement");
      const std::string message = (party.empty() ? "" : party + ": ") + text::text(r, "reason") +
                                  (requirement.empty() ? "" : " [" + requirement + "]");
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">", attr("interop." + text::text(cell, "nat")),
                           attr(fmt::format("NAT {} client {} x server {} x relay {}: {}", text::text(cell, "nat"), text::text(cell, "client"),
                                            text::text(cell, "server"), text::text(cell, "relay"),
                                            text::text(r, "scenario"))),
                           text::seconds(share));
      const std::string msg = attr(text::truncate(message, 1024));
      if (verdict == "fail") {
        ++failures;
        cases += fmt::format("<failure message=\"{}\" type=\"{}\"/>", msg, attr(party.empty() ? "fail" : party));
      } else if (verdict == "inconclusive") {
        ++failures;  // the gate cannot vouch for it (exit 4), as junit.xml of `run` says
        cases += fmt::format("<failure message=\"inconclusive: {}\" type=\"inconclusive\"/>", msg);
      } else if (verdict == "error") {
        ++errors;
        cases += fmt::format("<error message=\"{}\" type=\"harness-error\"/>", msg);
      } else if (verdict == "not-applicable") {
        ++skipped;
        cases += fmt::format("<skipped message=\"not applicable: {}\"/>", msg);
      }
      cases += "</testcase>\n";
    }
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"teredo-conform interop\" tests=\"{0}\" "
      "failures=\"{1}\" errors=\"{2}\" skipped=\"{3}\" time=\"{4}\">\n  <testsuite name=\"interop\" tests=\"{0}\" "
      "failures=\"{1}\" errors=\"{2}\" skipped=\"{3}\" time=\"{4}\">\n{5}  </testsuite>\n</testsuites>\n",
      tests, failures, errors, skipped, text::seconds(total_ms), cases);
}

// ------------------------------------------------------------------ HTML

namespace {

std::string h(const std::string& s) { return text::html_escape(text::clean_text(s)); }

const char* kStyle = R"(body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #999;padding:.3em .5em;text-align:center}th{background:#eee}
a.v{display:inline-block;min-width:1.4em;margin:0 .1em;padding:.1em .3em;font-weight:bold;text-decoration:none;color:#000;border-radius:3px}
.v-pass{background:#8d8}.v-fail{background:#e66}.v-inconclusive{background:#fd6}.v-not-applicable{background:#ccc}.v-error{background:#b7f}
td.why{text-align:left;font-size:90%}
nav[role=tablist]{border-bottom:1px solid #999;margin-top:1em}
nav[role=tablist] a{display:inline-block;padding:.3em .8em;margin-right:.2em;border:1px solid #999;border-bottom:none;
border-radius:4px 4px 0 0;text-decoration:none;color:#000;background:#eee}
nav[role=tablist] a[aria-selected=true]{background:#fff;font-weight:bold}
)";

// One tab per NAT profile: a tab is a link to its panel's fragment, so a
// click (or a link to interop.html#nat-<profile>) selects it; without
// scripts every panel shows. A fragment that names no panel (a verdict's
// #why- row) leaves the selection as it is.
const char* kTabScript = R"(<script>
(function () {
  var tabs = Array.prototype.slice.call(document.querySelectorAll('nav[role=tablist] a[role=tab]'));
  var panels = Array.prototype.slice.call(document.querySelectorAll('section[role=tabpanel]'));
  function select(id) {
    if (!panels.some(function (p) { return p.id === id; })) return false;
    panels.forEach(function (p) { p.hidden = p.id !== id; });
    tabs.forEach(function (t) { t.setAttribute('aria-selected', String(t.getAttribute('aria-controls') === id)); });
    return true;
  }
  function fromHash() { return select(decodeURIComponent(location.hash.slice(1))); }
  window.addEventListener('hashchange', fromHash);
  if (!fromHash() && panels.length > 0) select(panels[0].id);
})();
</script>
)";

}  // namespace

std::string render_interop_html(const json& interop) {
  const json& plan = text::field(interop, "plan");
  std::vector<std::string> clients, nats;
  std::vector<std::pair<std::string, std::string>> columns;  // server, relay
  for (const json& c : text::array(plan, "clients")) clients.push_back(text::text(c, "name"));
  for (const json& n : text::array(plan, "nat_profiles")) nats.push_back(text::text(n));
  for (const json& s : text::array(plan, "servers")) {
    for (const json& r : text::array(plan, "relays")) columns.emplace_back(text::text(s, "name"), text::text(r, "name"));
  }
  std::map<std::string, const json*> by_key;  // nat/client/server/relay
  for (const json& cell : text::array(interop, "cells")) {
    by_key[text::text(cell, "nat") + "/" + text::text(cell, "client") + "/" + text::text(cell, "server") + "/" +
           text::text(cell, "relay")] = &cell;
  }
  const json counts = text::field(text::field(interop, "summary"), "counts");
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>teredo-conform interop</title><style>";
  out += kStyle;
  out += "</style></head><body>\n<h1>Teredo interop grid</h1>\n<p id=\"summary\">";
  for (const reports::Verdict verdict : kCellVerdicts) {
    const std::string_view v = to_string(verdict);
    out += fmt::format("<span class=\"count\" data-verdict=\"{}\">{} {}</span> ", v, text::integer(counts, v), v);
  }
  out += fmt::format("; exit code {}</p>\n<p>Scenarios: ", text::integer(text::field(interop, "summary"), "exit_code"));
  for (const json& s : text::array(plan, "scenarios")) {
    out += fmt::format("<b>{}</b> {} ({}). ", h(text::text(s, "letter")), h(text::text(s, "name")),
                       h(fmt::format("{}", fmt::join(text::strings(s, "requirements"), ", "))));
  }
  out += "</p>\n<nav role=\"tablist\">";
  for (std::size_t i = 0; i < nats.size(); ++i) {
    out += fmt::format("<a role=\"tab\" id=\"tab-nat-{0}\" href=\"#nat-{0}\" aria-controls=\"nat-{0}\" "
                       "aria-selected=\"{1}\">{0}</a>",
                       h(nats[i]), i == 0 ? "true" : "false");
  }
  out += "</nav>\n";
  std::string details;
  for (const std::string& n : nats) {
    out += fmt::format("<section id=\"nat-{0}\" role=\"tabpanel\" aria-labelledby=\"tab-nat-{0}\"><h2>NAT {0}</h2>\n"
                       "<table class=\"grid\"><tr><th>client \\ server / relay</th>",
                       h(n));
    for (const auto& [s, r] : columns) out += fmt::format("<th>{} / {}</th>", h(s), h(r));
    out += "</tr>\n";
    for (const std::string& c : clients) {
      out += fmt::format("<tr><th>{}</th>", h(c));
      for (const auto& [s, r] : columns) {
        const auto it = by_key.find(n + "/" + c + "/" + s + "/" + r);
        if (it == by_key.end()) {
          out += "<td></td>";
          continue;
        }
        const json& cell = *it->second;
        const std::string id = text::text(cell, "id");
        out += fmt::format("<td id=\"cell-{}\">", h(id));
        for (const json& res : text::array(cell, "results")) {
          const std::string verdict = text::text(res, "verdict");
          const std::string party = text::text(res, "party");
          out += fmt::format("<a class=\"v v-{}\" href=\"#why-{}-{}\" title=\"{}\" data-verdict=\"{}\">{}</a>", h(verdict),
                             h(id), h(text::text(res, "scenario")),
                             h(verdict + (party.empty() ? "" : " (" + party + ")") + ": " + text::text(res, "reason")),
                             h(verdict), h(text::text(res, "scenario")));
          details += fmt::format(
              "<tr id=\"why-{0}-{1}\"><td>{2}</td><td>{3}</td><td class=\"v-{4}\">{1} {4}</td><td>{5}</td><td>{6}</td>"
              "<td class=\"why\">{7}</td><td class=\"why\">",
              h(id), h(text::text(res, "scenario")), h(n), h(c + " / " + s + " / " + r), h(verdict), h(party),
              h(text::text(res, "requirement")), h(text::text(res, "reason")));
          for (const std::string& f : text::strings(cell, "files")) {
            details += fmt::format("<a href=\"{}\">{}</a> ", h(text::url_path_encode(text::text(cell, "dir") + "/" + f)), h(f));
          }
          details += "</td></tr>\n";
        }
        out += "</td>";
      }
      out += "</tr>\n";
    }
    out += "</table></section>\n";
  }
  out += "<h2>Every verdict, with its reason and the cell's captures and logs</h2>\n<table class=\"details\"><tr><th>NAT</th>"
         "<th>client / server / relay</th><th>verdict</th><th>party</th><th>requirement</th><th>reason</th><th>files</th></tr>\n";
  out += details;
  out += "</table>\n";
  out += kTabScript;
  out += "</body></html>\n";
  return out;
}

json combine_interop(const std::vector<json>& inputs, const std::vector<std::string>& sources,
                     const std::string& out_dir, const std::string& command_line) {
  namespace fs = std::filesystem;
  json plan = {{"clients", json::array()}, {"servers", json::array()}, {"relays", json::array()},
               {"nat_profiles", json::array()}, {"scenarios", json::array()}};
  std::set<std::string> nats;
  std::map<char, json> scenarios;
  json cells = json::array();
  std::map<std::string, std::size_t> cell_at;                  // id -> index in cells
  std::map<std::string, fs::path> evidence_of;                 // id -> its first file's evidence folder
  std::map<std::pair<std::string, std::string>, std::string> judged;  // (id, letter) -> source
  std::string started;
  std::int64_t duration_ms = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const json& in = inputs[i];
    for (const char* role : {"clients", "servers", "relays"}) {
      for (const json& a : text::array(text::field(in, "plan"), role)) {
        const bool known = std::any_of(plan[role].begin(), plan[role].end(),
                                       [&](const json& b) { return b["name"] == a["name"]; });
        if (!known) plan[role].push_back(a);
      }
    }
    for (const json& n : text::array(text::field(in, "plan"), "nat_profiles")) nats.insert(n.get<std::string>());
    for (const json& sc : text::array(text::field(in, "plan"), "scenarios")) {
      scenarios.emplace(text::text(sc, "letter").at(0), sc);
    }
    const std::string run_started = text::text(text::field(in, "run"), "started");
    if (started.empty() || run_started < started) started = run_started;
    duration_ms += text::integer(text::field(in, "run"), "duration_ms");
    const fs::path base = fs::path(sources[i]).parent_path();
    for (json cell : text::array(in, "cells")) {
      const std::string id = text::text(cell, "id");
      const fs::path evidence = fs::absolute(base / text::text(cell, "dir")).lexically_normal();
      cell["dir"] = evidence.lexically_relative(fs::absolute(out_dir).lexically_normal()).generic_string();
      for (const json& r : text::array(cell, "results")) {
        const auto key = std::make_pair(id, text::text(r, "scenario"));
        if (const auto seen = judged.find(key); seen != judged.end()) {
          throw std::invalid_argument(fmt::format("cell {} scenario {} is judged in both {} and {}", id, key.second,
                                                  seen->second, sources[i]));
        }
        judged.emplace(key, sources[i]);
      }
      const auto at = cell_at.find(id);
      if (at == cell_at.end()) {
        cell_at.emplace(id, cells.size());
        evidence_of.emplace(id, evidence);
        cells.push_back(std::move(cell));
        continue;
      }
      // The same cell with other letters (another run's): one cell, the
      // letters in grid order; its `dir` is the first file's folder, the
      // other folders' files listed by their path from it.
      json& into = cells[at->second];
      for (const json& r : cell["results"]) into["results"].push_back(r);
      const fs::path from_first = evidence.lexically_relative(evidence_of.at(id));
      for (const json& f : text::array(cell, "files")) {
        into["files"].push_back((from_first / f.get<std::string>()).lexically_normal().generic_string());
      }
      into["duration_ms"] = into["duration_ms"].get<std::int64_t>() + cell["duration_ms"].get<std::int64_t>();
    }
  }
  for (const std::string& n : netns::nat_profiles()) {
    if (nats.count(n) != 0) plan["nat_profiles"].push_back(n);
  }
  for (const Scenario& sc : offered_scenarios()) {
    if (const auto it = scenarios.find(sc.letter); it != scenarios.end()) plan["scenarios"].push_back(it->second);
  }
  std::string grid_order;
  for (const Scenario& sc : offered_scenarios()) grid_order += sc.letter;
  const auto letter_rank = [&](const json& r) { return grid_order.find(r["scenario"].get<std::string>().at(0)); };
  for (json& cell : cells) {
    std::stable_sort(cell["results"].begin(), cell["results"].end(),
                     [&](const json& a, const json& b) { return letter_rank(a) < letter_rank(b); });
  }
  json out = {{"format", kInteropFormat},
              {"version", kInteropVersion},
              {"run", {{"started", started}, {"duration_ms", duration_ms}, {"command_line", command_line}}},
              {"plan", plan},
              {"cells", cells}};
  out["summary"] = {{"counts", verdict_counts(out)}, {"exit_code", interop_exit_code(out)}};
  return out;
}

void write_interop_files(const json& interop, const std::string& out_dir) {
  const auto write = [&](const std::string& name, const std::string& body) {
    std::ofstream f(out_dir + "/" + name, std::ios::binary);
    f << body;
    if (!f) throw std::runtime_error(fmt::format("cannot write {}/{}", out_dir, name));
  };
  write("interop.json", interop.dump(2) + "\n");
  write("junit.xml", render_interop_junit(interop));
  write("interop.html", render_interop_html(interop));
}

}  // namespace teredo::conformance::interop
