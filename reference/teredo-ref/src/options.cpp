#include "options.hpp"

#include <net/if.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "teredo/io/tun.hpp"
#include "teredo/node/addressing.hpp"
#include "teredo/wire/hmac.hpp"
#include "teredo/wire/teredo_address.hpp"

namespace teredo::ref {

namespace {

inline constexpr std::array<const char*, 4> kSubcommands{"server", "relay", "host-relay", "client"};

// ---- values: text as CLI11 hands it over -> the node's types, or BadValue naming the flag

// --packet-ring (server, relay, host-relay): empty, or an interface of this host.
std::string packet_ring_value(const std::string& name) {
  if (name.empty()) return name;
  if (!io::valid_interface_name(name)) {
    throw BadValue("--packet-ring: '" + name + "' is not a valid interface name (1..15 bytes)");
  }
  if (::if_nametoindex(name.c_str()) == 0) throw BadValue("--packet-ring: no interface '" + name + "' on this host");
  return name;
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

std::chrono::nanoseconds seconds_value(const std::string& flag, double seconds) {
  if (!(seconds >= 0) || seconds > 86400) throw BadValue(flag + ": must be 0..86400 seconds");
  return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

node::Ipv4Subnet ipv4_subnet_value(const std::string& flag, const std::string& text) {
  const auto slash = text.find('/');
  const auto address = wire::parse_ipv4(text.substr(0, slash));
  int length = 32;
  if (slash != std::string::npos) {
    try {
      std::size_t used = 0;
      length = std::stoi(text.substr(slash + 1), &used);
      if (used != text.size() - slash - 1) length = -1;
    } catch (const std::exception&) {
      length = -1;
    }
  }
  if (!address || length < 0 || length > 32) throw BadValue(flag + ": '" + text + "' is not an IPv4 prefix (A.B.C.D/N)");
  return node::Ipv4Subnet{*address, static_cast<std::uint8_t>(length)};
}

std::string interface_value(const std::string& text) {
  if (!io::valid_interface_name(text)) {
    throw BadValue("--interface: '" + text + "' is not a valid interface name (1..15 bytes)");
  }
  return text;
}

wire::MacAlgorithm mac_value(const std::string& text) {
  const auto algorithm = wire::parse_mac_algorithm(text);
  if (!algorithm) throw BadValue("--mac: '" + text + "' is not hmac-sha1 or hmac-md5");
  return *algorithm;
}

const CLI::Validator kTimeScale(
    [](std::string& text) -> std::string {
      double f = 0;
      std::istringstream in(text);
      if (!(in >> f) || !in.eof()) return "not a number: " + text;
      if (!node::TimeScale::valid_factor(f)) return "must be a finite number in (0, 1e6]";
      return {};
    },
    "FACTOR");

// ---- each subcommand's flags as CLI11 binds them, and the options they make

struct CommonFlags {
  std::uint32_t mtu = 1280;
  double time_scale = 1.0;
  std::size_t batch = 64;
  bool verbose = false;

  void define(CLI::App& app) {
    app.add_option("--mtu", mtu, "Teredo link MTU (R4380-5.1.2-01)")->check(CLI::Range(1280u, 65535u))->capture_default_str();
    app.add_option("--time-scale", time_scale, "Multiply every protocol timer by F (F < 1: faster, for labs)")
        ->check(kTimeScale)
        ->capture_default_str();
    app.add_option("--batch", batch, "Datagrams per recvmmsg/sendmmsg call")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
        ->capture_default_str();
    app.add_flag("-v,--verbose", verbose, "Also log an action line per answered RS / forwarded packet");
  }
  CommonOptions options() const { return CommonOptions{time_scale, batch, verbose}; }
};

void add_mac(CLI::App& app, std::string& mac) {
  app.add_option("--mac", mac, "Secure qualification algorithm")
      ->check(CLI::IsMember({"hmac-sha1", "hmac-md5"}))
      ->capture_default_str();
}

struct ServerFlags {
  CommonFlags common;
  std::string primary, secondary, secret_file, mac = "hmac-sha1", forward_native = "auto", packet_ring;
  std::uint16_t port = wire::kUdpPortTeredo;
  std::vector<std::string> client_ids, expired_client_ids;
  bool accept_trailers = false, no_echo = false, forward_any_protocol = false;

  void define(CLI::App& app) {
    app.add_option("--primary", primary, "Primary server IPv4 address (the one clients are given)")->required();
    app.add_option("--secondary", secondary, "Secondary IPv4 address (default: primary + 1)");
    app.add_option("--port", port, "UDP port of both addresses")->check(CLI::Range(1, 65535))->capture_default_str();
    auto* secret = app.add_option("--secret-file", secret_file,
                                  "Shared secret for secure qualification (5.2.2); one trailing newline is ignored");
    auto* ids = app.add_option("--client-id", client_ids, "Client identifier accepted with the secret (repeat)")
                    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--expired-client-id", expired_client_ids,
                   "Client identifier still verified but answered with confirmation 1 (R4380-5.3.2-12)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->needs(secret);
    secret->needs(ids);
    ids->needs(secret);
    add_mac(app, mac);
    app.add_option("--forward-native", forward_native,
                   "Send clients' packets to native IPv6 destinations through a raw IPv6 socket "
                   "(R4380-5.3.1-12): auto = when the host has a global IPv6 address")
        ->check(CLI::IsMember({"auto", "on", "off"}))
        ->capture_default_str();
    app.add_option("--packet-ring", packet_ring,
                   "Read and send the server's datagrams through an AF_PACKET ring on this interface, "
                   "skipping the UDP socket layer (needs CAP_NET_RAW; IPv4 fragments are not reassembled)");
    app.add_flag("--accept-trailers", accept_trailers, "Accept bytes after the IPv6 packet (RFC 6081 4)");
    app.add_flag("--no-echo", no_echo, "Do not answer echo requests to the server (R4380-5.3.1-10)");
    app.add_flag("--forward-any-protocol", forward_any_protocol,
                 "Forward packets that are neither bubbles nor ICMPv6 (a server that is also a relay)");
    common.define(app);
  }

  ServerOptions options() const {
    ServerOptions o;
    o.common = common.options();
    node::ServerConfig& s = o.server;
    s.primary = ipv4_value("--primary", primary);
    if (secondary.empty()) {
      // Miredo's convention: the secondary is the next address.
      if (s.primary.value == 0xFFFFFFFFu) throw BadValue("--primary: no next address to use as the secondary; give --secondary");
      s.secondary = wire::Ipv4Address{s.primary.value + 1};
    } else {
      s.secondary = ipv4_value("--secondary", secondary);
    }
    if (s.secondary == s.primary) throw BadValue("--secondary: must differ from --primary");
    s.port = port;
    s.mtu = common.mtu;
    s.accept_trailers = accept_trailers;
    s.answer_echo = !no_echo;
    s.forward_any_protocol = forward_any_protocol;
    o.forward_native = forward_native == "on"    ? ForwardNative::on
                       : forward_native == "off" ? ForwardNative::off
                                                 : ForwardNative::automatic;
    o.packet_ring = packet_ring_value(packet_ring);
    if (!secret_file.empty()) {
      node::SecureQualification secure;
      secure.algorithm = mac_value(mac);
      const wire::ByteVector secret = read_secret(secret_file);
      auto add = [&](const std::string& id, bool expired) {
        if (id.empty() || id.size() > 255) throw BadValue("--client-id: '" + id + "' must be 1..255 bytes");
        secure.clients.push_back(node::ClientCredential{wire::ByteVector(id.begin(), id.end()), secret, expired});
      };
      for (const auto& id : client_ids) add(id, false);
      for (const auto& id : expired_client_ids) add(id, true);
      s.secure = std::move(secure);
    }
    return o;
  }
};

// relay and host-relay: the same flags but --serve (relay) or --host-address (host-relay).
struct RelayFlags {
  explicit RelayFlags(bool host) : host_specific(host) {}

  bool host_specific;
  CommonFlags common;
  std::string bind, interface = "teredo", ipv6_address, prefix = "2001::/32", packet_ring;
  std::vector<std::string> host_addresses, serve;
  std::size_t peers = 1024;
  bool honour_cone_bit = false, direct_bubbles = false, reject_unknown_peers = false, accept_trailers = false;

  void define(CLI::App& app) {
    app.add_option("--bind", bind, "IPv4 address and UDP port of the relay (A or A:PORT, port 3544 by default)")
        ->required();
    app.add_option("--interface", interface, "TUN interface name (at most 15 bytes)")->capture_default_str();
    app.add_option("--prefix", prefix, "The Teredo prefix routed to the TUN interface (only 2001::/32)")
        ->capture_default_str();
    app.add_option("--peers", peers, "Peer list capacity (R4380-5.2-06)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
        ->capture_default_str();
    app.add_option("--ipv6-address", ipv6_address,
                   "Native IPv6 address bubbles are sent from (default: the host's first global one)");
    app.add_flag("--honour-cone-bit", honour_cone_bit,
                 "Send directly to cone peers (RFC 4380 5.4.1 case 2; RFC 5991 says not to)");
    app.add_flag("--direct-bubbles", direct_bubbles, "Also send a direct bubble to the client's mapping");
    app.add_flag("--reject-unknown-peers", reject_unknown_peers,
                 "Drop datagrams from clients not in the peer list (R4380-5.4.2-03 allows it)");
    app.add_flag("--accept-trailers", accept_trailers, "Accept bytes after the IPv6 packet (RFC 6081 4)");
    app.add_option("--packet-ring", packet_ring,
                   "Read and send the relay's Teredo datagrams through an AF_PACKET ring on this interface, "
                   "skipping the UDP socket layer (needs CAP_NET_RAW and a specific --bind address; "
                   "IPv4 fragments are not reassembled)");
    if (host_specific) {
      app.add_option("--host-address", host_addresses,
                     "An address of this host to relay for (repeat; default: its global IPv6 addresses)")
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    } else {
      app.add_option("--serve", serve, "Native prefix served to Teredo clients (repeat; default ::/0)")
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    common.define(app);
  }

  RelayOptions options() const {
    RelayOptions o;
    o.common = common.options();
    node::RelayConfig& c = o.relay;
    c.local = endpoint_value("--bind", bind);
    o.packet_ring = packet_ring_value(packet_ring);
    if (!o.packet_ring.empty() && c.local.address.value == 0) {
      throw BadValue("--packet-ring: needs a specific --bind address, not " + bind);
    }
    o.interface = interface_value(interface);
    const auto parsed_prefix = node::parse_ipv6_prefix(prefix);
    if (!parsed_prefix || !(*parsed_prefix == *node::parse_ipv6_prefix("2001::/32"))) {
      throw BadValue("--prefix: '" + prefix + "': the Teredo prefix is 2001::/32 (RFC 4380 2.6)");
    }
    c.mtu = common.mtu;
    c.honour_cone_bit = honour_cone_bit;
    c.direct_bubbles = direct_bubbles;
    c.accept_unknown_peers = !reject_unknown_peers;
    c.accept_trailers = accept_trailers;
    c.peers.capacity = peers;
    c.time_scale = node::TimeScale(common.time_scale);
    if (!ipv6_address.empty()) {
      c.ipv6_address = ipv6_value("--ipv6-address", ipv6_address);
      o.ipv6_address_given = true;
    }
    c.host_specific = host_specific;
    for (const auto& a : host_addresses) c.host_addresses.push_back(ipv6_value("--host-address", a));
    for (const auto& p : serve) {
      const auto parsed = node::parse_ipv6_prefix(p);
      if (!parsed) throw BadValue("--serve: '" + p + "' is not an IPv6 prefix");
      c.served_prefixes.push_back(*parsed);
    }
    // A relay advertising the Teredo prefix serves everything native
    // (Teredo destinations and non-global scopes are refused regardless).
    if (!host_specific && c.served_prefixes.empty()) c.served_prefixes.push_back(*node::parse_ipv6_prefix("::/0"));
    return o;
  }
};

struct ClientFlags {
  CommonFlags common;
  std::string server, server_secondary, bind, interface = "teredo", secret_file, mac = "hmac-sha1", local_subnet,
      state_file;
  std::vector<std::string> client_ids, faults;
  std::size_t peers = 1024;
  bool rfc4380 = false, no_symmetric_check = false, symmetric_nat_support = false, local_discovery = false,
       interval_determination = false, no_default_route = false, no_nonce = false, no_sunset = false,
       accept_trailers = false, hairpinning = false, server_load_reduction = false, upnp = false,
       port_preserving_nat = false, sequential_port_nat = false;
  double refresh_interval = 30, offline_retry = 100;

  void define(CLI::App& app) {
    app.add_option("--server", server, "IPv4 address of the Teredo server (its primary address)")->required();
    app.add_option("--server-secondary", server_secondary, "The server's secondary address (default: --server + 1)");
    app.add_option("--bind", bind, "Local IPv4 address and port (A or A:PORT; default: any address, random port)");
    app.add_option("--interface", interface, "TUN interface name (at most 15 bytes)")->capture_default_str();
    auto* secret = app.add_option("--secret-file", secret_file,
                                  "Secure qualification (RFC 4380 5.2.2): file holding the shared secret");
    auto* id = app.add_option("--client-id", client_ids, "The client identifier for --secret-file")
                   ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    secret->needs(id);
    id->needs(secret);
    add_mac(app, mac);
    app.add_flag("--rfc4380", rfc4380,
                 "Strict RFC 4380 qualification: probe for a cone NAT first, no random flag bits, honour peers' "
                 "cone bits (default: RFC 5991)");
    app.add_flag("--no-symmetric-check", no_symmetric_check,
                 "Skip the second qualification phase (the RS to the secondary address)");
    app.add_flag("--symmetric-nat-support", symmetric_nat_support,
                 "Qualify behind a symmetric NAT anyway, with RFC 6081 nonce trailers on bubbles");
    app.add_flag("--port-preserving-nat", port_preserving_nat,
                 "RFC 6081 5.4 Port-Preserving Symmetric NAT Extension: a random port per peer, advertised in a "
                 "Random Port Trailer (implies --symmetric-nat-support)");
    app.add_flag("--sequential-port-nat", sequential_port_nat,
                 "RFC 6081 5.5 Sequential Port-Symmetric NAT Extension: the random port's mapping predicted by an "
                 "Echo Test (implies --port-preserving-nat)");
    app.add_flag("--hairpinning", hairpinning,
                 "RFC 6081 5.6 hairpinning: the local address/port in an Alternate Address Trailer on indirect "
                 "bubbles, direct bubbles to every address a peer advertises");
    app.add_flag("--server-load-reduction", server_load_reduction,
                 "RFC 6081 5.7 server load reduction: an idle peer is solicited with direct bubbles (Neighbor "
                 "Discovery Option Trailer) before indirect ones");
    app.add_flag("--upnp", upnp,
                 "RFC 6081 5.3 UPnP-enabled symmetric NAT extension: map the service port on the NAT's UPnP IGD "
                 "before qualifying, delete it on exit (implies --symmetric-nat-support)");
    app.add_option("--fault", faults,
                   "Fault injection for the harness's own tests (repeat): echo-test-not-cancelled (R6081-5.5.4.3-02), "
                   "echo-ports-kept-on-refresh (R6081-5.5.2.1-02), data-sent-not-stamped (R6081-5.4.4.1-01), "
                   "invert-mapping-check (R6081-5.4.4.5-05/-15), nat-flags-true-at-start (R6081-5.4.3-01), "
                   "refresh-count-not-reset (R6081-5.4.2.1-04), refresh-count-uncapped (R6081-5.4.2.1-02)")
        ->check(CLI::IsMember({"echo-test-not-cancelled", "echo-ports-kept-on-refresh", "data-sent-not-stamped",
                               "invert-mapping-check", "nat-flags-true-at-start", "refresh-count-not-reset",
                               "refresh-count-uncapped"}));
    app.add_flag("--no-nonce", no_nonce, "RSs without the authentication encapsulation's nonce");
    app.add_flag("--local-discovery", local_discovery, "Local client discovery (RFC 4380 5.2.8)");
    app.add_option("--local-subnet", local_subnet,
                   "Discovery bubbles are accepted from this IPv4 prefix (default: the subnet of the local "
                   "address toward the server)");
    app.add_flag("--interval-determination", interval_determination,
                 "Determine the refresh interval with a second port (RFC 4380 5.2.7)");
    app.add_option("--refresh-interval", refresh_interval, "Refresh interval in seconds (RFC 6081 5.1.1)")
        ->capture_default_str();
    app.add_option("--offline-retry", offline_retry,
                   "Seconds before qualifying again after going off-line (0: stay off-line)")
        ->capture_default_str();
    app.add_option("--peers", peers, "Peer list capacity (R4380-5.2-06)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
        ->capture_default_str();
    app.add_flag("--no-default-route", no_default_route, "Route only 2001::/32 through the tunnel, not ::/0");
    app.add_flag("--accept-trailers", accept_trailers, "Accept bytes after the IPv6 packet (RFC 6081 4)");
    app.add_flag("--no-sunset", no_sunset,
                 "Act as a Teredo client even while the host has native IPv6 (RFC 4380 5.5 says MUST NOT)");
    app.add_option("--state-file", state_file,
                   "Keep a JSON object with the qualification state and Teredo address in this file");
    common.define(app);
  }

  ClientOptions options() const {
    ClientOptions o;
    o.common = common.options();
    node::ClientConfig& c = o.client;
    c.server = ipv4_value("--server", server);
    c.server_secondary = server_secondary.empty() ? wire::Ipv4Address{c.server.value + 1}
                                                  : ipv4_value("--server-secondary", server_secondary);
    if (c.server_secondary == c.server) throw BadValue("--server-secondary: must differ from --server");
    // R4380-5.2-03: without a configured port the kernel picks a random one.
    if (!bind.empty()) {
      c.local = bind.find(':') == std::string::npos ? node::UdpEndpoint{ipv4_value("--bind", bind), 0}
                                                    : endpoint_value("--bind", bind);
    }
    o.interface = interface_value(interface);
    if (!secret_file.empty()) {
      if (client_ids.size() != 1) throw BadValue("--client-id: a client has exactly one identifier");
      const wire::MacAlgorithm algorithm = mac_value(mac);
      const std::string& id = client_ids.front();
      if (id.empty() || id.size() > 255) throw BadValue("--client-id: '" + id + "' must be 1..255 bytes");
      c.secure = node::ClientCredentials{wire::ByteVector(id.begin(), id.end()), read_secret(secret_file), algorithm};
    }
    if (rfc4380) c.use_rfc4380_qualification();
    c.check_symmetric = !no_symmetric_check;
    // R6081-5.5-02: §5.5 needs §5.4 and §5.2; R6081-5.4-02: §5.4 needs §5.2;
    // R6081-5.3-02: the UPnP extension needs §5.2.
    c.sequential_port_nat = sequential_port_nat;
    c.port_preserving_nat = port_preserving_nat || sequential_port_nat;
    c.symmetric_nat_support = symmetric_nat_support || c.port_preserving_nat || upnp;
    for (const std::string& fault : faults) {
      if (fault == "echo-test-not-cancelled") c.faults.echo_test_not_cancelled = true;
      if (fault == "echo-ports-kept-on-refresh") c.faults.echo_ports_kept_on_refresh = true;
      if (fault == "data-sent-not-stamped") c.faults.data_sent_not_stamped = true;
      if (fault == "invert-mapping-check") c.faults.invert_mapping_check = true;
      if (fault == "nat-flags-true-at-start") c.faults.nat_flags_true_at_start = true;
      if (fault == "refresh-count-not-reset") c.faults.refresh_count_not_reset = true;
      if (fault == "refresh-count-uncapped") c.faults.refresh_count_uncapped = true;
    }
    c.hairpinning = hairpinning;
    c.server_load_reduction = server_load_reduction;
    c.accept_trailers = accept_trailers || c.symmetric_nat_support || hairpinning || server_load_reduction;
    o.upnp = upnp;
    c.send_nonce = !no_nonce;
    c.local_discovery = local_discovery;
    if (!local_subnet.empty()) {
      c.local_subnet = ipv4_subnet_value("--local-subnet", local_subnet);
      o.local_subnet_given = true;
    }
    c.interval_determination = interval_determination;
    c.timers.refresh_interval = seconds_value("--refresh-interval", refresh_interval);
    if (c.timers.refresh_interval < std::chrono::seconds(1)) throw BadValue("--refresh-interval: at least 1 second");
    if (const auto retry = seconds_value("--offline-retry", offline_retry); retry.count() > 0) {
      c.timers.offline_retry = retry;
    }
    c.mtu = common.mtu;
    c.peers.capacity = peers;
    c.time_scale = node::TimeScale(common.time_scale);
    o.default_route = !no_default_route;
    o.sunset = !no_sunset;
    o.state_file = state_file;
    return o;
  }
};

// ---- --config FILE: JSON read by CLI11's config machinery

nlohmann::json read_config(std::istream& in, const std::string& path) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw BadValue("--config: '" + path + "' is not JSON: " + e.what());
  }
  if (!config.is_object()) throw BadValue("--config: '" + path + "' must hold a JSON object");
  return config;
}

// The file's "mode", if it has one.
std::optional<std::string> config_mode(const nlohmann::json& config, const std::string& path) {
  const auto mode = config.find("mode");
  if (mode == config.end()) return std::nullopt;
  for (const char* name : kSubcommands) {
    if (*mode == name) return std::string(name);
  }
  throw BadValue("config " + path + ": 'mode' must be server, relay, host-relay or client");
}

// CLI11 reads TOML and INI itself; Config is its extension point for other
// formats. This one reads the JSON object described in options.hpp into the
// subcommand being parsed: keys name its long flags ('_' or '-' between
// words), flags take true or false, repeatable options a list. CLI11 then
// gives a value from the file only to an option the command line left
// empty; repeatable options given on both add up, which CLI11 has no
// policy for, so those values go to the option here.
class JsonConfig : public CLI::Config {
 public:
  explicit JsonConfig(CLI::App& app) : app_(app) {}

  std::string to_config(const CLI::App*, bool, bool, std::string) const override {
    throw std::logic_error("teredo-ref does not write config files");
  }

  std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
    const std::string path = app_.get_config_ptr()->as<std::string>();
    const nlohmann::json config = read_config(in, path);
    // The command line names the subcommand, or parse_options put the file's there.
    CLI::App& sub = *app_.get_subcommands().at(0);
    if (const auto mode = config_mode(config, path); mode && *mode != sub.get_name()) {
      throw UsageError("config " + path + " is for " + *mode + ", the command line says " + sub.get_name());
    }
    std::vector<CLI::ConfigItem> found;
    for (auto entry = config.begin(); entry != config.end(); ++entry) {
      const std::string& key = entry.key();
      const nlohmann::json& value = entry.value();
      if (key == "mode") continue;
      CLI::ConfigItem item;
      item.parents = {sub.get_name()};
      item.name = key;
      for (char& c : item.name) {
        if (c == '_') c = '-';
      }
      CLI::Option* option = sub.get_option_no_throw((item.name.size() == 1 ? "-" : "--") + item.name);
      if (option == nullptr || !option->get_configurable()) {
        throw UsageError("config " + path + ": unknown key '" + key + "' for " + sub.get_name());
      }
      if (option->get_expected_min() == 0) {  // a flag
        if (!value.is_boolean()) throw BadValue("config " + path + ": '" + key + "' must be true or false");
        if (!value.get<bool>()) continue;
        item.inputs = {"true"};
      } else {
        for (const auto& v : value.is_array() ? value : nlohmann::json::array({value})) {
          if (v.is_string()) {
            item.inputs.push_back(v.get<std::string>());
          } else if (v.is_number()) {
            item.inputs.push_back(v.dump());
          } else if (!v.is_null()) {
            throw BadValue("config " + path + ": '" + key + "' must be a string or a number");
          }
        }
        if (item.inputs.empty()) continue;
      }
      if (option->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll && option->count() > 0) {
        option->add_result(item.inputs);
        continue;
      }
      found.push_back(std::move(item));
    }
    return found;
  }

 private:
  CLI::App& app_;
};

// CLI11 reads the config file after the command line, so a command line
// that leaves the subcommand to the file ("teredo-ref --config server.json
// --port 4000") is given the file's "mode" as its subcommand first.
void subcommand_from_config(std::vector<std::string>& args) {
  for (const char* name : kSubcommands) {
    if (!args.empty() && args.front() == name) return;
  }
  std::optional<std::string> path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) path = args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) path = args[i].substr(9);
  }
  if (!path) return;  // CLI11 says a subcommand is missing
  std::ifstream in(*path);
  if (!in) throw BadValue("--config: cannot read '" + *path + "'");
  const auto mode = config_mode(read_config(in, *path), *path);
  if (!mode) throw UsageError("give a subcommand (server, relay, host-relay, client) or \"mode\" in the config file");
  args.insert(args.begin(), *mode);
}

}  // namespace

