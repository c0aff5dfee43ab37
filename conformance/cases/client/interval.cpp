// RFC 4380 §5.2.7, the optional refresh interval determination, for an IUT
// that declares interval_determination (the adapter's "interval" launch).
//
// The played server answers every RS, from the service port and from the
// secondary port alike. It forwards the IUT's probe bubbles (service port ->
// secondary Teredo address, through the server) only while the case lets it:
// the first probe gets through and every later one is lost, as behind a NAT
// whose mappings outlive two refresh intervals but not two and a half. With
// R the declared refresh_interval (the RFC's 30 s, scaled) the RFC then fixes
// the whole schedule: candidate 2R (60 s) and maximum 4R (120 s); success
// -> interval 2R, candidate min(4R, 3R) = 3R; failure -> maximum 3R,
// 2R < 75 % of 3R, candidate 2.5R; failure -> maximum 2.5R, 2R >= 75 %: the
// procedure concludes. Each probe waits 2 s (R/15) and is repeated at most
// three times.
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A datagram the IUT sent from local UDP port `port`.
FrameMatch iut_from_port(const Capture& capture, std::uint16_t port) {
  const LinkType link = capture.link_type();
  const Ipv4Address iut = kit::ipv4(kClientLan);
  return [link, iut, port](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->source4 == iut && c->source_port == port;
  };
}

// A router advertisement from the played server to the IUT's local port
// (not any datagram from the server: the case also sends other things there).
FrameMatch ra_to_port(const Capture& capture, std::uint16_t port) {
  const LinkType link = capture.link_type();
  const FrameMatch from_server = ra_to_iut(capture);
  return [link, from_server, port](const CapturedFrame& f) {
    if (!from_server(f)) return false;
    const auto c = find_udp_carrier(link, f.data);
    if (!c || c->destination_port != port) return false;
    const auto d = parse_datagram(c->payload);
    if (!d || d->ipv6.header.next_header != kNextHeaderIcmpv6) return false;
    const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::ignore);
    return icmp && icmp->type == kIcmpv6RouterAdvertisement;
  };
}

// The probe bubbles grouped into attempts: an IUT may send each attempt both
// through the server and straight to the secondary mapping, a few
// milliseconds apart; bubbles closer than half the probe timer are one.
std::vector<Seen> attempts(const std::vector<Seen>& probes, milliseconds probe_timer) {
  std::vector<Seen> out;
  for (const auto& p : probes) {
    if (out.empty() || since(out.back().at, p.at) >= probe_timer / 2) out.push_back(p);
  }
  return out;
}

// A bubble from the IUT's service port whose IPv6 destination embeds
// `mapping` (the secondary Teredo address, whatever its flags).
FrameMatch probe_bubble(const Capture& capture, std::uint16_t service_port, const Endpoint& mapping) {
  const FrameMatch from_service = iut_from_port(capture, service_port);
  const LinkType link = capture.link_type();
  return [from_service, link, mapping](const CapturedFrame& f) {
    if (!from_service(f)) return false;
    const auto c = find_udp_carrier(link, f.data);
    if (!c) return false;
    const auto d = parse_datagram(c->payload);
    if (!d || !is_bubble(d->ipv6)) return false;
    const auto t = parse_teredo(d->ipv6.header.destination);
    return t && t->mapped_ipv4 == mapping.address && t->mapped_port == mapping.port;
  };
}

// An ICMPv4 port unreachable from the IUT's host quoting a UDP datagram to
// its local port `port` (Ethernet captures).
FrameMatch port_unreachable_for(const Capture& capture, std::uint16_t port) {
  const LinkType link = capture.link_type();
  const Ipv4Address iut = kit::ipv4(kClientLan);
  return [link, iut, port](const CapturedFrame& f) {
    const Bytes b(f.data.data(), f.data.size());
    if (link != LinkType::ethernet || b.size() < 14 + 20 + 8 + 28 || b[12] != 0x08 || b[13] != 0x00) return false;
    const Bytes ip = b.subspan(14);
    const std::size_t ihl = (ip[0] & 0x0F) * 4u;
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 1 || ip.size() < ihl + 8 + 20 + 4) return false;
    const auto octets = iut.octets();
    if (!std::equal(octets.begin(), octets.end(), ip.begin() + 12)) return false;
    const Bytes icmp = ip.subspan(ihl);
    if (icmp[0] != 3 || icmp[1] != 3) return false;
    const Bytes quoted = icmp.subspan(8);
    const std::size_t quoted_ihl = (quoted[0] & 0x0F) * 4u;
    if (quoted[9] != 17 || quoted.size() < quoted_ihl + 4) return false;
    return ((quoted[quoted_ihl + 2] << 8) | quoted[quoted_ihl + 3]) == port;
  };
}

