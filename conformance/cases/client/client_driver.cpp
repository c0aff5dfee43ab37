#include "cases/client/client_driver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "teredo/wire/nd.hpp"

namespace teredo::conformance::client {

using namespace teredo::wire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

Endpoint endpoint_of(const sockaddr_in& a) {
  return Endpoint{Ipv4Address{ntohl(a.sin_addr.s_addr)}, ntohs(a.sin_port)};
}

void send_to(int fd, const Endpoint& to, Bytes payload) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(to.port);
  a.sin_addr.s_addr = htonl(to.address.value);
  (void)::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

void fix_icmpv6_checksum(ByteVector& packet) {
  if (packet.size() < kIpv6HeaderSize + 4) return;
  Ipv6Address s, d;
  std::memcpy(s.bytes.data(), packet.data() + 8, 16);
  std::memcpy(d.bytes.data(), packet.data() + 24, 16);
  packet[kIpv6HeaderSize + 2] = 0;
  packet[kIpv6HeaderSize + 3] = 0;
  const std::uint16_t sum =
      icmpv6_checksum(s, d, Bytes(packet.data() + kIpv6HeaderSize, packet.size() - kIpv6HeaderSize));
  packet[kIpv6HeaderSize + 2] = static_cast<std::uint8_t>(sum >> 8);
  packet[kIpv6HeaderSize + 3] = static_cast<std::uint8_t>(sum & 0xff);
}

}  // namespace

std::vector<VantagePoint> client_captures() { return {{"lan", "client", "eth0"}, {"inet", "server", "eth0"}}; }

Timers timers(const CaseRun& run) {
  // The launch the case runs with may have its own time scale.
  return timers(launch_timers_ms(run.adapter(), run.spec().role, launch_variant_for(run.spec().capabilities)));
}

Timers timers(const Adapter& adapter) { return timers(adapter.timers_ms); }

Timers timers(const std::map<std::string, std::int64_t>& timers_ms) {
  const auto timer = [&timers_ms](const char* name, std::chrono::milliseconds fallback) {
    const auto it = timers_ms.find(name);
    return it == timers_ms.end() ? fallback : std::chrono::milliseconds(it->second);
  };
  Timers t;
  t.retry = timer("qualification_retry", t.retry);
  t.refresh = timer("refresh_interval", t.refresh);
  t.bubble = timer("bubble_interval", t.bubble);
  t.window = timer("bubble_window", t.window);
  t.echo = timer("echo_test_retry", t.echo);
  t.validity = timer("peer_validity", t.validity);
  t.discovery_max = timer("discovery_max", t.discovery_max);
  return t;
}

std::string to_text(const Endpoint& e) { return fmt::format("{}:{}", to_string(e.address), e.port); }

const char* describe(RaFault fault) {
  switch (fault) {
    case RaFault::none: return "a valid RA";
    case RaFault::silent: return "no RA";
    case RaFault::wrong_nonce: return "an RA whose nonce has one bit flipped";
    case RaFault::no_auth: return "an RA without the authentication encapsulation (the RS had a nonce)";
    case RaFault::no_origin: return "an RA without origin indication";
    case RaFault::wrong_destination: return "an RA addressed to fe80::1234 instead of the RS's source";
    case RaFault::two_prefixes: return "an RA with two Prefix Information options";
    case RaFault::no_prefix: return "an RA without Prefix Information option";
    case RaFault::foreign_prefix: return "an RA advertising 2001:db8::/64";
    case RaFault::other_server_prefix: return "an RA advertising 2001:0:c633:6409::/64 (another server's prefix)";
    case RaFault::global_source: return "an RA from the global source 2001:db8:1::2";
    case RaFault::hop_limit_64: return "an RA with hop limit 64";
    case RaFault::bad_checksum: return "an RA with a corrupted ICMPv6 checksum";
    case RaFault::code_1: return "an RA with ICMPv6 code 1";
    case RaFault::truncated: return "an ICMPv6 RA of 12 octets";
    case RaFault::zero_length_option: return "an RA carrying an ND option of length 0";
    case RaFault::bad_mac: return "an RA whose HMAC has one byte flipped";
    case RaFault::other_secret: return "an RA signed with another secret";
    case RaFault::wrong_source_port: return "a valid RA sent from port 3545";
    case RaFault::private_origin: return "an RA whose origin indication is 10.1.2.3:40000 (not global)";
  }
  return "?";
}

