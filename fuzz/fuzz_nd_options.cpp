// fuzz_nd_options: Neighbor Discovery options and router solicitation /
// advertisement (RFC 4861 §4.1, §4.2, §4.6). Input: an ICMPv6 message (type,
// code, checksum, body); it is also walked as a bare option list.
// Properties:
//  - parse_nd_options agrees with a plain reference walk written here: same
//    verdict, same error, same counts, same first prefix information, MTU and
//    source link-layer address;
//  - the option encoders rebuild the list: every source link-layer, prefix
//    information and MTU option (reserved fields zero) re-encoded with
//    append_*_option from its parsed fields, other options copied, gives the
//    list back byte for byte;
//  - RS and RA rebuilt with build_router_solicitation / _advertisement from
//    the parsed fields and the encoded options are the same bytes, checksum
//    included (fuzz_common.hpp check_icmpv6).
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_common.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/nd.hpp"

using namespace teredo::wire;
using teredo::fuzz::be16;
using teredo::fuzz::be32;
using teredo::fuzz::check_error;
using teredo::fuzz::same_bytes;

namespace {

struct ReferenceWalk {
  ParseError error = ParseError::none;
  std::uint16_t count = 0;
  std::uint16_t prefix_information_count = 0;
  std::uint16_t unknown_count = 0;
  std::optional<PrefixInformation> prefix_information;
  std::optional<std::uint32_t> mtu;
  Bytes source_link_layer;
  ByteVector reencoded;
};

ReferenceWalk walk(Bytes options) {
  ReferenceWalk r;
  std::size_t at = 0;
  while (at < options.size()) {
    if (options.size() - at < 2) {
      r.error = ParseError::truncated_nd_option;
      return r;
    }
    const std::uint8_t type = options[at];
    const std::size_t size = std::size_t{options[at + 1]} * 8;
    if (size == 0) {
      r.error = ParseError::nd_option_zero_length;
      return r;
    }
    if (options.size() - at < size) {
      r.error = ParseError::nd_option_overlong;
      return r;
    }
    const Bytes option = options.subspan(at, size);
    const Bytes body = option.subspan(2);
    ++r.count;
    if (type == kNdOptionSourceLinkLayer) {
      if (r.source_link_layer.empty()) r.source_link_layer = body;
      append_source_link_layer_option(r.reencoded, body);
    } else if (type == kNdOptionPrefixInformation) {
      if (size != 32) {
        r.error = ParseError::bad_prefix_information_length;
        return r;
      }
      ++r.prefix_information_count;
      PrefixInformation pi;
      pi.prefix_length = body[0];
      pi.flags = body[1];
      pi.valid_lifetime = be32(&body[2]);
      pi.preferred_lifetime = be32(&body[6]);
      std::copy_n(body.begin() + 14, 16, pi.prefix.bytes.begin());
      if (!r.prefix_information) r.prefix_information = pi;
      if (be32(&body[10]) == 0) {
        append_prefix_information_option(r.reencoded, pi);
      } else {
        r.reencoded.insert(r.reencoded.end(), option.begin(), option.end());
      }
    } else if (type == kNdOptionMtu) {
      if (size != 8) {
        r.error = ParseError::bad_mtu_option_length;
        return r;
      }
      const std::uint32_t mtu = be32(&body[2]);
      if (!r.mtu) r.mtu = mtu;
      if (be16(&body[0]) == 0) {
        append_mtu_option(r.reencoded, mtu);
      } else {
        r.reencoded.insert(r.reencoded.end(), option.begin(), option.end());
      }
    } else {
      ++r.unknown_count;
      r.reencoded.insert(r.reencoded.end(), option.begin(), option.end());
    }
    at += size;
  }
  return r;
}

void check_options(Bytes options) {
  const auto parsed = parse_nd_options(options);
  const ReferenceWalk ref = walk(options);
  if (!parsed) {
    check_error(parsed.error());
    FUZZ_CHECK(parsed.error() == ref.error);
    return;
  }
  FUZZ_CHECK(ref.error == ParseError::none);
  const NdOptions& o = *parsed;
  FUZZ_CHECK(same_bytes(o.encoded, options));
  FUZZ_CHECK(o.count == ref.count && o.prefix_information_count == ref.prefix_information_count &&
             o.unknown_count == ref.unknown_count);
  FUZZ_CHECK(o.prefix_information == ref.prefix_information);
  FUZZ_CHECK(o.mtu == ref.mtu);
  FUZZ_CHECK(same_bytes(o.source_link_layer, ref.source_link_layer));
  FUZZ_CHECK(same_bytes(ref.reencoded, options));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0xFFFF) return 0;  // more than an IPv6 payload length can announce
  const Bytes message(data, size);
  check_options(message);

  const ByteVector packet = teredo::fuzz::wrap_icmpv6(message);
  const auto view = parse_ipv6_packet(packet);
  FUZZ_CHECK(view && view->trailer.empty());
  teredo::fuzz::check_icmpv6(*view);

  const auto icmp = parse_icmpv6(*view, ChecksumPolicy::ignore);
  if (!icmp) return 0;
  const auto rs = parse_router_solicitation(*icmp);
  if (rs) check_options(rs->options.encoded);
  if (!rs && icmp->type == kIcmpv6RouterSolicitation && icmp->body.size() >= 4) {
    FUZZ_CHECK(rs.error() == walk(icmp->body.subspan(4)).error);
  }
  const auto ra = parse_router_advertisement(*icmp);
  if (ra) check_options(ra->options.encoded);
  if (!ra && icmp->type == kIcmpv6RouterAdvertisement && icmp->body.size() >= 12) {
    FUZZ_CHECK(ra.error() == walk(icmp->body.subspan(12)).error);
  }
  if (icmp->type == kIcmpv6RouterSolicitation && icmp->body.size() < 4) {
    FUZZ_CHECK(rs.error() == ParseError::truncated_router_solicitation);
  }
  if (icmp->type == kIcmpv6RouterAdvertisement && icmp->body.size() < 12) {
    FUZZ_CHECK(ra.error() == ParseError::truncated_router_advertisement);
  }
  return 0;
}
