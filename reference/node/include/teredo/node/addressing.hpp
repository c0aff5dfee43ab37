// IPv6 address helpers the state machines need and reference/wire does not
// offer: scope tests, prefixes (a relay's served ranges), the server's Teredo
// link-local address, and a keyed hash for attacker-chosen map keys.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"

namespace teredo::node {

// ff02::2, the link-local all-routers group an RS is sent to (§5.2.1).
wire::Ipv6Address all_routers() noexcept;
// ff02::1, the link-local all-nodes group a local discovery bubble is sent
// to (§5.2.8).
wire::Ipv6Address all_nodes() noexcept;

// RFC 4291 §2.4: true unless the address is unspecified, loopback,
// IPv4-mapped, link-local (fe80::/10), deprecated site-local (fec0::/10) or
// multicast. §5.3.1: a server never forwards to anything else.
bool is_global_scope(const wire::Ipv6Address& address) noexcept;

// The cone bit of a Teredo-format interface identifier (bit 64 of the
// address): an RS from fe80::8000:... asks to be answered from the other
// server address (§5.3.2).
inline bool identifier_cone_bit(const wire::Ipv6Address& address) noexcept {
  return (address.bytes[8] & 0x80) != 0;
}

// §5.3.2 + §4: fe80::/64 followed by the Teredo-format identifier of the
// server: flags 0x8000 (cone, RFC 5991 §3.2), ~port, ~IPv4. For 192.0.2.45
// and port 3544 this is fe80::8000:f227:3fff:fdd2.
wire::Ipv6Address server_link_local(wire::Ipv4Address server, std::uint16_t port) noexcept;

// A client's link-local address in Teredo format (§5.2.1 "picks a
// link-local address"): fe80::/64 with flags (the cone bit or 0), ~port and
// ~IPv4 of its local endpoint. R4380-4-05 lets it embed a private IPv4.
wire::Ipv6Address client_link_local(wire::Ipv4Address local, std::uint16_t port, bool cone) noexcept;

struct Ipv6Prefix {
  wire::Ipv6Address address;  // bits past `length` are ignored
  std::uint8_t length = 0;    // 0..128

  [[nodiscard]] bool contains(const wire::Ipv6Address& candidate) const noexcept;
  friend bool operator==(const Ipv6Prefix&, const Ipv6Prefix&) noexcept = default;
};
// "2001:db8::/32"; nullopt on bad text or a length over 128.
std::optional<Ipv6Prefix> parse_ipv6_prefix(std::string_view text) noexcept;
std::string to_string(const Ipv6Prefix& prefix);

// SipHash-2-4 (Aumasson & Bernstein, 2012) with a 128-bit key. Peer lists are
// keyed by addresses the attacker chooses (R4380-5.2-06, §7.3.3): a keyed
// hash keeps an unordered_map O(1) under a flood crafted to collide.
using SipKey = std::array<std::uint8_t, 16>;
std::uint64_t siphash24(const SipKey& key, wire::Bytes message) noexcept;

}  // namespace teredo::node
