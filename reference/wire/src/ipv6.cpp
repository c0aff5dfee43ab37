#include "teredo/wire/ipv6.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "internal.hpp"

namespace teredo::wire {

Result<Ipv6Address> parse_ipv6(std::string_view text) noexcept {
  char buffer[INET6_ADDRSTRLEN] = {};
  // inet_pton reads up to a NUL: one inside the text would hide what follows it.
  if (text.empty() || text.size() >= sizeof buffer || text.find('\0') != std::string_view::npos) {
    return ParseError::bad_ipv6_text;
  }
  std::memcpy(buffer, text.data(), text.size());
  Ipv6Address address;
  if (inet_pton(AF_INET6, buffer, address.bytes.data()) != 1) return ParseError::bad_ipv6_text;
  return address;
}

std::string to_string(const Ipv6Address& address) {
  // glibc's inet_ntop writes RFC 5952 text (longest zero run compressed,
  // lower case); the buffer is the maximum size, so it cannot overflow.
  char buffer[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, address.bytes.data(), buffer, sizeof buffer) == nullptr) return {};
  return buffer;
}

Result<Ipv6PacketView> parse_ipv6_packet(Bytes buffer) noexcept {
  return detail::parse_in_place<Ipv6PacketView>(
      [buffer](Ipv6PacketView& view) { return detail::parse_ipv6_packet_into(buffer, view); });
}

void append_ipv6_packet(ByteVector& out, const Ipv6Header& header, Bytes payload) {
  ByteWriter w(out);
  w.u32((std::uint32_t{6} << 28) | (std::uint32_t{header.traffic_class} << 20) |
        (header.flow_label & 0xFFFFF));
  w.u16(static_cast<std::uint16_t>(payload.size()));
  w.u8(header.next_header);
  w.u8(header.hop_limit);
  w.bytes(header.source.bytes);
  w.bytes(header.destination.bytes);
  w.bytes(payload);
}

ByteVector build_ipv6_packet(const Ipv6Header& header, Bytes payload) {
  ByteVector out;
  out.reserve(kIpv6HeaderSize + payload.size());
  append_ipv6_packet(out, header, payload);
  return out;
}

}  // namespace teredo::wire
