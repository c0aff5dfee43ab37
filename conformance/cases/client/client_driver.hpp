// What the client-role cases share (RFC 4380 §5.2, RFC 5991, RFC 6081). The
// lab is netns/topologies/client-lab.json: the IUT client on 192.0.2.10
// behind a NAT (outside 198.51.100.1; the profile per case, port-restricted
// cone by default) on a LAN shared with "lanpeer" (192.0.2.20, a played
// local Teredo client); the "server" host is the driver: it plays the IUT's
// Teredo server on 203.0.113.1 and .2 port 3544 (answering RSs with the RAs
// a case asks for), the peers' server 203.0.113.3, Teredo peers
// (198.51.100.7/.8, their Teredo addresses embed their real endpoints) and a
// relay (198.51.100.9:3544). The application on the client is played too:
// an IPv6 UDP socket in the client's namespace, so the IUT's kernel picks its
// Teredo address as the source.
//
// Verdicts are judged from the captures: "lan" (client:eth0, what the IUT
// itself sent and what reached it through the NAT) and "inet"
// (server:eth0, the driver's side), with frame numbers. Timers come from the
// adapter's timers_ms, or its launch variant's where that has its own (RFC
// values when not declared), with explicit tolerances.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/case.hpp"
#include "kit/datagram.hpp"
#include "kit/judge.hpp"
#include "kit/lab_facts.hpp"
#include "kit/match.hpp"
#include "kit/packets.hpp"
#include "kit/party.hpp"
#include "kit/timing.hpp"

namespace teredo::conformance::client {

using kit::contains;
using kit::flags_of;
using kit::FrameMatch;
using kit::marker;
using kit::Peer;
using kit::since;

// Lab facts (client-lab).
inline constexpr const char* kTopology = "client-lab";
inline constexpr const char* kServer = kit::lab::kServerPrimary;     // {server_v4}
inline constexpr const char* kServer2 = kit::lab::kServerSecondary;  // {server_v4_secondary}
inline constexpr const char* kPeerServer = kit::lab::kPeerServer;   // the peers' Teredo server
inline constexpr const char* kPeerA = kit::lab::kPeerA;
inline constexpr const char* kPeerB = kit::lab::kPeerB;
inline constexpr const char* kRelay = kit::lab::kPlayedRelay;
inline constexpr const char* kNatOutside = kit::lab::kNatOutside;
inline constexpr const char* kClientLan = kit::lab::kClientLan;
inline constexpr const char* kLanPeer = kit::lab::kLanPeer;
inline constexpr const char* kNative = kit::lab::kV6Host;  // a native IPv6 host (played by the driver)
inline constexpr std::uint16_t kTeredoPort = kit::lab::kTeredoPort;
inline constexpr std::uint16_t kAppPort = kit::lab::kAppPort;  // the UDP port of the played application, both ends

// The capture vantage points of every client case.
std::vector<VantagePoint> client_captures();

// The kit's millisecond formatter, under the name the client cases use.
inline std::string ms_text(std::chrono::milliseconds d) { return kit::ms(d); }

// The adapter's timers (milliseconds), RFC values when not declared.
struct Timers {
  std::chrono::milliseconds retry{4000};         // qualification_retry: §5.2.1 T
  std::chrono::milliseconds refresh{30000};      // refresh_interval: §5.2
  std::chrono::milliseconds bubble{2000};        // bubble_interval: §5.2.6
  std::chrono::milliseconds window{300000};      // bubble_window: §5.2.6
  std::chrono::milliseconds echo{2000};          // echo_test_retry: §5.2.4 case 2
  std::chrono::milliseconds validity{30000};     // peer_validity: §5.2.4
  std::chrono::milliseconds discovery_max{300000};
};
Timers timers(const CaseRun& run);  // of the launch the case runs with (launch_timers_ms)
Timers timers(const Adapter& adapter);  // of the plain launch
Timers timers(const std::map<std::string, std::int64_t>& timers_ms);

// A UDP endpoint as the driver sees it.
struct Endpoint {
  wire::Ipv4Address address{};
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};
std::string to_text(const Endpoint& e);

// What the played server does with one RS.
enum class RaFault {
  none,                // a valid RA
  silent,              // no answer
  wrong_nonce,         // the nonce with one bit flipped
  no_auth,             // no authentication encapsulation although the RS had one
  no_origin,           // no origin indication
  wrong_destination,   // IPv6 destination other than the RS's source
  two_prefixes,        // two Prefix Information options
  no_prefix,           // no Prefix Information option
  foreign_prefix,      // 2001:db8::/64
  other_server_prefix, // 2001:0:<198.51.100.9>::/64
  global_source,       // IPv6 source 2001:db8:1::2 (not link-local)
  hop_limit_64,        // IPv6 hop limit 64
  bad_checksum,        // ICMPv6 checksum corrupted
  code_1,              // ICMPv6 code 1
  truncated,           // an ICMPv6 RA of 12 octets
  zero_length_option,  // an option of length 0
  bad_mac,             // authentication value with one byte flipped
  other_secret,        // authentication value computed with another secret
  wrong_source_port,   // from <server>:3545 instead of :3544
  private_origin,      // origin indication 10.1.2.3:40000 (not a global IPv4)
};
const char* describe(RaFault fault);

struct RaPlan {
  RaFault fault = RaFault::none;
  std::optional<Endpoint> origin{};  // the mapping given (default: the RS's source as seen)
  std::uint8_t confirmation = 0;     // secure RAs: the confirmation byte (non-zero: "get a new key", §5.2.2)
};

struct RsSeen {
  std::chrono::steady_clock::time_point at{};
  Endpoint from{};           // the IUT's mapping, as the server sees it
  std::string to{};          // 203.0.113.1 or .2
  wire::ByteVector payload{};
  bool cone = false;         // cone bit of the RS's link-local source
  bool authenticated = false;
  wire::Nonce nonce{};
  RaPlan plan{};             // what was answered
  bool answered = false;
  std::chrono::steady_clock::time_point answered_at{};
};

// The IUT's Teredo server, played on 203.0.113.1:3544 and 203.0.113.2:3544
// by a thread answering every RS as planned: the queued plans first, one per
// RS, then the default plan. A cone RS is answered from the other address
// (§5.3.2); secure RAs are signed with {secret} (HMAC-SHA1).
class PlayedServer {
 public:
  explicit PlayedServer(CaseRun& run, bool secure = false);
  // Outside a case (the wire fuzzer's client rig): `bind(address, port)`
  // returns a UDP socket bound there in the lab's "server" host, which the
  // caller closes after the PlayedServer is gone.
  using UdpBinder = std::function<int(const std::string& address, std::uint16_t port)>;
  explicit PlayedServer(const UdpBinder& bind, bool secure = false);
  ~PlayedServer();
  PlayedServer(const PlayedServer&) = delete;
  PlayedServer& operator=(const PlayedServer&) = delete;

