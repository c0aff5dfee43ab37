// RFC 4380 §5.2.1 qualification (as updated by RFC 5991 §3.2), §5.2.2
// secure qualification: the driver plays the IUT's server on 203.0.113.1/.2
// and judges the RSs it gets and what the IUT does with the RAs, from the
// lan capture (client:eth0).
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "cases/client/client_driver.hpp"
#include "teredo/wire/nd.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool rs_cone(const Seen& s) { return s.datagram && (flags_of(s.datagram->ipv6.header.source) & kFlagCone) != 0; }

// What client.qualification.restricted-nat and its behind-<profile> twins judge.
const std::vector<std::string> kQualificationRequirements = {
    "R4380-5.2-04", "R4380-5.2.1-01", "R5991-3.2-01", "R4380-5.2.1-07", "R4380-5.2.1-06",
    "R4380-4-01",   "R5991-3.1-01",   "R4380-4-02",   "R4380-4-03",     "R4380-5.2-05"};

void restricted_nat(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string>& reqs = kQualificationRequirements;
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  App app(run);
  const Peer peer = make_peer(run, kPeerA, 41001);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  std::string wire_story;
  const auto mapping_now = server.mapping();
  const auto wire_bubble = data_on_wire(run, app, peer, *mapping_now, *address, marker("qualified", 1), wire_story);
  Capture& lan_capture = run.capture("lan");
  const auto all = lan_capture.frames(from_iut(lan_capture));
  const auto first_ra = lan_capture.wait_for(ra_to_iut(lan_capture), 10ms);
  // R4380-5.2.1-01: the first RS.
  const auto first = all.empty() ? std::nullopt : parse_seen(all.front(), lan_capture.link_type());
  if (!first) {
    // Silence says nothing about the format of the first RS.
    run.inconclusive("R4380-5.2.1-01", "no datagram from the IUT in lan.pcap: no first RS to judge",
                     "no_datagram_from_iut");
    return;
  }
  bool format_ok = false;
  std::string format_text = describe(*first);
  if (first->datagram && first->carrier.destination4 == kit::ipv4(kServer) &&
      first->carrier.destination_port == kTeredoPort) {
    const auto& h = first->datagram->ipv6.header;
    const auto icmp = parse_icmpv6(first->datagram->ipv6, ChecksumPolicy::verify);
    format_ok = h.source.is_link_local() && h.destination == kit::ipv6("ff02::2") && icmp &&
                icmp->type == kIcmpv6RouterSolicitation && h.hop_limit == 255;
    format_text += fmt::format(", hop limit {}, ICMPv6 {}", h.hop_limit,
                               icmp ? fmt::format("type {} checksum ok", icmp->type) : std::string("invalid"));
  }
  run.check("R4380-5.2.1-01", "first_rs_malformed", format_ok,
            "the first datagram: an RS (ICMPv6 133, hop limit 255) from a fe80::/64 source to ff02::2, over UDP to "
            "203.0.113.1:3544",
            format_text, {lan(first->frame)});
  // R4380-5.2-04: nothing but RSs before the first RA reached the IUT.
  std::string early;
  std::uint64_t early_frame = 0;
  const std::uint64_t ra_frame = first_ra ? first_ra->number : 0;
  for (const auto& f : all) {
    if (ra_frame != 0 && f.number > ra_frame) break;
    if (!iut_rs(lan_capture)(f)) {
      early_frame = f.number;
      early = describe(*parse_seen(f, lan_capture.link_type()));
      break;
    }
  }
  run.check("R4380-5.2-04", "traffic_before_qualification", early_frame == 0,
            "no Teredo traffic other than RSs before the first RA reached the IUT" +
                (ra_frame ? fmt::format(" (lan frame {})", ra_frame) : std::string()),
            early_frame == 0 ? "only RSs before it" : early, lan_frames({first->frame, early_frame, ra_frame}));
  // R5991-3.2-01: every RS of the qualification with the cone bit clear.
  std::uint64_t cone_frame = 0;
  int rs_count = 0;
  for (const auto& f : all) {
    if (ra_frame != 0 && f.number > ra_frame) break;
    if (!iut_rs(lan_capture)(f)) continue;
    ++rs_count;
    const auto s = parse_seen(f, lan_capture.link_type());
    if (s && rs_cone(*s)) {
      cone_frame = f.number;
      break;
    }
  }
  run.check("R5991-3.2-01", "cone_bit_rs_sent", cone_frame == 0,
            "no cone-bit RS: qualification with the cone bit cleared only",
            cone_frame ? fmt::format("an RS with the cone bit set (lan frame {})", cone_frame)
                       : fmt::format("{} RS(s) before the first RA, cone bit clear in each", rs_count),
            {lan(cone_frame ? cone_frame : first->frame)});
  // §5.2's cone NAT determination phase is what RFC 5991 §3.2 removed
  // (judged above as R5991-3.2-01). Recorded.
  run.check("R4380-5.2-05", "cone_determination_choice_invalid", true,
            "cone NAT determination superseded by RFC 5991 §3.2 (judged as R5991-3.2-01): a cone-bit phase or none, "
            "recorded",
            cone_frame ? fmt::format("a cone-bit RS phase (lan frame {})", cone_frame) : "no cone-bit RS phase",
            {lan(cone_frame ? cone_frame : first->frame)});
  // The address on the wire.
  const auto rs = server.seen();
  if (!wire_bubble || !wire_bubble->datagram || rs.empty()) {
    for (const char* r : {"R4380-5.2.1-07", "R4380-5.2.1-06", "R4380-4-01", "R5991-3.1-01", "R4380-4-02", "R4380-4-03"}) {
      run.inconclusive(r,
                       fmt::format("the IUT (qualified as {}) sent no data packet from its Teredo address to "
                                   "judge: {}",
                                   to_string(*address), wire_story),
                       "no_data_packet_sent");
    }
    return;
  }
  const Ipv6Address used = wire_bubble->datagram->ipv6.header.source;
  // The mapping the server saw for the answered RS of the primary phase.
  Endpoint mapping = rs.front().from;
  for (const auto& r : rs) {
    if (r.answered && r.to == kServer) mapping = r.from;
  }
  const auto parsed = parse_teredo(used);
  const std::vector<FrameRef> frames = {lan(wire_bubble->frame)};
  const std::string observed = fmt::format("source {} of the application's packet: {}", to_string(used), wire_story);
  bool built = false;
  if (parsed) {
    built = parsed->server == kit::ipv4(kServer) && parsed->mapped_ipv4 == mapping.address &&
            parsed->mapped_port == mapping.port;
  }
  run.check("R4380-5.2.1-07", "teredo_address_misbuilt", built,
            fmt::format("2001:0:cb00:7101:<flags>:~port:~IPv4 from the RA's prefix and the origin indication {}",
                        to_text(mapping)),
            observed, frames);
  const std::uint16_t flags = parsed ? parsed->flags : 0xFFFF;
  run.check("R4380-5.2.1-06", "address_cone_bit_set", parsed && !parsed->cone(),
            "the cone bit of the RS that got the RA (0: every RS had it clear)", fmt::format("flags {:04x}", flags),
            frames);
  run.check("R4380-4-02", "address_cone_bit_set", parsed && !parsed->cone(),
            "cone flag 0: the IUT is behind a port-restricted NAT (and RFC 5991 never sets it)",
            fmt::format("flags {:04x}", flags), frames);
  run.check("R4380-4-01", "address_u_or_g_flag_set", parsed && (flags & (kFlagUniversalLocal | kFlagGroup)) == 0,
            "U and G flags clear", fmt::format("flags {:04x}", flags), frames);
  run.check("R5991-3.1-01", "z_flag_bit_set", parsed && (flags & kFlagReserved) == 0, "flag bit 1 (z, 0x4000) zero",
            fmt::format("flags {:04x}", flags), frames);
  run.check("R4380-4-03", "z_flag_bit_set", parsed && (flags & kFlagReserved) == 0,
            "the reserved z flag zero when sending", fmt::format("flags {:04x}", flags), frames);
  if (*address != used) {
    run.warn_note(fmt::format("the interface shows {} but the IUT sends from {}", to_string(*address),
                              to_string(used)));
  }
}

