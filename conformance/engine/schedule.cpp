#include "engine/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace teredo::conformance {

Concurrency resolve_concurrency(int jobs, std::size_t cases, unsigned cores, std::uint64_t fd_limit) {
  Concurrency c;
  if (jobs == kJobsAuto) {
    const std::uint64_t by_fds = fd_limit > kFdsReserved + kFdsPerLab ? (fd_limit - kFdsReserved) / kFdsPerLab : 1;
    const std::uint64_t labs = std::min<std::uint64_t>({static_cast<std::uint64_t>(kAutoMaxLabs), cases, by_fds});
    c.labs = static_cast<int>(std::max<std::uint64_t>(1, labs));
  } else {
    c.labs = std::max(1, jobs);
  }
  c.cpu = std::clamp(static_cast<int>(cores), 1, c.labs);
  return c;
}

CpuSlots::Held CpuSlots::hold(std::size_t rank) {
  const auto asked = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  const auto mine = waiting_.insert(rank);
  freed_.wait(lock, [this, rank] { return free_ > 0 && *waiting_.begin() == rank; });
  waiting_.erase(mine);
  --free_;
  // Another slot still free: the next lowest rank may have seen it was not
  // its turn and gone back to sleep.
  if (free_ > 0 && !waiting_.empty()) freed_.notify_all();
  ++held_;
  most_held_ = std::max(most_held_, held_);
  Held held(this);
  held.waited = std::chrono::steady_clock::now() - asked;
  return held;
}

void CpuSlots::release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++free_;
    --held_;
  }
  freed_.notify_all();  // the lowest rank among the waiters goes next
}

std::size_t CpuSlots::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_.size();
}

int CpuSlots::most_held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return most_held_;
}

std::vector<std::size_t> run_in_order(const std::vector<std::size_t>& order, int labs,
                                      const std::function<bool()>& stop,
                                      const std::function<void(std::size_t)>& work) {
  std::mutex mutex;
  std::size_t next = 0;
  std::vector<std::size_t> started;
  const auto worker = [&] {
    for (;;) {
      std::size_t position = 0;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (next >= order.size() || stop()) return;
        position = order[next++];
        started.push_back(position);
      }
      work(position);
    }
  };
  std::vector<std::thread> threads;
  const std::size_t count = std::min(order.size(), static_cast<std::size_t>(std::max(1, labs)));
  threads.reserve(count);
  for (std::size_t i = 0; i < count; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return started;
}

std::optional<std::size_t> critical_case(const std::vector<CaseTiming>& timings) {
  std::optional<std::size_t> last;
  for (std::size_t i = 0; i < timings.size(); ++i) {
    if (timings[i].attempts == 0) continue;  // did not run (not-applicable, or never started)
    if (!last || timings[i].ended_s > timings[*last].ended_s ||
        (timings[i].ended_s == timings[*last].ended_s && timings[i].position < timings[*last].position)) {
      last = i;
    }
  }
  return last;
}

std::string describe_critical_path(const CaseTiming& t, const std::string& case_id, const std::string& title,
                                   const std::string& description, double wall_s) {
  const double ran = t.ended_s - t.started_s;
  std::string out = fmt::format("critical path: {} ended last, at {:.1f} s of the {:.1f} s run\n", case_id, t.ended_s,
                                wall_s);
  out += fmt::format("  started at {:.1f} s ({}), ran {:.1f} s{}: lab up {:.1f} s, IUT start {:.1f} s, case {:.1f} s, "
                     "teardown {:.1f} s{}\n",
                     t.started_s, t.queued ? "when a lab slot came free" : "at once", ran,
                     t.attempts > 1 ? fmt::format(" in {} attempts", t.attempts) : std::string(), t.lab_up_s,
                     t.iut_start_s, t.body_s, t.teardown_s,
                     t.cpu_wait_s >= 0.05 ? fmt::format(" ({:.1f} s of it waiting for a CPU slot)", t.cpu_wait_s)
                                          : std::string());
  out += fmt::format("  why it waits (the case's title): {}\n", title);
  if (!description.empty()) out += fmt::format("  what it does: {}\n", description);
  return out;
}

}  // namespace teredo::conformance
