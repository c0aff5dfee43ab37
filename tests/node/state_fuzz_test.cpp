// The stateful fuzzers' checker and harness (fuzz/state_harness.hpp): the
// seeds of fuzz_server_state, fuzz_relay_state and fuzz_client_state keep
// every property and reach the states they are written for, and the checker
// does report each kind of violation it exists for (a checker that cannot
// fail would make the fuzzers prove nothing).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "state_harness.hpp"
#include "teredo/node/addressing.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/ipv6.hpp"

namespace teredo::fuzz::state {
namespace {

namespace fs = std::filesystem;
using node::OutgoingDatagram;
using node::QualificationState;
using wire::Ipv4Address;

const Seed& seed_named(const std::vector<Seed>& seeds, const std::string& name) {
  for (const Seed& s : seeds) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no seed " + name);
}

std::vector<ByteVector> committed_corpus(const std::string& target) {
  std::vector<ByteVector> inputs;
  const fs::path dir = fs::path(TEREDO_SOURCE_DIR) / "fuzz" / "corpus" / target;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream file(entry.path(), std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  return inputs;
}

UdpEndpoint ep(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  return UdpEndpoint{Ipv4Address::from_octets(a, b, c, d), port};
}

const wire::Ipv6Address kPeerA = wire::parse_ipv6("2001:0:c000:201::1").value();
const wire::Ipv6Address kPeerB = wire::parse_ipv6("2001:0:c000:201::2").value();

// A well-formed datagram (a bubble) from the relay to a global endpoint.
OutgoingDatagram good_datagram() {
  return OutgoingDatagram{kRelayLocal, ep(198, 51, 100, 20, 3544), wire::build_bubble(kPeerA, kPeerB)};
}
OutputRules relay_rules() {
  OutputRules r;
  r.own_endpoints = {kRelayLocal};
  return r;
}

// --- the seeds pass and get where they should -------------------------------

TEST(StateFuzzSeeds, ServerSeedsKeepEveryPropertyAndGetAnswers) {
  for (const Seed& s : server_state_seeds()) {
    const RunResult r = run_server(s.input);
    EXPECT_FALSE(r.violation) << s.name << ": " << r.violation.value_or("");
    EXPECT_EQ(r.events, decode_input(s.input).events.size()) << s.name;
  }
  // Three RSs, three RAs (R4380-5.3.2); a secure server answers the signed
  // RS, not the plain one (R4380-5.3.1-05); the forwarding seed forwards the
  // bubbles and answers the echo.
  EXPECT_EQ(run_server(seed_named(server_state_seeds(), "rs").input).datagrams, 3u);
  EXPECT_EQ(run_server(seed_named(server_state_seeds(), "rs-secure").input).datagrams, 1u);
  EXPECT_GE(run_server(seed_named(server_state_seeds(), "forward").input).datagrams, 3u);
}

TEST(StateFuzzSeeds, RelaySeedsKeepEveryPropertyAndReachTheirStates) {
  for (const Seed& s : relay_state_seeds()) {
    const RunResult r = run_relay(s.input);
    EXPECT_FALSE(r.violation) << s.name << ": " << r.violation.value_or("");
    EXPECT_EQ(r.events, decode_input(s.input).events.size()) << s.name;
  }
  // Bubble, the flushed queue, the direct packet.
  EXPECT_GE(run_relay(seed_named(relay_state_seeds(), "bubble-trust-forward").input).datagrams, 3u);
  // Six peers through a list of four: it is full, not over.
  EXPECT_EQ(run_relay(seed_named(relay_state_seeds(), "evict").input).peers, kPeerCapacity);
}

TEST(StateFuzzSeeds, ClientSeedsKeepEveryPropertyAndQualify) {
  for (const Seed& s : client_state_seeds()) {
    const RunResult r = run_client(s.input);
    EXPECT_FALSE(r.violation) << s.name << ": " << r.violation.value_or("");
    EXPECT_EQ(r.events, decode_input(s.input).events.size()) << s.name;
    if (s.name.starts_with("qualify") || s.name == "discovery" || s.name == "symmetric-interval") {
      EXPECT_EQ(r.client_state, QualificationState::qualified) << s.name;
    }
  }
  // §5.2.8 exercised, not only allowed: our discovery bubble to
  // 224.0.0.253 and unicast bubbles to the local peer's private endpoint.
  const RunResult discovery = run_client(seed_named(client_state_seeds(), "discovery").input);
  EXPECT_GE(discovery.non_global, 2u);
  EXPECT_EQ(run_client(seed_named(client_state_seeds(), "qualify-peer").input).non_global, 0u);
  const RunResult offline = run_client(seed_named(client_state_seeds(), "offline-retry").input);
  // 4 RSs, off-line, the retry's first RS, its repetition.
  EXPECT_GE(offline.datagrams, 5u);
  EXPECT_EQ(offline.client_state, QualificationState::probing_restricted);
}

TEST(StateFuzzSeeds, CommittedCorporaReplayCleanly) {
  for (const auto& [target, run] : std::vector<std::pair<std::string, RunResult (*)(Bytes)>>{
           {"fuzz_server_state", run_server}, {"fuzz_relay_state", run_relay}, {"fuzz_client_state", run_client}}) {
    const auto inputs = committed_corpus(target);
    EXPECT_GE(inputs.size(), 3u) << target;
    for (const ByteVector& input : inputs) {
      const RunResult r = run(input);
      EXPECT_FALSE(r.violation) << target << ": " << r.violation.value_or("");
    }
  }
}

// --- the decoder --------------------------------------------------------------

TEST(StateFuzzInput, DecodesEventsAndStopsAtTheEnd) {
  const std::uint8_t payload[] = {1, 2, 3};
  ByteVector bytes = InputWriter(0x15)
                         .event(kClientTunnel, 6, 0x1234, payload)
                         .event_from(kClientService, ep(10, 0, 0, 5, 3544), 7, payload)
                         .bytes();
  const Input in = decode_input(bytes);
  EXPECT_EQ(in.config, 0x15);
  ASSERT_EQ(in.events.size(), 2u);
  EXPECT_EQ(in.events[0].channel, kClientTunnel);
  EXPECT_EQ(in.events[0].endpoint_index, 6);
  EXPECT_EQ(in.events[0].advance_ms, 0x1234);
  EXPECT_FALSE(in.events[0].sender);
  EXPECT_EQ(in.events[0].payload.size(), 3u);
  EXPECT_EQ(in.events[1].sender, ep(10, 0, 0, 5, 3544));
  // A length past the end is cut to what remains; a short header ends it.
  bytes.pop_back();
  EXPECT_EQ(decode_input(bytes).events.at(1).payload.size(), 2u);
  const ByteVector short_header = {0, kClientTimer, 0, 0, 0};
  EXPECT_TRUE(decode_input(short_header).events.empty());
  EXPECT_TRUE(decode_input({}).events.empty());
}

TEST(StateFuzzInput, AtMostMaxEvents) {
  InputWriter w(0);
  for (std::size_t i = 0; i < kMaxEvents + 10; ++i) w.event(kRelayTimer, 0, 0, {});
  EXPECT_EQ(decode_input(w.bytes()).events.size(), kMaxEvents);
}

// --- the checker reports violations ---------------------------------------------

TEST(StateFuzzChecker, AcceptsAWellFormedDatagramToAGlobalAddress) {
  EXPECT_FALSE(check_datagram(good_datagram(), relay_rules()));
}

TEST(StateFuzzChecker, ReportsADatagramTo10001) {
  OutgoingDatagram d = good_datagram();
  d.to = ep(10, 0, 0, 1, 3544);
  const auto v = check_datagram(d, relay_rules());
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("non-global IPv4 10.0.0.1:3544"), std::string::npos) << *v;
}

TEST(StateFuzzChecker, EveryBlockOfRfc4380Section524IsNotGlobal) {
  for (const auto& to : {ep(0, 1, 2, 3, 1), ep(127, 0, 0, 1, 1), ep(10, 9, 8, 7, 1), ep(172, 16, 0, 1, 1),
                         ep(172, 31, 255, 254, 1), ep(192, 168, 0, 1, 1), ep(169, 254, 1, 1, 1),
                         ep(192, 88, 99, 1, 1), ep(224, 0, 0, 1, 1), ep(239, 255, 255, 255, 1),
                         ep(255, 255, 255, 255, 1)}) {
    OutgoingDatagram d = good_datagram();
    d.to = to;
    EXPECT_TRUE(check_datagram(d, relay_rules())) << node::to_string(to);
  }
  for (const auto& to : {ep(172, 32, 0, 1, 1), ep(192, 88, 98, 1, 1), ep(223, 255, 255, 255, 1),
                         ep(192, 0, 2, 1, 1), ep(1, 1, 1, 1, 1)}) {
    EXPECT_TRUE(is_rfc4380_global_unicast(to.address)) << node::to_string(to);
  }
}

TEST(StateFuzzChecker, ReportsAPayloadOurDecoderRejects) {
  OutgoingDatagram d = good_datagram();
  d.payload = {0x00, 0x01, 0x00};  // a truncated authentication encapsulation
  const auto v = check_datagram(d, relay_rules());
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("does not parse"), std::string::npos) << *v;
  d.payload.clear();
  EXPECT_TRUE(check_datagram(d, relay_rules()));
}

TEST(StateFuzzChecker, TrailersOnlyWhereTheNodeSpeaksRfc6081) {
  OutgoingDatagram d = good_datagram();
  const std::uint8_t trailer[] = {0x01, 4, 1, 2, 3, 4};
  d.payload.insert(d.payload.end(), std::begin(trailer), std::end(trailer));
  EXPECT_TRUE(check_datagram(d, relay_rules()));
  OutputRules rfc6081 = relay_rules();
  rfc6081.accept_trailers = true;
  EXPECT_FALSE(check_datagram(d, rfc6081));
}

TEST(StateFuzzChecker, ReportsAPacketOverTheLinkMtu) {
  OutgoingDatagram d = good_datagram();
  wire::Ipv6Header h;
  h.next_header = 59;
  h.source = kPeerA;
  h.destination = kPeerB;
  d.payload = wire::build_ipv6_packet(h, ByteVector(1280 - 40 + 1, 0));
  const auto v = check_datagram(d, relay_rules());
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("over the link MTU"), std::string::npos) << *v;
}

