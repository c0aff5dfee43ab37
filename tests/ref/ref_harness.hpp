// What the teredo-ref lab and interop tests share: starting teredo-ref (and
// Miredo) in a lab and waiting until it is ready, a UDP socket in a lab
// namespace that speaks raw Teredo datagrams, and a Teredo client played by
// the test with the wire builders (qualification, answering bubbles and
// echo requests). Nothing here uses reference/node: the daemon under test
// must not be judged by its own code.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "teredo/netns/lab.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/hmac.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/teredo_address.hpp"

namespace teredo::reftest {

using namespace std::chrono_literals;

bool running_as_root();
bool miredo_installed();
std::string topology_path(const std::string& name);

std::string write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

struct Endpoint {
  wire::Ipv4Address address;
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};
std::string to_string(const Endpoint& e);
Endpoint endpoint(const std::string& ipv4, std::uint16_t port);
wire::Ipv6Address ipv6(const std::string& text);

// A daemon started in a lab (teredo-ref or Miredo) with its log file.
struct Daemon {
  pid_t pid = -1;
  std::string log;
  [[nodiscard]] std::string output() const { return read_file(log); }
};

// Starts teredo-ref with `args` in `host` and waits for its "ready" line.
// Throws std::runtime_error with the log when it exits or does not get ready.
Daemon start_ref(netns::Lab& lab, const std::string& host, const std::vector<std::string>& args,
                 const std::string& name, std::chrono::milliseconds timeout = 5s);
// Waits until `needle` appears in the daemon's log.
bool wait_for_log(const Daemon& d, const std::string& needle, std::chrono::milliseconds timeout = 3s);
// Sends SIGTERM and waits for the exit; returns the exit status (waitpid
// form), or -1 if it did not exit within `timeout` (then it is killed).
int terminate(const Daemon& d, std::chrono::milliseconds timeout = 3s);

// One UDP socket bound inside a lab host.
class LabUdp {
 public:
  LabUdp(const netns::Lab& lab, const std::string& host, Endpoint bind_to);
  ~LabUdp();
  LabUdp(const LabUdp&) = delete;
  LabUdp& operator=(const LabUdp&) = delete;

  void send(Endpoint to, wire::Bytes payload) const;
  struct Received {
    Endpoint from;
    wire::ByteVector payload;
  };
  std::optional<Received> receive(std::chrono::milliseconds timeout) const;
  [[nodiscard]] Endpoint local() const noexcept { return local_; }
  // SO_RCVBUFFORCE (root): room for a burst of answers.
  void set_receive_buffer(int bytes) const;

 private:
  int fd_ = -1;
  Endpoint local_;
};

// An RS as a Teredo client sends it (§5.2.1): from a link-local address
// whose identifier carries the cone bit or not, to ff02::2. With `auth`
// (client id + secret) the authentication encapsulation is added and its
// HMAC computed over nonce | confirmation | IPv6 packet (§5.2.2).
struct RsAuth {
  std::string client_id;
  std::string secret;
  wire::Nonce nonce{};
  wire::MacAlgorithm algorithm = wire::MacAlgorithm::hmac_sha1;
};
wire::ByteVector make_rs(bool cone, std::uint8_t hop_limit = 255, const std::optional<RsAuth>& auth = {});
wire::Ipv6Address rs_source(bool cone);

// What a router advertisement in a Teredo datagram says (empty `error` when
// it is a well-formed RA with an origin indication).
struct RaSummary {
  std::string error;
  Endpoint origin;
  wire::Ipv6Address source, destination;
  std::uint8_t hop_limit = 0;
  std::optional<wire::Ipv6Address> prefix;
  std::uint8_t prefix_length = 0;
  std::optional<std::uint32_t> mtu;
  bool authenticated = false;  // carried an authentication encapsulation
  std::uint8_t confirmation = 0;
  wire::ByteVector client_id;
  wire::Nonce nonce{};
};
RaSummary read_ra(wire::Bytes payload);

// A Teredo client played by the test behind whatever the lab puts in front
// of it: qualifies with a server, answers indirect bubbles with a direct
// bubble to the origin (§5.2.3) and echo requests with echo replies.
class PlayedClient {
 public:
  PlayedClient(const netns::Lab& lab, const std::string& host, Endpoint bind_to) : socket_(lab, host, bind_to) {}

