#include "netlink.hpp"

#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace teredo::io::detail {

namespace {

// A request: header, family message, then attributes, all 4-byte aligned.
struct Message {
  alignas(NLMSG_ALIGNTO) std::array<std::uint8_t, 512> bytes{};
  std::uint32_t length = 0;

  template <class Body>
  Body* start(std::uint16_t type, std::uint16_t flags) {
    auto* h = reinterpret_cast<nlmsghdr*>(bytes.data());
    h->nlmsg_type = type;
    h->nlmsg_flags = static_cast<std::uint16_t>(flags | NLM_F_REQUEST | NLM_F_ACK);
    length = NLMSG_LENGTH(sizeof(Body));
    h->nlmsg_len = length;
    return reinterpret_cast<Body*>(NLMSG_DATA(h));
  }
  void attribute(std::uint16_t type, const void* data, std::size_t size) {
    auto* a = reinterpret_cast<rtattr*>(bytes.data() + NLMSG_ALIGN(length));
    a->rta_type = type;
    a->rta_len = static_cast<std::uint16_t>(RTA_LENGTH(size));
    std::memcpy(RTA_DATA(a), data, size);
    length = NLMSG_ALIGN(length) + RTA_ALIGN(a->rta_len);
    reinterpret_cast<nlmsghdr*>(bytes.data())->nlmsg_len = length;
  }
};

}  // namespace

Netlink::Netlink() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
  if (!fd_.valid()) throw_errno("netlink socket");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    throw_errno("netlink bind");
  }
}

int Netlink::transact(void* message, std::uint32_t length) noexcept {
  return query(message, length, NLMSG_DONE, [](const nlmsghdr&) {});
}

template <class Parse>
int Netlink::query(void* message, std::uint32_t length, std::uint16_t reply_type, Parse parse) noexcept {
  auto* h = static_cast<nlmsghdr*>(message);
  h->nlmsg_seq = ++sequence_;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), message, length, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0) {
    return errno;
  }
  alignas(nlmsghdr) std::array<std::uint8_t, 8192> reply{};
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), reply.data(), reply.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    auto left = static_cast<unsigned>(n);
    for (auto* r = reinterpret_cast<nlmsghdr*>(reply.data()); NLMSG_OK(r, left); r = NLMSG_NEXT(r, left)) {
      if (r->nlmsg_seq != h->nlmsg_seq) continue;
      if (r->nlmsg_type == reply_type && reply_type != NLMSG_DONE) {
        parse(*r);
        continue;
      }
      if (r->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(r));
        return -e->error;  // 0 is the ACK
      }
      if (r->nlmsg_type == NLMSG_DONE) return 0;
    }
  }
}

int Netlink::address(bool add, int ifindex, const wire::Ipv6Address& address,
                     std::uint8_t prefix_length) noexcept {
  Message m;
  auto* a = m.start<ifaddrmsg>(add ? RTM_NEWADDR : RTM_DELADDR,
                               static_cast<std::uint16_t>(add ? NLM_F_CREATE | NLM_F_EXCL : 0));
  a->ifa_family = AF_INET6;
  a->ifa_prefixlen = prefix_length;
  a->ifa_flags = IFA_F_NODAD;
  a->ifa_scope = RT_SCOPE_UNIVERSE;
  a->ifa_index = static_cast<std::uint32_t>(ifindex);
  m.attribute(IFA_LOCAL, address.bytes.data(), address.bytes.size());
  m.attribute(IFA_ADDRESS, address.bytes.data(), address.bytes.size());
  if (add) {
    const std::uint32_t flags = IFA_F_NODAD;
    m.attribute(IFA_FLAGS, &flags, sizeof flags);
  }
  return transact(m.bytes.data(), m.length);
}

int Netlink::add_ipv6_address(int ifindex, const wire::Ipv6Address& address,
                              std::uint8_t prefix_length) noexcept {
  return this->address(true, ifindex, address, prefix_length);
}

int Netlink::delete_ipv6_address(int ifindex, const wire::Ipv6Address& address,
                                 std::uint8_t prefix_length) noexcept {
  return this->address(false, ifindex, address, prefix_length);
}

int Netlink::route(bool add, int ifindex, const wire::Ipv6Address& destination, std::uint8_t prefix_length,
                   std::uint32_t metric) noexcept {
  Message m;
  auto* r = m.start<rtmsg>(add ? RTM_NEWROUTE : RTM_DELROUTE,
                           static_cast<std::uint16_t>(add ? NLM_F_CREATE | NLM_F_EXCL : 0));
  r->rtm_family = AF_INET6;
  r->rtm_dst_len = prefix_length;
  r->rtm_table = RT_TABLE_MAIN;
  r->rtm_protocol = RTPROT_STATIC;
  r->rtm_scope = RT_SCOPE_UNIVERSE;
  r->rtm_type = RTN_UNICAST;
  m.attribute(RTA_DST, destination.bytes.data(), destination.bytes.size());
  const auto oif = static_cast<std::uint32_t>(ifindex);
  m.attribute(RTA_OIF, &oif, sizeof oif);
  m.attribute(RTA_PRIORITY, &metric, sizeof metric);
  return transact(m.bytes.data(), m.length);
}

