// Each NAT profile behaves exactly as declared, seen from outside the NAT box
// by the independent probe; and the scripted events do what they say.
#include <gtest/gtest.h>

#include <thread>

#include "lab_probe.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::labtest {
namespace {

using namespace std::chrono_literals;

const std::string kClientNat = std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/client-nat.json";

struct Expected {
  std::string profile, mapping, filtering;
};
void PrintTo(const Expected& e, std::ostream* os) { *os << e.profile; }

// RFC 4787 §4.1 and §5 name the behaviours; the classic NAT names map onto
// them as RFC 4380 §2.5-2.6 and RFC 3489 describe (full cone: independent
// mapping and filtering; restricted: address-dependent filtering; port
// restricted: address-and-port-dependent filtering; symmetric: the mapping
// itself depends on address and port). Linux conntrack keeps the source port
// (independent mapping) and admits replies only (port-dependent filtering).
const Expected kProfiles[] = {
    {"full-cone", "endpoint-independent", "endpoint-independent"},
    {"restricted-cone", "endpoint-independent", "address-dependent"},
    {"port-restricted-cone", "endpoint-independent", "address-and-port-dependent"},
    {"symmetric", "address-and-port-dependent", "address-and-port-dependent"},
    {"symmetric-sequential", "address-and-port-dependent", "address-and-port-dependent"},
    {"linux-masquerade", "endpoint-independent", "address-and-port-dependent"},
};

std::unique_ptr<netns::Lab> client_lab(const std::string& profile,
                                       const std::function<void(netns::NatConfig&)>& tweak = {}) {
  netns::Topology t = netns::load_topology(kClientNat);
  netns::NatConfig& nat = *t.hosts.at("nat").nat;
  EXPECT_TRUE(netns::apply_nat_profile(profile, nat));
  if (tweak) tweak(nat);
  return netns::Lab::up(t);
}

class NatProfileTest : public ::testing::TestWithParam<Expected> {};

TEST_P(NatProfileTest, ProbeSeesTheDeclaredMappingAndFiltering) {
  if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
  const Expected& e = GetParam();
  auto lab = client_lab(e.profile);
  const Classification c = classify(*lab, "client", "192.0.2.10", "server", "203.0.113.1", "203.0.113.2", 5000);
  EXPECT_EQ(c.mapping, e.mapping) << e.profile;
  EXPECT_EQ(c.filtering, e.filtering) << e.profile;
  EXPECT_EQ(c.mapped.address, "198.51.100.1") << "the mapped address is the NAT's outside address";
}

INSTANTIATE_TEST_SUITE_P(Profiles, NatProfileTest, ::testing::ValuesIn(kProfiles),
                         [](const auto& param_info) {
                           std::string name = param_info.param.profile;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

class NatEventTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
  }
};

TEST_F(NatEventTest, RebindMovesTheMappingToANewPort) {
  auto lab = client_lab("full-cone");
  LabSocket server(*lab, "server", {"203.0.113.1", 4000});
  LabSocket client(*lab, "client", {"192.0.2.10", 5000});
  client.send_to({"203.0.113.1", 4000}, "before");
  const auto before = server.receive("before");
  ASSERT_TRUE(before);
  ASSERT_NE(lab->nat_command("nat", "rebind").find("\"rebound\":1"), std::string::npos);
  client.send_to({"203.0.113.1", 4000}, "after");
  const auto after = server.receive("after");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->address, before->address);
  EXPECT_NE(after->port, before->port) << "rebind must change the external port";
  server.send_to(*before, "to-old");
  EXPECT_FALSE(client.receive("to-old")) << "the old mapping must be gone";
  server.send_to(*after, "to-new");
  EXPECT_TRUE(client.receive("to-new"));
}

TEST_F(NatEventTest, ExpireDropsEveryMapping) {
  auto lab = client_lab("full-cone");
  LabSocket server(*lab, "server", {"203.0.113.1", 4000});
  LabSocket client(*lab, "client", {"192.0.2.10", 5000});
  client.send_to({"203.0.113.1", 4000}, "open");
  const auto mapped = server.receive("open");
  ASSERT_TRUE(mapped);
  ASSERT_NE(lab->nat_command("nat", "expire").find("\"expired\":1"), std::string::npos);
  server.send_to(*mapped, "late");
  EXPECT_FALSE(client.receive("late"));
}