TEST(StateFuzzChecker, ReportsADatagramFromAnotherEndpoint) {
  OutgoingDatagram d = good_datagram();
  d.from = ep(192, 0, 2, 11, 3544);
  EXPECT_TRUE(check_datagram(d, relay_rules()));
}

TEST(StateFuzzChecker, DiscoveryExceptionsOnlyAsRfc4380Makes) {
  OutputRules rules;
  rules.own_endpoints = {kClientLocal};
  const wire::Ipv6Address self = kPeerA;
  // R4380-5.2.8-04: the local discovery bubble.
  OutgoingDatagram discovery{kClientLocal, ep(224, 0, 0, 253, 3544), wire::build_bubble(self, node::all_nodes(), 1), 1};
  EXPECT_TRUE(check_datagram(discovery, rules));  // discovery not configured
  rules.local_discovery = true;
  EXPECT_FALSE(check_datagram(discovery, rules));
  discovery.ttl = 0;
  EXPECT_TRUE(check_datagram(discovery, rules));  // TTL 1 or it leaves the link
  discovery.ttl = 1;
  discovery.payload = wire::build_bubble(self, kPeerB, 1);
  EXPECT_TRUE(check_datagram(discovery, rules));  // not to ff02::1
  // §5.2.4: case 1 to a local peer's private endpoint, once a discovery
  // bubble came from there; never a loopback one.
  OutgoingDatagram local{kClientLocal, ep(192, 168, 1, 20, 3544), wire::build_bubble(self, kPeerB)};
  EXPECT_TRUE(check_datagram(local, rules));
  rules.local_peers.push_back(local.to);
  EXPECT_FALSE(check_datagram(local, rules));
  local.to = ep(127, 0, 0, 1, 3544);
  rules.local_peers.push_back(local.to);
  EXPECT_TRUE(check_datagram(local, rules));
}

