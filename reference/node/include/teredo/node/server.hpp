// The reference Teredo server (RFC 4380 §5.3, RFC 5991 §3.2), sans-I/O.
//
// Stateless per §5.3: every datagram is judged on its own. The I/O edge
// listens on both server addresses (primary and secondary, UDP 3544), hands
// each datagram over with the local endpoint that received it, and sends
// what the Outbox holds: RAs, packets forwarded to clients (from the primary
// address), and native IPv6 packets for the IPv6 side (to_tunnel).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "teredo/node/endpoint.hpp"
#include "teredo/node/limits.hpp"
#include "teredo/node/outbox.hpp"
#include "teredo/node/time.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/hmac.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/teredo_address.hpp"

namespace teredo::node {

// A client the server can authenticate (§5.2.2). `expired` keeps verifying
// but answers with a non-zero confirmation byte (R4380-5.3.2-12).
struct ClientCredential {
  wire::ByteVector id;
  wire::ByteVector secret;
  bool expired = false;
};

struct SecureQualification {
  wire::MacAlgorithm algorithm = wire::MacAlgorithm::hmac_sha1;
  std::vector<ClientCredential> clients;  // looked up by id (a handful: linear)
};

// RA header fields and prefix option flags that Teredo does not constrain.
// Defaults are what Miredo 1.2.6 sends (libteredo/server.c): only the
// retransmission timer set, prefix with the A flag and infinite lifetimes.
struct RaParameters {
  std::uint8_t cur_hop_limit = 0;
  std::uint8_t flags = 0;
  std::uint16_t router_lifetime = 0;
  std::uint32_t reachable_time = 0;
  std::uint32_t retrans_timer = 2000;
  std::uint8_t prefix_flags = 0x40;  // A (autonomous)
  std::uint32_t valid_lifetime = 0xFFFFFFFF;
  std::uint32_t preferred_lifetime = 0xFFFFFFFF;
};

struct ServerConfig {
  wire::Ipv4Address primary;    // the address clients are configured with
  wire::Ipv4Address secondary;  // the other one (cone-bit RSs are answered from it)
  std::uint16_t port = wire::kUdpPortTeredo;
  std::uint32_t mtu = kTeredoMtu;  // R4380-5.1.2-01: advertised and enforced
  // Default: fe80::8000:f227:<~primary> (R4380-5.3.2-03).
  std::optional<wire::Ipv6Address> link_local;
  RaParameters ra;
  std::optional<SecureQualification> secure;  // §5.2.2 secure qualification
  bool accept_trailers = false;  // RFC 6081 §4: bytes after the IPv6 packet
  bool forward_native = true;    // R4380-5.3.1-12: hand non-Teredo destinations to the IPv6 side
  bool answer_echo = true;       // R4380-5.3.1-10: echo requests to ff02::2 / our link-local
  // R4380-5.3.1-03, R4380-5.4.3-02: a combined server+relay also forwards
  // packets that are neither bubbles nor ICMPv6.
  bool forward_any_protocol = false;
};

class Server {
 public:
  explicit Server(ServerConfig config);

  // One datagram received on `local` (our primary or secondary endpoint)
  // from `from`.
  void handle_datagram(Time now, UdpEndpoint local, UdpEndpoint from, wire::Bytes payload,
                       Outbox& out);

  [[nodiscard]] const ServerConfig& config() const noexcept { return config_; }
  [[nodiscard]] UdpEndpoint primary_endpoint() const noexcept { return {config_.primary, config_.port}; }
  [[nodiscard]] UdpEndpoint secondary_endpoint() const noexcept {
    return {config_.secondary, config_.port};
  }
  [[nodiscard]] const wire::Ipv6Address& link_local() const noexcept { return link_local_; }

 private:
  // server_accept.cpp: §5.3.1 acceptance, then the destination dispatch.
  [[nodiscard]] bool is_own_endpoint(UdpEndpoint e) const noexcept;
  [[nodiscard]] bool accept_source(UdpEndpoint from, const wire::TeredoDatagram& d,
                                   Outbox& out) const;
  void dispatch(UdpEndpoint local, UdpEndpoint from, const wire::TeredoDatagram& d, Outbox& out);
  // server_rs.cpp: §5.3.2 and RFC 2461 §6.1.1.
  void handle_rs(UdpEndpoint local, UdpEndpoint from, const wire::TeredoDatagram& d, Outbox& out);
  [[nodiscard]] const ClientCredential* authenticate(const wire::TeredoDatagram& d,
                                                     Outbox& out) const;
  // server_forward.cpp: local processing and forwarding.
  void handle_local(UdpEndpoint local, UdpEndpoint from, const wire::TeredoDatagram& d,
                    Outbox& out);
  void forward_to_client(UdpEndpoint from, const wire::TeredoDatagram& d,
                         const wire::TeredoAddress& destination, Outbox& out);
  // Every datagram leaves through here: never to a non-global IPv4, port 0
  // or one of our own endpoints.
  bool send(UdpEndpoint from, UdpEndpoint to, wire::ByteVector payload,
            std::string_view requirement, Outbox& out) const;

  ServerConfig config_;
  wire::Ipv6Address link_local_;
};

}  // namespace teredo::node
