// `teredo-conform interop` end to end (label interop: root, network
// namespaces, Debian's miredo and miredo-server): a reduced plan of teredo-ref
// and Miredo behind a port-restricted cone NAT passes Q, N and D (D pairing
// the two implementations: teredo-ref with Miredo and Miredo with teredo-ref);
// L, S, R and H pass for teredo-ref and are not-applicable with a reason
// where a pairing cannot run them; a
// deliberately broken server (tests/interop/swapped_server.json) turns its
// cells red and is named as the party that deviated; the same plan run twice
// draws the same grid.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "interop/output.hpp"
#include "report_fixture.hpp"

namespace teredo::conformance::interop {
namespace {

using nlohmann::json;
using teredo::reports::test::run_process;
using teredo::reports::test::TempDir;

struct InteropRun {
  int exit_code = -1;
  std::string out, err;
  json interop;
};

InteropRun interop_run(const std::vector<std::string>& args, const std::filesystem::path& out) {
  std::vector<std::string> argv = {TEREDO_CONFORM_BIN, "interop", "--out", out.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto p = run_process(argv, std::chrono::minutes(8));
  InteropRun r{p.exit_code, p.out, p.err, json()};
  std::ifstream in(out / "interop.json");
  if (in) r.interop = json::parse(in, nullptr, false);
  std::cout << p.out << p.err << std::flush;
  return r;
}

class InteropLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    if (!std::filesystem::exists("/usr/sbin/miredo") || !std::filesystem::exists("/usr/sbin/miredo-server")) {
      GTEST_SKIP() << "Debian's miredo and miredo-server are not installed";
    }
  }
};

const std::vector<std::string> kReducedPlan = {"--client", "reference,miredo", "--server", "reference,miredo",
                                               "--relay", "reference", "--nat", "port-restricted-cone",
                                               "--scenarios", "QND"};

TEST_F(InteropLabTest, ReducedPlanPassesQualificationNativeReachabilityAndDirectEveryWay) {
  TempDir dir;
  const InteropRun r = interop_run(kReducedPlan, dir.path());
  ASSERT_TRUE(r.interop.is_object()) << r.err;
  // The plan is printed before the run, a progress line per cell after.
  EXPECT_NE(r.out.find("interop plan: 4 cells x 3 scenarios"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[1/4] NAT port-restricted-cone client reference server reference relay reference: Q "),
            std::string::npos)
      << r.out;
  ASSERT_EQ(r.interop["cells"].size(), 4u);
  for (const json& cell : r.interop["cells"]) {
    for (const json& res : cell["results"]) {
      EXPECT_EQ(res["verdict"], "pass") << cell["id"] << " " << res["scenario"] << ": " << res["reason"];
    }
    // The evidence behind each letter is kept.
    for (const char* f : {"client-lan.pcap", "nat-outside.pcap", "server.pcap", "relay.pcap", "relay-native.pcap",
                          "native-host.pcap", "client.log", "server.log", "relay.log", "d-client-a-lan.pcap",
                          "d-nat-a-outside.pcap", "d-nat-b-outside.pcap", "d-client-b-lan.pcap", "d-server.pcap",
                          "d-client.log", "d-client-b.log", "d-server.log"}) {
      EXPECT_TRUE(std::filesystem::exists(dir.path() / cell["dir"].get<std::string>() / f)) << cell["id"] << " " << f;
    }
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"junit.xml", "interop.html"}) EXPECT_TRUE(std::filesystem::exists(dir.path() / f)) << f;
}

// L, S, R and H on the reference alone (the reduced plan CI affords): each
// passes from its own captures, which are kept.
TEST_F(InteropLabTest, LocalDiscoverySecureQualificationRebindAndHairpinPassForTheReference) {
  TempDir dir;
  const InteropRun r = interop_run({"--client", "reference", "--server", "reference", "--relay", "reference", "--nat",
                                    "port-restricted-cone", "--scenarios", "LSRH"},
                                   dir.path());
  ASSERT_TRUE(r.interop.is_object()) << r.err;
  ASSERT_EQ(r.interop["cells"].size(), 1u);
  const json& cell = r.interop["cells"][0];
  ASSERT_EQ(cell["results"].size(), 4u);
  std::string letters;
  for (const json& res : cell["results"]) {
    letters += res["scenario"].get<std::string>();
    EXPECT_EQ(res["verdict"], "pass") << res["scenario"] << ": " << res["reason"];
    EXPECT_FALSE(res["frames"].empty()) << res["scenario"];
  }
  EXPECT_EQ(letters, "LSRH");
  // R's pass tells the move; H's the hairpinned mapping; L's the LAN path.
  EXPECT_NE(cell["results"][2]["reason"].get<std::string>().find("the client moved from"), std::string::npos);
  EXPECT_NE(cell["results"][3]["reason"].get<std::string>().find("through the NAT's hairpin"), std::string::npos);
  for (const char* f : {"l-client-a-lan.pcap", "l-client-b-lan.pcap", "l-nat-outside.pcap", "l-server.pcap",
                        "l-client.log", "l-client-b.log", "s-client-lan.pcap", "s-server.pcap", "s-client.log",
                        "s-server.log", "h-client-a-lan.pcap", "h-client-b-lan.pcap", "h-server.pcap",
                        "client-lan.pcap", "relay.pcap"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / cell["dir"].get<std::string>() / f)) << f;
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// What a pairing cannot run is not-applicable with its reason, and no lab is
// built for it: Miredo declares neither local discovery nor secure
// qualification; the kernel's NAT can be made neither to remap nor to hairpin.
TEST_F(InteropLabTest, ScenariosAPairingCannotRunAreNotApplicableWithTheReason) {
  TempDir dir;
  InteropRun r = interop_run({"--client", "miredo", "--server", "miredo,reference", "--relay", "reference", "--nat",
                              "full-cone", "--scenarios", "LS"},
                             dir.path());
  ASSERT_TRUE(r.interop.is_object()) << r.err;
  ASSERT_EQ(r.interop["cells"].size(), 2u);
  for (const json& cell : r.interop["cells"]) {
    EXPECT_EQ(cell["results"][0]["verdict"], "not-applicable");
    EXPECT_NE(cell["results"][0]["reason"].get<std::string>().find("client miredo declares no local_discovery"),
              std::string::npos)
        << cell["results"][0]["reason"];
    EXPECT_EQ(cell["results"][1]["verdict"], "not-applicable");
    EXPECT_NE(cell["results"][1]["reason"].get<std::string>().find("declares no secure_qualification"),
              std::string::npos)
        << cell["results"][1]["reason"];
    EXPECT_TRUE(cell["files"].empty()) << "no lab ran: " << cell["files"];
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
  TempDir kernel;
  r = interop_run({"--client", "reference", "--server", "reference", "--relay", "reference", "--nat",
                   "linux-masquerade", "--scenarios", "RH"},
                  kernel.path());
  ASSERT_TRUE(r.interop.is_object()) << r.err;
  for (const json& res : r.interop["cells"][0]["results"]) {
    EXPECT_EQ(res["verdict"], "not-applicable") << res["scenario"];
    EXPECT_NE(res["reason"].get<std::string>().find("linux-masquerade"), std::string::npos) << res["reason"];
  }
}

TEST_F(InteropLabTest, ASwappedServerTurnsItsCellsRedAndIsNamed) {
  TempDir dir;
  const InteropRun r = interop_run({"--client", "reference,miredo", "--server",
                             std::string(TEREDO_SOURCE_DIR) + "/tests/interop/swapped_server.json", "--relay",
                             "reference", "--nat", "full-cone", "--scenarios", "Q"},
                            dir.path());
  ASSERT_TRUE(r.interop.is_object()) << r.err;
  ASSERT_EQ(r.interop["cells"].size(), 2u);
  for (const json& cell : r.interop["cells"]) {
    const json& q = cell["results"][0];
    EXPECT_EQ(q["verdict"], "fail") << cell["id"] << ": " << q["reason"];
    EXPECT_EQ(q["party"], "server") << cell["id"] << ": " << q["reason"];
    EXPECT_EQ(q["requirement"], "R4380-5.3.2-02") << cell["id"] << ": " << q["reason"];
    EXPECT_FALSE(q["frames"].empty());
  }
  EXPECT_EQ(r.exit_code, 1) << r.err;
}

// E behind the port-preserving symmetric NAT and behind a symmetric NAT with
// a UPnP IGD: without the extension the reference rightly stays unqualified
// (D not-applicable, no path); with §5.4, or §5.3, on in both clients the
// marked pings cross NAT to NAT (RFC 6081 §3 Figure 1: SNS+PP, SNS+UPnP),
// and the direct-path table says so. An adapter that
// declares the extension but launches without it (port_preserving_off_client
// .json) stays unqualified and fails E, named.
TEST_F(InteropLabTest, ThePortPreservingAndUpnpExtensionsOpenTheDirectPathBehindSymmetricNats) {
  TempDir dir;
  const InteropRun r = interop_run({"--client", "reference", "--server", "reference", "--relay", "reference", "--nat",
                                    "symmetric,symmetric+upnp", "--scenarios", "DE"},
                                   dir.path());
  ASSERT_TRUE(r.interop.is_object()) << r.err;
  ASSERT_EQ(r.interop["cells"].size(), 2u);
  for (const auto& [index, figure] : {std::pair{0, "Figure 1 SNS+PP"}, std::pair{1, "Figure 1 SNS+UPnP"}}) {
    const json& cell = r.interop["cells"][index];
    const json& results = cell["results"];
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0]["verdict"], "not-applicable") << cell["id"] << ": " << results[0]["reason"];
    EXPECT_EQ(results[1]["verdict"], "pass") << cell["id"] << ": " << results[1]["reason"];
    EXPECT_NE(results[1]["reason"].get<std::string>().find(figure), std::string::npos) << results[1]["reason"];
    EXPECT_EQ(results[1]["frames"].size(), 4u);
    for (const char* f : {"e-client-a-lan.pcap", "e-nat-a-outside.pcap", "e-nat-b-outside.pcap", "e-client-b-lan.pcap",
                          "e-server.pcap", "e-client.log", "e-client-b.log", "e-server.log"}) {
      EXPECT_TRUE(std::filesystem::exists(dir.path() / cell["dir"].get<std::string>() / f)) << f;
    }
  }
  EXPECT_NE(r.out.find("reference x reference"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no (not-applicable)"), std::string::npos) << r.out;
  EXPECT_EQ(r.exit_code, 0) << r.err;

  TempDir broken_dir;
  const InteropRun broken = interop_run(
      {"--client", std::string(TEREDO_SOURCE_DIR) + "/tests/interop/port_preserving_off_client.json", "--server",
       "reference", "--relay", "reference", "--nat", "symmetric", "--scenarios", "E"},
      broken_dir.path());
  ASSERT_TRUE(broken.interop.is_object()) << broken.err;
  const json& e = broken.interop["cells"][0]["results"][0];
  EXPECT_EQ(e["verdict"], "fail") << e["reason"];
  EXPECT_EQ(e["party"], "client") << e["reason"];
  EXPECT_EQ(e["requirement"], "R6081-5.2-01") << e["reason"];
  EXPECT_EQ(broken.exit_code, 1) << broken.err;
}

// A client whose secure launch keys its MAC with another secret
// (tests/interop/wrong_secret_client.json) fails S, named from its own RS.
TEST_F(InteropLabTest, AClientSigningWithAnotherSecretFailsSecureQualificationAndIsNamed) {
  TempDir dir;
  const InteropRun r = interop_run({"--client", std::string(TEREDO_SOURCE_DIR) + "/tests/interop/wrong_secret_client.json",
                                    "--server", "reference", "--relay", "reference", "--nat", "full-cone",
                                    "--scenarios", "S"},
                                   dir.path());
  ASSERT_TRUE(r.interop.is_object()) << r.err;
  const json& s = r.interop["cells"][0]["results"][0];
  EXPECT_EQ(s["verdict"], "fail") << s["reason"];
  EXPECT_EQ(s["party"], "client") << s["reason"];
  EXPECT_EQ(s["requirement"], "R4380-5.2.2-05") << s["reason"];
  EXPECT_EQ(s["frames"][0]["capture"], "s-client-lan.pcap");
  EXPECT_EQ(r.exit_code, 1) << r.err;
}

TEST_F(InteropLabTest, TwoRunsOfTheSamePlanDrawTheSameGrid) {
  const std::vector<std::string> plan = {"--client", "reference,miredo", "--server", "reference", "--relay",
                                         "miredo", "--nat", "restricted-cone", "--scenarios", "QN"};
  TempDir first, second;
  const InteropRun a = interop_run(plan, first.path());
  const InteropRun b = interop_run(plan, second.path());
  ASSERT_TRUE(a.interop.is_object() && b.interop.is_object());
  EXPECT_FALSE(grid_text(a.interop).empty());
  EXPECT_EQ(grid_text(a.interop), grid_text(b.interop));
  EXPECT_EQ(a.exit_code, b.exit_code);
}

}  // namespace
}  // namespace teredo::conformance::interop
