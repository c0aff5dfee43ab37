// What the server-role cases add to the case kit (conformance/kit): RS
// datagrams with every knob a negative case needs, the exchanges and
// controls of a server (an RS answered by an RA, a bubble forwarded), and the
// matchers over what a server carries. The IUT's answers are read from the
// driver's capture (never from the sockets: the verdict is judged from the
// trace, with frame numbers).
//
// Negative cases use the kit's silence judgement: send the probe, wait the
// whole silence window, then send a valid control packet. Silence only counts
// when the control is answered; a server that answers nothing makes the case
// inconclusive, never a pass.
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
#include "teredo/wire/hmac.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::server {

// Lab facts (server-only, and client-nat for the native cases).
inline constexpr const char* kPrimary = kit::lab::kServerPrimary;
inline constexpr const char* kSecondary = kit::lab::kServerSecondary;
inline constexpr const char* kDriver = kit::lab::kDriver;
inline constexpr const char* kNonGlobalDriver = kit::lab::kNonGlobalDriver;
inline constexpr const char* kRelayHost = kit::lab::kRelay;   // client-nat: the relay host on the inet segment
inline constexpr const char* kV6Host = kit::lab::kV6Host;     // client-nat: the native IPv6 host (segment v6net)
inline constexpr std::uint16_t kTeredoPort = kit::lab::kTeredoPort;
inline constexpr std::uint16_t kControlPort = kit::lab::kControlPort;
inline constexpr const char* kSecret = kit::lab::kSecret;
inline constexpr const char* kClientId = kit::lab::kClientId;
inline constexpr std::chrono::milliseconds kAnswerTimeout = kit::timeout::answer;
inline constexpr std::chrono::milliseconds kSilenceWindow = kit::timeout::silence_window;

using kit::bubble_packet;
using kit::bytes_of;
using kit::echo_packet;
using kit::encapsulate;
using kit::endpoint;
using kit::FrameMatch;
using kit::hex;
using kit::inner_addresses;
using kit::ipv4;
using kit::ipv4_meta;
using kit::Ipv4Meta;
using kit::ipv6;
using kit::native_ipv6;
using kit::Peer;
using kit::same;
using kit::Sent;
using kit::teredo_address;
using Reply = kit::CapturedDatagram;  // a datagram the IUT sent, as captured by the driver
using Control = kit::Control;

// fe80::8000:f227:<~server>: the link-local address RFC 4380 §5.3.2 derives
// from the server's IPv4 address and the Teredo port as §4 specifies
// (obfuscated), cone bit 1.
wire::Ipv6Address server_link_local(const std::string& server = kPrimary);

struct RsOptions {
  bool cone = false;                     // source fe80::8000:ffff:ffff:fffd instead of fe80::ffff:ffff:fffd
  bool authentication = true;            // an authentication encapsulation with a nonce
  wire::Nonce nonce = {1, 2, 3, 4, 5, 6, 7, 8};
  wire::ByteVector client_id{};          // ID-len bytes of the authentication encapsulation
  wire::ByteVector auth_value{};         // AU-len bytes (see signed_rs for a computed one)
  std::uint8_t confirmation = 0;
  std::uint8_t hop_limit = 255;
  std::uint8_t code = 0;
  wire::ByteVector options{};            // encoded ND options
  bool corrupt_checksum = false;
  std::optional<wire::Ipv6Address> source{};     // overrides the link-local source
  std::optional<wire::Ipv6Address> destination{};  // overrides ff02::2
  wire::ByteVector trailer{};            // bytes after the IPv6 packet (RFC 6081 §4)
};
// The RS IPv6 packet alone, and the whole UDP payload.
wire::ByteVector rs_packet(const RsOptions& options);
wire::ByteVector rs_datagram(const RsOptions& options);
// An RS whose authentication value is the §5.2.2 MAC over nonce |
// confirmation | IPv6 packet, keyed with `secret` (options.auth_value ignored).
wire::ByteVector signed_rs(RsOptions options, wire::Bytes secret, wire::MacAlgorithm algorithm);

// Parses a captured frame of the driver capture (nullopt when it is not IPv4/UDP).
std::optional<Reply> as_reply(const CapturedFrame& frame, wire::LinkType link);

// The next UDP datagram to `driver_address:driver_port` after frame `after`
// in the driver capture, waiting up to `timeout`.
std::optional<Reply> next_reply(CaseRun& run, const std::string& driver_address, std::uint16_t driver_port,
                                std::uint64_t after, std::chrono::milliseconds timeout = kAnswerTimeout);

