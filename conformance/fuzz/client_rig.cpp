// The client role's rig (RFC 4380 §5.2): the client cases' lab
// (client-lab: the IUT client on 192.0.2.10 behind a NAT, the "server" host
// playing its Teredo server 203.0.113.1/.2, peers and a relay, "lanpeer" a
// local Teredo client), with the NAT full-cone as in the client reception
// cases (so that peers and the relay reach the client's mapping without a
// bubble first). The client cases' played server (client_driver
// PlayedServer) answers the client's RSs.
//
// Two states, each instance of the IUT going through both:
//  - "qualifying": the played server stays silent; the datagrams are RAs
//    (the generator's, mutated field by field and byte by byte, one in
//    eight valid) from the server's address and port 3544 to the client's
//    mapping, each carrying the nonce of the client's latest RS (§5.2.2: an
//    RA with another nonce is dropped before anything else is read).
//    Liveness probe: the client qualifies when its next RS is answered by a
//    valid RA, shown by an echo reply through the address that RA gives it
//    (below). An address on its interface alone is not attributable: a
//    mutated RA that still named the client's mapping gives the same one.
//  - "qualified": the played server answers every RS with a valid RA (the
//    refreshes keep the client qualified); the datagrams are bubbles and
//    echo requests from a peer, a native host's packets through a relay,
//    indirect bubbles forwarded by the server, and local discovery bubbles
//    from the LAN when the adapter declares local_discovery. Liveness probe
//    (issue 13: "qualified client answers an echo"): an ICMPv6 echo request
//    with a fresh identifier, sequence and data marker from a probe peer to
//    the client's Teredo address (its mapping, through the NAT); the echo
//    reply carrying all three must come back.
// After kQualifiedProbes good probes in the qualified state the session
// starts a fresh IUT, which qualifies again.
//
// The generated datagrams name the client by placeholders (the generator's
// context: a fixed link-local address, Teredo address and mapping, any
// nonce); rebind_for_client puts what the client uses now in their place at
// sending. Findings and reproducers keep the datagrams as generated.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

#include "cases/client/client_driver.hpp"
#include "engine/iut_adapter.hpp"
#include "fuzz/rig.hpp"
#include "kit/lab_facts.hpp"
#include "kit/packets.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::conformance::fuzz {

using namespace teredo::wire;
using Clock = std::chrono::steady_clock;
namespace lab = kit::lab;

namespace {

constexpr std::uint16_t kPeerPort = 41001;   // the peer the bubbles and echo requests come from
constexpr std::uint16_t kProbePort = lab::kControlPort;  // the probe peer
constexpr std::uint16_t kLanPeerPort = 41500;
constexpr const char* kDiscoveryGroup = "224.0.0.253";  // §5.2.8, the Teredo IPv4 Discovery Address
constexpr auto kEchoTimeout = std::chrono::milliseconds(1500);
constexpr int kQualifiedProbes = 3;
constexpr std::uint16_t kPlaceholderPort = 40000;  // the mapping the generated datagrams name

const char* const kQualifying = "qualifying";
const char* const kQualified = "qualified";

// The client as the generated datagrams name it.
ClientBinding placeholder_binding() {
  return {Nonce{}, kit::ipv6("fe80::ffff:ffff:fffe"),
          kit::teredo_address(lab::kServerPrimary, 0, lab::kNatOutside, kPlaceholderPort), kit::ipv4(lab::kNatOutside),
          kPlaceholderPort};
}

bool is_ra_template(const std::string& base) { return base == "ra" || base == "ra_no_origin"; }

int nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

void send_to(int fd, Ipv4Address address, std::uint16_t port, Bytes payload) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(address.value);
  (void)::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

class ClientRig final : public RoleRig {
 public:
  explicit ClientRig(std::uint64_t seed) : marker_random_(seed ^ 0x3c6ef372fe94f82bULL) {}
  ~ClientRig() override {
    played_.reset();  // its thread reads the server sockets
    for (const int fd : fds_) ::close(fd);
  }
  ClientRig(const ClientRig&) = delete;
  ClientRig& operator=(const ClientRig&) = delete;

