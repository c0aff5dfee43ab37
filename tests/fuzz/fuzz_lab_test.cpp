// `teredo-conform fuzz` end to end (label lab): against a client that
// crashes on a datagram that is not a Teredo packet (the reference under the
// mutation shim's client-crash-malformed fault) it must find the crash in
// either of the client's states, minimize it to one datagram, and `replay
// --role client` must reproduce it; against the reference client it must
// find nothing and count the datagrams of both states. Against a server with one
// planted bug (iuts/planted_server.py: SIGSEGV when an authentication
// encapsulation's ID-len + AU-len run past the payload) it must find the
// crash, minimize it to the one datagram that has the defect and record it;
// against a relay that processes packets for Teredo peers whose mapped IPv4
// is not global (the reference under the mutation shim's
// relay-forward-non-global-destination fault) it must find the wire
// invariant, minimize it to one datagram, and `replay --role relay` must
// reproduce it; against the reference server and relay, with the same
// oracles on, it must find nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "capture/pcap_file.hpp"
#include "driver/conform_process.hpp"
#include "mutation/mutant_adapter.hpp"
#include "teredo/wire/wire.hpp"

namespace {

using nlohmann::json;
using namespace teredo::wire;

class WireFuzz : public teredo::testing::ConformProcessTest {
 protected:
  std::string planted_adapter(const std::string& bug = "crash") const {
    const std::string path = (dir_ / ("planted-server-" + bug + ".json")).string();
    const json adapter = {
        {"name", "planted-server"},
        {"roles",
         {{"server",
           {{"command", {"python3", std::string(TEREDO_SOURCE_DIR) + "/tests/fuzz/iuts/planted_server.py", "--bug", bug,
                         "{server_v4}", "{server_v4_secondary}"}},
            {"ready", {{"kind", "log-line"}, {"pattern", "planted_server ready"}, {"timeout_ms", 20000}}}}}}}};
    std::ofstream(path) << adapter.dump(2);
    return path;
  }
  // The reference with one fault of the mutation shim.
  std::string mutant(const std::string& fault) const {
    if (std::string(TEREDO_FAULT_SHIM).empty()) return {};
    const std::string path = (dir_ / (fault + ".json")).string();
    std::ifstream in(std::string(TEREDO_SOURCE_DIR) + "/conformance/iut/reference.json");
    std::ofstream(path) << teredo::testing::mutant_adapter(json::parse(in), fault, TEREDO_FAULT_SHIM).dump(2);
    return path;
  }
  json read_json(const std::filesystem::path& path) const {
    std::ifstream in(path);
    return json::parse(in);
  }
};

// The planted defect, as planted_server.py tests it.
bool planted_defect(Bytes p) {
  return p.size() >= 4 && p[0] == 0 && p[1] == 1 && std::size_t{4} + p[2] + p[3] > p.size();
}

TEST_F(WireFuzz, FindsMinimizesAndRecordsThePlantedCrash) {
  const int code = run({"fuzz", "--iut", planted_adapter(), "--role", "server", "--seed", "1", "--datagrams", "5000",
                        "--duration", "120", "--out", out_dir()});
  ASSERT_EQ(code, 1) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  ASSERT_EQ(summary["findings"].size(), 1u) << summary.dump(2);
  const json& listed = summary["findings"][0];
  EXPECT_EQ(listed["oracle"], "iut_died");
  EXPECT_EQ(listed["signature"], "killed by SIGSEGV");
  EXPECT_GT(summary["datagrams_sent"].get<std::uint64_t>(), 0u);

  const auto dir = dir_ / "out" / listed["dir"].get<std::string>();
  const json finding = read_json(dir / "finding.json");
  EXPECT_EQ(finding["oracle"], "iut_died");
  EXPECT_EQ(finding["iut_exit"]["signal"], 11);
  EXPECT_EQ(finding["seed"], 1);
  EXPECT_TRUE(finding["minimization"]["reproduced"].get<bool>()) << finding.dump(2);
  EXPECT_GT(finding["datagrams_before_minimization"].get<std::size_t>(), 1u);
  EXPECT_EQ(finding["datagrams_after_minimization"], 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "iut.log"));
  EXPECT_NE(file_text(dir / "iut.log").find("planted_server ready"), std::string::npos);

