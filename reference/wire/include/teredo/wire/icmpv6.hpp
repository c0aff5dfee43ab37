// ICMPv6 (RFC 4443) as Teredo uses it: a view that verifies the checksum over
// the IPv6 pseudo-header, echo request/reply (the direct IPv6 connectivity test
// of RFC 4380 §5.2.9), and bubbles (§2.8: an IPv6 packet with next header 59
// and no payload).
#pragma once

#include <cstdint>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/result.hpp"

namespace teredo::wire {

inline constexpr std::uint8_t kIcmpv6EchoRequest = 128;
inline constexpr std::uint8_t kIcmpv6EchoReply = 129;
inline constexpr std::uint8_t kIcmpv6RouterSolicitation = 133;
inline constexpr std::uint8_t kIcmpv6RouterAdvertisement = 134;

struct Icmpv6Message {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint16_t checksum = 0;
  Bytes body;     // after type, code and checksum
  Bytes message;  // the whole ICMPv6 message
};

enum class ChecksumPolicy : std::uint8_t { verify, ignore };

// Errors: not_icmpv6 (next header is not 58: Teredo control packets carry no
// extension headers), truncated_icmpv6, bad_icmpv6_checksum.
Result<Icmpv6Message> parse_icmpv6(const Ipv6PacketView& packet,
                                   ChecksumPolicy policy = ChecksumPolicy::verify) noexcept;

// The checksum of `message` (its checksum field taken as zero) under the IPv6
// pseudo-header of RFC 8200 §8.1.
std::uint16_t icmpv6_checksum(const Ipv6Address& source, const Ipv6Address& destination,
                              Bytes message) noexcept;

// An IPv6 packet holding one ICMPv6 message; the checksum is computed.
ByteVector build_icmpv6_packet(const Ipv6Address& source, const Ipv6Address& destination,
                               std::uint8_t hop_limit, std::uint8_t type, std::uint8_t code,
                               Bytes body);

struct EchoMessage {
  bool reply = false;
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  Bytes data;
};
// Errors: wrong_icmpv6_type (not 128/129), truncated_echo.
Result<EchoMessage> parse_echo(const Icmpv6Message& message) noexcept;
ByteVector build_echo(const Ipv6Address& source, const Ipv6Address& destination,
                      std::uint8_t hop_limit, const EchoMessage& echo);

// A bubble: next header 59 and payload length 0.
inline bool is_bubble(const Ipv6PacketView& packet) noexcept {
  return packet.header.next_header == kNextHeaderNone && packet.header.payload_length == 0;
}
ByteVector build_bubble(const Ipv6Address& source, const Ipv6Address& destination,
                        std::uint8_t hop_limit = 255);

}  // namespace teredo::wire
