// The client's skeleton: construction, start, timers, randomness and its one
// way out to the IPv4 side.
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "teredo/node/client.hpp"

namespace teredo::node {

std::string_view to_string(QualificationState state) noexcept {
  switch (state) {
    case QualificationState::starting: return "starting";
    case QualificationState::probing_cone: return "probing_cone";
    case QualificationState::probing_restricted: return "probing_restricted";
    case QualificationState::checking_symmetric: return "checking_symmetric";
    case QualificationState::qualified: return "qualified";
    case QualificationState::offline: return "offline";
  }
  return "offline";
}

std::string_view to_string(NatType type) noexcept {
  switch (type) {
    case NatType::unknown: return "unknown";
    case NatType::cone: return "cone";
    case NatType::restricted: return "restricted";
    case NatType::symmetric: return "symmetric";
  }
  return "unknown";
}

bool Ipv4Subnet::contains(wire::Ipv4Address candidate) const noexcept {
  if (length == 0) return true;
  const std::uint8_t bits = std::min<std::uint8_t>(length, 32);
  const std::uint32_t mask = bits == 32 ? 0xFFFFFFFFU : ~(0xFFFFFFFFU >> bits);
  return (candidate.value & mask) == (address.value & mask);
}

namespace {
ClientTimers scaled(ClientTimers t, const TimeScale& scale) {
  t.rs_timeout = scale(t.rs_timeout);
  t.refresh_interval = scale(t.refresh_interval);
  t.probe_spacing = scale(t.probe_spacing);
  t.local_peer_lifetime = scale(t.local_peer_lifetime);
  t.discovery_min = scale(t.discovery_min);
  t.discovery_max = scale(t.discovery_max);
  if (t.offline_retry) t.offline_retry = scale(*t.offline_retry);
  return t;
}
PeerListConfig scaled(PeerListConfig peers, const TimeScale& scale) {
  peers.timers.validity = scale(peers.timers.validity);
  peers.timers.bubble_spacing = scale(peers.timers.bubble_spacing);
  peers.timers.bubble_window = scale(peers.timers.bubble_window);
  peers.timers.idle_timeout = scale(peers.timers.idle_timeout);
  return peers;
}
void earliest(std::optional<Time>& next, Time candidate) {
  next = next ? std::min(*next, candidate) : candidate;
}
}  // namespace

Client::Client(ClientConfig config)
    : config_(std::move(config)),
      timers_(scaled(config_.timers, config_.time_scale)),
      peers_(scaled(config_.peers, config_.time_scale)) {
  // RFC 6081: §5.5 needs §5.4 and §5.2, §5.4 needs §5.2 (R6081-5.5-02, R6081-5.4-02).
  if (config_.sequential_port_nat) config_.port_preserving_nat = true;
  if (config_.port_preserving_nat) config_.symmetric_nat_support = true;
  // RFC 6081 §5.2 puts its nonces in trailers (§4): they must get through.
  if (config_.symmetric_nat_support) config_.accept_trailers = true;
  // So do §5.6's and §5.7's (client_hairpin.cpp, client_load_reduction.cpp).
  if (config_.hairpinning || config_.server_load_reduction) config_.accept_trailers = true;
  refresh_interval_ = timers_.refresh_interval;
  randomized_refresh_ = refresh_interval_;
}

std::optional<UdpEndpoint> Client::mapped() const noexcept {
  if (state_ != QualificationState::qualified) return std::nullopt;
  return mapped_;
}

void Client::random_bytes(std::span<std::uint8_t> out) {
  if (config_.random) {
    config_.random(out);
    return;
  }
  // R5991-4-01: a cryptographically sound generator. RAND_bytes only fails
  // when the kernel's entropy source does; predictable nonces and address
  // bits would defeat §5.2.2 and RFC 5991, so that is fatal, not silent.
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

Duration Client::uniform(Duration low, Duration high) {
  if (high <= low) return low;
  std::array<std::uint8_t, 8> b{};
  random_bytes(b);
  std::uint64_t v = 0;
  for (std::uint8_t x : b) v = (v << 8) | x;
  const auto span = static_cast<std::uint64_t>((high - low).count()) + 1;
  return low + Duration{static_cast<Duration::rep>(v % span)};
}

void Client::start(Time now, Outbox& out) {
  if (state_ != QualificationState::starting && state_ != QualificationState::offline) {
    out.drop("drop_start_while_running", "", "state " + std::string(to_string(state_)));
    return;
  }
  restart_at_.reset();
  nat_ = NatType::unknown;
  random_port_start(now);
  // R5991-3.2-01: RFC 5991 clients skip the cone-bit phase; strict RFC 4380
  // starts with it (R4380-5.2-05).
  begin_phase(now, config_.probe_cone ? QualificationState::probing_cone
                                      : QualificationState::probing_restricted,
              out);
}

void Client::go_offline(Time now, std::string_view code, std::string_view requirement,
                        std::string text, Outbox& out) {
  withdraw_address("address_withdrawn", requirement, out);
  state_ = QualificationState::offline;
  rs_.reset();
  first_mapping_.reset();
  if (timers_.offline_retry) restart_at_ = now + *timers_.offline_retry;
  out.action(code, requirement, std::move(text));
}

void Client::handle_timeout(Time now, Outbox& out) {
  if (restart_at_ && *restart_at_ <= now) {
    restart_at_.reset();
    out.action("qualification_restarted", "", "off-line retry delay elapsed");
    start(now, out);
  }
  if (rs_ && rs_->deadline <= now) rs_timed_out(now, out);
  if (state_ == QualificationState::qualified) {
    // R4380-5.2.5-01: nothing from the server within the randomized refresh
    // interval: R4380-5.2.5-02, a refresh RS.
    if (!rs_ && last_server_interaction_ + randomized_refresh_ <= now) start_refresh(now, out);
    if (discovery_enabled() && next_discovery_ && *next_discovery_ <= now) {
      send_discovery_bubble(now, out);
      // R4380-5.2.8-03: uniformly between 200 and 300 s.
      next_discovery_ = now + uniform(timers_.discovery_min, timers_.discovery_max);
    }
    interval_timeout(now, out);
    random_port_timeout(now, out);
  }
  retry_probes(now, out);
  const auto expired = peers_.expire(now);
  if (expired.peers > 0) {
    out.action("peers_expired", "R4380-5.2-06",
               std::to_string(expired.peers) + " idle entries, " +
                   std::to_string(expired.packets) + " queued packets discarded");
  }
}

std::optional<Time> Client::next_timeout() const noexcept {
  std::optional<Time> next = peers_.next_expiry();
  if (restart_at_) earliest(next, *restart_at_);
  if (rs_) earliest(next, rs_->deadline);
  if (state_ == QualificationState::qualified) {
    if (!rs_) earliest(next, last_server_interaction_ + randomized_refresh_);
    if (discovery_enabled() && next_discovery_) earliest(next, *next_discovery_);
    if (interval_.rs) earliest(next, interval_.rs->deadline);
    if (interval_.phase == IntervalProbe::Phase::waiting && !interval_.rs) {
      earliest(next, interval_.deadline);
    }
    if (interval_.phase == IntervalProbe::Phase::probing) earliest(next, interval_.deadline);
    if (const auto t = random_port_next_timeout()) earliest(next, *t);
  }
  if (const Peer* peer = peers_.retry_front()) {
    earliest(next, peer->last_send + peers_.config().timers.bubble_spacing);
  }
  return next;
}

bool Client::send(UdpEndpoint to, wire::ByteVector payload, std::string_view requirement,
                  Outbox& out, bool allow_local, UdpEndpoint from) {
  const wire::Ipv4Scope scope = wire::classify_ipv4(to.address);
  // R4380-5.2.4-07/08: nothing goes to a non-global IPv4, except to a local
  // peer learned by discovery (§5.2.4: "legitimately ... in case 1"), and
  // even then never to a multicast, broadcast, loopback or "this" address.
  const bool local_ok = allow_local && (scope == wire::Ipv4Scope::private_use ||
                                        scope == wire::Ipv4Scope::link_local);
  if (scope != wire::Ipv4Scope::global_unicast && !local_ok) {
    out.drop("drop_non_global_destination_ipv4", requirement,
             std::string(wire::to_string(scope)) + " " + to_string(to));
    return false;
  }
  if (to.port == 0) {
    out.drop("drop_zero_destination_port", "", "to " + to_string(to));
    return false;
  }
  const UdpEndpoint source = from.port != 0 ? from : config_.local;
  // Hardening (cf. Miredo advisory MTFL-SA-0603): never to ourselves.
  if (to == source || to == config_.local || (mapped_ && to == *mapped_)) {
    out.drop("drop_loop_to_self", "", "to " + to_string(to));
    return false;
  }
  out.datagrams.push_back(OutgoingDatagram{source, to, std::move(payload)});
  return true;
}

}  // namespace teredo::node
