// teredo-ref's option parsing in-process: a JSON --config stands for the
// same flags on the command line (each subcommand's options come out equal),
// the command line's single values win over the file's and lists add up,
// and bad input is refused with a message naming the flag or key and value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "options.hpp"
#include "teredo/node/addressing.hpp"

namespace {

namespace fs = std::filesystem;
using namespace teredo;
using ref::Options;

std::string describe(const ref::CommonOptions& c) {
  std::ostringstream s;
  s << "time_scale " << c.time_scale << " batch " << c.batch << " verbose " << c.verbose;
  return s.str();
}

// Every field a flag sets, as text, so two parses compare in one EXPECT_EQ.
std::string describe(const ref::ServerOptions& o) {
  const node::ServerConfig& s = o.server;
  std::ostringstream out;
  out << "server " << describe(o.common) << " primary " << wire::to_string(s.primary) << " secondary "
      << wire::to_string(s.secondary) << " port " << s.port << " mtu " << s.mtu << " trailers " << s.accept_trailers
      << " echo " << s.answer_echo << " any " << s.forward_any_protocol << " forward "
      << static_cast<int>(o.forward_native) << " ring " << o.packet_ring;
  if (s.secure) {
    out << " secure " << wire::to_string(s.secure->algorithm);
    for (const auto& c : s.secure->clients) {
      out << " " << std::string(c.id.begin(), c.id.end()) << (c.expired ? "(expired)" : "") << ":"
          << std::string(c.secret.begin(), c.secret.end());
    }
  }
  return out.str();
}

std::string describe(const ref::RelayOptions& o) {
  const node::RelayConfig& c = o.relay;
  std::ostringstream out;
  out << "relay " << describe(o.common) << " local " << node::to_string(c.local) << " interface " << o.interface
      << " ring " << o.packet_ring << " mtu " << c.mtu << " cone " << c.honour_cone_bit << " direct "
      << c.direct_bubbles << " unknown " << c.accept_unknown_peers << " trailers " << c.accept_trailers << " peers "
      << c.peers.capacity << " scale " << c.time_scale.factor() << " host " << c.host_specific;
  if (o.ipv6_address_given) out << " ipv6 " << wire::to_string(c.ipv6_address);
  for (const auto& p : c.served_prefixes) out << " serve " << node::to_string(p);
  for (const auto& a : c.host_addresses) out << " host-address " << wire::to_string(a);
  return out.str();
}

std::string describe(const ref::ClientOptions& o) {
  const node::ClientConfig& c = o.client;
  std::ostringstream out;
  out << "client " << describe(o.common) << " server " << wire::to_string(c.server) << " secondary "
      << wire::to_string(c.server_secondary) << " local " << node::to_string(c.local) << " interface " << o.interface
      << " probe_cone " << c.probe_cone << " random_flags " << c.random_flags << " symmetric_check "
      << c.check_symmetric << " symmetric_support " << c.symmetric_nat_support << " hairpinning " << c.hairpinning
      << " load_reduction " << c.server_load_reduction << " port_preserving " << c.port_preserving_nat
      << " sequential " << c.sequential_port_nat << " trailers " << c.accept_trailers
      << " nonce " << c.send_nonce << " discovery " << c.local_discovery << " interval "
      << c.interval_determination << " refresh " << c.timers.refresh_interval.count() << " retry "
      << (c.timers.offline_retry ? c.timers.offline_retry->count() : -1) << " mtu " << c.mtu << " peers "
      << c.peers.capacity << " scale " << c.time_scale.factor() << " default_route " << o.default_route
      << " sunset " << o.sunset << " state " << o.state_file;
  if (c.local_subnet) out << " subnet " << wire::to_string(c.local_subnet->address) << "/" << int{c.local_subnet->length};
  if (c.secure) {
    out << " secure " << wire::to_string(c.secure->algorithm) << " "
        << std::string(c.secure->id.begin(), c.secure->id.end()) << ":"
        << std::string(c.secure->secret.begin(), c.secure->secret.end());
  }
  return out.str();
}

std::string describe(const Options& options) {
  return std::visit([](const auto& o) { return describe(o); }, options);
}

Options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "teredo-ref");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ref::parse_options(static_cast<int>(argv.size()), argv.data());
}

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("teredo-ref-options-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    secret_ = file("secret", "s3cret\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  fs::path dir_;
  std::string secret_;
};

