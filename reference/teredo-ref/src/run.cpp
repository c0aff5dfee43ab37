#include "run.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "teredo/io/client_runner.hpp"
#include "teredo/io/clock.hpp"
#include "teredo/io/host.hpp"
#include "teredo/io/runners.hpp"

namespace teredo::ref {

namespace {

std::string wall_clock() {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void log_start(io::EventLog& log, const char* mode, const CommonOptions& o) {
  const node::Time now = io::monotonic_now();
  char mono[32];
  std::snprintf(mono, sizeof mono, "%.6f", static_cast<double>(log.start().count()) / 1e9);
  char scale[32];
  std::snprintf(scale, sizeof scale, "%g", o.time_scale);
  log.line(now, std::string("start teredo-ref ") + kVersion + " " + mode + " pid " +
                    std::to_string(::getpid()) + " time-scale " + scale + " wall " + wall_clock() +
                    " monotonic " + mono);
  log.flush();
}

io::RunnerOptions runner_options(const CommonOptions& o) {
  io::RunnerOptions r;
  r.batch = o.batch;
  r.record_actions = o.verbose;
  return r;
}

}  // namespace

int run(const ServerOptions& o, io::SignalFd& signals, io::EventLog& log) {
  log_start(log, mode_name(o), o.common);
  node::ServerConfig config = o.server;
  bool forward = o.forward_native == ForwardNative::on;
  if (o.forward_native == ForwardNative::automatic) forward = !io::global_ipv6_addresses().empty();
  config.forward_native = forward;
  node::Server server(config);
  io::RunnerOptions options = runner_options(o.common);
  options.packet_ring = o.packet_ring;
  io::ServerRunner runner(server, log, signals, options, forward);

  std::string ready = "ready server primary " + node::to_string(runner.primary()) + " secondary " +
                      node::to_string(runner.secondary()) + " mtu " + std::to_string(config.mtu) +
                      " link-local " + wire::to_string(server.link_local()) + " forward-native " +
                      (forward ? "raw-socket" : "off");
  if (runner.packet_ring() != nullptr) ready += " packet-ring " + runner.packet_ring()->interface();
  if (config.secure) {
    ready += std::string(" secure ") + std::string(wire::to_string(config.secure->algorithm)) + " " +
             std::to_string(config.secure->clients.size()) + " clients";
  }
  log.line(io::monotonic_now(), ready);
  log.flush();
  runner.run();
  log.line(io::monotonic_now(), "stopped");
  return kExitOk;
}

int run(const RelayOptions& o, io::SignalFd& signals, io::EventLog& log) {
  log_start(log, mode_name(o), o.common);
  node::RelayConfig config = o.relay;
  const auto globals = io::global_ipv6_addresses(o.interface);
  if (config.host_specific && config.host_addresses.empty()) {
    config.host_addresses = globals;
    if (config.host_addresses.empty()) {
      throw BadValue("host-relay: this host has no global IPv6 address to serve; give --host-address");
    }
  }
  if (!o.ipv6_address_given) {
    if (config.host_specific) {
      config.ipv6_address = config.host_addresses.front();
    } else if (!globals.empty()) {
      config.ipv6_address = globals.front();
    } else {
      throw BadValue("relay: this host has no global IPv6 address to send bubbles from; give --ipv6-address");
    }
  }
  // §7.3.3: peer list keys are attacker-chosen; SipHash needs a secret key.
  config.peers.hash_key = io::random_sip_key();
  node::Relay relay(config);

  io::TunOptions tun;
  tun.name = o.interface;
  tun.mtu = static_cast<std::uint32_t>(config.mtu);
  tun.routes.push_back(*node::parse_ipv6_prefix("2001::/32"));
  io::RunnerOptions options = runner_options(o.common);
  options.packet_ring = o.packet_ring;
  io::RelayRunner runner(relay, log, signals, options, tun);

  if (!config.host_specific && io::ipv6_forwarding_enabled() == false) {
    log.line(io::monotonic_now(),
             "warning net.ipv6.conf.all.forwarding is 0: the kernel will not forward between the TUN and the "
             "native side");
  }
  std::string ready = std::string("ready ") + mode_name(o) + " " + node::to_string(runner.local()) + " tun " +
                      runner.tun().name() + " mtu " + std::to_string(runner.tun().mtu()) +
                      " route 2001::/32 bubble-source " + wire::to_string(config.ipv6_address) + " peers " +
                      std::to_string(config.peers.capacity);
  if (config.host_specific) {
    ready += " host";
    for (const auto& a : config.host_addresses) (ready += ' ') += wire::to_string(a);
  } else {
    ready += " serves";
    for (const auto& p : config.served_prefixes) (ready += ' ') += node::to_string(p);
  }
  if (runner.packet_ring() != nullptr) ready += " packet-ring " + runner.packet_ring()->interface();
  log.line(io::monotonic_now(), ready);
  log.flush();
  runner.run();
  log.line(io::monotonic_now(), "stopped: " + runner.tun().name() + " and its route removed");
  return kExitOk;
}

int run(const ClientOptions& o, io::SignalFd& signals, io::EventLog& log) {
  log_start(log, mode_name(o), o.common);
  node::ClientConfig config = o.client;
  // R4380-5.2.8-06: discovery bubbles only from the local subnet.
  if (config.local_discovery && !o.local_subnet_given) {
    if (const auto subnet = io::local_ipv4_subnet(config.local.address, config.server)) {
      config.local_subnet = node::Ipv4Subnet{subnet->address, subnet->length};
    } else {
      log.line(io::monotonic_now(), "warning no local IPv4 subnet toward the server: every discovery bubble will be "
                                    "dropped; give --local-subnet");
    }
  }
  // RFC 6081 §5.6.4.1: the Alternate Address Trailer names the local address
  // the service port sends from, which --bind may leave to the routing table.
  if (config.hairpinning && config.local.address.value == 0) {
    if (const auto address = io::local_ipv4_address(config.local.address, config.server)) {
      config.local_address = *address;
    } else {
      log.line(io::monotonic_now(), "warning no local IPv4 address toward the server: indirect bubbles will carry "
                                    "no Alternate Address Trailer; give --bind");
    }
  }
  io::ClientRunnerOptions options;
  options.runner = runner_options(o.common);
  options.tun.name = o.interface;
  options.tun.mtu = static_cast<std::uint32_t>(config.mtu);
  options.tun.route_metric = 1029;  // below any native default route (Miredo's choice)
  options.tun.routes.push_back(*node::parse_ipv6_prefix("2001::/32"));
  if (o.default_route) options.tun.routes.push_back(*node::parse_ipv6_prefix("::/0"));
  options.state_file = o.state_file;
  options.sunset = o.sunset;
  io::ClientRunner runner(std::move(config), log, signals, options);

  const node::ClientConfig& c = runner.client().config();
  std::string ready = "ready client " + node::to_string(runner.local()) + " server " + wire::to_string(c.server) +
                      " secondary " + wire::to_string(c.server_secondary) + " tun " + runner.tun().name() + " mtu " +
                      std::to_string(runner.tun().mtu()) + " routes 2001::/32" + (o.default_route ? " ::/0" : "") +
                      " qualification " + (c.probe_cone ? "rfc4380" : "rfc5991");
  if (c.secure) ready += std::string(" secure ") + std::string(wire::to_string(c.secure->algorithm));
  if (c.hairpinning) ready += " hairpinning";
  if (c.server_load_reduction) ready += " server-load-reduction";
  if (c.local_discovery) {
    ready += " local-discovery";
    if (c.local_subnet) {
      // (Appended piece by piece: GCC 12 -O3 warns falsely on " " + string, PR105651.)
      ((ready += ' ') += wire::to_string(c.local_subnet->address)) += '/';
      ready += std::to_string(c.local_subnet->length);
    }
  }
  log.line(io::monotonic_now(), ready);
  log.flush();
  runner.run();
  log.line(io::monotonic_now(), "stopped: " + runner.tun().name() + ", its address and routes removed");
  return kExitOk;
}

}  // namespace teredo::ref
