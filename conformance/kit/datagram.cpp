#include "kit/datagram.hpp"

#include <fmt/format.h>

#include "kit/packets.hpp"

namespace teredo::conformance::kit {

using namespace teredo::wire;

std::optional<CapturedDatagram> CapturedDatagram::parse(const CapturedFrame& frame, LinkType link,
                                                        std::string vantage) {
  CapturedDatagram d;
  d.frame = frame.number;
  d.vantage = std::move(vantage);
  d.at = frame.at;
  d.bytes = frame.data;
  d.link_ = link;
  if (!d.reparse()) return std::nullopt;
  return d;
}

bool CapturedDatagram::reparse() {
  carrier = UdpCarrier{};
  datagram.reset();
  error = ParseError::none;
  const auto c = find_udp_carrier(link_, bytes);
  if (!c || c->ipv6) return false;
  carrier = *c;
  auto d = parse_teredo_payload(carrier.payload);
  if (d) {
    datagram = d.value();
  } else {
    error = d.error();
  }
  return true;
}

CapturedDatagram::CapturedDatagram(const CapturedDatagram& other)
    : frame(other.frame), vantage(other.vantage), at(other.at), bytes(other.bytes), link_(other.link_) {
  (void)reparse();
}

CapturedDatagram& CapturedDatagram::operator=(const CapturedDatagram& other) {
  if (this != &other) {
    frame = other.frame;
    vantage = other.vantage;
    at = other.at;
    bytes = other.bytes;
    link_ = other.link_;
    (void)reparse();
  }
  return *this;
}

namespace {

std::string where(std::uint64_t frame, const std::string& vantage) {
  return vantage.empty() ? fmt::format("frame {}", frame) : fmt::format("{} frame {}", vantage, frame);
}

}  // namespace

std::string describe(const CapturedDatagram& d) {
  std::string what;
  if (!d.datagram) {
    what = fmt::format("malformed datagram ({})", to_string(d.error));
    if (const auto inner = inner_addresses(d.carrier.payload)) {
      what += fmt::format(" carrying {} -> {}", to_string(inner->first), to_string(inner->second));
    }
  } else {
    const auto& h = d.datagram->ipv6.header;
    if (is_bubble(d.datagram->ipv6)) {
      what = "bubble";
    } else if (h.next_header == kNextHeaderIcmpv6) {
      const auto icmp = parse_icmpv6(d.datagram->ipv6, ChecksumPolicy::ignore);
      what = !icmp                                        ? "ICMPv6 (malformed)"
             : icmp->type == kIcmpv6RouterSolicitation    ? "RS"
             : icmp->type == kIcmpv6RouterAdvertisement   ? "RA"
             : icmp->type == kIcmpv6EchoRequest           ? "echo request"
             : icmp->type == kIcmpv6EchoReply             ? "echo reply"
                                                          : fmt::format("ICMPv6 type {}", icmp->type);
    } else if (h.next_header == 17) {
      what = "UDP";
    } else {
      what = fmt::format("datagram (next header {})", h.next_header);
    }
    what += fmt::format(" {} -> {}", to_string(h.source), to_string(h.destination));
  }
  return fmt::format("{} from {} to {} ({})", what, endpoint(d.carrier.source4, d.carrier.source_port),
                     endpoint(d.carrier.destination4, d.carrier.destination_port), where(d.frame, d.vantage));
}

std::string describe_frame(const CapturedFrame& frame, LinkType link, const std::string& vantage) {
  if (const auto d = CapturedDatagram::parse(frame, link, vantage)) return describe(*d);
  if (const auto n = native_ipv6(link, frame.data)) {
    return fmt::format("native IPv6 packet {} -> {} (next header {}, {})", to_string(n->header.source),
                       to_string(n->header.destination), n->header.next_header, where(frame.number, vantage));
  }
  return where(frame.number, vantage);
}

FrameRef frame_ref(std::uint64_t frame, const std::string& vantage) { return {vantage + ".pcap", frame}; }
FrameRef frame_ref(const CapturedDatagram& d) { return frame_ref(d.frame, d.vantage.empty() ? "driver" : d.vantage); }

std::vector<FrameRef> frames_of(const std::string& vantage, std::initializer_list<std::uint64_t> numbers) {
  std::vector<FrameRef> out;
  for (const auto n : numbers) {
    if (n != 0) out.push_back(frame_ref(n, vantage));
  }
  return out;
}

}  // namespace teredo::conformance::kit
