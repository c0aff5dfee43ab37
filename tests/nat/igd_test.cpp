// The lab NAT's UPnP IGD (teredo::nat::Igd), sans I/O: SSDP answers, HTTP
// framing, the device description and the WANIPConnection:1 SOAP actions an
// RFC 6081 §5.3 client uses (AddPortMapping, GetExternalIPAddress,
// DeletePortMapping) plus the ones upnpc lists with, each checked against the
// NatEngine's table it drives. Requests are written here the way miniupnpc
// writes them (soapPostSubmit: SOAPAction header, s:Envelope, u:Action).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "teredo/nat/igd.hpp"
#include "teredo/nat/nat_engine.hpp"
#include "teredo/netns/topology.hpp"

namespace teredo::nat {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kInside = (192u << 24) | (0u << 16) | (2u << 8) | 1u;      // 192.0.2.1
constexpr std::uint32_t kOutside = (198u << 24) | (51u << 16) | (100u << 8) | 1u;  // 198.51.100.1
constexpr std::uint32_t kClient = (192u << 24) | (0u << 16) | (2u << 8) | 10u;     // 192.0.2.10
constexpr std::uint32_t kOtherClient = kClient + 10;                                // 192.0.2.20
constexpr const char* kService = "urn:schemas-upnp-org:service:WANIPConnection:1";

struct Rig {
  NatEngine engine;
  Igd igd;
  explicit Rig(const std::string& profile = "symmetric") : engine(config(profile)), igd(igd_config(), engine) {}
  static EngineConfig config(const std::string& profile) {
    EngineConfig c;
    EXPECT_TRUE(netns::apply_nat_profile(profile, c.nat));
    c.inside_address = kInside;
    c.outside_address = kOutside;
    return c;
  }
  static IgdConfig igd_config() {
    IgdConfig c;
    c.inside_address = kInside;
    c.outside_address = kOutside;
    return c;
  }
  std::string call(const std::string& action, const std::map<std::string, std::string>& args,
                   std::uint32_t client = kClient) {
    std::string body = "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                       "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:" +
                       action + " xmlns:u=\"" + kService + "\">";
    for (const auto& [k, v] : args) body += "<" + k + ">" + v + "</" + k + ">";
    body += "</u:" + action + "></s:Body></s:Envelope>\r\n";
    const std::string request = "POST /ctl/IPConn HTTP/1.1\r\nHost: 192.0.2.1:5000\r\nContent-Length: " +
                                std::to_string(body.size()) +
                                "\r\nContent-Type: text/xml\r\nSOAPAction: \"" + kService + "#" + action +
                                "\"\r\nConnection: close\r\n\r\n" + body;
    EXPECT_EQ(Igd::request_length(request), request.size());
    return igd.http(1ms, client, request);
  }
  std::string add(std::uint16_t port, std::uint32_t internal_client = kClient, std::uint32_t from = kClient,
                  const std::string& remote = "", const std::string& protocol = "UDP",
                  const std::string& lease = "0") {
    return call("AddPortMapping", {{"NewRemoteHost", remote},
                                   {"NewExternalPort", std::to_string(port)},
                                   {"NewProtocol", protocol},
                                   {"NewInternalPort", std::to_string(port)},
                                   {"NewInternalClient", ipv4_text(internal_client)},
                                   {"NewEnabled", "1"},
                                   {"NewPortMappingDescription", "TEREDO"},
                                   {"NewLeaseDuration", lease}},
                from);
  }
};

bool ok(const std::string& response) { return response.rfind("HTTP/1.1 200 OK\r\n", 0) == 0; }
std::string error_code(const std::string& response) {
  const auto at = response.find("<errorCode>");
  if (response.rfind("HTTP/1.1 500", 0) != 0 || at == std::string::npos) return "none";
  return response.substr(at + 11, response.find("</errorCode>") - at - 11);
}

std::string m_search(const std::string& st) {
  return "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nST: " + st +
         "\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\n\r\n";
}

TEST(Igd, SsdpAnswersSearchesForTheGatewayAndItsServices) {
  Rig rig;
  for (const std::string st : {"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
                               "urn:schemas-upnp-org:service:WANIPConnection:1", "upnp:rootdevice"}) {
    const auto answer = rig.igd.ssdp(m_search(st));
    ASSERT_TRUE(answer) << st;
    EXPECT_EQ(answer->rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
    EXPECT_NE(answer->find("\r\nST: " + st + "\r\n"), std::string::npos);
    EXPECT_NE(answer->find("\r\nLOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n"), std::string::npos);
  }
  EXPECT_NE(rig.igd.ssdp(m_search("ssdp:all"))->find("ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1"),
            std::string::npos);
  EXPECT_FALSE(rig.igd.ssdp(m_search("urn:schemas-upnp-org:device:MediaServer:1")));
  EXPECT_FALSE(rig.igd.ssdp("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n"));
  EXPECT_FALSE(rig.igd.ssdp("M-SEARCH * HTTP/1.1\r\nST: upnp:rootdevice\r\n\r\n"));  // no MAN
}

TEST(Igd, RequestLengthFramesHeadersAndBody) {
  EXPECT_FALSE(Igd::request_length("GET / HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_EQ(Igd::request_length("GET / HTTP/1.1\r\n\r\nextra"), 18u);
  EXPECT_FALSE(Igd::request_length("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc"));
  EXPECT_EQ(Igd::request_length("POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc"), 41u);
  EXPECT_EQ(Igd::request_length("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), 0u);
  EXPECT_EQ(Igd::request_length(std::string(20000, 'a')), 0u);
}

TEST(Igd, DescriptionNamesTheConnectionServiceAndItsControlUrl) {
  Rig rig;
  const std::string d = rig.igd.http(0ms, kClient, "GET /rootDesc.xml HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n");
  ASSERT_TRUE(ok(d));
  EXPECT_NE(d.find("<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>"), std::string::npos);
  EXPECT_NE(d.find("<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"), std::string::npos);
  EXPECT_NE(d.find("<controlURL>/ctl/IPConn</controlURL>"), std::string::npos);
  EXPECT_NE(d.find("WANCommonInterfaceConfig:1"), std::string::npos);
  EXPECT_EQ(rig.igd.http(0ms, kClient, "GET /nothing HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
}

TEST(Igd, AddGetAndDeleteDriveTheNatTable) {
  Rig rig;
  ASSERT_TRUE(ok(rig.add(40000)));
  // The engine forwards the port: a packet from anyone reaches the client.
  auto views = rig.engine.mappings();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_TRUE(views[0].port_mapping);
  EXPECT_EQ(views[0].external_port, 40000);
  EXPECT_EQ(views[0].internal, (Endpoint{kClient, 40000}));

  const std::string ip = rig.call("GetExternalIPAddress", {});
  ASSERT_TRUE(ok(ip));
  EXPECT_NE(ip.find("<NewExternalIPAddress>198.51.100.1</NewExternalIPAddress>"), std::string::npos);

  const std::string specific =
      rig.call("GetSpecificPortMappingEntry", {{"NewRemoteHost", ""}, {"NewExternalPort", "40000"}, {"NewProtocol", "UDP"}});
  ASSERT_TRUE(ok(specific));
  EXPECT_NE(specific.find("<NewInternalClient>192.0.2.10</NewInternalClient>"), std::string::npos);
  EXPECT_NE(specific.find("<NewPortMappingDescription>TEREDO</NewPortMappingDescription>"), std::string::npos);
  const std::string first = rig.call("GetGenericPortMappingEntry", {{"NewPortMappingIndex", "0"}});
  ASSERT_TRUE(ok(first));
  EXPECT_NE(first.find("<NewExternalPort>40000</NewExternalPort>"), std::string::npos);
  EXPECT_EQ(error_code(rig.call("GetGenericPortMappingEntry", {{"NewPortMappingIndex", "1"}})), "713");

  const std::map<std::string, std::string> del = {{"NewRemoteHost", ""}, {"NewExternalPort", "40000"}, {"NewProtocol", "UDP"}};
  EXPECT_EQ(error_code(rig.call("DeletePortMapping", del, kOtherClient)), "606");
  ASSERT_TRUE(ok(rig.call("DeletePortMapping", del)));
  EXPECT_EQ(rig.engine.mapping_count(), 0u);
  EXPECT_EQ(error_code(rig.call("DeletePortMapping", del)), "714");

  // Every call is kept with its arguments as sent and its outcome.
  const auto& calls = rig.igd.calls();
  ASSERT_EQ(calls.size(), 8u);
  EXPECT_EQ(calls[0].action, "AddPortMapping");
  EXPECT_EQ(calls[0].client, "192.0.2.10");
  EXPECT_EQ(calls[0].arguments.at("NewRemoteHost"), "");
  EXPECT_EQ(calls[0].arguments.at("NewExternalPort"), "40000");
  EXPECT_EQ(calls[0].arguments.at("NewLeaseDuration"), "0");
  EXPECT_EQ(calls[0].error, 0);
  EXPECT_EQ(calls[1].action, "GetExternalIPAddress");
  EXPECT_EQ(calls[5].action, "DeletePortMapping");
  EXPECT_EQ(calls[5].error, 606);
  EXPECT_EQ(calls[6].error, 0);
  EXPECT_EQ(calls[7].error, 714);
}

TEST(Igd, RefusalsCarryTheirUpnpErrorCodes) {
  Rig rig;
  EXPECT_EQ(error_code(rig.add(40000, kOtherClient)), "606");          // a host maps to itself only
  EXPECT_EQ(error_code(rig.add(40000, kClient, kClient, "203.0.113.1")), "726");
  EXPECT_EQ(error_code(rig.add(40000, kClient, kClient, "", "TCP")), "402");
  EXPECT_EQ(error_code(rig.add(40000, kClient, kClient, "", "UDP", "3600")), "725");
  EXPECT_EQ(rig.engine.mapping_count(), 0u);
  ASSERT_TRUE(ok(rig.add(40000)));
  EXPECT_EQ(error_code(rig.add(40000, kOtherClient, kOtherClient)), "718");  // someone else's port
  EXPECT_EQ(error_code(rig.call("ForceTermination", {})), "401");
  EXPECT_EQ(error_code(rig.call("AddPortMapping", {{"NewExternalPort", "x"}})), "402");
  EXPECT_EQ(rig.engine.mapping_count(), 1u);
}

TEST(Igd, EscapedArgumentsAreUnescaped) {
  Rig rig;
  ASSERT_TRUE(ok(rig.call("AddPortMapping", {{"NewRemoteHost", ""},
                                             {"NewExternalPort", "40000"},
                                             {"NewProtocol", "UDP"},
                                             {"NewInternalPort", "40000"},
                                             {"NewInternalClient", "192.0.2.10"},
                                             {"NewEnabled", "1"},
                                             {"NewPortMappingDescription", "a&amp;b&lt;c"},
                                             {"NewLeaseDuration", "0"}})));
  EXPECT_EQ(rig.igd.calls().back().arguments.at("NewPortMappingDescription"), "a&b<c");
}

TEST(Igd, RefusedActionsFailWithTheGivenCodeUntilCleared) {
  Rig rig;
  rig.igd.refuse("AddPortMapping", 501);
  EXPECT_EQ(error_code(rig.add(40000)), "501");
  EXPECT_EQ(rig.engine.mapping_count(), 0u);
  EXPECT_TRUE(ok(rig.call("GetExternalIPAddress", {})));  // other actions unaffected
  rig.igd.refuse("AddPortMapping", 0);
  EXPECT_TRUE(ok(rig.add(40000)));
  EXPECT_EQ(rig.igd.calls()[0].error, 501);
}

TEST(Igd, EachCallRecordsTheRequestersTrafficBeforeIt) {
  Rig rig("port-restricted-cone");
  ASSERT_TRUE(ok(rig.add(40000)));
  // One UDP packet of the client leaves through the NAT.
  const auto packet = [] {
    std::vector<std::uint8_t> p(28, 0);
    p[0] = 0x45;
    p[3] = 28;
    p[8] = 64;
    p[9] = 17;
    for (int i = 0; i < 4; ++i) p[12 + i] = static_cast<std::uint8_t>(kClient >> (24 - 8 * i));
    const std::uint32_t server = (203u << 24) | (113u << 8) | 1u;
    for (int i = 0; i < 4; ++i) p[16 + i] = static_cast<std::uint8_t>(server >> (24 - 8 * i));
    p[20] = 40000 >> 8, p[21] = 40000 & 0xFF, p[22] = 3544 >> 8, p[23] = 3544 & 0xFF, p[25] = 8;
    return p;
  }();
  std::vector<std::uint8_t> copy = packet;
  ASSERT_EQ(rig.engine.from_inside(1ms, copy).verdict, Verdict::send);
  ASSERT_TRUE(ok(rig.call("GetExternalIPAddress", {})));
  ASSERT_TRUE(ok(rig.call("GetExternalIPAddress", {}, kOtherClient)));
  ASSERT_EQ(rig.igd.calls().size(), 3u);
  EXPECT_EQ(rig.igd.calls()[0].outbound_before, 0u);
  EXPECT_EQ(rig.igd.calls()[1].outbound_before, 1u);
  EXPECT_EQ(rig.igd.calls()[2].outbound_before, 0u);  // another host's count
}

TEST(Igd, Ipv4Text) {
  EXPECT_EQ(ipv4_text(kOutside), "198.51.100.1");
  EXPECT_EQ(parse_ipv4("192.0.2.10"), kClient);
  EXPECT_FALSE(parse_ipv4("192.0.2"));
  EXPECT_FALSE(parse_ipv4("192.0.2.256"));
  EXPECT_FALSE(parse_ipv4("192.0.2.1x"));
}

}  // namespace
}  // namespace teredo::nat