ByteVector ra_datagram(const RsSeen& rs, const RaPlan& plan, const Endpoint& origin_endpoint, bool secure) {
  const auto parsed = kit::parse_teredo_payload(rs.payload);
  if (!parsed) throw std::runtime_error("ra_datagram: the RS does not parse");
  const Ipv6Address source =
      plan.fault == RaFault::global_source ? kit::ipv6("2001:db8:1::2") : kit::server_link_local(kServer);
  const Ipv6Address destination =
      plan.fault == RaFault::wrong_destination ? kit::ipv6("fe80::1234") : parsed->ipv6.header.source;
  const std::uint8_t hop_limit = plan.fault == RaFault::hop_limit_64 ? 64 : 255;
  ByteVector ra;
  if (plan.fault == RaFault::truncated) {
    ra = build_icmpv6_packet(source, destination, hop_limit, kIcmpv6RouterAdvertisement, 0, ByteVector(8, 0));
  } else {
    ByteVector options;
    PrefixInformation prefix;
    prefix.flags = 0x40;
    const auto advertised = advertised_prefix(plan);
    if (advertised) prefix.prefix = *advertised;
    if (advertised) append_prefix_information_option(options, prefix);
    if (plan.fault == RaFault::two_prefixes) append_prefix_information_option(options, prefix);
    append_mtu_option(options, 1280);
    if (plan.fault == RaFault::zero_length_option) {
      options.insert(options.end(), {std::uint8_t{1}, std::uint8_t{0}, 0, 0, 0, 0, 0, 0});
    }
    RouterAdvertisement fields;
    fields.retrans_timer = 2000;
    ra = build_router_advertisement(source, destination, fields, options, hop_limit);
    if (plan.fault == RaFault::code_1) {
      ra[kIpv6HeaderSize + 1] = 1;
      fix_icmpv6_checksum(ra);
    }
  }
  if (plan.fault == RaFault::bad_checksum) ra[kIpv6HeaderSize + 2] ^= 0x5A;
  const OriginIndication origin = plan.fault == RaFault::private_origin
                                      ? OriginIndication{40000, kit::ipv4("10.1.2.3")}
                                      : OriginIndication{origin_endpoint.port, origin_endpoint.address};
  std::optional<OriginIndication> with_origin;
  if (plan.fault != RaFault::no_origin) with_origin = origin;
  std::optional<AuthenticationFields> auth;
  AuthenticationValue mac;
  ByteVector client_id;
  if (parsed->authentication && plan.fault != RaFault::no_auth) {
    auth.emplace();
    auth->nonce = parsed->authentication->nonce;
    if (plan.fault == RaFault::wrong_nonce) auth->nonce[0] ^= 0x01;
    auth->confirmation = plan.confirmation;
    if (secure) {
      client_id.assign(parsed->authentication->client_id.begin(), parsed->authentication->client_id.end());
      auth->client_id = client_id;
      ByteVector origin_encoded;
      if (with_origin) append_origin_indication(origin_encoded, *with_origin);
      const std::string secret = plan.fault == RaFault::other_secret ? "another-secret" : kit::lab::kSecret;
      const auto value =
          compute_authentication_value(MacAlgorithm::hmac_sha1, kit::bytes_of(secret.c_str()), auth->nonce,
                                       auth->confirmation, origin_encoded, ra);
      if (!value) throw std::runtime_error("ra_datagram: OpenSSL could not compute the MAC");
      mac = *value;
      if (plan.fault == RaFault::bad_mac) mac.bytes[0] ^= 0x01;
      auth->authentication_value = mac.view();
    }
  }
  ByteVector out;
  if (!append_datagram(out, auth, with_origin, ra)) throw std::runtime_error("ra_datagram: fields too long");
  return out;
}

