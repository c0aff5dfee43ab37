// RFC 4380 §5.2.8 local client discovery (and §5.2.3 case 4/5, §5.2.4 case
// 3): "lanpeer" (192.0.2.20, on the IUT's LAN) plays another Teredo client
// behind the same NAT; the lan capture (client:eth0) sees the multicast and
// unicast bubbles.
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kGroup = "224.0.0.253";

std::chrono::milliseconds timer_ms(const CaseRun& run, const char* name, std::chrono::milliseconds fallback) {
  const auto& table = run.adapter().timers_ms;
  const auto it = table.find(name);
  return it == table.end() ? fallback : std::chrono::milliseconds(it->second);
}

// Sends from a lanpeer socket; returns the frame in the lan capture (0: not seen).
std::uint64_t lan_send(CaseRun& run, int fd, std::uint16_t from_port, Bytes payload, const std::string& to,
                       std::uint16_t port) {
  Capture& capture = run.capture("lan");
  const LinkType link = capture.link_type();
  const std::uint64_t before = capture.count();
  run.send_udp(fd, to, port, payload);
  const Ipv4Address source = kit::ipv4(kLanPeer), destination = kit::ipv4(to);
  const auto own = capture.wait_for(
      [&](const CapturedFrame& f) {
        const auto c = find_udp_carrier(link, f.data);
        return c && !c->ipv6 && c->source4 == source && c->source_port == from_port &&
               c->destination4 == destination && c->destination_port == port;
      },
      200ms, before);
  return own ? own->number : 0;
}

ByteVector discovery_bubble(const Ipv6Address& source) {
  Ipv6Header h;
  h.next_header = kNextHeaderNone;
  h.hop_limit = 1;
  h.source = source;
  h.destination = kit::ipv6("ff02::1");
  return build_ipv6_packet(h, {});
}

// An IGMP membership report (v2 or v3) for `group` from 192.0.2.10.
bool igmp_join(LinkType link, Bytes frame, Ipv4Address group) {
  if (link != LinkType::ethernet || frame.size() < 14 + 20) return false;
  if (frame[12] != 0x08 || frame[13] != 0x00) return false;
  const std::size_t ip = 14;
  const std::size_t ihl = static_cast<std::size_t>(frame[ip] & 0x0F) * 4;
  if (frame[ip + 9] != 2 || frame.size() < ip + ihl + 8) return false;
  const Ipv4Address source{(std::uint32_t{frame[ip + 12]} << 24) | (std::uint32_t{frame[ip + 13]} << 16) |
                           (std::uint32_t{frame[ip + 14]} << 8) | frame[ip + 15]};
  if (source != kit::ipv4(kClientLan)) return false;
  const std::size_t g = ip + ihl;
  const auto read32 = [&frame](std::size_t at) {
    return (std::uint32_t{frame[at]} << 24) | (std::uint32_t{frame[at + 1]} << 16) | (std::uint32_t{frame[at + 2]} << 8) |
           frame[at + 3];
  };
  if (frame[g] == 0x16) return read32(g + 4) == group.value;  // IGMPv2 report
  if (frame[g] != 0x22) return false;                          // IGMPv3 report
  const std::size_t records = static_cast<std::size_t>((frame[g + 6] << 8) | frame[g + 7]);
  std::size_t at = g + 8;
  for (std::size_t i = 0; i < records && at + 8 <= frame.size(); ++i) {
    const std::uint8_t type = frame[at];
    const std::size_t aux = frame[at + 1];
    const std::size_t sources = static_cast<std::size_t>((frame[at + 2] << 8) | frame[at + 3]);
    // Types 2 (MODE_IS_EXCLUDE) and 4 (CHANGE_TO_EXCLUDE_MODE) with no source: a join.
    if (read32(at + 4) == group.value && (type == 2 || type == 4)) return true;
    at += 8 + 4 * sources + 4 * aux;
  }
  return false;
}

