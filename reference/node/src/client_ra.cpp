// Is this datagram the RA that answers our RS? RFC 4380 §5.2.1 (origin
// indication, destination, one Teredo prefix), §5.2.2 (nonce, HMAC), RFC 2461
// §6.1.2 (ND validity), R4380-4-04 (a global mapped IPv4).
#include <algorithm>
#include <string>

#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/nd.hpp"

namespace teredo::node {

std::optional<Client::ValidRa> Client::validate_ra(const Solicitation& rs, UdpEndpoint from,
                                                   const wire::TeredoDatagram& d, Outbox& out) {
  const std::string from_text = "from " + to_string(from);
  // §5.2.1: the RA is awaited from the server: the address the RS went to,
  // or the other one for a cone RS (§5.3.2). Anything else may be spoofed.
  if (from != rs.expected_from) {
    out.drop("drop_ra_unexpected_source", "R4380-5.2.1-03",
             "expected " + to_string(rs.expected_from) + ", " + from_text);
    return std::nullopt;
  }
  const bool nonce_sent = config_.secure.has_value() || config_.send_nonce;
  if (nonce_sent) {
    // R4380-5.2.2-02: the nonce we sent must come back, or the RA is discarded.
    if (!d.authentication) {
      out.drop("drop_ra_auth_missing", config_.secure ? "R4380-5.2.2-04" : "R4380-5.2.2-02",
               from_text);
      return std::nullopt;
    }
    if (!std::equal(rs.nonce.begin(), rs.nonce.end(), d.authentication->nonce.begin())) {
      out.drop("drop_ra_nonce_mismatch", "R4380-5.2.2-02", from_text);
      return std::nullopt;
    }
    // R4380-5.2.2-04: a wrong (or missing) authentication value: discarded.
    if (config_.secure &&
        !wire::verify_authentication(d, config_.secure->algorithm, config_.secure->secret)) {
      out.drop("drop_ra_bad_mac", "R4380-5.2.2-04",
               std::string(wire::to_string(config_.secure->algorithm)) + " " + from_text);
      return std::nullopt;
    }
  }
  // R4380-5.2.1-03: an origin indication must be present.
  if (!d.origin) {
    out.drop("drop_ra_no_origin", "R4380-5.2.1-03", from_text);
    return std::nullopt;
  }
  const wire::Ipv6Header& h = d.ipv6.header;
  // R2461-6.1.2-02: hop limit 255.
  if (h.hop_limit != 255) {
    out.drop("drop_ra_hop_limit", "R2461-6.1.2-02", "hop limit " + std::to_string(h.hop_limit));
    return std::nullopt;
  }
  // R2461-6.1.2-01: a link-local source (the server's, §5.2.1).
  if (!h.source.is_link_local()) {
    out.drop("drop_ra_source_not_link_local", "R2461-6.1.2-01", wire::to_string(h.source));
    return std::nullopt;
  }
  // R4380-5.2.1-03: addressed to the link-local source of our RS.
  if (h.destination != rs.source) {
    out.drop("drop_ra_wrong_destination", "R4380-5.2.1-03", wire::to_string(h.destination));
    return std::nullopt;
  }
  // R2461-6.1.2-03: a valid ICMPv6 checksum.
  const auto icmp = wire::parse_icmpv6(d.ipv6, wire::ChecksumPolicy::verify);
  if (!icmp) {
    out.drop(wire::to_string(icmp.error()),
             icmp.error() == wire::ParseError::bad_icmpv6_checksum ? "R2461-6.1.2-03"
                                                                    : "R2461-6.1.2-05",
             from_text);
    return std::nullopt;
  }
  // R2461-6.1.2-04: code 0.
  if (icmp->code != 0) {
    out.drop("drop_ra_code", "R2461-6.1.2-04", "code " + std::to_string(icmp->code));
    return std::nullopt;
  }
  // R2461-6.1.2-05: at least 16 octets; R2461-6.1.2-06: no zero-length option.
  const auto ra = wire::parse_router_advertisement(*icmp);
  if (!ra) {
    const wire::ParseError e = ra.error();
    out.drop(wire::to_string(e),
             e == wire::ParseError::nd_option_zero_length            ? "R2461-6.1.2-06"
             : e == wire::ParseError::truncated_router_advertisement ? "R2461-6.1.2-05"
                                                                     : "R4380-5.2.1-03",
             from_text);
    return std::nullopt;
  }
  // R4380-5.2.1-03: exactly one Prefix Information option.
  if (ra->options.prefix_information_count != 1) {
    out.drop("drop_ra_prefix_count", "R4380-5.2.1-03",
             std::to_string(ra->options.prefix_information_count) + " prefix options");
    return std::nullopt;
  }
  // R4380-5.2.1-04: 2001:0000:<server IPv4>::/64.
  const wire::PrefixInformation& pio = *ra->options.prefix_information;
  const wire::Ipv6Address expected = wire::teredo_prefix(config_.server);
  if (pio.prefix_length != 64 ||
      !std::equal(expected.bytes.begin(), expected.bytes.begin() + 8, pio.prefix.bytes.begin())) {
    out.drop("drop_ra_not_teredo_prefix", "R4380-5.2.1-04",
             wire::to_string(pio.prefix) + "/" + std::to_string(pio.prefix_length));
    return std::nullopt;
  }
  // R4380-4-04: a Teredo address embeds a global unicast IPv4.
  const UdpEndpoint mapping{d.origin->address, d.origin->port};
  if (!wire::is_global_unicast(mapping.address) || mapping.port == 0) {
    out.drop("drop_ra_non_global_mapping", "R4380-4-04",
             std::string(wire::to_string(wire::classify_ipv4(mapping.address))) + " " +
                 to_string(mapping));
    return std::nullopt;
  }
  // R4380-5.2.2-03: a non-zero confirmation byte: the key is to be renewed.
  if (d.authentication && d.authentication->confirmation != 0) {
    out.action("obtain_new_key", "R4380-5.2.2-03",
               "confirmation " + std::to_string(d.authentication->confirmation));
  }
  ValidRa valid;
  valid.mapping = mapping;
  valid.prefix = pio.prefix;
  return valid;
}

}  // namespace teredo::node
