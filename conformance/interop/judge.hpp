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
  // Scenario D: client A's and client B's addresses (D's own lab).
  std::optional<std::string> direct_a, direct_b;
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
Finding judge(char scenario, const Evidence& e);

}  // namespace teredo::conformance::interop
