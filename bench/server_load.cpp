// bench_server_load (root): router solicitations answered per second by a
// Teredo server in the lab, and the server's CPU time per RS, for teredo-ref
// (with its UDP sockets, and with --packet-ring on the server's interface)
// and Debian's miredo-server in the same run, plus the raw limit of a trivial
// batched UDP echo on the same machine for scale.
//
// The load generator runs in the `driver` namespace of the server-only
// topology: 32 simulated clients (one UDP socket each) keep a fixed window of
// valid RSs outstanding (RFC 5991 style: cone bit clear, authentication
// encapsulation carrying a nonce); an RA counts as an answer only if it echoes
// a nonce we sent. Server CPU time is the sum of /proc/<pid>/task/*/schedstat
// over every process in the server namespace. Bounded: at most --count RSs or
// --seconds of load per implementation.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "namespace_cpu.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/wire/wire.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using teredo::bench::namespace_cpu_ns;
using teredo::netns::Lab;
using namespace teredo::wire;

int kClients = 8;  // --clients
constexpr int kWindowPerClient = 64;  // a full recvmmsg/sendmmsg batch each
constexpr std::uint16_t kFirstClientPort = 20000;


struct LoadResult {
  std::uint64_t sent = 0, answered = 0;
  double seconds = 0;
  std::uint64_t server_cpu_ns = 0;
};

ByteVector make_rs() {
  const Ipv6Address source = parse_ipv6("fe80::ffff:ffff:fffd").value();
  const Ipv6Address all_routers = parse_ipv6("ff02::2").value();
  ByteVector out;
  append_datagram(out, AuthenticationFields{}, std::nullopt, build_router_solicitation(source, all_routers, {}));
  return out;  // the nonce lives at bytes 4..11 (ID-len and AU-len are 0)
}

