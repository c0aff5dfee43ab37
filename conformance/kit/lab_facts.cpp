#include "kit/lab_facts.hpp"

#include <fmt/format.h>

namespace teredo::conformance::kit::lab {

const std::vector<Fact>& facts() {
  static const std::vector<Fact> table = {
      {"server-only", "server", kServerPrimary},  {"server-only", "server", kServerSecondary},
      {"server-only", "driver", kDriver},         {"server-only", "driver", kNonGlobalDriver},
      {"client-nat", "server", kServerPrimary},   {"client-nat", "server", kServerSecondary},
      {"client-nat", "relay", kRelay},            {"client-nat", "v6host", kV6Host},
      {"relay-only", "relay", kRelay},            {"relay-only", "relay", kRelayV6},
      {"relay-only", "v6host", kV6Host},          {"relay-only", "driver", kClients},
      {"relay-only", "driver", kClients2},        {"relay-only", "driver", kServerPrimary},
      {"relay-only", "driver", kNonGlobalDriver}, {"client-lab", "client", kClientLan},
      {"client-lab", "lanpeer", kLanPeer},        {"client-lab", "nat", kNatOutside},
      {"client-lab", "server", kServerPrimary},   {"client-lab", "server", kServerSecondary},
      {"client-lab", "server", kPeerServer},      {"client-lab", "server", kPeerA},
      {"client-lab", "server", kPeerB},           {"client-lab", "server", kPlayedRelay},
  };
  return table;
}

std::vector<std::string> lab_fact_mismatches(const netns::Topology& topology) {
  std::vector<std::string> out;
  for (const Fact& f : facts()) {
    if (topology.name != f.topology) continue;
    const auto host = topology.hosts.find(f.host);
    bool found = false;
    if (host != topology.hosts.end()) {
      for (const auto& [name, interface] : host->second.interfaces) {
        for (const auto& cidr : interface.addresses) found |= cidr.address == f.address;
      }
    }
    if (!found) out.push_back(fmt::format("topology {}: host {} has no address {}", f.topology, f.host, f.address));
  }
  return out;
}

}  // namespace teredo::conformance::kit::lab
