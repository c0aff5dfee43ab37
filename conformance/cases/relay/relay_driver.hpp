// What the relay-role cases share (RFC 4380 §5.4). The lab is relay-only
// (netns/topologies/relay-only.json): the IUT relay on 198.51.100.20 and
// 2001:db8:1::1; the driver on the IPv4 side plays Teredo clients with
// global addresses (198.51.100.7/.8, no NAT: their Teredo addresses embed
// their real endpoints) and their Teredo server (203.0.113.1); v6host
// (2001:db8:1::10) is the native IPv6 side.
//
// The driver plays a client convincingly: when the relay sends its indirect
// bubble to the client's server (the driver's 203.0.113.1:3544), the client
// answers with a direct bubble from its mapped endpoint to the relay's
// endpoint, as a real client does once its server has forwarded the bubble
// (§5.2.3), so the relay marks the peer trusted and sends what it queued.
//
// Verdicts are judged from the captures: "driver" (driver:eth0, the IPv4
// side) and "v6host" (v6host:eth0, the native side), with frame numbers.
// Negative cases send the probe, wait the silence window, then run a valid
// control (the kit's judgement); silence counts only when the control shows
// the relay working.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/case.hpp"
#include "kit/datagram.hpp"
#include "kit/judge.hpp"
#include "kit/lab_facts.hpp"
#include "kit/match.hpp"
#include "kit/packets.hpp"
#include "kit/party.hpp"
#include "kit/timing.hpp"

namespace teredo::conformance::relay {

using kit::bubble_packet;
using kit::bytes_of;
using kit::contains;
using kit::echo_packet;
using kit::FrameMatch;
using kit::inner_addresses;
using kit::ipv4;
using kit::ipv4_meta;
using kit::ipv6;
using kit::marker;
using kit::native_ipv6;
using kit::Peer;
using kit::same;
using kit::Sent;
using kit::teredo_address;
using Reply = kit::CapturedDatagram;  // a datagram the relay sent, as captured by the driver
using Probe = kit::Probe;
using Control = kit::Control;
using kit::judge_silence;

// Lab facts (relay-only).
inline constexpr const char* kRelay = kit::lab::kRelay;        // {relay_v4}: the relay's IPv4 address
inline constexpr const char* kRelayV6 = kit::lab::kRelayV6;    // the relay's native IPv6 address
inline constexpr const char* kV6Host = kit::lab::kV6Host;      // the native IPv6 host
inline constexpr const char* kServer = kit::lab::kServerPrimary;  // the clients' Teredo server (the driver)
inline constexpr const char* kClients = kit::lab::kClients;    // driver addresses playing clients
inline constexpr const char* kClients2 = kit::lab::kClients2;
inline constexpr const char* kNonGlobal = kit::lab::kNonGlobalDriver;  // not global (RFC 4380 §5.2.4), yet on the driver
inline constexpr std::uint16_t kRelayPort = kit::lab::kTeredoPort;    // both adapters bind the relay to it
inline constexpr std::uint16_t kNativeSink = kit::lab::kNativeSink;  // the UDP port native packets are addressed to
inline constexpr std::chrono::milliseconds kBubbleTimeout = kit::timeout::bubble;
inline constexpr std::chrono::milliseconds kDeliveryTimeout = kit::timeout::delivery;
inline constexpr std::chrono::milliseconds kSilenceWindow = kit::timeout::silence_window;

// A driver socket playing a Teredo client of the server 203.0.113.1 (the driver).
Peer make_peer(CaseRun& run, const std::string& address, std::uint16_t port, std::uint16_t flags = 0);
// A captured frame of the driver capture, parsed.
std::optional<Reply> as_reply(const CapturedFrame& frame, wire::LinkType link);
using kit::describe;
using kit::frame_ref;
FrameRef frame_ref(std::uint64_t frame);                                        // {"driver.pcap", frame}
std::vector<FrameRef> frames_of(std::initializer_list<std::uint64_t> numbers);  // driver capture; skips 0
std::string describe_frame(const CapturedFrame& frame, wire::LinkType link);

// The capture vantage points of every relay case: driver:eth0 and v6host:eth0.
std::vector<VantagePoint> relay_captures();

// Binds the server's 203.0.113.1:3544 on the driver, so that the relay's
// indirect bubbles land on a socket (no ICMP port unreachable back).
void open_server(CaseRun& run);

// A UDP socket of a native IPv6 host (v6host by default), closed with it.
class NativeHost {
 public:
  struct Sent {
    std::uint64_t driver_mark = 0;  // the driver capture before sending
    std::uint64_t native_mark = 0;  // the native capture before sending
    std::uint64_t frame = 0;        // the packet in the native capture (0: not seen, or no capture)
  };
  NativeHost(CaseRun& run, std::uint16_t port, std::string host = "v6host", std::string address = kV6Host,
             std::string capture = "v6host");
  ~NativeHost();
  NativeHost(const NativeHost&) = delete;
  NativeHost& operator=(const NativeHost&) = delete;

