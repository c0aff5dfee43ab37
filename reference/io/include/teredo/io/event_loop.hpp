// An epoll loop, a signalfd and a timerfd: everything that wakes the daemon.
//
// The loop is level-triggered: a handler that leaves data unread (it reads
// one batch per wake-up, so one busy socket cannot starve the others) is
// called again on the next round.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "teredo/io/error.hpp"
#include "teredo/node/time.hpp"

namespace teredo::io {

class EventLoop {
 public:
  using Handler = std::function<void(std::uint32_t events)>;

  EventLoop();  // throws IoError
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` (which the caller keeps open until the loop is gone) for
  // `events` (EPOLLIN by default). Throws IoError.
  void add(int fd, Handler handler, std::uint32_t events = 0x001 /* EPOLLIN */);
  // Stops watching `fd` (safe from inside a handler: an event already
  // fetched for it in the same round is skipped). The caller closes it.
  void remove(int fd) noexcept;
  // Runs handlers until stop(). Throws IoError if epoll_wait fails.
  void run();
  // Ends run() after the current handler returns.
  void stop() noexcept { running_ = false; }
  [[nodiscard]] bool running() const noexcept { return running_; }

 private:
  struct Entry {
    int fd;
    Handler handler;
  };
  Fd epoll_;
  std::vector<std::unique_ptr<Entry>> entries_;
  bool running_ = false;
};

// Blocks `signals` for the process and delivers them through a file
// descriptor instead. Create it before anything else, so a signal during
// setup waits for the loop rather than killing the daemon half-built.
class SignalFd {
 public:
  explicit SignalFd(std::initializer_list<int> signals);  // throws IoError
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  // The next pending signal, or nullopt when none is pending.
  std::optional<int> read() noexcept;

 private:
  Fd fd_;
};

// A CLOCK_MONOTONIC timerfd armed at absolute node::Time deadlines.
class TimerFd {
 public:
  TimerFd();  // throws IoError
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  // Arms at `deadline` (a deadline in the past fires at once), or disarms on
  // nullopt. Does nothing when the deadline is the one already armed.
  void arm(std::optional<node::Time> deadline);
  // Reads the expiration count after a wake-up; false if it had not fired.
  bool consume() noexcept;

 private:
  Fd fd_;
  std::optional<node::Time> armed_;
};

}  // namespace teredo::io
