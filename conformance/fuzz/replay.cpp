#include "fuzz/replay.hpp"

#include "fuzz/oracles.hpp"

#include <fmt/format.h>

namespace teredo::conformance::fuzz {

using namespace teredo::wire;

namespace {

std::string hex_of(const Nonce& n) { return to_hex(Bytes(n.data(), n.size())); }

}  // namespace

std::optional<ReplayDatagram> to_teredo_server(std::uint64_t frame, LinkType link, Bytes data) {
  const auto carrier = find_udp_carrier(link, data);
  if (!carrier || carrier->ipv6 || carrier->payload_truncated || carrier->destination_port != kUdpPortTeredo) {
    return std::nullopt;
  }
  ReplayDatagram r;
  r.frame = frame;
  r.payload.assign(carrier->payload.begin(), carrier->payload.end());
  const std::string from = fmt::format("{}:{}", to_string(carrier->source4), carrier->source_port);
  const auto d = parse_datagram(carrier->payload, DatagramParseOptions{.accept_trailers = true});
  if (!d) {
    // Replayed all the same (a fuzz finding's reproducer is malformed on
    // purpose): the IUT must survive it.
    r.what = fmt::format("a {}-byte datagram our decoder rejects ({}) from {} (frame {})", r.payload.size(),
                         to_string(d.error()), from, frame);
    return r;
  }
  if (d->authentication) r.nonce = d->authentication->nonce;
  const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::verify);
  // RFC 4861 §6.1.1: hop limit 255, code 0, a valid checksum.
  r.router_solicitation = icmp && icmp->type == kIcmpv6RouterSolicitation && icmp->code == 0 &&
                          d->ipv6.header.hop_limit == 255 && static_cast<bool>(parse_router_solicitation(*icmp));
  if (r.router_solicitation) {
    r.what = fmt::format("the RS {} from {} (frame {})", r.nonce ? "with nonce " + hex_of(*r.nonce) : "without nonce",
                         from, frame);
  } else {
    r.what = fmt::format("a Teredo datagram ({} -> {}) from {} (frame {})", to_string(d->ipv6.header.source),
                         to_string(d->ipv6.header.destination), from, frame);
  }
  return r;
}

std::optional<RelayReplayDatagram> to_relay_input(std::uint64_t frame, LinkType link, Bytes data) {
  const auto carrier = find_udp_carrier(link, data);
  if (!carrier || carrier->payload_truncated) return std::nullopt;
  RelayReplayDatagram r;
  r.frame = frame;
  r.payload.assign(carrier->payload.begin(), carrier->payload.end());
  if (carrier->ipv6) {
    if (!is_teredo(carrier->destination6)) return std::nullopt;
    r.native_to = carrier->destination6;
    r.native_port = carrier->destination_port;
    r.what = fmt::format("a {}-byte native UDP packet to [{}]:{} (frame {})", r.payload.size(),
                         to_string(carrier->destination6), carrier->destination_port, frame);
    return r;
  }
  if (carrier->destination_port != kUdpPortTeredo) return std::nullopt;
  r.what = fmt::format("a {}-byte datagram to the relay's Teredo port from {}:{} (frame {})", r.payload.size(),
                       to_string(carrier->source4), carrier->source_port, frame);
  return r;
}

std::optional<ClientReplayDatagram> to_client_input(std::uint64_t frame, LinkType link, Bytes data) {
  const auto carrier = find_udp_carrier(link, data);
  if (!carrier || carrier->ipv6 || carrier->payload_truncated) return std::nullopt;
  const bool discovery = carrier->destination4 == *parse_ipv4("224.0.0.253");
  if (carrier->destination_port == kUdpPortTeredo && !discovery) return std::nullopt;
  ClientReplayDatagram r;
  r.frame = frame;
  r.payload.assign(carrier->payload.begin(), carrier->payload.end());
  const auto d = parse_datagram(carrier->payload, DatagramParseOptions{.accept_trailers = true});
  const bool bubble = d && is_bubble(d->ipv6);
  bool ra = false;
  if (d) {
    const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::ignore);
    ra = icmp && icmp->type == kIcmpv6RouterAdvertisement;
  }
  const std::string source = to_string(carrier->source4);
  if (discovery) {
    r.base = "discovery_bubble";
  } else if (ra && carrier->source_port == kUdpPortTeredo) {
    r.base = "ra";  // any server's (a real capture's)
  } else if ((source == "203.0.113.1" || source == "203.0.113.2") && carrier->source_port == kUdpPortTeredo) {
    // A payload our decoder rejects from the server is sent as an RA: it
    // reaches the client in the state where it reads RAs.
    r.base = ra || !d ? "ra" : "bubble_via_server";
  } else if (source == "198.51.100.9") {
    r.base = "data_from_relay";
  } else {
    r.base = bubble ? "bubble_to_client" : "echo_to_client";
  }
  r.what = fmt::format("a {}-byte datagram from {}:{} to {}:{}, sent as {} (frame {})", r.payload.size(), source,
                       carrier->source_port, to_string(carrier->destination4), carrier->destination_port, r.base,
                       frame);
  return r;
}

ReplayVerdict judge_replayed_rs(const ReplayDatagram& rs, const std::vector<ByteVector>& answers,
                                bool control_answered) {
  bool echoed = false, other_ra = false;
  for (const ByteVector& a : answers) {
    if (is_ra_for(a, rs.nonce)) echoed = true;
    else if (is_ra_for(a, std::nullopt)) other_ra = true;
  }
  if (echoed) {
    return rs.nonce ? ReplayVerdict{"pass", "R4380-5.3.2-11", "nonce_not_echoed",
                                    rs.what + ": answered by an RA repeating its nonce"}
                    : ReplayVerdict{"pass", "R4380-5.3.1-05", "valid_rs_discarded", rs.what + ": answered by an RA"};
  }
  if (other_ra) {
    return {"fail", "R4380-5.3.2-11", "nonce_not_echoed",
            rs.what + ": answered by an RA that does not repeat its nonce"};
  }
  if (control_answered) {
    return {"fail", "R4380-5.3.1-05", "valid_rs_discarded",
            rs.what + fmt::format(": no RA ({} other datagram(s)), while a later valid RS was answered: discarded",
                                  answers.size())};
  }
  return {"inconclusive", "R4380-5.3.1-05", "control_unanswered",
          rs.what + ": no RA, but a later valid RS got none either: the silence proves nothing"};
}

}  // namespace teredo::conformance::fuzz
