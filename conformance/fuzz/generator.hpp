// Structure-aware generation of Teredo UDP payloads for fuzzing a server over
// the wire (issue 13). Each datagram starts from a valid one built with the
// reference/wire builders (a router solicitation with or without the
// authentication and origin encapsulations, a bubble, an echo request, data
// for the relay) and is then mutated field by field (encapsulation order,
// ID-len / AU-len, origin, IPv6 header fields, payload length, next header,
// ICMPv6 type / code / checksum, ND options, trailers, truncation, oversize)
// and byte by byte. Sans I/O: the same seed and context give the same
// sequence of datagrams, whatever machine runs it (no std distribution is
// used: their output is implementation-defined).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "teredo/wire/hmac.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::fuzz {

// The lab as the generated datagrams name it.
struct GeneratorContext {
  wire::Ipv4Address server;                  // the IUT server's primary address
  wire::Ipv6Address server_link_local;       // fe80::8000:f227:<~server> (RFC 4380 §5.3.2)
  wire::Ipv4Address client_ipv4;             // the endpoint the datagrams are sent from
  std::uint16_t client_port = 0;
  wire::Ipv6Address client_teredo;           // its Teredo address (names the server, embeds the endpoint)
  wire::Ipv6Address peer_teredo;             // another qualified client of the server (forwarding target)
  wire::Ipv6Address native_host;             // a native IPv6 destination (data a relay would carry)
  wire::Ipv4Address non_global;              // a non-global IPv4 the lab can observe (192.88.99.7)
  // Set when the server shares a secret with the fuzzing client (secure
  // qualification, RFC 4380 §5.2.2): the authenticated RS templates carry
  // this client identifier and a valid authentication value computed over
  // the datagram as finally built, so that a mutated field behind the
  // authentication check (the IPv6 header, the RS, its options, the origin)
  // reaches the code after it. Mutating the identifier or the value leaves
  // the value unsigned (random), as without a secret.
  struct Signing {
    wire::ByteVector client_id, secret;
    wire::MacAlgorithm algorithm = wire::MacAlgorithm::hmac_sha1;
  };
  std::optional<Signing> signing;
  // Client-bound datagrams (an IUT client, RFC 4380 §5.2): what the rig
  // learnt of it when the context was made. The rig rebinds each datagram
  // to what the client uses when it is sent (rebind_for_client): a restarted
  // client picks a new nonce, new random flags (RFC 5991 §3.1), maybe a new
  // mapping.
  wire::Ipv6Address iut_link_local;          // the source of the client's RSs (an RA's destination)
  wire::Ipv6Address iut_teredo;              // the client's Teredo address
  wire::Ipv4Address iut_mapped_ipv4;         // its mapping, as the server sees it (an RA's origin indication)
  std::uint16_t iut_mapped_port = 0;
  wire::Ipv6Address local_peer_teredo;       // a Teredo client on the IUT's LAN (discovery bubbles)
};

// Which datagrams a generator makes: for a server or relay (the templates
// rs_plain .. data_native), or for a client in one of its states.
enum class Audience : std::uint8_t {
  server,              // rs_*, bubble, echo_peer, echo_server, data_native
  client_qualifying,   // ra, ra_no_origin: answers to the client's RSs
  client_qualified,    // bubble_to_client .. discovery_bubble: from peers, the server, a relay, the LAN
};

