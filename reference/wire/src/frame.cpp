#include "teredo/wire/frame.hpp"

#include <cstring>

#include "teredo/wire/checksum.hpp"

namespace teredo::wire {

bool is_supported_link_type(std::uint32_t link_type) noexcept {
  switch (static_cast<LinkType>(link_type)) {
    case LinkType::null:
    case LinkType::ethernet:
    case LinkType::raw:
    case LinkType::loop:
    case LinkType::linux_sll:
    case LinkType::ipv4:
    case LinkType::ipv6:
    case LinkType::linux_sll2:
      return true;
  }
  return false;
}

namespace {

constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;
constexpr std::uint16_t kEtherTypeQinQ = 0x88A8;
constexpr std::uint8_t kMaxTunnelDepth = 4;

std::uint16_t be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// The IP packet inside the link-layer frame.
Result<Bytes> strip_link_layer(LinkType link_type, Bytes frame) noexcept {
  std::uint16_t ether_type = 0;
  std::size_t offset = 0;
  switch (link_type) {
    case LinkType::ethernet: {
      if (frame.size() < 14) return ParseError::truncated_link_header;
      ether_type = be16(frame.data() + 12);
      offset = 14;
      while (ether_type == kEtherTypeVlan || ether_type == kEtherTypeQinQ) {
        if (frame.size() < offset + 4) return ParseError::truncated_link_header;
        ether_type = be16(frame.data() + offset + 2);
        offset += 4;
      }
      break;
    }
    case LinkType::linux_sll:
      if (frame.size() < 16) return ParseError::truncated_link_header;
      ether_type = be16(frame.data() + 14);
      offset = 16;
      break;
    case LinkType::linux_sll2:
      if (frame.size() < 20) return ParseError::truncated_link_header;
      ether_type = be16(frame.data());
      offset = 20;
      break;
    case LinkType::null:
    case LinkType::loop: {
      if (frame.size() < 4) return ParseError::truncated_link_header;
      std::uint32_t family = 0;
      std::memcpy(&family, frame.data(), 4);
      // The family is in the writer's byte order: accept both.
      const std::uint32_t swapped = __builtin_bswap32(family);
      const auto is_v6 = [](std::uint32_t f) { return f == 24 || f == 28 || f == 30; };
      if (family == 2 || swapped == 2) {
        ether_type = kEtherTypeIpv4;
      } else if (is_v6(family) || is_v6(swapped)) {
        ether_type = kEtherTypeIpv6;
      } else {
        return ParseError::not_ip;
      }
      offset = 4;
      break;
    }
    case LinkType::raw:
    case LinkType::ipv4:
    case LinkType::ipv6:
      return frame;
    default:
      return ParseError::unsupported_link_type;
  }
  if (ether_type != kEtherTypeIpv4 && ether_type != kEtherTypeIpv6) return ParseError::not_ip;
  return frame.subspan(offset);
}

Result<UdpCarrier> parse_udp(UdpCarrier carrier, Bytes segment) noexcept {
  if (segment.size() < 8) return ParseError::truncated_udp_header;
  carrier.source_port = be16(segment.data());
  carrier.destination_port = be16(segment.data() + 2);
  carrier.udp_length = be16(segment.data() + 4);
  if (carrier.udp_length < 8) return ParseError::bad_udp_length;
  const std::size_t wanted = carrier.udp_length - 8u;
  const Bytes available = segment.subspan(8);
  carrier.payload_truncated = available.size() < wanted;
  carrier.payload = available.first(carrier.payload_truncated ? available.size() : wanted);
  return carrier;
}

Result<UdpCarrier> parse_ip(Bytes packet, std::uint8_t depth) noexcept;

// GTP-U (3GPP TS 29.281) T-PDU: the inner IP packet, or an error when the
// payload is not a well-formed GTPv1-U T-PDU.
Result<Bytes> strip_gtp_u(Bytes payload) noexcept {
  if (payload.size() < 8) return ParseError::not_ip;
  const std::uint8_t flags = payload[0];
  if ((flags >> 5) != 1 || (flags & 0x10) == 0 || payload[1] != 0xFF) return ParseError::not_ip;
  std::size_t offset = 8;
  if (flags & 0x07) {
    if (payload.size() < 12) return ParseError::not_ip;
    std::uint8_t next = (flags & 0x04) ? payload[11] : 0;
    offset = 12;
    while (next != 0) {
      if (payload.size() < offset + 1 || payload[offset] == 0) return ParseError::not_ip;
      const std::size_t size = std::size_t{payload[offset]} * 4;
      if (payload.size() < offset + size) return ParseError::not_ip;
      next = payload[offset + size - 1];
      offset += size;
    }
  }
  return payload.subspan(offset);
}

Result<UdpCarrier> maybe_tunnel(const UdpCarrier& carrier, std::uint8_t depth) noexcept {
  if (depth >= kMaxTunnelDepth ||
      (carrier.source_port != kUdpPortGtpU && carrier.destination_port != kUdpPortGtpU)) {
    return carrier;
  }
  auto inner = strip_gtp_u(carrier.payload);
  if (!inner) return carrier;
  auto deeper = parse_ip(*inner, static_cast<std::uint8_t>(depth + 1));
  if (!deeper) return carrier;  // a GTP payload that is not IP/UDP: keep the outer UDP
  return deeper;
}

Result<UdpCarrier> parse_ipv4(Bytes packet, std::uint8_t depth) noexcept {
  if (packet.size() < 20) return ParseError::truncated_ipv4_header;
  const std::size_t header_length = std::size_t{packet[0] & 0x0Fu} * 4;
  if (header_length < 20) return ParseError::bad_ipv4_header;
  if (packet.size() < header_length) return ParseError::truncated_ipv4_header;
  const std::size_t total_length = be16(packet.data() + 2);
  if (total_length < header_length) return ParseError::bad_ipv4_header;
  // No reassembly: a datagram is read on its own, as tshark does with
  // ip.defragment off. Only a first fragment holds the UDP header.
  if ((be16(packet.data() + 6) & 0x1FFF) != 0) return ParseError::non_first_fragment;
  if (packet[9] != kNextHeaderUdp) return ParseError::not_udp;
  UdpCarrier carrier;
  carrier.tunnel_depth = depth;
  carrier.source4 = Ipv4Address{(std::uint32_t{be16(packet.data() + 12)} << 16) | be16(packet.data() + 14)};
  carrier.destination4 = Ipv4Address{(std::uint32_t{be16(packet.data() + 16)} << 16) | be16(packet.data() + 18)};
  const Bytes datagram = packet.first(total_length < packet.size() ? total_length : packet.size());
  auto udp = parse_udp(carrier, datagram.subspan(header_length));
  if (!udp) return udp;
  return maybe_tunnel(*udp, depth);
}

Result<UdpCarrier> parse_ipv6_carrier(Bytes packet, std::uint8_t depth) noexcept {
  if (packet.size() < kIpv6HeaderSize) return ParseError::truncated_ipv6_header;
  UdpCarrier carrier;
  carrier.ipv6 = true;
  carrier.tunnel_depth = depth;
  std::memcpy(carrier.source6.bytes.data(), packet.data() + 8, 16);
  std::memcpy(carrier.destination6.bytes.data(), packet.data() + 24, 16);
  const std::size_t payload_length = be16(packet.data() + 4);
  Bytes rest = packet.subspan(kIpv6HeaderSize);
  if (rest.size() > payload_length) rest = rest.first(payload_length);
  std::uint8_t next = packet[6];
  // Walk the extension headers that may stand before UDP.
  for (int guard = 0; guard < 16; ++guard) {
    if (next == kNextHeaderUdp) {
      auto udp = parse_udp(carrier, rest);
      if (!udp) return udp;
      return maybe_tunnel(*udp, depth);
    }
    if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination options
      if (rest.size() < 8) return ParseError::truncated_ipv6_extension_header;
      const std::size_t size = (std::size_t{rest[1]} + 1) * 8;
      if (rest.size() < size) return ParseError::truncated_ipv6_extension_header;
      next = rest[0];
      rest = rest.subspan(size);
    } else if (next == 44) {  // fragment
      if (rest.size() < 8) return ParseError::truncated_ipv6_extension_header;
      if ((be16(rest.data() + 2) & 0xFFF8) != 0) return ParseError::non_first_fragment;
      next = rest[0];
      rest = rest.subspan(8);
    } else {
      return ParseError::not_udp;
    }
  }
  return ParseError::not_udp;
}

Result<UdpCarrier> parse_ip(Bytes packet, std::uint8_t depth) noexcept {
  if (packet.empty()) return ParseError::not_ip;
  switch (packet[0] >> 4) {
    case 4: return parse_ipv4(packet, depth);
    case 6: return parse_ipv6_carrier(packet, depth);
    default: return ParseError::not_ip;
  }
}

}  // namespace

