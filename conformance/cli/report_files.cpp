// Where a run's report lands: report.json is the source of truth; the other
// views are rendered from it.
#include <fstream>
#include <stdexcept>

#include "cli/commands.hpp"

namespace teredo::cli {

void write_report_files(const nlohmann::json& report, const std::string& out_dir) {
  std::ofstream out(out_dir + "/report.json");
  out << report.dump(2) << '\n';
  if (!out) throw std::runtime_error("cannot write " + out_dir + "/report.json");
}

}  // namespace teredo::cli
