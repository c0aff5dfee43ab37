// The reference Teredo client (RFC 4380 §5.2, updated by RFC 5991, with the
// RFC 6081 §5.1.1 refresh range and, optionally, its §5.2 symmetric NAT
// support), sans-I/O.
//
// Inputs: start() begins qualification; UDP datagrams received on the
// service port (handle_datagram), on the local discovery group
// 224.0.0.253:3544 (handle_discovery_datagram, §5.2.8) and on the secondary
// port of the refresh interval determination (handle_secondary_datagram,
// §5.2.7); IPv6 packets read from the tunnel (handle_ipv6); timers
// (handle_timeout when next_timeout() is reached). Outputs go to the Outbox:
// datagrams (from the service port, or the secondary port for §5.2.7),
// IPv6 packets for the tunnel (to_tunnel) and events.
//
// The I/O edge watches state() and address(): it configures the tunnel with
// the Teredo address once qualified, replaces it when it changes (§5.2.5) and
// removes it when it goes away; it keeps a socket on the discovery group
// while discovery_enabled() and on the secondary port while
// secondary_port_open().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "teredo/node/endpoint.hpp"
#include "teredo/node/limits.hpp"
#include "teredo/node/outbox.hpp"
#include "teredo/node/peer_list.hpp"
#include "teredo/node/time.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "teredo/wire/hmac.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/nd.hpp"
#include "teredo/wire/teredo_address.hpp"

namespace teredo::node {

// §5.2.1's states, with the phases of qualification told apart.
enum class QualificationState : std::uint8_t {
  starting,            // "Initial": start() not called yet
  probing_cone,        // RSs with the cone bit set (strict RFC 4380 first phase)
  probing_restricted,  // RSs with the cone bit clear, to the primary server address
  checking_symmetric,  // the second phase: the same RS to the secondary address
  qualified,
  offline,
};
std::string_view to_string(QualificationState state) noexcept;

// What qualification learned about the NAT. RFC 5991 clients never probe for
// a cone NAT, so they report `restricted` for both cone and restricted NATs,
// or `unknown` when the symmetric check is switched off.
enum class NatType : std::uint8_t { unknown, cone, restricted, symmetric };
std::string_view to_string(NatType type) noexcept;

// Fills the span with random bytes. Nonces and the RFC 5991 random flag bits
// come from here; R5991-4-01 wants a cryptographically sound generator. Tests
// inject a deterministic one; an empty function means OpenSSL's RAND_bytes.
using RandomSource = std::function<void(std::span<std::uint8_t>)>;

// §5.2.2: secure qualification.
struct ClientCredentials {
  wire::ByteVector id;      // at most 255 bytes
  wire::ByteVector secret;
  wire::MacAlgorithm algorithm = wire::MacAlgorithm::hmac_sha1;
};

struct Ipv4Subnet {
  wire::Ipv4Address address;
  std::uint8_t length = 32;  // 0..32
  [[nodiscard]] bool contains(wire::Ipv4Address candidate) const noexcept;
};

// Protocol durations before TimeScale (the peer timers are in PeerListConfig).
struct ClientTimers {
  Duration rs_timeout = 4s;  // §5.2.1: T = 4 s
  // §5.2.1: N = 3 "repetitions" of the start action: each phase sends the RS
  // once and repeats it three times (4 RSs, 16 s) before giving up on it.
  unsigned rs_repetitions = 3;
  // §5.2 / R6081-5.1.1-01: the Teredo refresh interval, 30 s by default
  // (R6081-5.1.1-02), and the range the randomized interval is drawn from, as
  // fractions of it: RFC 4380 says 75-100 % (R4380-5.2-07); RFC 6081 allows
  // any range within 50-150 % (R6081-5.1.1-03/04). Values outside 50-150 %
  // are clamped into it.
  Duration refresh_interval = 30s;
  double refresh_low = 0.75;
  double refresh_high = 1.0;
  Duration probe_spacing = 2s;          // §5.2.4 case 2 / §5.2.7 step 3: 2 s time-outs
  Duration local_peer_lifetime = 600s;  // §5.2.4 case 3
  Duration discovery_min = 200s;        // §5.2.8: uniformly between 200 and 300 s
  Duration discovery_max = 300s;
  // Not in the RFCs (for them "off-line" is final): restart qualification
  // this long after going off-line. Miredo waits 100 s. Unset: stay off-line
  // until start() is called again.
  std::optional<Duration> offline_retry;
};

struct ClientConfig {
  // The Teredo service port (and local IPv4 address; 0.0.0.0 when bound to
  // all). R4380-5.2.10-01: explicitly configurable; R4380-5.2-03: the edge
  // picks a random one when none is configured.
  UdpEndpoint local;
  // R4380-5.2-01: the two IPv4 addresses of the server.
  wire::Ipv4Address server;
  wire::Ipv4Address server_secondary;
  std::uint16_t server_port = wire::kUdpPortTeredo;