  // The reproducer: exactly one datagram, to the server's port, carrying the
  // planted defect, the same bytes finding.json names.
  teredo::capture::PcapReader reader((dir / "reproducer.pcap").string());
  teredo::capture::Frame frame;
  std::vector<ByteVector> payloads;
  while (reader.next(frame) == teredo::capture::PcapReader::Status::frame) {
    const auto carrier = find_udp_carrier(static_cast<LinkType>(reader.link_type()), frame.data);
    ASSERT_TRUE(carrier);
    EXPECT_EQ(to_string(carrier->destination4), "203.0.113.1");
    EXPECT_EQ(carrier->destination_port, 3544);
    payloads.emplace_back(carrier->payload.begin(), carrier->payload.end());
  }
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_TRUE(planted_defect(payloads[0])) << to_hex(payloads[0]);
  EXPECT_EQ(to_hex(payloads[0]), finding["datagrams"][0]["hex"]);

  // `replay` of the reproducer into a fresh planted server reproduces the
  // crash: exit 1, the one datagram failing on iut_died.
  const std::string replay_out = (dir_ / "replay-out").string();
  EXPECT_EQ(run({"replay", "--iut", planted_adapter(), "--pcap", (dir / "reproducer.pcap").string(), "--out",
                 replay_out}),
            1)
      << err();
  const json replayed = read_json(dir_ / "replay-out" / "replay" / "replay.json");
  ASSERT_EQ(replayed["results"].size(), 1u) << replayed.dump(2);
  EXPECT_EQ(replayed["results"][0]["code"], "iut_died");
  EXPECT_NE(replayed["results"][0]["observed"].get<std::string>().find("SIGSEGV"), std::string::npos);
}

// A bug behind the authentication check (planted_server.py --bug
// signed-option: a correctly signed RS with a zero-length ND option kills
// it) is reachable only in the server's "after a secure RS" state, where the
// server is launched with the shared secret and the generator signs its
// RSs: the run goes through that state because the adapter declares
// secure_qualification, finds the crash there and minimizes it to the one
// signed datagram.
TEST_F(WireFuzz, ABugBehindTheAuthenticationCheckIsFoundInTheSecureState) {
  const std::string script = std::string(TEREDO_SOURCE_DIR) + "/tests/fuzz/iuts/planted_server.py";
  const json plain = {"python3", script, "--bug", "signed-option", "{server_v4}", "{server_v4_secondary}"};
  json secure = plain;
  for (const char* arg : {"--secret", "{secret}", "--client-id", "{client_id}"}) secure.push_back(arg);
  const json adapter = {
      {"name", "planted-secure-server"},
      {"capabilities", {"secure_qualification"}},
      {"roles",
       {{"server",
         {{"command", plain},
          {"ready", {{"kind", "log-line"}, {"pattern", "planted_server ready"}, {"timeout_ms", 20000}}},
          {"secure", {{"command", secure}}}}}}}};
  const std::string path = (dir_ / "planted-secure-server.json").string();
  std::ofstream(path) << adapter.dump(2);
  const int code = run({"fuzz", "--iut", path, "--seed", "3", "--datagrams", "30000", "--duration", "120", "--out",
                        out_dir()});
  ASSERT_EQ(code, 1) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  ASSERT_EQ(summary["findings"].size(), 1u) << summary.dump(2);
  EXPECT_EQ(summary["findings"][0]["oracle"], "iut_died");
  EXPECT_EQ(summary["findings"][0]["state"], "after_secure_rs");
  // The other states were fuzzed without finding it.
  EXPECT_GT(summary["by_state"]["fresh"]["mutated"].get<std::uint64_t>(), 5000u) << summary["by_state"].dump();
  EXPECT_GT(summary["by_state"]["after_qualified_client"]["mutated"].get<std::uint64_t>(), 5000u);
  const json finding = read_json(dir_ / "out" / summary["findings"][0]["dir"].get<std::string>() / "finding.json");
  EXPECT_EQ(finding["state_key"], "after_secure_rs");
  ASSERT_EQ(finding["datagrams_after_minimization"], 1) << finding.dump(2);
  const json& datagram = finding["datagrams"][0];
  EXPECT_TRUE(datagram["built_from"] == "rs_auth" || datagram["built_from"] == "rs_auth_origin") << datagram.dump();
  // Signed for client-7: the identifier is in the datagram.
  ByteVector bytes;
  ASSERT_TRUE(from_hex(datagram["hex"].get<std::string>(), bytes));
  const auto parsed = parse_datagram(bytes, DatagramParseOptions{.accept_trailers = true});
  ASSERT_TRUE(parsed && parsed->authentication) << datagram.dump();
  EXPECT_EQ(std::string(parsed->authentication->client_id.begin(), parsed->authentication->client_id.end()), "client-7");
}