PlayedServer::PlayedServer(CaseRun& run, bool secure)
    : PlayedServer([&run](const std::string& address, std::uint16_t port) { return run.udp_socket("server", address, port); },
                   secure) {}

PlayedServer::PlayedServer(const UdpBinder& bind, bool secure) : secure_(secure) {
  primary_ = bind(kServer, kTeredoPort);
  secondary_ = bind(kServer2, kTeredoPort);
  primary_other_port_ = bind(kServer, kTeredoPort + 1);
  secondary_other_port_ = bind(kServer2, kTeredoPort + 1);
  thread_ = std::thread([this] { loop(); });
}

PlayedServer::~PlayedServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void PlayedServer::push(RaPlan plan) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.push_back(plan);
}

void PlayedServer::set_default(RaPlan plan) {
  std::lock_guard<std::mutex> lock(mutex_);
  default_ = plan;
}

std::vector<RsSeen> PlayedServer::seen() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return seen_;
}

bool PlayedServer::wait_rs(std::size_t count, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (seen_.size() >= count) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return seen_.size() >= count;
}

std::optional<Endpoint> PlayedServer::mapping() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (seen_.empty()) return std::nullopt;
  return seen_.back().from;
}

void PlayedServer::send_from_primary(const Endpoint& to, Bytes payload) { send_to(primary_, to, payload); }

void PlayedServer::loop() {
  std::vector<std::uint8_t> buffer(65536);
  pollfd fds[2] = {{primary_, POLLIN, 0}, {secondary_, POLLIN, 0}};
  while (!stop_) {
    if (::poll(fds, 2, 20) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      for (int guard = 0; guard < 64; ++guard) {
        sockaddr_in from{};
        socklen_t length = sizeof from;
        const ssize_t n = ::recvfrom(fds[i].fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from),
                                     &length);
        if (n <= 0) break;
        answer(fds[i].fd, i == 0 ? kServer : kServer2, endpoint_of(from),
               Bytes(buffer.data(), static_cast<std::size_t>(n)));
      }
    }
  }
}

void PlayedServer::mirror_secondary(bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  mirror_secondary_ = on;
}

void PlayedServer::answer_secondary_with(RaPlan plan) {
  std::lock_guard<std::mutex> lock(mutex_);
  secondary_plan_ = plan;
}

void PlayedServer::forward_bubbles(std::size_t budget) {
  std::lock_guard<std::mutex> lock(mutex_);
  forward_budget_ = budget;
}

std::vector<PlayedServer::BubbleSeen> PlayedServer::bubbles() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bubbles_;
}

