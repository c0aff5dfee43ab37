// teredo-ref server --packet-ring in the lab (label lab: root + network
// namespaces): datagrams come from an AF_PACKET receive ring and answers
// leave through a transmit ring. The driver's own kernel judges what the
// ring sends (a wrong MAC, IPv4 or UDP checksum would never reach its
// socket); the server's closing "stats packet-ring" line tells what the
// ring saw.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <regex>
#include <thread>

#include "ref_harness.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/wire/frame.hpp"

namespace teredo::reftest {
namespace {

using netns::Lab;

const char* const kServerLinkLocal = "fe80::8000:f227:34ff:8efe";  // as in ref_lab_test.cpp, written out
const char* const kServerPrefix = "2001:0:cb00:7101::";

class RefLabPacketRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
  }
};

// A raw IPv4 socket in the driver: the test writes the UDP header itself
// (the kernel fills in only the IPv4 total length and header checksum).
class RawIpv4 {
 public:
  RawIpv4(const Lab& lab, const std::string& host) : fd_(lab.socket(host, AF_INET, SOCK_RAW, IPPROTO_RAW)) {}
  ~RawIpv4() { ::close(fd_); }
  RawIpv4(const RawIpv4&) = delete;
  RawIpv4& operator=(const RawIpv4&) = delete;
  void send(const wire::ByteVector& packet, wire::Ipv4Address to) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(to.value);
    ASSERT_EQ(::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a),
              static_cast<ssize_t>(packet.size()));
  }

 private:
  int fd_;
};

void expect_ra(const LabUdp::Received& r, const std::string& from, bool cone) {
  EXPECT_EQ(to_string(r.from), from);
  const RaSummary ra = read_ra(r.payload);
  ASSERT_EQ(ra.error, "");
  EXPECT_EQ(to_string(ra.origin), "198.51.100.7:40010");  // R4380-5.3.2-01
  EXPECT_EQ(wire::to_string(ra.source), kServerLinkLocal);
  EXPECT_EQ(ra.destination, rs_source(cone));
  EXPECT_EQ(ra.hop_limit, 255);
  ASSERT_TRUE(ra.prefix);
  EXPECT_EQ(wire::to_string(*ra.prefix), kServerPrefix);
  EXPECT_EQ(ra.mtu, std::optional<std::uint32_t>(1280));
}