void bubble_format(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.8-04", "R4380-5.2.8-01", "R4380-5.2-08"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  Capture& lan_capture = run.capture("lan");
  const auto multicast = wait_seen(run, iut_to(lan_capture, kGroup, kTeredoPort), 3000ms, 0);
  const auto rss = all_seen(run, iut_rs(lan_capture));
  // The kernel sends the report a little after the join: wait for it.
  const LinkType link = lan_capture.link_type();
  const auto join = lan_capture.wait_for(
      [link](const CapturedFrame& f) { return igmp_join(link, f.data, kit::ipv4(kGroup)); }, 2000ms);
  std::vector<CapturedFrame> joins;
  if (join) joins.push_back(*join);
  // No report and no discovery bubble: the IUT shows no local discovery at
  // all, and its silence proves nothing. Discovery bubbles without a join:
  // the IUT runs discovery without the membership.
  if (joins.empty() && !multicast) {
    run.inconclusive("R4380-5.2.8-01",
                     "no IGMP report for 224.0.0.253 and no discovery bubble within 3000 ms: the "
                     "silence proves nothing",
                     "discovery_not_observed");
  } else {
    run.check("R4380-5.2.8-01", "discovery_group_not_joined", !joins.empty(),
              "an IGMP membership report for 224.0.0.253 from 192.0.2.10",
              joins.empty() ? "none in lan.pcap within 2000 ms, although the IUT sends discovery bubbles (" +
                                  describe(*multicast) + ")"
                            : fmt::format("IGMP report (lan frame {})", joins.front().number),
              joins.empty() ? std::vector<FrameRef>{lan(multicast->frame)}
                            : std::vector<FrameRef>{lan(joins.front().number)});
  }
  run.check("R4380-5.2-08", "local_discovery_choice_invalid", true, "local discovery is optional (MAY): recorded",
            multicast ? "the IUT runs local discovery: " + describe(*multicast) : "no discovery bubble seen",
            multicast ? std::vector<FrameRef>{lan(multicast->frame)} : std::vector<FrameRef>{});
  if (!multicast) {
    // The format of a bubble never sent cannot be judged.
    run.inconclusive("R4380-5.2.8-04",
                     fmt::format("no discovery bubble to 224.0.0.253:3544 within 3000 ms of "
                                 "qualification (declared discovery_max {}): nothing to judge",
                                 ms_text(t.discovery_max)),
                     "no_discovery_bubble");
    return;
  }
  if (!multicast->datagram) {
    run.check("R4380-5.2.8-04", "discovery_bubble_not_teredo", false,
              "a local discovery bubble (a Teredo IPv6 bubble) to 224.0.0.253:3544",
              describe(*multicast) + ": not a Teredo IPv6 packet", {lan(multicast->frame)});
    return;
  }
  const auto meta = kit::ipv4_meta(lan_capture.link_type(), multicast->bytes);
  const auto& h = multicast->datagram->ipv6.header;
  const std::uint16_t service_port = rss.empty() ? 0 : rss.back().carrier.source_port;
  const bool ok = meta && meta->ttl == 1 && multicast->carrier.source_port == service_port &&
                  multicast->carrier.destination_port == kTeredoPort && h.source == *address &&
                  h.destination == kit::ipv6("ff02::1") && h.next_header == kNextHeaderNone &&
                  h.payload_length == 0 && h.hop_limit == 1;
  run.check("R4380-5.2.8-04", "discovery_bubble_malformed", ok,
            fmt::format("IPv4 TTL 1 to 224.0.0.253, UDP from the service port {} to 3544, IPv6 {} -> ff02::1, next "
                        "header 59, payload length 0, hop limit 1",
                        service_port, to_string(*address)),
            fmt::format("{}: TTL {}, next header {}, payload length {}, hop limit {}", describe(*multicast),
                        meta ? meta->ttl : 0, h.next_header, h.payload_length, h.hop_limit),
            {lan(multicast->frame)});
}