  // §5.2.2: with credentials, RSs carry the client id and an HMAC and RAs
  // must carry a valid one. Without them the RS still carries an
  // authentication encapsulation with a nonce (ID-len = AU-len = 0), the
  // "first level of protection", unless send_nonce is false.
  std::optional<ClientCredentials> secure;
  bool send_nonce = true;

  // RFC 5991 by default. Strict RFC 4380 (use_rfc4380_qualification()):
  bool probe_cone = false;       // R5991-3.2-01: skip the cone-bit phase
  bool random_flags = true;      // R5991-3.1-02/03: random bits under 0x3CFF
  bool honour_cone_bit = false;  // R5991-3.2-02: every peer's cone bit read as 0
  // R4380-5.2.4-10: a direct bubble in case 5 even behind a cone NAT.
  bool always_direct_bubble = false;
  // §5.2.1 second phase: after a cone-0 RA from the primary address, the
  // same RS to the secondary address; a different mapping is a symmetric NAT.
  bool check_symmetric = true;
  // RFC 6081 §3.1/§5.2: behind a symmetric NAT, qualify anyway and use nonce
  // trailers on bubbles (implies accept_trailers). Off by default.
  bool symmetric_nat_support = false;
  bool accept_trailers = false;  // RFC 6081 §4: bytes after the IPv6 packet
  // RFC 6081 §5.4 Port-Preserving and §5.5 Sequential Port-Symmetric NAT
  // extensions (off by default): behind a symmetric NAT, a random local port
  // per untrusted peer, advertised in a Random Port Trailer (§4.5). Each
  // implies symmetric_nat_support (R6081-5.4-02, R6081-5.5-02); §5.5 implies
  // §5.4 (R6081-5.5-02).
  bool port_preserving_nat = false;
  bool sequential_port_nat = false;
  // Fault injection, for the lab tests that prove a conformance case can
  // fail (teredo-ref --fault NAME); all off in a conforming client.
  struct Faults {
    // R6081-5.5.4.3-02/03 broken: a direct bubble on the primary port leaves a running Echo Test's failover timer.
    bool echo_test_not_cancelled = false;
    // R6081-5.5.2.1-02 broken: the Peer Refresh Timer leaves EchoTestLowerPort/UpperPort/RetryCounter alone.
    bool echo_ports_kept_on_refresh = false;
    // R6081-5.4.4.1-01 broken: the Last Data Packet Sent Timestamp is never updated.
    bool data_sent_not_stamped = false;
    // R6081-5.4.4.5-05/-15 broken: a trusted peer's direct bubble is compared
    // with its stored mapping the wrong way round (same taken as changed).
    bool invert_mapping_check = false;
    // R6081-5.4.3-01 broken: the Port-Preserving NAT and Symmetric NAT flags
    // start TRUE, and qualification only ever sets them TRUE (as §5.3.2 and
    // §5.4.3 word it), so they stay TRUE behind a cone NAT.
    bool nat_flags_true_at_start = false;
    // R6081-5.4.2.1-04 broken: data sent in the last 30 s leaves the
    // Connection Refresh Count as it is.
    bool refresh_count_not_reset = false;
    // R6081-5.4.2.1-02 broken: the Connection Refresh Count is never checked
    // against 20.
    bool refresh_count_uncapped = false;
  } faults{};
  // RFC 6081 §5.6 hairpinning (client_hairpin.cpp) and §5.7 server load
  // reduction (client_load_reduction.cpp): off by default; each implies
  // accept_trailers. `local_address` is the IPv4 address the service port
  // sends from when `local` is the any-address (the edge finds it; §5.6.4.1
  // advertises it in the Alternate Address Trailer).
  bool hairpinning = false;
  bool server_load_reduction = false;
  wire::Ipv4Address local_address;