// The last frame number of the driver capture now.
std::uint64_t mark(CaseRun& run);

// Sends `payload` from the socket to the server's primary address (or `to`),
// returns the capture mark taken before sending.
std::uint64_t send_to_server(CaseRun& run, int socket, wire::Bytes payload, const std::string& to = kPrimary);

// A driver socket playing one Teredo client of the server (its Teredo
// address names the primary address and embeds its real endpoint).
Peer make_peer(CaseRun& run, const std::string& address, std::uint16_t port, std::uint16_t flags = 0,
               const std::string& host = "driver");
// `port` is the destination port (a relay may serve on another one).
Sent send_from(CaseRun& run, const Peer& from, wire::Bytes payload, const std::string& to = kPrimary,
               std::uint16_t port = kTeredoPort);

// Frame matchers over a capture.
// A UDP datagram to address:port.
FrameMatch udp_to(const Capture& capture, const std::string& address, std::uint16_t port);
// The IPv6 packet source -> destination carried by the server: inside a UDP
// datagram from one of its addresses, or as a native IPv6 packet.
FrameMatch carrying(const Capture& capture, const wire::Ipv6Address& source, const wire::Ipv6Address& destination);

// A datagram forwarded to `to` carrying source -> destination, after `after`.
std::optional<Reply> wait_forward(CaseRun& run, const Peer& to, const wire::Ipv6Address& source,
                                  const wire::Ipv6Address& destination, std::uint64_t after,
                                  std::chrono::milliseconds timeout = kAnswerTimeout);

// The RA inside a reply, if it is one.
struct ParsedRa {
  wire::Icmpv6Message icmp;
  wire::RouterAdvertisement ra;
};
std::optional<ParsedRa> parse_ra(const Reply& reply);

// One RS from `from` and the server's answer.
struct Exchange {
  Sent sent;
  std::optional<Reply> reply;
};
Exchange rs_exchange(CaseRun& run, const Peer& from, const RsOptions& options, const std::string& to = kPrimary);

// Negative cases: a kit probe, plus the send that made it.
struct SilenceProbe : kit::Probe {
  Sent stimulus{};
};
// A valid RS from address:kControlPort in `host`.
Control control_rs(const std::string& address = kDriver, const std::string& host = "driver");
Control control_forward(const Peer& from, const Peer& to);  // a valid bubble from -> to
// A valid RS (`sent`, described by `what`) that met no answer. §5.3.1 rule 4:
// such a packet "MUST be accepted"; its silence proves a discard only when a
// later control RS is answered (then R4380-5.3.1-05 fails, code
// valid_rs_discarded), else it proves nothing. The requirements about the
// RA's contents or addresses have no RA to judge: inconclusive either way.
void judge_unanswered_rs(CaseRun& run, const std::vector<std::string>& requirements, const Sent& sent,
                         const std::string& what, const Control& control = control_rs());
// A packet the server must forward (`requirements` say it is accepted) that
// was not forwarded: a discard when a later control RS is answered (each
// requirement fails with `discard_code`), inconclusive otherwise.
void judge_not_forwarded(CaseRun& run, const std::vector<std::string>& requirements, const Sent& sent,
                         const std::string& what, const std::string& expected, AssertionCode discard_code,
                         const Control& control = control_rs());
// The kit's silence judgement over the driver capture (kit::judge_silence).
void judge_silence(CaseRun& run, const std::vector<std::string>& requirements, const std::vector<SilenceProbe>& probes,
                   const Control& control);
// One probe from `from` to `to`; the reaction watched is any UDP datagram
// back to from's endpoint.
SilenceProbe probe_answer(CaseRun& run, const Peer& from, wire::Bytes payload, std::string what,
                          const std::string& to = kPrimary);
// One probe whose reaction would be the server carrying source -> destination
// anywhere (to a client over UDP or natively).
SilenceProbe probe_carry(CaseRun& run, const Peer& from, wire::Bytes payload, std::string what,
                         const wire::Ipv6Address& source, const wire::Ipv6Address& destination);

using kit::describe;
std::string describe_frame(const CapturedFrame& frame, wire::LinkType link);  // of the driver capture
using kit::frame_ref;
FrameRef frame_ref(std::uint64_t frame);                                        // {"driver.pcap", frame}
std::vector<FrameRef> frames_of(std::initializer_list<std::uint64_t> numbers);  // driver capture; skips 0

}  // namespace teredo::conformance::server
