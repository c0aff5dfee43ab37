#include "kit/party.hpp"

#include <fmt/format.h>

#include "kit/match.hpp"
#include "kit/packets.hpp"
#include "kit/timing.hpp"

namespace teredo::conformance::kit {

std::string Peer::where() const { return fmt::format("{}:{}", address, port); }

Peer make_peer(CaseRun& run, const std::string& host, const std::string& address, std::uint16_t port,
               const std::string& teredo_server, std::uint16_t flags) {
  Peer p;
  p.fd = run.udp_socket(host, address, port);
  p.address = address;
  p.port = port;
  p.teredo = teredo_address(teredo_server, flags, address, port);
  return p;
}

Sent send_from(CaseRun& run, const std::string& vantage, const Peer& from, wire::Bytes payload, const std::string& to,
               std::uint16_t to_port) {
  Capture& capture = run.capture(vantage);
  Sent s;
  s.mark = capture.count();
  run.send_udp(from.fd, to, to_port, payload);
  const auto own =
      capture.wait_for(udp_between(capture.link_type(), from.address, from.port, to, to_port), timeout::own_frame,
                       s.mark);
  if (own) s.frame = own->number;
  return s;
}

std::uint64_t mark(CaseRun& run, const std::string& vantage) { return run.capture(vantage).count(); }

}  // namespace teredo::conformance::kit