// `replay` of the project's own sample capture (three RSs with nonces, two
// other datagrams) into the reference server: every RS answered by an RA
// repeating its nonce, exit 0.
TEST_F(WireFuzz, ReplayOfTheSampleCaptureIntoTheReferencePasses) {
  const std::string sample = (dir_ / "sample.pcap").string();
  ASSERT_EQ(run({"samples", "--out", sample}), 0) << err();
  ASSERT_EQ(run({"replay", "--iut", "reference", "--pcap", sample, "--out", out_dir()}), 0) << err();
  const json replayed = read_json(dir_ / "out" / "replay" / "replay.json");
  EXPECT_TRUE(replayed["complete"].get<bool>());
  EXPECT_EQ(replayed["counts"]["pass"], 3) << replayed.dump(2);
  for (const auto& r : replayed["results"]) {
    if (r["kind"] == "rs") {
      EXPECT_EQ(r["requirement"], "R4380-5.3.2-11");
    }
  }
}

// The one datagram of a finding's reproducer.pcap.
std::vector<ByteVector> reproducer_payloads(const std::filesystem::path& pcap) {
  teredo::capture::PcapReader reader(pcap.string());
  teredo::capture::Frame frame;
  std::vector<ByteVector> payloads;
  while (reader.next(frame) == teredo::capture::PcapReader::Status::frame) {
    const auto carrier = find_udp_carrier(static_cast<LinkType>(reader.link_type()), frame.data);
    if (carrier) payloads.emplace_back(carrier->payload.begin(), carrier->payload.end());
  }
  return payloads;
}

// The same defect, but the server prints a Python traceback and exits 1:
// the log oracle names it (a better signature than "exited with status 1").
TEST_F(WireFuzz, APythonTracebackIsFoundByItsLogReport) {
  const int code = run({"fuzz", "--iut", planted_adapter("traceback"), "--seed", "1", "--datagrams", "5000",
                        "--out", out_dir()});
  ASSERT_EQ(code, 1) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  ASSERT_EQ(summary["findings"].size(), 1u) << summary.dump(2);
  EXPECT_EQ(summary["findings"][0]["oracle"], "sanitizer");
  EXPECT_EQ(summary["findings"][0]["signature"], "python traceback: IndexError");
  const auto dir = dir_ / "out" / summary["findings"][0]["dir"].get<std::string>();
  const json finding = read_json(dir / "finding.json");
  EXPECT_EQ(finding["iut_exit"]["code"], 1);
  EXPECT_EQ(finding["datagrams_after_minimization"], 1) << finding.dump(2);
  const auto payloads = reproducer_payloads(dir / "reproducer.pcap");
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_TRUE(planted_defect(payloads[0])) << to_hex(payloads[0]);
}