void reply_and_filter(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.8-05", "R4380-5.2.8-06", "R4380-5.2.3-12", "R4380-5.2.8-02",
                                         "R4380-5.2.3-11", "R4380-5.2.3-13", "R4380-5.2.4-04", "R4380-5.2.8-09",
                                         "R4380-5.2.8-07"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  Capture& lan_capture = run.capture("lan");
  const auto rss = all_seen(run, iut_rs(lan_capture));
  const std::uint16_t service_port = rss.back().carrier.source_port;
  // Three local clients on lanpeer; their Teredo addresses embed the NAT's
  // outside address (they are behind the same NAT).
  const int fd_a = run.udp_socket("lanpeer", kLanPeer, 41500);
  const int fd_b = run.udp_socket("lanpeer", kLanPeer, 41501);
  const int fd_c = run.udp_socket("lanpeer", kLanPeer, 41502);
  const Ipv6Address a = kit::teredo_address(kServer, 0, kNatOutside, 41500);
  const Ipv6Address b = kit::teredo_address(kServer, 0, kNatOutside, 41501);
  const Ipv6Address foreign = kit::ipv6("2001:db8::1");
  const auto unicast_to = [&lan_capture](std::uint16_t port) { return iut_to(lan_capture, kLanPeer, port); };
  // Probe 1: a discovery bubble sent to the IUT's unicast address.
  const std::uint64_t mark1 = lan_mark(run);
  const std::uint64_t p1 = lan_send(run, fd_b, 41501, discovery_bubble(b), kClientLan, service_port);
  // Probe 2: a discovery bubble from a non-Teredo source.
  const std::uint64_t mark2 = lan_mark(run);
  const std::uint64_t p2 = lan_send(run, fd_c, 41502, discovery_bubble(foreign), kGroup, kTeredoPort);
  // Probe 3 (MAY): a valid discovery bubble whose Teredo source embeds
  // another mapped IPv4 than the IUT's (198.51.100.99).
  const int fd_d = run.udp_socket("lanpeer", kLanPeer, 41503);
  const Ipv6Address other = kit::teredo_address(kServer, 0, "198.51.100.99", 41503);
  const std::uint64_t mark7 = lan_mark(run);
  const std::uint64_t p7 = lan_send(run, fd_d, 41503, discovery_bubble(other), kGroup, kTeredoPort);
  std::this_thread::sleep_for(1000ms);
  const auto r7 = all_seen(run, unicast_to(41503), mark7);
  run.check("R4380-5.2.8-07", "foreign_discovery_choice_invalid", true,
            "either behaviour: answering or dropping a discovery bubble from another mapped "
            "IPv4 (MAY drop)",
            fmt::format("discovery bubble from {} (embeds 198.51.100.99, lan frame {}): {}", to_string(other), p7,
                        r7.empty() ? "dropped" : "answered (" + describe(r7.front()) + ")"),
            lan_frames({p7, r7.empty() ? 0 : r7.front().frame}));
  const auto r1 = all_seen(run, unicast_to(41501), mark1);
  const auto r2 = all_seen(run, unicast_to(41502), mark2);
  // The control: a valid discovery bubble from 192.0.2.20:41500.
  const std::uint64_t mark3 = lan_mark(run);
  const std::uint64_t p3 = lan_send(run, fd_a, 41500, discovery_bubble(a), kGroup, kTeredoPort);
  const auto reply = wait_seen(run, unicast_to(41500), t.bubble + 1500ms, mark3);
  const bool reply_ok = reply && reply->datagram && is_bubble(reply->datagram->ipv6) &&
                        reply->datagram->ipv6.header.destination == a &&
                        reply->datagram->ipv6.header.source == *address;
  const std::string reply_text =
      fmt::format("discovery bubble from {} to 224.0.0.253:3544 (lan frame {}); {}", to_string(a), p3,
                  reply ? describe(*reply) : "no unicast bubble to 192.0.2.20:41500 within " +
                                                 ms_text(t.bubble + 1500ms));
  for (const char* r : {"R4380-5.2.3-12", "R4380-5.2.8-02", "R4380-5.2.3-11"}) {
    if (!reply) {
      run.inconclusive(r, reply_text + ": the silence proves nothing about the reply", "discovery_bubble_unanswered");
      continue;
    }
    run.check(r, "discovery_reply_misaddressed", reply_ok,
              "a unicast bubble from the IUT's Teredo address to the sender's IPv4 source and port (192.0.2.20:41500) "
              "and IPv6 source",
              reply_text, lan_frames({p3, reply ? reply->frame : 0}));
  }
  const auto judge_probe = [&](const char* requirement, AssertionCode code, std::uint64_t frame,
                               const std::vector<Seen>& reaction, const std::string& what) {
    if (!reaction.empty()) {
      run.check(requirement, code, false, "silently discarded: no bubble back",
                what + ": answered by " + describe(reaction.front()), lan_frames({frame, reaction.front().frame}));
    } else if (!reply_ok) {
      run.inconclusive(requirement, what + " met silence, but the valid discovery bubble was not answered either",
                       kit::kControlUnanswered);
    } else {
      run.check(requirement, code, true, "silently discarded: no bubble back",
                what + ": nothing within 1000 ms; the valid one was answered (lan frame " +
                    std::to_string(reply->frame) + ")",
                lan_frames({frame, reply->frame}));
    }
  };
  judge_probe("R4380-5.2.8-05", "unicast_discovery_bubble_answered", p1, r1,
              fmt::format("a discovery-format bubble {} -> ff02::1 sent to the unicast {}:{} (lan frame {})",
                          to_string(b), kClientLan, service_port, p1));
  judge_probe(
      "R4380-5.2.8-06", "non_teredo_discovery_bubble_answered", p2, r2,
      fmt::format("a discovery bubble from the non-Teredo source 2001:db8::1 to 224.0.0.253 (lan frame {})", p2));
  if (!reply_ok) {
    for (const char* r : {"R4380-5.2.3-13", "R4380-5.2.4-04", "R4380-5.2.8-09"}) {
      run.inconclusive(r, "the local peer was never discovered: " + reply_text, "local_peer_not_discovered");
    }
    return;
  }
  // The application sends to the local peer (after the 2 s bubble spacing).
  std::this_thread::sleep_for(2 * t.bubble + 100ms);
  App app(run);
  const std::string m = marker("local", 1);
  const std::uint64_t mark4 = lan_mark(run);
  (void)app.send(a, kit::bytes_of(m.c_str()));
  // The local peer answers soon after the first unicast bubble (before the
  // IUT's bubbles, bubble_interval apart, run out).
  (void)wait_seen(run, iut_bubble_for(lan_capture, a), t.bubble + 1000ms, mark4);
  std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(t.bubble / 2, 500ms));
  const auto unicast = all_seen(run, iut_bubble_for(lan_capture, a), mark4);
  const auto group = all_seen(run, iut_to(lan_capture, kGroup, kTeredoPort), mark4);
  const auto early = all_seen(run, iut_containing(lan_capture, m), mark4);
  std::optional<Seen> to_lan;
  for (const auto& s : unicast) {
    if (s.carrier.destination4 == kit::ipv4(kLanPeer) && s.carrier.destination_port == 41500) to_lan = s;
  }
  const std::string sent_text =
      fmt::format("unicast bubble: {}; multicast bubble: {}; data before any answer: {}",
                  to_lan ? describe(*to_lan) : "none", group.empty() ? "none" : describe(group.front()),
                  early.empty() ? "none" : describe(early.front()));
  if (unicast.empty() && group.empty() && early.empty()) {
    for (const char* r : {"R4380-5.2.4-04", "R4380-5.2.8-09", "R4380-5.2.3-13"}) {
      run.inconclusive(r,
                       "the application's packet to the local peer produced nothing from the IUT (no bubble, no "
                       "data): the silence proves nothing: " +
                           sent_text,
                       "nothing_sent_to_local_peer");
    }
    return;
  }
  run.check("R4380-5.2.4-04", "local_peer_bubbles_not_as_required", to_lan && !group.empty() && early.empty(),
            "to a local peer: the packet queued, a unicast bubble to its LAN address 192.0.2.20:41500 and a "
            "multicast local bubble",
            sent_text,
            lan_frames({to_lan ? to_lan->frame : 0, group.empty() ? 0 : group.front().frame,
                        early.empty() ? 0 : early.front().frame}));
  run.check("R4380-5.2.8-09", "local_entry_not_created", to_lan.has_value(),
            "the discovery bubble created a local entry holding 192.0.2.20:41500: bubbles go there", sent_text,
            lan_frames({to_lan ? to_lan->frame : 0}));
  // The local peer answers with a bubble from its LAN address: its embedded
  // mapping (198.51.100.1:41500) does not match, the local entry does (case 5).
  // R4380-5.2.3-19: "if the local IPv4 address and local port indicated in
  // that entry match the source IPv4 address and source port of the packet".
  // First the same Teredo source from another LAN port, 192.0.2.20:41599: it
  // matches no entry, so it must not make the local entry trusted and the
  // queued packet stays queued. A client that keeps no local port per entry
  // releases it, before the entry's own port has spoken or to 41599. The
  // bubble from the entry's own port below is the control; the packet is
  // told by its marker, wherever it goes.
  const int fd_other_port = run.udp_socket("lanpeer", kLanPeer, 41599);
  const std::uint64_t mark_other = lan_mark(run);
  const std::uint64_t other_port_bubble =
      lan_send(run, fd_other_port, 41599, kit::bubble_packet(a, *address), kClientLan, service_port);
  const auto hold = std::min<std::chrono::milliseconds>(t.bubble / 2, 500ms);
  std::this_thread::sleep_for(hold);
  const auto after_other = all_seen(run, iut_containing(lan_capture, m), mark_other);
  const std::uint64_t mark5 = lan_mark(run);
  const std::uint64_t answer = lan_send(run, fd_a, 41500, kit::bubble_packet(a, *address), kClientLan, service_port);
  const auto released = wait_seen(run, iut_containing(lan_capture, m), 1500ms, mark5);
  const bool ok = released && released->carrier.destination4 == kit::ipv4(kLanPeer) &&
                  released->carrier.destination_port == 41500;
  const std::string expected19 =
      "a bubble from 192.0.2.20:41599 (not the local entry's port 41500) leaves the entry untrusted: the queued "
      "packet stays queued";
  const bool released_to_other_port = released && released->carrier.destination4 == kit::ipv4(kLanPeer) &&
                                     released->carrier.destination_port == 41599;
  if (!after_other.empty()) {
    run.check("R4380-5.2.3-19", "local_entry_trusted_from_other_port", false, expected19,
              fmt::format("after the bubble from 192.0.2.20:41599 (lan frame {}), before any packet from the "
                          "entry's own port, the queued packet left: {}",
                          other_port_bubble, describe(after_other.front())),
              lan_frames({other_port_bubble, after_other.front().frame}));
  } else if (released_to_other_port) {
    run.check("R4380-5.2.3-19", "local_entry_trusted_from_other_port", false, expected19,
              fmt::format("the queued packet went to 192.0.2.20:41599, the port of the bubble (lan frame {}) no "
                          "entry holds: {}",
                          other_port_bubble, describe(*released)),
              lan_frames({other_port_bubble, answer, released->frame}));
  } else if (released) {
    run.check("R4380-5.2.3-19", "local_entry_trusted_from_other_port", true, expected19,
              fmt::format("nothing within {} of the bubble from 192.0.2.20:41599 (lan frame {}); the bubble "
                          "from the entry's own 192.0.2.20:41500 (lan frame {}) then released it: {}",
                          ms_text(hold), other_port_bubble, answer, describe(*released)),
              lan_frames({other_port_bubble, answer, released->frame}));
  } else {
    run.inconclusive("R4380-5.2.3-19",
                     fmt::format("nothing after the bubble from 192.0.2.20:41599 (lan frame {}), but nothing after "
                                 "the one from the entry's own port (lan frame {}) either: the silence proves nothing",
                                 other_port_bubble, answer),
                     kit::kControlUnanswered);
  }
  if (!released) {
    run.inconclusive("R4380-5.2.3-13",
                     fmt::format("bubble from 192.0.2.20:41500 (lan frame {}); the queued packet "
                                 "was not sent within 1500 ms{}: the silence proves nothing",
                                 answer, after_other.empty() ? "" : " (it had left after the other port's bubble)"),
                     "queued_packet_not_released");
    return;
  }
  run.check("R4380-5.2.3-13", "queued_packet_not_sent_to_local_address", ok,
            "the bubble from the local entry's address/port makes it trusted: the queued packet goes to "
            "192.0.2.20:41500",
            fmt::format("bubble from 192.0.2.20:41500 (lan frame {}); {}", answer,
                        released ? describe(*released) : "the queued packet was not sent within 1500 ms"),
            lan_frames({answer, released ? released->frame : 0}));
}