  // A UDP packet to [to]:kNativeSink carrying `payload`, traffic class
  // `tclass`; `wait_own`: look for it in the native capture (200 ms at most).
  Sent send(const wire::Ipv6Address& to, wire::Bytes payload, std::uint8_t tclass = 0, bool wait_own = true);
  [[nodiscard]] wire::Ipv6Address address() const { return kit::ipv6(address_); }
  [[nodiscard]] std::string where() const;  // "[2001:db8:1::10]:5001"
  // "frame 3 of v6host.pcap" style references for a send.
  [[nodiscard]] std::vector<FrameRef> refs(const Sent& sent) const;

 private:
  CaseRun& run_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::string host_, address_, capture_;
};

// The native side a case drives: v6host for a relay; for a host-specific
// relay (role host-relay) the relay's host itself, whose own traffic is all
// it relays (no native capture then: what it sends is seen on the IPv4 side).
struct NativeSide {
  std::string host, address, capture;
};
NativeSide native_side(const CaseRun& run);

// Frame matchers over the driver capture (the relay's IPv4 side).
FrameMatch from_relay(const Capture& capture);
// A bubble from the relay whose IPv6 destination is `client` (to its server
// or directly to its mapping).
FrameMatch relay_bubble_for(const Capture& capture, const wire::Ipv6Address& client);
// A datagram from the relay to `to`'s endpoint whose payload holds `mark`.
FrameMatch relay_delivery(const Capture& capture, const Peer& to, const std::string& mark);
// Anything the relay emits for `destination`: a datagram whose inner IPv6
// destination it is, or one to the mapped endpoint embedded in it.
FrameMatch relay_carrying(const Capture& capture, const wire::Ipv6Address& destination);
// A native IPv6 packet source -> destination (v6host capture).
FrameMatch native_carrying(const Capture& capture, const wire::Ipv6Address& source,
                           const wire::Ipv6Address& destination);

// A native IPv6 packet not from the native host itself (so from the relay's
// side) whose bytes hold `mark` (v6host capture).
FrameMatch native_containing(const Capture& capture, const std::string& mark);

// An ICMPv6 echo request source -> destination whose data is `mark`.
wire::ByteVector echo_with(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
                           const std::string& mark, std::uint16_t sequence = 1);

// True when the reply is a bubble sent to the client's server (indirect).
bool indirect(const Reply& bubble, const Peer& client);

// The full §5.4.1 case 3 exchange with the driver as the client: the native
// host sends a packet holding `mark` to `client`; the relay's first bubble
// for it (or a direct delivery, RFC 4380 case 2) is waited for; when
// `answer`, the client answers the bubble from its mapped endpoint and the
// queued packet is waited for at the client.
struct Contact {
  NativeHost::Sent sent{};
  std::optional<Reply> bubble{};        // the relay's first bubble for the client
  std::optional<Reply> early{};         // a delivery before any answer (direct, untrusted)
  std::string relay_address{};          // the relay's endpoint, from its first datagram
  std::uint16_t relay_port = 0;
  Sent answer{};                        // the client's bubble back (frame 0: none sent)
  std::optional<Reply> delivered{};     // the queued packet at the client
  [[nodiscard]] bool trusted() const { return delivered.has_value() || early.has_value(); }
  [[nodiscard]] std::string story(const Peer& client) const;  // what happened, with frame numbers
  [[nodiscard]] std::vector<FrameRef> frames() const;         // every frame of the exchange
};
Contact contact(CaseRun& run, NativeHost& host, const Peer& client, const std::string& mark, bool answer = true);

// The client sends `packet` to the relay from its mapped endpoint.
Sent client_send(CaseRun& run, const Peer& client, wire::Bytes packet, const std::string& relay = kRelay,
                 std::uint16_t port = kRelayPort);
// The first native packet source -> destination after `after` in the v6host capture.
std::optional<CapturedFrame> wait_native(CaseRun& run, const wire::Ipv6Address& source,
                                         const wire::Ipv6Address& destination, std::uint64_t after,
                                         std::chrono::milliseconds timeout = kDeliveryTimeout);
std::uint64_t native_mark(CaseRun& run);

// Negative cases over both captures use the kit's Probe and judge_silence.
// A native packet to a fresh client must make the relay bubble it (or deliver).
Control control_bubble(NativeHost& host, const Peer& fresh);
// A packet from a client to the native host must show up natively (a relay may
// refuse a client it has not sent to, §5.4.2: then this control is unanswered).
Control control_forward(const Peer& client, const wire::Ipv6Address& native);

// A packet from the client to the native host, as a probe: the reaction is
// the packet (source -> destination) showing up in the v6host capture.
Probe probe_native(CaseRun& run, const Peer& client, wire::Bytes payload, std::string what,
                   const wire::Ipv6Address& source, const wire::Ipv6Address& destination);

std::string describe(CaseRun& run, const std::string& capture, std::uint64_t frame);
std::string describe_native(const CapturedFrame& frame, wire::LinkType link);

}  // namespace teredo::conformance::relay
