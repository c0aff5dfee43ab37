// Seeds of the stateful fuzzers: protocol exchanges that reach the states
// worth fuzzing from (a qualified client, a trusted relay peer, answered
// RSs). The client's RAs are not written by hand: the seed plays the client
// harness as it writes the input and lets a reference Server answer each RS
// it emits, so nonces, HMACs and origin indications are the real ones.
#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string_view>

#include "state_harness.hpp"
#include "teredo/node/addressing.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/teredo_address.hpp"

namespace teredo::fuzz::state {

namespace {

using wire::Ipv4Address;
using wire::Ipv6Address;

Ipv6Address v6(std::string_view text) { return wire::parse_ipv6(text).value(); }

Ipv6Address teredo(Ipv4Address server, UdpEndpoint mapping, bool cone = false) {
  wire::TeredoAddress t;
  t.server = server;
  t.flags = wire::make_teredo_flags(cone, 0);
  t.mapped_port = mapping.port;
  t.mapped_ipv4 = mapping.address;
  return t.to_ipv6();
}

ByteVector echo(const Ipv6Address& from, const Ipv6Address& to, bool reply = false) {
  static constexpr std::uint8_t kData[] = {'s', 't', 'a', 't', 'e'};
  return wire::build_echo(from, to, 64, wire::EchoMessage{reply, 0x5445, 1, kData});
}

ByteVector with_trailer(Bytes packet, Bytes trailer) {
  ByteVector out;
  if (!wire::append_datagram(out, std::nullopt, std::nullopt, packet, trailer)) {
    throw std::runtime_error("append_datagram");
  }
  return out;
}

ByteVector with_origin(Bytes packet, UdpEndpoint origin) {
  ByteVector out;
  if (!wire::append_datagram(out, std::nullopt, wire::OriginIndication{origin.port, origin.address}, packet)) {
    throw std::runtime_error("append_datagram");
  }
  return out;
}

std::uint8_t client_index(UdpEndpoint e) {
  for (std::uint8_t i = 0; i < kEndpointTableSize; ++i) {
    if (client_table(i) == e) return i;
  }
  throw std::runtime_error("endpoint not in the client table: " + node::to_string(e));
}

// Writes a client input while playing it, so later events can answer what
// the client emitted.
class ClientSeed {
 public:
  explicit ClientSeed(std::uint8_t config) : config_(config), harness_(config), writer_(config) {
    check(harness_.start());
  }

  void add(std::uint8_t channel, std::uint8_t index, std::uint16_t advance_ms, Bytes payload) {
    writer_.event(channel, index, advance_ms, payload);
    Event e;
    e.channel = channel;
    e.endpoint_index = index;
    e.advance_ms = advance_ms;
    e.payload = payload;
    check(harness_.step(e));
  }

  // A reference server with the client's credentials answers the RS the
  // client just sent, as the NAT maps it to `mapping`; the RA goes back in.
  void answer_rs(UdpEndpoint mapping, std::uint16_t advance_ms = 50) {
    node::ServerConfig sc;
    sc.primary = kServerPrimary;
    sc.secondary = kServerSecondary;
    if ((config_ & kClientSecure) != 0) {
      node::SecureQualification secure;
      secure.clients.push_back(node::ClientCredential{ByteVector(std::begin(kClientId), std::end(kClientId)),
                                                      ByteVector(std::begin(kSecret), std::end(kSecret)), false});
      sc.secure = std::move(secure);
    }
    node::Server server(sc);
    const auto& sent = harness_.last_output().datagrams;
    const auto rs = std::find_if(sent.begin(), sent.end(), [&](const node::OutgoingDatagram& d) {
      return d.to == server.primary_endpoint() || d.to == server.secondary_endpoint();
    });
    if (rs == sent.end()) throw std::runtime_error("the client sent no RS to answer");
    node::Outbox out;
    server.handle_datagram(harness_.now(), rs->to, mapping, rs->payload, out);
    if (out.datagrams.size() != 1) throw std::runtime_error("the server did not answer the RS");
    const ByteVector ra = out.datagrams[0].payload;
    add(kClientService, client_index(out.datagrams[0].from), advance_ms, ra);
  }

  void qualify() {
    answer_rs(kClientMapping);
    if ((config_ & kClientNoSymmetricCheck) == 0 && harness_.client().state() != node::QualificationState::qualified) {
      answer_rs(kClientMapping);  // the same RS to the secondary address
    }
    if (harness_.client().state() != node::QualificationState::qualified) {
      throw std::runtime_error("the client seed did not qualify");
    }
  }

  [[nodiscard]] Ipv6Address address() { return harness_.client().address().value(); }
  [[nodiscard]] ByteVector bytes() const { return writer_.bytes(); }

