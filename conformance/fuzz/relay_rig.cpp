// The relay role's rig (RFC 4380 §5.4): a relay-only lab (the IUT relay on
// 198.51.100.20 and 2001:db8:1::1, the driver playing Teredo clients and
// their server 203.0.113.1, v6host the native IPv6 side).
//
// State "with a trusted Teredo peer and a native host": the native host
// sends to the fuzzing client's Teredo address; the relay bubbles it (to the
// client's server, or directly); the client answers the bubble from its
// mapped endpoint (§5.2.3, as the relay cases' contact does) and the relay
// delivers what it queued. The probe client is made a trusted peer the same
// way.
//
// Datagrams: the generator's, from the trusted client to the relay's Teredo
// port, and one in 16 from the native host to a generated Teredo address
// (its embedded IPv4 sometimes not global, §5.4.1) that the relay must carry
// or refuse. Liveness probe: a UDP packet holding a fresh marker from the
// probe client to the native host, which must reach the native host's
// socket; unanswered, the probe client is made trusted again and it is sent
// once more (the relay may have forgotten a peer; that is no failure).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string_view>

#include "fuzz/rig.hpp"
#include "kit/lab_facts.hpp"
#include "kit/packets.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/wire/checksum.hpp"

namespace teredo::conformance::fuzz {

using namespace teredo::wire;
using Clock = std::chrono::steady_clock;
namespace lab = kit::lab;

namespace {

constexpr std::uint16_t kClientPort = 41000;  // the trusted client the datagrams come from
constexpr std::uint16_t kProbePort = lab::kControlPort;
constexpr auto kAnswerTimeout = std::chrono::milliseconds(1500);
constexpr unsigned kNativeOneIn = 16;

// The embedded IPv4 addresses of the native side's generated destinations:
// the driver's global second address (the relay must bubble it), and
// non-global ones (RFC 4380 §5.2.4) it must refuse. Only 192.88.99.7 is on
// the driver's link: a datagram to the others fails ARP inside the relay's
// namespace and is never seen (the limit is in fuzz/README.md).
constexpr std::array<std::string_view, 9> kEmbedded = {
    "198.51.100.8", "192.88.99.7", "192.88.99.7", "10.1.2.3", "127.0.0.1",
    "0.0.0.1",      "224.0.0.1",   "169.254.7.7", "255.255.255.255"};

// An IPv6/UDP packet (checksum over the pseudo-header, RFC 8200 §8.1).
ByteVector udp6_packet(const Ipv6Address& source, const Ipv6Address& destination, std::uint16_t source_port,
                       std::uint16_t destination_port, Bytes data) {
  ByteVector udp(8 + data.size());
  const auto length = static_cast<std::uint16_t>(udp.size());
  udp[0] = static_cast<std::uint8_t>(source_port >> 8);
  udp[1] = static_cast<std::uint8_t>(source_port);
  udp[2] = static_cast<std::uint8_t>(destination_port >> 8);
  udp[3] = static_cast<std::uint8_t>(destination_port);
  udp[4] = static_cast<std::uint8_t>(length >> 8);
  udp[5] = static_cast<std::uint8_t>(length);
  std::memcpy(udp.data() + 8, data.data(), data.size());
  ChecksumAccumulator sum;
  sum.add(Bytes(source.bytes.data(), 16));
  sum.add(Bytes(destination.bytes.data(), 16));
  sum.add_u32(length);
  sum.add_u32(kNextHeaderUdp);
  sum.add(udp);
  std::uint16_t checksum = sum.finish();
  if (checksum == 0) checksum = 0xFFFF;
  udp[6] = static_cast<std::uint8_t>(checksum >> 8);
  udp[7] = static_cast<std::uint8_t>(checksum);
  Ipv6Header h;
  h.next_header = kNextHeaderUdp;
  h.hop_limit = 64;
  h.source = source;
  h.destination = destination;
  return build_ipv6_packet(h, udp);
}

class RelayRig final : public RoleRig {
 public:
  explicit RelayRig(std::uint64_t seed) : random_(seed ^ 0x6a09e667f3bcc909ULL), marker_random_(seed ^ 0xbb67ae8584caa73bULL) {}
  ~RelayRig() override {
    for (const int fd : {client_, probe_, server_, native_}) {
      if (fd >= 0) ::close(fd);
    }
  }
  RelayRig(const RelayRig&) = delete;
  RelayRig& operator=(const RelayRig&) = delete;

