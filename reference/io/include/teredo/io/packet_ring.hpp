// An AF_PACKET fast path for a UDP server: datagrams to the server's
// endpoints are read from a memory-mapped receive ring and answers are
// written into a memory-mapped transmit ring, so neither direction goes
// through the kernel's UDP socket layer (recvmmsg's udp_recvmsg copy and
// sendmmsg's ip_make_skb/route/neighbour work per datagram are the bulk of a
// Teredo server's CPU time; see bench/README.md).
//
// What the kernel no longer does for us, done here:
//  - receive: a classic BPF filter lets only unfragmented IPv4/UDP frames
//    addressed to this host and to one of the configured endpoints into the
//    ring; each frame is parsed with wire::find_udp_carrier and its IPv4
//    header and UDP checksums are verified (a datagram cut by the ring or
//    with a wrong checksum is counted and never handed on). No reassembly:
//    IPv4 fragments never reach the ring.
//  - transmit: Ethernet + IPv4 + UDP headers (checksums computed) are
//    written into a ring frame by wire::write_ethernet_ipv4_udp. The
//    destination MAC is the kernel's: the route to the destination (rtnetlink
//    RTM_GETROUTE) gives the next hop and interface, the neighbour table
//    (RTM_GETNEIGH) its MAC, cached for a short time. When the kernel does
//    not know it yet, queue() refuses and the caller sends that datagram
//    through its ordinary UDP socket, which makes the kernel resolve it.
//
// Receiving and queueing allocate nothing; buffers are mapped at
// construction. Needs CAP_NET_RAW.
#pragma once

#include <linux/filter.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "teredo/io/error.hpp"
#include "teredo/node/endpoint.hpp"
#include "teredo/node/time.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/frame.hpp"

namespace teredo::io {

namespace detail {
class Netlink;
}

struct PacketRingOptions {
  std::string interface;                  // the one interface both rings use
  std::vector<node::UdpEndpoint> locals;  // what the receive filter lets in
  // Receive ring (TPACKET_V3): blocks of variable-length frames; a block is
  // handed to user space when full or after the timeout, whichever is first.
  std::uint32_t rx_block_size = 1u << 18;
  std::uint32_t rx_block_count = 16;
  std::uint32_t rx_block_timeout_ms = 1;
  // Transmit ring (TPACKET_V2): fixed frames.
  std::uint32_t tx_frame_size = 2048;
  std::uint32_t tx_frame_count = 1024;
  // Next-hop MAC cache: short-lived, so route and neighbour changes are seen
  // within a second; bounded (direct-mapped: a colliding destination
  // replaces the older one).
  std::chrono::milliseconds next_hop_lifetime{1000};
  std::chrono::milliseconds unknown_next_hop_lifetime{100};
  std::size_t next_hop_cache_size = 1024;
};

// One datagram read from the ring. `payload` points into the ring and is
// valid only during the callback.
struct RingDatagram {
  node::UdpEndpoint local;  // which configured endpoint it was sent to
  node::UdpEndpoint from;
  wire::Bytes payload;
  wire::MacAddress source_mac{};
};

struct PacketRingStats {
  std::uint64_t frames_in = 0;      // frames the filter let into the ring
  std::uint64_t bad_checksum = 0;   // IPv4 header or UDP checksum wrong: dropped
  std::uint64_t cut = 0;            // frame or datagram shorter than its headers say: dropped
  std::uint64_t not_ours = 0;       // unparsable or not to a configured endpoint: dropped
  std::uint64_t ring_full = 0;      // frames the kernel dropped, the ring being full (PACKET_STATISTICS)
  std::uint64_t sent = 0;           // frames queued on the transmit ring
  std::uint64_t not_queued = 0;     // queue() refusals: next hop unknown, other interface, ring full, too long
};
std::string to_string(const PacketRingStats& stats);

// The classic BPF program of the receive ring (offsets from the Ethernet
// header): frames to this host's MAC (PACKET_HOST), EtherType IPv4, protocol
// UDP, MF clear and fragment offset 0, and destination address and port
// those of one of `locals`. At most 40 endpoints (the jumps are 8-bit).
std::vector<sock_filter> udp_endpoint_filter(std::span<const node::UdpEndpoint> locals);
// Attaches a filter that drops everything to `fd` (a UDP socket that stays
// bound so the kernel sends no ICMP port unreachable, while the ring reads
// its datagrams). Throws IoError naming `what`.
void drop_all_received(int fd, const std::string& what);

class PacketRing {
 public:
  explicit PacketRing(PacketRingOptions options);  // throws IoError naming the step
  ~PacketRing();
  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;

  // Readable (EPOLLIN) when a receive block has been handed to user space.
  [[nodiscard]] int fd() const noexcept { return rx_fd_.get(); }
  [[nodiscard]] const std::string& interface() const noexcept { return options_.interface; }

  // Hands each valid datagram of every ready block (at most one pass over
  // the ring) to `handle(const RingDatagram&)`, then gives the blocks back
  // to the kernel. Returns the number of blocks read.
  template <class Handle>
  std::size_t receive(Handle&& handle) noexcept {
    return receive_blocks(
        [](void* context, const RingDatagram& d) { (*static_cast<std::remove_reference_t<Handle>*>(context))(d); },
        &handle);
  }

  // Writes `payload` from `from` (one of the configured endpoints) to `to`
  // into the transmit ring (TTL `ttl`, or the sockets' default,
  // net.ipv4.ip_default_ttl, when 0). False when it cannot:
  // the next hop's MAC is not known or not on this interface, the frame
  // would not fit, or the ring is full; then send it another way.
  bool queue(node::Time now, node::UdpEndpoint from, node::UdpEndpoint to, wire::Bytes payload,
             std::uint8_t ttl) noexcept;
  // Sends everything queued with one sendto(). Returns 0 or an errno value.
  int flush() noexcept;

  // The counters; ring_full is read from the kernel (which resets it).
  PacketRingStats stats() noexcept;

 private:
  using Callback = void (*)(void* context, const RingDatagram& datagram);
  std::size_t receive_blocks(Callback callback, void* context) noexcept;
  void read_block(const std::uint8_t* block, Callback callback, void* context) noexcept;
  bool next_hop_mac(node::Time now, wire::Ipv4Address destination, wire::MacAddress& mac) noexcept;

  // A ring's mapping, unmapped when the ring goes (also when the
  // constructor throws half-way).
  struct Mapping {
    void* base = nullptr;
    std::size_t size = 0;
    Mapping() = default;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping();
  };
  struct NextHop {
    wire::Ipv4Address destination;
    node::Time expires{};
    bool valid = false;  // slot in use
    bool known = false;  // a usable MAC on our interface
    wire::MacAddress mac{};
  };

  PacketRingOptions options_;
  int ifindex_ = 0;
  std::size_t mtu_ = 1500;
  std::uint8_t default_ttl_ = 64;  // net.ipv4.ip_default_ttl, what the sockets would use
  wire::MacAddress own_mac_{};
  Fd rx_fd_, tx_fd_;
  Mapping rx_, tx_;
  std::size_t rx_next_block_ = 0;
  std::size_t tx_next_frame_ = 0;
  std::size_t tx_pending_ = 0;
  std::uint16_t identification_ = 0;
  std::vector<NextHop> next_hops_;
  std::unique_ptr<detail::Netlink> netlink_;
  PacketRingStats stats_;
};

}  // namespace teredo::io
