// The NAT's UPnP Internet Gateway Device, reached with libminiupnpc (Debian
// libminiupnpc-dev): SSDP discovery, then the WANIPConnection:1 calls that
// node::UpnpSetup and node::upnp_uninitialization decide on (RFC 6081 §5.3.3,
// §5.3.5.1). Blocking calls: the client runner makes them before the client
// starts and after its loop ends.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "teredo/node/client_upnp.hpp"
#include "teredo/wire/ipv4.hpp"

namespace teredo::io {

class UpnpGateway {
 public:
  // Searches for an IGD for `delay_ms` (SSDP M-SEARCH, from the interface of
  // `local` when it is not 0.0.0.0). nullptr when none answers; `error`
  // then says why.
  static std::unique_ptr<UpnpGateway> discover(wire::Ipv4Address local, int delay_ms, std::string& error);
  ~UpnpGateway();
  UpnpGateway(const UpnpGateway&) = delete;
  UpnpGateway& operator=(const UpnpGateway&) = delete;

  // The host's address towards the IGD (the Local Address when the service
  // socket is bound to all addresses).
  [[nodiscard]] wire::Ipv4Address lan_address() const noexcept { return lan_address_; }
  [[nodiscard]] const std::string& control_url() const noexcept { return control_url_; }

  struct Result {
    bool success = false;
    std::optional<wire::Ipv4Address> external_address;  // GetExternalIPAddress
    std::string detail;                                  // the UPnP error, for the log
  };
  Result perform(const node::UpnpCall& call);

 private:
  UpnpGateway() = default;
  std::string control_url_;
  std::string service_type_;
  wire::Ipv4Address lan_address_;
};

}  // namespace teredo::io