void PlayedServer::forward_bubble(const Endpoint& from, const TeredoDatagram& d) {
  const auto destination = parse_teredo(d.ipv6.header.destination);
  if (!destination || destination->server != kit::ipv4(kServer)) return;
  BubbleSeen b;
  b.at = Clock::now();
  b.from = from;
  b.to = Endpoint{destination->mapped_ipv4, destination->mapped_port};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    b.forwarded = forward_budget_ > 0;
    if (b.forwarded) --forward_budget_;
  }
  if (b.forwarded) {
    // §5.3.1: the packet as received (no authentication), preceded by the
    // origin indication of its source.
    ByteVector out;
    if (append_datagram(out, std::nullopt, OriginIndication{from.port, from.address}, d.ipv6.packet)) {
      send_to(primary_, b.to, out);
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  bubbles_.push_back(b);
}

void PlayedServer::answer(int fd, const std::string& to, const Endpoint& from, Bytes payload) {
  const auto d = kit::parse_teredo_payload(payload);
  if (d && is_bubble(d->ipv6)) {
    forward_bubble(from, *d);
    return;
  }
  if (!d || d->ipv6.header.next_header != kNextHeaderIcmpv6) return;
  const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::ignore);
  if (!icmp || icmp->type != kIcmpv6RouterSolicitation) return;
  RsSeen rs;
  rs.at = Clock::now();
  rs.from = from;
  rs.to = to;
  rs.payload.assign(payload.begin(), payload.end());
  rs.cone = (flags_of(d->ipv6.header.source) & kFlagCone) != 0;
  if (d->authentication) {
    rs.authenticated = true;
    rs.nonce = d->authentication->nonce;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (secondary_plan_ && to == kServer2) {
      rs.plan = *secondary_plan_;
    } else if (mirror_secondary_ && to == kServer2 && last_primary_origin_) {
      rs.plan = RaPlan{.origin = last_primary_origin_};
    } else if (!queue_.empty()) {
      rs.plan = queue_.front();
      queue_.erase(queue_.begin());
    } else {
      rs.plan = default_;
    }
    if (to == kServer && rs.plan.fault != RaFault::silent) {
      last_primary_origin_ = rs.plan.fault == RaFault::private_origin
                                 ? Endpoint{kit::ipv4("10.1.2.3"), 40000}
                                 : rs.plan.origin ? *rs.plan.origin : from;
    }
  }
  if (rs.plan.fault != RaFault::silent) {
    const Endpoint origin = rs.plan.origin ? *rs.plan.origin : from;
    const ByteVector ra = ra_datagram(rs, rs.plan, origin, secure_);
    // §5.3.2: a cone RS is answered from the other address.
    const bool other_address = rs.cone;
    const bool primary_socket = (fd == primary_) != other_address;
    int out = primary_socket ? primary_ : secondary_;
    if (rs.plan.fault == RaFault::wrong_source_port) out = primary_socket ? primary_other_port_ : secondary_other_port_;
    send_to(out, from, ra);
    rs.answered = true;
    rs.answered_at = Clock::now();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  seen_.push_back(std::move(rs));
}

void open_played_server(CaseRun& run) { run.fixture = std::make_shared<PlayedServer>(run, false); }
void open_secure_played_server(CaseRun& run) { run.fixture = std::make_shared<PlayedServer>(run, true); }

PlayedServer& played_server(CaseRun& run) {
  if (!run.fixture) open_played_server(run);
  return *std::static_pointer_cast<PlayedServer>(run.fixture);
}

std::optional<Ipv6Address> iut_address(CaseRun& run) {
  const auto found = iut_addresses_in_advertised(run);
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::optional<Ipv6Address> wait_address(CaseRun& run, std::chrono::milliseconds timeout,
                                        std::optional<Ipv6Address> not_this) {
  const auto deadline = Clock::now() + timeout;
  for (int guard = 0; guard < 100000; ++guard) {
    const auto a = iut_address(run);
    if (a && (!not_this || *a != *not_this)) return a;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

std::optional<Ipv6Address> qualify(CaseRun& run, PlayedServer& server, const std::vector<std::string>& requirements) {
  const Timers t = timers(run);
  const auto timeout = 3 * t.retry + std::chrono::milliseconds(3000);
  const auto a = wait_address(run, timeout);
  if (a) {
    const auto rs = server.seen();
    run.info(fmt::format("setup: the IUT qualified as {} (its interface address in the advertised prefix) after {} "
                         "RS(s); mapping {}",
                         to_string(*a), rs.size(), rs.empty() ? "?" : to_text(rs.back().from)));
    return a;
  }
  const auto rs = server.seen();
  for (const auto& r : requirements) {
    run.inconclusive(r, fmt::format("the IUT did not qualify with a valid played server within {} ({} RS(s) "
                                    "received and answered): the case cannot reach the state to judge",
                                    ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(timeout)),
                                    rs.size()),
                     "iut_not_qualified");
  }
  return std::nullopt;
}

App::App(CaseRun& run, std::uint16_t port) {
  fd_ = run.lab().socket("client", AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("IPv6 socket in client: ") + std::strerror(errno));
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("bind [::]:" + std::to_string(port) + " in client: " + why);
  }
}

App::~App() {
  if (fd_ >= 0) ::close(fd_);
}

bool App::send(const Ipv6Address& to, Bytes payload, std::string* error) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(kAppPort);
  std::memcpy(&a.sin6_addr, to.bytes.data(), 16);
  if (::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    if (error) *error = std::strerror(errno);
    return false;
  }
  return true;
}

Peer make_peer(CaseRun& run, const std::string& address, std::uint16_t port, std::uint16_t flags,
               const std::string& server) {
  return kit::make_peer(run, "server", address, port, server, flags);
}

std::uint64_t send_from(CaseRun& run, const Peer& from, Bytes payload, const Endpoint& to) {
  return kit::send_from(run, "inet", from, payload, to_string(to.address), to.port).frame;
}

std::uint64_t indirect_bubble(CaseRun& run, PlayedServer& server, const Peer& peer, const Ipv6Address& iut,
                              const Endpoint& mapping, Bytes trailer) {
  ByteVector payload;
  (void)append_datagram(payload, std::nullopt, OriginIndication{peer.port, kit::ipv4(peer.address)},
                        kit::bubble_packet(peer.teredo, iut), trailer);
  Capture& capture = run.capture("inet");
  const LinkType link = capture.link_type();
  const std::uint64_t before = capture.count();
  server.send_from_primary(mapping, payload);
  const Ipv4Address from = kit::ipv4(kServer);
  const auto own = capture.wait_for(
      [link, from, mapping](const CapturedFrame& f) {
        const auto c = find_udp_carrier(link, f.data);
        return c && !c->ipv6 && c->source4 == from && c->source_port == kTeredoPort &&
               c->destination4 == mapping.address && c->destination_port == mapping.port;
      },
      1000ms, before);
  return own ? own->number : 0;
}

std::optional<Seen> data_on_wire(CaseRun& run, App& app, const Peer& peer, const Endpoint& iut_mapping,
                                 const Ipv6Address& iut, const std::string& mark, std::string& story) {
  const Timers t = timers(run);
  Capture& capture = run.capture("lan");
  const std::uint64_t before = capture.count();
  std::string error;
  if (!app.send(peer.teredo, kit::bytes_of(mark.c_str()), &error)) {
    story = "the application could not send to " + to_string(peer.teredo) + ": " + error;
    return std::nullopt;
  }
  const FrameMatch data = iut_containing(capture, mark);
  const FrameMatch bubble = iut_bubble_for(capture, peer.teredo);
  const Ipv4Address peer_address = kit::ipv4(peer.address);
  const std::uint16_t peer_port = peer.port;
  const LinkType link = capture.link_type();
  const auto first = wait_seen(
      run,
      [&](const CapturedFrame& f) {
        if (data(f)) return true;
        if (!bubble(f)) return false;
        const auto c = find_udp_carrier(link, f.data);
        return c && c->destination4 == peer_address && c->destination_port == peer_port;
      },
      t.bubble + 1500ms, before);
  if (!first) {
    story = fmt::format("the application's packet to {} produced neither data nor a direct bubble to {} within {}",
                        to_string(peer.teredo), peer.where(), ms_text(t.bubble + 1500ms));
    return std::nullopt;
  }
  if (data(CapturedFrame{first->frame, first->at, first->bytes})) {
    story = "sent at once: " + describe(*first);
    return first;
  }
  const std::uint64_t answer = send_from(run, peer, kit::bubble_packet(peer.teredo, iut), iut_mapping);
  const auto released = wait_seen(run, data, 1500ms, before);
  story = fmt::format("direct bubble {}; the peer's bubble back (inet frame {}); then {}", describe(*first), answer,
                      released ? describe(*released) : "no packet holding the data within 1500 ms");
  return released;
}

FrameMatch from_iut(const Capture& capture) { return kit::udp_from(capture.link_type(), kClientLan); }

FrameMatch iut_to(const Capture& capture, const std::string& address, std::uint16_t port) {
  const LinkType link = capture.link_type();
  const Ipv4Address iut = kit::ipv4(kClientLan);
  const auto want = parse_ipv4(address);
  const Ipv4Address to = want ? *want : Ipv4Address{0};
  return [link, iut, to, port](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->source4 == iut && c->destination4 == to && (port == 0 || c->destination_port == port);
  };
}

FrameMatch iut_bubble_for(const Capture& capture, const Ipv6Address& peer) {
  return kit::bubble_from(capture.link_type(), kClientLan, peer);
}

FrameMatch iut_containing(const Capture& capture, const std::string& mark) {
  return kit::udp_from_containing(capture.link_type(), kClientLan, mark);
}

FrameMatch iut_echo_reply(const Capture& capture, std::uint16_t identifier, std::uint16_t sequence) {
  const LinkType link = capture.link_type();
  const Ipv4Address iut = kit::ipv4(kClientLan);
  return [link, iut, identifier, sequence](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    if (!c || c->ipv6 || c->source4 != iut) return false;
    const auto d = kit::parse_teredo_payload(c->payload);
    if (!d || d->ipv6.header.next_header != kNextHeaderIcmpv6) return false;
    const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::ignore);
    if (!icmp || icmp->type != kIcmpv6EchoReply) return false;
    const auto echo = parse_echo(*icmp);
    return echo && echo->identifier == identifier && echo->sequence == sequence;
  };
}

