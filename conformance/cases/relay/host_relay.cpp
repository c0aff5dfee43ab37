// RFC 4380 §5.5 (and §5.4's "minimal Teredo relay [that] may serve just a
// local host"): a host-specific relay. Role host-relay, capability
// host_specific_relay. The IUT runs on the relay host of relay-only, which
// has native IPv6 (2001:db8:1::1) and IPv4 (198.51.100.20); its own traffic
// to Teredo clients is encapsulated by itself, nobody else's.
#include <fmt/format.h>

#include <thread>

#include "cases/relay/relay_driver.hpp"

namespace teredo::conformance::relay {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

void own_traffic(CaseRun& run) {
  open_server(run);
  // The host itself: a socket in the IUT's namespace, on its own address.
  NativeHost self(run, 5301, "relay", kRelayV6, "");
  const Peer c = make_peer(run, kClients, 43001);
  const Contact k = contact(run, self, c, marker("host-relay", 1));
  const std::string expected = fmt::format(
      "the host's own packet from {} to {} encapsulated by the host itself: a bubble via 203.0.113.1:3544 (or a "
      "direct delivery), the packet delivered to {} after the client's answer, and the host's reply to the client's "
      "echo request delivered the same way",
      kRelayV6, to_string(c.teredo), c.where());
  if (!k.trusted()) {
    // What the host sends is judged only when it sent something (JUDGING.md 2).
    run.inconclusive("R4380-5.5-03",
                     "the host's own packet never reached the client, so its relaying cannot be judged: " +
                         k.story(c),
                     "client_not_trusted");
    return;
  }
  // The client pings the host; the host's echo reply carries the same data.
  Capture& capture = run.capture("driver");
  const std::string m = marker("host-relay", 2);
  const Sent s = client_send(run, c, echo_with(c.teredo, ipv6(kRelayV6), m));
  const auto reply = capture.wait_for(relay_delivery(capture, c, m), kDeliveryTimeout, s.mark);
  std::vector<FrameRef> frames = k.frames();
  frames.push_back(frame_ref(s.frame));
  if (reply) frames.push_back(frame_ref(reply->number));
  // The same host must not be a Teredo client (§5.5 via §5: it has native
  // IPv6) and leaves DF clear (§5.1.2) on what it encapsulates.
  const LinkType link = capture.link_type();
  std::vector<std::uint64_t> solicitations, df;
  std::size_t total = 0;
  for (const auto& f : capture.frames(from_relay(capture))) {
    ++total;
    const auto meta = ipv4_meta(link, f.data);
    if (meta && meta->dont_fragment) df.push_back(f.number);
    const auto x = find_udp_carrier(link, f.data);
    if (!x) continue;
    const auto d = parse_datagram(x->payload);
    if (!d) continue;
    const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::ignore);
    if (icmp && icmp->type == kIcmpv6RouterSolicitation) solicitations.push_back(f.number);
  }
  run.check("R4380-5-01", "client_behaviour_with_native_ipv6", solicitations.empty(),
            "no router solicitation over UDP from the host (it has native IPv6: §5.5 'MUST NOT behave as Teredo "
            "clients')",
            solicitations.empty() ? fmt::format("{} datagrams from 198.51.100.20, none a router solicitation", total)
                                  : fmt::format("a router solicitation at frame {}", solicitations.front()),
            solicitations.empty() ? std::vector<FrameRef>{} : frames_of({solicitations.front()}));
  run.check("R4380-5.1.2-02", "df_bit_set", df.empty(),
            "the DF bit clear on every datagram the host-specific relay sent",
            df.empty() ? fmt::format("{} datagrams from 198.51.100.20, none with DF", total)
                       : fmt::format("DF set on frame {} (and {} more)", df.front(), df.size() - 1),
            df.empty() ? k.frames() : frames_of({df.front()}));
  if (!reply) {
    // Unanswered: a discard only if a later echo request (its own marker) is
    // answered.
    const Control another_echo = [&c, &capture](CaseRun& r) -> std::optional<std::string> {
      const std::string m3 = marker("host-relay", 3);
      const Sent s3 = client_send(r, c, echo_with(c.teredo, ipv6(kRelayV6), m3));
      const auto answer = capture.wait_for(relay_delivery(capture, c, m3), kDeliveryTimeout, s3.mark);
      if (answer) {
        r.info(fmt::format("control: a second echo request from {} (frame {}) was answered (frame {})", c.where(),
                           s3.frame, answer->number),
               "control_answered");
        return std::nullopt;
      }
      return fmt::format("a second echo request from {} (frame {}) got no answer within {} either", c.where(),
                         s3.frame, kit::ms(kDeliveryTimeout));
    };
    kit::judge_unanswered(run, {"R4380-5.5-03"},
                          fmt::format("the client's echo request to {} (frame {}) after {}", kRelayV6, s.frame,
                                      k.story(c)),
                          expected, frames, another_echo, "own_traffic_not_relayed", kDeliveryTimeout);
    return;
  }
  run.check("R4380-5.5-03", "own_traffic_not_relayed", true, expected,
            k.story(c) + fmt::format("; the client's echo request to {} (frame {}) was answered: {}", kRelayV6,
                                     s.frame, describe_frame(*reply, capture.link_type())),
            frames);
}

