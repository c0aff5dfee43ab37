#include "teredo/io/runners.hpp"

#include <signal.h>

#include <cstring>
#include <string>

#include "teredo/io/clock.hpp"
#include "teredo/node/limits.hpp"
#include "runner_common.hpp"

namespace teredo::io {

namespace detail {

std::string signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "signal " + std::to_string(signal);
  }
}

void report_send(EventLog& log, node::Time now, const SendReport& r, node::UdpEndpoint from) {
  if (r.failed == 0) return;
  log.line(now, "io send_failed " + std::to_string(r.failed) + " datagrams from " + node::to_string(from) +
                    ", first to " + node::to_string(r.first_failed_to) + ": " + std::strerror(r.first_error));
}

// SIGTERM/SIGINT/SIGHUP: log the signal and the counters, then leave the loop
// (both runners shut down the same way).
void add_stop_handler(EventLoop& loop, SignalFd& signals, EventLog& log, const RunnerStats& stats,
                      int& stop_signal) {
  loop.add(signals.fd(), [&loop, &signals, &log, &stats, &stop_signal](std::uint32_t) {
    while (const auto s = signals.read()) stop_signal = *s;
    log.line(monotonic_now(), "stop " + signal_name(stop_signal));
    log.line(monotonic_now(), "stats " + to_string(stats));
    log.flush();
    loop.stop();
  });
}

bool receive_batch(EventLog& log, UdpSocket& socket, ReceiveBatch& batch, RunnerStats& stats) {
  const int n = socket.receive(batch);
  if (n < 0) {
    log.line(monotonic_now(), "io receive_failed on " + node::to_string(socket.local()) + ": " + std::strerror(-n));
    log.flush();
  }
  if (n <= 0) return false;
  ++stats.receive_batches;
  stats.datagrams_in += batch.size();
  return true;
}

void send_datagrams(EventLog& log, node::Time now, std::initializer_list<UdpSocket*> sockets,
                    const std::vector<node::OutgoingDatagram>& datagrams, SendBatch& scratch, RunnerStats& stats) {
  send_datagrams(log, now, std::span<UdpSocket* const>(sockets.begin(), sockets.size()), datagrams, scratch, stats);
}

void send_datagrams(EventLog& log, node::Time now, std::span<UdpSocket* const> sockets,
                    const std::vector<node::OutgoingDatagram>& datagrams, SendBatch& scratch, RunnerStats& stats) {
  if (datagrams.empty()) return;
  std::size_t handled = 0;
  for (UdpSocket* socket : sockets) {
    if (socket == nullptr) continue;
    const SendReport r = socket->send(datagrams, scratch);
    handled += r.sent + r.failed;
    stats.datagrams_out += r.sent;
    stats.send_failures += r.failed;
    report_send(log, now, r, socket->local());
  }
  if (handled < datagrams.size()) {
    log.line(now, "io unsent " + std::to_string(datagrams.size() - handled) +
                      " datagrams: no socket bound to their source endpoint");
  }
}

std::unique_ptr<PacketRing> open_packet_ring(const std::string& interface, std::initializer_list<UdpSocket*> sockets) {
  PacketRingOptions options;
  options.interface = interface;
  for (const UdpSocket* socket : sockets) {
    // The filter matches the destination address: a wildcard bind would let
    // nothing in (and the ring cannot tell which of the host's addresses a
    // datagram from the wildcard should leave from).
    if (socket->local().address.value == 0) {
      throw IoError("packet ring on " + interface + ": needs a specific IPv4 address to read, not " +
                    node::to_string(socket->local()));
    }
    options.locals.push_back(socket->local());
  }
  auto ring = std::make_unique<PacketRing>(std::move(options));
  for (UdpSocket* socket : sockets) drop_all_received(socket->fd(), "UDP socket " + node::to_string(socket->local()));
  return ring;
}

void send_through_ring(EventLog& log, node::Time now, PacketRing& ring, std::vector<node::OutgoingDatagram>& datagrams,
                       RunnerStats& stats) {
  std::size_t kept = 0, queued = 0;
  for (std::size_t i = 0; i < datagrams.size(); ++i) {
    node::OutgoingDatagram& d = datagrams[i];
    if (ring.queue(now, d.from, d.to, d.payload, d.ttl)) {
      ++queued;
      continue;
    }
    if (kept != i) datagrams[kept] = std::move(d);
    ++kept;
  }
  datagrams.erase(datagrams.begin() + static_cast<std::ptrdiff_t>(kept), datagrams.end());
  if (queued == 0) return;
  if (const int e = ring.flush(); e != 0) {
    stats.send_failures += queued;
    log.line(now, "io send_failed " + std::to_string(queued) + " datagrams through the packet ring on " +
                      ring.interface() + ": " + std::strerror(e));
  } else {
    stats.datagrams_out += queued;
  }
}

