// How a run spends the machine. Most of a case's time is waiting: out an RFC
// timer, for an answer, through a silence window; a waiting case costs no
// CPU. So a run keeps many labs going at once, bounds separately the phases
// that do work (building a lab, starting the IUT, tearing the lab down:
// fork/exec of ip, nft and the IUT, and the kernel's namespace work) to the
// number of cores, and starts the longest cases first so that the ones that
// bound the wall time are not left for the end.
//
// Nothing here changes what a case does or how it is judged: each case still
// has its own lab, its own seed (from its place in the selection) and its
// place in the report.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace teredo::conformance {

// `--jobs auto`: the run chooses (resolve_concurrency).
inline constexpr int kJobsAuto = 0;
// The most labs `--jobs auto` runs at once: far above the cores, since the
// cases mostly wait. With the full suite on 2 cores the labs are never what
// a case queues for: the CPU-heavy phases are.
inline constexpr int kAutoMaxLabs = 32;
// File descriptors one running case may hold in this process (its captures,
// the played parties' sockets, pipes to the lab's commands, logs), with room
// to spare: the full reference suite at 32 labs peaked at about 600 in all
// (sampled from /proc/PID/fd), under 20 a lab.
inline constexpr std::uint64_t kFdsPerLab = 64;
// Descriptors kept for everything else (the report, the catalog, stdio).
inline constexpr std::uint64_t kFdsReserved = 128;

struct Concurrency {
  int labs = 1;  // cases running at once, one lab each
  int cpu = 1;   // CPU-heavy phases (lab build, IUT start, teardown) at once
};

// The concurrency of a run of `cases` cases on `cores` cores with `fd_limit`
// descriptors: `jobs` labs at once, or for kJobsAuto as many as there are
// cases, at most kAutoMaxLabs and at most what the descriptors allow; the
// CPU-heavy phases `cores` at once, never more than the labs. Always at least
// one of each.
Concurrency resolve_concurrency(int jobs, std::size_t cases, unsigned cores, std::uint64_t fd_limit);

// A counting semaphore for the CPU-heavy phases. A free slot goes to the
// waiter of the lowest rank (a case's place in the run's order: the longest
// case's lab is built first, and a case under way is not left waiting behind
// the labs of shorter ones). It tells how long each holder waited (the
// critical path says so).
class CpuSlots {
 public:
  explicit CpuSlots(int slots) : free_(slots > 0 ? slots : 1) {}
  CpuSlots(const CpuSlots&) = delete;
  CpuSlots& operator=(const CpuSlots&) = delete;

  class Held {
   public:
    explicit Held(CpuSlots* slots) : slots_(slots) {}
    Held(Held&& other) noexcept : waited(other.waited), slots_(other.slots_) { other.slots_ = nullptr; }
    Held& operator=(Held&&) = delete;
    ~Held() {
      if (slots_ != nullptr) slots_->release();
    }
    std::chrono::duration<double> waited{0};  // until the slot was free

   private:
    CpuSlots* slots_;
  };

  // Blocks until a slot is free and no waiter of a lower rank is left; the
  // slot is given back when the guard dies.
  [[nodiscard]] Held hold(std::size_t rank = 0);
  // The most slots ever held at once (for tests and figures).
  [[nodiscard]] int most_held() const;
  // Callers of hold() waiting now.
  [[nodiscard]] std::size_t waiting() const;

 private:
  void release();
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::multiset<std::size_t> waiting_;  // ranks
  int free_;
  int held_ = 0;
  int most_held_ = 0;
};

// Calls work(position) for every position of `order`, on `labs` threads at
// most: the positions start in the order given (a thread takes the next one
// when its case ends), none after stop() is true. Returns the positions in
// the order they were started. A work that throws is the caller's bug: it
// ends the program (std::terminate), as any escaping exception of a thread.
std::vector<std::size_t> run_in_order(const std::vector<std::size_t>& order, int labs,
                                      const std::function<bool()>& stop,
                                      const std::function<void(std::size_t)>& work);

// Where one case's wall time went, in seconds from the run's start.
struct CaseTiming {
  std::size_t position = 0;  // in the run's case list
  double started_s = 0, ended_s = 0;
  std::size_t rank = 0;      // in the order cases start (0: first); its priority for a CPU slot
  bool queued = false;       // started only when another case's lab was done
  // Summed over the case's attempts.
  double lab_up_s = 0;       // building the lab (and its IPv6 links coming up)
  double iut_start_s = 0;    // starting the IUT until it is ready
  double body_s = 0;         // the case itself: its exchanges, waits and checks
  double teardown_s = 0;     // stopping the IUT, the evidence, the lab going down
  double cpu_wait_s = 0;     // of the above, waiting for a CPU slot
  int attempts = 0;
};

// The case that bounds the wall time: the one that ended last (the lower
// position on a tie); nullopt when no case ran.
std::optional<std::size_t> critical_case(const std::vector<CaseTiming>& timings);

// The critical path in a few lines for the end of a run: which case ended
// last, when it started and why (queued behind other labs, or at once), where
// its time went, and why it must wait that long in the case's own words (its
// title, and its description).
std::string describe_critical_path(const CaseTiming& timing, const std::string& case_id, const std::string& title,
                                   const std::string& description, double wall_s);

}  // namespace teredo::conformance
