// The Teredo IPv6 address (RFC 4380 §4, flags as updated by RFC 5991 §4):
//
//   | 2001:0000 (32) | server IPv4 (32) | flags (16) | ~port (16) | ~client IPv4 (32) |
//
// Flags, bit 0 first: C R A A A A U G A A A A A A A A. C (0x8000) is the cone
// bit; R (0x4000) and U/G (0x0200/0x0100) are zero when sent; the twelve A
// bits (mask 0x3CFF) are random (RFC 5991 §4). Any flags are accepted when
// received, so parsing never rejects an address for its flags.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/result.hpp"

namespace teredo::wire {

inline constexpr std::uint16_t kUdpPortTeredo = 3544;
inline constexpr std::uint16_t kFlagCone = 0x8000;
inline constexpr std::uint16_t kFlagReserved = 0x4000;
inline constexpr std::uint16_t kFlagUniversalLocal = 0x0200;
inline constexpr std::uint16_t kFlagGroup = 0x0100;
inline constexpr std::uint16_t kFlagRandomMask = 0x3CFF;

struct TeredoAddress {
  Ipv4Address server;
  std::uint16_t flags = 0;
  std::uint16_t mapped_port = 0;  // de-obfuscated (the address holds ~port)
  Ipv4Address mapped_ipv4;        // de-obfuscated (the address holds ~ipv4)

  [[nodiscard]] bool cone() const noexcept { return (flags & kFlagCone) != 0; }
  [[nodiscard]] std::uint16_t random_bits() const noexcept { return flags & kFlagRandomMask; }
  // Flags a conforming sender may put on the wire: R, U and G clear.
  [[nodiscard]] bool flags_valid_to_send() const noexcept {
    return (flags & (kFlagReserved | kFlagUniversalLocal | kFlagGroup)) == 0;
  }

  [[nodiscard]] Ipv6Address to_ipv6() const noexcept;
  friend constexpr bool operator==(const TeredoAddress&, const TeredoAddress&) noexcept = default;
};

// Flags for an address we build: cone bit as given, random bits masked by
// 0x3CFF, R/U/G clear (RFC 5991 §4).
constexpr std::uint16_t make_teredo_flags(bool cone, std::uint16_t random) noexcept {
  return static_cast<std::uint16_t>((cone ? kFlagCone : 0) | (random & kFlagRandomMask));
}

// True when the address is inside 2001:0000::/32.
bool is_teredo(const Ipv6Address& address) noexcept;
// Splits an address in 2001:0000::/32; not_teredo_prefix otherwise.
Result<TeredoAddress> parse_teredo(const Ipv6Address& address) noexcept;
// From text: bad_ipv6_text or not_teredo_prefix on failure.
Result<TeredoAddress> parse_teredo(std::string_view text) noexcept;

// The Teredo prefix a server advertises: 2001:0:<server IPv4>::/64.
Ipv6Address teredo_prefix(Ipv4Address server) noexcept;

}  // namespace teredo::wire
