#include "teredo/io/error.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace teredo::io {

void throw_system_error(const std::string& step, int errno_value) {
  throw IoError(step + ": " + std::strerror(errno_value));
}

void throw_errno(const std::string& step) { throw_system_error(step, errno); }

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

}  // namespace teredo::io
