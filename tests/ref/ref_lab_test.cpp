// teredo-ref in the lab (label lab: root + network namespaces). The test
// plays every other party with the wire builders: the server's clients and
// their RSs, a Teredo client behind the lab's NAT for the relay, and ping6
// from the native IPv6 host. Nothing here needs Miredo.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <future>
#include <regex>

#include "ref_harness.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/wire/hmac.hpp"

namespace teredo::reftest {
namespace {

using netns::Lab;

// 203.0.113.1, port 3544: ~port = f227, ~address = 34ff:8efe; cone flag set
// (R4380-5.3.2-03, RFC 5991 §3.2). Written out, not computed by the code under test.
const char* const kServerLinkLocal = "fe80::8000:f227:34ff:8efe";
const char* const kServerPrefix = "2001:0:cb00:7101::";

class RefLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
  }
  std::unique_ptr<Lab> up(const std::string& topology, const std::string& nat_profile = {}) {
    netns::Topology t = netns::load_topology(topology_path(topology));
    if (!nat_profile.empty()) {
      EXPECT_TRUE(netns::apply_nat_profile(nat_profile, *t.hosts.at("nat").nat));
    }
    return Lab::up(t);
  }
};

struct RsCase {
  const char* to;        // which server address the RS goes to
  bool cone;             // cone bit in the RS source identifier
  const char* ra_from;   // where the RA must come from
  const char* requirement;
};

TEST_F(RefLabTest, ServerAnswersRsFromTheRightAddressWithOrigin) {
  auto lab = up("server-only");
  // The config file path of the command line (the mode comes from the file).
  const std::string config = write_file(lab->run_dir() + "/server.json",
                                        R"({"mode": "server", "primary": "203.0.113.1", "verbose": true})");
  const Daemon server = start_ref(*lab, "server", {"--config", config}, "ref-server");
  EXPECT_TRUE(wait_for_log(server, "secondary 203.0.113.2:3544")) << server.output();

  LabUdp driver(*lab, "driver", endpoint("198.51.100.7", 40000));
  const RsCase cases[] = {
      {"203.0.113.1", false, "203.0.113.1", "R4380-5.3.2-06"},
      {"203.0.113.1", true, "203.0.113.2", "R4380-5.3.2-07"},
      {"203.0.113.2", true, "203.0.113.1", "R4380-5.3.2-07"},
      {"203.0.113.2", false, "203.0.113.2", "R4380-5.3.2-06"},
  };
  for (const RsCase& c : cases) {
    SCOPED_TRACE(std::string("RS to ") + c.to + (c.cone ? " with" : " without") + " the cone bit");
    driver.send(endpoint(c.to, 3544), make_rs(c.cone));
    const auto r = driver.receive(2s);
    ASSERT_TRUE(r) << "no RA; server log:\n" << server.output();
    EXPECT_EQ(to_string(r->from), std::string(c.ra_from) + ":3544") << c.requirement;
    const RaSummary ra = read_ra(r->payload);
    ASSERT_EQ(ra.error, "");
    // R4380-5.3.2-01: the origin indication holds the RS's IPv4 source and port.
    EXPECT_EQ(to_string(ra.origin), "198.51.100.7:40000");
    EXPECT_EQ(wire::to_string(ra.source), kServerLinkLocal);        // R4380-5.3.2-03
    EXPECT_EQ(ra.destination, rs_source(c.cone));                    // R4380-5.3.2-04
    EXPECT_EQ(ra.hop_limit, 255);
    ASSERT_TRUE(ra.prefix);
    EXPECT_EQ(wire::to_string(*ra.prefix), kServerPrefix);           // R4380-5.3.2-02
    EXPECT_EQ(ra.prefix_length, 64);
    EXPECT_EQ(ra.mtu, std::optional<std::uint32_t>(1280));           // R4380-5.1.2-01
    EXPECT_FALSE(ra.authenticated);
  }
  // A bad RS is dropped, and the drop is one log line with its code and
  // requirement behind a monotonic timestamp.
  driver.send(endpoint("203.0.113.1", 3544), make_rs(false, 64));
  EXPECT_FALSE(driver.receive(300ms)) << "an RS with hop limit 64 must not be answered (R2461-6.1.1-01)";
  ASSERT_TRUE(wait_for_log(server, "drop_rs_hop_limit")) << server.output();
  const std::string log = server.output();
  EXPECT_TRUE(std::regex_search(log, std::regex(R"((^|\n)\+\d{2}:\d{2}:\d{2}\.\d{6} drop drop_rs_hop_limit R2461-6\.1\.1-01 hop limit 64 from 198\.51\.100\.7:40000\n)")))
      << log;
  // A datagram longer than a receive slot is cut by the kernel; the node
  // still sees it as oversized and drops it (R4380-5.1.2-01), unparsed.
  driver.send(endpoint("203.0.113.1", 3544), wire::ByteVector(3000, 0x60));
  EXPECT_FALSE(driver.receive(300ms));
  EXPECT_TRUE(wait_for_log(server, "drop drop_oversized R4380-5.1.2-01")) << server.output();
  // -v (here "verbose": true in the file): one action line per answered RS.
  EXPECT_TRUE(std::regex_search(log, std::regex(R"(\+\d{2}:\d{2}:\d{2}\.\d{6} action rs_answered R4380-5\.3\.2-07 RA to 198\.51\.100\.7:40000 from 203\.0\.113\.2:3544 \(cone\))")))
      << log;

  // SIGTERM: a clean exit with status 0.
  const int status = terminate(server);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n" << server.output();
  EXPECT_NE(server.output().find("stop SIGTERM"), std::string::npos);
}

