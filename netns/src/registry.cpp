#include "teredo/netns/registry.hpp"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "teredo/netns/process.hpp"

namespace teredo::netns {

namespace fs = std::filesystem;
using nlohmann::json;

std::string default_run_root() {
  const char* env = std::getenv("TEREDO_RUN_ROOT");
  return env && *env ? env : "/run/teredo-conform";
}

std::string make_prefix() {
  std::random_device rd;
  return fmt::format("tc-{:06x}", rd() & 0xFFFFFF);
}

bool has_lab_prefix(const std::string& name) {
  static const std::regex kPattern("^tc-[0-9a-f]{6}(-.*)?$");
  return std::regex_match(name, kPattern);
}

std::string prefix_of(const std::string& name) { return name.substr(0, 9); }

Registry::Registry(std::string run_root, std::string prefix) {
  run_dir_ = run_root + "/" + prefix;
  std::error_code ec;
  fs::create_directories(run_dir_, ec);
  if (ec) throw LabError(fmt::format("cannot create run directory {}: {}", run_dir_, ec.message()));
  record_.prefix = std::move(prefix);
  record_.owner_pid = ::getpid();
  record_.owner_start_time = process_start_time(record_.owner_pid);
}

void Registry::save() const {
  json j;
  j["prefix"] = record_.prefix;
  j["topology"] = record_.topology;
  j["owner_pid"] = record_.owner_pid;
  j["owner_start_time"] = record_.owner_start_time;
  j["detached"] = record_.detached;
  j["namespaces"] = record_.namespaces;
  j["processes"] = json::array();
  for (const auto& p : record_.processes) {
    j["processes"].push_back({{"pid", p.pid}, {"host", p.host}, {"command", p.command}});
  }
  const std::string path = run_dir_ + "/registry.json";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << '\n';
    if (!out) throw LabError(fmt::format("cannot write {}", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw LabError(fmt::format("cannot write {}: {}", path, ec.message()));
}

void Registry::remove() const {
  std::error_code ec;
  fs::remove_all(run_dir_, ec);
}

bool Registry::load(const std::string& path, RegistryRecord& out) {
  std::ifstream in(path);
  if (!in) return false;
  try {
    const json j = json::parse(in);
    out.prefix = j.at("prefix").get<std::string>();
    out.topology = j.value("topology", "");
    out.owner_pid = j.at("owner_pid").get<pid_t>();
    out.owner_start_time = j.value("owner_start_time", std::uint64_t{0});
    out.detached = j.value("detached", false);
    out.namespaces = j.value("namespaces", std::vector<std::string>{});
    out.processes.clear();
    for (const auto& p : j.value("processes", json::array())) {
      out.processes.push_back({p.at("pid").get<pid_t>(), p.value("host", ""), p.value("command", "")});
    }
    return has_lab_prefix(out.prefix);
  } catch (const json::exception&) {
    return false;
  }
}

std::vector<std::pair<std::string, RegistryRecord>> Registry::list(const std::string& run_root) {
  std::vector<std::pair<std::string, RegistryRecord>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_root, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !has_lab_prefix(name)) continue;
    RegistryRecord r;
    if (!load(entry.path().string() + "/registry.json", r)) r.prefix = name;  // unreadable: still ours
    out.emplace_back(entry.path().string(), r);
  }
  return out;
}

std::uint64_t process_start_time(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return 0;
  const auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(line.substr(close_paren + 2));
  std::string field;
  // Fields after the command start at field 3 (state); start time is field 22.
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::stoull(field);
  }
  return 0;
}

bool owner_alive(const RegistryRecord& record) {
  if (record.owner_pid <= 0 || ::kill(record.owner_pid, 0) != 0) return false;
  return record.owner_start_time == 0 || process_start_time(record.owner_pid) == record.owner_start_time;
}

}  // namespace teredo::netns