// The same defect makes the server deaf but alive: two failed liveness
// probes in a row are the finding, minimized the same way.
TEST_F(WireFuzz, ADeafServerIsFoundByTheLivenessProbe) {
  const int code = run({"fuzz", "--iut", planted_adapter("deaf"), "--seed", "1", "--datagrams", "1500",
                        "--probe-every", "500", "--out", out_dir()});
  ASSERT_EQ(code, 1) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  ASSERT_EQ(summary["findings"].size(), 1u) << summary.dump(2);
  EXPECT_EQ(summary["findings"][0]["oracle"], "unresponsive");
  EXPECT_GE(summary["probes"]["failed"].get<int>(), 2);
  const auto dir = dir_ / "out" / summary["findings"][0]["dir"].get<std::string>();
  const json finding = read_json(dir / "finding.json");
  EXPECT_TRUE(finding["iut_exit"].is_null());
  EXPECT_EQ(finding["datagrams_after_minimization"], 1) << finding.dump(2);
  const auto payloads = reproducer_payloads(dir / "reproducer.pcap");
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_TRUE(planted_defect(payloads[0])) << to_hex(payloads[0]);
}

// The same defect leaks 1 MiB in the server and nothing else goes wrong:
// the memory oracle (the IUT tree's VmRSS over its qualified start) finds it.
TEST_F(WireFuzz, AServerThatLeaksPerMalformedDatagramIsFoundByItsMemory) {
  const int code = run({"fuzz", "--iut", planted_adapter("leak"), "--seed", "1", "--datagrams", "60000",
                        "--probe-every", "2000", "--rss-growth-mb", "16", "--minimize-runs", "3", "--duration", "120",
                        "--out", out_dir()});
  ASSERT_EQ(code, 1) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  ASSERT_FALSE(summary["findings"].empty()) << summary.dump(2);
  EXPECT_EQ(summary["findings"][0]["oracle"], "memory_growth") << summary.dump(2);
  EXPECT_EQ(summary["findings"][0]["signature"], "resident memory grew by more than 16 MiB");
}

TEST_F(WireFuzz, ReferenceServerGivesNoFindingWithEveryOracleOn) {
  const int code = run({"fuzz", "--iut", "reference", "--seed", "7", "--datagrams", "20000", "--probe-every", "1000",
                        "--out", out_dir()});
  EXPECT_EQ(code, 0) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  EXPECT_TRUE(summary["findings"].empty()) << summary.dump(2);
  EXPECT_EQ(summary["datagrams_sent"], 20000);
  EXPECT_EQ(summary["stopped_by"], "datagrams");
  EXPECT_EQ(summary["probes"]["sent"], 21);  // one every 1000 datagrams, and the closing one
  EXPECT_EQ(summary["probes"]["failed"], 0);
  // The wire invariants had something to judge: the RAs and forwards it sent.
  EXPECT_GT(summary["iut_datagrams_seen"].get<std::uint64_t>(), 1000u);
  // Every state of issue 13 (the reference declares secure qualification),
  // each on a fresh server, the budget shared among them.
  for (const char* state : {"after_qualified_client", "fresh", "after_secure_rs"}) {
    ASSERT_TRUE(summary["by_state"].contains(state)) << summary["by_state"].dump();
    EXPECT_GT(summary["by_state"][state]["mutated"].get<std::uint64_t>(), 5000u) << state;
    EXPECT_GT(summary["by_state"][state]["valid"].get<std::uint64_t>(), 500u) << state;
    EXPECT_GE(summary["by_state"][state]["iut_starts"].get<std::uint64_t>(), 1u) << state;
  }
  std::cout << "[ figures ] reference server: " << summary["datagrams_sent"] << " datagrams at "
            << summary["rate_per_s"] << "/s\n";
}

