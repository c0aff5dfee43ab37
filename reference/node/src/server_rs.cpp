// RFC 4380 §5.3.2: answering a router solicitation, after the validity checks
// of RFC 2461 §6.1.1 and, when configured, secure qualification (§5.2.2).
#include <algorithm>
#include <string>

#include "teredo/node/addressing.hpp"
#include "teredo/node/server.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "teredo/wire/hmac.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/nd.hpp"

namespace teredo::node {

namespace {
std::string from_text(UdpEndpoint from) { return "from " + to_string(from); }

bool same_bytes(wire::Bytes a, wire::Bytes b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Client ids are attacker-chosen and up to 255 bytes: log a bounded prefix.
std::string id_text(wire::Bytes id) {
  constexpr std::size_t kShown = 16;
  return "client id " + wire::to_hex(id.first(std::min(id.size(), kShown))) +
         (id.size() > kShown ? "..." : "");
}
}  // namespace

void Server::handle_rs(UdpEndpoint local, UdpEndpoint from, const wire::TeredoDatagram& d,
                       Outbox& out) {
  const wire::Ipv6PacketView& packet = d.ipv6;
  // R2461-6.1.1-01: hop limit 255, or the RS did not come from the link.
  if (packet.header.hop_limit != 255) {
    out.drop("drop_rs_hop_limit", "R2461-6.1.1-01",
             "hop limit " + std::to_string(packet.header.hop_limit) + " " + from_text(from));
    return;
  }
  // R2461-6.1.1-02: the ICMPv6 checksum must be valid (truncated_icmpv6 when
  // not even the 4-byte ICMPv6 header is there: R2461-6.1.1-04).
  const auto icmp = wire::parse_icmpv6(packet, wire::ChecksumPolicy::verify);
  if (!icmp) {
    out.drop(wire::to_string(icmp.error()),
             icmp.error() == wire::ParseError::bad_icmpv6_checksum ? "R2461-6.1.1-02"
                                                                    : "R2461-6.1.1-04",
             from_text(from));
    return;
  }
  // R2461-6.1.1-03: ICMPv6 code 0.
  if (icmp->code != 0) {
    out.drop("drop_rs_code", "R2461-6.1.1-03",
             "code " + std::to_string(icmp->code) + " " + from_text(from));
    return;
  }
  // R2461-6.1.1-04: ICMPv6 length at least 8 octets.
  if (icmp->message.size() < 8) {
    out.drop("truncated_router_solicitation", "R2461-6.1.1-04",
             std::to_string(icmp->message.size()) + " octets " + from_text(from));
    return;
  }
  // R2461-6.1.1-05: every option has a length > 0 (and fits the message).
  const auto rs = wire::parse_router_solicitation(*icmp);
  if (!rs) {
    out.drop(wire::to_string(rs.error()),
             rs.error() == wire::ParseError::nd_option_zero_length ? "R2461-6.1.1-05"
                                                                   : "R4380-5.3.1-02",
             from_text(from));
    return;
  }
  // R2461-6.1.1-06 (unspecified source with a source link-layer option) needs
  // no check here: only link-local sources reach this point (R4380-5.3.1-05).

  // R4380-5.3.1-06: with secure qualification, no valid authentication, no RA.
  const ClientCredential* credential = nullptr;
  if (config_.secure) {
    credential = authenticate(d, out);
    if (credential == nullptr) return;
  }

  // R4380-5.3.2-07, R5991-3.2-03: the cone bit of the RS source selects the
  // RA's IPv4 source: cone 1 from the other address than the one the RS came
  // to, cone 0 from the same one (R4380-5.3.2-06: normally the primary).
  const bool cone = identifier_cone_bit(packet.header.source);
  const UdpEndpoint reply_from =
      cone ? (local == primary_endpoint() ? secondary_endpoint() : primary_endpoint()) : local;

  wire::ByteVector options;
  wire::PrefixInformation prefix;
  prefix.prefix_length = 64;
  prefix.flags = config_.ra.prefix_flags;
  prefix.valid_lifetime = config_.ra.valid_lifetime;
  prefix.preferred_lifetime = config_.ra.preferred_lifetime;
  // R4380-5.3.2-02: the prefix 2001:0000:<server IPv4>::/64.
  prefix.prefix = wire::teredo_prefix(config_.primary);
  wire::append_prefix_information_option(options, prefix);
  // R4380-5.1.2-01: the MTU the server supplies is 1280.
  wire::append_mtu_option(options, config_.mtu);

  wire::RouterAdvertisement fields;
  fields.cur_hop_limit = config_.ra.cur_hop_limit;
  fields.flags = config_.ra.flags;
  fields.router_lifetime = config_.ra.router_lifetime;
  fields.reachable_time = config_.ra.reachable_time;
  fields.retrans_timer = config_.ra.retrans_timer;
  // R4380-5.3.2-03: from our link-local address; R4380-5.3.2-04: to the RS
  // source; hop limit 255 (RFC 2461 §6.1.2 makes clients check it).
  const wire::ByteVector ra = wire::build_router_advertisement(
      link_local_, packet.header.source, fields, options, 255);

  // R4380-5.3.2-01, R4380-5.1.1-01: the RS's IPv4 source and port are the
  // client's mapped address and port, returned in the origin indication.
  const wire::OriginIndication origin{from.port, from.address};

  std::optional<wire::AuthenticationFields> auth;
  wire::AuthenticationValue mac;
  if (d.authentication) {
    auth.emplace();
    // R4380-5.3.2-11: the client identifier and nonce of the RS, repeated.
    auth->client_id = d.authentication->client_id;
    auth->nonce = d.authentication->nonce;
    // R4380-5.3.2-12: confirmation 0 while the client identifier is valid.
    auth->confirmation = credential != nullptr && credential->expired ? 1 : 0;
    if (credential != nullptr) {
      // R4380-5.3.2-10, R4380-5.3.2-13: a valid authentication value, made
      // with the secret of that client, over nonce | confirmation | origin |
      // IPv6 packet (§5.2.2).
      wire::ByteVector origin_encoded;
      wire::append_origin_indication(origin_encoded, origin);
      const auto value = wire::compute_authentication_value(
          config_.secure->algorithm, credential->secret, auth->nonce, auth->confirmation,
          origin_encoded, ra);
      if (!value) {
        out.drop("drop_mac_unavailable", "R4380-5.3.2-10",
                 std::string(wire::to_string(config_.secure->algorithm)) + " " + from_text(from));
        return;
      }
      mac = *value;
      auth->authentication_value = mac.view();
    }
  }

  wire::ByteVector payload;
  payload.reserve(ra.size() + wire::kOriginIndicationSize +
                  (auth ? wire::kAuthenticationFixedSize + auth->client_id.size() + mac.size : 0));
  // R4380-5.1.1-02: authentication first, then the origin indication.
  if (!wire::append_datagram(payload, auth, origin, ra)) {
    out.drop("drop_authentication_too_long", "R4380-5.3.2-11", from_text(from));
    return;
  }
  // R4380-5.3.2-05: to the mapped address and port; R4380-5.3.2-08/09: only
  // to a global unicast IPv4 (send() checks it again).
  if (send(reply_from, from, std::move(payload), "R4380-5.3.2-09", out) && out.record_actions) {
    out.action("rs_answered", cone ? "R4380-5.3.2-07" : "R4380-5.3.2-06",
               "RA to " + to_string(from) + " from " + to_string(reply_from) +
                   (cone ? " (cone)" : "") + (auth ? " with authentication" : ""));
  }
}

const ClientCredential* Server::authenticate(const wire::TeredoDatagram& d, Outbox& out) const {
  if (!d.authentication) {
    out.drop("drop_auth_missing", "R4380-5.3.1-06", "RS without authentication");
    return nullptr;
  }
  const auto& clients = config_.secure->clients;
  const auto it = std::find_if(clients.begin(), clients.end(), [&](const ClientCredential& c) {
    return same_bytes(c.id, d.authentication->client_id);
  });
  if (it == clients.end()) {
    out.drop("drop_auth_unknown_client", "R4380-5.3.1-06",
             id_text(d.authentication->client_id));
    return nullptr;
  }
  if (!wire::verify_authentication(d, config_.secure->algorithm, it->secret)) {
    out.drop("drop_auth_bad_mac", "R4380-5.3.1-06",
             id_text(d.authentication->client_id));
    return nullptr;
  }
  return &*it;
}

}  // namespace teredo::node
