// teredo-ref against Debian's Miredo (label interop: root + miredo +
// miredo-server). A Miredo client behind each NAT profile qualifies with
// teredo-ref server and pings the native IPv6 host through teredo-ref relay,
// both ways; and teredo-ref relay serves a Miredo client of miredo-server.
#include <gtest/gtest.h>

#include "common/nat_profiles.hpp"

#include <thread>

#include "ref_harness.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::reftest {
namespace {

using netns::Lab;

using Case = teredo::test::NatProfileCase;
using teredo::test::kNatProfileCases;

class RefInteropTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
    if (!miredo_installed()) GTEST_SKIP() << "Debian's miredo and miredo-server are not installed";
  }
};

TEST_P(RefInteropTest, MiredoClientQualifiesWithRefServerAndPingsThroughRefRelay) {
  const Case& c = GetParam();
  netns::Topology t = netns::load_topology(topology_path("client-nat"));
  ASSERT_TRUE(netns::apply_nat_profile(c.profile, *t.hosts.at("nat").nat));
  auto lab = Lab::up(t);
  const std::string tun = lab->prefix() + "-tun";
  // The server host has native IPv6 (eth1): it forwards the Miredo client's
  // direct connectivity test to the native host; the native host answers
  // through the relay (its default route).
  const Daemon server = start_ref(*lab, "server", {"server", "--primary", "203.0.113.1", "-v"}, "ref-server");
  ASSERT_NE(server.output().find("forward-native raw-socket"), std::string::npos) << server.output();
  const Daemon relay = start_ref(*lab, "relay", {"relay", "--bind", "198.51.100.20", "--interface", tun, "-v"},
                                 "ref-relay");
  const Daemon client = start_miredo(*lab, "client", "miredo-client",
                                     "RelayType client\nInterfaceName " + tun + "\nServerAddress 203.0.113.1\n");

  const auto address = wait_for_teredo_address(*lab, "client", tun);
  const bool out = address && ping6(*lab, "client", "2001:db8:1::10");
  const bool back = address && ping6(*lab, "v6host", *address);
  const std::string summary = "NAT " + c.profile + ": Miredo client " +
                              (address ? "qualified as " + *address : std::string("did not qualify")) +
                              " with teredo-ref server; ping6 client->native " + (out ? "ok" : "failed") +
                              ", native->client " + (back ? "ok" : "failed") + " through teredo-ref relay";
  RecordProperty("outcome", summary);
  std::cout << summary << std::endl;

  ASSERT_TRUE(address) << "Miredo qualifies behind every profile here (it never probes for symmetric NATs)\n"
                       << client.output() << "\nserver log:\n" << server.output();
  EXPECT_NE(address->find(":39cc:9bfe"), std::string::npos) << *address;  // ~198.51.100.1
  EXPECT_NE(address->find("2001:0:cb00:7101:"), std::string::npos) << *address;  // our prefix
  EXPECT_NE(server.output().find("action rs_answered"), std::string::npos) << server.output();
  if (c.ping_required) {
    EXPECT_TRUE(out) << summary << "\nrelay log:\n" << relay.output() << "\nserver log:\n" << server.output();
    EXPECT_TRUE(back) << summary << "\nrelay log:\n" << relay.output() << "\nserver log:\n" << server.output();
    // The direct connectivity test went out through the server's native side.
    EXPECT_NE(server.output().find("action forwarded_to_ipv6 R4380-5.3.1-12"), std::string::npos) << server.output();
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, RefInteropTest, ::testing::ValuesIn(kNatProfileCases),
                         [](const auto& param_info) { return teredo::test::profile_test_name(param_info.param); });

class RefRelayMiredoInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
    if (!miredo_installed()) GTEST_SKIP() << "Debian's miredo and miredo-server are not installed";
  }
};

TEST_F(RefRelayMiredoInteropTest, RefRelayServesMiredoClientOfMiredoServer) {
  netns::Topology t = netns::load_topology(topology_path("client-nat"));
  ASSERT_TRUE(netns::apply_nat_profile("port-restricted-cone", *t.hosts.at("nat").nat));
  auto lab = Lab::up(t);
  const std::string tun = lab->prefix() + "-tun";
  const Daemon server = start_miredo(*lab, "server", "miredo-server", "ServerBindAddress 203.0.113.1\n", "miredo-server");
  const Daemon relay = start_ref(*lab, "relay", {"relay", "--bind", "198.51.100.20", "--interface", tun, "-v"},
                                 "ref-relay");
  const Daemon client = start_miredo(*lab, "client", "miredo-client",
                                     "RelayType client\nInterfaceName " + tun + "\nServerAddress 203.0.113.1\n");
  const auto address = wait_for_teredo_address(*lab, "client", tun);
  ASSERT_TRUE(address) << client.output() << "\n" << server.output();
  EXPECT_TRUE(ping6(*lab, "v6host", *address)) << "native->client\nrelay log:\n" << relay.output();
  EXPECT_TRUE(ping6(*lab, "client", "2001:db8:1::10")) << "client->native\nrelay log:\n" << relay.output();
  EXPECT_NE(relay.output().find("action delivered_to_ipv6 R4380-5.4.2-04"), std::string::npos) << relay.output();
  EXPECT_NE(relay.output().find("action bubble_sent R4380-5.4.1-05"), std::string::npos) << relay.output();
}

}  // namespace
}  // namespace teredo::reftest
