// RFC 4380 §5.2.5 maintenance and the refresh interval (§5.2, RFC 6081
// §5.1.1), RFC 5991 §3.1 random flag bits: the played server keeps answering
// the refresh RSs (with a changed mapping when a case asks), timed from the
// lan capture against the adapter's declared refresh_interval.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

#include "cases/client/client_driver.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The IUT's RSs in the lan capture after frame `after`.
std::vector<Seen> rs_after(CaseRun& run, std::uint64_t after) {
  return all_seen(run, iut_rs(run.capture("lan")), after);
}

void refresh_interval(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2-07", "R4380-5.2.5-01", "R4380-5.2.5-02", "R4380-5.2.5-03",
                                         "R6081-5.1.1-04", "R6081-5.1.1-03"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  Capture& lan_capture = run.capture("lan");
  const auto ras = lan_capture.frames(ra_to_iut(lan_capture));
  const auto rs_before = rs_after(run, 0);
  if (ras.empty() || rs_before.empty()) {
    for (const auto& r : reqs) {
      run.inconclusive(r, "the qualifying RA is not in lan.pcap", "qualifying_ra_not_captured");
    }
    return;
  }
  const CapturedFrame qualifying = ras.back();
  const Seen qualifying_rs = rs_before.back();
  // Two refresh RSs, bounded: 1.5 I + T each, 65 s at most.
  const auto budget = std::min<std::chrono::milliseconds>(2 * (t.refresh * 3 / 2 + t.retry) + 1000ms, 65000ms);
  const auto start = Clock::now();
  std::vector<Seen> refresh;
  for (int guard = 0; guard < 100000 && Clock::now() - start < budget; ++guard) {
    refresh = rs_after(run, qualifying.number);
    if (refresh.size() >= 2) break;
    std::this_thread::sleep_for(50ms);
  }
  if (refresh.empty()) {
    // No refresh RS at all: silence, which proves nothing about the interval.
    for (const char* r : {"R4380-5.2-07", "R4380-5.2.5-01", "R6081-5.1.1-04", "R6081-5.1.1-03"}) {
      run.inconclusive(r,
                       fmt::format("no RS within {} after the qualifying RA (lan frame {}): no refresh interval "
                                   "to judge",
                                   ms_text(since(qualifying.at, Clock::now())), qualifying.number),
                       "no_refresh_rs");
    }
    run.inconclusive("R4380-5.2.5-02", "no refresh RS to compare", "no_refresh_rs");
    run.inconclusive("R4380-5.2.5-03", "no refresh RS to compare", "no_refresh_rs");
    return;
  }
  // Gaps: from the RA that answered the previous RS to the next RS.
  std::vector<std::pair<std::chrono::milliseconds, std::string>> gaps;
  Clock::time_point last = qualifying.at;
  std::uint64_t last_frame = qualifying.number;
  std::vector<FrameRef> frames = {lan(qualifying.number)};
  for (const auto& r : refresh) {
    gaps.emplace_back(since(last, r.at), fmt::format("lan {}->{}", last_frame, r.frame));
    frames.push_back(lan(r.frame));
    const auto answer = lan_capture.frames(ra_to_iut(lan_capture), r.frame);
    if (answer.empty()) break;
    last = answer.front().at;
    last_frame = answer.front().number;
  }
  const auto tolerance = 300ms + t.refresh / 20;
  std::string text;
  bool rfc4380 = true, rfc6081 = true, within = true;
  for (const auto& [gap, where] : gaps) {
    text += fmt::format("{}{} ms ({})", text.empty() ? "" : ", ", gap.count(), where);
    if (gap < t.refresh * 3 / 4 - tolerance || gap > t.refresh + tolerance) rfc4380 = false;
    if (gap < t.refresh / 2 - tolerance || gap > t.refresh * 3 / 2 + tolerance) rfc6081 = false;
    if (gap > t.refresh + tolerance) within = false;
  }
  const std::string observed = fmt::format("refresh gaps {} for the declared refresh_interval {}", text,
                                           ms_text(t.refresh));
  run.check("R4380-5.2-07", "refresh_interval_out_of_range", rfc4380,
            fmt::format("refresh RSs after 75-100 % of the refresh interval ({}-{}, +-{})", ms_text(t.refresh * 3 / 4),
                        ms_text(t.refresh), ms_text(tolerance)),
            observed, frames);
  run.check("R6081-5.1.1-04", "refresh_gap_outside_randomized_range", rfc6081,
            fmt::format("refresh gaps within 50-150 % of the refresh interval ({}-{}, +-{})", ms_text(t.refresh / 2),
                        ms_text(t.refresh * 3 / 2), ms_text(tolerance)),
            observed, frames);
  run.check("R6081-5.1.1-03", "refresh_randomization_choice_invalid", true,
            "the randomized interval from an implementation-chosen range (MAY): recorded", observed, frames);
  run.check("R4380-5.2.5-01", "refresh_rs_late", within,
            "with nothing from the server, a new RS no later than the refresh interval after the last interaction",
            observed, frames);
  // Same format as the qualification RS: to the primary:3544, link-local to ff02::2, same cone bit.
  const Seen& r1 = refresh.front();
  bool same = false;
  std::string format_text = describe(r1);
  if (r1.datagram && qualifying_rs.datagram) {
    const auto& h = r1.datagram->ipv6.header;
    same = r1.carrier.destination4 == kit::ipv4(kServer) && r1.carrier.destination_port == kTeredoPort &&
           h.source.is_link_local() && h.destination == kit::ipv6("ff02::2");
  }
  run.check("R4380-5.2.5-02", "refresh_rs_not_built_as_qualification", same,
            "the refresh RS built as in §5.2.1: to 203.0.113.1:3544, fe80::/64 -> ff02::2", format_text,
            {lan(qualifying_rs.frame), lan(r1.frame)});
  const bool cone_q = qualifying_rs.datagram && (flags_of(qualifying_rs.datagram->ipv6.header.source) & kFlagCone);
  const bool cone_r = r1.datagram && (flags_of(r1.datagram->ipv6.header.source) & kFlagCone);
  run.check("R4380-5.2.5-03", "refresh_rs_cone_bit_changed", cone_q == cone_r,
            "the refresh RS with the cone bit that succeeded in qualification",
            fmt::format("qualifying RS cone bit {} (lan frame {}), refresh RS cone bit {} (lan frame {})",
                        cone_q ? 1 : 0, qualifying_rs.frame, cone_r ? 1 : 0, r1.frame),
            {lan(qualifying_rs.frame), lan(r1.frame)});
}

