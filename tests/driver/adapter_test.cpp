// IUT adapter files: the built-in ones validate against adapter.schema.json
// and load; launch variants (secure, relay) are parsed into the capability
// they serve, and misplaced or incomplete ones are refused with the reason.
// The loader runs the schema itself (teredo/reports/json_schema.hpp): a misspelled
// capability, an unknown key at any level, an unknown placeholder, a number
// out of range or of the wrong type is one line naming the JSON pointer.
// Also here: how a dead IUT's end is worded, shell quoting for reproducers
// and command lines, and the seed range.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <signal.h>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "engine/iut_adapter.hpp"
#include "teredo/reports/json_schema.hpp"
#include "engine/runner.hpp"
#include "reports/report_fixture.hpp"
#include "teredo/netns/process.hpp"

namespace {

namespace fs = std::filesystem;
using namespace teredo::conformance;
using namespace teredo::schema;
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
    EXPECT_NE(std::string(e.what()).find("/roles/client/relay: only the server role has a relay launch"),
              std::string::npos)
        << e.what();
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
  // RFC 6081 §5.4/§5.5: each extension's flag, with §5.2's (R6081-5.4-02, R6081-5.5-02).
  for (const auto& [capability, flag] : {std::pair{"port_preserving_symmetric_nat", "--port-preserving-nat"},
                                         std::pair{"sequential_port_symmetric_nat", "--sequential-port-nat"}}) {
    EXPECT_TRUE(reference.has(capability)) << capability;
    EXPECT_TRUE(has_arg(client.variants.at(capability).command, flag)) << capability;
    EXPECT_TRUE(has_arg(client.variants.at(capability).command, "--symmetric-nat-support")) << capability;
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

// RFC 6081 §5.4.2.1 needs twenty 30 s periods: the fast-timer launch runs the
// reference on a faster clock and declares the timers that gives; a case
// started with it waits for those, every other case for the adapter's.
TEST(BuiltInAdapters, TheFastTimerLaunchDeclaresTheTimersOfItsTimeScale) {
  const Adapter reference = load_adapter("reference");
  const std::string fast = launch_variant_for({"port_preserving_symmetric_nat", "fast_timers"});
  ASSERT_EQ(fast, "port_preserving_symmetric_nat+fast_timers");
  EXPECT_EQ(launch_variant_for({"port_preserving_symmetric_nat"}), "port_preserving_symmetric_nat");
  const auto scale_of = [](const std::vector<std::string>& argv) {
    const auto it = std::find(argv.begin(), argv.end(), "--time-scale");
    return it == argv.end() || it + 1 == argv.end() ? 1.0 : std::stod(*(it + 1));
  };
  const RoleLaunch& client = reference.roles.at("client");
  const double plain_scale = scale_of(client.variants.at("port_preserving_symmetric_nat").command);
  const double fast_scale = scale_of(client.variants.at(fast).command);
  EXPECT_LE(fast_scale * 50, 1.0 + 1e-9) << "fast_timers promises at least 50 times the RFC's pace";
  EXPECT_TRUE(reference.has("fast_timers"));
  const auto plain = launch_timers_ms(reference, "client", "port_preserving_symmetric_nat");
  const auto faster = launch_timers_ms(reference, "client", fast);
  EXPECT_EQ(plain, reference.timers_ms);
  ASSERT_EQ(faster.size(), plain.size());
  for (const auto& [name, ms] : plain) {
    ASSERT_TRUE(faster.count(name)) << name;
    EXPECT_NEAR(static_cast<double>(faster.at(name)), static_cast<double>(ms) * fast_scale / plain_scale, 1.0)
        << name;
  }
  // Another role, or no variant: the adapter's own.
  EXPECT_EQ(launch_timers_ms(reference, "server", fast), reference.timers_ms);
  EXPECT_EQ(launch_timers_ms(reference, "client", ""), reference.timers_ms);
}

// A combined launch (kLaunchVariants "a+b") serves a case listing every
// part, whatever their order, and wins over each part; a case listing one
// part gets that part's own launch.
TEST(LaunchVariants, ACombinedLaunchNeedsEveryPartAndComesFirst) {
  EXPECT_EQ(launch_variant_for({"upnp_symmetric_nat", "hairpinning"}), "upnp_symmetric_nat+hairpinning");
  EXPECT_EQ(launch_variant_for({"hairpinning", "upnp_symmetric_nat"}), "upnp_symmetric_nat+hairpinning");
  EXPECT_EQ(launch_variant_for({"hairpinning"}), "hairpinning");
  EXPECT_EQ(launch_variant_for({"upnp_symmetric_nat"}), "upnp_symmetric_nat");
  EXPECT_EQ(launch_variant_for({"local_discovery"}), "");
  EXPECT_EQ(launch_variant_for({}), "");
  // RFC 6081 §5.6.3 with §5.3: the reference's combined launch has both
  // flags (and §5.2's, which §5.3 needs); it declares both capabilities.
  const Adapter reference = load_adapter("reference");
  const auto& command = reference.roles.at("client").variants.at("upnp_symmetric_nat+hairpinning").command;
  for (const char* flag : {"--upnp", "--hairpinning", "--symmetric-nat-support"}) {
    EXPECT_NE(std::find(command.begin(), command.end(), flag), command.end()) << flag;
  }
  EXPECT_TRUE(reference.has("upnp_symmetric_nat") && reference.has("hairpinning"));
  // Miredo declares neither, and has no such launch.
  const Adapter miredo = load_adapter("miredo");
  EXPECT_FALSE(miredo.has("upnp_symmetric_nat") || miredo.has("hairpinning"));
  EXPECT_FALSE(miredo.roles.at("client").variants.count("upnp_symmetric_nat+hairpinning"));
}

TEST_F(AdapterFileTest, ClientOnlyLaunchOnAServerRoleIsRefused) {
  for (const char* key : {"interval", "service_port", "default_timers"}) {
    const auto file = write(fmt::format(R"({{"name": "v", "roles": {{"server": {{"command": ["s"], "{}": {{"command": ["x"]}}}}}}}})", key));
    try {
      load_adapter(file);
      FAIL() << "accepted a " << key << " launch on the server role";
    } catch (const AdapterError& e) {
      EXPECT_NE(std::string(e.what()).find(fmt::format("/roles/server/{}: only the client role", key)),
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
    EXPECT_NE(std::string(e.what()).find("/roles/server/secure/command: is required but missing"), std::string::npos)
        << e.what();
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

// --- strict validation against adapter.schema.json -------------------------------

// The one-line message load_adapter refuses `text` with ("" when it loads).
std::string refusal(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  try {
    (void)load_adapter(path);
  } catch (const AdapterError& e) {
    return e.what();
  }
  return "";
}

class AdapterRefusalTest : public AdapterFileTest {
 protected:
  // The message for `text`, which must be one line starting with the file.
  std::string refused(const std::string& text) {
    const std::string file = write(text);
    const std::string message = refusal(file, text);
    EXPECT_FALSE(message.empty()) << "accepted: " << text;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.rfind(file + ": /", 0), 0u) << message;
    return message.empty() ? message : message.substr(file.size() + 2);
  }
};

TEST_F(AdapterRefusalTest, MisspelledCapabilityIsRefusedWithTheNearestName) {
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"]}},
                        "capabilities": ["server_relay", "secure_qualifcation"]})"),
            "/capabilities/1: 'secure_qualifcation' is not a known capability (did you mean secure_qualification?)");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"]}}, "capabilities": ["teleportation"]})"),
            "/capabilities/0: 'teleportation' is not a known capability");
}