void other_hosts_not_relayed(CaseRun& run) {
  open_server(run);
  NativeHost self(run, 5302, "relay", kRelayV6, "");
  NativeHost other(run, 5303);  // v6host, routed through the IUT's host
  Capture& driver = run.capture("driver");
  std::vector<Probe> probes;
  // 1: another host's packet to a Teredo client, through the relay host.
  const Peer c2 = make_peer(run, kClients, 43012);
  {
    Probe p;
    const std::string m = marker("host-relay-other", 1);
    const auto s = other.send(c2.teredo, bytes_of(m.c_str()));
    p.sent = other.refs(s);
    p.capture = "driver";
    p.after = s.driver_mark;
    p.reaction = relay_carrying(driver, c2.teredo);
    p.what = fmt::format("a packet from v6host ({}) to {} routed through the relay host (v6host frame {})", kV6Host,
                         to_string(c2.teredo), s.frame);
    p.expected = "not relayed: no bubble or datagram from 198.51.100.20 for " + to_string(c2.teredo) +
                 " within 1000 ms (a host-specific relay serves only its own host)";
    probes.push_back(std::move(p));
  }
  // 2: a trusted client's packet to another native host.
  const Peer c = make_peer(run, kClients, 43011);
  const Contact k = contact(run, self, c, marker("host-relay-other", 2));
  if (k.trusted()) {
    const std::string m = marker("host-relay-other", 3);
    Probe p = probe_native(run, c, echo_with(c.teredo, other.address(), m),
                           fmt::format("an echo request from the trusted client {} to v6host", to_string(c.teredo)),
                           c.teredo, other.address());
    p.reaction = native_containing(run.capture("v6host"), m);
    p.expected = "not relayed: no native packet from the client on v6host:eth0 within 1000 ms";
    probes.push_back(std::move(p));
  } else {
    run.info(
        "the client could not be made trusted through the host's own traffic, so the second probe (client to "
        "another host) was not sent: " +
            k.story(c),
        "second_probe_not_sent");
  }
  const Peer fresh = make_peer(run, kClients, 43013);
  judge_silence(run, {"R4380-5.5-03"}, probes, control_bubble(self, fresh));
}

// What a host-specific relay receives is for its host, which answers an
// echo request: the reply, encapsulated back, shows the request got in.
// §4 (R4380-4-03): flag bits other than the cone bit change nothing; RFC
// 6081 §4.1: a trailer whose type starts with bits 01 means "discard".
void flags_and_trailers(CaseRun& run) {
  open_server(run);
  NativeHost self(run, 5304, "relay", kRelayV6, "");
  const Peer c = make_peer(run, kClients, 43021, 0x7fff);  // every flag bit but the cone bit
  const Contact k = contact(run, self, c, marker("host-flags", 1));
  if (!k.trusted()) {
    for (const char* r : {"R4380-4-03", "R6081-4.1-01"}) {
      run.inconclusive(r,
                       "the client (flags 0x7fff) never became trusted through the host's own traffic: " + k.story(c),
                       "client_not_trusted");
    }
    return;
  }
  Capture& capture = run.capture("driver");
  const auto ping = [&](const std::string& mark, wire::Bytes trailer) {
    ByteVector packet = echo_with(c.teredo, ipv6(kRelayV6), mark);
    packet.insert(packet.end(), trailer.begin(), trailer.end());
    const Sent s = client_send(run, c, packet);
    const auto reply = capture.wait_for(relay_delivery(capture, c, mark), kDeliveryTimeout, s.mark);
    return std::make_pair(s, reply);
  };
  const auto [plain_sent, plain_reply] = ping(marker("host-flags", 2), {});
  std::vector<FrameRef> frames = k.frames();
  frames.push_back(frame_ref(plain_sent.frame));
  if (plain_reply) frames.push_back(frame_ref(plain_reply->number));
  run.check("R4380-4-03", "flagged_client_not_served", plain_reply.has_value(),
            fmt::format("a client with flags 0x7fff ({}) served like one with flags 0: bubbled, trusted, its echo "
                        "request to the host answered",
                        to_string(c.teredo)),
            k.story(c) + (plain_reply ? fmt::format("; echo request (frame {}) answered (frame {})", plain_sent.frame,
                                                    plain_reply->number)
                                      : fmt::format("; echo request (frame {}) not answered within {} ms",
                                                    plain_sent.frame, kDeliveryTimeout.count())),
            frames);
  const std::uint8_t discard[] = {0x41, 0x02, 0xab, 0xcd};
  const auto [trailer_sent, trailer_reply] = ping(marker("host-flags", 3), wire::Bytes(discard, sizeof discard));
  const auto [control_sent, control_reply] = ping(marker("host-flags", 4), {});
  const std::vector<FrameRef> trailer_frames = frames_of(
      {trailer_sent.frame, trailer_reply ? trailer_reply->number : 0, control_sent.frame,
       control_reply ? control_reply->number : 0});
  if (!trailer_reply && !control_reply) {
    run.inconclusive("R6081-4.1-01",
                     fmt::format("neither the echo request with a 0x41 trailer (frame {}) nor the "
                                 "plain one after it (frame {}) was answered: silence proves nothing",
                                 trailer_sent.frame, control_sent.frame),
                     kit::kControlUnanswered);
    return;
  }
  run.check("R6081-4.1-01", "packet_with_discard_trailer_delivered", !trailer_reply.has_value(),
            "an echo request followed by an unknown trailer of type 0x41 (high bits 01: discard) not delivered, "
            "while a plain one is",
            fmt::format("with the trailer (frame {}): {}; plain control (frame {}): {}", trailer_sent.frame,
                        trailer_reply ? fmt::format("answered (frame {})", trailer_reply->number) : "no answer",
                        control_sent.frame,
                        control_reply ? fmt::format("answered (frame {})", control_reply->number) : "no answer"),
            trailer_frames);
}

}  // namespace

