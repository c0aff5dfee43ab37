// §5.3.1, second half: where the server sends an accepted packet. Driver
// sockets play clients A and B of the server; the server forwards to the
// mapped endpoint embedded in the destination, so a forwarded packet lands
// back on the driver where the capture sees it.
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <algorithm>

#include "cases/server/driver.hpp"

namespace teredo::conformance::server {
namespace {

using namespace teredo::wire;

// Sends `packet` from a to the server and returns the datagram forwarded to
// `to` carrying it, recording `requirement` as failed when nothing came.
std::optional<Reply> forward_one(CaseRun& run, const std::string& requirement, const Peer& a, const Peer& to,
                                 const ByteVector& packet, const std::string& what, Sent& sent) {
  const auto parsed = parse_ipv6_packet(packet);
  sent = send_from(run, a, encapsulate(packet));
  const auto f = wait_forward(run, to, parsed->header.source, parsed->header.destination, sent.mark);
  if (!f) {
    judge_not_forwarded(run, {requirement}, sent, what, "forwarded to " + to.where(),
                        "accepted_packet_not_forwarded");
  }
  return f;
}

// §5.3.1's encapsulation parameters for a packet forwarded to `to`.
void check_encapsulation(CaseRun& run, const std::string& requirement, const Reply& f, const Peer& to,
                         const ByteVector& packet, const Sent& sent) {
  const bool outer = to_string(f.carrier.source4) == kPrimary && f.carrier.source_port == kTeredoPort &&
                     to_string(f.carrier.destination4) == to.address && f.carrier.destination_port == to.port;
  const bool inner = f.datagram && same(f.datagram->ipv6.packet, packet);
  run.check(requirement, "forwarded_encapsulation_wrong", outer && inner,
            fmt::format("from 203.0.113.1:3544 to {} (the destination's mapped endpoint), the IPv6 packet unchanged",
                        to.where()),
            describe(f) + (inner ? ", IPv6 packet unchanged" : ", IPv6 packet differs from the one sent"),
            frames_of({sent.frame, f.frame}));
}

void check_origin(CaseRun& run, const std::string& requirement, const Reply& f, const Peer& from, const Sent& sent) {
  const auto& origin = f.datagram ? f.datagram->origin : std::nullopt;
  run.check(
      requirement, "origin_not_naming_sender",
      origin && to_string(origin->address) == from.address && origin->port == from.port,
      "an origin indication naming the sender " + from.where(),
      origin ? "origin indication " + endpoint(origin->address, origin->port) : std::string("no origin indication"),
      frames_of({sent.frame, f.frame}));
}

void bubble_to_own_client(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40401);
  const Peer b = make_peer(run, kDriver, 40402);
  const ByteVector packet = bubble_packet(a.teredo, b.teredo);
  Sent sent;
  const auto f = forward_one(run, "R4380-5.3.1-07", a, b, packet, "a bubble A -> B", sent);
  if (!f) return;
  run.check("R4380-5.3.1-07", "matching_teredo_source_not_forwarded", true,
            "accepted (Teredo source matching 198.51.100.7:40401) and forwarded", describe(*f),
            frames_of({sent.frame, f->frame}));
  check_encapsulation(run, "R4380-5.3.1-15", *f, b, packet, sent);
  check_origin(run, "R4380-5.3.1-16", *f, a, sent);
}

void echo_to_own_client(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40403);
  const Peer b = make_peer(run, kDriver, 40404);
  const ByteVector packet = echo_packet(a.teredo, b.teredo, 0x403, 1);
  Sent sent;
  const auto f = forward_one(run, "R4380-5.3.1-15", a, b, packet, "an echo request A -> B", sent);
  if (!f) return;
  check_encapsulation(run, "R4380-5.3.1-15", *f, b, packet, sent);
  check_origin(run, "R4380-5.3.1-16", *f, a, sent);
}

