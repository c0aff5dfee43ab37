// The server role's rig (RFC 4380 §5.3): a server-only lab and three states
// the datagrams are sent in (issue 13): after a qualified client, fresh (no
// client qualified), and after a secure RS (when the server declares
// secure_qualification: it is launched with the shared secret, the played
// clients and the generator sign their RSs). Liveness probe: a valid RS
// (signed in the secure state) answered by an RA carrying its nonce.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

#include "fuzz/rig.hpp"
#include "teredo/wire/hmac.hpp"
#include "kit/lab_facts.hpp"
#include "kit/packets.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::conformance::fuzz {

using namespace teredo::wire;
using Clock = std::chrono::steady_clock;
namespace lab = kit::lab;

bool await_answer(const std::vector<int>& fds, std::chrono::milliseconds timeout, const std::function<void()>& send,
                  const std::function<bool(int fd)>& answered, const Alive& alive) {
  send();
  int resends = 0;
  auto next_send = Clock::now() + timeout / 3;
  const auto deadline = Clock::now() + timeout;
  std::vector<pollfd> polled;
  for (const int fd : fds) polled.push_back({fd, POLLIN, 0});
  while (Clock::now() < deadline) {
    if (::poll(polled.data(), polled.size(), 10) > 0) {
      for (pollfd& p : polled) {
        if ((p.revents & POLLIN) != 0 && answered(p.fd)) return true;
        p.revents = 0;
      }
    }
    if (Clock::now() >= next_send && resends < 2) {
      ++resends;
      send();
      next_send = Clock::now() + timeout / 3;
    }
    if (!alive()) return false;
  }
  return false;
}

void set_burst_buffers(int fd) {
  const int size = 4 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
}

int bind_udp(netns::Lab& l, const std::string& host, const std::string& address, std::uint16_t port) {
  const int fd = l.socket(host, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  set_burst_buffers(fd);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(kit::ipv4(address).value);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error(fmt::format("bind {}:{} in {}: {}", address, port, host, why));
  }
  return fd;
}

int bind_driver_socket(netns::Lab& l, std::uint16_t port) { return bind_udp(l, "driver", lab::kDriver, port); }

void send_batch(int fd, const std::string& to_address, std::uint16_t to_port,
                const std::vector<const ByteVector*>& payloads) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(to_port);
  to.sin_addr.s_addr = htonl(kit::ipv4(to_address).value);
  std::vector<mmsghdr> messages(payloads.size());
  std::vector<iovec> iov(payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    iov[i] = {const_cast<std::uint8_t*>(payloads[i]->data()), payloads[i]->size()};
    messages[i] = {};
    messages[i].msg_hdr.msg_name = &to;
    messages[i].msg_hdr.msg_namelen = sizeof to;
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  std::size_t done = 0;
  for (int tries = 0; done < messages.size() && tries < 1000; ++tries) {
    const int n = ::sendmmsg(fd, messages.data() + done, static_cast<unsigned>(messages.size() - done), 0);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (errno == EMSGSIZE || errno == ECONNREFUSED || errno == EINVAL) {
      ++done;  // that one cannot go: skip it
    }
  }
}

GeneratorContext lab_context(std::uint16_t client_port, std::uint16_t peer_port) {
  GeneratorContext c;
  c.server = kit::ipv4(lab::kServerPrimary);
  c.server_link_local = kit::server_link_local(lab::kServerPrimary);
  c.client_ipv4 = kit::ipv4(lab::kDriver);
  c.client_port = client_port;
  c.client_teredo = kit::teredo_address(lab::kServerPrimary, 0, lab::kDriver, client_port);
  c.peer_teredo = kit::teredo_address(lab::kServerPrimary, 0, lab::kDriver, peer_port);
  c.native_host = kit::ipv6(lab::kV6Host);
  c.non_global = kit::ipv4(lab::kNonGlobalDriver);
  return c;
}