void symmetric_refused(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.1-05"};
  // Wait for an RS to the primary that gets answered, then for the secondary.
  const auto deadline = Clock::now() + 3 * t.retry + 3000ms;
  std::optional<RsSeen> first_answered;
  for (int guard = 0; guard < 100000 && Clock::now() < deadline && !first_answered; ++guard) {
    for (const auto& r : server.seen()) {
      if (r.answered && r.to == kServer) {
        first_answered = r;
        break;
      }
    }
    if (!first_answered) std::this_thread::sleep_for(20ms);
  }
  if (!first_answered) {
    run.inconclusive(reqs[0],
                     "the IUT sent no RS the played server could answer within " +
                         ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(3 * t.retry + 3000ms)),
                     "no_answerable_rs");
    return;
  }
  const std::uint64_t ra_mark = lan_mark(run);
  Capture& lan_capture = run.capture("lan");
  // The IUT has T (the RS timeout) to ask the secondary; then give it two
  // more retry periods to settle.
  const auto secondary = wait_seen(run, iut_to(lan_capture, kServer2, kTeredoPort), 2 * t.retry + 1000ms, 0);
  std::this_thread::sleep_for(2 * t.retry);
  // The application tries to reach a Teredo peer and the native host.
  App app(run);
  const Peer peer = make_peer(run, kPeerA, 41011);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  const std::uint64_t app_mark = lan_mark(run);
  const std::string m = marker("symmetric", 1);
  std::string error1, error2;
  const bool sent1 = app.send(peer.teredo, kit::bytes_of(m.c_str()), &error1);
  const bool sent2 = app.send(kit::ipv6(kNative), kit::bytes_of(m.c_str()), &error2);
  std::this_thread::sleep_for(t.bubble + 1000ms);
  const auto address = iut_address(run);
  // Anything from the IUT after the first RA that is not an RS.
  std::optional<Seen> used;
  for (const auto& s : all_seen(run, from_iut(lan_capture), ra_mark)) {
    if (!iut_rs(lan_capture)(CapturedFrame{s.frame, s.at, s.bytes})) {
      used = s;
      break;
    }
  }
  const auto rs = server.seen();
  std::string story = fmt::format("the primary saw the IUT at {} and answered (RA); ", to_text(first_answered->from));
  std::vector<FrameRef> frames;
  if (secondary) {
    story += "RS to the secondary: " + describe(*secondary);
    frames.push_back(lan(secondary->frame));
    for (const auto& r : rs) {
      if (r.to == kServer2) {
        story += fmt::format(", seen from {} (a different mapping: symmetric NAT)", to_text(r.from));
        break;
      }
    }
  } else {
    story += fmt::format("no RS to {}:3544 within {}", kServer2, ms_text(2 * t.retry + 1000ms));
  }
  story += fmt::format("; the application then sent to {} ({}) and {} ({})", to_string(peer.teredo),
                       sent1 ? "accepted" : error1, kNative, sent2 ? "accepted" : error2);
  story += used ? "; the IUT then used Teredo: " + describe(*used) : "; no Teredo packet other than RSs followed";
  if (used) frames.push_back(lan(used->frame));
  if (address) story += "; address configured: " + to_string(*address);
  (void)app_mark;
  // What the IUT sends to the secondary is judged only when it sent
  // something: no RS there and no Teredo use either is silence, which cannot
  // tell a client that detected the symmetric NAT from one that stopped.
  if (!secondary && !used && !address) {
    run.inconclusive("R4380-5.2.1-05",
                     "no RS to the secondary address and no Teredo use afterwards: the silence "
                     "proves nothing about the symmetric-NAT detection: " +
                         story,
                     "no_secondary_rs_nor_teredo_use");
    return;
  }
  run.check("R4380-5.2.1-05", "symmetric_nat_not_refused", secondary.has_value() && !used && !address,
            "after the primary's RA (cone bit 0) an RS to the secondary address 203.0.113.2:3544; its different "
            "mapping means a symmetric NAT: no Teredo address is used",
            story, frames);
}

void retries_and_timeout(CaseRun& run) {
  const Timers t = timers(run);
  (void)played_server(run);  // silent (before_iut)
  Capture& lan_capture = run.capture("lan");
  // Four RSs per phase at most, T apart, then (RFC 5991: no cone phase)
  // off-line: observe until three T of silence follow the last RS.
  const auto budget = 10 * t.retry + 2000ms;
  const auto start = Clock::now();
  std::vector<Seen> rss;
  for (int guard = 0; guard < 100000; ++guard) {
    rss = all_seen(run, iut_rs(lan_capture));
    const auto now = Clock::now();
    if (!rss.empty() && now - rss.back().at > 3 * t.retry + 500ms) break;
    if (now - start > budget) break;
    std::this_thread::sleep_for(50ms);
  }
  if (rss.empty()) {
    run.inconclusive(
        "R4380-5.2.1-02",
        "no RS from the IUT within " + ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(budget)),
        "no_rs_sent");
    return;
  }
  std::vector<FrameRef> frames;
  std::string gaps;
  bool spacing_ok = true;
  const auto low = t.retry * 3 / 4, high = t.retry * 3 / 2 + 300ms;
  bool any_cone = false;
  for (std::size_t i = 0; i < rss.size(); ++i) {
    frames.push_back(lan(rss[i].frame));
    any_cone |= rs_cone(rss[i]);
    if (i == 0) continue;
    const auto gap = since(rss[i - 1].at, rss[i].at);
    gaps += fmt::format("{}{} ms", gaps.empty() ? "" : ", ", gap.count());
    if (gap < low || gap > high) spacing_ok = false;
  }
  const bool ended = Clock::now() - rss.back().at > 3 * t.retry;
  const std::string observed =
      fmt::format("{} RS(s) (lan frames {}-{}), gaps {}; {}", rss.size(), rss.front().frame, rss.back().frame,
                  gaps.empty() ? "none" : gaps,
                  ended ? fmt::format("then silence for {}", ms_text(3 * t.retry))
                        : "still sending when the observation ended");
  run.check("R4380-5.2.1-02", "rs_retry_schedule_wrong", spacing_ok && rss.size() >= 2 && rss.size() <= 4 && ended,
            fmt::format("an unanswered RS repeated every T = {} (accepted {}-{}), at most 4 in the (cone-bit 0) "
                        "phase, then off-line (no more RSs)",
                        ms_text(t.retry), ms_text(low), ms_text(high)),
            observed, frames);
  run.check("R5991-3.2-01", "cone_bit_rs_sent", !any_cone, "every RS with the cone bit clear (no cone-bit phase)",
            any_cone ? "a cone-bit RS among them" : observed, frames);
}