void discovery_interval(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.8-03"};
  const auto min = timer_ms(run, "discovery_min", 200000ms);
  if (t.discovery_max > 60000ms) {
    run.inconclusive(reqs[0],
                     fmt::format("the declared discovery interval ({}-{}) makes one gap longer than the "
                                 "60 s a case may take",
                                 ms_text(min), ms_text(t.discovery_max)),
                     "discovery_interval_too_long_for_case");
    return;
  }
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  Capture& lan_capture = run.capture("lan");
  const FrameMatch multicast = iut_to(lan_capture, kGroup, kTeredoPort);
  const auto deadline = Clock::now() + t.discovery_max + 3000ms;
  std::vector<Seen> bubbles;
  for (int guard = 0; guard < 100000 && Clock::now() < deadline; ++guard) {
    bubbles = all_seen(run, multicast);
    if (bubbles.size() >= 2) break;
    std::this_thread::sleep_for(100ms);
  }
  if (bubbles.size() < 2) {
    // One gap is needed to judge the interval; silence gives none.
    run.inconclusive(reqs[0],
                     fmt::format("{} discovery bubble(s) within {} of qualification: no interval to judge",
                                 bubbles.size(), ms_text(t.discovery_max + 3000ms)),
                     "discovery_gap_not_observed");
    return;
  }
  const auto gap = since(bubbles[0].at, bubbles[1].at);
  const auto tolerance = 200ms + min / 50;
  run.check(reqs[0], "discovery_interval_out_of_range", gap >= min - tolerance && gap <= t.discovery_max + tolerance,
            fmt::format("the next discovery bubble after a uniformly drawn {}-{} (+-{})", ms_text(min),
                        ms_text(t.discovery_max), ms_text(tolerance)),
            fmt::format("{} ms between lan frames {} and {} (one gap observed: the draw's randomness is not judged)",
                        gap.count(), bubbles[0].frame, bubbles[1].frame),
            {lan(bubbles[0].frame), lan(bubbles[1].frame)});
}

