// The kit's lab facts against the topology files the lab is built from: a
// renamed address in either place fails here, not in a case at run time.
#include "kit/lab_facts.hpp"

#include <gtest/gtest.h>

#include <set>

namespace teredo::conformance::kit::lab {
namespace {

netns::Topology topology(const std::string& name) {
  return netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/" + name + ".json");
}

TEST(LabFacts, EveryTopologyBearsOutItsFacts) {
  std::set<std::string> names;
  for (const Fact& f : facts()) names.insert(f.topology);
  EXPECT_EQ(names, (std::set<std::string>{"server-only", "client-nat", "relay-only", "client-lab"}));
  for (const auto& name : names) {
    const auto t = topology(name);
    EXPECT_EQ(t.name, name);
    EXPECT_TRUE(lab_fact_mismatches(t).empty()) << name << ": " << lab_fact_mismatches(t).front();
  }
}

TEST(LabFacts, AMovedAddressIsReported) {
  auto t = topology("server-only");
  auto& addresses = t.hosts.at("server").interfaces.at("eth0").addresses;
  ASSERT_FALSE(addresses.empty());
  addresses.erase(addresses.begin() + 1);  // 203.0.113.2
  const auto m = lab_fact_mismatches(t);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NE(m[0].find(kServerSecondary), std::string::npos) << m[0];
}

}  // namespace
}  // namespace teredo::conformance::kit::lab