// RA probes: the first RSs get faulty RAs, one each; each must be ignored;
// the next RS gets a valid RA, the control: the IUT qualifies. Which RA the
// IUT took is read from its content, never from timing: every faulty RA's
// origin indication names the NAT's outside address with a port of its own
// (kProbePortBase + its index), unless the origin or the prefix is itself
// the fault (then that content names it); the control names the mapping the
// server saw. The address the IUT configures embeds the mapping (and has the
// prefix) of the RA it used, so it names that RA. RSs to the secondary
// address are answered consistently with the last primary RA (mirroring), so
// a client that took a marked RA configures its address instead of
// concluding "symmetric NAT".
using Probes = std::vector<std::pair<RaFault, std::string>>;

constexpr std::uint16_t kProbePortBase = 50100;

Endpoint probe_origin(std::size_t index) {
  return Endpoint{kit::ipv4(kNatOutside), static_cast<std::uint16_t>(kProbePortBase + index)};
}

// The before_iut hook of an RA probe case: the played server with the
// probes queued before the IUT's first RS.
void open_with_probes(CaseRun& run, const Probes& probes, bool secure = false) {
  if (secure) {
    open_secure_played_server(run);
  } else {
    open_played_server(run);
  }
  PlayedServer& server = played_server(run);
  server.mirror_secondary(true);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    server.push(RaPlan{.fault = probes[i].first, .origin = probe_origin(i)});
  }
}

// The mapping embedded in the interface identifier of a Teredo-format
// address (bytes 10-15: ~port, ~IPv4), whatever its prefix.
Endpoint embedded_mapping(const Ipv6Address& a) {
  const auto& b = a.bytes;
  return Endpoint{Ipv4Address{~((std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                                (std::uint32_t{b[14]} << 8) | std::uint32_t{b[15]})},
                  static_cast<std::uint16_t>(~((b[10] << 8) | b[11]))};
}

// What names the RA offered as probe `index` (for messages).
std::string probe_content(const Probes& probes, std::size_t index) {
  switch (probes[index].first) {
    case RaFault::foreign_prefix: return "its prefix 2001:db8::/64";
    case RaFault::other_server_prefix: return "its prefix 2001:0:c633:6409::/64";
    case RaFault::private_origin: return "its origin indication 10.1.2.3:40000";
    case RaFault::no_origin: return "no origin indication (the only RA offered without one)";
    default: return "its origin indication " + to_text(probe_origin(index));
  }
}

// Which offered RA the address `a` comes from, by content: a probe index,
// probes.size() for the control (the mapping the server saw, the valid
// prefix), nullopt when it names none of them.
std::optional<std::size_t> attribute(const Ipv6Address& a, const Probes& probes, const std::optional<Endpoint>& real) {
  const Endpoint embedded = embedded_mapping(a);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    switch (probes[i].first) {
      // A faulty prefix names the RA; so does the marker origin it carries
      // too (a client that took the RA but rebuilt the prefix).
      case RaFault::foreign_prefix:
        if (in_prefix64(a, kit::ipv6("2001:db8::")) || embedded == probe_origin(i)) return i;
        break;
      case RaFault::other_server_prefix:
        if (in_prefix64(a, teredo_prefix(kit::ipv4(kRelay))) || embedded == probe_origin(i)) return i;
        break;
      case RaFault::private_origin:
        if (embedded == Endpoint{kit::ipv4("10.1.2.3"), 40000}) return i;
        break;
      case RaFault::no_origin: break;
      default:
        if (embedded == probe_origin(i)) return i;
        break;
    }
  }
  const bool valid_prefix = in_prefix64(a, teredo_prefix(kit::ipv4(kServer)));
  if (real && embedded == *real && valid_prefix) return probes.size();
  // An address in the advertised prefix naming no offered mapping: only an
  // RA without origin indication could have produced it.
  for (std::size_t i = 0; i < probes.size() && valid_prefix; ++i) {
    if (probes[i].first == RaFault::no_origin) return i;
  }
  return std::nullopt;
}

// The probe an RA datagram reaching the IUT carries, by content (its origin
// indication), nullopt for the control or an unknown one.
std::optional<std::size_t> probe_of_ra(Bytes udp_payload, const Probes& probes) {
  const auto d = parse_datagram(udp_payload, DatagramParseOptions{.accept_trailers = true});
  if (!d) return std::nullopt;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const RaFault f = probes[i].first;
    if (f == RaFault::no_origin && !d->origin) return i;
    if (!d->origin) continue;
    const Endpoint origin{d->origin->address, d->origin->port};
    if (f == RaFault::private_origin && origin == Endpoint{kit::ipv4("10.1.2.3"), 40000}) return i;
    if (f != RaFault::private_origin && f != RaFault::no_origin && origin == probe_origin(i)) return i;
  }
  return std::nullopt;
}

