// §5.3.1: packets for the server itself (ff02::2, its link-local address),
// §5.4.3 (a server configured as a relay too) and §5.5 (sunset) as far as a server
// black box shows them.
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "cases/server/driver.hpp"

namespace teredo::conformance::server {
namespace {

using namespace teredo::wire;

// The server's link-local address as it uses it: the source of its RA.
Ipv6Address learn_link_local(CaseRun& run, const Peer& a) {
  const Exchange e = rs_exchange(run, a, {});
  if (e.reply && e.reply->datagram && parse_ra(*e.reply)) {
    const Ipv6Address ll = e.reply->datagram->ipv6.header.source;
    run.info(fmt::format("the server's link-local address, from its RA ({}): {}", describe(*e.reply), to_string(ll)),
             "server_link_local_learnt");
    return ll;
  }
  run.warn_note("no RA to learn the server's link-local address from; using fe80::8000:f227:34ff:8efe",
                "server_link_local_assumed");
  return server_link_local(kPrimary);
}

// An echo reply the server may have sent back to `a` after `after`: checked
// when present (it must answer the request it got), recorded otherwise.
void judge_echo_reply(CaseRun& run, const Peer& a, std::uint64_t after, const ByteVector& request, const Sent& sent) {
  Capture& capture = run.capture("driver");
  const auto replies = capture.frames(udp_to(capture, a.address, a.port), after);
  if (replies.empty()) {
    run.info("the echo request was not answered (RFC 4380 §5.3.1: the server 'may have to process' echo requests)",
             "echo_request_not_answered");
    return;
  }
  const auto r = as_reply(replies.front(), capture.link_type());
  const auto req = parse_ipv6_packet(request);
  const auto req_icmp = parse_icmpv6(*req);
  const auto req_echo = parse_echo(*req_icmp);
  bool ok = false;
  std::string observed = r ? describe(*r) : describe_frame(replies.front(), capture.link_type());
  if (r && r->datagram) {
    const auto icmp = parse_icmpv6(r->datagram->ipv6, ChecksumPolicy::verify);
    const auto echo = icmp ? parse_echo(*icmp) : Result<EchoMessage>(icmp.error());
    ok = echo && echo->reply && echo->identifier == req_echo->identifier && echo->sequence == req_echo->sequence &&
         std::equal(echo->data.begin(), echo->data.end(), req_echo->data.begin(), req_echo->data.end()) &&
         r->datagram->ipv6.header.destination == a.teredo;
    observed += fmt::format(", IPv6 {} -> {}", to_string(r->datagram->ipv6.header.source),
                            to_string(r->datagram->ipv6.header.destination));
    if (!icmp) observed += fmt::format(" ({})", to_string(icmp.error()));
  }
  run.check("R4380-5.3.1-10", "local_echo_reply_mismatched", ok,
            "when answered: an echo reply to " + to_string(a.teredo) +
                " with the request's identifier, sequence "
                "and data",
            observed, frames_of({sent.frame, replies.front().number}));
}

void echo_local(CaseRun& run, const Peer& a, const Ipv6Address& destination, const std::string& label) {
  const ByteVector request = echo_packet(a.teredo, destination, 0x501, 7);
  SilenceProbe probe = probe_carry(run, a, encapsulate(request),
                                   fmt::format("an echo request {} -> {} ({})", to_string(a.teredo),
                                               to_string(destination), label),
                                   a.teredo, destination);
  probe.expected = "processed by the server itself: not forwarded anywhere (no datagram from the server and no "
                   "native packet carrying " + to_string(a.teredo) + " -> " + to_string(destination) +
                   " within 1000 ms)";
  judge_silence(run, {"R4380-5.3.1-10"}, {probe}, control_rs());
  judge_echo_reply(run, a, probe.stimulus.mark, request, probe.stimulus);
}

void echo_to_all_routers(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40501);
  echo_local(run, a, ipv6("ff02::2"), "all-routers");
}

void echo_to_link_local(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40502);
  const Ipv6Address ll = learn_link_local(run, a);
  echo_local(run, a, ll, "the server's link-local address");
}