// R6081-5.1.1-02: the IUT runs with its default timers (the adapter's
// default_timers launch); the gap from the qualifying RA to the first
// refresh RS shows the default interval, 30 s, within the randomization
// RFC 6081 §5.1.1 allows (50-150 %).
void default_refresh(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const auto address = qualify(run, server, {"R6081-5.1.1-02"});
  if (!address) return;
  Capture& lan_capture = run.capture("lan");
  const auto ras = lan_capture.frames(ra_to_iut(lan_capture));
  if (ras.empty()) {
    run.inconclusive("R6081-5.1.1-02", "the qualifying RA is not in lan.pcap", "qualifying_ra_not_captured");
    return;
  }
  const CapturedFrame qualifying = ras.back();
  constexpr auto kDefault = 30000ms;
  const auto tolerance = 300ms + kDefault / 20;
  const auto refresh = wait_seen(run, iut_rs(lan_capture), kDefault * 3 / 2 + tolerance + 1000ms, qualifying.number);
  if (!refresh) {
    run.inconclusive("R6081-5.1.1-02",
                     fmt::format("no RS within {} of the qualifying RA (lan frame {}): no refresh "
                                 "interval to judge",
                                 ms_text(kDefault * 3 / 2 + tolerance + 1000ms), qualifying.number),
                     "no_refresh_rs");
    return;
  }
  const auto gap = since(qualifying.at, refresh->at);
  run.check("R6081-5.1.1-02", "default_refresh_interval_out_of_range",
            gap >= kDefault / 2 - tolerance && gap <= kDefault * 3 / 2 + tolerance,
            fmt::format("with default timers, the first refresh RS 15-45 s after the qualifying RA (the 30 s "
                        "default, randomized as RFC 6081 §5.1.1 allows; +-{})",
                        ms_text(tolerance)),
            fmt::format("{} ms (lan {}->{})", gap.count(), qualifying.number, refresh->frame),
            {lan(qualifying.number), lan(refresh->frame)});
}

