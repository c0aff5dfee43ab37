#include "teredo/wire/ipv4.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace teredo::wire {

Result<Ipv4Address> parse_ipv4(std::string_view text) noexcept {
  char buffer[INET_ADDRSTRLEN] = {};
  // inet_pton reads up to a NUL: one inside the text would hide what follows it.
  if (text.empty() || text.size() >= sizeof buffer || text.find('\0') != std::string_view::npos) {
    return ParseError::bad_ipv4_text;
  }
  std::memcpy(buffer, text.data(), text.size());
  in_addr addr{};
  if (inet_pton(AF_INET, buffer, &addr) != 1) return ParseError::bad_ipv4_text;
  return Ipv4Address{ntohl(addr.s_addr)};
}

std::string to_string(Ipv4Address address) {
  const auto o = address.octets();
  std::string text;
  text.reserve(15);
  for (int i = 0; i < 4; ++i) {
    if (i) text.push_back('.');
    text += std::to_string(o[i]);
  }
  return text;
}

Ipv4Scope classify_ipv4(Ipv4Address address) noexcept {
  const std::uint32_t a = address.value;
  const auto in = [a](std::uint32_t network, int length) {
    const std::uint32_t mask = length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
    return (a & mask) == network;
  };
  // RFC 4380 §5.2.4 lists these ranges as not global.
  if (a == 0xFFFFFFFF) return Ipv4Scope::broadcast;
  if (in(0x00000000, 8)) return Ipv4Scope::this_network;
  if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16)) return Ipv4Scope::private_use;
  if (in(0x7F000000, 8)) return Ipv4Scope::loopback;
  if (in(0xA9FE0000, 16)) return Ipv4Scope::link_local;
  if (in(0xC0586300, 24)) return Ipv4Scope::relay_anycast;
  if (in(0xE0000000, 4)) return Ipv4Scope::multicast;
  return Ipv4Scope::global_unicast;
}

std::string_view to_string(Ipv4Scope scope) noexcept {
  switch (scope) {
    case Ipv4Scope::global_unicast: return "global_unicast";
    case Ipv4Scope::this_network: return "this_network";
    case Ipv4Scope::private_use: return "private_use";
    case Ipv4Scope::loopback: return "loopback";
    case Ipv4Scope::link_local: return "link_local";
    case Ipv4Scope::relay_anycast: return "relay_anycast";
    case Ipv4Scope::multicast: return "multicast";
    case Ipv4Scope::broadcast: return "broadcast";
  }
  return "unknown";
}

}  // namespace teredo::wire
