// The verdicts of one interop cell, judged from its captures alone (sans-I/O:
// the cell runner hands in what each vantage point captured; unit tests hand
// in frames they built). Every reaction is attributed by content: the RS an
// RA answers by its IPv6 destination, the ping6 of each direction by the
// pattern its echo data carries, bubbles by the Teredo address they name.
//
// A failure names the party whose packet stopped: the hop the captures show
// it reached last, and the RFC sentence that party did not follow. When the
// packet was lost between two vantage points that only the NAT joins, or
// nothing proves what a party did, the verdict is inconclusive and says why
// (conformance/JUDGING.md: silence proves nothing about what an IUT sends).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/capture.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::interop {

// The vantage points of a cell (netns/topologies/client-nat.json): the capture
// name, its host and interface.
struct VantagePoint {
  const char* name;
  const char* host;
  const char* ifname;
};
inline constexpr VantagePoint kVantagePoints[] = {
    {"client-lan", "client", "eth0"},    // the client's LAN, inside the NAT
    {"nat-outside", "nat", "out0"},      // the NAT's outside
    {"server", "server", "eth0"},        // the server's IPv4 side
    {"relay", "relay", "eth0"},          // the relay's IPv4 side
    {"relay-native", "relay", "eth1"},   // the relay's native IPv6 side
    {"native-host", "v6host", "eth0"},   // the native IPv6 host
};

// Scenario D runs in netns/topologies/two-clients.json: two clients, each
// behind a NAT of the cell's profile, and the server; its captures are named
// "d-<vantage>" in the cell's folder.
inline constexpr VantagePoint kDirectVantagePoints[] = {
    {"d-client-a-lan", "client-a", "eth0"},
    {"d-nat-a-outside", "nat-a", "out0"},
    {"d-nat-b-outside", "nat-b", "out0"},
    {"d-client-b-lan", "client-b", "eth0"},
    {"d-server", "server", "eth0"},
};
inline constexpr const char* kClientALan = "192.0.2.10";
inline constexpr const char* kClientBLan = "192.0.2.74";
inline constexpr const char* kNatAOutside = "198.51.100.1";
inline constexpr const char* kNatBOutside = "198.51.100.2";
inline constexpr const char* kAtoBPattern = "696f702d646162";  // "iop-dab": client A -> client B
inline constexpr const char* kBtoAPattern = "696f702d646261";  // "iop-dba": client B -> client A
inline constexpr const char* kAtoBMarker = "iop-dab";
inline constexpr const char* kBtoAMarker = "iop-dba";

// Scenarios L and H run two clients of the cell's client implementation
// behind ONE NAT of the cell's profile, and the server. L:
// netns/topologies/same-nat.json, one /24 LAN, the NAT does not hairpin, so
// the clients can only reach each other on the LAN (local discovery, RFC 4380
// §5.2.8). H: netns/topologies/same-nat-hairpin.json, the NAT hairpins and the
// clients sit in two /26 subnets of its LAN, so §5.2.8's off-subnet rule
// (R4380-5.2.8-06) keeps local discovery out and the path is the hairpin.
// Their captures are named "l-<vantage>" and "h-<vantage>"; the pings carry
// kAtoBPattern / kBtoAPattern as in D.
inline constexpr VantagePoint kLocalVantagePoints[] = {
    {"l-client-a-lan", "client-a", "eth0"},
    {"l-client-b-lan", "client-b", "eth0"},
    {"l-nat-outside", "nat", "out0"},
    {"l-server", "server", "eth0"},
};
inline constexpr VantagePoint kHairpinVantagePoints[] = {
    {"h-client-a-lan", "client-a", "eth0"},
    {"h-client-b-lan", "client-b", "eth0"},
    {"h-nat-outside", "nat", "out0"},
    {"h-server", "server", "eth0"},
};
inline constexpr const char* kLocalClientBLan = "192.0.2.11";  // same-nat.json's client-b
inline constexpr const char* kDiscoveryGroup = "224.0.0.253";  // RFC 4380 §5.2.8 local discovery bubbles
// same-nat-hairpin.json's client-b is kClientBLan (192.0.2.74/26).

// Scenario S runs in the client-nat topology again, client and server started
// with their "secure" launch (the shared secret kit::lab::kSecret for client
// identifier kit::lab::kClientId); its captures are named "s-<vantage>".
inline constexpr VantagePoint kSecureVantagePoints[] = {
    {"s-client-lan", "client", "eth0"},
    {"s-nat-outside", "nat", "out0"},
    {"s-server", "server", "eth0"},
};

