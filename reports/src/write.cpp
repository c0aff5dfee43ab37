#include "teredo/reports/write.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "teredo/reports/html.hpp"
#include "teredo/reports/junit.hpp"

namespace teredo::reports {

namespace fs = std::filesystem;

void write_file(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const int saved = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(written ? errno : saved));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + ec.message());
  }
}

void write_reports(const nlohmann::json& report, const std::string& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error("cannot create " + out_dir + ": " + ec.message());
  const fs::path dir(out_dir);
  write_file((dir / "report.json").string(), report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  // The views read the report once, through its types; report.json is
  // written first, so a report they cannot read still leaves what it holds.
  const Report typed = report_from_json(report);
  write_file((dir / "junit.xml").string(), render_junit(typed));
  write_file((dir / "report.html").string(), render_html(typed));
}

}  // namespace teredo::reports
