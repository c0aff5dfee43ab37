// teredo-ref client in network namespaces (label lab: root, no Miredo), with
// teredo-ref server and relay as its peers, every timer at --time-scale 0.1:
// behind each NAT profile it qualifies (or refuses behind a symmetric NAT)
// and reaches the native IPv6 host through the relay both ways; after a NAT
// rebind it changes its address within one refresh interval; two clients
// behind different NATs talk directly after bubbles, two behind one NAT
// without hairpinning find each other by local discovery (the captures show
// the path); an RA whose HMAC was made with another secret is refused.
#include <gtest/gtest.h>

#include <thread>

#include "common/nat_profiles.hpp"
#include "engine/capture.hpp"
#include "ref_harness.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::reftest {
namespace {

using conformance::Capture;
using conformance::CapturedFrame;
using netns::Lab;
using Case = teredo::test::NatProfileCase;
using teredo::test::kNatProfileCases;

// At --time-scale 0.1: RS timeout 0.4 s, 4 RSs per phase, refresh 3 s.
constexpr auto kQualifyTimeout = 8s;
constexpr auto kRefreshInterval = 3s;

std::unique_ptr<Lab> lab_with_profile(const std::string& topology, const std::string& nat_host,
                                      const std::string& profile) {
  netns::Topology t = netns::load_topology(topology_path(topology));
  if (!profile.empty()) {
    EXPECT_TRUE(netns::apply_nat_profile(profile, *t.hosts.at(nat_host).nat));
  }
  auto lab = Lab::up(t);
  EXPECT_TRUE(lab->wait_ipv6_ready()) << "IPv6 links not ready";
  return lab;
}

// UDP datagrams on a capture from `source` to `destination` (IPv4) whose
// payload is a Teredo datagram carrying an ICMPv6 echo request or reply.
std::vector<CapturedFrame> echo_datagrams(const Capture& capture, wire::Ipv4Address source,
                                          wire::Ipv4Address destination) {
  const auto link = capture.link_type();
  return capture.frames([&](const CapturedFrame& f) {
    const auto c = wire::find_udp_carrier(link, f.data);
    if (!c || c->ipv6 || c->source4 != source || c->destination4 != destination) return false;
    const auto d = wire::parse_datagram(c->payload);
    if (!d || d->ipv6.header.next_header != wire::kNextHeaderIcmpv6) return false;
    const auto icmp = wire::parse_icmpv6(d->ipv6, wire::ChecksumPolicy::ignore);
    return icmp && (icmp->type == wire::kIcmpv6EchoRequest || icmp->type == wire::kIcmpv6EchoReply);
  });
}

wire::Ipv4Address v4(const char* text) { return *wire::parse_ipv4(text); }

class RefClientLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
  }
};

class RefClientProfileTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
  }
};