FrameMatch iut_rs(const Capture& capture) {
  const LinkType link = capture.link_type();
  const Ipv4Address iut = kit::ipv4(kClientLan);
  return [link, iut](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    if (!c || c->ipv6 || c->source4 != iut) return false;
    const auto d = kit::parse_teredo_payload(c->payload);
    if (!d || d->ipv6.header.next_header != kNextHeaderIcmpv6) return false;
    const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::ignore);
    return icmp && icmp->type == kIcmpv6RouterSolicitation;
  };
}

FrameMatch ra_to_iut(const Capture& capture) {
  const LinkType link = capture.link_type();
  const Ipv4Address iut = kit::ipv4(kClientLan), primary = kit::ipv4(kServer), secondary = kit::ipv4(kServer2);
  return [link, iut, primary, secondary](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    if (!c || c->ipv6 || c->destination4 != iut || (c->source4 != primary && c->source4 != secondary)) return false;
    return kit::inner_addresses(c->payload).has_value();
  };
}

std::uint64_t lan_mark(CaseRun& run) { return run.capture("lan").count(); }

std::uint64_t lan_barrier(CaseRun& run) {
  static std::atomic<unsigned> serial{0};  // cases run in parallel threads
  const std::string tag = fmt::format("teredo-conformance lan barrier {}", ++serial);
  const int fd = run.udp_socket("lanpeer", kLanPeer, 0);
  send_to(fd, Endpoint{kit::ipv4(kClientLan), 9}, kit::bytes_of(tag.c_str()));
  Capture& lan = run.capture("lan");
  const auto seen = lan.wait_for(kit::udp_from_containing(lan.link_type(), kLanPeer, tag), kit::timeout::answer);
  return seen ? seen->number : lan_mark(run);
}
std::uint64_t inet_mark(CaseRun& run) { return run.capture("inet").count(); }