void rebind(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.5-05", "R4380-5.2.5-06"};
  const auto first = qualify(run, server, reqs);
  if (!first) return;
  const auto old_mapping = server.mapping();
  const auto reply = run.lab().nat_command("nat", "rebind");
  run.info("NAT rebind: " + reply);
  const auto budget = t.refresh * 3 / 2 + 2 * t.retry + 2000ms;
  const auto start = Clock::now();
  std::optional<RsSeen> moved;
  for (int guard = 0; guard < 100000 && Clock::now() - start < budget && !moved; ++guard) {
    for (const auto& r : server.seen()) {
      if (old_mapping && !(r.from == *old_mapping) && r.answered) moved = r;
    }
    if (!moved) std::this_thread::sleep_for(50ms);
  }
  if (!moved) {
    for (const auto& r : reqs) {
      run.inconclusive(r,
                       fmt::format("no RS from a new mapping reached the server within {} after the NAT rebind",
                                   ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(budget))),
                       "no_rs_from_new_mapping");
    }
    return;
  }
  Capture& lan_capture = run.capture("lan");
  const auto new_ra = lan_capture.frames(ra_to_iut(lan_capture));
  const std::uint64_t ra_frame = new_ra.empty() ? 0 : new_ra.back().number;
  const auto second = wait_address(run, 2000ms, *first);
  App app(run);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  const Peer p = make_peer(run, kPeerA, 41501);
  std::string wire_story;
  const auto b = data_on_wire(run, app, p, moved->from, second ? *second : *first, marker("rebind", 1), wire_story);
  const std::string story = fmt::format(
      "old address {} (mapping {}); after the NAT rebind the RS came from {} and the RA (lan frame {}) gave that "
      "mapping; interface address now {}; the application's packet to a peer: {}",
      to_string(*first), old_mapping ? to_text(*old_mapping) : "?", to_text(moved->from), ra_frame,
      second ? to_string(*second) : "unchanged", wire_story);
  std::optional<TeredoAddress> parsed;
  if (b && b->datagram) {
    if (const auto r = parse_teredo(b->datagram->ipv6.header.source)) parsed = *r;
  }
  const bool uses_new = parsed && parsed->mapped_ipv4 == moved->from.address && parsed->mapped_port == moved->from.port;
  // Nothing from the old address after the new RA.
  std::optional<Seen> stale;
  for (const auto& s : all_seen(run, from_iut(lan_capture), ra_frame)) {
    if (s.datagram && s.datagram->ipv6.header.source == *first) {
      stale = s;
      break;
    }
  }
  if (!b || !b->datagram) {
    // No packet on the wire: the address in use cannot be read (silence).
    run.inconclusive("R4380-5.2.5-05",
                     "the application's packet produced no data packet to read the address in use from: " + story,
                     "no_data_packet_sent");
    if (stale) {
      run.check("R4380-5.2.5-06", "old_address_not_invalidated", false,
                "the old address invalidated: no packet from " + to_string(*first) + " after the new RA",
                "still used: " + describe(*stale), lan_frames({ra_frame, stale->frame}));
    } else {
      run.inconclusive("R4380-5.2.5-06", "no packet after the new RA to read a source address from: " + story,
                       "no_data_packet_sent");
    }
    return;
  }
  run.check("R4380-5.2.5-05", "new_mapping_not_used", uses_new,
            "the mapping in the refresh RA compared with the address in use: the new mapping " + to_text(moved->from) +
                " is embedded in the address used from then on",
            story, lan_frames({ra_frame, b ? b->frame : 0}));
  run.check("R4380-5.2.5-06", "old_address_not_invalidated", uses_new && !stale,
            "the old address invalidated: no packet from " + to_string(*first) + " after the new RA",
            stale ? "still used: " + describe(*stale) : story, lan_frames({ra_frame, stale ? stale->frame : 0}));
}