void log_ring_stats(EventLog& log, PacketRing& ring) {
  log.line(monotonic_now(), "stats packet-ring " + ring.interface() + " " + to_string(ring.stats()));
  log.flush();
}

void write_to_tun(EventLog& log, node::Time now, TunDevice& tun, const std::vector<wire::ByteVector>& packets,
                  RunnerStats& stats) {
  std::size_t failures = 0;
  int first_error = 0;
  for (const auto& packet : packets) {
    if (const int e = tun.write(packet); e == 0) {
      ++stats.packets_out;
    } else if (failures++ == 0) {
      first_error = e;
    }
  }
  if (failures > 0) {
    log.line(now, "io tun_write_failed " + std::to_string(failures) + " packets on " + tun.name() + ": " +
                      std::strerror(first_error));
  }
}

}  // namespace detail

using detail::add_stop_handler;
using detail::report_send;

std::string to_string(const RunnerStats& s) {
  return "datagrams-in " + std::to_string(s.datagrams_in) + " receive-batches " + std::to_string(s.receive_batches) +
         " datagrams-out " + std::to_string(s.datagrams_out) + " send-failures " + std::to_string(s.send_failures) +
         " packets-in " + std::to_string(s.packets_in) + " packets-out " + std::to_string(s.packets_out) +
         " events " + std::to_string(s.events);
}

std::size_t receive_slot_size(std::size_t mtu) noexcept {
  // One byte more than the node accepts: a datagram cut to the slot size is
  // still longer than the node's limit, so the node drops it as oversized
  // (drop_oversized, R4380-5.1.2-01) and no cut datagram is ever parsed.
  const std::size_t limit = mtu + node::kMaxEncapsulationOverhead + 1;
  return (limit + 63) / 64 * 64;
}

// --- server ---------------------------------------------------------------

ServerRunner::ServerRunner(node::Server& server, EventLog& log, SignalFd& signals, RunnerOptions options,
                           bool forward_native)
    : server_(server),
      log_(log),
      signals_(signals),
      received_(options.batch, receive_slot_size(server.config().mtu)),
      send_scratch_(options.batch) {
  outbox_.record_actions = options.record_actions;
  sockets_.push_back(std::make_unique<UdpSocket>(server.primary_endpoint(), options.sockets));
  sockets_.push_back(std::make_unique<UdpSocket>(server.secondary_endpoint(), options.sockets));
  if (!options.packet_ring.empty()) {
    ring_ = detail::open_packet_ring(options.packet_ring, {sockets_[0].get(), sockets_[1].get()});
  }
  if (forward_native) raw_.emplace();
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    // With the ring, whatever reached a socket before its filter was
    // attached is still read (and answered) here; nothing arrives after.
    loop_.add(sockets_[i]->fd(), [this, i](std::uint32_t) { on_readable(i); });
  }
  if (ring_) loop_.add(ring_->fd(), [this](std::uint32_t) { on_ring(); });
  add_stop_handler(loop_, signals_, log_, stats_, stop_signal_);
}

int ServerRunner::run() {
  loop_.run();
  if (ring_) detail::log_ring_stats(log_, *ring_);
  return stop_signal_;
}

void ServerRunner::on_ring() {
  const node::Time now = monotonic_now();
  const bool received = detail::receive_from_ring(*ring_, stats_, [this, now](const RingDatagram& d) {
    server_.handle_datagram(now, d.local, d.from, d.payload, outbox_);
  });
  if (received) flush(now);
}

void ServerRunner::on_readable(std::size_t index) {
  UdpSocket& socket = *sockets_[index];
  if (!detail::receive_batch(log_, socket, received_, stats_)) return;
  const node::Time now = monotonic_now();
  const node::UdpEndpoint local = socket.local();
  for (std::size_t i = 0; i < received_.size(); ++i) {
    server_.handle_datagram(now, local, received_.from(i), received_.payload(i), outbox_);
  }
  flush(now);
}

