// fuzz_relay_state: a stateful fuzzer of the sans-I/O Relay (RFC 4380 §5.4):
// datagrams from the Teredo side, IPv6 packets from the native side, timers.
// Input: a configuration byte and up to 256 (time advance, datagram) events
// (state_harness.hpp). Properties: those of state_harness.hpp (no datagram to
// a non-global IPv4, every datagram parses with wire::parse_datagram, sent
// from the node's own endpoints, a bounded peer list, timers that progress).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz_common.hpp"
#include "state_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto result = teredo::fuzz::state::run_relay(teredo::wire::Bytes(data, size));
  if (result.violation) {
    std::fprintf(stderr, "property violated: %s (after %zu events)\n", result.violation->c_str(), result.events);
    std::abort();
  }
  return 0;
}
