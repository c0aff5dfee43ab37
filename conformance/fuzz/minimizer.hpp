// Delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating
// Failure-Inducing Input", 2002: ddmin) over a history of datagrams: the
// fewest datagrams, in their original order, that still reproduce a finding.
// Sans I/O: the caller's predicate replays a subset (against a fresh IUT, in
// the fuzz session) and says whether the finding came back. Subsets already
// tried are not asked again; the number of predicate calls is bounded.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "teredo/wire/bytes.hpp"

namespace teredo::conformance::fuzz {

struct MinimizeLimits {
  std::size_t max_calls = 200;  // predicate calls, the first (whole history) one included
};

struct MinimizeResult {
  std::vector<std::size_t> kept;  // indices into the history, ascending
  std::size_t calls = 0;          // predicate calls made
  bool reproduced = false;        // the whole history reproduced (else `kept` is the whole history)
  bool exhausted = false;         // stopped by max_calls: `kept` reproduces but may not be 1-minimal
};

// ddmin over indices 0..size-1. `reproduces` gets a subset as ascending indices.
MinimizeResult ddmin(std::size_t size, const std::function<bool(std::span<const std::size_t>)>& reproduces,
                     MinimizeLimits limits = {});

// The same over datagrams: `reproduces` gets the datagrams of a subset in
// their original order.
MinimizeResult minimize(const std::vector<wire::ByteVector>& history,
                        const std::function<bool(std::span<const wire::ByteVector>)>& reproduces,
                        MinimizeLimits limits = {});

}  // namespace teredo::conformance::fuzz
