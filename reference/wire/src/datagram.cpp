#include "teredo/wire/datagram.hpp"

namespace teredo::wire {

Result<TeredoDatagram> parse_datagram(Bytes udp_payload, DatagramParseOptions options) noexcept {
  if (udp_payload.empty()) return ParseError::empty_datagram;
  TeredoDatagram d;
  Bytes rest = udp_payload;
  // §5.1.1: the first two bytes tell the element apart: 0x0001 authentication,
  // 0x0000 origin indication, an IPv6 header starts with version 6. The
  // authentication encapsulation MUST come first; each appears at most once.
  while (rest.size() >= 2 && rest[0] == 0x00) {
    if (rest[1] == 0x01) {
      if (d.origin) return ParseError::authentication_after_origin_indication;
      if (d.authentication) return ParseError::duplicate_authentication;
      auto auth = parse_authentication(rest);
      if (!auth) return auth.error();
      d.authentication = auth.value();
      rest = rest.subspan(auth->encoded.size());
    } else if (rest[1] == 0x00) {
      if (d.origin) return ParseError::duplicate_origin_indication;
      auto origin = parse_origin_indication(rest);
      if (!origin) return origin.error();
      d.origin = *origin;
      d.origin_encoded = rest.first(kOriginIndicationSize);
      rest = rest.subspan(kOriginIndicationSize);
    } else {
      return ParseError::unknown_encapsulation;
    }
  }
  if (rest.size() == 1 && rest[0] == 0x00) return ParseError::unknown_encapsulation;
  auto ipv6 = parse_ipv6_packet(rest);
  if (!ipv6) return ipv6.error();
  if (!ipv6->trailer.empty() && !options.accept_trailers) {
    return ParseError::trailing_bytes_after_ipv6_packet;
  }
  d.ipv6 = ipv6.value();
  return d;
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
