// The client under test, three ways:
//  - directly (Outbox in, Outbox out) with router advertisements written by
//    hand here (make_ra: bytes laid out from RFC 4861 §4.2 and RFC 4380
//    §5.1.1, checksum and HMAC from node_test_util.hpp, not from wire);
//  - on a tiny in-memory Internet (ClientNet) with a virtual clock, the real
//    reference Server (and Relay), and NAT boxes with RFC 4787 behaviours, so
//    qualification meets cone, restricted and symmetric NATs end to end.
// The addresses are those of server_fixture.hpp: server 192.0.2.45 (and .46),
// a client whose mapping is 198.51.100.7:40000, i.e. 2001:0:c000:22d:
// <flags>:63bf:39cc:9bf8 (requirements.md, worked example).
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "relay_fixture.hpp"
#include "teredo/node/client.hpp"
#include "teredo/wire/datagram.hpp"

namespace teredo::node::test {

// A deterministic byte stream (splitmix64) for nonces and flag bits.
inline RandomSource seeded_random(std::uint64_t seed = 1) {
  auto state = std::make_shared<std::uint64_t>(seed);
  return [state](std::span<std::uint8_t> out) {
    for (auto& b : out) {
      *state += 0x9E3779B97F4A7C15ULL;
      std::uint64_t z = *state;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      b = static_cast<std::uint8_t>((z ^ (z >> 31)) >> 56);
    }
  };
}
inline RandomSource fixed_random(std::uint8_t byte) {
  return [byte](std::span<std::uint8_t> out) { std::fill(out.begin(), out.end(), byte); };
}

// A client on a public address (no NAT): its mapping is its local endpoint,
// kClient = 198.51.100.7:40000. Flags 0 so its address is client_teredo().
inline ClientConfig client_config() {
  ClientConfig c;
  c.local = kClient;
  c.server = kPrimary;
  c.server_secondary = kSecondary;
  c.random = seeded_random();
  c.random_flags = false;
  return c;
}

inline wire::Ipv6Address server_ll() { return v6("fe80::8000:f227:3fff:fdd2"); }  // R4380-5.3.2-03
inline wire::Ipv6Address all_nodes_v6() { return v6("ff02::1"); }

// What an RS carried, read back with the wire parser.
struct SentRs {
  UdpEndpoint from, to;
  wire::Ipv6Address source, destination;
  std::uint8_t hop_limit = 0;
  std::uint8_t icmp_type = 0;
  bool has_auth = false;
  ByteVector client_id, mac;
  wire::Nonce nonce{};
  std::uint8_t confirmation = 0xFF;
  ByteVector packet;
};
inline SentRs parse_rs(const OutgoingDatagram& d) {
  SentRs rs;
  rs.from = d.from;
  rs.to = d.to;
  const auto parsed = wire::parse_datagram(d.payload);
  if (!parsed) throw std::runtime_error("not a Teredo datagram");
  rs.source = parsed->ipv6.header.source;
  rs.destination = parsed->ipv6.header.destination;
  rs.hop_limit = parsed->ipv6.header.hop_limit;
  rs.icmp_type = parsed->ipv6.payload.empty() ? 0 : parsed->ipv6.payload[0];
  rs.packet.assign(parsed->ipv6.packet.begin(), parsed->ipv6.packet.end());
  if (parsed->authentication) {
    rs.has_auth = true;
    rs.client_id.assign(parsed->authentication->client_id.begin(), parsed->authentication->client_id.end());
    rs.mac.assign(parsed->authentication->authentication_value.begin(),
                  parsed->authentication->authentication_value.end());
    rs.nonce = parsed->authentication->nonce;
    rs.confirmation = parsed->authentication->confirmation;
  }
  return rs;
}

// An RA as the server would answer `rs`, with the knobs negative tests turn.
struct RaSpec {
  UdpEndpoint mapping = kClient;
  bool origin = true;
  bool auth = true;  // echo the RS nonce in an authentication header
  bool flip_nonce = false;
  std::uint8_t confirmation = 0;
  const EVP_MD* md = nullptr;  // with a secret: an HMAC
  std::string secret;
  bool corrupt_mac = false;
  std::uint8_t hop_limit = 255;
  std::optional<wire::Ipv6Address> source;       // default: the server's link-local
  std::optional<wire::Ipv6Address> destination;  // default: the RS source
  std::uint8_t code = 0;
  bool corrupt_checksum = false;
  std::vector<std::string> prefixes = {"2001:0:c000:22d::"};
  std::uint8_t prefix_length = 64;
  bool zero_length_option = false;
  bool truncated = false;  // a 12-octet RA: under RFC 2461's 16
};

inline ByteVector make_ra(const SentRs& rs, const RaSpec& spec = {}) {
  // RFC 4861 §4.2: type 134, code, checksum, cur hop limit, flags, router
  // lifetime, reachable time, retrans timer; then options.
  ByteVector icmp = hex("86 00 0000 00 00 0000 00000000 00000000");
  icmp[1] = spec.code;
  if (spec.truncated) icmp.resize(12);
  for (const std::string& p : spec.prefixes) {
    // Prefix information: type 3, length 4, prefix length, flags L|A,
    // lifetimes infinite, reserved, prefix.
    const ByteVector opt = hex("03 04 40 c0 ffffffff ffffffff 00000000");
    icmp.insert(icmp.end(), opt.begin(), opt.end());
    icmp[icmp.size() - 14] = spec.prefix_length;
    const auto a = v6(p.c_str());
    icmp.insert(icmp.end(), a.bytes.begin(), a.bytes.end());
  }
  const ByteVector mtu = hex("05 01 0000 00000500");
  if (!spec.truncated) icmp.insert(icmp.end(), mtu.begin(), mtu.end());
  if (spec.zero_length_option) {
    const ByteVector bad = hex("05 00 0000 00000000");
    icmp.insert(icmp.end(), bad.begin(), bad.end());
  }
  ByteVector ra = hex("6000 0000 0000 3a 00");
  ra[4] = static_cast<std::uint8_t>(icmp.size() >> 8);
  ra[5] = static_cast<std::uint8_t>(icmp.size());
  ra[7] = spec.hop_limit;
  const auto src = spec.source.value_or(server_ll());
  const auto dst = spec.destination.value_or(rs.source);
  ra.insert(ra.end(), src.bytes.begin(), src.bytes.end());
  ra.insert(ra.end(), dst.bytes.begin(), dst.bytes.end());
  ra.insert(ra.end(), icmp.begin(), icmp.end());
  fix_icmpv6_checksum(ra);
  if (spec.corrupt_checksum) ra[43] ^= 0x01;

  // RFC 4380 §5.1.1: 00 00 ~port ~IPv4.
  ByteVector origin;
  if (spec.origin) {
    const auto p = static_cast<std::uint16_t>(~spec.mapping.port);
    const std::uint32_t a = ~spec.mapping.address.value;
    origin = {0, 0, static_cast<std::uint8_t>(p >> 8), static_cast<std::uint8_t>(p),
              static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
              static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
  }
  ByteVector auth;
  if (spec.auth) {
    wire::Nonce nonce = rs.nonce;
    if (spec.flip_nonce) nonce[7] ^= 0x01;
    ByteVector mac;
    if (spec.md != nullptr) {
      // §5.2.2: HMAC over nonce | confirmation | origin | IPv6 packet.
      mac = hmac(spec.md, spec.secret, concat({nonce, ByteVector{spec.confirmation}, origin, ra}));
      if (spec.corrupt_mac) mac[0] ^= 0x80;
    }
    auth = auth_header(rs.client_id, mac, nonce, spec.confirmation);
  }
  return concat({auth, origin, ra});
}

// Direct driving: every call returns what the client emitted.
struct Driver {
  Client client;
  Time now{0};
  explicit Driver(ClientConfig config = client_config()) : client(std::move(config)) {}
  Outbox start() {
    Outbox out;
    client.start(now, out);
    return out;
  }
  Outbox at(Time t) {
    now = t;
    Outbox out;
    client.handle_timeout(now, out);
    return out;
  }
  Outbox receive(UdpEndpoint from, Bytes payload) {
    Outbox out;
    client.handle_datagram(now, from, payload, out);
    return out;
  }
  Outbox tun(Bytes packet) {
    Outbox out;
    client.handle_ipv6(now, packet, out);
    return out;
  }
  // Start, answer the primary RS and the secondary RS with `mapping`.
  void qualify(UdpEndpoint mapping = kClient) {
    Outbox out = start();
    const SentRs first = parse_rs(out.datagrams.at(0));
    RaSpec spec;
    spec.mapping = mapping;
    out = receive(kPrimaryEp, make_ra(first, spec));
    if (!client.config().check_symmetric) return;
    const SentRs second = parse_rs(out.datagrams.at(0));
    out = receive(kSecondaryEp, make_ra(second, spec));
  }
};

inline std::vector<OutgoingDatagram> to(const Outbox& out, UdpEndpoint destination) {
  std::vector<OutgoingDatagram> found;
  for (const auto& d : out.datagrams) {
    if (d.to == destination) found.push_back(d);
  }
  return found;
}
inline bool has_event(const Outbox& out, std::string_view code) {
  return std::any_of(out.events.begin(), out.events.end(), [&](const Event& e) { return e.code == code; });
}

// A bubble, by hand: version 6, payload length 0, next header 59, hop limit.
inline ByteVector bubble(const wire::Ipv6Address& src, const wire::Ipv6Address& dst, std::uint8_t hop = 255) {
  ByteVector b = hex("6000 0000 0000 3b 00");
  b[7] = hop;
  return concat({b, src.bytes, dst.bytes});
}
// 00 00 ~port ~IPv4
inline ByteVector origin_of(UdpEndpoint e) {
  const auto p = static_cast<std::uint16_t>(~e.port);
  const std::uint32_t a = ~e.address.value;
  return {0, 0, static_cast<std::uint8_t>(p >> 8), static_cast<std::uint8_t>(p),
          static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
          static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
}

}  // namespace teredo::node::test
