// What the server-role cases share: the lab's addresses, RS datagrams with
// every knob a negative case needs, driver "clients" (sockets whose Teredo
// addresses are built from their real endpoints), and judging helpers that
// read the IUT's answers from the driver's capture (never from the sockets:
// the verdict is judged from the trace, with frame numbers).
//
// Negative cases follow one pattern (ANCHORS.md §4: negative cases matter,
// explicit timing): send the probe, wait the whole silence window, then send
// a valid control packet. Silence only counts when the control is answered;
// a server that answers nothing makes the case inconclusive, never a pass.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/case.hpp"
#include "teredo/wire/hmac.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::server {

inline constexpr const char* kPrimary = "203.0.113.1";
inline constexpr const char* kSecondary = "203.0.113.2";
inline constexpr const char* kDriver = "198.51.100.7";
inline constexpr const char* kNonGlobalDriver = "192.88.99.7";  // RFC 4380 §5.2.4: 192.88.99.0/24 is not global
inline constexpr const char* kRelayHost = "198.51.100.20";      // client-nat: the relay host on the inet segment
inline constexpr const char* kV6Host = "2001:db8:1::10";        // client-nat: the native IPv6 host (segment v6net)
inline constexpr std::uint16_t kTeredoPort = 3544;
inline constexpr std::uint16_t kControlPort = 40999;  // the control RS / control client
// Secure qualification placeholders of engine/runner.cpp ({secret}, {client_id}).
inline constexpr const char* kSecret = "teredo-conformance-secret";
inline constexpr const char* kClientId = "client-7";
// How long a silent IUT is given before "no answer" is the observation.
inline constexpr std::chrono::milliseconds kAnswerTimeout{1500};
inline constexpr std::chrono::milliseconds kSilenceWindow{1000};

wire::Ipv4Address ipv4(const std::string& text);  // throws on bad text (a harness bug)
wire::Ipv6Address ipv6(const std::string& text);

// The Teredo address 2001:0:<server>:<flags>:<~port>:<~mapped>.
wire::Ipv6Address teredo_address(const std::string& server, std::uint16_t flags, const std::string& mapped,
                                 std::uint16_t port);
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
wire::Bytes bytes_of(const char* text);  // the bytes of a C string, without its NUL

// A captured datagram the IUT sent to the driver, parsed.
struct Reply {
  std::uint64_t frame = 0;
  wire::UdpCarrier carrier;  // views into `bytes`
  wire::ByteVector bytes;
  std::optional<wire::TeredoDatagram> datagram;  // when it parses as Teredo
  wire::ParseError error = wire::ParseError::none;
};
// Parses a captured frame as a Reply (nullopt when it is not IPv4/UDP).
std::optional<Reply> as_reply(const CapturedFrame& frame, wire::LinkType link);

using FrameMatch = std::function<bool(const CapturedFrame&)>;

// The next UDP datagram to `driver_address:driver_port` after frame `after`
// in the driver capture, waiting up to `timeout`.
std::optional<Reply> next_reply(CaseRun& run, const std::string& driver_address, std::uint16_t driver_port,
                                std::uint64_t after, std::chrono::milliseconds timeout = kAnswerTimeout);

// The last frame number of the driver capture now (send something, then look
// for answers after it).
std::uint64_t mark(CaseRun& run);

// Sends `payload` from driver_address:driver_port to the server's primary
// address (or `to`), returns the capture mark taken before sending.
std::uint64_t send_to_server(CaseRun& run, int socket, wire::Bytes payload, const std::string& to = kPrimary);

// A socket of the driver playing one Teredo client of the server: its
// Teredo address embeds its real endpoint (so §5.3.1 rule 5 accepts it).
struct Peer {
  int fd = -1;
  std::string address{};
  std::uint16_t port = 0;
  wire::Ipv6Address teredo{};
  [[nodiscard]] std::string where() const;  // "198.51.100.7:41001"
};
Peer make_peer(CaseRun& run, const std::string& address, std::uint16_t port, std::uint16_t flags = 0,
               const std::string& host = "driver");

