// The case toolkit's one table of timeouts, and the one way a duration is
// written in a verdict. Every role's driver and case reads its waits from
// here (a case with a reason of its own for another wait says why beside it).
#pragma once

#include <chrono>
#include <string>

namespace teredo::conformance::kit {

namespace timeout {
// How long the driver looks for a datagram it sent itself in its capture
// (the frame number a verdict cites); past it the frame is 0, "not seen".
inline constexpr std::chrono::milliseconds own_frame{200};
// How long a silent IUT is given before "no answer" is the observation.
inline constexpr std::chrono::milliseconds answer{1500};
// How long after a probe the driver waits before judging its silence.
inline constexpr std::chrono::milliseconds silence_window{1000};
// A relay has 2 s per bubble (RFC 4380 §5.4.1): its first one comes at once.
inline constexpr std::chrono::milliseconds bubble{2500};
// How long a relay is given to deliver a packet it forwards or queued.
inline constexpr std::chrono::milliseconds delivery{1500};
}  // namespace timeout

// "1500 ms".
std::string ms(std::chrono::milliseconds d);
// The time from `a` to `b` in whole milliseconds (capture times, timers).
std::chrono::milliseconds since(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b);

}  // namespace teredo::conformance::kit
