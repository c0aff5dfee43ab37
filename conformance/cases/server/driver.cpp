#include "cases/server/driver.hpp"

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>
#include <thread>

namespace teredo::conformance::server {

using namespace teredo::wire;

namespace {

constexpr std::chrono::milliseconds kOwnFrameTimeout{200};

std::size_t link_header(LinkType link, Bytes frame, std::uint16_t& ethertype) {
  if (link != LinkType::ethernet || frame.size() < 14) return 0;
  std::size_t at = 12;
  ethertype = static_cast<std::uint16_t>((frame[at] << 8) | frame[at + 1]);
  while ((ethertype == 0x8100 || ethertype == 0x88a8) && frame.size() >= at + 6) {
    at += 4;
    ethertype = static_cast<std::uint16_t>((frame[at] << 8) | frame[at + 1]);
  }
  return at + 2;
}

std::string ms(std::chrono::milliseconds d) { return fmt::format("{} ms", d.count()); }

}  // namespace

// The IPv6 source and destination of the packet inside a Teredo UDP payload,
// read leniently (encapsulations skipped, the payload may be truncated: a
// first IPv4 fragment of a large datagram still names its packet).
std::optional<std::pair<Ipv6Address, Ipv6Address>> inner_addresses(Bytes payload) {
  std::size_t at = 0;
  for (int guard = 0; guard < 4; ++guard) {
    if (payload.size() < at + 2) return std::nullopt;
    if (payload[at] == 0 && payload[at + 1] == 0) {
      at += kOriginIndicationSize;
    } else if (payload[at] == 0 && payload[at + 1] == 1) {
      if (payload.size() < at + 4) return std::nullopt;
      at += kAuthenticationFixedSize + payload[at + 2] + payload[at + 3];
    } else {
      break;
    }
  }
  if (payload.size() < at + kIpv6HeaderSize || (payload[at] >> 4) != 6) return std::nullopt;
  Ipv6Address s, d;
  std::memcpy(s.bytes.data(), payload.data() + at + 8, 16);
  std::memcpy(d.bytes.data(), payload.data() + at + 24, 16);
  return std::make_pair(s, d);
}

Ipv4Address ipv4(const std::string& text) {
  const auto a = parse_ipv4(text);
  if (!a) throw std::runtime_error("bad IPv4 address in a case: " + text);
  return *a;
}

Ipv6Address ipv6(const std::string& text) {
  const auto a = parse_ipv6(text);
  if (!a) throw std::runtime_error("bad IPv6 address in a case: " + text);
  return *a;
}

Ipv6Address teredo_address(const std::string& server, std::uint16_t flags, const std::string& mapped,
                           std::uint16_t port) {
  return TeredoAddress{.server = ipv4(server), .flags = flags, .mapped_port = port, .mapped_ipv4 = ipv4(mapped)}
      .to_ipv6();
}

Ipv6Address server_link_local(const std::string& server) {
  Ipv6Address a = TeredoAddress{.server = Ipv4Address{0}, .flags = kFlagCone, .mapped_port = kTeredoPort,
                                .mapped_ipv4 = ipv4(server)}
                      .to_ipv6();
  a.bytes[0] = 0xfe;
  a.bytes[1] = 0x80;
  for (int i = 2; i < 8; ++i) a.bytes[static_cast<std::size_t>(i)] = 0;
  return a;
}

ByteVector rs_packet(const RsOptions& o) {
  const Ipv6Address source = o.source ? *o.source
                                      : ipv6(o.cone ? "fe80::8000:ffff:ffff:fffd" : "fe80::ffff:ffff:fffd");
  const Ipv6Address destination = o.destination ? *o.destination : ipv6("ff02::2");
  ByteVector body(4, 0);  // reserved
  body.insert(body.end(), o.options.begin(), o.options.end());
  ByteVector packet = build_icmpv6_packet(source, destination, o.hop_limit, kIcmpv6RouterSolicitation, o.code, body);
  if (o.corrupt_checksum) packet[kIpv6HeaderSize + 2] ^= 0x5A;
  return packet;
}

ByteVector rs_datagram(const RsOptions& o) {
  const ByteVector packet = rs_packet(o);
  ByteVector out;
  std::optional<AuthenticationFields> auth;
  if (o.authentication) {
    auth = AuthenticationFields{.client_id = o.client_id, .authentication_value = o.auth_value, .nonce = o.nonce,
                                .confirmation = o.confirmation};
  }
  if (!append_datagram(out, auth, std::nullopt, packet, o.trailer)) {
    throw std::runtime_error("rs_datagram: authentication fields too long");
  }
  return out;
}

ByteVector signed_rs(RsOptions o, Bytes secret, MacAlgorithm algorithm) {
  o.authentication = true;
  const ByteVector packet = rs_packet(o);
  const auto value = compute_authentication_value(algorithm, secret, o.nonce, o.confirmation, {}, packet);
  if (!value) throw std::runtime_error("signed_rs: OpenSSL could not compute the MAC");
  o.auth_value.assign(value->view().begin(), value->view().end());
  return rs_datagram(o);
}

Bytes bytes_of(const char* text) { return {reinterpret_cast<const std::uint8_t*>(text), std::strlen(text)}; }

std::optional<Reply> as_reply(const CapturedFrame& frame, LinkType link) {
  Reply r;
  r.frame = frame.number;
  r.bytes = frame.data;
  const auto c = find_udp_carrier(link, r.bytes);
  if (!c || c->ipv6) return std::nullopt;
  r.carrier = *c;
  auto d = parse_datagram(r.carrier.payload);
  if (d) {
    r.datagram = d.value();
  } else {
    r.error = d.error();
  }
  return r;
}

std::uint64_t mark(CaseRun& run) { return run.capture("driver").count(); }

std::uint64_t send_to_server(CaseRun& run, int socket, Bytes payload, const std::string& to) {
  const std::uint64_t before = mark(run);
  run.send_udp(socket, to, kTeredoPort, payload);
  return before;
}

FrameMatch udp_to(const Capture& capture, const std::string& address, std::uint16_t port) {
  const LinkType link = capture.link_type();
  const Ipv4Address want = ipv4(address);
  return [link, want, port](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->destination4 == want && c->destination_port == port;
  };
}

FrameMatch carrying(const Capture& capture, const Ipv6Address& source, const Ipv6Address& destination) {
  const LinkType link = capture.link_type();
  const Ipv4Address primary = ipv4(kPrimary), secondary = ipv4(kSecondary);
  return [=](const CapturedFrame& f) {
    if (const auto c = find_udp_carrier(link, f.data); c && !c->ipv6) {
      if (c->source4 != primary && c->source4 != secondary) return false;
      const auto inner = inner_addresses(c->payload);
      return inner && inner->first == source && inner->second == destination;
    }
    if (const auto n = native_ipv6(link, f.data)) {
      return n->header.source == source && n->header.destination == destination;
    }
    return false;
  };
}

std::optional<Reply> next_reply(CaseRun& run, const std::string& driver_address, std::uint16_t driver_port,
                                std::uint64_t after, std::chrono::milliseconds timeout) {
  Capture& capture = run.capture("driver");
  const auto frame = capture.wait_for(udp_to(capture, driver_address, driver_port), timeout, after);
  if (!frame) return std::nullopt;
  return as_reply(*frame, capture.link_type());
}

std::string Peer::where() const { return fmt::format("{}:{}", address, port); }

Peer make_peer(CaseRun& run, const std::string& address, std::uint16_t port, std::uint16_t flags,
               const std::string& host) {
  Peer p;
  p.fd = run.udp_socket(host, address, port);
  p.address = address;
  p.port = port;
  p.teredo = teredo_address(kPrimary, flags, address, port);
  return p;
}

Sent send_from(CaseRun& run, const Peer& from, Bytes payload, const std::string& to, std::uint16_t to_port) {
  Capture& capture = run.capture("driver");
  const LinkType link = capture.link_type();
  Sent s;
  s.mark = capture.count();
  run.send_udp(from.fd, to, to_port, payload);
  const Ipv4Address source = ipv4(from.address), destination = ipv4(to);
  const std::uint16_t port = from.port;
  const auto own = capture.wait_for(
      [&](const CapturedFrame& f) {
        const auto c = find_udp_carrier(link, f.data);
        return c && !c->ipv6 && c->source4 == source && c->source_port == port && c->destination4 == destination &&
               c->destination_port == to_port;
      },
      kOwnFrameTimeout, s.mark);
  if (own) s.frame = own->number;
  return s;
}

ByteVector encapsulate(Bytes ipv6_packet) { return ByteVector(ipv6_packet.begin(), ipv6_packet.end()); }

ByteVector bubble_packet(const Ipv6Address& source, const Ipv6Address& destination, std::uint8_t traffic_class) {
  Ipv6Header h;
  h.traffic_class = traffic_class;
  h.next_header = kNextHeaderNone;
  h.hop_limit = 255;
  h.source = source;
  h.destination = destination;
  return build_ipv6_packet(h, {});
}

ByteVector echo_packet(const Ipv6Address& source, const Ipv6Address& destination, std::uint16_t identifier,
                       std::uint16_t sequence, std::size_t data_size) {
  ByteVector data(data_size);
  for (std::size_t i = 0; i < data_size; ++i) data[i] = static_cast<std::uint8_t>('a' + i % 26);
  return build_echo(source, destination, 64,
                    EchoMessage{.reply = false, .identifier = identifier, .sequence = sequence, .data = data});
}

std::optional<Ipv6PacketView> native_ipv6(LinkType link, Bytes frame) {
  std::uint16_t ethertype = 0;
  const std::size_t at = link_header(link, frame, ethertype);
  if (at == 0 || ethertype != 0x86DD) return std::nullopt;
  auto p = parse_ipv6_packet(frame.subspan(at));
  if (!p) return std::nullopt;
  return *p;
}

std::optional<Ipv4Meta> ipv4_meta(LinkType link, Bytes frame) {
  std::uint16_t ethertype = 0;
  const std::size_t at = link_header(link, frame, ethertype);
  if (at == 0 || ethertype != 0x0800 || frame.size() < at + 20) return std::nullopt;
  Ipv4Meta m;
  m.tos = frame[at + 1];
  m.dont_fragment = (frame[at + 6] & 0x40) != 0;
  m.ttl = frame[at + 8];
  return m;
}

std::optional<Reply> wait_forward(CaseRun& run, const Peer& to, const Ipv6Address& source,
                                  const Ipv6Address& destination, std::uint64_t after,
                                  std::chrono::milliseconds timeout) {
  Capture& capture = run.capture("driver");
  const FrameMatch to_peer = udp_to(capture, to.address, to.port);
  const FrameMatch carried = carrying(capture, source, destination);
  const auto frame =
      capture.wait_for([&](const CapturedFrame& f) { return to_peer(f) && carried(f); }, timeout, after);
  if (!frame) return std::nullopt;
  return as_reply(*frame, capture.link_type());
}

std::optional<ParsedRa> parse_ra(const Reply& reply) {
  if (!reply.datagram) return std::nullopt;
  auto icmp = parse_icmpv6(reply.datagram->ipv6, ChecksumPolicy::ignore);
  if (!icmp || icmp->type != kIcmpv6RouterAdvertisement) return std::nullopt;
  auto ra = parse_router_advertisement(*icmp);
  if (!ra) return std::nullopt;
  return ParsedRa{*icmp, *ra};
}

Exchange rs_exchange(CaseRun& run, const Peer& from, const RsOptions& options, const std::string& to) {
  Exchange e;
  e.sent = send_from(run, from, rs_datagram(options), to);
  e.reply = next_reply(run, from.address, from.port, e.sent.mark);
  return e;
}

Control control_rs(const std::string& address, const std::string& host) {
  return [address, host](CaseRun& run) -> std::optional<std::string> {
    const Peer c = make_peer(run, address, kControlPort, 0, host);
    const Exchange e = rs_exchange(run, c, RsOptions{});
    if (e.reply && parse_ra(*e.reply)) {
      run.info(fmt::format("control: a valid RS from {} (frame {}) was answered: {}", c.where(), e.sent.frame,
                           describe(*e.reply)));
      return std::nullopt;
    }
    return fmt::format("the server did not answer a valid control RS from {} (frame {}) within {} either",
                       c.where(), e.sent.frame, ms(kAnswerTimeout));
  };
}

Control control_forward(const Peer& from, const Peer& to) {
  return [from, to](CaseRun& run) -> std::optional<std::string> {
    const ByteVector packet = bubble_packet(from.teredo, to.teredo);
    const Sent s = send_from(run, from, encapsulate(packet));
    const auto forwarded = wait_forward(run, to, from.teredo, to.teredo, s.mark);
    if (forwarded) {
      run.info(fmt::format("control: a valid bubble {} -> {} (frame {}) was forwarded: {}", to_string(from.teredo),
                           to_string(to.teredo), s.frame, describe(*forwarded)));
      return std::nullopt;
    }
    return fmt::format("the server did not forward a valid control bubble from {} to {} (frame {}) within {} either",
                       from.where(), to.where(), s.frame, ms(kAnswerTimeout));
  };
}

void judge_silence(CaseRun& run, const std::vector<std::string>& requirements, const std::vector<SilenceProbe>& probes,
                   const Control& control) {
  std::this_thread::sleep_for(kSilenceWindow);
  Capture& capture = run.capture("driver");
  std::vector<std::optional<CapturedFrame>> reactions;
  bool any_silent = false;
  for (const auto& p : probes) {
    const auto found = capture.frames(p.reaction, p.sent.mark);
    reactions.push_back(found.empty() ? std::nullopt : std::optional<CapturedFrame>(found.front()));
    any_silent |= found.empty();
  }
  std::optional<std::string> control_failure;
  if (any_silent && control) control_failure = control(run);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const SilenceProbe& p = probes[i];
    for (const auto& requirement : requirements) {
      if (reactions[i]) {
        run.check(requirement, false, p.expected,
                  describe_frame(*reactions[i], capture.link_type()) + " after " + p.what,
                  frames_of({p.sent.frame, reactions[i]->number}));
      } else if (control_failure) {
        run.inconclusive(requirement, "no reaction to " + p.what + " within " + ms(kSilenceWindow) + ", but " +
                                          *control_failure + ": the silence proves nothing");
      } else {
        run.check(requirement, true, p.expected,
                  "nothing within " + ms(kSilenceWindow) + " after " + p.what + " (and the control was answered)",
                  frames_of({p.sent.frame}));
      }
    }
  }
}

