// The run's schedule without a lab (engine/schedule.hpp, shard.hpp's
// longest_first): what --jobs auto and --jobs N resolve to; the order cases
// start in (longest expected first, the median for a case the table lacks);
// that no more labs run at once than allowed and that the allowed number do
// run at once; that the CPU-heavy phases never exceed their slots; which case
// the critical path names. No assertion on time: the only waits are
// liveness guards that fail the test instead of hanging it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>

#include "engine/schedule.hpp"
#include "engine/shard.hpp"

namespace {

using namespace teredo::conformance;
using namespace std::chrono_literals;

TEST(Concurrency, AutoRunsManyLabsAndOneCpuPhasePerCore) {
  const Concurrency c = resolve_concurrency(kJobsAuto, 130, 2, 20000);
  EXPECT_EQ(c.labs, kAutoMaxLabs);
  EXPECT_EQ(c.cpu, 2);
  // Never more labs than cases, never more CPU slots than labs.
  EXPECT_EQ(resolve_concurrency(kJobsAuto, 5, 2, 20000).labs, 5);
  EXPECT_EQ(resolve_concurrency(kJobsAuto, 1, 8, 20000).cpu, 1);
  // The descriptor limit bounds the labs: 1024 leaves (1024-128)/64 = 14.
  EXPECT_EQ(resolve_concurrency(kJobsAuto, 130, 2, 1024).labs, 14);
  // However tight the limits, one lab and one slot.
  const Concurrency tight = resolve_concurrency(kJobsAuto, 130, 0, 100);
  EXPECT_EQ(tight.labs, 1);
  EXPECT_EQ(tight.cpu, 1);
}

TEST(Concurrency, AnExplicitJobsCapsTheLabs) {
  EXPECT_EQ(resolve_concurrency(2, 130, 2, 20000).labs, 2);
  EXPECT_EQ(resolve_concurrency(8, 130, 2, 20000).labs, 8);
  EXPECT_EQ(resolve_concurrency(8, 130, 2, 20000).cpu, 2);
  EXPECT_EQ(resolve_concurrency(1, 130, 4, 20000).cpu, 1);
  // An explicit number is the user's: not lowered by the descriptor estimate.
  EXPECT_EQ(resolve_concurrency(40, 130, 2, 1024).labs, 40);
}

// Worked by hand: f and g are missing and weigh the median of {10, 8, 6, 5,
// 1}, 6; c, f and g tie at 6 and keep the selection's order.
TEST(Order, LongestFirstAndTheMedianForUnknownCases) {
  const std::vector<std::string> ids = {"e", "a", "c", "f", "b", "d", "g"};
  const CaseDurations table = {{"a", 10}, {"b", 8}, {"c", 6}, {"d", 5}, {"e", 1}};
  EXPECT_EQ(longest_first(ids, table), (std::vector<std::size_t>{1, 4, 2, 3, 6, 5, 0}));
  // No table: every case weighs the same and the selection's order stands.
  EXPECT_EQ(longest_first({"x", "y", "z"}, {}), (std::vector<std::size_t>{0, 1, 2}));
}

// A gate the first `count` arrivals wait at until all of them are there:
// proof that `count` ran at once. Waits at most 20 s (a liveness guard, not
// a measurement): false when they never met.
class Meeting {
 public:
  explicit Meeting(int count) : count_(count) {}
  bool arrive() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (arrived_ >= count_) return true;  // after the meeting: pass through
    if (++arrived_ == count_) {
      met_.notify_all();
      return true;
    }
    return met_.wait_for(lock, 20s, [this] { return arrived_ >= count_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable met_;
  int count_, arrived_ = 0;
};

// Counts the callers inside, and the most at once.
struct Occupancy {
  std::atomic<int> now{0}, most{0};
  void enter() {
    const int n = ++now;
    int seen = most.load();
    while (n > seen && !most.compare_exchange_weak(seen, n)) {
    }
  }
  void leave() { --now; }
};

TEST(RunInOrder, OneLabStartsEveryCaseInTheGivenOrder) {
  const std::vector<std::size_t> order = {4, 0, 3, 1, 2};
  std::vector<std::size_t> ran;
  const auto started = run_in_order(order, 1, [] { return false; }, [&ran](std::size_t p) { ran.push_back(p); });
  EXPECT_EQ(started, order);
  EXPECT_EQ(ran, order);
}

TEST(RunInOrder, ExactlyTheAllowedLabsRunAtOnce) {
  constexpr int kLabs = 5;
  std::vector<std::size_t> order(40);
  std::iota(order.rbegin(), order.rend(), 0);  // 39, 38, ..., 0
  Meeting first_wave(kLabs);
  Occupancy labs;
  std::atomic<bool> met{true};
  std::mutex mutex;
  std::vector<int> runs(order.size(), 0);
  const auto started = run_in_order(order, kLabs, [] { return false; }, [&](std::size_t p) {
    labs.enter();
    if (!first_wave.arrive()) met = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++runs[p];
    }
    std::this_thread::sleep_for(1ms);
    labs.leave();
  });
  EXPECT_TRUE(met) << "the first " << kLabs << " cases never ran at the same time";
  EXPECT_EQ(labs.most.load(), kLabs);
  EXPECT_EQ(started, order);  // taken from the queue in the given order
  EXPECT_TRUE(std::all_of(runs.begin(), runs.end(), [](int n) { return n == 1; }));
}

TEST(RunInOrder, StopsStartingCasesWhenAsked) {
  const std::vector<std::size_t> order = {0, 1, 2, 3, 4, 5};
  std::atomic<int> ran{0};
  const auto started = run_in_order(order, 1, [&ran] { return ran >= 2; }, [&ran](std::size_t) { ++ran; });
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(started, (std::vector<std::size_t>{0, 1}));
}

TEST(CpuSlots, NoMoreHoldersThanSlotsAndAllSlotsUsed) {
  constexpr int kSlots = 2;
  CpuSlots slots(kSlots);
  Meeting first_pair(kSlots);
  Occupancy inside;
  std::atomic<bool> met{true};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        const CpuSlots::Held held = slots.hold();
        inside.enter();
        if (!first_pair.arrive()) met = false;
        std::this_thread::yield();
        inside.leave();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(met) << "two holders never held a slot at the same time";
  EXPECT_EQ(inside.most.load(), kSlots);
  EXPECT_EQ(slots.most_held(), kSlots);
}

// A freed slot goes to the waiter of the lowest rank, whatever order they
// came in: the longest case is not left behind the labs of shorter ones.
TEST(CpuSlots, AFreedSlotGoesToTheLowestRank) {
  CpuSlots slots(1);
  std::optional<CpuSlots::Held> first(slots.hold(0));
  std::mutex mutex;
  std::vector<std::size_t> served;
  std::vector<std::thread> threads;
  for (const std::size_t rank : {7u, 3u, 9u, 1u, 5u}) {
    threads.emplace_back([&, rank] {
      const CpuSlots::Held held = slots.hold(rank);
      std::lock_guard<std::mutex> lock(mutex);
      served.push_back(rank);
    });
  }
  // Liveness guard: wait (at most 20 s) until all five wait.
  for (int i = 0; i < 20000 && slots.waiting() < 5; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(slots.waiting(), 5u);
  first.reset();
  for (auto& t : threads) t.join();
  EXPECT_EQ(served, (std::vector<std::size_t>{1, 3, 5, 7, 9}));
}

// Two slots freed back to back both go out: the second-lowest waiter, woken
// while it was not its turn, is not left asleep with a slot free. (The
// interleaving that lost it is not in the test's hands: many rounds.)
TEST(CpuSlots, EveryFreedSlotIsHandedOut) {
  for (int round = 0; round < 300; ++round) {
    CpuSlots slots(2);
    std::optional<CpuSlots::Held> a(slots.hold(0)), b(slots.hold(0));
    Meeting both(2);
    std::atomic<bool> met{true};
    std::vector<std::thread> threads;
    for (const std::size_t rank : {4u, 2u}) {
      threads.emplace_back([&, rank] {
        const CpuSlots::Held held = slots.hold(rank);
        if (!both.arrive()) met = false;  // both hold a slot at once
      });
    }
    for (int i = 0; i < 20000 && slots.waiting() < 2; ++i) std::this_thread::sleep_for(100us);
    ASSERT_EQ(slots.waiting(), 2u);
    a.reset();
    b.reset();
    for (auto& t : threads) t.join();
    ASSERT_TRUE(met) << "round " << round << ": a freed slot stayed free while a waiter slept";
  }
}

// The run's shape: many labs, each with a build and a teardown under the CPU
// slots and a wait between them without one. The labs reach their bound, the
// CPU phases stay within theirs, every case runs once, longest first.
TEST(Schedule, LabsAndCpuPhasesBoundedSeparately) {
  std::vector<std::string> ids;
  CaseDurations table;
  for (int i = 0; i < 30; ++i) {
    ids.push_back("case." + std::to_string(i));
    if (i % 4 != 0) table[ids.back()] = (i * 7919) % 997;  // a quarter unknown: the median
  }
  const Concurrency c = resolve_concurrency(kJobsAuto, ids.size(), 2, 20000);
  ASSERT_EQ(c.labs, 30);
  const auto order = longest_first(ids, table);
  CpuSlots cpu(c.cpu);
  Occupancy labs, working;
  Meeting all_labs(c.labs);
  std::atomic<bool> met{true};
  std::vector<std::atomic<int>> runs(ids.size());
  const auto started = run_in_order(order, c.labs, [] { return false; }, [&](std::size_t p) {
    labs.enter();
    {
      const CpuSlots::Held building = cpu.hold(p);
      working.enter();
      std::this_thread::yield();
      working.leave();
    }
    if (!all_labs.arrive()) met = false;  // the wait: every lab up at once, no CPU slot held
    {
      const CpuSlots::Held tearing_down = cpu.hold(p);
      working.enter();
      std::this_thread::yield();
      working.leave();
    }
    ++runs[p];
    labs.leave();
  });
  EXPECT_TRUE(met) << "the labs never all waited at once";
  EXPECT_EQ(labs.most.load(), c.labs);
  EXPECT_LE(working.most.load(), c.cpu);
  EXPECT_EQ(started, order);
  for (std::size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << ids[i];
  // Longest first: each started case expected at least as long as the next.
  const std::int64_t median = median_duration(table);
  const auto weight = [&](std::size_t p) { return table.count(ids[p]) ? table.at(ids[p]) : median; };
  for (std::size_t i = 1; i < started.size(); ++i) EXPECT_GE(weight(started[i - 1]), weight(started[i])) << i;
}

TEST(CriticalPath, TheCaseThatEndedLastAndWhy) {
  std::vector<CaseTiming> timings(4);
  for (std::size_t i = 0; i < timings.size(); ++i) {
    timings[i].position = i;
    timings[i].attempts = 1;
  }
  timings[0].ended_s = 3.0;
  timings[1] = {.position = 1, .started_s = 0.1, .ended_s = 33.9, .queued = false, .lab_up_s = 0.4,
                .iut_start_s = 0.1, .body_s = 33.0, .teardown_s = 0.3, .cpu_wait_s = 0.2, .attempts = 1};
  timings[2].ended_s = 40.0;
  timings[2].attempts = 0;  // never ran: not the critical path, whatever its numbers
  timings[3].ended_s = 33.9;  // a tie goes to the earlier case
  ASSERT_EQ(critical_case(timings), 1u);
  EXPECT_FALSE(critical_case({}));

  const std::string text =
      describe_critical_path(timings[1], "client.maintenance.default-refresh-interval",
                             "RFC 6081 §5.1.1: the default refresh interval is 30 s", "waits for the first refresh RS",
                             34.2);
  EXPECT_NE(text.find("client.maintenance.default-refresh-interval ended last, at 33.9 s of the 34.2 s run"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("at once"), std::string::npos) << text;
  EXPECT_NE(text.find("case 33.0 s"), std::string::npos) << text;
  EXPECT_NE(text.find("0.2 s of it waiting for a CPU slot"), std::string::npos) << text;
  EXPECT_NE(text.find("the default refresh interval is 30 s"), std::string::npos) << text;
  timings[1].queued = true;
  EXPECT_NE(describe_critical_path(timings[1], "x", "t", "", 34.2).find("when a lab slot came free"),
            std::string::npos);
}

}  // namespace
