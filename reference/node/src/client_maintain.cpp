// RFC 4380 §5.2.5 maintenance, with the refresh interval of §5.2 as refined
// by RFC 6081 §5.1.1.
#include <algorithm>
#include <string>

#include "teredo/node/client.hpp"

namespace teredo::node {

void Client::draw_refresh_interval() {
  // R4380-5.2-07: randomly between 75 % and 100 % of the refresh interval by
  // default; R6081-5.1.1-03/04: any configured range, kept within 50-150 %.
  const double low = std::clamp(std::min(timers_.refresh_low, timers_.refresh_high), 0.5, 1.5);
  const double high = std::clamp(std::max(timers_.refresh_low, timers_.refresh_high), 0.5, 1.5);
  const auto at = [this](double f) {
    return Duration{static_cast<Duration::rep>(static_cast<double>(refresh_interval_.count()) * f)};
  };
  randomized_refresh_ = uniform(at(low), at(high));
}

void Client::start_refresh(Time now, Outbox& out) {
  Solicitation rs;
  // R4380-5.2.5-03: the cone bit that got the RA during qualification.
  rs.cone = cone_;
  rs.from = config_.local;
  rs.to = UdpEndpoint{config_.server, config_.server_port};
  rs.expected_from =
      cone_ ? UdpEndpoint{config_.server_secondary, config_.server_port} : rs.to;
  rs.source = link_local();
  rs_ = rs;
  out.action("refresh_started", "R4380-5.2.5-02",
             "nothing from the server for " +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    now - last_server_interaction_)
                                    .count()) +
                 " ms");
  send_rs(now, *rs_, out);
}

void Client::refreshed(Time now, const ValidRa& ra, Outbox& out) {
  rs_.reset();
  last_server_interaction_ = now;
  draw_refresh_interval();
  // R4380-5.2.5-05: does the mapping still match the address in use?
  if (mapped_ && ra.mapping == *mapped_) {
    out.action("refreshed", "R4380-5.2.5-05", "mapping " + to_string(ra.mapping));
    return;
  }
  // R4380-5.2.5-06: the mapping changed: the old address is invalid, the new
  // one is used from now on (the same cone bit; new random bits).
  const std::optional<wire::Ipv6Address> old = address_;
  qualify(now, ra, cone_, out);
  out.action("address_changed", "R4380-5.2.5-06",
             (old ? wire::to_string(*old) : std::string("none")) + " -> " +
                 wire::to_string(*address_));
}

void Client::server_lost(Time now, Outbox& out) {
  // §5.2.5 leaves this open: the server did not answer the refresh RS and its
  // repetitions, so the mapping is presumed gone. The address is withdrawn
  // and qualification starts over (Miredo does the same).
  out.action("server_lost", "R4380-5.2.5-02",
             "no RA after " + std::to_string(rs_ ? rs_->sent : 0) + " refresh RSs");
  withdraw_address("address_withdrawn", "R4380-5.2.5-06", out);
  rs_.reset();
  nat_ = NatType::unknown;
  begin_phase(now, config_.probe_cone ? QualificationState::probing_cone
                                      : QualificationState::probing_restricted,
              out);
}

void Client::withdraw_address(std::string_view code, std::string_view requirement, Outbox& out) {
  if (address_) out.action(code, requirement, wire::to_string(*address_));
  address_.reset();
  mapped_.reset();
  next_discovery_.reset();
  if (interval_.phase != IntervalProbe::Phase::off && interval_.phase != IntervalProbe::Phase::done) {
    interval_stop("interval_determination_stopped", "the service port lost its address", out);
  }
  interval_ = IntervalProbe{};
}

}  // namespace teredo::node
