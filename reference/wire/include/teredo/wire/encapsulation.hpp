// The two Teredo encapsulations that may precede the IPv6 packet in a UDP
// payload (RFC 4380 §5.1.1): authentication (indicator 0x0001) and origin
// indication (indicator 0x0000). Parsing yields views into the buffer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/result.hpp"

namespace teredo::wire {

inline constexpr std::uint16_t kIndicatorOrigin = 0x0000;
inline constexpr std::uint16_t kIndicatorAuthentication = 0x0001;
inline constexpr std::size_t kOriginIndicationSize = 8;
inline constexpr std::size_t kAuthenticationFixedSize = 13;  // 4 + nonce 8 + confirmation 1
inline constexpr std::size_t kNonceSize = 8;

using Nonce = std::array<std::uint8_t, kNonceSize>;

//   0x00 0x01 | ID-len | AU-len | client id | auth value | nonce (8) | confirmation
struct Authentication {
  Bytes client_id;
  Bytes authentication_value;
  Nonce nonce{};
  std::uint8_t confirmation = 0;
  Bytes encoded;  // the whole encapsulation as it stands in the buffer
};

//   0x00 0x00 | ~port (16) | ~IPv4 (32)     (both bit-inverted on the wire)
struct OriginIndication {
  std::uint16_t port = 0;  // de-obfuscated
  Ipv4Address address;     // de-obfuscated
  friend constexpr bool operator==(const OriginIndication&, const OriginIndication&) noexcept =
      default;
};

// Each parses the encapsulation at the start of `buffer` and reports how many
// bytes it took. The caller has checked the indicator.
Result<Authentication> parse_authentication(Bytes buffer) noexcept;
Result<OriginIndication> parse_origin_indication(Bytes buffer) noexcept;

struct AuthenticationFields {
  Bytes client_id{};           // at most 255 bytes
  Bytes authentication_value{};  // at most 255 bytes
  Nonce nonce{};
  std::uint8_t confirmation = 0;
};
// Appends the encapsulation. Returns false (and writes nothing) when the
// client id or authentication value is longer than its 8-bit length allows.
bool append_authentication(ByteVector& out, const AuthenticationFields& fields);
void append_origin_indication(ByteVector& out, const OriginIndication& origin);

}  // namespace teredo::wire
