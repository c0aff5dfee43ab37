#include "teredo/netns/topology.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

namespace teredo::netns {

using nlohmann::json;

const std::vector<std::string>& nat_profiles() {
  static const std::vector<std::string> kProfiles = {
      "full-cone", "restricted-cone", "port-restricted-cone", "symmetric", "symmetric-sequential", "linux-masquerade"};
  return kProfiles;
}

bool apply_nat_profile(const std::string& name, NatConfig& c) {
  // "<profile>+upnp": the profile with a UPnP IGD (userspace NAT only).
  constexpr std::string_view kUpnp = "+upnp";
  const bool upnp = name.size() > kUpnp.size() && name.ends_with(kUpnp);
  const std::string profile = upnp ? name.substr(0, name.size() - kUpnp.size()) : name;
  if (upnp && profile == "linux-masquerade") return false;
  if (profile == "full-cone") {
    c.mapping = Mapping::endpoint_independent;
    c.filtering = Filtering::endpoint_independent;
  } else if (profile == "restricted-cone") {
    c.mapping = Mapping::endpoint_independent;
    c.filtering = Filtering::address_dependent;
  } else if (profile == "port-restricted-cone" || profile == "linux-masquerade") {
    // Linux conntrack maps endpoint-independently when the port is free and
    // filters by address and port.
    c.mapping = Mapping::endpoint_independent;
    c.filtering = Filtering::address_and_port_dependent;
  } else if (profile == "symmetric") {
    // Port-preserving: a new internal port keeps its number outside while it
    // is free (RFC 6081 §5.4's port-preserving symmetric NAT).
    c.mapping = Mapping::address_and_port_dependent;
    c.filtering = Filtering::address_and_port_dependent;
    c.port_preservation = true;
    c.sequential_ports = false;
  } else if (profile == "symmetric-sequential") {
    // RFC 6081 §5.5's sequential port-symmetric NAT: no port preservation,
    // each new mapping takes the next port.
    c.mapping = Mapping::address_and_port_dependent;
    c.filtering = Filtering::address_and_port_dependent;
    c.port_preservation = false;
    c.sequential_ports = true;
  } else {
    return false;
  }
  c.profile = profile;
  c.upnp = c.upnp || upnp;
  return true;
}

namespace {

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw TopologyError(fmt::format("{}: {}", origin, what));
}

bool valid_name(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// inet_pton over the whole text: it stops at a NUL, which would let the rest
// of the text (it ends up in an "ip -batch" script) through unchecked.
bool parse_ip(int family, const std::string& text, unsigned char* buf) {
  return text.find('\0') == std::string::npos && inet_pton(family, text.c_str(), buf) == 1;
}

Cidr parse_cidr(const std::string& origin, const std::string& where, const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) fail(origin, fmt::format("{}: '{}' needs a prefix length", where, text));
  Cidr c;
  c.address = text.substr(0, slash);
  unsigned char buf[16];
  if (parse_ip(AF_INET, c.address, buf)) {
    c.ipv6 = false;
  } else if (parse_ip(AF_INET6, c.address, buf)) {
    c.ipv6 = true;
  } else {
    fail(origin, fmt::format("{}: '{}' is not an IP address", where, c.address));
  }
  const std::string length = text.substr(slash + 1);
  const int max = c.ipv6 ? 128 : 32;
  if (length.empty() || length.size() > 3 || !std::all_of(length.begin(), length.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) ||
      std::stoi(length) > max) {
    fail(origin, fmt::format("{}: bad prefix length in '{}'", where, text));
  }
  c.prefix_length = std::stoi(length);
  return c;
}

// The address in canonical binary form, so "2001:db8::1" and "2001:db8:0::1" collide.
std::string canonical(const Cidr& c) {
  unsigned char buf[16] = {};
  inet_pton(c.ipv6 ? AF_INET6 : AF_INET, c.address.c_str(), buf);
  return std::string(reinterpret_cast<char*>(buf), c.ipv6 ? 16 : 4);
}

Endpoint parse_endpoint(const std::string& origin, const std::string& where, const json& j,
                        const Topology& t) {
  if (!j.is_string()) fail(origin, fmt::format("{}: an endpoint is a \"host:interface\" string", where));
  const std::string s = j.get<std::string>();
  const auto colon = s.find(':');
  if (colon == std::string::npos) fail(origin, fmt::format("{}: '{}' is not host:interface", where, s));
  Endpoint e{s.substr(0, colon), s.substr(colon + 1)};
  const auto host = t.hosts.find(e.host);
  if (host == t.hosts.end()) fail(origin, fmt::format("{}: unknown host '{}'", where, e.host));
  if (!host->second.interfaces.count(e.interface)) {
    fail(origin, fmt::format("{}: host '{}' has no interface '{}'", where, e.host, e.interface));
  }
  return e;
}

template <class T>
T get(const std::string& origin, const std::string& where, const json& j, const char* key, T fallback) {
  if (!j.contains(key)) return fallback;
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    fail(origin, fmt::format("{}.{} has the wrong type", where, key));
  }
}