Result<UdpCarrier> find_udp_carrier(LinkType link_type, Bytes frame) noexcept {
  auto ip = strip_link_layer(link_type, frame);
  if (!ip) return ip.error();
  return parse_ip(*ip, 0);
}

namespace {
void put16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) noexcept {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}
}  // namespace

std::uint16_t udp_ipv4_checksum(Ipv4Address source, Ipv4Address destination, Bytes segment) noexcept {
  ChecksumAccumulator sum;
  sum.add_u32(source.value);
  sum.add_u32(destination.value);
  sum.add_u16(kNextHeaderUdp);
  sum.add_u16(static_cast<std::uint16_t>(segment.size()));
  sum.add(segment);
  return sum.finish();
}

std::size_t write_ipv4_udp(std::span<std::uint8_t> out, const Ipv4UdpEndpoints& e, Bytes udp_payload) noexcept {
  if (udp_payload.size() > 0xFFFF - kIpv4UdpHeadersSize) return 0;
  const std::size_t total = kIpv4UdpHeadersSize + udp_payload.size();
  if (out.size() < total) return 0;
  std::uint8_t* ip = out.data();
  const auto udp_length = static_cast<std::uint16_t>(8 + udp_payload.size());
  ip[0] = 0x45;
  ip[1] = 0;
  put16(ip + 2, static_cast<std::uint16_t>(total));
  put16(ip + 4, e.identification);
  put16(ip + 6, 0);  // §5.1.2: Teredo SHOULD NOT set DF
  ip[8] = e.ttl;
  ip[9] = kNextHeaderUdp;
  put16(ip + 10, 0);
  put32(ip + 12, e.source.value);
  put32(ip + 16, e.destination.value);
  ChecksumAccumulator ip_sum;
  ip_sum.add(Bytes(ip, 20));
  put16(ip + 10, ip_sum.finish());
  std::uint8_t* udp = ip + 20;
  put16(udp, e.source_port);
  put16(udp + 2, e.destination_port);
  put16(udp + 4, udp_length);
  put16(udp + 6, 0);
  if (!udp_payload.empty()) std::memcpy(udp + 8, udp_payload.data(), udp_payload.size());
  std::uint16_t checksum = udp_ipv4_checksum(e.source, e.destination, Bytes(udp, udp_length));
  if (checksum == 0) checksum = 0xFFFF;  // 0 means "no checksum" in UDP over IPv4
  put16(udp + 6, checksum);
  return total;
}