struct Equivalent {
  std::vector<std::string> flags;  // the subcommand and its flags
  std::string json;                // the same as a config file (with "mode")
  std::vector<std::string> bare;   // the subcommand with only what it requires
};

TEST_F(OptionsTest, JsonConfigEqualsTheSameFlagsOnTheCommandLine) {
  const std::vector<Equivalent> cases = {
      {{"server", "--primary", "203.0.113.1", "--secondary", "203.0.113.9", "--port", "4000", "--mtu", "1400",
        "--secret-file", secret_, "--client-id", "alice", "--client-id", "bob", "--expired-client-id", "carol",
        "--mac", "hmac-md5", "--forward-native", "off", "--packet-ring", "lo", "--accept-trailers", "--no-echo",
        "--forward-any-protocol", "--time-scale", "0.5", "--batch", "8", "-v"},
       R"({"mode": "server", "primary": "203.0.113.1", "secondary": "203.0.113.9", "port": 4000, "mtu": 1400,
           "secret_file": ")" + secret_ + R"(", "client_id": ["alice", "bob"], "expired-client-id": "carol",
           "mac": "hmac-md5", "forward_native": "off", "packet_ring": "lo", "accept_trailers": true,
           "no_echo": true, "forward_any_protocol": true, "time_scale": 0.5, "batch": 8, "v": true})",
       {"server", "--primary", "203.0.113.1"}},
      {{"relay", "--bind", "198.51.100.20:4000", "--interface", "tun-x", "--peers", "77", "--ipv6-address",
        "2001:db8::5", "--honour-cone-bit", "--direct-bubbles", "--reject-unknown-peers", "--accept-trailers",
        "--serve", "2001:db8::/32", "--serve", "2001:db8:1::/48", "--mtu", "1300", "--verbose"},
       R"({"mode": "relay", "bind": "198.51.100.20:4000", "interface": "tun-x", "peers": 77,
           "ipv6_address": "2001:db8::5", "honour_cone_bit": true, "direct_bubbles": true,
           "reject_unknown_peers": true, "accept_trailers": true, "serve": ["2001:db8::/32", "2001:db8:1::/48"],
           "mtu": 1300, "verbose": true})",
       {"relay", "--bind", "198.51.100.20"}},
      {{"host-relay", "--bind", "198.51.100.20", "--host-address", "2001:db8::7", "--host-address", "2001:db8::8",
        "--prefix", "2001::/32", "--time-scale", "2"},
       R"({"mode": "host-relay", "bind": "198.51.100.20", "host_address": ["2001:db8::7", "2001:db8::8"],
           "prefix": "2001::/32", "time-scale": 2})",
       {"host-relay", "--bind", "198.51.100.20"}},
      {{"client", "--server", "203.0.113.1", "--server-secondary", "203.0.113.5", "--bind", "192.0.2.10:5000",
        "--interface", "tc0", "--secret-file", secret_, "--client-id", "alice", "--mac", "hmac-md5", "--rfc4380",
        "--no-symmetric-check", "--symmetric-nat-support", "--hairpinning", "--server-load-reduction",
        "--sequential-port-nat", "--no-nonce", "--local-discovery", "--local-subnet",
        "192.0.2.0/24", "--interval-determination", "--refresh-interval", "20", "--offline-retry", "0", "--peers",
        "9", "--no-default-route", "--no-sunset", "--state-file", "/run/x.json"},
       R"({"mode": "client", "server": "203.0.113.1", "server_secondary": "203.0.113.5", "bind": "192.0.2.10:5000",
           "interface": "tc0", "secret_file": ")" + secret_ + R"(", "client_id": "alice", "mac": "hmac-md5",
           "rfc4380": true, "no_symmetric_check": true, "symmetric_nat_support": true, "hairpinning": true,
           "server_load_reduction": true, "sequential_port_nat": true, "no_nonce": true,
           "local_discovery": true, "local_subnet": "192.0.2.0/24", "interval_determination": true,
           "refresh_interval": 20, "offline_retry": 0, "peers": 9, "no_default_route": true, "no_sunset": true,
           "state_file": "/run/x.json", "accept_trailers": false})",
       {"client", "--server", "203.0.113.1"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.flags.front());
    const std::string from_flags = describe(parse(c.flags));
    const std::string config = file(c.flags.front() + ".json", c.json);
    EXPECT_EQ(describe(parse({"--config", config})), from_flags);  // the mode from the file
    EXPECT_EQ(describe(parse({c.flags.front(), "--config=" + config})), from_flags);
    // The flags were not all defaults (the comparison could not pass by accident).
    EXPECT_NE(describe(parse(c.bare)), from_flags);
  }
}