// What is wrong when the IUT took an RA with `fault` (the named reason of
// that probe's assertion).
AssertionCode accepted_code_of(RaFault fault) {
  switch (fault) {
    case RaFault::wrong_nonce: return "ra_with_wrong_nonce_accepted";
    case RaFault::no_auth: return "unauthenticated_ra_accepted";
    case RaFault::no_origin: return "ra_without_origin_accepted";
    case RaFault::wrong_destination: return "ra_to_wrong_destination_accepted";
    case RaFault::two_prefixes: return "ra_with_two_prefixes_accepted";
    case RaFault::no_prefix: return "ra_without_prefix_accepted";
    case RaFault::foreign_prefix: return "ra_with_foreign_prefix_accepted";
    case RaFault::other_server_prefix: return "ra_with_other_server_prefix_accepted";
    case RaFault::global_source: return "ra_from_global_source_accepted";
    case RaFault::hop_limit_64: return "ra_with_hop_limit_64_accepted";
    case RaFault::bad_checksum: return "ra_with_bad_checksum_accepted";
    case RaFault::code_1: return "ra_with_nonzero_code_accepted";
    case RaFault::truncated: return "truncated_ra_accepted";
    case RaFault::zero_length_option: return "ra_with_zero_length_option_accepted";
    case RaFault::bad_mac: return "ra_with_bad_mac_accepted";
    case RaFault::other_secret: return "ra_signed_with_other_secret_accepted";
    case RaFault::wrong_source_port: return "ra_from_wrong_port_accepted";
    case RaFault::private_origin: return "ra_with_private_origin_accepted";
    case RaFault::none:
    case RaFault::silent: break;
  }
  return "faulty_ra_accepted";
}

void ra_probes(CaseRun& run, const Probes& probes) {
  const Timers t = timers(run);
  PlayedServer& server = played_server(run);
  Capture& lan_capture = run.capture("lan");
  // Every global address the IUT shows, until the control RA was answered
  // and an address naming it showed up (or the budget ran out).
  struct Shown {
    Ipv6Address address;
    std::optional<std::size_t> from;  // the RA it names
  };
  std::vector<Shown> shown;
  std::optional<Endpoint> real;  // the mapping the control RA gave
  const auto budget = static_cast<int>(probes.size() + 1) * (2 * t.retry + 1000ms) + 3 * t.retry + 3000ms;
  const auto start = Clock::now();
  std::optional<Clock::time_point> control_at;
  for (int guard = 0; guard < 100000; ++guard) {
    for (const auto& rs : server.seen()) {
      if (!real && rs.answered && rs.plan.fault == RaFault::none && !rs.plan.origin) {
        real = rs.from;
        control_at = Clock::now();
      }
    }
    // Every global address: the content names the RA, whatever the prefix.
    for (const auto& a : iut_global_addresses(run)) {
      if (std::none_of(shown.begin(), shown.end(), [&](const Shown& s) { return s.address == a; })) {
        shown.push_back({a, std::nullopt});
      }
    }
    for (auto& s : shown) s.from = attribute(s.address, probes, real);
    const bool control_shown =
        std::any_of(shown.begin(), shown.end(), [&](const Shown& s) { return s.from == probes.size(); });
    const auto now = Clock::now();
    if (control_shown || now - start > budget) break;
    if (control_at && now - *control_at > 3 * t.retry + 3000ms) break;
    std::this_thread::sleep_for(50ms);
  }
  const auto rss = server.seen();
  const auto ras = lan_capture.frames(ra_to_iut(lan_capture));
  const bool control_shown =
      std::any_of(shown.begin(), shown.end(), [&](const Shown& s) { return s.from == probes.size(); });
  std::string addresses;
  for (const auto& s : shown) {
    addresses += fmt::format("{}{} ({})", addresses.empty() ? "" : ", ", to_string(s.address),
                             !s.from                     ? "naming no offered RA"
                             : *s.from == probes.size()  ? "the control's mapping " + (real ? to_text(*real) : "?")
                                                         : "names probe " + std::to_string(*s.from + 1));
  }
  if (addresses.empty()) addresses = "none";
  for (const auto& s : shown) {
    if (!s.from) run.info("an address naming no offered RA, so blamed on none: " + to_string(s.address));
  }
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const std::string& requirement = probes[i].second;
    const AssertionCode accepted_code = accepted_code_of(probes[i].first);
    const auto offered = std::find_if(rss.begin(), rss.end(), [&](const RsSeen& r) {
      return r.answered && r.plan.fault == probes[i].first && r.plan.origin == probe_origin(i);
    });
    if (offered == rss.end()) {
      run.inconclusive(requirement, std::string("no RS arrived to answer with ") + describe(probes[i].first),
                       "probe_not_offered");
      continue;
    }
    std::uint64_t ra_frame = 0;
    for (const auto& f : ras) {
      const auto c = find_udp_carrier(lan_capture.link_type(), f.data);
      if (c && probe_of_ra(c->payload, probes) == i) {
        ra_frame = f.number;
        break;
      }
    }
    const std::string what = fmt::format("{} ({}) in answer to the RS from {}", describe(probes[i].first),
                                         probe_content(probes, i), to_text(offered->from));
    if (ra_frame == 0) {
      run.inconclusive(requirement, what + ": the RA did not reach the IUT (not in lan.pcap)",
                       "probe_ra_not_delivered");
      continue;
    }
    const auto took = std::find_if(shown.begin(), shown.end(), [&](const Shown& s) { return s.from == i; });
    const std::size_t later_rs = static_cast<std::size_t>(std::count_if(rss.begin(), rss.end(), [&](const RsSeen& r) {
      return r.at > offered->at && r.to == kServer;
    }));
    const std::string expected =
        "the RA silently discarded: no address built from it (an address of the IUT names the RA it used: its "
        "prefix and the mapping of its origin indication)";
    if (took != shown.end()) {
      run.check(requirement, accepted_code, false, expected,
                fmt::format("{} (lan frame {}): the IUT configured {}, which names this RA by {}; addresses shown: "
                            "{}",
                            what, ra_frame, to_string(took->address), probe_content(probes, i), addresses),
                {lan(ra_frame)});
      continue;
    }
    // Causality, not timing (§5.2.1): a client sends its RS to the secondary
    // address only once it has accepted an RA from the primary. When the RS
    // that follows the one this probe answered goes to the secondary, the
    // only RA from the primary the IUT had received was this probe's: it was
    // accepted, whatever address it then shows.
    const auto next_rs = std::find_if(rss.begin(), rss.end(), [&](const RsSeen& r) { return r.at > offered->at; });
    if (next_rs != rss.end() && next_rs->to == kServer2) {
      run.check(requirement, accepted_code, false, expected,
                fmt::format("{} (lan frame {}): the IUT's next RS went to the secondary address {} (the second phase "
                            "of §5.2.1, which follows only an RA accepted from the primary; this probe's RA was the "
                            "only one from the primary it had received); addresses shown: {}",
                            what, ra_frame, kServer2, addresses),
                {lan(ra_frame)});
      continue;
    }
    if (!control_shown) {
      run.inconclusive(requirement,
                       fmt::format("{} (lan frame {}): no address names it, but the IUT did not qualify with the valid "
                                   "RA offered afterwards either ({} RS(s) to the primary after it; addresses shown: "
                                   "{}): the silence proves nothing",
                                   what, ra_frame, later_rs, addresses),
                       kit::kControlUnanswered);
      continue;
    }
    run.check(requirement, accepted_code, true, expected,
              fmt::format("{} (lan frame {}): no address names it ({} RS(s) to the primary after it); the control (a "
                          "valid RA with the mapping {}) then qualified it: addresses shown: {}",
                          what, ra_frame, later_rs, real ? to_text(*real) : "?", addresses),
              {lan(ra_frame)});
  }
}