void bubble_to_server(CaseRun& run) {
  const Peer a = make_peer(run, kDriver, 40503);
  const Ipv6Address ll = learn_link_local(run, a);
  std::vector<SilenceProbe> probes;
  for (const Ipv6Address& d : {ipv6("ff02::2"), ll}) {
    probes.push_back(probe_carry(run, a, encapsulate(bubble_packet(a.teredo, d)),
                                 "a bubble " + to_string(a.teredo) + " -> " + to_string(d), a.teredo, d));
  }
  judge_silence(run, {"R4380-5.3.1-10"}, probes, control_rs());
}

// UDP in IPv6 (source port 5000, destination 6000, "test"; checksum 0: the
// IUT forwards it, nobody parses it).
ByteVector udp_packet(const Ipv6Address& source, const Ipv6Address& destination) {
  Ipv6Header h;
  h.next_header = kNextHeaderUdp;
  h.hop_limit = 64;
  h.source = source;
  h.destination = destination;
  return build_ipv6_packet(h, ByteVector{0x13, 0x88, 0x17, 0x70, 0x00, 0x0c, 0x00, 0x00, 't', 'e', 's', 't'});
}

void relay_capability(CaseRun& run) {
  // The IUT runs its server+relay launch (capability server_relay). A pure
  // server SHOULD drop this UDP-in-IPv6 packet (R4380-5.3.1-03); a server
  // that also relays forwards it (§5.4.3).
  const Ipv6Address v6host = ipv6(kV6Host);
  const Peer spoofer = make_peer(run, kRelayHost, 40492, 0, "relay");
  const Peer a = make_peer(run, kRelayHost, 40491, 0, "relay");
  // The spoofed packet first: its Teredo source embeds 198.51.100.20:40493,
  // not the endpoint it comes from. §5.3.1 rule 7 and the §5.4.2 check of a
  // relay both discard it; a combined node applies both (R4380-5.4.3-02).
  const Ipv6Address forged = teredo_address(kPrimary, 0, kRelayHost, 40493);
  const Sent spoofed = send_from(run, spoofer, encapsulate(udp_packet(forged, v6host)));
  std::this_thread::sleep_for(kSilenceWindow);
  const Sent sent = send_from(run, a, encapsulate(udp_packet(a.teredo, v6host)));
  Capture& v6 = run.capture("v6host");
  const auto link = v6.link_type();
  const auto native_udp = [&](const Ipv6Address& source) {
    return [&, source](const CapturedFrame& f) {
      const auto n = native_ipv6(link, f.data);
      return n && n->header.source == source && n->header.destination == v6host &&
             n->header.next_header == kNextHeaderUdp;
    };
  };
  const auto seen = v6.wait_for(native_udp(a.teredo), kAnswerTimeout);
  if (!seen) {
    judge_not_forwarded(run, {"R4380-5.4.3-01"}, sent,
                        fmt::format("{} -> {} (UDP) sent from {}", to_string(a.teredo), kV6Host, a.where()),
                        "the UDP-in-IPv6 packet routed natively to 2001:db8:1::10 (seen on v6host:eth0) by the "
                        "server configured as a relay",
                        "combined_node_not_relaying", control_rs(kRelayHost, "relay"));
    run.inconclusive("R4380-5.4.3-02",
                     "the valid packet was not forwarded either, so the silence after the spoofed "
                     "one proves nothing",
                     kit::kControlUnanswered);
    return;
  }
  const auto n = native_ipv6(link, seen->data);
  const auto original = parse_ipv6_packet(udp_packet(a.teredo, v6host));
  const bool unchanged = n && original && same(n->payload, original->payload);
  run.check(
      "R4380-5.4.3-01", "native_payload_altered", unchanged,
      "the UDP-in-IPv6 packet (neither bubble nor ICMPv6) routed natively to 2001:db8:1::10, payload unchanged",
      fmt::format("native IPv6 {} -> {} next header {} on v6host:eth0 (frame {}), payload {}", to_string(a.teredo),
                  kV6Host, n ? n->header.next_header : 0, seen->number, unchanged ? "unchanged" : "DIFFERENT"),
      {frame_ref(sent.frame), frame_ref(seen->number, "v6host")});
  const auto leaked = v6.frames(native_udp(forged));
  run.check("R4380-5.4.3-02", "spoofed_source_relayed_natively", leaked.empty(),
            "the packet whose Teredo source does not match its outer IPv4 address and port discarded (§5.3.1 rule 7, "
            "§5.4.2)",
            leaked.empty() ? fmt::format("nothing from {} on v6host:eth0 within {} ms of the spoofed packet from {} "
                                         "(driver frame {}), while the valid one that followed was forwarded",
                                         to_string(forged), kSilenceWindow.count(), spoofer.where(), spoofed.frame)
                           : fmt::format("forwarded natively (v6host frame {})", leaked.front().number),
            leaked.empty()
                ? frames_of({spoofed.frame})
                : std::vector<FrameRef>{frame_ref(spoofed.frame), frame_ref(leaked.front().number, "v6host")});
}