std::optional<Seen> parse_seen(const CapturedFrame& frame, LinkType link) { return Seen::parse(frame, link, "lan"); }

std::vector<Seen> all_seen(CaseRun& run, const FrameMatch& match, std::uint64_t after) {
  Capture& capture = run.capture("lan");
  std::vector<Seen> out;
  for (const auto& f : capture.frames(match, after)) {
    if (auto s = parse_seen(f, capture.link_type())) out.push_back(std::move(*s));
  }
  return out;
}

std::optional<Seen> wait_seen(CaseRun& run, const FrameMatch& match, std::chrono::milliseconds timeout,
                              std::uint64_t after) {
  Capture& capture = run.capture("lan");
  const auto f = capture.wait_for(match, timeout, after);
  if (!f) return std::nullopt;
  return parse_seen(*f, capture.link_type());
}

FrameRef lan(std::uint64_t frame) { return kit::frame_ref(frame, "lan"); }
FrameRef inet(std::uint64_t frame) { return kit::frame_ref(frame, "inet"); }
std::vector<FrameRef> lan_frames(std::initializer_list<std::uint64_t> numbers) { return kit::frames_of("lan", numbers); }

// ---------------------------------------------------------------------------
// Content attribution (issue 12).

std::optional<Ipv6Address> advertised_prefix(const RaPlan& plan) {
  switch (plan.fault) {
    case RaFault::silent:
    case RaFault::no_prefix:
    case RaFault::truncated: return std::nullopt;
    case RaFault::foreign_prefix: return kit::ipv6("2001:db8::");
    case RaFault::other_server_prefix: return teredo_prefix(kit::ipv4(kRelay));
    default: return teredo_prefix(kit::ipv4(kServer));
  }
}

