// The real clock of the I/O edge: CLOCK_MONOTONIC as node::Time. One reading
// per batch of datagrams; reference/node never reads a clock itself.
#pragma once

#include "teredo/node/time.hpp"

namespace teredo::io {

// Nanoseconds on CLOCK_MONOTONIC (the epoch timerfd's absolute mode uses, so
// node deadlines can be armed as they are).
node::Time monotonic_now() noexcept;

}  // namespace teredo::io
