// The reference Teredo relay (RFC 4380 §5.4) and host-specific relay (§5.4's
// "minimal Teredo relay [serving] just a local host", §5.5), sans-I/O.
//
// Two inputs: UDP datagrams from Teredo clients (handle_datagram) and IPv6
// packets from the native side (handle_ipv6, e.g. read from a TUN device),
// plus timers (handle_timeout when next_timeout() is reached). Outputs go to
// the Outbox: datagrams to clients and their servers, always from the relay's
// one Teredo service port (R4380-5.4-02), and IPv6 packets for the native
// side (to_tunnel).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "teredo/node/addressing.hpp"
#include "teredo/node/endpoint.hpp"
#include "teredo/node/limits.hpp"
#include "teredo/node/outbox.hpp"
#include "teredo/node/peer_list.hpp"
#include "teredo/node/time.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/teredo_address.hpp"

namespace teredo::node {

struct RelayConfig {
  UdpEndpoint local;  // the relay's IPv4 address and Teredo service port
  // A native IPv6 address of the relay: the source of its bubbles (§5.4.1
  // case 3: "a local IPv6 address").
  wire::Ipv6Address ipv6_address;
  // R4380-5.4.2-04/05: the native ranges the relay forwards Teredo clients'
  // packets to. A relay advertising the Teredo prefix typically serves ::/0
  // (Teredo destinations and non-global scopes are refused regardless).
  std::vector<Ipv6Prefix> served_prefixes;
  // Host-specific relay (§5.5, R4380-5.5-03): only packets from and to these
  // addresses of the local host; it advertises no route (advertises_route()).
  bool host_specific = false;
  std::vector<wire::Ipv6Address> host_addresses;

  std::size_t mtu = kTeredoMtu;  // R4380-5.1.2-01: the Teredo link MTU
  // R5991-3.2-02: relays SHOULD treat every peer's cone bit as 0. Setting
  // this restores RFC 4380 §5.4.1 case 2 (send directly to cone peers).
  bool honour_cone_bit = false;
  // R4380-5.4.1-11/13: also send a direct bubble to the client's mapping (a
  // relay behind a non-cone NAT needs it to open the return path).
  bool direct_bubbles = false;
  // R4380-5.4.2-03: packets from clients absent from the peer list "may" be
  // dropped; by default they create a trusted entry, like a client's case 3.
  bool accept_unknown_peers = true;
  bool accept_trailers = false;  // RFC 6081 §4

  PeerListConfig peers;  // capacity, queue bounds, hash key; timers unscaled
  TimeScale time_scale;  // applied to peers.timers by the constructor
};

class Relay {
 public:
  explicit Relay(RelayConfig config);

  // A UDP datagram from the Teredo side (§5.4.2).
  void handle_datagram(Time now, UdpEndpoint from, wire::Bytes payload, Outbox& out);
  // An IPv6 packet from the native side, to be sent to a Teredo client (§5.4.1).
  void handle_ipv6(Time now, wire::Bytes packet, Outbox& out);
  // Bubble retries, give-ups and idle expiry due at `now`.
  void handle_timeout(Time now, Outbox& out);
  [[nodiscard]] std::optional<Time> next_timeout() const noexcept;

  [[nodiscard]] const RelayConfig& config() const noexcept { return config_; }
  [[nodiscard]] const PeerList& peers() const noexcept { return peers_; }
  // A host-specific relay keeps the Teredo prefix to itself (§5.4).
  [[nodiscard]] bool advertises_route() const noexcept { return !config_.host_specific; }

 private:
  // relay_send.cpp
  [[nodiscard]] bool check_native_source(const wire::Ipv6Address& source, Outbox& out) const;
  void send_bubbles(Time now, Peer& peer, const wire::TeredoAddress& destination, Outbox& out);
  void send_to_peer(Time now, Peer& peer, wire::ByteVector payload, Outbox& out);
  // relay_receive.cpp
  [[nodiscard]] bool serves(const wire::Ipv6Address& destination) const noexcept;
  void trust(Time now, Peer& peer, UdpEndpoint from, Outbox& out);
  // relay.cpp
  bool send(UdpEndpoint to, wire::ByteVector payload, std::string_view requirement, Outbox& out);
  void give_up(Peer& peer, Outbox& out);

  RelayConfig config_;
  PeerList peers_;
};

}  // namespace teredo::node
