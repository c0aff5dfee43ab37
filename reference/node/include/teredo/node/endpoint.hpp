// A UDP/IPv4 endpoint: the outer address of every Teredo datagram.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "teredo/wire/ipv4.hpp"

namespace teredo::node {

struct UdpEndpoint {
  wire::Ipv4Address address;
  std::uint16_t port = 0;

  friend constexpr bool operator==(const UdpEndpoint&, const UdpEndpoint&) noexcept = default;
};

// "192.0.2.1:3544"
std::string to_string(const UdpEndpoint& endpoint);

}  // namespace teredo::node

template <>
struct std::hash<teredo::node::UdpEndpoint> {
  std::size_t operator()(const teredo::node::UdpEndpoint& e) const noexcept {
    const std::uint64_t v = (std::uint64_t{e.address.value} << 16) | e.port;
    // splitmix64 finaliser: endpoints are not attacker-keyed map keys in
    // reference/node (the peer list keys on IPv6 addresses, with SipHash).
    std::uint64_t z = v + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return static_cast<std::size_t>(z ^ (z >> 31));
  }
};
