// `teredo-conform interop` end to end (label interop: root, network
// namespaces, Debian's miredo and miredo-server): a reduced plan of teredo-ref
// and Miredo behind a port-restricted cone NAT passes Q, N and D; a
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
