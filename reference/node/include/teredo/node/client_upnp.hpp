// RFC 6081 §5.3 (UPnP-enabled Symmetric NAT Extension), the decisions the
// I/O edge follows around the client's life, sans I/O: which UPnP
// WANIPConnection calls to make before qualification (§5.3.3), with which
// arguments, what their outcomes mean, and the call to make at shutdown
// (§5.3.5.1). The edge performs each call with its UPnP library and reports
// the outcome; the resulting UPnP-Mapped Address/Port goes to
// Client::set_upnp_mapping. What the client does with it (the §5.3.3
// comparison after qualification, §5.3.4's peers) is in client_upnp.cpp too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "teredo/node/endpoint.hpp"
#include "teredo/node/outbox.hpp"
#include "teredo/wire/ipv4.hpp"

namespace teredo::node {

// One UPnP WANIPConnection:1 action and its arguments ([UPNPWANIP] §2.4.16-18).
struct UpnpCall {
  enum class Action : std::uint8_t { add_port_mapping, delete_port_mapping, get_external_ip_address };
  Action action = Action::get_external_ip_address;
  std::string remote_host;              // NewRemoteHost
  std::uint16_t external_port = 0;      // NewExternalPort
  std::string protocol;                 // NewProtocol
  std::uint16_t internal_port = 0;      // NewInternalPort (AddPortMapping)
  wire::Ipv4Address internal_client;    // NewInternalClient (AddPortMapping)
  bool enabled = true;                  // NewEnabled (AddPortMapping)
  std::string description;              // NewPortMappingDescription (AddPortMapping)
  std::uint32_t lease_duration = 0;     // NewLeaseDuration (AddPortMapping)
  friend bool operator==(const UpnpCall&, const UpnpCall&) = default;
};
std::string to_string(UpnpCall::Action action);

// §5.3.3 as a sequence: next() names the call to make, done() takes its
// outcome, until next() is empty; then mapping() is the UPnP-Mapped
// Address/Port to give the client (nullopt: continue without the
// extension) and persisted_port() the Persisted UPnP-Mapped Port to keep.
class UpnpSetup {
 public:
  // `local`: the Local Address/Port (the service socket's, with the address
  // the host uses towards the IGD); `persisted_port`: the Persisted
  // UPnP-Mapped Port from the last run (0: none).
  UpnpSetup(UdpEndpoint local, std::uint16_t persisted_port);

  [[nodiscard]] std::optional<UpnpCall> next() const;
  // The outcome of next()'s call: success, and for GetExternalIPAddress the
  // address it returned.
  void done(bool success, std::optional<wire::Ipv4Address> external_address, Outbox& out);

  [[nodiscard]] const std::optional<UdpEndpoint>& mapping() const noexcept { return mapping_; }
  [[nodiscard]] std::uint16_t persisted_port() const noexcept { return persisted_port_; }

 private:
  enum class Step : std::uint8_t { delete_persisted, add, get_external, delete_after_failure, done };
  UdpEndpoint local_;
  std::uint16_t persisted_port_ = 0;
  Step step_ = Step::done;
  std::optional<UdpEndpoint> mapping_;
};

// §5.3.5.1: the DeletePortMapping call for the mapped port (the Persisted
// UPnP-Mapped Port, which this client supports); nullopt when it is zero.
std::optional<UpnpCall> upnp_uninitialization(std::uint16_t persisted_port, Outbox& out);

}  // namespace teredo::node
