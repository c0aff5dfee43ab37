// Frame matchers over a capture: what a judgement looks for, by content
// (addresses, ports, payload markers), never by when it came.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/capture.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::kit {

using FrameMatch = std::function<bool(const CapturedFrame&)>;

// A UDP datagram (over IPv4) to address:port (port 0: any port).
FrameMatch udp_to(wire::LinkType link, const std::string& address, std::uint16_t port);
// A UDP datagram from `address` (any port).
FrameMatch udp_from(wire::LinkType link, const std::string& address);
// The UDP datagram from:from_port -> to:to_port (a frame the driver sent).
FrameMatch udp_between(wire::LinkType link, const std::string& from, std::uint16_t from_port, const std::string& to,
                       std::uint16_t to_port);
// A UDP datagram from `address` whose payload holds `mark`.
FrameMatch udp_from_containing(wire::LinkType link, const std::string& address, const std::string& mark);
// A Teredo datagram from `address` (any port) whose authentication
// encapsulation carries `nonce`: the answer to the RS that sent it, wherever
// it was sent.
FrameMatch udp_from_with_nonce(wire::LinkType link, const std::string& address, const wire::Nonce& nonce);
// A Teredo bubble from `address` whose IPv6 destination is `destination`.
FrameMatch bubble_from(wire::LinkType link, const std::string& address, const wire::Ipv6Address& destination);
// A native IPv6 packet source -> destination.
FrameMatch native_carrying(wire::LinkType link, const wire::Ipv6Address& source, const wire::Ipv6Address& destination);

}  // namespace teredo::conformance::kit