// R6081-5.3-02: the UPnP extension needs the Symmetric NAT Support one.
TEST_F(OptionsTest, UpnpImpliesSymmetricNatSupport) {
  const Options upnp = parse({"client", "--server", "203.0.113.1", "--upnp"});
  const auto& c = std::get<teredo::ref::ClientOptions>(upnp);
  EXPECT_TRUE(c.upnp);
  EXPECT_TRUE(c.client.symmetric_nat_support);
  EXPECT_TRUE(c.client.accept_trailers);
  const Options plain = parse({"client", "--server", "203.0.113.1"});
  EXPECT_FALSE(std::get<teredo::ref::ClientOptions>(plain).upnp);
  EXPECT_FALSE(std::get<teredo::ref::ClientOptions>(plain).client.symmetric_nat_support);
}

TEST_F(OptionsTest, EachSymmetricNatExtensionImpliesTheOnesItNeeds) {
  // R6081-5.4-02: §5.4 needs §5.2; R6081-5.5-02: §5.5 needs §5.4 and §5.2.
  const auto client = [](const std::string& flag) {
    const Options o = parse({"client", "--server", "203.0.113.1", flag});
    return std::get<ref::ClientOptions>(o).client;
  };
  const node::ClientConfig preserving = client("--port-preserving-nat");
  EXPECT_TRUE(preserving.port_preserving_nat);
  EXPECT_FALSE(preserving.sequential_port_nat);
  EXPECT_TRUE(preserving.symmetric_nat_support);
  EXPECT_TRUE(preserving.accept_trailers);
  const node::ClientConfig sequential = client("--sequential-port-nat");
  EXPECT_TRUE(sequential.sequential_port_nat);
  EXPECT_TRUE(sequential.port_preserving_nat);
  EXPECT_TRUE(sequential.symmetric_nat_support);
  const node::ClientConfig plain = client("--symmetric-nat-support");
  EXPECT_FALSE(plain.port_preserving_nat);
  EXPECT_FALSE(plain.sequential_port_nat);
}

TEST_F(OptionsTest, CommandLineWinsForSingleValuesAndListsAddUp) {
  const std::string config =
      file("server.json", R"({"mode": "server", "primary": "203.0.113.1", "port": 4000, "secret_file": ")" +
                              secret_ + R"(", "client_id": ["alice", "bob"]})");
  const Options mixed = parse({"--config", config, "--port", "5000", "--client-id", "carol"});
  const Options flags = parse({"server", "--primary", "203.0.113.1", "--port", "5000", "--secret-file", secret_,
                               "--client-id", "carol", "--client-id", "alice", "--client-id", "bob"});
  EXPECT_EQ(describe(mixed), describe(flags));
}

