// The packet ring's classic BPF program (io::udp_endpoint_filter), run on
// frames by a tiny interpreter of the few instructions it uses (label unit:
// no privileges). The lab test (ref_ring_lab_test) shows the kernel running
// it; this one covers the frames a lab cannot easily produce (fragments,
// IPv4 options, other hosts' frames).
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/if_packet.h>

#include <optional>

#include "teredo/io/packet_ring.hpp"
#include "teredo/wire/frame.hpp"

namespace teredo::io {
namespace {

// Runs `program` the way the kernel's classic BPF does for a packet socket
// (offsets from the link-layer header; a load past the frame ends the
// program with 0); `pkttype` is what SKF_AD_PKTTYPE reads. An instruction
// this interpreter does not know fails the test.
std::uint32_t run(const std::vector<sock_filter>& program, wire::Bytes frame, std::uint32_t pkttype) {
  std::uint32_t a = 0, x = 0;
  const auto load = [&](std::uint32_t at, std::size_t size) -> std::optional<std::uint32_t> {
    if (at > frame.size() || size > frame.size() - at) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < size; ++i) v = (v << 8) | frame[at + i];
    return v;
  };
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& i = program[pc];
    switch (i.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (i.k == static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)) {
          a = pkttype;
          break;
        }
        if (auto v = load(i.k, 4)) { a = *v; break; }
        return 0;
      case BPF_LD | BPF_H | BPF_ABS:
        if (auto v = load(i.k, 2)) { a = *v; break; }
        return 0;
      case BPF_LD | BPF_B | BPF_ABS:
        if (auto v = load(i.k, 1)) { a = *v; break; }
        return 0;
      case BPF_LD | BPF_H | BPF_IND:
        if (auto v = load(x + i.k, 2)) { a = *v; break; }
        return 0;
      case BPF_LDX | BPF_B | BPF_MSH:
        if (auto v = load(i.k, 1)) { x = (*v & 0x0F) * 4; break; }
        return 0;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += a == i.k ? i.jt : i.jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (a & i.k) != 0 ? i.jt : i.jf;
        break;
      case BPF_RET | BPF_K:
        return i.k;
      default:
        ADD_FAILURE() << "instruction " << i.code << " at " << pc;
        return 0;
    }
  }
  ADD_FAILURE() << "the program ran off its end";
  return 0;
}

const node::UdpEndpoint kPrimary{wire::Ipv4Address::from_octets(203, 0, 113, 1), 3544};
const node::UdpEndpoint kSecondary{wire::Ipv4Address::from_octets(203, 0, 113, 2), 3544};

wire::ByteVector frame_to(node::UdpEndpoint to) {
  wire::Ipv4UdpEndpoints e;
  e.source = wire::Ipv4Address::from_octets(198, 51, 100, 7);
  e.source_port = 40000;
  e.destination = to.address;
  e.destination_port = to.port;
  return wire::build_ethernet_ipv4_udp(e, wire::ByteVector(48, 0x60));
}

class PacketFilterTest : public ::testing::Test {
 protected:
  const std::vector<node::UdpEndpoint> locals_{kPrimary, kSecondary};
  const std::vector<sock_filter> program_ = udp_endpoint_filter(locals_);
  bool accepts(const wire::ByteVector& frame, std::uint32_t pkttype = PACKET_HOST) const {
    return run(program_, frame, pkttype) != 0;
  }
};

TEST_F(PacketFilterTest, LetsInUdpToEitherEndpoint) {
  EXPECT_TRUE(accepts(frame_to(kPrimary)));
  EXPECT_TRUE(accepts(frame_to(kSecondary)));
  // The whole frame is kept (the return value is the snap length).
  EXPECT_GE(run(program_, frame_to(kPrimary), PACKET_HOST), 65535u);
}

TEST_F(PacketFilterTest, KeepsOutOtherPortsAddressesAndHosts) {
  EXPECT_FALSE(accepts(frame_to({kPrimary.address, 3545})));
  EXPECT_FALSE(accepts(frame_to({kSecondary.address, 53})));
  EXPECT_FALSE(accepts(frame_to({wire::Ipv4Address::from_octets(203, 0, 113, 3), 3544})));
  EXPECT_FALSE(accepts(frame_to(kPrimary), PACKET_OTHERHOST));
  EXPECT_FALSE(accepts(frame_to(kPrimary), PACKET_OUTGOING));
  EXPECT_FALSE(accepts(frame_to(kPrimary), PACKET_BROADCAST));
}

TEST_F(PacketFilterTest, KeepsOutFragmentsOtherProtocolsAndTruncatedFrames) {
  wire::ByteVector f = frame_to(kPrimary);
  f[14 + 6] = 0x20;  // MF: a first fragment
  EXPECT_FALSE(accepts(f));
  f = frame_to(kPrimary);
  f[14 + 7] = 0x01;  // offset 8: a later fragment
  EXPECT_FALSE(accepts(f));
  f = frame_to(kPrimary);
  f[14 + 6] = 0x40;  // DF alone is no fragment
  EXPECT_TRUE(accepts(f));
  f = frame_to(kPrimary);
  f[14 + 9] = 6;  // TCP
  EXPECT_FALSE(accepts(f));
  f = frame_to(kPrimary);
  f[12] = 0x86;  // EtherType IPv6
  f[13] = 0xDD;
  EXPECT_FALSE(accepts(f));
  f = frame_to(kPrimary);
  f.resize(14 + 20 + 2);  // the destination port is cut off
  EXPECT_FALSE(accepts(f));
}

TEST_F(PacketFilterTest, FindsThePortBehindIpv4Options) {
  // IHL 6: four bytes of options (NOPs) move the UDP header.
  wire::ByteVector f = frame_to(kPrimary);
  f.insert(f.begin() + 14 + 20, {1, 1, 1, 1});
  f[14] = 0x46;
  EXPECT_TRUE(accepts(f));
  f = frame_to({kPrimary.address, 3545});
  f.insert(f.begin() + 14 + 20, {1, 1, 0x0D, 0xD8});  // 3544 where the port would be without options
  f[14] = 0x46;
  EXPECT_FALSE(accepts(f));
}

TEST(PacketFilter, RefusesNoOrTooManyEndpoints) {
  EXPECT_THROW(udp_endpoint_filter({}), IoError);
  const std::vector<node::UdpEndpoint> many(41, kPrimary);
  EXPECT_THROW(udp_endpoint_filter(many), IoError);
  const std::vector<node::UdpEndpoint> most(40, kPrimary);
  EXPECT_NO_THROW(udp_endpoint_filter(most));
}

}  // namespace
}  // namespace teredo::io