TEST_F(AdapterRefusalTest, UnknownKeyIsRefusedAtEveryLevel) {
  EXPECT_EQ(refused(R"({"name": "v", "vendor": "x", "roles": {"server": {"command": ["s"]}}})"),
            "/vendor: 'vendor' is not a known key here");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "stop_sginal": "SIGINT"}}})"),
            "/roles/server/stop_sginal: 'stop_sginal' is not a known key here (did you mean stop_signal?)");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"],
                        "ready": {"kind": "udp-port", "port": 3544, "timeuot_ms": 10}}}})"),
            "/roles/server/ready/timeuot_ms: 'timeuot_ms' is not a known key here (did you mean timeout_ms?)");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "secure": {"command": ["s"], "x": 1}}}})"),
            "/roles/server/secure/x: 'x' is not a known key here");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"client": {"command": ["c"],
                        "address": {"kind": "interface-address", "interface": "{iface}", "pattern": "2001:0:", "v": 6}}}})"),
            "/roles/client/address/v: 'v' is not a known key here");
  // A misspelled timer would silently leave a case on the RFC default.
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"client": {"command": ["c"]}}, "timers_ms": {"refresh_intreval": 3000}})"),
            "/timers_ms/refresh_intreval: 'refresh_intreval' is not a known key here (did you mean refresh_interval?)");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"sever": {"command": ["s"]}}})"),
            "/roles/sever: 'sever' is not a known role (did you mean server?)");
}

