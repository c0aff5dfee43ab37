// bench_relay_load (root): packets per second a Teredo relay forwards, and the
// relay's CPU time per packet, in both directions, for teredo-ref (with its
// UDP socket, and with --packet-ring on the relay's IPv4 interface) and
// Debian's miredo (RelayType cone) in the same run, at the same offered rate.
//
// relay-bench topology: a synthetic Teredo client in `driver` with a global
// address (its Teredo address maps to itself: no NAT), its server in `server`
// (miredo-server: the relay only needs it to forward bubbles), the relay, and
// a native IPv6 host `v6host` routing 2001::/32 through the relay. Miredo's
// own client would saturate before its relay does, so the client side is
// pre-built datagrams sent in sendmmsg batches at a paced rate.
//   native -> Teredo: v6host sends UDP/IPv6 to the client's Teredo address;
//     the client answers the relay's indirect bubble with a direct one, then
//     counts what arrives.
//   Teredo -> native: the client sends Teredo datagrams to the relay; v6host
//     counts what arrives.
// Relay CPU = schedstat of every thread of every process in its namespace.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
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


const Ipv4Address kClientIpv4 = Ipv4Address::from_octets(198, 51, 100, 7);
constexpr std::uint16_t kClientPort = 40000;
const Ipv4Address kServer = Ipv4Address::from_octets(203, 0, 113, 1);
const Ipv4Address kRelay = Ipv4Address::from_octets(198, 51, 100, 20);
constexpr std::uint16_t kRelayPort = 3545;

Ipv6Address client_address() { return TeredoAddress{kServer, make_teredo_flags(false, 0x0123), kClientPort, kClientIpv4}.to_ipv6(); }
Ipv6Address native_address() { return parse_ipv6("2001:db8:1::10").value(); }

// An IPv6/UDP packet with its checksum (RFC 8200 §8.1 pseudo-header).
ByteVector udp6(const Ipv6Address& src, const Ipv6Address& dst, std::uint16_t sport, std::uint16_t dport,
                std::size_t payload_size) {
  ByteVector udp;
  ByteWriter w(udp);
  w.u16(sport);
  w.u16(dport);
  w.u16(static_cast<std::uint16_t>(8 + payload_size));
  w.u16(0);
  w.zeros(payload_size);
  ChecksumAccumulator sum;
  sum.add(src.bytes);
  sum.add(dst.bytes);
  sum.add_u32(static_cast<std::uint32_t>(udp.size()));
  sum.add_u16(kNextHeaderUdp);
  sum.add(udp);
  const std::uint16_t c = sum.finish();
  w.patch_u16(6, c == 0 ? 0xFFFF : c);
  Ipv6Header h;
  h.next_header = kNextHeaderUdp;
  h.hop_limit = 64;
  h.source = src;
  h.destination = dst;
  return build_ipv6_packet(h, udp);
}

int bound(Lab& lab, const std::string& host, int family, const std::string& address, std::uint16_t port) {
  const int fd = lab.socket(host, family, SOCK_DGRAM | SOCK_NONBLOCK);
  const int big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind " + address);
  } else {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, address.c_str(), &a.sin6_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind " + address);
  }
  return fd;
}

// Counts datagrams on `fd` until `stop`; on the client side, answers bubbles
// that come with an origin indication (the relay's, through the server) with
// a direct bubble to that origin (RFC 4380 §5.2.3).
void count_loop(int fd, bool client_side, std::atomic<bool>& stop, std::atomic<std::uint64_t>& counted) {
  constexpr int kBatch = 64;
  static thread_local std::uint8_t buffers[kBatch][2048];
  mmsghdr messages[kBatch];
  iovec iov[kBatch];
  while (!stop) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {buffers[i], sizeof buffers[i]};
      messages[i] = {};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fd, messages, kBatch, MSG_DONTWAIT, nullptr);
    for (int i = 0; i < n; ++i) {
      if (!client_side) {
        ++counted;
        continue;
      }
      auto d = parse_datagram(Bytes(buffers[i], messages[i].msg_len));
      if (!d) continue;
      if (is_bubble(d->ipv6)) {
        if (d->origin) {
          const ByteVector reply = build_bubble(client_address(), d->ipv6.header.source);
          sockaddr_in to{};
          to.sin_family = AF_INET;
          to.sin_port = htons(d->origin->port);
          to.sin_addr.s_addr = htonl(d->origin->address.value);
          sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        }
        continue;
      }
      if (d->ipv6.header.next_header == kNextHeaderUdp) ++counted;
    }
  }
}

