// Evidence at a vantage point: a live libpcap capture of one interface inside
// a lab namespace, full snaplen (ANCHORS.md §4: never truncate Teredo), kept
// in memory for the case to judge from and written to a pcap file for people.
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
  std::chrono::steady_clock::time_point at;
  wire::ByteVector data;
};

class Capture {
 public:
  // Starts capturing `ifname` in `netns` into `pcap_path`. Throws
  // std::runtime_error naming the problem.
  Capture(std::string vantage, const std::string& netns, const std::string& ifname, std::string pcap_path);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  void stop();
  [[nodiscard]] const std::string& vantage() const noexcept { return vantage_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] wire::LinkType link_type() const noexcept { return link_type_; }
  [[nodiscard]] std::uint64_t count() const;
  // The first frame after `after` (a frame number; 0 = from the start) that
  // `match` accepts, waiting up to `timeout`.
  std::optional<CapturedFrame> wait_for(const std::function<bool(const CapturedFrame&)>& match,
                                        std::chrono::milliseconds timeout, std::uint64_t after = 0) const;
  // Every frame after `after` that `match` accepts, as captured so far.
  std::vector<CapturedFrame> frames(const std::function<bool(const CapturedFrame&)>& match,
                                    std::uint64_t after = 0) const;

 private:
  void loop();

  std::string vantage_, path_;
  pcap_t* handle_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  wire::LinkType link_type_ = wire::LinkType::ethernet;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<CapturedFrame> frames_;
  std::thread thread_;
};

}  // namespace teredo::conformance
