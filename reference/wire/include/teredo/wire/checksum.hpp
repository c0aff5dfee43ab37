// The one Internet checksum routine (RFC 1071) of the project: ICMPv6 over its
// IPv6 pseudo-header, UDP over IPv4 or IPv6, and the IPv4 header all use it.
#pragma once

#include <cstdint>

#include "teredo/wire/bytes.hpp"

namespace teredo::wire {

class ChecksumAccumulator {
 public:
  // Adds bytes as big-endian 16-bit words. An odd-length chunk is padded with
  // a zero byte, so only the last chunk of a message may have odd length.
  void add(Bytes bytes) noexcept;
  void add_u16(std::uint16_t v) noexcept { sum_ += v; }
  void add_u32(std::uint32_t v) noexcept { sum_ += (v >> 16) + (v & 0xFFFF); }
  // The one's complement of the folded sum: the value to put in the field, or,
  // over a message that already holds its checksum, 0 when it is correct.
  [[nodiscard]] std::uint16_t finish() const noexcept;

 private:
  std::uint64_t sum_ = 0;
};

}  // namespace teredo::wire
