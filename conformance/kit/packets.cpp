#include "kit/packets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace teredo::conformance::kit {

using namespace teredo::wire;

namespace {

std::size_t link_header(LinkType link, Bytes frame, std::uint16_t& ethertype) {
  if (link != LinkType::ethernet || frame.size() < 14) return 0;
  std::size_t at = 12;
  ethertype = static_cast<std::uint16_t>((frame[at] << 8) | frame[at + 1]);
  while ((ethertype == 0x8100 || ethertype == 0x88a8) && frame.size() >= at + 6) {
    at += 4;
    ethertype = static_cast<std::uint16_t>((frame[at] << 8) | frame[at + 1]);
  }
  return at + 2;
}

}  // namespace

Ipv4Address ipv4(const std::string& text) {
  const auto a = parse_ipv4(text);
  if (!a) throw std::runtime_error("bad IPv4 address in a case: " + text);
  return *a;
}

Ipv6Address ipv6(const std::string& text) {
  const auto a = parse_ipv6(text);
  if (!a) throw std::runtime_error("bad IPv6 address in a case: " + text);
  return *a;
}

Ipv6Address teredo_address(const std::string& server, std::uint16_t flags, const std::string& mapped,
                           std::uint16_t port) {
  return TeredoAddress{.server = ipv4(server), .flags = flags, .mapped_port = port, .mapped_ipv4 = ipv4(mapped)}
      .to_ipv6();
}

Ipv6Address server_link_local(const std::string& server) {
  Ipv6Address a = TeredoAddress{.server = Ipv4Address{0}, .flags = kFlagCone, .mapped_port = 3544,
                                .mapped_ipv4 = ipv4(server)}
                      .to_ipv6();
  a.bytes[0] = 0xfe;
  a.bytes[1] = 0x80;
  for (int i = 2; i < 8; ++i) a.bytes[static_cast<std::size_t>(i)] = 0;
  return a;
}

std::uint16_t flags_of(const Ipv6Address& address) {
  return static_cast<std::uint16_t>((address.bytes[8] << 8) | address.bytes[9]);
}

Result<TeredoDatagram> parse_teredo_payload(Bytes udp_payload) noexcept {
  return parse_datagram(udp_payload, DatagramParseOptions{.accept_trailers = true});
}

ByteVector encapsulate(Bytes ipv6_packet) { return ByteVector(ipv6_packet.begin(), ipv6_packet.end()); }

ByteVector bubble_packet(const Ipv6Address& source, const Ipv6Address& destination, std::uint8_t traffic_class) {
  Ipv6Header h;
  h.traffic_class = traffic_class;
  h.next_header = kNextHeaderNone;
  h.hop_limit = 255;
  h.source = source;
  h.destination = destination;
  return build_ipv6_packet(h, {});
}

ByteVector echo_packet(const Ipv6Address& source, const Ipv6Address& destination, std::uint16_t identifier,
                       std::uint16_t sequence, std::size_t data_size) {
  ByteVector data(data_size);
  for (std::size_t i = 0; i < data_size; ++i) data[i] = static_cast<std::uint8_t>('a' + i % 26);
  return build_echo(source, destination, 64,
                    EchoMessage{.reply = false, .identifier = identifier, .sequence = sequence, .data = data});
}

std::optional<std::pair<Ipv6Address, Ipv6Address>> inner_addresses(Bytes payload) {
  std::size_t at = 0;
  for (int guard = 0; guard < 4; ++guard) {
    if (payload.size() < at + 2) return std::nullopt;
    if (payload[at] == 0 && payload[at + 1] == 0) {
      at += kOriginIndicationSize;
    } else if (payload[at] == 0 && payload[at + 1] == 1) {
      if (payload.size() < at + 4) return std::nullopt;
      at += kAuthenticationFixedSize + payload[at + 2] + payload[at + 3];
    } else {
      break;
    }
  }
  if (payload.size() < at + kIpv6HeaderSize || (payload[at] >> 4) != 6) return std::nullopt;
  Ipv6Address s, d;
  std::memcpy(s.bytes.data(), payload.data() + at + 8, 16);
  std::memcpy(d.bytes.data(), payload.data() + at + 24, 16);
  return std::make_pair(s, d);
}

std::optional<Ipv6PacketView> native_ipv6(LinkType link, Bytes frame) {
  std::uint16_t ethertype = 0;
  const std::size_t at = link_header(link, frame, ethertype);
  if (at == 0 || ethertype != 0x86DD) return std::nullopt;
  auto p = parse_ipv6_packet(frame.subspan(at));
  if (!p) return std::nullopt;
  return *p;
}

std::optional<Ipv4Meta> ipv4_meta(LinkType link, Bytes frame) {
  std::uint16_t ethertype = 0;
  const std::size_t at = link_header(link, frame, ethertype);
  if (at == 0 || ethertype != 0x0800 || frame.size() < at + 20) return std::nullopt;
  Ipv4Meta m;
  m.tos = frame[at + 1];
  m.dont_fragment = (frame[at + 6] & 0x40) != 0;
  m.ttl = frame[at + 8];
  return m;
}

std::string marker(const std::string& tag, int n) { return fmt::format("teredo-conformance {} #{};", tag, n); }

bool contains(Bytes haystack, const std::string& needle) {
  if (needle.empty() || haystack.size() < needle.size()) return false;
  const auto* begin = reinterpret_cast<const std::uint8_t*>(needle.data());
  return std::search(haystack.begin(), haystack.end(), begin, begin + needle.size()) != haystack.end();
}

Bytes bytes_of(const char* text) { return {reinterpret_cast<const std::uint8_t*>(text), std::strlen(text)}; }

std::string hex(Bytes bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) out += fmt::format("{}{:02x}", i ? " " : "", bytes[i]);
  return out;
}

bool same(Bytes a, Bytes b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

std::string endpoint(const Ipv4Address& a, std::uint16_t port) { return fmt::format("{}:{}", to_string(a), port); }

}  // namespace teredo::conformance::kit
