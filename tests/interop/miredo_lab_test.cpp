// The lab against an implementation nobody here wrote: Debian's miredo-server
// (two consecutive addresses), miredo as a client behind each NAT profile,
// and miredo as a relay with a native IPv6 host behind it. The test records
// what the Miredo client concludes and the address it gets, and requires
// ping6 both ways through the Miredo relay behind the cone NATs.
#include <gtest/gtest.h>

#include "common/nat_profiles.hpp"
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <thread>

#include "teredo/netns/lab.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using teredo::netns::Lab;

using Case = teredo::test::NatProfileCase;
using teredo::test::kNatProfileCases;

std::optional<std::string> teredo_address(Lab& lab, const std::string& host, const std::string& ifname) {
  const auto r = lab.exec(host, {"ip", "-6", "-o", "addr", "show", "dev", ifname});
  static const std::regex kTeredo("inet6 (2001:0:[0-9a-f:]+)/");
  std::smatch m;
  if (r.exit_code == 0 && std::regex_search(r.output, m, kTeredo)) return m[1].str();
  return std::nullopt;
}

bool ping(Lab& lab, const std::string& host, const std::string& address) {
  return lab.exec(host, {"ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", address}).exit_code == 0;
}

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

class MiredoInteropTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    if (!fs::exists("/usr/sbin/miredo") || !fs::exists("/usr/sbin/miredo-server")) {
      GTEST_SKIP() << "Debian's miredo and miredo-server are not installed";
    }
  }
};

TEST_P(MiredoInteropTest, ClientQualifiesAndPingsThroughTheMiredoRelay) {
  const Case& c = GetParam();
  teredo::netns::Topology t =
      teredo::netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/client-nat.json");
  ASSERT_TRUE(teredo::netns::apply_nat_profile(c.profile, *t.hosts.at("nat").nat));
  auto lab = Lab::up(t);
  const std::string dir = lab->run_dir();
  const std::string tun = lab->prefix() + "-tun";  // the run's prefix names the TUN devices too
  // Each daemon gets its own pid file (the default one collides) and runs in
  // the foreground (-f); see ../shared/ANCHORS.md §8.
  lab->spawn("server", {"miredo-server", "-f", "-c", write(dir + "/server.conf", "ServerBindAddress 203.0.113.1\n"),
                        "-p", dir + "/server.pid"},
             dir + "/miredo-server.log");
  lab->spawn("relay", {"miredo", "-f", "-c",
                       write(dir + "/relay.conf", "RelayType cone\nInterfaceName " + tun + "\nBindAddress 198.51.100.20\n"),
                       "-p", dir + "/relay.pid"},
             dir + "/miredo-relay.log");
  lab->spawn("client", {"miredo", "-f", "-c",
                        write(dir + "/client.conf",
                              "RelayType client\nInterfaceName " + tun + "\nServerAddress 203.0.113.1\n"),
                        "-p", dir + "/client.pid"},
             dir + "/miredo-client.log");

  std::optional<std::string> address;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!address && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    address = teredo_address(*lab, "client", tun);
  }
  const bool out = address && ping(*lab, "client", "2001:db8:1::10");
  const bool back = address && ping(*lab, "v6host", *address);
  const std::string summary = "NAT " + c.profile + ": Miredo client " +
                              (address ? "qualified as " + *address : std::string("did not qualify")) +
                              "; ping6 client->native " + (out ? "ok" : "failed") + ", native->client " +
                              (back ? "ok" : "failed");
  RecordProperty("miredo_outcome", summary);
  std::cout << summary << std::endl;

  ASSERT_TRUE(address) << "a Miredo client qualifies behind every profile here (it never probes for "
                          "symmetric NATs, ../shared/ANCHORS.md §8)";
  // The mapped IPv4 in the address is the NAT's outside address, bit-inverted
  // (RFC 4380 §4): 198.51.100.1 -> 39cc:9bfe.
  EXPECT_NE(address->find(":39cc:9bfe"), std::string::npos) << *address;
  if (c.ping_required) {
    EXPECT_TRUE(out) << summary;
    EXPECT_TRUE(back) << summary;
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, MiredoInteropTest, ::testing::ValuesIn(kNatProfileCases),
                         [](const auto& param_info) { return teredo::test::profile_test_name(param_info.param); });

}  // namespace