TEST_F(AdapterRefusalTest, MisspelledReadyIsRefusedNotTakenAsTheDefaultDelay) {
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"],
                        "redy": {"kind": "udp-port", "port": 3544}}}})"),
            "/roles/server/redy: 'redy' is not a known key here (did you mean ready?)");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "ready": {"kind": "udp_port"}}}})"),
            "/roles/server/ready/kind: 'udp_port' is not a known readiness probe (did you mean udp-port?)");
}

TEST_F(AdapterRefusalTest, UnknownPlaceholderIsRefusedAtLoad) {
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s", "--listen", "{sever_v4}"]}}})"),
            "/roles/server/command/2: unknown placeholder {sever_v4} (did you mean {server_v4}?)");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "config": "Bind {listen_address}\n"}}})")
                .rfind("/roles/server/config: unknown placeholder {listen_address} (known here: {config} ", 0),
            0u);
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"relay": {"command": ["r"],
                        "ready": {"kind": "log-line", "pattern": "ready {rol}"}}}})")
                .rfind("/roles/relay/ready/pattern: unknown placeholder {rol}", 0),
            0u);
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"client": {"command": ["c"],
                        "ready": {"kind": "interface-address", "interface": "{ifce}", "pattern": "2001:"}}}})"),
            "/roles/client/ready/interface: unknown placeholder {ifce} (did you mean {iface}?)");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"client": {"command": ["c"],
                        "address": {"kind": "interface-address", "interface": "{ifac}", "pattern": "2001:0:"}}}})"),
            "/roles/client/address/interface: unknown placeholder {ifac} (did you mean {iface}?)");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "secure": {"command": ["s", "{secrte}"]}}}})"),
            "/roles/server/secure/command/1: unknown placeholder {secrte} (did you mean {secret}?)");
  // version_command runs outside any lab: only {teredo_ref} exists there.
  EXPECT_EQ(refused(R"({"name": "v", "version_command": ["{run_dir}/v"], "roles": {"server": {"command": ["s"]}}})"),
            "/version_command/0: unknown placeholder {run_dir} (known here: {teredo_ref})");
  // Braces that are not a placeholder (a JSON config, say) stay text.
  const std::string file = write(R"({"name": "v", "roles": {"server": {"command": ["s"], "config": "{\"a\": {}} {A}"}}})");
  EXPECT_NO_THROW((void)load_adapter(file));
}

TEST_F(AdapterRefusalTest, NumbersOutOfRangeAndWrongTypesAreRefused) {
  const auto ready = [](const std::string& probe) {
    return R"({"name": "v", "roles": {"server": {"command": ["s"], "ready": )" + probe + "}}}";
  };
  EXPECT_EQ(refused(ready(R"({"kind": "udp-port", "port": 65536})")),
            "/roles/server/ready/port: 65536 is above the maximum 65535");
  EXPECT_EQ(refused(ready(R"({"kind": "udp-port", "port": 0})")), "/roles/server/ready/port: 0 is below the minimum 1");
  EXPECT_EQ(refused(ready(R"({"kind": "udp-port", "port": "3544"})")),
            "/roles/server/ready/port: '3544' is a string, must be integer");
  EXPECT_EQ(refused(ready(R"({"kind": "udp-port", "port": 3544.5})")),
            "/roles/server/ready/port: 3544.5 is a number, must be integer");
  EXPECT_EQ(refused(ready(R"({"kind": "udp-port", "port": 1e30})")).rfind("/roles/server/ready/port: ", 0), 0u);
  EXPECT_EQ(refused(ready(R"({"kind": "delay", "delay_ms": -1})")),
            "/roles/server/ready/delay_ms: -1 is below the minimum 0");
  EXPECT_EQ(refused(ready(R"({"kind": "udp-port", "port": 3544, "timeout_ms": 0})")),
            "/roles/server/ready/timeout_ms: 0 is below the minimum 1");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"client": {"command": ["c"]}}, "timers_ms": {"peer_validity": -30}})"),
            "/timers_ms/peer_validity: -30 is below the minimum 0");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": "s --flag"}}})"),
            "/roles/server/command: 's --flag' is a string, must be array");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": []}}})"), "/roles/server/command: must not be empty");
  EXPECT_EQ(refused(R"({"name": "", "roles": {"server": {"command": ["s"]}}})"), "/name: must not be empty");
  EXPECT_EQ(refused(R"({"roles": {"server": {"command": ["s"]}}})"), "/name: is required but missing");
  EXPECT_EQ(refused(R"([1, 2])"), "/: [1,2] is an array, must be object");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "stop_signal": "SIGTREM"}}})"),
            "/roles/server/stop_signal: 'SIGTREM' is not a known stop signal (did you mean SIGTERM?)");
}