// R4380-5.2.8-08: a peer first trusted through direct traffic (its Teredo
// address embeds the mapping 198.51.100.7:41611, played by the driver), then
// a discovery bubble from lanpeer (192.0.2.20:41611) with that same Teredo
// source: the existing entry's local address/port become 192.0.2.20:41611.
// Once the entry is no longer valid (peer_validity without reception) the
// application sends to the peer: §5.2.4 case 3 sends to the local address.
void updates_existing_entry(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.8-08"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  Capture& lan_capture = run.capture("lan");
  App app(run);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  constexpr std::uint16_t kPort = 41611;
  const Peer p = make_peer(run, kPeerA, kPort);
  // 1. Trust through direct traffic (§5.2.3 case 3): the peer answers the
  // IUT's direct bubble from its mapping; the queued packet goes there.
  std::string story;
  const auto released = data_on_wire(run, app, p, *mapping, *address, marker("existing-entry", 1), story);
  if (!released || released->carrier.destination4 != kit::ipv4(kPeerA) ||
      released->carrier.destination_port != kPort) {
    run.inconclusive(reqs[0], "the peer could not be made trusted at its mapping " + p.where() + " first: " + story,
                     "peer_not_trusted");
    return;
  }
  run.info("setup: the peer is trusted at its mapping: " + story);
  // 2. After the bubble spacing (so the IUT may answer), the discovery bubble
  // from the peer's LAN address, its IPv6 source the same Teredo address.
  std::this_thread::sleep_for(t.bubble + 200ms);
  const int fd = run.udp_socket("lanpeer", kLanPeer, kPort);
  const std::uint64_t mark_discovery = lan_mark(run);
  const std::uint64_t discovery = lan_send(run, fd, kPort, discovery_bubble(p.teredo), kGroup, kTeredoPort);
  const auto answered = wait_seen(run, iut_to(lan_capture, kLanPeer, kPort), t.bubble + 1500ms, mark_discovery);
  const std::string discovery_text =
      fmt::format("discovery bubble from {} (same Teredo address, lan frame {}) answered: {}", to_string(p.teredo),
                  discovery, answered ? describe(*answered) : "no");
  run.info(discovery_text);
  // 3. The entry is left to expire (no reception for peer_validity + 1 s),
  // then the application sends to the peer again.
  const auto quiet = t.validity + 1000ms;
  std::this_thread::sleep_for(quiet);
  const std::string m = marker("existing-entry", 2);
  const std::uint64_t mark_send = lan_mark(run);
  (void)app.send(p.teredo, kit::bytes_of(m.c_str()));
  const FrameMatch for_peer = iut_bubble_for(lan_capture, p.teredo);
  const FrameMatch data = iut_containing(lan_capture, m);
  const auto first = wait_seen(
      run, [&](const CapturedFrame& f) { return for_peer(f) || data(f); }, t.bubble + 1500ms, mark_send);
  std::this_thread::sleep_for(300ms);
  std::optional<Seen> to_lan, to_mapping;
  for (auto list : {all_seen(run, for_peer, mark_send), all_seen(run, data, mark_send)}) {
    for (const auto& s : list) {
      if (!to_lan && s.carrier.destination4 == kit::ipv4(kLanPeer) && s.carrier.destination_port == kPort) {
        to_lan = s;
      }
      if (!to_mapping && s.carrier.destination4 == kit::ipv4(kPeerA) && s.carrier.destination_port == kPort) {
        to_mapping = s;
      }
    }
  }
  // 4. The local peer answers a bubble from its LAN address (case 5): the
  // queued packet, if any, goes there too.
  std::optional<Seen> data_to_lan;
  std::uint64_t lan_answer = 0;
  if (to_lan && to_lan->datagram && is_bubble(to_lan->datagram->ipv6)) {
    const std::uint64_t mark_answer = lan_mark(run);
    lan_answer = lan_send(run, fd, kPort, kit::bubble_packet(p.teredo, *address), kClientLan,
                          released->carrier.source_port);
    data_to_lan = wait_seen(run, data, 1500ms, mark_answer);
  }
  const std::string observed = fmt::format(
      "{}; after {} without reception the application's packet to {}: first datagram {}; to the LAN address "
      "192.0.2.20:{}: {}; to the mapping {}: {}{}",
      discovery_text, ms_text(quiet), to_string(p.teredo), first ? describe(*first) : "none", kPort,
      to_lan ? describe(*to_lan) : "nothing", p.where(), to_mapping ? describe(*to_mapping) : "nothing",
      lan_answer == 0 ? std::string()
                      : fmt::format("; lanpeer's bubble back (lan frame {}), then {}", lan_answer,
                                    data_to_lan ? describe(*data_to_lan) : "the packet was not released"));
  const std::vector<FrameRef> frames =
      lan_frames({released->frame, discovery, answered ? answered->frame : 0, to_lan ? to_lan->frame : 0,
                  to_mapping ? to_mapping->frame : 0, data_to_lan ? data_to_lan->frame : 0});
  if (!first) {
    run.inconclusive(reqs[0], "the application's later packet produced nothing at all: " + observed,
                     "later_packet_produced_nothing");
    return;
  }
  if (!to_lan && !answered) {
    // The peer's address embeds 198.51.100.7, not the IUT's mapped IPv4 (the
    // lab's NAT does not hairpin): R4380-5.2.8-07 lets the IUT drop it.
    run.inconclusive(reqs[0],
                     "the discovery bubble was not answered, so it may have been dropped (R4380-5.2.8-07: "
                     "its Teredo source embeds another mapped IPv4 than the IUT's): " +
                         observed,
                     "discovery_bubble_maybe_dropped");
    return;
  }
  run.check(reqs[0], "local_address_not_updated", to_lan.has_value(),
            fmt::format("the discovery bubble updated the existing entry's local address/port to 192.0.2.20:{}: "
                        "later traffic for the peer goes to the LAN address",
                        kPort),
            observed, frames);
}

}  // namespace

