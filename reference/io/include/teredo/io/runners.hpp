// The loops that connect a sans-I/O node to the host: bytes and time in,
// bytes out, events to the log. No protocol decision is taken here: every
// datagram and packet goes to the node, and what the node's Outbox holds is
// sent as it is.
//
// One Outbox is reused (cleared after each batch); receive and send buffers
// are allocated once. Per wake-up a runner reads at most one batch from each
// ready descriptor (recvmmsg, or up to `batch` TUN reads), hands it to the
// node with one clock reading, then flushes the Outbox: UDP datagrams with
// sendmmsg, IPv6 packets to the TUN or the raw socket, events to the log.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "teredo/io/event_log.hpp"
#include "teredo/io/event_loop.hpp"
#include "teredo/io/host.hpp"
#include "teredo/io/packet_ring.hpp"
#include "teredo/io/tun.hpp"
#include "teredo/io/udp_socket.hpp"
#include "teredo/node/outbox.hpp"
#include "teredo/node/relay.hpp"
#include "teredo/node/server.hpp"

namespace teredo::io {

// Counters a runner logs as its last line ("stats ...") when it stops.
struct RunnerStats {
  std::uint64_t datagrams_in = 0;
  std::uint64_t receive_batches = 0;  // recvmmsg calls (or packet-ring reads) that returned datagrams
  std::uint64_t datagrams_out = 0;
  std::uint64_t send_failures = 0;
  std::uint64_t packets_in = 0;   // relay: read from the TUN
  std::uint64_t packets_out = 0;  // to the TUN (relay) or the raw socket (server)
  std::uint64_t events = 0;       // log lines from the node
};
std::string to_string(const RunnerStats& stats);

struct RunnerOptions {
  std::size_t batch = kDefaultBatch;
  UdpSocketOptions sockets;
  // Outbox::record_actions: log an action line per answered RS / forwarded
  // packet (-v). Drops are always logged.
  bool record_actions = false;
  // Server and relay: read and send the Teredo datagrams through an
  // AF_PACKET ring on this interface (empty: the UDP sockets alone). See
  // ServerRunner and RelayRunner.
  std::string packet_ring;
};

// Sizes receive slots so that only a datagram the node would refuse as
// oversized (longer than MTU + the largest encapsulations) can be cut.
std::size_t receive_slot_size(std::size_t mtu) noexcept;

class ServerRunner {
 public:
  // Binds the primary and secondary endpoints of `server`, and opens the raw
  // IPv6 socket when `forward_native` (R4380-5.3.1-12). Throws IoError.
  //
  // With options.packet_ring, datagrams to both endpoints are read from a
  // PacketRing on that interface and answers are sent through it; the two
  // UDP sockets stay bound (so the kernel sends no ICMP port unreachable)
  // behind a drop-everything filter (so their queues never hold the ring's
  // datagrams twice), and each answer whose next hop the ring does not know
  // leaves from the socket bound to its `from`, as without the ring.
  ServerRunner(node::Server& server, EventLog& log, SignalFd& signals, RunnerOptions options,
               bool forward_native);
  // Serves until a signal arrives on `signals`; returns its number.
  int run();

  [[nodiscard]] node::UdpEndpoint primary() const noexcept { return sockets_[0]->local(); }
  [[nodiscard]] node::UdpEndpoint secondary() const noexcept { return sockets_[1]->local(); }
  [[nodiscard]] bool forwards_native() const noexcept { return raw_.has_value(); }
  [[nodiscard]] const RunnerStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const PacketRing* packet_ring() const noexcept { return ring_.get(); }

 private:
  void on_readable(std::size_t index);
  void on_ring();
  void flush(node::Time now);

  node::Server& server_;
  EventLog& log_;
  SignalFd& signals_;
  EventLoop loop_;
  std::vector<std::unique_ptr<UdpSocket>> sockets_;  // primary, secondary
  std::optional<RawIpv6Socket> raw_;
  std::unique_ptr<PacketRing> ring_;
  ReceiveBatch received_;
  SendBatch send_scratch_;
  node::Outbox outbox_;
  RunnerStats stats_;
  int stop_signal_ = 0;
};

class RelayRunner {
 public:
  // Binds the relay's UDP endpoint, then creates and configures the TUN
  // device (`tun`, routes included). Throws IoError naming the step.
  //
  // With options.packet_ring, as ServerRunner: the datagrams to the relay's
  // endpoint (which must name a specific IPv4 address) are read from a
  // PacketRing on that interface and the datagrams to Teredo peers leave
  // through it; the UDP socket stays bound behind a drop-everything filter
  // and sends what the ring cannot. The TUN side is unchanged.
  RelayRunner(node::Relay& relay, EventLog& log, SignalFd& signals, RunnerOptions options,
              const TunOptions& tun);
  // Relays until a signal arrives; returns its number. The TUN device and
  // its routes are removed when the runner is destroyed.
  int run();

  [[nodiscard]] node::UdpEndpoint local() const noexcept { return socket_.local(); }
  [[nodiscard]] const TunDevice& tun() const noexcept { return *tun_; }
  [[nodiscard]] const RunnerStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const PacketRing* packet_ring() const noexcept { return ring_.get(); }

 private:
  void on_udp();
  void on_ring();
  void on_tun();
  void on_timer();
  void flush(node::Time now);

  node::Relay& relay_;
  EventLog& log_;
  SignalFd& signals_;
  RunnerOptions options_;
  EventLoop loop_;
  UdpSocket socket_;
  std::unique_ptr<PacketRing> ring_;
  std::unique_ptr<TunDevice> tun_;
  TimerFd timer_;
  ReceiveBatch received_;
  SendBatch send_scratch_;
  std::vector<std::uint8_t> packet_;  // one TUN read
  node::Outbox outbox_;
  RunnerStats stats_;
  int stop_signal_ = 0;
};

}  // namespace teredo::io
