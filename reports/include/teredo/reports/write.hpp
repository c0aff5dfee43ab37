// The only I/O of teredo_reports.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace teredo::reports {

// Writes out_dir/report.json (pretty, 2-space indent), out_dir/junit.xml and
// out_dir/report.html, creating out_dir if needed. Each file is written to a
// temporary name and renamed, so a reader never sees half a file. Strings that
// are not valid UTF-8 are written with U+FFFD in report.json. Throws
// std::runtime_error naming the file on failure, InvalidReport (one line,
// report.json already written) when the report does not read into the types
// (report.hpp) junit.xml and report.html are rendered from. Does not call
// check_report().
void write_reports(const nlohmann::json& report, const std::string& out_dir);

// Writes one file the same way (temporary name, then rename).
void write_file(const std::string& path, const std::string& content);

}  // namespace teredo::reports
