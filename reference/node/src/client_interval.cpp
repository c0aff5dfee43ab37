// RFC 4380 §5.2.7: the optional refresh interval determination procedure,
// on the Teredo secondary port.
#include <algorithm>
#include <string>

#include "teredo/node/addressing.hpp"
#include "teredo/node/client.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

bool Client::secondary_port_open() const noexcept {
  return interval_.phase != IntervalProbe::Phase::off && interval_.phase != IntervalProbe::Phase::done;
}

bool Client::interval_concluded() const noexcept { return interval_.phase == IntervalProbe::Phase::done; }

void Client::interval_start(Time now, Outbox& out) {
  // R4380-5.2.7-01: qualification of the secondary port right after the
  // service port's: an RS from it, with the same cone bit.
  interval_ = IntervalProbe{};
  interval_.phase = IntervalProbe::Phase::qualifying;
  Solicitation rs;
  rs.cone = cone_;
  rs.from = config_.secondary_local;
  rs.to = UdpEndpoint{config_.server, config_.server_port};
  rs.expected_from = cone_ ? UdpEndpoint{config_.server_secondary, config_.server_port} : rs.to;
  rs.source = client_link_local(config_.secondary_local.address, config_.secondary_local.port, cone_);
  interval_.rs = rs;
  out.action("interval_determination_started", "R4380-5.2.7-01",
             "secondary port " + to_string(config_.secondary_local));
  send_rs(now, *interval_.rs, out);
}

void Client::handle_secondary_datagram(Time now, UdpEndpoint from, wire::Bytes payload, Outbox& out) {
  const auto from_text = [&from] { return "from " + to_string(from); };
  if (!secondary_port_open()) {
    out.drop("drop_secondary_port_closed", "R4380-5.2.7-03", from_text());
    return;
  }
  const auto d = parse_or_drop(payload, from_text, out);
  if (!d) return;
  const wire::Ipv6Header& h = d->ipv6.header;
  if (interval_.rs && h.next_header == wire::kNextHeaderIcmpv6 && !d->ipv6.payload.empty() &&
      d->ipv6.payload[0] == wire::kIcmpv6RouterAdvertisement) {
    const auto ra = validate_ra(*interval_.rs, from, *d, out);
    if (!ra) return;
    interval_.rs.reset();
    const bool first = interval_.phase == IntervalProbe::Phase::qualifying;
    if (!interval_.mapping || *interval_.mapping != ra->mapping) {
      // §5.2.7 step 6: maintenance may allocate a new secondary address.
      interval_.mapping = ra->mapping;
      wire::TeredoAddress t;
      t.server = config_.server;
      t.flags = wire::make_teredo_flags(cone_, 0);
      t.mapped_port = ra->mapping.port;
      t.mapped_ipv4 = ra->mapping.address;
      interval_.address = t.to_ipv6();
    }
    interval_.last_interaction = now;
    if (first) {
      // §5.2.7: maximum 120 s, candidate twice the refresh interval (60 s).
      interval_.maximum = config_.time_scale(Duration{120s});
      interval_.candidate = std::min(2 * refresh_interval_, interval_.maximum);
    }
    interval_.phase = IntervalProbe::Phase::waiting;
    // Step 1: wait for the candidate interval after the last interaction.
    interval_.deadline = now + interval_.candidate;
    out.action(first ? "secondary_qualified" : "secondary_refreshed", "R4380-5.2.7-01",
               wire::to_string(interval_.address) + ", candidate " +
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(interval_.candidate).count()) +
                   " ms");
    return;
  }
  // Step 3: the probe bubble, from our Teredo address to the secondary one.
  if (interval_.phase == IntervalProbe::Phase::probing && wire::is_bubble(d->ipv6) && address_ &&
      h.source == *address_ && h.destination == interval_.address) {
    interval_.last_interaction = now;
    interval_result(now, true, out);
    return;
  }
  // R4380-5.2.7-03: the secondary port serves nothing else.
  out.drop("drop_secondary_port_unexpected", "R4380-5.2.7-03", from_text());
}