// A burst fills recvmmsg batches; cone and non-cone RSs alternate, so each
// batch's answers leave from both sockets (sendmmsg per source socket).
// Without -v no action line is logged.
TEST_F(RefLabTest, ServerAnswersABurstFromBothAddresses) {
  auto lab = up("server-only");
  const Daemon server = start_ref(*lab, "server", {"server", "--primary", "203.0.113.1"}, "ref-server");
  LabUdp driver(*lab, "driver", endpoint("198.51.100.7", 40005));
  driver.set_receive_buffer(8 << 20);
  const wire::ByteVector cone = make_rs(true), plain = make_rs(false);
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) driver.send(endpoint("203.0.113.1", 3544), i % 2 ? cone : plain);
  int from_primary = 0, from_secondary = 0, bad = 0;
  while (const auto r = driver.receive(1s)) {
    const RaSummary ra = read_ra(r->payload);
    if (!ra.error.empty() || to_string(ra.origin) != "198.51.100.7:40005") ++bad;
    const bool cone_ra = ra.destination == rs_source(true);
    if (to_string(r->from) == "203.0.113.1:3544" && !cone_ra) ++from_primary;
    if (to_string(r->from) == "203.0.113.2:3544" && cone_ra) ++from_secondary;
  }
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(from_primary, kCount / 2) << server.output();
  EXPECT_EQ(from_secondary, kCount / 2) << server.output();
  const std::string log = server.output();
  EXPECT_EQ(log.find(" action "), std::string::npos) << log;
  EXPECT_EQ(log.find(" io "), std::string::npos) << log;
  // The stats line at shutdown: every RS in, every RA out, in fewer
  // recvmmsg calls than datagrams.
  ASSERT_EQ(terminate(server), 0) << server.output();
  std::smatch m;
  const std::string final_log = server.output();
  ASSERT_TRUE(std::regex_search(final_log, m, std::regex(R"(stats datagrams-in (\d+) receive-batches (\d+) datagrams-out (\d+) send-failures 0 )")))
      << final_log;
  EXPECT_EQ(std::stoi(m[1].str()), kCount);
  EXPECT_LT(std::stoi(m[2].str()), kCount);
  EXPECT_EQ(std::stoi(m[3].str()), kCount);
  std::cout << "burst of " << kCount << " RSs: " << m[2].str() << " recvmmsg batches" << std::endl;
}

