// A whole Teredo UDP payload (RFC 4380 §5.1.1): optional authentication, then
// optional origin indication (authentication first, each at most once), then
// an IPv6 packet whose payload length fits the UDP payload.
#pragma once

#include <optional>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/result.hpp"

namespace teredo::wire {

struct DatagramParseOptions {
  // RFC 6081 §4 lets bytes ("trailers") follow the IPv6 packet inside the UDP
  // payload. RFC 4380 alone does not: by default such bytes are rejected with
  // trailing_bytes_after_ipv6_packet.
  bool accept_trailers = false;
};

struct TeredoDatagram {
  std::optional<Authentication> authentication;
  std::optional<OriginIndication> origin;
  Bytes origin_encoded;  // the 8 origin bytes on the wire (covered by the HMAC), or empty
  Ipv6PacketView ipv6;   // ipv6.trailer holds the RFC 6081 trailer bytes, if accepted
};

Result<TeredoDatagram> parse_datagram(Bytes udp_payload, DatagramParseOptions options = {}) noexcept;

// Writes [authentication][origin] ipv6_packet [trailer]. False when the
// authentication fields do not fit their length bytes.
bool append_datagram(ByteVector& out, const std::optional<AuthenticationFields>& authentication,
                     const std::optional<OriginIndication>& origin, Bytes ipv6_packet,
                     Bytes trailer = {});

}  // namespace teredo::wire