TEST_F(AdapterRefusalTest, ReadinessFieldsGoWithTheirKind) {
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "ready": {"kind": "udp-port"}}}})"),
            "/roles/server/ready/port: is required but missing");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "ready": {"kind": "log-line"}}}})"),
            "/roles/server/ready/pattern: is required but missing");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "ready": {"port": 3544}}}})"),
            "/roles/server/ready/kind: is required but missing");
  // A field its probe ignores would be as silent as an unknown key.
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"], "ready": {"kind": "delay", "port": 3544}}}})"),
            "/roles/server/ready/port: only a udp-port probe has a port");
  EXPECT_EQ(refused(R"({"name": "v", "roles": {"server": {"command": ["s"],
                        "ready": {"kind": "udp-port", "port": 3544, "delay_ms": 10}}}})"),
            "/roles/server/ready/delay_ms: only a delay probe has a delay_ms");
}

TEST_F(AdapterRefusalTest, ManyProblemsAreOneLineNamingTheFirst) {
  EXPECT_EQ(refused(R"({"name": "v", "extra": 1, "roles": {"server": {"command": ["s"], "redy": {}}},
                        "capabilities": ["local_discovry"]})"),
            "/capabilities/0: 'local_discovry' is not a known capability (did you mean local_discovery?) (and 2 more)");
}

TEST(BuiltInAdapters, LoadThroughTheSchema) {
  for (const auto& entry : fs::directory_iterator(kIutDir)) {
    if (entry.path().filename() == "adapter.schema.json" || entry.path().extension() != ".json") continue;
    EXPECT_NO_THROW((void)load_adapter(entry.path().string())) << entry.path();
  }
  const Adapter reference = load_adapter("reference");
  EXPECT_EQ(reference.roles.at("server").ready.kind, "udp-port");
  EXPECT_EQ(reference.roles.at("server").ready.port, 3544);
  EXPECT_EQ(reference.roles.at("relay").ready.pattern, "ready relay");
  EXPECT_EQ(reference.roles.at("server").stop_signal, SIGTERM);
  EXPECT_EQ(reference.timers_ms.at("discovery_max"), 30000);
}

nlohmann::json adapter_schema_json() {
  std::ifstream in(adapter_schema_path());
  return nlohmann::json::parse(in);
}

TEST(AdapterSchema, PlaceholdersAreExactlyTheOnesALaunchGives) {
  const auto listed = adapter_schema_json()["$defs"]["template"]["x-placeholders"].get<std::set<std::string>>();
  std::set<std::string> given;
  for (const auto& [name, value] : launch_placeholders("tc-1", "/run/x", "tc-1-server", "server")) given.insert(name);
  EXPECT_EQ(listed, given);
}

