// The daemon's log: one line per node Event, and a few lines of its own
// (start, ready, stop, I/O failures), each prefixed with the time since the
// daemon started on the monotonic clock, "+HH:MM:SS.uuuuuu":
//
//   +00:00:01.204311 drop drop_non_global_source R4380-5.3.1-04 private_use 10.0.0.5 from 10.0.0.5:1234
//   +00:00:01.204390 action rs_answered R4380-5.3.2-07 RA to 198.51.100.7:40000 from 203.0.113.2:3544 (cone)
//
// Lines are collected per batch and written with one write(2), so lines of
// one batch are never interleaved with another process's output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "teredo/node/outbox.hpp"
#include "teredo/node/time.hpp"

namespace teredo::io {

class EventLog {
 public:
  EventLog(int fd, node::Time start) noexcept : fd_(fd), start_(start) {}
  ~EventLog() { flush(); }
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void event(node::Time now, const node::Event& event);
  void events(node::Time now, const std::vector<node::Event>& events) {
    for (const auto& e : events) event(now, e);
  }
  // A line of the edge's own: "<stamp> <text>".
  void line(node::Time now, std::string_view text);
  void flush() noexcept;

  [[nodiscard]] node::Time start() const noexcept { return start_; }
  // "+HH:MM:SS.uuuuuu" (hours grow past two digits after four days).
  static std::string stamp(node::Duration since_start);

 private:
  void append_stamp(node::Time now);
  int fd_;
  node::Time start_;
  std::string buffer_;
};

}  // namespace teredo::io
