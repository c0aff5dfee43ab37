// §5.3.1: packets for the server itself (ff02::2, its link-local address),
// §5.4.3 (every server can be a relay) and §5.5 (sunset) as far as a server
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
    run.info(fmt::format("the server's link-local address, from its RA ({}): {}", describe(*e.reply), to_string(ll)));
    return ll;
  }
  run.warn_note("no RA to learn the server's link-local address from; using fe80::8000:f227:34ff:8efe");
  return server_link_local(kPrimary);
}

// An echo reply the server may have sent back to `a` after `after`: checked
// when present (it must answer the request it got), recorded otherwise.
void judge_echo_reply(CaseRun& run, const Peer& a, std::uint64_t after, const ByteVector& request, const Sent& sent) {
  Capture& capture = run.capture("driver");
  const auto replies = capture.frames(udp_to(capture, a.address, a.port), after);
  if (replies.empty()) {
    run.info("the echo request was not answered (RFC 4380 §5.3.1: the server 'may have to process' echo requests)");
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
  run.check("R4380-5.3.1-10", ok,
            "when answered: an echo reply to " + to_string(a.teredo) + " with the request's identifier, sequence "
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
  judge_echo_reply(run, a, probe.sent.mark, request, probe.sent);
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

void relay_capability(CaseRun& run) {
  std::string roles;
  for (const auto& [role, launch] : run.adapter().roles) roles += (roles.empty() ? "" : ", ") + role;
  run.info("the adapter declares the roles: " + roles);
  run.inconclusive("R4380-5.4.3-01",
                   "RFC 4380 §5.4.3 'all Teredo servers must be capable of behaving as Teredo relays' is a property "
                   "of the product, not a behaviour of the running server: the server role of this adapter starts a "
                   "pure server (§5.3), which by §5.3.1 rule 2 SHOULD discard what a relay would carry, so no trace "
                   "of it can show the relay capability. The relay-role cases judge relay behaviour when the adapter "
                   "declares a relay launch (declared roles: " + roles + ").");
  run.inconclusive("R4380-5.4.3-02",
                   "the union of the §5.3.1 and §5.4.2 rules applies only to a node configured as server and relay at "
                   "once; the adapter format has no combined server+relay launch, so the running server is a pure "
                   "server and the combined rules cannot be exercised.");
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
  run.info("RFC 4380 §5.5 also expects servers to announce the date they stop the service; that has no protocol "
           "element, so only the MUST NOT above is judged");
  if (control && client_traffic.empty()) {
    run.inconclusive("R4380-5-01", "no Teredo client traffic from the server, but " + *control +
                                       ": a server that sends nothing proves nothing");
    return;
  }
  const std::string expected =
      "no Teredo client behaviour from a server that has native IPv6: no RS over UDP and no datagram to any UDP "
      "port 3544 from 203.0.113.1/.2 (server:eth0) while the case runs";
  if (client_traffic.empty()) {
    run.check("R4380-5-01", true, expected,
              fmt::format("{} frames on server:eth0, none of them Teredo client traffic", eth0.count()));
  } else {
    run.check("R4380-5-01", false, expected, describe_frame(client_traffic.front(), link) + " on server:eth0",
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
             .title = "Relay capability of the server (recorded as not judgeable against a server black box)",
             .description = "Nothing is sent: the case records why RFC 4380 §5.4.3 cannot be judged from the server "
                            "role, and which roles the adapter declares.",
             .judgement = "Always inconclusive, with the reason: a capability of the product (§5.4.3 'all Teredo "
                          "servers must be capable of behaving as Teredo relays') and the combined server+relay "
                          "rules need a server+relay launch the adapter format does not have.",
             .role = "server",
             .requirements = {"R4380-5.4.3-01", "R4380-5.4.3-02"},
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