// Scenario E runs D's lab again (two-clients.json, both NATs of the cell's
// profile, which must be a symmetric kind), each client started with the RFC
// 6081 extension made for that NAT kind when it declares it, and the server
// with its trailers launch (capability rfc6081_trailers: the clients'
// indirect bubbles carry trailers). Captures "e-<vantage>", pings as in D.
inline constexpr VantagePoint kExtensionVantagePoints[] = {
    {"e-client-a-lan", "client-a", "eth0"},
    {"e-nat-a-outside", "nat-a", "out0"},
    {"e-nat-b-outside", "nat-b", "out0"},
    {"e-client-b-lan", "client-b", "eth0"},
    {"e-server", "server", "eth0"},
};
// Before E's marked pings, one unjudged ping each way with these patterns
// starts the extension's bubbles, then the runner waits one and a half Peer
// Refresh Timer periods (RFC 6081 §5.4.2: 30 s on the client's clock): the
// first random-port bubbles of two port-symmetric NATs race each other, and
// when one is filtered the RFC's rules open the path at the next refresh.
inline constexpr const char* kWarmUpAtoBPattern = "696f702d657761";  // "iop-ewa"
inline constexpr const char* kWarmUpBtoAPattern = "696f702d657762";  // "iop-ewb"
// The RFC 6081 extension made for a NAT profile, and what RFC 6081 §3
// Figure 1 promises two clients behind two such NATs that both run it.
struct NatExtension {
  const char* capability;  // "port_preserving_symmetric_nat"
  const char* section;     // "§5.4"
  const char* nat_kind;    // Figure 1's name of the NAT: "port-preserving port-symmetric"
  const char* figure_1;    // Figure 1's cell for the pair: "SNS+PP", "No"
  bool connects;           // Figure 1 promises a path (its cell is not "No")
};
// symmetric -> §5.4 (the lab's symmetric NAT preserves ports); symmetric-
// sequential -> §5.5; a symmetric profile with "+upnp" -> §5.3. Other
// profiles (cones, linux-masquerade) need no extension: nullopt.
std::optional<NatExtension> extension_for_nat(const std::string& nat_profile);

// Scenario R runs in the cell's client-nat lab after N: the NAT rebinds (every
// mapping to a new port), the client must take the new mapping from its next
// refresh, then ping6 both ways again, each direction with its own pattern.
inline constexpr const char* kRebindOutPattern = "696f702d72626f";  // "iop-rbo": client -> native host
inline constexpr const char* kRebindInPattern = "696f702d726269";   // "iop-rbi": native host -> client
inline constexpr const char* kRebindOutMarker = "iop-rbo";
inline constexpr const char* kRebindInMarker = "iop-rbi";

// The ping6 data patterns (ping -p) that tell each direction's packets apart.
inline constexpr const char* kOutPattern = "696f702d6f7574";  // "iop-out": client -> native host
inline constexpr const char* kInPattern = "696f702d696e21";   // "iop-in!": native host -> client
inline constexpr const char* kOutMarker = "iop-out";
inline constexpr const char* kInMarker = "iop-in!";
// The control RS the runner sends to the server from the relay's host after
// the scenarios (RFC 4380 §5.3.1: an RS MUST be accepted): when the server
// answers it, its silence toward the client is a discard, not a dead server.
inline constexpr std::uint16_t kControlPort = 40999;
inline constexpr const char* kControlNonce = "iopctrl!";

// One captured frame, read once: what the judge needs of it.
struct Packet {
  enum class Kind { other, rs, ra, bubble, echo_request, echo_reply };
  std::string vantage;
  std::uint64_t frame = 0;
  bool encapsulated = false;  // IPv4/UDP carrying a Teredo datagram; else a native IPv6 packet
  wire::Ipv4Address source4, destination4;
  std::uint16_t source_port = 0, destination_port = 0;
  std::optional<wire::OriginIndication> origin;
  std::optional<wire::Nonce> nonce;
  wire::Ipv6Address source6, destination6;
  Kind kind = Kind::other;
  std::optional<wire::Ipv6Address> ra_prefix;  // an RA's prefix information
  wire::ByteVector echo_data;
  // The authentication encapsulation (RFC 4380 §5.1.1), when present: what S
  // judges. `verifies`: the MAC verifies with the lab's shared secret
  // (kit::lab::kSecret) under that algorithm (§5.2.2).
  struct Authentication {
    std::string client_id;
    std::size_t value_size = 0;
    std::uint8_t confirmation = 0;
    bool verifies_sha1 = false, verifies_md5 = false;
  };
  std::optional<Authentication> auth;
  [[nodiscard]] std::string cite() const;  // "server#12"
};
// Frames that are neither IPv4/UDP with a Teredo datagram nor IPv6 are left out.
std::vector<Packet> read_packets(const std::string& vantage, wire::LinkType link,
                                 const std::vector<CapturedFrame>& frames);

