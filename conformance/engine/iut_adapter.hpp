// IUT adapters: one JSON file per implementation (conformance/iut/*.json,
// schema conformance/iut/adapter.schema.json). A vendor writes a file, no
// code: for each role, a start command and a config template with
// placeholders, a readiness probe, and a stop signal; plus the capabilities
// the implementation claims and its timers. Capabilities are never inferred
// (ANCHORS.md §4.8): a case needing one the adapter does not declare is
// not-applicable.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "teredo/netns/lab.hpp"

namespace teredo::conformance {

class AdapterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ReadinessProbe {
  std::string kind = "delay";  // delay | udp-port | log-line | interface-address
  int port = 0;                // udp-port: a UDP socket listening on this port in the IUT's host
  std::string pattern;         // log-line: a substring of the IUT's output; interface-address: an address prefix
  std::string interface;       // interface-address: this interface (placeholders allowed)
  std::chrono::milliseconds delay{300};
  std::chrono::milliseconds timeout{5000};
};

// Client role: how the driver observes the IUT's configured Teredo address
// (JSON "address"): kind "interface-address" reads `ip -o addr show dev
// <interface>` in the IUT's host and takes the first address starting with
// `pattern` and is not tentative (still under duplicate address detection).
// An observation of state, never of the IUT's log.
struct AddressProbe {
  std::string kind = "interface-address";
  std::string interface;  // placeholders allowed
  std::string pattern;    // e.g. "2001:0:"
};

struct RoleLaunch {
  std::vector<std::string> command;  // placeholders: {config} {run_dir} {server_v4} {server_v4_secondary} ...
  std::string config_template;       // written to {config} when not empty
  ReadinessProbe ready;
  std::optional<AddressProbe> address;
  int stop_signal = 15;
  // Other ways to start the role, keyed by the capability a case needs them
  // for (kLaunchVariants): "secure_qualification" (JSON key "secure": §5.2.2
  // required), "server_relay" (JSON key "relay", server role only: a server
  // that is also a relay, §5.4.3), and for the client role only
  // "interval_determination" ("interval": §5.2.7 enabled),
  // "configurable_service_port" ("service_port": bound to {service_port},
  // §5.2.10) and "default_timers" ("default_timers": every protocol timer at
  // its default, for cases that time the defaults themselves). Command and
  // config replace the plain ones; readiness and stop signal stay. RFC 6081's
  // extensions each have one too (client role: "symmetric_nat", "upnp",
  // "port_preserving", "sequential_port", "hairpinning",
  // "server_load_reduction"), so a case runs exactly the extension it tests,
  // and "upnp_hairpinning" ("upnp_symmetric_nat+hairpinning") runs §5.6 and
  // §5.3 together for the cases of §5.6.3 that need both;
  // the server role's "trailers" (rfc6081_trailers) accepts and forwards
  // RFC 6081 trailers.
  struct Variant {
    std::vector<std::string> command;
    std::string config_template;
    // The timers this launch runs with, where they differ from the
    // adapter's timers_ms (a launch with another time scale declares them).
    std::map<std::string, std::int64_t> timers_ms;
  };
  std::map<std::string, Variant> variants;
};

struct Adapter {
  std::string name, description, path, sha256;
  std::vector<std::string> version_command;
  std::map<std::string, RoleLaunch> roles;  // server, client, relay, host-relay
  std::set<std::string> capabilities;
  std::map<std::string, std::int64_t> timers_ms;

