// What the I/O edge asks of the host: its IPv6 addresses, a secure random
// source for keyed hashes, the forwarding sysctl, and a raw IPv6 socket for
// packets a server hands to the native IPv6 side.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "teredo/io/error.hpp"
#include "teredo/node/addressing.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv6.hpp"

namespace teredo::io {

// Global-scope, non-Teredo IPv6 addresses configured on the host's
// interfaces (getifaddrs), in interface order; `exclude_interface` is
// skipped (a relay's own TUN).
std::vector<wire::Ipv6Address> global_ipv6_addresses(const std::string& exclude_interface = {});

// 16 bytes from getrandom(2) for PeerListConfig::hash_key. Throws IoError.
node::SipKey random_sip_key();

// The IPv4 address this host sends from toward `destination` (a connected
// UDP socket's source), or `local` itself when it is not 0.0.0.0.
std::optional<wire::Ipv4Address> local_ipv4_address(wire::Ipv4Address local, wire::Ipv4Address destination);

// The IPv4 address and prefix length of the interface this host would send
// from toward `destination` (a connected UDP socket's source, matched in
// getifaddrs), or the subnet of `local` when it is not 0.0.0.0. Nullopt when
// there is no route or no such interface. A Teredo client's local subnet
// (§5.2.8: discovery bubbles come from on-link peers only).
struct Ipv4Subnet {
  wire::Ipv4Address address;
  std::uint8_t length = 32;
};
std::optional<Ipv4Subnet> local_ipv4_subnet(wire::Ipv4Address local, wire::Ipv4Address destination);

// net.ipv6.conf.all.forwarding, or nullopt when unreadable.
std::optional<bool> ipv6_forwarding_enabled();

// socket(AF_INET6, SOCK_RAW, IPPROTO_RAW): the packets handed to it are sent
// as they are (header included), routed by their destination. This is how a
// server without a TUN sends a client's packet to the IPv6 Internet (RFC 4380
// §5.3.1, R4380-5.3.1-12), as Miredo's server does. Send-only.
class RawIpv6Socket {
 public:
  RawIpv6Socket();  // throws IoError (needs CAP_NET_RAW)
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  // Sends one IPv6 packet to the destination in its header: 0 or an errno.
  int send(wire::Bytes packet) noexcept;

 private:
  Fd fd_;
};

}  // namespace teredo::io
