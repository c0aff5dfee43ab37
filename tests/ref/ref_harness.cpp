#include "ref_harness.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "teredo/netns/process.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/nd.hpp"

namespace teredo::reftest {

namespace fs = std::filesystem;

bool running_as_root() { return ::geteuid() == 0; }

bool miredo_installed() { return fs::exists("/usr/sbin/miredo") && fs::exists("/usr/sbin/miredo-server"); }

std::string topology_path(const std::string& name) {
  return std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/" + name + ".json";
}

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string to_string(const Endpoint& e) { return wire::to_string(e.address) + ":" + std::to_string(e.port); }

Endpoint endpoint(const std::string& ipv4, std::uint16_t port) {
  const auto a = wire::parse_ipv4(ipv4);
  if (!a) throw std::runtime_error("bad IPv4 " + ipv4);
  return Endpoint{*a, port};
}

wire::Ipv6Address ipv6(const std::string& text) {
  const auto a = wire::parse_ipv6(text);
  if (!a) throw std::runtime_error("bad IPv6 " + text);
  return *a;
}

// --- daemons --------------------------------------------------------------

bool wait_for_log(const Daemon& d, const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (d.output().find(needle) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

Daemon start_ref(netns::Lab& lab, const std::string& host, const std::vector<std::string>& args,
                 const std::string& name, std::chrono::milliseconds timeout) {
  Daemon d;
  d.log = lab.run_dir() + "/" + name + ".log";
  std::vector<std::string> argv{TEREDO_REF_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  d.pid = lab.spawn(host, argv, d.log);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string out = d.output();
    if (out.find(" ready ") != std::string::npos) return d;
    if (!netns::process_alive(d.pid)) break;
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error(name + " did not get ready in " + host + "; its log:\n" + d.output());
}

int terminate(const Daemon& d, std::chrono::milliseconds timeout) {
  ::kill(d.pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t r = ::waitpid(d.pid, &status, WNOHANG);
    if (r == d.pid) return status;
    if (r < 0) return -1;
    std::this_thread::sleep_for(5ms);
  }
  ::kill(d.pid, SIGKILL);
  ::waitpid(d.pid, &status, 0);
  return -1;
}

// --- sockets --------------------------------------------------------------

namespace {
sockaddr_in to_sockaddr(Endpoint e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  a.sin_addr.s_addr = htonl(e.address.value);
  return a;
}
}  // namespace

LabUdp::LabUdp(const netns::Lab& lab, const std::string& host, Endpoint bind_to)
    : fd_(lab.socket(host, AF_INET, SOCK_DGRAM)), local_(bind_to) {
  const sockaddr_in a = to_sockaddr(bind_to);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    const int e = errno;
    ::close(fd_);
    throw std::runtime_error("bind " + to_string(bind_to) + " in " + host + ": " + std::strerror(e));
  }
}

LabUdp::~LabUdp() {
  if (fd_ >= 0) ::close(fd_);
}

void LabUdp::send(Endpoint to, wire::Bytes payload) const {
  const sockaddr_in a = to_sockaddr(to);
  if (::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0) {
    throw std::runtime_error("sendto " + to_string(to) + ": " + std::strerror(errno));
  }
}

void LabUdp::set_receive_buffer(int bytes) const {
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    throw std::runtime_error(std::string("SO_RCVBUFFORCE: ") + std::strerror(errno));
  }
}

std::optional<LabUdp::Received> LabUdp::receive(std::chrono::milliseconds timeout) const {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  Received r;
  r.payload.resize(65536);
  sockaddr_in from{};
  socklen_t length = sizeof from;
  const ssize_t n = ::recvfrom(fd_, r.payload.data(), r.payload.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
  if (n < 0) return std::nullopt;
  r.payload.resize(static_cast<std::size_t>(n));
  r.from = Endpoint{wire::Ipv4Address{ntohl(from.sin_addr.s_addr)}, ntohs(from.sin_port)};
  return r;
}

// --- router solicitations and advertisements -------------------------------

wire::Ipv6Address rs_source(bool cone) {
  // Miredo's two RS sources: the cone bit is bit 64, the top bit of the
  // fifth group (0x8000 here, 0 in fe80::ffff:ffff:fffe).
  return ipv6(cone ? "fe80::8000:ffff:ffff:fffe" : "fe80::ffff:ffff:fffe");
}

wire::ByteVector make_rs(bool cone, std::uint8_t hop_limit, const std::optional<RsAuth>& auth) {
  const wire::ByteVector rs = wire::build_router_solicitation(rs_source(cone), ipv6("ff02::2"), {}, hop_limit);
  if (!auth) return rs;
  const wire::Bytes secret(reinterpret_cast<const std::uint8_t*>(auth->secret.data()), auth->secret.size());
  const auto value = wire::compute_authentication_value(auth->algorithm, secret, auth->nonce, 0, {}, rs);
  if (!value) throw std::runtime_error("HMAC unavailable");
  wire::AuthenticationFields fields;
  fields.client_id = wire::Bytes(reinterpret_cast<const std::uint8_t*>(auth->client_id.data()), auth->client_id.size());
  fields.authentication_value = value->view();
  fields.nonce = auth->nonce;
  wire::ByteVector payload;
  if (!wire::append_datagram(payload, fields, std::nullopt, rs)) throw std::runtime_error("authentication too long");
  return payload;
}

RaSummary read_ra(wire::Bytes payload) {
  RaSummary s;
  const auto d = wire::parse_datagram(payload);
  if (!d) {
    s.error = std::string(wire::to_string(d.error()));
    return s;
  }
  if (!d->origin) {
    s.error = "no origin indication";
    return s;
  }
  s.origin = Endpoint{d->origin->address, d->origin->port};
  s.source = d->ipv6.header.source;
  s.destination = d->ipv6.header.destination;
  s.hop_limit = d->ipv6.header.hop_limit;
  if (d->authentication) {
    s.authenticated = true;
    s.confirmation = d->authentication->confirmation;
    s.client_id.assign(d->authentication->client_id.begin(), d->authentication->client_id.end());
    s.nonce = d->authentication->nonce;
  }
  const auto icmp = wire::parse_icmpv6(d->ipv6, wire::ChecksumPolicy::verify);
  if (!icmp) {
    s.error = std::string(wire::to_string(icmp.error()));
    return s;
  }
  if (icmp->type != wire::kIcmpv6RouterAdvertisement) {
    s.error = "ICMPv6 type " + std::to_string(icmp->type);
    return s;
  }
  const auto ra = wire::parse_router_advertisement(*icmp);
  if (!ra) {
    s.error = std::string(wire::to_string(ra.error()));
    return s;
  }
  if (ra->options.prefix_information) {
    s.prefix = ra->options.prefix_information->prefix;
    s.prefix_length = ra->options.prefix_information->prefix_length;
  }
  s.mtu = ra->options.mtu;
  return s;
}

// --- the played client ----------------------------------------------------

std::optional<wire::TeredoAddress> PlayedClient::qualify(wire::Ipv4Address server, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const wire::ByteVector rs = make_rs(false);
  while (std::chrono::steady_clock::now() < deadline) {
    socket_.send(Endpoint{server, wire::kUdpPortTeredo}, rs);
    const auto r = socket_.receive(300ms);
    if (!r) continue;
    const RaSummary ra = read_ra(r->payload);
    if (!ra.error.empty() || !ra.prefix) continue;
    // §5.2.1: the address from the RA's prefix and the origin indication.
    address_ = wire::TeredoAddress{server, wire::make_teredo_flags(false, 0), ra.origin.port, ra.origin.address};
    return address_;
  }
  return std::nullopt;
}

void PlayedClient::serve_one(std::chrono::milliseconds timeout) {
  const auto r = socket_.receive(timeout);
  if (!r) return;
  const auto d = wire::parse_datagram(r->payload);
  if (!d) return;
  const auto& h = d->ipv6.header;
  if (wire::is_bubble(d->ipv6)) {
    // §5.2.3: an indirect bubble (through our server, with an origin
    // indication) is answered with a direct bubble to the origin.
    if (d->origin) {
      ++indirect_bubbles;
      const Endpoint origin{d->origin->address, d->origin->port};
      bubble_origins.push_back(origin);
      socket_.send(origin, wire::build_bubble(ipv6(), h.source));
    }
    return;
  }
  if (h.destination != ipv6() || h.next_header != wire::kNextHeaderIcmpv6) return;
  const auto icmp = wire::parse_icmpv6(d->ipv6, wire::ChecksumPolicy::verify);
  if (!icmp || icmp->type != wire::kIcmpv6EchoRequest) return;
  const auto echo = wire::parse_echo(*icmp);
  if (!echo) return;
  wire::EchoMessage reply = *echo;
  reply.reply = true;
  ++echo_requests;
  echo_senders.push_back(r->from);
  socket_.send(r->from, wire::build_echo(ipv6(), h.source, 64, reply));
}

// --- addresses and ping ---------------------------------------------------

std::optional<std::string> teredo_address_on(netns::Lab& lab, const std::string& host, const std::string& ifname) {
  const auto r = lab.exec(host, {"ip", "-6", "-o", "addr", "show", "dev", ifname});
  static const std::regex kTeredo("inet6 (2001:0:[0-9a-f:]+)/");
  std::smatch m;
  if (r.exit_code == 0 && std::regex_search(r.output, m, kTeredo)) return m[1].str();
  return std::nullopt;
}

Daemon start_miredo(netns::Lab& lab, const std::string& host, const std::string& name, const std::string& conf,
                    const std::string& binary) {
  const std::string dir = lab.run_dir();
  Daemon d;
  d.log = dir + "/" + name + ".log";
  // Foreground, own pid file, no -u/-t (../shared/ANCHORS.md §8).
  d.pid = lab.spawn(host, {binary, "-f", "-c", write_file(dir + "/" + name + ".conf", conf), "-p", dir + "/" + name + ".pid"},
                    d.log);
  return d;
}

RefClient start_ref_client(netns::Lab& lab, const std::string& host, const std::string& name,
                           const std::vector<std::string>& extra, const std::string& server) {
  RefClient c;
  c.state_file = lab.run_dir() + "/" + name + ".state";
  c.tun = lab.prefix() + "-tun";
  std::vector<std::string> args = {"client", "--server", server, "--interface", c.tun, "--state-file", c.state_file,
                                   "--time-scale", "0.1", "-v"};
  args.insert(args.end(), extra.begin(), extra.end());
  c.daemon = start_ref(lab, host, args, name);
  return c;
}

std::optional<ClientState> read_client_state(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(in);
    auto text = [&](const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : ""; };
    return ClientState{text("state"), text("nat"), text("address"), text("mapped")};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // never half-written (renamed into place), but be safe
  }
}

std::optional<ClientState> wait_client_state(const std::string& path, const std::function<bool(const ClientState&)>& done,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<ClientState> last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto s = read_client_state(path)) {
      last = s;
      if (done(*s)) return last;
    }
    std::this_thread::sleep_for(20ms);
  }
  return last;
}