std::size_t write_ethernet_ipv4_udp(std::span<std::uint8_t> out, const EthernetAddresses& macs,
                                    const Ipv4UdpEndpoints& endpoints, Bytes udp_payload) noexcept {
  if (out.size() < kEthernetHeaderSize) return 0;
  const std::size_t ip = write_ipv4_udp(out.subspan(kEthernetHeaderSize), endpoints, udp_payload);
  if (ip == 0) return 0;
  std::memcpy(out.data(), macs.destination.data(), 6);
  std::memcpy(out.data() + 6, macs.source.data(), 6);
  put16(out.data() + 12, kEtherTypeIpv4);
  return kEthernetHeaderSize + ip;
}

ByteVector build_ipv4_udp(const Ipv4UdpEndpoints& e, Bytes udp_payload) {
  ByteVector out(kIpv4UdpHeadersSize + udp_payload.size());
  out.resize(write_ipv4_udp(out, e, udp_payload));
  return out;
}

ByteVector build_ethernet_ipv4_udp(const Ipv4UdpEndpoints& endpoints, Bytes udp_payload) {
  // Locally administered MACs: the frame is ours, not a real host's.
  const EthernetAddresses macs{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}, {0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
  ByteVector out(kEthernetHeaderSize + kIpv4UdpHeadersSize + udp_payload.size());
  out.resize(write_ethernet_ipv4_udp(out, macs, endpoints, udp_payload));
  return out;
}

}  // namespace teredo::wire