 private:
  static void check(const std::optional<std::string>& violation) {
    if (violation) throw std::runtime_error("seed breaks a property: " + *violation);
  }
  std::uint8_t config_;
  ClientHarness harness_;
  InputWriter writer_;
};

}  // namespace

std::vector<Seed> server_state_seeds() {
  std::vector<Seed> seeds;
  const auto first_rs = [](std::uint8_t client_config) {
    ClientHarness c(client_config);
    if (c.start() || c.last_output().datagrams.empty()) throw std::runtime_error("no RS");
    return c.last_output().datagrams[0].payload;
  };
  // The client's RS on the primary address, then (RFC 4380 strict) a cone
  // RS, answered from the secondary address.
  seeds.push_back({"rs", InputWriter(0)
                             .event(kServerOnPrimary, 0, 0, first_rs(0))
                             .event(kServerOnSecondary, 0, 4000, first_rs(0))
                             .event(kServerOnPrimary, 1, 10, first_rs(kClientRfc4380))
                             .bytes()});
  seeds.push_back({"rs-secure", InputWriter(kServerSecure)
                                    .event(kServerOnPrimary, 0, 0, first_rs(kClientSecure))
                                    .event(kServerOnPrimary, 0, 10, first_rs(0))
                                    .bytes()});

  // Forwarding: a bubble between two clients of this server, a packet to a
  // Teredo address with a private mapping (dropped), an echo to the server,
  // a packet to the native side and one from it to a client.
  const UdpEndpoint other{Ipv4Address::from_octets(198, 51, 100, 20), 3544};
  const Ipv6Address a = teredo(kServerPrimary, kClientMapping);
  const Ipv6Address b = teredo(kServerPrimary, other);
  const Ipv6Address private_mapping = teredo(kServerPrimary, {Ipv4Address::from_octets(10, 0, 0, 1), 3544});
  const Ipv6Address server_ll = node::server_link_local(kServerPrimary, 3544);
  seeds.push_back({"forward", InputWriter(0)
                                  .event(kServerOnPrimary, 0, 0, wire::build_bubble(a, b))
                                  .event(kServerOnPrimary, 0, 100, wire::build_bubble(a, private_mapping))
                                  .event(kServerOnPrimary, 0, 100, echo(a, server_ll))
                                  .event(kServerOnPrimary, 0, 100, echo(a, v6("2001:db8::1")))
                                  .event(kServerOnPrimary, 2, 100, echo(v6("2001:db8::1"), b))
                                  .event(kServerOnPrimary, 1, 100, wire::build_bubble(b, a))
                                  .bytes()});
  static constexpr std::uint8_t kNonceTrailer[] = {0x01, 4, 0xde, 0xad, 0xbe, 0xef};
  seeds.push_back({"trailers-any-protocol",
                   InputWriter(kServerTrailers | kServerAnyProtocol)
                       .event(kServerOnPrimary, 0, 0, with_trailer(wire::build_bubble(a, b), kNonceTrailer))
                       .event(kServerOnPrimary, 0, 100,
                              with_trailer(echo(a, v6("2001:db8::1")), kNonceTrailer))
                       .bytes()});
  return seeds;
}

std::vector<Seed> relay_state_seeds() {
  std::vector<Seed> seeds;
  const Ipv6Address native = v6("2001:db8::1");
  const Ipv6Address relay6 = v6("2001:db8::10");
  const Ipv6Address a = teredo(kServerPrimary, kClientMapping);
  const UdpEndpoint other{Ipv4Address::from_octets(198, 51, 100, 20), 3544};
  const Ipv6Address b = teredo(kServerPrimary, other);
  // §5.4.1 case 3 then §5.4.2: a native packet queued, its bubble answered
  // by the client (trusted: the queue goes), the client's reply to the
  // native side, then case 1 straight to the mapping.
  seeds.push_back({"bubble-trust-forward", InputWriter(0)
                                               .event(kRelayNative, 0, 0, echo(native, a))
                                               .event(kRelayDatagram, 0, 300, wire::build_bubble(a, relay6))
                                               .event(kRelayDatagram, 0, 10, echo(a, native, true))
                                               .event(kRelayNative, 0, 10, echo(native, a))
                                               .bytes()});
  // No answer: the bubble repeated every 2 s until the budget is spent,
  // then idle expiry.
  seeds.push_back({"retries-give-up", InputWriter(0)
                                          .event(kRelayNative, 0, 0, echo(native, b))
                                          .event(kRelayTimer, 0, 0, {})
                                          .event(kRelayTimer, 0, 0, {})
                                          .event(kRelayTimer, 0, 0, {})
                                          .event(kRelayTimer, 0, 0, {})
                                          .event(kRelayNative, 0, 100, echo(native, b))
                                          .event(kRelayTimer, 0, 0, {})
                                          .bytes()});
  // More peers than the list holds (kPeerCapacity): LRU eviction.
  InputWriter many(kRelayDirectBubbles);
  for (std::uint8_t i = 0; i < kPeerCapacity + 2; ++i) {
    many.event(kRelayNative, 0, 10,
               echo(native, teredo(kServerPrimary, {Ipv4Address::from_octets(203, 0, 113, 20), static_cast<std::uint16_t>(5000 + i)})));
  }
  seeds.push_back({"evict", many.bytes()});
  // RFC 4380 §5.4.1 case 2 (cone bit honoured) and a host-specific relay.
  seeds.push_back({"cone", InputWriter(kRelayHonourCone)
                               .event(kRelayNative, 0, 0, echo(native, teredo(kServerPrimary, kClientMapping, true)))
                               .bytes()});
  seeds.push_back({"host-specific", InputWriter(kRelayHostSpecific)
                                        .event(kRelayNative, 0, 0, echo(relay6, a))
                                        .event(kRelayDatagram, 0, 10, echo(a, relay6))
                                        .bytes()});
  return seeds;
}

std::vector<Seed> client_state_seeds() {
  std::vector<Seed> seeds;
  const UdpEndpoint peer_mapping{Ipv4Address::from_octets(198, 51, 100, 20), 3544};
  const Ipv6Address peer = teredo(kServerPrimary, peer_mapping);
  const Ipv6Address native = v6("2001:db8::1");
  {
    // RFC 5991 qualification (primary, then the symmetric check on the
    // secondary address), then §5.2.4 case 5 to a Teredo peer: bubbles, the
    // peer's direct bubble, the queue flushed; a packet from a native host
    // via the server; the refresh interval passing.
    ClientSeed s(0);
    s.qualify();
    const Ipv6Address self = s.address();
    s.add(kClientTunnel, 0, 100, echo(self, peer));
    s.add(kClientService, client_index(peer_mapping), 200, wire::build_bubble(peer, self));
    s.add(kClientService, client_index(peer_mapping), 10, echo(peer, self, true));
    s.add(kClientService, 0, 10, with_origin(echo(native, self), {Ipv4Address::from_octets(198, 51, 100, 50), 3544}));
    s.add(kClientTimer, 0, 0, {});
    s.add(kClientTimer, 0, 0, {});
    seeds.push_back({"qualify-peer", s.bytes()});
  }
  {
    ClientSeed s(kClientRfc4380);  // a cone RS, answered from the secondary address
    s.qualify();
    s.add(kClientTunnel, 0, 100, echo(s.address(), teredo(kServerPrimary, peer_mapping, true)));
    seeds.push_back({"qualify-rfc4380-cone", s.bytes()});
  }
  {
    ClientSeed s(kClientSecure);
    s.qualify();
    s.add(kClientTimer, 0, 0, {});  // a refresh RS
    s.answer_rs(kClientMapping);
    seeds.push_back({"qualify-secure-refresh", s.bytes()});
  }
  {
    // §5.2.8: a discovery bubble from a peer on our subnet, answered with a
    // unicast bubble to its private address; our own discovery bubble.
    ClientSeed s(kClientDiscovery);
    s.qualify();
    const UdpEndpoint lan{Ipv4Address::from_octets(192, 168, 1, 20), 3544};
    const Ipv6Address neighbour = teredo(kServerPrimary, {kClientMapping.address, 40001});
    s.add(kClientDiscoveryGroup, client_index(lan), 100, wire::build_bubble(neighbour, node::all_nodes(), 1));
    s.add(kClientTunnel, 0, 100, echo(s.address(), neighbour));
    s.add(kClientService, client_index(lan), 100, wire::build_bubble(neighbour, s.address()));
    s.add(kClientTimer, 0, 0, {});
    seeds.push_back({"discovery", s.bytes()});
  }
  {
    // RFC 6081: behind a symmetric NAT (the secondary address sees another
    // mapping), qualified anyway; bubbles carry nonce trailers.
    ClientSeed s(kClientSymmetric | kClientInterval);
    s.answer_rs(kClientMapping);
    s.answer_rs({kClientMapping.address, 40002});
    s.add(kClientTunnel, 0, 100, echo(s.address(), peer));
    s.add(kClientTimer, 0, 0, {});
    seeds.push_back({"symmetric-interval", s.bytes()});
  }
  {
    // Nobody answers: four RSs, off-line, and the retry 100 s later.
    ClientSeed s(kClientOfflineRetry);
    for (int i = 0; i < 6; ++i) s.add(kClientTimer, 0, 0, {});
    seeds.push_back({"offline-retry", s.bytes()});
  }
  return seeds;
}

}  // namespace teredo::fuzz::state
