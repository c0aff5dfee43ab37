#include "decode/teredo_json.hpp"

#include <fmt/format.h>

namespace teredo::decode {

using nlohmann::ordered_json;
using namespace teredo::wire;

ordered_json describe_teredo_address(const TeredoAddress& address) {
  ordered_json j;
  j["address"] = to_string(address.to_ipv6());
  j["server"] = to_string(address.server);
  j["flags"] = fmt::format("0x{:04x}", address.flags);
  j["cone"] = address.cone();
  j["random_bits"] = fmt::format("0x{:04x}", address.random_bits());
  j["flags_valid_to_send"] = address.flags_valid_to_send();
  j["mapped_port"] = address.mapped_port;
  j["mapped_ipv4"] = to_string(address.mapped_ipv4);
  j["mapped_ipv4_scope"] = std::string(to_string(classify_ipv4(address.mapped_ipv4)));
  return j;
}

namespace {

ordered_json describe_ipv6_address(const Ipv6Address& address) {
  const auto teredo = parse_teredo(address);
  if (!teredo) return to_string(address);
  ordered_json j = describe_teredo_address(*teredo);
  return j;
}

Ipv6Address masked(const Ipv6Address& prefix, std::uint8_t length) {
  Ipv6Address out = prefix;
  for (int i = 0; i < 16; ++i) {
    const int bits = std::clamp(int{length} - i * 8, 0, 8);
    out.bytes[i] &= static_cast<std::uint8_t>(0xFF00 >> bits);
  }
  return out;
}

ordered_json describe_nd_options(const NdOptions& o) {
  ordered_json j;
  j["count"] = o.count;
  j["prefix_information_count"] = o.prefix_information_count;
  if (o.prefix_information) {
    const PrefixInformation& p = *o.prefix_information;
    // Real RAs carry junk beyond the prefix length (see pcaps-public
    // SOURCES.md): the prefix is the masked value, the raw bytes are kept too.
    j["prefix"] = fmt::format("{}/{}", to_string(masked(p.prefix, p.prefix_length)), p.prefix_length);
    j["prefix_raw"] = to_string(p.prefix);
    j["prefix_flags"] = fmt::format("0x{:02x}", p.flags);
    j["valid_lifetime"] = p.valid_lifetime;
    j["preferred_lifetime"] = p.preferred_lifetime;
  }
  if (o.mtu) j["mtu"] = *o.mtu;
  if (!o.source_link_layer.empty()) j["source_link_layer"] = to_hex(o.source_link_layer);
  if (o.unknown_count) j["unknown_options"] = o.unknown_count;
  return j;
}

// Decodes the ICMPv6 layer into j; returns the first error met, if any.
ParseError describe_icmpv6(const Ipv6PacketView& packet, ordered_json& j) {
  auto verified = parse_icmpv6(packet, ChecksumPolicy::verify);
  ParseError error = ParseError::none;
  Result<Icmpv6Message> message = verified;
  if (!verified) {
    if (verified.error() != ParseError::bad_icmpv6_checksum) return verified.error();
    error = ParseError::bad_icmpv6_checksum;
    message = parse_icmpv6(packet, ChecksumPolicy::ignore);
  }
  ordered_json icmp;
  icmp["type"] = message->type;
  icmp["code"] = message->code;
  icmp["checksum"] = fmt::format("0x{:04x}", message->checksum);
  icmp["checksum_ok"] = error == ParseError::none;
  j["icmpv6"] = icmp;
  switch (message->type) {
    case kIcmpv6RouterSolicitation: {
      auto rs = parse_router_solicitation(*message);
      if (!rs) return rs.error();
      j["router_solicitation"] = ordered_json{{"options", describe_nd_options(rs->options)}};
      break;
    }
    case kIcmpv6RouterAdvertisement: {
      auto ra = parse_router_advertisement(*message);
      if (!ra) return ra.error();
      ordered_json r;
      r["cur_hop_limit"] = ra->cur_hop_limit;
      r["flags"] = fmt::format("0x{:02x}", ra->flags);
      r["router_lifetime"] = ra->router_lifetime;
      r["reachable_time"] = ra->reachable_time;
      r["retrans_timer"] = ra->retrans_timer;
      r["options"] = describe_nd_options(ra->options);
      j["router_advertisement"] = r;
      break;
    }
    case kIcmpv6EchoRequest:
    case kIcmpv6EchoReply: {
      auto echo = parse_echo(*message);
      if (!echo) return echo.error();
      j["echo"] = ordered_json{{"reply", echo->reply},
                               {"identifier", echo->identifier},
                               {"sequence", echo->sequence},
                               {"data_length", echo->data.size()}};
      break;
    }
    default:
      break;
  }
  return error;
}

// Off port 3544 nothing but the bytes says a datagram is Teredo. tshark only
// offers such a datagram to its teredo_udp heuristic when no dissector owns
// either UDP port; we have no port table, so the IPv6 packet must also be
// well formed as far as its first extension header: a 41-byte DNS query whose
// ID starts with 0x6 reads as IPv6 with next header 0 (hop-by-hop) and a
// 1-byte payload (pcaps-public zeek-false-teredo.pcap).
bool first_extension_header_fits(const Ipv6PacketView& packet) noexcept {
  const Bytes payload = packet.payload;
  switch (packet.header.next_header) {
    case 0:   // hop-by-hop options
    case 43:  // routing
    case 60:  // destination options
      return payload.size() >= 8 && payload.size() >= (std::size_t{payload[1]} + 1) * 8;
    case 44:  // fragment
      return payload.size() >= 8;
    default:
      return true;
  }
}

}  // namespace

ordered_json decode_teredo_payload(Bytes udp_payload, bool trusted_teredo) {
  ordered_json j;
  auto datagram = parse_datagram(udp_payload, DatagramParseOptions{.accept_trailers = trusted_teredo});
  if (!datagram) {
    j["error"] = std::string(to_string(datagram.error()));
    return j;
  }
  const TeredoDatagram& d = *datagram;
  if (!trusted_teredo && !first_extension_header_fits(d.ipv6)) {
    j["error"] = std::string(to_string(ParseError::truncated_ipv6_extension_header));
    return j;
  }
  if (d.authentication) {
    const Authentication& a = *d.authentication;
    j["authentication"] = ordered_json{{"client_id", to_hex(a.client_id)},
                                       {"authentication_value", to_hex(a.authentication_value)},
                                       {"nonce", to_hex(a.nonce)},
                                       {"confirmation", a.confirmation}};
  }
  if (d.origin) {
    j["origin"] = ordered_json{{"port", d.origin->port}, {"ipv4", to_string(d.origin->address)}};
  }
  const Ipv6Header& h = d.ipv6.header;
  ordered_json ip;
  ip["source"] = describe_ipv6_address(h.source);
  ip["destination"] = describe_ipv6_address(h.destination);
  ip["payload_length"] = h.payload_length;
  ip["next_header"] = h.next_header;
  ip["hop_limit"] = h.hop_limit;
  j["ipv6"] = ip;
  if (!d.ipv6.trailer.empty()) j["trailer_length"] = d.ipv6.trailer.size();
  j["bubble"] = is_bubble(d.ipv6);
  if (h.next_header == kNextHeaderIcmpv6) {
    const ParseError error = describe_icmpv6(d.ipv6, j);
    if (error != ParseError::none) j["error"] = std::string(to_string(error));
  }
  return j;
}

ordered_json decode_frame(std::uint64_t number, LinkType link_type, Bytes frame) {
  ordered_json j;
  j["frame"] = number;
  auto carrier = find_udp_carrier(link_type, frame);
  if (!carrier) {
    j["teredo"] = false;
    j["reason"] = std::string(to_string(carrier.error()));
    return j;
  }
  const UdpCarrier& c = *carrier;
  const bool on_teredo_port =
      c.source_port == kUdpPortTeredo || c.destination_port == kUdpPortTeredo;
  ordered_json teredo = decode_teredo_payload(c.payload, on_teredo_port);
  if (!on_teredo_port && teredo.contains("error") && !teredo.contains("ipv6")) {
    j["teredo"] = false;
    j["reason"] = "not_teredo";
    return j;
  }
  j["teredo"] = true;
  ordered_json carrier_json;
  carrier_json["source"] = c.ipv6 ? to_string(c.source6) : to_string(c.source4);
  carrier_json["destination"] = c.ipv6 ? to_string(c.destination6) : to_string(c.destination4);
  carrier_json["source_port"] = c.source_port;
  carrier_json["destination_port"] = c.destination_port;
  carrier_json["udp_length"] = c.udp_length;
  if (c.tunnel_depth) carrier_json["tunnel_depth"] = c.tunnel_depth;
  if (c.payload_truncated) carrier_json["payload_truncated"] = true;
  j["carrier"] = carrier_json;
  j.update(teredo);
  return j;
}

}  // namespace teredo::decode
