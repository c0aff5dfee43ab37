#include "teredo/reports/matrix.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "style.hpp"
#include "text.hpp"

namespace teredo::reports {

namespace {

constexpr std::string_view kMissing = "—";

struct Column {
  std::string name;                            // iut.name + " " + iut.version
  std::set<std::string> roles;                 // roles its reports cover
  std::vector<std::string> gates;              // gate results of its reports
  std::map<std::string, std::string> verdict;  // case_id -> verdict
};

struct Matrix {
  std::vector<Column> columns;
  std::vector<std::string> roles;                           // row groups, in display order
  std::map<std::string, std::vector<std::string>> cases;    // role -> case_ids, first-seen order
};

Matrix build(const std::vector<Report>& reports) {
  Matrix m;
  std::map<std::string, std::size_t> column_of;
  std::map<std::string, std::string> role_of;  // case_id -> role (first seen)
  for (const Report& report : reports) {
    std::string name = report.iut.name;
    if (name.empty()) name = "(unnamed)";
    if (report.iut.version && !report.iut.version->empty()) name += " " + *report.iut.version;
    auto [it, added] = column_of.emplace(name, m.columns.size());
    if (added) m.columns.push_back(Column{name, {}, {}, {}});
    Column& col = m.columns[it->second];
    col.gates.push_back(report.gate ? report.gate->result : std::string());
    for (const Case& c : report.cases) {
      if (c.case_id.empty()) continue;
      const std::string role = c.role.empty() ? std::string("unknown") : c.role;
      col.roles.insert(role);
      col.verdict[c.case_id] = std::string(to_string(c.verdict));  // a later report of the same implementation wins
      if (role_of.emplace(c.case_id, role).second) m.cases[role].push_back(c.case_id);
    }
  }
  for (const std::string_view r : kRoles) {
    if (m.cases.contains(std::string(r))) m.roles.emplace_back(r);
  }
  for (const auto& [role, ids] : m.cases) {
    if (std::find(m.roles.begin(), m.roles.end(), role) == m.roles.end()) m.roles.push_back(role);
  }
  return m;
}

// "3/4 pass, 1 fail" over the role's cases present in the column; "—" if none.
std::string role_summary(const Matrix& m, const Column& col, const std::string& role) {
  std::map<std::string, int> n;
  int present = 0;
  for (const std::string& id : m.cases.at(role)) {
    const auto it = col.verdict.find(id);
    if (it == col.verdict.end()) continue;
    ++present;
    ++n[it->second];
  }
  if (present == 0) return std::string(kMissing);
  std::string out = std::to_string(n["pass"]) + "/" + std::to_string(present) + " pass";
  for (const std::string_view v : kVerdictNames) {
    if (v == "pass") continue;
    const auto it = n.find(std::string(v));
    if (it != n.end() && it->second > 0) out += ", " + std::to_string(it->second) + " " + std::string(v);
  }
  return out;
}

std::string cell(const Column& col, const std::string& id) {
  const auto it = col.verdict.find(id);
  return it == col.verdict.end() ? std::string(kMissing) : it->second;
}

}  // namespace

std::string render_matrix_markdown(const std::vector<Report>& reports) {
  const Matrix m = build(reports);
  std::string x = "| Case |";
  std::string rule = "| --- |";
  for (const Column& col : m.columns) {
    x += " " + detail::md_cell(col.name) + " |";
    rule += " --- |";
  }
  x += "\n" + rule + "\n";
  for (const std::string& role : m.roles) {
    x += "| **" + detail::md_cell(role) + "** |";
    for (const Column& col : m.columns) x += " **" + detail::md_cell(role_summary(m, col, role)) + "** |";
    x += "\n";
    for (const std::string& id : m.cases.at(role)) {
      x += "| " + detail::md_cell(id) + " |";
      for (const Column& col : m.columns) x += " " + detail::md_cell(cell(col, id)) + " |";
      x += "\n";
    }
  }
  x += "\n" + std::string(kMissing) + ": the case is not in that implementation's reports.\n";
  return x;
}

std::string render_matrix_html(const std::vector<Report>& reports) {
  const Matrix m = build(reports);
  const auto h = [](std::string_view s) { return detail::html_escape(s); };
  std::string x = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  x += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  x += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'\">\n";
  x += "<title>Teredo interop matrix</title>\n<style>\n" + std::string(detail::kBaseCss) + R"css(
#matrix th.impl{text-align:center;white-space:nowrap}
#matrix td.cell{text-align:center}
#matrix tr.role th{background:#eef1f4;font-size:1rem}
#matrix tr.role td{background:#eef1f4;text-align:center;font-weight:600;font-size:12.5px}
#matrix td.case{white-space:nowrap}
)css";
  x += "</style>\n</head>\n<body>\n<h1>Teredo interop matrix</h1>\n";
  x += "<p class=\"muted\">" + std::to_string(reports.size()) + " report(s), " + std::to_string(m.columns.size()) +
       " implementation(s). Cell: the case's verdict; " + std::string(kMissing) + ": not in that implementation's reports.</p>\n";
  x += "<table id=\"matrix\">\n<thead><tr><th>Case</th>";
  for (const Column& col : m.columns) {
    std::string roles;
    for (const std::string& r : col.roles) roles += (roles.empty() ? "" : ", ") + r;
    std::string gates;
    for (const std::string& g : col.gates) gates += (gates.empty() ? "" : ", ") + (g.empty() ? std::string("?") : g);
    x += "<th class=\"impl\" data-impl=\"" + h(col.name) + "\">" + h(col.name) + "<br><span class=\"muted\">" + h(roles) +
         "</span><br><span class=\"muted\">gate " + h(gates) + "</span></th>";
  }
  x += "</tr></thead>\n<tbody>\n";
  for (const std::string& role : m.roles) {
    x += "<tr class=\"role\" data-role=\"" + h(role) + "\"><th>" + h(role) + "</th>";
    for (const Column& col : m.columns) {
      x += "<td data-impl=\"" + h(col.name) + "\" data-role-summary=\"" + h(role) + "\">" + h(role_summary(m, col, role)) + "</td>";
    }
    x += "</tr>\n";
    for (const std::string& id : m.cases.at(role)) {
      x += "<tr data-case=\"" + h(id) + "\"><td class=\"case\"><code>" + h(id) + "</code></td>";
      for (const Column& col : m.columns) {
        const std::string v = cell(col, id);
        const bool missing = v == kMissing;
        const std::string cls = missing ? std::string("missing") : v;
        x += "<td class=\"cell\" data-impl=\"" + h(col.name) + "\" data-verdict=\"" + h(missing ? std::string() : v) + "\"><span class=\"v v-" +
             cls + "\">" + h(v) + "</span></td>";
      }
      x += "</tr>\n";
    }
  }
  if (m.roles.empty()) x += "<tr><td class=\"muted\">No case in these reports.</td></tr>\n";
  x += "</tbody>\n</table>\n</body>\n</html>\n";
  return x;
}

std::vector<Report> reports_from_json(const std::vector<nlohmann::json>& documents) {
  std::vector<Report> out;
  out.reserve(documents.size());
  for (const nlohmann::json& d : documents) out.push_back(report_from_json(d));
  return out;
}

std::string render_matrix_markdown(const std::vector<nlohmann::json>& reports) {
  return render_matrix_markdown(reports_from_json(reports));
}
std::string render_matrix_html(const std::vector<nlohmann::json>& reports) { return render_matrix_html(reports_from_json(reports)); }

}  // namespace teredo::reports
