#include "fuzz/minimizer.hpp"

#include <algorithm>
#include <map>

namespace teredo::conformance::fuzz {

MinimizeResult ddmin(std::size_t size, const std::function<bool(std::span<const std::size_t>)>& reproduces,
                     MinimizeLimits limits) {
  MinimizeResult result;
  std::vector<std::size_t> current(size);
  for (std::size_t i = 0; i < size; ++i) current[i] = i;
  std::map<std::vector<std::size_t>, bool> tried;
  const auto test = [&](const std::vector<std::size_t>& subset) -> bool {
    if (const auto it = tried.find(subset); it != tried.end()) return it->second;
    ++result.calls;
    const bool yes = reproduces(subset);
    tried.emplace(subset, yes);
    return yes;
  };
  result.kept = current;
  if (limits.max_calls == 0 || !test(current)) return result;
  result.reproduced = true;
  std::size_t n = 2;
  while (current.size() >= 2) {
    if (result.calls >= limits.max_calls) {
      result.exhausted = true;
      break;
    }
    // n chunks as even as can be.
    std::vector<std::vector<std::size_t>> chunks;
    const std::size_t base = current.size() / n, extra = current.size() % n;
    for (std::size_t i = 0, at = 0; i < n; ++i) {
      const std::size_t length = base + (i < extra ? 1 : 0);
      chunks.emplace_back(current.begin() + static_cast<std::ptrdiff_t>(at),
                          current.begin() + static_cast<std::ptrdiff_t>(at + length));
      at += length;
    }
    bool reduced = false;
    // Reduce to a subset.
    for (const auto& chunk : chunks) {
      if (result.calls >= limits.max_calls) break;
      if (test(chunk)) {
        current = chunk;
        n = 2;
        reduced = true;
        break;
      }
    }
    // Reduce to a complement (with two chunks the complements are the chunks).
    if (!reduced && n > 2) {
      for (std::size_t i = 0; i < chunks.size(); ++i) {
        if (result.calls >= limits.max_calls) break;
        std::vector<std::size_t> complement;
        for (std::size_t j = 0; j < chunks.size(); ++j) {
          if (j != i) complement.insert(complement.end(), chunks[j].begin(), chunks[j].end());
        }
        if (test(complement)) {
          current = std::move(complement);
          n = std::max<std::size_t>(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (result.calls >= limits.max_calls) {
        result.exhausted = true;
        break;
      }
      if (n >= current.size()) break;  // 1-minimal: no single datagram can go
      n = std::min(n * 2, current.size());
    }
  }
  result.kept = current;
  return result;
}

MinimizeResult minimize(const std::vector<wire::ByteVector>& history,
                        const std::function<bool(std::span<const wire::ByteVector>)>& reproduces,
                        MinimizeLimits limits) {
  return ddmin(
      history.size(),
      [&](std::span<const std::size_t> subset) {
        std::vector<wire::ByteVector> datagrams;
        datagrams.reserve(subset.size());
        for (const std::size_t i : subset) datagrams.push_back(history[i]);
        return reproduces(datagrams);
      },
      limits);
}

}  // namespace teredo::conformance::fuzz
