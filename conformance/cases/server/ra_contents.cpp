// §5.3.2 and §5.1.1: what the RA answering a valid RS carries, field by
// field, judged from the captured RA.
#include <fmt/format.h>

#include <algorithm>

#include "cases/server/driver.hpp"

namespace teredo::conformance::server {
namespace {

using namespace teredo::wire;

struct Answer {
  Exchange exchange;
  ParsedRa ra;
  [[nodiscard]] const Reply& reply() const { return *exchange.reply; }
  [[nodiscard]] std::vector<FrameRef> frames() const {
    return frames_of({exchange.sent.frame, exchange.reply->frame});
  }
};

// Sends one valid RS and returns the RA. Without one: silence is judged by
// judge_unanswered_rs (a discard of a valid RS only when a later control RS
// is answered; the contents have nothing to judge), and something other than
// an RA fails every requirement, since that is what the server sent.
std::optional<Answer> fetch_ra(CaseRun& run, std::uint16_t port, const RsOptions& options,
                               const std::vector<std::string>& requirements) {
  const Peer p = make_peer(run, kDriver, port);
  Answer a;
  a.exchange = rs_exchange(run, p, options);
  if (a.exchange.reply) {
    if (const auto ra = parse_ra(*a.exchange.reply)) {
      a.ra = *ra;
      return a;
    }
  }
  if (!a.exchange.reply) {
    judge_unanswered_rs(run, requirements, a.exchange.sent, "a valid RS");
    return std::nullopt;
  }
  // Something other than an RA came back: what the server sent is judged.
  const std::string observed = describe(*a.exchange.reply);
  for (const auto& r : requirements) {
    run.check(r, "rs_answered_without_ra", false,
              fmt::format("an RA answering the valid RS (frame {})", a.exchange.sent.frame), observed,
              frames_of({a.exchange.sent.frame, a.exchange.reply->frame}));
  }
  return std::nullopt;
}

void origin_indication(CaseRun& run) {
  constexpr std::uint16_t kPort = 40201;
  const auto a = fetch_ra(run, kPort, {}, {"R4380-5.1.1-01", "R4380-5.3.2-01"});
  if (!a) return;
  // §5.1.1 by hand: 0x0000, ~port, ~IPv4, network order.
  const std::uint16_t port = static_cast<std::uint16_t>(~kPort);
  const auto octets = ipv4(kDriver).octets();
  const ByteVector expected = {0x00,
                               0x00,
                               static_cast<std::uint8_t>(port >> 8),
                               static_cast<std::uint8_t>(port & 0xff),
                               static_cast<std::uint8_t>(~octets[0]),
                               static_cast<std::uint8_t>(~octets[1]),
                               static_cast<std::uint8_t>(~octets[2]),
                               static_cast<std::uint8_t>(~octets[3])};
  const auto& d = *a->reply().datagram;
  const bool present = d.origin.has_value();
  run.check("R4380-5.1.1-01", "origin_not_obfuscated",
            present && std::equal(d.origin_encoded.begin(), d.origin_encoded.end(), expected.begin(), expected.end()),
            "origin indication bytes " + hex(expected) + " (198.51.100.7:40201 obfuscated)",
            present ? "origin indication bytes " + hex(d.origin_encoded) : "no origin indication in the RA",
            a->frames());
  run.check(
      "R4380-5.3.2-01", "origin_not_rs_source",
      present && d.origin->address == ipv4(kDriver) && d.origin->port == kPort,
      "the RS's source 198.51.100.7:40201 returned as the mapped address and port",
      present ? "origin indication " + endpoint(d.origin->address, d.origin->port) : "no origin indication in the RA",
      a->frames());
}

void prefix(CaseRun& run) {
  const auto a = fetch_ra(run, 40202, {}, {"R4380-5.3.2-02"});
  if (!a) return;
  const auto& options = a->ra.ra.options;
  const Ipv6Address want = teredo_prefix(ipv4(kPrimary));
  bool ok = options.prefix_information_count == 1 && options.prefix_information &&
            options.prefix_information->prefix_length == 64 &&
            std::equal(want.bytes.begin(), want.bytes.begin() + 8, options.prefix_information->prefix.bytes.begin());
  const auto& ip = a->reply().datagram->ipv6;
  const bool checksum_ok = parse_icmpv6(ip, ChecksumPolicy::verify).ok();
  const bool router_fields_ok = ip.header.hop_limit == 255 && a->ra.icmp.code == 0;
  ok = ok && checksum_ok && router_fields_ok;
  std::string observed =
      fmt::format("{} prefix information option(s)", options.prefix_information_count) +
      (options.prefix_information ? fmt::format(", the first {}/{}", to_string(options.prefix_information->prefix),
                                                options.prefix_information->prefix_length)
                                  : std::string());
  observed += fmt::format("; ICMPv6 checksum {}, hop limit {}, code {}", checksum_ok ? "valid" : "INVALID",
                          ip.header.hop_limit, a->ra.icmp.code);
  run.check("R4380-5.3.2-02", "ra_not_valid_with_teredo_prefix", ok,
            "a valid RA (checksum, hop limit 255, code 0) with exactly one prefix information option, "
            "2001:0:cb00:7101::/64 (2001:0000::/32 + 203.0.113.1)",
            observed, a->frames());
  if (options.prefix_information) {
    run.info(fmt::format("prefix option flags 0x{:02x}, valid lifetime {}, preferred lifetime {}",
                         options.prefix_information->flags, options.prefix_information->valid_lifetime,
                         options.prefix_information->preferred_lifetime),
             "prefix_option_fields");
  }
}

void mtu(CaseRun& run) {
  const auto a = fetch_ra(run, 40203, {}, {"R4380-5.1.2-01"});
  if (!a) return;
  const auto& m = a->ra.ra.options.mtu;
  run.check("R4380-5.1.2-01", "ra_mtu_not_1280", m && *m == 1280, "an MTU option of 1280",
            m ? fmt::format("MTU option {}", *m) : std::string("no MTU option"), a->frames());
}

void source_link_local(CaseRun& run) {
  const auto a = fetch_ra(run, 40204, {}, {"R4380-5.3.2-03", "R5991-3.2-03", "R4380-4-03"});
  if (!a) return;
  const Ipv6Address source = a->reply().datagram->ipv6.header.source;
  const Ipv6Address want = server_link_local(kPrimary);
  run.check("R4380-5.3.2-03", "ra_source_not_server_link_local", source == want,
            to_string(want) +
                " (fe80::/64, flags 0x8000, ~3544 = f227, ~203.0.113.1 = 34ff:8efe: RFC 4380 §4 "
                "obfuscates both)",
            "RA from " + to_string(source), a->frames());
  const std::uint16_t flags = source.group(4);
  run.check("R5991-3.2-03", "server_address_cone_bit_clear", source.is_link_local() && (flags & kFlagCone) != 0,
            "the server's own (link-local Teredo) address has the cone bit set",
            fmt::format("RA source {} (flags 0x{:04x})", to_string(source), flags), a->frames());
  run.check("R4380-4-03", "reserved_flag_bits_set", (flags & (kFlagReserved | kFlagUniversalLocal | kFlagGroup)) == 0,
            "the reserved flag bits (R 0x4000, U 0x0200, G 0x0100) zero in the address the server sends from",
            fmt::format("flags 0x{:04x}", flags), a->frames());
}

void destination_is_rs_source(CaseRun& run) {
  const Ipv6Address source = ipv6("fe80::1234:5678:9abc:def0");
  const auto a = fetch_ra(run, 40205, {.source = source}, {"R4380-5.3.2-04", "R4380-5.3.2-05"});
  if (!a) return;
  const auto& c = a->reply().carrier;
  run.check("R4380-5.3.2-04", "ra_not_to_rs_source", a->reply().datagram->ipv6.header.destination == source,
            "RA to the RS source " + to_string(source),
            "RA to " + to_string(a->reply().datagram->ipv6.header.destination), a->frames());
  run.check("R4380-5.3.2-05", "ra_not_to_rs_ipv4_source",
            to_string(c.destination4) == kDriver && c.destination_port == 40205,
            "over UDP to the RS's source 198.51.100.7:40205", "to " + endpoint(c.destination4, c.destination_port),
            a->frames());
}

void nonce_echoed(CaseRun& run) {
  Nonce nonce{};
  for (auto& b : nonce) b = static_cast<std::uint8_t>(run.random()());
  const auto a = fetch_ra(run, 40206, {.nonce = nonce}, {"R4380-5.3.2-11"});
  if (!a) return;
  const auto& auth = a->reply().datagram->authentication;
  const bool ok = auth && auth->nonce == nonce && auth->client_id.empty();
  run.check("R4380-5.3.2-11", "nonce_not_echoed", ok,
            "an authentication encapsulation repeating the RS's nonce " + hex(nonce) +
                " and its (empty) client "
                "identifier",
            auth ? fmt::format("authentication with nonce {}, client identifier of {} bytes, confirmation {}",
                               hex(auth->nonce), auth->client_id.size(), auth->confirmation)
                 : std::string("no authentication encapsulation in the RA"),
            a->frames());
}

void auth_before_origin(CaseRun& run) {
  const auto a = fetch_ra(run, 40207, {}, {"R4380-5.1.1-02"});
  if (!a) return;
  const Bytes p = a->reply().carrier.payload;
  // Walk the encapsulations as they stand on the wire.
  std::vector<std::string> order;
  std::size_t at = 0;
  while (at + 2 <= p.size() && p[at] == 0 && (p[at + 1] == 0 || p[at + 1] == 1) && order.size() < 4) {
    if (p[at + 1] == 1) {
      order.push_back("authentication");
      if (at + 4 > p.size()) break;
      at += kAuthenticationFixedSize + p[at + 2] + p[at + 3];
    } else {
      order.push_back("origin");
      at += kOriginIndicationSize;
    }
  }
  if (at < p.size() && (p[at] >> 4) == 6) order.push_back("IPv6");
  std::string observed;
  for (const auto& o : order) observed += (observed.empty() ? "" : ", ") + o;
  run.check("R4380-5.1.1-02", "auth_not_before_origin",
            order == std::vector<std::string>{"authentication", "origin", "IPv6"},
            "authentication, origin, IPv6 (the RS carried a nonce, so the RA holds both encapsulations)",
            observed.empty() ? "no recognisable encapsulation" : observed, a->frames());
}

void outer_df_clear(CaseRun& run) {
  const auto a = fetch_ra(run, 40208, {}, {"R4380-5.1.2-02"});
  if (!a) return;
  const auto meta = ipv4_meta(run.capture("driver").link_type(), a->reply().bytes);
  run.check("R4380-5.1.2-02", "df_bit_set", meta && !meta->dont_fragment, "the DF bit clear in the RA's IPv4 header",
            meta ? fmt::format("DF {}", meta->dont_fragment ? "set" : "clear") : std::string("no IPv4 header"),
            a->frames());
}

}  // namespace

TEREDO_CASE({.id = "server.ra.origin-indication",
             .title = "The RA's origin indication carries the RS's source, obfuscated as §5.1.1 specifies",
             .description = "The driver sends a valid RS from 198.51.100.7:40201 to 203.0.113.1:3544.",
             .judgement = "Pass when the RA's origin indication is exactly 00 00 62 f6 39 cc 9b f8 (0x0000, ~40201, "
                          "~198.51.100.7) and so decodes to 198.51.100.7:40201, the endpoint the driver's datagram "
                          "was seen from (RFC 4380 §5.3.2: the IPv4 address and UDP port 'become the Teredo mapped "
                          "address and Teredo mapped port of the client').",
             .role = "server",
             .requirements = {"R4380-5.1.1-01", "R4380-5.3.2-01"},
             .body = origin_indication});

TEREDO_CASE({.id = "server.ra.prefix",
             .title = "The RA advertises exactly one prefix: 2001:0:<203.0.113.1>::/64",
             .description = "The driver sends a valid RS from 198.51.100.7:40202.",
             .judgement = "Pass when the RA is a valid router advertisement (ICMPv6 checksum, hop limit 255, code 0) "
                          "with exactly one prefix information option whose prefix is 2001:0:cb00:7101::/64 (RFC "
                          "4380 §5.3.2: 'MUST advertise the Teredo IPv6 prefix composed from the service prefix and "
                          "the server's IPv4 address').",
             .role = "server",
             .requirements = {"R4380-5.3.2-02"},
             .body = prefix});

TEREDO_CASE({.id = "server.ra.mtu-1280",
             .title = "The RA's MTU option is 1280",
             .description = "The driver sends a valid RS from 198.51.100.7:40203.",
             .judgement = "Pass when the RA carries an MTU option of 1280 (RFC 4380 §5.1.2: 'the link MTU supplied "
                          "by a Teredo server during router advertisement SHOULD normally be set to ... 1280'); a "
                          "warning otherwise.",
             .role = "server",
             .requirements = {"R4380-5.1.2-01"},
             .body = mtu});

TEREDO_CASE({.id = "server.ra.source-link-local",
             .title = "The RA comes from the server's Teredo link-local address fe80::8000:f227:34ff:8efe",
             .description = "The driver sends a valid RS from 198.51.100.7:40204 to 203.0.113.1:3544.",
             .judgement = "Pass when the RA's IPv6 source is fe80::8000:f227:34ff:8efe: RFC 4380 §5.3.2 'this "
                          "address is derived from the IPv4 address of the server and from the Teredo port, as "
                          "specified in Section 4; the cone bit is set to 1', and §4 stores the port and the IPv4 "
                          "address bit-inverted. A different address is a SHOULD warning; the cone bit (RFC 5991 "
                          "§3.2) and the reserved bits R/U/G at zero (RFC 4380 §4) are judged on their own.",
             .role = "server",
             .requirements = {"R4380-5.3.2-03", "R5991-3.2-03", "R4380-4-03"},
             .body = source_link_local});

TEREDO_CASE({.id = "server.ra.destination-is-rs-source",
             .title = "The RA goes to the RS's IPv6 source, over UDP to the RS's IPv4 source",
             .description = "The driver sends a valid RS from the unusual link-local source "
                            "fe80::1234:5678:9abc:def0 (cone bit clear) from 198.51.100.7:40205.",
             .judgement = "Pass when the RA's IPv6 destination is fe80::1234:5678:9abc:def0 and its UDP destination "
                          "198.51.100.7:40205 (RFC 4380 §5.3.2).",
             .role = "server",
             .requirements = {"R4380-5.3.2-04", "R4380-5.3.2-05"},
             .body = destination_is_rs_source});

TEREDO_CASE({.id = "server.ra.nonce-echoed",
             .title = "The RA repeats the RS's nonce in its authentication encapsulation",
             .description = "The driver sends a valid RS with a nonce-only authentication encapsulation (ID-len = "
                            "AU-len = 0, a random nonce) from 198.51.100.7:40206.",
             .judgement = "Pass when the RA carries an authentication encapsulation with the same nonce and an "
                          "empty client identifier (RFC 4380 §5.3.2: 'The client identifier and the nonce value "
                          "used in the authentication parameter MUST be the same identifier and nonce as received "
                          "in the router solicitation'; §5.2.1 clients drop RAs whose nonce differs).",
             .role = "server",
             .requirements = {"R4380-5.3.2-11"},
             .body = nonce_echoed});

TEREDO_CASE({.id = "server.ra.auth-before-origin",
             .title = "In the RA the authentication encapsulation precedes the origin indication",
             .description = "The driver sends a valid RS with a nonce-only authentication encapsulation from "
                            "198.51.100.7:40207; the RA then holds both encapsulations.",
             .judgement = "Pass when the RA's UDP payload is authentication (00 01 ...), then origin indication "
                          "(00 00 ...), then the IPv6 packet (RFC 4380 §5.1.1: 'the authentication encapsulation "
                          "MUST be the first element in the UDP payload').",
             .role = "server",
             .requirements = {"R4380-5.1.1-02"},
             .body = auth_before_origin});

TEREDO_CASE({.id = "server.ra.outer-df-clear",
             .title = "The RA's IPv4 header leaves the DF bit clear",
             .description = "The driver sends a valid RS from 198.51.100.7:40208.",
             .judgement = "Pass when the captured RA's IPv4 header has DF = 0 (RFC 4380 §5.1.2: 'Teredo "
                          "implementations SHOULD NOT set the Don't Fragment (DF) bit of the encapsulating IPv4 "
                          "header'). A set DF bit is a warning.",
             .role = "server",
             .requirements = {"R4380-5.1.2-02"},
             .body = outer_df_clear});

}  // namespace teredo::conformance::server
