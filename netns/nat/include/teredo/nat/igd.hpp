// The NAT box's UPnP Internet Gateway Device, sans I/O: SSDP M-SEARCH in,
// the unicast answer out; one HTTP request in (device description or a SOAP
// call on WANIPConnection:1), the response out. Port mappings are static
// entries of the NatEngine's own table, so what AddPortMapping promises is
// what the NAT does. Every SOAP call is kept, with its arguments as sent, for
// cases that judge a client's UPnP use by content (RFC 6081 §5.3.3, §5.3.5.1).
// Real miniupnpc (upnpc, libminiupnpc) talks to it unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "teredo/nat/nat_engine.hpp"

namespace teredo::nat {

struct IgdConfig {
  std::uint32_t inside_address = 0;   // where the IGD listens (host order)
  std::uint32_t outside_address = 0;  // GetExternalIPAddress
  std::uint16_t http_port = 5000;
  std::string uuid = "7eed0000-0000-4000-8000-000000000001";
};

// One SOAP call as received, and how it was answered.
struct UpnpCall {
  std::string action;                             // e.g. "AddPortMapping"
  std::string client;                             // the requester's IPv4 address
  std::map<std::string, std::string> arguments;   // element name -> text (unescaped)
  int error = 0;                                  // 0: success, else the UPnPError code
  // UDP packets of the requester the NAT had sent on before this call: 0
  // means the call came before any of its traffic left (RFC 6081 §5.3.3:
  // "prior to beginning the qualification procedure").
  std::uint64_t outbound_before = 0;
};

class Igd {
 public:
  static constexpr std::uint16_t kSsdpPort = 1900;
  static constexpr const char* kSsdpGroup = "239.255.255.250";

  Igd(IgdConfig config, NatEngine& engine) : config_(std::move(config)), engine_(engine) {}

  // The answer to an SSDP datagram: for an M-SEARCH whose ST names this
  // device, one of its services, upnp:rootdevice or ssdp:all; nullopt else.
  [[nodiscard]] std::optional<std::string> ssdp(std::string_view datagram) const;

  // The length of the first complete HTTP request in `buffer` (headers and
  // the Content-Length body), nullopt while incomplete; 0 when it can never
  // be one (too long, bad Content-Length): answer 400 and close.
  static std::optional<std::size_t> request_length(std::string_view buffer);

  // The response to one complete HTTP request from `client` (host order).
  std::string http(Time now, std::uint32_t client, std::string_view request);

  [[nodiscard]] const std::vector<UpnpCall>& calls() const noexcept { return calls_; }

  // Fault injection for conformance cases: every later call of `action`
  // fails with UPnP error `code` (0: answer normally again).
  void refuse(const std::string& action, int code) { refusals_[action] = code; }

 private:
  struct Entry {
    std::string description;
    std::uint16_t internal_port = 0;
    std::uint32_t internal_client = 0;
  };
  std::string soap(Time now, std::uint32_t client, std::string_view action, std::string_view body);
  std::string root_description() const;

  IgdConfig config_;
  NatEngine& engine_;
  std::map<std::uint16_t, Entry> entries_;  // by external port (UDP)
  std::vector<UpnpCall> calls_;
  std::map<std::string, int> refusals_;
};

// "a.b.c.d" of a host-order address.
std::string ipv4_text(std::uint32_t address);
// nullopt unless `text` is a dotted-quad IPv4 address.
std::optional<std::uint32_t> parse_ipv4(std::string_view text);

}  // namespace teredo::nat
