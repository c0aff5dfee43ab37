#include "teredo/wire/ipv6.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace teredo::wire {

Result<Ipv6Address> parse_ipv6(std::string_view text) noexcept {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (text.empty() || text.size() >= sizeof buffer) return ParseError::bad_ipv6_text;
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
  if (buffer.empty() || (buffer[0] >> 4) != 6) return ParseError::not_ipv6;
  if (buffer.size() < kIpv6HeaderSize) return ParseError::truncated_ipv6_header;
  Ipv6PacketView view;
  Ipv6Header& h = view.header;
  const std::uint32_t first = (std::uint32_t{buffer[0]} << 24) | (std::uint32_t{buffer[1]} << 16) |
                              (std::uint32_t{buffer[2]} << 8) | buffer[3];
  h.traffic_class = static_cast<std::uint8_t>(first >> 20);
  h.flow_label = first & 0xFFFFF;
  h.payload_length = static_cast<std::uint16_t>((buffer[4] << 8) | buffer[5]);
  h.next_header = buffer[6];
  h.hop_limit = buffer[7];
  std::memcpy(h.source.bytes.data(), buffer.data() + 8, 16);
  std::memcpy(h.destination.bytes.data(), buffer.data() + 24, 16);
  const std::size_t total = kIpv6HeaderSize + h.payload_length;
  if (buffer.size() < total) return ParseError::truncated_ipv6_payload;
  view.packet = buffer.first(total);
  view.payload = buffer.subspan(kIpv6HeaderSize, h.payload_length);
  view.trailer = buffer.subspan(total);
  return view;
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
