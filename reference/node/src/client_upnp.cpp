// RFC 6081 §5.3, UPnP-enabled Symmetric NAT Extension (and the UPnP part of
// §5.6.3, the Hairpinning Extension's initialization, which asks for the
// same calls and the same comparison): the §5.3.3 call sequence and the
// §5.3.5.1 uninitialization the I/O edge performs, and the client's own
// decisions: the UPnP-Mapped Address/Port after qualification (§5.3.3), the
// Symmetric Peer flag (§5.3.4.1) and where direct bubbles and data go
// (§5.3.4.2, §5.3.4.3).
#include "teredo/node/client_upnp.hpp"

#include "teredo/node/client.hpp"

namespace teredo::node {

std::string to_string(UpnpCall::Action action) {
  switch (action) {
    case UpnpCall::Action::add_port_mapping: return "AddPortMapping";
    case UpnpCall::Action::delete_port_mapping: return "DeletePortMapping";
    case UpnpCall::Action::get_external_ip_address: return "GetExternalIPAddress";
  }
  return "?";
}

namespace {

UpnpCall delete_call(std::uint16_t port) {
  // R6081-5.3.5.1-01: NewRemoteHost "", NewExternalPort the mapped port,
  // NewProtocol UDP.
  UpnpCall c;
  c.action = UpnpCall::Action::delete_port_mapping;
  c.remote_host = "";
  c.external_port = port;
  c.protocol = "UDP";
  return c;
}

}  // namespace

UpnpSetup::UpnpSetup(UdpEndpoint local, std::uint16_t persisted_port)
    : local_(local), persisted_port_(persisted_port) {
  // R6081-5.3.3-01: before qualification, uninitialization first if the
  // Persisted UPnP-Mapped Port (supported here) is non-zero.
  step_ = persisted_port_ != 0 ? Step::delete_persisted : Step::add;
}

std::optional<UpnpCall> UpnpSetup::next() const {
  switch (step_) {
    case Step::delete_persisted:
      return delete_call(persisted_port_);
    case Step::add: {
      // R6081-5.3.3-02 (and R6081-5.6.3-01): AddPortMapping with these
      // parameters: external = internal = the Local Port, for the Local
      // Address, enabled, "TEREDO", lease 0.
      UpnpCall c;
      c.action = UpnpCall::Action::add_port_mapping;
      c.remote_host = "";
      c.external_port = local_.port;
      c.protocol = "UDP";
      c.internal_port = local_.port;
      c.internal_client = local_.address;
      c.enabled = true;
      c.description = "TEREDO";
      c.lease_duration = 0;
      return c;
    }
    case Step::get_external: {
      // R6081-5.3.3-06: then GetExternalIPAddress.
      UpnpCall c;
      c.action = UpnpCall::Action::get_external_ip_address;
      return c;
    }
    case Step::delete_after_failure:
      return delete_call(persisted_port_);
    case Step::done:
      return std::nullopt;
  }
  return std::nullopt;
}

void UpnpSetup::done(bool success, std::optional<wire::Ipv4Address> external_address, Outbox& out) {
  switch (step_) {
    case Step::delete_persisted:
      // Whatever the IGD answers (the mapping may be gone with a reboot of
      // the NAT), the persisted port is spent.
      out.action(success ? "upnp_persisted_mapping_deleted" : "upnp_persisted_mapping_delete_failed",
                 "R6081-5.3.3-01", "port " + std::to_string(persisted_port_));
      persisted_port_ = 0;
      step_ = Step::add;
      return;
    case Step::add:
      if (!success) {
        // R6081-5.3.3-03: AddPortMapping failed: continue without the extension.
        out.action("upnp_unavailable", "R6081-5.3.3-03", "AddPortMapping failed: qualifying without UPnP");
        step_ = Step::done;
        return;
      }
      // R6081-5.3.3-04/05: otherwise the UPnP-Mapped Port and the Persisted
      // UPnP-Mapped Port are the Local Port.
      persisted_port_ = local_.port;
      out.action("upnp_port_mapped", "R6081-5.3.3-05", "port " + std::to_string(local_.port));
      step_ = Step::get_external;
      return;
    case Step::get_external:
      if (!success || !external_address || external_address->value == 0) {
        // R6081-5.3.3-07: uninitialization (§5.3.5.1), then on without the extension.
        out.action("upnp_no_external_address", "R6081-5.3.3-07",
                   "GetExternalIPAddress failed: deleting the mapping, qualifying without UPnP");
        step_ = Step::delete_after_failure;
        return;
      }
      // R6081-5.3.3-08/09: the UPnP-Mapped Address is the one returned
      // (the UPnP-Enabled NAT flag goes up in Client::set_upnp_mapping).
      mapping_ = UdpEndpoint{*external_address, local_.port};
      out.action("upnp_mapping", "R6081-5.3.3-09", to_string(*mapping_));
      step_ = Step::done;
      return;
    case Step::delete_after_failure:
      out.action(success ? "upnp_mapping_deleted" : "upnp_mapping_delete_failed", "R6081-5.3.5.1-01",
                 "port " + std::to_string(persisted_port_));
      persisted_port_ = 0;
      step_ = Step::done;
      return;
    case Step::done:
      return;
  }
}

std::optional<UpnpCall> upnp_uninitialization(std::uint16_t persisted_port, Outbox& out) {
  // R6081-5.3.5-01: at shutdown, uninitialization; R6081-5.3.5.1-01: only
  // when the mapped port (the persisted one, supported here) is non-zero.
  if (persisted_port == 0) return std::nullopt;
  out.action("upnp_uninitialization", "R6081-5.3.5-01", "DeletePortMapping port " + std::to_string(persisted_port));
  return delete_call(persisted_port);
}

void Client::set_upnp_mapping(UdpEndpoint mapping, Outbox& out) {
  // R6081-5.3.3-09: the UPnP-Mapped Address/Port, and the UPnP-Enabled NAT flag TRUE.
  upnp_enabled_nat_ = true;
  upnp_mapped_ = mapping;
  out.action("upnp_enabled_nat", "R6081-5.3.3-09", to_string(mapping));
}

void Client::upnp_qualified(Outbox& out) {
  if (!upnp_enabled_nat_) return;
  // R6081-5.3.3-10/11: the comparison of the secondary's mapping with the
  // primary's is qualification's own (client_qualify.cpp): nat_ symmetric
  // is the Symmetric NAT flag.
  if (nat_ == NatType::symmetric) {
    out.action("upnp_symmetric_nat", "R6081-5.3.3-11", "the two server addresses saw different mappings");
  }
  // R6081-5.3.3-12 (R6081-5.6.3-03): the server's mapping against the UPnP one.
  if (upnp_mapped_ && mapped_ && *upnp_mapped_ == *mapped_) {
    // R6081-5.3.3-13 (R6081-5.6.3-04): the same: a single NAT; zeroed out.
    out.action("upnp_single_nat", "R6081-5.3.3-13", to_string(*upnp_mapped_) + " zeroed out");
    upnp_mapped_.reset();
  } else if (upnp_mapped_ && mapped_) {
    out.action("upnp_mapping_kept", "R6081-5.3.3-12",
               "server saw " + to_string(*mapped_) + ", UPnP " + to_string(*upnp_mapped_));
  }
}

void Client::upnp_direct_bubble(Peer& peer, UdpEndpoint from, UdpEndpoint embedded, Outbox& out) {
  if (!upnp_enabled_nat_) return;
  // R6081-5.3.4.1-01: the mapping the direct bubble came from against the
  // one in its Teredo source; R6081-5.3.4.1-02: different: a symmetric peer.
  if (from != embedded && !peer.symmetric) {
    peer.symmetric = true;
    out.action("upnp_symmetric_peer", "R6081-5.3.4.1-02",
               wire::to_string(peer.address) + " embeds " + to_string(embedded) + ", sent from " + to_string(from));
  }
}

UdpEndpoint Client::upnp_destination(const Peer& peer, UdpEndpoint usual, std::string_view requirement,
                                     Outbox& out) const {
  // R6081-5.3.4.2-01 (direct bubbles), R6081-5.3.4.3-01 (data): behind a
  // symmetric NAT with UPnP, a single NAT (UPnP-Mapped Address/Port zeroed),
  // to a symmetric peer: to the mapped address/port embedded in the peer's
  // Teredo address, in the hope that the peer's NAT forwards it too.
  if (nat_ != NatType::symmetric || !upnp_enabled_nat_ || upnp_mapped_ || !peer.symmetric) return usual;
  const auto t = wire::parse_teredo(peer.address);
  if (!t) return usual;
  const UdpEndpoint embedded{t->mapped_ipv4, t->mapped_port};
  if (embedded != usual && out.record_actions) {
    out.action("upnp_to_embedded_mapping", requirement,
               wire::to_string(peer.address) + " at " + to_string(embedded) + ", not " + to_string(usual));
  }
  return embedded;
}

}  // namespace teredo::node