void sunset_no_client_behaviour(CaseRun& run) {
  // The server has native IPv6 (eth1 2001:db8:1::2): RFC 4380 §5.5 'The
  // Teredo-capable nodes MUST NOT behave as Teredo clients if they already
  // have IPv6 connectivity through any other means'. A Teredo client shows
  // itself by qualifying: RSs over UDP towards a Teredo server.
  std::this_thread::sleep_for(kSilenceWindow);
  const auto control = control_rs(kRelayHost, "relay")(run);
  Capture& eth0 = run.capture("server-eth0");
  const auto link = eth0.link_type();
  const Ipv4Address primary = ipv4(kPrimary), secondary = ipv4(kSecondary);
  const auto client_traffic = eth0.frames([&](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    if (!c || c->ipv6 || (c->source4 != primary && c->source4 != secondary)) return false;
    if (c->destination_port == kTeredoPort) return true;  // towards a Teredo server
    const auto d = parse_datagram(c->payload);
    if (!d) return false;
    const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::ignore);
    return icmp && icmp->type == kIcmpv6RouterSolicitation;
  });
  run.info(
      "RFC 4380 §5.5 also expects servers to announce the date they stop the service; that has no protocol "
      "element, so only the MUST NOT above is judged",
      "service_end_date_not_judged");
  if (control && client_traffic.empty()) {
    run.inconclusive(
        "R4380-5-01",
        "no Teredo client traffic from the server, but " + *control + ": a server that sends nothing proves nothing",
        kit::kControlUnanswered);
    return;
  }
  const std::string expected =
      "no Teredo client behaviour from a server that has native IPv6: no RS over UDP and no datagram to any UDP "
      "port 3544 from 203.0.113.1/.2 (server:eth0) while the case runs";
  if (client_traffic.empty()) {
    run.check("R4380-5-01", "client_behaviour_with_native_ipv6", true, expected,
              fmt::format("{} frames on server:eth0, none of them Teredo client traffic", eth0.count()));
  } else {
    run.check("R4380-5-01", "client_behaviour_with_native_ipv6", false, expected,
              describe_frame(client_traffic.front(), link) + " on server:eth0",
              {frame_ref(client_traffic.front().number, "server-eth0")});
  }
}

}  // namespace

TEREDO_CASE({.id = "server.local.echo-to-all-routers",
             .title = "An echo request to ff02::2 is processed by the server, not forwarded",
             .description = "Client A (198.51.100.7:40501, Teredo source matching its endpoint) sends an ICMPv6 echo "
                            "request to ff02::2, then a valid control RS is sent.",
             .judgement = "Pass when the request is not forwarded anywhere within 1 s (no datagram from the server "
                          "and no native packet carrying it) while the control is answered: §5.3.1 'If the IPv6 "
                          "destination address is the link-local scope all routers multicast address (FF02::2), or "
                          "the link-local address of the server, the Teredo server processes the packet; it may "
                          "have to process Router Solicitation messages and ICMPv6 Echo Request messages'. An echo "
                          "reply is optional; when there is one it must answer the request (identifier, sequence, "
                          "data, addressed to A).",
             .role = "server",
             .requirements = {"R4380-5.3.1-10"},
             .body = echo_to_all_routers});

