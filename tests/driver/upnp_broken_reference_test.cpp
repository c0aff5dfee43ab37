// The RFC 6081 §5.6.3 (hairpinning with UPnP) and §5.3.1/§5.3.3 (persisted
// UPnP port) client cases can fail: run against teredo-ref launched without
// the behaviour (tests/driver/iuts/upnp_hairpinning_broken_client.json: the
// combined launch has no --upnp, the UPnP launch no state file), they fail
// or warn on the right requirement; against the reference they pass. An
// adapter that declares only one of the two capabilities the combined cases
// need is not-applicable for them, even with the combined launch key
// (tests/driver/iuts/hairpinning_only_client.json): never inferred.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conform_run.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kIuts = std::string(TEREDO_SOURCE_DIR) + "/tests/driver/iuts/";

class UpnpBrokenReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    dir_ = fs::temp_directory_path() / ("teredo-upnp-broken-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Runs the cases (glob) against `iut`; returns the report's case entries.
  json run(const std::string& iut, const std::string& cases, const std::string& name) {
    return teredo::test::run_cases(dir_, name, iut, cases, {"--role", "client", "--jobs", "2"});
  }

  static const json* find(const json& cases, const std::string& id) {
    for (const auto& c : cases) {
      if (c["case_id"] == id) return &c;
    }
    return nullptr;
  }
  // The outcome of `requirement` in the case (empty: not asserted).
  static std::string outcome(const json& c, const std::string& requirement) {
    return teredo::test::outcome_of(c, requirement);
  }
  static std::string outcomes(const json& cases) { return teredo::test::outcomes(cases); }

  fs::path dir_;
};

constexpr const char* kHairpinningCases = "client.upnp-hairpinning.*";
constexpr const char* kPersistedCase = "client.upnp.persisted-port-after-crash";

TEST_F(UpnpBrokenReferenceTest, TheReferencePasses) {
  json cases = run("reference", kHairpinningCases, "reference");
  for (const auto& c : run("reference", kPersistedCase, "reference-persisted")) cases.push_back(c);
  ASSERT_EQ(cases.size(), 3u) << outcomes(cases);
  for (const auto& c : cases) EXPECT_EQ(c["verdict"], "pass") << outcomes(cases);
}

TEST_F(UpnpBrokenReferenceTest, WithoutUpnpCallsOrPersistenceTheCasesFailOrWarn) {
  const std::string broken = kIuts + "upnp_hairpinning_broken_client.json";
  json cases = run(broken, kHairpinningCases, "broken");
  for (const auto& c : run(broken, kPersistedCase, "broken-persisted")) cases.push_back(c);
  ASSERT_EQ(cases.size(), 3u) << outcomes(cases);
  // No AddPortMapping before qualification: R6081-5.6.3-01 fails in both
  // §5.6.3 cases; nothing else about the mapping is judged (there is none).
  for (const char* id : {"client.upnp-hairpinning.single-nat", "client.upnp-hairpinning.nested-nat"}) {
    const json* c = find(cases, id);
    ASSERT_NE(c, nullptr) << id << "\n" << outcomes(cases);
    EXPECT_EQ((*c)["verdict"], "fail") << outcomes(cases);
    EXPECT_EQ(outcome(*c, "R6081-5.6.3-01"), "fail") << outcomes(cases);
    EXPECT_EQ(outcome(*c, "R6081-5.6.3-03"), "inconclusive") << outcomes(cases);
  }
  // No state file: after the SIGKILL the new instance knows no old port, so
  // it deletes nothing: the SHOULD of §5.3.1 warns; the MUST of §5.3.3 holds
  // only "if the Persisted UPnP-Mapped Port is supported": inconclusive.
  const json* p = find(cases, "client.upnp.persisted-port-after-crash");
  ASSERT_NE(p, nullptr) << outcomes(cases);
  EXPECT_EQ((*p)["verdict"], "warn") << outcomes(cases);
  EXPECT_EQ(outcome(*p, "R6081-5.3.1-01"), "warn") << outcomes(cases);
  EXPECT_EQ(outcome(*p, "R6081-5.3.3-01"), "inconclusive") << outcomes(cases);
}

TEST_F(UpnpBrokenReferenceTest, OneOfTheTwoCapabilitiesIsNotApplicable) {
  const json cases = run(kIuts + "hairpinning_only_client.json", "client.upnp-hairpinning.*", "one-capability");
  ASSERT_EQ(cases.size(), 2u) << outcomes(cases);
  for (const auto& c : cases) EXPECT_EQ(c["verdict"], "not-applicable") << outcomes(cases);
}

}  // namespace