  // §5.2.8 local client discovery: optional (R4380-5.2-08), off by default.
  bool local_discovery = false;
  // R4380-5.2.8-06: discovery bubbles from outside this subnet are dropped
  // (unset: every discovery bubble is dropped).
  std::optional<Ipv4Subnet> local_subnet;
  // R4380-5.2.8-07: also drop those whose Teredo source embeds another mapped IPv4.
  bool discovery_same_mapped_ipv4_only = false;

  // §5.2.7 refresh interval determination: optional, off by default. Needs
  // a second local port (the edge opens it while secondary_port_open()).
  bool interval_determination = false;
  UdpEndpoint secondary_local;

  // §5.2.3 case 6: accept packets that no peer entry vouches for (after
  // starting a direct IPv6 connectivity test for their source).
  bool accept_unverified = true;
  std::size_t mtu = kTeredoMtu;  // R4380-5.1.2-01

  ClientTimers timers;   // unscaled
  PeerListConfig peers;  // capacity (R4380-5.2-06, §7.3.3), queues; timers unscaled
  TimeScale time_scale;  // applied to timers and peers.timers by the constructor
  RandomSource random;

  void use_rfc4380_qualification() noexcept {
    probe_cone = true;
    random_flags = false;
    honour_cone_bit = true;
  }
};

class Client {
 public:
  explicit Client(ClientConfig config);

  // Begins qualification (§5.2.1) from `starting` or `offline`; ignored otherwise.
  void start(Time now, Outbox& out);
  // A datagram received on the service port.
  void handle_datagram(Time now, UdpEndpoint from, wire::Bytes payload, Outbox& out);
  // A datagram received on 224.0.0.253:3544 (§5.2.8).
  void handle_discovery_datagram(Time now, UdpEndpoint from, wire::Bytes payload, Outbox& out);
  // A datagram received on the §5.2.7 secondary port.
  void handle_secondary_datagram(Time now, UdpEndpoint from, wire::Bytes payload, Outbox& out);
  // A datagram received on one of the random_ports() (RFC 6081 §5.4, §5.5).
  void handle_random_port_datagram(Time now, std::uint16_t local_port, UdpEndpoint from, wire::Bytes payload,
                                   Outbox& out);
  // An IPv6 packet read from the tunnel interface.
  void handle_ipv6(Time now, wire::Bytes packet, Outbox& out);
  void handle_timeout(Time now, Outbox& out);
  [[nodiscard]] std::optional<Time> next_timeout() const noexcept;

  [[nodiscard]] QualificationState state() const noexcept { return state_; }
  [[nodiscard]] NatType nat_type() const noexcept { return nat_; }
  // The Teredo address in use (qualified only).
  [[nodiscard]] const std::optional<wire::Ipv6Address>& address() const noexcept { return address_; }
  [[nodiscard]] std::optional<UdpEndpoint> mapped() const noexcept;
  // The link-local address of the RSs: fe80::<cone bit>:<~port>:<~IPv4> of
  // the local endpoint.
  [[nodiscard]] wire::Ipv6Address link_local() const noexcept;
  [[nodiscard]] Duration refresh_interval() const noexcept { return refresh_interval_; }
  [[nodiscard]] Duration randomized_refresh_interval() const noexcept { return randomized_refresh_; }
  [[nodiscard]] bool discovery_enabled() const noexcept {
    return config_.local_discovery && state_ == QualificationState::qualified;
  }
  [[nodiscard]] bool secondary_port_open() const noexcept;
  // §5.2.7 has concluded (or found itself unavailable): the edge closes the
  // secondary port for good (R4380-5.2.7-04).
  [[nodiscard]] bool interval_concluded() const noexcept;
  // RFC 6081 §5.4/§5.5: the local ports (on config().local's address) the
  // edge keeps a socket on, as it does for the §5.2.7 secondary port.
  [[nodiscard]] std::vector<std::uint16_t> random_ports() const;
  // RFC 6081 §5.4.1's Port-Preserving NAT flag.
  [[nodiscard]] bool port_preserving_nat() const noexcept { return port_preserving_; }
  [[nodiscard]] const ClientConfig& config() const noexcept { return config_; }
  [[nodiscard]] const PeerList& peers() const noexcept { return peers_; }

