#include "teredo/io/host.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "teredo/wire/teredo_address.hpp"

namespace teredo::io {

std::vector<wire::Ipv6Address> global_ipv6_addresses(const std::string& exclude_interface) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) throw_errno("getifaddrs");
  std::vector<wire::Ipv6Address> out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET6) continue;
    if (!exclude_interface.empty() && exclude_interface == i->ifa_name) continue;
    wire::Ipv6Address a;
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, 16);
    if (!node::is_global_scope(a) || wire::is_teredo(a)) continue;
    out.push_back(a);
  }
  ::freeifaddrs(list);
  return out;
}

node::SipKey random_sip_key() {
  node::SipKey key{};
  std::size_t filled = 0;
  while (filled < key.size()) {
    const ssize_t n = ::getrandom(key.data() + filled, key.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("getrandom for the peer list hash key");
    }
    filled += static_cast<std::size_t>(n);
  }
  return key;
}

std::optional<wire::Ipv4Address> local_ipv4_address(wire::Ipv4Address local, wire::Ipv4Address destination) {
  if (local.value != 0) return local;
  // connect(2) on a UDP socket sends nothing: it only picks the route.
  Fd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return std::nullopt;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(wire::kUdpPortTeredo);
  to.sin_addr.s_addr = htonl(destination.value);
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) return std::nullopt;
  sockaddr_in from{};
  socklen_t length = sizeof from;
  if (::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&from), &length) != 0) return std::nullopt;
  return wire::Ipv4Address{ntohl(from.sin_addr.s_addr)};
}

std::optional<Ipv4Subnet> local_ipv4_subnet(wire::Ipv4Address given, wire::Ipv4Address destination) {
  const auto address = local_ipv4_address(given, destination);
  if (!address) return std::nullopt;
  const wire::Ipv4Address local = *address;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<Ipv4Subnet> found;
  for (const ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_netmask == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if (ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr) != local.value) continue;
    const std::uint32_t mask = ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
    found = Ipv4Subnet{wire::Ipv4Address{local.value & mask}, static_cast<std::uint8_t>(__builtin_popcount(mask))};
  }
  ::freeifaddrs(list);
  return found;
}

std::optional<bool> ipv6_forwarding_enabled() {
  std::ifstream in("/proc/sys/net/ipv6/conf/all/forwarding");
  int value = 0;
  if (!(in >> value)) return std::nullopt;
  return value != 0;
}

RawIpv6Socket::RawIpv6Socket() : fd_(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) {
  if (!fd_.valid()) throw_errno("raw IPv6 socket for native forwarding");
  // Nothing is ever read from it: a minimal receive buffer.
  const int small = 1;
  (void)::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
}

int RawIpv6Socket::send(wire::Bytes packet) noexcept {
  if (packet.size() < wire::kIpv6HeaderSize) return EINVAL;
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  std::memcpy(&to.sin6_addr, packet.data() + 24, 16);  // the destination field
  for (;;) {
    if (::sendto(fd_.get(), packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0) {
      return 0;
    }
    if (errno != EINTR) return errno;
  }
}

}  // namespace teredo::io
