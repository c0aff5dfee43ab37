// Fuzz findings kept as regression cases (conformance/fuzz/regressions.hpp):
// what `fuzz promote` writes from a finding.json, the case `run` makes of
// it, refusals of what cannot be a regression, and every regression file
// committed under conformance/regressions loading as a case that cites a
// catalog requirement.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/catalog.hpp"
#include "fuzz/regressions.hpp"

namespace {

using nlohmann::json;
using teredo::conformance::CaseSpec;
using teredo::conformance::Catalog;
using teredo::conformance::fuzz::regression_case;
using teredo::conformance::fuzz::regression_from_finding;
namespace fs = std::filesystem;

json relay_finding() {
  return {{"id", "0001-wire_invariant"},
          {"role", "relay"},
          {"oracle", "wire_invariant"},
          {"signature", "teredo_destination_not_global"},
          {"requirement", "R4380-5.4.1-01"},
          {"detail", "a packet to 2001:0:cb00:7101:0:347a:3fa7:9cf8 ..."},
          {"seed", 3},
          {"iut", {{"name", "mutant"}, {"adapter", "/tmp/m.json"}}},
          {"minimization", {{"reproduced", true}}},
          {"datagrams",
           {{{"hex", "5c6e206c"},
             {"built_from", "native_to_teredo"},
             {"mutations", {"embedded_ipv4=192.88.99.7:52101"}},
             {"native_to", "2001:0:cb00:7101:0:347a:3fa7:9cf8"},
             {"native_port", 26146}}}}};
}

TEST(Regression, APromotedFindingKeepsItsDatagramsWhereTheyWentAndItsRequirement) {
  const json r = regression_from_finding(relay_finding(), "");
  EXPECT_EQ(r["id"], "relay-teredo-destination-not-global");  // from the role and the signature
  EXPECT_EQ(r["role"], "relay");
  EXPECT_EQ(r["requirement"], "R4380-5.4.1-01");
  EXPECT_EQ(r["found"]["seed"], 3);
  ASSERT_EQ(r["datagrams"].size(), 1u);
  EXPECT_EQ(r["datagrams"][0]["native_to"], "2001:0:cb00:7101:0:347a:3fa7:9cf8");
  EXPECT_EQ(r["datagrams"][0]["native_port"], 26146);

  const CaseSpec spec = regression_case(r, "r.json");
  EXPECT_EQ(spec.id, "regression.relay-teredo-destination-not-global");
  EXPECT_EQ(spec.role, "relay");
  EXPECT_EQ(spec.topology, "relay-only");
  EXPECT_EQ(spec.requirements, std::vector<std::string>{"R4380-5.4.1-01"});
  EXPECT_TRUE(static_cast<bool>(spec.body));
  ASSERT_EQ(spec.captures.size(), 2u);  // the relay's IPv4 side and its native side
  EXPECT_EQ(spec.captures[1].host, "v6host");
  EXPECT_NE(spec.description.find("1 datagram(s)"), std::string::npos) << spec.description;
}

TEST(Regression, AFindingNoRequirementNamesCitesTheRolesRuleForMalformedInput) {
  json crash = relay_finding();
  crash["oracle"] = "iut_died";
  crash["signature"] = "killed by SIGSEGV";
  crash["requirement"] = nullptr;
  EXPECT_EQ(regression_from_finding(crash, "x")["requirement"], "R4380-5.4.2-01");
  crash["role"] = "server";
  crash["datagrams"][0].erase("native_to");
  const json server = regression_from_finding(crash, "");
  EXPECT_EQ(server["requirement"], "R4380-5.3.1-02");
  EXPECT_EQ(server["id"], "server-killed-by-sigsegv");
  EXPECT_EQ(regression_case(server, "s.json").topology, "server-only");

  // A client's crash: the client rule for malformed input (§5.2.3), its lab
  // (client-lab, full-cone NAT), what it sent looked for on its own link.
  json client_crash = crash;
  client_crash["role"] = "client";
  const json client = regression_from_finding(client_crash, "");
  EXPECT_EQ(client["requirement"], "R4380-5.2.3-01");
  const CaseSpec spec = regression_case(client, "c.json");
  EXPECT_EQ(spec.topology, "client-lab");
  EXPECT_EQ(spec.nat_profile, std::optional<std::string>("full-cone"));
  ASSERT_EQ(spec.captures.size(), 1u);
  EXPECT_EQ(spec.captures[0].host, "client");
}

TEST(Regression, WhatCannotBeARegressionIsRefusedNamingWhy) {
  json f = relay_finding();
  f["minimization"]["reproduced"] = false;
  EXPECT_THROW((void)regression_from_finding(f, ""), std::runtime_error);
  EXPECT_THROW((void)regression_from_finding(relay_finding(), "Not An ID"), std::runtime_error);
  json host_relay = relay_finding();
  host_relay["role"] = "host-relay";  // no rig replays it
  EXPECT_THROW((void)regression_from_finding(host_relay, ""), std::runtime_error);

  json r = regression_from_finding(relay_finding(), "x");
  r["datagrams"][0]["hex"] = "zz";
  try {
    (void)regression_case(r, "bad.json");
    FAIL() << "bad hex accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
  r["datagrams"] = json::array();
  EXPECT_THROW((void)regression_case(r, "empty.json"), std::runtime_error);
  r = regression_from_finding(relay_finding(), "x");
  r["datagrams"][0]["native_to"] = "not-an-address";
  EXPECT_THROW((void)regression_case(r, "to.json"), std::runtime_error);
}

TEST(Regression, EveryCommittedRegressionLoadsAsACaseCitingTheCatalog) {
  const Catalog catalog = Catalog::load(std::string(TEREDO_SOURCE_DIR) + "/conformance/catalog/requirements.json");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(std::string(TEREDO_SOURCE_DIR) + "/conformance/regressions")) {
    if (e.path().extension() != ".json") continue;
    ++files;
    std::ifstream in(e.path());
    const json j = json::parse(in);
    const CaseSpec spec = regression_case(j, e.path().string());
    EXPECT_EQ(spec.id, "regression." + e.path().stem().string()) << "the file is named after its ID";
    for (const auto& r : spec.requirements) EXPECT_NE(catalog.find(r), nullptr) << e.path() << " cites " << r;
  }
  EXPECT_GE(files, 1u);
}

}  // namespace
