// Neighbor Discovery router solicitation and advertisement (RFC 4861 §4.1,
// §4.2) with the options Teredo qualification uses: source link-layer address
// (type 1), prefix information (type 3, length 4), MTU (type 5, length 1).
// Unknown options are skipped; a zero-length option or one running past the
// message is an error, so option walks always terminate.
#pragma once

#include <cstdint>
#include <optional>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/result.hpp"

namespace teredo::wire {

inline constexpr std::uint8_t kNdOptionSourceLinkLayer = 1;
inline constexpr std::uint8_t kNdOptionPrefixInformation = 3;
inline constexpr std::uint8_t kNdOptionMtu = 5;

struct PrefixInformation {
  std::uint8_t prefix_length = 64;
  std::uint8_t flags = 0x80;  // L=1 (on-link); A=0x40
  std::uint32_t valid_lifetime = 0xFFFFFFFF;
  std::uint32_t preferred_lifetime = 0xFFFFFFFF;
  Ipv6Address prefix;  // as carried; users mask it to prefix_length
  friend constexpr bool operator==(const PrefixInformation&, const PrefixInformation&) noexcept =
      default;
};

// A summary of an option list, gathered in one pass without allocating.
struct NdOptions {
  std::uint16_t count = 0;
  std::uint16_t prefix_information_count = 0;  // §5.2.1: an RA must carry exactly one
  std::optional<PrefixInformation> prefix_information;  // the first one
  std::optional<std::uint32_t> mtu;
  Bytes source_link_layer;  // the address bytes of the first such option
  std::uint16_t unknown_count = 0;
  Bytes encoded;  // the whole option list
};

// Errors: nd_option_zero_length, nd_option_overlong, truncated_nd_option,
// bad_prefix_information_length, bad_mtu_option_length.
Result<NdOptions> parse_nd_options(Bytes options) noexcept;

struct RouterSolicitation {
  NdOptions options;
};

struct RouterAdvertisement {
  std::uint8_t cur_hop_limit = 0;
  std::uint8_t flags = 0;  // M 0x80, O 0x40
  std::uint16_t router_lifetime = 0;
  std::uint32_t reachable_time = 0;
  std::uint32_t retrans_timer = 0;
  NdOptions options;
};

// Errors: wrong_icmpv6_type, truncated_router_solicitation /
// truncated_router_advertisement, and the option errors above. Semantic
// validation (hop limit 255, code 0: RFC 4861 §6.1) is the node's business.
Result<RouterSolicitation> parse_router_solicitation(const Icmpv6Message& message) noexcept;
Result<RouterAdvertisement> parse_router_advertisement(const Icmpv6Message& message) noexcept;

// Option encoders, for builders and tests that craft odd option lists.
void append_source_link_layer_option(ByteVector& out, Bytes link_layer_address);
void append_prefix_information_option(ByteVector& out, const PrefixInformation& prefix);
void append_mtu_option(ByteVector& out, std::uint32_t mtu);

// Full IPv6 packets with the ICMPv6 checksum computed. `options` is an
// encoded option list (use the append_*_option encoders).
ByteVector build_router_solicitation(const Ipv6Address& source, const Ipv6Address& destination,
                                     Bytes options, std::uint8_t hop_limit = 255);
ByteVector build_router_advertisement(const Ipv6Address& source, const Ipv6Address& destination,
                                      const RouterAdvertisement& fields, Bytes options,
                                      std::uint8_t hop_limit = 255);

}  // namespace teredo::wire