TEST_F(RefLabPacketRingTest, ServerAnswersThroughTheRingAndDropsWhatItMust) {
  auto lab = Lab::up(netns::load_topology(topology_path("server-only")));
  const Daemon server =
      start_ref(*lab, "server", {"server", "--primary", "203.0.113.1", "--packet-ring", "eth0"}, "ref-ring");
  ASSERT_TRUE(wait_for_log(server, " packet-ring eth0")) << server.output();
  LabUdp driver(*lab, "driver", endpoint("198.51.100.7", 40010));
  int to_server_port = 0;  // datagrams sent to 203.0.113.{1,2}:3544: the ring must see exactly these

  // Valid RSs: the RA comes from the right address (the secondary when the
  // cone bit is set, R4380-5.3.2-07), one answer per RS.
  struct Case {
    const char* to;
    bool cone;
    const char* from;
  };
  const Case cases[] = {{"203.0.113.1", false, "203.0.113.1:3544"},
                        {"203.0.113.1", true, "203.0.113.2:3544"},
                        {"203.0.113.2", true, "203.0.113.1:3544"},
                        {"203.0.113.2", false, "203.0.113.2:3544"},
                        {"203.0.113.1", false, "203.0.113.1:3544"},
                        {"203.0.113.1", true, "203.0.113.2:3544"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("RS to ") + c.to + (c.cone ? " with" : " without") + " the cone bit");
    driver.send(endpoint(c.to, 3544), make_rs(c.cone));
    ++to_server_port;
    const auto r = driver.receive(2s);
    ASSERT_TRUE(r) << "no RA; server log:\n" << server.output();
    expect_ra(*r, c.from, c.cone);
  }
  EXPECT_FALSE(driver.receive(200ms)) << "an RS answered twice: the sockets' drop filter let it through";

  // The same RS written with a raw socket: answered with the right UDP
  // checksum and with none (0: allowed in IPv4), dropped with a wrong one.
  RawIpv4 raw(*lab, "driver");
  wire::Ipv4UdpEndpoints e;
  e.source = endpoint("198.51.100.7", 0).address;
  e.source_port = 40010;
  e.destination = endpoint("203.0.113.1", 0).address;
  e.destination_port = 3544;
  const wire::ByteVector good = wire::build_ipv4_udp(e, make_rs(false));
  raw.send(good, e.destination);
  ++to_server_port;
  auto r = driver.receive(2s);
  ASSERT_TRUE(r) << "the raw-socket RS was not answered:\n" << server.output();
  expect_ra(*r, "203.0.113.1:3544", false);

  wire::ByteVector no_checksum = good;
  no_checksum[26] = no_checksum[27] = 0;
  raw.send(no_checksum, e.destination);
  ++to_server_port;
  r = driver.receive(2s);
  ASSERT_TRUE(r) << "an RS without UDP checksum was not answered:\n" << server.output();
  expect_ra(*r, "203.0.113.1:3544", false);

  wire::ByteVector bad_checksum = good;
  bad_checksum[26] ^= 0x5A;
  raw.send(bad_checksum, e.destination);
  ++to_server_port;
  EXPECT_FALSE(driver.receive(400ms)) << "an RS with a wrong UDP checksum was answered";

  // The next hop forgotten by the kernel (and the ring's 1 s cache expired):
  // the answer leaves from the UDP socket, whose send makes the kernel
  // resolve the driver again; the answer after that takes the ring again.
  const auto flushed = lab->exec("server", {"ip", "neigh", "flush", "dev", "eth0"});
  ASSERT_EQ(flushed.exit_code, 0) << flushed.output;
  std::this_thread::sleep_for(1200ms);
  for (int i = 0; i < 2; ++i) {
    driver.send(endpoint("203.0.113.1", 3544), make_rs(false));
    ++to_server_port;
    r = driver.receive(2s);
    ASSERT_TRUE(r) << "no RA after the neighbour flush:\n" << server.output();
    expect_ra(*r, "203.0.113.1:3544", false);
    std::this_thread::sleep_for(300ms);  // past the 100 ms an unknown next hop is cached
  }

  // Another port of the server's address: the filter keeps it out of the ring.
  driver.send(endpoint("203.0.113.1", 3545), make_rs(false));
  driver.send(endpoint("203.0.113.2", 3545), make_rs(true));
  EXPECT_FALSE(driver.receive(400ms));

  const int status = terminate(server);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n" << server.output();
  const std::string log = server.output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(stats packet-ring eth0 frames-in (\d+) bad-checksum (\d+) cut (\d+) not-ours (\d+) ring-full (\d+) sent (\d+) not-queued (\d+)\n)")))
      << log;
  std::cout << m[0].str();
  const int answered = to_server_port - 1;
  EXPECT_EQ(std::stoi(m[1].str()), to_server_port) << "frames the filter let into the ring\n" << log;
  EXPECT_EQ(std::stoi(m[2].str()), 1) << log;
  EXPECT_EQ(std::stoi(m[3].str()), 0) << log;
  EXPECT_EQ(std::stoi(m[4].str()), 0) << log;
  // Every answer went through the ring but one: the first after the
  // neighbour flush took the socket. (Before it, the driver's ARP request
  // for the server has left the driver's address in the server's table.)
  EXPECT_EQ(std::stoi(m[6].str()), answered - 1) << log;
  EXPECT_EQ(std::stoi(m[7].str()), 1) << log;
  // The daemon's own counters: what the node got and sent.
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(stats datagrams-in (\d+) receive-batches \d+ datagrams-out (\d+) send-failures 0 )")))
      << log;
  EXPECT_EQ(std::stoi(m[1].str()), answered) << log;
  EXPECT_EQ(std::stoi(m[2].str()), answered) << log;
  EXPECT_EQ(log.find(" io "), std::string::npos) << log;
}

// A name that is valid but names no interface of the server's namespace:
// one line, exit 2, nothing started.
TEST_F(RefLabPacketRingTest, UnknownInterfaceIsRefused) {
  auto lab = Lab::up(netns::load_topology(topology_path("server-only")));
  const auto result = lab->exec("server", {TEREDO_REF_BIN, "server", "--primary", "203.0.113.1", "--packet-ring", "eth9"});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("--packet-ring: no interface 'eth9'"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace teredo::reftest
