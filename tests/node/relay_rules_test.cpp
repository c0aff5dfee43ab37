// RFC 4380 §5.4.1/§5.4.2 rules one by one, and the host-specific relay.
#include <gtest/gtest.h>

#include "relay_fixture.hpp"

namespace teredo::node::test {
namespace {

// Makes the client trusted by a direct bubble from its mapping.
void trust_client(Relay& relay, Time now) {
  const auto out = from_udp(relay, now, kClient, wire::build_bubble(client_teredo(), relay_v6()));
  ASSERT_TRUE(relay.peers().find(client_teredo()) != nullptr) << dump(out);
}

TEST(NodeRelayReceive, ValidClientPacketIsDelivered) {
  Relay relay(relay_config());
  const ByteVector p = echo(client_teredo(), native_host());
  const auto out = from_udp(relay, Time{0}, kClient, p);
  ASSERT_EQ(out.to_tunnel.size(), 1u) << dump(out);  // R4380-5.4.2-04
  EXPECT_EQ(hexstr(out.to_tunnel[0]), hexstr(p));
  EXPECT_TRUE(out.datagrams.empty());
  // R4380-5.4.2-03 (default policy): the unknown client becomes a trusted entry.
  const Peer* peer = relay.peers().find(client_teredo());
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(peer->trusted);
  EXPECT_EQ(peer->mapped, kClient);
}

TEST(NodeRelayReceive, UnknownClientsCanBeRefused) {
  RelayConfig config = relay_config();
  config.accept_unknown_peers = false;
  Relay relay(config);
  auto out = from_udp(relay, Time{0}, kClient, echo(client_teredo(), native_host()));
  EXPECT_TRUE(out.to_tunnel.empty());
  EXPECT_TRUE(has_drop(out, "drop_unknown_peer", "R4380-5.4.2-03")) << dump(out);
  EXPECT_EQ(relay.peers().size(), 0u);
  // Once the relay has sent to the client (R4380-5.4-01), it is let in.
  (void)from_tun(relay, Time{0}, echo(native_host(), client_teredo()));
  out = from_udp(relay, Time{1s}, kClient, echo(client_teredo(), native_host()));
  EXPECT_EQ(out.to_tunnel.size(), 1u) << dump(out);
  ASSERT_EQ(out.datagrams.size(), 1u);  // and the queued packet is flushed
  EXPECT_EQ(out.datagrams[0].to, kClient);
}

TEST(NodeRelayReceive, TeredoToTeredoIsDropped) {
  Relay relay(relay_config());
  const auto other = v6("2001:0:c000:22d:0:3caf:34ff:8eeb");
  const auto out = from_udp(relay, Time{0}, kClient, echo(client_teredo(), other));
  EXPECT_TRUE(out.to_tunnel.empty());
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "drop_teredo_destination", "R4380-5.4.2-05")) << dump(out);
}

TEST(NodeRelayReceive, SpoofedOrNonTeredoSourcesAreDropped) {
  Relay relay(relay_config());
  const ByteVector p = echo(client_teredo(), native_host());
  for (const UdpEndpoint from : {ep(kClient.address, 40001), ep(v4(198, 51, 100, 8), 40000)}) {
    const auto out = from_udp(relay, Time{0}, from, p);
    EXPECT_TRUE(out.to_tunnel.empty());
    EXPECT_TRUE(has_drop(out, "drop_source_mismatch", "R4380-5.4.2-02")) << dump(out);
  }
  auto out = from_udp(relay, Time{0}, kClient, echo(v6("2001:db8:7::7"), native_host()));
  EXPECT_TRUE(has_drop(out, "drop_non_teredo_source", "R4380-5.4.2-02")) << dump(out);
  // A private outer source cannot be a client's mapping (R4380-4-04).
  const UdpEndpoint lan{v4(192, 168, 1, 5), 40000};
  out = from_udp(relay, Time{0}, lan, echo(teredo_address(kPrimary, 0, lan), native_host()));
  EXPECT_TRUE(has_drop(out, "drop_non_global_source", "R4380-5.4.2-02")) << dump(out);
  EXPECT_EQ(relay.peers().size(), 0u);
}

TEST(NodeRelayReceive, OnlyServedGlobalDestinationsAreForwarded) {
  Relay relay(relay_config());
  for (const char* dst : {"2a00:1450::1", "fe80::1", "ff02::1", "::1"}) {
    const auto out = from_udp(relay, Time{0}, kClient, echo(client_teredo(), v6(dst)));
    EXPECT_TRUE(out.to_tunnel.empty()) << dst;
    EXPECT_FALSE(events_with(out, "drop_destination_not_served").empty() &&
                 events_with(out, "drop_non_global_destination").empty())
        << dst << "\n" << dump(out);
    EXPECT_EQ(out.events.back().requirement, "R4380-5.4.2-05");
  }
  // Junk does not create entries; an edge of the served range is served.
  EXPECT_EQ(relay.peers().size(), 0u);
  const auto out = from_udp(relay, Time{0}, kClient, echo(client_teredo(), v6("2001:db8:ffff:ffff::1")));
  EXPECT_EQ(out.to_tunnel.size(), 1u);
}