NatConfig parse_nat(const std::string& origin, const std::string& where, const json& j, const Host& host) {
  if (!j.is_object()) fail(origin, where + " must be an object");
  NatConfig c;
  const auto profile = get<std::string>(origin, where, j, "profile", "");
  if (!apply_nat_profile(profile, c)) {
    fail(origin, fmt::format("{}: unknown NAT profile '{}' (known: {})", where, profile,
                             fmt::join(nat_profiles(), ", ")));
  }
  c.inside = get<std::string>(origin, where, j, "inside", "");
  c.outside = get<std::string>(origin, where, j, "outside", "");
  for (const auto* side : {&c.inside, &c.outside}) {
    if (!host.interfaces.count(*side)) {
      fail(origin, fmt::format("{}: '{}' is not an interface of host '{}'", where, *side, host.name));
    }
  }
  if (c.inside == c.outside) fail(origin, where + ": inside and outside must differ");
  c.port_preservation = get<bool>(origin, where, j, "port_preservation", c.port_preservation);
  c.sequential_ports = get<bool>(origin, where, j, "sequential_ports", c.sequential_ports);
  c.hairpinning = get<bool>(origin, where, j, "hairpinning", c.hairpinning);
  c.upnp = get<bool>(origin, where, j, "upnp", c.upnp);
  c.mapping_lifetime_ms = get<std::int64_t>(origin, where, j, "mapping_lifetime_ms", c.mapping_lifetime_ms);
  if (c.mapping_lifetime_ms <= 0) fail(origin, where + ".mapping_lifetime_ms must be positive");
  if (j.contains("timeline")) {
    if (!j["timeline"].is_array()) fail(origin, where + ".timeline must be an array");
    for (const auto& e : j["timeline"]) {
      NatEvent ev;
      ev.at_ms = get<std::int64_t>(origin, where + ".timeline[]", e, "at_ms", -1);
      ev.event = get<std::string>(origin, where + ".timeline[]", e, "event", "");
      ev.duration_ms = get<std::int64_t>(origin, where + ".timeline[]", e, "duration_ms", 0);
      if (ev.at_ms < 0) fail(origin, where + ".timeline[]: at_ms must be >= 0");
      if (ev.event != "rebind" && ev.event != "expire" && ev.event != "blackout") {
        fail(origin, fmt::format("{}.timeline[]: unknown event '{}' (rebind, expire, blackout)", where, ev.event));
      }
      if (ev.event == "blackout" && ev.duration_ms <= 0) {
        fail(origin, where + ".timeline[]: a blackout needs duration_ms > 0");
      }
      c.timeline.push_back(ev);
    }
  }
  if (c.kernel() && (!c.timeline.empty())) {
    fail(origin, where + ": linux-masquerade is the kernel's NAT and cannot run a timeline");
  }
  if (c.kernel() && c.upnp) {
    fail(origin, where + ": linux-masquerade has no UPnP IGD (miniupnpd refuses documentation-range addresses); "
                         "use a userspace profile with \"upnp\": true");
  }
  return c;
}

}  // namespace

