// Where a run's report lands: report.json is the source of truth; junit.xml
// and report.html are rendered from it (reports/).
#include <iostream>

#include "cli/commands.hpp"
#include "teredo/reports/check.hpp"
#include "teredo/reports/write.hpp"

namespace teredo::cli {

void write_report_files(const nlohmann::json& report, const std::string& out_dir) {
  // A report that breaks its own rules is a harness bug: say so, but still
  // write it, since the evidence is all a user has.
  for (const auto& problem : reports::check_report(report)) {
    std::cerr << "teredo-conform: report check: " << problem << '\n';
  }
  reports::write_reports(report, out_dir);
}

}  // namespace teredo::cli
