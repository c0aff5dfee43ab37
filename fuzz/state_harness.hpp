// The stateful fuzzers of reference/node (fuzz_server_state,
// fuzz_relay_state, fuzz_client_state): one input is a node configuration
// and a sequence of (time advance, datagram) events, played into one fresh
// sans-I/O Server, Relay or Client. After every call into the node its
// output is checked; the first broken property is returned as text (the
// fuzz targets abort() on it, tests/node/state_fuzz_test.cpp asserts on it).
//
// Input format (every read bounds-checked; a short tail is ignored):
//   byte 0                       configuration bits (kServer*/kRelay*/kClient* below)
//   then up to kMaxEvents events:
//     kind      1 byte           bits 0-2 channel (per role, below), bits 3-5
//                                the sender's index in the role's endpoint
//                                table, bit 6: an explicit sender follows
//     advance   2 bytes BE       milliseconds the clock moves first (timers
//                                that fall due on the way fire in order)
//     length    2 bytes BE       payload length (cut to what remains)
//     [sender   6 bytes]         IPv4 address, UDP port (kind bit 6 only)
//     payload   `length` bytes
//
// Properties, after every call into the node:
//   - no crash (the sanitizers of the fuzz build);
//   - no datagram to a non-global IPv4 (RFC 4380 §5.2.4's list, written out
//     here independently of wire::classify_ipv4): R4380-5.3.1-13/-14 and
//     R4380-5.3.2-09 (server), R4380-5.4.1-01/-02 (relay), R4380-5.2.4-07/-08
//     (client). The client's only exceptions are the two the RFC makes: the
//     local discovery bubble to 224.0.0.253:3544 with TTL 1
//     (R4380-5.2.8-04), and a private or link-local endpoint a discovery
//     bubble came from (§5.2.4: "a packet can legitimately be sent to a
//     non-global unicast address in case 1, as a result of the local
//     discovery procedure"), both only with local discovery configured;
//   - every UDP payload parses with wire::parse_datagram, trailers accepted
//     only where the node speaks RFC 6081 (the client with symmetric NAT
//     support puts a nonce trailer on bubbles), and its IPv6 packet is
//     within the 1280-byte link MTU (R4380-5.1.2-01); every packet for the
//     IPv6 side parses with wire::parse_ipv6_packet, nothing after it;
//   - every datagram leaves from one of the node's own endpoints;
//   - relay and client: the peer list never holds more than the capacity
//     configured here (R4380-5.2-06, §7.3.3), and its queues never more
//     bytes than the configured total (R4380-5.4.1-10). The server is
//     stateless (§5.3): it has no list to bound;
//   - relay and client: a timer fired at its deadline moves next_timeout()
//     past that deadline (otherwise the I/O edge's loop would spin).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "teredo/node/client.hpp"
#include "teredo/node/endpoint.hpp"
#include "teredo/node/outbox.hpp"
#include "teredo/node/peer_list.hpp"
#include "teredo/node/relay.hpp"
#include "teredo/node/server.hpp"
#include "teredo/node/time.hpp"
#include "teredo/wire/bytes.hpp"

namespace teredo::fuzz::state {

using node::UdpEndpoint;
using wire::ByteVector;
using wire::Bytes;

inline constexpr std::size_t kMaxEvents = 256;
inline constexpr std::uint8_t kKindChannelMask = 0x07;
inline constexpr unsigned kKindEndpointShift = 3;
inline constexpr std::uint8_t kKindExplicitSender = 0x40;
inline constexpr std::size_t kEndpointTableSize = 8;

// The bounds the harness configures and the checker holds the node to.
inline constexpr std::size_t kPeerCapacity = 4;
inline constexpr std::size_t kQueueBytesTotal = 4096;

struct Event {
  std::uint8_t channel = 0;
  std::uint8_t endpoint_index = 0;
  std::optional<UdpEndpoint> sender;  // explicit; else the table's entry
  std::uint16_t advance_ms = 0;
  Bytes payload;  // a view into the input
};

struct Input {
  std::uint8_t config = 0;
  std::vector<Event> events;
};

// Never reads past `data`; at most kMaxEvents events.
Input decode_input(Bytes data);

// The encoder the seed generator and the tests write inputs with.
class InputWriter {
 public:
  explicit InputWriter(std::uint8_t config) { bytes_.push_back(config); }
  InputWriter& event(std::uint8_t channel, std::uint8_t endpoint_index, std::uint16_t advance_ms,
                     Bytes payload);
  InputWriter& event_from(std::uint8_t channel, UdpEndpoint sender, std::uint16_t advance_ms,
                          Bytes payload);
  [[nodiscard]] const ByteVector& bytes() const noexcept { return bytes_; }

