#include "teredo/wire/datagram.hpp"

#include "internal.hpp"

namespace teredo::wire {

namespace {

ParseError parse_datagram_into(Bytes udp_payload, DatagramParseOptions options,
                               TeredoDatagram& d) noexcept {
  if (udp_payload.empty()) return ParseError::empty_datagram;
  Bytes rest = udp_payload;
  // §5.1.1: the first two bytes tell the element apart: 0x0001 authentication,
  // 0x0000 origin indication, an IPv6 header starts with version 6. The
  // authentication encapsulation MUST come first; each appears at most once.
  while (rest.size() >= 2 && rest[0] == 0x00) {
    if (rest[1] == 0x01) {
      if (d.origin) return ParseError::authentication_after_origin_indication;
      if (d.authentication) return ParseError::duplicate_authentication;
      Authentication& auth = d.authentication.emplace();
      const ParseError error = detail::parse_authentication_into(rest, auth);
      if (error != ParseError::none) return error;
      rest = rest.subspan(auth.encoded.size());
    } else if (rest[1] == 0x00) {
      if (d.origin) return ParseError::duplicate_origin_indication;
      const ParseError error = detail::parse_origin_indication_into(rest, d.origin.emplace());
      if (error != ParseError::none) return error;
      d.origin_encoded = rest.first(kOriginIndicationSize);
      rest = rest.subspan(kOriginIndicationSize);
    } else {
      return ParseError::unknown_encapsulation;
    }
  }
  if (rest.size() == 1 && rest[0] == 0x00) return ParseError::unknown_encapsulation;
  const ParseError error = detail::parse_ipv6_packet_into(rest, d.ipv6);
  if (error != ParseError::none) return error;
  if (!d.ipv6.trailer.empty() && !options.accept_trailers) {
    return ParseError::trailing_bytes_after_ipv6_packet;
  }
  return ParseError::none;
}

}  // namespace

Result<TeredoDatagram> parse_datagram(Bytes udp_payload, DatagramParseOptions options) noexcept {
  // Filled in place: a datagram is 200 bytes, and copying it through
  // temporaries was most of the decode time (bench/README.md).
  return detail::parse_in_place<TeredoDatagram>([udp_payload, options](TeredoDatagram& d) {
    return parse_datagram_into(udp_payload, options, d);
  });
}

bool append_datagram(ByteVector& out, const std::optional<AuthenticationFields>& authentication,
                     const std::optional<OriginIndication>& origin, Bytes ipv6_packet,
                     Bytes trailer) {
  if (authentication && !append_authentication(out, *authentication)) return false;
  if (origin) append_origin_indication(out, *origin);
  out.insert(out.end(), ipv6_packet.begin(), ipv6_packet.end());
  out.insert(out.end(), trailer.begin(), trailer.end());
  return true;
}

}  // namespace teredo::wire
