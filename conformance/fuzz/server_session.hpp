// `teredo-conform fuzz --role server`: the I/O edge of the wire fuzzer. It
// builds a server-only lab, starts the IUT server as the server cases do
// (engine/iut_adapter start_iut), brings it into the state "after a
// qualified client" (a valid RS/RA exchange from the fuzzing endpoint and
// from a peer), then sends generated datagrams (fuzz/generator) interleaved
// with valid ones, with a liveness probe (a valid RS with a fresh nonce,
// answered by an RA carrying it) every probe_every datagrams.
//
// Oracles: the IUT's death (its process or one of its tree: engine/iut_watch),
// two failed probes in a row, sanitizer or panic text in its log, and the
// wire invariants (fuzz/oracles) on everything it sends, captured on the
// driver's interface. A finding's history (the datagrams since the probe
// before the last good one) is minimized with ddmin, each subset replayed against a fresh
// IUT, and written to OUT/fuzz/findings/<id>/.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/iut_adapter.hpp"

namespace teredo::netns {
class Lab;
}

namespace teredo::conformance::fuzz {

// A UDP socket in the lab's driver namespace bound to 198.51.100.7:port,
// with 4 MiB buffers (the fuzzer sends in bursts): the fuzzer's and the
// replay's endpoints. Throws std::runtime_error when it cannot bind.
int bind_driver_socket(netns::Lab& lab, std::uint16_t port);

struct ServerFuzzOptions {
  std::uint64_t seed = 1;
  double duration_s = 60;
  std::uint64_t datagrams = 20000;
  std::uint64_t probe_every = 1000;
  std::string out_dir = "out";  // findings under OUT/fuzz/
  std::size_t minimize_calls = 150;   // ddmin predicate calls (each a fresh IUT) per finding
  double minimize_seconds = 180;      // and wall time per finding
  std::uint64_t rss_growth_mb = 256;  // the IUT's resident memory may grow this much over a qualified start
  std::string command_line;
};

// Runs the session and writes OUT/fuzz/summary.json; returns the summary.
// `interrupted` (set by the first Ctrl-C) ends the run early (a minimization
// in progress stops and keeps its whole history): the findings so far are
// written. Throws AdapterError when the IUT cannot be started or never
// answers a valid RS (the state cannot be reached: a harness error).
nlohmann::json fuzz_server(const Adapter& adapter, const ServerFuzzOptions& options,
                           const std::atomic<bool>& interrupted);

// Writes and returns the summary of the session running now (for a second
// Ctrl-C, from the signal thread), or null when none runs.
nlohmann::json running_fuzz_summary();

}  // namespace teredo::conformance::fuzz