void ServerRunner::flush(node::Time now) {
  if (ring_) detail::send_through_ring(log_, now, *ring_, outbox_.datagrams, stats_);
  detail::send_datagrams(log_, now, {sockets_[0].get(), sockets_[1].get()}, outbox_.datagrams, send_scratch_, stats_);
  for (const auto& packet : outbox_.to_tunnel) {
    // The node emits native packets only when forwarding is configured,
    // which is when the raw socket exists.
    const int e = raw_ ? raw_->send(packet) : ENOTCONN;
    if (e == 0) ++stats_.packets_out;
    if (e != 0) {
      wire::Ipv6Address destination;
      if (packet.size() >= wire::kIpv6HeaderSize) std::memcpy(destination.bytes.data(), packet.data() + 24, 16);
      log_.line(now, "io forward_failed to " + wire::to_string(destination) + ": " + std::strerror(e));
    }
  }
  stats_.events += outbox_.events.size();
  log_.events(now, outbox_.events);
  outbox_.clear();
  log_.flush();
}

// --- relay ----------------------------------------------------------------

RelayRunner::RelayRunner(node::Relay& relay, EventLog& log, SignalFd& signals, RunnerOptions options,
                         const TunOptions& tun)
    : relay_(relay),
      log_(log),
      signals_(signals),
      options_(options),
      socket_(relay.config().local, options.sockets),
      received_(options.batch, receive_slot_size(relay.config().mtu)),
      send_scratch_(options.batch),
      packet_(65536) {
  outbox_.record_actions = options.record_actions;
  if (!options.packet_ring.empty()) ring_ = detail::open_packet_ring(options.packet_ring, {&socket_});
  tun_ = std::make_unique<TunDevice>(tun);
  // With the ring, what reached the socket before its filter was attached
  // is still read here; nothing arrives after.
  loop_.add(socket_.fd(), [this](std::uint32_t) { on_udp(); });
  if (ring_) loop_.add(ring_->fd(), [this](std::uint32_t) { on_ring(); });
  loop_.add(tun_->fd(), [this](std::uint32_t) { on_tun(); });
  loop_.add(timer_.fd(), [this](std::uint32_t) { on_timer(); });
  add_stop_handler(loop_, signals_, log_, stats_, stop_signal_);
}

int RelayRunner::run() {
  timer_.arm(relay_.next_timeout());
  loop_.run();
  if (ring_) detail::log_ring_stats(log_, *ring_);
  return stop_signal_;
}

void RelayRunner::on_ring() {
  const node::Time now = monotonic_now();
  const bool received = detail::receive_from_ring(*ring_, stats_, [this, now](const RingDatagram& d) {
    relay_.handle_datagram(now, d.from, d.payload, outbox_);
  });
  if (received) flush(now);
}

void RelayRunner::on_udp() {
  if (!detail::receive_batch(log_, socket_, received_, stats_)) return;
  const node::Time now = monotonic_now();
  for (std::size_t i = 0; i < received_.size(); ++i) {
    relay_.handle_datagram(now, received_.from(i), received_.payload(i), outbox_);
  }
  flush(now);
}

void RelayRunner::on_tun() {
  const node::Time now = monotonic_now();
  detail::read_tun(log_, now, *tun_, packet_, options_.batch, stats_,
                   [&](wire::Bytes packet) { relay_.handle_ipv6(now, packet, outbox_); });
  flush(now);
}

void RelayRunner::on_timer() {
  if (!timer_.consume()) return;
  const node::Time now = monotonic_now();
  relay_.handle_timeout(now, outbox_);
  flush(now);
}

void RelayRunner::flush(node::Time now) {
  if (ring_) detail::send_through_ring(log_, now, *ring_, outbox_.datagrams, stats_);
  if (!outbox_.datagrams.empty()) {
    const SendReport r = socket_.send_all(outbox_.datagrams, send_scratch_);
    stats_.datagrams_out += r.sent;
    stats_.send_failures += r.failed;
    report_send(log_, now, r, socket_.local());
  }
  detail::write_to_tun(log_, now, *tun_, outbox_.to_tunnel, stats_);
  stats_.events += outbox_.events.size();
  log_.events(now, outbox_.events);
  outbox_.clear();
  timer_.arm(relay_.next_timeout());
  log_.flush();
}

}  // namespace teredo::io
