// Just enough rtnetlink for a TUN device: IPv6 addresses and routes.
// Every call returns 0 or an errno value; the caller names the step.
#pragma once

#include <cstdint>

#include "teredo/io/error.hpp"
#include "teredo/wire/ipv6.hpp"

namespace teredo::io::detail {

class Netlink {
 public:
  Netlink();  // throws IoError
  // RTM_NEWADDR with IFA_F_NODAD (a TUN link has no neighbours to collide with).
  int add_ipv6_address(int ifindex, const wire::Ipv6Address& address, std::uint8_t prefix_length) noexcept;
  // RTM_DELADDR.
  int delete_ipv6_address(int ifindex, const wire::Ipv6Address& address, std::uint8_t prefix_length) noexcept;
  // RTM_NEWROUTE (NLM_F_EXCL: an existing route is an error, not replaced) or
  // RTM_DELROUTE, in the main table, to `destination/prefix_length` dev ifindex.
  int add_ipv6_route(int ifindex, const wire::Ipv6Address& destination, std::uint8_t prefix_length,
                     std::uint32_t metric) noexcept;
  int delete_ipv6_route(int ifindex, const wire::Ipv6Address& destination, std::uint8_t prefix_length,
                        std::uint32_t metric) noexcept;

 private:
  int address(bool add, int ifindex, const wire::Ipv6Address& address, std::uint8_t prefix_length) noexcept;
  int route(bool add, int ifindex, const wire::Ipv6Address& destination, std::uint8_t prefix_length,
            std::uint32_t metric) noexcept;
  int transact(void* message, std::uint32_t length) noexcept;
  Fd fd_;
  std::uint32_t sequence_ = 1;
};

}  // namespace teredo::io::detail
