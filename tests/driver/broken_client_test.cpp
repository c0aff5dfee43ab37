// The client cases against clients nobody here wrote and that are broken on
// purpose (tests/driver/broken_client/broken_client.py, one fault each), and
// against the reference: each case must catch the fault on the right
// requirement and blame nothing else.
//  - silent: a client that qualifies and then sends nothing is never failed
//    on its silence (inconclusive), issue 12 "silence was judged fail".
//  - accept-any-ra-late: takes the first faulty RA but configures the
//    address only after the next RA came: blamed on the RA its address names,
//    not on the one that came last ("taken by timing, not by content").
//  - accept-any-ra on 2001:db8::/64: the address outside 2001:0: is found
//    from the prefix the driver advertised ("the adapter's probe matches a
//    text pattern").
//  - stateless: answers every echo request where it came from: fails the
//    case that needs a peer list ("passed on behaviour the client shows
//    without keeping any state").
//  - fixed-nonce: fails the RS nonce case, which a client with random nonces
//    passes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conform_run.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using teredo::test::outcomes;

class BrokenClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    dir_ = fs::temp_directory_path() / ("teredo-broken-client-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // An adapter running the broken client with `fault`.
  std::string adapter(const std::string& fault) const {
    const fs::path path = dir_ / ("broken-" + fault + ".json");
    const json a = {
        {"name", "broken-" + fault},
        {"description", "tests/driver/broken_client/broken_client.py --fault " + fault},
        {"roles",
         {{"client",
           {{"command",
             {"python3", std::string(TEREDO_SOURCE_DIR) + "/tests/driver/broken_client/broken_client.py", "--server",
              "{server_v4}", "--interface", "{iface}", "--fault", fault, "--retry-ms", "400", "--refresh-ms", "3000"}},
            {"ready", {{"kind", "log-line"}, {"pattern", "ready broken-client"}, {"timeout_ms", 5000}}},
            {"address", {{"kind", "interface-address"}, {"interface", "{iface}"}, {"pattern", "2001:0:"}}},
            {"stop_signal", "SIGTERM"}}}}},
        {"capabilities", {"direct_connectivity_test"}},
        {"timers_ms",
         {{"qualification_retry", 400},
          {"refresh_interval", 3000},
          {"bubble_interval", 200},
          {"bubble_window", 30000},
          {"echo_test_retry", 200},
          {"peer_validity", 3000}}}};
    std::ofstream(path) << a.dump(2);
    return path.string();
  }

  // Runs one case (glob) against `iut`; returns the report's case entries.
  json run(const std::string& iut, const std::string& cases, const std::string& name) {
    return teredo::test::run_cases(dir_, name, iut, cases);
  }

  // The assertions of `requirement` in the case entries.
  static std::vector<json> assertions(const json& cases, const std::string& requirement) {
    std::vector<json> out;
    for (const auto& c : cases) {
      for (const auto& a : c["assertions"]) {
        if (a["requirement"] == requirement) out.push_back(a);
      }
    }
    return out;
  }
  fs::path dir_;
};

TEST_F(BrokenClientTest, SilenceAboutWhatTheClientSendsIsInconclusiveNeverFail) {
  const std::string iut = adapter("silent");
  for (const char* id : {"client.transmit.indirect-and-direct-bubbles", "client.transmit.peer-validity-expires",
                         "client.direct-test.native-destination", "client.direct-test.server-origin"}) {
    const json cases = run(iut, id, std::string("out-") + id);
    ASSERT_EQ(cases.size(), 1u) << id;
    int inconclusive = 0;
    for (const auto& a : cases[0]["assertions"]) {
      EXPECT_NE(a["outcome"], "fail") << id << ": " << a.dump();
      EXPECT_NE(a["outcome"], "warn") << id << ": " << a.dump();
      inconclusive += a["outcome"] == "inconclusive" ? 1 : 0;
      // It qualified: the silence judged is the one after qualification.
      EXPECT_EQ(a["message"].get<std::string>().find("did not qualify"), std::string::npos) << a.dump();
    }
    EXPECT_GT(inconclusive, 0) << outcomes(cases);
  }
}

