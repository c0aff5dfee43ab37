// The one clock type of the sans-I/O state machines. Nothing in reference/node
// reads a clock: every input carries `Time now` (monotonic, arbitrary epoch),
// and a machine with timers reports its next deadline; the I/O edge (or a
// test's virtual clock) decides when to call back.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>

namespace teredo::node {

using Time = std::chrono::nanoseconds;      // a point on the monotonic clock
using Duration = std::chrono::nanoseconds;  // a span between two Times

using namespace std::chrono_literals;  // NOLINT: 2s, 300s in configs and tests

// Scales protocol durations (RFC 4380's 2 s bubble spacing, 300 s budget
// window, 30 s peer validity) so a lab can run the reference implementation
// F times faster (`--time-scale F`, F < 1) without shortening what the
// harness expects of other implementations. A factor that is not a finite
// positive number is replaced by 1 (the CLI rejects it before it gets here).
class TimeScale {
 public:
  constexpr TimeScale() noexcept = default;
  explicit TimeScale(double factor) noexcept : factor_(valid_factor(factor) ? factor : 1.0) {}

  static bool valid_factor(double factor) noexcept {
    return std::isfinite(factor) && factor > 0.0 && factor <= 1e6;
  }
  [[nodiscard]] double factor() const noexcept { return factor_; }

  // d * factor, rounded to the nanosecond and never below 1 ns for a
  // positive d (a zero timer would spin the caller's loop).
  [[nodiscard]] Duration operator()(Duration d) const noexcept {
    if (factor_ == 1.0 || d.count() == 0) return d;
    const double scaled = std::round(static_cast<double>(d.count()) * factor_);
    const auto ns = static_cast<std::int64_t>(scaled);
    return Duration{d.count() > 0 && ns < 1 ? 1 : ns};
  }

 private:
  double factor_ = 1.0;
};

}  // namespace teredo::node
