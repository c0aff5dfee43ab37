// Watches an IUT's processes for a death the root PID does not show: a
// supervisor that restarts a crashed worker (Debian's miredo and
// miredo-server do: "Child 1990 killed by signal 11", then "Starting...")
// stays alive while the process that served the case died. The harness
// takes a snapshot of the IUT's process tree once it is ready, and at the
// end of the case every process of the snapshot must still be the same
// process (same PID, same start time), else the IUT died
// (conformance/JUDGING.md §1).
//
// Only processes running the IUT's own executable count: a daemon's workers
// are forks of it, while the programs it runs (miredo's client-hook, a shell
// script run at every address change) may come and go as they please.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace teredo::conformance {

struct ProcessIdentity {
  pid_t pid = 0;
  pid_t parent = 0;
  std::uint64_t start_time = 0;  // clock ticks after boot (/proc/PID/stat field 22): tells PID reuse apart
  std::string name;              // /proc/PID/comm
  std::string executable;        // /proc/PID/exe
};

// `root` and those of its descendants that run the same executable, now (a
// scan of /proc); empty when root is gone.
std::vector<ProcessIdentity> process_tree(pid_t root);

// The first process of `snapshot` that is no longer running as the same
// process, described for a report ("pid 1990 (miredo-server), a process of
// the IUT, ended while its parent 1988 lived on"); nullopt when all live.
std::optional<std::string> lost_process(const std::vector<ProcessIdentity>& snapshot);

// Reads one process's identity (nullopt: gone or a zombie).
std::optional<ProcessIdentity> read_process(pid_t pid);

}  // namespace teredo::conformance
