#include "kit/timing.hpp"

#include <fmt/format.h>

namespace teredo::conformance::kit {

std::string ms(std::chrono::milliseconds d) { return fmt::format("{} ms", d.count()); }

std::chrono::milliseconds since(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a);
}

}  // namespace teredo::conformance::kit
