// Capture files through libpcap: a reader that yields frames with their link
// type, and a writer for captures of our own packets (full snaplen: evidence
// must never be cut, see ../shared/ANCHORS.md §4).
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "teredo/wire/bytes.hpp"

namespace teredo::capture {

struct Frame {
  std::uint64_t number = 0;  // 1-based, as Wireshark counts
  std::int64_t timestamp_us = 0;
  std::uint32_t original_length = 0;
  wire::Bytes data;  // valid until the next call to next()
};

// Thrown only at construction (file missing, not a capture): the CLI edge turns
// it into one error line. Reading frames reports errors as values.
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PcapReader {
 public:
  explicit PcapReader(const std::string& path);
  [[nodiscard]] std::uint32_t link_type() const noexcept { return link_type_; }
  enum class Status { frame, end, error };
  // On Status::error, error() says what libpcap reported (e.g. a truncated file).
  Status next(Frame& frame);
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  struct Closer {
    void operator()(pcap_t* p) const noexcept { pcap_close(p); }
  };
  std::unique_ptr<pcap_t, Closer> handle_;
  std::uint32_t link_type_ = 0;
  std::uint64_t count_ = 0;
  std::string error_;
};

class PcapWriter {
 public:
  PcapWriter(const std::string& path, std::uint32_t link_type);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  void write(std::int64_t timestamp_us, wire::Bytes frame);
  void close();

 private:
  pcap_t* dead_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
};

}  // namespace teredo::capture