  std::string role() const override { return "client"; }
  std::string topology() const override { return client::kTopology; }
  std::optional<std::string> nat_profile() const override { return std::string("full-cone"); }
  std::string tap_host() const override { return "client"; }
  std::vector<std::string> iut_addresses() const override { return {lab::kClientLan}; }
  std::string state_key() const override { return phase_; }
  std::string state() const override {
    if (phase_ == kQualifying) {
      return fmt::format("while qualifying: the client's RSs to {}:{} go unanswered by the played server; the "
                         "datagrams are RAs from {}:{} to its mapping carrying its latest RS's nonce",
                         lab::kServerPrimary, lab::kTeredoPort, lab::kServerPrimary, lab::kTeredoPort);
    }
    return fmt::format("qualified: the played server answered the client's RS with a valid RA and answers its "
                       "refreshes; the datagrams go to its mapping from the peer {}:{}, the relay {}:{}, the server "
                       "{}:{} (indirect bubbles){}",
                       lab::kPeerA, kPeerPort, lab::kPlayedRelay, lab::kTeredoPort, lab::kServerPrimary,
                       lab::kTeredoPort,
                       discovery_ ? fmt::format(", and {}:{} to {}:{} (discovery bubbles)", lab::kLanPeer,
                                                kLanPeerPort, kDiscoveryGroup, lab::kTeredoPort)
                                  : std::string());
  }
  std::string state_of(const Sent& s) const override { return is_ra_template(s.base) ? kQualifying : kQualified; }
  bool wants_fresh_iut() const override { return phase_ == kQualified && good_qualified_probes_ >= kQualifiedProbes; }

  void open(netns::Lab& l, const Adapter& adapter) override {
    lab_ = &l;
    adapter_ = &adapter;
    timers_ = client::timers(adapter);
    discovery_ = adapter.has("local_discovery");
    const auto bind = [&](const std::string& host, const std::string& address, std::uint16_t port) {
      const int fd = nonblocking(bind_udp(l, host, address, port));
      fds_.push_back(fd);
      return fd;
    };
    played_ = std::make_unique<client::PlayedServer>(
        [&](const std::string& address, std::uint16_t port) {
          const int fd = bind("server", address, port);
          if (port == lab::kTeredoPort) (address == lab::kServerPrimary ? primary_ : secondary_) = fd;
          return fd;
        },
        false);
    played_->mirror_secondary(true);
    peer_ = bind("server", lab::kPeerA, kPeerPort);
    probe_ = bind("server", lab::kPeerA, kProbePort);
    relay_ = bind("server", lab::kPlayedRelay, lab::kTeredoPort);
    peers_server_ = bind("server", lab::kPeerServer, lab::kTeredoPort);  // the client's indirect bubbles land here
    lan_peer_ = bind("lanpeer", lab::kLanPeer, kLanPeerPort);
  }

