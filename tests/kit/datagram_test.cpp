// The kit's captured datagram owns its bytes: its views point into its own
// storage only, whatever copies and moves it went through (the relay's old
// copies kept views into the destroyed original).
#include "kit/datagram.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "kit_frames.hpp"

namespace teredo::conformance::kit {
namespace {

using namespace teredo::wire;

// True when every view of `d` points into d.bytes.
bool views_inside(const CapturedDatagram& d) {
  const auto* begin = d.bytes.data();
  const auto* end = begin + d.bytes.size();
  const auto inside = [&](Bytes b) { return b.empty() || (b.data() >= begin && b.data() + b.size() <= end); };
  if (!inside(d.carrier.payload)) return false;
  if (d.datagram && (!inside(d.datagram->ipv6.packet) || !inside(d.datagram->ipv6.payload))) return false;
  return true;
}

CapturedDatagram bubble(std::uint64_t number) {
  const ByteVector packet = bubble_packet(ipv6("2001:0:cb00:7101::1"), ipv6("2001:0:cb00:7101::2"));
  const auto d = CapturedDatagram::parse(test::udp_frame(number, "203.0.113.1", 3544, "198.51.100.7", 40001, packet),
                                         LinkType::ethernet, "driver");
  if (!d) throw std::runtime_error("the synthetic bubble does not parse");
  return *d;
}

TEST(CapturedDatagram, ParsesCarrierAndTeredo) {
  const CapturedDatagram d = bubble(4);
  EXPECT_EQ(d.frame, 4u);
  EXPECT_EQ(d.carrier.source_port, 3544);
  ASSERT_TRUE(d.datagram.has_value());
  EXPECT_TRUE(is_bubble(d.datagram->ipv6));
  EXPECT_EQ(d.datagram->ipv6.header.destination, ipv6("2001:0:cb00:7101::2"));
  EXPECT_TRUE(views_inside(d));
}

TEST(CapturedDatagram, CopyOwnsItsBytesAfterTheOriginalDies) {
  auto original = std::make_unique<CapturedDatagram>(bubble(7));
  CapturedDatagram copy(*original);
  CapturedDatagram assigned;
  assigned = *original;
  // Scribble over the original's storage, then destroy it: a copy that kept
  // views into it would read garbage (and ASan would report a use after free).
  std::fill(original->bytes.begin(), original->bytes.end(), std::uint8_t{0xEE});
  original.reset();
  for (const CapturedDatagram* d : {&copy, &assigned}) {
    EXPECT_TRUE(views_inside(*d));
    ASSERT_TRUE(d->datagram.has_value());
    EXPECT_EQ(d->datagram->ipv6.header.source, ipv6("2001:0:cb00:7101::1"));
    EXPECT_EQ(d->carrier.destination4, ipv4("198.51.100.7"));
    EXPECT_EQ(d->frame, 7u);
  }
}

TEST(CapturedDatagram, CopiesInsideOptionalsAndVectorsStayValid) {
  std::optional<CapturedDatagram> kept;
  std::vector<CapturedDatagram> all;
  {
    const auto local = std::optional<CapturedDatagram>(bubble(9));
    kept = local;  // the relay's Contact did this with a local that then died
    for (int i = 0; i < 20; ++i) all.push_back(*local);  // reallocations move them
  }
  ASSERT_TRUE(kept && kept->datagram);
  EXPECT_TRUE(views_inside(*kept));
  for (const auto& d : all) EXPECT_TRUE(views_inside(d));
  const CapturedDatagram moved = std::move(*kept);
  EXPECT_TRUE(views_inside(moved));
  EXPECT_EQ(moved.datagram->ipv6.header.destination, ipv6("2001:0:cb00:7101::2"));
}

TEST(CapturedDatagram, NotUdpIsNullopt) {
  CapturedFrame f{1, {}, ByteVector(60, 0)};
  EXPECT_FALSE(CapturedDatagram::parse(f, LinkType::ethernet).has_value());
}

TEST(CapturedDatagram, AcceptsRfc6081TrailersEverywhere) {
  ByteVector payload = bubble_packet(ipv6("2001:0:cb00:7101::1"), ipv6("2001:0:cb00:7101::2"));
  const std::uint8_t trailer[] = {0x01, 0x04, 0xde, 0xad, 0xbe, 0xef};  // a nonce trailer
  payload.insert(payload.end(), std::begin(trailer), std::end(trailer));
  const auto d = CapturedDatagram::parse(test::udp_frame(2, "192.0.2.10", 3544, "198.51.100.7", 3544, payload),
                                         LinkType::ethernet, "lan");
  ASSERT_TRUE(d && d->datagram);
  EXPECT_TRUE(same(d->datagram->ipv6.trailer, Bytes(trailer, sizeof trailer)));
  EXPECT_TRUE(static_cast<bool>(parse_teredo_payload(payload)));
  // The RFC 4380 reading alone refuses it: the kit's one policy is the lenient one.
  EXPECT_FALSE(static_cast<bool>(parse_datagram(payload)));
}

TEST(CapturedDatagram, DescribeNamesKindEndpointsAndFrame) {
  const std::string text = describe(bubble(12));
  EXPECT_NE(text.find("bubble 2001:0:cb00:7101::1 -> 2001:0:cb00:7101::2"), std::string::npos) << text;
  EXPECT_NE(text.find("from 203.0.113.1:3544 to 198.51.100.7:40001"), std::string::npos) << text;
  EXPECT_NE(text.find("(driver frame 12)"), std::string::npos) << text;
  EXPECT_EQ(frame_ref(bubble(12)).capture, "driver.pcap");
}

TEST(CapturedDatagram, FramesOfSkipsUnseen) {
  const auto refs = frames_of("lan", {3, 0, 5});
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].capture, "lan.pcap");
  EXPECT_EQ(refs[1].frame, 5u);
}

}  // namespace
}  // namespace teredo::conformance::kit