// Sends `packet` on `fd` to `to` at `rate` per second for `seconds` (paced in
// 64-datagram batches). Returns how many were sent.
template <class Address>
std::uint64_t paced_send(int fd, const Address& to, const ByteVector& packet, double rate, double seconds) {
  constexpr int kBatch = 64;
  mmsghdr messages[kBatch];
  iovec iov[kBatch];
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {const_cast<std::uint8_t*>(packet.data()), packet.size()};
    messages[i] = {};
    messages[i].msg_hdr.msg_name = const_cast<Address*>(&to);
    messages[i].msg_hdr.msg_namelen = sizeof to;
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::uint64_t sent = 0;
  while (Clock::now() < end) {
    const double due = std::chrono::duration<double>(Clock::now() - start).count() * rate;
    if (static_cast<double>(sent) + kBatch > due) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    const int n = sendmmsg(fd, messages, kBatch, 0);
    if (n > 0) sent += static_cast<std::uint64_t>(n);
  }
  return sent;
}

struct Figures {
  std::uint64_t sent = 0, delivered = 0, cpu_ns = 0;
  double seconds = 0;
};

void print(const std::string& name, const std::string& direction, const Figures& f) {
  const double cpu_us = f.delivered ? static_cast<double>(f.cpu_ns) / 1000.0 / static_cast<double>(f.delivered) : 0;
  fmt::print("{:<14} {:<16} {:>9.0f} delivered/s  {:>6.2f} relay CPU-us each  {:>9.0f} per relay CPU-second  ({} sent, {} delivered)\n",
             name, direction, static_cast<double>(f.delivered) / f.seconds, cpu_us, cpu_us > 0 ? 1e6 / cpu_us : 0.0,
             f.sent, f.delivered);
}

