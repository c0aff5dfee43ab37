// §5.3.2: how a server answers a valid router solicitation, and which RS
// variants it must still answer (cone bit, either server address, with and
// without authentication, ND options, flag bits, private IPv4 in the
// link-local identifier).
#include <fmt/format.h>

#include "cases/server/driver.hpp"

namespace teredo::conformance::server {
namespace {

using namespace teredo::wire;

std::string rs_text(const Exchange& e, const std::string& what) {
  return fmt::format("{} (frame {})", what, e.sent.frame);
}

// Records `requirement` for "an RA answered the RS, from `from`:3544".
// Returns the RA's reply when there is one.
const Reply* expect_ra_from(CaseRun& run, const std::string& requirement, const Exchange& e, const std::string& from,
                            const std::string& what) {
  const std::string expected = fmt::format("an RA from {}:3544 answering {}", from, rs_text(e, what));
  if (!e.reply) {
    judge_unanswered_rs(run, {requirement}, e.sent, what);
    return nullptr;
  }
  const bool is_ra = parse_ra(*e.reply).has_value();
  const bool right_source =
      to_string(e.reply->carrier.source4) == from && e.reply->carrier.source_port == kTeredoPort;
  run.check(requirement, "ra_not_from_expected_address", is_ra && right_source, expected, describe(*e.reply),
            frames_of({e.sent.frame, e.reply->frame}));
  return &*e.reply;
}

void cone_reply_from_secondary(CaseRun& run) {
  const Exchange e = rs_exchange(run, make_peer(run, kDriver, 40001), {.cone = true});
  const auto& reply = e.reply;
  if (!reply) {
    judge_unanswered_rs(run, {"R4380-5.3.2-07", "R5991-3.2-03"}, e.sent, "a valid RS with the cone bit set");
    return;
  }
  const std::string observed = describe(*reply);
  run.check("R4380-5.3.2-07", "ra_not_from_secondary", to_string(reply->carrier.source4) == kSecondary,
            "an RA from 203.0.113.2:3544", observed, {frame_ref(*reply)});
  run.check("R5991-3.2-03", "cone_bit_not_honoured", to_string(reply->carrier.source4) == kSecondary,
            "the cone bit honoured: answered from the other address", observed, {frame_ref(*reply)});
}

void plain_reply_from_primary(CaseRun& run) {
  const Exchange e = rs_exchange(run, make_peer(run, kDriver, 40002), {.cone = false});
  const auto& reply = e.reply;
  if (!reply) {
    judge_unanswered_rs(run, {"R4380-5.3.2-06", "R4380-5.3.2-05"}, e.sent, "a valid RS with the cone bit clear");
    return;
  }
  run.check("R4380-5.3.2-06", "ra_not_from_primary",
            to_string(reply->carrier.source4) == kPrimary && reply->carrier.source_port == kTeredoPort,
            "an RA from 203.0.113.1:3544", describe(*reply), {frame_ref(*reply)});
  run.check("R4380-5.3.2-05", "ra_not_to_rs_ipv4_source",
            to_string(reply->carrier.destination4) == kDriver && reply->carrier.destination_port == 40002,
            "sent to the RS's source 198.51.100.7:40002",
            endpoint(reply->carrier.destination4, reply->carrier.destination_port), {frame_ref(*reply)});
}

void cone_to_secondary(CaseRun& run) {
  const Peer p = make_peer(run, kDriver, 40003);
  const Exchange e = rs_exchange(run, p, {.cone = true}, kSecondary);
  const std::string what = "an RS with the cone bit sent to the secondary address 203.0.113.2:3544";
  expect_ra_from(run, "R4380-5.3.2-07", e, kPrimary, what);
  if (e.reply) {
    run.check("R5991-3.2-03", "cone_bit_not_honoured", to_string(e.reply->carrier.source4) == kPrimary,
              "the cone bit honoured: answered from the address the RS did not reach (203.0.113.1)", describe(*e.reply),
              frames_of({e.sent.frame, e.reply->frame}));
  }
}

void no_cone_to_secondary(CaseRun& run) {
  const Peer p = make_peer(run, kDriver, 40004);
  const Exchange e = rs_exchange(run, p, {.cone = false}, kSecondary);
  expect_ra_from(run, "R4380-5.3.2-07", e, kSecondary,
                 "an RS without the cone bit sent to the secondary address 203.0.113.2:3544");
}

void without_authentication(CaseRun& run) {
  const Peer p = make_peer(run, kDriver, 40005);
  const Exchange e = rs_exchange(run, p, {.authentication = false});
  const Reply* r = expect_ra_from(run, "R4380-5.3.1-05", e, kPrimary,
                                  "an RS from fe80::ffff:ffff:fffd to ff02::2 without any authentication encapsulation");
  if (r && r->datagram) {
    run.info(r->datagram->authentication ? "the RA carries an authentication encapsulation although the RS had none"
                                         : "the RA carries no authentication encapsulation, as the RS",
             "ra_authentication_presence");
  }
}

void with_source_link_layer_option(CaseRun& run) {
  const Peer p = make_peer(run, kDriver, 40006);
  ByteVector options;
  const std::uint8_t lla[6] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
  append_source_link_layer_option(options, lla);
  const Exchange e = rs_exchange(run, p, {.options = options});
  expect_ra_from(run, "R4380-5.3.1-05", e, kPrimary,
                 "an RS from a link-local source carrying a source link-layer address option (type 1, length 1)");
}

void with_unknown_option(CaseRun& run) {
  const Peer p = make_peer(run, kDriver, 40007);
  // RFC 2461 §4.6: nodes ignore options they do not recognize.
  const ByteVector options = {250, 1, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
  const Exchange e = rs_exchange(run, p, {.options = options});
  expect_ra_from(run, "R4380-5.3.1-05", e, kPrimary, "an RS carrying an unknown ND option (type 250, length 1)");
}

void flag_bits_ignored(CaseRun& run) {
  // Every z/random flag bit set (R, U, G and the twelve random bits): only
  // the cone bit may change what the server does.
  const Peer a = make_peer(run, kDriver, 40008);
  const Ipv6Address plain_z = ipv6("fe80::7fff:ffff:ffff:fffd");
  const Exchange e1 = rs_exchange(run, a, {.source = plain_z});
  const std::string what1 = "an RS from fe80::7fff:ffff:ffff:fffd (cone bit clear, every other flag bit set)";
  expect_ra_from(run, "R4380-4-03", e1, kPrimary, what1);
  expect_ra_from(run, "R4380-5.3.2-07", e1, kPrimary, what1);
  const Peer b = make_peer(run, kDriver, 40009);
  const Ipv6Address cone_z = ipv6("fe80::ffff:ffff:ffff:fffd");
  const Exchange e2 = rs_exchange(run, b, {.source = cone_z});
  const std::string what2 = "an RS from fe80::ffff:ffff:ffff:fffd (cone bit and every other flag bit set)";
  expect_ra_from(run, "R4380-4-03", e2, kSecondary, what2);
  expect_ra_from(run, "R4380-5.3.2-07", e2, kSecondary, what2);
  for (const Exchange* e : {&e1, &e2}) {
    if (!e->reply || !e->reply->datagram) continue;
    const Ipv6Address want = e == &e1 ? plain_z : cone_z;
    run.check("R4380-5.3.2-04", "ra_not_to_rs_source", e->reply->datagram->ipv6.header.destination == want,
              "the RA addressed to the RS source " + to_string(want),
              "RA to " + to_string(e->reply->datagram->ipv6.header.destination),
              frames_of({e->sent.frame, e->reply->frame}));
  }
}

void private_ipv4_in_link_local(CaseRun& run) {
  const Peer p = make_peer(run, kDriver, 40010);
  // fe80::0:<~40010>:<~192.168.1.1>: a Teredo-format link-local identifier
  // embedding a private IPv4 address (RFC 4380 §4 allows it).
  Ipv6Address source = teredo_address(kPrimary, 0, "192.168.1.1", 40010);
  source.bytes[0] = 0xfe;
  source.bytes[1] = 0x80;
  for (std::size_t i = 2; i < 8; ++i) source.bytes[i] = 0;
  const Exchange e = rs_exchange(run, p, {.source = source});
  expect_ra_from(run, "R4380-4-05", e, kPrimary,
                 "an RS from " + to_string(source) + " (identifier embedding 192.168.1.1:40010)");
}

}  // namespace

TEREDO_CASE({.id = "server.rs.cone-reply-from-secondary",
             .title = "An RS with the cone bit is answered from the secondary address",
             .description = "The driver sends a valid RS from fe80::8000:ffff:ffff:fffd (cone bit set) to the "
                            "primary address 203.0.113.1:3544.",
             .judgement = "Pass when the RA comes from 203.0.113.2:3544, the other server address.",
             .role = "server",
             .requirements = {"R4380-5.3.2-07", "R5991-3.2-03"},
             .body = cone_reply_from_secondary});

TEREDO_CASE({.id = "server.rs.reply-from-primary",
             .title = "An RS without the cone bit is answered from the primary address, to the RS's source",
             .description = "The driver sends a valid RS from fe80::ffff:ffff:fffd (cone bit clear) to "
                            "203.0.113.1:3544 from 198.51.100.7:40002.",
             .judgement = "Pass when the RA comes from 203.0.113.1:3544 and goes to 198.51.100.7:40002.",
             .role = "server",
             .requirements = {"R4380-5.3.2-06", "R4380-5.3.2-05"},
             .body = plain_reply_from_primary});

TEREDO_CASE({.id = "server.rs.cone-to-secondary-reply-from-primary",
             .title = "A cone-bit RS received on the secondary address is answered from the primary",
             .description = "The driver sends a valid RS from fe80::8000:ffff:ffff:fffd (cone bit set) to the "
                            "secondary address 203.0.113.2:3544.",
             .judgement = "Pass when the RA comes from 203.0.113.1:3544: RFC 4380 §5.3.2 'the RA must be sent from "
                          "a different IPv4 source address than the server address over which the RS was received'.",
             .role = "server",
             .requirements = {"R4380-5.3.2-07", "R5991-3.2-03"},
             .body = cone_to_secondary});

TEREDO_CASE({.id = "server.rs.no-cone-to-secondary-reply-from-secondary",
             .title = "An RS without the cone bit received on the secondary address is answered from it",
             .description = "The driver sends a valid RS from fe80::ffff:ffff:fffd (cone bit clear) to the secondary "
                            "address 203.0.113.2:3544.",
             .judgement = "Pass when the RA comes from 203.0.113.2:3544: RFC 4380 §5.3.2 'if the cone bit is set to "
                          "zero, the response must be sent back from the same address'.",
             .role = "server",
             .requirements = {"R4380-5.3.2-07"},
             .body = no_cone_to_secondary});

TEREDO_CASE({.id = "server.rs.without-authentication",
             .title = "An RS without an authentication encapsulation is accepted",
             .description = "The driver sends a valid RS (link-local source, ff02::2) with no authentication "
                            "encapsulation at all: the UDP payload is the bare IPv6 packet.",
             .judgement = "Pass when an RA comes back from 203.0.113.1:3544 (§5.3.1 rule 4: the packet MUST be "
                          "accepted; only a server requiring secure qualification may drop it).",
             .role = "server",
             .requirements = {"R4380-5.3.1-05"},
             .body = without_authentication});

TEREDO_CASE({.id = "server.rs.source-link-layer-option",
             .title = "An RS from a link-local source with a source link-layer address option is answered",
             .description = "The driver sends a valid RS whose options hold a source link-layer address option "
                            "(type 1, length 1, 02:00:5e:10:20:30); the source is fe80::ffff:ffff:fffd, so RFC 2461 "
                            "§6.1.1 allows the option.",
             .judgement = "Pass when an RA comes back from 203.0.113.1:3544.",
             .role = "server",
             .requirements = {"R4380-5.3.1-05"},
             .body = with_source_link_layer_option});

TEREDO_CASE({.id = "server.rs.unknown-option-ignored",
             .title = "An RS carrying an unknown ND option is answered",
             .description = "The driver sends a valid RS with one option of unknown type 250 and length 1 "
                            "(RFC 2461 §4.6: receivers ignore unrecognized options).",
             .judgement = "Pass when an RA comes back from 203.0.113.1:3544.",
             .role = "server",
             .requirements = {"R4380-5.3.1-05"},
             .body = with_unknown_option});

TEREDO_CASE({.id = "server.rs.flag-bits-ignored",
             .title = "Reserved and random flag bits of the RS source do not change the answer",
             .description = "The driver sends two RSs: from fe80::7fff:ffff:ffff:fffd (cone bit clear, every other "
                            "flag bit set) and from fe80::ffff:ffff:ffff:fffd (cone bit and every other bit set).",
             .judgement = "Pass when the first is answered from 203.0.113.1 and the second from 203.0.113.2 (only "
                          "the cone bit counts: RFC 4380 §4 'z bits ... ignored when receiving'), each RA addressed "
                          "to its RS source.",
             .role = "server",
             .requirements = {"R4380-4-03", "R4380-5.3.2-07", "R4380-5.3.2-04"},
             .body = flag_bits_ignored});

TEREDO_CASE({.id = "server.rs.private-ipv4-in-link-local",
             .title = "An RS whose link-local identifier embeds a private IPv4 address is answered",
             .description = "The driver sends a valid RS from fe80::0:<~40010>:<~192.168.1.1>, a Teredo-format "
                            "link-local identifier embedding a private IPv4 address (RFC 4380 §4: allowed for "
                            "link-local addresses).",
             .judgement = "Pass when an RA comes back from 203.0.113.1:3544 (MAY: a warning otherwise).",
             .role = "server",
             .requirements = {"R4380-4-05"},
             .body = private_ipv4_in_link_local});

}  // namespace teredo::conformance::server
