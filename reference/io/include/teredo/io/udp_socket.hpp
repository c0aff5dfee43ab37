// A UDP/IPv4 socket bound to one endpoint, read and written in batches with
// recvmmsg/sendmmsg. The buffers are allocated once, at construction: the
// packet path allocates nothing here.
#pragma once

#include <sys/socket.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "teredo/io/error.hpp"
#include "teredo/node/endpoint.hpp"
#include "teredo/node/outbox.hpp"
#include "teredo/wire/bytes.hpp"

namespace teredo::io {

inline constexpr std::size_t kDefaultBatch = 64;

sockaddr_in to_sockaddr(node::UdpEndpoint endpoint) noexcept;
node::UdpEndpoint from_sockaddr(const sockaddr_in& address) noexcept;

// Received datagrams: `capacity` slots of `slot_size` bytes each.
class ReceiveBatch {
 public:
  ReceiveBatch(std::size_t capacity, std::size_t slot_size);
  ReceiveBatch(const ReceiveBatch&) = delete;
  ReceiveBatch& operator=(const ReceiveBatch&) = delete;

  [[nodiscard]] std::size_t capacity() const noexcept { return headers_.size(); }
  [[nodiscard]] std::size_t slot_size() const noexcept { return slot_size_; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  // Datagram i of the last receive: sender, payload, and whether it was
  // longer than a slot (then the payload is cut and must not be parsed).
  [[nodiscard]] node::UdpEndpoint from(std::size_t i) const noexcept;
  [[nodiscard]] wire::Bytes payload(std::size_t i) const noexcept;
  [[nodiscard]] bool truncated(std::size_t i) const noexcept;

 private:
  friend class UdpSocket;
  std::size_t slot_size_;
  std::size_t count_ = 0;
  std::vector<std::uint8_t> storage_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_in> addresses_;
  std::vector<mmsghdr> headers_;
};

// What one send() call did.
struct SendReport {
  std::size_t sent = 0;
  std::size_t failed = 0;
  int first_error = 0;                 // errno of the first failure
  node::UdpEndpoint first_failed_to{};  // its destination
};

// Scratch space for send(): headers for one sendmmsg call.
class SendBatch {
 public:
  explicit SendBatch(std::size_t capacity = kDefaultBatch);
  [[nodiscard]] std::size_t capacity() const noexcept { return headers_.size(); }

 private:
  friend class UdpSocket;
  // Room for one IP_TTL control message per datagram (OutgoingDatagram::ttl).
  struct Control {
    alignas(cmsghdr) unsigned char bytes[CMSG_SPACE(sizeof(int))];
  };
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_in> addresses_;
  std::vector<Control> controls_;
  std::vector<mmsghdr> headers_;
};

struct UdpSocketOptions {
  int receive_buffer = 4 << 20;  // bytes (SO_RCVBUFFORCE when allowed, else SO_RCVBUF)
  int send_buffer = 4 << 20;
};

class UdpSocket {
 public:
  // Binds to `local` (port 0 picks one). Throws IoError naming the step.
  explicit UdpSocket(node::UdpEndpoint local, UdpSocketOptions options = {});

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  // The bound endpoint (with the port the kernel chose for port 0).
  [[nodiscard]] node::UdpEndpoint local() const noexcept { return local_; }

  // Receives up to batch.capacity() datagrams without blocking. Returns how
  // many arrived (0 when none was waiting); errors other than "nothing
  // waiting" are returned as -errno.
  int receive(ReceiveBatch& batch) noexcept;

  // Sends every datagram of `datagrams` whose `from` is this socket's local
  // endpoint (a server sends from two sockets: each takes its own), in
  // sendmmsg batches of scratch.capacity(). A datagram with a non-zero `ttl`
  // carries it as an IP_TTL control message. A datagram the kernel refuses
  // is counted as failed and skipped.
  SendReport send(std::span<const node::OutgoingDatagram> datagrams, SendBatch& scratch) noexcept;
  // Sends every datagram regardless of `from` (a relay has one socket).
  SendReport send_all(std::span<const node::OutgoingDatagram> datagrams, SendBatch& scratch) noexcept;

 private:
  SendReport send_filtered(std::span<const node::OutgoingDatagram> datagrams, SendBatch& scratch,
                           bool filter) noexcept;
  Fd fd_;
  node::UdpEndpoint local_;
};

}  // namespace teredo::io
