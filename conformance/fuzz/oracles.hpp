// The oracles of `teredo-conform fuzz` that judge text and bytes, as pure
// functions (the session in cli/fuzz_commands.cpp feeds them the IUT's log
// and the datagrams it sent): sanitizer and panic text in the IUT's log, and
// the wire invariants every datagram a Teredo server sends must keep, each
// citing the catalog requirement it breaks (conformance/catalog/requirements.json).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "fuzz/generator.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::fuzz {

// A sanitizer report, a Python traceback or a Go panic in the IUT's output.
struct LogFinding {
  std::string kind;       // AddressSanitizer | UndefinedBehaviorSanitizer | LeakSanitizer | ThreadSanitizer |
                          // MemorySanitizer | python_traceback | go_panic
  std::string signature;  // what deduplicates it: the kind and its first words, numbers and addresses dropped
  std::string line;       // the line it was found on
};
// The first report in `text` (whole lines; a report cut at the end of `text`
// is still found, with a shorter signature). nullopt: none.
std::optional<LogFinding> scan_log(std::string_view text);

// The resident set size in KiB from the text of /proc/PID/status (its
// "VmRSS:" line); nullopt when the line is missing or unreadable (a kernel
// thread, a process that just ended).
std::optional<std::uint64_t> vm_rss_kib(std::string_view proc_status);

// The valid RS a liveness probe or a control sends: an authentication
// encapsulation carrying `nonce`, fe80::ffff:ffff:fffd -> ff02::2. With
// `signing`, for its client identifier with a valid authentication value
// (what a server requiring secure qualification answers, RFC 4380 §5.2.2).
wire::ByteVector probe_rs(const wire::Nonce& nonce,
                          const std::optional<GeneratorContext::Signing>& signing = std::nullopt);
// Whether `payload` is an RA (checksum verified) answering `nonce` (any RA
// when `nonce` is nullopt): what the probe's answer must be.
bool is_ra_for(wire::Bytes payload, const std::optional<wire::Nonce>& nonce);

// A datagram the IUT sent, as captured (IPv4/UDP).
struct IutDatagram {
  wire::Ipv4Address source, destination;
  std::uint16_t source_port = 0, destination_port = 0;
  wire::Bytes payload;
};

// The nonces of every authentication encapsulation the fuzzer sent: an RA
// must echo one of them (RFC 4380 §5.3.2).
class NonceBook {
 public:
  void record_sent(wire::Bytes payload);  // no-op when the payload has no readable nonce
  [[nodiscard]] bool contains(const wire::Nonce& nonce) const;
  [[nodiscard]] std::size_t size() const noexcept { return nonces_.size(); }

 private:
  std::unordered_set<std::uint64_t> nonces_;
};

// The role whose datagrams are judged: the invariants cite its requirements.
enum class IutRole : std::uint8_t { server, relay, client };

struct WireViolation {
  std::string code;         // datagram_to_non_global_ipv4 | payload_not_teredo | ra_nonce_unmatched
  std::string requirement;  // the catalog ID it breaks
  std::string detail;       // one line for finding.json
};

// The invariants, first broken one:
//  - datagram_to_non_global_ipv4: the destination is not global unicast
//    (RFC 4380 §5.2.4 ranges). An RA cites R4380-5.3.2-09 ("If not global
//    unicast the RA is dropped silently"); anything else the server sends is
//    a forwarded packet and cites R4380-5.3.1-14 ("If that check fails the
//    packet is dropped silently").
//  - payload_not_teredo: our decoder (wire::parse_datagram, RFC 6081
//    trailers accepted) rejects the payload. A server only sends RAs it
//    builds and packets it forwards; a payload that is not a well-formed
//    Teredo packet is one it failed to drop: R4380-5.3.1-02.
//  - ra_nonce_unmatched: an RA whose authentication nonce is not one the
//    fuzzer sent: R4380-5.3.2-11 ("The RA's authentication header repeats
//    the client identifier and nonce from the RS").
// A relay (RFC 4380 §5.4) sends bubbles and the native packets it carries:
//  - datagram_to_non_global_ipv4 cites R4380-5.4.1-01 ("the Teredo Relay
//    MUST check that the IPv4 destination address embedded in the Teredo
//    IPv6 address is in the format of a global unicast address");
//  - payload_not_teredo cites no requirement (what it encapsulates is a
//    packet it built: a malformed one is a defect the catalog has no
//    sentence for);
//  - teredo_destination_not_global: what it sends (a bubble to the
//    client's server, or the packet) is for a Teredo address whose embedded
//    IPv4 is not global: it processed a packet it must have discarded,
//    R4380-5.4.1-01;
//  - an RA is not what a relay sends: not judged by nonce.
// A client (RFC 4380 §5.2) sends RSs, bubbles and the packets of its host:
//  - datagram_to_non_global_ipv4 cites R4380-5.2.4-07 ("before sending a
//    packet over UDP, the client MUST check that the IPv4 destination
//    address is in the format of a global unicast address"); a datagram to
//    the Teredo IPv4 discovery address 224.0.0.253, port 3544 (a local
//    discovery bubble, §5.2.8) is the one exception;
//  - payload_not_teredo cites no requirement (as for a relay: the packet is
//    one it built, and no catalog sentence names its encoding);
//  - rs_malformed: an RS (ICMPv6 type 133) that is not what §5.2.1 sends:
//    over UDP to port 3544, from a link-local source (fe80::/64) to
//    ff02::2, hop limit 255, code 0, a valid checksum and option list
//    (RFC 4861 §6.1.1): R4380-5.2.1-01.
std::optional<WireViolation> check_iut_datagram(const IutDatagram& datagram, const NonceBook& nonces,
                                                IutRole role = IutRole::server);

}  // namespace teredo::conformance::fuzz