const Probes kSecureProbes = {{RaFault::bad_mac, "R4380-5.2.2-04"}, {RaFault::other_secret, "R4380-5.2.2-04"}};
const Probes kNonceProbes = {{RaFault::wrong_nonce, "R4380-5.2.2-02"}, {RaFault::no_auth, "R4380-5.2.2-02"}};
const Probes kOriginProbes = {{RaFault::no_origin, "R4380-5.2.1-03"}, {RaFault::wrong_destination, "R4380-5.2.1-03"}};
const Probes kPrefixCountProbes = {{RaFault::two_prefixes, "R4380-5.2.1-03"}, {RaFault::no_prefix, "R4380-5.2.1-03"}};
const Probes kPrefixProbes = {{RaFault::foreign_prefix, "R4380-5.2.1-04"},
                              {RaFault::other_server_prefix, "R4380-5.2.1-04"}};
const Probes kSourceProbes = {{RaFault::global_source, "R2461-6.1.2-01"}};
const Probes kHopProbes = {{RaFault::hop_limit_64, "R2461-6.1.2-02"}};
const Probes kChecksumProbes = {{RaFault::bad_checksum, "R2461-6.1.2-03"}};
const Probes kCodeProbes = {{RaFault::code_1, "R2461-6.1.2-04"}};
const Probes kLengthOptionProbes = {{RaFault::truncated, "R2461-6.1.2-05"},
                                    {RaFault::zero_length_option, "R2461-6.1.2-06"}};
const Probes kPortProbes = {{RaFault::wrong_source_port, "R4380-5.2.1-03"}};
const Probes kMappingProbes = {{RaFault::private_origin, "R4380-4-04"}};

// An RA-probe case: the played server listens before the IUT starts and
// answers its first RSs with `probes`' faulty RAs, then with valid ones (the
// control); ra_probes judges each. The requirements are the probes'.
CaseSpec ra_probe_case(std::string id, std::string title, std::string description, const Probes& probes,
                       std::string judgement = {}, std::optional<std::string> nat_profile = std::nullopt) {
  std::vector<std::string> requirements;
  for (const auto& probe : probes) {
    if (std::find(requirements.begin(), requirements.end(), probe.second) == requirements.end()) {
      requirements.push_back(probe.second);
    }
  }
  if (judgement.empty()) {
    judgement = "Each faulty RA is marked by its content (an origin port of its own, or the faulty prefix/origin "
                "itself); no address the IUT configures names a faulty RA, and after the valid one it configures "
                "the address naming the valid RA (the control; without it: inconclusive). The reaction is "
                "attributed by content, never by timing.";
  }
  return {.id = std::move(id),
          .title = std::move(title),
          .description = std::move(description),
          .judgement = std::move(judgement),
          .role = "client",
          .requirements = std::move(requirements),
          .topology = kTopology,
          .nat_profile = std::move(nat_profile),
          .captures = client_captures(),
          .body = [&probes](CaseRun& run) { ra_probes(run, probes); },
          .before_iut = [&probes](CaseRun& run) { open_with_probes(run, probes); }};
}

void secure_qualification(CaseRun& run) {
  ra_probes(run, kSecureProbes);
  // The RSs: authentication with the client id, a 20-byte HMAC-SHA1 that
  // verifies with the shared secret, a nonce, confirmation 0.
  Capture& lan_capture = run.capture("lan");
  const auto rss = all_seen(run, iut_rs(lan_capture));
  if (rss.empty()) {
    run.inconclusive("R4380-5.2.2-01", "no RS in lan.pcap", "no_rs_captured");
    return;
  }
  bool ok = true, mac_ok = true;
  std::string observed;
  std::vector<FrameRef> frames;
  std::vector<Nonce> nonces;
  for (const auto& s : rss) {
    frames.push_back(lan(s.frame));
    if (!s.datagram || !s.datagram->authentication) {
      ok = false;
      mac_ok = false;
      observed = "an RS without authentication encapsulation: " + describe(s);
      break;
    }
    const auto& a = *s.datagram->authentication;
    const std::string id(a.client_id.begin(), a.client_id.end());
    if (id != kit::lab::kClientId || a.confirmation != 0 || a.authentication_value.size() != 20) {
      ok = false;
      observed = fmt::format("{}: client id '{}', AU-len {}, confirmation {}", describe(s), id,
                             a.authentication_value.size(), a.confirmation);
    }
    if (!verify_authentication(*s.datagram, MacAlgorithm::hmac_sha1, kit::bytes_of(kit::lab::kSecret))) {
      mac_ok = false;
    }
    if (std::find(nonces.begin(), nonces.end(), a.nonce) != nonces.end()) {
      ok = false;
      observed = describe(s) + ": a nonce repeated from an earlier RS";
    }
    nonces.push_back(a.nonce);
  }
  if (observed.empty()) {
    observed = fmt::format("{} RS(s) with client id '{}', a 20-byte authentication value, fresh nonces, "
                           "confirmation 0", rss.size(), kit::lab::kClientId);
  }
  run.check("R4380-5.2.2-01", "rs_authentication_malformed", ok,
            "RSs with the authentication encapsulation: the configured client id, a client-chosen nonce fresh per "
            "RS, confirmation 0",
            observed, frames);
  run.check("R4380-5.2.2-05", "rs_mac_not_verifying", mac_ok,
            "the RS authentication value is HMAC-SHA1 keyed with the shared secret over nonce | confirmation | IPv6 "
            "packet",
            mac_ok ? "every RS's value verifies" : "an RS whose value does not verify with the shared secret", frames);
}

