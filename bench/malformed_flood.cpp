// bench_malformed_flood (root): 10^6 malformed datagrams (mutations of valid
// ones: bit flips, truncations, extensions, length-field damage) sent at
// teredo-ref server and at teredo-ref relay in a lab. Prints the daemon's RSS
// before and after, whether it is still alive, and whether a valid RS sent
// afterwards still gets its RA (server) / a valid Teredo datagram is still
// forwarded to the native host (relay). Bounded in count (--count) and time
// (--seconds) per target.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "teredo/netns/lab.hpp"
#include "teredo/wire/wire.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using teredo::netns::Lab;
using namespace teredo::wire;

long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = -1;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> value;
      return value;
    }
    status.ignore(4096, '\n');
  }
  return value;
}

ByteVector valid_rs(std::uint8_t nonce_seed) {
  ByteVector out;
  AuthenticationFields auth;
  auth.nonce.fill(nonce_seed);
  append_datagram(out, auth, std::nullopt,
                  build_router_solicitation(parse_ipv6("fe80::ffff:ffff:fffd").value(), parse_ipv6("ff02::2").value(), {}));
  return out;
}

std::vector<ByteVector> seeds() {
  const TeredoAddress a{Ipv4Address::from_octets(203, 0, 113, 1), 0, 40000, Ipv4Address::from_octets(198, 51, 100, 7)};
  const TeredoAddress b{Ipv4Address::from_octets(203, 0, 113, 1), 0x8000, 50000, Ipv4Address::from_octets(198, 51, 100, 9)};
  std::vector<ByteVector> out = {valid_rs(1)};
  ByteVector with_origin;
  append_datagram(with_origin, std::nullopt, OriginIndication{40000, Ipv4Address::from_octets(198, 51, 100, 7)},
                  build_bubble(a.to_ipv6(), b.to_ipv6()));
  out.push_back(with_origin);
  out.push_back(build_bubble(a.to_ipv6(), b.to_ipv6()));
  const std::uint8_t data[24] = {};
  out.push_back(build_echo(a.to_ipv6(), parse_ipv6("2001:db8:1::10").value(), 64, EchoMessage{false, 1, 1, data}));
  return out;
}

// One mutation of a valid datagram; never a valid one on purpose, but some
// will be (a flipped bit in a payload byte), which is fine.
ByteVector mutate(const ByteVector& seed, std::mt19937_64& rng) {
  ByteVector m = seed;
  switch (rng() % 6) {
    case 0:  // flip 1-4 bits
      for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i) m[rng() % m.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      break;
    case 1:  // truncate
      m.resize(rng() % m.size());
      break;
    case 2:  // extend with junk
      for (int i = 0, n = 1 + static_cast<int>(rng() % 64); i < n; ++i) m.push_back(static_cast<std::uint8_t>(rng()));
      break;
    case 3:  // damage a length field (IPv6 payload length, auth lengths, ND option length)
      m[std::min<std::size_t>(m.size() - 1, rng() % 64)] = static_cast<std::uint8_t>(rng());
      break;
    case 4:  // random bytes of the same size
      for (auto& b : m) b = static_cast<std::uint8_t>(rng());
      break;
    default:  // a random-sized slice
      m = ByteVector(m.begin() + static_cast<long>(rng() % m.size()), m.end());
      break;
  }
  return m;
}

