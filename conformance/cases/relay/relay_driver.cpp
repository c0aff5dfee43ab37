#include "cases/relay/relay_driver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace teredo::conformance::relay {

using namespace teredo::wire;
using kit::ms;

Peer make_peer(CaseRun& run, const std::string& address, std::uint16_t port, std::uint16_t flags) {
  return kit::make_peer(run, "driver", address, port, kServer, flags);
}

std::optional<Reply> as_reply(const CapturedFrame& frame, LinkType link) { return Reply::parse(frame, link, "driver"); }

FrameRef frame_ref(std::uint64_t frame) { return kit::frame_ref(frame, "driver"); }

std::vector<FrameRef> frames_of(std::initializer_list<std::uint64_t> numbers) {
  return kit::frames_of("driver", numbers);
}

std::string describe_frame(const CapturedFrame& frame, LinkType link) { return kit::describe_frame(frame, link); }

std::vector<VantagePoint> relay_captures() { return {{"driver", "driver", "eth0"}, {"v6host", "v6host", "eth0"}}; }

NativeSide native_side(const CaseRun& run) {
  if (run.spec().role == "host-relay") return {"relay", kRelayV6, ""};
  return {"v6host", kV6Host, "v6host"};
}

void open_server(CaseRun& run) { (void)run.udp_socket("driver", kServer, kit::lab::kTeredoPort); }

NativeHost::NativeHost(CaseRun& run, std::uint16_t port, std::string host, std::string address, std::string capture)
    : run_(run), port_(port), host_(std::move(host)), address_(std::move(address)), capture_(std::move(capture)) {
  fd_ = run_.lab().socket(host_, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket in " + host_ + ": " + std::strerror(errno));
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port_);
  if (inet_pton(AF_INET6, address_.c_str(), &a.sin6_addr) != 1 ||
      ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error(fmt::format("bind [{}]:{} in {}: {}", address_, port_, host_, why));
  }
}

NativeHost::~NativeHost() {
  if (fd_ >= 0) ::close(fd_);
}

std::string NativeHost::where() const { return fmt::format("[{}]:{}", address_, port_); }

NativeHost::Sent NativeHost::send(const Ipv6Address& to, Bytes payload, std::uint8_t tclass, bool wait_own) {
  Sent s;
  s.driver_mark = run_.capture("driver").count();
  if (!capture_.empty()) s.native_mark = run_.capture(capture_).count();
  const int tc = tclass;
  if (::setsockopt(fd_, IPPROTO_IPV6, IPV6_TCLASS, &tc, sizeof tc) != 0) {
    throw std::runtime_error(std::string("IPV6_TCLASS: ") + std::strerror(errno));
  }
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(kNativeSink);
  std::memcpy(&a.sin6_addr, to.bytes.data(), 16);
  if (::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    throw std::runtime_error(fmt::format("sendto [{}] from {}: {}", to_string(to), host_, std::strerror(errno)));
  }
  if (!capture_.empty() && wait_own) {
    Capture& capture = run_.capture(capture_);
    const auto own = capture.wait_for(native_carrying(capture, address(), to), kit::timeout::own_frame, s.native_mark);
    if (own) s.frame = own->number;
  }
  return s;
}

std::vector<FrameRef> NativeHost::refs(const Sent& sent) const {
  if (capture_.empty() || sent.frame == 0) return {};
  return {frame_ref(sent.frame, capture_)};
}

FrameMatch from_relay(const Capture& capture) { return kit::udp_from(capture.link_type(), kRelay); }

FrameMatch relay_bubble_for(const Capture& capture, const Ipv6Address& client) {
  return kit::bubble_from(capture.link_type(), kRelay, client);
}

FrameMatch relay_delivery(const Capture& capture, const Peer& to, const std::string& mark) {
  const LinkType link = capture.link_type();
  const Ipv4Address relay = ipv4(kRelay), address = ipv4(to.address);
  const std::uint16_t port = to.port;
  return [link, relay, address, port, mark](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->source4 == relay && c->destination4 == address && c->destination_port == port &&
           contains(c->payload, mark);
  };
}