  void push(RaPlan plan);
  void set_default(RaPlan plan);
  [[nodiscard]] std::vector<RsSeen> seen() const;
  // Waits until `count` RSs were received (true) or the timeout.
  bool wait_rs(std::size_t count, std::chrono::milliseconds timeout) const;
  // Sends a datagram from the primary address, port 3544 (a packet "from the server").
  void send_from_primary(const Endpoint& to, wire::Bytes payload);
  [[nodiscard]] std::optional<Endpoint> mapping() const;  // the source of the last RS

  // §5.3 forwarding, which most cases leave off: the next `budget` bubbles
  // whose IPv6 destination is a Teredo address of this server (the §5.2.7
  // probe to the client's secondary address) are sent on to the mapping that
  // address embeds, from the primary address, with an origin indication of
  // their source. Every such bubble is recorded, forwarded or not.
  void forward_bubbles(std::size_t budget);
  struct BubbleSeen {
    std::chrono::steady_clock::time_point at{};
    Endpoint from{};  // as the server sees it
    Endpoint to{};    // the mapping the destination embeds
    bool forwarded = false;
  };
  [[nodiscard]] std::vector<BubbleSeen> bubbles() const;

  // Off by default. On: an RS to the secondary address takes no queued plan
  // and is answered with a valid RA carrying the origin indication of the
  // last RA answered from the primary, as a real server pair behind a cone
  // NAT would: a client that took a (marked) primary RA then configures the
  // address that RA's content names, instead of concluding "symmetric NAT".
  void mirror_secondary(bool on);
  // Every RS to the secondary address takes `plan` (no queued plan); RSs to
  // the primary go on as before.
  void answer_secondary_with(RaPlan plan);

