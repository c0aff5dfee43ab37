// RFC 4380 §5.2.1 qualification (as updated by RFC 5991 §3.2), §5.2.2
// secure qualification, and the RA checks of RFC 2461 §6.1.2.
#include <string>

#include "teredo/node/addressing.hpp"
#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

wire::Ipv6Address Client::link_local() const noexcept {
  return client_link_local(config_.local.address, config_.local.port, cone_);
}

void Client::begin_phase(Time now, QualificationState phase, Outbox& out) {
  state_ = phase;
  Solicitation rs;
  rs.cone = phase == QualificationState::probing_cone;
  rs.from = config_.local;
  const UdpEndpoint primary{config_.server, config_.server_port};
  const UdpEndpoint secondary{config_.server_secondary, config_.server_port};
  // R4380-5.2.1-01: to the server's IPv4 and the Teredo port; R4380-5.2.1-05:
  // the second phase goes to the secondary address.
  rs.to = phase == QualificationState::checking_symmetric ? secondary : primary;
  // §5.3.2 (R4380-5.3.2-07): a cone RS is answered from the other address;
  // only an RA from there proves the NAT lets unknown sources in.
  rs.expected_from = phase == QualificationState::probing_restricted ? primary : secondary;
  rs.source = client_link_local(config_.local.address, config_.local.port, rs.cone);
  rs_ = rs;
  out.action("qualification_phase", "R4380-5.2.1-01", std::string(to_string(phase)));
  send_rs(now, *rs_, out);
}

void Client::send_rs(Time now, Solicitation& rs, Outbox& out) {
  // R4380-5.2.1-01: from a Teredo link-local address to ff02::2.
  const wire::ByteVector packet = wire::build_router_solicitation(rs.source, all_routers(), {}, 255);
  std::optional<wire::AuthenticationFields> auth;
  wire::AuthenticationValue mac;
  if (config_.secure || config_.send_nonce) {
    // R4380-5.2.2-01: a fresh client-chosen nonce per RS, confirmation 0.
    random_bytes(rs.nonce);
    auth.emplace();
    auth->nonce = rs.nonce;
    auth->confirmation = 0;
    if (config_.secure) {
      auth->client_id = config_.secure->id;
      // R4380-5.2.2-05: HMAC over nonce | confirmation | IPv6 packet.
      const auto value = wire::compute_authentication_value(
          config_.secure->algorithm, config_.secure->secret, rs.nonce, 0, {}, packet);
      if (!value) {
        out.drop("drop_mac_unavailable", "R4380-5.2.2-05",
                 std::string(wire::to_string(config_.secure->algorithm)));
        return;
      }
      mac = *value;
      auth->authentication_value = mac.view();
    }
  }
  wire::ByteVector payload;
  if (!wire::append_datagram(payload, auth, std::nullopt, packet)) {
    out.drop("drop_authentication_too_long", "R4380-5.2.2-01", "client id over 255 bytes");
    return;
  }
  ++rs.sent;
  rs.deadline = now + timers_.rs_timeout;
  if (send(rs.to, std::move(payload), "R4380-5.2.1-01", out, false, rs.from)) {
    out.action("rs_sent", auth ? "R4380-5.2.2-01" : "R4380-5.2.1-01",
               "to " + to_string(rs.to) + " from " + to_string(rs.from) + " attempt " +
                   std::to_string(rs.sent) + (rs.cone ? " cone" : ""));
  }
}

void Client::rs_timed_out(Time now, Outbox& out) {
  // R4380-5.2.1-02: no RA within T: repeat, N times.
  if (rs_->sent <= timers_.rs_repetitions) {
    send_rs(now, *rs_, out);
    return;
  }
  switch (state_) {
    case QualificationState::probing_cone:
      // R4380-5.2.1-02: not behind a cone NAT: cone bit 0, same procedure.
      out.action("cone_probe_failed", "R4380-5.2.1-02", "no RA to the cone-bit RSs");
      begin_phase(now, QualificationState::probing_restricted, out);
      return;
    case QualificationState::probing_restricted:
      go_offline(now, "qualification_failed", "R4380-5.2.1-02",
                 "no RA after " + std::to_string(rs_->sent) + " RSs: UDP unusable", out);
      return;
    case QualificationState::checking_symmetric:
      go_offline(now, "secondary_server_silent", "R4380-5.2.1-05",
                 "no RA from the secondary address: service not usable", out);
      return;
    case QualificationState::qualified:
      server_lost(now, out);
      return;
    case QualificationState::starting:
    case QualificationState::offline:
      rs_.reset();
      return;
  }
}

