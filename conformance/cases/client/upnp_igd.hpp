// The lab NAT's UPnP IGD as the client cases read it (NAT profiles
// "<profile>+upnp": SSDP and SOAP WANIPConnection:1 in teredo-nat). The IGD
// keeps every SOAP call with its arguments as received and how many UDP
// packets of the caller it had forwarded before it ("outbound_before"):
// calls are judged from that record, by content, and their place relative
// to the IUT's Teredo traffic from that count, never from timing. Shared by
// upnp.cpp (RFC 6081 §5.3) and upnp_hairpinning.cpp (§5.6.3, §5.3.3's
// persisted port).
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client::upnp {

inline constexpr const char* kCapability = "upnp_symmetric_nat";

// One SOAP call the NAT's IGD received.
struct IgdCall {
  std::size_t index = 0;  // its place in the IGD's record (1-based)
  std::string action{}, client{};
  std::map<std::string, std::string> arguments{};
  int error = 0;
  std::uint64_t outbound_before = 0;
  [[nodiscard]] std::string arg(const std::string& name) const {
    const auto it = arguments.find(name);
    return it == arguments.end() ? "<absent>" : "\"" + it->second + "\"";
  }
  [[nodiscard]] std::optional<std::string> value(const std::string& name) const {
    const auto it = arguments.find(name);
    return it == arguments.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
};

inline std::string call_text(const IgdCall& c) {
  std::string args;
  for (const auto& [k, v] : c.arguments) args += fmt::format("{}{}=\"{}\"", args.empty() ? "" : ", ", k, v);
  return fmt::format("IGD call #{} {}({}) from {} -> {}, after {} UDP packet(s) of it", c.index, c.action, args,
                     c.client, c.error == 0 ? std::string("success") : fmt::format("UPnP error {}", c.error),
                     c.outbound_before);
}

// The IUT's calls so far, in order (the IGD's own record, "upnp" on its
// control socket).
inline std::vector<IgdCall> iut_calls(CaseRun& run) {
  std::vector<IgdCall> calls;
  const auto j = nlohmann::json::parse(run.lab().nat_command("nat", "upnp"), nullptr, false);
  if (!j.is_object() || !j.contains("calls")) return calls;
  std::size_t index = 0;
  for (const auto& c : j["calls"]) {
    ++index;
    if (c.value("client", "") != kClientLan) continue;
    IgdCall call;
    call.index = index;
    call.action = c.value("action", "");
    call.client = c.value("client", "");
    for (const auto& [k, v] : c["arguments"].items()) call.arguments[k] = v.get<std::string>();
    call.error = c.value("error", 0);
    call.outbound_before = c.value("outbound_before", std::uint64_t{0});
    calls.push_back(std::move(call));
  }
  return calls;
}

inline const IgdCall* first_call(const std::vector<IgdCall>& calls, const std::string& action,
                                 std::size_t after = 0) {
  for (const auto& c : calls) {
    if (c.action == action && c.index > after) return &c;
  }
  return nullptr;
}

// After a restart of the IUT: the IGD's record once the new instance's
// AddPortMapping (a call after record entry `last`) is in it, polled every
// 100 ms for at most 10 s (the record as it then stands when none came).
inline std::vector<IgdCall> calls_once_added_again(CaseRun& run, std::size_t last) {
  std::vector<IgdCall> calls = iut_calls(run);
  for (int i = 1; i < 100 && first_call(calls, "AddPortMapping", last) == nullptr; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    calls = iut_calls(run);
  }
  return calls;
}

// The first DeletePortMapping after entry `last` and before `before` (any
// later one when `before` is null).
inline const IgdCall* removal_before(const std::vector<IgdCall>& calls, std::size_t last, const IgdCall* before) {
  for (const auto& c : calls) {
    if (c.index > last && c.action == "DeletePortMapping" && (before == nullptr || c.index < before->index)) return &c;
  }
  return nullptr;
}

// UPnP booleans: 1, true or yes ([UPNPWANIP] data types).
inline bool upnp_true(const std::string& v) { return v == "1" || v == "true" || v == "yes"; }

// The IUT's Local Port: the UDP source port of its first RS on the LAN
// (before the NAT), from `after` on.
inline std::optional<Seen> first_rs(CaseRun& run, std::uint64_t after = 0) {
  // The played server reads an RS from its socket before the capture thread
  // has indexed the frame (seen under load: a qualified IUT with no RS in the
  // capture yet): wait, bounded, for one to show; the capture keeps order, so
  // the first one is then there too.
  Capture& lan = run.capture("lan");
  (void)lan.wait_for(iut_rs(lan), kit::timeout::answer, after);
  const auto rs = all_seen(run, iut_rs(lan), after);
  if (rs.empty()) return std::nullopt;
  return rs.front();
}

// What in an AddPortMapping differs from RFC 6081 §5.3.3's parameters for
// this Local Port (also §5.6.3's: "with the parameters specified in Section
// 5.3.3"), or that it came after a UDP packet of the IUT had left through
// the NAT (the call is due before qualification begins). Empty: as due.
inline std::vector<std::string> add_port_mapping_problems(const IgdCall& add, std::uint16_t local_port) {
  std::vector<std::string> wrong;
  const std::string port = std::to_string(local_port);
  const auto want = [&](const char* name, bool ok, const std::string& expected) {
    if (!ok) wrong.push_back(fmt::format("{} {} (expected {})", name, add.arg(name), expected));
  };
  want("NewRemoteHost", add.value("NewRemoteHost") == std::string(), "\"\"");
  want("NewExternalPort", add.value("NewExternalPort") == port, "the Local Port " + port);
  want("NewProtocol", add.value("NewProtocol") == std::string("UDP"), "UDP");
  want("NewInternalPort", add.value("NewInternalPort") == port, "the Local Port " + port);
  want("NewInternalClient", add.value("NewInternalClient") == std::string(kClientLan),
       std::string("the Local Address ") + kClientLan);
  want("NewEnabled", add.value("NewEnabled") && upnp_true(*add.value("NewEnabled")), "TRUE");
  want("NewPortMappingDescription", add.value("NewPortMappingDescription") == std::string("TEREDO"),
       "\"TEREDO\"");
  want("NewLeaseDuration", add.value("NewLeaseDuration") == std::string("0"), "0");
  if (add.outbound_before != 0) {
    wrong.push_back(fmt::format("made after {} UDP packet(s) of the IUT had left through the NAT (expected before "
                                "qualification began)",
                                add.outbound_before));
  }
  return wrong;
}

inline std::string add_port_mapping_expected(std::uint16_t local_port) {
  return fmt::format("AddPortMapping(NewRemoteHost=\"\", NewExternalPort={0}, NewProtocol=UDP, "
                     "NewInternalPort={0}, NewInternalClient={1}, NewEnabled=1, "
                     "NewPortMappingDescription=\"TEREDO\", NewLeaseDuration=0) before any Teredo packet",
                     local_port, kClientLan);
}

}  // namespace teredo::conformance::client::upnp
