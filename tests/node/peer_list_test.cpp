// The peer list on its own: bounds, LRU order, the §5.2.6 bubble budget, the
// queue, the retry order and idle expiry.
#include <gtest/gtest.h>

#include "node_test_util.hpp"
#include "teredo/node/peer_list.hpp"

namespace teredo::node::test {
namespace {

wire::Ipv6Address peer_address(std::uint32_t i) {
  wire::Ipv6Address a = v6("2001:0:c000:22d::");
  a.bytes[12] = static_cast<std::uint8_t>(i >> 24);
  a.bytes[13] = static_cast<std::uint8_t>(i >> 16);
  a.bytes[14] = static_cast<std::uint8_t>(i >> 8);
  a.bytes[15] = static_cast<std::uint8_t>(i);
  return a;
}

TEST(NodePeerList, NewEntriesFollowSection526) {
  PeerList list;
  const auto ins = list.find_or_insert(Time{100s}, peer_address(1));
  ASSERT_NE(ins.peer, nullptr);
  EXPECT_TRUE(ins.created);
  const Peer& p = *ins.peer;
  EXPECT_FALSE(p.trusted);
  // R4380-5.2.6-01: both dates 30 s in the past, no bubbles.
  EXPECT_EQ(p.last_receive, Time{70s});
  EXPECT_EQ(p.last_send, Time{70s});
  EXPECT_EQ(p.bubble_count, 0u);
  EXPECT_FALSE(list.is_valid(p, Time{100s}));
  EXPECT_TRUE(list.bubble_allowed(p, Time{100s}));
  EXPECT_FALSE(list.find_or_insert(Time{101s}, peer_address(1)).created);
}

TEST(NodePeerList, BubbleSpacingAndBudget) {
  PeerList list;
  Peer& p = *list.find_or_insert(Time{0}, peer_address(1)).peer;
  list.record_bubble(p, Time{0});
  EXPECT_EQ(p.last_send, Time{0});  // R4380-5.2.6-06
  EXPECT_EQ(p.bubble_count, 1u);    // R4380-5.2.6-07
  EXPECT_FALSE(list.bubble_allowed(p, Time{1999ms}));  // R4380-5.2.6-03
  EXPECT_TRUE(list.bubble_allowed(p, Time{2s}));
  for (auto t : {100s, 200s, 250s}) list.record_bubble(p, Time{t});
  // R4380-5.2.6-04: 4 in the last 300 s (spacing is not what stops these).
  for (auto t : {260s, 299s}) EXPECT_FALSE(list.bubble_allowed(p, Time{t})) << t.count();
  EXPECT_EQ(list.bubbles_in_window(p, Time{299s}), 4u);
  EXPECT_TRUE(list.bubble_allowed(p, Time{300s}));  // the one at 0 s left the window
  list.record_bubble(p, Time{300s});
  EXPECT_FALSE(list.bubble_allowed(p, Time{399s}));  // 100, 200, 250, 300
  EXPECT_TRUE(list.bubble_allowed(p, Time{400s}));   // 200, 250, 300
  PeerList::reset_bubbles(p);  // a direct response
  EXPECT_EQ(list.bubbles_in_window(p, Time{399s}), 0u);
}

TEST(NodePeerList, LeastRecentlyUsedIsEvicted) {
  PeerListConfig config;
  config.capacity = 3;
  PeerList list(config);
  for (std::uint32_t i = 1; i <= 3; ++i) (void)list.find_or_insert(Time{std::chrono::seconds{i}}, peer_address(i));
  list.touch(*list.find(peer_address(1)), Time{10s});
  ASSERT_EQ(list.enqueue(*list.find(peer_address(2)), hex("60")), EnqueueResult::queued);
  const auto ins = list.find_or_insert(Time{11s}, peer_address(4));
  EXPECT_TRUE(ins.evicted);
  EXPECT_EQ(ins.evicted_packets, 1u);
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(list.find(peer_address(2)), nullptr);  // least recently used
  EXPECT_NE(list.find(peer_address(1)), nullptr);
  EXPECT_NE(list.find(peer_address(3)), nullptr);
  EXPECT_EQ(list.queued_bytes_total(), 0u);
}

TEST(NodePeerList, ZeroCapacityHoldsNothing) {
  PeerListConfig config;
  config.capacity = 0;
  PeerList list(config);
  EXPECT_EQ(list.find_or_insert(Time{0}, peer_address(1)).peer, nullptr);
  EXPECT_EQ(list.size(), 0u);
}

TEST(NodePeerList, QueueBounds) {
  PeerListConfig config;
  config.queue_packets_per_peer = 3;
  config.queue_bytes_per_peer = 100;
  config.queue_bytes_total = 150;
  PeerList list(config);
  Peer& a = *list.find_or_insert(Time{0}, peer_address(1)).peer;
  EXPECT_EQ(list.enqueue(a, ByteVector(101, 1)), EnqueueResult::too_large);
  EXPECT_EQ(list.enqueue(a, ByteVector(10, 1)), EnqueueResult::queued);
  EXPECT_EQ(list.enqueue(a, ByteVector(20, 2)), EnqueueResult::queued);
  EXPECT_EQ(list.enqueue(a, ByteVector(71, 3)), EnqueueResult::peer_queue_full);  // 101 bytes
  EXPECT_EQ(list.enqueue(a, ByteVector(70, 3)), EnqueueResult::queued);           // 100 bytes
  EXPECT_EQ(list.enqueue(a, ByteVector(1, 4)), EnqueueResult::peer_queue_full);   // 4 packets
  Peer& b = *list.find_or_insert(Time{0}, peer_address(2)).peer;
  EXPECT_EQ(list.enqueue(b, ByteVector(50, 5)), EnqueueResult::queued);
  EXPECT_EQ(list.enqueue(b, ByteVector(1, 6)), EnqueueResult::total_queue_full);
  EXPECT_EQ(list.queued_bytes_total(), 150u);
  const auto taken = list.take_queue(a);
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0], ByteVector(10, 1));
  EXPECT_EQ(taken[2], ByteVector(70, 3));
  EXPECT_EQ(list.queued_bytes_total(), 50u);
  EXPECT_EQ(list.erase(b), 1u);
  EXPECT_EQ(list.queued_bytes_total(), 0u);
  EXPECT_EQ(list.size(), 1u);
}

