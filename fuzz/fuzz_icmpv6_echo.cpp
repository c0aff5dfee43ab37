// fuzz_icmpv6_echo: ICMPv6 echo request / reply (RFC 4443 §4), the direct
// IPv6 connectivity test of RFC 4380 §5.2.9. Input: an ICMPv6 message (type,
// code, checksum, body), carried in an IPv6 packet between fixed addresses.
// Properties: parse_echo reads identifier, sequence and data where RFC 4443
// puts them; build_echo from the parsed fields writes the same packet
// (checksum as computed); that packet passes the checksum and parses to the
// same fields; the checksum verdict matches icmpv6_checksum (fuzz_common.hpp).
// checksum_update (RFC 1624 eqn. 3), as a NAT rewriting the source address
// uses it: from a right checksum it gives the recomputed one, and a wrong
// checksum stays wrong by the same amount.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "teredo/wire/checksum.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/ipv6.hpp"

using namespace teredo::wire;
using teredo::fuzz::check_error;
using teredo::fuzz::same_bytes;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0xFFFF) return 0;  // more than an IPv6 payload length can announce
  const ByteVector packet = teredo::fuzz::wrap_icmpv6(Bytes(data, size));
  const auto view = parse_ipv6_packet(packet);
  FUZZ_CHECK(view && view->trailer.empty() && view->payload.size() == size);
  teredo::fuzz::check_icmpv6(*view);
  FUZZ_CHECK(icmpv6_checksum(view->header.source, view->header.destination, view->payload) ==
             teredo::fuzz::reference_icmpv6_checksum(view->header.source, view->header.destination,
                                                     view->payload));

  const auto icmp = parse_icmpv6(*view, ChecksumPolicy::ignore);
  if (!icmp) {
    FUZZ_CHECK(size < 4 && icmp.error() == ParseError::truncated_icmpv6);
    return 0;
  }

  {
    const Ipv6Header& h = view->header;
    Ipv6Address moved = h.source;
    for (std::size_t i = 0; i < 16 && i < size; ++i) moved.bytes[i] ^= data[i];
    const std::uint16_t before = icmpv6_checksum(h.source, h.destination, icmp->message);
    const std::uint16_t after = icmpv6_checksum(moved, h.destination, icmp->message);
    FUZZ_CHECK(checksum_update(before, h.source.bytes, moved.bytes) == after);
    const std::uint16_t given = icmp->checksum;
    const std::uint16_t updated = checksum_update(given, h.source.bytes, moved.bytes);
    // (~a - ~b) modulo 0xFFFF: how far a checksum is from the right one.
    const auto off = [](std::uint16_t a, std::uint16_t b) {
      const std::uint32_t na = static_cast<std::uint16_t>(~a);
      const std::uint32_t nb = static_cast<std::uint16_t>(~b);
      return (na + 0xFFFF - nb) % 0xFFFF;
    };
    FUZZ_CHECK(off(updated, after) == off(given, before));
  }
  const auto echo = parse_echo(*icmp);
  if (!echo) {
    check_error(echo.error());
    return 0;
  }
  // Any code: the builder writes code 0, and the result parses, verifies and
  // gives the same fields.
  const Ipv6Header& h = view->header;
  const ByteVector rebuilt = build_echo(h.source, h.destination, h.hop_limit, *echo);
  FUZZ_CHECK(rebuilt.size() == packet.size());
  const auto rebuilt_view = parse_ipv6_packet(rebuilt);
  FUZZ_CHECK(rebuilt_view);
  const auto rebuilt_icmp = parse_icmpv6(*rebuilt_view, ChecksumPolicy::verify);
  FUZZ_CHECK(rebuilt_icmp && rebuilt_icmp->code == 0 && rebuilt_icmp->type == icmp->type);
  const auto again = parse_echo(*rebuilt_icmp);
  FUZZ_CHECK(again && again->reply == echo->reply && again->identifier == echo->identifier &&
             again->sequence == echo->sequence && same_bytes(again->data, echo->data));
  if (icmp->code == 0) {
    // Only the checksum may differ, and only where the input's was wrong.
    FUZZ_CHECK(same_bytes(Bytes(rebuilt).first(kIpv6HeaderSize + 2), Bytes(packet).first(kIpv6HeaderSize + 2)));
    FUZZ_CHECK(same_bytes(Bytes(rebuilt).subspan(kIpv6HeaderSize + 4), Bytes(packet).subspan(kIpv6HeaderSize + 4)));
    if (parse_icmpv6(*view, ChecksumPolicy::verify) && icmp->checksum != 0xFFFF) {
      FUZZ_CHECK(same_bytes(rebuilt, packet));
    }
  }
  return 0;
}