  std::string role() const override { return "relay"; }
  std::string topology() const override { return "relay-only"; }
  std::vector<std::string> iut_addresses() const override { return {lab::kRelay}; }
  std::string state_key() const override { return "with_trusted_peer"; }
  std::string state() const override {
    return fmt::format(
        "with a trusted Teredo peer and a native host: [{0}]:{1} sent to the Teredo client {2}:{3} (server {4}), the "
        "client answered the relay's bubble from its mapped endpoint and got the packet; then the datagrams from "
        "{2}:{3} to {5}:{6}, and from [{0}]:{1} to generated Teredo addresses",
        lab::kV6Host, lab::kNativeSink, lab::kDriver, kClientPort, lab::kServerPrimary, lab::kRelay, lab::kTeredoPort);
  }

  void open(netns::Lab& l, const Adapter& /*adapter*/) override {
    client_ = bind_driver_socket(l, kClientPort);
    probe_ = bind_driver_socket(l, kProbePort);
    // The clients' server, where the relay's indirect bubbles land.
    server_ = bind_udp(l, "driver", lab::kServerPrimary, lab::kTeredoPort);
    native_ = l.socket("v6host", AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (native_ < 0) throw std::runtime_error(std::string("socket in v6host: ") + std::strerror(errno));
    set_burst_buffers(native_);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(lab::kNativeSink);
    std::memcpy(&a.sin6_addr, kit::ipv6(lab::kV6Host).bytes.data(), 16);
    if (::bind(native_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error(fmt::format("bind [{}]:{} in v6host: {}", lab::kV6Host, lab::kNativeSink,
                                           std::strerror(errno)));
    }
  }

  bool enter_state(const Alive& alive) override {
    // Each with a retry: one lost datagram is not a verdict.
    for (const int fd : {client_, probe_}) {
      if (!make_trusted(fd, alive) && !make_trusted(fd, alive)) return false;
    }
    return true;
  }

  bool probe(const Alive& alive) override {
    if (forward(alive)) return true;
    // The relay may have dropped the probe client from its recent peers
    // (§5.4.2 allows discarding a packet from a peer not in the list).
    return alive() && make_trusted(probe_, alive) && forward(alive);
  }

  std::string probe_description() const override {
    return fmt::format("a UDP packet holding a fresh marker from the trusted client {}:{} to [{}]:{} through the "
                       "relay did not reach the native host within {} ms, nor after the client was made trusted again",
                       lab::kDriver, kProbePort, lab::kV6Host, lab::kNativeSink, kAnswerTimeout.count());
  }

  GeneratorContext context() const override { return lab_context(kClientPort, kProbePort); }

  Sent next(DatagramGenerator& generator) override {
    if (random_() % kNativeOneIn == 0) {
      const std::string_view embedded = kEmbedded[random_() % kEmbedded.size()];
      const auto port = static_cast<std::uint16_t>(1024 + random_() % 60000);
      const auto flags = static_cast<std::uint16_t>(random_() % 2 == 0 ? 0 : 0x8000);
      Sent s;
      s.native_to = kit::teredo_address(lab::kServerPrimary, flags, std::string(embedded), port);
      s.native_port = static_cast<std::uint16_t>(1024 + random_() % 60000);
      s.payload.resize(random_() % 64);
      for (auto& b : s.payload) b = static_cast<std::uint8_t>(random_());
      s.base = "native_to_teredo";
      s.mutations = {fmt::format("embedded_ipv4={}:{}", embedded, port), flags ? "cone_flag" : "no_cone_flag"};
      return s;
    }
    GeneratedDatagram g = generator.next();
    return Sent{std::move(g.payload), to_string(g.base), std::move(g.mutations), std::nullopt, 0};
  }

  void send(const std::vector<const Sent*>& batch) override {
    std::vector<const ByteVector*> run;
    const auto flush = [&] {
      if (!run.empty()) send_batch(client_, lab::kRelay, lab::kTeredoPort, run);
      run.clear();
    };
    for (const Sent* s : batch) {
      if (!s->native_to) {
        run.push_back(&s->payload);
        continue;
      }
      flush();  // in order
      sockaddr_in6 to{};
      to.sin6_family = AF_INET6;
      to.sin6_port = htons(s->native_port);
      std::memcpy(&to.sin6_addr, s->native_to->bytes.data(), 16);
      (void)::sendto(native_, s->payload.data(), s->payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    }
    flush();
    drain(server_);
  }

  std::optional<WireViolation> check(const IutDatagram& d) const override {
    return check_iut_datagram(d, nonces_, IutRole::relay);
  }

  ByteVector reproducer_frame(const Sent& s) const override {
    if (!s.native_to) {
      const Ipv4UdpEndpoints e{kit::ipv4(lab::kDriver), kClientPort, kit::ipv4(lab::kRelay), lab::kTeredoPort};
      return build_ethernet_ipv4_udp(e, s.payload);
    }
    // Ethernet (IPv6) from the native host.
    ByteVector frame = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x10, 0x86, 0xDD};
    const ByteVector packet = udp6_packet(kit::ipv6(lab::kV6Host), *s.native_to, lab::kNativeSink, s.native_port,
                                          s.payload);
    frame.insert(frame.end(), packet.begin(), packet.end());
    return frame;
  }

 private:
  static Ipv6Address teredo_of(std::uint16_t port) {
    return kit::teredo_address(lab::kServerPrimary, 0, lab::kDriver, port);
  }
  static void drain(int fd) {
    std::uint8_t buffer[2048];
    while (::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
    }
  }
  // Markers draw from their own generator: the datagrams stay the same
  // sequence for a seed however many probes a run sends.
  std::string fresh_marker(const char* what) { return fmt::format("teredo-fuzz-{}-{:016x}", what, marker_random_()); }

  // The native host sends a marked packet to the client at `fd`; the
  // client answers the relay's bubble for it (from the server's socket or
  // its own) and must get the packet.
  bool make_trusted(int fd, const Alive& alive) {
    drain(fd);
    drain(server_);
    sockaddr_in bound{};
    socklen_t bound_length = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
    const Ipv6Address teredo = teredo_of(ntohs(bound.sin_port));
    const std::string mark = fresh_marker("contact");
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(lab::kNativeSink);
    std::memcpy(&to.sin6_addr, teredo.bytes.data(), 16);
    std::uint8_t buffer[65536];
    return await_answer(
        {fd, server_}, 2 * kAnswerTimeout,
        [&] { (void)::sendto(native_, mark.data(), mark.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to); },
        [&](int readable) {
          sockaddr_in from{};
          socklen_t from_length = sizeof from;
          const ssize_t n = ::recvfrom(readable, buffer, sizeof buffer, MSG_DONTWAIT,
                                       reinterpret_cast<sockaddr*>(&from), &from_length);
          if (n <= 0) return false;
          const Bytes payload(buffer, static_cast<std::size_t>(n));
          if (readable == fd && kit::contains(payload, mark)) return true;
          const auto d = kit::parse_teredo_payload(payload);
          if (!d || d->ipv6.header.payload_length != 0 || d->ipv6.header.next_header != kNextHeaderNone ||
              d->ipv6.header.destination != teredo) {
            return false;
          }
          // A bubble for the client: it answers from its mapped endpoint to
          // the relay's, source its Teredo address, destination the
          // bubble's source (§5.2.3).
          const ByteVector back = kit::bubble_packet(teredo, d->ipv6.header.source);
          (void)::sendto(fd, back.data(), back.size(), 0, reinterpret_cast<sockaddr*>(&from), sizeof from);
          return false;
        },
        alive);
  }

  // The probe client sends a marked UDP packet to the native host through
  // the relay; it must reach the native host's socket.
  bool forward(const Alive& alive) {
    drain(native_);
    const std::string mark = fresh_marker("probe");
    const ByteVector packet =
        kit::encapsulate(udp6_packet(teredo_of(kProbePort), kit::ipv6(lab::kV6Host), kProbePort, lab::kNativeSink,
                                     Bytes(reinterpret_cast<const std::uint8_t*>(mark.data()), mark.size())));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(lab::kTeredoPort);
    to.sin_addr.s_addr = htonl(kit::ipv4(lab::kRelay).value);
    std::uint8_t buffer[65536];
    return await_answer(
        {native_}, kAnswerTimeout,
        [&] { (void)::sendto(probe_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to); },
        [&](int readable) {
          const ssize_t n = ::recv(readable, buffer, sizeof buffer, MSG_DONTWAIT);
          return n > 0 &&
                 std::string_view(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n)) == mark;
        },
        alive);
  }

  std::mt19937_64 random_, marker_random_;
  NonceBook nonces_;  // empty: a relay answers no RS
  int client_ = -1, probe_ = -1, server_ = -1, native_ = -1;
};

}  // namespace

std::unique_ptr<RoleRig> make_relay_rig(std::uint64_t seed) { return std::make_unique<RelayRig>(seed); }

}  // namespace teredo::conformance::fuzz
