// Extra seeds from the public captures, read in place and written into the
// build tree only (the captures are third-party: none of their bytes is
// committed). For every frame of every capture under <pcap-dir>:
//   fuzz_frame          link-type index byte + the frame
//   fuzz_datagram       the UDP payload, when it is Teredo (port 3544 or it parses)
//   fuzz_encapsulation  that payload, when it starts with an encapsulation
//   fuzz_nd_options     the inner ICMPv6 message, for RS and RA
//   fuzz_icmpv6_echo    the inner ICMPv6 message, for echo request and reply
//   fuzz_address_binary / fuzz_address_text   the inner source and destination
// Identical inputs are written once; each target gets at most kMaxPerTarget.
//   teredo_fuzz_pcap_seeds <pcap-dir> <out-dir>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "fuzz_common.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/frame.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/teredo_address.hpp"

using namespace teredo::wire;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPerTarget = 256;

class SeedWriter {
 public:
  explicit SeedWriter(fs::path out) : out_(std::move(out)) {}

  void add(const std::string& target, Bytes bytes) {
    auto& seen = seen_[target];
    if (seen.size() >= kMaxPerTarget) return;
    std::string key(bytes.begin(), bytes.end());
    if (!seen.insert(key).second) return;
    std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a, for a stable file name
    for (std::uint8_t b : bytes) hash = (hash ^ b) * 1099511628211ULL;
    char name[32];
    std::snprintf(name, sizeof name, "pcap-%016llx", static_cast<unsigned long long>(hash));
    const fs::path dir = out_ / target;
    fs::create_directories(dir);
    std::ofstream file(dir / name, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ++written_;
  }
  [[nodiscard]] std::size_t written() const { return written_; }

 private:
  fs::path out_;
  std::map<std::string, std::set<std::string>> seen_;
  std::size_t written_ = 0;
};

int link_index(int link_type) {
  for (std::size_t i = 0; i < teredo::fuzz::kLinkTypes.size(); ++i) {
    if (static_cast<int>(teredo::fuzz::kLinkTypes[i]) == link_type) return static_cast<int>(i);
  }
  return -1;
}

// What one capture has given so far. A frame is a frame seed when it carries
// Teredo, or when its carrier error or its UDP port pair is new in the
// capture: a long capture of other traffic does not crowd out the Teredo.
struct CaptureState {
  std::set<ParseError> errors;
  std::set<std::pair<std::uint16_t, std::uint16_t>> ports;
};

void add_frame(SeedWriter& seeds, int index, LinkType link_type, Bytes frame, CaptureState& state) {
  ByteVector framed = {static_cast<std::uint8_t>(index)};
  framed.insert(framed.end(), frame.begin(), frame.end());
  const auto carrier = find_udp_carrier(link_type, frame);
  if (!carrier) {
    if (state.errors.insert(carrier.error()).second) seeds.add("fuzz_frame", framed);
    return;
  }
  const Bytes payload = carrier->payload;
  DatagramParseOptions options;
  options.accept_trailers = true;
  const auto datagram = parse_datagram(payload, options);
  const bool teredo_port =
      carrier->source_port == kUdpPortTeredo || carrier->destination_port == kUdpPortTeredo;
  const bool new_ports = state.ports.insert({carrier->source_port, carrier->destination_port}).second;
  if (datagram || teredo_port || new_ports) seeds.add("fuzz_frame", framed);
  if (payload.empty() || (!datagram && !teredo_port)) return;
  seeds.add("fuzz_datagram", payload);
  if (payload.size() >= 2 && payload[0] == 0x00 && payload[1] <= 0x01) seeds.add("fuzz_encapsulation", payload);
  if (!datagram) return;

  const Ipv6PacketView& v = datagram->ipv6;
  for (const Ipv6Address* a : {&v.header.source, &v.header.destination}) {
    ByteVector binary(a->bytes.begin(), a->bytes.end());
    binary.insert(binary.end(), {0x01, 0x12, 0x34});
    seeds.add("fuzz_address_binary", binary);
    const std::string text = to_string(*a);
    seeds.add("fuzz_address_text", Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }
  const auto icmp = parse_icmpv6(v, ChecksumPolicy::ignore);
  if (!icmp) return;
  if (icmp->type == kIcmpv6RouterSolicitation || icmp->type == kIcmpv6RouterAdvertisement) {
    seeds.add("fuzz_nd_options", icmp->message);
  } else if (icmp->type == kIcmpv6EchoRequest || icmp->type == kIcmpv6EchoReply) {
    seeds.add("fuzz_icmpv6_echo", icmp->message);
  }
}

bool read_capture(SeedWriter& seeds, const fs::path& path) {
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle = pcap_open_offline(path.c_str(), error);
  if (handle == nullptr) {
    std::fprintf(stderr, "pcap_seeds: %s: %s (skipped)\n", path.c_str(), error);
    return false;
  }
  const int link_type = pcap_datalink(handle);
  const int index = link_index(link_type);
  if (index >= 0) {
    pcap_pkthdr* header = nullptr;
    const std::uint8_t* data = nullptr;
    CaptureState state;
    while (pcap_next_ex(handle, &header, &data) == 1) {
      add_frame(seeds, index, static_cast<LinkType>(link_type), Bytes(data, header->caplen), state);
    }
  }
  pcap_close(handle);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <pcap-dir> <out-dir>\n", argv[0]);
    return 2;
  }
  const fs::path in = argv[1];
  SeedWriter seeds(argv[2]);
  std::error_code ec;
  if (!fs::is_directory(in, ec)) {
    std::printf("pcap_seeds: %s absent, no extra seeds\n", in.c_str());
    return 0;
  }
  std::vector<fs::path> captures;
  for (fs::recursive_directory_iterator it(in, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    if (it->is_regular_file(ec) && (ext == ".pcap" || ext == ".pcapng" || ext == ".cap")) {
      captures.push_back(it->path());
    }
  }
  std::sort(captures.begin(), captures.end());
  std::size_t read = 0;
  for (const fs::path& path : captures) read += read_capture(seeds, path) ? 1 : 0;
  std::printf("pcap_seeds: %zu captures read, %zu seeds written under %s\n", read, seeds.written(), argv[2]);
  return 0;
}
