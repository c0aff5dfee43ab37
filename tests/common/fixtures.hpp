// Fixture helpers shared by the unit tests. They are written independently of
// reference/wire on purpose: fixtures are decoded with this file's own hex
// reader and glibc's inet_pton, never with the code under test, so a codec bug
// cannot make both the fixture and the check wrong in the same way.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"

namespace teredo::test {

// Hex digits; spaces, tabs, newlines and '|' may stand between bytes (never
// inside one). Throws on anything else: GoogleTest reports it as a failure.
inline wire::ByteVector hex(std::string_view text) {
  const auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  wire::ByteVector out;
  int high = -1;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '|') {
      if (high >= 0) throw std::invalid_argument("hex fixture: separator inside a byte");
      continue;
    }
    const int v = value(c);
    if (v < 0) throw std::invalid_argument("hex fixture: not a hex digit");
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>((high << 4) | v));
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("hex fixture: odd number of digits");
  return out;
}

// Lower-case hex, for readable failure messages (EXPECT_EQ(hexstr(x), "...")).
inline std::string hexstr(wire::Bytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0x0F]);
  }
  return s;
}

// An IPv6 address from text through glibc, not through parse_ipv6.
inline wire::Ipv6Address v6(const char* text) {
  wire::Ipv6Address a;
  if (inet_pton(AF_INET6, text, a.bytes.data()) != 1) {
    throw std::invalid_argument(std::string("v6 fixture: bad address ") + text);
  }
  return a;
}

// An IPv4 address from its four octets, without Ipv4Address::from_octets.
constexpr wire::Ipv4Address v4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return wire::Ipv4Address{(a << 24) | (b << 16) | (c << 8) | d};
}

inline wire::ByteVector concat(std::initializer_list<wire::Bytes> parts) {
  wire::ByteVector out;
  for (wire::Bytes p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace teredo::test