TEST_P(RefClientProfileTest, QualifiesOrRefusesAndReachesNativeHostThroughRelay) {
  const Case& c = GetParam();
  auto lab = lab_with_profile("client-nat", "nat", c.profile);
  const Daemon server = start_ref(*lab, "server", {"server", "--primary", "203.0.113.1", "-v"}, "ref-server");
  const Daemon relay = start_ref(*lab, "relay", {"relay", "--bind", "198.51.100.20", "--interface",
                                                 lab->prefix() + "-rtun", "-v"},
                                 "ref-relay");
  const RefClient client = start_ref_client(*lab, "client", "ref-client");
  const auto state = wait_client_state(client.state_file, client_settled, kQualifyTimeout);
  ASSERT_TRUE(state) << client.daemon.output();
  const auto on_tun = teredo_address_on(*lab, "client", client.tun);
  const auto [qualified, out, back, summary] =
      client_outcome(*lab, c.profile, *state, "teredo-ref server", "teredo-ref relay");
  RecordProperty("outcome", summary);
  std::cout << summary << std::endl;

  if (c.profile == "symmetric") {
    // §5.2.1: a different mapping from the secondary address: symmetric NAT,
    // Teredo cannot work (without RFC 6081 support), the client stays off.
    EXPECT_EQ(state->state, "offline") << client.daemon.output();
    EXPECT_EQ(state->nat, "symmetric") << client.daemon.output();
    EXPECT_FALSE(on_tun) << *on_tun;
    EXPECT_NE(client.daemon.output().find("symmetric_nat_detected R4380-5.2.1-05"), std::string::npos)
        << client.daemon.output();
    return;
  }
  if (!c.ping_required) return;  // recorded only
  ASSERT_TRUE(qualified) << client.daemon.output() << "\nserver:\n" << server.output();
  // RFC 5991 §3.2: the cone bit is never probed, so cone and restricted NATs
  // both read as "restricted".
  EXPECT_EQ(state->nat, "restricted");
  ASSERT_TRUE(on_tun) << "no Teredo address on " << client.tun;
  EXPECT_EQ(*on_tun, state->address);
  const auto address = wire::parse_teredo(state->address);
  ASSERT_TRUE(address) << state->address;
  EXPECT_EQ(address->server, v4("203.0.113.1"));
  EXPECT_EQ(address->mapped_ipv4, v4("198.51.100.1"));  // the NAT's outside address
  EXPECT_FALSE(address->cone()) << "R5991-3.1-02: cone bit clear";
  EXPECT_EQ(address->flags, address->random_bits()) << "R5991-3.1-03: only the random bits under 0x3CFF";
  EXPECT_TRUE(out) << summary << "\nclient:\n" << client.daemon.output() << "\nrelay:\n" << relay.output();
  EXPECT_TRUE(back) << summary << "\nclient:\n" << client.daemon.output() << "\nrelay:\n" << relay.output();
  // The way out was found by the §5.2.9 test through the server.
  EXPECT_NE(client.daemon.output().find("echo_test_sent R4380-5.2.9-01"), std::string::npos)
      << client.daemon.output();
  // Everything is gone after SIGTERM.
  EXPECT_EQ(terminate(client.daemon), 0);
  EXPECT_FALSE(lab->exec("client", {"ip", "link", "show", client.tun}).exit_code == 0) << client.tun << " left";
  EXPECT_FALSE(read_client_state(client.state_file)) << "state file left";
}

INSTANTIATE_TEST_SUITE_P(Profiles, RefClientProfileTest, ::testing::ValuesIn(kNatProfileCases),
                         [](const auto& param_info) { return teredo::test::profile_test_name(param_info.param); });

TEST_F(RefClientLabTest, NatRebindGivesNewAddressWithinOneRefreshInterval) {
  auto lab = lab_with_profile("client-nat", "nat", "port-restricted-cone");
  start_ref(*lab, "server", {"server", "--primary", "203.0.113.1", "-v"}, "ref-server");
  start_ref(*lab, "relay", {"relay", "--bind", "198.51.100.20", "--interface", lab->prefix() + "-rtun"}, "ref-relay");
  const RefClient client = start_ref_client(*lab, "client", "ref-client");
  const auto first = wait_client_state(client.state_file, client_settled, kQualifyTimeout);
  ASSERT_TRUE(first && first->state == "qualified") << client.daemon.output();

  const std::string answer = lab->nat_command("nat", "rebind");
  ASSERT_NE(answer.find("\"rebound\":1"), std::string::npos) << answer;
  const auto rebound_at = std::chrono::steady_clock::now();
  // R4380-5.2.5-06: the refresh RS goes out through a new mapping and the RA
  // names it; the client takes the new address. Tolerance: one RS time-out.
  const auto second = wait_client_state(
      client.state_file, [&](const ClientState& s) { return s.address != first->address && !s.address.empty(); },
      kRefreshInterval + 2s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - rebound_at);
  RecordProperty("address_change_ms", std::to_string(took.count()));
  std::cout << "rebind -> new address in " << took.count() << " ms (refresh interval 3000 ms at time scale 0.1)"
            << std::endl;
  ASSERT_TRUE(second && second->address != first->address) << client.daemon.output();
  EXPECT_LE(took, kRefreshInterval + 400ms);
  EXPECT_NE(second->mapped, first->mapped);
  EXPECT_EQ(teredo_address_on(*lab, "client", client.tun), second->address) << "the TUN keeps only the new address";
  EXPECT_NE(client.daemon.output().find("address_changed R4380-5.2.5-06"), std::string::npos) << client.daemon.output();
  EXPECT_TRUE(ping6(*lab, "client", "2001:db8:1::10"));
  EXPECT_TRUE(ping6(*lab, "v6host", second->address));
}

