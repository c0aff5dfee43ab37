#include "lab_probe.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace teredo::labtest {

bool running_as_root() { return ::geteuid() == 0; }

std::string to_string(const UdpEndpoint& e) { return e.address + ":" + std::to_string(e.port); }

namespace {
sockaddr_in to_sockaddr(const UdpEndpoint& e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  if (inet_pton(AF_INET, e.address.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad address " + e.address);
  return a;
}
}  // namespace

LabSocket::LabSocket(const netns::Lab& lab, const std::string& host, const UdpEndpoint& bind_to)
    : fd_(lab.socket(host, AF_INET, SOCK_DGRAM)) {
  const int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in a = to_sockaddr(bind_to);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    throw std::runtime_error("bind " + to_string(bind_to) + " in " + host + ": " + std::strerror(errno));
  }
}

LabSocket::~LabSocket() {
  if (fd_ >= 0) ::close(fd_);
}

void LabSocket::send_to(const UdpEndpoint& to, const std::string& payload) const {
  const sockaddr_in a = to_sockaddr(to);
  if (::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0) {
    throw std::runtime_error("sendto " + to_string(to) + ": " + std::strerror(errno));
  }
}

std::optional<UdpEndpoint> LabSocket::receive(const std::string& payload, int timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    char buffer[2048];
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t n = ::recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (n < 0) continue;
    if (std::string(buffer, static_cast<std::size_t>(n)) != payload) continue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
    return UdpEndpoint{text, ntohs(from.sin_port)};
  }
}

Classification classify(const netns::Lab& lab, const std::string& client_host, const std::string& client_address,
                        const std::string& remote_host, const std::string& remote_a, const std::string& remote_b,
                        std::uint16_t base) {
  const UdpEndpoint a{remote_a, 4000}, a2{remote_a, 4001}, b{remote_b, 4000};
  LabSocket ra(lab, remote_host, a), ra2(lab, remote_host, a2), rb(lab, remote_host, b);
  Classification c;

  // Mapping: one internal endpoint towards A, A' (same address, other port), B.
  {
    LabSocket s(lab, client_host, {client_address, base});
    s.send_to(a, "map-a");
    s.send_to(a2, "map-a2");
    s.send_to(b, "map-b");
    const auto ma = ra.receive("map-a"), ma2 = ra2.receive("map-a2"), mb = rb.receive("map-b");
    if (!ma || !ma2 || !mb) throw std::runtime_error("mapping probe: an outbound packet did not arrive");
    c.mapped = *ma;
    if (*ma == *ma2 && *ma == *mb) {
      c.mapping = "endpoint-independent";
    } else if (*ma == *ma2) {
      c.mapping = "address-dependent";
    } else {
      c.mapping = "address-and-port-dependent";
    }
  }
  // Filtering: a fresh internal endpoint talks to A only; who else gets in?
  {
    LabSocket s(lab, client_host, {client_address, static_cast<std::uint16_t>(base + 1)});
    s.send_to(a, "open");
    const auto mapped = ra.receive("open");
    if (!mapped) throw std::runtime_error("filtering probe: the opening packet did not arrive");
    rb.send_to(*mapped, "from-b");
    const bool b_in = s.receive("from-b").has_value();
    ra2.send_to(*mapped, "from-a2");
    const bool a2_in = s.receive("from-a2").has_value();
    ra.send_to(*mapped, "from-a");
    if (!s.receive("from-a")) throw std::runtime_error("filtering probe: the answer from A was dropped");
    c.filtering = b_in ? "endpoint-independent" : a2_in ? "address-dependent" : "address-and-port-dependent";
  }
  return c;
}

}  // namespace teredo::labtest
