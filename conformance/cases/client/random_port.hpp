// What the RFC 6081 §5.4/§5.5 client cases share (random_port.cpp,
// random_port_trust.cpp, sequential_port.cpp): the Random Port Trailer
// (§4.5) read from a captured datagram, peer A's ports, the IUT's bubbles and
// Echo Tests found in the captures, and RFC durations on the IUT's (scaled)
// clock.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client {

inline constexpr std::uint8_t kRandomPortTrailer = 0x05;  // §4.5
inline constexpr std::uint16_t kPeerPort = 41701;          // peer A's embedded mapping
inline constexpr std::uint16_t kPeerRandomPort = 41702;    // peer A's random port
inline constexpr std::chrono::milliseconds kSettle{1000};  // what follows one stimulus, scaled timers

struct TrailerOption {
  std::uint8_t type = 0;
  std::uint8_t length = 0;
  wire::ByteVector value{};
};

// RFC 6081 §4: type, length, value, in order; a malformed one ends the walk.
inline std::vector<TrailerOption> trailer_options(const Seen& s) {
  std::vector<TrailerOption> options;
  if (!s.datagram) return options;
  wire::ByteReader r(s.datagram->ipv6.trailer);
  while (r.remaining() > 0) {
    TrailerOption o;
    wire::Bytes value;
    if (!r.u8(o.type) || !r.u8(o.length) || !r.take(o.length, value)) break;
    o.value.assign(value.begin(), value.end());
    options.push_back(std::move(o));
  }
  return options;
}

inline std::optional<TrailerOption> random_port_option(const Seen& s) {
  for (auto& o : trailer_options(s)) {
    if (o.type == kRandomPortTrailer) return o;
  }
  return std::nullopt;
}

// R6081-4.5-03: network byte order.
inline std::optional<std::uint16_t> advertised_port(const std::optional<TrailerOption>& o) {
  if (!o || o->length != 2 || o->value.size() != 2) return std::nullopt;
  return static_cast<std::uint16_t>((o->value[0] << 8) | o->value[1]);
}

inline Endpoint embedded_mapping(const wire::Ipv6Address& address) {
  const auto t = wire::parse_teredo(address);
  return t ? Endpoint{t->mapped_ipv4, t->mapped_port} : Endpoint{};
}

// A bubble from the IUT for `peer`, to address:port (port 0: any).
inline FrameMatch iut_bubble_to(const Capture& capture, const Peer& peer, const std::string& address,
                                std::uint16_t port) {
  const FrameMatch bubble = iut_bubble_for(capture, peer.teredo);
  const FrameMatch to = iut_to(capture, address, port);
  return [bubble, to](const CapturedFrame& f) { return bubble(f) && to(f); };
}

// The same UDP payload as `lan_frame`, seen on the inet side going to address:port.
inline FrameMatch same_payload_to(const Capture& capture, const Seen& lan_frame, const std::string& address,
                                  std::uint16_t port) {
  const wire::LinkType link = capture.link_type();
  const wire::ByteVector payload(lan_frame.carrier.payload.begin(), lan_frame.carrier.payload.end());
  const wire::Ipv4Address to = kit::ipv4(address);
  return [link, payload, to, port](const CapturedFrame& f) {
    const auto c = wire::find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->destination4 == to && c->destination_port == port && kit::same(c->payload, payload);
  };
}

// The first frame of the inet capture (the driver's side of the NAT) that
// `match` accepts, waiting up to `timeout`.
inline std::optional<Seen> wait_inet(CaseRun& run, const FrameMatch& match, std::chrono::milliseconds timeout) {
  Capture& capture = run.capture("inet");
  const auto f = capture.wait_for(match, timeout, 0);
  if (!f) return std::nullopt;
  return kit::CapturedDatagram::parse(*f, capture.link_type(), "inet");
}

// An indirect bubble from `peer` to `iut`, as the IUT's server relays it
// (origin indication: origin_port at the peer's address), with a Random Port
// Trailer when random_port is not 0.
inline wire::ByteVector relayed_bubble(const Peer& peer, const wire::Ipv6Address& iut, std::uint16_t random_port,
                                       std::uint16_t origin_port = 0) {
  const wire::ByteVector bubble = kit::bubble_packet(peer.teredo, iut);
  wire::ByteVector trailer;
  if (random_port != 0) {
    trailer = {kRandomPortTrailer, 2, static_cast<std::uint8_t>(random_port >> 8),
               static_cast<std::uint8_t>(random_port)};
  }
  wire::ByteVector out;
  (void)wire::append_datagram(
      out, std::nullopt, wire::OriginIndication{origin_port != 0 ? origin_port : peer.port, kit::ipv4(peer.address)},
      bubble, trailer);
  return out;
}

inline void all_inconclusive(CaseRun& run, const std::vector<std::string>& reqs, const std::string& why,
                             AssertionCode code) {
  for (const auto& r : reqs) run.inconclusive(r, why, code);
}

// The application writes `mark` to `peer`; false, with every requirement of
// `reqs` inconclusive (app_send_failed), when the client's stack refused it.
inline bool app_write(CaseRun& run, App& app, const Peer& peer, const std::string& mark,
                      const std::vector<std::string>& reqs) {
  std::string error;
  if (app.send(peer.teredo, kit::bytes_of(mark.c_str()), &error)) return true;
  all_inconclusive(run, reqs, "the application could not send to peer A: " + error, "app_send_failed");
  return false;
}

// An RFC duration on the IUT's clock: the adapter's bubble_interval (RFC: 2 s)
// says how it is scaled.
inline std::chrono::milliseconds rfc_time(const Timers& t, std::chrono::milliseconds rfc) {
  const double scale = static_cast<double>(t.bubble.count()) / 2000.0;
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(rfc.count()) * scale));
}

// §5.5.4.1.1: an Echo Test's three packets.
struct EchoTestSeen {
  std::optional<Seen> rs1, bubble, rs2;
  std::uint16_t port = 0;
};

// The first Echo Test from a port other than the service port after `after`:
// an RS to the server address, a direct bubble to A, an RS to the secondary
// address, all from that port.
inline EchoTestSeen find_echo_test(CaseRun& run, const Peer& a, std::uint16_t service_port, std::uint64_t after) {
  Capture& lan_capture = run.capture("lan");
  EchoTestSeen e;
  const FrameMatch from_iut_frame = from_iut(lan_capture);
  const FrameMatch rs = iut_rs(lan_capture);
  const FrameMatch bubble = iut_bubble_for(lan_capture, a.teredo);
  for (const auto& s : all_seen(run, from_iut_frame, after)) {
    if (s.carrier.source_port == service_port) continue;
    if (e.port == 0) e.port = s.carrier.source_port;
    if (s.carrier.source_port != e.port) continue;
    const CapturedFrame f{s.frame, s.at, s.bytes};
    if (!e.rs1 && rs(f) && s.carrier.destination4 == kit::ipv4(kServer)) {
      e.rs1 = s;
    } else if (e.rs1 && !e.bubble && bubble(f)) {
      e.bubble = s;
    } else if (e.bubble && !e.rs2 && rs(f) && s.carrier.destination4 == kit::ipv4(kServer2)) {
      e.rs2 = s;
      break;
    }
  }
  return e;
}

inline std::optional<wire::Nonce> nonce_of(const std::optional<Seen>& s) {
  if (!s || !s->datagram || !s->datagram->authentication) return std::nullopt;
  return s->datagram->authentication->nonce;
}

}  // namespace teredo::conformance::client