void foreign_server_client(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40405);
  const Peer b = make_peer(run, kDriver, 40406);
  // B's endpoint under another server: forwarded all the same, to the
  // mapped endpoint; no origin indication is required.
  Peer foreign = b;
  foreign.teredo = teredo_address(kRelayHost, 0, kDriver, b.port);
  const ByteVector packet = bubble_packet(a.teredo, foreign.teredo);
  Sent sent;
  const auto f = forward_one(run, "R4380-5.3.1-15", a, foreign, packet,
                             "a bubble A -> " + to_string(foreign.teredo) + " (server 198.51.100.20)", sent);
  if (!f) return;
  check_encapsulation(run, "R4380-5.3.1-15", *f, foreign, packet, sent);
  run.info(f->datagram && f->datagram->origin
               ? "the forwarded bubble carries an origin indication (optional for another server's client)"
               : "the forwarded bubble carries no origin indication (the destination is not this server's client)",
           "foreign_client_origin_indication");
}

void flag_bits_ignored(CaseRun& run) {
  // Every flag bit but the cone bit set in both addresses.
  const Peer a = make_peer(run, kDriver, 40407, 0x7fff);
  const Peer b = make_peer(run, kDriver, 40408, 0x7fff);
  const ByteVector packet = bubble_packet(a.teredo, b.teredo);
  Sent sent;
  const auto f = forward_one(run, "R4380-4-03", a, b, packet,
                             "a bubble " + to_string(a.teredo) + " -> " + to_string(b.teredo), sent);
  if (!f) return;
  run.check("R4380-4-03", "flag_bits_changed_forwarding", true, "accepted and forwarded as with flags 0x0000",
            describe(*f), frames_of({sent.frame, f->frame}));
  check_encapsulation(run, "R4380-5.3.1-15", *f, b, packet, sent);
}

void non_global_destination_ipv4(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40411);
  const Peer b = make_peer(run, kDriver, 40412);
  // A socket on 192.88.99.7 so that a datagram forwarded there is seen.
  const Peer x = make_peer(run, kNonGlobalDriver, 40413);
  const Ipv6Address multicast = teredo_address(kPrimary, 0, "224.1.1.1", 40414);
  std::vector<SilenceProbe> probes;
  probes.push_back(probe_carry(run, a, encapsulate(bubble_packet(a.teredo, x.teredo)),
                               "a bubble A -> " + to_string(x.teredo) + " (embeds 192.88.99.7:40413)", a.teredo,
                               x.teredo));
  probes.push_back(probe_carry(run, a, encapsulate(bubble_packet(a.teredo, multicast)),
                               "a bubble A -> " + to_string(multicast) + " (embeds 224.1.1.1:40414)", a.teredo,
                               multicast));
  judge_silence(run, {"R4380-5.3.1-13", "R4380-5.3.1-14", "R4380-4-04"}, probes, control_forward(a, b));
}

void non_global_ipv6_destination(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40421);
  const Peer b = make_peer(run, kDriver, 40422);
  std::vector<SilenceProbe> probes;
  for (const char* text : {"fe80::1", "ff02::1", "ff05::1", "::1"}) {
    const Ipv6Address d = ipv6(text);
    probes.push_back(probe_carry(run, a, encapsulate(bubble_packet(a.teredo, d)),
                                 fmt::format("a bubble A -> {}", text), a.teredo, d));
  }
  judge_silence(run, {"R4380-5.3.1-11"}, probes, control_forward(a, b));
}

void ecn_not_propagated(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40431);
  const Peer b = make_peer(run, kDriver, 40432);
  // CE in the outer IPv4 header the driver sends, and CE in the inner IPv6
  // traffic class: neither may show up in the outer header the server writes.
  const int tos = 0x03;
  ::setsockopt(a.fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  const ByteVector packet = bubble_packet(a.teredo, b.teredo, 0x03);
  Sent sent;
  const auto f = forward_one(run, "R9601-6.1.3-01", a, b, packet, "a bubble A -> B marked CE (inner and outer)", sent);
  if (!f) return;
  const auto meta = ipv4_meta(run.capture("driver").link_type(), f->bytes);
  run.check("R9601-6.1.3-01", "outer_ecn_not_cleared", meta && (meta->tos & 0x03) == 0,
            "ECN field 00 (Not-ECT) in the outer IPv4 header of the forwarded datagram",
            meta ? fmt::format("outer TOS 0x{:02x} (ECN {:02b})", meta->tos, meta->tos & 0x03) : "no IPv4 header",
            frames_of({sent.frame, f->frame}));
  run.check("R4380-5.1.2-02", "df_bit_set", meta && !meta->dont_fragment, "the DF bit clear in the forwarded datagram",
            meta ? fmt::format("DF {}", meta->dont_fragment ? "set" : "clear") : "no IPv4 header",
            frames_of({sent.frame, f->frame}));
  if (f->datagram) {
    run.info(fmt::format("inner traffic class forwarded as 0x{:02x}", f->datagram->ipv6.header.traffic_class),
             "inner_traffic_class_forwarded");
  }
}

