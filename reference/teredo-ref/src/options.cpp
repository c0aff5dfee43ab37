#include "options.hpp"

#include <net/if.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "teredo/io/tun.hpp"
#include "teredo/node/addressing.hpp"
#include "teredo/wire/hmac.hpp"
#include "teredo/wire/teredo_address.hpp"

namespace teredo::ref {

const char* to_string(Mode mode) noexcept {
  switch (mode) {
    case Mode::server: return "server";
    case Mode::relay: return "relay";
    case Mode::host_relay: return "host-relay";
    case Mode::client: return "client";
  }
  return "?";
}

namespace {

// Everything as CLI11 sees it; converted and checked after parsing.
struct Raw {
  // server
  std::string primary, secondary, secret_file, mac = "hmac-sha1", forward_native = "auto", packet_ring;
  std::uint16_t port = wire::kUdpPortTeredo;
  std::vector<std::string> client_ids, expired_client_ids;
  bool accept_trailers = false, no_echo = false, forward_any_protocol = false;
  // relay, host-relay
  std::string bind, interface = "teredo", ipv6_address, prefix = "2001::/32";
  std::vector<std::string> host_addresses, serve;
  std::size_t peers = 1024;
  bool honour_cone_bit = false, direct_bubbles = false, reject_unknown_peers = false;
  // client (also: bind, interface, peers, secret_file, client_ids, mac, accept_trailers)
  std::string server_address, server_secondary, local_subnet, state_file;
  bool rfc4380 = false, no_symmetric_check = false, symmetric_nat_support = false, local_discovery = false,
       interval_determination = false, no_default_route = false, no_nonce = false, no_sunset = false;
  double refresh_interval = 30, offline_retry = 100;
  // common
  std::uint32_t mtu = 1280;
  double time_scale = 1.0;
  std::size_t batch = 64;
  bool verbose = false;
  std::string config;  // shown in --help; consumed before CLI11 sees argv
};

const CLI::Validator kTimeScale(
    [](std::string& text) -> std::string {
      double f = 0;
      std::istringstream in(text);
      if (!(in >> f) || !in.eof()) return "not a number: " + text;
      if (!node::TimeScale::valid_factor(f)) return "must be a finite number in (0, 1e6]";
      return {};
    },
    "FACTOR");

void add_common(CLI::App* app, Raw& r) {
  app->add_option("--mtu", r.mtu, "Teredo link MTU (R4380-5.1.2-01)")
      ->check(CLI::Range(1280u, 65535u))
      ->capture_default_str();
  app->add_option("--time-scale", r.time_scale,
                  "Multiply every protocol timer by F (F < 1: faster, for labs)")
      ->check(kTimeScale)
      ->capture_default_str();
  app->add_option("--batch", r.batch, "Datagrams per recvmmsg/sendmmsg call")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
      ->capture_default_str();
  app->add_flag("-v,--verbose", r.verbose, "Also log an action line per answered RS / forwarded packet");
  app->add_option("--config", r.config, "JSON file holding these options (flags given here override it)");
}

void add_relay_common(CLI::App* app, Raw& r) {
  app->add_option("--bind", r.bind, "IPv4 address and UDP port of the relay (A or A:PORT, port 3544 by default)")
      ->required();
  app->add_option("--interface", r.interface, "TUN interface name (at most 15 bytes)")->capture_default_str();
  app->add_option("--prefix", r.prefix, "The Teredo prefix routed to the TUN interface (only 2001::/32)")
      ->capture_default_str();
  app->add_option("--peers", r.peers, "Peer list capacity (R4380-5.2-06)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  app->add_option("--ipv6-address", r.ipv6_address,
                  "Native IPv6 address bubbles are sent from (default: the host's first global one)");
  app->add_flag("--honour-cone-bit", r.honour_cone_bit,
                "Send directly to cone peers (RFC 4380 5.4.1 case 2; RFC 5991 says not to)");
  app->add_flag("--direct-bubbles", r.direct_bubbles, "Also send a direct bubble to the client's mapping");
  app->add_flag("--reject-unknown-peers", r.reject_unknown_peers,
                "Drop datagrams from clients not in the peer list (R4380-5.4.2-03 allows it)");
  app->add_flag("--accept-trailers", r.accept_trailers, "Accept bytes after the IPv6 packet (RFC 6081 4)");
  app->add_option("--packet-ring", r.packet_ring,
                  "Read and send the relay's Teredo datagrams through an AF_PACKET ring on this interface, "
                  "skipping the UDP socket layer (needs CAP_NET_RAW and a specific --bind address; "
                  "IPv4 fragments are not reassembled)");
}

// --packet-ring (server, relay, host-relay): empty, or an interface of this host.
std::string packet_ring_value(const std::string& name) {
  if (name.empty()) return name;
  if (!io::valid_interface_name(name)) {
    throw BadValue("--packet-ring: '" + name + "' is not a valid interface name (1..15 bytes)");
  }
  if (::if_nametoindex(name.c_str()) == 0) throw BadValue("--packet-ring: no interface '" + name + "' on this host");
  return name;
}

// (A plain out-parameter: GCC 12 misreads std::optional<enum> as maybe-uninitialized.)
bool mode_from(const std::string& name, Mode& out) {
  if (name == "server") {
    out = Mode::server;
  } else if (name == "relay") {
    out = Mode::relay;
  } else if (name == "host-relay") {
    out = Mode::host_relay;
  } else if (name == "client") {
    out = Mode::client;
  } else {
    return false;
  }
  return true;
}

wire::Ipv4Address ipv4_value(const std::string& flag, const std::string& text) {
  const auto a = wire::parse_ipv4(text);
  if (!a) throw BadValue(flag + ": '" + text + "' is not an IPv4 address");
  return *a;
}

wire::Ipv6Address ipv6_value(const std::string& flag, const std::string& text) {
  const auto a = wire::parse_ipv6(text);
  if (!a) throw BadValue(flag + ": '" + text + "' is not an IPv6 address");
  return *a;
}

node::UdpEndpoint endpoint_value(const std::string& flag, const std::string& text) {
  const auto colon = text.find(':');
  node::UdpEndpoint e{ipv4_value(flag, text.substr(0, colon)), wire::kUdpPortTeredo};
  if (colon != std::string::npos) {
    const std::string port = text.substr(colon + 1);
    unsigned long value = 0;
    std::size_t used = 0;
    try {
      value = std::stoul(port, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != port.size() || port.empty() || value == 0 || value > 65535 ||
        port.find_first_not_of("0123456789") != std::string::npos) {
      throw BadValue(flag + ": '" + text + "': the port must be 1..65535");
    }
    e.port = static_cast<std::uint16_t>(value);
  }
  return e;
}

wire::ByteVector read_secret(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadValue("--secret-file: cannot read '" + path + "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // One trailing newline is the editor's, not the secret's.
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) throw BadValue("--secret-file: '" + path + "' is empty");
  return wire::ByteVector(text.begin(), text.end());
}

// The option names given on the command line ("--port" for "--port=1").
std::vector<std::string> given_flags(const std::vector<std::string>& args) {
  std::vector<std::string> flags;
  for (const auto& a : args) {
    if (a.size() > 1 && a[0] == '-') flags.push_back(a.substr(0, a.find('=')));
  }
  return flags;
}

// JSON config -> the flags it stands for. A single-value option also given
// on the command line is left out, so only the command line's value is
// judged; list options add up.
std::vector<std::string> config_tokens(const nlohmann::json& config, const std::string& path, CLI::App& sub,
                                       const std::vector<std::string>& command_line) {
  const std::vector<std::string> given = given_flags(command_line);
  std::vector<std::string> tokens;
  for (auto item = config.begin(); item != config.end(); ++item) {
    // (Not structured bindings: clang 14 cannot capture them in the lambda.)
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    if (key == "mode") continue;
    std::string name = key;
    for (char& c : name) {
      if (c == '_') c = '-';
    }
    const std::string flag = (name.size() == 1 ? "-" : "--") + name;
    const CLI::Option* option = name == "config" ? nullptr : sub.get_option_no_throw(flag);
    if (option == nullptr || name == "help") {
      throw UsageError("config " + path + ": unknown key '" + key + "' for " + sub.get_name());
    }
    const bool is_flag = option->get_expected_min() == 0;
    const bool is_list = option->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
    const bool overridden = std::any_of(given.begin(), given.end(), [&](const std::string& g) {
      return option->check_name(g);
    });
    if (overridden && !is_list) continue;
    auto scalar = [&](const nlohmann::json& v) -> std::string {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number_integer() || v.is_number_unsigned() || v.is_number_float()) return v.dump();
      throw BadValue("config " + path + ": '" + key + "' must be a string or a number");
    };
    if (is_flag) {
      if (!value.is_boolean()) throw BadValue("config " + path + ": '" + key + "' must be true or false");
      if (value.get<bool>()) tokens.push_back(flag);
    } else if (value.is_array()) {
      for (const auto& v : value) {
        tokens.push_back(flag);
        tokens.push_back(scalar(v));
      }
    } else if (!value.is_null()) {
      tokens.push_back(flag);
      tokens.push_back(scalar(value));
    }
  }
  return tokens;
}

std::chrono::nanoseconds seconds_value(const std::string& flag, double seconds) {
  if (!(seconds >= 0) || seconds > 86400) throw BadValue(flag + ": must be 0..86400 seconds");
  return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

Options convert_client(Options o, const Raw& r) {
  node::ClientConfig& c = o.client;
  c.server = ipv4_value("--server", r.server_address);
  c.server_secondary = r.server_secondary.empty() ? wire::Ipv4Address{c.server.value + 1}
                                                  : ipv4_value("--server-secondary", r.server_secondary);
  if (c.server_secondary == c.server) throw BadValue("--server-secondary: must differ from --server");
  // R4380-5.2-03: without a configured port the kernel picks a random one.
  if (!r.bind.empty()) {
    c.local = r.bind.find(':') == std::string::npos ? node::UdpEndpoint{ipv4_value("--bind", r.bind), 0}
                                                     : endpoint_value("--bind", r.bind);
  }
  if (!io::valid_interface_name(r.interface)) {
    throw BadValue("--interface: '" + r.interface + "' is not a valid interface name (1..15 bytes)");
  }
  o.interface = r.interface;
  if (!r.secret_file.empty()) {
    if (r.client_ids.size() != 1) throw BadValue("--client-id: a client has exactly one identifier");
    const auto algorithm = wire::parse_mac_algorithm(r.mac);
    if (!algorithm) throw BadValue("--mac: '" + r.mac + "' is not hmac-sha1 or hmac-md5");
    const std::string& id = r.client_ids.front();
    if (id.empty() || id.size() > 255) throw BadValue("--client-id: '" + id + "' must be 1..255 bytes");
    c.secure = node::ClientCredentials{wire::ByteVector(id.begin(), id.end()), read_secret(r.secret_file), *algorithm};
  }
  if (r.rfc4380) c.use_rfc4380_qualification();
  c.check_symmetric = !r.no_symmetric_check;
  c.symmetric_nat_support = r.symmetric_nat_support;
  c.accept_trailers = r.accept_trailers || r.symmetric_nat_support;
  c.send_nonce = !r.no_nonce;
  c.local_discovery = r.local_discovery;
  if (!r.local_subnet.empty()) {
    const auto slash = r.local_subnet.find('/');
    const auto address = wire::parse_ipv4(r.local_subnet.substr(0, slash));
    int length = 32;
    if (slash != std::string::npos) {
      try {
        std::size_t used = 0;
        length = std::stoi(r.local_subnet.substr(slash + 1), &used);
        if (used != r.local_subnet.size() - slash - 1) length = -1;
      } catch (const std::exception&) {
        length = -1;
      }
    }
    if (!address || length < 0 || length > 32) {
      throw BadValue("--local-subnet: '" + r.local_subnet + "' is not an IPv4 prefix (A.B.C.D/N)");
    }
    c.local_subnet = node::Ipv4Subnet{*address, static_cast<std::uint8_t>(length)};
    o.local_subnet_given = true;
  }
  c.interval_determination = r.interval_determination;
  c.timers.refresh_interval = seconds_value("--refresh-interval", r.refresh_interval);
  if (c.timers.refresh_interval < std::chrono::seconds(1)) throw BadValue("--refresh-interval: at least 1 second");
  if (const auto retry = seconds_value("--offline-retry", r.offline_retry); retry.count() > 0) {
    c.timers.offline_retry = retry;
  }
  c.mtu = r.mtu;
  c.peers.capacity = r.peers;
  c.time_scale = node::TimeScale(r.time_scale);
  o.default_route = !r.no_default_route;
  o.sunset = !r.no_sunset;
  o.state_file = r.state_file;
  return o;
}

Options convert(Mode mode, const Raw& r) {
  Options o;
  o.mode = mode;
  o.time_scale = r.time_scale;
  o.batch = r.batch;
  o.verbose = r.verbose;
  if (mode == Mode::server) {
    node::ServerConfig& s = o.server;
    s.primary = ipv4_value("--primary", r.primary);
    if (r.secondary.empty()) {
      // Miredo's convention: the secondary is the next address.
      if (s.primary.value == 0xFFFFFFFFu) throw BadValue("--primary: no next address to use as the secondary; give --secondary");
      s.secondary = wire::Ipv4Address{s.primary.value + 1};
    } else {
      s.secondary = ipv4_value("--secondary", r.secondary);
    }
    if (s.secondary == s.primary) throw BadValue("--secondary: must differ from --primary");
    if (r.port == 0) throw BadValue("--port: must be 1..65535");
    s.port = r.port;
    s.mtu = r.mtu;
    s.accept_trailers = r.accept_trailers;
    s.answer_echo = !r.no_echo;
    s.forward_any_protocol = r.forward_any_protocol;
    o.forward_native = r.forward_native == "on"    ? ForwardNative::on
                       : r.forward_native == "off" ? ForwardNative::off
                                                   : ForwardNative::automatic;
    o.packet_ring = packet_ring_value(r.packet_ring);
    if (!r.secret_file.empty()) {
      node::SecureQualification secure;
      const auto algorithm = wire::parse_mac_algorithm(r.mac);
      if (!algorithm) throw BadValue("--mac: '" + r.mac + "' is not hmac-sha1 or hmac-md5");
      secure.algorithm = *algorithm;
      const wire::ByteVector secret = read_secret(r.secret_file);
      auto add = [&](const std::string& id, bool expired) {
        if (id.empty() || id.size() > 255) throw BadValue("--client-id: '" + id + "' must be 1..255 bytes");
        secure.clients.push_back(node::ClientCredential{wire::ByteVector(id.begin(), id.end()), secret, expired});
      };
      for (const auto& id : r.client_ids) add(id, false);
      for (const auto& id : r.expired_client_ids) add(id, true);
      s.secure = std::move(secure);
    }
    return o;
  }

  if (mode == Mode::client) return convert_client(std::move(o), r);

  node::RelayConfig& c = o.relay;
  c.local = endpoint_value("--bind", r.bind);
  o.packet_ring = packet_ring_value(r.packet_ring);
  if (!o.packet_ring.empty() && c.local.address.value == 0) {
    throw BadValue("--packet-ring: needs a specific --bind address, not " + r.bind);
  }
  if (!io::valid_interface_name(r.interface)) {
    throw BadValue("--interface: '" + r.interface + "' is not a valid interface name (1..15 bytes)");
  }
  o.interface = r.interface;
  const auto prefix = node::parse_ipv6_prefix(r.prefix);
  const auto teredo = node::parse_ipv6_prefix("2001::/32");
  if (!prefix || !(*prefix == *teredo)) {
    throw BadValue("--prefix: '" + r.prefix + "': the Teredo prefix is 2001::/32 (RFC 4380 2.6)");
  }
  c.mtu = r.mtu;
  c.honour_cone_bit = r.honour_cone_bit;
  c.direct_bubbles = r.direct_bubbles;
  c.accept_unknown_peers = !r.reject_unknown_peers;
  c.accept_trailers = r.accept_trailers;
  c.peers.capacity = r.peers;
  c.time_scale = node::TimeScale(r.time_scale);
  if (!r.ipv6_address.empty()) {
    c.ipv6_address = ipv6_value("--ipv6-address", r.ipv6_address);
    o.ipv6_address_given = true;
  }
  if (mode == Mode::host_relay) {
    c.host_specific = true;
    for (const auto& a : r.host_addresses) c.host_addresses.push_back(ipv6_value("--host-address", a));
  } else {
    for (const auto& p : r.serve) {
      const auto parsed = node::parse_ipv6_prefix(p);
      if (!parsed) throw BadValue("--serve: '" + p + "' is not an IPv6 prefix");
      c.served_prefixes.push_back(*parsed);
    }
    // A relay advertising the Teredo prefix serves everything native
    // (Teredo destinations and non-global scopes are refused regardless).
    if (c.served_prefixes.empty()) c.served_prefixes.push_back(*node::parse_ipv6_prefix("::/0"));
  }
  return o;
}

}  // namespace

Options parse_options(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);