void Client::handle_ra(Time now, UdpEndpoint from, const wire::TeredoDatagram& d, Outbox& out) {
  if (!rs_) {
    out.drop("drop_ra_unsolicited", "R4380-5.2.1-03", "no RS in flight, from " + to_string(from));
    return;
  }
  const auto ra = validate_ra(*rs_, from, d, out);
  if (!ra) return;
  switch (state_) {
    case QualificationState::probing_cone:
      // R4380-5.2.1-06: an RA to the cone-bit RS: cone NAT, fully qualified.
      nat_ = NatType::cone;
      qualify(now, *ra, true, out);
      return;
    case QualificationState::probing_restricted:
      if (!config_.check_symmetric) {
        qualify(now, *ra, false, out);
        return;
      }
      // R4380-5.2.1-05: restricted or symmetric? Ask the secondary address.
      first_mapping_ = ra->mapping;
      out.action("primary_mapping_learned", "R4380-5.2.1-05", to_string(ra->mapping));
      begin_phase(now, QualificationState::checking_symmetric, out);
      return;
    case QualificationState::checking_symmetric:
      if (ra->mapping == *first_mapping_) {
        // R4380-5.2.1-05: same mapping: (port-)restricted cone NAT, qualified.
        nat_ = NatType::restricted;
        qualify(now, ValidRa{*first_mapping_, ra->prefix}, false, out);
        return;
      }
      out.action("symmetric_nat_detected", "R4380-5.2.1-05",
                 "primary saw " + to_string(*first_mapping_) + ", secondary saw " +
                     to_string(ra->mapping));
      // Kept off-line too: what qualification learned, for whoever asks.
      nat_ = NatType::symmetric;
      if (config_.symmetric_nat_support) {
        // RFC 6081 §5.2: use Teredo anyway, with the primary's mapping.
        qualify(now, ValidRa{*first_mapping_, ra->prefix}, false, out);
        return;
      }
      go_offline(now, "symmetric_nat", "R4380-5.2.1-05", "Teredo not usable behind it", out);
      return;
    case QualificationState::qualified:
      refreshed(now, *ra, out);
      return;
    case QualificationState::starting:
    case QualificationState::offline:
      return;
  }
}

void Client::qualify(Time now, const ValidRa& ra, bool cone, Outbox& out) {
  cone_ = cone;
  mapped_ = ra.mapping;
  // R4380-5.2.1-07: prefix + flags + ~port + ~IPv4 of the origin indication.
  // R4380-5.2.1-06: the cone bit that got the RA; R5991-3.1-01, R4380-4-01:
  // z, U and G zero; R5991-3.1-02/03: the twelve random bits.
  std::array<std::uint8_t, 2> r{};
  if (config_.random_flags) random_bytes(r);
  wire::TeredoAddress t;
  t.server = wire::Ipv4Address{(std::uint32_t{ra.prefix.bytes[4]} << 24) |
                               (std::uint32_t{ra.prefix.bytes[5]} << 16) |
                               (std::uint32_t{ra.prefix.bytes[6]} << 8) | ra.prefix.bytes[7]};
  t.flags = wire::make_teredo_flags(cone, static_cast<std::uint16_t>((r[0] << 8) | r[1]));
  t.mapped_port = ra.mapping.port;
  t.mapped_ipv4 = ra.mapping.address;
  address_ = t.to_ipv6();
  state_ = QualificationState::qualified;
  rs_.reset();
  first_mapping_.reset();
  last_server_interaction_ = now;
  draw_refresh_interval();
  random_port_qualified(ra, out);
  out.action("qualified", "R4380-5.2.1-07",
             wire::to_string(*address_) + " mapping " + to_string(ra.mapping) + " nat " +
                 std::string(to_string(nat_)));
  upnp_qualified(out);  // RFC 6081 §5.3.3: the server's mapping against the UPnP one
  // §5.2.8: the first discovery bubble as soon as there is an address.
  if (config_.local_discovery) next_discovery_ = now;
  if (config_.interval_determination && interval_.phase == IntervalProbe::Phase::off) {
    interval_start(now, out);
  }
}

}  // namespace teredo::node
