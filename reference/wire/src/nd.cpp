#include "teredo/wire/nd.hpp"

#include <cstring>

#include "internal.hpp"

namespace teredo::wire {

Result<NdOptions> parse_nd_options(Bytes options) noexcept {
  return detail::parse_in_place<NdOptions>(
      [options](NdOptions& out) { return detail::parse_nd_options_into(options, out); });
}

Result<RouterSolicitation> parse_router_solicitation(const Icmpv6Message& message) noexcept {
  return detail::parse_in_place<RouterSolicitation>([&message](RouterSolicitation& rs) {
    if (message.type != kIcmpv6RouterSolicitation) return ParseError::wrong_icmpv6_type;
    if (message.body.size() < 4) return ParseError::truncated_router_solicitation;  // reserved
    return detail::parse_nd_options_into(message.body.subspan(4), rs.options);
  });
}

Result<RouterAdvertisement> parse_router_advertisement(const Icmpv6Message& message) noexcept {
  return detail::parse_in_place<RouterAdvertisement>([&message](RouterAdvertisement& ra) {
    if (message.type != kIcmpv6RouterAdvertisement) return ParseError::wrong_icmpv6_type;
    // cur hop limit, flags, router lifetime (2), reachable time (4), retrans
    // timer (4), then the options.
    const Bytes body = message.body;
    if (body.size() < 12) return ParseError::truncated_router_advertisement;
    const std::uint8_t* b = body.data();
    ra.cur_hop_limit = b[0];
    ra.flags = b[1];
    ra.router_lifetime = detail::load_be16(b + 2);
    ra.reachable_time = detail::load_be32(b + 4);
    ra.retrans_timer = detail::load_be32(b + 8);
    return detail::parse_nd_options_into(body.subspan(12), ra.options);
  });
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