TEST_F(WireFuzz, BadInputIsOneLineAndExitTwo) {
  EXPECT_EQ(run({"fuzz", "--iut", "no-such-adapter", "--out", out_dir()}), 2);
  EXPECT_NE(err().find("no-such-adapter"), std::string::npos);
  EXPECT_EQ(run({"fuzz", "--role", "host-relay", "--out", out_dir()}), 2);
  EXPECT_NE(err().find("the roles fuzzed are server, relay, client"), std::string::npos) << err();
  EXPECT_EQ(run({"replay", "--role", "host-relay", "--pcap", "x.pcap", "--out", out_dir()}), 2);
  EXPECT_NE(err().find("server, relay and client"), std::string::npos) << err();
  std::ofstream(dir_ / "a-file") << "x";
  EXPECT_EQ(run({"fuzz", "--out", (dir_ / "a-file" / "out").string()}), 2);
  const std::string text = err();
  EXPECT_NE(text.find("--out"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

// A client that sends RSs but never qualifies under the played server's
// valid RAs (the reference client launched with a secret, so it discards
// every unsigned RA) cannot be fuzzed: a harness or adapter problem, exit 2
// with one line, never an "unresponsive" finding.
TEST_F(WireFuzz, AClientThatNeverQualifiesIsBadInputNotAFinding) {
  std::ifstream in(std::string(TEREDO_SOURCE_DIR) + "/conformance/iut/reference.json");
  json adapter = json::parse(in);
  adapter["name"] = "never-qualifies";
  json& client = adapter["roles"]["client"];
  client["command"] = client["secure"]["command"];
  client["config"] = client["secure"]["config"];
  const std::string path = (dir_ / "never-qualifies.json").string();
  std::ofstream(path) << adapter.dump(2);
  EXPECT_EQ(run({"fuzz", "--iut", path, "--role", "client", "--datagrams", "2000", "--out", out_dir()}), 2);
  const std::string text = err();
  EXPECT_NE(text.find("failed its liveness probe before any fuzzed datagram"), std::string::npos) << text;
  const auto findings = dir_ / "out" / "fuzz" / "findings";
  EXPECT_TRUE(!std::filesystem::exists(findings) || std::filesystem::is_empty(findings)) << text;
}

TEST_F(WireFuzz, ARelayThatProcessesPacketsForNonGlobalPeersIsFoundMinimizedAndReplayed) {
  const std::string adapter = mutant("relay-forward-non-global-destination");
  if (adapter.empty()) GTEST_SKIP() << "the mutation shim is not built here (sanitizer or fuzz build)";
  const int code = run({"fuzz", "--iut", adapter, "--role", "relay", "--seed", "3", "--datagrams", "20000",
                        "--duration", "120", "--out", out_dir()});
  ASSERT_EQ(code, 1) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  EXPECT_EQ(summary["role"], "relay");
  ASSERT_EQ(summary["findings"].size(), 1u) << summary.dump(2);
  const json& listed = summary["findings"][0];
  EXPECT_EQ(listed["oracle"], "wire_invariant");
  EXPECT_EQ(listed["signature"], "teredo_destination_not_global");
  EXPECT_EQ(listed["requirement"], "R4380-5.4.1-01");
  const auto dir = dir_ / "out" / listed["dir"].get<std::string>();
  const json finding = read_json(dir / "finding.json");
  EXPECT_TRUE(finding["minimization"]["reproduced"].get<bool>()) << finding.dump(2);
  EXPECT_EQ(finding["datagrams_after_minimization"], 1);

  // report.json: the finding is a failing case citing the requirement, with
  // the reproducer as evidence; the fuzz section names it; the gate fails;
  // junit.xml has it as a failing test; `report render` (check_report)
  // and the JSON Schema accept the report.
  const json report = read_json(dir_ / "out" / "report.json");
  ASSERT_EQ(report["cases"].size(), 1u) << report.dump(2);
  const json& c = report["cases"][0];
  EXPECT_EQ(c["case_id"], "fuzz.relay." + listed["id"].get<std::string>());
  EXPECT_EQ(c["verdict"], "fail");
  EXPECT_EQ(c["requirements"], json::array({"R4380-5.4.1-01"}));
  EXPECT_EQ(c["assertions"][0]["code"], "teredo_destination_not_global");
  EXPECT_EQ(c["evidence"]["pcaps"][0]["path"], listed["dir"].get<std::string>() + "/reproducer.pcap");
  EXPECT_EQ(report["fuzz"]["findings"][0]["case_id"], c["case_id"]);
  EXPECT_EQ(report["fuzz"]["datagrams_sent"], summary["datagrams_sent"]);
  EXPECT_EQ(report["gate"]["exit_code"], 1);
  EXPECT_EQ(report["gate"]["blocking"], json::array({c["case_id"]}));
  const std::string junit = file_text(dir_ / "out" / "junit.xml");
  const std::size_t testcase = junit.find("<testcase name=\"" + c["case_id"].get<std::string>() + "\"");
  ASSERT_NE(testcase, std::string::npos) << junit;
  EXPECT_NE(junit.find("<failure", testcase), std::string::npos) << junit;
  EXPECT_EQ(run({"report", "render", (dir_ / "out" / "report.json").string(), "--out", (dir_ / "rendered").string()}),
            0)
      << err();
  if (std::system("python3 -c 'import jsonschema' 2>/dev/null") == 0) {
    const std::string command = "python3 " + std::string(TEREDO_SOURCE_DIR) + "/tests/reports/validate_report.py " +
                                TEREDO_SOURCE_DIR + "/reports/schema/teredo-compliance-report.schema.json " +
                                (dir_ / "out" / "report.json").string() + " >/dev/null";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }

  // The one datagram: the native host's packet to a Teredo address whose
  // mapped IPv4 is not global.
  teredo::capture::PcapReader reader((dir / "reproducer.pcap").string());
  teredo::capture::Frame frame;
  ASSERT_EQ(reader.next(frame), teredo::capture::PcapReader::Status::frame);
  const auto carrier = find_udp_carrier(static_cast<LinkType>(reader.link_type()), frame.data);
  ASSERT_TRUE(carrier);
  ASSERT_TRUE(carrier->ipv6);
  const auto teredo = parse_teredo(carrier->destination6);
  ASSERT_TRUE(teredo);
  EXPECT_FALSE(is_global_unicast(teredo->mapped_ipv4)) << to_string(teredo->mapped_ipv4);
  EXPECT_NE(reader.next(frame), teredo::capture::PcapReader::Status::frame);

  // Replayed into a fresh mutant: the same rule broken (exit 1); into the
  // reference relay: nothing broken, alive after it (exit 0).
  EXPECT_EQ(run({"replay", "--iut", adapter, "--role", "relay", "--pcap", (dir / "reproducer.pcap").string(),
                 "--out", (dir_ / "replay-mutant").string()}),
            1)
      << err();
  const json replayed = read_json(dir_ / "replay-mutant" / "replay" / "replay.json");
  ASSERT_GE(replayed["results"].size(), 1u) << replayed.dump(2);
  EXPECT_EQ(replayed["results"][0]["code"], "teredo_destination_not_global");
  EXPECT_EQ(replayed["results"][0]["requirement"], "R4380-5.4.1-01");
  EXPECT_EQ(run({"replay", "--iut", "reference", "--role", "relay", "--pcap", (dir / "reproducer.pcap").string(),
                 "--out", (dir_ / "replay-reference").string()}),
            0)
      << err();
  const json clean = read_json(dir_ / "replay-reference" / "replay" / "replay.json");
  EXPECT_EQ(clean["counts"].value("fail", 0), 0) << clean.dump(2);
  EXPECT_EQ(clean["results"].back()["code"], "alive");

  // `fuzz promote` keeps it as a regression file (refusing to overwrite one).
  const std::string into = (dir_ / "regressions").string();
  ASSERT_EQ(run({"fuzz", "promote", dir.string(), "--id", "relay-planted", "--into", into}), 0) << err();
  const json regression = read_json(dir_ / "regressions" / "relay-planted.json");
  EXPECT_EQ(regression["role"], "relay");
  EXPECT_EQ(regression["requirement"], "R4380-5.4.1-01");
  EXPECT_TRUE(regression["datagrams"][0]["native_to"].is_string()) << regression.dump(2);
  EXPECT_EQ(run({"fuzz", "promote", dir.string(), "--id", "relay-planted", "--into", into}), 2);
  EXPECT_NE(err().find("exists"), std::string::npos) << err();
}

// The regression committed from this planted relay's finding
// (conformance/regressions/relay-bubbles-peer-with-non-global-mapping.json)
// runs as a case: the reference passes it, the planted relay fails it on
// R4380-5.4.1-01 with the frame that breaks the rule.
TEST_F(WireFuzz, TheCommittedRelayRegressionPassesTheReferenceAndFailsThePlantedRelay) {
  const std::string id = "regression.relay-bubbles-peer-with-non-global-mapping";
  if (mutant("relay-forward-non-global-destination").empty()) {
    GTEST_SKIP() << "the mutation shim is not built here (sanitizer or fuzz build)";
  }
  EXPECT_EQ(run({"run", "--iut", "reference", "--cases", id, "--out", (dir_ / "ref").string()}), 0) << err();
  EXPECT_EQ(read_json(dir_ / "ref" / "report.json")["cases"][0]["verdict"], "pass");
  EXPECT_EQ(run({"run", "--iut", mutant("relay-forward-non-global-destination"), "--cases", id, "--out",
                 (dir_ / "mutant").string()}),
            1)
      << err();
  const json c = read_json(dir_ / "mutant" / "report.json")["cases"][0];
  EXPECT_EQ(c["verdict"], "fail");
  bool broken = false;
  for (const json& a : c["assertions"]) {
    if (a["code"] == "fuzz_invariant_broken" && a["outcome"] == "fail") {
      broken = true;
      EXPECT_EQ(a["requirement"], "R4380-5.4.1-01");
      EXPECT_FALSE(a["frames"].empty()) << a.dump(2);
    }
  }
  EXPECT_TRUE(broken) << c.dump(2);
}

TEST_F(WireFuzz, ReferenceRelayGivesNoFindingWithEveryOracleOn) {
  const int code = run({"fuzz", "--iut", "reference", "--role", "relay", "--seed", "7", "--datagrams", "20000",
                        "--out", out_dir()});
  EXPECT_EQ(code, 0) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  EXPECT_TRUE(summary["findings"].empty()) << summary.dump(2);
  EXPECT_EQ(summary["datagrams_sent"], 20000);
  EXPECT_EQ(summary["probes"]["failed"], 0);
  EXPECT_GT(summary["by_state"]["with_trusted_peer"]["mutated"].get<std::uint64_t>(), 10000u);
  const json report = read_json(dir_ / "out" / "report.json");
  EXPECT_TRUE(report["cases"].empty());
  EXPECT_EQ(report["gate"]["result"], "pass");
  EXPECT_EQ(report["fuzz"]["role"], "relay");
  // The relay carried and bubbled things the invariants judged.
  EXPECT_GT(summary["iut_datagrams_seen"].get<std::uint64_t>(), 100u);
  std::cout << "[ figures ] reference relay: " << summary["datagrams_sent"] << " datagrams at "
            << summary["rate_per_s"] << "/s\n";
}

// The client role: the reference behind the full-cone NAT of the client
// reception cases, both states (fuzzed RAs while qualifying, fuzzed peer,
// relay, server and discovery traffic once qualified), every oracle on.
TEST_F(WireFuzz, ReferenceClientGivesNoFindingInEitherState) {
  const int code = run({"fuzz", "--iut", "reference", "--role", "client", "--seed", "7", "--datagrams", "10000",
                        "--out", out_dir()});
  EXPECT_EQ(code, 0) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  EXPECT_TRUE(summary["findings"].empty()) << summary.dump(2);
  EXPECT_EQ(summary["role"], "client");
  EXPECT_EQ(summary["topology"], "client-lab");
  EXPECT_EQ(summary["datagrams_sent"], 10000);
  EXPECT_EQ(summary["probes"]["failed"], 0) << summary.dump(2);
  // Both states had datagrams, fuzzed and valid: RAs while qualifying, the
  // peers' traffic once qualified.
  for (const char* state : {"qualifying", "qualified"}) {
    EXPECT_GT(summary["by_state"][state]["mutated"].get<std::uint64_t>(), 1000u) << state << summary.dump(2);
    EXPECT_GT(summary["by_state"][state]["valid"].get<std::uint64_t>(), 100u) << state;
  }
  // A client qualifies once per start: the run started it more than once.
  EXPECT_GT(summary["iut_starts"].get<std::uint64_t>(), 1u);
  // The wire invariants had the client's RSs, bubbles and replies to judge.
  EXPECT_GT(summary["iut_datagrams_seen"].get<std::uint64_t>(), 50u);
  std::cout << "[ figures ] reference client: " << summary["datagrams_sent"] << " datagrams at "
            << summary["rate_per_s"] << "/s, by state " << summary["by_state"].dump() << "\n";
}

TEST_F(WireFuzz, AClientThatCrashesOnAMalformedDatagramIsFoundMinimizedAndReplayed) {
  const std::string adapter = mutant("client-crash-malformed");
  if (adapter.empty()) GTEST_SKIP() << "the mutation shim is not built here (sanitizer or fuzz build)";
  const int code = run({"fuzz", "--iut", adapter, "--role", "client", "--seed", "1", "--datagrams", "5000",
                        "--duration", "120", "--out", out_dir()});
  ASSERT_EQ(code, 1) << err();
  const json summary = read_json(dir_ / "out" / "fuzz" / "summary.json");
  ASSERT_EQ(summary["findings"].size(), 1u) << summary.dump(2);
  const json& listed = summary["findings"][0];
  EXPECT_EQ(listed["oracle"], "iut_died");
  EXPECT_EQ(listed["signature"], "killed by SIGSEGV");
  const auto dir = dir_ / "out" / listed["dir"].get<std::string>();
  const json finding = read_json(dir / "finding.json");
  EXPECT_EQ(finding["role"], "client");
  EXPECT_TRUE(finding["minimization"]["reproduced"].get<bool>()) << finding.dump(2);
  EXPECT_GT(finding["datagrams_before_minimization"].get<std::size_t>(), 1u);
  EXPECT_EQ(finding["datagrams_after_minimization"], 1);

  // The one datagram has the planted defect: our decoder rejects it.
  const auto payloads = reproducer_payloads(dir / "reproducer.pcap");
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_FALSE(parse_datagram(payloads[0], DatagramParseOptions{.accept_trailers = true})) << to_hex(payloads[0]);
  EXPECT_EQ(to_hex(payloads[0]), finding["datagrams"][0]["hex"]);

  // Replayed into a fresh mutant client in the fuzzer's state: it dies on it
  // (exit 1, iut_died); into the reference client: survived, live (exit 0).
  EXPECT_EQ(run({"replay", "--iut", adapter, "--role", "client", "--pcap", (dir / "reproducer.pcap").string(),
                 "--out", (dir_ / "replay-mutant").string()}),
            1)
      << err();
  const json replayed = read_json(dir_ / "replay-mutant" / "replay" / "replay.json");
  ASSERT_GE(replayed["results"].size(), 1u) << replayed.dump(2);
  EXPECT_EQ(replayed["results"][0]["code"], "iut_died");
  EXPECT_NE(replayed["results"][0]["observed"].get<std::string>().find("SIGSEGV"), std::string::npos);
  EXPECT_EQ(run({"replay", "--iut", "reference", "--role", "client", "--pcap", (dir / "reproducer.pcap").string(),
                 "--out", (dir_ / "replay-reference").string()}),
            0)
      << err();
  const json clean = read_json(dir_ / "replay-reference" / "replay" / "replay.json");
  EXPECT_EQ(clean["results"].back()["code"], "alive") << clean.dump(2);
}

}  // namespace
