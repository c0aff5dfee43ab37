// bench_lab: figures for the lab (needs root). Not a test: it prints numbers.
//   1. median wall time to bring up and tear down the client-nat topology
//      (namespaces, links, segments, addresses, routes, NAT box), over 10 runs;
//   2. UDP packets per second delivered through teredo-nat (full-cone) with one
//      mapping and with 10,000 mappings. A raw socket in the client namespace
//      sends pre-built datagrams (sendmmsg batches) from 1 or 10,000 source
//      ports; the server namespace counts what arrives. Bounded in count and time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "teredo/netns/lab.hpp"
#include "teredo/wire/frame.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using teredo::netns::Lab;

const std::string kTopology = std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/client-nat.json";

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void up_down() {
  const auto topology = teredo::netns::load_topology(kTopology);
  std::vector<double> up_ms, down_ms, total_ms;
  for (int i = 0; i < 10; ++i) {
    const auto t0 = Clock::now();
    auto lab = Lab::up(topology);
    const auto t1 = Clock::now();
    lab.reset();
    const auto t2 = Clock::now();
    up_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    down_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    total_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
  }
  fmt::print("lab client-nat: median up {:.1f} ms, down {:.1f} ms, up+down {:.1f} ms (10 runs; target < 300 ms)\n",
             median(up_ms), median(down_ms), median(total_ms));
}

void throughput(int mappings, int packets) {
  auto topology = teredo::netns::load_topology(kTopology);
  teredo::netns::apply_nat_profile("full-cone", *topology.hosts.at("nat").nat);
  auto lab = Lab::up(topology);

  const int receiver = lab->socket("server", AF_INET, SOCK_DGRAM);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(4000);
  inet_pton(AF_INET, "203.0.113.1", &local.sin_addr);
  const int big = 16 << 20;
  setsockopt(receiver, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  if (bind(receiver, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) throw std::runtime_error("bind");
  timeval tv{0, 300000};
  setsockopt(receiver, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  // Pre-built datagrams: 64-byte payloads from 192.0.2.10:(10000 + i % mappings).
  std::vector<teredo::wire::ByteVector> frames;
  const std::uint8_t payload[64] = {};
  for (int i = 0; i < mappings; ++i) {
    teredo::wire::Ipv4UdpEndpoints e{teredo::wire::Ipv4Address::from_octets(192, 0, 2, 10),
                                     static_cast<std::uint16_t>(10000 + i),
                                     teredo::wire::Ipv4Address::from_octets(203, 0, 113, 1), 4000};
    frames.push_back(teredo::wire::build_ipv4_udp(e, payload));
  }
  const int sender = lab->socket("client", AF_INET, SOCK_RAW, IPPROTO_RAW);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  inet_pton(AF_INET, "203.0.113.1", &to.sin_addr);

  // Warm-up: create every mapping before timing.
  for (int i = 0; i < mappings; ++i) {
    sendto(sender, frames[i].data(), frames[i].size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    if (i % 256 == 255) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  char buffer[2048];
  while (recv(receiver, buffer, sizeof buffer, 0) > 0) {
  }

  std::atomic<long> received{0};
  std::atomic<bool> sending{true};
  std::thread counter([&] {
    mmsghdr msgs[64];
    iovec iov[64];
    static char bufs[64][256];
    for (int i = 0; i < 64; ++i) {
      iov[i] = {bufs[i], sizeof bufs[i]};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (;;) {
      const int n = recvmmsg(receiver, msgs, 64, 0, nullptr);
      if (n > 0) {
        received += n;
      } else if (!sending) {
        return;  // timed out after the sender stopped
      }
    }
  });
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(10);
  mmsghdr msgs[64];
  iovec iov[64];
  int sent = 0;
  while (sent < packets && Clock::now() < deadline) {
    const int batch = std::min(64, packets - sent);
    for (int i = 0; i < batch; ++i) {
      auto& f = frames[static_cast<std::size_t>((sent + i) % mappings)];
      iov[i] = {f.data(), f.size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &to;
      msgs[i].msg_hdr.msg_namelen = sizeof to;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = sendmmsg(sender, msgs, static_cast<unsigned>(batch), 0);
    if (n > 0) sent += n;
    // Keep the offered load near what one NAT core can take, so the figure
    // is delivered throughput rather than a measure of socket drops.
    if (sent - received.load() > 1024) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const auto sent_end = Clock::now();
  sending = false;
  counter.join();
  const double seconds = std::chrono::duration<double>(sent_end - start).count();
  const auto stats = lab->nat_command("nat", "stats");
  fmt::print("teredo-nat full-cone, {:>5} mapping(s): {:>9.0f} packets/s delivered ({} sent, {} received, {:.2f}% lost, {:.2f} s)\n",
             mappings, static_cast<double>(received) / seconds, sent, received.load(),
             100.0 * static_cast<double>(sent - received) / std::max(1, sent), seconds);
  close(sender);
  close(receiver);
  (void)stats;
}

}  // namespace

int main() {
  if (geteuid() != 0) {
    fmt::print(stderr, "bench_lab needs root (network namespaces)\n");
    return 2;
  }
  try {
    up_down();
    throughput(1, 300000);
    throughput(10000, 300000);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_lab: {}\n", e.what());
    return 2;
  }
  return 0;
}
