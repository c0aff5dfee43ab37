// The command line of teredo-ref, and its JSON --config alternative.
//
//   teredo-ref server     --primary A [--secondary B] [--port 3544] [--mtu 1280]
//                         [--secret-file F --client-id ID ...] [--forward-native auto|on|off]
//                         [--packet-ring IFACE]
//   teredo-ref relay      --bind A[:PORT] [--interface NAME] [--peers N] [--ipv6-address X]
//   teredo-ref host-relay --bind A[:PORT] [--interface NAME] [--host-address X ...]
//   teredo-ref client     --server A [--server-secondary B] [--bind A[:PORT]] [--interface NAME]
//                         [--secret-file F --client-id ID] [--rfc4380] [--local-discovery] [--state-file F]
//   common:               [--time-scale F] [--batch N] [-v] [--config FILE]
//
// A config file is a JSON object whose keys are the flags without dashes
// ("primary", "secret_file" or "secret-file"), plus "mode" when no
// subcommand is given. Flags on the command line override single values of
// the file; list values (client_id, host_address, serve) add up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <variant>

#include "teredo/node/client.hpp"
#include "teredo/node/relay.hpp"
#include "teredo/node/server.hpp"

namespace teredo::ref {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;   // a system call failed at startup or while running
inline constexpr int kExitBadValue = 2;  // a flag or config value that cannot be used
inline constexpr int kExitUsage = 3;     // unknown subcommand or flag, missing argument

// One line on stderr, exit 2.
struct BadValue : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// One line on stderr, exit 3.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --help or --version was printed: exit with this code.
struct ExitRequest {
  int code;
};

#ifndef TEREDO_REF_VERSION
#define TEREDO_REF_VERSION "0.0.0"
#endif
inline constexpr const char* kVersion = TEREDO_REF_VERSION;

// What every subcommand takes besides its own options.
struct CommonOptions {
  double time_scale = 1.0;
  std::size_t batch = 64;
  bool verbose = false;
};

enum class ForwardNative { automatic, on, off };

// teredo-ref server
struct ServerOptions {
  CommonOptions common;
  node::ServerConfig server;
  ForwardNative forward_native = ForwardNative::automatic;
  std::string packet_ring;  // --packet-ring IFACE: the AF_PACKET fast path (empty: off)
};

// teredo-ref relay and teredo-ref host-relay (relay.host_specific).
struct RelayOptions {
  CommonOptions common;
  node::RelayConfig relay;  // ipv6_address and host_addresses may be filled at start
  std::string interface = "teredo";
  bool ipv6_address_given = false;
  std::string packet_ring;
};

// teredo-ref client
struct ClientOptions {
  CommonOptions common;
  node::ClientConfig client;
  std::string interface = "teredo";  // its TUN device
  bool default_route = true;         // ::/0 through the tunnel, metric 1029 (as Miredo)
  bool sunset = true;                // RFC 4380 §5.5: no Teredo while the host has native IPv6
  bool local_subnet_given = false;
  std::string state_file;
  bool upnp = false;  // --upnp: RFC 6081 §5.3 (the UPnP calls at the I/O edge)
};

using Options = std::variant<ServerOptions, RelayOptions, ClientOptions>;

// The subcommand's name, as the start line logs it.
inline const char* mode_name(const ServerOptions&) noexcept { return "server"; }
inline const char* mode_name(const RelayOptions& o) noexcept { return o.relay.host_specific ? "host-relay" : "relay"; }
inline const char* mode_name(const ClientOptions&) noexcept { return "client"; }

// Parses argv. Throws BadValue, UsageError, or ExitRequest after printing
// --help / --version.
Options parse_options(int argc, char** argv);

}  // namespace teredo::ref