Topology parse_topology(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    fail(origin, fmt::format("malformed JSON at byte {}", e.byte));
  }
  if (!j.is_object()) fail(origin, "the topology must be a JSON object");
  Topology t;
  t.name = get<std::string>(origin, "topology", j, "name", "");
  t.description = get<std::string>(origin, "topology", j, "description", "");
  if (!valid_name(t.name, 32)) fail(origin, "name must be 1-32 characters of a-z, 0-9 and '-'");
  if (!j.contains("hosts") || !j["hosts"].is_object() || j["hosts"].empty()) {
    fail(origin, "\"hosts\" must be a non-empty object");
  }
  std::map<std::string, std::string> owner_of_address;  // canonical address -> host:interface
  for (const auto& [name, hj] : j["hosts"].items()) {
    const std::string where = "hosts." + name;
    // Namespace names are <prefix>-<host>: keep host names short and plain.
    if (!valid_name(name, 16)) fail(origin, where + ": host names are 1-16 characters of a-z, 0-9 and '-'");
    if (!hj.is_object()) fail(origin, where + " must be an object");
    Host h;
    h.name = name;
    h.forwarding = get<bool>(origin, where, hj, "forwarding", false);
    if (!hj.contains("interfaces") || !hj["interfaces"].is_object()) {
      fail(origin, where + ".interfaces must be an object");
    }
    for (const auto& [ifname, ij] : hj["interfaces"].items()) {
      const std::string iwhere = where + ".interfaces." + ifname;
      // IFNAMSIZ is 16 including the NUL.
      if (!valid_name(ifname, 15) || ifname == "lo") fail(origin, iwhere + ": bad interface name");
      Interface itf;
      itf.name = ifname;
      const auto addresses = ij.contains("addresses") ? ij["addresses"] : json::array();
      if (!addresses.is_array()) fail(origin, iwhere + ".addresses must be an array");
      for (const auto& a : addresses) {
        if (!a.is_string()) fail(origin, iwhere + ".addresses holds a non-string");
        Cidr c = parse_cidr(origin, iwhere, a.get<std::string>());
        const auto [it, fresh] = owner_of_address.emplace(canonical(c), name + ":" + ifname);
        if (!fresh) {
          fail(origin, fmt::format("overlapping addresses: {} is on both {} and {}", c.address,
                                   it->second, name + ":" + ifname));
        }
        itf.addresses.push_back(c);
      }
      h.interfaces.emplace(ifname, itf);
    }
    if (hj.contains("routes")) {
      if (!hj["routes"].is_array()) fail(origin, where + ".routes must be an array");
      for (const auto& r : hj["routes"]) {
        Route route;
        route.to = get<std::string>(origin, where + ".routes[]", r, "to", "");
        route.via = get<std::string>(origin, where + ".routes[]", r, "via", "");
        route.dev = get<std::string>(origin, where + ".routes[]", r, "dev", "");
        if (route.to.empty()) fail(origin, where + ".routes[]: \"to\" is required");
        if (route.to != "default" && route.to != "default6") parse_cidr(origin, where + ".routes[]", route.to);
        if (route.via.empty() && route.dev.empty()) fail(origin, where + ".routes[]: give \"via\" or \"dev\"");
        unsigned char gateway[16];
        if (!route.via.empty() && !parse_ip(AF_INET, route.via, gateway) && !parse_ip(AF_INET6, route.via, gateway)) {
          fail(origin, fmt::format("{}.routes[]: via '{}' is not an IP address", where, route.via));
        }
        if (!route.dev.empty() && !h.interfaces.count(route.dev)) {
          fail(origin, fmt::format("{}.routes[]: no interface '{}'", where, route.dev));
        }
        h.routes.push_back(route);
      }
    }
    if (hj.contains("nat")) h.nat = parse_nat(origin, where + ".nat", hj["nat"], h);
    t.hosts.emplace(name, std::move(h));
  }
  std::set<std::pair<std::string, std::string>> used;
  const auto claim = [&](const Endpoint& e, const std::string& where) {
    if (!used.emplace(e.host, e.interface).second) {
      fail(origin, fmt::format("{}: {}:{} is already connected", where, e.host, e.interface));
    }
  };
  if (j.contains("links")) {
    if (!j["links"].is_array()) fail(origin, "links must be an array");
    for (const auto& l : j["links"]) {
      if (!l.is_array() || l.size() != 2) fail(origin, "each link is a pair [\"a:if\", \"b:if\"]");
      Endpoint a = parse_endpoint(origin, "links[]", l[0], t);
      Endpoint b = parse_endpoint(origin, "links[]", l[1], t);
      if (a.host == b.host) fail(origin, "links[]: a link joins two different hosts");
      claim(a, "links[]");
      claim(b, "links[]");
      t.links.emplace_back(a, b);
    }
  }
  if (j.contains("segments")) {
    if (!j["segments"].is_object()) fail(origin, "segments must be an object");
    for (const auto& [name, members] : j["segments"].items()) {
      if (!valid_name(name, 12)) fail(origin, "segments." + name + ": bad segment name");
      if (t.hosts.count("sw-" + name)) fail(origin, "segments." + name + ": collides with host sw-" + name);
      if (!members.is_array() || members.size() < 2) {
        fail(origin, "segments." + name + " needs at least two members");
      }
      auto& list = t.segments[name];
      for (const auto& m : members) {
        Endpoint e = parse_endpoint(origin, "segments." + name, m, t);
        claim(e, "segments." + name);
        list.push_back(e);
      }
    }
  }
  for (const auto& [name, h] : t.hosts) {
    for (const auto& [ifname, itf] : h.interfaces) {
      if (!used.count({name, ifname})) {
        fail(origin, fmt::format("hosts.{}.interfaces.{} is not connected to any link or segment", name, ifname));
      }
    }
  }
  return t;
}

