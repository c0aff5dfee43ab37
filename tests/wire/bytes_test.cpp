// Bounds-checked reading and writing (bytes.hpp), and the hex helpers.
#include <gtest/gtest.h>

#include <string>

#include "teredo/wire/bytes.hpp"

namespace teredo::wire {
namespace {

TEST(Hex, ToHexIsLowerCaseWithoutSeparators) {
  const ByteVector b = {0x00, 0x01, 0xAB, 0xFF, 0x7e};
  EXPECT_EQ(to_hex(b), "0001abff7e");
  EXPECT_EQ(to_hex({}), "");
}

TEST(Hex, FromHexAcceptsPastedDumps) {
  ByteVector out;
  ASSERT_TRUE(from_hex("0001abFF7E", out));
  EXPECT_EQ(out, (ByteVector{0x00, 0x01, 0xAB, 0xFF, 0x7E}));
  ASSERT_TRUE(from_hex("0x60 00:00\t00\r\n3b", out));
  EXPECT_EQ(out, (ByteVector{0x60, 0x00, 0x00, 0x00, 0x3b}));
  ASSERT_TRUE(from_hex("0X0a", out));
  EXPECT_EQ(out, (ByteVector{0x0a}));
  ASSERT_TRUE(from_hex("", out));
  EXPECT_TRUE(out.empty());
}

TEST(Hex, FromHexRejectsMalformedTextAndClearsOutput) {
  ByteVector out = {1, 2, 3};
  EXPECT_FALSE(from_hex("abc", out));       // odd number of digits
  EXPECT_FALSE(from_hex("0 1", out));       // separator inside a byte
  EXPECT_FALSE(from_hex("zz", out));        // not hex
  EXPECT_FALSE(from_hex("00-11", out));     // unknown separator
  EXPECT_FALSE(from_hex("00 0x11", out));   // 0x only at the start
  out = {1, 2, 3};
  EXPECT_TRUE(from_hex("ff", out));
  EXPECT_EQ(out, (ByteVector{0xFF}));       // replaced, not appended
}

TEST(ByteReader, ReadsBigEndianAndStopsAtTheEnd) {
  const ByteVector data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  ByteReader r(data);
  std::uint8_t u8 = 0;
  std::uint16_t u16 = 0;
  std::uint32_t u32 = 0;
  ASSERT_TRUE(r.peek_u8(u8));
  EXPECT_EQ(u8, 0x01);
  ASSERT_TRUE(r.peek_u16(u16));
  EXPECT_EQ(u16, 0x0102);
  EXPECT_EQ(r.position(), 0u);
  ASSERT_TRUE(r.u16(u16));
  EXPECT_EQ(u16, 0x0102);
  ASSERT_TRUE(r.u32(u32));
  EXPECT_EQ(u32, 0x03040506u);
  EXPECT_EQ(r.remaining(), 1u);
  // Short reads fail and leave the reader where it was.
  EXPECT_FALSE(r.u16(u16));
  EXPECT_FALSE(r.u32(u32));
  EXPECT_FALSE(r.skip(2));
  Bytes taken;
  EXPECT_FALSE(r.take(2, taken));
  std::uint8_t two[2] = {};
  EXPECT_FALSE(r.copy(two));
  EXPECT_EQ(r.position(), 6u);
  ASSERT_TRUE(r.u8(u8));
  EXPECT_EQ(u8, 0x07);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_FALSE(r.u8(u8));
  EXPECT_FALSE(r.peek_u8(u8));
  EXPECT_TRUE(r.rest().empty());
  EXPECT_TRUE(r.skip(0));
  EXPECT_TRUE(r.take(0, taken));
}

TEST(ByteReader, TakeCopyAndSkip) {
  const ByteVector data = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5};
  ByteReader r(data);
  Bytes taken;
  ASSERT_TRUE(r.take(2, taken));
  EXPECT_EQ(taken.data(), data.data());
  EXPECT_EQ(taken.size(), 2u);
  std::uint8_t out[2] = {};
  ASSERT_TRUE(r.copy(out));
  EXPECT_EQ(out[0], 0xA2);
  EXPECT_EQ(out[1], 0xA3);
  ASSERT_TRUE(r.skip(1));
  EXPECT_EQ(r.rest().size(), 1u);
  EXPECT_EQ(r.rest()[0], 0xA5);
  ByteVector span_out(1);
  ASSERT_TRUE(r.copy(std::span<std::uint8_t>(span_out)));
  EXPECT_EQ(span_out[0], 0xA5);
}

TEST(ByteWriter, WritesBigEndianAndPatches) {
  ByteVector out;
  ByteWriter w(out);
  w.u8(0x01);
  w.u16(0x0203);
  w.u32(0x04050607);
  w.zeros(2);
  const ByteVector tail = {0xEE};
  w.bytes(tail);
  EXPECT_EQ(w.size(), 10u);
  w.patch_u16(7, 0xBEEF);
  EXPECT_EQ(out, (ByteVector{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xBE, 0xEF, 0xEE}));
}

}  // namespace
}  // namespace teredo::wire