TEREDO_CASE({
    .id = "client.discovery.interval",
    .title = "Local discovery bubbles are repeated after the declared 200-300 s interval",
    .description = "After qualification the lan capture is watched for the first two multicast discovery bubbles "
                   "(at most discovery_max + 3 s; inconclusive when the declared maximum exceeds 60 s).",
    .judgement = "The gap between them within the adapter's discovery_min-discovery_max (RFC: 200-300 s), "
                 "tolerance 200 ms + 2 %.",
    .role = "client",
    .requirements = {"R4380-5.2.8-03"},
    .capabilities = {"local_discovery"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = discovery_interval,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.discovery.bubble-format",
    .title = "Local discovery: the IUT joins 224.0.0.253 and multicasts well-formed discovery bubbles",
    .description = "After qualification the lan capture (running since before the IUT started) is searched for "
                   "an IGMP report for 224.0.0.253 and the IUT's first discovery bubble (3 s at most).",
    .judgement = "An IGMP join from 192.0.2.10; a bubble to 224.0.0.253:3544 with TTL 1 from the service port, "
                 "IPv6 from the Teredo address to ff02::1, next header 59, payload length 0, hop limit 1.",
    .role = "client",
    .requirements = {"R4380-5.2.8-04", "R4380-5.2.8-01", "R4380-5.2-08"},
    .capabilities = {"local_discovery"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = bubble_format,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.discovery.reply-and-filter",
    .title = "Local discovery: valid discovery bubbles answered, unicast or non-Teredo ones dropped, local peers",
    .description = "lanpeer sends a discovery-format bubble to the IUT's unicast address and one from "
                   "2001:db8::1 to 224.0.0.253 (probes), then a valid one from 192.0.2.20:41500 (control). The "
                   "application then sends to that local peer; a bubble from its Teredo address comes first from another LAN "
                   "port (192.0.2.20:41599), then from the local entry's own 192.0.2.20:41500.",
    .judgement = "No reply to the probes; a unicast bubble to 192.0.2.20:41500 for the valid one; for the "
                 "application's packet a unicast bubble there and a multicast bubble, data held; after the local "
                 "peer's bubble from 41599 the packet stays held; after the one from 41500 it goes to 192.0.2.20:41500.",
    .role = "client",
    .requirements = {"R4380-5.2.8-05", "R4380-5.2.8-06", "R4380-5.2.3-12", "R4380-5.2.8-02", "R4380-5.2.3-11",
                     "R4380-5.2.3-13", "R4380-5.2.3-19", "R4380-5.2.4-04", "R4380-5.2.8-09", "R4380-5.2.8-07"},
    .capabilities = {"local_discovery"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = reply_and_filter,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.discovery.updates-existing-entry",
    .title = "Local discovery: a discovery bubble matching an existing entry sets its local address and port",
    .description = "After qualification the application sends to the Teredo peer 198.51.100.7:41611 (its address "
                   "embeds that mapping), which answers the IUT's direct bubble from there: trusted. After the "
                   "bubble interval lanpeer sends a discovery bubble from 192.0.2.20:41611 to 224.0.0.253:3544 "
                   "whose IPv6 source is that same Teredo address. After peer_validity + 1 s without reception the "
                   "application sends to the peer again; if a bubble goes to 192.0.2.20:41611, lanpeer answers it "
                   "from there.",
    .judgement = "The later traffic for the peer (a bubble or the packet) goes to 192.0.2.20:41611, the discovery "
                 "bubble's IPv4 source and port.",
    .role = "client",
    .requirements = {"R4380-5.2.8-08"},
    .capabilities = {"local_discovery"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = updates_existing_entry,
    .before_iut = open_played_server,
});

}  // namespace teredo::conformance::client