 private:
  void loop();
  void answer(int fd, const std::string& to, const Endpoint& from, wire::Bytes payload);
  void forward_bubble(const Endpoint& from, const wire::TeredoDatagram& d);

  bool secure_ = false;
  int primary_ = -1, secondary_ = -1, primary_other_port_ = -1, secondary_other_port_ = -1;
  mutable std::mutex mutex_;
  std::vector<RaPlan> queue_;
  RaPlan default_{};
  std::vector<RsSeen> seen_;
  std::size_t forward_budget_ = 0;
  std::vector<BubbleSeen> bubbles_;
  bool mirror_secondary_ = false;
  std::optional<RaPlan> secondary_plan_{};
  std::optional<Endpoint> last_primary_origin_{};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// before_iut hooks: the played server listens before the IUT starts, so its
// first RS is answered (not met by an ICMP port unreachable).
void open_played_server(CaseRun& run);
void open_secure_played_server(CaseRun& run);  // secure RAs ({secret}, HMAC-SHA1)
// The server the hook opened (one is opened now if the case has no hook).
PlayedServer& played_server(CaseRun& run);

// The RA datagram the played server sends for `plan` in answer to an RS.
wire::ByteVector ra_datagram(const RsSeen& rs, const RaPlan& plan, const Endpoint& origin, bool secure);

// The IUT's configured Teredo address: a global address on the interface
// the adapter's address probe names (never from its log) that lies in a
// prefix the played server advertised (iut_addresses_in_advertised); nullopt
// when the adapter declares no probe or no such address is set.
std::optional<wire::Ipv6Address> iut_address(CaseRun& run);
// Waits for an address (a different one from `not_this` when given).
std::optional<wire::Ipv6Address> wait_address(CaseRun& run, std::chrono::milliseconds timeout,
                                              std::optional<wire::Ipv6Address> not_this = std::nullopt);
// Runs qualification with a valid played server; on failure records an
// inconclusive assertion for every requirement and returns nullopt.
std::optional<wire::Ipv6Address> qualify(CaseRun& run, PlayedServer& server,
                                         const std::vector<std::string>& requirements);

// The played application: an IPv6 UDP socket in the client's namespace.
class App {
 public:
  explicit App(CaseRun& run, std::uint16_t port = kAppPort);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;
  // Sends `payload` to [to]:kAppPort; false (with the reason in `error`) when
  // the client's stack refused it (no route, no address).
  bool send(const wire::Ipv6Address& to, wire::Bytes payload, std::string* error = nullptr);

