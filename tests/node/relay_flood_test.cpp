// §7.3.3 / §7.3.5: a flood of distinct peers must not grow the relay beyond
// its configured bounds (R4380-5.2-06, R4380-5.4.1-10).
#include <gtest/gtest.h>

#include "relay_fixture.hpp"

namespace teredo::node::test {
namespace {

constexpr std::size_t kCapacity = 1024;
constexpr std::size_t kFlood = 100000;

// Distinct clients in 198.18.0.0/15 (global per RFC 4380 §5.2.4).
UdpEndpoint flood_endpoint(std::size_t i) {
  return ep(wire::Ipv4Address{0xC6120000U + static_cast<std::uint32_t>(i / 8)},
            static_cast<std::uint16_t>(1024 + i % 8));
}

RelayConfig flood_config() {
  RelayConfig config = relay_config();
  config.peers.capacity = kCapacity;
  config.peers.queue_bytes_total = 64 * 1024;
  return config;
}

TEST(NodeRelayFlood, DistinctDestinationsFromTheNativeSide) {
  Relay relay(flood_config());
  Outbox out;
  out.record_actions = false;
  std::size_t bubbles = 0;
  for (std::size_t i = 0; i < kFlood; ++i) {
    const auto dst = teredo_address(kPrimary, 0, flood_endpoint(i));
    relay.handle_ipv6(Time{std::chrono::microseconds{i}}, echo(native_host(), dst, 8), out);
    bubbles += out.datagrams.size();
    for (const auto& d : out.datagrams) ASSERT_EQ(d.to, kPrimaryEp);
    out.clear();
    ASSERT_LE(relay.peers().size(), kCapacity) << "after " << i;
    ASSERT_LE(relay.peers().queued_bytes_total(), 64u * 1024) << "after " << i;
  }
  EXPECT_EQ(relay.peers().size(), kCapacity);
  EXPECT_EQ(bubbles, kFlood);  // one bubble each: no amplification
  // LRU: the newest entries are there, the oldest went.
  EXPECT_NE(relay.peers().find(teredo_address(kPrimary, 0, flood_endpoint(kFlood - 1))), nullptr);
  EXPECT_EQ(relay.peers().find(teredo_address(kPrimary, 0, flood_endpoint(0))), nullptr);
  // A legitimate client still gets through after the flood.
  out.record_actions = true;
  relay.handle_ipv6(Time{1s}, echo(native_host(), client_teredo()), out);
  ASSERT_EQ(out.datagrams.size(), 1u);
  out.clear();
  relay.handle_datagram(Time{1s}, kClient, wire::build_bubble(client_teredo(), relay_v6()), out);
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kClient);
}

TEST(NodeRelayFlood, DistinctClientsFromTheTeredoSide) {
  Relay relay(flood_config());
  Outbox out;
  out.record_actions = false;
  for (std::size_t i = 0; i < kFlood; ++i) {
    const UdpEndpoint from = flood_endpoint(i);
    relay.handle_datagram(Time{std::chrono::microseconds{i}}, from,
                          wire::build_bubble(teredo_address(kPrimary, 0, from), relay_v6()), out);
    ASSERT_TRUE(out.datagrams.empty());  // a bubble is consumed, never answered
    out.clear();
    ASSERT_LE(relay.peers().size(), kCapacity) << "after " << i;
  }
  EXPECT_EQ(relay.peers().size(), kCapacity);
}

}  // namespace
}  // namespace teredo::node::test