void to_native_ipv6(CaseRun& run) {
  const Peer a = make_peer(run, kRelayHost, 40481, 0, "relay");
  const Ipv6Address v6host = ipv6(kV6Host);
  const ByteVector packet = echo_packet(a.teredo, v6host, 0x481, 1);
  const Sent sent = send_from(run, a, encapsulate(packet));
  Capture& v6 = run.capture("v6host");
  const auto link = v6.link_type();
  const auto seen = v6.wait_for(
      [&](const CapturedFrame& f) {
        const auto n = native_ipv6(link, f.data);
        return n && n->header.source == a.teredo && n->header.destination == v6host;
      },
      kAnswerTimeout);
  std::vector<FrameRef> frames = frames_of({sent.frame});
  if (!seen) {
    judge_not_forwarded(run, {"R4380-5.3.1-12"}, sent,
                        fmt::format("the echo request {} -> {} sent from {}", to_string(a.teredo), kV6Host, a.where()),
                        "the echo request routed natively to 2001:db8:1::10 (seen on v6host:eth0)",
                        "not_routed_natively", control_rs(kRelayHost, "relay"));
    return;
  }
  frames.push_back(frame_ref(seen->number, "v6host"));
  const auto n = native_ipv6(link, seen->data);
  const auto original = parse_ipv6_packet(packet);
  const bool same_payload = n && same(n->payload, original->payload) && n->header.next_header == kNextHeaderIcmpv6;
  run.check("R4380-5.3.1-12", "native_payload_altered", same_payload,
            "the echo request routed natively to 2001:db8:1::10, payload unchanged",
            fmt::format("native IPv6 {} -> {} on v6host:eth0 (frame {}), hop limit {}, payload {}",
                        to_string(n->header.source), to_string(n->header.destination), seen->number,
                        n->header.hop_limit, same_payload ? "unchanged" : "DIFFERENT"),
            frames);
}

// RFC 6081 §4.3 from the server's side: none of what it sends is a
// client's indirect bubble, and none of the driver's packets below carries a
// trailer to pass on, so no datagram it sends may carry the Alternate
// Address Trailer (a server that appends its own trailers to everything
// would).
void no_alternate_address_trailer(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40441);
  const Peer b = make_peer(run, kDriver, 40442);
  const std::uint64_t start = mark(run);
  rs_exchange(run, a, RsOptions{});                   // RA from the primary address
  rs_exchange(run, b, RsOptions{.cone = true});       // RA from the secondary address (§5.3.2)
  const ByteVector bubble = bubble_packet(a.teredo, b.teredo);
  const ByteVector echo = echo_packet(a.teredo, b.teredo, 0x441, 1);
  for (const ByteVector* packet : {&bubble, &echo}) {
    const Sent sent = send_from(run, a, encapsulate(*packet));
    const auto p = parse_ipv6_packet(*packet);
    wait_forward(run, b, p->header.source, p->header.destination, sent.mark);
  }
  Capture& capture = run.capture("driver");
  const auto link = capture.link_type();
  const FrameMatch primary = kit::udp_from(link, kPrimary), secondary = kit::udp_from(link, kSecondary);
  std::vector<Reply> sent;
  for (const auto& f : capture.frames([&](const CapturedFrame& x) { return primary(x) || secondary(x); }, start)) {
    if (auto r = as_reply(f, link)) sent.push_back(std::move(*r));
  }
  kit::record(run, {kit::alternate_address_absent(sent, "the server (two RAs, a forwarded bubble and echo request)")});
}

}  // namespace

