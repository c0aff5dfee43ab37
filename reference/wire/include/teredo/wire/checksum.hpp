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

// RFC 1624 eqn. 3: the checksum of a message after some of its bytes changed
// from `old_bytes` to `new_bytes` (same length, starting on a 16-bit word of
// the message), computed from the old checksum alone. A checksum that was
// wrong stays wrong by the same amount: a NAT rewriting addresses must not
// repair a corrupt packet that a conformance case sent on purpose.
std::uint16_t checksum_update(std::uint16_t checksum, Bytes old_bytes, Bytes new_bytes) noexcept;

}  // namespace teredo::wire