  // RS to `server`:3544 until an RA with an origin indication arrives;
  // returns the Teredo address built from it (cone bit clear).
  std::optional<wire::TeredoAddress> qualify(wire::Ipv4Address server, std::chrono::milliseconds timeout = 3s);
  // Handles what arrives for `duration` (or until `done` returns true).
  template <class Done>
  void serve(std::chrono::milliseconds duration, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + duration;
    while (!done() && std::chrono::steady_clock::now() < deadline) serve_one(20ms);
  }

  [[nodiscard]] const wire::TeredoAddress& address() const noexcept { return address_; }
  [[nodiscard]] wire::Ipv6Address ipv6() const noexcept { return address_.to_ipv6(); }
  std::size_t indirect_bubbles = 0;  // bubbles that came with an origin indication
  std::size_t echo_requests = 0;     // answered
  std::vector<Endpoint> bubble_origins;
  std::vector<Endpoint> echo_senders;

 private:
  void serve_one(std::chrono::milliseconds timeout);
  LabUdp socket_;
  wire::TeredoAddress address_{};
};

// Debian's Miredo (`binary`: miredo or miredo-server) in the foreground with
// `conf` as its configuration file.
Daemon start_miredo(netns::Lab& lab, const std::string& host, const std::string& name, const std::string& conf,
                    const std::string& binary = "miredo");

// teredo-ref client in `host`: --server 203.0.113.1, the TUN <prefix>-tun,
// a state file <run_dir>/<name>.state, time scale 0.1 and -v, plus `extra`.
struct RefClient {
  Daemon daemon;
  std::string state_file;
  std::string tun;
};
RefClient start_ref_client(netns::Lab& lab, const std::string& host, const std::string& name,
                           const std::vector<std::string>& extra = {}, const std::string& server = "203.0.113.1");
// What the client's state file says.
struct ClientState {
  std::string state, nat, address, mapped;
};
std::optional<ClientState> read_client_state(const std::string& path);
// Qualified or off-line: qualification has come to an end.
inline bool client_settled(const ClientState& s) { return s.state == "qualified" || s.state == "offline"; }
// What a client run behind a NAT profile came to, and whether ping6 to
// 2001:db8:1::10 (`out`) and back to the client (`back`) went through:
// "NAT full-cone: teredo-ref client qualified (nat restricted, 2001:0:...)
// with <server>; ping6 client->native ok, native->client ok through <relay>".
struct ClientOutcome {
  bool qualified = false, out = false, back = false;
  std::string summary;
};
ClientOutcome client_outcome(netns::Lab& lab, const std::string& profile, const ClientState& state,
                             const std::string& server, const std::string& relay);
// Waits until the state file satisfies `done`; returns the last state read.
std::optional<ClientState> wait_client_state(const std::string& path, const std::function<bool(const ClientState&)>& done,
                                             std::chrono::milliseconds timeout);

// Waits up to `timeout` for a Teredo address on `ifname`.
std::optional<std::string> wait_for_teredo_address(netns::Lab& lab, const std::string& host, const std::string& ifname,
                                                   std::chrono::milliseconds timeout = 10s);

// The Teredo address on `ifname` in `host` (`ip -6 addr`), if any.
std::optional<std::string> teredo_address_on(netns::Lab& lab, const std::string& host, const std::string& ifname);
bool ping6(netns::Lab& lab, const std::string& host, const std::string& address, int count = 3);

}  // namespace teredo::reftest