int Netlink::add_ipv6_route(int ifindex, const wire::Ipv6Address& destination, std::uint8_t prefix_length,
                            std::uint32_t metric) noexcept {
  return route(true, ifindex, destination, prefix_length, metric);
}

int Netlink::delete_ipv6_route(int ifindex, const wire::Ipv6Address& destination,
                               std::uint8_t prefix_length, std::uint32_t metric) noexcept {
  return route(false, ifindex, destination, prefix_length, metric);
}

namespace {

// The attributes behind a reply's family header, each checked against the
// message length (RTA_OK) before it is read.
template <class Visit>
void for_each_attribute(const nlmsghdr& reply, std::size_t body_size, Visit visit) noexcept {
  const std::size_t header = NLMSG_LENGTH(body_size);
  if (reply.nlmsg_len < header) return;
  auto left = static_cast<int>(reply.nlmsg_len - header);
  const auto* a = reinterpret_cast<const rtattr*>(static_cast<const std::uint8_t*>(NLMSG_DATA(&reply)) +
                                                  NLMSG_ALIGN(body_size));
  for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    visit(a->rta_type, static_cast<const std::uint8_t*>(RTA_DATA(a)), RTA_PAYLOAD(a));
  }
}

std::uint32_t network_order(wire::Ipv4Address a) noexcept {
  const auto o = a.octets();
  std::uint32_t v = 0;
  std::memcpy(&v, o.data(), 4);
  return v;
}

wire::Ipv4Address from_network_order(const std::uint8_t* p) noexcept {
  return wire::Ipv4Address::from_octets(p[0], p[1], p[2], p[3]);
}

}  // namespace

int Netlink::ipv4_route(wire::Ipv4Address destination, Ipv4Route& out) noexcept {
  Message m;
  auto* r = m.start<rtmsg>(RTM_GETROUTE, 0);
  r->rtm_family = AF_INET;
  r->rtm_dst_len = 32;
  const std::uint32_t dst = network_order(destination);
  m.attribute(RTA_DST, &dst, sizeof dst);
  bool found = false, unicast = false, other_gateway = false;
  Ipv4Route route{0, destination};
  const int e = query(m.bytes.data(), m.length, RTM_NEWROUTE, [&](const nlmsghdr& reply) {
    if (reply.nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return;
    found = true;
    unicast = static_cast<const rtmsg*>(NLMSG_DATA(&reply))->rtm_type == RTN_UNICAST;
    for_each_attribute(reply, sizeof(rtmsg), [&](std::uint16_t type, const std::uint8_t* data, std::size_t size) {
      if (type == RTA_OIF && size == 4) {
        std::uint32_t index = 0;
        std::memcpy(&index, data, 4);
        route.ifindex = static_cast<int>(index);
      } else if (type == RTA_GATEWAY && size == 4) {
        route.next_hop = from_network_order(data);
      } else if (type == RTA_VIA) {
        other_gateway = true;  // an IPv6 next hop for an IPv4 route
      }
    });
  });
  if (e != 0) return e;
  if (!found || !unicast || other_gateway || route.ifindex == 0) return EHOSTUNREACH;
  out = route;
  return 0;
}

int Netlink::ipv4_neighbour(int ifindex, wire::Ipv4Address address, Neighbour& out) noexcept {
  Message m;
  auto* n = m.start<ndmsg>(RTM_GETNEIGH, 0);
  n->ndm_family = AF_INET;
  n->ndm_ifindex = ifindex;
  const std::uint32_t dst = network_order(address);
  m.attribute(NDA_DST, &dst, sizeof dst);
  bool found = false;
  Neighbour neighbour;
  const int e = query(m.bytes.data(), m.length, RTM_NEWNEIGH, [&](const nlmsghdr& reply) {
    if (reply.nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return;
    found = true;
    neighbour.state = static_cast<const ndmsg*>(NLMSG_DATA(&reply))->ndm_state;
    for_each_attribute(reply, sizeof(ndmsg), [&](std::uint16_t type, const std::uint8_t* data, std::size_t size) {
      if (type == NDA_LLADDR && size == neighbour.mac.size()) {
        std::memcpy(neighbour.mac.data(), data, size);
        neighbour.has_mac = true;
      }
    });
  });
  if (e != 0) return e;
  if (!found) return ENOENT;
  out = neighbour;
  return 0;
}

}  // namespace teredo::io::detail