ClientOutcome client_outcome(netns::Lab& lab, const std::string& profile, const ClientState& state,
                             const std::string& server, const std::string& relay) {
  ClientOutcome o;
  o.qualified = state.state == "qualified";
  o.out = o.qualified && ping6(lab, "client", "2001:db8:1::10");
  o.back = o.qualified && ping6(lab, "v6host", state.address);
  o.summary = "NAT " + profile + ": teredo-ref client " + state.state + " (nat " + state.nat +
              (o.qualified ? ", " + state.address : std::string()) + ") with " + server +
              "; ping6 client->native " + (o.out ? "ok" : "failed") + ", native->client " +
              (o.back ? "ok" : "failed") + " through " + relay;
  return o;
}

std::optional<std::string> wait_for_teredo_address(netns::Lab& lab, const std::string& host, const std::string& ifname,
                                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto a = teredo_address_on(lab, host, ifname)) return a;
    std::this_thread::sleep_for(50ms);
  }
  return std::nullopt;
}

bool ping6(netns::Lab& lab, const std::string& host, const std::string& address, int count) {
  // A Teredo daemon configures its address first and its route a moment
  // later: a ping in between fails at once with "connect: Network is
  // unreachable" (exit 2, nothing sent), which says nothing about the path.
  // Wait for the route (bounded), then judge the ping.
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  for (;;) {
    const auto r = lab.exec(host, {"ping", "-6", "-c", std::to_string(count), "-i", "0.2", "-W", "2", address});
    const bool no_route_yet = r.exit_code == 2 && r.output.find("Network is unreachable") != std::string::npos;
    if (!no_route_yet || std::chrono::steady_clock::now() >= deadline) return r.exit_code == 0;
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace teredo::reftest
