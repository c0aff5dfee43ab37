// The loop that connects the sans-I/O Teredo client (node::Client) to the
// host: the service socket, the TUN device, a timer, and the two optional
// sockets the client asks for (the local discovery group 224.0.0.253:3544,
// §5.2.8, and the secondary port of §5.2.7).
//
// The runner binds the service socket first (port 0: the kernel picks a
// random one, R4380-5.2-03), then builds the Client with the endpoint it got,
// so the client's link-local address embeds its real port. After every batch
// it compares the client's state with what the host shows and reconciles:
// the Teredo address goes on the TUN when qualified, is replaced when the
// mapping changes (§5.2.5) and is removed when qualification is lost. Each
// change is one log line ("client qualified ...") and, when a state file is
// given, a JSON object written atomically for whoever watches the client
// (the conformance driver's readiness probes, scripts).
//
// Automatic sunset (RFC 4380 §5.5, R4380-5.5-01): while the host has a
// global IPv6 address of its own (on any interface but the TUN: native
// IPv6, 6to4, a configured tunnel) the runner does not act as a Teredo
// client: the client is not started, or is replaced by a fresh, idle one
// (its address leaves the TUN). The host is looked at once a second; when
// the native address goes, qualification starts anew. And when qualification
// shows the server sees the host's own interface address (a global IPv4
// address, no NAT), §5.5's SHOULD applies: 6to4 rather than Teredo, so the
// client idles until it is restarted.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "teredo/io/event_log.hpp"
#include "teredo/io/event_loop.hpp"
#include "teredo/io/runners.hpp"
#include "teredo/io/tun.hpp"
#include "teredo/io/udp_socket.hpp"
#include "teredo/io/upnp_gateway.hpp"
#include "teredo/node/client.hpp"

namespace teredo::io {

struct ClientRunnerOptions {
  RunnerOptions runner;
  TunOptions tun;          // name, MTU and routes (2001::/32, optionally ::/0); no address
  std::string state_file;  // empty: none
  bool sunset = true;      // §5.5; false only for labs that want both at once
  // RFC 6081 §5.3: the UPnP calls of §5.3.3 before the client starts and of
  // §5.3.5.1 after it stops (UpnpGateway, node::UpnpSetup). The Persisted
  // UPnP-Mapped Port is the state file's "upnp_port" (a state file left by a
  // run that did not end cleanly still names it).
  bool upnp = false;
  int upnp_discovery_ms = 2000;
};

// What the client shows the host, as written to the state file.
struct ClientStatus {
  node::QualificationState state = node::QualificationState::starting;
  node::NatType nat = node::NatType::unknown;
  std::optional<wire::Ipv6Address> address;
  std::optional<node::UdpEndpoint> mapped;
  std::uint16_t upnp_port = 0;  // RFC 6081 §5.3.1 Persisted UPnP-Mapped Port (0: none)
  bool operator==(const ClientStatus&) const = default;
};
// {"state":"qualified","nat":"restricted","address":"2001:0:...","mapped":"198.51.100.1:40000",
//  "local":"192.0.2.10:53211","interface":"teredo","server":"203.0.113.1","pid":1234}
// plus "upnp_port":N while a UPnP mapping is held.
std::string status_json(const ClientStatus& status, node::UdpEndpoint local, const std::string& interface,
                        wire::Ipv4Address server);

class ClientRunner {
 public:
  // Binds the service socket (config.local), the secondary socket when
  // config.interval_determination, the discovery socket when
  // config.local_discovery, creates the TUN device, then the Client.
  // Throws IoError naming the step.
  ClientRunner(node::ClientConfig config, EventLog& log, SignalFd& signals, ClientRunnerOptions options);
  ~ClientRunner();
  // Starts qualification and runs until a signal arrives; returns its
  // number. The address, the TUN device and its routes go away with the
  // runner; the state file is removed.
  int run();

  [[nodiscard]] const node::Client& client() const noexcept { return *client_; }
  [[nodiscard]] node::UdpEndpoint local() const noexcept { return socket_.local(); }
  [[nodiscard]] const TunDevice& tun() const noexcept { return *tun_; }
  [[nodiscard]] const RunnerStats& stats() const noexcept { return stats_; }

 private:
  enum class Port { service, discovery, secondary, random };
  void on_udp(UdpSocket& socket, Port port);
  // RFC 6081 §5.4/§5.5: a socket on each of the client's random_ports().
  void open_random_ports(node::Time now);
  void close_random_ports(node::Time now);
  void on_tun();
  void on_timer();
  void flush(node::Time now);
  void reconcile(node::Time now);
  void on_sunset_timer();
  // Starts or idles the client as §5.5 asks for the host as it is now.
  void apply_sunset(node::Time now);
  [[nodiscard]] bool started() const noexcept;  // client_->start() was called
  // Replaces the client by a fresh one, not started: its address leaves the TUN.
  void idle_client();
  // Starts the client, with the UPnP mapping when there is one.
  void start_client(node::Time now);
  // RFC 6081 §5.3.3 / §5.3.5.1 through upnp_gateway_.
  void upnp_initialize(node::Time now);
  void upnp_uninitialize(node::Time now);

  EventLog& log_;
  SignalFd& signals_;
  ClientRunnerOptions options_;
  EventLoop loop_;
  UdpSocket socket_;
  std::unique_ptr<UdpSocket> discovery_;
  std::unique_ptr<UdpSocket> secondary_;
  std::map<std::uint16_t, std::unique_ptr<UdpSocket>> random_;
  std::unique_ptr<TunDevice> tun_;
  std::unique_ptr<node::Client> client_;
  bool in_sunset_ = false;    // native IPv6 seen, the client idle
  bool global_ipv4_ = false;  // qualification showed our own global IPv4: idle for good
  std::optional<node::UdpEndpoint> checked_mapping_;  // the mapping last compared with our own address
  TimerFd timer_;
  TimerFd sunset_timer_;
  ReceiveBatch received_;
  SendBatch send_scratch_;
  std::vector<std::uint8_t> packet_;  // one TUN read
  node::Outbox outbox_;
  RunnerStats stats_;
  ClientStatus shown_;                          // what the host and state file show
  std::optional<node::Ipv6Prefix> configured_;  // the address on the TUN
  int stop_signal_ = 0;
  std::unique_ptr<UpnpGateway> upnp_gateway_;
  std::optional<node::UdpEndpoint> upnp_mapping_;  // what UpnpSetup obtained
  std::uint16_t upnp_port_ = 0;                     // Persisted UPnP-Mapped Port
};

}  // namespace teredo::io
