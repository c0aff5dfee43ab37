#include "teredo/wire/trailer.hpp"

namespace teredo::wire {

bool TrailerWalk::next(Trailer& out) noexcept {
  if (malformed_ || reader_.remaining() == 0) return false;
  std::uint8_t type = 0;
  std::uint8_t length = 0;
  Bytes value;
  if (!reader_.u8(type) || !reader_.u8(length) || !reader_.take(length, value)) {
    malformed_ = true;
    reader_ = ByteReader(Bytes{});  // nothing after a malformed trailer is read
    return false;
  }
  out = Trailer{type, value};
  return true;
}

bool find_trailer(Bytes trailers, std::uint8_t type, Trailer& out) noexcept {
  TrailerWalk walk(trailers);
  Trailer t;
  while (walk.next(t)) {
    if (t.type == type) {
      out = t;
      return true;
    }
  }
  out = Trailer{};
  return false;
}

Result<std::uint32_t> parse_nonce_trailer(const Trailer& t) noexcept {
  if (t.type != kTrailerNonce) return ParseError::wrong_trailer_type;
  if (t.value.size() != 4) return ParseError::bad_trailer_length;  // §4.2: Length 4
  return (std::uint32_t{t.value[0]} << 24) | (std::uint32_t{t.value[1]} << 16) | (std::uint32_t{t.value[2]} << 8) |
         std::uint32_t{t.value[3]};
}

Result<AlternateAddresses> parse_alternate_address_trailer(const Trailer& t) noexcept {
  if (t.type != kTrailerAlternateAddress) return ParseError::wrong_trailer_type;
  // §4.3: "Length ... MUST be at least 8 and no more than 26", 2 reserved
  // bytes then 6 bytes per entry.
  if (t.value.size() < 8 || t.value.size() > 26 || (t.value.size() - 2) % 6 != 0) {
    return ParseError::bad_trailer_length;
  }
  AlternateAddresses out;
  ByteReader r(t.value);
  (void)r.u16(out.reserved);  // sent as 0, ignored on receipt
  while (r.remaining() >= 6) {
    std::uint32_t address = 0;
    std::uint16_t port = 0;
    (void)r.u32(address);
    (void)r.u16(port);
    const Ipv4Address a{address};
    // "a valid unicast IPv4 address": global, or a private or link-local one
    // behind the NAT (the hairpinning extension lists the client's own LAN
    // address); not this-network, loopback, the 6to4 anycast, multicast or
    // broadcast.
    const Ipv4Scope scope = classify_ipv4(a);
    if (scope != Ipv4Scope::global_unicast && scope != Ipv4Scope::private_use && scope != Ipv4Scope::link_local) {
      return ParseError::bad_alternate_address;
    }
    if (port == 0) return ParseError::bad_alternate_address;  // "MUST NOT be zero"
    out.entries[out.count++] = AlternateAddress{a, port};
  }
  return out;
}

Result<std::uint8_t> parse_neighbor_discovery_trailer(const Trailer& t) noexcept {
  if (t.type != kTrailerNeighborDiscovery) return ParseError::wrong_trailer_type;
  if (t.value.size() != 4) return ParseError::bad_trailer_length;  // §4.4: Length 4
  const std::uint8_t type = t.value[0];
  if (type != kDiscoverySolicitation && type != kDiscoveryAdvertisement) return ParseError::bad_discovery_type;
  return type;  // the 3 reserved bytes are ignored on receipt
}

Result<std::uint16_t> parse_random_port_trailer(const Trailer& t) noexcept {
  if (t.type != kTrailerRandomPort) return ParseError::wrong_trailer_type;
  if (t.value.size() != 2) return ParseError::bad_trailer_length;  // §4.5: Length 2
  return static_cast<std::uint16_t>((t.value[0] << 8) | t.value[1]);
}

void append_nonce_trailer(ByteVector& out, std::uint32_t nonce) {
  ByteWriter w(out);
  w.u8(kTrailerNonce);
  w.u8(4);
  w.u32(nonce);
}

bool append_alternate_address_trailer(ByteVector& out, const AlternateAddress* entries, std::size_t count) {
  if (count == 0 || count > AlternateAddresses::kMax) return false;
  ByteWriter w(out);
  w.u8(kTrailerAlternateAddress);
  w.u8(static_cast<std::uint8_t>(2 + 6 * count));
  w.u16(0);  // Reserved: sent as 0
  for (std::size_t i = 0; i < count; ++i) {
    w.u32(entries[i].address.value);
    w.u16(entries[i].port);
  }
  return true;
}

void append_neighbor_discovery_trailer(ByteVector& out, std::uint8_t discovery_type) {
  ByteWriter w(out);
  w.u8(kTrailerNeighborDiscovery);
  w.u8(4);
  w.u8(discovery_type);
  w.u8(0);
  w.u8(0);
  w.u8(0);
}

void append_random_port_trailer(ByteVector& out, std::uint16_t port) {
  ByteWriter w(out);
  w.u8(kTrailerRandomPort);
  w.u8(2);
  w.u16(port);
}

}  // namespace teredo::wire
