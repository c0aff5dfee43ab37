#include "teredo/io/udp_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace teredo::io {

sockaddr_in to_sockaddr(node::UdpEndpoint endpoint) noexcept {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(endpoint.port);
  a.sin_addr.s_addr = htonl(endpoint.address.value);
  return a;
}

node::UdpEndpoint from_sockaddr(const sockaddr_in& address) noexcept {
  return node::UdpEndpoint{wire::Ipv4Address{ntohl(address.sin_addr.s_addr)}, ntohs(address.sin_port)};
}

ReceiveBatch::ReceiveBatch(std::size_t capacity, std::size_t slot_size)
    : slot_size_(slot_size),
      storage_(capacity * slot_size),
      iovecs_(capacity),
      addresses_(capacity),
      headers_(capacity) {
  for (std::size_t i = 0; i < capacity; ++i) {
    iovecs_[i].iov_base = storage_.data() + i * slot_size;
    iovecs_[i].iov_len = slot_size;
    headers_[i].msg_hdr.msg_iov = &iovecs_[i];
    headers_[i].msg_hdr.msg_iovlen = 1;
  }
}

node::UdpEndpoint ReceiveBatch::from(std::size_t i) const noexcept { return from_sockaddr(addresses_[i]); }

wire::Bytes ReceiveBatch::payload(std::size_t i) const noexcept {
  return wire::Bytes(storage_.data() + i * slot_size_, headers_[i].msg_len);
}

bool ReceiveBatch::truncated(std::size_t i) const noexcept {
  return (headers_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

SendBatch::SendBatch(std::size_t capacity)
    : iovecs_(capacity), addresses_(capacity), controls_(capacity), headers_(capacity) {}

namespace {
void set_buffer(int fd, int force_option, int option, int bytes) noexcept {
  if (bytes <= 0) return;
  // Root may exceed net.core.[rw]mem_max; otherwise the kernel caps it.
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
  }
}
}  // namespace

UdpSocket::UdpSocket(node::UdpEndpoint local, UdpSocketOptions options)
    : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)), local_(local) {
  const std::string where = node::to_string(local);
  if (!fd_.valid()) throw_errno("UDP socket for " + where);
  set_buffer(fd_.get(), SO_RCVBUFFORCE, SO_RCVBUF, options.receive_buffer);
  set_buffer(fd_.get(), SO_SNDBUFFORCE, SO_SNDBUF, options.send_buffer);
  // RFC 4380 §5.1.2 (R4380-5.1.2-02): Teredo SHOULD NOT set DF on the
  // encapsulating IPv4 header; Linux sets it by default (path MTU discovery).
  const int no_pmtu_discovery = IP_PMTUDISC_DONT;
  if (::setsockopt(fd_.get(), IPPROTO_IP, IP_MTU_DISCOVER, &no_pmtu_discovery, sizeof no_pmtu_discovery) != 0) {
    throw_errno("IP_MTU_DISCOVER on " + where);
  }
  const sockaddr_in a = to_sockaddr(local);
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) throw_errno("bind " + where);
  sockaddr_in bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    throw_errno("getsockname " + where);
  }
  local_ = from_sockaddr(bound);
}

int UdpSocket::receive(ReceiveBatch& batch) noexcept {
  batch.count_ = 0;
  for (std::size_t i = 0; i < batch.capacity(); ++i) {
    msghdr& h = batch.headers_[i].msg_hdr;
    h.msg_name = &batch.addresses_[i];
    h.msg_namelen = sizeof(sockaddr_in);
    h.msg_flags = 0;
    batch.headers_[i].msg_len = 0;
  }
  for (;;) {
    const int n = ::recvmmsg(fd_.get(), batch.headers_.data(), static_cast<unsigned>(batch.capacity()),
                             MSG_DONTWAIT, nullptr);
    if (n >= 0) {
      batch.count_ = static_cast<std::size_t>(n);
      return n;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -errno;
  }
}

SendReport UdpSocket::send(std::span<const node::OutgoingDatagram> datagrams, SendBatch& scratch) noexcept {
  return send_filtered(datagrams, scratch, true);
}

SendReport UdpSocket::send_all(std::span<const node::OutgoingDatagram> datagrams,
                               SendBatch& scratch) noexcept {
  return send_filtered(datagrams, scratch, false);
}

SendReport UdpSocket::send_filtered(std::span<const node::OutgoingDatagram> datagrams, SendBatch& scratch,
                                    bool filter) noexcept {
  SendReport report;
  std::size_t next = 0;
  while (next < datagrams.size()) {
    // Fill one sendmmsg batch.
    std::size_t count = 0;
    std::size_t indices_end = next;
    while (indices_end < datagrams.size() && count < scratch.capacity()) {
      const node::OutgoingDatagram& d = datagrams[indices_end++];
      if (filter && !(d.from == local_)) continue;
      scratch.addresses_[count] = to_sockaddr(d.to);
      scratch.iovecs_[count].iov_base = const_cast<std::uint8_t*>(d.payload.data());
      scratch.iovecs_[count].iov_len = d.payload.size();
      msghdr& h = scratch.headers_[count].msg_hdr;
      h = msghdr{};
      h.msg_name = &scratch.addresses_[count];
      h.msg_namelen = sizeof(sockaddr_in);
      h.msg_iov = &scratch.iovecs_[count];
      h.msg_iovlen = 1;
      if (d.ttl != 0) {
        h.msg_control = scratch.controls_[count].bytes;
        h.msg_controllen = sizeof scratch.controls_[count].bytes;
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_TTL;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        const int ttl = d.ttl;
        std::memcpy(CMSG_DATA(c), &ttl, sizeof ttl);
      }
      ++count;
    }
    next = indices_end;
    // Send it; on a refused datagram skip it and go on with the rest.
    std::size_t done = 0;
    while (done < count) {
      const int n = ::sendmmsg(fd_.get(), scratch.headers_.data() + done, static_cast<unsigned>(count - done), 0);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        report.sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      const int error = n < 0 ? errno : EIO;
      if (report.failed++ == 0) {
        report.first_error = error;
        report.first_failed_to = from_sockaddr(scratch.addresses_[done]);
      }
      ++done;
    }
  }
  return report;
}

}  // namespace teredo::io
