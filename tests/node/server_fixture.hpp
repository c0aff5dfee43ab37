// A server under test with the documentation addresses of the requirement
// catalog's worked example (../shared/rfc/requirements.md, "Worked
// examples"): server 192.0.2.45, client mapped to 198.51.100.7:40000.
#pragma once

#include <optional>

#include "node_test_util.hpp"
#include "teredo/node/server.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/nd.hpp"

namespace teredo::node::test {

inline constexpr wire::Ipv4Address kPrimary = v4(192, 0, 2, 45);
inline constexpr wire::Ipv4Address kSecondary = v4(192, 0, 2, 46);
inline constexpr UdpEndpoint kPrimaryEp{kPrimary, 3544};
inline constexpr UdpEndpoint kSecondaryEp{kSecondary, 3544};
inline constexpr UdpEndpoint kClient{v4(198, 51, 100, 7), 40000};

// The client's addresses: flags 0 (restricted) and 0x8000 (cone), port
// 40000 = 0x9C40 -> ~ = 63bf, 198.51.100.7 = c6336407 -> ~ = 39cc9bf8.
inline wire::Ipv6Address client_teredo() { return v6("2001:0:c000:22d:0:63bf:39cc:9bf8"); }
inline wire::Ipv6Address rs_source(bool cone) {
  return cone ? v6("fe80::8000:63bf:39cc:9bf8") : v6("fe80::63bf:39cc:9bf8");
}
inline wire::Ipv6Address all_routers_v6() { return v6("ff02::2"); }

inline ServerConfig server_config() {
  ServerConfig c;
  c.primary = kPrimary;
  c.secondary = kSecondary;
  return c;
}

inline ByteVector rs_packet(bool cone, std::uint8_t hop_limit = 255) {
  return wire::build_router_solicitation(rs_source(cone), all_routers_v6(), {}, hop_limit);
}

// [00 01 ID-len AU-len id value nonce conf] written by hand (RFC 4380 §5.1.1).
inline ByteVector auth_header(Bytes id, Bytes value, Bytes nonce, std::uint8_t confirmation = 0) {
  ByteVector a{0x00, 0x01, static_cast<std::uint8_t>(id.size()), static_cast<std::uint8_t>(value.size())};
  a.insert(a.end(), id.begin(), id.end());
  a.insert(a.end(), value.begin(), value.end());
  a.insert(a.end(), nonce.begin(), nonce.end());
  a.push_back(confirmation);
  return a;
}

inline Outbox deliver(Server& server, UdpEndpoint local, UdpEndpoint from, Bytes payload) {
  Outbox out;
  server.handle_datagram(Time{0}, local, from, payload, out);
  return out;
}

}  // namespace teredo::node::test