TEST(NodeRelayReceive, MalformedDatagramsAreDropped) {
  Relay relay(relay_config());
  const ByteVector b = wire::build_bubble(client_teredo(), relay_v6());
  ByteVector short_payload = b;
  short_payload.resize(30);
  for (const auto& [payload, code] : std::vector<std::pair<ByteVector, const char*>>{
           {{}, "empty_datagram"},
           {hex("0000 12"), "truncated_origin_indication"},
           {hex("0001 ff00"), "truncated_authentication"},
           {short_payload, "truncated_ipv6_header"},
           {concat({hex("0003"), b}), "unknown_encapsulation"},
           {ByteVector(1280 + 531 + 1, 0x60), "drop_oversized"}}) {
    const auto out = from_udp(relay, Time{0}, kClient, payload);
    EXPECT_TRUE(out.to_tunnel.empty());
    EXPECT_TRUE(out.events.size() == 1 && out.events[0].code == code) << code << "\n" << dump(out);
  }
  EXPECT_EQ(relay.peers().size(), 0u);
}

TEST(NodeRelaySend, NothingGoesToNonGlobalIpv4) {
  Relay relay(relay_config());
  for (const auto a : {v4(0, 0, 0, 1), v4(10, 0, 0, 1), v4(127, 0, 0, 1), v4(169, 254, 1, 1),
                       v4(172, 16, 0, 1), v4(192, 168, 0, 1), v4(192, 88, 99, 1), v4(224, 0, 0, 1),
                       v4(255, 255, 255, 255)}) {
    // R4380-5.4.1-01/02: a non-global mapped address.
    auto out = from_tun(relay, Time{0}, echo(native_host(), teredo_address(kPrimary, 0, ep(a, 40000))));
    EXPECT_TRUE(out.datagrams.empty()) << wire::to_string(a);
    EXPECT_TRUE(has_drop(out, "drop_non_global_mapped_ipv4", "R4380-5.4.1-02")) << dump(out);
    // The same for the server an indirect bubble would go to.
    out = from_tun(relay, Time{0}, echo(native_host(), teredo_address(a, 0, kClient)));
    EXPECT_TRUE(out.datagrams.empty()) << wire::to_string(a);
    EXPECT_TRUE(has_drop(out, "drop_non_global_server", "R4380-5.2.4-08")) << dump(out);
  }
  EXPECT_EQ(relay.peers().size(), 0u);
}

TEST(NodeRelaySend, NativeSideInputsAreChecked) {
  Relay relay(relay_config());
  struct Case {
    ByteVector packet;
    const char* code;
  };
  const std::vector<Case> cases = {
      {echo(native_host(), v6("2001:db8:3::3")), "drop_non_teredo_destination"},
      {echo(v6("2001:0:c000:22d:0:3caf:34ff:8eeb"), client_teredo()), "drop_teredo_source"},
      {echo(v6("fe80::1"), client_teredo()), "drop_non_global_ipv6_source"},
      {echo(native_host(), client_teredo(), 1280 - 48 + 1), "drop_oversized"},
      {hex("6000"), "truncated_ipv6_header"},
      {concat({echo(native_host(), client_teredo()), hex("00")}), "trailing_bytes_after_ipv6_packet"},
      {echo(native_host(), teredo_address(kPrimary, 0, ep(kClient.address, 0))), "drop_zero_mapped_port"},
  };
  for (const Case& c : cases) {
    const auto out = from_tun(relay, Time{0}, c.packet);
    EXPECT_TRUE(out.datagrams.empty()) << c.code;
    ASSERT_EQ(out.events.size(), 1u) << c.code << "\n" << dump(out);
    EXPECT_EQ(out.events[0].code, c.code);
  }
  EXPECT_EQ(relay.peers().size(), 0u);
}

TEST(NodeRelaySend, ConeBitIsIgnoredUnlessConfigured) {
  const auto cone_client = v6("2001:0:c000:22d:8000:63bf:39cc:9bf8");
  {
    // R5991-3.2-02: treated as cone 0: bubble through the server.
    Relay relay(relay_config());
    const auto out = from_tun(relay, Time{0}, echo(native_host(), cone_client));
    ASSERT_EQ(out.datagrams.size(), 1u);
    EXPECT_EQ(out.datagrams[0].to, kPrimaryEp);
  }
  {
    // R4380-5.4.1-04: case 2, straight to the mapping, entry trusted.
    RelayConfig config = relay_config();
    config.honour_cone_bit = true;
    Relay relay(config);
    const ByteVector p = echo(native_host(), cone_client);
    const auto out = from_tun(relay, Time{0}, p);
    ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
    EXPECT_EQ(out.datagrams[0].to, kClient);
    EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(p));
    EXPECT_TRUE(relay.peers().find(cone_client)->trusted);
  }
}

