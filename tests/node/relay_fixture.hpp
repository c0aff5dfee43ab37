// A relay under test at 203.0.113.10:3544 with native address 2001:db8:1::1,
// serving 2001:db8::/32, next to the server of server_fixture.hpp.
#pragma once

#include "network.hpp"
#include "server_fixture.hpp"
#include "teredo/node/relay.hpp"

namespace teredo::node::test {

inline constexpr UdpEndpoint kRelayEp{v4(203, 0, 113, 10), 3544};
inline wire::Ipv6Address relay_v6() { return v6("2001:db8:1::1"); }
inline wire::Ipv6Address native_host() { return v6("2001:db8:2::5"); }
// ~3544 = f227, ~203.0.113.10 (cb00710a) = 34ff8ef5
inline const char* const kRelayOrigin = "0000 f227 34ff 8ef5";

inline RelayConfig relay_config() {
  RelayConfig c;
  c.local = kRelayEp;
  c.ipv6_address = relay_v6();
  c.served_prefixes = {Ipv6Prefix{v6("2001:db8::"), 32}};
  return c;
}

inline ByteVector echo(const wire::Ipv6Address& src, const wire::Ipv6Address& dst, std::size_t data = 8,
                       std::uint16_t sequence = 1) {
  wire::EchoMessage e;
  e.identifier = 0x4242;
  e.sequence = sequence;
  const ByteVector bytes(data, static_cast<std::uint8_t>(sequence));
  e.data = bytes;
  return wire::build_echo(src, dst, 64, e);
}

// 2001:0:<server>:<flags>:~port:~ipv4, assembled by hand.
inline wire::Ipv6Address teredo_address(wire::Ipv4Address server, std::uint16_t flags, UdpEndpoint mapped) {
  wire::Ipv6Address a;
  a.bytes = {0x20, 0x01, 0x00, 0x00,
             static_cast<std::uint8_t>(server.value >> 24), static_cast<std::uint8_t>(server.value >> 16),
             static_cast<std::uint8_t>(server.value >> 8), static_cast<std::uint8_t>(server.value),
             static_cast<std::uint8_t>(flags >> 8), static_cast<std::uint8_t>(flags),
             static_cast<std::uint8_t>(~mapped.port >> 8), static_cast<std::uint8_t>(~mapped.port),
             static_cast<std::uint8_t>(~mapped.address.value >> 24),
             static_cast<std::uint8_t>(~mapped.address.value >> 16),
             static_cast<std::uint8_t>(~mapped.address.value >> 8),
             static_cast<std::uint8_t>(~mapped.address.value)};
  return a;
}

inline Outbox from_tun(Relay& relay, Time now, Bytes packet) {
  Outbox out;
  relay.handle_ipv6(now, packet, out);
  return out;
}
inline Outbox from_udp(Relay& relay, Time now, UdpEndpoint from, Bytes payload) {
  Outbox out;
  relay.handle_datagram(now, from, payload, out);
  return out;
}

}  // namespace teredo::node::test
