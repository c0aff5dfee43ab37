#include "engine/iut_watch.hpp"

#include <dirent.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace teredo::conformance {

std::optional<ProcessIdentity> read_process(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // the fields after it start at the last ')'.
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string state;
  long long parent = 0;
  fields >> state >> parent;
  if (!fields || state == "Z" || state == "X") return std::nullopt;
  std::string skip;
  for (int field = 5; field < 22 && fields; ++field) fields >> skip;  // fields 5..21
  std::uint64_t start = 0;
  fields >> start;
  if (!fields) return std::nullopt;
  ProcessIdentity p;
  p.pid = pid;
  p.parent = static_cast<pid_t>(parent);
  p.start_time = start;
  p.name = line.substr(open + 1, close - open - 1);
  std::error_code ec;
  p.executable = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
  return p;
}

std::vector<ProcessIdentity> process_tree(pid_t root) {
  std::vector<ProcessIdentity> out;
  const auto top = read_process(root);
  if (!top) return out;
  std::multimap<pid_t, ProcessIdentity> by_parent;
  if (DIR* dir = ::opendir("/proc")) {
    while (const dirent* entry = ::readdir(dir)) {
      char* end = nullptr;
      const long pid = std::strtol(entry->d_name, &end, 10);
      if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
      if (const auto p = read_process(static_cast<pid_t>(pid))) by_parent.emplace(p->parent, *p);
    }
    ::closedir(dir);
  }
  out.push_back(*top);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto [first, last] = by_parent.equal_range(out[i].pid);
    for (auto it = first; it != last; ++it) {
      if (it->second.executable == top->executable) out.push_back(it->second);
    }
  }
  return out;
}

std::optional<std::string> lost_process(const std::vector<ProcessIdentity>& snapshot) {
  for (const ProcessIdentity& p : snapshot) {
    const auto now = read_process(p.pid);
    if (now && now->start_time == p.start_time) continue;
    std::string parent_note;
    if (p.parent > 0) {
      for (const ProcessIdentity& q : snapshot) {
        if (q.pid == p.parent && read_process(q.pid)) {
          parent_note = fmt::format(" while its parent {} ({}) lived on", q.pid, q.name);
        }
      }
    }
    return fmt::format("pid {} ({}), a process of the IUT, ended{}", p.pid, p.name, parent_note);
  }
  return std::nullopt;
}

}  // namespace teredo::conformance