namespace {

constexpr std::uint16_t kClientPort = 41000;  // the qualified client the datagrams come from
constexpr std::uint16_t kPeerPort = 41001;    // a second qualified client: the forwarding target
constexpr std::uint16_t kProbePort = lab::kControlPort;
constexpr auto kAnswerTimeout = std::chrono::milliseconds(1500);

// The server's states, in the order a fuzz run visits them.
constexpr const char* kAfterQualifiedClient = "after_qualified_client";
constexpr const char* kFresh = "fresh";
constexpr const char* kAfterSecureRs = "after_secure_rs";

class ServerRig final : public RoleRig {
 public:
  ServerRig(std::uint64_t seed, const std::set<std::string>& capabilities) : nonce_random_(seed ^ 0x9e3779b97f4a7c15ULL) {
    if (capabilities.contains("secure_qualification")) {
      // The secret and identifier every secure launch is provisioned with
      // (engine/iut_adapter {secret} {client_id}); MD5 only when declared
      // (RFC 4380 erratum 107).
      const Bytes id = kit::bytes_of(lab::kClientId), secret = kit::bytes_of(lab::kSecret);
      secure_ = GeneratorContext::Signing{ByteVector(id.begin(), id.end()), ByteVector(secret.begin(), secret.end()),
                                          capabilities.contains("secure_qualification:hmac-md5")
                                              ? MacAlgorithm::hmac_md5
                                              : MacAlgorithm::hmac_sha1};
    }
  }
  ~ServerRig() override {
    for (const int fd : {client_, peer_, probe_}) {
      if (fd >= 0) ::close(fd);
    }
  }
  ServerRig(const ServerRig&) = delete;
  ServerRig& operator=(const ServerRig&) = delete;

  std::string role() const override { return "server"; }
  std::string topology() const override { return "server-only"; }
  std::vector<std::string> iut_addresses() const override { return {lab::kServerPrimary, lab::kServerSecondary}; }
  std::string state_key() const override { return state_; }
  std::vector<std::string> state_keys() const override {
    std::vector<std::string> keys = {kAfterQualifiedClient, kFresh};
    if (secure_) keys.emplace_back(kAfterSecureRs);
    return keys;
  }
  bool select_state(const std::string& key) override {
    const auto keys = state_keys();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) return false;
    state_ = key;
    return true;
  }
  std::string launch_capability() const override { return signing() ? "secure_qualification" : ""; }
  std::string state() const override {
    if (state_ == kFresh) {
      return fmt::format("fresh: a newly started server that has answered no RS of the datagrams' source {0}:{1} "
                         "or of the peer {0}:{2} (the only valid RSs it gets are the liveness probes from {0}:{3}), "
                         "the datagrams from {0}:{1} to {4}:{5}",
                         lab::kDriver, kClientPort, kPeerPort, kProbePort, lab::kServerPrimary, lab::kTeredoPort);
    }
    if (state_ == kAfterSecureRs) {
      return fmt::format("after a secure RS: the server launched with the shared secret for '{0}' ({1}); RSs signed "
                         "for '{0}' from {2}:{3} (the datagrams' source) and {2}:{4} (a peer) answered; the "
                         "generator's authenticated RSs and the probes signed the same way; the datagrams from "
                         "{2}:{3} to {5}:{6}",
                         lab::kClientId, to_string(secure_->algorithm), lab::kDriver, kClientPort, kPeerPort,
                         lab::kServerPrimary, lab::kTeredoPort);
    }
    return fmt::format("after a qualified client: valid RS/RA exchanges from {0}:{1} (the datagrams' source) and "
                       "{0}:{2} (a peer), then the datagrams from {0}:{1} to {3}:{4}",
                       lab::kDriver, kClientPort, kPeerPort, lab::kServerPrimary, lab::kTeredoPort);
  }

  void open(netns::Lab& l, const Adapter& /*adapter*/) override {
    client_ = bind_driver_socket(l, kClientPort);
    peer_ = bind_driver_socket(l, kPeerPort);
    probe_ = bind_driver_socket(l, kProbePort);
  }

