// Played parties every role uses: a driver socket that plays one Teredo node
// (its Teredo address embeds its real endpoint, so no NAT sits between), and
// sending from it with the frame it left in a capture (so a verdict can cite
// the stimulus). Role-specific parties (the client cases' played server, the
// relay cases' native host) live in the role drivers, on top of these.
#pragma once

#include <cstdint>
#include <string>

#include "engine/case.hpp"
#include "kit/lab_facts.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::kit {

struct Peer {
  int fd = -1;
  std::string address{};
  std::uint16_t port = 0;
  wire::Ipv6Address teredo{};
  [[nodiscard]] std::string where() const;  // "198.51.100.7:41001"
};
// A UDP socket on address:port in `host`, closed with the case, whose Teredo
// address names `teredo_server` and embeds address:port.
Peer make_peer(CaseRun& run, const std::string& host, const std::string& address, std::uint16_t port,
               const std::string& teredo_server, std::uint16_t flags = 0);

// What a send left in a capture.
struct Sent {
  std::uint64_t mark = 0;   // the capture's last frame before sending
  std::uint64_t frame = 0;  // the datagram itself (0 when not seen within timeout::own_frame)
};
// Sends `payload` from `from` to to:to_port and finds it in `vantage`.
Sent send_from(CaseRun& run, const std::string& vantage, const Peer& from, wire::Bytes payload, const std::string& to,
               std::uint16_t to_port = lab::kTeredoPort);

// The last frame number of a capture now (send something, then look for
// answers after it).
std::uint64_t mark(CaseRun& run, const std::string& vantage);

}  // namespace teredo::conformance::kit