// Drives `request` (an RS, or any datagram for the echo baseline) at
// `target` from kClients sockets in `host`; `answered(bytes)` tells whether a
// reply counts.
template <class Check>
LoadResult drive(Lab& lab, const std::string& server_host, const sockaddr_in& target, ByteVector request,
                 std::uint64_t count, double seconds, Check answered) {
  std::vector<int> sockets;
  for (int i = 0; i < kClients; ++i) {
    const int fd = lab.socket("driver", AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(static_cast<std::uint16_t>(kFirstClientPort + i));
    inet_pton(AF_INET, "198.51.100.7", &local.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) throw std::runtime_error("bind");
    sockets.push_back(fd);
  }
  std::vector<int> outstanding(kClients, 0);
  std::vector<Clock::time_point> last_progress(kClients, Clock::now());
  std::uint64_t sequence = 0;
  LoadResult r;
  const std::uint64_t cpu_before = namespace_cpu_ns(lab.netns(server_host));
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  std::vector<ByteVector> batch(kWindowPerClient, request);
  mmsghdr messages[kWindowPerClient];
  iovec iov[kWindowPerClient];
  static std::uint8_t rx[kWindowPerClient][2048];
  while (r.sent < count && Clock::now() < deadline) {
    for (int c = 0; c < kClients; ++c) {
      const auto now = Clock::now();
      if (outstanding[c] > 0 && now - last_progress[c] > std::chrono::milliseconds(200)) {
        outstanding[c] = 0;  // lost: give the window back
        last_progress[c] = now;
      }
      const int room = static_cast<int>(
          std::min<std::uint64_t>(static_cast<std::uint64_t>(kWindowPerClient - outstanding[c]), count - r.sent));
      for (int i = 0; i < room; ++i) {
        ++sequence;
        if (batch[i].size() >= 12) std::memcpy(batch[i].data() + 4, &sequence, 8);
        iov[i] = {batch[i].data(), batch[i].size()};
        messages[i] = {};
        messages[i].msg_hdr.msg_name = const_cast<sockaddr_in*>(&target);
        messages[i].msg_hdr.msg_namelen = sizeof target;
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
      }
      if (room > 0) {
        const int n = sendmmsg(sockets[c], messages, static_cast<unsigned>(room), 0);
        if (n > 0) {
          outstanding[c] += n;
          r.sent += static_cast<std::uint64_t>(n);
        }
      }
      for (int i = 0; i < kWindowPerClient; ++i) {
        iov[i] = {rx[i], sizeof rx[i]};
        messages[i] = {};
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
      }
      const int got = recvmmsg(sockets[c], messages, kWindowPerClient, MSG_DONTWAIT, nullptr);
      for (int i = 0; i < got; ++i) {
        if (answered(Bytes(rx[i], messages[i].msg_len))) ++r.answered;
        outstanding[c] = std::max(0, outstanding[c] - 1);
        last_progress[c] = Clock::now();
      }
    }
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  r.server_cpu_ns = namespace_cpu_ns(lab.netns(server_host)) - cpu_before;
  for (int fd : sockets) close(fd);
  return r;
}

bool is_ra(Bytes bytes) {
  auto d = parse_datagram(bytes);
  if (!d || !d->authentication || !d->origin) return false;
  auto icmp = parse_icmpv6(d->ipv6);
  return icmp && icmp->type == kIcmpv6RouterAdvertisement;
}

void report(const std::string& name, const LoadResult& r) {
  const double rate = static_cast<double>(r.answered) / r.seconds;
  const double cpu_us = r.answered ? static_cast<double>(r.server_cpu_ns) / 1000.0 / static_cast<double>(r.answered) : 0;
  fmt::print("{:<22} {:>10.0f} answered/s  {:>6.2f} server CPU-us each  {:>10.0f} per server CPU-second  "
             "({} sent, {} answered, {:.1f} s)\n",
             name, rate, cpu_us, cpu_us > 0 ? 1e6 / cpu_us : 0.0, r.sent, r.answered, r.seconds);
}

double per_cpu_second(const LoadResult& r) {
  return r.server_cpu_ns ? static_cast<double>(r.answered) / (static_cast<double>(r.server_cpu_ns) / 1e9) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_server_load: Teredo server RS load, teredo-ref vs miredo-server (needs root)"};
  std::uint64_t count = 400000;
  double seconds = 8;
  std::string reference_binary = TEREDO_REF_BIN;
  std::vector<std::string> iuts = {"udp-echo", "reference", "reference-ring", "miredo"};
  app.add_option("--count", count, "At most this many requests per implementation");
  app.add_option("--seconds", seconds, "At most this many seconds of load per implementation");
  app.add_option("--teredo-ref", reference_binary, "Path of teredo-ref");
  app.add_option("--iut", iuts, "Which to measure: udp-echo, reference, reference-ring (teredo-ref --packet-ring), miredo");
  app.add_option("--clients", kClients, "Simulated clients (one UDP socket each, 64 RSs in flight)")
      ->check(CLI::Range(1, 256));
  bool sender_pays = false;
  app.add_flag("--sender-pays", sender_pays,
               "Plain veths: a sender's system call also runs its receivers' network stacks, which then count as server "
               "CPU (default: threaded NAPI on the lab's links, so the server pays for its own work only)");
  CLI11_PARSE(app, argc, argv);
  if (geteuid() != 0) {
    fmt::print(stderr, "bench_server_load needs root (network namespaces)\n");
    return 2;
  }
  teredo::netns::install_teardown_on_signals();
  const auto topology =
      teredo::netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/server-only.json");
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(kUdpPortTeredo);
  inet_pton(AF_INET, "203.0.113.1", &server.sin_addr);
  std::vector<std::pair<std::string, LoadResult>> results;
  try {
    for (const auto& iut : iuts) {
      teredo::netns::LabOptions lab_options;
      lab_options.threaded_napi = !sender_pays;
      auto lab = Lab::up(topology, lab_options);
      const std::string dir = lab->run_dir();
      if (iut == "udp-echo") {
        // The limit of the machine: a batched UDP echo (recvmmsg/sendmmsg, 64).
        lab->spawn("server", {TEREDO_UDP_ECHO_BIN, "203.0.113.1", "3544"}, dir + "/echo.log");
      } else if (iut == "reference" || iut == "reference-ring") {
        if (!fs::exists(reference_binary)) {
          fmt::print("{}: {} not built; skipped\n", iut, reference_binary);
          continue;
        }
        std::vector<std::string> command = {reference_binary, "server", "--primary", "203.0.113.1", "--secondary",
                                         "203.0.113.2"};
        // The server's one interface in server-only.json.
        if (iut == "reference-ring") command.insert(command.end(), {"--packet-ring", "eth0"});
        lab->spawn("server", command, dir + (iut == "reference" ? "/teredo-ref.log" : "/teredo-ref-ring.log"));
      } else if (iut == "miredo") {
        std::ofstream(dir + "/miredo-server.conf") << "ServerBindAddress 203.0.113.1\n";
        lab->spawn("server", {"miredo-server", "-f", "-c", dir + "/miredo-server.conf", "-p", dir + "/miredo-server.pid"},
                   dir + "/miredo-server.log");
      } else {
        fmt::print(stderr, "unknown --iut {}\n", iut);
        return 3;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const ByteVector rs = make_rs();
      auto check = iut == "udp-echo" ? +[](Bytes) { return true; } : +[](Bytes b) { return is_ra(b); };
      (void)drive(*lab, "server", server, rs, 20000, 0.5, check);  // warm-up
      const LoadResult r = drive(*lab, "server", server, rs, count, seconds, check);
      report(iut, r);
      results.emplace_back(iut, r);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_server_load: {}\n", e.what());
    return 2;
  }
  const LoadResult* miredo = nullptr;
  for (const auto& [name, r] : results) {
    if (name == "miredo") miredo = &r;
  }
  for (const auto& [name, r] : results) {
    if (miredo == nullptr || per_cpu_second(*miredo) <= 0) break;
    if (name != "reference" && name != "reference-ring") continue;
    fmt::print("teredo-ref{} / miredo-server, RS answered per server CPU-second: {:.2f}x (target >= 1.7x)\n",
               name == "reference-ring" ? " --packet-ring" : "", per_cpu_second(r) / per_cpu_second(*miredo));
  }
  return 0;
}
