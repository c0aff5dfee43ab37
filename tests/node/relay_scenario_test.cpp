// RFC 4380 §5.4.1 end to end on the in-memory network: queue, indirect bubble
// through the client's server, direct bubble back, flush; and the §5.2.6
// bubble limits under the virtual clock.
#include <gtest/gtest.h>

#include "relay_fixture.hpp"

namespace teredo::node::test {
namespace {

struct Lab {
  Server server{server_config()};
  Relay relay;
  ScriptedClient client{kClient, client_teredo(), true, {}, {}};
  Network net;

  explicit Lab(RelayConfig config = relay_config()) : relay(std::move(config)) {
    net.server = &server;
    net.relay = &relay;
    net.clients = {&client};
  }
  // Bubbles the relay sent to the client's server.
  std::vector<Time> bubble_times() const {
    std::vector<Time> times;
    for (std::size_t i : net.sent(kRelayEp, kPrimaryEp)) times.push_back(net.log_times[i]);
    return times;
  }
  void expect_only_global_destinations() const {
    for (const auto& d : net.log) {
      EXPECT_TRUE(wire::is_global_unicast(d.to.address)) << to_string(d.to);
    }
    EXPECT_TRUE(net.undeliverable.empty());
  }
};

TEST(NodeRelayScenario, QueueIndirectBubbleDirectBubbleFlush) {
  Lab lab;
  const ByteVector first = echo(native_host(), client_teredo(), 8, 1);

  // 1. From the native side: no trusted entry -> queued, indirect bubble.
  Outbox out = from_tun(lab.relay, Time{0}, first);
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  // R4380-5.4.1-05, R4380-5.2.6-02: to the server in the address, port 3544,
  // from the relay's service port (R4380-5.4-02).
  EXPECT_EQ(out.datagrams[0].from, kRelayEp);
  EXPECT_EQ(out.datagrams[0].to, kPrimaryEp);
  // A bubble: IPv6 header only, next header 59, relay's address -> client.
  const ByteVector expected_bubble = concat(
      {hex("6000 0000 0000 3bff"), relay_v6().bytes, client_teredo().bytes});
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(expected_bubble));
  const Peer* peer = lab.relay.peers().find(client_teredo());
  ASSERT_NE(peer, nullptr);
  EXPECT_FALSE(peer->trusted);
  EXPECT_EQ(peer->queue.size(), 1u);  // R4380-5.4.1-07
  EXPECT_TRUE(lab.client.received.empty());
  EXPECT_EQ(events_with(out, "bubble_sent").size(), 1u);

  // 2. On the wire: the server forwards with the relay's origin, the client
  // answers directly, the relay trusts it and flushes the queue.
  lab.net.take(out, lab.net.relay_tunnel);
  lab.net.run();
  const auto forwarded = lab.net.sent(kPrimaryEp, kClient);
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(hexstr(lab.net.log[forwarded[0]].payload), hexstr(concat({hex(kRelayOrigin), expected_bubble})));
  ASSERT_EQ(lab.client.bubble_origins.size(), 1u);
  EXPECT_EQ(lab.client.bubble_origins[0], kRelayEp);
  ASSERT_EQ(lab.net.sent(kClient, kRelayEp).size(), 1u);  // the direct bubble
  // R4380-5.4.1-08: the queued packet, unchanged, to the client's mapping.
  const auto flushed = lab.net.sent(kRelayEp, kClient);
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_EQ(hexstr(lab.net.log[flushed[0]].payload), hexstr(first));
  ASSERT_EQ(lab.client.received.size(), 1u);
  EXPECT_EQ(hexstr(lab.client.received[0]), hexstr(first));
  peer = lab.relay.peers().find(client_teredo());
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(peer->trusted);
  EXPECT_TRUE(peer->queue.empty());
  EXPECT_EQ(peer->mapped, kClient);

  // 3. R4380-5.4.1-03: the next packet goes straight to the mapping.
  lab.net.now = Time{1s};
  const std::size_t before = lab.net.log.size();
  const ByteVector second = echo(native_host(), client_teredo(), 8, 2);
  lab.net.from_native(second);
  ASSERT_EQ(lab.net.log.size(), before + 1);
  EXPECT_EQ(lab.net.log.back().to, kClient);
  EXPECT_EQ(hexstr(lab.net.log.back().payload), hexstr(second));

