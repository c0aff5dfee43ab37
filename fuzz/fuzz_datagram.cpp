// fuzz_datagram: a whole Teredo UDP payload (RFC 4380 §5.1.1; RFC 6081 §4
// trailers when accepted). Input: the UDP payload.
// Properties:
//  - parse_datagram with and without accept_trailers agree: they differ only
//    on trailer bytes, which the strict parse refuses with
//    trailing_bytes_after_ipv6_packet;
//  - parse -> build -> same bytes: append_datagram from the parsed fields,
//    with the IPv6 packet rebuilt by build_ipv6_packet from header + payload,
//    writes exactly the input; parsing that again gives the same fields;
//  - the inner packet: the ICMPv6 / echo / RS / RA / bubble properties of
//    fuzz_common.hpp (checksum verdict, builders rebuild the bytes);
//  - the trailers (trailer.hpp): the walk covers the trailer bytes exactly
//    up to a malformed one; every trailer whose typed value parses is
//    rebuilt byte for byte by its builder;
//  - with TEREDO_FUZZ_HMAC: verify_authentication says yes exactly when the
//    authentication value is the HMAC, and a datagram re-signed with the
//    computed value verifies.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_common.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/trailer.hpp"
#ifdef TEREDO_FUZZ_HMAC
#include "teredo/wire/hmac.hpp"
#endif

using namespace teredo::wire;
using teredo::fuzz::be16;
using teredo::fuzz::check_error;
using teredo::fuzz::inside;
using teredo::fuzz::same_bytes;

namespace {

bool same_header(const Ipv6Header& a, const Ipv6Header& b) {
  return a.traffic_class == b.traffic_class && a.flow_label == b.flow_label &&
         a.payload_length == b.payload_length && a.next_header == b.next_header &&
         a.hop_limit == b.hop_limit && a.source == b.source && a.destination == b.destination;
}

bool same_datagram(const TeredoDatagram& a, const TeredoDatagram& b) {
  if (a.authentication.has_value() != b.authentication.has_value()) return false;
  if (a.authentication) {
    const Authentication& x = *a.authentication;
    const Authentication& y = *b.authentication;
    if (!same_bytes(x.client_id, y.client_id) ||
        !same_bytes(x.authentication_value, y.authentication_value) || x.nonce != y.nonce ||
        x.confirmation != y.confirmation || !same_bytes(x.encoded, y.encoded)) {
      return false;
    }
  }
  return a.origin == b.origin && same_bytes(a.origin_encoded, b.origin_encoded) &&
         same_header(a.ipv6.header, b.ipv6.header) && same_bytes(a.ipv6.packet, b.ipv6.packet) &&
         same_bytes(a.ipv6.payload, b.ipv6.payload) && same_bytes(a.ipv6.trailer, b.ipv6.trailer);
}

std::optional<AuthenticationFields> fields_of(const std::optional<Authentication>& a) {
  if (!a) return std::nullopt;
  return AuthenticationFields{a->client_id, a->authentication_value, a->nonce, a->confirmation};
}

// Every well-formed trailer: a typed value that parses is rebuilt to the same
// bytes (type, length, value).
void check_trailers(Bytes trailers) {
  TrailerWalk walk(trailers);
  Trailer t;
  std::size_t covered = 0;
  while (walk.next(t)) {
    FUZZ_CHECK(t.value.data() == trailers.data() + covered + 2);
    const Bytes whole = trailers.subspan(covered, 2 + t.value.size());
    covered += whole.size();
    ByteVector rebuilt;
    if (const auto nonce = parse_nonce_trailer(t)) {
      append_nonce_trailer(rebuilt, *nonce);
    } else if (const auto alt = parse_alternate_address_trailer(t)) {
      if (alt->reserved != 0) continue;  // ignored on receipt, always sent as 0
      FUZZ_CHECK(append_alternate_address_trailer(rebuilt, alt->entries.data(), alt->count));
    } else if (const auto port = parse_random_port_trailer(t)) {
      append_random_port_trailer(rebuilt, *port);
    } else if (const auto nd = parse_neighbor_discovery_trailer(t)) {
      if (t.value[1] != 0 || t.value[2] != 0 || t.value[3] != 0) continue;  // reserved: ignored, sent as 0
      append_neighbor_discovery_trailer(rebuilt, *nd);
    } else {
      continue;
    }
    FUZZ_CHECK(same_bytes(rebuilt, whole));
  }
  FUZZ_CHECK(walk.malformed() == (covered != trailers.size()));
}

#ifdef TEREDO_FUZZ_HMAC
void check_hmac(const TeredoDatagram& d) {
  const Bytes secret(teredo::fuzz::kFuzzSecret);
  if (!d.authentication) {
    FUZZ_CHECK(!verify_authentication(d, MacAlgorithm::hmac_sha1, secret));
    return;
  }
  const Authentication& a = *d.authentication;
  const auto value = compute_authentication_value(MacAlgorithm::hmac_sha1, secret, a.nonce,
                                                  a.confirmation, d.origin_encoded, d.ipv6.packet);
  FUZZ_CHECK(value && value->size == 20);
  FUZZ_CHECK(verify_authentication(d, MacAlgorithm::hmac_sha1, secret) ==
             same_bytes(value->view(), a.authentication_value));

  // Re-signed with the right value, the same datagram verifies (and the
  // 16-byte MD5 check cannot accept a 20-byte value).
  ByteVector resigned;
  const AuthenticationFields fields{a.client_id, value->view(), a.nonce, a.confirmation};
  FUZZ_CHECK(append_datagram(resigned, fields, d.origin, d.ipv6.packet, d.ipv6.trailer));
  DatagramParseOptions lenient;
  lenient.accept_trailers = true;
  const auto again = parse_datagram(resigned, lenient);
  FUZZ_CHECK(again);
  FUZZ_CHECK(verify_authentication(*again, MacAlgorithm::hmac_sha1, secret));
  FUZZ_CHECK(!verify_authentication(*again, MacAlgorithm::hmac_md5, secret));
}
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  DatagramParseOptions strict_options;
  DatagramParseOptions lenient_options;
  lenient_options.accept_trailers = true;
  const auto strict = parse_datagram(input, strict_options);
  const auto lenient = parse_datagram(input, lenient_options);