TEST(StateFuzzChecker, ReportsAnUnparsablePacketForTheIpv6Side) {
  node::Outbox out;
  out.to_tunnel.push_back(wire::build_bubble(kPeerA, kPeerB));
  EXPECT_FALSE(check_outbox(out, relay_rules()));
  out.to_tunnel.back().push_back(0);  // a byte after the packet
  EXPECT_TRUE(check_outbox(out, relay_rules()));
  out.to_tunnel.back() = {0x60, 0};
  EXPECT_TRUE(check_outbox(out, relay_rules()));
}

TEST(StateFuzzChecker, ReportsAPeerListOverItsBound) {
  node::PeerListConfig config;
  config.capacity = kPeerCapacity + 1;
  node::PeerList peers(config);
  for (std::uint8_t i = 0; i < kPeerCapacity; ++i) {
    auto address = kPeerA;
    address.bytes[15] = i;
    (void)peers.find_or_insert(node::Time{0}, address);
  }
  EXPECT_FALSE(check_peer_list(peers, kPeerCapacity, kQueueBytesTotal));
  auto fifth = kPeerA;
  fifth.bytes[14] = 0xAA;
  EXPECT_TRUE(peers.find_or_insert(node::Time{0}, fifth).created);
  const auto v = check_peer_list(peers, kPeerCapacity, kQueueBytesTotal);
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("over its capacity"), std::string::npos) << *v;
  // Queued bytes are bounded too.
  const ByteVector packet(1000, 0);
  EXPECT_EQ(peers.enqueue(*peers.find(fifth), packet), node::EnqueueResult::queued);
  EXPECT_TRUE(check_peer_list(peers, kPeerCapacity + 1, 999));
}