// R4380-4-05 (MAY): the identifier of a link-local Teredo-format address may
// embed a private IPv4. Recorded from the first RS's fe80:: source, read as
// flags, ~port, ~IPv4 (§4).
void link_local_identifier(CaseRun& run) {
  (void)played_server(run);
  const std::vector<std::string> reqs = {"R4380-4-05"};
  Capture& lan_capture = run.capture("lan");
  const auto rs = wait_seen(run, iut_rs(lan_capture), 10000ms, 0);
  if (!rs || !rs->datagram) {
    run.inconclusive(reqs[0], "no RS from the IUT in lan.pcap within 10000 ms", "no_rs_sent");
    return;
  }
  const Ipv6Address& source = rs->datagram->ipv6.header.source;
  const auto& b = source.bytes;
  const std::uint16_t flags = flags_of(source);
  const auto port = static_cast<std::uint16_t>(~((b[10] << 8) | b[11]));
  const Ipv4Address embedded{~((std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                               (std::uint32_t{b[14]} << 8) | std::uint32_t{b[15]})};
  const bool own = embedded == kit::ipv4(kClientLan) && port == rs->carrier.source_port;
  const std::string kind = embedded.value == 0        ? "no IPv4 embedded"
                           : is_global_unicast(embedded) ? "a global IPv4 embedded"
                                                         : "a private (non-global) IPv4 embedded";
  const std::string reading =
      fmt::format("{} read as flags {:04x}, port {}, IPv4 {} ({}: {}){}", to_string(source), flags, port,
                  to_string(embedded), to_string(classify_ipv4(embedded)), kind,
                  own ? fmt::format(": the IUT's own local endpoint {}:{}", kClientLan, rs->carrier.source_port)
                      : fmt::format(" (the IUT's local endpoint is {}:{})", kClientLan, rs->carrier.source_port));
  const bool link_local = source.is_link_local();
  run.info(fmt::format("the first RS's link-local source {}", reading));
  run.check(reqs[0], "link_local_identifier_choice_invalid", true,
            "either behaviour: the link-local identifier may embed a private (non-global) IPv4, or not (MAY): "
            "recorded",
            fmt::format("first RS {}: {}{}", describe(*rs), link_local ? "" : "not a link-local source; ", reading),
            {lan(rs->frame)});
}

// §5.2.2: "a non-zero value of the confirmation byte ... signals the client
// that it should obtain a new key": the RA is still a valid one (its HMAC
// covers the byte); how the client gets the new key is out of band.
void secure_confirmation(CaseRun& run) {
  PlayedServer& server = played_server(run);
  server.set_default(RaPlan{.confirmation = 1});
  const Timers t = timers(run);
  const auto timeout = 3 * t.retry + 3000ms;
  const auto address = wait_address(run, timeout);
  const auto rs = server.seen();
  const std::size_t answered = static_cast<std::size_t>(
      std::count_if(rs.begin(), rs.end(), [](const RsSeen& r) { return r.answered; }));
  Capture& lan_capture = run.capture("lan");
  const auto ras = all_seen(run, ra_to_iut(lan_capture));
  const std::vector<FrameRef> frames = lan_frames({ras.empty() ? 0 : ras.front().frame});
  if (answered == 0) {
    run.inconclusive("R4380-5.2.2-03", fmt::format("no RS answered within {}", ms_text(timeout)), "no_rs_answered");
    return;
  }
  run.check("R4380-5.2.2-03", "ra_with_confirmation_refused", address.has_value(),
            "an RA with confirmation 1 and a valid HMAC-SHA1 accepted (the byte asks for a new key, which the "
            "client obtains out of band; it does not void the RA)",
            address ? fmt::format("qualified as {} after {} RA(s) with confirmation 1 (first at lan frame {}); any "
                                  "re-keying happens out of band",
                                  to_string(*address), answered, ras.empty() ? 0 : ras.front().frame)
                    : fmt::format("{} RA(s) with confirmation 1 answered, no address within {}", answered,
                                  ms_text(timeout)),
            frames);
}

// RS nonce quality: every RS carries a fresh, unpredictable nonce (§5.2.2:
// "the nonce value is chosen by the client, and is repeated in the response
// from the server"; the nonce check is the first level of protection against
// a spoofed server, §7.2.1, which a repeated or guessable nonce defeats).
// RSs are collected across retries (the first two RSs of each start go
// unanswered), a refresh and two restarts of the IUT. Judged: no nonce seen
// twice, and no byte position constant over all of them (a counter or a
// fixed pattern). RSs without a nonce (no authentication encapsulation) give
// nothing to judge.
// Every RS has its own nonce (R4380-5.2.2-07), and the nonce is
// unpredictable (R4380-5.2.2-08): RFC 4380 §5.2.2 has the client choose the
// nonce and check the server's echo of it, which protects only as long as an
// off-path attacker cannot guess it.
constexpr const char* kNonceFresh = "R4380-5.2.2-07";
constexpr const char* kNonceUnpredictable = "R4380-5.2.2-08";
constexpr std::size_t kUnansweredPerStart = 2;
constexpr int kStarts = 3;
constexpr std::size_t kConstantByteSample = 6;  // 8 positions x 256^-5: a random nonce never trips it

void open_with_unanswered_rss(CaseRun& run) {
  open_played_server(run);
  for (std::size_t i = 0; i < kUnansweredPerStart; ++i) played_server(run).push(RaPlan{.fault = RaFault::silent});
}

void rs_nonce_quality(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const auto qualify_timeout = (kUnansweredPerStart + 2) * t.retry + 3000ms;
  std::string story;
  for (int start = 0; start < kStarts; ++start) {
    if (start > 0) {
      for (std::size_t i = 0; i < kUnansweredPerStart; ++i) server.push(RaPlan{.fault = RaFault::silent});
      std::this_thread::sleep_for(300ms);
      run.restart_iut();
    }
    const std::size_t before = server.seen().size();
    const auto address = wait_address(run, qualify_timeout);
    // One refresh RS after the first qualification (bounded: 8 s).
    if (start == 0 && address) {
      const auto refresh_wait = std::min<std::chrono::milliseconds>(t.refresh * 3 / 2 + t.retry, 8000ms);
      (void)server.wait_rs(server.seen().size() + 1, refresh_wait);
    }
    story += fmt::format("{}start {}: {} RS(s){}", story.empty() ? "" : "; ", start + 1, server.seen().size() - before,
                         address ? ", qualified" : ", not qualified");
  }
  Capture& lan_capture = run.capture("lan");
  const auto rss = all_seen(run, iut_rs(lan_capture));
  std::vector<std::pair<Nonce, std::uint64_t>> nonces;
  std::size_t without = 0;
  for (const auto& s : rss) {
    if (s.datagram && s.datagram->authentication) {
      nonces.emplace_back(s.datagram->authentication->nonce, s.frame);
    } else {
      ++without;
    }
  }
  story += fmt::format("; {} RS(s) in lan.pcap, {} with a nonce", rss.size(), nonces.size());
  if (nonces.size() < 4) {
    const std::string why = fmt::format(
        "{} nonce(s) to compare (at least 4 needed){}: {}", nonces.size(),
        without ? fmt::format(", {} RS(s) without authentication encapsulation", without) : std::string(), story);
    run.inconclusive(kNonceFresh, why, "too_few_rs_nonces");
    run.inconclusive(kNonceUnpredictable, why, "too_few_rs_nonces");
    return;
  }
  const auto hex = [](const Nonce& n) {
    std::string out;
    for (const auto b : n) out += fmt::format("{:02x}", b);
    return out;
  };
  std::string sample;
  for (std::size_t i = 0; i < nonces.size() && i < 4; ++i) sample += (sample.empty() ? "" : " ") + hex(nonces[i].first);
  const std::vector<FrameRef> span = {lan(nonces.front().second), lan(nonces.back().second)};

  // No nonce twice.
  std::vector<FrameRef> repeat_frames = span;
  std::string repeat;
  for (std::size_t i = 0; i < nonces.size() && repeat.empty(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (nonces[i].first == nonces[j].first) {
        repeat = fmt::format("the nonce of lan frame {} repeats that of lan frame {}", nonces[i].second,
                             nonces[j].second);
        repeat_frames = {lan(nonces[j].second), lan(nonces[i].second)};
        break;
      }
    }
  }
  run.check(kNonceFresh, "rs_nonce_repeated", repeat.empty(),
            fmt::format("a fresh client-chosen nonce in every RS (retries, a refresh and {} starts): none repeated",
                        kStarts),
            (repeat.empty() ? fmt::format("{} distinct nonces", nonces.size()) : repeat) +
                fmt::format(" (first: {}); {}", sample, story),
            repeat_frames);

  // No byte that never changes: a counter, a clock or a fixed pattern.
  if (nonces.size() < kConstantByteSample) {
    run.inconclusive(kNonceUnpredictable,
                     fmt::format("{} nonces, {} needed to call a byte constant: {}", nonces.size(),
                                 kConstantByteSample, story),
                     "too_few_rs_nonces");
    return;
  }
  std::string constant_byte;
  for (std::size_t position = 0; position < nonces.front().first.size() && constant_byte.empty(); ++position) {
    const bool constant = std::all_of(nonces.begin(), nonces.end(), [&](const auto& n) {
      return n.first[position] == nonces.front().first[position];
    });
    if (constant) {
      constant_byte = fmt::format("byte {} of the nonce is {:02x} in all {} RSs (a counter or a fixed pattern, not "
                                  "an unpredictable value)",
                                  position, nonces.front().first[position], nonces.size());
    }
  }
  run.check(kNonceUnpredictable, "rs_nonce_byte_constant", constant_byte.empty(),
            fmt::format("an unpredictable nonce: no byte constant over {} or more RSs", kConstantByteSample),
            (constant_byte.empty() ? fmt::format("every byte varies over {} nonces", nonces.size()) : constant_byte) +
                fmt::format(" (first: {})", sample),
            span);
}

}  // namespace

