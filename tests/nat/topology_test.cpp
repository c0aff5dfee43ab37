// The topology loader: the bundled topologies load, every kind of mistake is
// rejected with a TopologyError that names it (before anything would be
// created), NAT profiles map to the RFC 4787 behaviours they stand for, and
// the NAT box's configuration survives a JSON round trip. Inputs are inline
// JSON; expected values are read off the inputs by hand.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "teredo/netns/topology.hpp"

namespace teredo::netns {
namespace {

using nlohmann::json;

// A small valid topology: a host behind a NAT, and a host outside, on a link
// and a segment.
const char* const kBase = R"({
  "name": "unit-nat",
  "description": "for the unit tests",
  "hosts": {
    "a": {
      "interfaces": {"eth0": {"addresses": ["192.0.2.10/24"]}},
      "routes": [{"to": "default", "via": "192.0.2.1"}]
    },
    "nat": {
      "interfaces": {
        "in0": {"addresses": ["192.0.2.1/24"]},
        "out0": {"addresses": ["198.51.100.1/24", "2001:db8::1/64"]}
      },
      "routes": [{"to": "default", "dev": "out0"}, {"to": "203.0.113.0/24", "via": "198.51.100.2"}],
      "nat": {"profile": "port-restricted-cone", "inside": "in0", "outside": "out0"}
    },
    "b": {
      "forwarding": true,
      "interfaces": {"eth0": {"addresses": ["198.51.100.2/24", "2001:db8::2/64"]}}
    }
  },
  "links": [["a:eth0", "nat:in0"]],
  "segments": {"inet": ["nat:out0", "b:eth0"]}
})";

json base() { return json::parse(kBase); }

Topology parse(const json& j) { return parse_topology(j.dump(), "inline"); }