// R4380-5.5-01: with a global IPv6 address of its own the host is no Teredo
// client (the client idles, no RS); once the address is gone it qualifies;
// when native IPv6 comes back the Teredo address is withdrawn.
TEST_F(RefClientLabTest, NativeIpv6SunsetsTheClient) {
  auto lab = lab_with_profile("client-nat", "nat", "port-restricted-cone");
  const Daemon server = start_ref(*lab, "server", {"server", "--primary", "203.0.113.1", "-v"}, "ref-server");
  const auto native = [&](const char* verb) {
    return lab->exec("client", {"ip", "-6", "addr", verb, "2001:db8:5::10/64", "dev", "eth0", "nodad"}).exit_code;
  };
  ASSERT_EQ(native("add"), 0);
  const RefClient client = start_ref_client(*lab, "client", "ref-client");
  std::this_thread::sleep_for(2s);  // 5 qualification time-outs at time scale 0.1
  const auto idle = read_client_state(client.state_file);
  ASSERT_TRUE(idle) << client.daemon.output();
  EXPECT_EQ(idle->state, "starting") << client.daemon.output();
  EXPECT_EQ(server.output().find("rs_answered"), std::string::npos) << "an RS reached the server:\n"
                                                                     << server.output();
  EXPECT_NE(client.daemon.output().find("client sunset native IPv6 2001:db8:5::10"), std::string::npos)
      << client.daemon.output();

  ASSERT_EQ(lab->exec("client", {"ip", "-6", "addr", "del", "2001:db8:5::10/64", "dev", "eth0"}).exit_code, 0);
  const auto qualified = wait_client_state(
      client.state_file, [](const ClientState& s) { return s.state == "qualified"; }, kQualifyTimeout);
  ASSERT_TRUE(qualified && qualified->state == "qualified") << client.daemon.output();
  EXPECT_EQ(teredo_address_on(*lab, "client", client.tun), qualified->address);

  ASSERT_EQ(native("add"), 0);
  const auto withdrawn = wait_client_state(
      client.state_file, [](const ClientState& s) { return s.address.empty(); }, 3s);
  ASSERT_TRUE(withdrawn && withdrawn->address.empty()) << client.daemon.output();
  EXPECT_FALSE(teredo_address_on(*lab, "client", client.tun)) << "the Teredo address left the TUN";
}

TEST_F(RefClientLabTest, ClientsBehindTwoNatsTalkDirectlyAfterBubbles) {
  auto lab = lab_with_profile("two-clients", "", "");  // nat-a port-restricted, nat-b restricted
  const Daemon server = start_ref(*lab, "server", {"server", "--primary", "203.0.113.1", "-v"}, "ref-server");
  const RefClient a = start_ref_client(*lab, "client-a", "client-a");
  const RefClient b = start_ref_client(*lab, "client-b", "client-b");
  const auto sa = wait_client_state(a.state_file, client_settled, kQualifyTimeout);
  const auto sb = wait_client_state(b.state_file, client_settled, kQualifyTimeout);
  ASSERT_TRUE(sa && sa->state == "qualified") << a.daemon.output();
  ASSERT_TRUE(sb && sb->state == "qualified") << b.daemon.output();

  Capture wan("nat-a", lab->netns("nat-a"), "out0", lab->run_dir() + "/nat-a-out0.pcap");
  ASSERT_TRUE(ping6(*lab, "client-a", sb->address, 4)) << a.daemon.output() << "\n" << b.daemon.output();
  wan.stop();
  // §5.2.4 / §5.2.3: after the indirect bubble through the server and B's
  // direct answer, A's packets go straight to B's mapping.
  const auto direct = echo_datagrams(wan, v4("198.51.100.1"), v4("198.51.100.2"));
  const auto back = echo_datagrams(wan, v4("198.51.100.2"), v4("198.51.100.1"));
  const auto via_server = echo_datagrams(wan, v4("198.51.100.1"), v4("203.0.113.1"));
  std::cout << "A->B direct echo datagrams " << direct.size() << ", B->A " << back.size() << ", via the server "
            << via_server.size() << " (capture " << wan.path() << ")" << std::endl;
  EXPECT_GE(direct.size(), 3u) << "echo requests A->B did not go directly";
  EXPECT_GE(back.size(), 3u) << "echo replies B->A did not go directly";
  EXPECT_TRUE(via_server.empty()) << "echo packets went through the server";
  EXPECT_NE(a.daemon.output().find("peer_trusted"), std::string::npos) << a.daemon.output();
}

