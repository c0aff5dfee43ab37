// What the lab benchmarks share: the CPU time a namespace's processes used.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "teredo/netns/process.hpp"

namespace teredo::bench {

// CPU nanoseconds used so far by every thread of every process in `netns`
// (/proc/<pid>/task/<tid>/schedstat, first field).
inline std::uint64_t namespace_cpu_ns(const std::string& netns) {
  const auto pids = netns::run_command({"ip", "netns", "pids", netns});
  std::istringstream list(pids.output);
  std::uint64_t total = 0;
  std::string pid;
  while (list >> pid) {
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + pid + "/task", ec)) {
      std::ifstream stat(task.path() / "schedstat");
      std::uint64_t on_cpu = 0;
      if (stat >> on_cpu) total += on_cpu;
    }
  }
  return total;
}

}  // namespace teredo::bench