// The TopologyError's message for j, or "" (and a failure) if j loads.
std::string rejection(const std::string& text) {
  try {
    parse_topology(text, "inline");
  } catch (const TopologyError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << text;
  return "";
}
std::string rejection(const json& j) { return rejection(j.dump()); }

#define EXPECT_REJECTED(input, needle)                                    \
  do {                                                                    \
    const std::string message_ = rejection(input);                        \
    EXPECT_NE(message_.find(needle), std::string::npos) << message_;      \
    EXPECT_EQ(message_.rfind("inline: ", 0), 0u) << message_;             \
  } while (0)

TEST(TopologyParse, BaseLoadsWithEveryField) {
  const Topology t = parse(base());
  EXPECT_EQ(t.name, "unit-nat");
  EXPECT_EQ(t.description, "for the unit tests");
  ASSERT_EQ(t.hosts.size(), 3u);
  const Host& nat = t.hosts.at("nat");
  ASSERT_EQ(nat.interfaces.size(), 2u);
  const auto& out0 = nat.interfaces.at("out0").addresses;
  ASSERT_EQ(out0.size(), 2u);
  EXPECT_EQ(out0[0].address, "198.51.100.1");
  EXPECT_EQ(out0[0].prefix_length, 24);
  EXPECT_FALSE(out0[0].ipv6);
  EXPECT_EQ(out0[0].text(), "198.51.100.1/24");
  EXPECT_EQ(out0[1].address, "2001:db8::1");
  EXPECT_EQ(out0[1].prefix_length, 64);
  EXPECT_TRUE(out0[1].ipv6);
  ASSERT_EQ(nat.routes.size(), 2u);
  EXPECT_EQ(nat.routes[0].to, "default");
  EXPECT_EQ(nat.routes[0].dev, "out0");
  EXPECT_EQ(nat.routes[1].to, "203.0.113.0/24");
  EXPECT_EQ(nat.routes[1].via, "198.51.100.2");
  EXPECT_FALSE(nat.forwarding);
  EXPECT_TRUE(t.hosts.at("b").forwarding);
  ASSERT_TRUE(nat.nat.has_value());
  EXPECT_EQ(nat.nat->profile, "port-restricted-cone");
  EXPECT_EQ(nat.nat->inside, "in0");
  EXPECT_EQ(nat.nat->outside, "out0");
  EXPECT_EQ(nat.nat->mapping, Mapping::endpoint_independent);
  EXPECT_EQ(nat.nat->filtering, Filtering::address_and_port_dependent);
  EXPECT_TRUE(nat.nat->port_preservation);
  EXPECT_FALSE(nat.nat->hairpinning);
  EXPECT_EQ(nat.nat->mapping_lifetime_ms, 120000);  // REQ-5: 2 minutes
  EXPECT_TRUE(nat.nat->timeline.empty());
  EXPECT_FALSE(t.hosts.at("a").nat.has_value());
  ASSERT_EQ(t.links.size(), 1u);
  EXPECT_EQ(t.links[0].first.host, "a");
  EXPECT_EQ(t.links[0].first.interface, "eth0");
  EXPECT_EQ(t.links[0].second.host, "nat");
  EXPECT_EQ(t.links[0].second.interface, "in0");
  ASSERT_EQ(t.segments.size(), 1u);
  const auto& inet = t.segments.at("inet");
  ASSERT_EQ(inet.size(), 2u);
  EXPECT_EQ(inet[0].host, "nat");
  EXPECT_EQ(inet[1].host, "b");
}

TEST(TopologyParse, NatOptionsAndTimeline) {
  json j = base();
  j["hosts"]["nat"]["nat"] = {{"profile", "symmetric"},
                              {"inside", "in0"},
                              {"outside", "out0"},
                              {"port_preservation", false},
                              {"hairpinning", true},
                              {"mapping_lifetime_ms", 30000},
                              {"timeline",
                               {{{"at_ms", 0}, {"event", "rebind"}},
                                {{"at_ms", 1500}, {"event", "blackout"}, {"duration_ms", 250}},
                                {{"at_ms", 4000}, {"event", "expire"}}}}};
  const NatConfig nat = *parse(j).hosts.at("nat").nat;
  EXPECT_EQ(nat.mapping, Mapping::address_and_port_dependent);
  EXPECT_EQ(nat.filtering, Filtering::address_and_port_dependent);
  EXPECT_FALSE(nat.port_preservation);
  EXPECT_TRUE(nat.hairpinning);
  EXPECT_EQ(nat.mapping_lifetime_ms, 30000);
  ASSERT_EQ(nat.timeline.size(), 3u);
  EXPECT_EQ(nat.timeline[0].at_ms, 0);
  EXPECT_EQ(nat.timeline[0].event, "rebind");
  EXPECT_EQ(nat.timeline[1].at_ms, 1500);
  EXPECT_EQ(nat.timeline[1].event, "blackout");
  EXPECT_EQ(nat.timeline[1].duration_ms, 250);
  EXPECT_EQ(nat.timeline[2].event, "expire");
}

TEST(TopologyParse, BundledTopologiesLoad) {
  const std::filesystem::path folder = std::filesystem::path(TEREDO_SOURCE_DIR) / "netns" / "topologies";
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    Topology t;
    ASSERT_NO_THROW(t = load_topology(entry.path().string()));
    EXPECT_EQ(t.name, entry.path().stem().string());  // each file is named after its topology
    EXPECT_FALSE(t.hosts.empty());
    names.insert(t.name);
  }
  for (const char* expected : {"client-nat", "same-nat", "server-only", "two-clients"}) {
    EXPECT_TRUE(names.count(expected)) << expected;
  }
  // A few facts read off the files.
  const std::string dir = folder.string() + "/";
  const Topology client_nat = load_topology(dir + "client-nat.json");
  EXPECT_EQ(client_nat.hosts.at("nat").nat->profile, "port-restricted-cone");
  EXPECT_EQ(client_nat.hosts.at("server").interfaces.at("eth0").addresses.size(), 2u);
  EXPECT_EQ(client_nat.segments.at("inet").size(), 3u);
  const Topology two = load_topology(dir + "two-clients.json");
  EXPECT_EQ(two.hosts.at("nat-b").nat->profile, "restricted-cone");
  EXPECT_EQ(two.hosts.at("nat-b").nat->filtering, Filtering::address_dependent);
  const Topology same = load_topology(dir + "same-nat.json");
  EXPECT_FALSE(same.hosts.at("nat").nat->hairpinning);
  EXPECT_EQ(same.segments.at("lan").size(), 3u);
}

