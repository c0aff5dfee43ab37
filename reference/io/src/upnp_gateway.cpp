#include "teredo/io/upnp_gateway.hpp"

#include <arpa/inet.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include <string>

namespace teredo::io {

namespace {

std::optional<wire::Ipv4Address> parse(const char* text) {
  in_addr a{};
  if (text == nullptr || inet_pton(AF_INET, text, &a) != 1) return std::nullopt;
  return wire::Ipv4Address{ntohl(a.s_addr)};
}

std::string describe(int code) {
  const char* s = strupnperror(code);
  return std::to_string(code) + (s != nullptr ? std::string(" ") + s : std::string());
}

}  // namespace

std::unique_ptr<UpnpGateway> UpnpGateway::discover(wire::Ipv4Address local, int delay_ms, std::string& error) {
  const std::string interface = local.value != 0 ? wire::to_string(local) : std::string();
  int status = 0;
  UPNPDev* devices =
      upnpDiscover(delay_ms, interface.empty() ? nullptr : interface.c_str(), nullptr, 0, 0, 2, &status);
  if (devices == nullptr) {
    error = "no UPnP device answered (SSDP, status " + std::to_string(status) + ")";
    return nullptr;
  }
  UPNPUrls urls{};
  IGDdatas data{};
  char lan[64] = {};
  const int found = UPNP_GetValidIGD(devices, &urls, &data, lan, sizeof lan);
  freeUPNPDevlist(devices);
  if (found != 1 && found != 2) {
    if (found != 0) FreeUPNPUrls(&urls);
    error = found == 0 ? "no IGD among the UPnP devices" : "a UPnP device that is not an IGD";
    return nullptr;
  }
  std::unique_ptr<UpnpGateway> gateway(new UpnpGateway());
  gateway->control_url_ = urls.controlURL != nullptr ? urls.controlURL : "";
  gateway->service_type_ = data.first.servicetype;
  gateway->lan_address_ = parse(lan).value_or(local);
  FreeUPNPUrls(&urls);
  if (gateway->control_url_.empty()) {
    error = "the IGD names no WANIPConnection control URL";
    return nullptr;
  }
  return gateway;
}

UpnpGateway::~UpnpGateway() = default;

UpnpGateway::Result UpnpGateway::perform(const node::UpnpCall& call) {
  Result r;
  int code = 0;
  switch (call.action) {
    case node::UpnpCall::Action::add_port_mapping: {
      const std::string external = std::to_string(call.external_port);
      const std::string internal = std::to_string(call.internal_port);
      const std::string client = wire::to_string(call.internal_client);
      const std::string lease = std::to_string(call.lease_duration);
      // NewEnabled: libminiupnpc always sends 1, which is what §5.3.3 asks.
      code = UPNP_AddPortMapping(control_url_.c_str(), service_type_.c_str(), external.c_str(), internal.c_str(),
                                 client.c_str(), call.description.c_str(), call.protocol.c_str(),
                                 call.remote_host.c_str(), lease.c_str());
      break;
    }
    case node::UpnpCall::Action::delete_port_mapping: {
      const std::string external = std::to_string(call.external_port);
      code = UPNP_DeletePortMapping(control_url_.c_str(), service_type_.c_str(), external.c_str(),
                                    call.protocol.c_str(), call.remote_host.c_str());
      break;
    }
    case node::UpnpCall::Action::get_external_ip_address: {
      char address[40] = {};
      code = UPNP_GetExternalIPAddress(control_url_.c_str(), service_type_.c_str(), address);
      if (code == 0) {
        r.external_address = parse(address);
        r.detail = address;
      }
      break;
    }
  }
  r.success = code == 0;
  if (code != 0) r.detail = describe(code);
  return r;
}

}  // namespace teredo::io
