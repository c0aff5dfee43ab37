#include "engine/capture.hpp"

#include <stdexcept>

#include "teredo/netns/process.hpp"

namespace teredo::conformance {

Capture::Capture(std::string vantage, const std::string& netns, const std::string& ifname, std::string pcap_path)
    : vantage_(std::move(vantage)), path_(std::move(pcap_path)) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  {
    // The capture socket is created inside the namespace and stays there.
    netns::NetnsGuard guard(netns);
    handle_ = pcap_create(ifname.c_str(), errbuf);
    if (handle_ == nullptr) throw std::runtime_error("capture " + vantage_ + ": " + errbuf);
    pcap_set_snaplen(handle_, 262144);
    pcap_set_promisc(handle_, 1);
    pcap_set_immediate_mode(handle_, 1);
    pcap_set_timeout(handle_, 10);
    pcap_set_buffer_size(handle_, 8 << 20);
    if (pcap_activate(handle_) < 0) {
      const std::string why = pcap_geterr(handle_);
      pcap_close(handle_);
      throw std::runtime_error("capture " + vantage_ + " on " + ifname + " in " + netns + ": " + why);
    }
  }
  link_type_ = static_cast<wire::LinkType>(pcap_datalink(handle_));
  dumper_ = pcap_dump_open(handle_, path_.c_str());
  if (dumper_ == nullptr) {
    const std::string why = pcap_geterr(handle_);
    pcap_close(handle_);
    throw std::runtime_error("capture " + vantage_ + ": cannot write " + path_ + ": " + why);
  }
  thread_ = std::thread([this] { loop(); });
}

Capture::~Capture() { stop(); }

void Capture::loop() {
  while (!stopping_) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(handle_, &header, &data);
    if (rc != 1) {
      if (rc < 0) break;
      continue;  // timeout: check stopping_
    }
    pcap_dump(reinterpret_cast<u_char*>(dumper_), header, data);
    std::lock_guard<std::mutex> lock(mutex_);
    CapturedFrame f;
    f.number = frames_.size() + 1;
    f.at = std::chrono::steady_clock::now();
    f.data.assign(data, data + header->caplen);
    frames_.push_back(std::move(f));
    arrived_.notify_all();
  }
}

void Capture::stop() {
  if (handle_ == nullptr) return;
  // Let frames in flight land before the file is closed.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stopping_ = true;
  // With TPACKET_V3 libpcap keeps polling inside pcap_next_ex until a frame
  // arrives, whatever the timeout: on a quiet interface the loop would never
  // see stopping_. pcap_breakloop wakes it (PCAP_ERROR_BREAK).
  pcap_breakloop(handle_);
  if (thread_.joinable()) thread_.join();
  pcap_dump_close(dumper_);
  pcap_close(handle_);
  dumper_ = nullptr;
  handle_ = nullptr;
}

std::uint64_t Capture::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return frames_.size();
}

std::optional<CapturedFrame> Capture::wait_for(const std::function<bool(const CapturedFrame&)>& match,
                                               std::chrono::milliseconds timeout, std::uint64_t after) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mutex_);
  std::size_t next = static_cast<std::size_t>(after);
  for (;;) {
    for (; next < frames_.size(); ++next) {
      if (match(frames_[next])) return frames_[next];
    }
    if (arrived_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; next < frames_.size(); ++next) {
        if (match(frames_[next])) return frames_[next];
      }
      return std::nullopt;
    }
  }
}

std::vector<CapturedFrame> Capture::frames(const std::function<bool(const CapturedFrame&)>& match,
                                           std::uint64_t after) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<CapturedFrame> out;
  for (std::size_t i = static_cast<std::size_t>(after); i < frames_.size(); ++i) {
    if (match(frames_[i])) out.push_back(frames_[i]);
  }
  return out;
}

}  // namespace teredo::conformance
