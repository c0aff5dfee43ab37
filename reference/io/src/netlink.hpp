// Just enough rtnetlink for a TUN device (IPv6 addresses and routes) and for
// a packet ring's next hop (the route to an IPv4 destination and the
// neighbour entry of its gateway). Every call returns 0 or an errno value;
// the caller names the step.
#pragma once

#include <cstdint>

#include "teredo/io/error.hpp"
#include "teredo/wire/frame.hpp"
#include "teredo/wire/ipv4.hpp"
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

  // RTM_GETROUTE for `destination`: the interface the kernel would send from
  // and the next hop (the route's gateway, or `destination` when on-link).
  // A route that is not unicast (local, blackhole, unreachable, ...) or whose
  // gateway is not IPv4 is EHOSTUNREACH.
  struct Ipv4Route {
    int ifindex = 0;
    wire::Ipv4Address next_hop;
  };
  int ipv4_route(wire::Ipv4Address destination, Ipv4Route& out) noexcept;
  // RTM_GETNEIGH for `address` on `ifindex`: its link-layer address and NUD
  // state (NUD_* of linux/neighbour.h). ENOENT when there is no entry.
  struct Neighbour {
    wire::MacAddress mac{};
    std::uint16_t state = 0;
    bool has_mac = false;
  };
  int ipv4_neighbour(int ifindex, wire::Ipv4Address address, Neighbour& out) noexcept;

 private:
  // Sends a request and hands every reply message of type `reply_type` to
  // `parse` (a callable taking const nlmsghdr&) until the ACK or error.
  template <class Parse>
  int query(void* message, std::uint32_t length, std::uint16_t reply_type, Parse parse) noexcept;
  int address(bool add, int ifindex, const wire::Ipv6Address& address, std::uint8_t prefix_length) noexcept;
  int route(bool add, int ifindex, const wire::Ipv6Address& destination, std::uint8_t prefix_length,
            std::uint32_t metric) noexcept;
  int transact(void* message, std::uint32_t length) noexcept;
  Fd fd_;
  std::uint32_t sequence_ = 1;
};

}  // namespace teredo::io::detail
