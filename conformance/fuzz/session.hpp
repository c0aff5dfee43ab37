// `teredo-conform fuzz`: the I/O edge of the wire fuzzer. It builds the
// role's lab (fuzz/rig: server-only, relay-only or client-lab), starts the
// IUT as the cases do (engine/iut_adapter start_iut), brings it into a
// protocol state with the played parties (server: after a qualified client,
// fresh, after a secure RS, in turn; relay: with a trusted Teredo peer and a
// native host; client: qualifying, then qualified), then sends generated datagrams
// (fuzz/generator) interleaved with valid ones, with a liveness probe (the
// rig's: a valid RS answered by an RA carrying its nonce; a packet relayed
// to the native host carrying its marker; an echo answered by the client)
// every probe_every datagrams.
//
// Oracles: the IUT's death (its process or one of its tree: engine/iut_watch),
// two failed probes in a row, sanitizer or panic text in its log, memory
// growth, and the wire invariants (fuzz/oracles) on everything it sends,
// captured on the driver's interface. A finding's history (the datagrams
// since the probe before the last good one) is minimized with ddmin, each
// subset replayed against a fresh IUT, and written to OUT/fuzz/findings/<id>/.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/iut_adapter.hpp"
#include "fuzz/rig.hpp"

namespace teredo::netns {
class Lab;
}

namespace teredo::conformance::fuzz {

struct FuzzOptions {
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
// reaches the state (a harness error, never a finding).
// `role` is one of fuzzed_roles() (fuzz/rig.hpp).
nlohmann::json fuzz_iut(const Adapter& adapter, const std::string& role, const FuzzOptions& options,
                        const std::atomic<bool>& interrupted);

// A datagram of a capture to replay through a role's rig.
struct ReplayInput {
  std::uint64_t frame = 0;  // in the capture
  Sent sent;
  std::string what;
};
// `teredo-conform replay --role relay`: builds the role's lab, brings a fresh
// IUT into the fuzzer's state, sends each datagram and judges it by the
// fuzzer's oracles (death, wire invariants, sanitizer text), then two
// liveness probes. Writes OUT/replay/replay.json (exit_code 1 on a fail,
// else 0) and OUT/replay/iut.log. Throws AdapterError when the state is not
// reached.
nlohmann::json replay_through_rig(const Adapter& adapter, const std::string& role, const std::string& pcap_path,
                                  const std::vector<ReplayInput>& inputs, const std::string& out_dir,
                                  const std::atomic<bool>& interrupted);

// `teredo-conform fuzz minimize`: sends a capture's datagrams (a long
// history that crashes an IUT, a fuzz run's traffic) to a fresh IUT in the
// fuzzer's state; when an oracle fires, the capture is the finding's
// history, minimized and written as a fuzz run writes its findings. Returns
// the summary (no finding: the capture did not reproduce anything).
nlohmann::json minimize_capture(const Adapter& adapter, const std::string& role,
                                const std::vector<ReplayInput>& inputs, const FuzzOptions& options,
                                const std::atomic<bool>& interrupted);

// Writes and returns the summary of the session running now (for a second
// Ctrl-C, from the signal thread), or null when none runs.
nlohmann::json running_fuzz_summary();

}  // namespace teredo::conformance::fuzz