TEST_F(RefClientLabTest, ClientsBehindOneNatWithoutHairpinningUseLocalDiscovery) {
  auto lab = lab_with_profile("same-nat", "", "");  // hairpinning off
  start_ref(*lab, "server", {"server", "--primary", "203.0.113.1", "-v"}, "ref-server");
  // Time scale 0.02: discovery bubbles every 4-6 s. A hears B's first one;
  // B, started later, needs A's next one (a unicast reply bubble from a peer
  // it has no entry for is dropped, §5.2.3).
  const RefClient a = start_ref_client(*lab, "client-a", "client-a", {"--local-discovery", "--time-scale", "0.02"});
  const RefClient b = start_ref_client(*lab, "client-b", "client-b", {"--local-discovery", "--time-scale", "0.02"});
  const auto sa = wait_client_state(a.state_file, client_settled, kQualifyTimeout);
  const auto sb = wait_client_state(b.state_file, client_settled, kQualifyTimeout);
  ASSERT_TRUE(sa && sa->state == "qualified") << a.daemon.output();
  ASSERT_TRUE(sb && sb->state == "qualified") << b.daemon.output();
  // Both embed the one NAT's outside address: only the LAN path can work.
  ASSERT_TRUE(wait_for_log(a.daemon, "discovery_bubble_received", 8s)) << a.daemon.output();
  ASSERT_TRUE(wait_for_log(b.daemon, "discovery_bubble_received", 8s)) << b.daemon.output();

  Capture lan("client-a", lab->netns("client-a"), "eth0", lab->run_dir() + "/client-a-eth0.pcap");
  const bool ok = ping6(*lab, "client-a", sb->address, 4);
  lan.stop();
  const auto local = echo_datagrams(lan, v4("192.0.2.10"), v4("192.0.2.11"));
  const auto local_back = echo_datagrams(lan, v4("192.0.2.11"), v4("192.0.2.10"));
  std::cout << "A->B on the LAN " << local.size() << ", B->A " << local_back.size() << " echo datagrams (capture "
            << lan.path() << ")" << std::endl;
  ASSERT_TRUE(ok) << a.daemon.output() << "\n" << b.daemon.output();
  EXPECT_GE(local.size(), 3u);
  EXPECT_GE(local_back.size(), 3u);
  // R4380-5.2.8-04: sent to 224.0.0.253 with TTL 1.
  EXPECT_NE(a.daemon.output().find("discovery_bubble_sent R4380-5.2.8-04"), std::string::npos);
}

// A server played by the test on both addresses: answers every RS with an RA
// carrying the RS's nonce and client id, and an HMAC keyed with `secret`.
class PlayedSecureServer {
 public:
  PlayedSecureServer(const Lab& lab, std::string secret)
      : primary_(lab, "server", endpoint("203.0.113.1", 3544)),
        secondary_(lab, "server", endpoint("203.0.113.2", 3544)),
        secret_(std::move(secret)) {}

