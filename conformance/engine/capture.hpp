// Evidence at a vantage point: a live libpcap capture of one interface inside
// a lab namespace, full snaplen (ANCHORS.md §4: never truncate Teredo),
// streamed to a pcap file as it arrives. Memory holds only an index (where
// each frame lies in the file, when it arrived); what a case reads comes back
// from the file. The file is capped: once it would pass `cap_bytes`, later
// frames are counted but not kept, so an IUT that floods the lab costs
// neither memory nor disk beyond the cap.
// Frame numbers are 1-based as Wireshark shows them, so a verdict can cite them.
#pragma once

#include <pcap/pcap.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/frame.hpp"

namespace teredo::conformance {

struct CapturedFrame {
  std::uint64_t number = 0;
  std::chrono::steady_clock::time_point at;  // when the kernel captured it (captured_at)
  wire::ByteVector data;
};

// When a frame was captured, on the steady clock: its kernel timestamp
// (`captured`, on the realtime clock) moved by the realtime-to-steady offset
// read at `system_now` / `steady_now`, the moment the capture thread reads
// it. The thread may read a frame late (two cores, many labs): the time it
// read the frame would shorten the gap after it and lengthen the one before
// by that lag, and cases measure gaps (bubble spacing, refresh periods). A
// timestamp after `system_now` or more than 5 s before it is a realtime
// clock step, not a lag: the read time is used then.
std::chrono::steady_clock::time_point captured_at(std::chrono::system_clock::time_point captured,
                                                  std::chrono::system_clock::time_point system_now,
                                                  std::chrono::steady_clock::time_point steady_now);

class Capture {
 public:
  static constexpr std::uint64_t kDefaultCapBytes = std::uint64_t{64} << 20;

  // Starts capturing `ifname` in `netns` into `pcap_path`, at most
  // `cap_bytes` of file. Throws std::runtime_error naming the problem.
  Capture(std::string vantage, const std::string& netns, const std::string& ifname, std::string pcap_path,
          std::uint64_t cap_bytes = kDefaultCapBytes);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  void stop();
  [[nodiscard]] const std::string& vantage() const noexcept { return vantage_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] wire::LinkType link_type() const noexcept { return link_type_; }
  [[nodiscard]] std::uint64_t cap_bytes() const noexcept { return cap_bytes_; }
  // Frames in the file.
  [[nodiscard]] std::uint64_t count() const;
  // Frames seen once the file was full, not kept (0: the cap was not hit).
  [[nodiscard]] std::uint64_t dropped() const;
  // Why the file could not be written (empty: it could); frames from then on
  // are not kept.
  [[nodiscard]] std::string write_error() const;
  // The first frame after `after` (a frame number; 0 = from the start) that
  // `match` accepts, waiting up to `timeout`.
  std::optional<CapturedFrame> wait_for(const std::function<bool(const CapturedFrame&)>& match,
                                        std::chrono::milliseconds timeout, std::uint64_t after = 0) const;
  // Every frame after `after` that `match` accepts, as captured so far.
  std::vector<CapturedFrame> frames(const std::function<bool(const CapturedFrame&)>& match,
                                    std::uint64_t after = 0) const;

 private:
  struct Entry {
    std::uint64_t offset = 0;  // of the frame's bytes in the file
    std::uint32_t length = 0;
    std::chrono::steady_clock::time_point at;
  };
  void loop();
  // Entries [from, end) as they stand, copied under the lock.
  std::vector<Entry> entries(std::size_t from, std::size_t& end) const;
  CapturedFrame read(std::uint64_t number, const Entry& entry) const;

  std::string vantage_, path_;
  std::uint64_t cap_bytes_;
  pcap_t* handle_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  int read_fd_ = -1;
  wire::LinkType link_type_ = wire::LinkType::ethernet;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<Entry> index_;
  std::uint64_t file_bytes_ = 0;  // written so far (capture thread only)
  std::uint64_t dropped_ = 0;
  bool full_ = false;
  std::string write_error_;
  std::thread thread_;
};

}  // namespace teredo::conformance