TEST_F(RefLabTest, ServerSecureQualification) {
  auto lab = up("server-only");
  const std::string secret = write_file(lab->run_dir() + "/secret", "s3cret shared\n");
  const Daemon server = start_ref(*lab, "server",
                                  {"server", "--primary", "203.0.113.1", "--secret-file", secret, "--client-id",
                                   "alice", "--expired-client-id", "bob"},
                                  "ref-server");
  EXPECT_TRUE(wait_for_log(server, "secure hmac-sha1 2 clients")) << server.output();
  LabUdp driver(*lab, "driver", endpoint("198.51.100.7", 40001));
  const Endpoint primary = endpoint("203.0.113.1", 3544);

  RsAuth alice{"alice", "s3cret shared", {1, 2, 3, 4, 5, 6, 7, 8}};
  driver.send(primary, make_rs(false, 255, alice));
  auto r = driver.receive(2s);
  ASSERT_TRUE(r) << server.output();
  RaSummary ra = read_ra(r->payload);
  ASSERT_EQ(ra.error, "");
  ASSERT_TRUE(ra.authenticated);  // R4380-5.3.2-11: id and nonce repeated
  EXPECT_EQ(std::string(ra.client_id.begin(), ra.client_id.end()), "alice");
  EXPECT_EQ(ra.nonce, alice.nonce);
  EXPECT_EQ(ra.confirmation, 0);  // R4380-5.3.2-12
  {
    // R4380-5.3.2-10/13: the RA's HMAC verifies with the client's secret.
    const auto d = wire::parse_datagram(r->payload);
    ASSERT_TRUE(d);
    const std::string key = "s3cret shared";
    EXPECT_TRUE(wire::verify_authentication(
        *d, wire::MacAlgorithm::hmac_sha1,
        wire::Bytes(reinterpret_cast<const std::uint8_t*>(key.data()), key.size())));
  }

  RsAuth bob{"bob", "s3cret shared", {9, 9, 9, 9, 9, 9, 9, 9}};
  driver.send(primary, make_rs(false, 255, bob));
  r = driver.receive(2s);
  ASSERT_TRUE(r) << server.output();
  ra = read_ra(r->payload);
  EXPECT_EQ(ra.confirmation, 1) << "an expired client id is answered with confirmation 1";

  // R4380-5.3.1-06: no authentication, an unknown id or a wrong secret: no RA.
  driver.send(primary, make_rs(false));
  RsAuth mallory{"mallory", "s3cret shared", {}};
  driver.send(primary, make_rs(false, 255, mallory));
  RsAuth wrong{"alice", "guess", {}};
  driver.send(primary, make_rs(false, 255, wrong));
  EXPECT_FALSE(driver.receive(500ms)) << server.output();
  EXPECT_TRUE(wait_for_log(server, "drop drop_auth_missing R4380-5.3.1-06")) << server.output();
  EXPECT_TRUE(wait_for_log(server, "drop drop_auth_unknown_client R4380-5.3.1-06")) << server.output();
  EXPECT_TRUE(wait_for_log(server, "drop drop_auth_bad_mac R4380-5.3.1-06")) << server.output();
}

TEST_F(RefLabTest, ServerOriginIsTheNatMapping) {
  auto lab = up("client-nat", "port-restricted-cone");
  const Daemon server = start_ref(*lab, "server", {"server", "--primary", "203.0.113.1"}, "ref-server");
  EXPECT_TRUE(wait_for_log(server, "forward-native raw-socket")) << "the server host has native IPv6 here\n"
                                                                   << server.output();
  LabUdp client(*lab, "client", endpoint("192.0.2.10", 40002));
  client.send(endpoint("203.0.113.1", 3544), make_rs(false));
  const auto r = client.receive(2s);
  ASSERT_TRUE(r) << server.output();
  EXPECT_EQ(to_string(r->from), "203.0.113.1:3544");
  const RaSummary ra = read_ra(r->payload);
  ASSERT_EQ(ra.error, "");
  // The NAT's outside address (its port is the NAT's choice: preserved here).
  EXPECT_EQ(wire::to_string(ra.origin.address), "198.51.100.1");
  EXPECT_NE(ra.origin.port, 0);

  // A cone-bit RS is answered from the secondary address, which a
  // port-restricted NAT filters: that is the point of the cone test.
  client.send(endpoint("203.0.113.1", 3544), make_rs(true));
  EXPECT_FALSE(client.receive(500ms)) << "the port-restricted NAT let the secondary's RA in";
}

