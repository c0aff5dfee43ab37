#include "teredo/wire/nd.hpp"

#include <cstring>

namespace teredo::wire {

Result<NdOptions> parse_nd_options(Bytes options) noexcept {
  NdOptions out;
  out.encoded = options;
  ByteReader r(options);
  while (r.remaining() > 0) {
    std::uint8_t type = 0;
    std::uint8_t units = 0;
    if (!r.u8(type) || !r.u8(units)) return ParseError::truncated_nd_option;
    // RFC 4861 §4.6: length is in units of 8 bytes, and 0 is invalid (a walk
    // over it would never advance).
    if (units == 0) return ParseError::nd_option_zero_length;
    const std::size_t size = std::size_t{units} * 8;
    Bytes body;
    if (!r.take(size - 2, body)) return ParseError::nd_option_overlong;
    ++out.count;
    switch (type) {
      case kNdOptionSourceLinkLayer:
        if (out.source_link_layer.empty()) out.source_link_layer = body;
        break;
      case kNdOptionPrefixInformation: {
        if (units != 4) return ParseError::bad_prefix_information_length;
        ++out.prefix_information_count;
        if (!out.prefix_information) {
          ByteReader p(body);
          PrefixInformation pi;
          std::uint32_t reserved = 0;
          // The sizes match the option length checked above: these reads succeed.
          (void)p.u8(pi.prefix_length);
          (void)p.u8(pi.flags);
          (void)p.u32(pi.valid_lifetime);
          (void)p.u32(pi.preferred_lifetime);
          (void)p.u32(reserved);
          (void)p.copy(pi.prefix.bytes);
          out.prefix_information = pi;
        }
        break;
      }
      case kNdOptionMtu: {
        if (units != 1) return ParseError::bad_mtu_option_length;
        if (!out.mtu) {
          ByteReader p(body);
          std::uint16_t reserved = 0;
          std::uint32_t mtu = 0;
          (void)p.u16(reserved);
          (void)p.u32(mtu);
          out.mtu = mtu;
        }
        break;
      }
      default:
        ++out.unknown_count;  // RFC 4861 §4.6: unknown options are skipped
        break;
    }
  }
  return out;
}

Result<RouterSolicitation> parse_router_solicitation(const Icmpv6Message& message) noexcept {
  if (message.type != kIcmpv6RouterSolicitation) return ParseError::wrong_icmpv6_type;
  if (message.body.size() < 4) return ParseError::truncated_router_solicitation;  // reserved
  auto options = parse_nd_options(message.body.subspan(4));
  if (!options) return options.error();
  return RouterSolicitation{options.value()};
}

Result<RouterAdvertisement> parse_router_advertisement(const Icmpv6Message& message) noexcept {
  if (message.type != kIcmpv6RouterAdvertisement) return ParseError::wrong_icmpv6_type;
  ByteReader r(message.body);
  RouterAdvertisement ra;
  if (!r.u8(ra.cur_hop_limit) || !r.u8(ra.flags) || !r.u16(ra.router_lifetime) ||
      !r.u32(ra.reachable_time) || !r.u32(ra.retrans_timer)) {
    return ParseError::truncated_router_advertisement;
  }
  auto options = parse_nd_options(r.rest());
  if (!options) return options.error();
  ra.options = options.value();
  return ra;
}

void append_source_link_layer_option(ByteVector& out, Bytes link_layer_address) {
  ByteWriter w(out);
  const std::size_t units = (2 + link_layer_address.size() + 7) / 8;
  w.u8(kNdOptionSourceLinkLayer);
  w.u8(static_cast<std::uint8_t>(units));
  w.bytes(link_layer_address);
  w.zeros(units * 8 - 2 - link_layer_address.size());
}

void append_prefix_information_option(ByteVector& out, const PrefixInformation& prefix) {
  ByteWriter w(out);
  w.u8(kNdOptionPrefixInformation);
  w.u8(4);
  w.u8(prefix.prefix_length);
  w.u8(prefix.flags);
  w.u32(prefix.valid_lifetime);
  w.u32(prefix.preferred_lifetime);
  w.u32(0);
  w.bytes(prefix.prefix.bytes);
}

void append_mtu_option(ByteVector& out, std::uint32_t mtu) {
  ByteWriter w(out);
  w.u8(kNdOptionMtu);
  w.u8(1);
  w.u16(0);
  w.u32(mtu);
}

ByteVector build_router_solicitation(const Ipv6Address& source, const Ipv6Address& destination,
                                     Bytes options, std::uint8_t hop_limit) {
  ByteVector body(4, 0);  // reserved
  body.insert(body.end(), options.begin(), options.end());
  return build_icmpv6_packet(source, destination, hop_limit, kIcmpv6RouterSolicitation, 0, body);
}

ByteVector build_router_advertisement(const Ipv6Address& source, const Ipv6Address& destination,
                                      const RouterAdvertisement& fields, Bytes options,
                                      std::uint8_t hop_limit) {
  ByteVector body;
  ByteWriter w(body);
  w.u8(fields.cur_hop_limit);
  w.u8(fields.flags);
  w.u16(fields.router_lifetime);
  w.u32(fields.reachable_time);
  w.u32(fields.retrans_timer);
  w.bytes(options);
  return build_icmpv6_packet(source, destination, hop_limit, kIcmpv6RouterAdvertisement, 0, body);
}

}  // namespace teredo::wire
