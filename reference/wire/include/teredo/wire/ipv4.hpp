// IPv4 addresses as the Teredo codec needs them: a value type, text both ways,
// and the "global unicast" test of RFC 4380 §5.2.4 that clients, servers and
// relays apply before sending to or trusting an IPv4 address.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "teredo/wire/result.hpp"

namespace teredo::wire {

struct Ipv4Address {
  std::uint32_t value = 0;  // host byte order: 192.0.2.1 is 0xC0000201

  static constexpr Ipv4Address from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                           std::uint8_t d) noexcept {
    return Ipv4Address{(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) |
                       (std::uint32_t{c} << 8) | std::uint32_t{d}};
  }
  [[nodiscard]] std::array<std::uint8_t, 4> octets() const noexcept {
    return {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
            static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
  }
  friend constexpr bool operator==(Ipv4Address, Ipv4Address) noexcept = default;
};

// Strict dotted quad ("192.0.2.1"); anything else is bad_ipv4_text.
Result<Ipv4Address> parse_ipv4(std::string_view text) noexcept;
std::string to_string(Ipv4Address address);

// RFC 4380 §5.2.4: a Teredo node must not send to, and must not accept as a
// mapped address, an IPv4 address that is not global unicast. The excluded
// ranges are those §5.2.4 lists plus the limited broadcast address.
enum class Ipv4Scope : std::uint8_t {
  global_unicast,
  this_network,    // 0.0.0.0/8
  private_use,     // 10/8, 172.16/12, 192.168/16 (RFC 1918)
  loopback,        // 127/8
  link_local,      // 169.254/16
  relay_anycast,   // 192.88.99.0/24 (6to4 relay anycast)
  multicast,       // 224/4
  broadcast,       // 255.255.255.255
};
Ipv4Scope classify_ipv4(Ipv4Address address) noexcept;
std::string_view to_string(Ipv4Scope scope) noexcept;
inline bool is_global_unicast(Ipv4Address address) noexcept {
  return classify_ipv4(address) == Ipv4Scope::global_unicast;
}

}  // namespace teredo::wire
