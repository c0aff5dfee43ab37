#include "engine/capabilities.hpp"

#include <algorithm>

namespace teredo::conformance {

const std::vector<CapabilityInfo>& capability_table() {
  static const std::vector<CapabilityInfo> table = {
      {"secure_qualification", CapabilityKind::optional_feature,
       "RFC 4380 §5.2.2: \"The client may be required to perform secured qualification\"; a server that does not "
       "require it serves every client",
       {}},
      {"secure_qualification:hmac-md5", CapabilityKind::optional_feature,
       "RFC 4380 §7.2.1 names HMAC-MD5 where §5.2.2 names HMAC-SHA1 (erratum 107): a legacy algorithm some "
       "implementations offer",
       {}},
      // RFC 6081 §3 makes every extension optional ("The X Extension is
      // optional"; each a SHOULD in its own section, §5.2-§5.7): one
      // capability per extension, each with its own launch variant, so a
      // case runs the IUT with exactly the extension it tests.
      {"symmetric_nat_support", CapabilityKind::optional_feature,
       "RFC 6081 §5.2: the Symmetric NAT Support Extension (nonce trailers on bubbles) is optional (§3)", {}},
      {"upnp_symmetric_nat", CapabilityKind::optional_feature,
       "RFC 6081 §5.3: the UPnP-enabled Symmetric NAT Extension is optional (§3)", {}},
      {"port_preserving_symmetric_nat", CapabilityKind::optional_feature,
       "RFC 6081 §5.4: the Port-Preserving Symmetric NAT Extension is optional (§3)", {}},
      {"sequential_port_symmetric_nat", CapabilityKind::optional_feature,
       "RFC 6081 §5.5: the Sequential Port-Symmetric NAT Extension is optional (§3)", {}},
      {"hairpinning", CapabilityKind::optional_feature,
       "RFC 6081 §5.6: the Hairpinning Extension is optional (§3)", {}},
      {"server_load_reduction", CapabilityKind::optional_feature,
       "RFC 6081 §5.7: the Server Load Reduction Extension is optional (§3)", {}},
      // A server: RFC 6081 §4 redefines a "consistent" packet so that
      // trailers may follow the IPv6 packet. A server without RFC 6081 drops
      // such a packet as not well formed (RFC 4380 §5.3.1 rule 1), which is
      // what the server cases allow (server.hardening.trailer-discard-type);
      // two RFC 6081 clients meet only through a server that forwards their
      // indirect bubbles with the trailers (interop scenario E).
      {"rfc6081_trailers", CapabilityKind::optional_feature,
       "RFC 6081 §4: a server that accepts trailers after the IPv6 packet and forwards an indirect bubble with "
       "them; one without RFC 6081 drops such packets (RFC 4380 §5.3.1 rule 1)",
       {}},
      // The name before the per-extension ones: still accepted so that
      // adapters declaring it stay valid; no case needs it.
      {"symmetric_nat_workaround", CapabilityKind::optional_feature,
       "RFC 6081 §3 (superseded by the per-extension capabilities above; no case needs it)", {}},
      {"rfc4380_cone_probing", CapabilityKind::optional_feature,
       "RFC 5991 §3.2: \"Teredo clients SHOULD completely skip the first phase of the qualification procedure\": "
       "the cone probe of RFC 4380 §5.2.1 is a legacy behaviour",
       {}},
      {"server_relay", CapabilityKind::optional_feature,
       "RFC 4380 §5.3.3: a server may also forward to native IPv6 (act as a relay); a plain server need not", {}},
      {"host_specific_relay", CapabilityKind::optional_feature,
       "RFC 4380 §5.4: \"a minimal Teredo relay may serve just a local host\"", {}},
      {"local_discovery", CapabilityKind::optional_feature,
       "RFC 4380 §5.2.8: \"Optional Local Client Discovery Procedure\"", {}},
      {"interval_determination", CapabilityKind::optional_feature,
       "RFC 4380 §5.2.7: \"Optional Refresh Interval Determination Procedure\"", {}},
      {"default_timers", CapabilityKind::launch_form,
       "a launch with every protocol timer at its RFC default (no time scaling), for the cases that time a default",
       {}},
      {"fast_timers", CapabilityKind::launch_form,
       "a launch whose protocol timers run at least 50 times faster than the RFC's, with the timers_ms it runs, for "
       "the cases that need more timer periods than fit a case's budget at the usual scale (RFC 6081 §5.4.2.1: twenty "
       "Peer Refresh periods of 30 s)",
       {}},
      // §5.2.10: "The implementers of Teredo functions in hosts must make sure
      // that the value of the service port can be explicitly provisioned".
      {"configurable_service_port", CapabilityKind::required,
       "RFC 4380 §5.2.10: \"implementers ... must make sure that the value of the service port can be explicitly "
       "provisioned\"; the adapter's service_port launch is how it is provisioned",
       "R4380-5.2.10-01"},
      // §5.2.9 says a client "should" run the test: a SHOULD, not an option.
      // Kept so that adapters that declare it stay valid; cases never need it.
      {"direct_connectivity_test", CapabilityKind::required,
       "RFC 4380 §5.2.9: the client \"should check whether a valid peer entry already exists\" and test first; a "
       "SHOULD is judged, never declared away",
       {}},
  };
  return table;
}

const CapabilityInfo* find_capability(std::string_view name) {
  const auto& table = capability_table();
  const auto it = std::find_if(table.begin(), table.end(), [&](const CapabilityInfo& c) { return c.name == name; });
  return it == table.end() ? nullptr : &*it;
}

MissingCapabilities judge_missing_capabilities(const std::vector<std::string>& missing) {
  MissingCapabilities out;
  std::string optional, launch, required;
  std::string requirement;
  const auto append = [](std::string& list, const std::string& name) { list += (list.empty() ? "" : ", ") + name; };
  for (const auto& name : missing) {
    const CapabilityInfo* c = find_capability(name);
    if (c == nullptr || c->kind == CapabilityKind::launch_form) {
      append(launch, name);
    } else if (c->kind == CapabilityKind::optional_feature) {
      append(optional, name);
    } else if (!c->requirement.empty()) {
      append(required, name);
      if (requirement.empty()) requirement = std::string(c->requirement);
    }
  }
  // An optional feature the IUT does not offer makes the case moot, whatever
  // else is missing.
  if (!optional.empty()) {
    out.outcome = MissingCapabilities::Outcome::not_applicable;
    out.reason = "the adapter does not declare: " + optional + " (optional in the RFC)";
  } else if (!required.empty()) {
    out.outcome = MissingCapabilities::Outcome::fail;
    out.reason = "the adapter declares no way to use " + required + ", which the RFC requires";
    out.requirement = requirement;
  } else if (!launch.empty()) {
    out.outcome = MissingCapabilities::Outcome::inconclusive;
    out.reason = "the adapter gives no launch for " + launch + ": the lab cannot reach the state this case judges";
  }
  return out;
}

}  // namespace teredo::conformance
