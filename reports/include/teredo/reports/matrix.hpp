// Several report.json -> the interop matrix: implementations (columns, keyed
// by iut.name + " " + iut.version) x cases (rows, by case_id, grouped by role
// with a per-role summary row). Reports of one implementation (say one per
// role) merge into one column; a case missing from a column shows "—". When
// two reports of one implementation hold the same case, the later one wins.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "teredo/reports/report.hpp"

namespace teredo::reports {

std::string render_matrix_html(const std::vector<Report>& reports);
std::string render_matrix_markdown(const std::vector<Report>& reports);
// The same from report.json documents; throws InvalidReport when one does not
// read into the types.
std::string render_matrix_html(const std::vector<nlohmann::json>& reports);
std::string render_matrix_markdown(const std::vector<nlohmann::json>& reports);

}  // namespace teredo::reports