void random_flags(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R5991-3.1-02", "R5991-3.1-03", "R5991-3.1-01"};
  const auto first = qualify(run, server, reqs);
  if (!first) return;
  const auto mapping = server.mapping();
  // Every refresh RA gives a new mapping (another port of the NAT's address):
  // each is a new address with new random bits. Samples within ~60 s.
  const long samples = std::clamp<long>(1 + 60000 / std::max<long>(1, t.refresh.count()), 3, 5);
  std::vector<Ipv6Address> addresses = {*first};
  for (long i = 1; i < samples; ++i) {
    server.set_default(RaPlan{.origin = Endpoint{mapping->address, static_cast<std::uint16_t>(50000 + i)}});
    const auto next = wait_address(run, t.refresh * 3 / 2 + 2 * t.retry + 1000ms, addresses.back());
    if (!next) break;
    addresses.push_back(*next);
  }
  if (addresses.size() < 3) {
    for (const auto& r : reqs) {
      run.inconclusive(r,
                       fmt::format("only {} address(es) within the time budget after giving new mappings in the "
                                   "refresh RAs: too few samples",
                                   addresses.size()),
                       "too_few_address_samples");
    }
    return;
  }
  std::string text;
  std::set<std::uint16_t> r1, r2;
  bool z_ok = true;
  for (const auto& a : addresses) {
    const std::uint16_t f = flags_of(a);
    text += fmt::format("{}{} (flags {:04x})", text.empty() ? "" : ", ", to_string(a), f);
    r1.insert(f & 0x3C00);
    r2.insert(f & 0x00FF);
    if (f & kFlagReserved) z_ok = false;
  }
  const std::string observed = fmt::format("{} addresses (adapter address probe; mappings changed by the played "
                                           "server's refresh RAs): {}",
                                           addresses.size(), text);
  run.check("R5991-3.1-02", "random1_bits_constant", r1.size() > 1,
            "flag bits 2-5 (Random1, 0x3C00) random: not all equal across addresses", observed);
  run.check("R5991-3.1-03", "random2_bits_constant", r2.size() > 1,
            "flag bits 8-15 (Random2, 0x00FF) random: not all equal across addresses", observed);
  run.check("R5991-3.1-01", "z_flag_bit_set", z_ok, "flag bit 1 (z, 0x4000) zero in every address", observed);
}