TEST_F(BrokenClientTest, TheRaTakenIsBlamedByItsContentNotByWhichCameLast) {
  // Probe 1: a truncated RA (R2461-6.1.2-05), probe 2: a zero-length option
  // (R2461-6.1.2-06). The client takes probe 1 and shows the address only
  // after probe 2 was answered.
  const json cases = run(adapter("accept-any-ra-late"), "client.ra.rfc2461-length-and-zero-option", "out");
  ASSERT_EQ(cases.size(), 1u);
  const auto taken = assertions(cases, "R2461-6.1.2-05");
  const auto innocent = assertions(cases, "R2461-6.1.2-06");
  ASSERT_EQ(taken.size(), 1u) << outcomes(cases);
  ASSERT_EQ(innocent.size(), 1u) << outcomes(cases);
  EXPECT_EQ(taken[0]["outcome"], "fail") << taken[0].dump();
  EXPECT_NE(taken[0]["observed"].get<std::string>().find("198.51.100.1:50100"), std::string::npos)
      << "the fail names the content that identifies the RA: " << taken[0].dump();
  EXPECT_NE(innocent[0]["outcome"], "fail") << innocent[0].dump();
  EXPECT_NE(innocent[0]["outcome"], "pass") << "the control never qualified it: " << innocent[0].dump();
}

TEST_F(BrokenClientTest, AnAddressOutside2001_0IsFoundFromTheAdvertisedPrefix) {
  // Probe 1 advertises 2001:db8::/64: the client configures an address the
  // adapter's "2001:0:" pattern would never match.
  const json cases = run(adapter("accept-any-ra"), "client.ra.non-teredo-prefix-ignored", "out");
  ASSERT_EQ(cases.size(), 1u);
  const auto judged = assertions(cases, "R4380-5.2.1-04");
  ASSERT_FALSE(judged.empty()) << outcomes(cases);
  // R4380-5.2.1-04 is a SHOULD: its failure is a warning.
  EXPECT_EQ(judged[0]["outcome"], "warn") << judged[0].dump();
  EXPECT_NE(judged[0]["observed"].get<std::string>().find("configured 2001:db8::"), std::string::npos)
      << judged[0].dump();
  for (const auto& a : judged) EXPECT_NE(a["outcome"], "pass") << a.dump();
}

TEST_F(BrokenClientTest, AClientWithoutPeerStateFailsTheTrustedMappingCase) {
  const json cases = run(adapter("stateless"), "client.receive.trusted-mapping-state", "out");
  ASSERT_EQ(cases.size(), 1u);
  // P's echo request from another port of P's address (not the mapping P's
  // address embeds) is answered there: no peer list (R4380-5.2.3-18).
  const auto judged = assertions(cases, "R4380-5.2.3-18");
  ASSERT_EQ(judged.size(), 1u) << outcomes(cases);
  EXPECT_EQ(judged[0]["outcome"], "fail") << judged[0].dump();
  EXPECT_EQ(cases[0]["verdict"], "fail") << outcomes(cases);
}

TEST_F(BrokenClientTest, TheReferencePassesTheTrustedMappingCase) {
  const json cases = run("reference", "client.receive.trusted-mapping-state", "out");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0]["verdict"], "pass") << outcomes(cases);
}

TEST_F(BrokenClientTest, AFixedRsNonceFailsRandomNoncesPass) {
  const json fixed = run(adapter("fixed-nonce"), "client.qualification.rs-nonce-fresh", "fixed");
  ASSERT_EQ(fixed.size(), 1u);
  // R4380-5.2.2-07 (no nonce twice) is a SHOULD in the catalog: RFC 4380
  // implies freshness without a MUST, so a repeated nonce is a warning.
  const auto judged = assertions(fixed, "R4380-5.2.2-07");
  ASSERT_EQ(judged.size(), 1u) << outcomes(fixed);
  EXPECT_EQ(judged[0]["outcome"], "warn") << judged[0].dump();
  EXPECT_EQ(judged[0]["code"], "rs_nonce_repeated") << judged[0].dump();
  // The same broken client with random nonces (its other faults do not
  // matter here), and the reference: not blamed.
  const json random = run(adapter("silent"), "client.qualification.rs-nonce-fresh", "random");
  ASSERT_EQ(random.size(), 1u);
  EXPECT_EQ(random[0]["verdict"], "pass") << outcomes(random);
  const json reference = run("reference", "client.qualification.rs-nonce-fresh", "reference");
  ASSERT_EQ(reference.size(), 1u);
  EXPECT_EQ(reference[0]["verdict"], "pass") << outcomes(reference);
}

}  // namespace