// The relay, with a Teredo client played by the test behind the NAT, and the
// native IPv6 host pinging it: native -> relay TUN -> bubble via the server ->
// the client's direct bubble -> queued echo request -> echo reply -> native.
// `extra`: more relay flags. The relay is stopped at the end; `relay_log`
// gets its whole log.
void relay_carries_native_ping(Lab& lab, const std::vector<std::string>& extra, std::string& relay_log) {
  const std::string tun = lab.prefix() + "-tun";
  const Daemon server = start_ref(lab, "server", {"server", "--primary", "203.0.113.1", "-v"}, "ref-server");
  std::vector<std::string> args = {"relay", "--bind", "198.51.100.20", "--interface", tun, "--time-scale", "0.5", "-v"};
  args.insert(args.end(), extra.begin(), extra.end());
  const Daemon relay = start_ref(lab, "relay", args, "ref-relay");
  EXPECT_TRUE(wait_for_log(relay, "bubble-source 2001:db8:1::1")) << relay.output();

  PlayedClient client(lab, "client", endpoint("192.0.2.10", 40003));
  const auto address = client.qualify(*wire::parse_ipv4("203.0.113.1"));
  ASSERT_TRUE(address) << server.output();
  const std::string teredo = wire::to_string(client.ipv6());
  EXPECT_NE(teredo.find(":39cc:9bfe"), std::string::npos) << teredo;  // ~198.51.100.1

  auto ping = std::async(std::launch::async, [&] { return ping6(lab, "v6host", teredo, 3); });
  client.serve(10s, [&] { return ping.wait_for(0s) == std::future_status::ready; });
  const bool ok = ping.get();
  EXPECT_TRUE(ok) << "ping6 v6host -> " << teredo << " failed\nrelay log:\n"
                  << relay.output() << "\nserver log:\n"
                  << server.output();
  EXPECT_GE(client.indirect_bubbles, 1u) << "the relay's bubble reaches the client through the server";
  ASSERT_FALSE(client.bubble_origins.empty());
  EXPECT_EQ(to_string(client.bubble_origins.front()), "198.51.100.20:3544") << "origin = the relay's endpoint";
  EXPECT_GE(client.echo_requests, 1u);
  for (const Endpoint& e : client.echo_senders) EXPECT_EQ(to_string(e), "198.51.100.20:3544");
  EXPECT_NE(relay.output().find("action peer_trusted R4380-5.4.2-03"), std::string::npos) << relay.output();
  EXPECT_NE(relay.output().find("action delivered_to_ipv6 R4380-5.4.2-04"), std::string::npos) << relay.output();
  EXPECT_NE(server.output().find("action bubble_forwarded R4380-5.3.1-16"), std::string::npos) << server.output();
  const int status = terminate(relay);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n" << relay.output();
  relay_log = relay.output();
}

TEST_F(RefLabTest, RelayCarriesNativePingToTeredoClientAndBack) {
  auto lab = up("client-nat", "port-restricted-cone");
  std::string log;
  relay_carries_native_ping(*lab, {}, log);
  EXPECT_EQ(log.find("packet-ring"), std::string::npos) << log;
}

// The same with --packet-ring on the relay's IPv4 interface: the client's
// datagrams come from the AF_PACKET ring, the bubbles and the queued echo
// request leave through it (the played client's own kernel judges the
// frames), the native side stays the kernel's.
TEST_F(RefLabTest, RelayPacketRingCarriesNativePingToTeredoClientAndBack) {
  auto lab = up("client-nat", "port-restricted-cone");
  std::string log;
  relay_carries_native_ping(*lab, {"--packet-ring", "eth0"}, log);
  if (HasFailure()) return;
  EXPECT_NE(log.find(" serves ::/0 packet-ring eth0\n"), std::string::npos) << log;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m,
                                std::regex(R"(stats packet-ring eth0 frames-in (\d+) bad-checksum 0 cut 0 not-ours (\d+) )"
                                           R"(ring-full 0 sent (\d+) not-queued (\d+)\n)")))
      << log;
  EXPECT_GE(std::stoul(m[1]), 3u) << "the direct bubble and the echo replies came from the ring\n" << log;
  EXPECT_EQ(m[2], "0") << log;
  EXPECT_GE(std::stoul(m[3]), 1u) << "nothing left through the transmit ring\n" << log;
  // Every datagram the relay received went to the node: those from the ring
  // and any that reached the socket before its filter.
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(stats datagrams-in (\d+) )"))) << log;
  EXPECT_GE(std::stoul(m[1]), 3u) << log;
}