TEST_F(NatEventTest, IdleMappingExpiresAfterItsLifetime) {
  auto lab = client_lab("full-cone", [](netns::NatConfig& n) { n.mapping_lifetime_ms = 300; });
  LabSocket server(*lab, "server", {"203.0.113.1", 4000});
  LabSocket client(*lab, "client", {"192.0.2.10", 5000});
  client.send_to({"203.0.113.1", 4000}, "open");
  const auto mapped = server.receive("open");
  ASSERT_TRUE(mapped);
  server.send_to(*mapped, "in-time");
  EXPECT_TRUE(client.receive("in-time"));
  std::this_thread::sleep_for(600ms);
  server.send_to(*mapped, "too-late");
  EXPECT_FALSE(client.receive("too-late"));
}

TEST_F(NatEventTest, BlackoutDropsTrafficForItsDuration) {
  auto lab = client_lab("full-cone");
  LabSocket server(*lab, "server", {"203.0.113.1", 4000});
  LabSocket client(*lab, "client", {"192.0.2.10", 5000});
  ASSERT_NE(lab->nat_command("nat", "blackout 700").find("700"), std::string::npos);
  const auto start = std::chrono::steady_clock::now();
  client.send_to({"203.0.113.1", 4000}, "dark");
  EXPECT_FALSE(server.receive("dark", 200));
  std::this_thread::sleep_until(start + 900ms);
  client.send_to({"203.0.113.1", 4000}, "light");
  EXPECT_TRUE(server.receive("light"));
}

TEST_F(NatEventTest, TimelineRebindsOnSchedule) {
  auto lab = client_lab("full-cone", [](netns::NatConfig& n) { n.timeline.push_back({400, "rebind", 0}); });
  LabSocket server(*lab, "server", {"203.0.113.1", 4000});
  LabSocket client(*lab, "client", {"192.0.2.10", 5000});
  client.send_to({"203.0.113.1", 4000}, "early");
  const auto early = server.receive("early");
  ASSERT_TRUE(early);
  std::this_thread::sleep_for(700ms);
  client.send_to({"203.0.113.1", 4000}, "later");
  const auto later = server.receive("later");
  ASSERT_TRUE(later);
  EXPECT_NE(later->port, early->port);
}

// Two clients behind the same NAT reach each other through its outside
// address only when hairpinning is on (RFC 4787 REQ-9).
void hairpin_case(bool hairpinning) {
  netns::Topology t = netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/same-nat.json");
  t.hosts.at("nat").nat->hairpinning = hairpinning;
  netns::apply_nat_profile("full-cone", *t.hosts.at("nat").nat);
  auto lab = netns::Lab::up(t);
  LabSocket server(*lab, "server", {"203.0.113.1", 4000});
  LabSocket a(*lab, "client-a", {"192.0.2.10", 5000});
  LabSocket b(*lab, "client-b", {"192.0.2.11", 5001});
  a.send_to({"203.0.113.1", 4000}, "a");
  b.send_to({"203.0.113.1", 4000}, "b");
  const auto ma = server.receive("a"), mb = server.receive("b");
  ASSERT_TRUE(ma && mb);
  a.send_to(*mb, "hairpin");
  const auto got = b.receive("hairpin");
  if (hairpinning) {
    ASSERT_TRUE(got) << "hairpinning is on: the packet must come back inside";
    EXPECT_EQ(*got, *ma) << "REQ-9: the source is the sender's external endpoint";
  } else {
    EXPECT_FALSE(got) << "hairpinning is off";
  }
}

TEST_F(NatEventTest, HairpinWorksWhenOn) { hairpin_case(true); }
TEST_F(NatEventTest, HairpinFailsWhenOff) { hairpin_case(false); }

}  // namespace
}  // namespace teredo::labtest