  [[nodiscard]] bool has(const std::string& capability) const { return capabilities.count(capability) != 0; }
  [[nodiscard]] std::string version() const;  // first line of version_command's output, or "unknown"
};

// A name ("reference", "miredo") from conformance/iut, or a path. The file
// is validated against adapter.schema.json (adapter_schema_path()), the one
// definition of a valid adapter: unknown keys at any level, unknown
// capabilities, unknown placeholders, numbers out of range and wrong types
// are refused before anything starts. Throws AdapterError with one line:
// "<path>: <JSON pointer>: <the first problem> (and N more)".
Adapter load_adapter(const std::string& name_or_path);
std::string adapter_schema_path();

// A started IUT: its process in the lab (a child of this process), its log.
struct IutProcess {
  pid_t pid = 0;
  std::string host, log_path, role;
  int stop_signal = 15;
};

// How the IUT ended: nullopt while it runs (or was never started). Never
// blocks; asking again gives the same answer, also after stop_iut (which
// reports the stop signal, or SIGKILL when it had to force the IUT).
// netns::describe(status) words it: "exited with status 3", "killed by
// SIGSEGV (core dumped)".
std::optional<netns::ExitStatus> iut_exit_status(const IutProcess& iut);

using Placeholders = std::map<std::string, std::string>;
std::string expand(const std::string& text, const Placeholders& values);  // throws AdapterError on an unknown {name}

// Which lab host runs the IUT of each role ("server", "client", else "relay").
std::string iut_host(const std::string& role);
// The placeholder values a lab gives an adapter's commands and configs
// ({server_v4}, {iface}, {teredo_ref}, {secret}, {client_v4},
// {service_port}, ...; start_iut adds
// {run_dir}, {prefix}, {ns} and {config}).
Placeholders lab_placeholders(const netns::Lab& lab);
// Every placeholder a launch of `role` in a lab with this prefix and run dir,
// in namespace `ns`, gives: the lab's and {run_dir}, {prefix}, {ns},
// {config}. adapter.schema.json lists the same names ($defs/template), a
// unit test keeps the two equal.
Placeholders launch_placeholders(const std::string& prefix, const std::string& run_dir, const std::string& ns,
                                 const std::string& role);

// The launch variants: adapter JSON key -> the capability it serves. A
// combined launch serves a case that needs every capability joined by '+'
// (two extensions that act together, RFC 6081 §5.6.3's UPnP part): it comes
// before its parts, the first entry a case needs picks its launch
// (launch_variant_for).
inline constexpr std::pair<const char*, const char*> kLaunchVariants[] = {
    // RFC 6081 §5.6 with §5.3, client role: hairpinning and UPnP in one launch.
    {"upnp_hairpinning", "upnp_symmetric_nat+hairpinning"},
    // RFC 6081 §5.4 on a faster clock, client role: 20 Peer Refresh periods
    // (§5.4.2.1's Connection Refresh Count) within a case's budget.
    {"port_preserving_fast_timers", "port_preserving_symmetric_nat+fast_timers"},
    {"secure", "secure_qualification"},
    {"relay", "server_relay"},
    {"interval", "interval_determination"},
    {"service_port", "configurable_service_port"},
    {"default_timers", "default_timers"},
    // RFC 6081, client role: one launch per extension.
    {"symmetric_nat", "symmetric_nat_support"},
    {"upnp", "upnp_symmetric_nat"},
    {"port_preserving", "port_preserving_symmetric_nat"},
    {"sequential_port", "sequential_port_symmetric_nat"},
    {"hairpinning", "hairpinning"},
    {"server_load_reduction", "server_load_reduction"},
    // Server role: trailers accepted and forwarded (RFC 6081 §4).
    {"trailers", "rfc6081_trailers"},
};

// The launch variant (its kLaunchVariants capability) a case needing
// `capabilities` runs with: the first entry each of whose '+'-joined
// capabilities the case lists; empty for the plain launch.
std::string launch_variant_for(const std::vector<std::string>& capabilities);

// The timers (milliseconds, by timers_ms name) the role runs with when
// started for `capability` (launch_variant_for; empty: the plain launch):
// the adapter's timers_ms, each overridden by the variant's own.
std::map<std::string, std::int64_t> launch_timers_ms(const Adapter& adapter, const std::string& role,
                                                     const std::string& capability);

// Starts the role's command in `host` (the launch variant for `capability`
// when the role has one, else the plain command) and waits for its readiness
// probe.
// Throws AdapterError (the IUT could not be started: a harness error, never
// an IUT failure) saying how it ended when it ended (its exit status or
// signal) and the last line of its log.
IutProcess start_iut(const Adapter& adapter, const std::string& role, netns::Lab& lab, const std::string& host,
                     Placeholders values, const std::string& capability = {});
void stop_iut(const IutProcess& iut);
// Stops the IUT without its shutdown: SIGKILL to iut.pid (the process
// start_iut started, never any other), and waits until it is gone.
void kill_iut(const IutProcess& iut);

// The address the role's "address" probe observes now in `host` (nullopt:
// none configured, or the adapter declares no probe for the role).
std::optional<std::string> observe_iut_address(const Adapter& adapter, const std::string& role, netns::Lab& lab,
                                               const std::string& host);

}  // namespace teredo::conformance
