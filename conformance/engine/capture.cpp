#include "engine/capture.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "teredo/netns/process.hpp"

namespace teredo::conformance {

namespace {

constexpr std::uint64_t kRecordHeaderBytes = 16;  // a classic pcap record header

}  // namespace

std::chrono::steady_clock::time_point captured_at(std::chrono::system_clock::time_point captured,
                                                  std::chrono::system_clock::time_point system_now,
                                                  std::chrono::steady_clock::time_point steady_now) {
  const auto lag = system_now - captured;
  if (lag < std::chrono::system_clock::duration::zero() || lag > std::chrono::seconds(5)) return steady_now;
  return steady_now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(lag);
}

Capture::Capture(std::string vantage, const std::string& netns, const std::string& ifname, std::string pcap_path,
                 std::uint64_t cap_bytes)
    : vantage_(std::move(vantage)), path_(std::move(pcap_path)), cap_bytes_(cap_bytes) {
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
  read_fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  const std::int64_t header = pcap_dump_ftell64(dumper_);
  if (read_fd_ < 0 || header < 0) {
    const std::string why = std::strerror(errno);
    pcap_dump_close(dumper_);
    pcap_close(handle_);
    if (read_fd_ >= 0) ::close(read_fd_);
    throw std::runtime_error("capture " + vantage_ + ": cannot read back " + path_ + ": " + why);
  }
  file_bytes_ = static_cast<std::uint64_t>(header);
  thread_ = std::thread([this] { loop(); });
}

Capture::~Capture() {
  stop();
  if (read_fd_ >= 0) ::close(read_fd_);
}

void Capture::loop() {
  while (!stopping_) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(handle_, &header, &data);
    if (rc != 1) {
      if (rc < 0) break;
      continue;  // timeout: check stopping_
    }
    const std::uint64_t record = kRecordHeaderBytes + header->caplen;
    std::string error;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // Once full, always full: the file keeps a gapless prefix of the traffic.
      if (write_error_.empty() && file_bytes_ + record > cap_bytes_) full_ = true;
      if (full_ || !write_error_.empty()) {
        ++dropped_;
        continue;
      }
    }
    // Written and flushed before it is indexed: a reader finds every indexed
    // frame in the file.
    pcap_dump(reinterpret_cast<u_char*>(dumper_), header, data);
    if (pcap_dump_flush(dumper_) != 0) error = std::string("cannot write ") + path_ + ": " + std::strerror(errno);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error.empty()) {
      write_error_ = error;
      ++dropped_;
      continue;
    }
    const std::chrono::system_clock::time_point captured{std::chrono::seconds(header->ts.tv_sec) +
                                                         std::chrono::microseconds(header->ts.tv_usec)};
    index_.push_back({file_bytes_ + kRecordHeaderBytes, header->caplen,
                      captured_at(captured, std::chrono::system_clock::now(), std::chrono::steady_clock::now())});
    file_bytes_ += record;
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
  return index_.size();
}

std::uint64_t Capture::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

std::string Capture::write_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return write_error_;
}

std::vector<Capture::Entry> Capture::entries(std::size_t from, std::size_t& end) const {
  // (the caller holds mutex_)
  end = index_.size();
  if (from >= end) return {};
  return {index_.begin() + static_cast<std::ptrdiff_t>(from), index_.end()};
}

CapturedFrame Capture::read(std::uint64_t number, const Entry& entry) const {
  CapturedFrame f;
  f.number = number;
  f.at = entry.at;
  f.data.resize(entry.length);
  std::size_t done = 0;
  while (done < entry.length) {
    const ssize_t n = ::pread(read_fd_, f.data.data() + done, entry.length - done,
                              static_cast<off_t>(entry.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw std::runtime_error("capture " + vantage_ + ": cannot read frame " + std::to_string(number) + " back from " +
                               path_ + (n < 0 ? std::string(": ") + std::strerror(errno) : std::string(": truncated")));
    }
    done += static_cast<std::size_t>(n);
  }
  return f;
}

std::optional<CapturedFrame> Capture::wait_for(const std::function<bool(const CapturedFrame&)>& match,
                                               std::chrono::milliseconds timeout, std::uint64_t after) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t next = static_cast<std::size_t>(after);
  for (;;) {
    std::vector<Entry> batch;
    std::size_t end = 0;
    bool last = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      arrived_.wait_until(lock, deadline, [&] { return index_.size() > next; });
      batch = entries(next, end);
      // A batch taken at the deadline is the last one looked at, even while
      // frames keep arriving.
      last = std::chrono::steady_clock::now() >= deadline;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      CapturedFrame f = read(next + i + 1, batch[i]);
      if (match(f)) return f;
    }
    next = std::max(next, end);
    if (last) return std::nullopt;
  }
}

std::vector<CapturedFrame> Capture::frames(const std::function<bool(const CapturedFrame&)>& match,
                                           std::uint64_t after) const {
  std::vector<Entry> batch;
  std::size_t end = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch = entries(static_cast<std::size_t>(after), end);
  }
  std::vector<CapturedFrame> out;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    CapturedFrame f = read(after + i + 1, batch[i]);
    if (match(f)) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace teredo::conformance
