// RFC 4380 §5.4 (service port, list of peers) under the state attack of
// §7.3.5, and the automatic sunset rule every node implements (§5, §5.5).
#include <fmt/format.h>

#include <map>
#include <set>
#include <thread>

#include "cases/relay/relay_driver.hpp"

namespace teredo::conformance::relay {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

void peer_flood(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5201);
  Capture& capture = run.capture("driver");
  const LinkType link = capture.link_type();
  // §7.3.5: 'An IPv6 host can send IPv6 packets to a large number of Teredo
  // destinations, forcing the relay to establish state for each of these
  // destinations.' 2000 destinations, about 1 s.
  constexpr int kDestinations = 2000;
  constexpr std::uint16_t kFirstPort = 20000;
  const std::uint64_t start = capture.count();
  std::set<Ipv6Address, bool (*)(const Ipv6Address&, const Ipv6Address&)> flood(
      [](const Ipv6Address& a, const Ipv6Address& b) { return a.bytes < b.bytes; });
  for (int i = 0; i < kDestinations; ++i) {
    const Ipv6Address d = teredo_address(kServer, 0, kClients2, static_cast<std::uint16_t>(kFirstPort + i));
    flood.insert(d);
    const std::string m = marker("flood", i);
    for (int attempt = 0; attempt < 20; ++attempt) {  // the socket may be momentarily full
      try {
        host.send(d, bytes_of(m.c_str()), 0, false);
        break;
      } catch (const std::runtime_error&) {
        std::this_thread::sleep_for(5ms);
      }
    }
    if (i % 50 == 49) std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(1500ms);
  std::map<Ipv6Address, int, bool (*)(const Ipv6Address&, const Ipv6Address&)> per_destination(
      [](const Ipv6Address& a, const Ipv6Address& b) { return a.bytes < b.bytes; });
  std::uint64_t first_bubble = 0, last_bubble = 0;
  for (const auto& f : capture.frames(from_relay(capture), start)) {
    const auto c = find_udp_carrier(link, f.data);
    const auto inner = c ? inner_addresses(c->payload) : std::nullopt;
    if (!inner || !flood.count(inner->second)) continue;
    ++per_destination[inner->second];
    if (!first_bubble) first_bubble = f.number;
    last_bubble = f.number;
  }
  int most = 0;
  for (const auto& entry : per_destination) most = std::max(most, entry.second);
  run.info(fmt::format("{} native packets to {} distinct Teredo destinations: the relay sent datagrams for {} of "
                       "them (frames {}..{}), at most {} for one destination",
                       kDestinations, kDestinations, per_destination.size(), first_bubble, last_bubble, most),
           "flood_bubble_counts");

  // After the flood, a real client must still be served both ways.
  const Peer c = make_peer(run, kClients, 41201);
  const Contact k = contact(run, host, c, marker("after-flood", 1));
  std::optional<CapturedFrame> forwarded;
  Sent s;
  if (k.trusted()) {
    const std::string m = marker("after-flood", 2);
    const std::uint64_t after = native_mark(run);
    s = client_send(run, c, echo_with(c.teredo, host.address(), m));
    forwarded = wait_native(run, c.teredo, host.address(), after);
  }
  std::vector<FrameRef> frames = k.frames();
  if (s.frame) frames.push_back(frame_ref(s.frame));
  if (forwarded) frames.push_back(frame_ref(forwarded->number, "v6host"));
  run.check("R4380-5.4-02", "peer_list_broken_after_flood", k.trusted() && forwarded.has_value(),
            fmt::format("after {} new destinations in about 1 s (§7.3.5), the relay's list of peers still works: a "
                        "new client is bubbled, trusted after its answer, and its packets forwarded",
                        kDestinations),
            k.story(c) + (forwarded ? fmt::format("; its echo request (driver frame {}) forwarded (v6host frame {})",
                                                  s.frame, forwarded->number)
                                    : std::string("; its echo request was not forwarded")),
            frames);
  // §5.4: 'Teredo relays must use a Teredo service port to transmit packets
  // to Teredo clients': one source port for everything.
  std::map<std::uint16_t, std::uint64_t> ports;  // port -> first frame
  std::uint64_t total = 0;
  for (const auto& f : capture.frames(from_relay(capture))) {
    const auto c2 = find_udp_carrier(link, f.data);
    if (!c2) continue;
    ++total;
    ports.emplace(c2->source_port, f.number);
  }
  std::string list;
  std::vector<FrameRef> port_frames;
  for (const auto& [port, frame] : ports) {
    list += fmt::format("{}{} (first at frame {})", list.empty() ? "" : ", ", port, frame);
    port_frames.push_back(frame_ref(frame));
  }
  run.check("R4380-5.4-02", "multiple_service_ports", ports.size() == 1,
            "every datagram from the relay (bubbles to servers and packets to clients) sent from one Teredo service "
            "port",
            fmt::format("{} datagrams from 198.51.100.20, source ports: {}", total, list.empty() ? "none" : list),
            port_frames);
}

void sunset_no_client_behaviour(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5202);
  std::this_thread::sleep_for(kSilenceWindow);
  const Peer fresh = make_peer(run, kClients, 41211);
  const auto control = control_bubble(host, fresh)(run);
  Capture& capture = run.capture("driver");
  const LinkType link = capture.link_type();
  // A Teredo client shows itself by qualifying: router solicitations over UDP.
  const auto client_traffic = capture.frames([&](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    if (!c || c->ipv6 || c->source4 != ipv4(kRelay)) return false;
    const auto d = parse_datagram(c->payload);
    if (!d) return false;
    const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::ignore);
    return icmp && icmp->type == kIcmpv6RouterSolicitation;
  });
  run.info(
      "RFC 4380 §5.5 also has relays advertise the Teredo prefix only while the service runs; route "
      "advertisement has no element on this lab's wire and is not judged",
      "prefix_advertisement_not_judged");
  if (control && client_traffic.empty()) {
    run.inconclusive(
        "R4380-5-01",
        "no Teredo client traffic from the relay, but " + *control + ": a relay that sends nothing proves nothing",
        kit::kControlUnanswered);
    return;
  }
  const std::string expected =
      "no Teredo client behaviour from a relay that has native IPv6 (2001:db8:1::1): no router solicitation over UDP "
      "from 198.51.100.20 while the case runs (§5.5 'The Teredo-capable nodes MUST NOT behave as Teredo clients if "
      "they already have IPv6 connectivity through any other means')";
  if (client_traffic.empty()) {
    run.check("R4380-5-01", "client_behaviour_with_native_ipv6", true, expected,
              fmt::format("{} frames on driver:eth0, none a router solicitation from the relay", capture.count()));
  } else {
    run.check("R4380-5-01", "client_behaviour_with_native_ipv6", false, expected,
              describe_frame(client_traffic.front(), link), {frame_ref(client_traffic.front().number)});
  }
}

}  // namespace