TEREDO_CASE({.id = "server.forward.bubble-to-own-client",
             .title = "A bubble between two clients of the server is forwarded with an origin indication",
             .description = "Driver sockets A (198.51.100.7:40401) and B (198.51.100.7:40402) play two clients whose "
                            "Teredo addresses 2001:0:cb00:7101:0:<~port>:<~198.51.100.7> embed their real endpoints. "
                            "A sends a bubble A -> B to 203.0.113.1:3544.",
             .judgement = "Pass when the server accepts it (§5.3.1 rule 5), sends it from 203.0.113.1:3544 to B's "
                          "mapped endpoint 198.51.100.7:40402 with the IPv6 packet unchanged, and puts an origin "
                          "indication naming 198.51.100.7:40401 first ('If the destination IPv6 address is a Teredo "
                          "client whose address is serviced by this specific server, the server should insert an "
                          "origin indication').",
             .role = "server",
             .requirements = {"R4380-5.3.1-07", "R4380-5.3.1-15", "R4380-5.3.1-16"},
             .body = bubble_to_own_client});

TEREDO_CASE({.id = "server.forward.echo-to-own-client",
             .title = "An echo request between two clients of the server is forwarded",
             .description = "Client A (198.51.100.7:40403) sends a 64-byte ICMPv6 echo request A -> B "
                            "(198.51.100.7:40404) to the server.",
             .judgement = "Pass when it is forwarded from 203.0.113.1:3544 to 198.51.100.7:40404, unchanged, with an "
                          "origin indication naming A (§5.3: 'Teredo servers are expected to relay Teredo bubbles, "
                          "ICMPv6 Echo requests, and ICMPv6 Echo replies').",
             .role = "server",
             .requirements = {"R4380-5.3.1-15", "R4380-5.3.1-16"},
             .body = echo_to_own_client});

TEREDO_CASE({.id = "server.forward.foreign-server-client",
             .title = "A bubble to another server's client goes to the mapped endpoint in the destination",
             .description = "Client A (198.51.100.7:40405) sends a bubble to 2001:0:c633:6414:0:<~40406>:"
                            "<~198.51.100.7> (server 198.51.100.20, mapped endpoint = the driver's socket "
                            "198.51.100.7:40406).",
             .judgement = "Pass when it is forwarded from 203.0.113.1:3544 to 198.51.100.7:40406 with the IPv6 "
                          "packet unchanged (§5.3.1: the destination IPv4 address and port 'derived from the IPv6 "
                          "destination', source 'the Teredo server IPv4 address' and 'the Teredo UDP Port'). The "
                          "origin indication is only recorded.",
             .role = "server",
             .requirements = {"R4380-5.3.1-15"},
             .body = foreign_server_client});

TEREDO_CASE({.id = "server.forward.flag-bits-ignored",
             .title = "Reserved and random flag bits in the addresses do not stop forwarding",
             .description = "Clients A and B have Teredo addresses with flags 0x7fff (every bit but the cone bit set: "
                            "R, U, G and the twelve random bits). A sends a bubble A -> B.",
             .judgement = "Pass when it is forwarded to B's mapped endpoint exactly as with flags 0x0000 (RFC 4380 §4: "
                          "the z bits are 'ignored when receiving').",
             .role = "server",
             .requirements = {"R4380-4-03", "R4380-5.3.1-15"},
             .body = flag_bits_ignored});

TEREDO_CASE({.id = "server.forward.non-global-destination-ipv4",
             .title = "A packet to a Teredo address embedding a non-global IPv4 address is dropped",
             .description = "Client A sends bubbles to Teredo addresses of this server embedding 192.88.99.7:40413 "
                            "(a driver socket listens there, so a forwarded datagram would be seen) and "
                            "224.1.1.1:40414 (multicast, visible on the wire), then a valid control bubble A -> B.",
             .judgement = "Pass when neither is forwarded within 1 s while the control is: §5.3.1 'the Teredo Server "
                          "MUST check that the IPv4 address derived from this IPv6 address is in the format of a "
                          "global unicast address; if this is not the case, the packet MUST be silently discarded'.",
             .role = "server",
             .requirements = {"R4380-5.3.1-13", "R4380-5.3.1-14", "R4380-4-04"},
             .body = non_global_destination_ipv4});