  bool enter_state(const Alive& alive) override {
    played_->set_default(client::RaPlan{.fault = client::RaFault::silent});
    phase_ = kQualifying;
    label_qualifying_ = true;
    phase_started_ = Clock::now();
    good_qualified_probes_ = 0;
    address_.reset();
    // The fresh client's first RS.
    const std::size_t before = seen_count_;
    const auto deadline = Clock::now() + 3 * timers_.retry + std::chrono::seconds(3);
    while (Clock::now() < deadline && alive()) {
      if (refresh_rs() && seen_count_ > before) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  bool probe(const Alive& alive) override {
    if (phase_ == kQualifying) return qualify(alive);
    bool ok = echo(alive);
    if (!ok && alive()) {
      // It may have qualified again since (a new mapping or flags): read
      // its address afresh and ask once more.
      address_.reset();
      ok = learn_address(alive) && echo(alive);
    }
    if (ok) ++good_qualified_probes_;
    return ok;
  }

  std::string probe_description() const override {
    if (phase_ == kQualifying) {
      return fmt::format("the client's next RS, answered by a valid RA, did not lead within {} ms to an address in "
                         "2001:0:cb00:7101::/64 that answers an echo request (fresh identifier, sequence and data "
                         "marker, from {}:{}) within {} ms",
                         qualify_timeout().count(), lab::kPeerA, kProbePort, kEchoTimeout.count());
    }
    return fmt::format("an ICMPv6 echo request (fresh identifier, sequence and data marker) from the Teredo peer "
                       "{}:{} to the client's Teredo address, through its mapping, got no echo reply carrying them "
                       "within {} ms, nor after its address was read again",
                       lab::kPeerA, kProbePort, kEchoTimeout.count());
  }

  GeneratorContext context() const override {
    const ClientBinding p = placeholder_binding();
    GeneratorContext c = lab_context(kPeerPort, kPeerPort);
    c.peer_teredo = kit::teredo_address(lab::kPeerServer, 0, lab::kPeerA, kPeerPort);
    c.client_ipv4 = p.mapped_ipv4;  // what origin.add and the like name: the client's mapping
    c.client_port = p.mapped_port;
    c.client_teredo = p.teredo;
    c.iut_link_local = p.link_local;
    c.iut_teredo = p.teredo;
    c.iut_mapped_ipv4 = p.mapped_ipv4;
    c.iut_mapped_port = p.mapped_port;
    c.local_peer_teredo = kit::teredo_address(lab::kServerPrimary, 0, lab::kNatOutside, kLanPeerPort);
    return c;
  }

  Sent next(DatagramGenerator& generator) override {
    // A client left unanswered too long gives up qualifying (§5.2.1: after
    // N tries it goes off-line): past two RS intervals, the rest of the
    // window is for the qualified client (send() qualifies it first).
    const bool qualifying =
        phase_ == kQualifying && label_qualifying_ && Clock::now() - phase_started_ < 2 * timers_.retry;
    if (!qualifying) label_qualifying_ = false;
    generator.set_discovery(discovery_);
    generator.set_audience(qualifying ? Audience::client_qualifying : Audience::client_qualified);
    GeneratedDatagram g = generator.next();
    return Sent{std::move(g.payload), to_string(g.base), std::move(g.mutations), std::nullopt, 0};
  }

  void send(const std::vector<const Sent*>& batch) override {
    (void)refresh_rs();
    const ClientBinding from = placeholder_binding();
    for (const Sent* s : batch) {
      if (!is_ra_template(s->base) && phase_ == kQualifying) {
        // The datagrams for a qualified client: qualify it first. A client
        // that does not is judged by the next probe.
        (void)qualify([] { return true; });
        (void)refresh_rs();
      }
      // A new RS since (a retry, the second phase's RS to the secondary):
      // the RAs that follow carry its nonce (checked without copying the
      // played server's record when there is none).
      if (is_ra_template(s->base) && played_->wait_rs(seen_count_ + 1, std::chrono::milliseconds(0))) {
        (void)refresh_rs();
      }
      ClientBinding to = from;
      if (last_rs_) {
        to.nonce = last_rs_->nonce;
        to.mapped_ipv4 = last_rs_->from.address;
        to.mapped_port = last_rs_->from.port;
        if (const auto rs = kit::parse_teredo_payload(last_rs_->payload)) to.link_local = rs->ipv6.header.source;
      }
      if (address_) to.teredo = *address_;
      ByteVector payload = s->payload;
      rebind_for_client(payload, from, to);
      const Ipv4Address mapping = to.mapped_ipv4;
      const std::uint16_t port = to.mapped_port;
      if (is_ra_template(s->base)) {
        // From the address the RS went to (the secondary in RFC 4380's
        // second qualification phase).
        send_to(last_rs_ && last_rs_->to == lab::kServerSecondary ? secondary_ : primary_, mapping, port, payload);
      } else if (s->base == "bubble_via_server") {
        send_to(primary_, mapping, port, payload);
      } else if (s->base == "data_from_relay") {
        send_to(relay_, mapping, port, payload);
      } else if (s->base == "discovery_bubble") {
        send_to(lan_peer_, kit::ipv4(kDiscoveryGroup), lab::kTeredoPort, payload);
      } else {
        send_to(peer_, mapping, port, payload);
      }
    }
    drain(peers_server_);
    drain(peer_);
    drain(relay_);
    drain(lan_peer_);
  }

  std::optional<WireViolation> check(const IutDatagram& d) const override {
    return check_iut_datagram(d, nonces_, IutRole::client);
  }

  ByteVector reproducer_frame(const Sent& s) const override {
    // The source tells `replay --role client` (replay.hpp to_client_input)
    // which played party sends it.
    std::string from = lab::kPeerA;
    std::uint16_t from_port = kPeerPort;
    std::string to = lab::kNatOutside;
    std::uint16_t to_port = kPlaceholderPort;
    if (is_ra_template(s.base) || s.base == "bubble_via_server") {
      from = lab::kServerPrimary;
      from_port = lab::kTeredoPort;
    } else if (s.base == "data_from_relay") {
      from = lab::kPlayedRelay;
      from_port = lab::kTeredoPort;
    } else if (s.base == "discovery_bubble") {
      from = lab::kLanPeer;
      from_port = kLanPeerPort;
      to = kDiscoveryGroup;
      to_port = lab::kTeredoPort;
    }
    const Ipv4UdpEndpoints e{kit::ipv4(from), from_port, kit::ipv4(to), to_port};
    return build_ethernet_ipv4_udp(e, s.payload);
  }

 private:
  std::chrono::milliseconds qualify_timeout() const { return 2 * timers_.retry + std::chrono::milliseconds(1500); }

  static void drain(int fd) {
    std::uint8_t buffer[2048];
    while (::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
    }
  }

  // The played server's latest RS; false when it has seen none.
  bool refresh_rs() {
    const auto seen = played_->seen();
    seen_count_ = seen.size();
    if (seen.empty()) return false;
    last_rs_ = seen.back();
    return true;
  }

  // The client's address in the played server's prefix, read from its
  // interface (the adapter's address probe, as the client cases read it).
  bool address_now() {
    const Ipv6Address prefix = teredo_prefix(kit::ipv4(lab::kServerPrimary));
    for (const Ipv6Address& a : client::iut_global_addresses(*lab_, *adapter_)) {
      if (client::in_prefix64(a, prefix)) {
        address_ = a;
        return true;
      }
    }
    return false;
  }
  bool learn_address(const Alive& alive) {
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    while (Clock::now() < deadline && alive()) {
      if (address_now()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // State "qualifying" to "qualified": the played server answers the
  // client's RSs with valid RAs from now on. A client that took one of the
  // window's RAs (one in eight is valid) is qualified already: its address
  // answers an echo. Else its next RS is answered, and the address that RA
  // gives answers an echo.
  bool qualify(const Alive& alive) {
    played_->set_default(client::RaPlan{});
    phase_ = kQualified;
    label_qualifying_ = false;
    good_qualified_probes_ = 0;
    const auto since = Clock::now();
    (void)refresh_rs();
    address_.reset();
    if (address_now() && echo(alive)) return true;
    const auto deadline = since + qualify_timeout();
    bool answered = false;
    while (!answered && Clock::now() < deadline && alive()) {
      for (const auto& rs : played_->seen()) answered = answered || (rs.answered && rs.answered_at >= since);
      if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    (void)refresh_rs();
    address_.reset();
    return answered && learn_address(alive) && echo(alive);
  }

  // An echo request with a fresh identifier, sequence and data marker from
  // the probe peer to the client's address; its echo reply must carry all
  // three.
  bool echo(const Alive& alive) {
    if (!address_ && !learn_address(alive)) return false;
    if (!last_rs_) return false;
    drain(probe_);
    const auto identifier = static_cast<std::uint16_t>(marker_random_());
    const auto sequence = static_cast<std::uint16_t>(marker_random_());
    const std::string mark = fmt::format("teredo-fuzz-echo-{:016x}", marker_random_());
    const Ipv6Address source = kit::teredo_address(lab::kPeerServer, 0, lab::kPeerA, kProbePort);
    const ByteVector packet =
        kit::encapsulate(build_echo(source, *address_, 64,
                                    EchoMessage{.reply = false, .identifier = identifier, .sequence = sequence,
                                                .data = Bytes(reinterpret_cast<const std::uint8_t*>(mark.data()),
                                                              mark.size())}));
    const client::Endpoint mapping = last_rs_->from;
    std::uint8_t buffer[65536];
    return await_answer(
        {probe_}, kEchoTimeout, [&] { send_to(probe_, mapping.address, mapping.port, packet); },
        [&](int readable) {
          const ssize_t n = ::recv(readable, buffer, sizeof buffer, MSG_DONTWAIT);
          if (n <= 0) return false;
          const auto d = kit::parse_teredo_payload(Bytes(buffer, static_cast<std::size_t>(n)));
          if (!d || d->ipv6.header.next_header != kNextHeaderIcmpv6) return false;
          const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::verify);
          if (!icmp || icmp->type != kIcmpv6EchoReply) return false;
          const auto reply = parse_echo(*icmp);
          return reply && reply->identifier == identifier && reply->sequence == sequence &&
                 kit::contains(reply->data, mark);
        },
        alive);
  }

  netns::Lab* lab_ = nullptr;
  const Adapter* adapter_ = nullptr;
  client::Timers timers_{};
  bool discovery_ = false;
  std::unique_ptr<client::PlayedServer> played_;
  std::vector<int> fds_;
  int primary_ = -1, secondary_ = -1, peer_ = -1, probe_ = -1, relay_ = -1, peers_server_ = -1, lan_peer_ = -1;
  std::string phase_ = kQualifying;
  bool label_qualifying_ = true;
  Clock::time_point phase_started_ = Clock::now();
  int good_qualified_probes_ = 0;
  std::size_t seen_count_ = 0;
  std::optional<client::RsSeen> last_rs_;
  std::optional<Ipv6Address> address_;
  std::mt19937_64 marker_random_;
  NonceBook nonces_;  // empty: a client answers no RS
};

}  // namespace

std::unique_ptr<RoleRig> make_client_rig(std::uint64_t seed) { return std::make_unique<ClientRig>(seed); }

}  // namespace teredo::conformance::fuzz
