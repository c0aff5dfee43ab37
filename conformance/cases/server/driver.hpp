// What the server-role cases share: the lab's addresses, RS datagrams with
// every knob a negative case needs, and judging helpers that read the IUT's
// answers from the driver's capture (never from the sockets: the verdict is
// judged from the trace, with frame numbers).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/case.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::server {

inline constexpr const char* kPrimary = "203.0.113.1";
inline constexpr const char* kSecondary = "203.0.113.2";
inline constexpr const char* kDriver = "198.51.100.7";
inline constexpr const char* kNonGlobalDriver = "192.88.99.7";  // RFC 4380 §5.2.4: 192.88.99.0/24 is not global
inline constexpr std::uint16_t kTeredoPort = 3544;
// How long a silent IUT is given before "no answer" is the observation.
inline constexpr std::chrono::milliseconds kAnswerTimeout{1500};
inline constexpr std::chrono::milliseconds kSilenceWindow{1000};

struct RsOptions {
  bool cone = false;                     // source fe80::8000:ffff:ffff:fffd instead of fe80::ffff:ffff:fffd
  bool authentication = true;            // an authentication encapsulation with a nonce
  wire::Nonce nonce = {1, 2, 3, 4, 5, 6, 7, 8};
  std::uint8_t hop_limit = 255;
  std::uint8_t code = 0;
  wire::ByteVector options{};            // encoded ND options
  bool corrupt_checksum = false;
  std::optional<wire::Ipv6Address> source{};     // overrides the link-local source
  std::optional<wire::Ipv6Address> destination{};  // overrides ff02::2
};
wire::ByteVector rs_datagram(const RsOptions& options);

// A captured datagram the IUT sent to the driver, parsed.
struct Reply {
  std::uint64_t frame = 0;
  wire::UdpCarrier carrier;  // views into `bytes`
  wire::ByteVector bytes;
  std::optional<wire::TeredoDatagram> datagram;  // when it parses as Teredo
  wire::ParseError error = wire::ParseError::none;
};

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

// The RA inside a reply, if it is one.
struct ParsedRa {
  wire::Icmpv6Message icmp;
  wire::RouterAdvertisement ra;
};
std::optional<ParsedRa> parse_ra(const Reply& reply);

std::string describe(const Reply& reply);           // "RA from 203.0.113.2:3544 (frame 4)"
FrameRef frame_ref(const Reply& reply);             // {"driver.pcap", frame}
std::string endpoint(const wire::Ipv4Address& a, std::uint16_t port);

}  // namespace teredo::conformance::server
