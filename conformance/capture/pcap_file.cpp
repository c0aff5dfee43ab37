#include "capture/pcap_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace teredo::capture {

PcapReader::PcapReader(const std::string& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw CaptureError("cannot open " + path + ": " + std::strerror(errno));
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (p == nullptr) throw CaptureError(path + " is not a readable capture: " + errbuf);
  handle_.reset(p);
  link_type_ = static_cast<std::uint32_t>(pcap_datalink(p));
}

PcapReader::Status PcapReader::next(Frame& frame) {
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(handle_.get(), &header, &data);
  if (rc == PCAP_ERROR_BREAK) return Status::end;
  if (rc != 1) {
    error_ = pcap_geterr(handle_.get());
    return Status::error;
  }
  frame.number = ++count_;
  frame.timestamp_us = std::int64_t{header->ts.tv_sec} * 1000000 + header->ts.tv_usec;
  frame.original_length = header->len;
  frame.data = wire::Bytes(data, header->caplen);
  return Status::frame;
}

PcapWriter::PcapWriter(const std::string& path, std::uint32_t link_type) {
  dead_ = pcap_open_dead_with_tstamp_precision(static_cast<int>(link_type), 262144,
                                               PCAP_TSTAMP_PRECISION_MICRO);
  if (dead_ == nullptr) throw CaptureError("libpcap could not create a capture handle");
  dumper_ = pcap_dump_open(dead_, path.c_str());
  if (dumper_ == nullptr) {
    const std::string why = pcap_geterr(dead_);
    pcap_close(dead_);
    throw CaptureError("cannot write " + path + ": " + why);
  }
}

PcapWriter::~PcapWriter() { close(); }

void PcapWriter::write(std::int64_t timestamp_us, wire::Bytes frame) {
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<time_t>(timestamp_us / 1000000);
  header.ts.tv_usec = static_cast<suseconds_t>(timestamp_us % 1000000);
  header.caplen = static_cast<bpf_u_int32>(frame.size());
  header.len = header.caplen;
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, frame.data());
}

void PcapWriter::close() {
  if (dumper_ != nullptr) {
    pcap_dump_close(dumper_);
    dumper_ = nullptr;
  }
  if (dead_ != nullptr) {
    pcap_close(dead_);
    dead_ = nullptr;
  }
}

}  // namespace teredo::capture