namespace {
const char* mapping_name(Mapping m) {
  switch (m) {
    case Mapping::endpoint_independent: return "endpoint-independent";
    case Mapping::address_dependent: return "address-dependent";
    case Mapping::address_and_port_dependent: return "address-and-port-dependent";
  }
  return "?";
}
const char* filtering_name(Filtering f) {
  switch (f) {
    case Filtering::endpoint_independent: return "endpoint-independent";
    case Filtering::address_dependent: return "address-dependent";
    case Filtering::address_and_port_dependent: return "address-and-port-dependent";
  }
  return "?";
}
}  // namespace

std::string nat_box_config_to_json(const NatBoxConfig& c) {
  json j;
  j["profile"] = c.nat.profile;
  j["inside"] = c.nat.inside;
  j["outside"] = c.nat.outside;
  j["mapping"] = mapping_name(c.nat.mapping);
  j["filtering"] = filtering_name(c.nat.filtering);
  j["port_preservation"] = c.nat.port_preservation;
  j["sequential_ports"] = c.nat.sequential_ports;
  j["hairpinning"] = c.nat.hairpinning;
  j["upnp"] = c.nat.upnp;
  j["mapping_lifetime_ms"] = c.nat.mapping_lifetime_ms;
  j["timeline"] = json::array();
  for (const auto& e : c.nat.timeline) {
    j["timeline"].push_back({{"at_ms", e.at_ms}, {"event", e.event}, {"duration_ms", e.duration_ms}});
  }
  j["inside_address"] = c.inside_address;
  j["outside_address"] = c.outside_address;
  j["control_socket"] = c.control_socket;
  j["seed"] = c.seed;
  return j.dump(2);
}

NatBoxConfig nat_box_config_from_json(const std::string& text) {
  try {
    const json j = json::parse(text);
    NatBoxConfig c;
    if (!apply_nat_profile(j.at("profile").get<std::string>(), c.nat)) {
      throw TopologyError("unknown NAT profile " + j.at("profile").get<std::string>());
    }
    c.nat.inside = j.at("inside").get<std::string>();
    c.nat.outside = j.at("outside").get<std::string>();
    const auto mapping = j.at("mapping").get<std::string>();
    const auto filtering = j.at("filtering").get<std::string>();
    bool mapping_known = false, filtering_known = false;
    for (auto m : {Mapping::endpoint_independent, Mapping::address_dependent, Mapping::address_and_port_dependent}) {
      if (mapping == mapping_name(m)) {
        c.nat.mapping = m;
        mapping_known = true;
      }
    }
    for (auto f : {Filtering::endpoint_independent, Filtering::address_dependent,
                   Filtering::address_and_port_dependent}) {
      if (filtering == filtering_name(f)) {
        c.nat.filtering = f;
        filtering_known = true;
      }
    }
    if (!mapping_known) throw TopologyError("unknown NAT mapping behaviour '" + mapping + "'");
    if (!filtering_known) throw TopologyError("unknown NAT filtering behaviour '" + filtering + "'");
    c.nat.port_preservation = j.at("port_preservation").get<bool>();
    c.nat.sequential_ports = j.value("sequential_ports", false);
    c.nat.hairpinning = j.at("hairpinning").get<bool>();
    c.nat.upnp = j.value("upnp", false);
    c.nat.mapping_lifetime_ms = j.at("mapping_lifetime_ms").get<std::int64_t>();
    for (const auto& e : j.at("timeline")) {
      c.nat.timeline.push_back({e.at("at_ms").get<std::int64_t>(), e.at("event").get<std::string>(),
                                e.value("duration_ms", std::int64_t{0})});
    }
    c.inside_address = j.at("inside_address").get<std::string>();
    c.outside_address = j.at("outside_address").get<std::string>();
    c.control_socket = j.value("control_socket", "");
    c.seed = j.value("seed", std::uint64_t{1});
    return c;
  } catch (const json::exception& e) {
    throw TopologyError(std::string("bad NAT box configuration: ") + e.what());
  }
}

Topology load_topology(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw TopologyError(fmt::format("{}: cannot open the topology file", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_topology(text.str(), path);
}

}  // namespace teredo::netns
