#include "teredo/io/packet_ring.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "netlink.hpp"
#include "teredo/wire/checksum.hpp"

namespace teredo::io {

std::string to_string(const PacketRingStats& s) {
  return "frames-in " + std::to_string(s.frames_in) + " bad-checksum " + std::to_string(s.bad_checksum) + " cut " +
         std::to_string(s.cut) + " not-ours " + std::to_string(s.not_ours) + " ring-full " +
         std::to_string(s.ring_full) + " sent " + std::to_string(s.sent) + " not-queued " +
         std::to_string(s.not_queued);
}

namespace {

constexpr std::uint32_t kAcceptWholeFrame = 0xFFFFFFFFu;
constexpr std::size_t kMaxFilterEndpoints = 40;
// Where the kernel expects a transmit frame's data (packet_mmap.rst: the
// header, aligned, minus the sockaddr_ll that only receive frames carry).
constexpr std::size_t kTxDataOffset = TPACKET2_HDRLEN - sizeof(sockaddr_ll);
constexpr std::size_t kTxBlockSize = 1u << 16;

sock_filter statement(std::uint16_t code, std::uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(std::uint16_t code, std::uint32_t k, std::size_t jt, std::size_t jf) {
  return sock_filter{code, static_cast<std::uint8_t>(jt), static_cast<std::uint8_t>(jf), k};
}

void attach_filter(int fd, const std::vector<sock_filter>& program, const std::string& what) {
  sock_fprog fprog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
    throw_errno("SO_ATTACH_FILTER on " + what);
  }
}

void set_int(int fd, int level, int option, int value, const std::string& step) {
  if (::setsockopt(fd, level, option, &value, sizeof value) != 0) throw_errno(step);
}

std::uint16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

// RFC 1071 over the IPv4 header (it includes its own checksum: 0 when right).
bool ipv4_header_checksum_ok(wire::Bytes header) noexcept {
  wire::ChecksumAccumulator sum;
  sum.add(header);
  return sum.finish() == 0;
}

// RFC 768: pseudo-header + UDP header + data; a zero field means the sender
// computed none, which IPv4 allows.
bool udp_checksum_ok(wire::Ipv4Address source, wire::Ipv4Address destination, wire::Bytes segment) noexcept {
  return be16(segment.data() + 6) == 0 || wire::udp_ipv4_checksum(source, destination, segment) == 0;
}

}  // namespace

std::vector<sock_filter> udp_endpoint_filter(std::span<const node::UdpEndpoint> locals) {
  if (locals.empty() || locals.size() > kMaxFilterEndpoints) {
    throw IoError("packet ring filter: 1.." + std::to_string(kMaxFilterEndpoints) + " endpoints, not " +
                  std::to_string(locals.size()));
  }
  constexpr std::size_t kHeader = 8, kPerEndpoint = 5;
  const std::size_t drop = kHeader + kPerEndpoint * locals.size();
  const std::size_t accept = drop + 1;
  std::vector<sock_filter> p;
  // Offsets are from the Ethernet header: EtherType at 12, IPv4 at 14.
  p.push_back(statement(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, drop - 2));  // not our own or others' frames
  p.push_back(statement(BPF_LD | BPF_H | BPF_ABS, 12));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, drop - 4));
  p.push_back(statement(BPF_LD | BPF_B | BPF_ABS, 14 + 9));  // protocol
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, drop - 6));
  p.push_back(statement(BPF_LD | BPF_H | BPF_ABS, 14 + 6));        // flags and fragment offset
  p.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, 0x3FFF, drop - 8, 0));  // MF set or offset != 0: a fragment
  for (std::size_t i = 0; i < locals.size(); ++i) {
    const std::size_t base = kHeader + kPerEndpoint * i;
    p.push_back(statement(BPF_LD | BPF_W | BPF_ABS, 14 + 16));  // destination address
    p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, locals[i].address.value, 0, 3));
    p.push_back(statement(BPF_LDX | BPF_B | BPF_MSH, 14));      // X = IPv4 header length
    p.push_back(statement(BPF_LD | BPF_H | BPF_IND, 14 + 2));   // UDP destination port
    p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, locals[i].port, accept - (base + 5), 0));
  }
  p.push_back(statement(BPF_RET | BPF_K, 0));
  p.push_back(statement(BPF_RET | BPF_K, kAcceptWholeFrame));
  return p;
}

void drop_all_received(int fd, const std::string& what) {
  attach_filter(fd, {statement(BPF_RET | BPF_K, 0)}, what);
}

