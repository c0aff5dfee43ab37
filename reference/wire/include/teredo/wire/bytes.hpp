// Bounds-checked big-endian reading over a span, and appending writes into a
// byte vector. Every parser in wire reads through ByteReader, so no parser can
// read past its buffer: a short read returns false and leaves the reader as is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace teredo::wire {

using Bytes = std::span<const std::uint8_t>;
using ByteVector = std::vector<std::uint8_t>;

class ByteReader {
 public:
  explicit ByteReader(Bytes data) noexcept : data_(data) {}

  [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }
  [[nodiscard]] std::size_t position() const noexcept { return pos_; }
  [[nodiscard]] Bytes rest() const noexcept { return data_.subspan(pos_); }

  // Peeks without consuming; false when fewer than the needed bytes remain.
  [[nodiscard]] bool peek_u8(std::uint8_t& out) const noexcept {
    if (remaining() < 1) return false;
    out = data_[pos_];
    return true;
  }
  [[nodiscard]] bool peek_u16(std::uint16_t& out) const noexcept {
    if (remaining() < 2) return false;
    out = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    return true;
  }
  [[nodiscard]] bool u8(std::uint8_t& out) noexcept {
    if (!peek_u8(out)) return false;
    pos_ += 1;
    return true;
  }
  [[nodiscard]] bool u16(std::uint16_t& out) noexcept {
    if (!peek_u16(out)) return false;
    pos_ += 2;
    return true;
  }
  [[nodiscard]] bool u32(std::uint32_t& out) noexcept {
    if (remaining() < 4) return false;
    out = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
          (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return true;
  }
  [[nodiscard]] bool take(std::size_t n, Bytes& out) noexcept {
    if (remaining() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  template <std::size_t N>
  [[nodiscard]] bool copy(std::uint8_t (&out)[N]) noexcept {
    if (remaining() < N) return false;
    std::memcpy(out, data_.data() + pos_, N);
    pos_ += N;
    return true;
  }
  [[nodiscard]] bool copy(std::span<std::uint8_t> out) noexcept {
    if (remaining() < out.size()) return false;
    if (!out.empty()) std::memcpy(out.data(), data_.data() + pos_, out.size());
    pos_ += out.size();
    return true;
  }
  [[nodiscard]] bool skip(std::size_t n) noexcept {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  Bytes data_;
  std::size_t pos_ = 0;
};

class ByteWriter {
 public:
  explicit ByteWriter(ByteVector& out) noexcept : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void bytes(Bytes b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
  [[nodiscard]] std::size_t size() const noexcept { return out_.size(); }
  // Overwrites two bytes already written (lengths and checksums known late).
  void patch_u16(std::size_t at, std::uint16_t v) {
    out_.at(at) = static_cast<std::uint8_t>(v >> 8);
    out_.at(at + 1) = static_cast<std::uint8_t>(v);
  }

 private:
  ByteVector& out_;
};

// Lower-case hex without separators, and its inverse (spaces, colons and a
// leading 0x are tolerated so people can paste tshark or Wireshark dumps).
std::string to_hex(Bytes bytes);
bool from_hex(std::string_view text, ByteVector& out);

}  // namespace teredo::wire