  // 4. R4380-5.4.2-04: the client's answer reaches the native side.
  const ByteVector reply = echo(client_teredo(), native_host(), 8, 3);
  lab.net.send({kClient, kRelayEp, reply});
  lab.net.run();
  ASSERT_EQ(lab.net.relay_tunnel.size(), 1u);
  EXPECT_EQ(hexstr(lab.net.relay_tunnel[0]), hexstr(reply));
  lab.expect_only_global_destinations();
}

// Checks RFC 4380 §5.2.6 on a list of bubble times, computed independently.
void expect_bubble_limits(const std::vector<Time>& times) {
  for (std::size_t i = 1; i < times.size(); ++i) {
    EXPECT_GE(times[i] - times[i - 1], Duration{2s}) << "R4380-5.2.6-03 between bubbles " << i - 1 << " and " << i;
  }
  for (std::size_t i = 0; i < times.size(); ++i) {
    std::size_t in_window = 0;
    for (std::size_t j = 0; j <= i; ++j) {
      if (times[i] - times[j] < Duration{300s}) ++in_window;
    }
    EXPECT_LE(in_window, 4u) << "R4380-5.2.6-04 at bubble " << i;
  }
}

TEST(NodeRelayScenario, BubbleSpacingAndBudgetUnderAVirtualClock) {
  Lab lab;
  lab.client.answer_bubbles = false;
  // Packets every second for 12 s: one bubble, three repeats 2 s apart.
  for (int s = 0; s <= 12; ++s) {
    lab.net.advance_to(Time{std::chrono::seconds{s}});
    lab.net.from_native(echo(native_host(), client_teredo(), 8, static_cast<std::uint16_t>(s)));
  }
  lab.net.advance_to(Time{20s});
  EXPECT_EQ(lab.bubble_times(), (std::vector<Time>{Time{0s}, Time{2s}, Time{4s}, Time{6s}}));
  // R4380-5.4.1-06: after the last repeat the attempt is abandoned and
  // R4380-5.4.1-09: the queue goes with it.
  EXPECT_EQ(std::count_if(lab.net.events.begin(), lab.net.events.end(),
                          [](const Event& e) { return e.code == "peer_unreachable"; }),
            1);
  const Peer* peer = lab.relay.peers().find(client_teredo());
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(peer->queue.empty());
  EXPECT_EQ(lab.relay.peers().queued_bytes_total(), 0u);
  // R4380-5.2.6-04: packets keep coming, no bubble until the window moves.
  for (int s = 30; s < 300; s += 30) {
    lab.net.advance_to(Time{std::chrono::seconds{s}});
    lab.net.from_native(echo(native_host(), client_teredo(), 8, 100));
  }
  EXPECT_EQ(lab.bubble_times().size(), 4u);
  EXPECT_FALSE(std::none_of(lab.net.events.begin(), lab.net.events.end(), [](const Event& e) {
    return e.code == "drop_bubble_budget_exhausted" && e.requirement == "R4380-5.2.6-04";
  }));
  // 300 s after the first bubble one slot frees up.
  lab.net.advance_to(Time{300s} + 500ms);
  lab.client.answer_bubbles = true;
  const ByteVector late = echo(native_host(), client_teredo(), 8, 999);
  lab.net.from_native(late);
  const auto times = lab.bubble_times();
  ASSERT_EQ(times.size(), 5u);
  EXPECT_EQ(times[4], Time{300s} + 500ms);
  expect_bubble_limits(times);
  // The client answered: only the packet queued after the abandon arrives.
  ASSERT_EQ(lab.client.received.size(), 1u);
  EXPECT_EQ(hexstr(lab.client.received[0]), hexstr(late));
  lab.expect_only_global_destinations();
}

TEST(NodeRelayScenario, EntriesStopBeingValidThirtySecondsAfterLastReception) {
  Lab lab;
  lab.net.from_native(echo(native_host(), client_teredo()));
  ASSERT_EQ(lab.bubble_times().size(), 1u);
  // Still valid at 29 s (R4380-5.2.4-01): direct.
  lab.net.advance_to(Time{29s});
  lab.net.from_native(echo(native_host(), client_teredo()));
  EXPECT_EQ(lab.bubble_times().size(), 1u);
  EXPECT_EQ(lab.net.log.back().to, kClient);
  // Not at 30 s: a bubble again, but not before 2 s have passed since the
  // last transmission (R4380-5.2.6-03: the packet sent at 29 s), so at 31 s;
  // delivery follows the client's answer.
  lab.net.advance_to(Time{30s});
  lab.net.from_native(echo(native_host(), client_teredo()));
  EXPECT_EQ(lab.bubble_times().size(), 1u);
  EXPECT_EQ(lab.client.received.size(), 2u);
  lab.net.advance_to(Time{31s});
  EXPECT_EQ(lab.bubble_times(), (std::vector<Time>{Time{0s}, Time{31s}}));
  EXPECT_EQ(lab.client.received.size(), 3u);
}

TEST(NodeRelayScenario, TimersFollowTheTimeScale) {
  RelayConfig config = relay_config();
  config.time_scale = TimeScale(0.01);  // 2 s -> 20 ms, 300 s -> 3 s
  Lab lab(config);
  lab.client.answer_bubbles = false;
  lab.net.from_native(echo(native_host(), client_teredo()));
  ASSERT_TRUE(lab.relay.next_timeout());
  EXPECT_EQ(*lab.relay.next_timeout(), Time{20ms});
  lab.net.advance_to(Time{1s});
  EXPECT_EQ(lab.bubble_times(), (std::vector<Time>{Time{0ms}, Time{20ms}, Time{40ms}, Time{60ms}}));
  // The entry's idle timeout (300 s scaled to 3 s) removes it.
  lab.net.advance_to(Time{4s});
  EXPECT_EQ(lab.relay.peers().size(), 0u);
  EXPECT_FALSE(lab.relay.next_timeout());
}

TEST(NodeRelayScenario, IdleEntriesExpire) {
  Lab lab;
  lab.net.from_native(echo(native_host(), client_teredo()));
  ASSERT_EQ(lab.relay.peers().size(), 1u);
  ASSERT_TRUE(lab.relay.next_timeout());
  EXPECT_EQ(*lab.relay.next_timeout(), Time{300s});  // last use at 0 (trusted at 0)
  lab.net.advance_to(Time{299s});
  EXPECT_EQ(lab.relay.peers().size(), 1u);
  lab.net.advance_to(Time{300s});
  EXPECT_EQ(lab.relay.peers().size(), 0u);
  EXPECT_FALSE(std::none_of(lab.net.events.begin(), lab.net.events.end(),
                            [](const Event& e) { return e.code == "peers_expired"; }));
}

}  // namespace
}  // namespace teredo::node::test