  // RFC 6081 §5.3 (client_upnp.cpp; the calls themselves: UpnpSetup in
  // client_upnp.hpp): the UPnP-Mapped Address/Port the edge got from the
  // NAT's IGD before start(), which sets the UPnP-Enabled NAT flag.
  void set_upnp_mapping(UdpEndpoint mapping, Outbox& out);
  [[nodiscard]] bool upnp_enabled_nat() const noexcept { return upnp_enabled_nat_; }
  // nullopt once zeroed out (a single NAT, R6081-5.3.3-13).
  [[nodiscard]] const std::optional<UdpEndpoint>& upnp_mapped() const noexcept { return upnp_mapped_; }

 private:
  // An RS in flight: qualification, refresh, or §5.2.7's secondary port.
  struct Solicitation {
    bool cone = false;
    UdpEndpoint from;           // our port it leaves from
    UdpEndpoint to;             // the server address it goes to
    UdpEndpoint expected_from;  // where the RA must come from
    wire::Ipv6Address source;   // the link-local source; the RA's destination
    wire::Nonce nonce{};
    unsigned sent = 0;
    Time deadline{};
  };
  struct ValidRa {
    UdpEndpoint mapping;
    wire::Ipv6Address prefix;
  };
  // §5.2.7's state.
  struct IntervalProbe {
    enum class Phase : std::uint8_t { off, qualifying, waiting, probing, done };
    Phase phase = Phase::off;
    std::optional<Solicitation> rs;
    std::optional<UdpEndpoint> mapping;
    wire::Ipv6Address address;  // the secondary Teredo address
    Time last_interaction{};
    Duration candidate{};
    Duration maximum{};
    unsigned probes = 0;
    Time deadline{};
  };

