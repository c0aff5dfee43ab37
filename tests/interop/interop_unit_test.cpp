// teredo-conform interop without a lab (label unit): the plan (defaults,
// order, refusals), the judge of each scenario on captures built here (each
// party's deviation is named, the NAT's losses are inconclusive), and the
// outputs (interop.json against its schema, junit.xml against junit.xsd, the
// HTML grid, the exit code the run's gate gives).
#include <gtest/gtest.h>

#include <functional>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "teredo/reports/json_schema.hpp"
#include "interop/cell_runner.hpp"
#include "interop/judge.hpp"
#include "interop/output.hpp"
#include "interop/plan.hpp"
#include "interop_fixture.hpp"
#include "kit/lab_facts.hpp"
#include "kit/packets.hpp"
#include "report_fixture.hpp"
#include "teredo/wire/wire.hpp"
#include "teredo/netns/topology.hpp"

namespace teredo::conformance::interop {
namespace {

namespace lab = kit::lab;
using schema::JsonSchema;
using teredo::reports::test::find_program;
using teredo::reports::test::run_process;
using teredo::reports::test::TempDir;

// ------------------------------------------------------------------ plan

TEST(InteropPlan, DefaultsAreEveryBuiltInAdapterOfTheRoleEveryProfileEveryScenario) {
  const Plan plan = make_plan({});
  ASSERT_EQ(plan.clients.size(), 2u);
  EXPECT_EQ(plan.clients[0].name, "miredo");
  EXPECT_EQ(plan.clients[1].name, "reference");
  EXPECT_EQ(plan.servers.size(), 2u);
  EXPECT_EQ(plan.relays.size(), 2u);
  EXPECT_EQ(plan.nat_profiles, netns::nat_profiles());
  EXPECT_EQ(plan.letters, "QNDLSRHE");
  EXPECT_EQ(plan.cells.size(), 8u * netns::nat_profiles().size());
  // NAT outermost, then client, server, relay.
  EXPECT_EQ(plan.cells[0].id(), netns::nat_profiles()[0] + "--miredo--miredo--miredo");
  EXPECT_EQ(plan.cells[1].id(), netns::nat_profiles()[0] + "--miredo--miredo--reference");
  EXPECT_EQ(plan.cells[8].nat, netns::nat_profiles()[1]);
}

TEST(InteropPlan, TheSameRequestGivesTheSamePlanWhateverTheOrderOfProfilesAndLetters) {
  const Plan a = make_plan({{"reference"}, {"miredo", "reference"}, {"reference"}, {"symmetric", "full-cone"}, "NQ"});
  const Plan b = make_plan({{"reference"}, {"miredo", "reference"}, {"reference"}, {"full-cone", "symmetric"}, "QN"});
  EXPECT_EQ(describe_plan(a), describe_plan(b));
  EXPECT_EQ(a.nat_profiles, (std::vector<std::string>{"full-cone", "symmetric"}));
  EXPECT_EQ(a.letters, "QN");
  EXPECT_NE(describe_plan(a).find("[4/4] NAT symmetric client reference server reference relay reference"),
            std::string::npos)
      << describe_plan(a);
}

TEST(InteropPlan, AProfileMayBeAskedForWithAUpnpIgdButNotTheKernelsNat) {
  const Plan p = make_plan({{"reference"}, {"reference"}, {"reference"}, {"symmetric+upnp", "symmetric"}, "E"});
  EXPECT_EQ(p.nat_profiles, (std::vector<std::string>{"symmetric", "symmetric+upnp"}));
  EXPECT_EQ(make_plan({{"reference"}, {"reference"}, {"reference"}, {}, "Q"}).nat_profiles, netns::nat_profiles())
      << "the default grid has no +upnp profile";
  EXPECT_THROW(make_plan({{"reference"}, {"reference"}, {"reference"}, {"linux-masquerade+upnp"}, "Q"}), PlanError);
}

void expect_refused(const PlanRequest& request, const std::string& words) {
  try {
    make_plan(request);
    ADD_FAILURE() << "accepted; expected a refusal with: " << words;
  } catch (const PlanError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(words), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

TEST(InteropPlan, BadInputIsRefusedInOneLine) {
  expect_refused({{"nosuch"}, {}, {}, {}, ""}, "--client nosuch");
  expect_refused({{}, {}, {}, {"full-con"}, ""}, "did you mean full-cone?");
  expect_refused({{}, {}, {}, {"open-internet"}, ""}, "unknown NAT profile 'open-internet'");
  expect_refused({{}, {}, {}, {}, "QX"}, "scenario 'X' is not offered (this version offers QNDLSRHE)");
  expect_refused({{"reference", "reference"}, {}, {}, {}, ""}, "given twice");
  // An adapter file that declares no client role cannot be asked to play one.
  TempDir dir;
  const auto path = dir.path() / "server-only.json";
  std::ofstream(path) << R"({"name": "server-only", "roles": {"server": {"command": ["true"]}}})";
  expect_refused({{path.string()}, {}, {}, {}, ""}, "declares no client role");
  EXPECT_NO_THROW(make_plan({{"reference"}, {path.string()}, {"reference"}, {"full-cone"}, "Q"}));
}

// The command refuses bad input before any lab: one line, exit 2.
TEST(InteropCommand, BadInputIsOneLineAndExitTwo) {
  TempDir dir;
  const std::vector<std::vector<std::string>> inputs = {
      {"--client", "nosuch"}, {"--nat", "full-con"}, {"--scenarios", "QX"},
      {"--relay", std::string(TEREDO_SOURCE_DIR) + "/tests/interop/swapped_server.json"}};
  for (const auto& input : inputs) {
    std::vector<std::string> argv = {TEREDO_CONFORM_BIN, "interop", "--out", dir.path().string()};
    argv.insert(argv.end(), input.begin(), input.end());
    const auto r = run_process(argv);
    EXPECT_EQ(r.exit_code, 2) << input[0] << " " << input[1] << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << "nothing runs: " << r.out;
  }
  const auto r = run_process({TEREDO_CONFORM_BIN, "interop", "--out", "/proc/no/such/dir"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--out /proc/no/such/dir"), std::string::npos) << r.err;
}

TEST(InteropPlan, SplitListDropsEmptyItems) {
  EXPECT_EQ(split_list("a,,b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(split_list("").empty());
}

// ------------------------------------------------------------------ captures built here

const wire::Ipv4Address kClientLan = kit::ipv4(lab::kClientLan);
const wire::Ipv4Address kNatOut = kit::ipv4(lab::kNatOutside);
const wire::Ipv4Address kPrimary = kit::ipv4(lab::kServerPrimary);
const wire::Ipv4Address kSecondary = kit::ipv4(lab::kServerSecondary);
const wire::Ipv4Address kRelay = kit::ipv4(lab::kRelay);
constexpr std::uint16_t kClientPort = 40000, kMappedPort = 50000;
const wire::Ipv6Address kRsSource = kit::ipv6("fe80::ffff:ffff:fffd");
const wire::Ipv6Address kV6Host = kit::ipv6(lab::kV6Host);
const std::string kAddress = wire::to_string(kit::teredo_address(lab::kServerPrimary, 0, lab::kNatOutside, kMappedPort));
const wire::Ipv6Address kClient6 = kit::ipv6(kAddress);
const wire::Ipv6Address kRelay6 = kit::ipv6(lab::kRelayV6);

class Captures {
 public:
  void udp(const std::string& vantage, wire::Ipv4Address from, std::uint16_t from_port, wire::Ipv4Address to,
           std::uint16_t to_port, const wire::ByteVector& payload) {
    add(vantage, wire::build_ethernet_ipv4_udp({from, from_port, to, to_port}, payload));
  }
  void native(const std::string& vantage, const wire::ByteVector& ipv6) {
    wire::ByteVector frame(12, 0);
    frame.push_back(0x86);
    frame.push_back(0xdd);
    frame.insert(frame.end(), ipv6.begin(), ipv6.end());
    add(vantage, frame);
  }
  // Frames in `vantage` so far (a capture's count() at that moment).
  std::uint64_t count(const std::string& vantage) const {
    const auto it = frames_.find(vantage);
    return it == frames_.end() ? 0 : it->second.size();
  }
  Evidence evidence(std::optional<std::string> address, bool pinged = false) const {
    Evidence e;
    e.nat_profile = "port-restricted-cone";
    for (const auto& [vantage, frames] : frames_) {
      auto packets = read_packets(vantage, wire::LinkType::ethernet, frames);
      e.packets.insert(e.packets.end(), packets.begin(), packets.end());
    }
    e.client_address = std::move(address);
    e.pinged = pinged;
    return e;
  }

 private:
  void add(const std::string& vantage, wire::ByteVector bytes) {
    auto& list = frames_[vantage];
    list.push_back(CapturedFrame{list.size() + 1, {}, std::move(bytes)});
  }
  std::map<std::string, std::vector<CapturedFrame>> frames_;
};

wire::ByteVector rs() { return wire::build_router_solicitation(kRsSource, kit::ipv6("ff02::2"), {}); }

wire::ByteVector ra(wire::Ipv4Address server, wire::Ipv4Address mapped, std::uint16_t port) {
  wire::ByteVector options;
  wire::PrefixInformation prefix;
  prefix.prefix = wire::teredo_prefix(server);
  wire::append_prefix_information_option(options, prefix);
  const wire::ByteVector packet =
      wire::build_router_advertisement(kit::server_link_local(lab::kServerPrimary), kRsSource, {}, options);
  wire::ByteVector out;
  wire::append_origin_indication(out, {port, mapped});
  out.insert(out.end(), packet.begin(), packet.end());
  return out;
}

// A packet as the server forwards it to a client: behind the origin
// indication of the sender's endpoint (RFC 4380 §5.3.1, R4380-5.3.1-16).
wire::ByteVector with_origin(const wire::ByteVector& packet, wire::Ipv4Address address, std::uint16_t port) {
  wire::ByteVector out;
  wire::append_origin_indication(out, {port, address});
  out.insert(out.end(), packet.begin(), packet.end());
  return out;
}

// The client's RS through the NAT, answered by the server with `prefix_server`
// and the mapping `reported`; `reaches_client`: the NAT passes the RA.
void qualification(Captures& c, wire::Ipv4Address prefix_server, std::uint16_t reported, bool reaches_client = true) {
  c.udp("client-lan", kClientLan, kClientPort, kPrimary, 3544, rs());
  c.udp("server", kNatOut, kMappedPort, kPrimary, 3544, rs());
  c.udp("server", kPrimary, 3544, kNatOut, kMappedPort, ra(prefix_server, kNatOut, reported));
  if (reaches_client) c.udp("client-lan", kPrimary, 3544, kClientLan, kClientPort, ra(prefix_server, kNatOut, reported));
}

TEST(InteropJudgeQ, PassWhenTheAddressEmbedsTheServerAndTheNatMapping) {
  Captures c;
  qualification(c, kPrimary, kMappedPort);
  const Finding f = judge_qualification(c.evidence(kAddress));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_EQ(f.requirement, "R4380-5.2.1-07");
  EXPECT_NE(f.reason.find("198.51.100.1:50000"), std::string::npos) << f.reason;
  EXPECT_FALSE(f.frames.empty());
}

TEST(InteropJudgeQ, AServerAdvertisingAnotherAddressPrefixIsTheDeviatingParty) {
  Captures c;
  qualification(c, kSecondary, kMappedPort);  // primary and secondary swapped
  for (const auto& address : {std::optional<std::string>{}, std::optional<std::string>{kAddress}}) {
    const Finding f = judge_qualification(c.evidence(address));
    EXPECT_EQ(f.verdict, "fail");
    EXPECT_EQ(f.party, "server");
    EXPECT_EQ(f.requirement, "R4380-5.3.2-02");
    EXPECT_NE(f.reason.find("2001:0:cb00:7102::/64"), std::string::npos) << f.reason;
  }
}

TEST(InteropJudgeQ, AWrongOriginIndicationIsTheServers) {
  Captures c;
  qualification(c, kPrimary, kMappedPort + 1);
  const Finding f = judge_qualification(c.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "fail");
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.2-01");
}

TEST(InteropJudgeQ, AnAddressThatDoesNotEmbedTheReportedMappingIsTheClients) {
  Captures c;
  qualification(c, kPrimary, kMappedPort);
  const std::string other =
      wire::to_string(kit::teredo_address(lab::kServerPrimary, 0, lab::kNatOutside, kMappedPort + 7));
  const Finding f = judge_qualification(c.evidence(other));
  EXPECT_EQ(f.verdict, "fail");
  EXPECT_EQ(f.party, "client");
}

TEST(InteropJudgeQ, AnRaTheClientReceivedWithoutQualifyingIsTheClientsUnlessTheMappingsDiffer) {
  Captures one;
  qualification(one, kPrimary, kMappedPort);
  Finding f = judge_qualification(one.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "fail");
  EXPECT_EQ(f.party, "client");

  Captures symmetric;
  qualification(symmetric, kPrimary, kMappedPort);
  symmetric.udp("client-lan", kSecondary, 3544, kClientLan, kClientPort, ra(kPrimary, kNatOut, kMappedPort + 1));
  f = judge_qualification(symmetric.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_EQ(f.requirement, "R4380-5.2.1-05");
}

TEST(InteropJudgeQ, AnRaAnswersTheRsFromTheMappingItIsSentToNotTheLastRsBeforeIt) {
  // Behind a symmetric NAT the client's RSs to the primary and the secondary
  // address leave from two mappings before either RA comes back. Both RSs
  // carry the same link-local source; the judge paired the first RA with the
  // latest RS before it (the other mapping's) and failed the server on
  // R4380-5.3.2-01, though each RA reports the mapping of the RS it is sent to.
  Captures c;
  constexpr std::uint16_t kSecondPort = kMappedPort + 1;
  c.udp("client-lan", kClientLan, kClientPort, kPrimary, 3544, rs());
  c.udp("client-lan", kClientLan, kClientPort, kSecondary, 3544, rs());
  c.udp("server", kNatOut, kMappedPort, kPrimary, 3544, rs());
  c.udp("server", kNatOut, kSecondPort, kSecondary, 3544, rs());
  c.udp("server", kPrimary, 3544, kNatOut, kMappedPort, ra(kPrimary, kNatOut, kMappedPort));
  c.udp("server", kSecondary, 3544, kNatOut, kSecondPort, ra(kPrimary, kNatOut, kSecondPort));
  c.udp("client-lan", kPrimary, 3544, kClientLan, kClientPort, ra(kPrimary, kNatOut, kMappedPort));
  c.udp("client-lan", kSecondary, 3544, kClientLan, kClientPort, ra(kPrimary, kNatOut, kSecondPort));
  Finding f = judge_qualification(c.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_EQ(f.requirement, "R4380-5.2.1-05");
  // A client that qualified anyway: the pass cites the RS the RA answered.
  f = judge_qualification(c.evidence(kAddress));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_NE(f.reason.find("RS server#1 -> RA server#3"), std::string::npos) << f.reason;
}

TEST(InteropJudgeQ, WhatTheNatLostIsInconclusive) {
  Captures c;
  qualification(c, kPrimary, kMappedPort, /*reaches_client=*/false);
  const Finding f = judge_qualification(c.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "inconclusive");
  EXPECT_EQ(f.party, "nat");
}

TEST(InteropJudgeQ, AnUnansweredRsFailsTheServerOnlyWhenItAnsweredTheControl) {
  Captures c;
  c.udp("client-lan", kClientLan, kClientPort, kPrimary, 3544, rs());
  c.udp("server", kNatOut, kMappedPort, kPrimary, 3544, rs());
  Finding f = judge_qualification(c.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  c.udp("server", kRelay, kControlPort, kPrimary, 3544, rs());
  c.udp("server", kPrimary, 3544, kRelay, kControlPort, ra(kPrimary, kRelay, kControlPort));
  f = judge_qualification(c.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "fail");
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.1-05");
}

TEST(InteropJudgeQ, SilenceFromTheClientIsInconclusiveAndADeathIsAFail) {
  Captures c;
  EXPECT_EQ(judge_qualification(c.evidence(std::nullopt)).verdict, "inconclusive");
  Evidence e = c.evidence(std::nullopt);
  e.died["server"] = "killed by SIGSEGV";
  const Finding f = judge_qualification(e);
  EXPECT_EQ(f.verdict, "fail");
  EXPECT_EQ(f.party, "server");
  EXPECT_NE(f.reason.find("SIGSEGV"), std::string::npos);
}

// ------------------------------------------------------------------ N

wire::ByteVector echo(const wire::Ipv6Address& from, const wire::Ipv6Address& to, bool reply, const char* marker) {
  wire::EchoMessage m;
  m.reply = reply;
  m.identifier = 7;
  m.sequence = 1;
  const std::string data = std::string("12345678") + marker + marker;
  m.data = wire::Bytes(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  return wire::build_echo(from, to, 64, m);
}

// Both directions through the relay, hop by hop; `stop_in` cuts the native
// host -> client request at the relay (it bubbles through the server, which
// forwards unless `server_forwards` is false).
Captures native_run(bool relay_bubbles, bool server_forwards, bool complete_in, bool origin = true) {
  Captures c;
  qualification(c, kPrimary, kMappedPort);
  // client -> native: request through the relay, reply back through it.
  const auto out_req = echo(kClient6, kV6Host, false, kOutMarker);
  const auto out_rep = echo(kV6Host, kClient6, true, kOutMarker);
  c.udp("client-lan", kClientLan, kClientPort, kRelay, 3544, out_req);
  c.udp("relay", kNatOut, kMappedPort, kRelay, 3544, out_req);
  c.native("native-host", out_req);
  c.native("native-host", out_rep);
  c.native("relay-native", out_rep);
  c.udp("relay", kRelay, 3544, kNatOut, kMappedPort, out_rep);
  c.udp("client-lan", kRelay, 3544, kClientLan, kClientPort, out_rep);
  // native -> client.
  const auto in_req = echo(kV6Host, kClient6, false, kInMarker);
  const auto in_rep = echo(kClient6, kV6Host, true, kInMarker);
  c.native("native-host", in_req);
  c.native("relay-native", in_req);
  if (!relay_bubbles) return c;
  const auto bubble = kit::bubble_packet(kRelay6, kClient6);
  c.udp("relay", kRelay, 3544, kPrimary, 3544, bubble);
  c.udp("server", kRelay, 3544, kPrimary, 3544, bubble);
  if (!server_forwards) return c;
  const auto forwarded = origin ? with_origin(bubble, kRelay, 3544) : bubble;
  c.udp("server", kPrimary, 3544, kNatOut, kMappedPort, forwarded);
  c.udp("client-lan", kPrimary, 3544, kClientLan, kClientPort, forwarded);
  if (!complete_in) return c;
  c.udp("client-lan", kClientLan, kClientPort, kRelay, 3544, kit::bubble_packet(kClient6, kRelay6));
  c.udp("relay", kNatOut, kMappedPort, kRelay, 3544, kit::bubble_packet(kClient6, kRelay6));
  c.udp("relay", kRelay, 3544, kNatOut, kMappedPort, in_req);
  c.udp("client-lan", kRelay, 3544, kClientLan, kClientPort, in_req);
  c.udp("client-lan", kClientLan, kClientPort, kRelay, 3544, in_rep);
  c.udp("relay", kNatOut, kMappedPort, kRelay, 3544, in_rep);
  c.native("relay-native", in_rep);
  c.native("native-host", in_rep);
  return c;
}

TEST(InteropJudgeN, PassShowsThePathOfEachDirection) {
  const Finding f = judge_native(native_run(true, true, true).evidence(kAddress, true));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_NE(f.reason.find("relay#"), std::string::npos) << f.reason;
  EXPECT_NE(f.reason.find("native-host#"), std::string::npos) << f.reason;
}

TEST(InteropJudgeN, ARelayThatNeverBubbledIsTheDeviatingParty) {
  const Finding f = judge_native(native_run(false, false, false).evidence(kAddress, true));
  EXPECT_EQ(f.verdict, "fail");
  EXPECT_EQ(f.party, "relay");
  EXPECT_EQ(f.requirement, "R4380-5.4.1-05");
}

TEST(InteropJudgeN, AServerThatNeverForwardedTheRelaysBubbleIsTheDeviatingParty) {
  const Finding f = judge_native(native_run(true, false, false).evidence(kAddress, true));
  EXPECT_EQ(f.verdict, "fail");
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.1-15");
}

TEST(InteropJudgeN, AClientThatNeverAnsweredTheForwardedBubbleIsTheDeviatingParty) {
  const Finding f = judge_native(native_run(true, true, false).evidence(kAddress, true));
  EXPECT_EQ(f.verdict, "fail");
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.3-04");
}

TEST(InteropJudgeN, ABubbleForwardedWithoutAnOriginIndicationIsTheServersNotTheClients) {
  // Without the relay's endpoint the client has no one to answer: the
  // server should have inserted it (R4380-5.3.1-16).
  const Finding f = judge_native(native_run(true, true, false, false).evidence(kAddress, true));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.1-16");
  EXPECT_NE(f.reason.find("client-lan#"), std::string::npos) << f.reason;
}

TEST(InteropJudgeN, BehindASymmetricNatAClientThatRightlyDeclinedMakesNNotApplicable) {
  Captures symmetric;
  qualification(symmetric, kPrimary, kMappedPort);
  symmetric.udp("client-lan", kSecondary, 3544, kClientLan, kClientPort, ra(kPrimary, kNatOut, kMappedPort + 1));
  const Finding f = judge_native(symmetric.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "not-applicable") << f.reason;
}

TEST(InteropJudgeN, AHeldRequestIsTracedThroughTheClientsConnectivityTest) {
  Captures c;
  qualification(c, kPrimary, kMappedPort);
  const char* nonce = "\x11\x22\x33\x44\x55\x66\x77\x88";
  const auto test = echo(kClient6, kV6Host, false, nonce);
  const auto reply = echo(kV6Host, kClient6, true, nonce);
  c.udp("client-lan", kClientLan, kClientPort, kPrimary, 3544, test);
  c.udp("server", kNatOut, kMappedPort, kPrimary, 3544, test);
  c.native("native-host", test);
  c.native("native-host", reply);
  c.native("relay-native", reply);
  c.udp("relay", kRelay, 3544, kNatOut, kMappedPort, reply);  // the NAT drops it
  Finding f = judge_native(c.evidence(kAddress, true));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.party, "nat");
  EXPECT_NE(f.reason.find("direct connectivity test"), std::string::npos) << f.reason;
  // The reply reaches the client, which still never sends what it held.
  c.udp("client-lan", kRelay, 3544, kClientLan, kClientPort, reply);
  f = judge_native(c.evidence(kAddress, true));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.4-03");
}

TEST(InteropJudgeN, AConnectivityTestAfterTheNativeHostsRequestIsNotTakenForTheHeldRequest) {
  // The client's own request never left; the native host's request reached
  // it and its test (for that request's source, §5.2.3 case 6) followed.
  Captures c;
  qualification(c, kPrimary, kMappedPort);
  const auto in_req = echo(kV6Host, kClient6, false, kInMarker);
  c.udp("client-lan", kRelay, 3544, kClientLan, kClientPort, in_req);
  const char* nonce = "\x11\x22\x33\x44\x55\x66\x77\x88";
  const auto test = echo(kClient6, kV6Host, false, nonce);
  c.udp("client-lan", kClientLan, kClientPort, kPrimary, 3544, test);
  c.udp("client-lan", kRelay, 3544, kClientLan, kClientPort, echo(kV6Host, kClient6, true, nonce));
  const Finding f = judge_native(c.evidence(kAddress, true));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.party, "");
  EXPECT_NE(f.reason.find("never sent its echo request"), std::string::npos) << f.reason;
}

TEST(InteropJudgeN, APingTheHarnessCouldNotSendIsAnErrorNotAVerdict) {
  Evidence e = native_run(true, true, true).evidence(kAddress, true);
  e.harness_faults['N'] = "ping6 from client to 2001:db8:1::10 could not send (exit 2): connect: Network is unreachable";
  const Finding f = judge('N', e);
  EXPECT_EQ(f.verdict, "error");
  EXPECT_NE(f.reason.find("Network is unreachable"), std::string::npos) << f.reason;
  EXPECT_EQ(judge('Q', e).verdict, "pass") << "a fault of N's stimulus is N's alone";
}

TEST(InteropJudgeN, ARelayIgnoringTheClientsBubbleFailsOnlyWhenTheBubbleCameFromTheEmbeddedMapping) {
  for (const std::uint16_t port : {kMappedPort, static_cast<std::uint16_t>(kMappedPort + 5)}) {
    Captures c = native_run(true, true, false);
    c.udp("client-lan", kClientLan, kClientPort, kRelay, 3544, kit::bubble_packet(kClient6, kRelay6));
    c.udp("relay", kNatOut, port, kRelay, 3544, kit::bubble_packet(kClient6, kRelay6));
    const Finding f = judge_native(c.evidence(kAddress, true));
    if (port == kMappedPort) {
      EXPECT_EQ(f.verdict, "fail") << f.reason;
      EXPECT_EQ(f.party, "relay");
      EXPECT_EQ(f.requirement, "R4380-5.4.1-08");
    } else {  // a symmetric NAT's new mapping: §5.4.2 has the relay drop it
      EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
      EXPECT_EQ(f.party, "nat");
      EXPECT_EQ(f.requirement, "R4380-5.4.2-02");
    }
  }
}

TEST(InteropJudgeN, WithoutAnAddressNIsInconclusive) {
  const Finding f = judge_native(Captures().evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "inconclusive");
}

// ------------------------------------------------------------------ D

const wire::Ipv4Address kALan = kit::ipv4(kClientALan), kBLan = kit::ipv4(kClientBLan);
const wire::Ipv4Address kNatA = kit::ipv4(kNatAOutside), kNatB = kit::ipv4(kNatBOutside);
constexpr std::uint16_t kPortA = 50001, kPortB = 50002;
const std::string kA = wire::to_string(kit::teredo_address(lab::kServerPrimary, 0, kNatAOutside, kPortA));
const std::string kB = wire::to_string(kit::teredo_address(lab::kServerPrimary, 0, kNatBOutside, kPortB));

// A's `packet` to B through the server, as D's captures see it: leaving A's
// LAN, reaching the server from A's mapping, leaving it for B's mapping and
// reaching B's LAN; `origin`: the server puts A's mapping in front
// (R4380-5.3.1-16).
void a_to_b_via_server(Captures& c, const wire::ByteVector& packet, bool origin) {
  const auto forwarded = origin ? with_origin(packet, kNatA, kPortA) : packet;
  c.udp("d-client-a-lan", kALan, kClientPort, kPrimary, 3544, packet);
  c.udp("d-server", kNatA, kPortA, kPrimary, 3544, packet);
  c.udp("d-server", kPrimary, 3544, kNatB, kPortB, forwarded);
  c.udp("d-client-b-lan", kPrimary, 3544, kBLan, kClientPort, forwarded);
}

// A pings B and B pings A; `through_server`: A's request goes to the server
// instead; `server_forwards`: the server passes A's indirect bubble on.
Captures direct_run(bool through_server, bool server_forwards) {
  Captures c;
  const auto a6 = kit::ipv6(kA), b6 = kit::ipv6(kB);
  const auto bubble = kit::bubble_packet(a6, b6);
  c.udp("d-client-a-lan", kALan, kClientPort, kPrimary, 3544, bubble);
  c.udp("d-server", kNatA, kPortA, kPrimary, 3544, bubble);
  if (!server_forwards) return c;
  c.udp("d-server", kPrimary, 3544, kNatB, kPortB, with_origin(bubble, kNatA, kPortA));
  c.udp("d-client-b-lan", kPrimary, 3544, kBLan, kClientPort, with_origin(bubble, kNatA, kPortA));
  for (const bool a_to_b : {true, false}) {
    const char* marker = a_to_b ? kAtoBMarker : kBtoAMarker;
    const auto& [from6, to6] = a_to_b ? std::pair{a6, b6} : std::pair{b6, a6};
    const auto& [from_lan, from_nat, from_port] = a_to_b ? std::tuple{kALan, kNatA, kPortA} : std::tuple{kBLan, kNatB, kPortB};
    const auto& [to_lan, to_nat, to_port] = a_to_b ? std::tuple{kBLan, kNatB, kPortB} : std::tuple{kALan, kNatA, kPortA};
    const std::string from_side = a_to_b ? "a" : "b", to_side = a_to_b ? "b" : "a";
    for (const bool reply : {false, true}) {
      const auto packet = reply ? echo(to6, from6, true, marker) : echo(from6, to6, false, marker);
      const auto [s_lan, s_nat, s_port, s_side] = reply ? std::tuple{to_lan, to_nat, to_port, to_side}
                                                         : std::tuple{from_lan, from_nat, from_port, from_side};
      const auto [d_lan, d_nat, d_port, d_side] = reply ? std::tuple{from_lan, from_nat, from_port, from_side}
                                                         : std::tuple{to_lan, to_nat, to_port, to_side};
      if (through_server && !reply && a_to_b) {
        c.udp("d-client-" + s_side + "-lan", s_lan, kClientPort, kPrimary, 3544, packet);
        c.udp("d-server", s_nat, s_port, kPrimary, 3544, packet);
        c.udp("d-server", kPrimary, 3544, d_nat, d_port, packet);
        c.udp("d-client-" + d_side + "-lan", kPrimary, 3544, d_lan, kClientPort, packet);
        continue;
      }
      c.udp("d-client-" + s_side + "-lan", s_lan, kClientPort, d_nat, d_port, packet);
      c.udp("d-nat-" + d_side + "-outside", s_nat, s_port, d_nat, d_port, packet);
      c.udp("d-client-" + d_side + "-lan", s_nat, s_port, d_lan, kClientPort, packet);
    }
  }
  return c;
}

Evidence direct_evidence(const Captures& c) {
  Evidence e = c.evidence(std::nullopt);
  e.direct_a = kA;
  e.direct_b = kB;
  return e;
}

TEST(InteropJudgeD, PassNamesTheFramesThatCrossedBetweenTheNats) {
  const Finding f = judge_direct(direct_evidence(direct_run(false, true)));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_NE(f.reason.find("d-nat-b-outside#"), std::string::npos) << f.reason;
  EXPECT_EQ(f.frames.size(), 4u);
}

TEST(InteropJudgeD, DataThroughTheServerIsNotDirect) {
  const Finding f = judge_direct(direct_evidence(direct_run(true, true)));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.4-06");
  EXPECT_EQ(f.reason.rfind("client A sent the ping through the server", 0), 0u) << f.reason;
}

TEST(InteropJudgeD, AServerThatNeverForwardedTheIndirectBubbleIsNamed) {
  const Finding f = judge_direct(direct_evidence(direct_run(false, false)));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.1-15");
}

// A's echo request to B after B's direct bubble reached A, sent to `to`:port
// and lost on the way.
Captures a_request_lost(wire::Ipv4Address to, std::uint16_t port) {
  Captures c;
  const auto a6 = kit::ipv6(kA), b6 = kit::ipv6(kB);
  a_to_b_via_server(c, kit::bubble_packet(a6, b6), true);
  c.udp("d-client-a-lan", kALan, kClientPort, to, port, echo(a6, b6, false, kAtoBMarker));
  return c;
}

TEST(InteropJudgeD, APacketToAnAddressThatIsNotThePeersNatIsTheSendersNotTheNats) {
  // A client that does not undo the obfuscation of B's embedded mapping sends
  // to ~198.51.100.x: no NAT of the lab can pass that on. The judge called
  // the NAT inconclusive.
  const wire::Ipv4Address obfuscated{~kNatB.value};
  const Finding f = judge_direct(direct_evidence(a_request_lost(obfuscated, static_cast<std::uint16_t>(~kPortB))));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.4-06");
  EXPECT_EQ(f.reason.rfind("client A sent its echo request", 0), 0u) << f.reason;
  EXPECT_NE(f.reason.find(wire::to_string(obfuscated)), std::string::npos) << f.reason;
  // To B's NAT at another port (an RFC 6081 random port, or a mapping the
  // NAT dropped) it stays the NAT's inconclusive.
  const Finding g = judge_direct(direct_evidence(a_request_lost(kNatB, 61000)));
  EXPECT_EQ(g.verdict, "inconclusive") << g.reason;
  EXPECT_EQ(g.party, "nat");
}

TEST(InteropJudgeD, AClientThatDidNotQualifyLeavesDInconclusive) {
  Evidence e = direct_evidence(direct_run(false, true));
  e.direct_b.reset();
  EXPECT_EQ(judge_direct(e).verdict, "inconclusive");
}

TEST(InteropJudgeD, WithTwoImplementationsTheDeviatingClientIsNamedByItsImplementation) {
  // A's bubble reaches B through the server with an origin indication; B
  // never bubbles back (§5.2.3: it should run the direct connectivity test).
  Captures c;
  const auto bubble = kit::bubble_packet(kit::ipv6(kA), kit::ipv6(kB));
  a_to_b_via_server(c, bubble, true);
  Evidence e = direct_evidence(c);
  e.client_a_name = "client A (reference)";
  e.client_b_name = "client B (miredo)";
  const Finding f = judge_direct(e);
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.3-04");
  EXPECT_EQ(f.reason.rfind("client B (miredo) received", 0), 0u) << f.reason;
}

TEST(InteropJudgeD, ABubbleForwardedWithoutAnOriginIndicationIsTheServersNotThePeers) {
  Captures c;
  const auto bubble = kit::bubble_packet(kit::ipv6(kA), kit::ipv6(kB));
  a_to_b_via_server(c, bubble, false);
  const Finding f = judge_direct(direct_evidence(c));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.1-16");
  EXPECT_NE(f.reason.find("d-client-b-lan#1"), std::string::npos) << f.reason;
}

TEST(InteropJudgeD, AClientBThatRightlyStayedUnqualifiedMakesDNotApplicable) {
  Captures c;
  c.udp("d-client-b-lan", kPrimary, 3544, kBLan, kClientPort, ra(kPrimary, kNatB, kPortB));
  Evidence e = c.evidence(std::nullopt);
  e.direct_a = kA;
  e.client_b_name = "client B (reference)";
  EXPECT_EQ(judge_direct(e).verdict, "inconclusive") << "one mapping proves nothing";
  c.udp("d-client-b-lan", kSecondary, 3544, kBLan, kClientPort, ra(kPrimary, kNatB, kPortB + 1));
  e = c.evidence(std::nullopt);
  e.direct_a = kA;
  e.client_b_name = "client B (reference)";
  const Finding f = judge_direct(e);
  EXPECT_EQ(f.verdict, "not-applicable") << f.reason;
  EXPECT_NE(f.reason.find("client B (reference) rightly stayed unqualified"), std::string::npos) << f.reason;
}

// A holds its request for B; the bubbles of both cross the server, and B's
// direct bubble (to A's embedded mapping) comes from `b_bubble_port` at NAT B,
// reaching A only when `reaches_a`.
Captures held_request_run(std::uint16_t b_bubble_port, bool reaches_a) {
  Captures c;
  const auto a6 = kit::ipv6(kA), b6 = kit::ipv6(kB);
  const auto a_to_b = kit::bubble_packet(a6, b6), b_to_a = kit::bubble_packet(b6, a6);
  a_to_b_via_server(c, a_to_b, true);
  // B answers directly and through the server, as RFC 6081 §3.1 describes.
  c.udp("d-client-b-lan", kBLan, kClientPort, kNatA, kPortA, b_to_a);
  c.udp("d-nat-a-outside", kNatB, b_bubble_port, kNatA, kPortA, b_to_a);
  if (reaches_a) c.udp("d-client-a-lan", kNatB, b_bubble_port, kALan, kClientPort, b_to_a);
  c.udp("d-server", kNatB, kPortB, kPrimary, 3544, b_to_a);
  c.udp("d-server", kPrimary, 3544, kNatA, kPortA, with_origin(b_to_a, kNatB, kPortB));
  c.udp("d-client-a-lan", kPrimary, 3544, kALan, kClientPort, with_origin(b_to_a, kNatB, kPortB));
  return c;
}

TEST(InteropJudgeD, ABubbleTheServerForwardedIsNotThePeersDirectBubble) {
  // Found in the lab: Miredo as client A answered the teredo-ref client B's
  // bubble that the server forwarded (origin indication) with a direct bubble,
  // as §5.2.3 says; the judge took the server's frame for B's direct bubble
  // and failed Miredo on R4380-5.2.3-10. B's own direct bubble was filtered by
  // NAT A: that is the NAT's, not A's.
  Evidence e = direct_evidence(held_request_run(kPortB, false));
  e.client_a_name = "client A (miredo)";
  const Finding f = judge_direct(e);
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.party, "nat");
  EXPECT_EQ(f.reason.find("client A (miredo) received"), std::string::npos) << f.reason;
}

TEST(InteropJudgeD, ALocalDiscoveryBubbleIsNotTheDirectBubbleThatAnswers) {
  // Found in the lab (E behind symmetric+upnp): the judge named client B's
  // multicast discovery bubble as its direct bubble the NAT lost. B sent no
  // direct bubble toward A's NAT: that is B's, R4380-5.2.3-04.
  Captures c;
  const auto a6 = kit::ipv6(kA), b6 = kit::ipv6(kB);
  const auto a_to_b = kit::bubble_packet(a6, b6);
  a_to_b_via_server(c, a_to_b, true);
  c.udp("d-client-b-lan", kBLan, kClientPort, kit::ipv4(kDiscoveryGroup), 3544,
        kit::bubble_packet(b6, kit::ipv6("ff02::1")));
  const Finding f = judge_direct(direct_evidence(c));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.3-04");
}

TEST(InteropJudgeD, ARequestTheServerRelayedIsNotARequestTheNatMappedAnew) {
  // A sends its echo request to the server, which relays it to B; B does not
  // answer a request its server relayed. The judge took the server's frame
  // for a request the NAT mapped anew (inconclusive, nat, R4380-5.2.3-18,
  // naming 203.0.113.1:3544 as a mapping): the request stopped at A, which
  // sent it to its server instead of B's mapping.
  Captures c;
  const auto a6 = kit::ipv6(kA), b6 = kit::ipv6(kB);
  const auto request = echo(a6, b6, false, kAtoBMarker);
  a_to_b_via_server(c, request, false);
  Evidence e = direct_evidence(c);
  e.client_a_name = "client A (miredo)";
  const Finding f = judge_direct(e);
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.4-06");
  EXPECT_EQ(f.reason.rfind("client A (miredo) sent", 0), 0u) << f.reason;
  ASSERT_FALSE(f.frames.empty());
  EXPECT_EQ(f.frames.front().capture, "d-client-a-lan.pcap");
  EXPECT_EQ(f.frames.front().frame, 1u);
}

TEST(InteropJudgeD, APeersDirectBubbleFromItsEmbeddedMappingMakesTheHeldPacketOwed) {
  const Finding f = judge_direct(direct_evidence(held_request_run(kPortB, true)));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.3-10");
  EXPECT_NE(f.reason.find("d-client-a-lan#2"), std::string::npos) << f.reason;  // not the server's #3
}

TEST(InteropJudgeD, APeersDirectBubbleFromAnotherMappingIsNotTrustedUnderRfc4380) {
  // A symmetric NAT B mapped the bubble anew: §5.2.3 does not trust it, so
  // holding the packet is no fault of A's.
  const Finding f = judge_direct(direct_evidence(held_request_run(kPortB + 7, true)));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.party, "nat");
  EXPECT_EQ(f.requirement, "R4380-5.2.3-18");
  EXPECT_NE(f.reason.find("198.51.100.2:50009"), std::string::npos) << f.reason;
}

// ------------------------------------------------------------------ E

// D's captures as E's ("d-" -> "e-"), behind `nat`, with the extension on in
// the clients named.
Evidence extension_evidence(const Captures& c, const std::string& nat, bool a_runs, bool b_runs) {
  Evidence e = direct_evidence(c);
  for (Packet& p : e.packets) p.vantage.replace(0, 2, "e-");
  e.nat_profile = nat;
  e.extension_a = a_runs;
  e.extension_b = b_runs;
  return e;
}

TEST(InteropJudgeE, APromisedPathIsDsJudgementOfEsCaptures) {
  Finding f = judge_extension_direct(extension_evidence(direct_run(false, true), "symmetric", true, true));
  EXPECT_EQ(f.scenario, 'E');
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_NE(f.reason.find("RFC 6081 §5.4 on both clients, Figure 1 SNS+PP"), std::string::npos) << f.reason;
  EXPECT_NE(f.reason.find("e-nat-b-outside#"), std::string::npos) << f.reason;
  f = judge_extension_direct(extension_evidence(held_request_run(kPortB, false), "symmetric", true, true));
  EXPECT_EQ(f.verdict, "inconclusive") << "a promised path the NAT blocked proves nothing against the clients";
  EXPECT_EQ(f.party, "nat");
}

TEST(InteropJudgeE, WhereFigure1PromisesNoPathTheNatsFilteringIsNotApplicableButAFailStays) {
  Finding f = judge_extension_direct(extension_evidence(held_request_run(kPortB, false), "symmetric-sequential", true, true));
  EXPECT_EQ(f.verdict, "not-applicable") << f.reason;
  EXPECT_NE(f.reason.find("Figure 1 promises no path here (sequential port-symmetric NATs)"), std::string::npos)
      << f.reason;
  f = judge_extension_direct(extension_evidence(held_request_run(kPortB, false), "symmetric", true, false));
  EXPECT_EQ(f.verdict, "not-applicable") << "one client without the extension: Figure 1 promises nothing";
  EXPECT_NE(f.reason.find("on client A alone"), std::string::npos) << f.reason;
  f = judge_extension_direct(extension_evidence(direct_run(true, true), "symmetric-sequential", true, true));
  EXPECT_EQ(f.verdict, "fail") << "data through the server is the client's fail, promise or not";
  EXPECT_EQ(f.requirement, "R4380-5.2.4-06");
  f = judge_extension_direct(extension_evidence(direct_run(false, true), "symmetric-sequential", true, true));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
}

TEST(InteropJudgeE, AClientRunningTheExtensionThatStayedUnqualifiedFails) {
  Captures c;
  c.udp("d-client-b-lan", kPrimary, 3544, kBLan, kClientPort, ra(kPrimary, kNatB, kPortB));
  c.udp("d-client-b-lan", kSecondary, 3544, kBLan, kClientPort, ra(kPrimary, kNatB, kPortB + 1));
  Evidence e = extension_evidence(c, "symmetric", true, true);
  e.direct_b.reset();
  e.client_b_name = "client B (reference)";
  Finding f = judge_extension_direct(e);
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R6081-5.2-01");
  EXPECT_NE(f.reason.find("client B (reference) runs port_preserving_symmetric_nat"), std::string::npos) << f.reason;
  e.extension_b = false;  // the plain launch rightly stays unqualified (RFC 4380 §5.2.1)
  f = judge_extension_direct(e);
  EXPECT_EQ(f.verdict, "not-applicable") << f.reason;
}

TEST(InteropDirectPathTable, YesOnlyWhereTheVerdictPassesOneRowPerPairingWhateverTheRelay) {
  const Plan plan = make_plan({{"reference", "miredo"}, {"reference"}, {"reference", "miredo"}, {"symmetric"}, "DE"});
  ASSERT_EQ(plan.cells.size(), 4u);
  std::vector<CellResult> results;
  for (const Cell& cell : plan.cells) {
    CellResult r;
    r.cell = cell;
    const bool reference = cell.client == "reference";
    r.findings = {Finding{'D', "not-applicable", "", "", "unqualified", {}},
                  Finding{'E', reference ? "pass" : "inconclusive", reference ? "" : "nat", "", "", {}}};
    results.push_back(r);
  }
  const std::string table = direct_path_table(plan, results);
  EXPECT_NE(table.find("reference x miredo"), std::string::npos) << table;
  EXPECT_NE(table.find("miredo x reference"), std::string::npos) << table;
  std::size_t rows = 0;
  for (std::size_t at = table.find("\n  symmetric "); at != std::string::npos; at = table.find("\n  symmetric ", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 2u) << "one row per client pair and server, the two relays folded: " << table;
  const auto row = [&](const std::string& pair) { return table.substr(table.find(pair), table.find('\n', table.find(pair)) - table.find(pair)); };
  EXPECT_NE(row("reference x miredo").find("no (not-applicable)"), std::string::npos) << table;
  EXPECT_NE(row("reference x miredo").find("yes"), std::string::npos) << table;
  EXPECT_NE(row("miredo x reference").find("no (inconclusive, nat)"), std::string::npos) << table;
  EXPECT_EQ(row("miredo x reference").find("yes"), std::string::npos) << table;
  EXPECT_TRUE(direct_path_table(make_plan({{"reference"}, {"reference"}, {"reference"}, {"symmetric"}, "QN"}), {}).empty());
}

// ------------------------------------------------------------------ L

const wire::Ipv4Address kLocalB = kit::ipv4(kLocalClientBLan);
const wire::Ipv4Address kGroup = kit::ipv4(kDiscoveryGroup);
const std::string kLA = wire::to_string(kit::teredo_address(lab::kServerPrimary, 0, lab::kNatOutside, kPortA));
const std::string kLB = wire::to_string(kit::teredo_address(lab::kServerPrimary, 0, lab::kNatOutside, kPortB));

// Two clients on one LAN: each multicasts a discovery bubble (when
// `discovery`), then the four marked packets go LAN address to LAN address,
// unless `a_via_server` sends A's request to the server instead.
Captures local_run(bool discovery, bool a_via_server) {
  Captures c;
  const auto a6 = kit::ipv6(kLA), b6 = kit::ipv6(kLB);
  if (discovery) {
    for (const char* lan : {"l-client-a-lan", "l-client-b-lan"}) {
      c.udp(lan, kALan, kClientPort, kGroup, 3544, kit::bubble_packet(a6, kit::ipv6("ff02::1")));
      c.udp(lan, kLocalB, kClientPort, kGroup, 3544, kit::bubble_packet(b6, kit::ipv6("ff02::1")));
    }
  }
  for (const bool a_to_b : {true, false}) {
    const char* marker = a_to_b ? kAtoBMarker : kBtoAMarker;
    for (const bool reply : {false, true}) {
      const bool from_a = a_to_b != reply;
      const auto packet = from_a ? echo(a6, b6, reply, marker) : echo(b6, a6, reply, marker);
      const auto from = from_a ? kALan : kLocalB, to = from_a ? kLocalB : kALan;
      const std::string from_lan = from_a ? "l-client-a-lan" : "l-client-b-lan";
      const std::string to_lan = from_a ? "l-client-b-lan" : "l-client-a-lan";
      if (a_via_server && a_to_b && !reply) {
        c.udp(from_lan, from, kClientPort, kPrimary, 3544, packet);
        c.udp("l-server", kNatOut, kPortA, kPrimary, 3544, packet);
        return c;
      }
      c.udp(from_lan, from, kClientPort, to, kClientPort, packet);
      c.udp(to_lan, from, kClientPort, to, kClientPort, packet);
    }
  }
  return c;
}

Evidence pair_evidence(const Captures& c, const std::string& a, const std::string& b) {
  Evidence e = c.evidence(std::nullopt);
  e.direct_a = a;
  e.direct_b = b;
  return e;
}

TEST(InteropJudgeL, PassWhenEveryMarkedPacketCrossesTheLanFromLocalAddressToLocalAddress) {
  const Finding f = judge_local(pair_evidence(local_run(true, false), kLA, kLB));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_EQ(f.requirement, "R4380-5.2.4-04");
  EXPECT_EQ(f.frames.size(), 4u);
  EXPECT_NE(f.reason.find("l-client-b-lan#"), std::string::npos) << f.reason;
}

TEST(InteropJudgeL, AClientThatHadItsPeersDiscoveryBubbleButWentThroughTheServerIsNamed) {
  const Finding f = judge_local(pair_evidence(local_run(true, true), kLA, kLB));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.4-04");
  EXPECT_NE(f.reason.find("discovery bubble"), std::string::npos) << f.reason;
}

TEST(InteropJudgeL, WithoutAnyDiscoveryBubbleTheSilenceIsInconclusive) {
  const Finding f = judge_local(pair_evidence(local_run(false, true), kLA, kLB));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.requirement, "R4380-5.2.8-03");
}

TEST(InteropJudgeL, ADiscoveryBubbleThatCameAfterThePacketDoesNotMakeThePeerLocal) {
  // A sends its request through the server before any discovery bubble of B
  // has reached it; B's bubble arrives afterwards. §5.2.4 case 3 makes B a
  // local peer only once its discovery bubble has been received: A's packet
  // was not sent astray. The judge blamed A on R4380-5.2.4-04 citing a bubble
  // that came later.
  Captures c;
  const auto a6 = kit::ipv6(kLA), b6 = kit::ipv6(kLB);
  c.udp("l-client-a-lan", kALan, kClientPort, kPrimary, 3544, echo(a6, b6, false, kAtoBMarker));
  c.udp("l-server", kNatOut, kPortA, kPrimary, 3544, echo(a6, b6, false, kAtoBMarker));
  c.udp("l-client-a-lan", kLocalB, kClientPort, kGroup, 3544, kit::bubble_packet(b6, kit::ipv6("ff02::1")));
  Finding f = judge_local(pair_evidence(c, kLA, kLB));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.requirement, "R4380-5.2.8-03");
  // A sends it astray again after the bubble: that one is A's.
  c.udp("l-client-a-lan", kALan, kClientPort, kPrimary, 3544, echo(a6, b6, false, kAtoBMarker));
  f = judge_local(pair_evidence(c, kLA, kLB));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.4-04");
  EXPECT_NE(f.reason.find("l-client-a-lan#3"), std::string::npos) << f.reason;
}

TEST(InteropJudgeL, AnAnswerToTheDiscoveryBubbleIsLookedForWhereItsSenderSentIt) {
  // A holds its request; each heard the other's discovery bubble and B sent
  // its unicast bubble to A (l-client-b-lan#3) that A's capture never shows.
  // The judge looked for B's answer only at A and failed B on
  // R4380-5.2.3-12 for never sending it.
  Captures held;
  const auto a6 = kit::ipv6(kLA), b6 = kit::ipv6(kLB);
  for (const char* lan : {"l-client-a-lan", "l-client-b-lan"}) {
    held.udp(lan, kALan, kClientPort, kGroup, 3544, kit::bubble_packet(a6, kit::ipv6("ff02::1")));
    held.udp(lan, kLocalB, kClientPort, kGroup, 3544, kit::bubble_packet(b6, kit::ipv6("ff02::1")));
  }
  held.udp("l-client-b-lan", kLocalB, kClientPort, kALan, kClientPort, kit::bubble_packet(b6, a6));
  Finding f = judge_local(pair_evidence(held, kLA, kLB));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.party, "");
  EXPECT_NE(f.reason.find("l-client-b-lan#3"), std::string::npos) << f.reason;
  // Without B's unicast bubble anywhere, B it is.
  Captures silent;
  for (const char* lan : {"l-client-a-lan", "l-client-b-lan"}) {
    silent.udp(lan, kALan, kClientPort, kGroup, 3544, kit::bubble_packet(a6, kit::ipv6("ff02::1")));
    silent.udp(lan, kLocalB, kClientPort, kGroup, 3544, kit::bubble_packet(b6, kit::ipv6("ff02::1")));
  }
  f = judge_local(pair_evidence(silent, kLA, kLB));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.3-12");
}

TEST(InteropJudgeL, AClientThatNeverAnsweredALocalRequestIsNamed) {
  Captures c;
  const auto a6 = kit::ipv6(kLA), b6 = kit::ipv6(kLB);
  c.udp("l-client-a-lan", kALan, kClientPort, kLocalB, kClientPort, echo(a6, b6, false, kAtoBMarker));
  c.udp("l-client-b-lan", kALan, kClientPort, kLocalB, kClientPort, echo(a6, b6, false, kAtoBMarker));
  const Finding f = judge_local(pair_evidence(c, kLA, kLB));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.3-13");
}

// not_applicable for a client that meets itself (D's and E's partner is the
// client) and a server.
std::optional<Finding> applicability(char letter, const Declared& client, const Declared& server,
                                     const std::string& nat) {
  return not_applicable(letter, {client, client, server, nat});
}

TEST(InteropApplicability, LNeedsLocalDiscoverySNeedsBothSidesSecureRAndHNeedATeredoNat) {
  const std::set<std::string> none, local = {"local_discovery"}, secure = {"secure_qualification"};
  auto f = applicability('L', {"miredo", none}, {"miredo", none}, "full-cone");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->verdict, "not-applicable");
  EXPECT_NE(f->reason.find("client miredo declares no local_discovery"), std::string::npos) << f->reason;
  EXPECT_FALSE(applicability('L', {"reference", local}, {"miredo", none}, "full-cone"));
  f = applicability('S', {"reference", secure}, {"miredo", none}, "full-cone");
  ASSERT_TRUE(f);
  EXPECT_NE(f->reason.find("server miredo declares no secure_qualification"), std::string::npos) << f->reason;
  EXPECT_TRUE(applicability('S', {"miredo", none}, {"reference", secure}, "full-cone"));
  EXPECT_FALSE(applicability('S', {"reference", secure}, {"reference", secure}, "full-cone"));
  for (const char letter : {'R', 'H'}) {
    EXPECT_TRUE(applicability(letter, {"reference", local}, {"reference", secure}, "linux-masquerade")) << letter;
    EXPECT_FALSE(applicability(letter, {"reference", local}, {"reference", secure}, "symmetric")) << letter;
  }
  for (const char letter : {'Q', 'N', 'D'}) {
    EXPECT_FALSE(applicability(letter, {"x", none}, {"y", none}, "linux-masquerade"));
  }
}

TEST(InteropApplicability, ENeedsASymmetricNatATrailerServerAndOneClientWithTheExtension) {
  const std::set<std::string> none, trailers = {"rfc6081_trailers"}, pp = {"port_preserving_symmetric_nat"},
                                    seq = {"sequential_port_symmetric_nat"}, upnp = {"upnp_symmetric_nat"};
  auto f = applicability('E', {"reference", pp}, {"reference", trailers}, "port-restricted-cone");
  ASSERT_TRUE(f);
  EXPECT_NE(f->reason.find("for symmetric NATs"), std::string::npos) << f->reason;
  f = applicability('E', {"reference", pp}, {"miredo", none}, "symmetric");
  ASSERT_TRUE(f);
  EXPECT_NE(f->reason.find("server miredo declares no rfc6081_trailers"), std::string::npos) << f->reason;
  f = applicability('E', {"reference", seq}, {"reference", trailers}, "symmetric");
  ASSERT_TRUE(f) << "symmetric is the port-preserving kind: §5.4, not §5.5";
  EXPECT_NE(f->reason.find("declares port_preserving_symmetric_nat"), std::string::npos) << f->reason;
  EXPECT_FALSE(applicability('E', {"reference", pp}, {"reference", trailers}, "symmetric"));
  EXPECT_FALSE(applicability('E', {"reference", seq}, {"reference", trailers}, "symmetric-sequential"));
  EXPECT_FALSE(applicability('E', {"reference", upnp}, {"reference", trailers}, "symmetric+upnp"));
  EXPECT_TRUE(applicability('E', {"reference", pp}, {"reference", trailers}, "symmetric+upnp"));
  // One client with the extension is enough to run it (Miredo as the other).
  EXPECT_FALSE(not_applicable('E', {{"miredo", none}, {"reference", pp}, {"reference", trailers}, "symmetric"}));
}

// ------------------------------------------------------------------ S

const wire::Nonce kNonce{1, 2, 3, 4, 5, 6, 7, 8};

// An authentication encapsulation for `id` over `origin` (encoded, may be
// empty) and the IPv6 packet, its MAC computed with the lab's secret unless
// `good_mac` is false (then one bit flipped), confirmation `confirmation`.
wire::ByteVector signed_datagram(const wire::ByteVector& origin, const wire::ByteVector& ipv6, const char* id,
                                 bool good_mac = true, std::uint8_t confirmation = 0) {
  const auto value = wire::compute_authentication_value(wire::MacAlgorithm::hmac_sha1, kit::bytes_of(lab::kSecret),
                                                        kNonce, confirmation, origin, ipv6);
  wire::ByteVector mac(value->view().begin(), value->view().end());
  if (!good_mac) mac.back() ^= 1;
  wire::AuthenticationFields fields;
  fields.client_id = kit::bytes_of(id);
  fields.authentication_value = mac;
  fields.nonce = kNonce;
  fields.confirmation = confirmation;
  wire::ByteVector out;
  wire::append_authentication(out, fields);
  out.insert(out.end(), origin.begin(), origin.end());
  out.insert(out.end(), ipv6.begin(), ipv6.end());
  return out;
}

wire::ByteVector signed_ra(bool good_mac = true, std::uint8_t confirmation = 0) {
  wire::ByteVector options;
  wire::PrefixInformation prefix;
  prefix.prefix = wire::teredo_prefix(kPrimary);
  wire::append_prefix_information_option(options, prefix);
  const wire::ByteVector packet =
      wire::build_router_advertisement(kit::server_link_local(lab::kServerPrimary), kRsSource, {}, options);
  wire::ByteVector origin;
  wire::append_origin_indication(origin, {kMappedPort, kNatOut});
  return signed_datagram(origin, packet, lab::kClientId, good_mac, confirmation);
}

Captures secure_run(const wire::ByteVector& client_rs, const wire::ByteVector& server_ra) {
  Captures c;
  c.udp("s-client-lan", kClientLan, kClientPort, kPrimary, 3544, client_rs);
  c.udp("s-server", kNatOut, kMappedPort, kPrimary, 3544, client_rs);
  c.udp("s-server", kPrimary, 3544, kNatOut, kMappedPort, server_ra);
  c.udp("s-client-lan", kPrimary, 3544, kClientLan, kClientPort, server_ra);
  return c;
}

TEST(InteropJudgeS, PassWhenBothMacsVerifyAndTheClientQualifies) {
  const Finding f = judge_secure(secure_run(signed_datagram({}, rs(), lab::kClientId), signed_ra()).evidence(kAddress));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_EQ(f.requirement, "R4380-5.2.2-01");
  EXPECT_NE(f.reason.find("HMAC-SHA1"), std::string::npos) << f.reason;
  ASSERT_FALSE(f.frames.empty());
  EXPECT_EQ(f.frames.front().capture.rfind("s-", 0), 0u) << f.frames.front().capture;
  // Every frame cited is in S's own captures.
  EXPECT_NE(f.reason.find("s-client-lan#"), std::string::npos) << f.reason;
  EXPECT_NE(f.reason.find("s-server#"), std::string::npos) << f.reason;
  EXPECT_EQ(f.reason.find(" client-lan#"), std::string::npos) << f.reason;
  EXPECT_EQ(f.reason.find("(client-lan#"), std::string::npos) << f.reason;
}

TEST(InteropJudgeS, AnUnsignedRsOrABadRsMacIsTheClients) {
  Finding f = judge_secure(secure_run(rs(), signed_ra()).evidence(kAddress));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.2-01");
  f = judge_secure(secure_run(signed_datagram({}, rs(), "client-9"), signed_ra()).evidence(kAddress));
  EXPECT_EQ(f.requirement, "R4380-5.2.2-01") << f.reason;
  f = judge_secure(secure_run(signed_datagram({}, rs(), lab::kClientId, false), signed_ra()).evidence(kAddress));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.2-05");
}

TEST(InteropJudgeS, AnRaWithoutAuthenticationOrABadMacOrAConfirmationIsTheServers) {
  const auto good_rs = signed_datagram({}, rs(), lab::kClientId);
  const std::vector<std::pair<wire::ByteVector, const char*>> bad = {
      {ra(kPrimary, kNatOut, kMappedPort), "R4380-5.3.2-10"},
      {signed_ra(false), "R4380-5.3.2-13"},
      {signed_ra(true, 1), "R4380-5.3.2-12"}};
  for (const auto& [ra_bytes, requirement] : bad) {
    const Finding f = judge_secure(secure_run(good_rs, ra_bytes).evidence(kAddress));
    EXPECT_EQ(f.verdict, "fail") << requirement << ": " << f.reason;
    EXPECT_EQ(f.party, "server") << requirement;
    EXPECT_EQ(f.requirement, requirement) << f.reason;
  }
}

TEST(InteropJudgeS, AServerSilentToSignedRsFailsOnlyWhenItAnsweredTheSignedControl) {
  const auto good_rs = signed_datagram({}, rs(), lab::kClientId);
  Captures c;
  c.udp("s-client-lan", kClientLan, kClientPort, kPrimary, 3544, good_rs);
  c.udp("s-server", kNatOut, kMappedPort, kPrimary, 3544, good_rs);
  Finding f = judge_secure(c.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_NE(f.reason.find("s-server#1"), std::string::npos) << f.reason;
  c.udp("s-server", kRelay, kControlPort, kPrimary, 3544, good_rs);
  c.udp("s-server", kPrimary, 3544, kRelay, kControlPort, signed_ra());
  f = judge_secure(c.evidence(std::nullopt));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.1-05");
}

TEST(InteropJudgeS, SilenceOfTheClientIsInconclusive) {
  EXPECT_EQ(judge_secure(Captures().evidence(std::nullopt)).verdict, "inconclusive");
}

// ------------------------------------------------------------------ R

constexpr std::uint16_t kReboundPort = 50777;
const std::string kReboundAddress =
    wire::to_string(kit::teredo_address(lab::kServerPrimary, 0, lab::kNatOutside, kReboundPort));

// After qualification and the rebind: the refresh RS from the new mapping,
// the RA reporting it (reaching the client when `ra_reaches`), then the pings
// from the new address through the relay (kRebind markers) when `pinged`.
// `before_rebind` adds frames after qualification, before the rebind.
Captures rebind_run(bool ra_reaches, bool pinged, const std::function<void(Captures&)>& before_rebind = {}) {
  Captures c;
  qualification(c, kPrimary, kMappedPort);
  if (before_rebind) before_rebind(c);
  c.udp("client-lan", kClientLan, kClientPort, kPrimary, 3544, rs());
  c.udp("server", kNatOut, kReboundPort, kPrimary, 3544, rs());
  c.udp("server", kPrimary, 3544, kNatOut, kReboundPort, ra(kPrimary, kNatOut, kReboundPort));
  if (!ra_reaches) return c;
  c.udp("client-lan", kPrimary, 3544, kClientLan, kClientPort, ra(kPrimary, kNatOut, kReboundPort));
  if (!pinged) return c;
  const auto now6 = kit::ipv6(kReboundAddress);
  const auto out_req = echo(now6, kV6Host, false, kRebindOutMarker);
  const auto out_rep = echo(kV6Host, now6, true, kRebindOutMarker);
  const auto in_req = echo(kV6Host, now6, false, kRebindInMarker);
  const auto in_rep = echo(now6, kV6Host, true, kRebindInMarker);
  for (const auto* p : {&out_req, &in_rep}) {
    c.udp("client-lan", kClientLan, kClientPort, kRelay, 3544, *p);
    c.udp("relay", kNatOut, kReboundPort, kRelay, 3544, *p);
    c.native("relay-native", *p);
    c.native("native-host", *p);
  }
  for (const auto* p : {&out_rep, &in_req}) {
    c.native("native-host", *p);
    c.native("relay-native", *p);
    c.udp("relay", kRelay, 3544, kNatOut, kReboundPort, *p);
    c.udp("client-lan", kRelay, 3544, kClientLan, kClientPort, *p);
  }
  return c;
}

Evidence rebind_evidence(const Captures& c, std::optional<std::string> after) {
  Evidence e = c.evidence(kAddress, true);
  e.rebound = true;
  e.rebind_address = std::move(after);
  e.rebind_pinged = e.rebind_address.has_value();
  return e;
}

TEST(InteropJudgeR, PassWhenTheClientMovesToTheNewMappingAndPingsWorkFromIt) {
  const Finding f = judge_rebind(rebind_evidence(rebind_run(true, true), kReboundAddress));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_NE(f.reason.find("198.51.100.1:50777"), std::string::npos) << f.reason;
  EXPECT_NE(f.reason.find("native-host#"), std::string::npos) << f.reason;
}

TEST(InteropJudgeR, AClientThatKeepsItsOldAddressIsNamed) {
  const Finding f = judge_rebind(rebind_evidence(rebind_run(true, false), std::nullopt));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.5-05");
}

TEST(InteropJudgeR, AnAddressThatDoesNotEmbedTheNewMappingIsTheClients) {
  const std::string wrong = wire::to_string(kit::teredo_address(lab::kServerPrimary, 0, lab::kNatOutside, 1234));
  const Finding f = judge_rebind(rebind_evidence(rebind_run(true, false), wrong));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.5-06");
}

TEST(InteropJudgeR, AnRaTheNatLostIsInconclusiveAndNoNewRsIsInconclusive) {
  Finding f = judge_rebind(rebind_evidence(rebind_run(false, false), std::nullopt));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.party, "nat");
  Captures only_q;
  qualification(only_q, kPrimary, kMappedPort);
  f = judge_rebind(rebind_evidence(only_q, std::nullopt));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.requirement, "R4380-5.2.5-02");
}

TEST(InteropJudgeR, AServerReportingAnotherMappingAfterTheRebindIsNamed) {
  Captures c;
  qualification(c, kPrimary, kMappedPort);
  c.udp("server", kNatOut, kReboundPort, kPrimary, 3544, rs());
  c.udp("server", kPrimary, 3544, kNatOut, kReboundPort, ra(kPrimary, kNatOut, kMappedPort));  // the old one
  const Finding f = judge_rebind(rebind_evidence(c, std::nullopt));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.2-01");
}

TEST(InteropJudgeR, AnRsFromAnotherMappingBeforeTheRebindIsNotTheClientsAnswerToIt) {
  // Before the rebind the client also asked the secondary address, and a NAT
  // that maps per destination gave that RS another port (50888), which the
  // server reported. The judge took that RS for the client's move after the
  // rebind and failed the client for an address not embedding 50888.
  std::uint64_t before_rebind = 0;
  const Captures c = rebind_run(true, true, [&](Captures& x) {
    const wire::Ipv4Address secondary = kit::ipv4(lab::kServerSecondary);
    x.udp("client-lan", kClientLan, kClientPort, secondary, 3544, rs());
    x.udp("server", kNatOut, 50888, secondary, 3544, rs());
    x.udp("server", secondary, 3544, kNatOut, 50888, ra(kPrimary, kNatOut, 50888));
    x.udp("client-lan", secondary, 3544, kClientLan, kClientPort, ra(kPrimary, kNatOut, 50888));
    before_rebind = x.count("server");
  });
  Evidence e = rebind_evidence(c, kReboundAddress);
  e.rebind_server_frame = before_rebind;
  const Finding f = judge_rebind(e);
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_NE(f.reason.find("198.51.100.1:50777"), std::string::npos) << f.reason;
}

TEST(InteropJudgeR, NsBubbleFromTheOldAddressIsNotTheAnswerToTheRelaysBubbleAfterTheRebind) {
  // N's captures hold the client's bubble to the relay from its old address
  // (client-lan#7). After the rebind the relay's bubble for the new address
  // reaches the client through its server and the client never answers it;
  // the judge took N's old bubble for the answer and blamed the NAT.
  Captures c = native_run(true, true, true);
  c.udp("client-lan", kClientLan, kClientPort, kPrimary, 3544, rs());
  c.udp("server", kNatOut, kReboundPort, kPrimary, 3544, rs());
  c.udp("server", kPrimary, 3544, kNatOut, kReboundPort, ra(kPrimary, kNatOut, kReboundPort));
  c.udp("client-lan", kPrimary, 3544, kClientLan, kClientPort, ra(kPrimary, kNatOut, kReboundPort));
  const auto now6 = kit::ipv6(kReboundAddress);
  const auto out_req = echo(now6, kV6Host, false, kRebindOutMarker);
  const auto out_rep = echo(kV6Host, now6, true, kRebindOutMarker);
  c.udp("client-lan", kClientLan, kClientPort, kRelay, 3544, out_req);
  c.udp("relay", kNatOut, kReboundPort, kRelay, 3544, out_req);
  c.native("relay-native", out_req);
  c.native("native-host", out_req);
  c.native("native-host", out_rep);
  c.native("relay-native", out_rep);
  c.udp("relay", kRelay, 3544, kNatOut, kReboundPort, out_rep);
  c.udp("client-lan", kRelay, 3544, kClientLan, kClientPort, out_rep);
  const auto in_req = echo(kV6Host, now6, false, kRebindInMarker);
  c.native("native-host", in_req);
  c.native("relay-native", in_req);
  const auto bubble = kit::bubble_packet(kRelay6, now6);
  wire::ByteVector forwarded;
  wire::append_origin_indication(forwarded, {3544, kRelay});
  forwarded.insert(forwarded.end(), bubble.begin(), bubble.end());
  c.udp("relay", kRelay, 3544, kPrimary, 3544, bubble);
  c.udp("server", kRelay, 3544, kPrimary, 3544, bubble);
  c.udp("server", kPrimary, 3544, kNatOut, kReboundPort, forwarded);
  c.udp("client-lan", kPrimary, 3544, kClientLan, kClientPort, forwarded);
  const Finding f = judge_rebind(rebind_evidence(c, kReboundAddress));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.requirement, "R4380-5.2.3-04");
}

// ------------------------------------------------------------------ H

// Two clients behind one hairpinning NAT (A 192.0.2.10, B 192.0.2.74, both
// mapped on 198.51.100.1): the bubbles through the server, then each marked
// packet from a client to the NAT's outside at the peer's port, arriving from
// the sender's mapping; `through_server`: A's request goes to the server.
Captures hairpin_run(bool server_forwards, bool through_server) {
  Captures c;
  const auto a6 = kit::ipv6(kLA), b6 = kit::ipv6(kLB);
  const auto bubble = kit::bubble_packet(a6, b6);
  c.udp("h-client-a-lan", kALan, kClientPort, kPrimary, 3544, bubble);
  c.udp("h-server", kNatOut, kPortA, kPrimary, 3544, bubble);
  if (!server_forwards) return c;
  c.udp("h-server", kPrimary, 3544, kNatOut, kPortB, with_origin(bubble, kNatOut, kPortA));
  c.udp("h-client-b-lan", kPrimary, 3544, kBLan, kClientPort, with_origin(bubble, kNatOut, kPortA));
  for (const bool a_to_b : {true, false}) {
    const char* marker = a_to_b ? kAtoBMarker : kBtoAMarker;
    for (const bool reply : {false, true}) {
      const bool from_a = a_to_b != reply;
      const auto packet = from_a ? echo(a6, b6, reply, marker) : echo(b6, a6, reply, marker);
      const auto from_lan = from_a ? kALan : kBLan, to_lan = from_a ? kBLan : kALan;
      const std::uint16_t from_port = from_a ? kPortA : kPortB, to_port = from_a ? kPortB : kPortA;
      const std::string from_cap = from_a ? "h-client-a-lan" : "h-client-b-lan";
      const std::string to_cap = from_a ? "h-client-b-lan" : "h-client-a-lan";
      if (through_server && a_to_b && !reply) {
        c.udp(from_cap, from_lan, kClientPort, kPrimary, 3544, packet);
        c.udp("h-server", kNatOut, from_port, kPrimary, 3544, packet);
        c.udp("h-server", kPrimary, 3544, kNatOut, to_port, packet);
        c.udp(to_cap, kPrimary, 3544, to_lan, kClientPort, packet);
        continue;
      }
      c.udp(from_cap, from_lan, kClientPort, kNatOut, to_port, packet);
      c.udp(to_cap, kNatOut, from_port, to_lan, kClientPort, packet);
    }
  }
  return c;
}

TEST(InteropJudgeH, PassNamesThePacketsThatCameThroughTheHairpin) {
  const Finding f = judge_hairpin(pair_evidence(hairpin_run(true, false), kLA, kLB));
  EXPECT_EQ(f.verdict, "pass") << f.reason;
  EXPECT_EQ(f.requirement, "R4380-5.2.3-07");
  EXPECT_EQ(f.frames.size(), 4u);
  EXPECT_NE(f.reason.find("198.51.100.1:50001"), std::string::npos) << f.reason;
}

TEST(InteropJudgeH, DataThroughTheServerIsNotTheHairpin) {
  const Finding f = judge_hairpin(pair_evidence(hairpin_run(true, true), kLA, kLB));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "client");
  EXPECT_EQ(f.scenario, 'H');
}

TEST(InteropJudgeH, AServerThatNeverForwardedTheIndirectBubbleIsNamed) {
  const Finding f = judge_hairpin(pair_evidence(hairpin_run(false, false), kLA, kLB));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.1-15");
  EXPECT_EQ(f.scenario, 'H');
}

TEST(InteropJudgeH, ARequestFromAMappingTheSenderDoesNotEmbedOwesNoReply) {
  // Behind a NAT that maps each destination anew, A's request reaches B from
  // a port A's address does not embed: B rightly does not trust it.
  Captures c;
  const auto a6 = kit::ipv6(kLA), b6 = kit::ipv6(kLB);
  c.udp("h-client-a-lan", kALan, kClientPort, kNatOut, kPortB, echo(a6, b6, false, kAtoBMarker));
  c.udp("h-client-b-lan", kNatOut, kPortA + 100, kBLan, kClientPort, echo(a6, b6, false, kAtoBMarker));
  const Finding f = judge_hairpin(pair_evidence(c, kLA, kLB));
  EXPECT_EQ(f.verdict, "inconclusive") << f.reason;
  EXPECT_EQ(f.party, "nat");
  EXPECT_EQ(f.requirement, "R4380-5.2.3-18");
}

// ------------------------------------------------------------------ outputs

TEST(InteropOutput, InteropJsonIsValidAgainstItsSchema) {
  const nlohmann::json j = sample_interop();
  const auto problems = JsonSchema::load(interop_schema_path()).validate(j);
  EXPECT_TRUE(problems.empty()) << to_string(problems.front());
  EXPECT_EQ(j["cells"].size(), 4u);
  EXPECT_EQ(j["summary"]["counts"]["pass"], 2);
  // The schema refuses a fail that names no party, and an unknown verdict.
  nlohmann::json bad = j;
  bad["cells"][0]["results"][1]["party"] = "";
  EXPECT_FALSE(JsonSchema::load(interop_schema_path()).validate(bad).empty());
  bad = j;
  bad["cells"][0]["results"][0]["verdict"] = "flaky";
  EXPECT_FALSE(JsonSchema::load(interop_schema_path()).validate(bad).empty());
}

TEST(InteropOutput, ExitCodeIsTheRunGatesRule) {
  nlohmann::json j = sample_interop();
  EXPECT_EQ(interop_exit_code(j), 2);  // an error verdict
  const auto only = [](std::initializer_list<const char*> verdicts) {
    nlohmann::json cells = nlohmann::json::array();
    nlohmann::json results = nlohmann::json::array();
    for (const char* v : verdicts) results.push_back({{"verdict", v}});
    cells.push_back({{"results", results}});
    return nlohmann::json{{"cells", cells}};
  };
  EXPECT_EQ(interop_exit_code(only({"pass", "not-applicable"})), 0);
  EXPECT_EQ(interop_exit_code(only({"pass", "inconclusive"})), 4);
  EXPECT_EQ(interop_exit_code(only({"fail", "inconclusive"})), 1);
}

TEST(InteropOutput, JunitHasOneTestcasePerCellAndScenarioAndIsValid) {
  const std::string xml = render_interop_junit(sample_interop());
  std::size_t count = 0;
  for (std::size_t at = xml.find("<testcase "); at != std::string::npos; at = xml.find("<testcase ", at + 1)) ++count;
  EXPECT_EQ(count, 8u);
  EXPECT_NE(xml.find("tests=\"8\" failures=\"4\" errors=\"1\" skipped=\"1\""), std::string::npos) << xml;
  const std::string xmllint = find_program({"xmllint"});
  if (xmllint.empty()) GTEST_SKIP() << "xmllint not found: junit.xml not validated against junit.xsd";
  TempDir dir;
  std::ofstream(dir.path() / "junit.xml") << xml;
  const auto r = run_process({xmllint, "--noout", "--schema", std::string(TEREDO_SOURCE_DIR) + "/reports/schema/junit.xsd",
                              (dir.path() / "junit.xml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(InteropOutput, HtmlGridHasATabPerProfileAndLinksEveryLetterToItsCaptures) {
  const std::string html = render_interop_html(sample_interop());
  for (const char* nat : {"full-cone", "symmetric"}) {
    const std::string n = nat;
    EXPECT_NE(html.find("<section id=\"nat-" + n + "\" role=\"tabpanel\" aria-labelledby=\"tab-nat-" + n + "\">"),
              std::string::npos)
        << n;
    EXPECT_NE(html.find("<a role=\"tab\" id=\"tab-nat-" + n + "\" href=\"#nat-" + n + "\" aria-controls=\"nat-" + n),
              std::string::npos)
        << n;
  }
  // Without scripts every panel shows: none is hidden in the markup.
  EXPECT_EQ(html.find(" hidden"), std::string::npos);
  EXPECT_NE(html.find("<th>miredo / reference</th>"), std::string::npos);
  EXPECT_NE(html.find("class=\"v v-fail\""), std::string::npos);
  EXPECT_NE(html.find("href=\"cells/full-cone--reference--reference--reference/server.pcap\""), std::string::npos);
  EXPECT_EQ(html.find("<markup>"), std::string::npos) << "text is escaped";
  EXPECT_NE(html.find("&lt;markup&gt;"), std::string::npos);
}

// `report matrix` over interop.json files: one grid across them.
TEST(InteropMatrix, ReportMatrixDrawsOneGridAcrossInteropFiles) {
  TempDir a, b, out;
  const nlohmann::json first = sample_interop();  // full-cone and symmetric, Q and N
  // Another run: H on one of first's cells, and a profile first lacks.
  const Plan plan = make_plan({{"reference"}, {"reference"}, {"reference"}, {"full-cone", "restricted-cone"}, "H"});
  std::vector<CellResult> cells;
  for (const Cell& cell : plan.cells) {
    CellResult r;
    r.cell = cell;
    r.dir = "cells/" + cell.id();
    r.files = {"h-server.pcap"};
    r.findings.push_back(Finding{'H', "pass", "", "R4380-5.2.3-07", "through the hairpin", {{"h-client-a-lan.pcap", 4}}});
    cells.push_back(r);
  }
  const nlohmann::json second = interop_json(plan, cells, {"2026-12-06T09:00:00Z", 700, "teredo-conform interop"});
  std::ofstream(a.path() / "interop.json") << first.dump();
  std::ofstream(b.path() / "interop.json") << second.dump();
  const auto r = run_process({TEREDO_CONFORM_BIN, "report", "matrix", (a.path() / "interop.json").string(),
                              (b.path() / "interop.json").string(), "--out", out.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out.path() / "interop.json");
  const nlohmann::json combined = nlohmann::json::parse(in);
  EXPECT_TRUE(JsonSchema::load(interop_schema_path()).validate(combined).empty());
  EXPECT_EQ(combined["plan"]["nat_profiles"],
            (nlohmann::json{"full-cone", "restricted-cone", "symmetric"}));  // nat_profiles() order
  ASSERT_EQ(combined["cells"].size(), 5u);  // 4 + the restricted-cone cell; the full-cone one merged
  std::string letters;
  for (const auto& cell : combined["cells"]) {
    if (cell["id"] != "full-cone--reference--reference--reference") continue;
    for (const auto& res : cell["results"]) letters += res["scenario"].get<std::string>();
    // The links still reach each file's captures: the first file's folder,
    // and the second's files by their path from it.
    const auto dir = out.path() / cell["dir"].get<std::string>();
    EXPECT_EQ(std::filesystem::weakly_canonical(dir),
              std::filesystem::weakly_canonical(a.path() / "cells/full-cone--reference--reference--reference"));
    ASSERT_EQ(cell["files"].size(), 3u) << cell["files"];
    EXPECT_EQ(std::filesystem::weakly_canonical(dir / cell["files"][2].get<std::string>()),
              std::filesystem::weakly_canonical(b.path() / "cells/full-cone--reference--reference--reference/h-server.pcap"));
  }
  EXPECT_EQ(letters, "QNH");
  EXPECT_EQ(combined["summary"]["counts"]["pass"], first["summary"]["counts"]["pass"].get<int>() + 2);
  EXPECT_EQ(combined["run"]["started"], "2026-12-06T09:00:00Z");
  for (const char* f : {"interop.html", "junit.xml"}) EXPECT_TRUE(std::filesystem::exists(out.path() / f)) << f;
  EXPECT_NE(r.out.find("2 files, 5 cells"), std::string::npos) << r.out;

  // The same verdict twice is refused, naming both files; so is a mix of kinds.
  const auto twice = run_process({TEREDO_CONFORM_BIN, "report", "matrix", (a.path() / "interop.json").string(),
                                  (a.path() / "interop.json").string(), "--out", out.path().string()});
  EXPECT_EQ(twice.exit_code, 2) << twice.err;
  EXPECT_NE(twice.err.find("is judged in both"), std::string::npos) << twice.err;
  EXPECT_EQ(std::count(twice.err.begin(), twice.err.end(), '\n'), 1) << twice.err;
  std::ofstream(b.path() / "report.json") << R"({"format": "something else"})";
  const auto mixed = run_process({TEREDO_CONFORM_BIN, "report", "matrix", (a.path() / "interop.json").string(),
                                  (b.path() / "report.json").string(), "--out", out.path().string()});
  EXPECT_EQ(mixed.exit_code, 2) << mixed.err;
  EXPECT_NE(mixed.err.find("not an interop.json"), std::string::npos) << mixed.err;
}

TEST(InteropOutput, GridTextIsTheVerdictsAlone) {
  nlohmann::json a = sample_interop();
  nlohmann::json b = a;
  b["run"]["duration_ms"] = 99;
  b["cells"][0]["duration_ms"] = 1;
  EXPECT_EQ(grid_text(a), grid_text(b));
  b["cells"][0]["results"][0]["verdict"] = "fail";
  EXPECT_NE(grid_text(a), grid_text(b));
}

}  // namespace
}  // namespace teredo::conformance::interop