  void set_secret(std::string secret) { secret_ = std::move(secret); }
  void serve(std::chrono::milliseconds duration) {
    const auto deadline = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const LabUdp* s : {&primary_, &secondary_}) {
        if (const auto r = s->receive(10ms)) answer(*s, *r);
      }
    }
  }
  int answered = 0;

 private:
  void answer(const LabUdp& socket, const LabUdp::Received& rs) {
    const auto d = wire::parse_datagram(rs.payload);
    if (!d || !d->authentication) return;
    const wire::Ipv6Address source = *wire::parse_ipv6("fe80::8000:f227:34ff:8efe");
    wire::ByteVector options;
    wire::PrefixInformation prefix;
    prefix.flags = 0x40;
    prefix.prefix = *wire::parse_ipv6("2001:0:cb00:7101::");
    wire::append_prefix_information_option(options, prefix);
    wire::append_mtu_option(options, 1280);
    wire::RouterAdvertisement fields;
    const wire::ByteVector ra = wire::build_router_advertisement(source, d->ipv6.header.source, fields, options);
    const wire::OriginIndication origin{rs.from.port, rs.from.address};
    wire::ByteVector origin_encoded;
    wire::append_origin_indication(origin_encoded, origin);
    const wire::Bytes key(reinterpret_cast<const std::uint8_t*>(secret_.data()), secret_.size());
    const auto mac = wire::compute_authentication_value(wire::MacAlgorithm::hmac_sha1, key, d->authentication->nonce,
                                                        0, origin_encoded, ra);
    if (!mac) return;
    wire::AuthenticationFields auth;
    auth.client_id = d->authentication->client_id;
    auth.authentication_value = mac->view();
    auth.nonce = d->authentication->nonce;
    wire::ByteVector payload;
    if (!wire::append_datagram(payload, auth, origin, ra)) return;
    socket.send(rs.from, payload);
    ++answered;
  }
  LabUdp primary_, secondary_;
  std::string secret_;
};

TEST_F(RefClientLabTest, SecureQualificationRefusesAnRaWithAWrongHmac) {
  auto lab = lab_with_profile("client-nat", "nat", "full-cone");
  const std::string secret_file = write_file(lab->run_dir() + "/secret", "the-right-secret\n");
  PlayedSecureServer server(*lab, "a-wrong-secret");
  // Off-line after 4 refused RAs; qualification restarts 10 s (1 s scaled) later.
  const RefClient client = start_ref_client(
      *lab, "client", "ref-client", {"--secret-file", secret_file, "--client-id", "client-7", "--offline-retry", "10"});
  // R4380-5.2.2-04: RAs whose authentication value does not verify are
  // discarded: the client never qualifies on them.
  server.serve(2s);
  const auto refused = read_client_state(client.state_file);
  ASSERT_GT(server.answered, 0) << "the client sent no authenticated RS";
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->state, "qualified") << client.daemon.output();
  EXPECT_FALSE(teredo_address_on(*lab, "client", client.tun));
  EXPECT_NE(client.daemon.output().find("drop_ra_bad_mac R4380-5.2.2-04"), std::string::npos)
      << client.daemon.output();
  // The same server with the right secret: now it qualifies (the refusal
  // above was about the HMAC, nothing else).
  server.set_secret("the-right-secret");
  const int before = server.answered;
  const auto deadline = std::chrono::steady_clock::now() + kQualifyTimeout;
  std::optional<ClientState> s;
  while (std::chrono::steady_clock::now() < deadline && !(s && s->state == "qualified")) {
    server.serve(200ms);
    s = read_client_state(client.state_file);
  }
  ASSERT_GT(server.answered, before);
  ASSERT_TRUE(s && s->state == "qualified") << client.daemon.output();
}

TEST_F(RefClientLabTest, SecureQualificationWithRefServer) {
  auto lab = lab_with_profile("client-nat", "nat", "restricted-cone");
  const std::string secret_file = write_file(lab->run_dir() + "/secret", "shared-secret\n");
  start_ref(*lab, "server",
            {"server", "--primary", "203.0.113.1", "--secret-file", secret_file, "--client-id", "client-7", "-v"},
            "ref-server");
  const RefClient good =
      start_ref_client(*lab, "client", "ref-client", {"--secret-file", secret_file, "--client-id", "client-7"});
  const auto s = wait_client_state(good.state_file, client_settled, kQualifyTimeout);
  ASSERT_TRUE(s && s->state == "qualified") << good.daemon.output();
}

}  // namespace
}  // namespace teredo::reftest
