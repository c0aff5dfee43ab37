// A lab topology: hosts (one network namespace each), their interfaces and
// addresses, point-to-point links (veth pairs), shared segments (a bridge in a
// switch namespace of its own), routes, and the NAT box a host runs.
// Loading validates everything before anything is created, so a bad file
// creates nothing: TopologyError says what is wrong, and where.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace teredo::netns {

class TopologyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Cidr {
  std::string address;  // as written, without the prefix length
  int prefix_length = 0;
  bool ipv6 = false;
  [[nodiscard]] std::string text() const { return address + "/" + std::to_string(prefix_length); }
};

struct Interface {
  std::string name;
  std::vector<Cidr> addresses;
};

struct Route {
  std::string to;   // "default" or a CIDR
  std::string via;  // gateway address, or empty for an on-link route
  std::string dev;  // interface, or empty
};

// RFC 4787 behaviours; a profile names a combination of them.
enum class Mapping { endpoint_independent, address_dependent, address_and_port_dependent };
enum class Filtering { endpoint_independent, address_dependent, address_and_port_dependent };

struct NatEvent {
  std::int64_t at_ms = 0;
  std::string event;  // "rebind", "expire", "blackout"
  std::int64_t duration_ms = 0;  // blackout only
};

struct NatConfig {
  std::string profile;  // one of nat_profiles()
  std::string inside;   // interface names on this host
  std::string outside;
  Mapping mapping = Mapping::endpoint_independent;
  Filtering filtering = Filtering::endpoint_independent;
  bool port_preservation = true;
  // A port that is not preserved is the next free one after the last given
  // (RFC 6081 §5.5's sequential port-symmetric NAT), not a random draw.
  bool sequential_ports = false;
  bool hairpinning = false;
  std::int64_t mapping_lifetime_ms = 120000;  // RFC 4787 REQ-5: at least 2 minutes
  std::vector<NatEvent> timeline;
  // A UPnP Internet Gateway Device on the inside (SSDP + SOAP WANIPConnection:
  // AddPortMapping, DeletePortMapping, GetExternalIPAddress, ...) whose port
  // mappings are static entries of the NAT's own table (RFC 6081 §5.3, §5.6).
  // Profile suffix "+upnp" or topology key "upnp": true. The userspace NAT
  // only: miniupnpd, the IGD for the kernel's NAT, refuses an external
  // address in a documentation range, which is all the lab may use.
  bool upnp = false;
  [[nodiscard]] bool kernel() const { return profile == "linux-masquerade"; }
};

struct Host {
  std::string name;
  std::map<std::string, Interface> interfaces;
  std::vector<Route> routes;
  bool forwarding = false;  // IPv4 and IPv6 forwarding (routers, relays)
  std::optional<NatConfig> nat;
};

struct Endpoint {
  std::string host;
  std::string interface;
};

struct Topology {
  std::string name;
  std::string description;
  std::map<std::string, Host> hosts;
  std::vector<std::pair<Endpoint, Endpoint>> links;
  std::map<std::string, std::vector<Endpoint>> segments;
};

// Names of the NAT profiles load_topology accepts.
const std::vector<std::string>& nat_profiles();
// Fills mapping/filtering from a profile name; false if the name is unknown.
bool apply_nat_profile(const std::string& profile, NatConfig& config);

// The NAT box's own configuration file: the NatConfig plus the addresses and
// control socket the lab assigned. One format, read by teredo-nat.
struct NatBoxConfig {
  NatConfig nat;
  std::string inside_address;   // IPv4 of the inside interface
  std::string outside_address;  // IPv4 of the outside interface (the mapped address)
  std::string control_socket;
  std::uint64_t seed = 1;
};
std::string nat_box_config_to_json(const NatBoxConfig& config);
NatBoxConfig nat_box_config_from_json(const std::string& json_text);  // throws TopologyError

Topology parse_topology(const std::string& json_text, const std::string& origin);
Topology load_topology(const std::string& path);

}  // namespace teredo::netns
