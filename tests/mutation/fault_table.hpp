// The mutation faults: one row per fault the shim (fault_shim.cpp) can inject
// into the reference IUT, with the requirement a correct harness must fail
// when it runs `cases` against the mutant. The shim only knows names; the
// driver (mutation_test.cpp) reads the rest. One place for both.
#pragma once

#include <array>
#include <string_view>

namespace teredo::mutation {

struct FaultRow {
  std::string_view name;         // TEREDO_FAULT=<name>
  std::string_view role;         // teredo-conform --role
  std::string_view requirement;  // the requirement the harness must fail (or warn on); "iut_died" for crashes
  std::string_view cases;        // teredo-conform --cases glob
  std::string_view what;         // the fault, in words
};

// A crash fault is caught when a case of the selection fails with code
// iut_died (the engine rule: an IUT that dies during a case fails it).
inline constexpr std::string_view kIutDied = "iut_died";

inline constexpr std::array kFaults = {
    // --- server: what it sends --------------------------------------------------------------------------------
    FaultRow{"server-ra-no-origin", "server", "R4380-5.1.1-01", "server.ra.origin-indication",
             "RAs leave without their origin indication"},
    FaultRow{"server-ra-origin-not-obfuscated", "server", "R4380-5.1.1-01", "server.ra.origin-indication",
             "the RA's origin indication carries the port and IPv4 in clear"},
    FaultRow{"server-ra-origin-wrong-port", "server", "R4380-5.3.2-01", "server.ra.origin-indication",
             "the RA's origin indication names the RS's source port + 1"},
    FaultRow{"server-cone-ignored", "server", "R4380-5.3.2-07", "server.rs.cone-reply-from-secondary",
             "an RA due from the secondary address leaves from the primary (cone bit ignored)"},
    FaultRow{"server-reply-from-secondary", "server", "R4380-5.3.2-06", "server.rs.reply-from-primary",
             "an RA due from the primary address leaves from the secondary"},
    FaultRow{"server-ra-nonce-not-echoed", "server", "R4380-5.3.2-11", "server.ra.nonce-echoed",
             "RAs leave without the authentication encapsulation (the RS's nonce not echoed)"},
    FaultRow{"server-ra-nonce-replaced", "server", "R4380-5.3.2-11", "server.ra.nonce-echoed",
             "the RA's nonce differs from the RS's in one bit"},
    FaultRow{"server-ra-origin-before-auth", "server", "R4380-5.1.1-02", "server.ra.auth-before-origin",
             "the RA carries the origin indication before the authentication encapsulation"},
    FaultRow{"server-ra-prefix-wrong", "server", "R4380-5.3.2-02", "server.ra.prefix",
             "the RA advertises 2001:0:<server IPv4 + 1>::/64 (checksum recomputed)"},
    FaultRow{"server-ra-mtu-1400", "server", "R4380-5.1.2-01", "server.ra.mtu-1280",
             "the RA's MTU option says 1400 (checksum recomputed)"},
    FaultRow{"server-ra-wrong-port", "server", "R4380-5.3.2-05", "server.ra.destination-is-rs-source",
             "RAs go to the client's mapped port + 1"},
    FaultRow{"server-ra-wrong-destination", "server", "R4380-5.3.2-04", "server.ra.destination-is-rs-source",
             "the RA's IPv6 destination is the RS's source with its last bit flipped"},
    FaultRow{"server-ra-source-cone-clear", "server", "R5991-3.2-03", "server.ra.source-link-local",
             "the RA's link-local source has the cone bit cleared"},
    FaultRow{"server-forward-wrong-origin", "server", "R4380-5.3.1-16", "server.forward.bubble-to-own-client",
             "packets relayed between clients carry an origin indication naming the sender's port + 1"},
    FaultRow{"server-forward-from-secondary", "server", "R4380-5.3.1-15", "server.forward.echo-to-own-client",
             "packets relayed between clients leave from the secondary address"},
    FaultRow{"server-df-set", "server", "R4380-5.1.2-02", "server.ra.outer-df-clear",
             "the server's sockets set DF (IP_PMTUDISC_DO instead of DONT)"},
    FaultRow{"server-ecn-ce", "server", "R9601-6.1.3-01", "server.forward.ecn-not-propagated",
             "the server's sockets mark every datagram ECN CE (IP_TOS 0x03)"},
    // --- server: what it accepts ------------------------------------------------------------------------------
    FaultRow{"server-accept-rs-hop-limit", "server", "R2461-6.1.1-01", "server.rs.discard-hop-limit-254",
             "an RS with hop limit other than 255 is taken as 255"},
    FaultRow{"server-accept-rs-bad-checksum", "server", "R2461-6.1.1-02", "server.rs.discard-bad-checksum",
             "an RS's ICMPv6 checksum is not verified (recomputed on receipt)"},
    FaultRow{"server-accept-rs-code", "server", "R2461-6.1.1-03", "server.rs.discard-code-1",
             "an RS with ICMPv6 code other than 0 is taken as code 0"},
    FaultRow{"server-accept-non-global-source", "server", "R4380-5.3.1-04", "server.accept.non-global-source-rs",
             "non-global IPv4 sources are not refused (the shim maps them to global stand-ins and back)"},
    FaultRow{"server-forward-non-global-destination", "server", "R4380-5.3.1-13",
             "server.forward.non-global-destination-ipv4",
             "a Teredo destination embedding a non-global IPv4 is forwarded (mapped to a stand-in and back)"},
    FaultRow{"server-accept-spoofed-source", "server", "R4380-5.3.1-09", "server.accept.spoofed-teredo-source",
             "a Teredo source whose mapping differs from the IPv4 source and port is accepted"},
    FaultRow{"server-accept-trailer-01", "server", "R6081-4.1-01", "server.hardening.trailer-discard-type",
             "trailers are stripped on receipt, so an unknown 01-type trailer no longer discards the packet"},
    FaultRow{"server-alternate-address-trailer", "server", "R6081-4.3-01",
             "server.forward.no-alternate-address-trailer",
             "every datagram the server sends carries an RFC 6081 Alternate Address Trailer (192.0.2.33:40001)"},
    // Silence before an answered control is a discard: the dropped RS fails
    // the "MUST be accepted" rule, not the RA's contents (JUDGING.md 2).
    FaultRow{"server-drops-every-other-rs", "server", "R4380-5.3.1-05", "server.rs.reply-from-primary",
             "only every second RA leaves: the other RSs are dropped"},
    FaultRow{"server-crash-truncated-auth", "server", kIutDied, "server.hardening.truncated-auth",
             "SIGSEGV on a datagram whose authentication encapsulation is truncated"},
    // --- relay ------------------------------------------------------------------------------------------------
    FaultRow{"relay-accept-mapping-mismatch", "relay", "R4380-5.4.2-02", "relay.receive.spoofed-source-dropped",
             "a Teredo source whose mapping differs from the IPv4 source and port is accepted"},
    FaultRow{"relay-forward-non-global-destination", "relay", "R4380-5.4.1-01", "relay.transmit.no-non-global-ipv4",
             "a Teredo destination embedding a non-global IPv4 is served (mapped to a stand-in and back)"},
    FaultRow{"relay-bubble-repeated-fast", "relay", "R4380-5.4.1-06", "relay.transmit.bubble-retry-limit",
             "every bubble is sent again 0.5 s and 1 s later (past the rate limit: rounds under 2 s apart)"},
    FaultRow{"relay-no-bubble", "relay", "R4380-5.4.1-05", "relay.transmit.bubble-through-server",
             "no bubble for a new peer (the relay's bubbles are dropped)"},
    FaultRow{"relay-ecn-ce", "relay", "R9601-6.1.3-01", "relay.transmit.ecn-and-df",
             "the relay's socket marks every datagram ECN CE"},
    FaultRow{"relay-df-set", "relay", "R4380-5.1.2-02", "relay.transmit.ecn-and-df",
             "the relay's socket sets DF"},
    FaultRow{"relay-accept-trailer-01", "relay", "R6081-4.1-01", "relay.receive.trailer-discard-type",
             "trailers are stripped on receipt, so an unknown 01-type trailer no longer discards the packet"},
    FaultRow{"relay-alternate-address-trailer", "relay", "R6081-4.3-01",
             "relay.transmit.no-alternate-address-trailer",
             "every datagram the relay sends carries an RFC 6081 Alternate Address Trailer (192.0.2.33:40001)"},
    FaultRow{"relay-no-native-delivery", "relay", "R4380-5.4.2-04", "relay.receive.reply-forwarded-native",
             "packets decapsulated for the IPv6 side are dropped (no TUN write)"},
    FaultRow{"relay-crash-invalid-ipv6", "relay", kIutDied, "relay.receive.invalid-ipv6-dropped",
             "SIGSEGV on a datagram that holds no valid IPv6 packet"},
    // --- client -----------------------------------------------------------------------------------------------
    FaultRow{"client-accept-ra-bad-checksum", "client", "R2461-6.1.2-03", "client.ra.rfc2461-bad-checksum",
             "an RA's ICMPv6 checksum is not verified (recomputed on receipt)"},
    FaultRow{"client-accept-ra-global-source", "client", "R2461-6.1.2-01", "client.ra.rfc2461-global-source",
             "an RA from a non-link-local source is taken as from the server's link-local address"},
    FaultRow{"client-accept-ra-hop-limit", "client", "R2461-6.1.2-02", "client.ra.rfc2461-hop-limit",
             "an RA with hop limit other than 255 is taken as 255"},
    FaultRow{"client-accept-ra-wrong-nonce", "client", "R4380-5.2.2-02", "client.ra.wrong-nonce-ignored",
             "an RA's nonce is not compared (replaced by the last RS's on receipt)"},
    FaultRow{"client-accept-ra-no-origin", "client", "R4380-5.2.1-03", "client.ra.no-origin-ignored",
             "an RA without origin indication is accepted (one is made up on receipt)"},
    FaultRow{"client-accept-ra-wrong-port", "client", "R4380-5.2.1-03", "client.ra.wrong-source-port-ignored",
             "an RA from the server's address but another port is taken as from port 3544"},
    FaultRow{"client-accept-non-global-mapping", "client", "R4380-4-04", "client.ra.non-global-mapping-ignored",
             "an RA whose origin indication is not global is accepted (mapped to a stand-in)"},
    FaultRow{"client-accept-foreign-prefix", "client", "R4380-5.2.1-04", "client.ra.non-teredo-prefix-ignored",
             "an RA's prefix is not checked (rewritten to the sender's Teredo prefix on receipt)"},
    FaultRow{"client-rs-cone-bit", "client", "R5991-3.2-01", "client.qualification.retries-and-timeout",
             "RSs leave with the cone bit set"},
    FaultRow{"client-rs-nonce-repeated", "client", "R4380-5.2.2-01", "client.qualification.secure-hmac",
             "every RS carries the first RS's nonce"},
    FaultRow{"client-rs-no-nonce", "client", "R4380-5.2.2-01", "client.qualification.secure-hmac",
             "RSs leave without the authentication encapsulation"},
    FaultRow{"client-non-global-peer", "client", "R4380-5.2.4-07", "client.transmit.no-non-global-ipv4",
             "a Teredo peer embedding a non-global IPv4 is not refused (mapped to a stand-in and back)"},
    FaultRow{"client-bubble-burst", "client", "R4380-5.2.6-03", "client.bubbles.limit-4-per-300s",
             "every bubble is sent three times at once"},
    FaultRow{"client-z-flag", "client", "R5991-3.1-01", "client.qualification.restricted-nat",
             "packets from the client's Teredo address carry the z flag (0x4000)"},
    FaultRow{"client-traffic-before-qualification", "client", "R4380-5.2-04", "client.qualification.restricted-nat",
             "until the first RA, every RS is preceded by a bubble to the server"},
    FaultRow{"client-discovery-ttl", "client", "R4380-5.2.8-04", "client.discovery.bubble-format",
             "local discovery bubbles leave with TTL 8 instead of 1"},
    FaultRow{"client-symmetric-accepted", "client", "R4380-5.2.1-05", "client.qualification.symmetric-nat-refused",
             "the secondary server's RA is taken as showing the primary's mapping (symmetric NAT not detected)"},
    FaultRow{"client-local-port-ignored", "client", "R4380-5.2.3-19", "client.discovery.reply-and-filter",
             "a local entry is matched on the LAN address alone: a bubble from another port of it counts as the "
             "entry's"},
    FaultRow{"client-hairpin-nonce-stripped", "client", "R6081-5.6.4.3-02",
             "client.hairpinning.direct-bubble-acceptance",
             "a direct bubble from elsewhere than the mapping its source embeds loses its trailers on arrival: the "
             "nonce of RFC 6081 5.6.4.3 never matches"},
    FaultRow{"client-alternate-upnp-dropped", "client", "R6081-5.6.4.1-03", "client.upnp-hairpinning.nested-nat",
             "an Alternate Address Trailer listing two entries leaves with the first only: a UPnP mapping kept "
             "after qualification (nested NATs) is never advertised"},
    FaultRow{"client-upnp-mapping-not-zeroed", "client", "R6081-5.6.3-04", "client.upnp-hairpinning.single-nat",
             "an Alternate Address Trailer listing one entry gets the mapping the Teredo source embeds as a second: "
             "behind a single UPnP NAT, the UPnP mapping (the same as the server's) advertised as if never zeroed"},
    FaultRow{"client-no-refresh", "client", "R4380-5.2-07", "client.maintenance.refresh-interval",
             "no RS once qualified (no maintenance)"},
    FaultRow{"client-accept-trailer-01", "client", "R6081-5.1.2-02", "client.receive.rfc6081-trailers",
             "trailers are stripped on receipt, so an unknown 01-type trailer no longer discards the packet"},
    FaultRow{"client-crash-malformed", "client", kIutDied, "client.receive.malformed-dropped",
             "SIGSEGV on a datagram that is not a Teredo packet"},
    FaultRow{"client-crash-after-2s", "client", kIutDied, "client.maintenance.refresh-interval",
             "abort() 2 s after start"},
};

constexpr const FaultRow* find_fault(std::string_view name) noexcept {
  for (const auto& f : kFaults) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace teredo::mutation
