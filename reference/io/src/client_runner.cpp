#include "teredo/io/client_runner.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "runner_common.hpp"
#include "teredo/io/clock.hpp"
#include "teredo/io/host.hpp"

namespace teredo::io {

namespace {

// §5.2.8: the local discovery group and the Teredo port.
constexpr wire::Ipv4Address kDiscoveryGroup{0xE00000FD};  // 224.0.0.253

void set_int(int fd, int level, int option, int value, const std::string& step) {
  if (::setsockopt(fd, level, option, &value, sizeof value) != 0) throw_errno(step);
}

// The service socket sends the discovery bubbles: out of the interface of
// its own address (when bound to one), and never looped back to our own
// discovery socket.
void prepare_multicast_sender(const UdpSocket& socket) {
  set_int(socket.fd(), IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP on the service socket");
  if (socket.local().address.value != 0) {
    in_addr interface{};
    interface.s_addr = htonl(socket.local().address.value);
    if (::setsockopt(socket.fd(), IPPROTO_IP, IP_MULTICAST_IF, &interface, sizeof interface) != 0) {
      throw_errno("IP_MULTICAST_IF on the service socket");
    }
  }
}

void join_discovery_group(const UdpSocket& socket, wire::Ipv4Address interface) {
  ip_mreq request{};
  request.imr_multiaddr.s_addr = htonl(kDiscoveryGroup.value);
  request.imr_interface.s_addr = htonl(interface.value);
  if (::setsockopt(socket.fd(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request) != 0) {
    throw_errno("join 224.0.0.253");
  }
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

void write_state_file(const std::string& path, const std::string& json) {
  if (path.empty()) return;
  // Written beside, then renamed: a reader sees the old object or the new one.
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << json << '\n';
  }
  (void)std::rename(temporary.c_str(), path.c_str());
}

node::ClientConfig with_local(node::ClientConfig config, node::UdpEndpoint service,
                              std::optional<node::UdpEndpoint> secondary) {
  config.local = service;
  if (secondary) config.secondary_local = *secondary;
  return config;
}

}  // namespace

std::string status_json(const ClientStatus& status, node::UdpEndpoint local, const std::string& interface,
                        wire::Ipv4Address server) {
  std::string j = "{\"state\":" + quoted(std::string(node::to_string(status.state))) +
                  ",\"nat\":" + quoted(std::string(node::to_string(status.nat)));
  j += ",\"address\":" + (status.address ? quoted(wire::to_string(*status.address)) : std::string("null"));
  j += ",\"mapped\":" + (status.mapped ? quoted(node::to_string(*status.mapped)) : std::string("null"));
  if (status.upnp_port != 0) j += ",\"upnp_port\":" + std::to_string(status.upnp_port);
  j += ",\"local\":" + quoted(node::to_string(local)) + ",\"interface\":" + quoted(interface) +
       ",\"server\":" + quoted(wire::to_string(server)) + ",\"pid\":" + std::to_string(::getpid()) + "}";
  return j;
}

ClientRunner::ClientRunner(node::ClientConfig config, EventLog& log, SignalFd& signals, ClientRunnerOptions options)
    : log_(log),
      signals_(signals),
      options_(std::move(options)),
      socket_(config.local, options_.runner.sockets),
      received_(options_.runner.batch, receive_slot_size(config.mtu)),
      send_scratch_(options_.runner.batch),
      packet_(65536) {
  outbox_.record_actions = options_.runner.record_actions;
  prepare_multicast_sender(socket_);
  std::optional<node::UdpEndpoint> secondary;
  if (config.interval_determination) {
    // §5.2.7: a second port on the same address, for the probe mapping.
    secondary_ = std::make_unique<UdpSocket>(node::UdpEndpoint{socket_.local().address, config.secondary_local.port},
                                             options_.runner.sockets);
    secondary = secondary_->local();
  }
  if (config.local_discovery) {
    // Bound to the group itself: only discovery traffic arrives here.
    discovery_ = std::make_unique<UdpSocket>(node::UdpEndpoint{kDiscoveryGroup, wire::kUdpPortTeredo},
                                             options_.runner.sockets);
    join_discovery_group(*discovery_, socket_.local().address);
  }
  if (config.peers.hash_key == node::SipKey{}) config.peers.hash_key = random_sip_key();  // §7.3.3
  client_ = std::make_unique<node::Client>(with_local(std::move(config), socket_.local(), secondary));
  tun_ = std::make_unique<TunDevice>(options_.tun);

  loop_.add(socket_.fd(), [this](std::uint32_t) { on_udp(socket_, Port::service); });
  if (discovery_) loop_.add(discovery_->fd(), [this](std::uint32_t) { on_udp(*discovery_, Port::discovery); });
  if (secondary_) loop_.add(secondary_->fd(), [this](std::uint32_t) { on_udp(*secondary_, Port::secondary); });
  loop_.add(tun_->fd(), [this](std::uint32_t) { on_tun(); });
  loop_.add(timer_.fd(), [this](std::uint32_t) { on_timer(); });
  if (options_.sunset) loop_.add(sunset_timer_.fd(), [this](std::uint32_t) { on_sunset_timer(); });
  detail::add_stop_handler(loop_, signals_, log_, stats_, stop_signal_);
}

ClientRunner::~ClientRunner() {
  if (configured_ && tun_) (void)tun_->remove_address(*configured_);
  if (!options_.state_file.empty()) (void)std::remove(options_.state_file.c_str());
}

int ClientRunner::run() {
  const node::Time now = monotonic_now();
  if (options_.upnp) upnp_initialize(now);
  write_state_file(options_.state_file, status_json(shown_, socket_.local(), tun_->name(), client_->config().server));
  apply_sunset(now);
  loop_.run();
  if (options_.upnp) upnp_uninitialize(monotonic_now());
  return stop_signal_;
}

namespace {
// The "upnp_port" a state file names (0: none, or no file).
std::uint16_t persisted_upnp_port(const std::string& path) {
  if (path.empty()) return 0;
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string key = "\"upnp_port\":";
  const auto at = text.find(key);
  if (at == std::string::npos) return 0;
  unsigned long port = 0;
  try {
    port = std::stoul(text.substr(at + key.size()));
  } catch (const std::exception&) {
    return 0;
  }
  return port <= 65535 ? static_cast<std::uint16_t>(port) : 0;
}
}  // namespace

void ClientRunner::upnp_initialize(node::Time now) {
  const std::uint16_t persisted = persisted_upnp_port(options_.state_file);
  std::string error;
  upnp_gateway_ = UpnpGateway::discover(socket_.local().address, options_.upnp_discovery_ms, error);
  if (!upnp_gateway_) {
    // R6081-5.3.3-03: no IGD, so no AddPortMapping: on without the extension.
    log_.line(now, "upnp unavailable: " + error + " (R6081-5.3.3-03: continuing without UPnP)");
    log_.flush();
    return;
  }
  log_.line(now, "upnp igd " + upnp_gateway_->control_url() + " lan " + wire::to_string(upnp_gateway_->lan_address()));
  const node::UdpEndpoint local{
      socket_.local().address.value != 0 ? socket_.local().address : upnp_gateway_->lan_address(), socket_.local().port};
  node::UpnpSetup setup(local, persisted);
  while (const auto call = setup.next()) {
    const UpnpGateway::Result r = upnp_gateway_->perform(*call);
    log_.line(now, "upnp " + node::to_string(call->action) + " port " + std::to_string(call->external_port) + ": " +
                       (r.success ? "ok" : "failed") + (r.detail.empty() ? "" : " " + r.detail));
    setup.done(r.success, r.external_address, outbox_);
    log_.events(now, outbox_.events);
    outbox_.clear();
  }
  upnp_mapping_ = setup.mapping();
  upnp_port_ = setup.persisted_port();
  shown_.upnp_port = upnp_port_;
  log_.flush();
}

void ClientRunner::upnp_uninitialize(node::Time now) {
  if (!upnp_gateway_) return;
  // R6081-5.3.5-01: uninitialization at shutdown.
  if (const auto call = node::upnp_uninitialization(upnp_port_, outbox_)) {
    const UpnpGateway::Result r = upnp_gateway_->perform(*call);
    log_.line(now, "upnp " + node::to_string(call->action) + " port " + std::to_string(call->external_port) + ": " +
                       (r.success ? "ok" : "failed") + (r.detail.empty() ? "" : " " + r.detail));
    upnp_port_ = 0;
  }
  log_.events(now, outbox_.events);
  outbox_.clear();
  log_.flush();
}

void ClientRunner::start_client(node::Time now) {
  if (upnp_mapping_) client_->set_upnp_mapping(*upnp_mapping_, outbox_);
  client_->start(now, outbox_);
}

void ClientRunner::apply_sunset(node::Time now) {
  if (!options_.sunset) {
    if (!started()) start_client(now);
    flush(now);
    return;
  }
  sunset_timer_.arm(now + std::chrono::seconds(1));
  std::optional<wire::Ipv6Address> native;
  try {
    const auto addresses = global_ipv6_addresses(tun_->name());
    if (!addresses.empty()) native = addresses.front();
  } catch (const IoError& e) {
    // Nothing known: an idle client stays idle, a running one runs.
    log_.line(now, std::string("io sunset_check_failed: ") + e.what());
    if (in_sunset_) return;
  }
  if (native && !in_sunset_) {
    // R4380-5.5-01: IPv6 by other means: no Teredo client here.
    log_.line(now, "client sunset native IPv6 " + wire::to_string(*native) + ": not a Teredo client (RFC 4380 5.5)");
    if (started()) idle_client();  // its address leaves the TUN
    in_sunset_ = true;
  } else if (!native && !started() && !global_ipv4_) {
    if (in_sunset_) log_.line(now, "client sunset over: no native IPv6 left, qualifying");
    in_sunset_ = false;
    start_client(now);
  }
  flush(now);
}

bool ClientRunner::started() const noexcept { return client_->state() != node::QualificationState::starting; }

void ClientRunner::idle_client() { client_ = std::make_unique<node::Client>(client_->config()); }

void ClientRunner::on_sunset_timer() {
  if (!sunset_timer_.consume()) return;
  apply_sunset(monotonic_now());
}

void ClientRunner::on_udp(UdpSocket& socket, Port port) {
  if (!detail::receive_batch(log_, socket, received_, stats_)) return;
  const node::Time now = monotonic_now();
  for (std::size_t i = 0; i < received_.size(); ++i) {
    switch (port) {
      case Port::service: client_->handle_datagram(now, received_.from(i), received_.payload(i), outbox_); break;
      case Port::discovery:
        client_->handle_discovery_datagram(now, received_.from(i), received_.payload(i), outbox_);
        break;
      case Port::secondary:
        client_->handle_secondary_datagram(now, received_.from(i), received_.payload(i), outbox_);
        break;
      case Port::random:
        client_->handle_random_port_datagram(now, socket.local().port, received_.from(i), received_.payload(i),
                                             outbox_);
        break;
    }
  }
  flush(now);
}

void ClientRunner::on_tun() {
  const node::Time now = monotonic_now();
  detail::read_tun(log_, now, *tun_, packet_, options_.runner.batch, stats_,
                   [&](wire::Bytes packet) { client_->handle_ipv6(now, packet, outbox_); });
  flush(now);
}

void ClientRunner::on_timer() {
  if (!timer_.consume()) return;
  const node::Time now = monotonic_now();
  client_->handle_timeout(now, outbox_);
  flush(now);
}

void ClientRunner::flush(node::Time now) {
  open_random_ports(now);
  std::vector<UdpSocket*> sockets{&socket_, secondary_.get()};
  for (auto& [port, socket] : random_) sockets.push_back(socket.get());
  detail::send_datagrams(log_, now, sockets, outbox_.datagrams, send_scratch_, stats_);
  close_random_ports(now);
  detail::write_to_tun(log_, now, *tun_, outbox_.to_tunnel, stats_);
  stats_.events += outbox_.events.size();
  log_.events(now, outbox_.events);
  outbox_.clear();
  if (secondary_ && client_->interval_concluded()) {
    // R4380-5.2.7-04: the secondary port is closed once the procedure ends.
    log_.line(now, "io secondary_port_closed " + node::to_string(secondary_->local()));
    loop_.remove(secondary_->fd());
    secondary_.reset();
  }
  if (options_.sunset && client_->mapped() && client_->mapped() != checked_mapping_) {
    checked_mapping_ = client_->mapped();  // once per mapping: the check costs system calls
    // §5.5: "nodes that have a global IPv4 address SHOULD obtain connectivity
    // through the 6to4 service rather than through the Teredo service". The
    // server seeing our own interface address means no NAT is in the way:
    // the address is ours and global. Idle for good (until restarted).
    const auto own = local_ipv4_address(client_->config().local.address, client_->config().server);
    if (own && *own == client_->mapped()->address) {
      log_.line(now, "client sunset global IPv4 " + wire::to_string(*own) +
                         " (no NAT): 6to4, not Teredo (RFC 4380 5.5)");
      idle_client();
      global_ipv4_ = true;
    }
  }
  reconcile(now);
  timer_.arm(client_->next_timeout());
  log_.flush();
}

void ClientRunner::open_random_ports(node::Time now) {
  // RFC 6081 §5.4.4.2 / §5.5.4.1: "begin listening on that port", before
  // anything is sent from it.
  for (const std::uint16_t port : client_->random_ports()) {
    if (random_.count(port) != 0) continue;
    try {
      auto socket = std::make_unique<UdpSocket>(node::UdpEndpoint{socket_.local().address, port},
                                                options_.runner.sockets);
      UdpSocket* raw = socket.get();
      loop_.add(raw->fd(), [this, raw](std::uint32_t) { on_udp(*raw, Port::random); });
      log_.line(now, "io random_port_opened " + node::to_string(raw->local()));
      random_.emplace(port, std::move(socket));
    } catch (const IoError& e) {
      // What the client sends from it is then counted unsent.
      log_.line(now, std::string("io random_port_unavailable ") + std::to_string(port) + ": " + e.what());
    }
  }
}

void ClientRunner::close_random_ports(node::Time now) {
  // "Stop listening on the old random port" (RFC 6081 §5.4.4.4, §5.4.4.5).
  const std::vector<std::uint16_t> wanted = client_->random_ports();
  for (auto it = random_.begin(); it != random_.end();) {
    if (std::find(wanted.begin(), wanted.end(), it->first) != wanted.end()) {
      ++it;
      continue;
    }
    log_.line(now, "io random_port_closed " + node::to_string(it->second->local()));
    loop_.remove(it->second->fd());
    it = random_.erase(it);
  }
}

void ClientRunner::reconcile(node::Time now) {
  const ClientStatus status{client_->state(), client_->nat_type(), client_->address(), client_->mapped(), upnp_port_};
  if (status == shown_) return;
  // The TUN carries the Teredo address exactly while the client has one.
  const std::optional<node::Ipv6Prefix> wanted =
      status.address ? std::optional<node::Ipv6Prefix>(node::Ipv6Prefix{*status.address, 128}) : std::nullopt;
  if (configured_ && (!wanted || !(configured_->address == wanted->address))) {
    if (const int e = tun_->remove_address(*configured_); e != 0 && e != EADDRNOTAVAIL) {
      log_.line(now, "io address_remove_failed " + node::to_string(*configured_) + " on " + tun_->name() + ": " +
                         std::strerror(e));
    }
    configured_.reset();
  }
  if (wanted && !configured_) {
    if (const int e = tun_->add_address(*wanted); e == 0 || e == EEXIST) {
      configured_ = wanted;
    } else {
      log_.line(now, "io address_add_failed " + node::to_string(*wanted) + " on " + tun_->name() + ": " +
                         std::strerror(e));
    }
  }
  std::string line = std::string("client ") + std::string(node::to_string(status.state)) + " nat " +
                     std::string(node::to_string(status.nat));
  if (status.address) line += " address " + wire::to_string(*status.address) + " on " + tun_->name();
  if (status.mapped) line += " mapped " + node::to_string(*status.mapped);
  log_.line(now, line);
  shown_ = status;
  write_state_file(options_.state_file, status_json(shown_, socket_.local(), tun_->name(), client_->config().server));
}

}  // namespace teredo::io
