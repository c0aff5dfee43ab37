// §5.3.1 rules 3 to 7: which sources the server accepts. Two driver sockets
// play clients A and B of the server (Teredo addresses built from their real
// endpoints), a third one a client on 192.88.99.7, which RFC 4380 §5.2.4
// excludes from global unicast (6to4 relay anycast).
#include <fmt/format.h>

#include "cases/server/driver.hpp"

namespace teredo::conformance::server {
namespace {

using namespace teredo::wire;

void non_global_source_rs(CaseRun& run) {
  const Peer x = make_peer(run, kNonGlobalDriver, 40301);
  const SilenceProbe probe = probe_answer(run, x, rs_datagram({}), "a valid RS from 192.88.99.7 (not global unicast)");
  judge_silence(run, {"R4380-5.3.1-04", "R4380-5.3.2-08", "R4380-5.3.2-09", "R4380-4-04"}, {probe}, control_rs());
}

void non_global_source_bubble(CaseRun& run) {
  const Peer x = make_peer(run, kNonGlobalDriver, 40311);
  const Peer a = make_peer(run, kDriver, 40312);
  const Peer b = make_peer(run, kDriver, 40313);
  const ByteVector packet = bubble_packet(x.teredo, b.teredo);
  const SilenceProbe probe =
      probe_carry(run, x, encapsulate(packet),
                  fmt::format("a bubble {} -> {} (its Teredo source matches 192.88.99.7:40311, which is not global)",
                              to_string(x.teredo), to_string(b.teredo)),
                  x.teredo, b.teredo);
  judge_silence(run, {"R4380-5.3.1-04"}, {probe}, control_forward(a, b));
}

void spoofed_teredo_source(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40321);
  const Peer b = make_peer(run, kDriver, 40322);
  // Sent from 198.51.100.7:40321, claiming another port, then another IPv4.
  const Ipv6Address wrong_port = teredo_address(kPrimary, 0, kDriver, 40998);
  const Ipv6Address wrong_ipv4 = teredo_address(kPrimary, 0, "198.51.100.8", 40321);
  std::vector<SilenceProbe> probes;
  probes.push_back(probe_carry(run, a, encapsulate(bubble_packet(wrong_port, b.teredo)),
                               "a bubble from " + to_string(wrong_port) + " (mapped 198.51.100.7:40998) sent from "
                               "198.51.100.7:40321",
                               wrong_port, b.teredo));
  probes.push_back(probe_carry(run, a, encapsulate(bubble_packet(wrong_ipv4, b.teredo)),
                               "a bubble from " + to_string(wrong_ipv4) + " (mapped 198.51.100.8:40321) sent from "
                               "198.51.100.7:40321",
                               wrong_ipv4, b.teredo));
  judge_silence(run, {"R4380-5.3.1-09", "R4380-5.3.1-01"}, probes, control_forward(a, b));
}

void non_teredo_source_to_own_client(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40331);
  const Peer b = make_peer(run, kDriver, 40332);
  const Ipv6Address native = ipv6("2001:db8::5");
  const ByteVector packet = bubble_packet(native, b.teredo);
  const Sent s = send_from(run, a, encapsulate(packet));
  const auto f = wait_forward(run, b, native, b.teredo, s.mark);
  if (!f) {
    judge_not_forwarded(run, {"R4380-5.3.1-08"}, s,
                        fmt::format("a bubble 2001:db8::5 -> {} (a client of this server) sent from {}",
                                    to_string(b.teredo), a.where()),
                        "accepted and forwarded to " + b.where(), "non_teredo_source_not_forwarded");
    return;
  }
  run.check("R4380-5.3.1-08", "non_teredo_source_not_forwarded", true, "accepted and forwarded to " + b.where(),
            describe(*f), frames_of({s.frame, f->frame}));
  const auto& origin = f->datagram ? f->datagram->origin : std::nullopt;
  run.check(
      "R4380-5.3.1-16", "origin_not_naming_sender",
      origin && origin->address == ipv4(kDriver) && origin->port == a.port,
      "an origin indication naming the sender " + a.where(),
      origin ? "origin indication " + endpoint(origin->address, origin->port) : std::string("no origin indication"),
      frames_of({s.frame, f->frame}));
}

void non_teredo_source_foreign_destination(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40341);
  const Peer b = make_peer(run, kDriver, 40342);
  // B's endpoint under another server (198.51.100.20): not allocated here.
  const Ipv6Address foreign = teredo_address(kRelayHost, 0, kDriver, b.port);
  const Ipv6Address native = ipv6("2001:db8::5");
  const SilenceProbe probe =
      probe_carry(run, a, encapsulate(bubble_packet(native, foreign)),
                  "a bubble 2001:db8::5 -> " + to_string(foreign) + " (server 198.51.100.20, not this one)", native,
                  foreign);
  judge_silence(run, {"R4380-5.3.1-09"}, {probe}, control_forward(a, b));
}

