// Lab facts: the addresses and ports of the lab topologies
// (netns/topologies/*.json) and the adapter placeholders
// (engine/iut_adapter.cpp lab_placeholders) that the cases talk about, named
// once. tests/kit/lab_facts_test.cpp reads the topology files and fails when
// a name here and the topology disagree (lab_fact_mismatches).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "teredo/netns/topology.hpp"

namespace teredo::conformance::kit::lab {

inline constexpr std::uint16_t kTeredoPort = 3544;

// server-only (and client-nat): the IUT server and the driver playing its clients.
inline constexpr const char* kServerPrimary = "203.0.113.1";    // {server_v4}
inline constexpr const char* kServerSecondary = "203.0.113.2";  // {server_v4_secondary}
inline constexpr const char* kDriver = "198.51.100.7";
inline constexpr const char* kNonGlobalDriver = "192.88.99.7";  // RFC 4380 §5.2.4: 192.88.99.0/24 is not global
inline constexpr std::uint16_t kControlPort = 40999;            // the control RS / control client

// relay-only: the IUT relay, the driver (clients and their server), the native host.
inline constexpr const char* kRelay = "198.51.100.20";    // {relay_v4}
inline constexpr const char* kRelayV6 = "2001:db8:1::1";  // the relay's native IPv6 address
inline constexpr const char* kV6Host = "2001:db8:1::10";  // the native IPv6 host
inline constexpr const char* kClients = "198.51.100.7";   // driver addresses playing clients
inline constexpr const char* kClients2 = "198.51.100.8";
inline constexpr std::uint16_t kNativeSink = 6000;  // the UDP port native packets are addressed to

// client-lab: the IUT client behind a NAT, the driver host ("server") playing
// its servers, peers and a relay.
inline constexpr const char* kPeerServer = "203.0.113.3";  // the peers' Teredo server
inline constexpr const char* kPeerA = "198.51.100.7";
inline constexpr const char* kPeerB = "198.51.100.8";
inline constexpr const char* kPlayedRelay = "198.51.100.9";
inline constexpr const char* kNatOutside = "198.51.100.1";
inline constexpr const char* kClientLan = "192.0.2.10";  // {client_v4}
inline constexpr const char* kLanPeer = "192.0.2.20";
inline constexpr std::uint16_t kAppPort = 7000;  // the UDP port of the played application, both ends

// Secure qualification placeholders ({secret}, {client_id}).
inline constexpr const char* kSecret = "teredo-conformance-secret";
inline constexpr const char* kClientId = "client-7";

// One fact: `address` is on `host` in topology `topology`.
struct Fact {
  const char* topology;
  const char* host;
  const char* address;
};
const std::vector<Fact>& facts();
// The facts about `topology` (by its name) that it does not bear out, one
// line each; empty when they all hold (or none is about it).
std::vector<std::string> lab_fact_mismatches(const netns::Topology& topology);

}  // namespace teredo::conformance::kit::lab
