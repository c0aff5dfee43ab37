#include "teredo/wire/icmpv6.hpp"

#include "internal.hpp"
#include "teredo/wire/checksum.hpp"

namespace teredo::wire {

namespace {
void add_pseudo_header(ChecksumAccumulator& sum, const Ipv6Address& source,
                       const Ipv6Address& destination, std::size_t length) noexcept {
  sum.add(source.bytes);
  sum.add(destination.bytes);
  sum.add_u32(static_cast<std::uint32_t>(length));
  sum.add_u16(kNextHeaderIcmpv6);
}
}  // namespace

Result<Icmpv6Message> parse_icmpv6(const Ipv6PacketView& packet, ChecksumPolicy policy) noexcept {
  return detail::parse_in_place<Icmpv6Message>([&packet, policy](Icmpv6Message& msg) {
    if (packet.header.next_header != kNextHeaderIcmpv6) return ParseError::not_icmpv6;
    const Bytes m = packet.payload;
    if (m.size() < 4) return ParseError::truncated_icmpv6;
    if (policy == ChecksumPolicy::verify) {
      // The pseudo-header (RFC 8200 §8.1) and the message, checksum field
      // included: a correct message sums to 0xFFFF (finish() == 0). The same
      // sum as ChecksumAccumulator, with the addresses and the message in one
      // native-order pass (internal.hpp).
      std::uint64_t native = 0;
      native = detail::add_native(native, packet.header.source.bytes.data(), 16);
      native = detail::add_native(native, packet.header.destination.bytes.data(), 16);
      native = detail::add_native(native, m.data(), m.size());
      const auto length = static_cast<std::uint32_t>(m.size());
      std::uint32_t sum =
          detail::fold_native(native) + (length >> 16) + (length & 0xFFFF) + kNextHeaderIcmpv6;
      while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
      if (sum != 0xFFFF) return ParseError::bad_icmpv6_checksum;
    }
    msg.type = m[0];
    msg.code = m[1];
    msg.checksum = detail::load_be16(m.data() + 2);
    msg.body = m.subspan(4);
    msg.message = m;
    return ParseError::none;
  });
}

std::uint16_t icmpv6_checksum(const Ipv6Address& source, const Ipv6Address& destination,
                              Bytes message) noexcept {
  ChecksumAccumulator sum;
  add_pseudo_header(sum, source, destination, message.size());
  if (message.size() >= 4) {
    sum.add(message.first(2));  // skip the checksum field itself
    sum.add(message.subspan(4));
  } else {
    sum.add(message);
  }
  return sum.finish();
}

ByteVector build_icmpv6_packet(const Ipv6Address& source, const Ipv6Address& destination,
                               std::uint8_t hop_limit, std::uint8_t type, std::uint8_t code,
                               Bytes body) {
  ByteVector message;
  message.reserve(4 + body.size());
  ByteWriter w(message);
  w.u8(type);
  w.u8(code);
  w.u16(0);
  w.bytes(body);
  w.patch_u16(2, icmpv6_checksum(source, destination, message));
  Ipv6Header h;
  h.next_header = kNextHeaderIcmpv6;
  h.hop_limit = hop_limit;
  h.source = source;
  h.destination = destination;
  return build_ipv6_packet(h, message);
}

Result<EchoMessage> parse_echo(const Icmpv6Message& message) noexcept {
  if (message.type != kIcmpv6EchoRequest && message.type != kIcmpv6EchoReply) {
    return ParseError::wrong_icmpv6_type;
  }
  ByteReader r(message.body);
  EchoMessage echo;
  echo.reply = message.type == kIcmpv6EchoReply;
  if (!r.u16(echo.identifier) || !r.u16(echo.sequence)) return ParseError::truncated_echo;
  echo.data = r.rest();
  return echo;
}

ByteVector build_echo(const Ipv6Address& source, const Ipv6Address& destination,
                      std::uint8_t hop_limit, const EchoMessage& echo) {
  ByteVector body;
  ByteWriter w(body);
  w.u16(echo.identifier);
  w.u16(echo.sequence);
  w.bytes(echo.data);
  return build_icmpv6_packet(source, destination, hop_limit,
                             echo.reply ? kIcmpv6EchoReply : kIcmpv6EchoRequest, 0, body);
}

ByteVector build_bubble(const Ipv6Address& source, const Ipv6Address& destination,
                        std::uint8_t hop_limit) {
  Ipv6Header h;
  h.next_header = kNextHeaderNone;
  h.hop_limit = hop_limit;
  h.source = source;
  h.destination = destination;
  return build_ipv6_packet(h, {});
}

}  // namespace teredo::wire