PacketRing::PacketRing(PacketRingOptions options)
    : options_(std::move(options)), next_hops_(options_.next_hop_cache_size) {
  const std::string& name = options_.interface;
  const std::string where = "packet ring on " + name;
  if (name.empty() || name.size() >= IFNAMSIZ) throw IoError(where + ": not a valid interface name");
  ifindex_ = static_cast<int>(::if_nametoindex(name.c_str()));
  if (ifindex_ == 0) throw_errno(where);
  if (next_hops_.empty()) throw IoError(where + ": the next-hop cache needs at least one slot");
  const std::vector<sock_filter> filter = udp_endpoint_filter(options_.locals);

  // Protocol 0: the socket receives nothing until bind() below, so the ring
  // holds only filtered frames from its first one.
  rx_fd_ = Fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!rx_fd_.valid()) throw_errno("AF_PACKET socket (" + where + ")");
  ifreq request{};
  std::memcpy(request.ifr_name, name.c_str(), name.size());
  if (::ioctl(rx_fd_.get(), SIOCGIFHWADDR, &request) != 0) throw_errno("SIOCGIFHWADDR " + name);
  if (request.ifr_hwaddr.sa_family != ARPHRD_ETHER) throw IoError(where + ": not an Ethernet interface");
  std::memcpy(own_mac_.data(), request.ifr_hwaddr.sa_data, own_mac_.size());
  if (::ioctl(rx_fd_.get(), SIOCGIFMTU, &request) != 0) throw_errno("SIOCGIFMTU " + name);
  mtu_ = static_cast<std::size_t>(request.ifr_mtu);

  // Receive: TPACKET_V3, variable-length frames packed in blocks.
  set_int(rx_fd_.get(), SOL_PACKET, PACKET_VERSION, TPACKET_V3, "PACKET_VERSION (" + where + ")");
  attach_filter(rx_fd_.get(), filter, where);
  tpacket_req3 rx{};
  rx.tp_block_size = options_.rx_block_size;
  rx.tp_block_nr = options_.rx_block_count;
  rx.tp_frame_size = TPACKET_ALIGNMENT << 7;  // only a hint for V3
  rx.tp_frame_nr = rx.tp_block_size / rx.tp_frame_size * rx.tp_block_nr;
  rx.tp_retire_blk_tov = options_.rx_block_timeout_ms;
  if (::setsockopt(rx_fd_.get(), SOL_PACKET, PACKET_RX_RING, &rx, sizeof rx) != 0) {
    throw_errno("PACKET_RX_RING (" + where + ")");
  }
  rx_.size = std::size_t{rx.tp_block_size} * rx.tp_block_nr;
  rx_.base = ::mmap(nullptr, rx_.size, PROT_READ | PROT_WRITE, MAP_SHARED, rx_fd_.get(), 0);
  if (rx_.base == MAP_FAILED) {
    rx_.base = nullptr;
    throw_errno("mmap receive ring (" + where + ")");
  }
  sockaddr_ll bind_to{};
  bind_to.sll_family = AF_PACKET;
  bind_to.sll_protocol = htons(ETH_P_IP);
  bind_to.sll_ifindex = ifindex_;
  if (::bind(rx_fd_.get(), reinterpret_cast<const sockaddr*>(&bind_to), sizeof bind_to) != 0) {
    throw_errno("bind (" + where + ")");
  }

  // Transmit: TPACKET_V2 fixed frames on a second socket that never binds a
  // protocol (it receives nothing); the protocol and interface come with
  // each sendto(). The qdisc is bypassed (the server has no traffic shaping
  // to respect); a malformed frame is skipped, not left to block the ring.
  if (options_.tx_frame_size < kTxDataOffset + wire::kEthernetHeaderSize + wire::kIpv4UdpHeadersSize ||
      options_.tx_frame_size > kTxBlockSize || kTxBlockSize % options_.tx_frame_size != 0 ||
      options_.tx_frame_count == 0) {
    throw IoError(where + ": the transmit frame size must divide 65536 and hold the headers");
  }
  tx_fd_ = Fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!tx_fd_.valid()) throw_errno("AF_PACKET socket (" + where + ")");
  set_int(tx_fd_.get(), SOL_PACKET, PACKET_VERSION, TPACKET_V2, "PACKET_VERSION (" + where + ")");
  set_int(tx_fd_.get(), SOL_PACKET, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS (" + where + ")");
  set_int(tx_fd_.get(), SOL_PACKET, PACKET_LOSS, 1, "PACKET_LOSS (" + where + ")");
  const int send_buffer = 8 << 20;  // room for a full ring in flight
  if (::setsockopt(tx_fd_.get(), SOL_SOCKET, SO_SNDBUFFORCE, &send_buffer, sizeof send_buffer) != 0) {
    (void)::setsockopt(tx_fd_.get(), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
  }
  const std::size_t per_block = kTxBlockSize / options_.tx_frame_size;
  tpacket_req tx{};
  tx.tp_block_size = kTxBlockSize;
  tx.tp_block_nr = static_cast<unsigned>((options_.tx_frame_count + per_block - 1) / per_block);
  tx.tp_frame_size = options_.tx_frame_size;
  tx.tp_frame_nr = static_cast<unsigned>(tx.tp_block_nr * per_block);
  if (::setsockopt(tx_fd_.get(), SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx) != 0) {
    throw_errno("PACKET_TX_RING (" + where + ")");
  }
  options_.tx_frame_count = tx.tp_frame_nr;
  tx_.size = std::size_t{tx.tp_block_size} * tx.tp_block_nr;
  tx_.base = ::mmap(nullptr, tx_.size, PROT_READ | PROT_WRITE, MAP_SHARED, tx_fd_.get(), 0);
  if (tx_.base == MAP_FAILED) {
    tx_.base = nullptr;
    throw_errno("mmap transmit ring (" + where + ")");
  }
  netlink_ = std::make_unique<detail::Netlink>();
  // The TTL the UDP sockets would use (this namespace's sysctl).
  std::ifstream ttl_file("/proc/sys/net/ipv4/ip_default_ttl");
  int ttl = 0;
  if (ttl_file >> ttl && ttl >= 1 && ttl <= 255) default_ttl_ = static_cast<std::uint8_t>(ttl);
}

PacketRing::Mapping::~Mapping() {
  if (base != nullptr) ::munmap(base, size);
}

PacketRing::~PacketRing() = default;

std::size_t PacketRing::receive_blocks(Callback callback, void* context) noexcept {
  auto* base = static_cast<std::uint8_t*>(rx_.base);
  std::size_t blocks = 0;
  for (; blocks < options_.rx_block_count; ++blocks) {
    auto* block = base + rx_next_block_ * options_.rx_block_size;
    auto* desc = reinterpret_cast<tpacket_block_desc*>(block);
    // The kernel hands a block over by setting TP_STATUS_USER (after its
    // frames are written: acquire) and takes it back when we clear it.
    if ((__atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) break;
    read_block(block, callback, context);
    __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    rx_next_block_ = (rx_next_block_ + 1) % options_.rx_block_count;
  }
  return blocks;
}

void PacketRing::read_block(const std::uint8_t* block, Callback callback, void* context) noexcept {
  const auto* desc = reinterpret_cast<const tpacket_block_desc*>(block);
  const std::size_t block_size = options_.rx_block_size;
  std::size_t offset = desc->hdr.bh1.offset_to_first_pkt;
  const std::uint32_t count = desc->hdr.bh1.num_pkts;
  for (std::uint32_t i = 0; i < count; ++i) {
    // Every offset and length the kernel wrote is checked against the block
    // before it is followed.
    if (offset < sizeof(tpacket_block_desc) || offset > block_size - sizeof(tpacket3_hdr)) return;
    const auto* h = reinterpret_cast<const tpacket3_hdr*>(block + offset);
    ++stats_.frames_in;
    const std::size_t room = block_size - offset;
    if (h->tp_mac > room || h->tp_snaplen > room - h->tp_mac || h->tp_snaplen < h->tp_len) {
      ++stats_.cut;
    } else {
      const wire::Bytes frame(block + offset + h->tp_mac, h->tp_snaplen);
      auto carrier = wire::find_udp_carrier(wire::LinkType::ethernet, frame);
      if (!carrier || carrier->ipv6 || carrier->tunnel_depth != 0 || be16(frame.data() + 12) != ETH_P_IP) {
        ++stats_.not_ours;
      } else if (carrier->payload_truncated) {
        ++stats_.cut;
      } else {
        // find_udp_carrier read the IPv4 header and the whole UDP datagram
        // from these bytes, so both lie inside the frame.
        const wire::Bytes ip = frame.subspan(wire::kEthernetHeaderSize);
        const std::size_t header_length = std::size_t{ip[0] & 0x0Fu} * 4;
        const wire::Bytes udp = ip.subspan(header_length, carrier->udp_length);
        const node::UdpEndpoint to{carrier->destination4, carrier->destination_port};
        const node::UdpEndpoint* local = nullptr;
        for (const auto& l : options_.locals) {
          if (l == to) local = &l;
        }
        // TP_STATUS_CSUMNOTREADY: a frame from this host's own stack whose
        // UDP checksum the kernel has not filled in yet (offloaded); the
        // kernel's UDP layer accepts those unchecked, and so do we.
        const bool udp_unchecked = (h->tp_status & TP_STATUS_CSUMNOTREADY) != 0;
        if (local == nullptr || (ip[6] & 0x20) != 0) {
          ++stats_.not_ours;
        } else if (!ipv4_header_checksum_ok(ip.first(header_length)) ||
                   (!udp_unchecked && !udp_checksum_ok(carrier->source4, carrier->destination4, udp))) {
          ++stats_.bad_checksum;
        } else {
          RingDatagram d{*local, node::UdpEndpoint{carrier->source4, carrier->source_port}, carrier->payload, {}};
          std::memcpy(d.source_mac.data(), frame.data() + 6, d.source_mac.size());
          callback(context, d);
        }
      }
    }
    if (h->tp_next_offset == 0) return;
    offset += h->tp_next_offset;
  }
}

bool PacketRing::next_hop_mac(node::Time now, wire::Ipv4Address destination, wire::MacAddress& mac) noexcept {
  NextHop& slot = next_hops_[(destination.value * 2654435761u) % next_hops_.size()];
  if (!slot.valid || !(slot.destination == destination) || now >= slot.expires) {
    slot = NextHop{destination, now, true, false, {}};
    detail::Netlink::Ipv4Route route;
    detail::Netlink::Neighbour neighbour;
    // Only what the kernel itself would use: a route through our interface
    // and a neighbour entry that is valid (not INCOMPLETE or FAILED).
    constexpr std::uint16_t kUsable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;
    if (netlink_->ipv4_route(destination, route) == 0 && route.ifindex == ifindex_ &&
        netlink_->ipv4_neighbour(ifindex_, route.next_hop, neighbour) == 0 && neighbour.has_mac &&
        (neighbour.state & kUsable) != 0) {
      slot.known = true;
      slot.mac = neighbour.mac;
    }
    slot.expires = now + (slot.known ? options_.next_hop_lifetime : options_.unknown_next_hop_lifetime);
  }
  mac = slot.mac;
  return slot.known;
}

bool PacketRing::queue(node::Time now, node::UdpEndpoint from, node::UdpEndpoint to, wire::Bytes payload,
                       std::uint8_t ttl) noexcept {
  bool ours = false;
  for (const auto& l : options_.locals) ours = ours || l == from;
  const std::size_t ip_length = wire::kIpv4UdpHeadersSize + payload.size();
  wire::EthernetAddresses macs{{}, own_mac_};
  auto* frame = static_cast<std::uint8_t*>(tx_.base) + tx_next_frame_ * options_.tx_frame_size;
  auto* h = reinterpret_cast<tpacket2_hdr*>(frame);
  // A longer datagram would need fragments: the socket path makes them.
  if (!ours || ip_length > mtu_ ||
      kTxDataOffset + wire::kEthernetHeaderSize + ip_length > options_.tx_frame_size ||
      !next_hop_mac(now, to.address, macs.destination)) {
    ++stats_.not_queued;
    return false;
  }
  // The next frame is ours again once the kernel has sent it (AVAILABLE).
  const std::uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
  if (status != TP_STATUS_AVAILABLE && status != TP_STATUS_WRONG_FORMAT) {
    ++stats_.not_queued;
    return false;
  }
  const wire::Ipv4UdpEndpoints e{from.address, from.port, to.address, to.port, ttl != 0 ? ttl : default_ttl_,
                                 identification_++};
  const std::size_t length = wire::write_ethernet_ipv4_udp(
      std::span<std::uint8_t>(frame + kTxDataOffset, options_.tx_frame_size - kTxDataOffset), macs, e, payload);
  if (length == 0) {
    ++stats_.not_queued;
    return false;
  }
  h->tp_len = static_cast<std::uint32_t>(length);
  __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
  tx_next_frame_ = (tx_next_frame_ + 1) % options_.tx_frame_count;
  ++tx_pending_;
  ++stats_.sent;
  return true;
}

int PacketRing::flush() noexcept {
  if (tx_pending_ == 0) return 0;
  tx_pending_ = 0;
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = ifindex_;
  // Non-blocking: the kernel sends every frame marked SEND_REQUEST and
  // returns. A transient shortage (EAGAIN, ENOBUFS) is retried a few times;
  // frames still marked go with the next flush.
  int error = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (::sendto(tx_fd_.get(), nullptr, 0, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0) {
      return 0;
    }
    error = errno;
    if (error != EINTR && error != EAGAIN && error != ENOBUFS) break;
  }
  return error;
}

PacketRingStats PacketRing::stats() noexcept {
  tpacket_stats_v3 kernel{};
  socklen_t length = sizeof kernel;
  if (::getsockopt(rx_fd_.get(), SOL_PACKET, PACKET_STATISTICS, &kernel, &length) == 0) {
    stats_.ring_full += kernel.tp_drops;
  }
  return stats_;
}

}  // namespace teredo::io
