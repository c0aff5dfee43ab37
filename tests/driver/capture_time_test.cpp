// Frame times are the kernel's capture times, not the moment the capture
// thread got round to reading the frame: cases judge gaps between frames.
#include <gtest/gtest.h>

#include <chrono>

#include "engine/capture.hpp"

namespace {

using namespace std::chrono_literals;
using teredo::conformance::captured_at;
using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

const SystemTime kSystemNow{std::chrono::seconds(1'800'000'000)};
const SteadyTime kSteadyNow{std::chrono::seconds(5'000)};

TEST(CaptureTime, AFrameReadLateKeepsTheTimeTheKernelCapturedIt) {
  EXPECT_EQ(captured_at(kSystemNow - 52ms, kSystemNow, kSteadyNow), kSteadyNow - 52ms);
  EXPECT_EQ(captured_at(kSystemNow - 1500us, kSystemNow, kSteadyNow), kSteadyNow - 1500us);
  EXPECT_EQ(captured_at(kSystemNow, kSystemNow, kSteadyNow), kSteadyNow);
}

// Two bubbles 200 ms apart, the first read 52 ms late: the gap stays 200 ms
// (with read times it would be 148 ms, and a conforming IUT would be failed
// for bubbles too close).
TEST(CaptureTime, TheGapBetweenTwoFramesDoesNotShrinkWhenTheFirstIsReadLate) {
  const SystemTime first = kSystemNow;
  const SystemTime second = kSystemNow + 200ms;
  const SteadyTime first_at = captured_at(first, first + 52ms, kSteadyNow + 52ms);
  const SteadyTime second_at = captured_at(second, second + 1ms, kSteadyNow + 201ms);
  EXPECT_EQ(second_at - first_at, std::chrono::steady_clock::duration(200ms));
}

// A realtime clock step is not a lag: the read time stands.
TEST(CaptureTime, ARealtimeClockStepFallsBackToTheReadTime) {
  EXPECT_EQ(captured_at(kSystemNow + 3ms, kSystemNow, kSteadyNow), kSteadyNow);
  EXPECT_EQ(captured_at(kSystemNow - 1h, kSystemNow, kSteadyNow), kSteadyNow);
}

}  // namespace
