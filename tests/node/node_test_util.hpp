// Helpers for the node unit tests. Expected values are written out by hand
// from the RFCs or computed here independently of reference/node: addresses
// through glibc's inet_pton, hex through this file's reader, the ICMPv6
// checksum by a separate RFC 1071 loop, MACs by OpenSSL's one-shot HMAC().
// reference/wire builds inputs and parses outputs (it has its own tests).
#pragma once

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/fixtures.hpp"
#include "teredo/node/endpoint.hpp"
#include "teredo/node/outbox.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"

namespace teredo::node::test {

using wire::ByteVector;
using wire::Bytes;

using teredo::test::concat;
using teredo::test::hex;
using teredo::test::hexstr;
using teredo::test::v4;
using teredo::test::v6;

constexpr UdpEndpoint ep(wire::Ipv4Address a, std::uint16_t port) { return UdpEndpoint{a, port}; }

// RFC 1071 over the RFC 8200 §8.1 pseudo-header, written independently of
// reference/wire: returns 0 for a message whose checksum is right.
inline std::uint16_t icmpv6_sum(Bytes ipv6_packet) {
  if (ipv6_packet.size() < 40) throw std::invalid_argument("short IPv6 packet");
  std::uint64_t sum = 0;
  const auto add = [&sum](Bytes b) {
    for (std::size_t i = 0; i < b.size(); i += 2) {
      sum += static_cast<std::uint32_t>(b[i] << 8) | (i + 1 < b.size() ? b[i + 1] : 0);
    }
  };
  add(ipv6_packet.subspan(8, 32));  // source and destination
  const std::size_t length = ipv6_packet.size() - 40;
  sum += length >> 16;
  sum += length & 0xFFFF;
  sum += 58;
  add(ipv6_packet.subspan(40));
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

// Writes the checksum of an ICMPv6 packet whose checksum field is zero.
inline void fix_icmpv6_checksum(ByteVector& ipv6_packet) {
  ipv6_packet.at(42) = 0;
  ipv6_packet.at(43) = 0;
  const std::uint16_t c = icmpv6_sum(ipv6_packet);
  ipv6_packet[42] = static_cast<std::uint8_t>(c >> 8);
  ipv6_packet[43] = static_cast<std::uint8_t>(c);
}

// HMAC over nonce | confirmation | origin | IPv6 packet (RFC 4380 §5.2.2).
inline ByteVector hmac(const EVP_MD* md, std::string_view secret, Bytes message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(md, secret.data(), static_cast<int>(secret.size()), message.data(), message.size(), out,
           &length) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return ByteVector(out, out + length);
}

inline ByteVector bytes_of(std::string_view s) { return ByteVector(s.begin(), s.end()); }

// Events of a given code in an outbox.
inline std::vector<Event> events_with(const Outbox& out, std::string_view code) {
  std::vector<Event> found;
  for (const Event& e : out.events) {
    if (e.code == code) found.push_back(e);
  }
  return found;
}
inline bool has_drop(const Outbox& out, std::string_view code, std::string_view requirement) {
  for (const Event& e : out.events) {
    if (e.kind == EventKind::drop && e.code == code && e.requirement == requirement) return true;
  }
  return false;
}
inline std::string dump(const Outbox& out) {
  std::string s;
  for (const Event& e : out.events) s += to_string(e) + "\n";
  return s;
}

}  // namespace teredo::node::test