// What a datagram was built from.
enum class Template : std::uint8_t {
  rs_plain,        // RS, simple encapsulation
  rs_auth,         // RS behind an authentication encapsulation (nonce)
  rs_auth_origin,  // RS behind authentication then origin indication
  rs_origin,       // RS behind an origin indication only
  bubble,          // client -> peer bubble (the server forwards it)
  echo_peer,       // ICMPv6 echo request client -> peer
  echo_server,     // ICMPv6 echo request to the server's link-local address
  data_native,     // ICMPv6 echo request client -> native host (data to relay)
  // Client-bound (the IUT is a client):
  ra,                 // the server's RA: authentication (the RS's nonce), origin indication (its mapping)
  ra_no_origin,       // the same without origin indication (RFC 4380 §5.2.1: the client must drop it)
  bubble_to_client,   // a peer's direct bubble, peer -> client
  echo_to_client,     // an ICMPv6 echo request from a peer
  data_from_relay,    // a native host's echo request, carried by a relay (§5.2.3 case 6)
  bubble_via_server,  // a peer's indirect bubble, forwarded by the server with the peer's origin indication
  discovery_bubble,   // a local discovery bubble (§5.2.8): LAN peer -> ff02::1, hop limit 1
};
const char* to_string(Template t);

struct GeneratedDatagram {
  wire::ByteVector payload;            // the UDP payload
  Template base = Template::rs_plain;
  std::vector<std::string> mutations;  // field names, in the order applied; empty: a valid datagram
  [[nodiscard]] bool valid() const noexcept { return mutations.empty(); }
};

class DatagramGenerator {
 public:
  DatagramGenerator(std::uint64_t seed, GeneratorContext context, Audience audience = Audience::server);

  // The next datagram: valid with probability 1/valid_one_in, else mutated.
  GeneratedDatagram next();
  // The next valid datagram (traffic that keeps the server's state alive).
  GeneratedDatagram next_valid();
  // The datagrams of another audience from here on (a client rig follows
  // its client's state); the sequence stays a function of the seed and the
  // calls.
  void set_audience(Audience audience) noexcept { audience_ = audience; }
  // Whether discovery bubbles are among the client_qualified templates (the
  // adapter declares local_discovery).
  void set_discovery(bool on) noexcept { discovery_ = on; }

  // Another lab view (a rig's next state); the random sequence goes on.
  void set_context(GeneratorContext context) { context_ = std::move(context); }

  void set_valid_one_in(unsigned n) noexcept { valid_one_in_ = n == 0 ? 1 : n; }
  // Largest UDP payload an oversize mutation makes (at most 65507).
  void set_max_payload(std::size_t bytes) noexcept { max_payload_ = bytes; }

 private:
  std::uint64_t below(std::uint64_t n);  // uniform in [0, n), n > 0
  bool chance(unsigned one_in);
  Template pick();
  GeneratedDatagram build(Template base, bool mutate);

  std::mt19937_64 random_;
  GeneratorContext context_;
  unsigned valid_one_in_ = 8;
  std::size_t max_payload_ = 4096;
  Audience audience_ = Audience::server;
  bool discovery_ = false;
};

// The nonce of the first authentication encapsulation of a UDP payload, read
// as a server reads it (at the start, or after one origin indication):
// nullopt when there is none or it is cut short.
std::optional<wire::Nonce> nonce_of(wire::Bytes payload) noexcept;

// What a client-bound datagram names of its IUT client (GeneratorContext's
// iut_* fields).
struct ClientBinding {
  wire::Nonce nonce{};            // of the RS being answered
  wire::Ipv6Address link_local;   // the RS's source
  wire::Ipv6Address teredo;       // the client's Teredo address
  wire::Ipv4Address mapped_ipv4;  // its mapping
  std::uint16_t mapped_port = 0;
};
// Rebinds a generated client-bound payload from `from` (the context it was
// made in) to `to` (the client now), in place, as a lenient reader finds
// its fields (encapsulations at the start, then the IPv6 header; mutated
// lengths are followed as written): the nonce of an authentication
// encapsulation becomes to.nonce; an origin indication naming from's
// mapping names to's; an IPv6 source or destination equal to from's
// link-local or Teredo address becomes to's, the ICMPv6 or UDP checksum
// adjusted by the difference (RFC 1624), so a checksum that was wrong stays
// wrong by as much. Anything else is left as it is.
void rebind_for_client(wire::ByteVector& payload, const ClientBinding& from, const ClientBinding& to) noexcept;

}  // namespace teredo::conformance::fuzz
