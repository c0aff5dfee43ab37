#include "teredo/io/event_log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace teredo::io {

std::string EventLog::stamp(node::Duration since_start) {
  const std::int64_t us_total = since_start.count() < 0 ? 0 : since_start.count() / 1000;
  const std::int64_t seconds = us_total / 1'000'000;
  char text[48];
  std::snprintf(text, sizeof text, "+%02lld:%02lld:%02lld.%06lld", static_cast<long long>(seconds / 3600),
                static_cast<long long>((seconds / 60) % 60), static_cast<long long>(seconds % 60),
                static_cast<long long>(us_total % 1'000'000));
  return text;
}

void EventLog::append_stamp(node::Time now) {
  buffer_ += stamp(now - start_);
  buffer_ += ' ';
}

void EventLog::event(node::Time now, const node::Event& e) {
  append_stamp(now);
  buffer_ += node::to_string(e);
  buffer_ += '\n';
  if (buffer_.size() > (64u << 10)) flush();
}

void EventLog::line(node::Time now, std::string_view text) {
  append_stamp(now);
  buffer_ += text;
  buffer_ += '\n';
  if (buffer_.size() > (64u << 10)) flush();
}

void EventLog::flush() noexcept {
  std::size_t written = 0;
  while (written < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // a closed log must not stop the daemon
    }
    written += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

}  // namespace teredo::io