TEREDO_CASE({.id = "host-relay.receive.flags-and-trailers",
             .title = "Host-specific relay: flag bits are ignored; a trailer of type 01xxxxxx means discard",
             .description = "A client whose address has every flag bit but the cone bit set (0x7fff) becomes "
                            "trusted through the host's own traffic, then sends the host three echo requests: plain, "
                            "followed by a trailer of type 0x41 length 2, plain again.",
             .judgement = "The first echo request answered (R4380-4-03: the z and random bits change nothing); the "
                          "one with the 0x41 trailer not answered while the last one is (RFC 6081 §4.1: 'if the "
                          "first two bits are 01 and the type is not recognized, the packet is discarded').",
             .role = "host-relay",
             .requirements = {"R4380-4-03", "R6081-4.1-01"},
             .capabilities = {"host_specific_relay"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = flags_and_trailers});

TEREDO_CASE({.id = "host-relay.transmit.own-traffic",
             .title = "A host-specific relay encapsulates its host's own traffic to Teredo clients",
             .description = "The IUT host (2001:db8:1::1, 198.51.100.20) sends a UDP packet to a cone-0 Teredo client "
                            "(198.51.100.7:43001) that answers the bubble; the client then sends an ICMPv6 echo "
                            "request to 2001:db8:1::1.",
             .judgement = "Pass when the host bubbles the client via its server from its native address, delivers "
                          "the packet after the answer, and its echo reply reaches the client over UDP: RFC 4380 §5.5 'a "
                          "Teredo-capable node that has IPv4 connectivity and that has obtained IPv6 connectivity "
                          "outside the Teredo service MAY decide to behave as a Teredo relay', serving just the local "
                          "host (§5.4), with the §5.4.1 procedure. Also judged: no router solicitation from "
                          "the host (§5 and §5.5: a node with native IPv6 MUST NOT behave as a Teredo client) and DF "
                          "clear on its datagrams (§5.1.2).",
             .role = "host-relay",
             .requirements = {"R4380-5.5-03", "R4380-5-01", "R4380-5.1.2-02"},
             .capabilities = {"host_specific_relay"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = own_traffic});

TEREDO_CASE({.id = "host-relay.transmit.other-hosts-not-relayed",
             .title = "A host-specific relay does not relay for other hosts",
             .description = "v6host sends a packet to a Teredo client through the IUT host (its IPv6 router); a "
                            "client made trusted by the host's own traffic sends an echo request to v6host; then, as "
                            "control, the host itself sends to a fresh client.",
             .judgement = "Pass when neither is relayed within 1 s while the control is bubbled: a host-specific "
                          "relay ('A minimal Teredo relay may serve just a local host, and would not advertise the "
                          "prefix beyond this host', §5.4), so it carries only its own host's packets (§5.5).",
             .role = "host-relay",
             .requirements = {"R4380-5.5-03"},
             .capabilities = {"host_specific_relay"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = other_hosts_not_relayed});

}  // namespace teredo::conformance::relay