double per_cpu_second(const Figures& f) {
  return f.cpu_ns ? static_cast<double>(f.delivered) / (static_cast<double>(f.cpu_ns) / 1e9) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_relay_load: Teredo relay forwarding, teredo-ref vs miredo (needs root)"};
  double rate = 50000, seconds = 4;
  std::string reference_binary = TEREDO_REF_BIN;
  std::vector<std::string> iuts = {"reference", "reference-ring", "miredo"};
  app.add_option("--rate", rate, "Offered packets per second in each direction")->check(CLI::Range(1000.0, 2e6));
  app.add_option("--seconds", seconds, "Seconds of load per direction")->check(CLI::Range(0.5, 60.0));
  app.add_option("--teredo-ref", reference_binary, "Path of teredo-ref");
  app.add_option("--iut", iuts,
                 "Which relays to measure: reference, reference-ring (teredo-ref --packet-ring eth0), miredo");
  bool sender_pays = false;
  app.add_flag("--sender-pays", sender_pays,
               "Plain veths: a sender's system call also runs its receivers' network stacks, which then count as relay "
               "CPU (default: threaded NAPI on the lab's links, so the relay pays for its own work only)");
  CLI11_PARSE(app, argc, argv);
  if (geteuid() != 0) {
    fmt::print(stderr, "bench_relay_load needs root (network namespaces)\n");
    return 2;
  }
  teredo::netns::install_teardown_on_signals();
  const auto topology =
      teredo::netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/relay-bench.json");
  std::vector<std::pair<std::string, std::pair<Figures, Figures>>> results;
  try {
    for (const auto& iut : iuts) {
      teredo::netns::LabOptions lab_options;
      lab_options.threaded_napi = !sender_pays;
      auto lab = Lab::up(topology, lab_options);
      const std::string dir = lab->run_dir();
      const std::string tun = lab->prefix() + "-tun";
      std::ofstream(dir + "/server.conf") << "ServerBindAddress 203.0.113.1\n";
      lab->spawn("server", {"miredo-server", "-f", "-c", dir + "/server.conf", "-p", dir + "/server.pid"},
                 dir + "/miredo-server.log");
      if (iut == "miredo") {
        std::ofstream(dir + "/relay.conf") << "RelayType cone\nInterfaceName " << tun
                                           << "\nBindAddress 198.51.100.20\nBindPort " << kRelayPort << "\n";
        lab->spawn("relay", {"miredo", "-f", "-c", dir + "/relay.conf", "-p", dir + "/relay.pid"}, dir + "/miredo.log");
      } else if (iut == "reference" || iut == "reference-ring") {
        if (!fs::exists(reference_binary)) {
          fmt::print("{}: {} not built; skipped\n", iut, reference_binary);
          continue;
        }
        std::vector<std::string> command = {reference_binary, "relay", "--bind",
                                            fmt::format("198.51.100.20:{}", kRelayPort), "--interface", tun};
        // The relay's IPv4 interface in relay-bench (its native side, eth1,
        // stays the kernel's, through the TUN).
        if (iut == "reference-ring") command.insert(command.end(), {"--packet-ring", "eth0"});
        lab->spawn("relay", command, dir + (iut == "reference" ? "/teredo-ref.log" : "/teredo-ref-ring.log"));
      } else {
        fmt::print(stderr, "unknown --iut {}\n", iut);
        return 3;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const int client = bound(*lab, "driver", AF_INET, "198.51.100.7", kClientPort);
      const int native = bound(*lab, "v6host", AF_INET6, "2001:db8:1::10", 9000);
      const std::string relay_ns = lab->netns("relay");

      // native -> Teredo
      Figures in;
      {
        std::atomic<bool> stop{false};
        std::atomic<std::uint64_t> counted{0};
        std::thread counter(count_loop, client, true, std::ref(stop), std::ref(counted));
        sockaddr_in6 to{};
        to.sin6_family = AF_INET6;
        to.sin6_port = htons(9100);
        std::memcpy(&to.sin6_addr, client_address().bytes.data(), 16);
        const ByteVector payload(64, 0);
        // Warm-up: bubbles, trust, queue flush.
        paced_send(native, to, payload, 1000, 0.5);
        counted = 0;
        const std::uint64_t cpu0 = namespace_cpu_ns(relay_ns);
        const auto t0 = Clock::now();
        in.sent = paced_send(native, to, payload, rate, seconds);
        in.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        in.cpu_ns = namespace_cpu_ns(relay_ns) - cpu0;
        stop = true;
        counter.join();
        in.delivered = counted;
      }
      // Teredo -> native
      Figures out;
      {
        std::atomic<bool> stop{false};
        std::atomic<std::uint64_t> counted{0};
        std::thread counter(count_loop, native, false, std::ref(stop), std::ref(counted));
        ByteVector datagram;
        append_datagram(datagram, std::nullopt, std::nullopt,
                        udp6(client_address(), native_address(), kClientPort, 9000, 64));
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(kRelayPort);
        to.sin_addr.s_addr = htonl(kRelay.value);
        paced_send(client, to, datagram, 1000, 0.3);
        counted = 0;
        const std::uint64_t cpu0 = namespace_cpu_ns(relay_ns);
        const auto t0 = Clock::now();
        out.sent = paced_send(client, to, datagram, rate, seconds);
        out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        out.cpu_ns = namespace_cpu_ns(relay_ns) - cpu0;
        stop = true;
        counter.join();
        out.delivered = counted;
      }
      close(client);
      close(native);
      print(iut, "native->Teredo", in);
      print(iut, "Teredo->native", out);
      results.push_back({iut, {in, out}});
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_relay_load: {}\n", e.what());
    return 2;
  }
  const Figures* mir_in = nullptr;
  const Figures* mir_out = nullptr;
  for (const auto& r : results) {
    if (r.first == "miredo") {
      mir_in = &r.second.first;
      mir_out = &r.second.second;
    }
  }
  if (mir_in != nullptr && per_cpu_second(*mir_in) > 0 && per_cpu_second(*mir_out) > 0) {
    for (const auto& r : results) {
      if (r.first != "reference" && r.first != "reference-ring") continue;
      fmt::print("teredo-ref{} / miredo, forwarded per relay CPU-second at {:.0f} pps offered: native->Teredo {:.2f}x, "
                 "Teredo->native {:.2f}x (target >= 1.5x)\n",
                 r.first == "reference-ring" ? " --packet-ring" : "", rate,
                 per_cpu_second(r.second.first) / per_cpu_second(*mir_in),
                 per_cpu_second(r.second.second) / per_cpu_second(*mir_out));
    }
  }
  return 0;
}