  bool enter_state(const Alive& alive) override {
    // Fresh: nothing to do but make sure it listens (its readiness probe
    // did) and is alive; the first liveness probe comes after the first
    // window of datagrams.
    if (state_ == kFresh) return alive();
    // Each with a retry: one lost datagram is not a verdict.
    for (const int fd : {client_, peer_}) {
      if (!rs_exchange(fd, alive) && !rs_exchange(fd, alive)) return false;
    }
    return true;
  }

  bool probe(const Alive& alive) override { return rs_exchange(probe_, alive); }

  std::string probe_description() const override {
    return fmt::format("a valid {}RS from {}:{} got no RA carrying its nonce within {} ms",
                       signing() ? "signed " : "", lab::kDriver, kProbePort, kAnswerTimeout.count());
  }

  GeneratorContext context() const override {
    GeneratorContext c = lab_context(kClientPort, kPeerPort);
    c.signing = signing();
    return c;
  }

  Sent next(DatagramGenerator& generator) override {
    GeneratedDatagram g = generator.next();
    return Sent{std::move(g.payload), to_string(g.base), std::move(g.mutations), std::nullopt, 0};
  }

  void send(const std::vector<const Sent*>& batch) override {
    std::vector<const ByteVector*> payloads;
    payloads.reserve(batch.size());
    for (const Sent* s : batch) {
      nonces_.record_sent(s->payload);
      payloads.push_back(&s->payload);
    }
    send_batch(client_, lab::kServerPrimary, lab::kTeredoPort, payloads);
  }

  std::optional<WireViolation> check(const IutDatagram& d) const override {
    return check_iut_datagram(d, nonces_, IutRole::server);
  }

  ByteVector reproducer_frame(const Sent& s) const override {
    const Ipv4UdpEndpoints e{kit::ipv4(lab::kDriver), kClientPort, kit::ipv4(lab::kServerPrimary), lab::kTeredoPort};
    return build_ethernet_ipv4_udp(e, s.payload);
  }

 private:
  // The secret shared with the played clients, in the secure state only.
  std::optional<GeneratorContext::Signing> signing() const {
    return state_ == kAfterSecureRs ? secure_ : std::nullopt;
  }

  Nonce fresh_nonce() {
    Nonce n{};
    for (auto& b : n) b = static_cast<std::uint8_t>(nonce_random_());
    return n;
  }

  bool rs_exchange(int fd, const Alive& alive) {
    // Stale answers out first: attribution is by nonce anyway.
    std::uint8_t buffer[65536];
    while (::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
    }
    const Nonce nonce = fresh_nonce();
    const ByteVector payload = probe_rs(nonce, signing());
    nonces_.record_sent(payload);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(lab::kTeredoPort);
    to.sin_addr.s_addr = htonl(kit::ipv4(lab::kServerPrimary).value);
    // A server's full socket buffer may drop one datagram: await_answer
    // sends it again (same nonce).
    return await_answer(
        {fd}, kAnswerTimeout,
        [&] { (void)::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to); },
        [&](int readable) {
          const ssize_t n = ::recv(readable, buffer, sizeof buffer, MSG_DONTWAIT);
          return n > 0 && is_ra_for(Bytes(buffer, static_cast<std::size_t>(n)), nonce);
        },
        alive);
  }

  std::mt19937_64 nonce_random_;
  std::optional<GeneratorContext::Signing> secure_;  // set when the server declares secure qualification
  std::string state_ = kAfterQualifiedClient;
  NonceBook nonces_;
  int client_ = -1, peer_ = -1, probe_ = -1;
};

}  // namespace

std::unique_ptr<RoleRig> make_relay_rig(std::uint64_t seed);   // relay_rig.cpp
std::unique_ptr<RoleRig> make_client_rig(std::uint64_t seed);  // client_rig.cpp

std::unique_ptr<RoleRig> make_rig(const std::string& role, std::uint64_t seed,
                                  const std::set<std::string>& capabilities) {
  if (role == "server") return std::make_unique<ServerRig>(seed, capabilities);
  if (role == "relay") return make_relay_rig(seed);
  if (role == "client") return make_client_rig(seed);
  return nullptr;
}

std::vector<std::string> fuzzed_roles() { return {"server", "relay", "client"}; }

}  // namespace teredo::conformance::fuzz