  // client.cpp: randomness, timers, the one way out.
  void random_bytes(std::span<std::uint8_t> out);
  Duration uniform(Duration low, Duration high);
  // Every unicast datagram leaves through here: from the service port (or
  // `from` when its port is set), never to a non-global IPv4 unless
  // `allow_local` (a local peer, §5.2.4 note), never to port 0 or ourselves.
  bool send(UdpEndpoint to, wire::ByteVector payload, std::string_view requirement, Outbox& out,
            bool allow_local = false, UdpEndpoint from = {});
  void go_offline(Time now, std::string_view code, std::string_view requirement,
                  std::string text, Outbox& out);
  // client_qualify.cpp: §5.2.1, §5.2.2, RFC 2461 §6.1.2.
  void begin_phase(Time now, QualificationState phase, Outbox& out);
  void send_rs(Time now, Solicitation& rs, Outbox& out);
  void rs_timed_out(Time now, Outbox& out);
  std::optional<ValidRa> validate_ra(const Solicitation& rs, UdpEndpoint from,
                                     const wire::TeredoDatagram& d, Outbox& out);
  void handle_ra(Time now, UdpEndpoint from, const wire::TeredoDatagram& d, Outbox& out);
  void qualify(Time now, const ValidRa& ra, bool cone, Outbox& out);
  // client_maintain.cpp: §5.2.5.
  void start_refresh(Time now, Outbox& out);
  void refreshed(Time now, const ValidRa& ra, Outbox& out);
  void server_lost(Time now, Outbox& out);
  void withdraw_address(std::string_view code, std::string_view requirement, Outbox& out);
  void draw_refresh_interval();
  // client_receive.cpp: §5.2.3.
  // `nonce`: an RFC 6081 nonce trailer's value, 0 when there is none.
  void receive_from_server(Time now, const wire::TeredoDatagram& d, std::uint32_t nonce,
                           Outbox& out);
  void receive_from_peer(Time now, UdpEndpoint from, const wire::TeredoDatagram& d,
                         std::uint32_t nonce, Outbox& out);
  [[nodiscard]] static bool echo_matches(const Peer& peer, const wire::TeredoDatagram& d) noexcept;
  void trust(Time now, Peer& peer, UdpEndpoint from, std::string_view requirement, Outbox& out);
  void deliver(const wire::TeredoDatagram& d, std::string_view requirement, Outbox& out);
  // client_send.cpp: §5.2.4, §5.2.6, §5.2.9.
  Peer* peer_for(Time now, const wire::Ipv6Address& address, Outbox& out);
  void send_to_peer(Time now, Peer& peer, wire::ByteVector packet, Outbox& out);
  bool queue_and_probe(Time now, Peer& peer, wire::Bytes packet, Outbox& out);
  void probe(Time now, Peer& peer, Outbox& out);
  void send_echo_test(Time now, Peer& peer, Outbox& out);
  void send_bubbles(Time now, Peer& peer, Outbox& out);
  // A direct bubble to `to` in answer to a packet (§5.2.3, §5.2.8), within
  // the §5.2.6 limits.
  void reply_bubble(Time now, Peer& peer, UdpEndpoint to, bool local, Outbox& out);
  void retry_probes(Time now, Outbox& out);
  // client_discovery.cpp: §5.2.8.
  [[nodiscard]] bool is_local_peer(const Peer& peer, Time now) const noexcept;
  void send_discovery_bubble(Time now, Outbox& out);
  // R4380-5.2.3-01: a datagram on any of the client's ports that is not a
  // Teredo packet as §5.1.1 encodes it (RFC 6081 §4: with trailers when they
  // are accepted) is discarded, the drop saying why and where it came from
  // (`from_text()`, called only then: no string on the hot path). The parse
  // result either way.
  template <typename FromText>
  [[nodiscard]] wire::Result<wire::TeredoDatagram> parse_or_drop(wire::Bytes payload, const FromText& from_text,
                                                                 Outbox& out) const {
    auto parsed = wire::parse_datagram(payload, {.accept_trailers = config_.accept_trailers});
    if (!parsed) out.drop(wire::to_string(parsed.error()), "R4380-5.2.3-01", from_text());
    return parsed;
  }
  // client_symmetric.cpp: RFC 6081 §4 trailers and §5.2 nonces.
  [[nodiscard]] bool trailers_acceptable(const wire::TeredoDatagram& d, std::uint32_t& nonce,
                                         Outbox& out) const;
  [[nodiscard]] wire::ByteVector bubble_datagram(const wire::Ipv6Address& destination,
                                                 std::uint32_t nonce) const;
  // client_random_port.cpp: RFC 6081 §5.4 and §5.5.
  enum class BubbleRule : std::uint8_t { not_mine, handled };
  [[nodiscard]] bool port_preserving_mode() const noexcept;  // §5.4 applies
  [[nodiscard]] bool sequential_mode() const noexcept;       // §5.5 applies
  [[nodiscard]] bool symmetric_nat_flag() const noexcept;    // RFC 6081's Symmetric NAT flag
  void random_port_start(Time now);
  void random_port_qualified(const ValidRa& ra, Outbox& out);
  bool random_port_before_indirect(Time now, Peer& peer, Outbox& out);
  [[nodiscard]] wire::ByteVector with_random_port(const Peer& peer, wire::ByteVector datagram) const;
  void random_port_direct_bubble(Time now, Peer& peer, Outbox& out);
  void random_port_indirect_received(Time now, Peer& peer, const wire::TeredoDatagram& d, Outbox& out);
  BubbleRule random_port_primary_bubble(Time now, Peer& peer, UdpEndpoint from, std::uint32_t nonce, Outbox& out);
  [[nodiscard]] UdpEndpoint peer_source(const Peer& peer) const noexcept;
  // RFC 6081 §5.4.4.5: a trusted peer's direct bubble came from its stored mapping.
  [[nodiscard]] bool same_mapping(const Peer& peer, UdpEndpoint from) const noexcept;
  void random_port_data_sent(Time now, Peer& peer);
  bool random_port_ra(Time now, UdpEndpoint from, const wire::TeredoDatagram& d, Outbox& out);
  void random_port_timeout(Time now, Outbox& out);
  [[nodiscard]] std::optional<Time> random_port_next_timeout() const noexcept;
  std::uint16_t open_random_port(Peer& peer, Outbox& out);
  void close_random_port(Peer& peer, std::string_view requirement, Outbox& out);
  void start_echo_test(Time now, Peer& peer, Outbox& out);
  // client_hairpin.cpp: RFC 6081 §4.3, §5.6.
  [[nodiscard]] UdpEndpoint local_endpoint() const noexcept;
  [[nodiscard]] wire::ByteVector indirect_bubble_datagram(const Peer& peer, std::uint32_t nonce) const;
  [[nodiscard]] bool hairpin_indirect_bubble(Peer& peer, const wire::TeredoDatagram& d, Outbox& out);
  void hairpin_reply(Time now, Peer& peer, UdpEndpoint origin, Outbox& out);
  [[nodiscard]] bool hairpin_path(const Peer& peer) const noexcept;
  // client_load_reduction.cpp: RFC 6081 §4.4, §5.7.
  [[nodiscard]] bool solicit(Time now, Peer& peer, wire::Bytes packet, Outbox& out);
  void solicitation_timed_out(Time now, Peer& peer, Outbox& out);
  void answer_solicitation(Time now, Peer& peer, UdpEndpoint from, const wire::TeredoDatagram& d,
                           Outbox& out);
  // client_upnp.cpp: RFC 6081 §5.3.
  void upnp_qualified(Outbox& out);
  void upnp_direct_bubble(Peer& peer, UdpEndpoint from, UdpEndpoint embedded, Outbox& out);
  [[nodiscard]] UdpEndpoint upnp_destination(const Peer& peer, UdpEndpoint usual, std::string_view requirement,
                                             Outbox& out) const;
  // client_interval.cpp: §5.2.7.
  void interval_start(Time now, Outbox& out);
  void interval_timeout(Time now, Outbox& out);
  void interval_probe(Time now, Outbox& out);
  void interval_result(Time now, bool success, Outbox& out);
  void interval_stop(std::string_view code, std::string text, Outbox& out);