TEREDO_CASE({.id = "server.forward.non-global-ipv6-destination",
             .title = "Packets to non-global IPv6 destinations are never forwarded",
             .description = "Client A sends bubbles to fe80::1 (link-local), ff02::1 and ff05::1 (link- and "
                            "site-scope multicast) and ::1 (loopback), then a valid control bubble A -> B.",
             .judgement = "Pass when none of them leaves the server (no UDP datagram from it, no native IPv6 packet "
                          "carrying them) within 1 s while the control is forwarded: §5.3.1 'If the destination "
                          "IPv6 address is not a global scope IPv6 address, the packet MUST NOT be forwarded'.",
             .role = "server",
             .requirements = {"R4380-5.3.1-11"},
             .body = non_global_ipv6_destination});

TEREDO_CASE({.id = "server.forward.ecn-not-propagated",
             .title = "The outer ECN field of a forwarded packet is zero; DF is clear",
             .description = "Client A sends a bubble A -> B whose IPv6 traffic class is CE (0x03), in an IPv4 "
                            "datagram whose own ECN field is CE too.",
             .judgement = "Pass when the datagram the server forwards to B has ECN 00 in its IPv4 header (RFC 9601 "
                          "§6.1.3, new RFC 4380 §5.1.3: 'A Teredo tunnel ingress implementation that does not "
                          "support ECN propagation ... MUST zero the ECN field in the outer IPv6 header' -- the outer "
                          "header being IPv4 for Teredo) and DF clear (RFC 4380 §5.1.2, SHOULD NOT set DF).",
             .role = "server",
             .requirements = {"R9601-6.1.3-01", "R4380-5.1.2-02"},
             .body = ecn_not_propagated});

TEREDO_CASE({.id = "server.forward.native-ipv6",
             .title = "A packet to a native IPv6 destination is routed onto the IPv6 network",
             .description = "Topology client-nat: the server also has native IPv6 (eth1 2001:db8:1::2 on v6net). "
                            "The relay host 198.51.100.20 plays a client: from 198.51.100.20:40481 it sends an echo "
                            "request from 2001:0:cb00:7101:0:<~40481>:<~198.51.100.20> to the native host "
                            "2001:db8:1::10.",
             .judgement = "Pass when the echo request appears natively on v6host:eth0 with its source, destination "
                          "and ICMPv6 payload unchanged within 1.5 s (§5.3.1: 'If the destination address is not a "
                          "Teredo IPv6 address, the packet should be relayed to the IPv6 Internet using regular "
                          "IPv6 routing'); a warning otherwise.",
             .role = "server",
             .requirements = {"R4380-5.3.1-12"},
             .topology = "client-nat",
             .captures = {{"driver", "relay", "eth0"}, {"v6host", "v6host", "eth0"}},
             .body = to_native_ipv6});

TEREDO_CASE({.id = "server.forward.no-alternate-address-trailer",
             .title = "Nothing the server sends carries an RFC 6081 Alternate Address Trailer",
             .description = "Client A (198.51.100.7:40441) sends an RS, client B (:40442) an RS with the cone bit "
                            "set, then A sends a bubble and an echo request to B through the server. No packet the "
                            "driver sends carries a trailer.",
             .judgement = "Pass when none of the datagrams the server sends from 203.0.113.1/.2:3544 (its RAs and "
                          "what it forwards) carries a type 0x03 trailer after the IPv6 packet (RFC 6081 §4.3: 'The "
                          "Alternate Address Trailer MUST NOT be present in any packets other than indirect "
                          "bubbles sent by a Teredo client'); inconclusive when the server sent nothing at all.",
             .role = "server",
             .requirements = {"R6081-4.3-01"},
             .topology = "server-only",
             .body = no_alternate_address_trailer});

}  // namespace teredo::conformance::server