 private:
  int fd_ = -1;
};

// A driver socket (in the server host) and the Teredo address it plays.
Peer make_peer(CaseRun& run, const std::string& address, std::uint16_t port, std::uint16_t flags = 0,
               const std::string& server = kPeerServer);
// Sends from a peer to `to`; returns the frame in the inet capture (0: not seen).
std::uint64_t send_from(CaseRun& run, const Peer& from, wire::Bytes payload, const Endpoint& to);

// Frame matchers over the lan capture (what the IUT sent: IPv4 source
// 192.0.2.10).
FrameMatch from_iut(const Capture& capture);
FrameMatch iut_to(const Capture& capture, const std::string& address, std::uint16_t port = 0);  // 0: any port
// A bubble from the IUT whose IPv6 destination is `peer` (any IPv4 destination).
FrameMatch iut_bubble_for(const Capture& capture, const wire::Ipv6Address& peer);
// A datagram from the IUT whose payload contains `mark`.
FrameMatch iut_containing(const Capture& capture, const std::string& mark);
// An ICMPv6 echo reply from the IUT with this identifier and sequence.
FrameMatch iut_echo_reply(const Capture& capture, std::uint16_t identifier, std::uint16_t sequence);
// An RS from the IUT.
FrameMatch iut_rs(const Capture& capture);
// The RA-bearing datagram from the driver to the IUT's LAN address (what got
// through the NAT).
FrameMatch ra_to_iut(const Capture& capture);

std::uint64_t lan_mark(CaseRun& run);
// A mark of the lan capture that no frame sent before it can come after: a
// datagram from the LAN peer (192.0.2.20) to the IUT host's discard port,
// waited for in the capture. The capture numbers frames in the order the
// kernel saw them, so every frame the IUT sent before the barrier is
// numbered before it, even one the capture thread had not numbered yet when
// the case looked (which lan_mark would count as later: what a case that
// tells two instances of the IUT apart by time must not do). lan_mark when
// the barrier is not seen within the answer time-out.
std::uint64_t lan_barrier(CaseRun& run);
std::uint64_t inet_mark(CaseRun& run);

// A parsed frame of the lan capture: the kit's captured datagram.
using Seen = kit::CapturedDatagram;
std::optional<Seen> parse_seen(const CapturedFrame& frame, wire::LinkType link);
std::vector<Seen> all_seen(CaseRun& run, const FrameMatch& match, std::uint64_t after = 0);
std::optional<Seen> wait_seen(CaseRun& run, const FrameMatch& match, std::chrono::milliseconds timeout,
                              std::uint64_t after = 0);
using kit::describe;  // "bubble 2001:0:... -> 2001:0:... from ... to 203.0.113.3:3544 (lan frame 12)"
// Whether a datagram the IUT sent went to this IPv4 endpoint.
inline bool to_endpoint(const Seen& s, const Endpoint& e) {
  return s.carrier.destination4 == e.address && s.carrier.destination_port == e.port;
}
inline bool to_endpoint(const Seen& s, const std::string& address, std::uint16_t port) {
  return to_endpoint(s, Endpoint{kit::ipv4(address), port});
}
FrameRef lan(std::uint64_t frame);
FrameRef inet(std::uint64_t frame);
std::vector<FrameRef> lan_frames(std::initializer_list<std::uint64_t> numbers);  // skips 0

// The peer's bubble as the IUT's server relays it (an indirect bubble): an
// origin indication holding the peer's mapping, sent from 203.0.113.1:3544 to
// the IUT's `mapping`, with `trailer` (RFC 6081 §4) after the IPv6 packet.
// Returns its frame in the inet capture (0: not seen within 1000 ms).
std::uint64_t indirect_bubble(CaseRun& run, PlayedServer& server, const Peer& peer, const wire::Ipv6Address& iut,
                              const Endpoint& mapping, wire::Bytes trailer = {});

// The IPv6 packet the IUT carries for its application, as it left: the
// application sends `mark` to the Teredo peer `peer`; when the IUT's direct
// bubble to the peer's mapping shows up, the peer answers it with a bubble
// from that mapping to `iut` at `iut_mapping` (so a port-restricted NAT lets
// it in), and the packet holding `mark` is waited for. Its IPv6 source is the
// address the IUT uses (RFC 4380 puts no constraint on a bubble's source:
// Miredo sends its bubbles from a link-local address). `story` tells what
// happened, with frame numbers.
std::optional<Seen> data_on_wire(CaseRun& run, App& app, const Peer& peer, const Endpoint& iut_mapping,
                                 const wire::Ipv6Address& iut, const std::string& mark, std::string& story);

// ---------------------------------------------------------------------------
// Content attribution (issue 12): which address the IUT configured, and from
// which RA, read from what it accepted rather than from a text pattern or
// from timing.

// The /64 prefix an RA answering with `plan` advertises (nullopt: an RA
// without Prefix Information option, or none at all).
std::optional<wire::Ipv6Address> advertised_prefix(const RaPlan& plan);
// The prefixes the case's played server advertised so far (the valid
// 2001:0:cb00:7101::/64 when no server was opened).
std::vector<wire::Ipv6Address> advertised_prefixes(CaseRun& run);
bool in_prefix64(const wire::Ipv6Address& address, const wire::Ipv6Address& prefix);
// Every usable (not tentative, not dadfailed) global-scope IPv6 address on
// the interface the adapter's address probe names, in the IUT's host; empty
// when the adapter declares no probe. `ip -j -6 addr show dev <if> scope
// global`, parsed as JSON.
std::vector<wire::Ipv6Address> iut_global_addresses(CaseRun& run);
std::vector<wire::Ipv6Address> iut_global_addresses(netns::Lab& lab, const Adapter& adapter);
// Those inside a prefix the played server advertised.
std::vector<wire::Ipv6Address> iut_addresses_in_advertised(CaseRun& run);
// Parses `ip -j addr` output: the usable addresses of `scope` (tested
// without a lab).
std::vector<wire::Ipv6Address> parse_ip_json_addresses(const std::string& json, const std::string& scope = "global");

}  // namespace teredo::conformance::client
