#include "cases/server/driver.hpp"

#include <fmt/format.h>

namespace teredo::conformance::server {

using namespace teredo::wire;

ByteVector rs_datagram(const RsOptions& o) {
  const Ipv6Address source = o.source ? *o.source
                                      : parse_ipv6(o.cone ? "fe80::8000:ffff:ffff:fffd" : "fe80::ffff:ffff:fffd").value();
  const Ipv6Address destination = o.destination ? *o.destination : parse_ipv6("ff02::2").value();
  ByteVector body(4, 0);  // reserved
  body.insert(body.end(), o.options.begin(), o.options.end());
  ByteVector packet = build_icmpv6_packet(source, destination, o.hop_limit, kIcmpv6RouterSolicitation, o.code, body);
  if (o.corrupt_checksum) packet[kIpv6HeaderSize + 2] ^= 0x5A;
  ByteVector out;
  std::optional<AuthenticationFields> auth;
  if (o.authentication) auth = AuthenticationFields{.nonce = o.nonce};
  append_datagram(out, auth, std::nullopt, packet);
  return out;
}

std::uint64_t mark(CaseRun& run) { return run.capture("driver").count(); }

std::uint64_t send_to_server(CaseRun& run, int socket, Bytes payload, const std::string& to) {
  const std::uint64_t before = mark(run);
  run.send_udp(socket, to, kTeredoPort, payload);
  return before;
}

std::optional<Reply> next_reply(CaseRun& run, const std::string& driver_address, std::uint16_t driver_port,
                                std::uint64_t after, std::chrono::milliseconds timeout) {
  const Ipv4Address want = parse_ipv4(driver_address).value();
  Capture& capture = run.capture("driver");
  const auto link = capture.link_type();
  const auto frame = capture.wait_for(
      [&](const CapturedFrame& f) {
        const auto c = find_udp_carrier(link, f.data);
        return c && !c->ipv6 && c->destination4 == want && c->destination_port == driver_port;
      },
      timeout, after);
  if (!frame) return std::nullopt;
  Reply r;
  r.frame = frame->number;
  r.bytes = frame->data;
  r.carrier = find_udp_carrier(link, r.bytes).value();
  auto d = parse_datagram(r.carrier.payload);
  if (d) {
    r.datagram = d.value();
  } else {
    r.error = d.error();
  }
  return r;
}

std::optional<ParsedRa> parse_ra(const Reply& reply) {
  if (!reply.datagram) return std::nullopt;
  auto icmp = parse_icmpv6(reply.datagram->ipv6, ChecksumPolicy::ignore);
  if (!icmp || icmp->type != kIcmpv6RouterAdvertisement) return std::nullopt;
  auto ra = parse_router_advertisement(*icmp);
  if (!ra) return std::nullopt;
  return ParsedRa{*icmp, *ra};
}

std::string endpoint(const Ipv4Address& a, std::uint16_t port) { return fmt::format("{}:{}", to_string(a), port); }

std::string describe(const Reply& reply) {
  std::string what = "datagram";
  if (!reply.datagram) {
    what = fmt::format("malformed datagram ({})", to_string(reply.error));
  } else if (is_bubble(reply.datagram->ipv6)) {
    what = "bubble";
  } else if (auto icmp = parse_icmpv6(reply.datagram->ipv6, ChecksumPolicy::ignore)) {
    what = icmp->type == kIcmpv6RouterAdvertisement ? "RA" : fmt::format("ICMPv6 type {}", icmp->type);
  }
  return fmt::format("{} from {} (frame {})", what, endpoint(reply.carrier.source4, reply.carrier.source_port),
                     reply.frame);
}

FrameRef frame_ref(const Reply& reply) { return {"driver.pcap", reply.frame}; }

}  // namespace teredo::conformance::server