 private:
  ByteVector bytes_;
};

// RFC 4380 §5.2.4's definition, independent of wire::classify_ipv4 (the
// node's own test): true when `a` is in none of the listed blocks. The
// directed broadcast addresses of attached subnets are not known in-process.
bool is_rfc4380_global_unicast(wire::Ipv4Address a) noexcept;

// What a node may emit. The checker is a pure function of these and the
// output, so a test can feed it synthetic output.
struct OutputRules {
  std::vector<UdpEndpoint> own_endpoints;  // allowed senders
  bool accept_trailers = false;            // RFC 6081 §4 trailers are legitimate
  bool local_discovery = false;            // the client's §5.2.8 exceptions apply
  std::vector<UdpEndpoint> local_peers;    // senders of discovery datagrams so far
  std::size_t mtu = 1280;
};

// nullopt when the datagram keeps every property, else what it breaks.
std::optional<std::string> check_datagram(const node::OutgoingDatagram& d, const OutputRules& rules);
std::optional<std::string> check_outbox(const node::Outbox& out, const OutputRules& rules);
std::optional<std::string> check_peer_list(const node::PeerList& peers, std::size_t capacity,
                                           std::size_t queue_bytes_total);

// One role's node, its configuration from the input's first byte, its clock
// and its checks. step() plays one event and returns the first violation.
class Harness {
 public:
  virtual ~Harness() = default;
  std::optional<std::string> step(const Event& event);
  [[nodiscard]] node::Time now() const noexcept { return now_; }
  // What the last call into the node emitted (the seed generator reads it).
  [[nodiscard]] const node::Outbox& last_output() const noexcept { return last_; }
  [[nodiscard]] std::size_t datagrams_emitted() const noexcept { return datagrams_; }
  // Of those, the ones to a non-global IPv4 the rules let through (the
  // client's discovery exceptions).
  [[nodiscard]] std::size_t non_global_emitted() const noexcept { return non_global_; }
  [[nodiscard]] const OutputRules& rules() const noexcept { return rules_; }

 protected:
  explicit Harness(node::Time start) : now_(start) {}
  // Timers: none for the server.
  [[nodiscard]] virtual std::optional<node::Time> next_timeout() const { return std::nullopt; }
  virtual void fire(node::Time, node::Outbox&) {}
  virtual void deliver(const Event& event, UdpEndpoint sender, node::Outbox& out) = 0;
  [[nodiscard]] virtual UdpEndpoint table_endpoint(std::uint8_t index) const = 0;
  [[nodiscard]] virtual bool is_timer_channel(std::uint8_t) const { return false; }
  [[nodiscard]] virtual std::optional<std::string> check_state() const { return std::nullopt; }
  // Checks what one call emitted, then the state.
  std::optional<std::string> after_call(node::Outbox& out);
  std::optional<std::string> advance_to(node::Time target);

  node::Time now_;
  OutputRules rules_;
  node::Outbox last_;
  std::size_t datagrams_ = 0;
  std::size_t non_global_ = 0;
};

// --- the server ---------------------------------------------------------
// Configuration bits.
inline constexpr std::uint8_t kServerSecure = 0x01;          // §5.2.2, credential kClientId/kSecret
inline constexpr std::uint8_t kServerTrailers = 0x02;        // RFC 6081 §4 accepted
inline constexpr std::uint8_t kServerAnyProtocol = 0x04;     // server+relay (R4380-5.4.3-02)
inline constexpr std::uint8_t kServerNoEcho = 0x08;
inline constexpr std::uint8_t kServerNoNative = 0x10;
// Channels: 0 received on the primary address, 1 on the secondary, 2 on an
// endpoint that is not the server's; the others as 0.
inline constexpr std::uint8_t kServerOnPrimary = 0;
inline constexpr std::uint8_t kServerOnSecondary = 1;
inline constexpr std::uint8_t kServerOnForeign = 2;

// --- the relay ----------------------------------------------------------
inline constexpr std::uint8_t kRelayHonourCone = 0x01;
inline constexpr std::uint8_t kRelayDirectBubbles = 0x02;
inline constexpr std::uint8_t kRelayRejectUnknown = 0x04;
inline constexpr std::uint8_t kRelayTrailers = 0x08;
inline constexpr std::uint8_t kRelayHostSpecific = 0x10;
// Channels: 0 a datagram from the Teredo side, 1 an IPv6 packet from the
// native side, 2 the next timer; the others as 0.
inline constexpr std::uint8_t kRelayDatagram = 0;
inline constexpr std::uint8_t kRelayNative = 1;
inline constexpr std::uint8_t kRelayTimer = 2;

// --- the client ---------------------------------------------------------
inline constexpr std::uint8_t kClientRfc4380 = 0x01;        // cone probe, no random flags
inline constexpr std::uint8_t kClientSymmetric = 0x02;      // RFC 6081 symmetric NAT support
inline constexpr std::uint8_t kClientDiscovery = 0x04;      // §5.2.8 on, subnet 192.168.1.0/24
inline constexpr std::uint8_t kClientInterval = 0x08;       // §5.2.7 on
inline constexpr std::uint8_t kClientSecure = 0x10;         // §5.2.2 with kClientId/kSecret
inline constexpr std::uint8_t kClientNoSymmetricCheck = 0x20;
inline constexpr std::uint8_t kClientOfflineRetry = 0x40;   // restart 100 s after going off-line
inline constexpr std::uint8_t kClientDirectBubble = 0x80;   // R4380-5.2.4-10
// Channels: 0 service port, 1 the discovery group, 2 the §5.2.7 secondary
// port, 3 an IPv6 packet from the tunnel, 4 the next timer, 5 start();
// the others as 0. Every input begins with start() at the start time.
inline constexpr std::uint8_t kClientService = 0;
inline constexpr std::uint8_t kClientDiscoveryGroup = 1;
inline constexpr std::uint8_t kClientSecondary = 2;
inline constexpr std::uint8_t kClientTunnel = 3;
inline constexpr std::uint8_t kClientTimer = 4;
inline constexpr std::uint8_t kClientStart = 5;

// The shared lab: documentation addresses only.
inline constexpr wire::Ipv4Address kServerPrimary = wire::Ipv4Address::from_octets(192, 0, 2, 1);
inline constexpr wire::Ipv4Address kServerSecondary = wire::Ipv4Address::from_octets(192, 0, 2, 2);
inline constexpr UdpEndpoint kClientLocal{wire::Ipv4Address::from_octets(192, 168, 1, 10), 40000};
inline constexpr UdpEndpoint kClientSecondaryLocal{wire::Ipv4Address::from_octets(192, 168, 1, 10),
                                                   40001};
// Where the client's NAT maps its service port.
inline constexpr UdpEndpoint kClientMapping{wire::Ipv4Address::from_octets(203, 0, 113, 7), 40000};
inline constexpr UdpEndpoint kRelayLocal{wire::Ipv4Address::from_octets(192, 0, 2, 10), 3544};
inline constexpr std::uint8_t kClientId[] = {'c', 'l', 'i', 'e', 'n', 't', '-', '1'};
inline constexpr std::uint8_t kSecret[] = {'f', 'u', 'z', 'z'};

// Who sends each role's datagrams, by index (kind bits 3-5).
UdpEndpoint server_table(std::uint8_t index) noexcept;
UdpEndpoint relay_table(std::uint8_t index) noexcept;
UdpEndpoint client_table(std::uint8_t index) noexcept;

class ServerHarness final : public Harness {
 public:
  explicit ServerHarness(std::uint8_t config);
  [[nodiscard]] node::Server& server() noexcept { return server_; }