// R5991-4-01: Random1 and Random2 "MUST be generated ... as specified in
// [RFC4086]" (cryptographically sound). No finite sample proves that; what a
// sample can show is a generator that is not random at all: a stuck bit, a
// counter, a repeated value, a skewed one. The IUT is started kStarts times
// (each start a new address), and its 12 random bits are tested for those.
void random_bits_statistics(CaseRun& run) {
  const Timers t = timers(run);
  constexpr int kStarts = 24;
  constexpr auto kBudget = 150s;
  std::vector<std::uint16_t> bits;  // flags & 0x3CFF of each start's address
  std::string text;
  const auto start = Clock::now();
  for (int i = 0; i < kStarts && Clock::now() - start < kBudget; ++i) {
    if (i > 0) run.restart_iut();
    const auto a = wait_address(run, 3 * t.retry + 3000ms);
    if (!a) break;
    bits.push_back(static_cast<std::uint16_t>(flags_of(*a) & kFlagRandomMask));
    text += fmt::format("{}{:04x}", text.empty() ? "" : " ", bits.back());
  }
  const std::size_t n = bits.size();
  if (n < 12) {
    run.inconclusive("R5991-4-01",
                     fmt::format("only {} addresses from {} starts within {} s (at least 12 needed): {}", n, kStarts,
                                 kBudget.count(), text),
                     "too_few_address_samples");
    return;
  }
  // Distinct values: 12 bits give 4096; among 24 samples a second collision
  // has a probability under 0.3 %.
  const std::size_t distinct = std::set<std::uint16_t>(bits.begin(), bits.end()).size();
  // Every one of the 12 bit positions takes both values (a stuck bit: 2^-23).
  std::vector<int> stuck;
  int ones = 0;
  for (int b = 0; b < 16; ++b) {
    if (((kFlagRandomMask >> b) & 1) == 0) continue;
    const auto set = static_cast<std::size_t>(std::count_if(bits.begin(), bits.end(), [b](std::uint16_t v) {
      return ((v >> b) & 1) != 0;
    }));
    ones += static_cast<int>(set);
    if (set == 0 || set == n) stuck.push_back(b);
  }
  // Monobit: the ones among 12n bits within 5 standard deviations of 6n.
  const double mean = 6.0 * static_cast<double>(n), sigma = std::sqrt(3.0 * static_cast<double>(n));
  const bool balanced = std::abs(ones - mean) <= 5 * sigma;
  // A counter: the same step between every two consecutive values.
  bool counter = true;
  for (std::size_t i = 2; i < n; ++i) {
    if (static_cast<std::uint16_t>(bits[i] - bits[i - 1]) != static_cast<std::uint16_t>(bits[1] - bits[0])) {
      counter = false;
    }
  }
  std::string stuck_text;
  for (const int b : stuck) stuck_text += fmt::format("{}0x{:04x}", stuck_text.empty() ? "" : " ", 1u << b);
  run.check("R5991-4-01", "random_bits_not_random", distinct + 1 >= n && stuck.empty() && balanced && !counter,
            "random bits that look random over the starts: at most one repeated value, no stuck bit, ones within "
            "5 sigma of half, not a counter (a cryptographically sound generator passes; this cannot prove one)",
            fmt::format("{} starts, flags & 0x3CFF: {}; {} distinct; stuck bits: {}; {} ones of {} (expected {:.0f} "
                        "+- {:.0f}); {}",
                        n, text, distinct, stuck.empty() ? "none" : stuck_text, ones, 12 * n, mean, 5 * sigma,
                        counter ? "a constant step between values (a counter)" : "no constant step"));
}

void invalid_ra_during_maintenance(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.5-04"};
  const auto first = qualify(run, server, reqs);
  if (!first) return;
  const std::size_t before = server.seen().size();
  // The next (refresh) RS gets an RA without origin indication; later ones valid RAs.
  server.push(RaPlan{.fault = RaFault::no_origin});
  const auto budget = t.refresh * 3 / 2 + t.retry + 1000ms;
  if (!server.wait_rs(before + 1, std::chrono::duration_cast<std::chrono::milliseconds>(budget))) {
    run.inconclusive(
        reqs[0],
        fmt::format("no refresh RS within {}", ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(budget))),
        "no_refresh_rs");
    return;
  }
  Capture& lan_capture = run.capture("lan");
  std::this_thread::sleep_for(100ms);
  const auto ras = lan_capture.frames(ra_to_iut(lan_capture));
  const std::uint64_t bad_ra = ras.empty() ? 0 : ras.back().number;
  // Dropped: the IUT keeps its address and repeats the RS within ~T.
  const auto retry = wait_seen(run, iut_rs(lan_capture), 2 * t.retry + 1000ms, bad_ra);
  const auto still = iut_address(run);
  const std::string observed = fmt::format(
      "refresh RS answered by an RA without origin indication (lan frame {}); then {}; address {}", bad_ra,
      retry ? "the RS repeated: " + describe(*retry) : "no RS within " + ms_text(2 * t.retry + 1000ms),
      still ? to_string(*still) : "gone");
  if (!retry && still && *still == *first) {
    run.inconclusive("R4380-5.2.5-04",
                     observed +
                         ": the address kept, but no RS followed to show the RA was not "
                         "taken: the silence proves nothing",
                     "no_rs_after_invalid_ra");
    return;
  }
  run.check("R4380-5.2.5-04", "invalid_ra_not_dropped", retry.has_value() && still && *still == *first,
            "the invalid RA silently dropped: the old address kept (" + to_string(*first) + ") and the RS repeated",
            observed, lan_frames({bad_ra, retry ? retry->frame : 0}));
}