TEST(AdapterSchema, EveryCapabilityACaseNeedsIsKnown) {
  const auto known =
      adapter_schema_json()["properties"]["capabilities"]["items"]["enum"].get<std::set<std::string>>();
  const auto r = run_process({TEREDO_CONFORM_BIN, "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> needed;
  for (const auto& c : nlohmann::json::parse(r.out)) {
    for (const auto& cap : c["capabilities"]) needed.insert(cap.get<std::string>());
  }
  ASSERT_FALSE(needed.empty());
  for (const auto& cap : needed) EXPECT_TRUE(known.count(cap)) << cap << " is needed by a case but unknown to the schema";
}

TEST(AdapterSchema, AGenericValidatorRefusesTheSameFiles) {
  // The rules are the schema's, not the loader's: python's jsonschema, which
  // knows nothing of this project, refuses these files too ({placeholders}
  // aside: x-placeholders is the project's own keyword).
  const std::string python = python_with_jsonschema();
  if (python.empty()) GTEST_SKIP() << "python3 with jsonschema not found";
  const std::vector<std::string> bad = {
      R"({"name": "v", "roles": {"server": {"command": ["s"]}}, "capabilities": ["secure_qualifcation"]})",
      R"({"name": "v", "roles": {"server": {"command": ["s"], "redy": {"kind": "delay"}}}})",
      R"({"name": "v", "roles": {"server": {"command": ["s"], "ready": {"kind": "udp-port", "port": 70000}}}})",
      R"({"name": "v", "roles": {"server": {"command": ["s"], "ready": {"kind": "delay", "port": 1}}}})",
      R"({"name": "v", "roles": {"client": {"command": ["c"], "relay": {"command": ["r"]}}}})",
  };
  const fs::path dir = fs::temp_directory_path() / ("teredo-adapter-generic-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<std::string> argv = {python, (fs::path(TEREDO_SOURCE_DIR) / "tests/reports/validate_report.py").string(),
                                   adapter_schema_path()};
  for (std::size_t i = 0; i < bad.size(); ++i) {
    argv.push_back((dir / (std::to_string(i) + ".json")).string());
    std::ofstream(argv.back()) << bad[i];
    EXPECT_NE(refusal(argv.back(), bad[i]), "") << bad[i];
  }
  const auto r = run_process(argv);
  fs::remove_all(dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::size_t invalid = 0;
  for (std::size_t at = r.out.find("INVALID"); at != std::string::npos; at = r.out.find("INVALID", at + 1)) ++invalid;
  EXPECT_EQ(invalid, bad.size()) << r.out;
}

TEST(JsonSchemaSubset, RefusesASchemaWithAKeywordItDoesNotImplement) {
  // A rule added to the schema file must never be silently skipped.
  EXPECT_THROW(JsonSchema(nlohmann::json{{"type", "string"}, {"contentEncoding", "base64"}}), SchemaError);
  EXPECT_THROW(JsonSchema(nlohmann::json{{"properties", {{"a", {{"dependentRequired", {{"b", {"c"}}}}}}}}}), SchemaError);
  EXPECT_THROW(JsonSchema(nlohmann::json{{"type", "string"}, {"pattern", "(unclosed"}}), SchemaError);
  EXPECT_THROW(JsonSchema(nlohmann::json{{"$ref", "#/$defs/missing"}}), SchemaError);
  EXPECT_NO_THROW((void)JsonSchema{adapter_schema_json()});
}

TEST(JsonSchemaSubset, NearestSpellingOnlyForNearMisses) {
  EXPECT_EQ(nearest_spelling("redy", {"ready", "command", "config"}), "ready");
  EXPECT_EQ(nearest_spelling("secure_qualifcation", {"server_relay", "secure_qualification"}), "secure_qualification");
  EXPECT_EQ(nearest_spelling("xyz", {"ready", "command"}), "");
  EXPECT_EQ(nearest_spelling("ready", {"ready"}), "");
}

// --- how a dead IUT is worded -----------------------------------------------------

// How the child ended, asked without blocking until it has (bounded).
std::optional<teredo::netns::ExitStatus> wait_for_end(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    if (auto s = teredo::netns::exit_status(pid)) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

TEST(IutExitStatus, ExitCodeIsKeptAndWorded) {
  const pid_t pid = teredo::netns::spawn_in("", {"/bin/sh", "-c", "exit 7"});
  const auto status = wait_for_end(pid);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 7);
  EXPECT_EQ(status->signal, 0);
  EXPECT_EQ(teredo::netns::describe(*status), "exited with status 7");
  // Reaped once, it can be asked again, through the IUT handle too.
  IutProcess iut;
  iut.pid = pid;
  EXPECT_EQ(iut_exit_status(iut), status);
  EXPECT_FALSE(teredo::netns::process_alive(pid));
  EXPECT_EQ(iut_exit_status(iut), status);
}

TEST(IutExitStatus, SignalIsKeptAndWorded) {
  const pid_t pid = teredo::netns::spawn_in("", {"/bin/sh", "-c", "kill -SEGV $$"});
  // process_alive reaps the child: the status must survive it.
  for (int i = 0; i < 1000 && teredo::netns::process_alive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto status = teredo::netns::exit_status(pid);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, SIGSEGV);
  EXPECT_EQ(teredo::netns::describe(*status).rfind("killed by SIGSEGV", 0), 0u) << teredo::netns::describe(*status);
  EXPECT_EQ(teredo::netns::describe({0, SIGABRT, true}), "killed by SIGABRT (core dumped)");
}

TEST(IutExitStatus, NoneWhileRunningThenTheStopSignal) {
  IutProcess iut;
  iut.pid = teredo::netns::spawn_in("", {"/bin/sleep", "30"});
  iut.stop_signal = SIGTERM;
  EXPECT_EQ(iut_exit_status(iut), std::nullopt);
  stop_iut(iut);
  const auto status = iut_exit_status(iut);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, SIGTERM);
  EXPECT_EQ(iut_exit_status(IutProcess{}), std::nullopt);
}

TEST(IutExitStatus, AProgramThatCannotBeExecutedIsRefusedAtSpawn) {
  try {
    (void)teredo::netns::spawn_in("", {"/nonexistent/teredo-iut"});
    FAIL() << "spawned a program that does not exist";
  } catch (const teredo::netns::LabError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/teredo-iut"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
}

// --- shell quoting and seeds -------------------------------------------------------

TEST(ShellQuote, PlainWordsStayAsTheyAre) {
  EXPECT_EQ(shell_quote("server.rs.reply-from-primary"), "server.rs.reply-from-primary");
  EXPECT_EQ(shell_quote("/work/conformance/iut/reference.json"), "/work/conformance/iut/reference.json");
  EXPECT_EQ(shell_quote("it's"), R"('it'\''s')");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_join({"run", "--cases", "server.*", "--out", "a b"}), "run --cases 'server.*' --out 'a b'");
}

TEST(ShellQuote, EveryWordSurvivesARealShell) {
  const std::vector<std::string> words = {"plain", "with space", "it's", "'", "''", "", "$HOME", "`id`",
                                          "a\"b",  "back\\slash", "*",   "a;b", "new\nline", "~", "x=y", "!"};
  // printf prints each argument the shell parsed, terminated by a '|'.
  const auto r = run_process({"/bin/sh", "-c", "printf '%s|' " + shell_join(words)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected;
  for (const auto& w : words) expected += w + "|";
  EXPECT_EQ(r.out, expected);
}

TEST(Seeds, CaseSeedIsTheMasterSeedTimesAThousandPlusTheIndexUnlessGiven) {
  RunOptions options;
  options.seed = 7;
  EXPECT_EQ(case_seed(options, 0), 7000u);
  EXPECT_EQ(case_seed(options, 5), 7005u);
  options.case_seed = 7005;
  EXPECT_EQ(case_seed(options, 0), 7005u);
}

TEST(Seeds, OutOfRangeSeedsAreRefused) {
  RunOptions options;
  options.retries = 1;
  options.seed = kMaxMasterSeed;
  EXPECT_EQ(check_seeds(options, 100), "");
  options.seed = kMaxMasterSeed + 1;
  EXPECT_NE(check_seeds(options, 1), "");
  options.seed = kMaxMasterSeed;
  EXPECT_NE(check_seeds(options, 5000), "") << "seed*1000+index past 2^53-1";
  options.case_seed = kMaxSeed - 1;
  EXPECT_EQ(check_seeds(options, 1), "");
  options.case_seed = kMaxSeed;
  EXPECT_NE(check_seeds(options, 1), "") << "the retry's seed would pass 2^53-1";
  options.case_seed = 5;
  EXPECT_NE(check_seeds(options, 2), "") << "--case-seed names one case";
  EXPECT_EQ(kMaxSeed, 9007199254740991u);
  EXPECT_EQ(kMaxMasterSeed, 9007199254739u);
}

}  // namespace
