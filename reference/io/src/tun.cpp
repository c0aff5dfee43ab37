#include "teredo/io/tun.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netlink.hpp"

namespace teredo::io {

namespace {

node::Ipv6Prefix masked(node::Ipv6Prefix p) noexcept {
  for (std::size_t i = 0; i < 16; ++i) {
    const int bits = static_cast<int>(p.length) - static_cast<int>(i) * 8;
    if (bits >= 8) continue;
    p.address.bytes[i] = bits <= 0 ? 0 : static_cast<std::uint8_t>(p.address.bytes[i] & (0xFF << (8 - bits)));
  }
  return p;
}

// Best effort: an older kernel without the knob just gets a link-local address.
void disable_address_generation(const std::string& name) noexcept {
  const std::string path = "/proc/sys/net/ipv6/conf/" + name + "/addr_gen_mode";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)!::write(fd, "1", 1);
  ::close(fd);
}

}  // namespace

bool valid_interface_name(const std::string& name) noexcept {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  for (const char c : name) {
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\0') return false;
  }
  return true;
}

TunDevice::TunDevice(const TunOptions& options) : name_(options.name), mtu_(options.mtu) {
  if (!valid_interface_name(options.name)) throw IoError("TUN name '" + options.name + "' is not a valid interface name");
  fd_.reset(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd_.valid()) throw_errno("open /dev/net/tun");
  ifreq request{};
  request.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::memcpy(request.ifr_name, options.name.data(), options.name.size());
  if (::ioctl(fd_.get(), TUNSETIFF, &request) != 0) throw_errno("TUNSETIFF " + options.name);
  name_.assign(request.ifr_name, ::strnlen(request.ifr_name, IFNAMSIZ));
  try {
    configure(options);
  } catch (...) {
    close();
    throw;
  }
}

void TunDevice::configure(const TunOptions& options) {
  if (!options.automatic_link_local) disable_address_generation(name_);

  Fd control(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!control.valid()) throw_errno("control socket for " + name_);
  ifreq request{};
  std::memcpy(request.ifr_name, name_.data(), name_.size());
  request.ifr_mtu = static_cast<int>(options.mtu);
  if (::ioctl(control.get(), SIOCSIFMTU, &request) != 0) {
    throw_errno("set MTU " + std::to_string(options.mtu) + " on " + name_);
  }
  if (::ioctl(control.get(), SIOCGIFINDEX, &request) != 0) throw_errno("interface index of " + name_);
  index_ = request.ifr_ifindex;
  if (::ioctl(control.get(), SIOCGIFFLAGS, &request) != 0) throw_errno("read flags of " + name_);
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(control.get(), SIOCSIFFLAGS, &request) != 0) throw_errno("bring " + name_ + " up");

  detail::Netlink netlink;
  for (const auto& a : options.addresses) {
    if (const int e = netlink.add_ipv6_address(index_, a.address, a.length); e != 0) {
      throw_system_error("add address " + node::to_string(a) + " to " + name_, e);
    }
  }
  metric_ = options.route_metric;
  for (const auto& r : options.routes) {
    const node::Ipv6Prefix route = masked(r);
    if (const int e = netlink.add_ipv6_route(index_, route.address, route.length, metric_); e != 0) {
      throw_system_error("add route " + node::to_string(route) + " dev " + name_, e);
    }
    routes_added_.push_back(route);
  }
}

ssize_t TunDevice::read(std::uint8_t* buffer, std::size_t size) noexcept {
  for (;;) {
    const ssize_t n = ::read(fd_.get(), buffer, size);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -errno;
  }
}

int TunDevice::write(wire::Bytes packet) noexcept {
  for (;;) {
    const ssize_t n = ::write(fd_.get(), packet.data(), packet.size());
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

int TunDevice::add_address(const node::Ipv6Prefix& address) noexcept {
  try {
    detail::Netlink netlink;
    return netlink.add_ipv6_address(index_, address.address, address.length);
  } catch (...) {  // no netlink socket
    return EIO;
  }
}

int TunDevice::remove_address(const node::Ipv6Prefix& address) noexcept {
  try {
    detail::Netlink netlink;
    return netlink.delete_ipv6_address(index_, address.address, address.length);
  } catch (...) {  // no netlink socket
    return EIO;
  }
}

void TunDevice::close() noexcept {
  if (!fd_.valid()) return;
  if (!routes_added_.empty()) {
    try {
      detail::Netlink netlink;
      // ESRCH (already gone) is fine: the goal is that nothing is left.
      for (const auto& r : routes_added_) (void)netlink.delete_ipv6_route(index_, r.address, r.length, metric_);
    } catch (...) {
      // Closing the device removes its routes anyway.
    }
    routes_added_.clear();
  }
  fd_.reset();
}

}  // namespace teredo::io
