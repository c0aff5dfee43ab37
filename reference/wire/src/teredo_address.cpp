#include "teredo/wire/teredo_address.hpp"

namespace teredo::wire {

namespace {
void put_u16(Ipv6Address& a, int at, std::uint16_t v) noexcept {
  a.bytes[at] = static_cast<std::uint8_t>(v >> 8);
  a.bytes[at + 1] = static_cast<std::uint8_t>(v);
}
void put_u32(Ipv6Address& a, int at, std::uint32_t v) noexcept {
  put_u16(a, at, static_cast<std::uint16_t>(v >> 16));
  put_u16(a, at + 2, static_cast<std::uint16_t>(v));
}
std::uint32_t get_u32(const Ipv6Address& a, int at) noexcept {
  return (std::uint32_t{a.bytes[at]} << 24) | (std::uint32_t{a.bytes[at + 1]} << 16) |
         (std::uint32_t{a.bytes[at + 2]} << 8) | a.bytes[at + 3];
}
}  // namespace

Ipv6Address TeredoAddress::to_ipv6() const noexcept {
  Ipv6Address a = teredo_prefix(server);
  put_u16(a, 8, flags);
  put_u16(a, 10, static_cast<std::uint16_t>(~mapped_port));  // §4: port and IPv4 bit-inverted
  put_u32(a, 12, ~mapped_ipv4.value);
  return a;
}

bool is_teredo(const Ipv6Address& address) noexcept { return get_u32(address, 0) == 0x20010000; }

Result<TeredoAddress> parse_teredo(const Ipv6Address& address) noexcept {
  if (!is_teredo(address)) return ParseError::not_teredo_prefix;
  TeredoAddress t;
  t.server = Ipv4Address{get_u32(address, 4)};
  t.flags = address.group(4);
  t.mapped_port = static_cast<std::uint16_t>(~address.group(5));
  t.mapped_ipv4 = Ipv4Address{~get_u32(address, 12)};
  return t;
}

Result<TeredoAddress> parse_teredo(std::string_view text) noexcept {
  const auto address = parse_ipv6(text);
  if (!address) return address.error();
  return parse_teredo(*address);
}

Ipv6Address teredo_prefix(Ipv4Address server) noexcept {
  Ipv6Address a;
  put_u32(a, 0, 0x20010000);
  put_u32(a, 4, server.value);
  return a;
}

}  // namespace teredo::wire
