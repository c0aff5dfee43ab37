// The case definitions are checked before any run (case_spec_problems): a
// case whose NAT profile is misspelt, or names a NAT its topology lacks,
// would silently run behind the topology's default NAT and give a verdict
// about a lab it never had. The registry of teredo-conform is checked by
// `run` and `list`; this test shows the check catching each kind of mistake.
#include <gtest/gtest.h>

#include <string>

#include "engine/catalog.hpp"
#include "engine/case.hpp"
#include "engine/runner.hpp"

namespace {

using namespace teredo::conformance;

const std::string kTopologies = std::string(TEREDO_SOURCE_DIR) + "/netns/topologies";

CaseSpec good(const std::string& id) {
  CaseSpec c;
  c.id = id;
  c.role = "client";
  c.requirements = {"R4380-5.2.1-01"};
  c.topology = "client-nat";
  c.nat_profile = "symmetric";
  c.captures = {{"lan", "client", "eth0"}};
  c.body = [](CaseRun&) {};
  return c;
}

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += p + "\n";
  return out;
}

class CaseSpecCheck : public ::testing::Test {
 protected:
  const Catalog catalog = Catalog::load(Catalog::default_path());
  std::vector<std::string> check(std::vector<CaseSpec> cases) const {
    return case_spec_problems(cases, catalog, kTopologies);
  }
};

TEST_F(CaseSpecCheck, AWellFormedCaseHasNoProblem) {
  EXPECT_TRUE(check({good("client.x.a"), good("client.x.b")}).empty()) << joined(check({good("client.x.a")}));
}

TEST_F(CaseSpecCheck, AMisspeltOrUnusableNatProfileIsRefused) {
  CaseSpec misspelt = good("client.x.a");
  misspelt.nat_profile = "symetric";
  const auto a = check({misspelt});
  ASSERT_EQ(a.size(), 1u) << joined(a);
  EXPECT_NE(a[0].find("unknown NAT profile 'symetric'"), std::string::npos) << a[0];
  CaseSpec no_nat = good("server.x.a");
  no_nat.role = "server";
  no_nat.topology = "server-only";
  no_nat.captures = {{"driver", "driver", "eth0"}};
  const auto b = check({no_nat});
  ASSERT_EQ(b.size(), 1u) << joined(b);
  EXPECT_NE(b[0].find("has no NAT"), std::string::npos) << b[0];
}

TEST_F(CaseSpecCheck, EveryOtherMistakeIsNamed) {
  CaseSpec c = good("client.x.a");
  c.role = "clinet";
  c.requirements = {"R4380-9.9.9-99"};
  c.capabilities = {"secure_qualifcation"};
  c.captures = {{"lan", "nohost", "eth0"}};
  c.body = nullptr;
  const std::string all = joined(check({c, good("client.x.a")}));
  for (const char* expected : {"used twice", "unknown role 'clinet'", "R4380-9.9.9-99 is not in the catalog",
                               "unknown capability 'secure_qualifcation'", "has no body", "host 'nohost'"}) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << "\n" << all;
  }
  CaseSpec lost = good("client.x.c");
  lost.topology = "no-such-topology";
  EXPECT_NE(joined(check({lost})).find("does not load"), std::string::npos);
}

}  // namespace
