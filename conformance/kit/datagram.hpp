// One captured datagram for every role: the frame a judgement cites, parsed
// as an IPv4/UDP carrier and (when it parses) a Teredo datagram. It owns its
// bytes, and its views (carrier.payload, datagram's fields) point into its
// own `bytes` only: a copy parses its own copy again, a move keeps the
// buffer (a moved std::vector keeps its storage). Do not change `bytes` in
// place; build a new one.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "engine/capture.hpp"
#include "engine/case.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::kit {

class CapturedDatagram {
 public:
  std::uint64_t frame = 0;                             // frame number in its capture
  std::string vantage{};                               // the capture's name ("driver", "lan", ...)
  std::chrono::steady_clock::time_point at{};          // when it was captured
  wire::ByteVector bytes{};                            // the whole frame
  wire::UdpCarrier carrier{};                          // views into `bytes`
  std::optional<wire::TeredoDatagram> datagram{};      // views into `bytes`, when it parses (trailers accepted)
  wire::ParseError error = wire::ParseError::none;     // why it does not parse as Teredo

  // nullopt when the frame is not IPv4/UDP.
  static std::optional<CapturedDatagram> parse(const CapturedFrame& frame, wire::LinkType link,
                                               std::string vantage = {});

  CapturedDatagram() = default;
  CapturedDatagram(const CapturedDatagram& other);
  CapturedDatagram& operator=(const CapturedDatagram& other);
  CapturedDatagram(CapturedDatagram&&) noexcept = default;
  CapturedDatagram& operator=(CapturedDatagram&&) noexcept = default;
  ~CapturedDatagram() = default;

 private:
  bool reparse();  // sets carrier/datagram/error from `bytes`; false when not IPv4/UDP
  wire::LinkType link_ = wire::LinkType::ethernet;
};

// "RA fe80::... -> fe80::... from 203.0.113.2:3544 to 198.51.100.7:40001 (driver frame 4)".
std::string describe(const CapturedDatagram& d);
// A frame of any kind: a datagram as above, a native IPv6 packet, else its number.
std::string describe_frame(const CapturedFrame& frame, wire::LinkType link, const std::string& vantage = {});

// {"<vantage>.pcap", frame}.
FrameRef frame_ref(std::uint64_t frame, const std::string& vantage);
FrameRef frame_ref(const CapturedDatagram& d);
// The frames of one capture, 0 (not seen) skipped.
std::vector<FrameRef> frames_of(const std::string& vantage, std::initializer_list<std::uint64_t> numbers);

}  // namespace teredo::conformance::kit
