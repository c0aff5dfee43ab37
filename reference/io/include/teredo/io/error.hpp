// Errors and file descriptors at the I/O edge. Setup failures (a socket that
// cannot be bound, a TUN device that cannot be created) throw IoError with a
// message that names the step ("bind 203.0.113.1:3544: Address not
// available"); the packet path never throws: it reports what failed as log
// lines and goes on.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace teredo::io {

class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws IoError("<step>: <strerror(errno_value)>").
[[noreturn]] void throw_system_error(const std::string& step, int errno_value);
// The same with the current errno.
[[noreturn]] void throw_errno(const std::string& step);

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() noexcept = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace teredo::io
