// IUT adapter files: the built-in ones validate against adapter.schema.json
// and load; launch variants (secure, relay) are parsed into the capability
// they serve, and misplaced or incomplete ones are refused with the reason.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/iut_adapter.hpp"
#include "reports/report_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using namespace teredo::conformance;
using teredo::reports::test::python_with_jsonschema;
using teredo::reports::test::run_process;

const fs::path kIutDir = fs::path(TEREDO_SOURCE_DIR) / "conformance" / "iut";

class AdapterFileTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!path_.empty()) fs::remove(path_);
  }
  std::string write(const std::string& text) {
    path_ = fs::temp_directory_path() /
            ("teredo-adapter-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json");
    std::ofstream(path_) << text;
    return path_.string();
  }
  fs::path path_;
};

TEST(BuiltInAdapters, ValidateAgainstTheSchema) {
  const std::string python = python_with_jsonschema();
  if (python.empty()) GTEST_SKIP() << "python3 with jsonschema not found";
  std::vector<std::string> argv = {python, (fs::path(TEREDO_SOURCE_DIR) / "tests/reports/validate_report.py").string(),
                                   (kIutDir / "adapter.schema.json").string()};
  int files = 0;
  for (const auto& entry : fs::directory_iterator(kIutDir)) {
    if (entry.path().filename() == "adapter.schema.json" || entry.path().extension() != ".json") continue;
    argv.push_back(entry.path().string());
    ++files;
  }
  ASSERT_GE(files, 2);
  const auto r = run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("INVALID"), std::string::npos) << r.out;
}

TEST(BuiltInAdapters, ReferenceServerHasItsSecureAndRelayLaunches) {
  const Adapter a = load_adapter("reference");
  ASSERT_TRUE(a.roles.count("server"));
  const RoleLaunch& server = a.roles.at("server");
  ASSERT_TRUE(server.variants.count("secure_qualification"));
  ASSERT_TRUE(server.variants.count("server_relay"));
  const auto& relay = server.variants.at("server_relay").command;
  EXPECT_NE(std::find(relay.begin(), relay.end(), "--forward-any-protocol"), relay.end());
  // A declared variant goes with its declared capability, and back.
  EXPECT_TRUE(a.has("server_relay"));
  EXPECT_TRUE(a.has("secure_qualification"));
}

TEST(BuiltInAdapters, MiredoServerHasNoRelayLaunch) {
  const Adapter a = load_adapter("miredo");
  EXPECT_FALSE(a.has("server_relay"));
  EXPECT_TRUE(a.roles.at("server").variants.empty());
}

TEST(BuiltInAdapters, RelayRolesBindTheRelayAddressOnTheTeredoPort) {
  // The relay cases (conformance/cases/relay) talk to {relay_v4}:3544.
  const Adapter reference = load_adapter("reference");
  ASSERT_TRUE(reference.roles.count("relay"));
  ASSERT_TRUE(reference.roles.count("host-relay"));
  EXPECT_TRUE(reference.has("host_specific_relay"));
  const auto& relay = reference.roles.at("relay").command;
  EXPECT_NE(std::find(relay.begin(), relay.end(), "{relay_v4}:3544"), relay.end());
  EXPECT_NE(std::find(relay.begin(), relay.end(), "{iface}"), relay.end());
  const Adapter miredo = load_adapter("miredo");
  ASSERT_TRUE(miredo.roles.count("relay"));
  EXPECT_FALSE(miredo.roles.count("host-relay")) << "Miredo 1.2.6 has no host-specific relay mode";
  const RoleLaunch& m = miredo.roles.at("relay");
  EXPECT_NE(m.config_template.find("RelayType cone"), std::string::npos);
  EXPECT_NE(m.config_template.find("BindPort 3544"), std::string::npos);
  EXPECT_EQ(m.ready.kind, "udp-port");
  EXPECT_EQ(m.ready.port, 3544);
}

