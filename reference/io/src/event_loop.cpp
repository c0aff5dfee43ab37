#include "teredo/io/event_loop.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <ctime>
#include <vector>

#include "teredo/io/clock.hpp"

namespace teredo::io {

node::Time monotonic_now() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return node::Time{std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec};
}

EventLoop::EventLoop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_.valid()) throw_errno("epoll_create1");
}

void EventLoop::add(int fd, Handler handler, std::uint32_t events) {
  auto entry = std::make_unique<Entry>(Entry{fd, std::move(handler)});
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = entry.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    throw_errno("epoll_ctl add fd " + std::to_string(fd));
  }
  entries_.push_back(std::move(entry));
}

void EventLoop::remove(int fd) noexcept {
  for (auto& entry : entries_) {
    if (entry->fd != fd) continue;
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    entry->fd = -1;  // freed after the current round of events
  }
}

void EventLoop::run() {
  running_ = true;
  std::array<epoll_event, 16> ready{};
  while (running_) {
    const int n = ::epoll_wait(epoll_.get(), ready.data(), static_cast<int>(ready.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("epoll_wait");
    }
    for (int i = 0; i < n && running_; ++i) {
      auto* entry = static_cast<Entry*>(ready[static_cast<std::size_t>(i)].data.ptr);
      if (entry->fd >= 0) entry->handler(ready[static_cast<std::size_t>(i)].events);
    }
    std::erase_if(entries_, [](const std::unique_ptr<Entry>& e) { return e->fd < 0; });
  }
}

SignalFd::SignalFd(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : signals) sigaddset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) throw_errno("sigprocmask");
  fd_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd_.valid()) throw_errno("signalfd");
}

std::optional<int> SignalFd::read() noexcept {
  signalfd_siginfo info{};
  const ssize_t n = ::read(fd_.get(), &info, sizeof info);
  if (n != static_cast<ssize_t>(sizeof info)) return std::nullopt;
  return static_cast<int>(info.ssi_signo);
}

TimerFd::TimerFd() : fd_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
  if (!fd_.valid()) throw_errno("timerfd_create");
}

void TimerFd::arm(std::optional<node::Time> deadline) {
  if (deadline == armed_) return;
  itimerspec spec{};
  if (deadline) {
    // An all-zero it_value disarms: a deadline at or before the epoch still
    // has to fire, so it becomes 1 ns.
    const std::int64_t ns = deadline->count() > 0 ? deadline->count() : 1;
    spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  }
  if (::timerfd_settime(fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    throw_errno("timerfd_settime");
  }
  armed_ = deadline;
}

bool TimerFd::consume() noexcept {
  std::uint64_t expirations = 0;
  const ssize_t n = ::read(fd_.get(), &expirations, sizeof expirations);
  if (n != static_cast<ssize_t>(sizeof expirations)) return false;
  armed_.reset();  // a one-shot timer that fired is disarmed
  return true;
}

}  // namespace teredo::io
