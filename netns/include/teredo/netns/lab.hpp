// A running lab: the namespaces, links, segments, addresses, routes, sysctl
// baseline and NAT boxes of a Topology, all named with the run's prefix and
// recorded in its registry before they exist. Each namespace also carries its
// owner (PID and start time) in the alias of its loopback interface, so that
// `lab clean` can tell a dead run's namespaces from a live one's whatever run
// root either used. Teardown always runs: on down(), in the destructor, on
// every signal that ends the process (install_teardown_on_signals), and after
// a crash through `lab clean`.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "teredo/netns/process.hpp"
#include "teredo/netns/registry.hpp"
#include "teredo/netns/topology.hpp"

namespace teredo::netns {

struct LabOptions {
  std::string prefix;  // empty: make_prefix()
  std::string run_root = default_run_root();
  bool detached = false;     // kept by `lab clean` until `lab down PREFIX`
  std::string nat_binary;    // empty: TEREDO_NAT_BIN, then the one built with this tree
  std::uint64_t seed = 1;    // NAT port allocation
  // For benchmarks: every switch port and every end of a direct link gets
  // GRO (which puts a veth in NAPI mode) and threaded NAPI, so a frame's way
  // through the switch and the receiving host runs in a kernel thread, not
  // inside the sender's system call. A process's CPU time then covers its
  // own work, as behind a real NIC; without it a veth sender also pays for
  // its receivers' stacks.
  bool threaded_napi = false;
  // Every log of a process the lab spawns keeps at most this many bytes
  // (0: no cap, the process writes the file itself). See LogTap.
  std::uint64_t log_cap_bytes = 0;
};

class Lab {
 public:
  // Builds the lab; on any failure tears down what was built and throws
  // LabError naming the step.
  static std::unique_ptr<Lab> up(const Topology& topology, LabOptions options = {});
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  void down() noexcept;
  // Keeps the lab up when this object dies (for `lab up --detach`).
  void release() noexcept { released_ = true; }

  [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
  [[nodiscard]] const Topology& topology() const noexcept { return topology_; }
  [[nodiscard]] std::string netns(const std::string& host) const;  // throws on an unknown host
  [[nodiscard]] const std::string& run_dir() const noexcept { return registry_.run_dir(); }
  // The control socket of the NAT box on `host` (a Unix stream socket).
  [[nodiscard]] std::string nat_control(const std::string& host) const;

  // Starts a process in a host's namespace, recorded for teardown. Throws
  // LabError once the lab is down.
  pid_t spawn(const std::string& host, const std::vector<std::string>& argv,
              const std::string& log_path = {});
  // Bytes of output the processes writing `log_path` lost to the lab's log
  // cap, once they are gone (waits up to `timeout` for them to close it; a
  // process that outlives the wait counts what it lost so far).
  std::uint64_t log_discarded(const std::string& log_path, std::chrono::milliseconds timeout) const;
  CommandResult exec(const std::string& host, const std::vector<std::string>& argv,
                     const std::string& input = {});
  int socket(const std::string& host, int domain, int type, int protocol = 0) const;

  // Waits until every interface that has an IPv6 address in the topology
  // shows its link-local address (not tentative). The kernel only adds it
  // once the link's carrier is up, which linkwatch may report up to a
  // second after the veth is created; until then the interface cannot send
  // neighbour solicitations and native IPv6 goes nowhere. IPv4-only cases
  // need not wait. False (nothing thrown) on timeout.
  bool wait_ipv6_ready(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

  // Sends one command to a NAT box's control socket ("rebind", "expire",
  // "blackout MS", "stats") and returns its one-line JSON answer.
  std::string nat_command(const std::string& host, const std::string& command) const;

 private:
  Lab(Topology topology, LabOptions options, std::string prefix);
  void build();
  void add_namespace(const std::string& name);
  void configure_host(const Host& host);
  void thread_napi(const std::string& ns, const std::string& ifname);
  void start_nat(const Host& host);
  pid_t spawn_locked(const std::string& host, const std::vector<std::string>& argv, const std::string& log_path);

  Topology topology_;
  LabOptions options_;
  std::string prefix_;
  Registry registry_;
  // Held while the lab is built, spawns or goes down: down() from a signal
  // thread waits for a build in progress, so nothing is created after it.
  mutable std::mutex state_mutex_;
  bool down_ = false;
  bool released_ = false;
  std::map<std::string, std::vector<std::shared_ptr<LogTap>>> log_taps_;
};

// The owner a lab wrote into one of its namespaces (nullopt: none, e.g. a
// namespace still being built, or not one of ours).
struct NamespaceOwner {
  pid_t pid = 0;
  std::uint64_t start_time = 0;
  bool detached = false;
};
std::optional<NamespaceOwner> namespace_owner(const std::string& netns);
// The alias a lab gives the loopback interface of its namespaces.
std::string owner_marker(const RegistryRecord& record);

// What `lab clean` removed, and the namespaces of ours it left because
// nothing says who owns them.
struct CleanReport {
  std::vector<std::string> runs;
  std::vector<std::string> namespaces;
  std::vector<pid_t> processes;
  std::vector<std::string> unknown_owner;
};
// Removes the objects of every run of `run_root` whose owner is gone (and
// detached runs when `include_detached`), plus namespaces of ours, whatever
// their run root, whose owner mark names a dead process. A namespace whose
// owner is alive or unknown is never removed.
CleanReport clean_leftovers(const std::string& run_root, bool include_detached);
// Removes one run by prefix, whoever owns it (`lab down PREFIX`).
bool remove_run(const std::string& run_root, const std::string& prefix);

// Tears down every live Lab of this process (for signal handlers' threads);
// from then on Lab::up refuses to build.
void teardown_all_labs() noexcept;

// The signals whose default action ends the process and that come from
// outside it (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, ...): the ones
// install_teardown_on_signals handles.
const std::vector<int>& terminating_signals();

// Blocks terminating_signals() and starts a thread that handles them, and
// ignores SIGPIPE (a write to a closed pipe or socket fails with EPIPE
// instead of killing the process; spawned children get the default back).
// Without `on_first`, the first signal tears down every live Lab and exits
// with 128+signal. With it, the first signal calls on_first(signal) (a driver
// lets its running cases finish) and a second one tears down and exits.
// `before_exit(signal)`, when given, runs just before that teardown (a driver
// writes the report of what finished) and returns the exit status.
// Call first in main, before other threads start.
void install_teardown_on_signals(std::function<void(int)> on_first = {},
                                 std::function<int(int)> before_exit = {});

}  // namespace teredo::netns
