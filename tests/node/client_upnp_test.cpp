// RFC 6081 §5.3 UPnP-enabled Symmetric NAT Extension, sans I/O: the §5.3.3
// call sequence (UpnpSetup) and §5.3.5.1 uninitialization with their exact
// UPnP arguments; the client's comparison of the server's mapping with the
// UPnP one after qualification; the Symmetric Peer flag (§5.3.4.1) and the
// embedded mapping as destination of data and direct bubbles (§5.3.4.2/3)
// only when all four criteria hold.
#include <gtest/gtest.h>

#include "client_fixture.hpp"
#include "teredo/node/client_upnp.hpp"

namespace teredo::node::test {
namespace {

constexpr UdpEndpoint kLocal{v4(192, 0, 2, 10), 40000};
constexpr wire::Ipv4Address kExternal = v4(198, 51, 100, 1);
constexpr UdpEndpoint kPeerMapping{v4(203, 0, 113, 5), 5000};
constexpr UdpEndpoint kPeerServer{v4(203, 0, 113, 77), 3544};
constexpr UdpEndpoint kPeerElsewhere{v4(203, 0, 113, 5), 6000};  // its symmetric NAT's other port
wire::Ipv6Address peer_v6() { return v6("2001:0:cb00:714d:0:ec77:34ff:8efa"); }

bool has_action(const Outbox& out, std::string_view code, std::string_view requirement) {
  for (const Event& e : out.events) {
    if (e.kind == EventKind::action && e.code == code && e.requirement == requirement) return true;
  }
  return false;
}

UpnpCall expected_add() {
  // R6081-5.3.3-02's list, verbatim.
  UpnpCall c;
  c.action = UpnpCall::Action::add_port_mapping;
  c.remote_host = "";
  c.external_port = 40000;
  c.protocol = "UDP";
  c.internal_port = 40000;
  c.internal_client = v4(192, 0, 2, 10);
  c.enabled = true;
  c.description = "TEREDO";
  c.lease_duration = 0;
  return c;
}
UpnpCall expected_delete(std::uint16_t port) {
  // R6081-5.3.5.1-01's list.
  UpnpCall c;
  c.action = UpnpCall::Action::delete_port_mapping;
  c.remote_host = "";
  c.external_port = port;
  c.protocol = "UDP";
  return c;
}

TEST(NodeUpnpSetup, AddThenExternalAddressGivesTheMapping) {
  UpnpSetup s(kLocal, 0);
  Outbox out;
  ASSERT_EQ(s.next(), expected_add());
  s.done(true, std::nullopt, out);
  EXPECT_TRUE(has_action(out, "upnp_port_mapped", "R6081-5.3.3-05")) << dump(out);
  EXPECT_EQ(s.persisted_port(), 40000);  // R6081-5.3.3-05: persisted = Local Port
  ASSERT_TRUE(s.next());
  EXPECT_EQ(s.next()->action, UpnpCall::Action::get_external_ip_address);
  s.done(true, kExternal, out);
  EXPECT_FALSE(s.next());
  ASSERT_TRUE(s.mapping());
  EXPECT_EQ(*s.mapping(), (UdpEndpoint{kExternal, 40000}));
  EXPECT_TRUE(has_action(out, "upnp_mapping", "R6081-5.3.3-09")) << dump(out);
}

TEST(NodeUpnpSetup, APersistedPortIsDeletedFirst) {
  UpnpSetup s(kLocal, 41000);
  Outbox out;
  ASSERT_EQ(s.next(), expected_delete(41000));
  s.done(false, std::nullopt, out);  // gone already: the setup goes on
  EXPECT_TRUE(has_action(out, "upnp_persisted_mapping_delete_failed", "R6081-5.3.3-01")) << dump(out);
  EXPECT_EQ(s.persisted_port(), 0);
  EXPECT_EQ(s.next(), expected_add());
}

TEST(NodeUpnpSetup, AddFailureContinuesWithout) {
  UpnpSetup s(kLocal, 0);
  Outbox out;
  s.done(false, std::nullopt, out);
  EXPECT_FALSE(s.next());  // R6081-5.3.3-03: no GetExternalIPAddress, nothing else
  EXPECT_FALSE(s.mapping());
  EXPECT_EQ(s.persisted_port(), 0);
  EXPECT_TRUE(has_action(out, "upnp_unavailable", "R6081-5.3.3-03")) << dump(out);
}

TEST(NodeUpnpSetup, ExternalAddressFailureUninitializesAndContinuesWithout) {
  for (const bool success : {false, true}) {
    SCOPED_TRACE(success ? "0.0.0.0 returned" : "failed");
    UpnpSetup s(kLocal, 0);
    Outbox out;
    s.done(true, std::nullopt, out);
    s.done(success, success ? std::optional<wire::Ipv4Address>(wire::Ipv4Address{0}) : std::nullopt, out);
    // R6081-5.3.3-07: §5.3.5.1 first.
    ASSERT_EQ(s.next(), expected_delete(40000));
    EXPECT_TRUE(has_action(out, "upnp_no_external_address", "R6081-5.3.3-07")) << dump(out);
    s.done(true, std::nullopt, out);
    EXPECT_FALSE(s.next());
    EXPECT_FALSE(s.mapping());
    EXPECT_EQ(s.persisted_port(), 0);
  }
}

TEST(NodeUpnpSetup, UninitializationDeletesTheMappedPortOnly) {
  Outbox out;
  EXPECT_FALSE(upnp_uninitialization(0, out));
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(upnp_uninitialization(40000, out), expected_delete(40000));
  EXPECT_TRUE(has_action(out, "upnp_uninitialization", "R6081-5.3.5-01")) << dump(out);
  EXPECT_EQ(to_string(UpnpCall::Action::add_port_mapping), "AddPortMapping");
}

// A client with symmetric NAT support and the UPnP mapping `upnp`; the
// primary server sees kClient, the secondary `secondary`.
struct UpnpDriver : Driver {
  explicit UpnpDriver(std::optional<UdpEndpoint> upnp, UdpEndpoint secondary) : Driver([] {
    ClientConfig c = client_config();
    c.symmetric_nat_support = true;
    return c;
  }()) {
    Outbox out;
    if (upnp) client.set_upnp_mapping(*upnp, out);
    out = start();
    RaSpec spec;
    spec.mapping = kClient;
    out = receive(kPrimaryEp, make_ra(parse_rs(out.datagrams.at(0)), spec));
    spec.mapping = secondary;
    qualified = receive(kSecondaryEp, make_ra(parse_rs(out.datagrams.at(0)), spec));
  }
  Outbox qualified;
  // A ping to the peer, then the peer's direct bubble from another port of
  // its NAT with our nonce: the ping goes out once the peer is trusted.
  Outbox ping_through_symmetric_peer() {
    const Outbox first = tun(echo(client_teredo(), peer_v6()));
    const ByteVector indirect = to(first, kPeerServer).at(0).payload;
    const ByteVector trailer(indirect.end() - 6, indirect.end());
    return receive(kPeerElsewhere, concat({bubble(peer_v6(), client_teredo()), trailer}));
  }
};
constexpr UdpEndpoint kSecondaryMapping{v4(198, 51, 100, 7), 40001};

TEST(NodeClientUpnp, SingleNatZeroesTheUpnpMapping) {
  // R6081-5.3.3-12/13: the server saw the UPnP mapping: a single NAT.
  UpnpDriver d(kClient, kSecondaryMapping);
  EXPECT_EQ(d.client.state(), QualificationState::qualified);
  EXPECT_EQ(d.client.nat_type(), NatType::symmetric);
  EXPECT_TRUE(d.client.upnp_enabled_nat());
  EXPECT_FALSE(d.client.upnp_mapped());
  EXPECT_TRUE(has_action(d.qualified, "upnp_single_nat", "R6081-5.3.3-13")) << dump(d.qualified);
  EXPECT_TRUE(has_action(d.qualified, "upnp_symmetric_nat", "R6081-5.3.3-11")) << dump(d.qualified);
}

TEST(NodeClientUpnp, NestedNatKeepsTheUpnpMapping) {
  const UdpEndpoint inner{v4(192, 0, 2, 1), 40000};  // the UPnP NAT's outside, behind another NAT
  UpnpDriver d(inner, kSecondaryMapping);
  ASSERT_TRUE(d.client.upnp_mapped());
  EXPECT_EQ(*d.client.upnp_mapped(), inner);
  EXPECT_TRUE(has_action(d.qualified, "upnp_mapping_kept", "R6081-5.3.3-12")) << dump(d.qualified);
}

TEST(NodeClientUpnp, DataToASymmetricPeerGoesToItsEmbeddedMapping) {
  UpnpDriver d(kClient, kSecondaryMapping);
  const Outbox out = d.ping_through_symmetric_peer();
  // R6081-5.3.4.1-02: the bubble came from elsewhere: a symmetric peer.
  EXPECT_TRUE(has_action(out, "upnp_symmetric_peer", "R6081-5.3.4.1-02")) << dump(out);
  EXPECT_TRUE(d.client.peers().find(peer_v6())->symmetric);
  // R6081-5.3.4.3-01: all four criteria: the data to the embedded mapping.
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_TRUE(has_action(out, "upnp_to_embedded_mapping", "R6081-5.3.4.3-01")) << dump(out);
}

TEST(NodeClientUpnp, ADirectBubbleToASymmetricPeerGoesToItsEmbeddedMapping) {
  UpnpDriver d(kClient, kSecondaryMapping);
  (void)d.ping_through_symmetric_peer();
  // The peer's next indirect bubble names another origin; R6081-5.3.4.2-01:
  // the direct bubble still goes to the mapping in its address.
  d.now = Time{5s};
  const Outbox out = d.receive(kPrimaryEp, concat({origin_of(kPeerElsewhere), bubble(peer_v6(), client_teredo())}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
  EXPECT_TRUE(has_action(out, "upnp_to_embedded_mapping", "R6081-5.3.4.2-01")) << dump(out);
}

// Each criterion missing: the data goes where the peer's bubble came from
// (RFC 6081 §5.2.4.4), as without the extension.
TEST(NodeClientUpnp, WithoutAllFourCriteriaDataGoesWhereThePeerIs) {
  struct Variant {
    const char* name;
    std::optional<UdpEndpoint> upnp;
    UdpEndpoint secondary;
  };
  const Variant variants[] = {
      {"no UPnP", std::nullopt, kSecondaryMapping},
      {"not symmetric (both servers saw one mapping)", kClient, kClient},
      {"UPnP mapping not zeroed (nested NAT)", UdpEndpoint{v4(192, 0, 2, 1), 40000}, kSecondaryMapping},
  };
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    UpnpDriver d(v.upnp, v.secondary);
    ASSERT_EQ(d.client.state(), QualificationState::qualified);
    const Outbox out = d.ping_through_symmetric_peer();
    ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
    EXPECT_EQ(out.datagrams[0].to, kPeerElsewhere);
    EXPECT_FALSE(has_event(out, "upnp_to_embedded_mapping"));
  }
}

}  // namespace
}  // namespace teredo::node::test