SilenceProbe probe_answer(CaseRun& run, const Peer& from, Bytes payload, std::string what, const std::string& to) {
  SilenceProbe p;
  p.sent = send_from(run, from, payload, to);
  p.what = fmt::format("{} sent from {} to {}:{} (frame {})", what, from.where(), to, kTeredoPort, p.sent.frame);
  p.reaction = udp_to(run.capture("driver"), from.address, from.port);
  p.expected = fmt::format("silently discarded: no datagram to {} within {}", from.where(), ms(kSilenceWindow));
  return p;
}

SilenceProbe probe_carry(CaseRun& run, const Peer& from, Bytes payload, std::string what, const Ipv6Address& source,
                         const Ipv6Address& destination) {
  SilenceProbe p;
  p.sent = send_from(run, from, payload);
  p.what = fmt::format("{} sent from {} (frame {})", what, from.where(), p.sent.frame);
  p.reaction = carrying(run.capture("driver"), source, destination);
  p.expected = fmt::format("not forwarded: no datagram from the server and no native IPv6 packet carrying {} -> {} "
                           "within {}",
                           to_string(source), to_string(destination), ms(kSilenceWindow));
  return p;
}

bool same(Bytes a, Bytes b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

std::string endpoint(const Ipv4Address& a, std::uint16_t port) { return fmt::format("{}:{}", to_string(a), port); }

std::string describe(const Reply& reply) {
  std::string what = "datagram";
  if (!reply.datagram) {
    what = fmt::format("malformed datagram ({})", to_string(reply.error));
  } else if (is_bubble(reply.datagram->ipv6)) {
    what = "bubble";
  } else if (auto icmp = parse_icmpv6(reply.datagram->ipv6, ChecksumPolicy::ignore)) {
    what = icmp->type == kIcmpv6RouterAdvertisement ? "RA"
           : icmp->type == kIcmpv6EchoReply         ? "echo reply"
           : icmp->type == kIcmpv6EchoRequest       ? "echo request"
                                                    : fmt::format("ICMPv6 type {}", icmp->type);
  } else {
    what = fmt::format("datagram (next header {})", reply.datagram->ipv6.header.next_header);
  }
  return fmt::format("{} from {} to {} (frame {})", what, endpoint(reply.carrier.source4, reply.carrier.source_port),
                     endpoint(reply.carrier.destination4, reply.carrier.destination_port), reply.frame);
}

std::string describe_frame(const CapturedFrame& frame, LinkType link) {
  if (const auto r = as_reply(frame, link)) return describe(*r);
  if (const auto n = native_ipv6(link, frame.data)) {
    return fmt::format("native IPv6 packet {} -> {} (next header {}, frame {})", to_string(n->header.source),
                       to_string(n->header.destination), n->header.next_header, frame.number);
  }
  return fmt::format("frame {}", frame.number);
}

FrameRef frame_ref(const Reply& reply) { return {"driver.pcap", reply.frame}; }
FrameRef frame_ref(std::uint64_t frame, const std::string& vantage) { return {vantage + ".pcap", frame}; }

std::string hex(Bytes bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) out += fmt::format("{}{:02x}", i ? " " : "", bytes[i]);
  return out;
}

std::vector<FrameRef> frames_of(std::initializer_list<std::uint64_t> numbers) {
  std::vector<FrameRef> out;
  for (const auto n : numbers) {
    if (n != 0) out.push_back(frame_ref(n));
  }
  return out;
}

}  // namespace teredo::conformance::server