void link_local_source_not_rs(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40351);
  // Link-local source to ff02::2 but an echo request, not an RS: rule 4
  // does not apply, the source is not Teredo (rule 5), the destination is
  // not a Teredo address of this server (rule 6): rule 7 discards it.
  const Ipv6Address source = ipv6("fe80::ffff:ffff:fffd");
  const Ipv6Address destination = ipv6("ff02::2");
  SilenceProbe probe = probe_answer(run, a, encapsulate(echo_packet(source, destination, 0x351, 1)),
                                    "an echo request fe80::ffff:ffff:fffd -> ff02::2");
  const FrameMatch back = probe.reaction;
  const FrameMatch carried = carrying(run.capture("driver"), source, destination);
  probe.reaction = [back, carried](const CapturedFrame& f) { return back(f) || carried(f); };
  probe.expected = "silently discarded: no datagram back to " + a.where() + " and nothing forwarded within 1000 ms";
  judge_silence(run, {"R4380-5.3.1-09"}, {probe}, control_rs());
}

}  // namespace

TEREDO_CASE({.id = "server.accept.non-global-source-rs",
             .title = "An RS from a non-global IPv4 source gets no RA",
             .description = "The driver sends a valid RS from 192.88.99.7:40301 (6to4 relay anycast, not global "
                            "unicast per RFC 4380 §5.2.4), then a valid control RS from 198.51.100.7.",
             .judgement = "Pass when nothing is sent to 192.88.99.7:40301 within 1 s and the control is answered: "
                          "RFC 4380 §5.3.1 rule 3 'If the IPv4 source address is not in the format of a global "
                          "unicast address, the packet MUST be silently discarded', and §5.3.2 'Before sending the "
                          "packet, the Teredo server MUST check that the IPv4 destination address is in the format "
                          "of a global unicast address'.",
             .role = "server",
             .requirements = {"R4380-5.3.1-04", "R4380-5.3.2-08", "R4380-5.3.2-09", "R4380-4-04"},
             .body = non_global_source_rs});

TEREDO_CASE({.id = "server.accept.non-global-source-bubble",
             .title = "A bubble from a non-global IPv4 source is not forwarded",
             .description = "The driver's socket 192.88.99.7:40311 sends a bubble from its own Teredo address "
                            "(matching its endpoint) to client B (198.51.100.7:40313), then client A sends B a "
                            "valid control bubble.",
             .judgement = "Pass when the first bubble is not forwarded (no datagram from the server and no native "
                          "packet carrying it within 1 s) while the control is: §5.3.1 rule 3.",
             .role = "server",
             .requirements = {"R4380-5.3.1-04"},
             .body = non_global_source_bubble});

TEREDO_CASE({.id = "server.accept.spoofed-teredo-source",
             .title = "A packet whose Teredo source does not match its IPv4 source and port is dropped",
             .description = "Client A (198.51.100.7:40321) sends client B two bubbles whose Teredo source addresses "
                            "embed 198.51.100.7:40998 (wrong port) and 198.51.100.8:40321 (wrong address), then a "
                            "valid control bubble from its own Teredo address.",
             .judgement = "Pass when neither spoofed bubble is forwarded within 1 s and the control is: §5.3.1 rule "
                          "5 accepts a Teredo source only when 'the IPv4 address and UDP port embedded in that "
                          "address match the IPv4 source address and UDP source port'; rule 7 'In all other cases, "
                          "the packet MUST be silently discarded'.",
             .role = "server",
             .requirements = {"R4380-5.3.1-09", "R4380-5.3.1-01"},
             .body = spoofed_teredo_source});

TEREDO_CASE({.id = "server.accept.non-teredo-source-to-own-client",
             .title = "A packet from a non-Teredo source to a client of this server is forwarded with an origin "
                      "indication",
             .description = "The driver's socket A (198.51.100.7:40331) sends a bubble from 2001:db8::5 (not a "
                            "Teredo address) to client B's Teredo address 2001:0:cb00:7101:... (198.51.100.7:40332).",
             .judgement = "Pass when the server forwards it to 198.51.100.7:40332 (§5.3.1 rule 6: 'the packet "
                          "SHOULD be accepted') with an origin indication naming 198.51.100.7:40331 (§5.3.1: 'the "
                          "server should insert an origin indication').",
             .role = "server",
             .requirements = {"R4380-5.3.1-08", "R4380-5.3.1-16"},
             .body = non_teredo_source_to_own_client});

TEREDO_CASE({.id = "server.accept.non-teredo-source-foreign-destination",
             .title = "A packet from a non-Teredo source to another server's client is dropped",
             .description = "Client A sends a bubble from 2001:db8::5 to 2001:0:c633:6414:... (server 198.51.100.20, "
                            "mapped endpoint = client B), then a valid control bubble A -> B.",
             .judgement = "Pass when the first bubble is not forwarded within 1 s and the control is: neither rule "
                          "5 nor rule 6 accepts it, so rule 7 'MUST be silently discarded' applies.",
             .role = "server",
             .requirements = {"R4380-5.3.1-09"},
             .body = non_teredo_source_foreign_destination});

TEREDO_CASE({.id = "server.accept.link-local-echo-discarded",
             .title = "A non-RS packet from a link-local source to ff02::2 is dropped",
             .description = "The driver sends an ICMPv6 echo request from fe80::ffff:ffff:fffd to ff02::2 from "
                            "198.51.100.7:40351, then a valid control RS.",
             .judgement = "Pass when nothing comes back and nothing is forwarded within 1 s while the control RS is "
                          "answered: rule 4 accepts only Router Solicitations from link-local sources, and rule 7 "
                          "discards the rest.",
             .role = "server",
             .requirements = {"R4380-5.3.1-09"},
             .body = link_local_source_not_rs});

}  // namespace teredo::conformance::server