TEST_F(AdapterFileTest, RelayLaunchOnAClientRoleIsRefused) {
  const auto file = write(R"({"name": "v", "roles": {"client": {"command": ["c"], "relay": {"command": ["r"]}}}})");
  try {
    load_adapter(file);
    FAIL() << "accepted a relay launch on the client role";
  } catch (const AdapterError& e) {
    EXPECT_NE(std::string(e.what()).find("roles.client.relay: only the server role"), std::string::npos) << e.what();
  }
}

TEST(BuiltInAdapters, ClientVariantsGoWithTheirCapabilities) {
  const Adapter reference = load_adapter("reference");
  const RoleLaunch& client = reference.roles.at("client");
  const auto has_arg = [](const std::vector<std::string>& argv, const std::string& arg) {
    return std::find(argv.begin(), argv.end(), arg) != argv.end();
  };
  EXPECT_TRUE(has_arg(client.variants.at("interval_determination").command, "--interval-determination"));
  EXPECT_TRUE(has_arg(client.variants.at("configurable_service_port").command, "{client_v4}:{service_port}"));
  // default_timers: the plain launch without its time scale.
  EXPECT_TRUE(has_arg(client.command, "--time-scale"));
  EXPECT_FALSE(has_arg(client.variants.at("default_timers").command, "--time-scale"));
  for (const char* c : {"interval_determination", "configurable_service_port", "default_timers"}) {
    EXPECT_TRUE(reference.has(c)) << c;
  }
  // Miredo: BindPort from {service_port}; its plain launch already runs the
  // default timers, so it declares the capability without a variant.
  const Adapter miredo = load_adapter("miredo");
  const RoleLaunch& m = miredo.roles.at("client");
  EXPECT_NE(m.variants.at("configurable_service_port").config_template.find("BindPort {service_port}"),
            std::string::npos);
  EXPECT_TRUE(miredo.has("default_timers"));
  EXPECT_FALSE(m.variants.count("default_timers"));
  EXPECT_FALSE(miredo.has("interval_determination"));
  // The placeholders those variants use exist.
  EXPECT_NO_THROW((void)expand("{client_v4}:{service_port}", {{"client_v4", "192.0.2.10"}, {"service_port", "1"}}));
}

TEST_F(AdapterFileTest, ClientOnlyLaunchOnAServerRoleIsRefused) {
  for (const char* key : {"interval", "service_port", "default_timers"}) {
    const auto file = write(fmt::format(R"({{"name": "v", "roles": {{"server": {{"command": ["s"], "{}": {{"command": ["x"]}}}}}}}})", key));
    try {
      load_adapter(file);
      FAIL() << "accepted a " << key << " launch on the server role";
    } catch (const AdapterError& e) {
      EXPECT_NE(std::string(e.what()).find(fmt::format("roles.server.{}: only the client role", key)),
                std::string::npos)
          << e.what();
    }
  }
}

TEST_F(AdapterFileTest, VariantWithoutCommandIsRefused) {
  const auto file = write(R"({"name": "v", "roles": {"server": {"command": ["s"], "secure": {"config": "x"}}}})");
  try {
    load_adapter(file);
    FAIL() << "accepted a secure launch without a command";
  } catch (const AdapterError& e) {
    EXPECT_NE(std::string(e.what()).find("roles.server.secure.command is required"), std::string::npos) << e.what();
  }
}

TEST_F(AdapterFileTest, VariantsAreKeyedByTheCapabilityTheyServe) {
  const auto file = write(R"({"name": "v", "roles": {"server": {"command": ["s"], "config": "plain",
      "secure": {"command": ["s", "--secure"], "config": "{secret}"}, "relay": {"command": ["s", "--relay"]}}}})");
  const Adapter a = load_adapter(file);
  const RoleLaunch& server = a.roles.at("server");
  ASSERT_EQ(server.variants.size(), 2u);
  EXPECT_EQ(server.variants.at("secure_qualification").command.back(), "--secure");
  EXPECT_EQ(server.variants.at("secure_qualification").config_template, "{secret}");
  EXPECT_EQ(server.variants.at("server_relay").command.back(), "--relay");
  EXPECT_EQ(server.config_template, "plain");
}

}  // namespace
