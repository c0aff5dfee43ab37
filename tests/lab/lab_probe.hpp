// An independent NAT classification probe (STUN-style, RFC 4787 §4-5 terms),
// run from inside a lab: it opens UDP sockets in the client's and the server's
// namespaces and watches which mapped endpoints appear and which inbound
// packets pass. It does not use the NAT box's code, so it can prove it wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "teredo/netns/lab.hpp"

namespace teredo::labtest {

bool running_as_root();

struct UdpEndpoint {
  std::string address;
  std::uint16_t port = 0;
  friend bool operator==(const UdpEndpoint&, const UdpEndpoint&) = default;
};
std::string to_string(const UdpEndpoint& e);

// A UDP socket bound inside a lab host.
class LabSocket {
 public:
  LabSocket(const netns::Lab& lab, const std::string& host, const UdpEndpoint& bind_to);
  ~LabSocket();
  LabSocket(const LabSocket&) = delete;
  LabSocket& operator=(const LabSocket&) = delete;
  void send_to(const UdpEndpoint& to, const std::string& payload) const;
  // The sender of the next datagram whose payload equals `payload`, if one
  // arrives within `timeout_ms` (other datagrams are skipped).
  std::optional<UdpEndpoint> receive(const std::string& payload, int timeout_ms = 300) const;

 private:
  int fd_ = -1;
};

// What the probe saw.
struct Classification {
  std::string mapping;    // endpoint-independent | address-dependent | address-and-port-dependent
  std::string filtering;  // the same three names
  UdpEndpoint mapped;     // the first mapped endpoint
};

// Client: `client_host` at `client_address`; remotes: `remote_host` owning
// `remote_a` and `remote_b` (two IPv4 addresses). Uses ports base..base+1 on
// the client and 4000/4001 on the remotes.
Classification classify(const netns::Lab& lab, const std::string& client_host,
                        const std::string& client_address, const std::string& remote_host,
                        const std::string& remote_a, const std::string& remote_b, std::uint16_t base);

}  // namespace teredo::labtest
