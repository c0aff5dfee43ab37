// The stateful fuzzers' input decoder, property checker and node harnesses
// (see state_harness.hpp).
#include "state_harness.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string_view>
#include <utility>

#include "teredo/node/addressing.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/ipv6.hpp"

namespace teredo::fuzz::state {

namespace {

using namespace std::chrono_literals;

// Every input starts its clock here, so "30 s in the past" stays positive.
constexpr node::Time kStartTime = 1000s;
// More timer calls than this within one event's advance (at most 65.5 s)
// means a timer re-arms faster than any protocol period here (the shortest
// is the 2 s bubble spacing).
constexpr std::size_t kMaxTimerFiresPerEvent = 1000;

constexpr UdpEndpoint kDiscoveryGroup{wire::Ipv4Address::from_octets(224, 0, 0, 253), wire::kUdpPortTeredo};

constexpr UdpEndpoint ep(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  return UdpEndpoint{wire::Ipv4Address::from_octets(a, b, c, d), port};
}

struct Block {
  std::uint32_t network;
  unsigned length;
  [[nodiscard]] bool contains(wire::Ipv4Address a) const noexcept {
    const std::uint32_t mask = length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
    return (a.value & mask) == network;
  }
};
// RFC 4380 §5.2.4: "an IPv4 address is deemed to be a global unicast address
// if it does not belong to or match" these.
constexpr std::array<Block, 9> kNotGlobal = {{
    {0x00000000, 8},   // the "local" subnet 0.0.0.0/8
    {0x7F000000, 8},   // loopback
    {0x0A000000, 8},   // 10.0.0.0/8
    {0xAC100000, 12},  // 172.16.0.0/12
    {0xC0A80000, 16},  // 192.168.0.0/16
    {0xA9FE0000, 16},  // link local 169.254.0.0/16
    {0xC0586300, 24},  // 6to4 anycast 192.88.99.0/24
    {0xE0000000, 4},   // multicast
    {0xFFFFFFFF, 32},  // limited broadcast
}};
// Of those, the addresses a local peer can have (§5.2.8: a peer on the same
// link, behind the same NAT): the private and link-local blocks.
bool is_local_unicast(wire::Ipv4Address a) noexcept {
  return kNotGlobal[2].contains(a) || kNotGlobal[3].contains(a) || kNotGlobal[4].contains(a) ||
         kNotGlobal[5].contains(a);
}

std::string text(UdpEndpoint e) { return node::to_string(e); }

bool contains(const std::vector<UdpEndpoint>& list, UdpEndpoint e) {
  return std::find(list.begin(), list.end(), e) != list.end();
}

}  // namespace

// --- input ----------------------------------------------------------------

Input decode_input(Bytes data) {
  Input input;
  if (data.empty()) return input;
  input.config = data[0];
  std::size_t at = 1;
  constexpr std::size_t kHeader = 5;
  while (input.events.size() < kMaxEvents && data.size() - at >= kHeader) {
    const std::uint8_t kind = data[at];
    Event e;
    e.channel = static_cast<std::uint8_t>(kind & kKindChannelMask);
    e.endpoint_index = static_cast<std::uint8_t>((kind >> kKindEndpointShift) & 0x07);
    e.advance_ms = static_cast<std::uint16_t>((data[at + 1] << 8) | data[at + 2]);
    std::size_t length = static_cast<std::size_t>((data[at + 3] << 8) | data[at + 4]);
    at += kHeader;
    if ((kind & kKindExplicitSender) != 0) {
      if (data.size() - at < 6) break;
      e.sender = UdpEndpoint{
          wire::Ipv4Address::from_octets(data[at], data[at + 1], data[at + 2], data[at + 3]),
          static_cast<std::uint16_t>((data[at + 4] << 8) | data[at + 5])};
      at += 6;
    }
    length = std::min(length, data.size() - at);
    e.payload = data.subspan(at, length);
    at += length;
    input.events.push_back(e);
  }
  return input;
}

namespace {
void put16(ByteVector& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
}  // namespace

InputWriter& InputWriter::event(std::uint8_t channel, std::uint8_t endpoint_index,
                                std::uint16_t advance_ms, Bytes payload) {
  bytes_.push_back(static_cast<std::uint8_t>((channel & kKindChannelMask) |
                                             ((endpoint_index & 0x07) << kKindEndpointShift)));
  put16(bytes_, advance_ms);
  put16(bytes_, std::min<std::size_t>(payload.size(), 0xFFFF));
  bytes_.insert(bytes_.end(), payload.begin(), payload.begin() + std::min<std::size_t>(payload.size(), 0xFFFF));
  return *this;
}

InputWriter& InputWriter::event_from(std::uint8_t channel, UdpEndpoint sender, std::uint16_t advance_ms,
                                     Bytes payload) {
  bytes_.push_back(static_cast<std::uint8_t>((channel & kKindChannelMask) | kKindExplicitSender));
  put16(bytes_, advance_ms);
  put16(bytes_, std::min<std::size_t>(payload.size(), 0xFFFF));
  const auto octets = sender.address.octets();
  bytes_.insert(bytes_.end(), octets.begin(), octets.end());
  put16(bytes_, sender.port);
  bytes_.insert(bytes_.end(), payload.begin(), payload.begin() + std::min<std::size_t>(payload.size(), 0xFFFF));
  return *this;
}

// --- the checker ----------------------------------------------------------

bool is_rfc4380_global_unicast(wire::Ipv4Address a) noexcept {
  return std::none_of(kNotGlobal.begin(), kNotGlobal.end(), [a](const Block& b) { return b.contains(a); });
}

std::optional<std::string> check_datagram(const node::OutgoingDatagram& d, const OutputRules& rules) {
  if (!contains(rules.own_endpoints, d.from)) {
    return "datagram to " + text(d.to) + " sent from " + text(d.from) + ", not one of the node's endpoints";
  }
  const auto parsed = wire::parse_datagram(d.payload, {.accept_trailers = rules.accept_trailers});
  if (!parsed) {
    return "datagram to " + text(d.to) + " does not parse: " + std::string(wire::to_string(parsed.error()));
  }
  // R4380-5.1.2-01: the Teredo link MTU.
  if (parsed->ipv6.packet.size() > rules.mtu) {
    return "datagram to " + text(d.to) + " carries an IPv6 packet of " +
           std::to_string(parsed->ipv6.packet.size()) + " bytes, over the link MTU";
  }
  if (!is_rfc4380_global_unicast(d.to.address)) {
    // R4380-5.2.8-04: the local discovery bubble: 224.0.0.253:3544, TTL 1,
    // a bubble to ff02::1.
    const bool discovery_bubble = rules.local_discovery && d.to == kDiscoveryGroup && d.ttl == 1 &&
                                  wire::is_bubble(parsed->ipv6) &&
                                  parsed->ipv6.header.destination == node::all_nodes();
    // §5.2.4 note: case 1 to a local peer found by discovery.
    const bool local_peer = rules.local_discovery && is_local_unicast(d.to.address) &&
                            contains(rules.local_peers, d.to);
    if (!discovery_bubble && !local_peer) {
      // R4380-5.3.1-14, R4380-5.3.2-09 (server), R4380-5.4.1-02 (relay),
      // R4380-5.2.4-08 (client): such a packet MUST be silently discarded.
      return "datagram to non-global IPv4 " + text(d.to) + " (RFC 4380 §5.2.4)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_outbox(const node::Outbox& out, const OutputRules& rules) {
  for (const auto& d : out.datagrams) {
    if (auto v = check_datagram(d, rules)) return v;
  }
  for (const auto& packet : out.to_tunnel) {
    const auto parsed = wire::parse_ipv6_packet(packet);
    if (!parsed) return "packet for the IPv6 side does not parse: " + std::string(wire::to_string(parsed.error()));
    if (!parsed->trailer.empty()) {
      return "packet for the IPv6 side has " + std::to_string(parsed->trailer.size()) + " bytes after it";
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_peer_list(const node::PeerList& peers, std::size_t capacity,
                                           std::size_t queue_bytes_total) {
  // R4380-5.2-06, §7.3.3: a bounded list.
  if (peers.size() > capacity) {
    return "peer list holds " + std::to_string(peers.size()) + " entries, over its capacity " +
           std::to_string(capacity);
  }
  // R4380-5.4.1-10: bounded queues.
  if (peers.queued_bytes_total() > queue_bytes_total) {
    return "peer queues hold " + std::to_string(peers.queued_bytes_total()) + " bytes, over the total " +
           std::to_string(queue_bytes_total);
  }
  return std::nullopt;
}

// --- the harness ----------------------------------------------------------

std::optional<std::string> Harness::after_call(node::Outbox& out) {
  datagrams_ += out.datagrams.size();
  non_global_ += static_cast<std::size_t>(std::count_if(
      out.datagrams.begin(), out.datagrams.end(),
      [](const node::OutgoingDatagram& d) { return !is_rfc4380_global_unicast(d.to.address); }));
  auto violation = check_outbox(out, rules_);
  if (!violation) violation = check_state();
  last_ = std::move(out);
  return violation;
}

std::optional<std::string> Harness::advance_to(node::Time target) {
  for (std::size_t fires = 0;; ++fires) {
    const auto due = next_timeout();
    if (!due || *due > target) break;
    if (fires == kMaxTimerFiresPerEvent) {
      return "more than " + std::to_string(kMaxTimerFiresPerEvent) + " timer calls within one event";
    }
    const node::Time at = std::max(now_, *due);
    now_ = at;
    node::Outbox out;
    fire(at, out);
    if (auto v = after_call(out)) return v;
    if (const auto next = next_timeout(); next && *next <= at) {
      return "timer does not progress: after handle_timeout(" + std::to_string(at.count()) +
             " ns) next_timeout() is " + std::to_string(next->count()) + " ns";
    }
  }
  now_ = std::max(now_, target);
  return std::nullopt;
}

std::optional<std::string> Harness::step(const Event& event) {
  if (auto v = advance_to(now_ + std::chrono::milliseconds{event.advance_ms})) return v;
  if (is_timer_channel(event.channel)) {
    // Jump to the next deadline, however far.
    if (const auto due = next_timeout()) return advance_to(std::max(now_, *due));
    return std::nullopt;
  }
  const UdpEndpoint sender = event.sender.value_or(table_endpoint(event.endpoint_index));
  node::Outbox out;
  deliver(event, sender, out);
  return after_call(out);
}

// --- endpoint tables --------------------------------------------------------

UdpEndpoint server_table(std::uint8_t index) noexcept {
  static constexpr std::array<UdpEndpoint, kEndpointTableSize> table = {
      kClientMapping,                              // a client behind its NAT
      ep(198, 51, 100, 20, 3544),                  // another client
      ep(198, 51, 100, 50, 3544),                  // a relay
      ep(10, 0, 0, 1, 3544),                       // private: dropped (R4380-5.3.1-04)
      UdpEndpoint{kServerPrimary, 3544},           // ourselves (MTFL-SA-0603)
      ep(203, 0, 113, 9, 0),                       // port 0
      ep(224, 0, 0, 253, 3544),                    // multicast
      ep(198, 51, 100, 20, 3545),                  // the other client, another port
  };
  return table[index % table.size()];
}

UdpEndpoint relay_table(std::uint8_t index) noexcept {
  static constexpr std::array<UdpEndpoint, kEndpointTableSize> table = {
      kClientMapping,                     // a Teredo client
      ep(198, 51, 100, 20, 3544),         // another client
      ep(203, 0, 113, 8, 4000),           // a third
      ep(192, 168, 1, 5, 3544),           // private
      kRelayLocal,                        // ourselves
      ep(203, 0, 113, 9, 0),              // port 0
      ep(127, 0, 0, 1, 3544),             // loopback
      UdpEndpoint{kServerPrimary, 3544},  // a Teredo server
  };
  return table[index % table.size()];
}

UdpEndpoint client_table(std::uint8_t index) noexcept {
  static constexpr std::array<UdpEndpoint, kEndpointTableSize> table = {
      UdpEndpoint{kServerPrimary, 3544},    // the server
      UdpEndpoint{kServerSecondary, 3544},  // its secondary address
      ep(198, 51, 100, 20, 3544),           // a Teredo peer (or relay) on the Internet
      ep(192, 168, 1, 20, 3544),            // a local peer (§5.2.8)
      ep(192, 168, 1, 21, 40000),           // another local peer
      kClientLocal,                         // ourselves
      kClientMapping,                       // our own mapping
      ep(10, 0, 0, 5, 3544),                // private, off our subnet
  };
  return table[index % table.size()];
}

// --- the server -------------------------------------------------------------

namespace {
node::ServerConfig server_config(std::uint8_t bits) {
  node::ServerConfig c;
  c.primary = kServerPrimary;
  c.secondary = kServerSecondary;
  if ((bits & kServerSecure) != 0) {
    node::SecureQualification secure;
    secure.clients.push_back(node::ClientCredential{ByteVector(std::begin(kClientId), std::end(kClientId)),
                                                    ByteVector(std::begin(kSecret), std::end(kSecret)), false});
    c.secure = std::move(secure);
  }
  c.accept_trailers = (bits & kServerTrailers) != 0;
  c.forward_any_protocol = (bits & kServerAnyProtocol) != 0;
  c.answer_echo = (bits & kServerNoEcho) == 0;
  c.forward_native = (bits & kServerNoNative) == 0;
  return c;
}
}  // namespace

ServerHarness::ServerHarness(std::uint8_t config) : Harness(kStartTime), server_(server_config(config)) {
  // The server answers from the address an RS reached (or the other one);
  // it never adds RFC 6081 trailers itself, but with accept_trailers it
  // forwards a packet's trailers with it.
  rules_.own_endpoints = {server_.primary_endpoint(), server_.secondary_endpoint()};
  rules_.accept_trailers = server_.config().accept_trailers;
}

void ServerHarness::deliver(const Event& event, UdpEndpoint sender, node::Outbox& out) {
  UdpEndpoint local = server_.primary_endpoint();
  if (event.channel == kServerOnSecondary) local = server_.secondary_endpoint();
  if (event.channel == kServerOnForeign) local = ep(192, 0, 2, 99, 3544);
  server_.handle_datagram(now_, local, sender, event.payload, out);
}

// --- the relay --------------------------------------------------------------

namespace {
node::RelayConfig relay_config(std::uint8_t bits) {
  node::RelayConfig c;
  c.local = kRelayLocal;
  c.ipv6_address = wire::parse_ipv6("2001:db8::10").value();
  c.served_prefixes.push_back(node::parse_ipv6_prefix("::/0").value());
  c.host_specific = (bits & kRelayHostSpecific) != 0;
  c.host_addresses = {wire::parse_ipv6("2001:db8::10").value(), wire::parse_ipv6("2001:db8::11").value()};
  c.honour_cone_bit = (bits & kRelayHonourCone) != 0;
  c.direct_bubbles = (bits & kRelayDirectBubbles) != 0;
  c.accept_unknown_peers = (bits & kRelayRejectUnknown) == 0;
  c.accept_trailers = (bits & kRelayTrailers) != 0;
  c.peers.capacity = kPeerCapacity;
  c.peers.queue_bytes_total = kQueueBytesTotal;
  return c;
}
}  // namespace

RelayHarness::RelayHarness(std::uint8_t config) : Harness(kStartTime), relay_(relay_config(config)) {
  // R4380-5.4-02: one service port.
  rules_.own_endpoints = {kRelayLocal};
}

void RelayHarness::deliver(const Event& event, UdpEndpoint sender, node::Outbox& out) {
  if (event.channel == kRelayNative) {
    relay_.handle_ipv6(now_, event.payload, out);
  } else {
    relay_.handle_datagram(now_, sender, event.payload, out);
  }
}

std::optional<std::string> RelayHarness::check_state() const {
  return check_peer_list(relay_.peers(), kPeerCapacity, kQueueBytesTotal);
}

// --- the client -------------------------------------------------------------

namespace {
// Deterministic randomness (splitmix64 from a fixed seed): the same input
// always draws the same nonces, so seeds can answer the RSs they provoke.
node::RandomSource deterministic_random() {
  auto state = std::make_shared<std::uint64_t>(0x74657265646F2121ULL);
  return [state](std::span<std::uint8_t> out) {
    for (std::uint8_t& byte : out) {
      std::uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      byte = static_cast<std::uint8_t>(z ^ (z >> 31));
    }
  };
}

node::ClientConfig client_config(std::uint8_t bits) {
  node::ClientConfig c;
  c.local = kClientLocal;
  c.server = kServerPrimary;
  c.server_secondary = kServerSecondary;
  if ((bits & kClientRfc4380) != 0) c.use_rfc4380_qualification();
  c.symmetric_nat_support = (bits & kClientSymmetric) != 0;
  if ((bits & kClientDiscovery) != 0) {
    c.local_discovery = true;
    c.local_subnet = node::Ipv4Subnet{wire::Ipv4Address::from_octets(192, 168, 1, 0), 24};
  }
  if ((bits & kClientInterval) != 0) {
    c.interval_determination = true;
    c.secondary_local = kClientSecondaryLocal;
  }
  if ((bits & kClientSecure) != 0) {
    c.secure = node::ClientCredentials{ByteVector(std::begin(kClientId), std::end(kClientId)),
                                       ByteVector(std::begin(kSecret), std::end(kSecret)),
                                       wire::MacAlgorithm::hmac_sha1};
  }
  c.check_symmetric = (bits & kClientNoSymmetricCheck) == 0;
  if ((bits & kClientOfflineRetry) != 0) c.timers.offline_retry = 100s;
  c.always_direct_bubble = (bits & kClientDirectBubble) != 0;
  c.peers.capacity = kPeerCapacity;
  c.peers.queue_bytes_total = kQueueBytesTotal;
  c.random = deterministic_random();
  return c;
}
}  // namespace

ClientHarness::ClientHarness(std::uint8_t config) : Harness(kStartTime), client_(client_config(config)) {
  rules_.own_endpoints = {kClientLocal};
  if ((config & kClientInterval) != 0) rules_.own_endpoints.push_back(kClientSecondaryLocal);
  // RFC 6081 §4.2: with symmetric NAT support, bubbles carry a nonce trailer.
  rules_.accept_trailers = client_.config().accept_trailers;
  rules_.local_discovery = client_.config().local_discovery;
}

std::optional<std::string> ClientHarness::start() {
  node::Outbox out;
  client_.start(now_, out);
  return after_call(out);
}

void ClientHarness::deliver(const Event& event, UdpEndpoint sender, node::Outbox& out) {
  switch (event.channel) {
    case kClientDiscoveryGroup:
      // What the checker allows the client to answer (§5.2.4 note).
      if (!contains(rules_.local_peers, sender)) rules_.local_peers.push_back(sender);
      client_.handle_discovery_datagram(now_, sender, event.payload, out);
      return;
    case kClientSecondary: client_.handle_secondary_datagram(now_, sender, event.payload, out); return;
    case kClientTunnel: client_.handle_ipv6(now_, event.payload, out); return;
    case kClientStart: client_.start(now_, out); return;
    default: client_.handle_datagram(now_, sender, event.payload, out); return;
  }
}

std::optional<std::string> ClientHarness::check_state() const {
  return check_peer_list(client_.peers(), kPeerCapacity, kQueueBytesTotal);
}

// --- whole inputs -----------------------------------------------------------

namespace {
template <typename H>
RunResult play(H& harness, const Input& input, RunResult result) {
  for (const Event& e : input.events) {
    if (result.violation) break;
    ++result.events;
    result.violation = harness.step(e);
  }
  result.datagrams = harness.datagrams_emitted();
  result.non_global = harness.non_global_emitted();
  return result;
}
}  // namespace

RunResult run_server(Bytes data) {
  const Input input = decode_input(data);
  ServerHarness h(input.config);
  return play(h, input, RunResult{});
}

RunResult run_relay(Bytes data) {
  const Input input = decode_input(data);
  RelayHarness h(input.config);
  RunResult r = play(h, input, RunResult{});
  r.peers = h.relay().peers().size();
  return r;
}

RunResult run_client(Bytes data) {
  const Input input = decode_input(data);
  ClientHarness h(input.config);
  RunResult r;
  r.violation = h.start();
  r = play(h, input, std::move(r));
  r.peers = h.client().peers().size();
  r.client_state = h.client().state();
  return r;
}

}  // namespace teredo::fuzz::state
