#include "teredo/netns/process.hpp"

#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace teredo::netns {

namespace {

std::string netns_path(const std::string& netns) { return "/run/netns/" + netns; }

int open_netns(const std::string& netns) {
  const int fd = ::open(netns_path(netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw LabError(fmt::format("cannot open network namespace {}: {}", netns, std::strerror(errno)));
  return fd;
}

// execvp after fork is not async-signal-safe in a threaded parent; build the
// argv array in the parent and use execv with a resolved path.
std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = dirs.find(':', start);
    const std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return program;
}

// The wait status of every child this process reaped, by PID: a process
// that died can still be asked how (exit_status). A PID that spawn_in hands
// out again loses its old entry.
std::mutex g_reaped_mutex;
std::map<pid_t, int> g_reaped;

void remember_reaped(pid_t pid, int status) {
  const std::lock_guard<std::mutex> lock(g_reaped_mutex);
  g_reaped[pid] = status;
}

struct Argv {
  explicit Argv(const std::vector<std::string>& args) : path(resolve(args.at(0))) {
    for (const auto& a : args) pointers.push_back(const_cast<char*>(a.c_str()));
    pointers.push_back(nullptr);
  }
  std::string path;
  std::vector<char*> pointers;
};

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input,
                          const std::string& netns) {
  const Argv args(argv);
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    throw LabError(fmt::format("pipe: {}", std::strerror(errno)));
  }
  // posix_spawn, not fork(): fork copies the page tables of this large
  // threaded process and turns every later write of its threads into a
  // copy-on-write fault with a TLB shootdown, most of a run's CPU with many
  // labs at once (perf); glibc's posix_spawn shares the memory until the
  // child has exec'd. The child starts in the spawning thread's network
  // namespace (namespaces are per thread): this thread enters `netns` for the
  // spawn only.
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  ::posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  ::posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 2);
  ::posix_spawnattr_init(&attributes);
  sigset_t default_signals;
  ::sigemptyset(&default_signals);
  ::sigaddset(&default_signals, SIGPIPE);  // the driver ignores it; an ignored signal would stay ignored across exec
  ::posix_spawnattr_setsigdefault(&attributes, &default_signals);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int spawned = 0;
  std::string not_run;  // why the command never ran (reported as exit 126 / 127, as a shell does)
  try {
    std::optional<NetnsGuard> inside;
    if (!netns.empty()) inside.emplace(netns);
    spawned = ::posix_spawn(&pid, args.path.c_str(), &actions, &attributes, args.pointers.data(), environ);
    if (spawned != 0) not_run = fmt::format("{}: {}", args.path, std::strerror(spawned));
  } catch (const LabError& e) {
    spawned = -1;
    not_run = e.what();
  }
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (!not_run.empty()) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    return CommandResult{spawned == -1 ? 126 : 127, not_run};
  }
  // Small inputs only (batch files): write all, then read all.
  std::size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = ::write(in_pipe[1], input.data() + written, input.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::close(in_pipe[1]);
  CommandResult result;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(out_pipe[0], buffer, sizeof buffer);
    if (n > 0) {
      result.output.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  ::close(out_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  while (!result.output.empty() && (result.output.back() == '\n' || result.output.back() == ' ')) {
    result.output.pop_back();
  }
  return result;
}

void run_step(const std::string& step, const std::vector<std::string>& argv, const std::string& input,
              const std::string& netns) {
  const CommandResult r = run_command(argv, input, netns);
  if (r.exit_code != 0) {
    throw LabError(fmt::format("{}: `{}`{} failed (exit {}): {}", step, join(argv),
                               netns.empty() ? "" : " in " + netns, r.exit_code,
                               r.output.empty() ? "no output" : r.output));
  }
}

bool LogTap::wait_drained(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return drained_cv_.wait_for(lock, timeout, [this] { return drained_; });
}

void LogTap::copy(std::shared_ptr<LogTap> tap, int pipe_fd, int log_fd, std::uint64_t already) {
  std::uint64_t kept = already;
  bool noted = false;
  char buffer[65536];
  const auto write_all = [log_fd](const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::write(log_fd, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a log that cannot be written loses output, never the child
      data += n;
      size -= static_cast<std::size_t>(n);
    }
  };
  for (;;) {
    const ssize_t n = ::read(pipe_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const std::uint64_t room = kept < tap->cap_bytes_ ? tap->cap_bytes_ - kept : 0;
    const std::uint64_t take = std::min<std::uint64_t>(room, static_cast<std::uint64_t>(n));
    write_all(buffer, static_cast<std::size_t>(take));
    kept += take;
    if (take < static_cast<std::uint64_t>(n)) {
      tap->discarded_ += static_cast<std::uint64_t>(n) - take;
      if (!noted) {
        noted = true;
        const std::string note = fmt::format("\n[teredo-conform: log capped at {} bytes; the rest is discarded]\n",
                                             tap->cap_bytes_);
        write_all(note.data(), note.size());
      }
    }
  }
  ::close(pipe_fd);
  ::close(log_fd);
  std::lock_guard<std::mutex> lock(tap->mutex_);
  tap->drained_ = true;
  tap->drained_cv_.notify_all();
}

pid_t spawn_in(const std::string& netns, const std::vector<std::string>& argv, const std::string& log_path,
               std::shared_ptr<LogTap> tap) {
  const Argv args(argv);
  const int ns_fd = netns.empty() ? -1 : open_netns(netns);
  int log_fd = -1;
  if (!log_path.empty()) {
    log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      const int saved = errno;
      if (ns_fd >= 0) ::close(ns_fd);
      throw LabError(fmt::format("cannot open log {}: {}", log_path, std::strerror(saved)));
    }
  }
  // The child writes into the pipe; the tap's thread into the file.
  int out_pipe[2] = {-1, -1};
  if (tap && log_fd >= 0 && ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    const int saved = errno;
    ::close(log_fd);
    if (ns_fd >= 0) ::close(ns_fd);
    throw LabError(fmt::format("pipe: {}", std::strerror(saved)));
  }
  const int child_out = out_pipe[1] >= 0 ? out_pipe[1] : log_fd;
  // The child writes errno here when it cannot become argv; a successful
  // exec closes the pipe (O_CLOEXEC) and the parent reads end of file.
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) throw LabError(fmt::format("pipe: {}", std::strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) throw LabError(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, 0);
    // A child must not inherit the parent's blocked signals (the lab's
    // teardown thread blocks SIGINT/SIGTERM in every thread) nor its ignored
    // SIGPIPE.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    int failure[2] = {0, 0};  // {step, errno}: 1 setns, 2 exec
    if (ns_fd >= 0 && ::setns(ns_fd, CLONE_NEWNET) != 0) {
      failure[0] = 1;
      failure[1] = errno;
      (void)!::write(exec_pipe[1], failure, sizeof failure);
      ::_exit(126);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (child_out >= 0) {
      ::dup2(child_out, 1);
      ::dup2(child_out, 2);
    }
    ::execv(args.path.c_str(), args.pointers.data());
    failure[0] = 2;
    failure[1] = errno;
    (void)!::write(exec_pipe[1], failure, sizeof failure);
    ::_exit(127);
  }
  ::close(exec_pipe[1]);
  if (ns_fd >= 0) ::close(ns_fd);
  if (out_pipe[1] >= 0) {
    ::close(out_pipe[1]);
    struct stat st {};
    const std::uint64_t already = ::fstat(log_fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    std::thread(&LogTap::copy, std::move(tap), out_pipe[0], log_fd, already).detach();
  } else if (log_fd >= 0) {
    ::close(log_fd);
  }
  {
    const std::lock_guard<std::mutex> lock(g_reaped_mutex);
    g_reaped.erase(pid);
  }
  int failure[2] = {0, 0};
  ssize_t n = 0;
  while ((n = ::read(exec_pipe[0], failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  ::close(exec_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw LabError(fmt::format("cannot {} `{}`: {}", failure[0] == 1 ? "enter " + netns + " for" : "execute",
                               args.path, std::strerror(failure[1])));
  }
  return pid;
}

NetnsGuard::NetnsGuard(const std::string& netns) {
  original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) throw LabError(fmt::format("cannot open own namespace: {}", std::strerror(errno)));
  const int fd = open_netns(netns);
  const int rc = ::setns(fd, CLONE_NEWNET);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) {
    ::close(original_);
    throw LabError(fmt::format("cannot enter namespace {}: {}", netns, std::strerror(saved)));
  }
}

NetnsGuard::~NetnsGuard() {
  if (original_ >= 0) {
    (void)::setns(original_, CLONE_NEWNET);
    ::close(original_);
  }
}

int socket_in(const std::string& netns, int domain, int type, int protocol) {
  NetnsGuard guard(netns);
  const int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw LabError(fmt::format("socket in {}: {}", netns, std::strerror(errno)));
  return fd;
}

void write_sysctl(const std::string& netns, const std::string& key, const std::string& value) {
  NetnsGuard guard(netns);
  const std::string path = "/proc/sys/" + key;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    const int saved = errno;
    if (fd >= 0) ::close(fd);
    throw LabError(fmt::format("sysctl {}={} in {}: {}", key, value, netns, std::strerror(saved)));
  }
  ::close(fd);
}

void set_ethtool_feature(const std::string& netns, const std::string& ifname, std::uint32_t command, bool on,
                         const std::string& what) {
  NetnsGuard guard(netns);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw LabError(fmt::format("socket in {}: {}", netns, std::strerror(errno)));
  ethtool_value value{};
  value.cmd = command;
  value.data = on ? 1 : 0;
  ifreq request{};
  ifname.copy(request.ifr_name, IFNAMSIZ - 1);
  request.ifr_data = reinterpret_cast<char*>(&value);
  const int rc = ::ioctl(fd, SIOCETHTOOL, &request);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) {
    throw LabError(fmt::format("turn {} {} on {} in {}: {}", on ? "on" : "off", what, ifname, netns,
                               std::strerror(saved)));
  }
}

void disable_checksum_offload(const std::string& netns, const std::string& ifname) {
  set_ethtool_feature(netns, ifname, ETHTOOL_STXCSUM, false, "tx checksum offload");
}

ExitStatus ExitStatus::from_wait_status(int status) {
  ExitStatus s;
  if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
    s.core_dumped = WCOREDUMP(status);
  } else {
    s.code = WEXITSTATUS(status);
  }
  return s;
}

std::string describe(const ExitStatus& status) {
  if (status.signal == 0) return fmt::format("exited with status {}", status.code);
  const char* name = ::sigabbrev_np(status.signal);
  return fmt::format("killed by {}{}", name ? fmt::format("SIG{}", name) : fmt::format("signal {}", status.signal),
                     status.core_dumped ? " (core dumped)" : "");
}

std::optional<ExitStatus> exit_status(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  const std::lock_guard<std::mutex> lock(g_reaped_mutex);
  if (const auto it = g_reaped.find(pid); it != g_reaped.end()) return ExitStatus::from_wait_status(it->second);
  int status = 0;
  pid_t r = 0;
  while ((r = ::waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r != pid) return std::nullopt;
  g_reaped[pid] = status;
  return ExitStatus::from_wait_status(status);
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) {  // our child, now reaped
    remember_reaped(pid, status);
    return false;
  }
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close_paren = line.rfind(')');
  return close_paren == std::string::npos || line.size() < close_paren + 3 || line[close_paren + 2] != 'Z';
}

void stop_process(pid_t pid, int grace_ms) {
  if (!process_alive(pid)) return;
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_alive(pid)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  if (::waitpid(pid, &status, 0) == pid) remember_reaped(pid, status);
}

}  // namespace teredo::netns
