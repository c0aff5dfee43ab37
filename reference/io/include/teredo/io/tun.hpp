// A TUN device (IFF_TUN | IFF_NO_PI: each read or write is one IPv6 packet)
// with its MTU, addresses and routes, set through ioctl and rtnetlink.
//
// The device is not persistent: it exists while this object holds its file
// descriptor. Destruction (or close()) deletes the routes it added, then
// closes the descriptor, and the kernel removes the interface with whatever
// addresses it had. A daemon killed with SIGKILL leaves nothing either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "teredo/io/error.hpp"
#include "teredo/node/addressing.hpp"
#include "teredo/wire/bytes.hpp"

namespace teredo::io {

struct TunOptions {
  std::string name = "teredo";  // at most 15 bytes (IFNAMSIZ - 1)
  std::uint32_t mtu = 1280;     // R4380-5.1.2-01
  // Addresses on the interface (IPv6, no DAD), e.g. a Teredo client's.
  std::vector<node::Ipv6Prefix> addresses;
  // Routes through the interface, e.g. 2001::/32 for a relay.
  std::vector<node::Ipv6Prefix> routes;
  std::uint32_t route_metric = 1024;
  // Keep the kernel from giving the interface an automatic link-local
  // address (addr_gen_mode = none): the tunnel then carries no router
  // solicitations or neighbour discovery of the host's own. (A host with
  // forwarding on still sends an MLD report or two from :: when the device
  // comes up; the relay drops them as non-global sources, one log line each.)
  bool automatic_link_local = false;
};

class TunDevice {
 public:
  // Creates and configures the device; throws IoError naming the step that
  // failed ("TUNSETIFF tc-1a2b3c-tun: Device or resource busy"), after
  // undoing what was done.
  explicit TunDevice(const TunOptions& options);
  ~TunDevice() { close(); }
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] int index() const noexcept { return index_; }
  [[nodiscard]] std::uint32_t mtu() const noexcept { return mtu_; }

  // One packet into `buffer`: its length, 0 when none is waiting, -errno on error.
  ssize_t read(std::uint8_t* buffer, std::size_t size) noexcept;
  // One packet out: 0 or an errno value.
  int write(wire::Bytes packet) noexcept;

  // Adds or removes an IPv6 address (no DAD) while the device runs, e.g. a
  // Teredo client's address as qualification gives, changes or withdraws
  // it. 0 or an errno value (EEXIST, EADDRNOTAVAIL...).
  int add_address(const node::Ipv6Prefix& address) noexcept;
  int remove_address(const node::Ipv6Prefix& address) noexcept;

  // Deletes the routes this object added and closes the device. Idempotent.
  void close() noexcept;

 private:
  void configure(const TunOptions& options);
  Fd fd_;
  std::string name_;
  int index_ = 0;
  std::uint32_t mtu_ = 0;
  std::uint32_t metric_ = 0;
  std::vector<node::Ipv6Prefix> routes_added_;
};

// True when `name` fits an interface name (1..15 bytes, no '/', no space, no ':').
bool valid_interface_name(const std::string& name) noexcept;

}  // namespace teredo::io
