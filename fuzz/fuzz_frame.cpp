// fuzz_frame: captured frames down to the UDP datagram that carries Teredo
// (find_udp_carrier: Ethernet + VLAN, Linux cooked v1/v2, raw IP, BSD and
// OpenBSD loopback, IPv4 / IPv6 with extension headers, GTP-U tunnels).
// Input: the first byte picks the link type (below 8: fuzz_common.hpp
// kLinkTypes; otherwise the byte value itself), the rest is the frame.
// Properties: unsupported link types are refused as such; the payload is a
// view inside the frame, cut at the UDP length, with payload_truncated telling
// whether it fell short; the tunnel depth stays bounded; an IPv4 carrier
// rebuilt with build_ipv4_udp / build_ethernet_ipv4_udp is found again with
// the same addresses, ports and payload.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "teredo/wire/frame.hpp"

using namespace teredo::wire;
using teredo::fuzz::check_error;
using teredo::fuzz::inside;
using teredo::fuzz::same_bytes;

namespace {

void check_same_carrier(const UdpCarrier& original, const Result<UdpCarrier>& found) {
  FUZZ_CHECK(found);
  FUZZ_CHECK(!found->ipv6 && found->tunnel_depth == 0 && !found->payload_truncated);
  FUZZ_CHECK(found->source4 == original.source4 && found->destination4 == original.destination4);
  FUZZ_CHECK(found->source_port == original.source_port &&
             found->destination_port == original.destination_port);
  FUZZ_CHECK(found->udp_length == 8 + original.payload.size());
  FUZZ_CHECK(same_bytes(found->payload, original.payload));
}

// The IPv4 header checksum and the UDP checksum (RFC 768 pseudo-header) of
// a packet from build_ipv4_udp, checked with the reference RFC 1071 sum.
void check_ipv4_udp_checksums(Bytes ip) {
  teredo::fuzz::ReferenceChecksum header;
  header.add(ip.first(20));
  FUZZ_CHECK(header.finish() == 0);
  teredo::fuzz::ReferenceChecksum udp;
  udp.add(ip.subspan(12, 8));  // source and destination addresses
  udp.add_u16(kNextHeaderUdp);
  udp.add_u16(static_cast<std::uint16_t>(ip.size() - 20));
  udp.add(ip.subspan(20));
  const std::uint16_t field = teredo::fuzz::be16(&ip[26]);
  FUZZ_CHECK(field != 0);  // 0 would mean "no checksum"
  FUZZ_CHECK(udp.finish() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t pick = data[0];
  const LinkType link_type = pick < teredo::fuzz::kLinkTypes.size() ? teredo::fuzz::kLinkTypes[pick]
                                                                    : static_cast<LinkType>(pick);
  const Bytes frame(data + 1, size - 1);
  const auto carrier = find_udp_carrier(link_type, frame);
  if (!is_supported_link_type(static_cast<std::uint32_t>(link_type))) {
    FUZZ_CHECK(!carrier && carrier.error() == ParseError::unsupported_link_type);
  }
  if (!carrier) {
    check_error(carrier.error());
    return 0;
  }
  const UdpCarrier& c = *carrier;
  FUZZ_CHECK(c.udp_length >= 8);
  FUZZ_CHECK(inside(c.payload, frame));
  FUZZ_CHECK(c.payload.size() <= c.udp_length - 8u);
  FUZZ_CHECK(c.payload_truncated == (c.payload.size() < c.udp_length - 8u));
  FUZZ_CHECK(c.tunnel_depth <= 4);
  if (!c.ipv6) {
    FUZZ_CHECK(c.source6 == Ipv6Address{} && c.destination6 == Ipv6Address{});
  } else {
    FUZZ_CHECK(c.source4 == Ipv4Address{} && c.destination4 == Ipv4Address{});
  }

  // Rebuild an IPv4 carrier and find it again. A GTP-U carrier left at the
  // depth limit would be tunnelled one level further from depth 0: skip it.
  const bool gtp_port = c.source_port == kUdpPortGtpU || c.destination_port == kUdpPortGtpU;
  if (!c.ipv6 && !(gtp_port && c.tunnel_depth >= 4) && c.payload.size() <= 0xFFFF - 28) {
    Ipv4UdpEndpoints endpoints;
    endpoints.source = c.source4;
    endpoints.source_port = c.source_port;
    endpoints.destination = c.destination4;
    endpoints.destination_port = c.destination_port;
    const ByteVector ip = build_ipv4_udp(endpoints, c.payload);
    FUZZ_CHECK(ip.size() == 28 + c.payload.size());
    check_ipv4_udp_checksums(ip);
    check_same_carrier(c, find_udp_carrier(LinkType::raw, ip));
    check_same_carrier(c, find_udp_carrier(LinkType::ipv4, ip));
    const ByteVector ethernet = build_ethernet_ipv4_udp(endpoints, c.payload);
    FUZZ_CHECK(ethernet.size() == 14 + ip.size() && same_bytes(Bytes(ethernet).subspan(14), ip));
    check_same_carrier(c, find_udp_carrier(LinkType::ethernet, ethernet));
  }
  return 0;
}
