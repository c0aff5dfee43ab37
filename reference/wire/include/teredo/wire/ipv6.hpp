// IPv6 addresses and the fixed IPv6 header: a zero-copy view for parsing and a
// builder that writes exact bytes. Teredo carries no extension headers in its
// control traffic, so the view stops at the fixed header and hands the rest on.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/result.hpp"

namespace teredo::wire {

struct Ipv6Address {
  std::array<std::uint8_t, 16> bytes{};

  friend constexpr bool operator==(const Ipv6Address&, const Ipv6Address&) noexcept = default;
  [[nodiscard]] std::uint16_t group(int i) const noexcept {
    return static_cast<std::uint16_t>((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  }
  [[nodiscard]] bool is_link_local() const noexcept {
    return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
  }
  [[nodiscard]] bool is_multicast() const noexcept { return bytes[0] == 0xff; }
};

// RFC 4291 text in, RFC 5952 canonical text out.
Result<Ipv6Address> parse_ipv6(std::string_view text) noexcept;
std::string to_string(const Ipv6Address& address);

inline constexpr std::size_t kIpv6HeaderSize = 40;
inline constexpr std::uint8_t kNextHeaderIcmpv6 = 58;
inline constexpr std::uint8_t kNextHeaderNone = 59;  // "no next header": bubbles
inline constexpr std::uint8_t kNextHeaderUdp = 17;

struct Ipv6Header {
  std::uint8_t traffic_class = 0;
  std::uint32_t flow_label = 0;  // 20 bits
  std::uint16_t payload_length = 0;
  std::uint8_t next_header = kNextHeaderNone;
  std::uint8_t hop_limit = 255;
  Ipv6Address source;
  Ipv6Address destination;
};

// An IPv6 packet inside a buffer: the header fields, the payload the header
// announces, and everything after it (RFC 6081 §4 calls those bytes trailers).
struct Ipv6PacketView {
  Ipv6Header header;
  Bytes packet;   // header + payload, exactly 40 + payload_length bytes
  Bytes payload;  // payload_length bytes
  Bytes trailer;  // bytes after the payload in the buffer
};

// Parses the fixed header. Errors: not_ipv6, truncated_ipv6_header,
// truncated_ipv6_payload (payload length runs past the buffer).
Result<Ipv6PacketView> parse_ipv6_packet(Bytes buffer) noexcept;

// Writes header + payload; payload_length is taken from the payload size.
void append_ipv6_packet(ByteVector& out, const Ipv6Header& header, Bytes payload);
ByteVector build_ipv6_packet(const Ipv6Header& header, Bytes payload);

}  // namespace teredo::wire
