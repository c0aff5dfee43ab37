// Captures the project makes itself from its own builders: a Teredo life cycle
// (qualification with and without the cone bit, secure qualification with a
// client identifier and HMAC, bubbles direct and through the server, the direct
// IPv6 connectivity test). They fill the gaps of the public captures (no
// client id, no authentication value, no confirmation byte other than 0) and
// serve as decoder vectors, tshark cross-checks and fuzz seeds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "teredo/wire/bytes.hpp"

namespace teredo::samples {

struct SampleFrame {
  std::int64_t timestamp_us = 0;
  std::string description;
  wire::ByteVector frame;       // Ethernet II / IPv4 / UDP / Teredo
  wire::ByteVector udp_payload; // the Teredo datagram alone
};

// Deterministic: the same frames, byte for byte, on every call.
std::vector<SampleFrame> lifecycle_frames();

// The shared secret and client identifier used by the secure-qualification frames.
inline constexpr std::string_view kSampleSecret = "teredo-sample-secret";
inline constexpr std::string_view kSampleClientId = "client-7";

// Writes lifecycle_frames() as a classic pcap (Ethernet link type).
void write_lifecycle_pcap(const std::string& path);

}  // namespace teredo::samples