struct Round {
  Seen ra;                  // the RA that ended the last interaction on the secondary port
  std::vector<Seen> probes;  // the probe bubbles that followed it
};

void interval_determination(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const milliseconds r = t.refresh;
  const milliseconds probe_timer = r / 15;  // 2 s of 30 s
  const milliseconds tolerance = 300ms + r / 20;
  const std::vector<std::string> reqs = {"R4380-5.2.7-01", "R4380-5.2.7-02", "R4380-5.2.7-03", "R4380-5.2.7-04"};
  server.forward_bubbles(1);
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  Capture& lan_capture = run.capture("lan");
  const auto rs_all = all_seen(run, iut_rs(lan_capture));
  const auto ras = all_seen(run, ra_to_iut(lan_capture));
  if (rs_all.empty() || ras.empty()) {
    for (const auto& q : reqs) {
      run.inconclusive(q, "the qualifying RS and RA are not in lan.pcap", "qualifying_exchange_not_captured");
    }
    return;
  }
  const std::uint16_t service_port = rs_all.front().carrier.source_port;
  const auto qualifying_ra = std::find_if(ras.begin(), ras.end(), [&](const Seen& s) {
    return s.carrier.destination_port == service_port;
  });
  // R4380-5.2.7-01: the secondary port qualifies right after the service port.
  const auto other_port = [&](const Capture& c) {
    const FrameMatch rs = iut_rs(c);
    const LinkType link = c.link_type();
    return FrameMatch([rs, link, service_port](const CapturedFrame& f) {
      if (!rs(f)) return false;
      const auto carrier = find_udp_carrier(link, f.data);
      return carrier && carrier->source_port != service_port;
    });
  };
  const auto secondary_rs = wait_seen(run, other_port(lan_capture), t.retry + 1500ms);
  if (!secondary_rs || qualifying_ra == ras.end()) {
    // Silence from a second port proves nothing about when it qualifies.
    run.inconclusive("R4380-5.2.7-01",
                     fmt::format("no RS from a port other than the service port {} within {} of "
                                 "qualification: nothing to time",
                                 service_port, ms_text(t.retry + 1500ms)),
                     "no_secondary_port_rs");
    for (const char* q : {"R4380-5.2.7-02", "R4380-5.2.7-03", "R4380-5.2.7-04"}) {
      run.inconclusive(q, "the IUT never qualified a secondary port", "secondary_port_not_qualified");
    }
    return;
  }
  const std::uint16_t secondary_port = secondary_rs->carrier.source_port;
  const auto gap = since(qualifying_ra->at, secondary_rs->at);
  run.check("R4380-5.2.7-01", "secondary_port_qualified_late", gap <= t.retry + 300ms,
            fmt::format("the secondary port's RS right after the service port's qualifying RA (within one "
                        "qualification_retry, {} + 300 ms)", ms_text(t.retry)),
            fmt::format("service port {} qualified by the RA at lan frame {}; RS from port {} {} ms later (lan "
                        "frame {})", service_port, qualifying_ra->frame, secondary_port, gap.count(),
                        secondary_rs->frame),
            lan_frames({qualifying_ra->frame, secondary_rs->frame}));

  // The secondary mapping, as the played server saw that RS.
  std::optional<Endpoint> secondary_mapping;
  const auto service_mapping = server.seen().front().from;
  for (const auto& s : server.seen()) {
    if (!(s.from == service_mapping)) secondary_mapping = s.from;
  }
  if (!secondary_mapping) {
    for (const char* q : {"R4380-5.2.7-02", "R4380-5.2.7-03", "R4380-5.2.7-04"}) {
      run.inconclusive(q, "the played server never saw the secondary port's RS", "secondary_rs_not_seen_by_server");
    }
    return;
  }

  // A packet that is not part of the procedure, to the secondary mapping:
  // an echo request from a Teredo peer, forwarded by the server (origin
  // indication). R4380-5.2.7-03: the IUT must not use the port for it.
  const Peer peer = make_peer(run, kPeerA, 41201);
  const std::uint16_t echo_id = 0x5271;
  {
    ByteVector forwarded;
    const ByteVector echo = kit::echo_packet(peer.teredo, *address, echo_id, 1);
    (void)append_datagram(forwarded, std::nullopt,
                          OriginIndication{peer.port, kit::ipv4(peer.address)}, echo);
    server.send_from_primary(*secondary_mapping, forwarded);
  }

  // Three rounds and the conclusion: at most 2R + 3R + 2.5R, 12 probe
  // timers and 3R more of silence, plus margins.
  const FrameMatch probes_match = probe_bubble(lan_capture, service_port, *secondary_mapping);
  const FrameMatch secondary_ras_match = ra_to_port(lan_capture, secondary_port);
  const auto budget = 11 * r + 12 * probe_timer + 4 * tolerance + 2000ms;
  const auto start = Clock::now();
  for (int guard = 0; guard < 100000 && Clock::now() - start < budget; ++guard) {
    const auto p = all_seen(run, probes_match);
    const auto a = all_seen(run, secondary_ras_match);
    // Done: three rounds seen and 3R of silence after the last probe.
    if (a.size() >= 3 && !p.empty() && p.back().frame > a[2].frame && since(p.back().at, Clock::now()) > 3 * r) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  const auto probes = attempts(all_seen(run, probes_match), probe_timer);
  const auto secondary_ras = all_seen(run, secondary_ras_match);
  std::vector<Round> rounds;
  for (const auto& a : secondary_ras) rounds.push_back(Round{a, {}});
  for (const auto& p : probes) {
    for (auto it = rounds.rbegin(); it != rounds.rend(); ++it) {
      if (it->ra.frame < p.frame) {
        it->probes.push_back(p);
        break;
      }
    }
  }
  // R4380-5.2.7-02: the schedule.
  struct Expected {
    milliseconds wait;
    std::size_t probes;
    const char* why;
  };
  const Expected expected[] = {{2 * r, 1, "candidate 2R (60 s): succeeds (forwarded)"},
                               {3 * r, 4, "candidate min(2 x 2R, (2R + 4R) / 2) = 3R: lost, repeated 3 times"},
                               {5 * r / 2, 4, "candidate (2R + 3R) / 2 = 2.5R: lost, repeated 3 times"}};
  bool schedule_ok = rounds.size() >= 3;
  std::string story;
  std::vector<FrameRef> frames;
  for (std::size_t i = 0; i < 3 && i < rounds.size(); ++i) {
    const Round& round = rounds[i];
    frames.push_back(lan(round.ra.frame));
    std::string line = fmt::format("round {}: RA at lan frame {}", i + 1, round.ra.frame);
    if (round.probes.empty()) {
      schedule_ok = false;
      line += ", no probe";
    } else {
      const auto wait = since(round.ra.at, round.probes.front().at);
      const bool on_time = wait >= expected[i].wait - tolerance && wait <= expected[i].wait + tolerance;
      line += fmt::format(", first probe {} ms later (lan frame {}, expected {} +- {}: {})", wait.count(),
                          round.probes.front().frame, expected[i].wait.count(), tolerance.count(),
                          on_time ? "ok" : "off");
      bool spacing_ok = true;
      for (std::size_t k = 1; k < round.probes.size(); ++k) {
        const auto step = since(round.probes[k - 1].at, round.probes[k].at);
        if (step < probe_timer - 100ms - probe_timer / 4 || step > probe_timer + 100ms + probe_timer / 4) {
          spacing_ok = false;
        }
      }
      line += fmt::format(", {} probe(s) (expected {}{})", round.probes.size(), expected[i].probes,
                          spacing_ok ? "" : ", not spaced by the 2 s timer");
      if (!on_time || !spacing_ok || round.probes.size() != expected[i].probes) schedule_ok = false;
      for (const auto& p : round.probes) frames.push_back(lan(p.frame));
    }
    story += (story.empty() ? "" : "; ") + line + " [" + expected[i].why + "]";
  }
  if (rounds.size() > 3) {
    schedule_ok = false;
    story += fmt::format("; a fourth round (RA at lan frame {}) although the procedure had concluded",
                         rounds[3].ra.frame);
  }
  const auto forwarded = server.bubbles();
  story += fmt::format("; the server forwarded {} of {} probe(s)",
                       std::count_if(forwarded.begin(), forwarded.end(), [](const auto& b) { return b.forwarded; }),
                       forwarded.size());
  if (rounds.size() < 3) {
    story += fmt::format("; {} secondary RA(s) and {} probe(s) in {}", secondary_ras.size(), probes.size(),
                         ms_text(since(start, Clock::now())));
  }
  run.check("R4380-5.2.7-02", "probe_schedule_wrong", schedule_ok,
            fmt::format("the §5.2.7 schedule for refresh_interval R = {}: probes through the service port to the "
                        "secondary address, 2R, 3R and 2.5R after the last interaction on the secondary port "
                        "(+- {}), 1, 4 and 4 probes {} apart, then no more",
                        ms_text(r), ms_text(tolerance), ms_text(probe_timer)),
            story, frames);

  // R4380-5.2.7-03: the secondary port carried RSs to the server and nothing else.
  const auto from_secondary = all_seen(run, iut_from_port(lan_capture, secondary_port));
  std::vector<std::uint64_t> rs_frames;
  for (const auto& s : all_seen(run, iut_rs(lan_capture))) rs_frames.push_back(s.frame);
  std::vector<Seen> misuse;
  for (const auto& s : from_secondary) {
    if (std::find(rs_frames.begin(), rs_frames.end(), s.frame) == rs_frames.end()) misuse.push_back(s);
  }
  const auto echo_replies = all_seen(run, iut_echo_reply(lan_capture, echo_id, 1));
  run.check("R4380-5.2.7-03", "secondary_port_misused", misuse.empty() && echo_replies.empty(),
            "from the secondary port only its RSs; the echo request the server forwarded to the secondary mapping "
            "unanswered",
            fmt::format("{} datagram(s) from port {}, {} not an RS{}; {} echo repl{}", from_secondary.size(),
                        secondary_port, misuse.size(), misuse.empty() ? "" : " (first: " + describe(misuse.front()) + ")",
                        echo_replies.size(), echo_replies.size() == 1 ? "y" : "ies"),
            lan_frames({misuse.empty() ? 0 : misuse.front().frame,
                        echo_replies.empty() ? 0 : echo_replies.front().frame}));

  // R4380-5.2.7-04: once concluded, the port is closed: a datagram to it
  // meets an ICMP port unreachable.
  if (rounds.size() < 3) {
    run.inconclusive("R4380-5.2.7-04", "the procedure did not reach its conclusion: " + story,
                     "procedure_not_concluded");
    return;
  }
  const std::uint64_t before = lan_mark(run);
  server.send_from_primary(*secondary_mapping, kit::bytes_of("after the conclusion"));
  // (An ICMP frame, so read from the capture itself: Seen is UDP only.)
  const auto unreachable = lan_capture.wait_for(port_unreachable_for(lan_capture, secondary_port), 1500ms, before);
  const auto late = all_seen(run, iut_from_port(lan_capture, secondary_port), rounds[2].probes.empty()
                                                                                ? rounds[2].ra.frame
                                                                                : rounds[2].probes.back().frame);
  run.check("R4380-5.2.7-04", "secondary_port_not_closed", unreachable.has_value() && late.empty(),
            "after the conclusion nothing more from the secondary port, and a datagram to it answered by an ICMP "
            "port unreachable (the port closed)",
            fmt::format("{}; {} datagram(s) from port {} after the last probe",
                        unreachable ? fmt::format("port unreachable at lan frame {}", unreachable->number)
                                    : "no port unreachable within 1500 ms",
                        late.size(), secondary_port),
            lan_frames({unreachable ? unreachable->number : 0, late.empty() ? 0 : late.front().frame}));
}

}  // namespace

TEREDO_CASE({
    .id = "client.interval.determination",
    .title = "§5.2.7: secondary port qualified at once, the probe schedule, the port used for nothing else and "
             "closed at the end",
    .description = "The IUT starts with interval determination on. The played server answers every RS and "
                   "forwards the first probe bubble to the secondary mapping, no later one; it also forwards an "
                   "echo request from a Teredo peer to the secondary mapping. Then a datagram goes to the "
                   "secondary mapping after the conclusion. Timings scale with the declared refresh_interval R.",
    .judgement = "An RS from a second port within one qualification_retry of the service port's qualifying RA; "
                 "probes 2R, 3R and 2.5R after each secondary RA (+- 300 ms + 5 % of R), 1, 4 and 4 of them R/15 "
                 "apart, no fourth round; nothing but RSs from the secondary port and no echo reply; an ICMP port "
                 "unreachable for the datagram sent after the conclusion.",
    .role = "client",
    .requirements = {"R4380-5.2.7-01", "R4380-5.2.7-02", "R4380-5.2.7-03", "R4380-5.2.7-04"},
    .capabilities = {"interval_determination"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = interval_determination,
    .before_iut = open_played_server,
});

}  // namespace teredo::conformance::client