// --- the harness reports what a broken node does --------------------------------

// A node that misbehaves on demand, to show the harness checks every call:
// channel 0 sends a datagram to the event's sender, channel 1 a timer that
// never moves.
class BrokenNode final : public Harness {
 public:
  BrokenNode() : Harness(node::Time{0}) { rules_.own_endpoints = {kRelayLocal}; }
  bool stuck_timer = false;

 private:
  [[nodiscard]] std::optional<node::Time> next_timeout() const override {
    if (stuck_timer) return node::Time{0};
    return std::nullopt;
  }
  void fire(node::Time, node::Outbox&) override {}
  void deliver(const Event&, UdpEndpoint sender, node::Outbox& out) override {
    out.datagrams.push_back(OutgoingDatagram{kRelayLocal, sender, wire::build_bubble(kPeerA, kPeerB)});
  }
  [[nodiscard]] UdpEndpoint table_endpoint(std::uint8_t index) const override { return relay_table(index); }
};

TEST(StateFuzzHarness, ReportsWhatANodeSendsToANonGlobalAddress) {
  BrokenNode node;
  Event e;
  e.endpoint_index = 0;  // a global client: fine
  EXPECT_FALSE(node.step(e));
  e.sender = ep(10, 0, 0, 1, 3544);
  const auto v = node.step(e);
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("10.0.0.1"), std::string::npos) << *v;
}

TEST(StateFuzzHarness, ReportsATimerThatDoesNotProgress) {
  BrokenNode node;
  node.stuck_timer = true;
  Event e;
  e.advance_ms = 1;
  const auto v = node.step(e);
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("timer does not progress"), std::string::npos) << *v;
}

}  // namespace
}  // namespace teredo::fuzz::state