// SIGTERM removes the TUN device and its route; the daemon exits 0.
TEST_F(RefLabTest, RelayShutdownRemovesTunAndRoute) {
  auto lab = up("client-nat");
  const std::string tun = lab->prefix() + "-tun";
  const Daemon relay = start_ref(*lab, "relay", {"relay", "--bind", "198.51.100.20:3545", "--interface", tun}, "ref-relay");
  const auto link = lab->exec("relay", {"ip", "-o", "link", "show", "dev", tun});
  EXPECT_EQ(link.exit_code, 0) << link.output;
  EXPECT_NE(link.output.find("mtu 1280"), std::string::npos) << link.output;
  EXPECT_NE(link.output.find(",UP"), std::string::npos) << link.output;
  const auto route = lab->exec("relay", {"ip", "-6", "route", "show", "2001::/32"});
  EXPECT_NE(route.output.find("dev " + tun), std::string::npos) << route.output;

  // A second relay on the same interface fails, naming the step.
  const auto busy = lab->exec("relay", {TEREDO_REF_BIN, "relay", "--bind", "198.51.100.20:3546", "--interface", tun});
  EXPECT_EQ(busy.exit_code, 1) << busy.output;
  EXPECT_NE(busy.output.find("TUNSETIFF " + tun), std::string::npos) << busy.output;
  // An address the host does not have: the bind step is named.
  const auto bind = lab->exec("relay", {TEREDO_REF_BIN, "relay", "--bind", "192.0.2.99", "--interface", tun + "2"});
  EXPECT_EQ(bind.exit_code, 1) << bind.output;
  EXPECT_NE(bind.output.find("bind 192.0.2.99:3544"), std::string::npos) << bind.output;

  const int status = terminate(relay);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n" << relay.output();
  EXPECT_NE(relay.output().find("stopped"), std::string::npos) << relay.output();
  EXPECT_NE(lab->exec("relay", {"ip", "link", "show", "dev", tun}).exit_code, 0) << "the TUN device is still there";
  EXPECT_EQ(lab->exec("relay", {"ip", "-6", "route", "show", "2001::/32"}).output, "") << "the route is still there";
}

// A host-specific relay (§5.5) carries its own host's traffic to a Teredo
// client, and refuses to forward for anyone else (R4380-5.5-03).
TEST_F(RefLabTest, HostRelayServesOnlyItsHost) {
  auto lab = up("client-nat", "full-cone");
  const std::string tun = lab->prefix() + "-tun";
  const Daemon server = start_ref(*lab, "server", {"server", "--primary", "203.0.113.1"}, "ref-server");
  const Daemon relay = start_ref(*lab, "relay", {"host-relay", "--bind", "198.51.100.20", "--interface", tun, "-v"},
                                 "ref-host-relay");
  EXPECT_TRUE(wait_for_log(relay, "host 2001:db8:1::1")) << relay.output();

  PlayedClient client(*lab, "client", endpoint("192.0.2.10", 40004));
  ASSERT_TRUE(client.qualify(*wire::parse_ipv4("203.0.113.1"))) << server.output();
  const std::string teredo = wire::to_string(client.ipv6());

  auto own = std::async(std::launch::async, [&] { return ping6(*lab, "relay", teredo, 2); });
  client.serve(10s, [&] { return own.wait_for(0s) == std::future_status::ready; });
  EXPECT_TRUE(own.get()) << relay.output();

  auto other = std::async(std::launch::async, [&] { return ping6(*lab, "v6host", teredo, 1); });
  client.serve(10s, [&] { return other.wait_for(0s) == std::future_status::ready; });
  EXPECT_FALSE(other.get()) << "a host-specific relay forwarded another host's packet";
  EXPECT_TRUE(wait_for_log(relay, "drop drop_source_not_local_host R4380-5.5-03 2001:db8:1::10")) << relay.output();
}

}  // namespace
}  // namespace teredo::reftest