struct Evidence {
  std::string nat_profile;
  std::vector<Packet> packets;                // every vantage point, each in frame order
  std::optional<std::string> client_address;  // the Teredo address the client's adapter probe saw
  std::map<std::string, std::string> died;    // party ("client", "server", "relay") -> how it ended
  bool pinged = false;                        // the N pings ran
  // Scenarios D, L and H: client A's and client B's addresses (the
  // scenario's own lab).
  std::optional<std::string> direct_a, direct_b;
  // How the judgement names them: "client A (reference)", "client B (miredo)"
  // (D pairs two implementations when the plan has more than one client).
  std::string client_a_name = "client A", client_b_name = "client B";
  // Scenario R: the NAT rebound (its control socket said so); the address the
  // client's adapter probe saw after it, when it changed; the pings ran.
  bool rebound = false;
  // The server capture's last frame before the rebind: an RS is the client's
  // answer to the rebind only after it (one from another mapping before it,
  // e.g. a NAT that maps per destination, is not).
  std::uint64_t rebind_server_frame = 0;
  std::optional<std::string> rebind_address;
  bool rebind_pinged = false;
  // Scenario S: the MAC the pair agreed on ("secure_qualification:hmac-md5"
  // declared by both: HMAC-MD5, else HMAC-SHA1, RFC 4380 §5.2.2).
  bool mac_md5 = false;
  // Scenario E: which client ran with the NAT kind's RFC 6081 extension
  // (its launch for the capability; one that does not declare it runs its
  // plain launch).
  bool extension_a = false, extension_b = false;
  // A stimulus the harness could not give (a ping6 that could not send), by
  // scenario letter: judge() gives that scenario "error", never a verdict
  // about a party.
  std::map<char, std::string> harness_faults;
};

struct FrameCite {
  std::string capture;  // "server.pcap"
  std::uint64_t frame = 0;
};
// A scenario's verdict in one cell: pass, fail, inconclusive, not-applicable
// or error; the party that deviated (client, server, relay) when a fail names
// one, "nat" when an inconclusive verdict lies with the NAT; the requirement
// the verdict rests on, the reason in words, the frames it cites.
struct Finding {
  char scenario = '?';
  std::string verdict;
  std::string party;
  std::string requirement;
  std::string reason;
  std::vector<FrameCite> frames;
};

Finding judge_qualification(const Evidence& e);
Finding judge_native(const Evidence& e);
// D: two clients behind two NATs reach each other (ping6 both ways) directly:
// the marked packets cross from one NAT's outside to the other's, and none
// goes through the server.
Finding judge_direct(const Evidence& e);
// L: two clients behind one NAT that does not hairpin reach each other on the
// LAN (local discovery): the marked packets go from one client's LAN address
// to the other's, none through the NAT's outside or the server.
Finding judge_local(const Evidence& e);
// S: secure qualification: the client's RSs carry the authentication
// encapsulation for kit::lab::kClientId whose MAC verifies, the server's RAs
// repeat the client id and nonce with confirmation 0 and a MAC that verifies,
// and the client qualifies (Q's judgement of the same captures).
Finding judge_secure(const Evidence& e);
// R: after the NAT's rebind a refresh RS from the new mapping is answered
// with that mapping, the client's address embeds it, and ping6 both ways
// through the relay works from the new address.
Finding judge_rebind(const Evidence& e);
// H: two clients behind one hairpinning NAT reach each other through the
// hairpin: each marked packet leaves one client for the NAT's outside
// address and the peer's mapped port, and reaches the other client from the
// sender's mapping; none through the server.
Finding judge_hairpin(const Evidence& e);
// E: D's judgement of E's captures, against RFC 6081 Figure 1's promise.
// Where Figure 1 promises a path (both clients run the extension and the
// NAT kind connects) it is D's verdict; where it promises none, a path is
// still a pass, a fail stays a fail, and an inconclusive (the NAT filtered)
// is not-applicable: the RFC promises nothing there. A client that runs the
// extension and stayed unqualified after RAs reporting two mappings fails:
// the extension's point (§3.1) is to use Teredo behind a symmetric NAT.
Finding judge_extension_direct(const Evidence& e);
Finding judge(char scenario, const Evidence& e);

// Whether a scenario applies to a pairing, from what the adapters declare
// (capabilities are never inferred) and what the lab's NAT profile can do:
// nullopt when it applies, else a not-applicable finding with the reason.
// L needs the client's "local_discovery"; S "secure_qualification" on client
// and server; R and H need a NAT the lab can make remap and hairpin (not the
// kernel's linux-masquerade).
// E needs a NAT profile with an extension (extension_for_nat), a server
// declaring rfc6081_trailers and at least one client (the cell's or its
// partner) declaring the extension.
struct Declared {
  std::string name;
  std::set<std::string> capabilities;
};
struct Pairing {
  Declared client, partner, server;  // partner: client B of D and E
  std::string nat_profile;
};
std::optional<Finding> not_applicable(char scenario, const Pairing& pairing);

}  // namespace teredo::conformance::interop
