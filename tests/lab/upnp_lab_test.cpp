// The lab's UPnP IGD (a NAT profile with "+upnp") seen through the real
// miniupnpc client, upnpc, run in the client's namespace: it finds the IGD by
// SSDP, adds a UDP port mapping, lists it and deletes it; a host outside
// reaches the client through the mapped port while the mapping exists, and
// the NAT box's own record of the SOAP calls names what upnpc asked for.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "lab_probe.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::labtest {
namespace {

const std::string kClientLab = std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/client-lab.json";

std::unique_ptr<netns::Lab> upnp_lab(const std::string& profile) {
  netns::Topology t = netns::load_topology(kClientLab);
  EXPECT_TRUE(netns::apply_nat_profile(profile, *t.hosts.at("nat").nat));
  return netns::Lab::up(t);
}

std::uint64_t nat_counter(const netns::Lab& lab, const std::string& name) {
  return nlohmann::json::parse(lab.nat_command("nat", "stats")).at("counters").at(name).get<std::uint64_t>();
}

class UpnpLab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
    if (netns::run_command({"sh", "-c", "command -v upnpc"}).exit_code != 0) {
      GTEST_SKIP() << "upnpc (Debian package miniupnpc) is not installed: scripts/install-deps.sh";
    }
  }
};

class UpnpLabTest : public UpnpLab, public ::testing::WithParamInterface<std::string> {};

// upnpc -i: miniupnpc (2.2) calls an IGD whose external address is reserved
// "not connected" and stops there unless told to go on; the lab's external
// address is a documentation one (198.51.100.1), as every lab address must be.
TEST_P(UpnpLabTest, UpnpcAddsListsAndDeletesAMappingAnOutsideHostReaches) {
  auto lab = upnp_lab(GetParam());
  LabSocket client(*lab, "client", {"192.0.2.10", 40000});
  LabSocket outside(*lab, "server", {"203.0.113.1", 4000});

  const auto add = lab->exec("client", {"upnpc", "-i", "-a", "192.0.2.10", "40000", "40000", "UDP"});
  ASSERT_EQ(add.exit_code, 0) << add.output;
  EXPECT_NE(add.output.find("external 198.51.100.1:40000 UDP is redirected to internal 192.0.2.10:40000"),
            std::string::npos)
      << add.output;

  const auto list = lab->exec("client", {"upnpc", "-i", "-l"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("ExternalIPAddress = 198.51.100.1"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("UDP 40000->192.0.2.10:40000"), std::string::npos) << list.output;

  // The client has sent nothing: only the mapping lets the outside host in,
  // whatever the profile's filtering.
  outside.send_to({"198.51.100.1", 40000}, "through-the-mapping");
  const auto seen = client.receive("through-the-mapping", 2000);
  ASSERT_TRUE(seen) << "the datagram to the mapped port did not reach the client";
  EXPECT_EQ(*seen, (UdpEndpoint{"203.0.113.1", 4000}));

  const auto del = lab->exec("client", {"upnpc", "-i", "-d", "40000", "UDP"});
  ASSERT_EQ(del.exit_code, 0) << del.output;
  EXPECT_NE(del.output.find("UPNP_DeletePortMapping() returned : 0"), std::string::npos) << del.output;
  const auto after = lab->exec("client", {"upnpc", "-i", "-l"});
  EXPECT_EQ(after.output.find("UDP 40000->"), std::string::npos) << after.output;

  // Gone: the NAT drops the next datagram for lack of a mapping (its counter
  // says so; silence at the client alone would prove nothing).
  const std::uint64_t dropped_before = nat_counter(*lab, "no_mapping");
  outside.send_to({"198.51.100.1", 40000}, "after-delete");
  for (int i = 0; i < 200 && nat_counter(*lab, "no_mapping") == dropped_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(nat_counter(*lab, "no_mapping"), dropped_before + 1);
  EXPECT_FALSE(client.receive("after-delete", 100));

  // The IGD's record: the calls as upnpc sent them.
  const auto calls = nlohmann::json::parse(lab->nat_command("nat", "upnp")).at("calls");
  bool added = false, deleted = false;
  for (const auto& c : calls) {
    const auto& a = c.at("arguments");
    if (c.at("action") == "AddPortMapping" && c.at("error") == 0) {
      added = true;
      EXPECT_EQ(c.at("client"), "192.0.2.10");
      EXPECT_EQ(a.at("NewExternalPort"), "40000");
      EXPECT_EQ(a.at("NewInternalPort"), "40000");
      EXPECT_EQ(a.at("NewInternalClient"), "192.0.2.10");
      EXPECT_EQ(a.at("NewProtocol"), "UDP");
    }
    if (c.at("action") == "DeletePortMapping" && c.at("error") == 0) {
      deleted = true;
      EXPECT_EQ(a.at("NewExternalPort"), "40000");
    }
  }
  EXPECT_TRUE(added) << calls.dump();
  EXPECT_TRUE(deleted) << calls.dump();
}

// A symmetric NAT (the one RFC 6081 §5.3 is for) and a cone.
INSTANTIATE_TEST_SUITE_P(Profiles, UpnpLabTest, ::testing::Values("symmetric+upnp", "port-restricted-cone+upnp"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (char& ch : name) {
                             if (ch == '-' || ch == '+') ch = '_';
                           }
                           return name;
                         });

// Without "+upnp" there is no IGD: upnpc finds nothing.
TEST_F(UpnpLab, NoIgdWithoutUpnp) {
  auto lab = upnp_lab("symmetric");
  const auto add = lab->exec("client", {"upnpc", "-i", "-a", "192.0.2.10", "40000", "40000", "UDP"});
  EXPECT_NE(add.output.find("No IGD UPnP Device found"), std::string::npos) << add.output;
  EXPECT_NE(lab->nat_command("nat", "upnp").find("no UPnP IGD"), std::string::npos);
}

}  // namespace
}  // namespace teredo::labtest
