// The record of what a lab run created, kept in its run directory
// (<run root>/<prefix>/registry.json) and written *before* each object is
// created, so that whatever a crashed run left behind is listed somewhere.
// `teredo-conform lab clean` reads these records and removes the objects of
// runs whose owner process is gone.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace teredo::netns {

// Default run root: /run/teredo-conform (tmpfs, root only). TEREDO_RUN_ROOT
// overrides it.
std::string default_run_root();

// A fresh run-unique prefix: "tc-" and six hex digits (random).
std::string make_prefix();
// True when `name` starts with a prefix of ours ("tc-xxxxxx-").
bool has_lab_prefix(const std::string& name);
std::string prefix_of(const std::string& name);

struct RecordedProcess {
  pid_t pid = 0;
  std::string host;
  std::string command;
};

struct RegistryRecord {
  std::string prefix;
  std::string topology;
  pid_t owner_pid = 0;
  std::uint64_t owner_start_time = 0;  // /proc/<pid>/stat field 22: guards against PID reuse
  bool detached = false;               // `lab up --detach`: kept until `lab down`
  std::vector<std::string> namespaces;
  std::vector<RecordedProcess> processes;
};

class Registry {
 public:
  Registry(std::string run_root, std::string prefix);
  [[nodiscard]] const std::string& run_dir() const noexcept { return run_dir_; }
  RegistryRecord& record() noexcept { return record_; }
  void save() const;  // atomic: write a temporary file, then rename
  void remove() const;

  static bool load(const std::string& path, RegistryRecord& out);
  // Every record under the run root, with the path of its run directory.
  static std::vector<std::pair<std::string, RegistryRecord>> list(const std::string& run_root);

 private:
  std::string run_dir_;
  RegistryRecord record_;
};

std::uint64_t process_start_time(pid_t pid);
// The owner is alive when its PID exists with the same start time.
bool owner_alive(const RegistryRecord& record);

}  // namespace teredo::netns