// Runs the parse expecting a refusal of type E; returns its message.
template <typename E>
std::string refusal(const std::vector<std::string>& args) {
  try {
    (void)parse(args);
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no refusal";
  return {};
}

// RFC 6081 §5.6 and §5.7 are off unless asked for; each switches on the
// trailers it needs (bytes after the IPv6 packet) by itself.
TEST_F(OptionsTest, HairpinningAndServerLoadReductionAreSeparateFlagsThatAcceptTrailers) {
  const auto plain = std::get<ref::ClientOptions>(parse({"client", "--server", "203.0.113.1"}));
  EXPECT_FALSE(plain.client.hairpinning);
  EXPECT_FALSE(plain.client.server_load_reduction);
  EXPECT_FALSE(plain.client.accept_trailers);
  const auto hairpin = std::get<ref::ClientOptions>(parse({"client", "--server", "203.0.113.1", "--hairpinning"}));
  EXPECT_TRUE(hairpin.client.hairpinning);
  EXPECT_FALSE(hairpin.client.server_load_reduction);
  EXPECT_TRUE(hairpin.client.accept_trailers);
  const auto reduction =
      std::get<ref::ClientOptions>(parse({"client", "--server", "203.0.113.1", "--server-load-reduction"}));
  EXPECT_FALSE(reduction.client.hairpinning);
  EXPECT_TRUE(reduction.client.server_load_reduction);
  EXPECT_TRUE(reduction.client.accept_trailers);
}

TEST_F(OptionsTest, BadInputIsRefusedNamingWhatIsWrong) {
  const auto says = [](const std::string& message, const std::vector<std::string>& parts) {
    for (const auto& p : parts) EXPECT_NE(message.find(p), std::string::npos) << "'" << p << "' not in: " << message;
  };
  // Values: BadValue (exit 2).
  says(refusal<ref::BadValue>({"server", "--primary", "203.0.113"}), {"--primary", "203.0.113"});
  says(refusal<ref::BadValue>({"server", "--primary", "203.0.113.1", "--port", "70000"}), {"--port", "70000"});
  says(refusal<ref::BadValue>({"relay", "--bind", "198.51.100.20:x"}), {"--bind", "198.51.100.20:x"});
  says(refusal<ref::BadValue>({"client", "--server", "203.0.113.1", "--local-subnet", "192.0.2.0/40"}),
       {"--local-subnet", "192.0.2.0/40"});
  const std::string port = file("port.json", R"({"mode": "server", "primary": "203.0.113.1", "port": 99999})");
  says(refusal<ref::BadValue>({"--config", port}), {"port", "99999"});
  const std::string address = file("address.json", R"({"mode": "server", "primary": "203.0.113"})");
  says(refusal<ref::BadValue>({"--config", address}), {"--primary", "203.0.113"});
  const std::string flag = file("flag.json", R"({"mode": "server", "primary": "203.0.113.1", "verbose": "yes"})");
  says(refusal<ref::BadValue>({"--config", flag}), {flag, "'verbose'", "true or false"});
  const std::string object = file("object.json", R"({"mode": "server", "primary": {"a": 1}})");
  says(refusal<ref::BadValue>({"--config", object}), {object, "'primary'", "string or a number"});
  const std::string broken = file("broken.json", R"({"mode": )");
  says(refusal<ref::BadValue>({"--config", broken}), {broken, "not JSON"});
  says(refusal<ref::BadValue>({"server", "--primary", "203.0.113.1", "--config", "/nonexistent.json"}),
       {"--config", "/nonexistent.json"});
  const std::string mode = file("mode.json", R"({"mode": "router"})");
  says(refusal<ref::BadValue>({"--config", mode}), {mode, "'mode'"});
  // Usage: UsageError (exit 3).
  const std::string unknown = file("unknown.json", R"({"mode": "relay", "bind": "198.51.100.20", "primary": "x"})");
  says(refusal<ref::UsageError>({"--config", unknown}), {unknown, "unknown key 'primary'", "relay"});
  const std::string server = file("server.json", R"({"mode": "server", "primary": "203.0.113.1"})");
  says(refusal<ref::UsageError>({"client", "--server", "203.0.113.1", "--config", server}), {server, "server", "client"});
  const std::string no_mode = file("nomode.json", R"({"primary": "203.0.113.1"})");
  says(refusal<ref::UsageError>({"--config", no_mode}), {"subcommand", "mode"});
  says(refusal<ref::UsageError>({"server", "--primary", "203.0.113.1", "--bogus"}), {"--bogus"});
}

}  // namespace