void server_traffic_postpones_refresh(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R4380-5.2.3-03"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  Capture& lan_capture = run.capture("lan");
  (void)run.udp_socket("server", kPeerA, 41601);
  const std::uint64_t start_mark = lan_mark(run);
  // Every third of the refresh interval the server forwards a bubble (with
  // origin indication) for 1.6 refresh intervals: longer than any allowed
  // randomized interval (at most 1.5 I, RFC 6081).
  const Ipv6Address peer = kit::teredo_address(kPeerServer, 0, kPeerA, 41601);
  const auto window = t.refresh * 8 / 5;
  const auto step = t.refresh / 3;
  const auto start = Clock::now();
  int sent = 0;
  for (int guard = 0; guard < 1000 && Clock::now() - start < window; ++guard) {
    ByteVector payload;
    (void)append_datagram(payload, std::nullopt, OriginIndication{41601, kit::ipv4(kPeerA)},
                          kit::bubble_packet(peer, *address));
    server.send_from_primary(*mapping, payload);
    ++sent;
    const auto next = start + step * sent;
    while (Clock::now() < next && Clock::now() - start < window) std::this_thread::sleep_for(20ms);
  }
  const auto rss = rs_after(run, start_mark);
  const auto from_server = lan_capture.frames(ra_to_iut(lan_capture), start_mark);
  if (!rss.empty()) {
    // RFC 6081 §5.1.1 lets a client send extra RSs whenever it likes: an RS
    // here does not show that the server's packets were ignored.
    const std::string observed = fmt::format("an RS {} ms after the server traffic started, {} server datagrams "
                                             "reached the IUT: {}",
                                             since(start, rss.front().at).count(), from_server.size(),
                                             describe(rss.front()));
    run.inconclusive("R4380-5.2.3-03",
                     observed +
                         "; RFC 6081 §5.1.1 allows extra RSs at any time (R6081-5.1.1-05), "
                         "so this proves nothing about the last-interaction time",
                     "extra_rs_allowed_by_rfc6081");
    run.check("R6081-5.1.1-05", "extra_rs_choice_invalid", true,
              "extra RSs at implementation-chosen times are allowed (MAY): recorded", observed,
              lan_frames({rss.front().frame}));
    return;
  }
  run.check("R4380-5.2.3-03", "refresh_rs_despite_server_traffic", rss.empty(),
            fmt::format("packets from 203.0.113.1:3544 every {} refresh the last-interaction time: no refresh RS in "
                        "{} (1.6 x the declared refresh_interval {})",
                        ms_text(step), ms_text(window), ms_text(t.refresh)),
            rss.empty() ? fmt::format("no RS; {} server datagrams reached the IUT", from_server.size())
                        : fmt::format("an RS {} ms after the server traffic started: {}",
                                      since(start, rss.front().at).count(), describe(rss.front())),
            rss.empty() ? lan_frames({from_server.empty() ? 0 : from_server.front().number})
                        : lan_frames({rss.front().frame}));
}

}  // namespace

