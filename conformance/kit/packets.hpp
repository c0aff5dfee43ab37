// Packets the played parties send and the lenient readings the judgements
// make of what they capture: one place for every role.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "teredo/wire/frame.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::kit {

wire::Ipv4Address ipv4(const std::string& text);  // throws on bad text (a harness bug)
wire::Ipv6Address ipv6(const std::string& text);

// The Teredo address 2001:0:<server>:<flags>:<~port>:<~mapped>.
wire::Ipv6Address teredo_address(const std::string& server, std::uint16_t flags, const std::string& mapped,
                                 std::uint16_t port);
// fe80::8000:f227:<~server>: the link-local address RFC 4380 §5.3.2 derives
// from a server's IPv4 address and the Teredo port as §4 specifies
// (obfuscated), cone bit 1: the source of the server's RAs.
wire::Ipv6Address server_link_local(const std::string& server);
// The flags of a Teredo or Teredo link-local address (bytes 8-9).
std::uint16_t flags_of(const wire::Ipv6Address& address);

// RFC 6081 §4: bytes may follow the IPv6 packet in a Teredo UDP payload. The
// kit reads every payload an IUT sends with trailers accepted (an RFC 4380
// reading would call such a reply malformed and hide what it carries); a
// case about trailers judges ipv6.trailer itself.
wire::Result<wire::TeredoDatagram> parse_teredo_payload(wire::Bytes udp_payload) noexcept;

// Inner packets.
wire::ByteVector encapsulate(wire::Bytes ipv6_packet);  // simple encapsulation (§5.1.1)
wire::ByteVector bubble_packet(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
                               std::uint8_t traffic_class = 0);
wire::ByteVector echo_packet(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
                             std::uint16_t identifier, std::uint16_t sequence, std::size_t data_size = 16);

// The IPv6 source and destination of the packet inside a Teredo UDP payload,
// read leniently (encapsulations skipped, the payload may be truncated: a
// first IPv4 fragment of a large datagram still names its packet).
std::optional<std::pair<wire::Ipv6Address, wire::Ipv6Address>> inner_addresses(wire::Bytes payload);
// The IPv6 packet inside a native IPv6 frame.
std::optional<wire::Ipv6PacketView> native_ipv6(wire::LinkType link, wire::Bytes frame);
// Fields of the outer IPv4 header of a frame.
struct Ipv4Meta {
  std::uint8_t tos = 0;
  bool dont_fragment = false;
  std::uint8_t ttl = 0;
};
std::optional<Ipv4Meta> ipv4_meta(wire::LinkType link, wire::Bytes frame);

// A payload marker, unique in the case: reactions are attributed by it.
std::string marker(const std::string& tag, int n);
bool contains(wire::Bytes haystack, const std::string& needle);
wire::Bytes bytes_of(const char* text);  // the bytes of a C string, without its NUL
std::string hex(wire::Bytes bytes);       // "00 00 fe ae"
bool same(wire::Bytes a, wire::Bytes b);  // byte-for-byte equal
std::string endpoint(const wire::Ipv4Address& a, std::uint16_t port);  // "198.51.100.7:3544"

}  // namespace teredo::conformance::kit
