// The authentication value of secure qualification (RFC 4380 §5.2.2): an HMAC
// keyed with the shared secret over nonce | confirmation | origin indication
// (if present) | IPv6 packet. HMAC-SHA1 is the default; HMAC-MD5 is offered
// because §7.2.1 names it (erratum 107 notes the contradiction).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/encapsulation.hpp"

namespace teredo::wire {

enum class MacAlgorithm : std::uint8_t { hmac_sha1, hmac_md5 };
std::string_view to_string(MacAlgorithm algorithm) noexcept;
std::optional<MacAlgorithm> parse_mac_algorithm(std::string_view name) noexcept;

struct AuthenticationValue {
  std::array<std::uint8_t, 20> bytes{};
  std::size_t size = 0;  // 20 for SHA1, 16 for MD5
  [[nodiscard]] Bytes view() const noexcept { return {bytes.data(), size}; }
};

// nullopt only if OpenSSL fails (no provider for the digest).
std::optional<AuthenticationValue> compute_authentication_value(
    MacAlgorithm algorithm, Bytes secret, const Nonce& nonce, std::uint8_t confirmation,
    Bytes origin_encoded, Bytes ipv6_packet);

// Recomputes the value for a parsed datagram and compares in constant time.
// False when the datagram has no authentication encapsulation.
bool verify_authentication(const TeredoDatagram& datagram, MacAlgorithm algorithm, Bytes secret);

}  // namespace teredo::wire