TEREDO_CASE({.id = "server.local.echo-to-link-local",
             .title = "An echo request to the server's link-local address is processed by the server",
             .description = "Client A (198.51.100.7:40502) first learns the server's link-local address from the "
                            "source of an RA, then sends an ICMPv6 echo request to it, then a control RS.",
             .judgement = "As server.local.echo-to-all-routers, for the server's own link-local address.",
             .role = "server",
             .requirements = {"R4380-5.3.1-10"},
             .body = echo_to_link_local});

TEREDO_CASE({.id = "server.local.bubble-to-server-not-forwarded",
             .title = "Bubbles to ff02::2 and to the server's link-local address are not forwarded",
             .description = "Client A (198.51.100.7:40503) learns the server's link-local address from an RA, then "
                            "sends bubbles to ff02::2 and to that address, then a control RS.",
             .judgement = "Pass when neither bubble leaves the server within 1 s while the control is answered: "
                          "both destinations are processed by the server itself (§5.3.1), and a bubble asks for "
                          "nothing.",
             .role = "server",
             .requirements = {"R4380-5.3.1-10"},
             .body = bubble_to_server});

TEREDO_CASE({.id = "server.local.relay-capability",
             .title = "A server configured as a relay forwards any protocol and keeps the source checks",
             .description = "Topology client-nat; the IUT is started with its server+relay launch (capability "
                            "server_relay). From the relay host, a UDP-in-IPv6 packet whose Teredo source embeds "
                            "198.51.100.20:40493 is sent from port 40492 (spoofed); 1 s later a UDP-in-IPv6 packet "
                            "from a client whose Teredo address matches its endpoint (198.51.100.20:40491) to the "
                            "native host 2001:db8:1::10.",
             .judgement = "Pass when the valid packet shows up natively on the IPv6 side, unchanged (§5.4.3 'all "
                          "Teredo servers must be capable of behaving as Teredo relays'; a pure server SHOULD drop "
                          "it, §5.3.1), and the spoofed one does not (§5.4.3: the node applies 'the union of the "
                          "rules for both' roles: §5.3.1 rule 7 and §5.4.2 both discard it).",
             .role = "server",
             .requirements = {"R4380-5.4.3-01", "R4380-5.4.3-02"},
             .capabilities = {"server_relay"},
             .topology = "client-nat",
             .captures = {{"driver", "relay", "eth0"}, {"v6host", "v6host", "eth0"}},
             .body = relay_capability});

TEREDO_CASE({.id = "server.local.sunset-no-client-behaviour",
             .title = "A server with native IPv6 does not behave as a Teredo client",
             .description = "Topology client-nat: the server also has native IPv6 (eth1 2001:db8:1::2). The case "
                            "watches server:eth0 for 1 s after the server is ready, then the relay host "
                            "(198.51.100.20) sends a valid control RS.",
             .judgement = "Pass when the server sent no Teredo client traffic (no RS over UDP, no datagram to a UDP "
                          "port 3544) during the case while answering the control RS: RFC 4380 §5.5 'The "
                          "Teredo-capable nodes MUST NOT behave as Teredo clients if they already have IPv6 "
                          "connectivity through any other means'. The stop-date announcement §5.5 expects of "
                          "servers has no protocol element and is not judged.",
             .role = "server",
             .requirements = {"R4380-5-01"},
             .topology = "client-nat",
             .captures = {{"driver", "relay", "eth0"}, {"server-eth0", "server", "eth0"}},
             .body = sunset_no_client_behaviour});

}  // namespace teredo::conformance::server
