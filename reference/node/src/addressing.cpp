#include "teredo/node/addressing.hpp"

#include <charconv>
#include <cstring>

namespace teredo::node {

wire::Ipv6Address all_routers() noexcept {
  wire::Ipv6Address a;
  a.bytes[0] = 0xff;
  a.bytes[1] = 0x02;
  a.bytes[15] = 0x02;
  return a;
}

wire::Ipv6Address all_nodes() noexcept {
  wire::Ipv6Address a;
  a.bytes[0] = 0xff;
  a.bytes[1] = 0x02;
  a.bytes[15] = 0x01;
  return a;
}

bool is_global_scope(const wire::Ipv6Address& address) noexcept {
  const auto& b = address.bytes;
  bool zero_to_9 = true;  // the first ten bytes are zero
  for (int i = 0; i < 10; ++i) zero_to_9 = zero_to_9 && b[i] == 0;
  if (zero_to_9) {
    if (b[10] == 0xff && b[11] == 0xff) return false;  // ::ffff:0:0/96 IPv4-mapped
    bool rest_zero = b[10] == 0 && b[11] == 0 && b[12] == 0 && b[13] == 0 && b[14] == 0;
    if (rest_zero && (b[15] == 0 || b[15] == 1)) return false;  // :: and ::1
  }
  if (b[0] == 0xff) return false;                          // ff00::/8 multicast
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;  // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;  // fec0::/10 site-local
  return true;
}

wire::Ipv6Address server_link_local(wire::Ipv4Address server, std::uint16_t port) noexcept {
  wire::Ipv6Address a;
  a.bytes[0] = 0xfe;
  a.bytes[1] = 0x80;
  a.bytes[8] = 0x80;  // flags: cone bit set (R4380-5.3.2-03, R5991-3.2-03)
  a.bytes[9] = 0x00;
  const auto p = static_cast<std::uint16_t>(~port);
  a.bytes[10] = static_cast<std::uint8_t>(p >> 8);
  a.bytes[11] = static_cast<std::uint8_t>(p);
  const std::uint32_t v = ~server.value;
  a.bytes[12] = static_cast<std::uint8_t>(v >> 24);
  a.bytes[13] = static_cast<std::uint8_t>(v >> 16);
  a.bytes[14] = static_cast<std::uint8_t>(v >> 8);
  a.bytes[15] = static_cast<std::uint8_t>(v);
  return a;
}

wire::Ipv6Address client_link_local(wire::Ipv4Address local, std::uint16_t port, bool cone) noexcept {
  wire::Ipv6Address a = server_link_local(local, port);
  a.bytes[8] = cone ? 0x80 : 0x00;
  return a;
}

bool Ipv6Prefix::contains(const wire::Ipv6Address& candidate) const noexcept {
  const int full = length / 8;
  if (std::memcmp(address.bytes.data(), candidate.bytes.data(), static_cast<std::size_t>(full)) != 0) {
    return false;
  }
  const int bits = length % 8;
  if (bits == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - bits));
  return (address.bytes[full] & mask) == (candidate.bytes[full] & mask);
}

std::optional<Ipv6Prefix> parse_ipv6_prefix(std::string_view text) noexcept {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto address = wire::parse_ipv6(text.substr(0, slash));
  if (!address) return std::nullopt;
  const std::string_view digits = text.substr(slash + 1);
  unsigned length = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
  if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() || length > 128) {
    return std::nullopt;
  }
  return Ipv6Prefix{*address, static_cast<std::uint8_t>(length)};
}

std::string to_string(const Ipv6Prefix& prefix) {
  return wire::to_string(prefix.address) + "/" + std::to_string(prefix.length);
}

namespace {
constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept { return (x << b) | (x >> (64 - b)); }

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct SipState {
  std::uint64_t v0, v1, v2, v3;
  void round() noexcept {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }
  void compress(std::uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};
}  // namespace

std::uint64_t siphash24(const SipKey& key, wire::Bytes message) noexcept {
  const std::uint64_t k0 = load_le64(key.data());
  const std::uint64_t k1 = load_le64(key.data() + 8);
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
             k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
  const std::size_t n = message.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) s.compress(load_le64(message.data() + i));
  std::uint64_t last = static_cast<std::uint64_t>(n & 0xFF) << 56;
  for (std::size_t j = 0; i + j < n; ++j) last |= std::uint64_t{message[i + j]} << (8 * j);
  s.compress(last);
  s.v2 ^= 0xFF;
  for (int r = 0; r < 4; ++r) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace teredo::node