TEST(NodeRelaySend, DirectBubblesWhenConfigured) {
  RelayConfig config = relay_config();
  config.direct_bubbles = true;  // R4380-5.4.1-11/13
  Relay relay(config);
  const auto out = from_tun(relay, Time{0}, echo(native_host(), client_teredo()));
  ASSERT_EQ(out.datagrams.size(), 2u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPrimaryEp);
  EXPECT_EQ(out.datagrams[1].to, kClient);
  EXPECT_EQ(out.datagrams[0].payload, out.datagrams[1].payload);
}

TEST(NodeRelaySend, QueueIsBounded) {
  RelayConfig config = relay_config();
  config.peers.queue_packets_per_peer = 8;
  config.peers.queue_bytes_per_peer = 1280;
  Relay relay(config);
  // 100-byte packets (40 + 8 + 52): the count bound (8) bites first.
  std::size_t dropped = 0;
  for (int i = 0; i < 100; ++i) {
    const auto out = from_tun(relay, Time{0}, echo(native_host(), client_teredo(), 52, static_cast<std::uint16_t>(i)));
    dropped += events_with(out, "drop_queue_full").size();
  }
  EXPECT_EQ(dropped, 92u);  // R4380-5.4.1-10
  EXPECT_EQ(relay.peers().find(client_teredo())->queue.size(), 8u);
  EXPECT_EQ(relay.peers().queued_bytes_total(), 800u);
  const auto out = from_udp(relay, Time{1s}, kClient, wire::build_bubble(client_teredo(), relay_v6()));
  ASSERT_EQ(out.datagrams.size(), 8u);  // R4380-5.4.1-08, first in first out
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(hexstr(out.datagrams[i].payload),
              hexstr(echo(native_host(), client_teredo(), 52, static_cast<std::uint16_t>(i))));
  }
  EXPECT_EQ(relay.peers().queued_bytes_total(), 0u);
}

TEST(NodeRelaySend, QueueByteBoundsPerPeerAndOverall) {
  RelayConfig config = relay_config();
  config.peers.queue_packets_per_peer = 100;
  config.peers.queue_bytes_per_peer = 1280;
  config.peers.queue_bytes_total = 2000;
  Relay relay(config);
  // 200-byte packets: 6 fit in 1280 bytes, the 7th does not.
  for (int i = 0; i < 10; ++i) (void)from_tun(relay, Time{0}, echo(native_host(), client_teredo(), 152));
  EXPECT_EQ(relay.peers().find(client_teredo())->queued_bytes, 1200u);
  // A second peer: only 800 bytes left overall (4 packets).
  const auto second = teredo_address(kPrimary, 0, ep(v4(203, 0, 113, 20), 50000));
  std::size_t total_full = 0;
  for (int i = 0; i < 10; ++i) {
    total_full += events_with(from_tun(relay, Time{0}, echo(native_host(), second, 152)), "drop_queue_full_total").size();
  }
  EXPECT_EQ(relay.peers().find(second)->queued_bytes, 800u);
  EXPECT_EQ(total_full, 6u);
  EXPECT_EQ(relay.peers().queued_bytes_total(), 2000u);
}

TEST(NodeHostRelay, ServesOnlyItsOwnHost) {
  RelayConfig config = relay_config();
  config.host_specific = true;
  config.ipv6_address = v6("2001:db8:5::5");
  config.host_addresses = {v6("2001:db8:5::5")};
  Relay relay(config);
  EXPECT_FALSE(relay.advertises_route());  // §5.4: no route advertised
  EXPECT_TRUE(Relay(relay_config()).advertises_route());
  // R4380-5.5-03: sends for its own address only...
  auto out = from_tun(relay, Time{0}, echo(v6("2001:db8:5::6"), client_teredo()));
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(has_drop(out, "drop_source_not_local_host", "R4380-5.5-03")) << dump(out);
  out = from_tun(relay, Time{0}, echo(v6("2001:db8:5::5"), client_teredo()));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(out.datagrams[0].payload),
            hexstr(concat({hex("6000 0000 0000 3bff"), v6("2001:db8:5::5").bytes, client_teredo().bytes})));
  // ...and delivers to its own address only.
  trust_client(relay, Time{1s});
  out = from_udp(relay, Time{1s}, kClient, echo(client_teredo(), v6("2001:db8:5::6")));
  EXPECT_TRUE(out.to_tunnel.empty());
  EXPECT_TRUE(has_drop(out, "drop_destination_not_served", "R4380-5.4.2-05")) << dump(out);
  out = from_udp(relay, Time{1s}, kClient, echo(client_teredo(), v6("2001:db8:5::5")));
  EXPECT_EQ(out.to_tunnel.size(), 1u);
}

}  // namespace
}  // namespace teredo::node::test
