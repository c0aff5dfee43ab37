// Synthetic captured frames for the kit tests: Ethernet/IPv4/UDP frames built
// with the wire library's frame writer, numbered as a capture numbers them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "engine/capture.hpp"
#include "kit/packets.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::kit::test {

inline CapturedFrame udp_frame(std::uint64_t number, const std::string& from, std::uint16_t from_port,
                               const std::string& to, std::uint16_t to_port, wire::Bytes payload) {
  const wire::Ipv4UdpEndpoints e{.source = ipv4(from), .source_port = from_port, .destination = ipv4(to),
                                 .destination_port = to_port};
  return CapturedFrame{number, std::chrono::steady_clock::now(), wire::build_ethernet_ipv4_udp(e, payload)};
}

}  // namespace teredo::conformance::kit::test
