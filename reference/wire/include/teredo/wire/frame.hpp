// From a captured frame to the UDP datagram that carries Teredo: link layer
// (Ethernet with VLAN tags, Linux cooked v1/v2, raw IP, BSD loopback), IPv4 or
// IPv6, UDP, and GTP-U tunnels (whose inner IP/UDP is the carrier, as tshark
// takes the last IP/UDP layer). IPv4 is dissected per datagram, without
// reassembly: a first fragment is decoded as far as it goes, later fragments
// are not_udp-like errors (non_first_fragment).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/result.hpp"

namespace teredo::wire {

// pcap LINKTYPE_* values we read.
enum class LinkType : std::uint32_t {
  null = 0,          // BSD loopback, host-order AF_ value
  ethernet = 1,
  raw = 101,         // raw IPv4 or IPv6
  loop = 108,        // OpenBSD loopback, network-order AF_ value
  linux_sll = 113,
  ipv4 = 228,
  ipv6 = 229,
  linux_sll2 = 276,
};
bool is_supported_link_type(std::uint32_t link_type) noexcept;

struct UdpCarrier {
  bool ipv6 = false;  // the carrier's IP version
  Ipv4Address source4, destination4;
  Ipv6Address source6, destination6;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint16_t udp_length = 0;  // from the UDP header
  Bytes payload;                 // UDP payload as captured (cut at udp_length)
  bool payload_truncated = false;  // capture or fragment shorter than udp_length
  std::uint8_t tunnel_depth = 0;   // number of GTP-U layers removed
};

inline constexpr std::uint16_t kUdpPortGtpU = 2152;

Result<UdpCarrier> find_udp_carrier(LinkType link_type, Bytes frame) noexcept;

// Builds an Ethernet II / IPv4 / UDP frame (IPv4 and UDP checksums computed),
// for writing captures of our own packets.
struct Ipv4UdpEndpoints {
  Ipv4Address source;
  std::uint16_t source_port = 0;
  Ipv4Address destination;
  std::uint16_t destination_port = 0;
  std::uint8_t ttl = 64;
  std::uint16_t identification = 0;
};
ByteVector build_ipv4_udp(const Ipv4UdpEndpoints& endpoints, Bytes udp_payload);

// RFC 768: the sum over the IPv4 pseudo-header and `segment` (UDP header and
// data, its length from segment.size()). Over a segment whose checksum field
// is 0 it is the value to put there; over a received segment it is 0 when the
// checksum is right.
std::uint16_t udp_ipv4_checksum(Ipv4Address source, Ipv4Address destination, Bytes segment) noexcept;
ByteVector build_ethernet_ipv4_udp(const Ipv4UdpEndpoints& endpoints, Bytes udp_payload);

// The same frames written in place (the one place their layout lives; the
// builders above call these): a packet socket's transmit ring gets a frame
// without an allocation. Each returns the length written, or 0 (and writes
// nothing) when `out` is too small or the payload does not fit one UDP
// datagram.
using MacAddress = std::array<std::uint8_t, 6>;
struct EthernetAddresses {
  MacAddress destination{};
  MacAddress source{};
};
inline constexpr std::size_t kEthernetHeaderSize = 14;
inline constexpr std::size_t kIpv4UdpHeadersSize = 28;  // IPv4 without options + UDP
std::size_t write_ipv4_udp(std::span<std::uint8_t> out, const Ipv4UdpEndpoints& endpoints,
                           Bytes udp_payload) noexcept;
std::size_t write_ethernet_ipv4_udp(std::span<std::uint8_t> out, const EthernetAddresses& macs,
                                    const Ipv4UdpEndpoints& endpoints, Bytes udp_payload) noexcept;

}  // namespace teredo::wire
