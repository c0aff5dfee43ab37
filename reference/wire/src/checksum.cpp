#include "teredo/wire/checksum.hpp"

#include "internal.hpp"

namespace teredo::wire {

void ChecksumAccumulator::add(Bytes bytes) noexcept {
  // 64-bit native words with end-around carry, folded and put in big-endian
  // word order (internal.hpp explains why the result is the same as summing
  // big-endian 16-bit words). Each chunk adds at most 0xFFFF to sum_.
  sum_ += detail::fold_native(detail::add_native(0, bytes.data(), bytes.size()));
}

std::uint16_t ChecksumAccumulator::finish() const noexcept {
  std::uint64_t sum = sum_;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

std::uint16_t checksum_update(std::uint16_t checksum, Bytes old_bytes, Bytes new_bytes) noexcept {
  // ~HC + ~m + m' summed as 16-bit big-endian words, then folded: the
  // difference of the new and old words added to the complemented checksum.
  std::uint64_t sum = static_cast<std::uint16_t>(~checksum);
  const std::size_t n = old_bytes.size() < new_bytes.size() ? old_bytes.size() : new_bytes.size();
  for (std::size_t i = 0; i < n; i += 2) {
    const std::uint16_t old_word = static_cast<std::uint16_t>(
        (old_bytes[i] << 8) | (i + 1 < n ? old_bytes[i + 1] : 0));
    const std::uint16_t new_word = static_cast<std::uint16_t>(
        (new_bytes[i] << 8) | (i + 1 < n ? new_bytes[i + 1] : 0));
    sum += static_cast<std::uint16_t>(~old_word);
    sum += new_word;
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

}  // namespace teredo::wire