FrameMatch relay_carrying(const Capture& capture, const Ipv6Address& destination) {
  const LinkType link = capture.link_type();
  const Ipv4Address relay = ipv4(kRelay);
  std::optional<Ipv4Address> embedded;
  std::uint16_t port = 0;
  if (const auto t = parse_teredo(destination)) {
    embedded = t->mapped_ipv4;
    port = t->mapped_port;
  }
  return [link, relay, destination, embedded, port](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    if (!c || c->ipv6 || c->source4 != relay) return false;
    if (embedded && c->destination4 == *embedded && c->destination_port == port) return true;
    const auto inner = inner_addresses(c->payload);
    return inner && inner->second == destination;
  };
}

FrameMatch native_carrying(const Capture& capture, const Ipv6Address& source, const Ipv6Address& destination) {
  return kit::native_carrying(capture.link_type(), source, destination);
}

FrameMatch native_containing(const Capture& capture, const std::string& mark) {
  const LinkType link = capture.link_type();
  const Ipv6Address host = ipv6(kV6Host);
  return [link, host, mark](const CapturedFrame& f) {
    const auto n = native_ipv6(link, f.data);
    return n && n->header.source != host && contains(n->packet, mark);
  };
}

ByteVector echo_with(const Ipv6Address& source, const Ipv6Address& destination, const std::string& mark,
                     std::uint16_t sequence) {
  const Bytes data = bytes_of(mark.c_str());
  return build_echo(source, destination, 64,
                    EchoMessage{.reply = false, .identifier = 0x7e1a, .sequence = sequence, .data = data});
}

bool indirect(const Reply& bubble, const Peer& client) {
  const auto t = parse_teredo(client.teredo);
  return t && bubble.carrier.destination4 == t->server && bubble.carrier.destination_port == kit::lab::kTeredoPort;
}

std::string Contact::story(const Peer& client) const {
  std::string s = fmt::format("native packet to {} (v6host frame {})", to_string(client.teredo), sent.frame);
  if (early) s += "; delivered at once, before any bubble was answered: " + describe(*early);
  if (bubble) {
    s += "; the relay's bubble: " + describe(*bubble);
  }
  if (!bubble && !early) s += "; no bubble and no delivery from the relay";
  if (answer.frame) s += fmt::format("; the client answered with a bubble to {}:{} (frame {})", relay_address,
                                     relay_port, answer.frame);
  if (answer.frame) {
    s += delivered ? "; queued packet delivered: " + describe(*delivered)
                   : "; the queued packet was not delivered within " + ms(kDeliveryTimeout);
  }
  return s;
}

std::vector<FrameRef> Contact::frames() const {
  std::vector<FrameRef> out;
  if (sent.frame) out.push_back(frame_ref(sent.frame, "v6host"));
  for (const std::uint64_t n : {bubble ? bubble->frame : 0, early ? early->frame : 0, answer.frame,
                                delivered ? delivered->frame : 0}) {
    if (n) out.push_back(frame_ref(n));
  }
  return out;
}

Contact contact(CaseRun& run, NativeHost& host, const Peer& client, const std::string& mark, bool answer) {
  Capture& capture = run.capture("driver");
  Contact c;
  c.sent = host.send(client.teredo, bytes_of(mark.c_str()));
  const FrameMatch bubble = relay_bubble_for(capture, client.teredo);
  const FrameMatch delivery = relay_delivery(capture, client, mark);
  const auto first = capture.wait_for([&](const CapturedFrame& f) { return bubble(f) || delivery(f); },
                                      kBubbleTimeout, c.sent.driver_mark);
  if (!first) return c;
  const auto reply = as_reply(*first, capture.link_type());
  if (!reply) return c;
  c.relay_address = to_string(reply->carrier.source4);
  c.relay_port = reply->carrier.source_port;
  if (delivery(*first)) {
    c.early = reply;
    return c;
  }
  c.bubble = reply;
  if (!answer) return c;
  // The client's server forwarded the bubble (§5.3.1); the client answers it
  // from its mapped endpoint to the relay's, source its Teredo address,
  // destination the bubble's source (§5.2.3).
  const ByteVector back = bubble_packet(client.teredo, reply->datagram->ipv6.header.source);
  c.answer = kit::send_from(run, "driver", client, back, c.relay_address, c.relay_port);
  const auto delivered = capture.wait_for(delivery, kDeliveryTimeout, c.answer.mark);
  if (delivered) c.delivered = as_reply(*delivered, capture.link_type());
  return c;
}