TEST(TopologyParse, MissingFile) {
  try {
    load_topology("/nonexistent/teredo/topology.json");
    FAIL() << "loaded a missing file";
  } catch (const TopologyError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
}

// ---- rejections ----------------------------------------------------------------

TEST(TopologyReject, MalformedJson) {
  EXPECT_REJECTED(std::string("{"), "malformed JSON");
  EXPECT_REJECTED(std::string(R"({"name": })"), "malformed JSON");
  EXPECT_REJECTED(std::string(""), "malformed JSON");
  std::string truncated = kBase;
  truncated.resize(truncated.size() / 2);
  EXPECT_REJECTED(truncated, "malformed JSON");
  EXPECT_REJECTED(std::string("[1, 2]"), "must be a JSON object");
}

TEST(TopologyReject, UnknownHostInLinkOrSegment) {
  json j = base();
  j["links"][0][0] = "x:eth0";
  EXPECT_REJECTED(j, "unknown host 'x'");
  j = base();
  j["segments"]["inet"][1] = "ghost:eth0";
  EXPECT_REJECTED(j, "unknown host 'ghost'");
}

TEST(TopologyReject, UnknownInterface) {
  json j = base();
  j["links"][0][1] = "nat:in9";
  EXPECT_REJECTED(j, "no interface 'in9'");
  j = base();
  j["segments"]["inet"][1] = "b:eth1";
  EXPECT_REJECTED(j, "no interface 'eth1'");
  j = base();
  j["links"][0][0] = "a-eth0";  // not host:interface
  EXPECT_REJECTED(j, "not host:interface");
  j = base();
  j["hosts"]["nat"]["nat"]["inside"] = "eth7";
  EXPECT_REJECTED(j, "'eth7' is not an interface of host 'nat'");
  j = base();
  j["hosts"]["nat"]["routes"][0]["dev"] = "out9";
  EXPECT_REJECTED(j, "no interface 'out9'");
}

TEST(TopologyReject, OverlappingAddresses) {
  json j = base();
  j["hosts"]["b"]["interfaces"]["eth0"]["addresses"][0] = "192.0.2.10/24";  // a's
  EXPECT_REJECTED(j, "overlapping addresses");
  // Same address, another prefix length.
  j = base();
  j["hosts"]["b"]["interfaces"]["eth0"]["addresses"][0] = "192.0.2.10/25";
  EXPECT_REJECTED(j, "overlapping addresses");
  // IPv6, the same address written differently (RFC 5952 text forms).
  for (const char* same_as_nat : {"2001:db8::1/64", "2001:db8:0::1/64", "2001:DB8::1/64",
                                  "2001:0db8:0000:0000:0000:0000:0000:0001/128", "2001:db8:0:0:0:0:0:1/64"}) {
    SCOPED_TRACE(same_as_nat);
    j = base();
    j["hosts"]["b"]["interfaces"]["eth0"]["addresses"][1] = same_as_nat;
    EXPECT_REJECTED(j, "overlapping addresses");
  }
  // Twice on one interface.
  j = base();
  j["hosts"]["a"]["interfaces"]["eth0"]["addresses"].push_back("192.0.2.10/24");
  EXPECT_REJECTED(j, "overlapping addresses");
  // Control: a neighbouring address is a different one.
  j = base();
  j["hosts"]["b"]["interfaces"]["eth0"]["addresses"][1] = "2001:db8::1:0/64";
  EXPECT_NO_THROW(parse(j));
}

TEST(TopologyReject, UnknownNatProfile) {
  for (const char* profile : {"full-cones", "cone", "", "Full-Cone"}) {
    SCOPED_TRACE(profile);
    json j = base();
    j["hosts"]["nat"]["nat"]["profile"] = profile;
    EXPECT_REJECTED(j, "unknown NAT profile");
  }
  json j = base();
  j["hosts"]["nat"]["nat"].erase("profile");
  EXPECT_REJECTED(j, "unknown NAT profile");
}

TEST(TopologyReject, BadCidr) {
  const struct {
    const char* cidr;
    const char* needle;
  } cases[] = {
      {"192.0.2.300/24", "not an IP address"},
      {"192.0.2/24", "not an IP address"},
      {"host.example/24", "not an IP address"},
      {"2001:db8:::1/64", "not an IP address"},
      {"192.0.2.20", "needs a prefix length"},
      {"192.0.2.20/", "bad prefix length"},
      {"192.0.2.20/33", "bad prefix length"},
      {"192.0.2.20/-1", "bad prefix length"},
      {"192.0.2.20/2x", "bad prefix length"},
      {"192.0.2.20/0024", "bad prefix length"},
      {"2001:db8::20/129", "bad prefix length"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cidr);
    json j = base();
    j["hosts"]["a"]["interfaces"]["eth0"]["addresses"][0] = c.cidr;
    EXPECT_REJECTED(j, c.needle);
  }
  // The limits themselves are fine.
  json j = base();
  j["hosts"]["a"]["interfaces"]["eth0"]["addresses"] = {"192.0.2.20/32", "192.0.2.21/0", "2001:db8::20/128"};
  EXPECT_NO_THROW(parse(j));
  // Routes' destinations are CIDRs too.
  j = base();
  j["hosts"]["nat"]["routes"][1]["to"] = "203.0.113.0/40";
  EXPECT_REJECTED(j, "bad prefix length");
  j = base();
  j["hosts"]["a"]["interfaces"]["eth0"]["addresses"][0] = 42;
  EXPECT_REJECTED(j, "non-string");
}

TEST(TopologyReject, RouteGatewayIsAnAddress) {
  // Gateways go into the lab's "ip -batch" script as written: anything but an
  // address must be refused at load time, before anything exists.
  for (const char* via : {"gateway", "192.0.2.300", "192.0.2.1 dev eth0", "192.0.2.1\nlink delete dev eth0",
                          "2001:db8:::1"}) {
    SCOPED_TRACE(via);
    json j = base();
    j["hosts"]["a"]["routes"][0]["via"] = via;
    EXPECT_REJECTED(j, "not an IP address");
  }
  json j = base();
  // (what() ends at the NUL, so the message shows only where.)
  j["hosts"]["a"]["routes"][0]["via"] = std::string("192.0.2.1\0\nlink delete dev eth0", 31);
  EXPECT_REJECTED(j, "hosts.a.routes[]: via '192.0.2.1");
  j = base();
  j["hosts"]["a"]["routes"][0]["via"] = "2001:db8::1";
  EXPECT_NO_THROW(parse(j));
}

TEST(TopologyReject, AddressWithAnEmbeddedNul) {
  // inet_pton stops at a NUL; the rest of the text must not slip through.
  json j = base();
  j["hosts"]["a"]["interfaces"]["eth0"]["addresses"][0] = std::string("192.0.2.20\0\nlink del x/24", 25);
  EXPECT_REJECTED(j, "hosts.a.interfaces.eth0: '192.0.2.20");
}

TEST(TopologyReject, InterfaceUsedTwice) {
  json j = base();
  j["segments"]["inet"].push_back("a:eth0");  // already on the link to nat
  EXPECT_REJECTED(j, "a:eth0 is already connected");
  j = base();
  j["links"].push_back({"nat:out0", "b:eth0"});  // both already on the segment
  EXPECT_REJECTED(j, "is already connected");
  j = base();
  j["links"].push_back({"a:eth0", "nat:in0"});
  EXPECT_REJECTED(j, "is already connected");
}

TEST(TopologyReject, InterfaceNotConnected) {
  json j = base();
  j["hosts"]["c"] = {{"interfaces", {{"eth0", {{"addresses", {"203.0.113.5/24"}}}}}}};
  EXPECT_REJECTED(j, "hosts.c.interfaces.eth0 is not connected");
  j = base();
  j["hosts"]["b"]["interfaces"]["eth1"] = json::object();
  EXPECT_REJECTED(j, "hosts.b.interfaces.eth1 is not connected");
}

TEST(TopologyReject, BadHostName) {
  for (const char* name : {"Client", "host_a", "a.b", "seventeen-chars-x", "h\xc3\xa9"}) {
    SCOPED_TRACE(name);
    json j = base();
    j["hosts"][name] = j["hosts"]["b"];
    j["hosts"].erase("b");
    j["segments"]["inet"][1] = std::string(name) + ":eth0";
    EXPECT_REJECTED(j, "host names are 1-16 characters");
  }
  // Sixteen characters is the limit.
  json j = base();
  j["hosts"]["sixteen-chars-xy"] = j["hosts"]["b"];
  j["hosts"].erase("b");
  j["segments"]["inet"][1] = "sixteen-chars-xy:eth0";
  EXPECT_NO_THROW(parse(j));
}

TEST(TopologyReject, BadTimelineEvent) {
  const struct {
    json event;
    const char* needle;
  } cases[] = {
      {{{"at_ms", 10}, {"event", "reboot"}}, "unknown event 'reboot'"},
      {{{"at_ms", 10}}, "unknown event ''"},
      {{{"event", "rebind"}}, "at_ms must be >= 0"},
      {{{"at_ms", -5}, {"event", "expire"}}, "at_ms must be >= 0"},
      {{{"at_ms", "soon"}, {"event", "expire"}}, "at_ms has the wrong type"},
      {{{"at_ms", 10}, {"event", "blackout"}}, "a blackout needs duration_ms > 0"},
      {{{"at_ms", 10}, {"event", "blackout"}, {"duration_ms", 0}}, "a blackout needs duration_ms > 0"},
      {{{"at_ms", 10}, {"event", "blackout"}, {"duration_ms", -100}}, "a blackout needs duration_ms > 0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.event.dump());
    json j = base();
    j["hosts"]["nat"]["nat"]["timeline"] = json::array({c.event});
    EXPECT_REJECTED(j, c.needle);
  }
  json j = base();
  j["hosts"]["nat"]["nat"]["timeline"] = {{"at_ms", 1}};
  EXPECT_REJECTED(j, "timeline must be an array");
}

TEST(TopologyReject, OtherNatMistakes) {
  json j = base();
  j["hosts"]["nat"]["nat"]["outside"] = "in0";
  EXPECT_REJECTED(j, "inside and outside must differ");
  j = base();
  j["hosts"]["nat"]["nat"]["mapping_lifetime_ms"] = 0;
  EXPECT_REJECTED(j, "mapping_lifetime_ms must be positive");
  j = base();
  j["hosts"]["nat"]["nat"]["port_preservation"] = "yes";
  EXPECT_REJECTED(j, "port_preservation has the wrong type");
  j = base();
  j["hosts"]["nat"]["nat"]["profile"] = "linux-masquerade";
  EXPECT_NO_THROW(parse(j));
  j["hosts"]["nat"]["nat"]["timeline"] = {{{"at_ms", 0}, {"event", "rebind"}}};
  EXPECT_REJECTED(j, "linux-masquerade is the kernel's NAT");
  j = base();
  j["hosts"]["nat"]["nat"] = "full-cone";
  EXPECT_REJECTED(j, "must be an object");
}

TEST(TopologyReject, OtherStructuralMistakes) {
  json j = base();
  j["name"] = "Bad Name";
  EXPECT_REJECTED(j, "name must be");
  j = base();
  j.erase("name");
  EXPECT_REJECTED(j, "name must be");
  j = base();
  j["hosts"] = json::object();
  EXPECT_REJECTED(j, "\"hosts\" must be a non-empty object");
  j = base();
  j["links"].push_back({"a:eth0"});
  EXPECT_REJECTED(j, "each link is a pair");
  j = base();
  j["hosts"]["nat"]["interfaces"]["in1"] = {{"addresses", {"192.0.2.2/24"}}};
  j["links"].push_back({"nat:in0", "nat:in1"});
  EXPECT_REJECTED(j, "a link joins two different hosts");
  j = base();
  j["segments"]["inet"] = json::array({"nat:out0"});
  EXPECT_REJECTED(j, "needs at least two members");
  j = base();
  j["hosts"]["a"]["interfaces"]["lo"] = json::object();
  EXPECT_REJECTED(j, "bad interface name");
  j = base();
  j["hosts"]["a"]["interfaces"]["sixteen-chars-xy"] = json::object();
  EXPECT_REJECTED(j, "bad interface name");
  j = base();
  j["hosts"]["a"]["routes"][0] = {{"to", "default"}};
  EXPECT_REJECTED(j, "give \"via\" or \"dev\"");
  j = base();
  j["hosts"]["a"]["routes"][0] = {{"via", "192.0.2.1"}};
  EXPECT_REJECTED(j, "\"to\" is required");
  j = base();
  j["hosts"]["a"]["forwarding"] = 1;
  EXPECT_REJECTED(j, "forwarding has the wrong type");
}

// ---- profiles ------------------------------------------------------------------------

TEST(TopologyProfiles, ProfilesAreTheRfc4787Combinations) {
  const struct {
    const char* profile;
    Mapping mapping;
    Filtering filtering;
  } cases[] = {
      {"full-cone", Mapping::endpoint_independent, Filtering::endpoint_independent},
      {"restricted-cone", Mapping::endpoint_independent, Filtering::address_dependent},
      {"port-restricted-cone", Mapping::endpoint_independent, Filtering::address_and_port_dependent},
      {"symmetric", Mapping::address_and_port_dependent, Filtering::address_and_port_dependent},
      {"symmetric-sequential", Mapping::address_and_port_dependent, Filtering::address_and_port_dependent},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.profile);
    NatConfig config;
    config.mapping = Mapping::address_dependent;  // neither value any profile sets
    config.filtering = Filtering::address_dependent;
    ASSERT_TRUE(apply_nat_profile(c.profile, config));
    EXPECT_EQ(config.profile, c.profile);
    EXPECT_EQ(config.mapping, c.mapping);
    EXPECT_EQ(config.filtering, c.filtering);
    EXPECT_FALSE(config.kernel());
  }
  NatConfig masquerade;
  ASSERT_TRUE(apply_nat_profile("linux-masquerade", masquerade));
  EXPECT_TRUE(masquerade.kernel());
  NatConfig untouched;
  untouched.profile = "keep";
  EXPECT_FALSE(apply_nat_profile("cone", untouched));
  EXPECT_EQ(untouched.profile, "keep");
  // RFC 6081 §5.4 / §5.5: how the two symmetric profiles pick a port.
  NatConfig preserving;
  preserving.port_preservation = false;
  preserving.sequential_ports = true;
  ASSERT_TRUE(apply_nat_profile("symmetric", preserving));
  EXPECT_TRUE(preserving.port_preservation);
  EXPECT_FALSE(preserving.sequential_ports);
  NatConfig sequential;
  ASSERT_TRUE(apply_nat_profile("symmetric-sequential", sequential));
  EXPECT_FALSE(sequential.port_preservation);
  EXPECT_TRUE(sequential.sequential_ports);
  const std::vector<std::string> expected = {"full-cone",           "restricted-cone", "port-restricted-cone",
                                             "symmetric",           "symmetric-sequential", "linux-masquerade"};
  EXPECT_EQ(nat_profiles(), expected);
}

// ---- NAT box configuration -----------------------------------------------------

TEST(TopologyNatBoxConfig, RoundTrip) {
  NatBoxConfig c;
  ASSERT_TRUE(apply_nat_profile("restricted-cone", c.nat));
  c.nat.mapping = Mapping::address_dependent;  // not the profile's: must survive
  c.nat.inside = "in0";
  c.nat.outside = "out0";
  c.nat.port_preservation = false;
  c.nat.sequential_ports = true;
  c.nat.hairpinning = true;
  c.nat.mapping_lifetime_ms = 30000;
  c.nat.timeline = {{0, "rebind", 0}, {1500, "blackout", 250}, {4000, "expire", 0}};
  c.inside_address = "192.0.2.1";
  c.outside_address = "198.51.100.1";
  c.control_socket = "/run/teredo-lab/nat.sock";
  c.seed = std::numeric_limits<std::uint64_t>::max() - 6;

  const std::string text = nat_box_config_to_json(c);
  EXPECT_TRUE(json::accept(text));
  const NatBoxConfig back = nat_box_config_from_json(text);
  EXPECT_EQ(back.nat.profile, "restricted-cone");
  EXPECT_EQ(back.nat.mapping, Mapping::address_dependent);
  EXPECT_EQ(back.nat.filtering, Filtering::address_dependent);
  EXPECT_EQ(back.nat.inside, "in0");
  EXPECT_EQ(back.nat.outside, "out0");
  EXPECT_FALSE(back.nat.port_preservation);
  EXPECT_TRUE(back.nat.sequential_ports);
  EXPECT_TRUE(back.nat.hairpinning);
  EXPECT_EQ(back.nat.mapping_lifetime_ms, 30000);
  ASSERT_EQ(back.nat.timeline.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.nat.timeline[i].at_ms, c.nat.timeline[i].at_ms);
    EXPECT_EQ(back.nat.timeline[i].event, c.nat.timeline[i].event);
    EXPECT_EQ(back.nat.timeline[i].duration_ms, c.nat.timeline[i].duration_ms);
  }
  EXPECT_EQ(back.inside_address, "192.0.2.1");
  EXPECT_EQ(back.outside_address, "198.51.100.1");
  EXPECT_EQ(back.control_socket, "/run/teredo-lab/nat.sock");
  EXPECT_EQ(back.seed, 18446744073709551609ULL);
  // And the text is stable across a second trip.
  EXPECT_EQ(nat_box_config_to_json(back), text);
}

