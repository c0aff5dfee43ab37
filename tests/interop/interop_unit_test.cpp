// teredo-conform interop without a lab (label unit): the plan (defaults,
// order, refusals), the judge of each scenario on captures built here (each
// party's deviation is named, the NAT's losses are inconclusive), and the
// outputs (interop.json against its schema, junit.xml against junit.xsd, the
// HTML grid, the exit code the run's gate gives).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "engine/json_schema.hpp"
#include "interop/judge.hpp"
#include "interop/output.hpp"
#include "interop/plan.hpp"
#include "interop_fixture.hpp"
#include "kit/lab_facts.hpp"
#include "kit/packets.hpp"
#include "report_fixture.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::interop {
namespace {

namespace lab = kit::lab;
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
  EXPECT_EQ(plan.letters, "QND");
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
  expect_refused({{}, {}, {}, {}, "QH"}, "scenario 'H' is not offered (this version offers QND)");
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
      {"--client", "nosuch"}, {"--nat", "full-con"}, {"--scenarios", "QH"},
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
Captures native_run(bool relay_bubbles, bool server_forwards, bool complete_in) {
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
  c.udp("server", kPrimary, 3544, kNatOut, kMappedPort, bubble);
  c.udp("client-lan", kPrimary, 3544, kClientLan, kClientPort, bubble);
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

// A pings B and B pings A; `through_server`: A's request goes to the server
// instead; `server_forwards`: the server passes A's indirect bubble on.
Captures direct_run(bool through_server, bool server_forwards) {
  Captures c;
  const auto a6 = kit::ipv6(kA), b6 = kit::ipv6(kB);
  const auto bubble = kit::bubble_packet(a6, b6);
  c.udp("d-client-a-lan", kALan, kClientPort, kPrimary, 3544, bubble);
  c.udp("d-server", kNatA, kPortA, kPrimary, 3544, bubble);
  if (!server_forwards) return c;
  c.udp("d-server", kPrimary, 3544, kNatB, kPortB, bubble);
  c.udp("d-client-b-lan", kPrimary, 3544, kBLan, kClientPort, bubble);
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
}

TEST(InteropJudgeD, AServerThatNeverForwardedTheIndirectBubbleIsNamed) {
  const Finding f = judge_direct(direct_evidence(direct_run(false, false)));
  EXPECT_EQ(f.verdict, "fail") << f.reason;
  EXPECT_EQ(f.party, "server");
  EXPECT_EQ(f.requirement, "R4380-5.3.1-15");
}

TEST(InteropJudgeD, AClientThatDidNotQualifyLeavesDInconclusive) {
  Evidence e = direct_evidence(direct_run(false, true));
  e.direct_b.reset();
  EXPECT_EQ(judge_direct(e).verdict, "inconclusive");
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

TEST(InteropOutput, HtmlGridHasASectionPerProfileAndLinksEveryLetterToItsCaptures) {
  const std::string html = render_interop_html(sample_interop());
  EXPECT_NE(html.find("<section id=\"nat-full-cone\">"), std::string::npos);
  EXPECT_NE(html.find("<section id=\"nat-symmetric\">"), std::string::npos);
  EXPECT_NE(html.find("<th>miredo / reference</th>"), std::string::npos);
  EXPECT_NE(html.find("class=\"v v-fail\""), std::string::npos);
  EXPECT_NE(html.find("href=\"cells/full-cone--reference--reference--reference/server.pcap\""), std::string::npos);
  EXPECT_EQ(html.find("<markup>"), std::string::npos) << "text is escaped";
  EXPECT_NE(html.find("&lt;markup&gt;"), std::string::npos);
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
