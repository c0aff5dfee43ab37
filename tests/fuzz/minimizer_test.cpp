// Delta debugging over datagram histories, on synthetic predicates.
#include <gtest/gtest.h>

#include <algorithm>

#include "fuzz/minimizer.hpp"

namespace {

using teredo::conformance::fuzz::ddmin;
using teredo::conformance::fuzz::minimize;
using teredo::conformance::fuzz::MinimizeLimits;
using teredo::wire::ByteVector;

bool has(std::span<const std::size_t> s, std::size_t x) { return std::find(s.begin(), s.end(), x) != s.end(); }

TEST(Ddmin, ACrashOnOneDatagramMinimizesToExactlyIt) {
  for (const std::size_t culprit : {std::size_t{0}, std::size_t{417}, std::size_t{9999}}) {
    const auto r = ddmin(10000, [culprit](std::span<const std::size_t> s) { return has(s, culprit); });
    EXPECT_TRUE(r.reproduced);
    EXPECT_FALSE(r.exhausted);
    EXPECT_EQ(r.kept, std::vector<std::size_t>{culprit});
    EXPECT_LE(r.calls, 60u) << "culprit " << culprit;  // about 2 log2(n), not n
  }
}

TEST(Ddmin, ACrashOnAThenBKeepsBothInOrder) {
  // Reproduces only when A (index 30) is sent before B (index 700): the
  // subset keeps the history's order.
  const auto r = ddmin(1000, [](std::span<const std::size_t> s) {
    const auto a = std::find(s.begin(), s.end(), 30), b = std::find(s.begin(), s.end(), 700);
    return a != s.end() && b != s.end() && a < b;
  });
  EXPECT_TRUE(r.reproduced);
  EXPECT_EQ(r.kept, (std::vector<std::size_t>{30, 700}));
}

TEST(Ddmin, AHistoryThatDoesNotReproduceIsTriedOnce) {
  const auto r = ddmin(500, [](std::span<const std::size_t>) { return false; });
  EXPECT_FALSE(r.reproduced);
  EXPECT_EQ(r.calls, 1u);
  EXPECT_EQ(r.kept.size(), 500u);
}

TEST(Ddmin, StopsAtItsCallBoundWithASubsetThatStillReproduces) {
  std::size_t calls = 0;
  const auto needs_three = [&calls](std::span<const std::size_t> s) {
    ++calls;
    return has(s, 3) && has(s, 500) && has(s, 900);
  };
  const auto r = ddmin(1000, needs_three, MinimizeLimits{.max_calls = 10});
  EXPECT_EQ(calls, r.calls);
  EXPECT_LE(r.calls, 10u);
  EXPECT_TRUE(r.exhausted);
  EXPECT_TRUE(has(r.kept, 3) && has(r.kept, 500) && has(r.kept, 900));
  EXPECT_LT(r.kept.size(), 1000u);
  // Unbounded it gets to exactly the three.
  const auto full = ddmin(1000, needs_three);
  EXPECT_EQ(full.kept, (std::vector<std::size_t>{3, 500, 900}));
}

TEST(Minimize, HandsThePredicateTheDatagramsInOrder) {
  std::vector<ByteVector> history;
  for (int i = 0; i < 300; ++i) history.push_back(ByteVector{static_cast<std::uint8_t>(i % 251), 0x60});
  history[123] = {0x00, 0x01, 0xff, 0xff};  // the "crashing" datagram
  const auto r = minimize(history, [](std::span<const ByteVector> datagrams) {
    return std::any_of(datagrams.begin(), datagrams.end(), [](const ByteVector& d) { return d.size() == 4; });
  });
  ASSERT_EQ(r.kept.size(), 1u);
  EXPECT_EQ(history[r.kept[0]], (ByteVector{0x00, 0x01, 0xff, 0xff}));
}

}  // namespace