std::vector<Ipv6Address> advertised_prefixes(CaseRun& run) {
  std::vector<Ipv6Address> out = {teredo_prefix(kit::ipv4(kServer))};
  if (!run.fixture) return out;
  for (const auto& rs : played_server(run).seen()) {
    if (!rs.answered) continue;
    const auto prefix = advertised_prefix(rs.plan);
    if (prefix && std::find(out.begin(), out.end(), *prefix) == out.end()) out.push_back(*prefix);
  }
  return out;
}

bool in_prefix64(const Ipv6Address& address, const Ipv6Address& prefix) {
  return std::equal(address.bytes.begin(), address.bytes.begin() + 8, prefix.bytes.begin());
}

std::vector<Ipv6Address> parse_ip_json_addresses(const std::string& json, const std::string& scope) {
  std::vector<Ipv6Address> out;
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_array()) return out;
  const auto flag = [](const nlohmann::json& a, const char* key) { return a.contains(key) && a[key] == true; };
  for (const auto& link : doc) {
    if (!link.is_object() || !link.contains("addr_info") || !link["addr_info"].is_array()) continue;
    for (const auto& a : link["addr_info"]) {
      if (!a.is_object() || a.value("family", "") != "inet6" || a.value("scope", "") != scope) continue;
      // Under duplicate address detection the kernel would not use it yet.
      if (flag(a, "tentative") || flag(a, "dadfailed")) continue;
      const auto parsed = parse_ipv6(a.value("local", ""));
      if (parsed) out.push_back(*parsed);
    }
  }
  return out;
}

std::vector<Ipv6Address> iut_global_addresses(CaseRun& run) { return iut_global_addresses(run.lab(), run.adapter()); }

std::vector<Ipv6Address> iut_global_addresses(netns::Lab& lab, const Adapter& adapter) {
  const auto it = adapter.roles.find("client");
  if (it == adapter.roles.end() || !it->second.address) return {};
  const std::string interface = expand(it->second.address->interface, lab_placeholders(lab));
  const auto r = lab.exec("client", {"ip", "-j", "-6", "addr", "show", "dev", interface, "scope", "global"});
  if (r.exit_code != 0) return {};
  return parse_ip_json_addresses(r.output);
}

std::vector<Ipv6Address> iut_addresses_in_advertised(CaseRun& run) {
  const auto prefixes = advertised_prefixes(run);
  std::vector<Ipv6Address> out;
  for (const auto& a : iut_global_addresses(run)) {
    if (std::any_of(prefixes.begin(), prefixes.end(), [&](const Ipv6Address& p) { return in_prefix64(a, p); })) {
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace teredo::conformance::client
