// What every runner (server, relay, client) shares: how datagrams leave
// their sockets and packets the TUN, how failures are logged, and how a stop
// signal ends the loop; for the server and the relay, the AF_PACKET fast
// path (RunnerOptions::packet_ring): opening the ring, receiving from it,
// sending what it can.
#pragma once

#include <cstring>
#include <initializer_list>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "teredo/io/event_log.hpp"
#include "teredo/io/event_loop.hpp"
#include "teredo/io/packet_ring.hpp"
#include "teredo/io/runners.hpp"
#include "teredo/io/tun.hpp"
#include "teredo/io/udp_socket.hpp"

namespace teredo::io::detail {

std::string signal_name(int signal);
// One line when some datagrams of a send could not be sent.
void report_send(EventLog& log, node::Time now, const SendReport& r, node::UdpEndpoint from);
// SIGTERM/SIGINT/SIGHUP: log the signal and the counters, then leave the loop.
void add_stop_handler(EventLoop& loop, SignalFd& signals, EventLog& log, const RunnerStats& stats,
                      int& stop_signal);

// Receives one batch from `socket` into `batch`: true when datagrams arrived
// (counted in `stats`); a receive failure is logged.
bool receive_batch(EventLog& log, UdpSocket& socket, ReceiveBatch& batch, RunnerStats& stats);
// Sends each datagram from the socket bound to its `from` endpoint (null
// sockets are skipped), counts, and logs failures and datagrams no socket
// could send.
void send_datagrams(EventLog& log, node::Time now, std::initializer_list<UdpSocket*> sockets,
                    const std::vector<node::OutgoingDatagram>& datagrams, SendBatch& scratch, RunnerStats& stats);
void send_datagrams(EventLog& log, node::Time now, std::span<UdpSocket* const> sockets,
                    const std::vector<node::OutgoingDatagram>& datagrams, SendBatch& scratch, RunnerStats& stats);
// Opens the packet ring on `interface` for the endpoints the `sockets` are
// bound to, and attaches a drop-everything filter to each socket: they stay
// bound (no ICMP port unreachable) and keep sending what the ring cannot,
// but the ring alone reads their datagrams. Throws IoError.
std::unique_ptr<PacketRing> open_packet_ring(const std::string& interface, std::initializer_list<UdpSocket*> sockets);
// Hands each datagram of the ring's ready blocks to `handle(const
// RingDatagram&)`; true when blocks were read (counted as one receive batch).
template <class Handle>
bool receive_from_ring(PacketRing& ring, RunnerStats& stats, Handle&& handle) {
  std::size_t datagrams = 0;
  const std::size_t blocks = ring.receive([&datagrams, &handle](const RingDatagram& d) {
    ++datagrams;
    handle(d);
  });
  if (blocks == 0) return false;
  ++stats.receive_batches;
  stats.datagrams_in += datagrams;
  return true;
}
// Queues on the ring every datagram it can send, sends them with one flush
// (counted, a failure logged), and leaves the rest, in order, in
// `datagrams` for the sockets.
void send_through_ring(EventLog& log, node::Time now, PacketRing& ring, std::vector<node::OutgoingDatagram>& datagrams,
                       RunnerStats& stats);
// The ring's closing "stats packet-ring IFACE ..." line.
void log_ring_stats(EventLog& log, PacketRing& ring);
// Reads up to `batch` packets from the TUN device into `buffer`, handing
// each to `handle`; counts, logs a read failure.
template <class Handle>
void read_tun(EventLog& log, node::Time now, TunDevice& tun, std::vector<std::uint8_t>& buffer, std::size_t batch,
              RunnerStats& stats, Handle handle) {
  for (std::size_t i = 0; i < batch; ++i) {
    const ssize_t n = tun.read(buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      log.line(now, "io tun_read_failed on " + tun.name() + ": " + std::strerror(static_cast<int>(-n)));
      break;
    }
    ++stats.packets_in;
    // The node copies what it keeps: the buffer is reused for the next read.
    handle(wire::Bytes(buffer.data(), static_cast<std::size_t>(n)));
  }
}
// Writes each packet to the TUN device, counts, logs one line for failures.
void write_to_tun(EventLog& log, node::Time now, TunDevice& tun, const std::vector<wire::ByteVector>& packets,
                  RunnerStats& stats);

}  // namespace teredo::io::detail