TEREDO_CASE({
    .id = "client.maintenance.invalid-ra-ignored",
    .title = "During maintenance an invalid RA (no origin indication) is dropped and the RS repeated",
    .description = "After qualification the next refresh RS is answered with an RA without origin indication, "
                   "later ones with valid RAs.",
    .judgement = "The RS repeated within 2 qualification_retry + 1 s and the address unchanged.",
    .role = "client",
    .requirements = {"R4380-5.2.5-04"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = invalid_ra_during_maintenance,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.maintenance.server-traffic-postpones-refresh",
    .title = "Packets from the server refresh the last-interaction time: no refresh RS while they come",
    .description = "After qualification the played server forwards a bubble (origin indication of a peer) to the "
                   "IUT every third of refresh_interval, for 1.6 refresh intervals.",
    .judgement = "No RS from the IUT during that window. An RS there is inconclusive (RFC 6081 §5.1.1 allows extra "
                 "RSs at any time) and recorded for R6081-5.1.1-05.",
    .role = "client",
    .requirements = {"R4380-5.2.3-03", "R6081-5.1.1-05"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = server_traffic_postpones_refresh,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.maintenance.refresh-interval",
    .title = "Refresh RSs at the randomized refresh interval, in the qualification format",
    .description = "After qualification the played server answers every RS and sends nothing else. The case waits "
                   "for two refresh RSs (at most 2 x (1.5 refresh_interval + qualification_retry), capped at 65 s).",
    .judgement = "Each gap from the RA to the next RS within 75-100 % of the declared refresh_interval (RFC 4380) "
                 "and within 50-150 % (RFC 6081), tolerance 300 ms + 5 %; the refresh RS goes to 203.0.113.1:3544 "
                 "from a link-local source to ff02::2 with the qualifying cone bit.",
    .role = "client",
    .requirements = {"R4380-5.2-07", "R4380-5.2.5-01", "R4380-5.2.5-02", "R4380-5.2.5-03", "R6081-5.1.1-04",
                     "R6081-5.1.1-03"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = refresh_interval,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.maintenance.default-refresh-interval",
    .title = "RFC 6081 §5.1.1: the default refresh interval is 30 s",
    .description = "The IUT starts with every timer at its default (the adapter's default_timers launch, or its "
                   "plain one when that already runs the defaults). After qualification the played server "
                   "answers RSs and sends nothing else; the case waits for the first refresh RS (up to about 47 s).",
    .judgement = "The gap from the qualifying RA to the first refresh RS within 15-45 s (30 s, randomized within "
                 "RFC 6081's 50-150 %), tolerance 300 ms + 5 %.",
    .role = "client",
    .requirements = {"R6081-5.1.1-02"},
    .capabilities = {"default_timers"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = default_refresh,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.maintenance.rebind-new-address",
    .title = "After a NAT rebind the refresh RA's new mapping gives a new address; the old one is dropped",
    .description = "After qualification the NAT rebinds (new outside port). The next refresh RS arrives from a new "
                   "mapping and the played server's RA says so. Then the application sends to a Teredo peer.",
    .judgement = "The application's next packet (sent after the peer answered the IUT's bubble) comes from an "
                 "address embedding the new mapping; no packet from the old address after the new RA.",
    .role = "client",
    .requirements = {"R4380-5.2.5-05", "R4380-5.2.5-06"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = rebind,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.rfc5991.random-bits-statistics",
    .title = "RFC 5991 §4: the random flag bits pass basic randomness checks over 24 starts",
    .description = "The IUT is started 24 times (at most 150 s); after each start the adapter's address probe "
                   "gives its Teredo address, whose flags carry 12 random bits (Random1 0x3C00, Random2 0x00FF).",
    .judgement = "At most one repeated 12-bit value, every bit position both 0 and 1, the ones within 5 sigma of "
                 "half, and no constant step between consecutive values. A generator that fails is not "
                 "cryptographically sound; one that passes may still not be (recorded in the expectation).",
    .role = "client",
    .requirements = {"R5991-4-01"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = random_bits_statistics,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.rfc5991.random-flags",
    .title = "RFC 5991: the twelve random flag bits vary from address to address, z stays 0",
    .description = "After qualification every refresh RA gives another mapping, so the IUT builds a new address "
                   "each time: 3 to 5 addresses within about 60 s (derived from refresh_interval), read by the "
                   "adapter's address probe.",
    .judgement = "Random1 (0x3C00) and Random2 (0x00FF) not constant across the addresses; z (0x4000) zero.",
    .role = "client",
    .requirements = {"R5991-3.1-02", "R5991-3.1-03", "R5991-3.1-01"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = random_flags,
    .before_iut = open_played_server,
});

}  // namespace teredo::conformance::client