TEST(TopologyNatBoxConfig, EveryProfileRoundTrips) {
  for (const auto& profile : nat_profiles()) {
    SCOPED_TRACE(profile);
    NatBoxConfig c;
    ASSERT_TRUE(apply_nat_profile(profile, c.nat));
    c.nat.inside = "i";
    c.nat.outside = "o";
    const NatBoxConfig back = nat_box_config_from_json(nat_box_config_to_json(c));
    EXPECT_EQ(back.nat.profile, profile);
    EXPECT_EQ(back.nat.mapping, c.nat.mapping);
    EXPECT_EQ(back.nat.filtering, c.nat.filtering);
    EXPECT_EQ(back.seed, 1u);
  }
}

// "+upnp" adds the UPnP IGD to a userspace profile (RFC 6081 §5.3 cases);
// the kernel's NAT has none (miniupnpd refuses documentation addresses).
TEST(TopologyProfiles, UpnpSuffixAndKey) {
  NatConfig c;
  ASSERT_TRUE(apply_nat_profile("symmetric+upnp", c));
  EXPECT_EQ(c.profile, "symmetric");
  EXPECT_EQ(c.mapping, Mapping::address_and_port_dependent);
  EXPECT_TRUE(c.upnp);
  NatConfig plain;
  ASSERT_TRUE(apply_nat_profile("symmetric", plain));
  EXPECT_FALSE(plain.upnp);
  NatConfig kernel;
  EXPECT_FALSE(apply_nat_profile("linux-masquerade+upnp", kernel));
  EXPECT_FALSE(apply_nat_profile("+upnp", kernel));
  EXPECT_FALSE(apply_nat_profile("bogus+upnp", kernel));

  json j = base();
  j["hosts"]["nat"]["nat"]["upnp"] = true;
  EXPECT_TRUE(parse(j).hosts.at("nat").nat->upnp);
  j["hosts"]["nat"]["nat"]["profile"] = "linux-masquerade";
  EXPECT_REJECTED(j, "linux-masquerade has no UPnP IGD");
  j = base();
  j["hosts"]["nat"]["nat"]["profile"] = "port-restricted-cone+upnp";
  EXPECT_TRUE(parse(j).hosts.at("nat").nat->upnp);

  NatBoxConfig box;
  box.nat = c;
  box.nat.inside = "i";
  box.nat.outside = "o";
  EXPECT_TRUE(nat_box_config_from_json(nat_box_config_to_json(box)).nat.upnp);
  box.nat.upnp = false;
  EXPECT_FALSE(nat_box_config_from_json(nat_box_config_to_json(box)).nat.upnp);
}

TEST(TopologyNatBoxConfig, BadInputIsATopologyError) {
  const auto message = [](const std::string& text) -> std::string {
    try {
      nat_box_config_from_json(text);
    } catch (const TopologyError& e) {
      return e.what();
    }
    ADD_FAILURE() << "accepted: " << text;
    return "";
  };
  EXPECT_NE(message("{").find("bad NAT box configuration"), std::string::npos);
  EXPECT_NE(message(R"({"profile": "full-cone"})").find("bad NAT box configuration"), std::string::npos);
  NatBoxConfig c;
  ASSERT_TRUE(apply_nat_profile("full-cone", c.nat));
  json j = json::parse(nat_box_config_to_json(c));
  j["profile"] = "cone";
  EXPECT_NE(message(j.dump()).find("unknown NAT profile"), std::string::npos);
  j = json::parse(nat_box_config_to_json(c));
  j["hairpinning"] = "yes";
  EXPECT_NE(message(j.dump()).find("bad NAT box configuration"), std::string::npos);
}

}  // namespace
}  // namespace teredo::netns
