// What `teredo-conform fuzz` needs to know of the role it fuzzes: the lab it
// runs in, how the played parties bring a fresh IUT into the state the
// datagrams are sent in, the liveness probe, where the datagrams go, which
// of the IUT's datagrams the wire invariants judge and how. The session
// (fuzz/session.cpp) is the same for every role: the IUT, the oracles, the
// findings, minimization against fresh IUTs and the files.
//
// A rig is the I/O edge of one role; the bytes it sends come from the
// sans-I/O generator (fuzz/generator) and the judgement from fuzz/oracles.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fuzz/generator.hpp"
#include "fuzz/oracles.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::netns {
class Lab;
}

namespace teredo::conformance {
struct Adapter;
}

namespace teredo::conformance::fuzz {

// A datagram the fuzzer sent, with what it was built from (finding.json).
struct Sent {
  wire::ByteVector payload;
  std::string base;
  std::vector<std::string> mutations;
  // Where it went. Unset: a UDP payload from the fuzzing endpoint to the
  // IUT's Teredo port. Set (relay): a native IPv6 host's UDP datagram to
  // [native_to]:native_port, which the IUT relay must carry to a Teredo peer.
  std::optional<wire::Ipv6Address> native_to;
  std::uint16_t native_port = 0;
};

// Whether the IUT is still running: a wait for an answer ends early when not.
using Alive = std::function<bool()>;

class RoleRig {
 public:
  virtual ~RoleRig() = default;

  [[nodiscard]] virtual std::string role() const = 0;      // "server" | "relay" | "client"
  [[nodiscard]] virtual std::string topology() const = 0;  // a bundled netns topology
  // The NAT profile the lab's NAT gets (netns::apply_nat_profile); nullopt:
  // the topology's own.
  [[nodiscard]] virtual std::optional<std::string> nat_profile() const { return std::nullopt; }
  // The host whose eth0 sees what the IUT sends (the capture the wire
  // invariants judge).
  [[nodiscard]] virtual std::string tap_host() const { return "driver"; }
  // The IUT's IPv4 addresses: what it sends from them on the driver's link
  // is what the wire invariants judge.
  [[nodiscard]] virtual std::vector<std::string> iut_addresses() const = 0;
  // The state the datagrams are sent in, for the summary's per-state counts
  // (a key) and finding.json (a sentence): the state the IUT is in now.
  [[nodiscard]] virtual std::string state_key() const = 0;
  [[nodiscard]] virtual std::string state() const = 0;
  // Every state this rig can bring the IUT into (keys; the first is the
  // selected one at construction, the one replay and regressions without a
  // state use). A fuzz run goes through them in turn, each with a fresh IUT.
  [[nodiscard]] virtual std::vector<std::string> state_keys() const { return {state_key()}; }
  // Selects the state the next fresh IUT is brought into (before it is
  // started: the state may need another launch). False: not a key of
  // state_keys().
  virtual bool select_state(const std::string& key) { return key == state_key(); }
  // The capability whose launch variant the IUT needs in the selected state
  // (engine/iut_adapter kLaunchVariants), empty for the plain launch.
  [[nodiscard]] virtual std::string launch_capability() const { return {}; }
  // The state a datagram was made for (a rig with more than one state).
  [[nodiscard]] virtual std::string state_of(const Sent& /*sent*/) const { return state_key(); }
  // After a good probe: whether the IUT must be started afresh to enter its
  // first state again (a client qualifies only once per instance).
  [[nodiscard]] virtual bool wants_fresh_iut() const { return false; }

  // Opens the played parties' sockets in the lab (once per run); `adapter`
  // says what the IUT declares (timers, capabilities, an address probe).
  virtual void open(netns::Lab& lab, const Adapter& adapter) = 0;
  // Brings a freshly started IUT into the state; false when it does not get
  // there (at the start of a run a harness error, never a finding).
  virtual bool enter_state(const Alive& alive) = 0;
  // One liveness probe: true when the IUT did what it must for a valid
  // stimulus attributed to this probe by its content.
  virtual bool probe(const Alive& alive) = 0;
  // What one failed probe was, for the unresponsive finding.
  [[nodiscard]] virtual std::string probe_description() const = 0;

  // How the generator names the lab.
  [[nodiscard]] virtual GeneratorContext context() const = 0;
  // The next datagram: usually the generator's, a rig may add its own kinds.
  virtual Sent next(DatagramGenerator& generator) = 0;
  // Sends a batch (in order) and records what the oracles must know of it.
  virtual void send(const std::vector<const Sent*>& batch) = 0;
  // The wire invariants for one datagram the IUT sent.
  [[nodiscard]] virtual std::optional<WireViolation> check(const IutDatagram& datagram) const = 0;
  // The frame a reproducer.pcap holds for a datagram (Ethernet).
  [[nodiscard]] virtual wire::ByteVector reproducer_frame(const Sent& sent) const = 0;
};

// How the generator names the lab of every rig: the server 203.0.113.1,
// the fuzzing client 198.51.100.7:client_port and a peer at :peer_port
// (their Teredo addresses name that server), the native host
// 2001:db8:1::10 and the non-global 192.88.99.7 on the driver's link.
GeneratorContext lab_context(std::uint16_t client_port, std::uint16_t peer_port);

// The rig of a role, or nullptr when the role is not fuzzed. The IUT's
// declared capabilities decide the states offered (a server's "after a
// secure RS" only with secure_qualification).
std::unique_ptr<RoleRig> make_rig(const std::string& role, std::uint64_t seed,
                                  const std::set<std::string>& capabilities = {});
// The roles make_rig knows.
std::vector<std::string> fuzzed_roles();

// A UDP socket in the lab's driver namespace bound to address:port, with
// 4 MiB buffers (the fuzzer sends in bursts). Throws std::runtime_error when
// it cannot bind.
int bind_udp(netns::Lab& lab, const std::string& host, const std::string& address, std::uint16_t port);
// One exchange of a played party: `send` a stimulus, then wait up to
// `timeout` for `answered(fd)` (called when `fd`, one of `fds`, is
// readable: it reads and attributes by content) to say the answer came. The
// same stimulus is sent again at a third and at two thirds of the timeout:
// one lost datagram is not a verdict. False at the deadline, or as soon as
// `alive` says the IUT is gone (a dead IUT answers nothing).
bool await_answer(const std::vector<int>& fds, std::chrono::milliseconds timeout, const std::function<void()>& send,
                  const std::function<bool(int fd)>& answered, const Alive& alive);

// 4 MiB send and receive buffers (the fuzzer sends in bursts).
void set_burst_buffers(int fd);
// 198.51.100.7:port on the driver: the fuzzer's and the replay's endpoints.
int bind_driver_socket(netns::Lab& lab, std::uint16_t port);

// Sends every payload of `batch` (sendmmsg) from `fd` to `to`; a datagram
// the kernel refuses (too big) is skipped.
void send_batch(int fd, const std::string& to_address, std::uint16_t to_port,
                const std::vector<const wire::ByteVector*>& payloads);

}  // namespace teredo::conformance::fuzz