Sent client_send(CaseRun& run, const Peer& client, Bytes packet, const std::string& relay, std::uint16_t port) {
  return kit::send_from(run, "driver", client, packet, relay, port);
}

std::uint64_t native_mark(CaseRun& run) { return run.capture("v6host").count(); }

std::optional<CapturedFrame> wait_native(CaseRun& run, const Ipv6Address& source, const Ipv6Address& destination,
                                         std::uint64_t after, std::chrono::milliseconds timeout) {
  Capture& capture = run.capture("v6host");
  return capture.wait_for(native_carrying(capture, source, destination), timeout, after);
}

Control control_bubble(NativeHost& host, const Peer& fresh) {
  return [&host, fresh](CaseRun& run) -> std::optional<std::string> {
    Capture& capture = run.capture("driver");
    const std::string mark = marker("control", 0);
    const auto sent = host.send(fresh.teredo, bytes_of(mark.c_str()));
    const FrameMatch bubble = relay_bubble_for(capture, fresh.teredo);
    const FrameMatch delivery = relay_delivery(capture, fresh, mark);
    const auto f = capture.wait_for([&](const CapturedFrame& x) { return bubble(x) || delivery(x); },
                                    kBubbleTimeout, sent.driver_mark);
    if (f) {
      run.info(fmt::format("control: a native packet to the valid client {} (v6host frame {}) made the relay act: {}",
                           to_string(fresh.teredo), sent.frame, describe_frame(*f, capture.link_type())),
               "control_answered");
      return std::nullopt;
    }
    return fmt::format("the relay sent no bubble for, and nothing to, the valid client {} within {} after a native "
                       "packet to it (v6host frame {}) either",
                       to_string(fresh.teredo), ms(kBubbleTimeout), sent.frame);
  };
}

Control control_forward(const Peer& client, const Ipv6Address& native) {
  return [client, native](CaseRun& run) -> std::optional<std::string> {
    const ByteVector packet = echo_packet(client.teredo, native, 0x7e1a, 1);
    const std::uint64_t after = native_mark(run);
    const Sent s = client_send(run, client, packet);
    const auto f = wait_native(run, client.teredo, native, after);
    if (f) {
      run.info(fmt::format("control: a valid echo request from {} to {} (driver frame {}) was forwarded natively "
                           "(v6host frame {})",
                           client.where(), to_string(native), s.frame, f->number),
               "control_answered");
      return std::nullopt;
    }
    return fmt::format("the relay did not forward a valid echo request from the client {} to {} (driver "
                       "frame {}) within {} either",
                       client.where(), to_string(native), s.frame, ms(kDeliveryTimeout));
  };
}

Probe probe_native(CaseRun& run, const Peer& client, Bytes payload, std::string what, const Ipv6Address& source,
                   const Ipv6Address& destination) {
  Probe p;
  p.capture = "v6host";
  p.after = native_mark(run);
  const Sent s = client_send(run, client, payload);
  p.sent = frames_of({s.frame});
  p.what = fmt::format("{} sent from {} to the relay (driver frame {})", what, client.where(), s.frame);
  p.reaction = native_carrying(run.capture("v6host"), source, destination);
  p.expected = fmt::format("silently discarded: no native packet {} -> {} on v6host:eth0 within {}",
                           to_string(source), to_string(destination), ms(kSilenceWindow));
  p.code = "probe_forwarded_natively";
  return p;
}

std::string describe_native(const CapturedFrame& frame, LinkType link) {
  return kit::describe_frame(frame, link, "v6host");
}

std::string describe(CaseRun& run, const std::string& capture, std::uint64_t frame) {
  Capture& c = run.capture(capture);
  const auto found = c.frames([frame](const CapturedFrame& f) { return f.number == frame; });
  if (found.empty()) return fmt::format("frame {}", frame);
  return kit::describe_frame(found.front(), c.link_type(), capture);
}

}  // namespace teredo::conformance::relay