TEREDO_CASE({
    .id = "client.qualification.restricted-nat",
    .title = "Qualification behind a port-restricted NAT: first RS, RFC 5991 cone bit, address construction",
    .description = "The driver plays the IUT's server (203.0.113.1/.2) and answers every RS with a valid RA whose "
                   "origin indication is the mapping it saw (the NAT's 198.51.100.1:X). Once the adapter's address "
                   "probe shows an address, the played application sends to a Teredo peer, which answers the IUT's "
                   "direct bubble; the application's packet then shows the address the IUT uses on the wire.",
    .judgement = "Only RSs before the first RA; the first RS is ICMPv6 133 from fe80::/64 to ff02::2 over UDP to "
                 "203.0.113.1:3544; no cone-bit RS; the address is 2001:0:cb00:7101:<flags>:~port:~IPv4 of the "
                 "origin indication, cone bit 0, U/G/z clear.",
    .role = "client",
    .requirements = kQualificationRequirements,
    .topology = kTopology,
    .captures = client_captures(),
    .body = restricted_nat,
    .before_iut = open_played_server,
});

// The same qualification judged behind each other NAT profile the lab has
// (the symmetric one refuses, below), so the interop matrix shows every
// profile. RFC 5991 clients never probe for a cone NAT: the RS/RA exchange
// and the address are the same behind all of them.
static CaseSpec behind_profile(const char* profile) {
  return {.id = std::string("client.qualification.behind-") + profile,
          .title = std::string("Qualification behind a ") + profile + " NAT, as behind a port-restricted one",
          .description = std::string("NAT profile ") + profile +
                         ". As client.qualification.restricted-nat: the driver plays the server, answers every RS "
                         "with the mapping it saw, then checks the first RS and the address on the wire.",
          .judgement = "As client.qualification.restricted-nat.",
          .role = "client",
          .requirements = kQualificationRequirements,
          .topology = kTopology,
          .nat_profile = std::string(profile),
          .captures = client_captures(),
          .body = restricted_nat,
          .before_iut = open_played_server};
}
static const CaseRegistrar kBehindFullCone(behind_profile("full-cone"));
static const CaseRegistrar kBehindRestrictedCone(behind_profile("restricted-cone"));
static const CaseRegistrar kBehindLinuxMasquerade(behind_profile("linux-masquerade"));