void Client::interval_timeout(Time now, Outbox& out) {
  if (interval_.rs && interval_.rs->deadline <= now) {
    if (interval_.rs->sent <= timers_.rs_repetitions) {
      send_rs(now, *interval_.rs, out);
    } else {
      // §5.2.7: the secondary qualification failed: the procedure is not
      // used and the interval stays where it is (30 s by default).
      interval_stop("interval_determination_unavailable", "no RA on the secondary port", out);
    }
    return;
  }
  if (interval_.phase == IntervalProbe::Phase::waiting && !interval_.rs && interval_.deadline <= now) {
    interval_.phase = IntervalProbe::Phase::probing;
    interval_.probes = 0;
    interval_probe(now, out);
    return;
  }
  if (interval_.phase == IntervalProbe::Phase::probing && interval_.deadline <= now) {
    // Step 3: 2 s without the bubble: repeat step 2 at most three times.
    if (interval_.probes <= 3) {
      interval_probe(now, out);
    } else {
      interval_result(now, false, out);
    }
  }
}

void Client::interval_probe(Time now, Outbox& out) {
  // Step 2: a bubble to the secondary Teredo address, through the service
  // port, sent as §5.2.4 sends bubbles to a Teredo address: indirectly
  // through the server (which reaches the secondary mapping from outside,
  // as a peer would, and needs no hairpinning NAT) and directly.
  ++interval_.probes;
  interval_.deadline = now + timers_.probe_spacing;
  const wire::ByteVector bubble = wire::build_bubble(*address_, interval_.address);
  const bool indirect = send(UdpEndpoint{config_.server, config_.server_port}, bubble, "R4380-5.2.7-02", out);
  const bool direct = send(*interval_.mapping, bubble, "R4380-5.2.7-02", out);
  if (indirect || direct) {
    out.action("interval_probe_sent", "R4380-5.2.7-02", "attempt " + std::to_string(interval_.probes));
  }
}

void Client::interval_result(Time now, bool success, Outbox& out) {
  const auto ms = [](Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
  };
  if (success) {
    // Step 4: the candidate becomes the refresh interval; the next candidate
    // is min(2 x interval, (interval + maximum) / 2).
    refresh_interval_ = interval_.candidate;
    draw_refresh_interval();
    interval_.candidate = std::min(2 * refresh_interval_, (refresh_interval_ + interval_.maximum) / 2);
    out.action("refresh_interval_raised", "R4380-5.2.7-02", ms(refresh_interval_));
    // The RFC only concludes on a failure; with a mapping that outlives the
    // maximum the candidates would creep towards it forever. Stop once the
    // next step is under a second (scaled).
    if (interval_.candidate - refresh_interval_ < config_.time_scale(Duration{1s})) {
      interval_stop("interval_determination_done", "converged at " + ms(refresh_interval_), out);
      return;
    }
  } else {
    // Step 5: the candidate becomes the maximum; done once the interval is at
    // least 75 % of it, else the next candidate is halfway.
    interval_.maximum = interval_.candidate;
    if (4 * refresh_interval_ >= 3 * interval_.maximum) {
      interval_stop("interval_determination_done", "refresh interval " + ms(refresh_interval_), out);
      return;
    }
    interval_.candidate = (refresh_interval_ + interval_.maximum) / 2;
    out.action("interval_candidate_failed", "R4380-5.2.7-02", "maximum " + ms(interval_.maximum));
  }
  // Step 6: maintenance on the secondary port resets its last interaction.
  interval_.phase = IntervalProbe::Phase::waiting;
  Solicitation rs;
  rs.cone = cone_;
  rs.from = config_.secondary_local;
  rs.to = UdpEndpoint{config_.server, config_.server_port};
  rs.expected_from = cone_ ? UdpEndpoint{config_.server_secondary, config_.server_port} : rs.to;
  rs.source = client_link_local(config_.secondary_local.address, config_.secondary_local.port, cone_);
  interval_.rs = rs;
  send_rs(now, *interval_.rs, out);
}

void Client::interval_stop(std::string_view code, std::string text, Outbox& out) {
  // R4380-5.2.7-04: the secondary port is closed when the procedure ends.
  interval_.phase = IntervalProbe::Phase::done;
  interval_.rs.reset();
  out.action(code, "R4380-5.2.7-04", std::move(text));
}

}  // namespace teredo::node