  if (!lenient) {
    check_error(lenient.error());
    FUZZ_CHECK(!strict && strict.error() == lenient.error());
    FUZZ_CHECK(lenient.error() != ParseError::trailing_bytes_after_ipv6_packet);
    FUZZ_CHECK((size == 0) == (lenient.error() == ParseError::empty_datagram));
    return 0;
  }
  const TeredoDatagram& d = *lenient;
  if (strict) {
    FUZZ_CHECK(d.ipv6.trailer.empty());
    FUZZ_CHECK(same_datagram(*strict, d));
  } else {
    check_error(strict.error());
    FUZZ_CHECK(strict.error() == ParseError::trailing_bytes_after_ipv6_packet);
    FUZZ_CHECK(!d.ipv6.trailer.empty());
  }

  // Views into the input, in wire order, covering all of it.
  std::size_t offset = 0;
  if (d.authentication) {
    const Authentication& a = *d.authentication;
    FUZZ_CHECK(a.encoded.data() == data && be16(data) == kIndicatorAuthentication);
    FUZZ_CHECK(a.encoded.size() == kAuthenticationFixedSize + a.client_id.size() + a.authentication_value.size());
    FUZZ_CHECK(inside(a.client_id, a.encoded) && inside(a.authentication_value, a.encoded));
    offset += a.encoded.size();
  }
  if (d.origin) {
    FUZZ_CHECK(d.origin_encoded.size() == kOriginIndicationSize && d.origin_encoded.data() == data + offset);
    const auto origin = parse_origin_indication(d.origin_encoded);
    FUZZ_CHECK(origin && *origin == *d.origin);
    offset += kOriginIndicationSize;
  } else {
    FUZZ_CHECK(d.origin_encoded.empty());
  }
  const Ipv6PacketView& v = d.ipv6;
  FUZZ_CHECK(v.packet.data() == data + offset);
  FUZZ_CHECK(v.packet.size() == kIpv6HeaderSize + v.header.payload_length);
  FUZZ_CHECK(v.payload.size() == v.header.payload_length && v.payload.data() == v.packet.data() + kIpv6HeaderSize);
  FUZZ_CHECK(offset + v.packet.size() + v.trailer.size() == size);
  FUZZ_CHECK(v.header.flow_label <= 0xFFFFF);

  // parse -> build -> the same bytes -> parse -> the same fields.
  const ByteVector packet = build_ipv6_packet(v.header, v.payload);
  FUZZ_CHECK(same_bytes(packet, v.packet));
  ByteVector rebuilt;
  FUZZ_CHECK(append_datagram(rebuilt, fields_of(d.authentication), d.origin, packet, v.trailer));
  FUZZ_CHECK(same_bytes(rebuilt, input));
  const auto reparsed = parse_datagram(rebuilt, lenient_options);
  FUZZ_CHECK(reparsed && same_datagram(*reparsed, d));

  // The same packet on its own parses to the same view.
  const auto alone = parse_ipv6_packet(packet);
  FUZZ_CHECK(alone && alone->trailer.empty() && same_header(alone->header, v.header));

  teredo::fuzz::check_icmpv6(v);
  check_trailers(v.trailer);
#ifdef TEREDO_FUZZ_HMAC
  check_hmac(d);
#endif
  return 0;
}
