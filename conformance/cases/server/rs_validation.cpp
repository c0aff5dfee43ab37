// RFC 2461 §6.1.1, which binds the server because RFC 4380 §5.3 makes it an
// IPv6 router: "A router MUST silently discard any received Router
// Solicitation messages that do not satisfy all of the following validity
// checks". Each case sends one invalid RS, waits out the silence window, then
// proves the server alive with a valid control RS.
#include <fmt/format.h>

#include "cases/server/driver.hpp"

namespace teredo::conformance::server {
namespace {

using namespace teredo::wire;

void discard(CaseRun& run, const std::string& requirement, std::uint16_t port, const ByteVector& payload,
             const std::string& what) {
  const Peer p = make_peer(run, kDriver, port);
  const SilenceProbe probe = probe_answer(run, p, payload, what);
  judge_silence(run, {requirement}, {probe}, control_rs());
}

void hop_limit_254(CaseRun& run) {
  discard(run, "R2461-6.1.1-01", 40101, rs_datagram({.hop_limit = 254}), "an RS with IPv6 hop limit 254");
}

void bad_checksum(CaseRun& run) {
  discard(run, "R2461-6.1.1-02", 40102, rs_datagram({.corrupt_checksum = true}),
          "an RS whose ICMPv6 checksum is wrong (first checksum byte xor 0x5a)");
}

void code_1(CaseRun& run) {
  discard(run, "R2461-6.1.1-03", 40103, rs_datagram({.code = 1}), "an RS with ICMPv6 code 1");
}

void short_icmp(CaseRun& run) {
  // Type, code, checksum and two of the four reserved bytes: an ICMPv6
  // length of 6 octets, with a valid checksum.
  const ByteVector packet = build_icmpv6_packet(ipv6("fe80::ffff:ffff:fffd"), ipv6("ff02::2"), 255,
                                                kIcmpv6RouterSolicitation, 0, ByteVector{0, 0});
  ByteVector payload;
  append_datagram(payload, AuthenticationFields{.nonce = {1, 2, 3, 4, 5, 6, 7, 8}}, std::nullopt, packet);
  discard(run, "R2461-6.1.1-04", 40104, payload, "an RS whose ICMPv6 length is 6 octets (valid checksum)");
}

void zero_length_option(CaseRun& run) {
  // A source link-layer address option whose length byte is 0.
  const ByteVector options = {1, 0, 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
  discard(run, "R2461-6.1.1-05", 40105, rs_datagram({.options = options}),
          "an RS carrying an option of length 0 (type 1)");
}

void unspecified_source_slla(CaseRun& run) {
  ByteVector options;
  const std::uint8_t lla[6] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
  append_source_link_layer_option(options, lla);
  discard(run, "R2461-6.1.1-06", 40106, rs_datagram({.options = options, .source = ipv6("::")}),
          "an RS from the unspecified address :: carrying a source link-layer address option");
}

constexpr const char* kJudgement =
    "Pass when nothing reaches the probe's endpoint within 1 s and a valid control RS sent afterwards is answered "
    "(if the control is not answered either, the case is inconclusive). RFC 2461 §6.1.1: 'A router MUST silently "
    "discard any received Router Solicitation messages that do not satisfy all of the following validity checks'.";

}  // namespace

TEREDO_CASE({.id = "server.rs.discard-hop-limit-254",
             .title = "An RS with hop limit 254 is silently discarded",
             .description = "The driver sends an otherwise valid RS (nonce authentication, link-local source, "
                            "ff02::2) whose IPv6 hop limit is 254 from 198.51.100.7:40101, then a valid control RS.",
             .judgement = std::string(kJudgement) + " Check: 'The IP Hop Limit field has a value of 255'.",
             .role = "server",
             .requirements = {"R2461-6.1.1-01"},
             .body = hop_limit_254});

TEREDO_CASE({.id = "server.rs.discard-bad-checksum",
             .title = "An RS with a wrong ICMPv6 checksum is silently discarded",
             .description = "The driver sends an otherwise valid RS whose ICMPv6 checksum is corrupted from "
                            "198.51.100.7:40102, then a valid control RS.",
             .judgement = std::string(kJudgement) + " Check: 'ICMP Checksum is valid'.",
             .role = "server",
             .requirements = {"R2461-6.1.1-02"},
             .body = bad_checksum});

TEREDO_CASE({.id = "server.rs.discard-code-1",
             .title = "An RS with ICMPv6 code 1 is silently discarded",
             .description = "The driver sends an otherwise valid RS (checksum computed) with ICMPv6 code 1 from "
                            "198.51.100.7:40103, then a valid control RS.",
             .judgement = std::string(kJudgement) + " Check: 'ICMP Code is 0'.",
             .role = "server",
             .requirements = {"R2461-6.1.1-03"},
             .body = code_1});

TEREDO_CASE({.id = "server.rs.discard-short-icmp",
             .title = "An RS shorter than 8 octets is silently discarded",
             .description = "The driver sends an RS whose ICMPv6 message is 6 octets long (valid checksum) from "
                            "198.51.100.7:40104, then a valid control RS.",
             .judgement = std::string(kJudgement) + " Check: 'ICMP length (derived from the IP length) is 8 or "
                                                    "more octets'.",
             .role = "server",
             .requirements = {"R2461-6.1.1-04"},
             .body = short_icmp});

TEREDO_CASE({.id = "server.rs.discard-zero-length-option",
             .title = "An RS with a zero-length option is silently discarded",
             .description = "The driver sends an RS carrying an option of type 1 whose length byte is 0 (valid "
                            "checksum) from 198.51.100.7:40105, then a valid control RS.",
             .judgement = std::string(kJudgement) + " Check: 'All included options have a length that is greater "
                                                    "than zero'.",
             .role = "server",
             .requirements = {"R2461-6.1.1-05"},
             .body = zero_length_option});

TEREDO_CASE({.id = "server.rs.discard-unspecified-source-slla",
             .title = "An RS from the unspecified address with a source link-layer option is silently discarded",
             .description = "The driver sends an RS from :: to ff02::2 carrying a source link-layer address option "
                            "from 198.51.100.7:40106, then a valid control RS.",
             .judgement = std::string(kJudgement) + " Check: 'If the IP source address is the unspecified address, "
                                                    "there is no source link-layer address option in the message'.",
             .role = "server",
             .requirements = {"R2461-6.1.1-06"},
             .body = unspecified_source_slla});

}  // namespace teredo::conformance::server
