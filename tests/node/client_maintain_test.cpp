// RFC 4380 §5.2.5 maintenance and the §5.2 refresh interval (75-100 % of
// 30 s; RFC 6081 §5.1.1: any range within 50-150 %), mapping changes, a
// silent server.
#include <gtest/gtest.h>

#include <set>

#include "client_net.hpp"

namespace teredo::node::test {
namespace {

// A public client and the reference server: refresh RSs are answered at once.
struct RefreshLab {
  Server server{server_config()};
  ClientHost host;
  ClientNet net;
  explicit RefreshLab(ClientConfig config = client_config()) : host(std::move(config), nullptr) {
    net.server = &server;
    net.hosts = {&host};
  }
  // Times of the RSs after qualification (the first two qualified).
  std::vector<Time> refresh_times() const {
    std::vector<Time> times;
    for (const Logged& l : net.sent(host, kPrimaryEp)) times.push_back(l.at);
    times.erase(times.begin());  // the qualification RS (the second went to the secondary)
    return times;
  }
};

void expect_gaps_within(const std::vector<Time>& times, Duration low, Duration high, bool spread_expected = true) {
  ASSERT_GE(times.size(), 10u);
  Time previous{0};
  std::set<Duration::rep> distinct;
  for (Time t : times) {
    EXPECT_GE(t - previous, low) << "at " << t.count();
    EXPECT_LE(t - previous, high) << "at " << t.count();
    distinct.insert((t - previous).count());
    previous = t;
  }
  if (spread_expected) {
    EXPECT_GT(distinct.size(), times.size() / 2) << "the interval is randomized";
  }
}

TEST(NodeClientMaintain, RefreshRsEvery22point5To30Seconds) {
  RefreshLab lab;
  lab.net.start(lab.host);
  ASSERT_EQ(lab.host.client.state(), QualificationState::qualified);
  lab.net.advance_to(Time{900s});
  // R4380-5.2-07, R4380-5.2.5-01/02, R6081-5.1.1-02: 30 s, randomized to 75-100 %.
  expect_gaps_within(lab.refresh_times(), Duration{22500ms}, Duration{30s});
  // R4380-5.2.5-03: the qualification's cone bit (0); still the nonce.
  for (const Logged& l : lab.net.sent(lab.host, kPrimaryEp)) {
    const SentRs rs = parse_rs(l.datagram);
    EXPECT_EQ(rs.source, v6("fe80::63bf:39cc:9bf8"));
    EXPECT_TRUE(rs.has_auth);
  }
  EXPECT_EQ(lab.host.client.address(), client_teredo());
}

TEST(NodeClientMaintain, Rfc6081RangeStaysWithin50To150Percent) {
  ClientConfig c = client_config();
  c.timers.refresh_low = 0.5;
  c.timers.refresh_high = 1.5;
  RefreshLab lab(c);
  lab.net.start(lab.host);
  lab.net.advance_to(Time{1500s});
  const auto times = lab.refresh_times();
  expect_gaps_within(times, Duration{15s}, Duration{45s});  // R6081-5.1.1-04
  bool below = false, above = false;
  Time previous{0};
  for (Time t : times) {
    below = below || t - previous < Duration{22500ms};
    above = above || t - previous > Duration{30s};
    previous = t;
  }
  EXPECT_TRUE(below && above);  // R6081-5.1.1-03: the wider range is used
}

TEST(NodeClientMaintain, OutOfRangeSettingsAreClampedInto50To150Percent) {
  ClientConfig c = client_config();
  c.timers.refresh_low = 0.1;
  c.timers.refresh_high = 3.0;
  RefreshLab lab(c);
  lab.net.start(lab.host);
  lab.net.advance_to(Time{1500s});
  expect_gaps_within(lab.refresh_times(), Duration{15s}, Duration{45s});
}

TEST(NodeClientMaintain, ConfiguredIntervalAndTimeScale) {
  ClientConfig c = client_config();
  c.timers.refresh_interval = 20s;  // R6081-5.1.1-01
  RefreshLab lab(c);
  lab.net.start(lab.host);
  lab.net.advance_to(Time{600s});
  expect_gaps_within(lab.refresh_times(), Duration{15s}, Duration{20s});

  ClientConfig scaled = client_config();
  scaled.time_scale = TimeScale(0.01);
  RefreshLab fast(scaled);
  fast.net.start(fast.host);
  fast.net.advance_to(Time{9s});
  expect_gaps_within(fast.refresh_times(), Duration{225ms}, Duration{300ms});
}

TEST(NodeClientMaintain, PacketsFromTheServerPostponeTheRefresh) {
  Driver d;
  d.qualify();
  std::size_t rss = 0;
  for (int s = 10; s <= 120; s += 10) {
    d.now = Time{std::chrono::seconds{s}};
    // R4380-5.2.3-03: anything from the server's address and port counts.
    const Outbox in = d.receive(kPrimaryEp, bubble(v6("2001:db8:2::5"), client_teredo()));
    EXPECT_TRUE(has_event(in, "bubble_received")) << dump(in);
    rss += to(d.at(Time{std::chrono::seconds{s}} + 9s), kPrimaryEp).size();
  }
  EXPECT_EQ(rss, 0u);
  // Then silence: an RS within 30 s of the last packet (at 120 s).
  for (int s = 130; s <= 150 && rss == 0; ++s) rss += to(d.at(Time{std::chrono::seconds{s}}), kPrimaryEp).size();
  EXPECT_EQ(rss, 1u);
  EXPECT_LE(d.now, Time{150s});
  EXPECT_GE(d.now, Time{142s});  // not before 22.5 s
}

// Runs the clock until the client sends its refresh RS; returns it.
SentRs next_refresh(Driver& d) {
  for (int ms = 0; ms < 31000; ms += 100) {
    const Outbox out = d.at(d.now + Duration{100ms});
    const auto rss = to(out, kPrimaryEp);
    if (!rss.empty()) return parse_rs(rss[0]);
  }
  throw std::runtime_error("no refresh RS within 31 s");
}

TEST(NodeClientMaintain, ChangedMappingYieldsANewAddress) {
  Driver d;
  d.qualify();
  const SentRs rs = next_refresh(d);
  RaSpec spec;
  spec.mapping = ep(v4(198, 51, 100, 7), 40002);  // the NAT rebound
  const Outbox out = d.receive(kPrimaryEp, make_ra(rs, spec));
  // R4380-5.2.5-05/06: ~40002 = 0x63bd: a new address, the old one invalid.
  const auto changed = events_with(out, "address_changed");
  ASSERT_EQ(changed.size(), 1u) << dump(out);
  EXPECT_EQ(changed[0].requirement, "R4380-5.2.5-06");
  EXPECT_EQ(d.client.address(), v6("2001:0:c000:22d:0:63bd:39cc:9bf8"));
  EXPECT_EQ(d.client.mapped(), ep(v4(198, 51, 100, 7), 40002));
  EXPECT_EQ(d.client.state(), QualificationState::qualified);
  const auto peer = teredo_address(v4(203, 0, 113, 77), 0, ep(v4(203, 0, 113, 5), 5000));
  // Nothing goes out from the old address, nothing is taken for it.
  EXPECT_TRUE(has_drop(d.tun(echo(client_teredo(), peer)), "drop_not_from_our_address", "R4380-5.2.5-06"));
  EXPECT_TRUE(has_drop(d.receive(ep(v4(203, 0, 113, 5), 5000), bubble(peer, client_teredo())),
                       "drop_not_our_address", "R4380-5.2.3-02"));
  EXPECT_EQ(d.tun(echo(v6("2001:0:c000:22d:0:63bd:39cc:9bf8"), peer)).datagrams.size(), 2u);
}

TEST(NodeClientMaintain, SameMappingKeepsTheAddress) {
  Driver d;
  d.qualify();
  const Outbox out = d.receive(kPrimaryEp, make_ra(next_refresh(d)));
  EXPECT_TRUE(has_event(out, "refreshed")) << dump(out);
  EXPECT_EQ(d.client.address(), client_teredo());
}

TEST(NodeClientMaintain, InvalidRefreshRaIsIgnoredAndTheRsRepeated) {
  Driver d;
  d.qualify();
  const SentRs rs = next_refresh(d);
  const Time sent_at = d.now;
  RaSpec spec;
  spec.origin = false;
  spec.mapping = ep(v4(198, 51, 100, 7), 40002);
  // R4380-5.2.5-04: validated as in §5.2.1, silently dropped.
  EXPECT_TRUE(has_drop(d.receive(kPrimaryEp, make_ra(rs, spec)), "drop_ra_no_origin", "R4380-5.2.1-03"));
  EXPECT_EQ(d.client.address(), client_teredo());
  const Outbox out = d.at(sent_at + 4s);
  EXPECT_EQ(to(out, kPrimaryEp).size(), 1u) << dump(out);
  EXPECT_TRUE(has_drop(d.receive(kPrimaryEp, make_ra(rs)), "drop_ra_nonce_mismatch", "R4380-5.2.2-02"));
}

TEST(NodeClientMaintain, SilentServerWithdrawsTheAddressAndRequalifies) {
  Driver d;
  d.qualify();
  (void)next_refresh(d);
  const Time first = d.now;
  std::size_t repeats = 0;
  Outbox out;
  for (int s = 1; s <= 16; ++s) {
    out = d.at(first + std::chrono::seconds{s});
    if (s < 16) repeats += to(out, kPrimaryEp).size();
  }
  EXPECT_EQ(repeats, 3u);  // 4 refresh RSs in all, 4 s apart
  EXPECT_TRUE(has_event(out, "server_lost")) << dump(out);
  EXPECT_TRUE(has_event(out, "address_withdrawn"));
  EXPECT_FALSE(d.client.address().has_value());
  EXPECT_EQ(d.client.state(), QualificationState::probing_restricted);
  EXPECT_EQ(to(out, kPrimaryEp).size(), 1u);  // qualification starts over
}

TEST(NodeClientMaintain, UnsolicitedRaIsDropped) {
  Driver d;
  d.qualify();
  SentRs fake;
  fake.source = v6("fe80::63bf:39cc:9bf8");
  EXPECT_TRUE(has_drop(d.receive(kPrimaryEp, make_ra(fake)), "drop_ra_unsolicited", "R4380-5.2.1-03"));
}

TEST(NodeClientMaintain, ConeClientRefreshesWithTheConeBit) {
  ClientConfig c = client_config();
  c.use_rfc4380_qualification();
  Driver d(c);
  (void)d.receive(kSecondaryEp, make_ra(parse_rs(d.start().datagrams.at(0))));
  ASSERT_EQ(d.client.nat_type(), NatType::cone);
  const SentRs rs = next_refresh(d);
  // R4380-5.2.5-03: the cone bit that succeeded; the answer comes from the
  // secondary address.
  EXPECT_EQ(rs.source, v6("fe80::8000:63bf:39cc:9bf8"));
  EXPECT_TRUE(has_event(d.receive(kSecondaryEp, make_ra(rs)), "refreshed"));
}

}  // namespace
}  // namespace teredo::node::test