  ClientConfig config_;
  ClientTimers timers_;  // scaled
  PeerList peers_;
  QualificationState state_ = QualificationState::starting;
  NatType nat_ = NatType::unknown;
  bool cone_ = false;  // the cone bit that got the RA (R4380-5.2.1-06)
  std::optional<Solicitation> rs_;
  std::optional<UdpEndpoint> first_mapping_;  // primary's answer, for the symmetric check
  std::optional<UdpEndpoint> mapped_;
  std::optional<wire::Ipv6Address> address_;
  Time last_server_interaction_{};
  Duration refresh_interval_{};
  Duration randomized_refresh_{};
  std::optional<Time> restart_at_;
  std::optional<Time> next_discovery_;
  IntervalProbe interval_;
  bool upnp_enabled_nat_ = false;           // RFC 6081 §5.3.1
  std::optional<UdpEndpoint> upnp_mapped_;  // UPnP-Mapped Address/Port; nullopt: zero
  // RFC 6081 §5.4/§5.5: the Port-Preserving NAT flag (§5.4.1), the Peer
  // Refresh Timer (§5.4.2) and the peers that have a random port or an Echo
  // Test (the peer list is not iterable; gone entries are pruned).
  bool port_preserving_ = false;
  std::optional<Time> peer_refresh_at_;
  std::vector<wire::Ipv6Address> random_port_peers_;
};

}  // namespace teredo::node