// What a send left in the driver capture.
struct Sent {
  std::uint64_t mark = 0;   // the capture's last frame before sending
  std::uint64_t frame = 0;  // the datagram itself (0 when not seen within 200 ms)
};
// `port` is the destination port (a relay may serve on another one).
Sent send_from(CaseRun& run, const Peer& from, wire::Bytes payload, const std::string& to = kPrimary,
               std::uint16_t port = kTeredoPort);

// Inner packets.
wire::ByteVector encapsulate(wire::Bytes ipv6_packet);  // simple encapsulation (§5.1.1)
wire::ByteVector bubble_packet(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
                               std::uint8_t traffic_class = 0);
wire::ByteVector echo_packet(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
                             std::uint16_t identifier, std::uint16_t sequence, std::size_t data_size = 16);

// Frame matchers over a capture.
// A UDP datagram to address:port.
FrameMatch udp_to(const Capture& capture, const std::string& address, std::uint16_t port);
// The IPv6 packet source -> destination carried by the server: inside a UDP
// datagram from one of its addresses, or as a native IPv6 packet.
FrameMatch carrying(const Capture& capture, const wire::Ipv6Address& source, const wire::Ipv6Address& destination);

// The IPv6 source and destination of the packet inside a Teredo UDP payload,
// read leniently (encapsulations skipped, the payload may be truncated).
std::optional<std::pair<wire::Ipv6Address, wire::Ipv6Address>> inner_addresses(wire::Bytes payload);
// The IPv6 packet inside a native IPv6 frame.
std::optional<wire::Ipv6PacketView> native_ipv6(wire::LinkType link, wire::Bytes frame);
// Fields of the outer IPv4 header of a frame.
struct Ipv4Meta {
  std::uint8_t tos = 0;
  bool dont_fragment = false;
  std::uint8_t ttl = 0;
};
std::optional<Ipv4Meta> ipv4_meta(wire::LinkType link, wire::Bytes frame);

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

// One valid RS from a fresh socket (cone bit clear, nonce) and its RA.
struct Exchange {
  Sent sent;
  std::optional<Reply> reply;
};
Exchange rs_exchange(CaseRun& run, const Peer& from, const RsOptions& options, const std::string& to = kPrimary);

// Negative cases.
struct SilenceProbe {
  std::string what;            // "an RS with hop limit 254 (frame 3)"
  Sent sent;                   // the probe in the driver capture
  FrameMatch reaction;         // what a server that did not discard it would produce
  std::string expected;        // "no datagram to 198.51.100.7:40010 within 1 s"
};
// A control: nullopt when the server did what a valid packet asks (it is
// alive and able to act), otherwise why not.
using Control = std::function<std::optional<std::string>(CaseRun&)>;
// A valid RS from address:kControlPort in `host`.
Control control_rs(const std::string& address = kDriver, const std::string& host = "driver");
Control control_forward(const Peer& from, const Peer& to);  // a valid bubble from -> to
// Waits out the silence window after the last probe, runs `control` when a
// probe met silence, and records for every probe and requirement a check
// (silence = pass, citing the probe and any reaction frame) or, when the
// control failed, an inconclusive assertion saying why.
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

std::string describe(const Reply& reply);           // "RA from 203.0.113.2:3544 (frame 4)"
std::string describe_frame(const CapturedFrame& frame, wire::LinkType link);
FrameRef frame_ref(const Reply& reply);             // {"driver.pcap", frame}
FrameRef frame_ref(std::uint64_t frame, const std::string& vantage = "driver");
std::string endpoint(const wire::Ipv4Address& a, std::uint16_t port);
std::string hex(wire::Bytes bytes);
bool same(wire::Bytes a, wire::Bytes b);  // byte-for-byte equal                 // "00 00 fe ae"
std::vector<FrameRef> frames_of(std::initializer_list<std::uint64_t> numbers);  // skips 0

}  // namespace teredo::conformance::server