TEREDO_CASE({
    .id = "client.qualification.symmetric-nat-refused",
    .title = "Behind a symmetric NAT the client detects it through the secondary address and stays off",
    .description = "NAT profile symmetric. The played server answers every RS with the mapping it saw, so the "
                   "secondary address sees a different one. Then the application sends to a Teredo peer and to a "
                   "native host.",
    .judgement = "After the primary's RA an RS goes to 203.0.113.2:3544; the mappings differ, so the IUT sends no "
                 "Teredo packet other than RSs and configures no address.",
    .role = "client",
    .requirements = {"R4380-5.2.1-05"},
    .topology = kTopology,
    .nat_profile = std::string("symmetric"),
    .captures = client_captures(),
    .body = symmetric_refused,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.qualification.retries-and-timeout",
    .title = "An unanswered RS is repeated every T, at most 4 times, then the client goes off-line",
    .description = "The played server receives the RSs and never answers. The case observes until three T of "
                   "silence follow the last RS (at most 10 T).",
    .judgement = "RS gaps within 75-150 % of the declared qualification_retry (+300 ms), 2 to 4 RSs, none with the "
                 "cone bit (RFC 5991), then no more RSs.",
    .role = "client",
    .requirements = {"R4380-5.2.1-02", "R5991-3.2-01"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = retries_and_timeout,
    .before_iut =
        [](CaseRun& run) {
          open_played_server(run);
          played_server(run).set_default(RaPlan{.fault = RaFault::silent});
        },
});

static const CaseRegistrar kWrongNonceIgnoredCase(ra_probe_case(
    "client.ra.wrong-nonce-ignored",
    "An RA with another nonce, or without the authentication encapsulation, is discarded",
    "The first RS is answered with an RA whose nonce has one bit flipped, the second with an RA without "
    "authentication encapsulation, the next with a valid RA (the control).",
    kNonceProbes));

static const CaseRegistrar kNoOriginIgnoredCase(ra_probe_case(
    "client.ra.no-origin-ignored",
    "An RA without origin indication, or not addressed to the RS's source, is discarded",
    "The first RS is answered with an RA without origin indication, the second with an RA to fe80::1234, the "
    "next with a valid RA (the control).",
    kOriginProbes));

static const CaseRegistrar kTwoPrefixesIgnoredCase(ra_probe_case(
    "client.ra.two-prefixes-ignored",
    "An RA with two Prefix Information options, or none, is discarded",
    "The first RS is answered with an RA carrying two Prefix Information options, the second with one carrying "
    "none, the next with a valid RA (the control).",
    kPrefixCountProbes));

static const CaseRegistrar kNonTeredoPrefixIgnoredCase(ra_probe_case(
    "client.ra.non-teredo-prefix-ignored",
    "An RA advertising a prefix other than 2001:0:<server IPv4>::/64 is discarded",
    "The first RS is answered with an RA advertising 2001:db8::/64, the second with one advertising "
    "2001:0:c633:6409::/64 (another server's), the next with a valid RA (the control).",
    kPrefixProbes));

static const CaseRegistrar kRfc2461GlobalSourceCase(ra_probe_case(
    "client.ra.rfc2461-global-source",
    "RFC 2461 §6.1.2: an RA whose IPv6 source is not link-local is discarded",
    "The first RS is answered with an RA from 2001:db8:1::2, the next with a valid RA (the control).",
    kSourceProbes));

static const CaseRegistrar kRfc2461HopLimitCase(ra_probe_case(
    "client.ra.rfc2461-hop-limit",
    "RFC 2461 §6.1.2: an RA with hop limit 64 is discarded",
    "The first RS is answered with an RA of hop limit 64, the next with a valid RA (the control).",
    kHopProbes));

static const CaseRegistrar kRfc2461BadChecksumCase(ra_probe_case(
    "client.ra.rfc2461-bad-checksum",
    "RFC 2461 §6.1.2: an RA with an invalid ICMPv6 checksum is discarded",
    "The first RS is answered with an RA whose ICMPv6 checksum is corrupted, the next with a valid RA (the "
    "control).",
    kChecksumProbes));

static const CaseRegistrar kRfc2461CodeCase(ra_probe_case(
    "client.ra.rfc2461-code",
    "RFC 2461 §6.1.2: an RA with ICMPv6 code 1 is discarded",
    "The first RS is answered with an RA of code 1 (checksum valid), the next with a valid RA (the control).",
    kCodeProbes));

static const CaseRegistrar kRfc2461LengthAndZeroOptionCase(ra_probe_case(
    "client.ra.rfc2461-length-and-zero-option",
    "RFC 2461 §6.1.2: a truncated RA, or one with a zero-length option, is discarded",
    "The first RS is answered with an ICMPv6 RA of 12 octets, the second with an RA carrying an ND option of "
    "length 0, the next with a valid RA (the control).",
    kLengthOptionProbes));

static const CaseRegistrar kWrongSourcePortIgnoredCase(ra_probe_case(
    "client.ra.wrong-source-port-ignored",
    "An RA from the server's address but another UDP port is discarded",
    "NAT profile full-cone (so the NAT lets it in). The first RS is answered with a valid RA sent from "
    "203.0.113.1:3545, the next with a valid RA from port 3544 (the control).",
    kPortProbes,
    {},
    std::string("full-cone")));

static const CaseRegistrar kNonGlobalMappingIgnoredCase(ra_probe_case(
    "client.ra.non-global-mapping-ignored",
    "An RA whose origin indication is not a global IPv4 address is discarded",
    "The first RS is answered with an RA whose origin indication is 10.1.2.3:40000 (a Teredo address embedding "
    "it would not be global), the next with a valid RA (the control).",
    kMappingProbes));

TEREDO_CASE({
    .id = "client.qualification.secure-confirmation-rekey",
    .title = "Secure qualification: an RA whose confirmation byte asks for a new key is still accepted",
    .description = "The IUT runs with secure qualification. Every RS is answered with a correctly signed RA whose "
                   "confirmation byte is 1 (RFC 4380 §5.2.2: the client should obtain a new key).",
    .judgement = "The IUT qualifies (the byte does not void a validly signed RA); the re-keying itself happens out "
                 "of band and is recorded as such. No RS answered at all: inconclusive.",
    .role = "client",
    .requirements = {"R4380-5.2.2-03"},
    .capabilities = {"secure_qualification"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = secure_confirmation,
    .before_iut = open_secure_played_server,
});

TEREDO_CASE({
    .id = "client.qualification.secure-hmac",
    .title = "Secure qualification: RS authentication, RAs with a wrong HMAC discarded",
    .description = "The IUT runs with secure qualification (client id client-7, the lab's shared secret). The first "
                   "RS is answered with an RA whose HMAC-SHA1 has one byte flipped, the second with an RA signed "
                   "with another secret, the next with a correctly signed RA (the control). Every RS's "
                   "authentication encapsulation is checked.",
    .judgement = "Faulty RAs ignored (RS repeated, no address), the valid one accepted; every RS carries the "
                 "client id, a fresh nonce, confirmation 0 and an HMAC-SHA1 that verifies.",
    .role = "client",
    .requirements = {"R4380-5.2.2-04", "R4380-5.2.2-01", "R4380-5.2.2-05"},
    .capabilities = {"secure_qualification"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = secure_qualification,
    .before_iut = [](CaseRun& run) { open_with_probes(run, kSecureProbes, true); },
});

TEREDO_CASE({
    .id = "client.qualification.link-local-embeds-private-ipv4",
    .title = "The link-local Teredo-format identifier of the RS's source (recorded: it may embed a private IPv4)",
    .description = "The driver plays the IUT's server and answers RSs with valid RAs; the first RS's fe80:: source "
                   "is read as flags, ~port, ~IPv4 and compared with the IUT's local endpoint (192.0.2.10 and its "
                   "service port).",
    .judgement = "Optional (MAY): what the identifier embeds is recorded; always pass (inconclusive without an "
                 "RS).",
    .role = "client",
    .requirements = {"R4380-4-05"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = link_local_identifier,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.qualification.rs-nonce-fresh",
    .title = "Every RS carries a fresh, unpredictable nonce (retries, refreshes, restarts)",
    .description = "The played server leaves the first two RSs of each start unanswered (retries), then answers with "
                   "valid RAs; after the first qualification one refresh RS is awaited (8 s at most); the IUT is "
                   "restarted twice the same way. The nonce of every RS in lan.pcap is compared.",
    .judgement = "No nonce seen twice and no byte position constant over all of them (when 6 or more); fewer than 4 "
                 "nonces (or RSs without an authentication encapsulation): inconclusive.",
    .role = "client",
    .requirements = {kNonceFresh, kNonceUnpredictable},
    .topology = kTopology,
    .captures = client_captures(),
    .body = rs_nonce_quality,
    .before_iut = open_with_unanswered_rss,
});

}  // namespace teredo::conformance::client