TEST(NodePeerList, RetryOrderAndCancel) {
  PeerList list;
  Peer& a = *list.find_or_insert(Time{0}, peer_address(1)).peer;
  Peer& b = *list.find_or_insert(Time{0}, peer_address(2)).peer;
  Peer& c = *list.find_or_insert(Time{0}, peer_address(3)).peer;
  EXPECT_EQ(list.retry_front(), nullptr);
  list.schedule_retry(a);
  list.schedule_retry(b);
  list.schedule_retry(c);
  list.schedule_retry(a);  // rescheduling moves it to the back
  EXPECT_EQ(list.retry_front(), &b);
  list.cancel_retry(b);
  EXPECT_FALSE(list.retry_scheduled(b));
  EXPECT_EQ(list.retry_front(), &c);
  (void)list.erase(c);  // erasing unlinks it too
  EXPECT_EQ(list.retry_front(), &a);
}

TEST(NodePeerList, IdleEntriesExpireInLruOrder) {
  PeerListConfig config;
  config.timers.idle_timeout = 100s;
  PeerList list(config);
  (void)list.find_or_insert(Time{0s}, peer_address(1));
  (void)list.find_or_insert(Time{10s}, peer_address(2));
  (void)list.find_or_insert(Time{20s}, peer_address(3));
  list.touch(*list.find(peer_address(1)), Time{50s});
  ASSERT_TRUE(list.next_expiry());
  EXPECT_EQ(*list.next_expiry(), Time{110s});
  EXPECT_EQ(list.expire(Time{109s}).peers, 0u);
  EXPECT_EQ(list.expire(Time{120s}).peers, 2u);  // 2 and 3
  EXPECT_NE(list.find(peer_address(1)), nullptr);
  EXPECT_EQ(*list.next_expiry(), Time{150s});
  EXPECT_EQ(list.expire(Time{150s}).peers, 1u);
  EXPECT_FALSE(list.next_expiry());
}

TEST(NodePeerList, PointersSurviveGrowth) {
  PeerListConfig config;
  config.capacity = 50000;
  PeerList list(config);
  Peer* first = list.find_or_insert(Time{0}, peer_address(0)).peer;
  for (std::uint32_t i = 1; i < 50000; ++i) (void)list.find_or_insert(Time{0}, peer_address(i));
  EXPECT_EQ(first->address, peer_address(0));
  EXPECT_EQ(list.find(peer_address(0)), first);
  EXPECT_EQ(list.size(), 50000u);
}

}  // namespace
}  // namespace teredo::node::test