Options parse_options(int argc, char** argv) {
  CLI::App app{"teredo-ref: the reference Teredo server, relay, host-specific relay and client (RFC 4380, RFC 5991)"};
  app.set_version_flag("--version", std::string("teredo-ref ") + kVersion);
  app.require_subcommand(1);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_config("--config", "", "JSON file holding a subcommand's options (flags given here override it)");
  app.config_formatter(std::make_shared<JsonConfig>(app));
  app.fallthrough();  // --config after the subcommand is the app's

  ServerFlags server;
  RelayFlags relay(false), host_relay(true);
  ClientFlags client;
  CLI::App* server_app = app.add_subcommand("server", "Teredo server (RFC 4380 5.3) on two IPv4 addresses");
  server.define(*server_app);
  CLI::App* relay_app = app.add_subcommand("relay", "Teredo relay (RFC 4380 5.4): a TUN device routing 2001::/32");
  relay.define(*relay_app);
  CLI::App* host_relay_app = app.add_subcommand(
      "host-relay", "Host-specific relay (RFC 4380 5.5): serves this host's own addresses, forwards nothing");
  host_relay.define(*host_relay_app);
  CLI::App* client_app = app.add_subcommand(
      "client", "Teredo client (RFC 4380 5.2, RFC 5991): qualifies, then carries the host's IPv6 over a TUN device");
  client.define(*client_app);
  for (CLI::App* sub : {server_app, relay_app, host_relay_app, client_app}) {
    sub->footer("--config FILE: these options from a JSON object (see teredo-ref --help); flags given here override it");
  }

  std::vector<std::string> args(argv + 1, argv + argc);
  subcommand_from_config(args);
  std::vector<char*> pointers{argv[0]};
  for (auto& a : args) pointers.push_back(a.data());
  try {
    app.parse(static_cast<int>(pointers.size()), pointers.data());
  } catch (const CLI::Success& e) {  // --help, --help-all, --version: printed here
    throw ExitRequest{app.exit(e)};
  } catch (const CLI::FileError& e) {
    throw BadValue("--config: " + std::string(e.what()));
  } catch (const CLI::ConversionError& e) {
    throw BadValue(e.what());
  } catch (const CLI::ValidationError& e) {
    throw BadValue(e.what());
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  if (server_app->parsed()) return server.options();
  if (relay_app->parsed()) return relay.options();
  if (host_relay_app->parsed()) return host_relay.options();
  return client.options();
}

}  // namespace teredo::ref