int udp_socket(Lab& lab, const char* address, std::uint16_t port) {
  const int fd = lab.socket("driver", AF_INET, SOCK_DGRAM);
  timeval tv{0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, address, &a.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  return fd;
}

std::uint64_t flood(int fd, const sockaddr_in& to, std::uint64_t count, double seconds, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto base = seeds();
  constexpr int kBatch = 64;
  std::vector<ByteVector> batch(kBatch);
  mmsghdr messages[kBatch];
  iovec iov[kBatch];
  std::uint64_t sent = 0;
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (sent < count && Clock::now() < deadline) {
    for (int i = 0; i < kBatch; ++i) {
      batch[i] = mutate(base[rng() % base.size()], rng);
      if (batch[i].empty()) batch[i].push_back(0);
      iov[i] = {batch[i].data(), batch[i].size()};
      messages[i] = {};
      messages[i].msg_hdr.msg_name = const_cast<sockaddr_in*>(&to);
      messages[i].msg_hdr.msg_namelen = sizeof to;
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = sendmmsg(fd, messages, kBatch, 0);
    if (n > 0) sent += static_cast<std::uint64_t>(n);
    // Pace to what the daemon can take: a flood the socket drops tests nothing.
    if (sent % 4096 < kBatch) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return sent;
}

bool answered(int fd, const sockaddr_in& to, const ByteVector& request, std::chrono::milliseconds timeout) {
  char drain[2048];
  while (recv(fd, drain, sizeof drain, MSG_DONTWAIT) > 0) {
  }
  sendto(fd, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  pollfd p{fd, POLLIN, 0};
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (poll(&p, 1, 100) <= 0) continue;
    char buffer[2048];
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) continue;
    auto d = parse_datagram(Bytes(reinterpret_cast<std::uint8_t*>(buffer), static_cast<std::size_t>(n)));
    if (!d) continue;
    auto icmp = parse_icmpv6(d->ipv6);
    if (icmp && icmp->type == kIcmpv6RouterAdvertisement) return true;
  }
  return false;
}

}  // namespace

// A valid Teredo datagram from the driver's own Teredo address (its mapped
// endpoint is its real one) to the native host; true when the native host's
// UDP socket gets it through the relay.
bool relay_forwards(Lab& lab, int client, int native) {
  const TeredoAddress self{Ipv4Address::from_octets(203, 0, 113, 1), 0, 40000, Ipv4Address::from_octets(198, 51, 100, 7)};
  const Ipv6Address destination = parse_ipv6("2001:db8:1::10").value();
  ByteVector udp;
  ByteWriter w(udp);
  w.u16(40000);
  w.u16(9000);
  w.u16(12);
  w.u16(0);
  w.bytes(std::array<std::uint8_t, 4>{'p', 'i', 'n', 'g'});
  ChecksumAccumulator sum;
  sum.add(self.to_ipv6().bytes);
  sum.add(destination.bytes);
  sum.add_u32(static_cast<std::uint32_t>(udp.size()));
  sum.add_u16(kNextHeaderUdp);
  sum.add(udp);
  w.patch_u16(6, sum.finish());
  Ipv6Header h;
  h.next_header = kNextHeaderUdp;
  h.hop_limit = 64;
  h.source = self.to_ipv6();
  h.destination = destination;
  const ByteVector packet = build_ipv6_packet(h, udp);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(3545);
  inet_pton(AF_INET, "198.51.100.20", &to.sin_addr);
  (void)lab;
  for (int attempt = 0; attempt < 10; ++attempt) {
    sendto(client, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    char buffer[256];
    if (recv(native, buffer, sizeof buffer, 0) == 4) return true;
  }
  return false;
}

int native_socket(Lab& lab) {
  const int fd = lab.socket("v6host", AF_INET6, SOCK_DGRAM);
  timeval tv{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(9000);
  inet_pton(AF_INET6, "2001:db8:1::10", &a.sin6_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind v6host");
  return fd;
}

int main(int argc, char** argv) {
  CLI::App app{"bench_malformed_flood: malformed datagrams at teredo-ref server (needs root)"};
  std::uint64_t count = 1000000;
  double seconds = 120;
  std::uint64_t seed = 1;
  std::string reference_binary = TEREDO_REF_BIN;
  bool packet_ring = false;
  app.add_option("--count", count, "Datagrams to send");
  app.add_flag("--packet-ring", packet_ring,
               "Run both daemons with --packet-ring eth0 (the AF_PACKET path parses the frames itself)");
  app.add_option("--seconds", seconds, "Stop after this long anyway");
  app.add_option("--seed", seed, "Mutation seed");
  app.add_option("--teredo-ref", reference_binary, "Path of teredo-ref");
  CLI11_PARSE(app, argc, argv);
  if (geteuid() != 0) {
    fmt::print(stderr, "bench_malformed_flood needs root (network namespaces)\n");
    return 2;
  }
  teredo::netns::install_teardown_on_signals();
  try {
    bool all_ok = true;
    {
      auto lab = Lab::up(teredo::netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/server-only.json"));
      std::vector<std::string> command = {reference_binary, "server", "--primary", "203.0.113.1", "--secondary",
                                       "203.0.113.2"};
      if (packet_ring) command.insert(command.end(), {"--packet-ring", "eth0"});
      const pid_t server = lab->spawn("server", command, lab->run_dir() + "/teredo-ref.log");
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const int fd = udp_socket(*lab, "198.51.100.7", 40000);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(kUdpPortTeredo);
      inet_pton(AF_INET, "203.0.113.1", &to.sin_addr);
      const bool before_ok = answered(fd, to, valid_rs(7), std::chrono::milliseconds(2000));
      const long rss_before = rss_kib(server);
      const auto t0 = Clock::now();
      const std::uint64_t sent = flood(fd, to, count, seconds, seed);
      const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const long rss_after = rss_kib(server);
      const bool alive = teredo::netns::process_alive(server);
      const bool after_ok = alive && answered(fd, to, valid_rs(9), std::chrono::milliseconds(2000));
      fmt::print("teredo-ref server{}: {} malformed datagrams in {:.1f} s ({:.0f}/s, seed {}); alive: {}; RSS {} KiB -> {} KiB; "
                 "valid RS answered before: {}, after: {}\n",
                 packet_ring ? " --packet-ring" : "", sent, elapsed, static_cast<double>(sent) / elapsed, seed,
                 alive ? "yes" : "NO", rss_before, rss_after,
                 before_ok ? "yes" : "no", after_ok ? "yes" : "NO");
      close(fd);
      all_ok = all_ok && alive && after_ok;
    }
    {
      auto topology = teredo::netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/relay-bench.json");
      auto lab = Lab::up(topology);
      std::vector<std::string> command = {reference_binary, "relay", "--bind", "198.51.100.20:3545", "--interface",
                                       lab->prefix() + "-tun"};
      if (packet_ring) command.insert(command.end(), {"--packet-ring", "eth0"});
      const pid_t relay = lab->spawn("relay", command, lab->run_dir() + "/teredo-ref-relay.log");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const int client = udp_socket(*lab, "198.51.100.7", 40000);
      const int native = native_socket(*lab);
      const bool before_ok = relay_forwards(*lab, client, native);
      const long rss_before = rss_kib(relay);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(3545);
      inet_pton(AF_INET, "198.51.100.20", &to.sin_addr);
      const auto t0 = Clock::now();
      const std::uint64_t sent = flood(client, to, count, seconds, seed + 1);
      const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const long rss_after = rss_kib(relay);
      const bool alive = teredo::netns::process_alive(relay);
      char drain[2048];
      while (recv(native, drain, sizeof drain, MSG_DONTWAIT) > 0) {
      }
      const bool after_ok = alive && relay_forwards(*lab, client, native);
      fmt::print("teredo-ref relay{}:  {} malformed datagrams in {:.1f} s ({:.0f}/s, seed {}); alive: {}; RSS {} KiB -> {} KiB; "
                 "valid datagram forwarded before: {}, after: {}\n",
                 packet_ring ? " --packet-ring" : "", sent, elapsed, static_cast<double>(sent) / elapsed, seed + 1,
                 alive ? "yes" : "NO", rss_before, rss_after,
                 before_ok ? "yes" : "no", after_ok ? "yes" : "NO");
      close(client);
      close(native);
      all_ok = all_ok && alive && after_ok;
    }
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_malformed_flood: {}\n", e.what());
    return 2;
  }
}