  // --config FILE is read here, before CLI11: its keys become flags placed
  // ahead of the command line's, so the command line wins.
  std::optional<std::string> config_path;
  for (std::size_t i = 0; i < args.size();) {
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) throw UsageError("--config needs a FILE");
      config_path = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    } else if (args[i].rfind("--config=", 0) == 0) {
      config_path = args[i].substr(9);
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }

  Raw r;
  CLI::App app{"teredo-ref: the reference Teredo server, relay, host-specific relay and client (RFC 4380, RFC 5991)"};
  app.set_version_flag("--version", std::string("teredo-ref ") + kVersion);
  app.require_subcommand(1);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  auto* server = app.add_subcommand("server", "Teredo server (RFC 4380 5.3) on two IPv4 addresses");
  server->add_option("--primary", r.primary, "Primary server IPv4 address (the one clients are given)")->required();
  server->add_option("--secondary", r.secondary, "Secondary IPv4 address (default: primary + 1)");
  server->add_option("--port", r.port, "UDP port of both addresses")->check(CLI::Range(1, 65535))->capture_default_str();
  auto* secret = server->add_option("--secret-file", r.secret_file,
                                    "Shared secret for secure qualification (5.2.2); one trailing newline is ignored");
  auto* ids = server->add_option("--client-id", r.client_ids, "Client identifier accepted with the secret (repeat)")
                  ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  server->add_option("--expired-client-id", r.expired_client_ids,
                     "Client identifier still verified but answered with confirmation 1 (R4380-5.3.2-12)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->needs(secret);
  secret->needs(ids);
  ids->needs(secret);
  server->add_option("--mac", r.mac, "Secure qualification algorithm")
      ->check(CLI::IsMember({"hmac-sha1", "hmac-md5"}))
      ->capture_default_str();
  server->add_option("--forward-native", r.forward_native,
                     "Send clients' packets to native IPv6 destinations through a raw IPv6 socket "
                     "(R4380-5.3.1-12): auto = when the host has a global IPv6 address")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  server->add_option("--packet-ring", r.packet_ring,
                     "Read and send the server's datagrams through an AF_PACKET ring on this interface, "
                     "skipping the UDP socket layer (needs CAP_NET_RAW; IPv4 fragments are not reassembled)");
  server->add_flag("--accept-trailers", r.accept_trailers, "Accept bytes after the IPv6 packet (RFC 6081 4)");
  server->add_flag("--no-echo", r.no_echo, "Do not answer echo requests to the server (R4380-5.3.1-10)");
  server->add_flag("--forward-any-protocol", r.forward_any_protocol,
                   "Forward packets that are neither bubbles nor ICMPv6 (a server that is also a relay)");
  add_common(server, r);

  auto* relay = app.add_subcommand("relay", "Teredo relay (RFC 4380 5.4): a TUN device routing 2001::/32");
  add_relay_common(relay, r);
  relay->add_option("--serve", r.serve, "Native prefix served to Teredo clients (repeat; default ::/0)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_common(relay, r);

  auto* host_relay = app.add_subcommand(
      "host-relay", "Host-specific relay (RFC 4380 5.5): serves this host's own addresses, forwards nothing");
  add_relay_common(host_relay, r);
  host_relay->add_option("--host-address", r.host_addresses,
                         "An address of this host to relay for (repeat; default: its global IPv6 addresses)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_common(host_relay, r);

  auto* client = app.add_subcommand(
      "client", "Teredo client (RFC 4380 5.2, RFC 5991): qualifies, then carries the host's IPv6 over a TUN device");
  client->add_option("--server", r.server_address, "IPv4 address of the Teredo server (its primary address)")
      ->required();
  client->add_option("--server-secondary", r.server_secondary, "The server's secondary address (default: --server + 1)");
  client->add_option("--bind", r.bind, "Local IPv4 address and port (A or A:PORT; default: any address, random port)");
  client->add_option("--interface", r.interface, "TUN interface name (at most 15 bytes)")->capture_default_str();
  auto* client_secret = client->add_option("--secret-file", r.secret_file,
                                           "Secure qualification (RFC 4380 5.2.2): file holding the shared secret");
  auto* client_id = client->add_option("--client-id", r.client_ids, "The client identifier for --secret-file")
                        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  client_secret->needs(client_id);
  client_id->needs(client_secret);
  client->add_option("--mac", r.mac, "Secure qualification algorithm")
      ->check(CLI::IsMember({"hmac-sha1", "hmac-md5"}))
      ->capture_default_str();
  client->add_flag("--rfc4380", r.rfc4380,
                   "Strict RFC 4380 qualification: probe for a cone NAT first, no random flag bits, honour peers' "
                   "cone bits (default: RFC 5991)");
  client->add_flag("--no-symmetric-check", r.no_symmetric_check,
                   "Skip the second qualification phase (the RS to the secondary address)");
  client->add_flag("--symmetric-nat-support", r.symmetric_nat_support,
                   "Qualify behind a symmetric NAT anyway, with RFC 6081 nonce trailers on bubbles");
  client->add_flag("--no-nonce", r.no_nonce, "RSs without the authentication encapsulation's nonce");
  client->add_flag("--local-discovery", r.local_discovery, "Local client discovery (RFC 4380 5.2.8)");
  client->add_option("--local-subnet", r.local_subnet,
                     "Discovery bubbles are accepted from this IPv4 prefix (default: the subnet of the local "
                     "address toward the server)");
  client->add_flag("--interval-determination", r.interval_determination,
                   "Determine the refresh interval with a second port (RFC 4380 5.2.7)");
  client->add_option("--refresh-interval", r.refresh_interval, "Refresh interval in seconds (RFC 6081 5.1.1)")
      ->capture_default_str();
  client->add_option("--offline-retry", r.offline_retry,
                     "Seconds before qualifying again after going off-line (0: stay off-line)")
      ->capture_default_str();
  client->add_option("--peers", r.peers, "Peer list capacity (R4380-5.2-06)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  client->add_flag("--no-default-route", r.no_default_route, "Route only 2001::/32 through the tunnel, not ::/0");
  client->add_flag("--accept-trailers", r.accept_trailers, "Accept bytes after the IPv6 packet (RFC 6081 4)");
  client->add_flag("--no-sunset", r.no_sunset,
                   "Act as a Teredo client even while the host has native IPv6 (RFC 4380 5.5 says MUST NOT)");
  client->add_option("--state-file", r.state_file,
                     "Keep a JSON object with the qualification state and Teredo address in this file");
  add_common(client, r);

  Mode mode = Mode::server;
  bool have_mode = !args.empty() && mode_from(args[0], mode);
  if (config_path) {
    std::ifstream in(*config_path);
    if (!in) throw BadValue("--config: cannot read '" + *config_path + "'");
    nlohmann::json config;
    try {
      config = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw BadValue("--config: '" + *config_path + "' is not JSON: " + e.what());
    }
    if (!config.is_object()) throw BadValue("--config: '" + *config_path + "' must hold a JSON object");
    if (config.contains("mode")) {
      const auto& m = config["mode"];
      Mode from_file = Mode::server;
      if (!m.is_string() || !mode_from(m.get<std::string>(), from_file)) {
        throw BadValue("config " + *config_path + ": 'mode' must be server, relay, host-relay or client");
      }
      if (have_mode && mode != from_file) {
        throw UsageError(std::string("config ") + *config_path + " is for " + to_string(from_file) +
                         ", the command line says " + to_string(mode));
      }
      if (!have_mode) args.insert(args.begin(), to_string(from_file));
      mode = from_file;
      have_mode = true;
    }
    if (!have_mode) {
      throw UsageError("give a subcommand (server, relay, host-relay, client) or \"mode\" in the config file");
    }
    CLI::App* sub = app.get_subcommand(to_string(mode));
    const auto tokens = config_tokens(config, *config_path, *sub, args);
    args.insert(args.begin() + 1, tokens.begin(), tokens.end());
  }

  std::vector<char*> pointers;
  pointers.push_back(argv[0]);
  for (auto& a : args) pointers.push_back(a.data());
  try {
    app.parse(static_cast<int>(pointers.size()), pointers.data());
  } catch (const CLI::Success& e) {  // --help, --help-all, --version: printed here
    throw ExitRequest{app.exit(e)};
  } catch (const CLI::ConversionError& e) {
    throw BadValue(e.what());
  } catch (const CLI::ValidationError& e) {
    throw BadValue(e.what());
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  if (server->parsed()) return convert(Mode::server, r);
  if (relay->parsed()) return convert(Mode::relay, r);
  if (client->parsed()) return convert(Mode::client, r);
  return convert(Mode::host_relay, r);
}

}  // namespace teredo::ref