 private:
  void deliver(const Event& event, UdpEndpoint sender, node::Outbox& out) override;
  [[nodiscard]] UdpEndpoint table_endpoint(std::uint8_t index) const override { return server_table(index); }
  node::Server server_;
};

class RelayHarness final : public Harness {
 public:
  explicit RelayHarness(std::uint8_t config);
  [[nodiscard]] node::Relay& relay() noexcept { return relay_; }

 private:
  [[nodiscard]] std::optional<node::Time> next_timeout() const override { return relay_.next_timeout(); }
  void fire(node::Time at, node::Outbox& out) override { relay_.handle_timeout(at, out); }
  void deliver(const Event& event, UdpEndpoint sender, node::Outbox& out) override;
  [[nodiscard]] UdpEndpoint table_endpoint(std::uint8_t index) const override { return relay_table(index); }
  [[nodiscard]] bool is_timer_channel(std::uint8_t channel) const override { return channel == kRelayTimer; }
  [[nodiscard]] std::optional<std::string> check_state() const override;
  node::Relay relay_;
};

class ClientHarness final : public Harness {
 public:
  explicit ClientHarness(std::uint8_t config);
  [[nodiscard]] node::Client& client() noexcept { return client_; }
  // The start() every input begins with; its output is checked like any other.
  std::optional<std::string> start();

 private:
  [[nodiscard]] std::optional<node::Time> next_timeout() const override { return client_.next_timeout(); }
  void fire(node::Time at, node::Outbox& out) override { client_.handle_timeout(at, out); }
  void deliver(const Event& event, UdpEndpoint sender, node::Outbox& out) override;
  [[nodiscard]] UdpEndpoint table_endpoint(std::uint8_t index) const override { return client_table(index); }
  [[nodiscard]] bool is_timer_channel(std::uint8_t channel) const override { return channel == kClientTimer; }
  [[nodiscard]] std::optional<std::string> check_state() const override;
  node::Client client_;
};

// A whole input through a fresh node.
struct RunResult {
  std::optional<std::string> violation;
  std::size_t events = 0;             // events played
  std::size_t datagrams = 0;          // datagrams the node emitted
  std::size_t non_global = 0;         // of which to a non-global IPv4 (allowed exceptions)
  std::size_t peers = 0;              // relay/client: peer entries at the end
  node::QualificationState client_state = node::QualificationState::starting;
};
RunResult run_server(Bytes input);
RunResult run_relay(Bytes input);
RunResult run_client(Bytes input);

// The seeds of the three targets (make_seeds.cpp writes them; the unit test
// replays them): name, input.
struct Seed {
  std::string name;
  ByteVector input;
};
std::vector<Seed> server_state_seeds();
std::vector<Seed> relay_state_seeds();
std::vector<Seed> client_state_seeds();

}  // namespace teredo::fuzz::state
