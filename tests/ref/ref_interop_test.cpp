// teredo-ref against Debian's Miredo (label interop: root + miredo +
// miredo-server). A Miredo client behind each NAT profile qualifies with
// teredo-ref server and pings the native IPv6 host through teredo-ref relay,
// both ways; teredo-ref relay serves a Miredo client of miredo-server;
// teredo-ref client behind each NAT profile qualifies with miredo-server (or
// refuses behind the symmetric one) and pings through teredo-ref relay, and
// through Miredo's relay both ways.
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
  // Native IPv6 ready (DAD done) before any daemon or ping uses it, as the
  // other tests here do: a still-tentative address fails the first ping.
  ASSERT_TRUE(lab->wait_ipv6_ready());
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
  // Native IPv6 ready (DAD done) before any daemon or ping uses it, as the
  // other tests here do: a still-tentative address fails the first ping.
  ASSERT_TRUE(lab->wait_ipv6_ready());
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

// Waits until something listens on UDP `port` in `host` (Miredo has no
// readiness line of its own).
bool wait_udp_port(Lab& lab, const std::string& host, int port) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto r = lab.exec(host, {"ss", "-H", "-u", "-l", "-n", "sport = :" + std::to_string(port)});
    if (r.exit_code == 0 && !r.output.empty()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// Miredo's relay is ready once its TUN routes the Teredo prefix.
bool wait_for_teredo_route(Lab& lab, const std::string& host) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto r = lab.exec(host, {"ip", "-6", "route", "show", "2001::/32"});
    if (r.exit_code == 0 && r.output.find("2001::/32") != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// teredo-ref client against Debian's miredo-server behind each NAT profile,
// reaching the native host through teredo-ref relay.
class RefClientMiredoServerTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
    if (!miredo_installed()) GTEST_SKIP() << "Debian's miredo and miredo-server are not installed";
  }
};

TEST_P(RefClientMiredoServerTest, QualifiesWithMiredoServerAndPingsThroughRefRelay) {
  const Case& c = GetParam();
  netns::Topology t = netns::load_topology(topology_path("client-nat"));
  ASSERT_TRUE(netns::apply_nat_profile(c.profile, *t.hosts.at("nat").nat));
  auto lab = Lab::up(t);
  ASSERT_TRUE(lab->wait_ipv6_ready());
  const Daemon server = start_miredo(*lab, "server", "miredo-server", "ServerBindAddress 203.0.113.1\n", "miredo-server");
  ASSERT_TRUE(wait_udp_port(*lab, "server", 3544)) << server.output();
  const Daemon relay = start_ref(*lab, "relay", {"relay", "--bind", "198.51.100.20", "--interface",
                                                 lab->prefix() + "-rtun", "-v"},
                                 "ref-relay");
  const RefClient client = start_ref_client(*lab, "client", "ref-client");
  const auto state = wait_client_state(client.state_file, client_settled, 8s);
  ASSERT_TRUE(state) << client.daemon.output();
  const auto [qualified, out, back, summary] =
      client_outcome(*lab, c.profile, *state, "miredo-server", "teredo-ref relay");
  RecordProperty("outcome", summary);
  std::cout << summary << std::endl;
  if (c.profile == "symmetric") {
    EXPECT_EQ(state->state, "offline") << client.daemon.output();
    EXPECT_EQ(state->nat, "symmetric") << client.daemon.output();
    return;
  }
  if (!c.ping_required) return;
  ASSERT_TRUE(qualified) << client.daemon.output() << "\nmiredo-server:\n" << server.output();
  EXPECT_EQ(teredo_address_on(*lab, "client", client.tun), state->address);
  EXPECT_TRUE(out) << summary << "\nclient:\n" << client.daemon.output() << "\nrelay:\n" << relay.output();
  EXPECT_TRUE(back) << summary << "\nclient:\n" << client.daemon.output() << "\nrelay:\n" << relay.output();
}

INSTANTIATE_TEST_SUITE_P(Profiles, RefClientMiredoServerTest, ::testing::ValuesIn(kNatProfileCases),
                         [](const auto& param_info) { return teredo::test::profile_test_name(param_info.param); });

class RefClientMiredoRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
    if (!miredo_installed()) GTEST_SKIP() << "Debian's miredo and miredo-server are not installed";
  }
};

// Debian's Miredo as the relay (RelayType relay), teredo-ref server and
// then miredo-server as the client's server.
TEST_F(RefClientMiredoRelayTest, RefClientReachesNativeHostThroughMiredoRelay) {
  for (const bool miredo_server : {false, true}) {
    netns::Topology t = netns::load_topology(topology_path("client-nat"));
    ASSERT_TRUE(netns::apply_nat_profile("port-restricted-cone", *t.hosts.at("nat").nat));
    auto lab = Lab::up(t);
    ASSERT_TRUE(lab->wait_ipv6_ready());
    const Daemon server = miredo_server ? start_miredo(*lab, "server", "miredo-server",
                                                       "ServerBindAddress 203.0.113.1\n", "miredo-server")
                                        : start_ref(*lab, "server", {"server", "--primary", "203.0.113.1"}, "ref-server");
    ASSERT_TRUE(wait_udp_port(*lab, "server", 3544)) << server.output();
    const Daemon relay = start_miredo(*lab, "relay", "miredo-relay",
                                      "RelayType relay\nInterfaceName " + lab->prefix() +
                                          "-rtun\nBindAddress 198.51.100.20\n");
    ASSERT_TRUE(wait_for_teredo_route(*lab, "relay")) << relay.output();
    const RefClient client = start_ref_client(*lab, "client", "ref-client");
    const auto state = wait_client_state(client.state_file, client_settled, 8s);
    ASSERT_TRUE(state && state->state == "qualified") << client.daemon.output();
    const bool out = ping6(*lab, "client", "2001:db8:1::10");
    const bool back = ping6(*lab, "v6host", state->address);
    const std::string summary = std::string("teredo-ref client of ") + (miredo_server ? "miredo-server" : "teredo-ref server") +
                                ": ping6 client->native " + (out ? "ok" : "failed") + ", native->client " +
                                (back ? "ok" : "failed") + " through Miredo's relay";
    std::cout << summary << std::endl;
    EXPECT_TRUE(out) << summary << "\nclient:\n" << client.daemon.output() << "\nrelay:\n" << relay.output();
    EXPECT_TRUE(back) << summary << "\nclient:\n" << client.daemon.output() << "\nrelay:\n" << relay.output();
  }
}

}  // namespace
}  // namespace teredo::reftest
