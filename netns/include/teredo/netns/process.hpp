// Running things inside a lab's network namespaces: commands whose failure
// names the step that failed, processes started in a namespace, sockets opened
// in a namespace (a socket stays in the namespace it was created in, so one
// process can hold sockets in many namespaces), and sysctls.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace teredo::netns {

class LabError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs argv (argv[0] looked up in PATH) in `netns` (empty: the current one),
// feeding `input` on stdin; waits for it.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {},
                          const std::string& netns = {});

// run_command, throwing LabError("<step>: <command> failed (exit N): <output>")
// unless it exits 0.
void run_step(const std::string& step, const std::vector<std::string>& argv,
              const std::string& input = {}, const std::string& netns = {});

// A child's stdout and stderr copied into its log file through a pipe, at
// most `cap_bytes` of them: past the cap the rest is still read (the child
// never blocks on a full pipe) but discarded, and the log says so in a last
// line. The copy runs on a thread of its own until every writer has closed
// the pipe (the child and whatever it started).
class LogTap {
 public:
  explicit LogTap(std::uint64_t cap_bytes) : cap_bytes_(cap_bytes) {}
  [[nodiscard]] std::uint64_t cap_bytes() const noexcept { return cap_bytes_; }
  [[nodiscard]] std::uint64_t discarded() const noexcept { return discarded_; }
  // Waits until every writer is gone; false when `timeout` passed first.
  bool wait_drained(std::chrono::milliseconds timeout) const;
  // The copying thread (spawn_in starts it): the pipe into the log until
  // EOF, `already` bytes of the cap being spent by earlier writers of the
  // same file. Closes both descriptors.
  static void copy(std::shared_ptr<LogTap> tap, int pipe_fd, int log_fd, std::uint64_t already);

 private:
  std::uint64_t cap_bytes_;
  std::atomic<std::uint64_t> discarded_{0};
  mutable std::mutex mutex_;
  mutable std::condition_variable drained_cv_;
  bool drained_ = false;
};

// Starts argv in `netns` with stdout and stderr appended to `log_path` (or
// inherited when empty), in its own process group. With a `tap` the output
// goes through it (capped); without, straight into the file. Returns its PID.
// Throws LabError when the program cannot be executed (not found, not
// executable): that is a harness or adapter fault, not a process that ran and
// died.
pid_t spawn_in(const std::string& netns, const std::vector<std::string>& argv,
               const std::string& log_path = {}, std::shared_ptr<LogTap> tap = {});

// Enters `netns` on this thread for the guard's lifetime (network namespaces
// are per thread), then returns to the namespace the thread was in.
class NetnsGuard {
 public:
  explicit NetnsGuard(const std::string& netns);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  int original_ = -1;
};

// A socket created inside `netns`.
int socket_in(const std::string& netns, int domain, int type, int protocol);

// Writes a sysctl under /proc/sys (key "net/ipv4/ip_forward") inside `netns`.
void write_sysctl(const std::string& netns, const std::string& key, const std::string& value);

// Turns off transmit checksum offload on an interface in `netns`, so every
// packet on the lab's wires carries its real checksum: captures then show
// what an IUT really sent, and the NAT box can update checksums
// incrementally instead of meeting half-computed ones.
void disable_checksum_offload(const std::string& netns, const std::string& ifname);
// One ethtool feature (ETHTOOL_S* command, e.g. ETHTOOL_SGRO) on or off.
void set_ethtool_feature(const std::string& netns, const std::string& ifname, std::uint32_t command, bool on,
                         const std::string& what);

// How a child process ended: exited with `code`, or killed by `signal`.
struct ExitStatus {
  int code = 0;
  int signal = 0;  // 0: it exited
  bool core_dumped = false;

  static ExitStatus from_wait_status(int status);
  bool operator==(const ExitStatus&) const = default;
};
// "exited with status 3", "killed by SIGSEGV (core dumped)".
std::string describe(const ExitStatus& status);

// How the child `pid` (from spawn_in) ended; nullopt while it runs, or when
// it is not a child of this process. Never blocks. The status is kept when
// the child is reaped (here, by process_alive or by stop_process), so it can
// be asked again after the process is gone.
std::optional<ExitStatus> exit_status(pid_t pid);

// Sends SIGTERM to a process we started, waits up to `grace_ms`, then SIGKILL.
void stop_process(pid_t pid, int grace_ms = 1000);

// True while `pid` exists and is not a zombie.
bool process_alive(pid_t pid);

}  // namespace teredo::netns