TEREDO_CASE({.id = "relay.limits.peer-flood",
             .title = "The relay survives a flood of new Teredo destinations and keeps one service port",
             .description = "v6host sends one packet to each of 2000 distinct Teredo destinations (server "
                            "203.0.113.1, mapping 198.51.100.8:20000-21999, nobody answers) in about 1 s (RFC 4380 "
                            "§7.3.5). Then a new client (198.51.100.7:41201) is contacted through the relay and sends "
                            "an echo request back.",
             .judgement = "Pass when the new client is bubbled, trusted after its answer and its packet forwarded "
                          "(the list of peers §5.4 requires still works under the state attack of §7.3.5), and when "
                          "every datagram the relay sent in the case left from one UDP source port (§5.4 'Teredo "
                          "relays must use a Teredo service port to transmit packets to Teredo clients').",
             .role = "relay",
             .requirements = {"R4380-5.4-02"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = peer_flood});

TEREDO_CASE({.id = "relay.sunset.no-client-behaviour",
             .title = "A relay with native IPv6 does not behave as a Teredo client",
             .description = "The relay has native IPv6 (eth1 2001:db8:1::1). The case watches driver:eth0 for 1 s "
                            "after the relay is ready, then v6host sends a packet to a valid client as control.",
             .judgement = "Pass when no router solicitation over UDP came from 198.51.100.20 while the control was "
                          "bubbled: RFC 4380 §5 makes every node implement §5.5, whose 'The Teredo-capable nodes MUST "
                          "NOT behave as Teredo clients if they already have IPv6 connectivity through any other "
                          "means' is what a relay can be seen to obey.",
             .role = "relay",
             .requirements = {"R4380-5-01"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = sunset_no_client_behaviour});

}  // namespace teredo::conformance::relay
