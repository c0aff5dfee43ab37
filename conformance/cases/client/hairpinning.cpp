// RFC 6081 §5.6 Hairpinning Extension (its UPnP parts, §5.6.3 and
// R6081-5.6.4.1-03, are upnp_hairpinning.cpp's) with the Alternate Address
// Trailer (§4.3).
// Every case needs the "hairpinning" capability (its launch variant). The
// NAT is the default port-restricted cone one with hairpinning off, so two
// clients behind it reach each other only at their local addresses: the
// peer "behind the same NAT" is played by lanpeer (192.0.2.20, on the IUT's
// LAN) with a Teredo address that embeds the NAT's outside address. What the
// IUT sends is judged from the lan capture, by content (nonce, destination
// address and port, marker).
#include <fmt/format.h>

#include <thread>

#include "cases/client/client_driver.hpp"
#include "cases/client/extension_trailers.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kSilence{1000};
constexpr std::chrono::milliseconds kReplyTimeout{1500};

Endpoint endpoint(const std::string& address, std::uint16_t port) { return {kit::ipv4(address), port}; }

// Sends from a lanpeer socket; returns the frame in the lan capture (0: not seen).
std::uint64_t lan_send(CaseRun& run, const kit::Peer& from, Bytes payload, const Endpoint& to) {
  return kit::send_from(run, "lan", from, payload, to_string(to.address), to.port).frame;
}

// A valid unicast IPv4 address for R6081-4.3-07: not "this network",
// loopback, multicast or broadcast (private and link-local addresses are
// what a local address behind a NAT usually is).
bool valid_unicast(Ipv4Address a) {
  const Ipv4Scope scope = classify_ipv4(a);
  return scope == Ipv4Scope::global_unicast || scope == Ipv4Scope::private_use || scope == Ipv4Scope::link_local ||
         scope == Ipv4Scope::relay_anycast;
}

// ---------------------------------------------------------------------------
// §5.6.4.1 and §4.3: the indirect bubble the IUT sends for a peer it has no
// communication with.

void indirect_bubble_carries_trailers(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> trailer_reqs = {"R6081-5.6.4.1-01", "R6081-5.6.4.1-02", "R6081-5.6.4.1-04",
                                                 "R6081-4.3-02",     "R6081-4.3-03",     "R6081-4.3-04",
                                                 "R6081-4.3-05",     "R6081-4.3-06",     "R6081-4.3-07",
                                                 "R6081-4.3-08"};
  std::vector<std::string> reqs = trailer_reqs;
  reqs.push_back("R6081-4.3-01");
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  App app(run);
  const Peer p = make_peer(run, kPeerA, 41601);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  Capture& lan_capture = run.capture("lan");
  const std::uint64_t before = lan_mark(run);
  const std::string m = marker("hairpin", 1);
  std::string error;
  if (!app.send(p.teredo, kit::bytes_of(m.c_str()), &error)) {
    for (const auto& r : reqs) run.inconclusive(r, "the application could not send: " + error, "application_send_refused");
    return;
  }
  const FrameMatch bubble = iut_bubble_for(lan_capture, p.teredo);
  const Endpoint peer_server = endpoint(kPeerServer, kTeredoPort);
  (void)wait_seen(run, [&](const CapturedFrame& f) {
    const auto s = parse_seen(f, lan_capture.link_type());
    return bubble(f) && s && to_endpoint(*s, peer_server);
  }, t.bubble + 1500ms, before);
  std::optional<Seen> indirect;
  for (auto& b : all_seen(run, bubble, before)) {
    if (to_endpoint(b, peer_server)) {
      indirect = std::move(b);
      break;
    }
  }
  if (!indirect) {
    for (const auto& r : trailer_reqs) {
      run.inconclusive(r,
                       fmt::format("the application's packet to the Teredo peer {} (no communication established) "
                                   "produced no indirect bubble to its server {}:3544 within {}: no indirect bubble "
                                   "to read",
                                   to_string(p.teredo), kPeerServer, ms_text(t.bubble + 1500ms)),
                       "no_indirect_bubble");
    }
  } else {
    const std::vector<FrameRef> frames = {lan(indirect->frame)};
    const auto list = trailers::read(*indirect);
    const std::string seen = fmt::format("{}: trailers {}", describe(*indirect), trailers::text(list));
    const Endpoint local{kit::ipv4(kClientLan), indirect->carrier.source_port};
    const auto nonce = trailers::nonce_of(*indirect);
    const auto alternate = trailers::find(*indirect, trailers::kAlternateAddress);
    // "If communication between a Teredo client and a Teredo peer has not
    // been established, the Teredo client MUST include the Alternate Address
    // Trailer in the indirect bubble."
    run.check("R6081-5.6.4.1-01", "no_alternate_address_trailer", alternate.has_value(),
              "the first indirect bubble for a new peer carries an Alternate Address Trailer (type 0x03)", seen, frames);
    // "Hence, the indirect bubble MUST also include a Nonce Trailer."
    run.check("R6081-5.6.4.1-04", "no_nonce_trailer", nonce.has_value(),
              "the indirect bubble carries a Nonce Trailer (type 0x01, length 4)", seen, frames);
    if (!alternate) {
      for (const auto& r : trailer_reqs) {
        if (r == "R6081-5.6.4.1-01" || r == "R6081-5.6.4.1-04") continue;
        run.inconclusive(r, "no Alternate Address Trailer to read: " + seen, "no_alternate_address_trailer");
      }
    } else {
      const ByteVector& v = alternate->value;
      // "Type (1 byte): The Trailer Option type. This field MUST be set to 0x03."
      run.check("R6081-4.3-02", "alternate_address_type_wrong", true,
                "the alternate address/port list in a trailer of type 0x03", seen, frames);
      // "The value of this field MUST be in the range 8 to 26 ... the valid
      // range of values is only 8, 14, 20, and 26."
      const bool length_ok = v.size() == 8 || v.size() == 14 || v.size() == 20 || v.size() == 26;
      run.check("R6081-4.3-03", "alternate_address_length_invalid", length_ok,
                "Length 8, 14, 20 or 26 (2 reserved bytes and 1 to 4 entries of 6 bytes)",
                fmt::format("Length {}; {}", v.size(), seen), frames);
      // "It SHOULD be at most 14."
      run.check("R6081-4.3-04", "alternate_address_length_over_14", v.size() <= 14,
                "Length at most 14 (a local address/port and a UPnP one at most)",
                fmt::format("Length {}", v.size()), frames);
      // "Reserved (2 bytes): This field MUST be set to 0x0000."
      const bool reserved_ok = v.size() >= 2 && v[0] == 0 && v[1] == 0;
      run.check("R6081-4.3-05", "alternate_address_reserved_not_zero", reserved_ok, "Reserved 0x0000",
                v.size() >= 2 ? fmt::format("Reserved {:02x}{:02x}", v[0], v[1]) : "no Reserved field", frames);
      std::vector<Endpoint> entries;
      for (std::size_t i = 2; i + 6 <= v.size(); i += 6) {
        entries.push_back({Ipv4Address{(std::uint32_t{v[i]} << 24) | (std::uint32_t{v[i + 1]} << 16) |
                                       (std::uint32_t{v[i + 2]} << 8) | v[i + 3]},
                           static_cast<std::uint16_t>((v[i + 4] << 8) | v[i + 5])});
      }
      std::string entries_text;
      bool all_unicast = true, all_ports = true, has_local = false;
      for (const auto& e : entries) {
        entries_text += (entries_text.empty() ? "" : ", ") + to_text(e);
        all_unicast = all_unicast && valid_unicast(e.address);
        all_ports = all_ports && e.port != 0;
        has_local = has_local || e == local;
      }
      if (entries_text.empty()) entries_text = "no entry";
      // "Each alternate address/port entry MUST be formatted as follows:"
      // (4 bytes of IPv4 address, 2 of port, network byte order): the
      // IUT's own local address/port read back from the list is that format.
      run.check("R6081-4.3-06", "alternate_address_entry_format", length_ok && has_local,
                fmt::format("entries of 6 bytes, IPv4 address then port in network byte order; one of them reads "
                            "as the IUT's local {} (the source of its datagrams on the LAN)",
                            to_text(local)),
                "entries " + entries_text, frames);
      // "The Alternate Address Trailer MUST include the node's local address/port."
      run.check("R6081-5.6.4.1-02", "local_address_port_not_advertised", has_local,
                fmt::format("the list includes the IUT's local address/port {}", to_text(local)),
                "entries " + entries_text, frames);
      // "IPv4 Address ... MUST contain a valid unicast address." / "Port ... MUST NOT be zero."
      run.check("R6081-4.3-07", "alternate_address_not_unicast", !entries.empty() && all_unicast,
                "every entry's address a valid unicast one", "entries " + entries_text, frames);
      run.check("R6081-4.3-08", "alternate_port_zero", !entries.empty() && all_ports, "every entry's port non-zero",
                "entries " + entries_text, frames);
    }
  }
  // Communication established: the peer's direct bubble from its mapping
  // releases the packet, and the application sends once more.
  if (mapping) {
    const std::uint64_t before_answer = lan_mark(run);
    (void)send_from(run, p, kit::bubble_packet(p.teredo, *address), *mapping);
    (void)wait_seen(run, iut_containing(lan_capture, m), kReplyTimeout, before_answer);
    const std::string m2 = marker("hairpin", 2);
    (void)app.send(p.teredo, kit::bytes_of(m2.c_str()));
    (void)wait_seen(run, iut_containing(lan_capture, m2), kReplyTimeout, before_answer);
  }
  // "The Alternate Address Trailer MUST NOT be present in any packets other
  // than indirect bubbles sent by a Teredo client": every datagram the IUT
  // sent in the case (RSs, direct bubbles, data), read for it.
  std::size_t others = 0;
  std::optional<Seen> offending;
  for (auto& s : all_seen(run, from_iut(lan_capture), 0)) {
    if (!s.datagram) continue;
    const bool indirect_bubble = is_bubble(s.datagram->ipv6) && s.carrier.destination_port == kTeredoPort &&
                                 s.carrier.destination4 == kit::ipv4(kPeerServer);
    if (indirect_bubble) continue;
    ++others;
    if (!offending && trailers::find(s, trailers::kAlternateAddress)) offending = std::move(s);
  }
  if (others == 0) {
    run.inconclusive("R6081-4.3-01", "no datagram from the IUT other than indirect bubbles to read", "nothing_sent");
  } else {
    run.check("R6081-4.3-01", "alternate_address_trailer_elsewhere", !offending,
              "no Alternate Address Trailer on anything but an indirect bubble (RSs, direct bubbles, data)",
              offending ? "carried by " + describe(*offending)
                        : fmt::format("none in the {} other datagrams the IUT sent (RSs, direct bubbles, data)", others),
              offending ? std::vector<FrameRef>{lan(offending->frame)} : std::vector<FrameRef>{});
  }
}

// ---------------------------------------------------------------------------
// §5.6.4.2: an indirect bubble with an Alternate Address Trailer, from a peer
// behind the same NAT, through the IUT's own server.

void alternates_bubbled(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R6081-5.6.4.2-01", "R6081-5.6.4.2-02", "R6081-5.6.4.2-03",
                                         "R6081-5.6.4.2-04"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  if (!mapping) {
    for (const auto& r : reqs) run.inconclusive(r, "no mapping of the IUT known to its server", "no_mapping");
    return;
  }
  Capture& lan_capture = run.capture("lan");
  // The peer: Teredo address of the IUT's server embedding the NAT's outside
  // address (it sits behind the same NAT); its local endpoints on lanpeer.
  const Endpoint outside = endpoint(kNatOutside, 41650);
  const Ipv6Address q = kit::teredo_address(kServer, 0, kNatOutside, outside.port);
  const Endpoint alt1 = endpoint(kLanPeer, 41651), alt2 = endpoint(kLanPeer, 41652), bad = endpoint(kLanPeer, 41653);
  for (const auto& e : {alt1, alt2, bad}) (void)run.udp_socket("lanpeer", kLanPeer, e.port);
  const FrameMatch bubbles = iut_bubble_for(lan_capture, q);
  constexpr std::uint32_t kNonceMalformed = 0x5a6b7c01, kNonceValid = 0x5a6b7c02;

  // 1. A malformed trailer: Length 10 (not 8, 14, 20 or 26).
  ByteVector malformed_trailer;
  trailers::append_nonce(malformed_trailer, kNonceMalformed);
  trailers::append_alternates(malformed_trailer, {bad}, 10);
  const std::uint64_t before1 = lan_mark(run);
  server.send_from_primary(*mapping, trailers::datagram(kit::bubble_packet(q, *address), malformed_trailer, outside));
  std::this_thread::sleep_for(kSilence);
  const std::uint64_t before2 = lan_mark(run);
  std::optional<Seen> reaction1;
  for (auto& s : all_seen(run, bubbles, before1)) {
    if (s.frame <= before2) {
      reaction1 = std::move(s);
      break;
    }
  }
  // 2. The same peer, well formed: Length 14, two alternates.
  ByteVector valid_trailer;
  trailers::append_nonce(valid_trailer, kNonceValid);
  trailers::append_alternates(valid_trailer, {alt1, alt2}, 14);
  server.send_from_primary(*mapping, trailers::datagram(kit::bubble_packet(q, *address), valid_trailer, outside));
  (void)wait_seen(run, [&](const CapturedFrame& f) {
    const auto s = parse_seen(f, lan_capture.link_type());
    return bubbles(f) && s && to_endpoint(*s, alt2);
  }, kReplyTimeout, before2);
  std::this_thread::sleep_for(300ms);
  const auto reaction2 = all_seen(run, bubbles, before2);
  std::optional<Seen> to_outside, to_alt1, to_alt2;
  std::vector<FrameRef> frames2;
  std::string seen2;
  bool nonces_ok = true;
  for (const auto& s : reaction2) {
    frames2.push_back(lan(s.frame));
    const auto n = trailers::nonce_of(s);
    nonces_ok = nonces_ok && n == kNonceValid;
    seen2 += (seen2.empty() ? "" : "; ") + describe(s) + " with " + trailers::text(trailers::read(s));
    if (!to_outside && to_endpoint(s, outside)) to_outside = s;
    if (!to_alt1 && to_endpoint(s, alt1)) to_alt1 = s;
    if (!to_alt2 && to_endpoint(s, alt2)) to_alt2 = s;
  }
  const std::string sent2 = fmt::format(
      "an indirect bubble from {} (origin {}) through 203.0.113.1 with nonce {:08x} and alternates {}, {}",
      to_string(q), to_text(outside), kNonceValid, to_text(alt1), to_text(alt2));
  const std::optional<std::string> control_failure =
      reaction2.empty() ? std::optional<std::string>("the well-formed indirect bubble from the same peer got no "
                                                     "direct bubble either within " +
                                                     ms_text(kReplyTimeout + 300ms))
                        : std::nullopt;
  // "it SHOULD first verify that the Alternate Address Trailer is correctly
  // formed (as specified in Section 4.3), and drop the bubble if not."
  {
    const kit::Probe probe{.what = fmt::format("an indirect bubble from {} with nonce {:08x} and an Alternate Address "
                                               "Trailer of Length 10",
                                               to_string(q), kNonceMalformed),
                           .sent = {},
                           .capture = "lan",
                           .after = before1,
                           .reaction = {},
                           .expected = "dropped: no direct bubble to the peer before the well-formed one",
                           .code = "malformed_alternate_trailer_processed"};
    std::optional<kit::Reaction> reaction;
    if (reaction1) reaction = kit::Reaction{reaction1->frame, describe(*reaction1)};
    kit::record(run, kit::judge_silence({"R6081-5.6.4.2-01"}, {probe}, {reaction}, true, control_failure, kSilence));
  }
  if (reaction2.empty()) {
    for (const char* r : {"R6081-5.6.4.2-02", "R6081-5.6.4.2-03", "R6081-5.6.4.2-04"}) {
      run.inconclusive(r, sent2 + ": no direct bubble for the peer within " + ms_text(kReplyTimeout + 300ms) +
                              ": the silence proves nothing",
                       "indirect_bubble_unanswered");
    }
    return;
  }
  // "it MUST set the Alternate Address/Port list in its Peer Entry to the
  // list in the trailer" (seen through its use) / "MUST also send a direct
  // bubble to each mapped address/port advertised in the Alternate Address
  // Trailer."
  const bool each = to_alt1 && to_alt2;
  const std::string observed = sent2 + "; then " + seen2;
  run.check("R6081-5.6.4.2-02", "alternate_list_not_kept", each,
            "the list taken from the trailer: direct bubbles went to both of its entries", observed, frames2);
  run.check("R6081-5.6.4.2-03", "alternate_address_not_bubbled", each && to_outside,
            fmt::format("direct bubbles to the mapped address/port the peer's address embeds ({}) and to each "
                        "advertised address/port ({}, {})",
                        to_text(outside), to_text(alt1), to_text(alt2)),
            observed, frames2);
  // "In each of the direct bubbles, the Teredo client MUST include a Nonce
  // Trailer with the nonce value received in the indirect bubble."
  run.check("R6081-5.6.4.2-04", "direct_bubble_nonce_wrong", nonces_ok,
            fmt::format("every direct bubble for the peer carries a Nonce Trailer with {:08x}", kNonceValid), observed,
            frames2);
}

// ---------------------------------------------------------------------------
// §5.6.4.3: which direct bubbles the IUT accepts while it waits for a peer.

void direct_bubble_acceptance(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> reqs = {"R6081-5.6.4.3-02", "R6081-5.6.4.3-03", "R6081-5.6.4.3-01"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto mapping = server.mapping();
  App app(run);
  Capture& lan_capture = run.capture("lan");
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  // The peer behind the same NAT: its Teredo address embeds the NAT's
  // outside address (unreachable: the NAT does not hairpin); it answers from
  // lanpeer, from three ports so each bubble's effect is told by where the
  // released packet goes.
  const Endpoint outside = endpoint(kNatOutside, 41670);
  const Ipv6Address q = kit::teredo_address(kPeerServer, 0, kNatOutside, outside.port);
  kit::Peer wrong = kit::make_peer(run, "lanpeer", kLanPeer, 41671, kPeerServer);
  kit::Peer right = kit::make_peer(run, "lanpeer", kLanPeer, 41672, kPeerServer);
  kit::Peer plain = kit::make_peer(run, "lanpeer", kLanPeer, 41673, kPeerServer);
  wrong.teredo = right.teredo = plain.teredo = q;
  const std::uint64_t before = lan_mark(run);
  const std::string m = marker("hairpin", 3);
  std::string error;
  if (!app.send(q, kit::bytes_of(m.c_str()), &error)) {
    for (const auto& r : reqs) run.inconclusive(r, "the application could not send: " + error, "application_send_refused");
    return;
  }
  const Endpoint peer_server = endpoint(kPeerServer, kTeredoPort);
  const FrameMatch bubble = iut_bubble_for(lan_capture, q);
  const auto is_indirect = [&](const CapturedFrame& f) {
    const auto s = parse_seen(f, lan_capture.link_type());
    return bubble(f) && s && to_endpoint(*s, peer_server);
  };
  const auto indirect = wait_seen(run, is_indirect, t.bubble + 1500ms, before);
  const auto nonce_seen = indirect ? trailers::nonce_of(*indirect) : std::nullopt;
  const std::uint32_t nonce = nonce_seen.value_or(0);
  std::optional<std::string> skip;
  if (!indirect) {
    skip = fmt::format("the application's packet to {} produced no indirect bubble to {}:3544 within {}",
                       to_string(q), kPeerServer, ms_text(t.bubble + 1500ms));
  } else if (!nonce_seen) {
    skip = "the indirect bubble carried no Nonce Trailer (" + describe(*indirect) +
           "): there is no Nonce Sent for a bubble to match (R6081-5.6.4.1-04 is judged by "
           "client.hairpinning.indirect-bubble)";
  }
  std::optional<Seen> released;
  std::uint64_t f_wrong = 0, f_plain = 0, f_right = 0;
  bool stale = false;
  if (!skip) {
    // To the IUT's local address/port, straight over the LAN: a wrong nonce,
    // no nonce, then the nonce of the indirect bubble.
    const Endpoint iut_local{kit::ipv4(kClientLan), indirect->carrier.source_port};
    ByteVector t_wrong, t_right;
    trailers::append_nonce(t_wrong, nonce ^ 0x00000001);
    trailers::append_nonce(t_right, nonce);
    const ByteVector b = kit::bubble_packet(q, *address);
    const std::uint64_t before_pair = lan_mark(run);
    f_wrong = lan_send(run, wrong, trailers::datagram(b, t_wrong), iut_local);
    f_plain = lan_send(run, plain, b, iut_local);
    f_right = lan_send(run, right, trailers::datagram(b, t_right), iut_local);
    released = wait_seen(run, iut_containing(lan_capture, m), kReplyTimeout, before_pair);
    // A later indirect bubble before ours replaced the Nonce Sent.
    for (const auto& s : all_seen(run, is_indirect, indirect->frame)) {
      if (f_right == 0 || s.frame < f_right) stale = true;
    }
  }
  const Endpoint e_wrong = endpoint(kLanPeer, wrong.port), e_right = endpoint(kLanPeer, right.port),
                 e_plain = endpoint(kLanPeer, plain.port);
  const std::string story =
      skip ? *skip
           : fmt::format("indirect bubble {} (nonce {:08x}); from lanpeer to the IUT's local address: a direct bubble "
                         "from {} with nonce {:08x} (lan frame {}), one from {} without nonce (lan frame {}), one "
                         "from {} with nonce {:08x} (lan frame {}); the queued packet: {}",
                         describe(*indirect), nonce, to_text(e_wrong), nonce ^ 1u, f_wrong, to_text(e_plain),
                         f_plain, to_text(e_right), nonce, f_right,
                         released ? describe(*released) : "not sent within " + ms_text(kReplyTimeout));
  const std::vector<FrameRef> frames =
      lan_frames({indirect ? indirect->frame : 0, f_wrong, f_plain, f_right, released ? released->frame : 0});

  // §5.6.4.3 first rule, with a peer whose address embeds its real mapping
  // (peer A): its direct bubble from there releases the packet. Also the
  // control of the rules above (the IUT is alive and processes bubbles).
  const Peer a = make_peer(run, kPeerA, 41674);
  std::string story_a;
  std::optional<Seen> released_a;
  if (mapping) released_a = data_on_wire(run, app, a, *mapping, *address, marker("hairpin", 4), story_a);
  const std::optional<std::string> control_failure =
      released_a ? std::nullopt
                 : std::optional<std::string>("the later exchange with peer A did not release its packet either (" +
                                              story_a + ")");

  if (skip) {
    for (const char* r : {"R6081-5.6.4.3-02", "R6081-5.6.4.3-03"}) run.inconclusive(r, *skip, "no_nonce_to_match");
  } else if (released && !to_endpoint(*released, e_right)) {
    // "If neither of the above rules match, the direct bubble MUST be dropped."
    run.check("R6081-5.6.4.3-03", "mismatched_direct_bubble_accepted", false,
              "the bubbles with a wrong nonce and without nonce dropped: the packet goes to neither of their ports",
              story, frames);
    run.inconclusive("R6081-5.6.4.3-02", "a dropped bubble was accepted first: " + story, "other_bubble_accepted");
  } else if (released) {
    run.check("R6081-5.6.4.3-03", "mismatched_direct_bubble_accepted", true,
              "the bubbles with a wrong nonce and without nonce dropped: the packet goes to neither of their ports",
              story, frames);
    // "If the mapped address/port does not match the embedded address/port,
    // but the direct bubble contains a Nonce Trailer with a nonce that
    // matches the Nonce Sent field of the Teredo peer, the direct bubble MUST
    // be accepted."
    run.check("R6081-5.6.4.3-02", "nonce_bubble_not_accepted", true,
              fmt::format("the bubble with the indirect bubble's nonce accepted: the packet goes to {}", to_text(e_right)),
              story, frames);
  } else if (stale) {
    for (const char* r : {"R6081-5.6.4.3-02", "R6081-5.6.4.3-03"}) {
      run.inconclusive(r, "the IUT sent a newer indirect bubble (a new Nonce Sent) before lanpeer's: " + story,
                       "nonce_superseded");
    }
  } else {
    kit::record(run, {kit::unanswered_judgement("R6081-5.6.4.3-02", story,
                                                "the bubble with the indirect bubble's nonce accepted, the packet "
                                                "released to it",
                                                frames, control_failure, "nonce_bubble_not_accepted", kReplyTimeout)});
    run.inconclusive("R6081-5.6.4.3-03", "no packet released at all: " + story, "nothing_released");
  }
  // "If the mapped address/port of the direct bubble matches the mapped
  // address/port embedded in the source Teredo IPv6 address, the direct
  // bubble MUST be accepted."
  if (released_a) {
    run.check("R6081-5.6.4.3-01", "embedded_mapping_bubble_not_accepted", to_endpoint(*released_a, endpoint(kPeerA, a.port)),
              "the direct bubble from the mapping peer A's address embeds accepted: its packet goes there", story_a,
              {lan(released_a->frame)});
  } else {
    run.inconclusive("R6081-5.6.4.3-01", story_a + ": the silence proves nothing", "packet_not_released");
  }
}

}  // namespace

TEREDO_CASE({
    .id = "client.hairpinning.indirect-bubble",
    .title = "Hairpinning: the indirect bubble carries a Nonce Trailer and the local address/port in an Alternate "
             "Address Trailer",
    .description = "NAT profile port-restricted cone. After qualification the application sends to a Teredo peer "
                   "(198.51.100.7, server 203.0.113.3) the IUT has no communication with; its indirect bubble to "
                   "203.0.113.3:3544 is read. The peer then answers with a direct bubble and the application sends "
                   "once more; every datagram the IUT sent in the case is read for an Alternate Address Trailer.",
    .judgement = "The indirect bubble carries a Nonce Trailer and an Alternate Address Trailer (type 3, Length 8/14/"
                 "20/26 and at most 14, Reserved 0) whose entries are valid unicast addresses with non-zero ports, "
                 "one of them the IUT's own local address/port; no other datagram carries that trailer.",
    .role = "client",
    .requirements = {"R6081-5.6.4.1-01", "R6081-5.6.4.1-02", "R6081-5.6.4.1-04", "R6081-4.3-01", "R6081-4.3-02",
                     "R6081-4.3-03", "R6081-4.3-04", "R6081-4.3-05", "R6081-4.3-06", "R6081-4.3-07",
                     "R6081-4.3-08"},
    .capabilities = {"hairpinning"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = indirect_bubble_carries_trailers,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.hairpinning.alternates-bubbled",
    .title = "Hairpinning: an indirect bubble's alternate addresses each get a direct bubble with its nonce; a "
             "malformed trailer drops the bubble",
    .description = "NAT profile port-restricted cone. After qualification the played server (203.0.113.1) sends "
                   "the IUT an indirect bubble from a peer behind the same NAT (its Teredo address embeds "
                   "198.51.100.1:41650, the origin indication too) with a Nonce Trailer and an Alternate Address "
                   "Trailer of Length 10 (malformed); 1 s later the same with another nonce and a well-formed "
                   "trailer listing 192.0.2.20:41651 and 192.0.2.20:41652 (lanpeer).",
    .judgement = "Nothing for the peer after the malformed one (SHOULD), the well-formed one answered (the control); "
                 "direct bubbles to 198.51.100.1:41650, 192.0.2.20:41651 and 192.0.2.20:41652, each with a Nonce "
                 "Trailer holding the received nonce.",
    .role = "client",
    .requirements = {"R6081-5.6.4.2-01", "R6081-5.6.4.2-02", "R6081-5.6.4.2-03", "R6081-5.6.4.2-04"},
    .capabilities = {"hairpinning"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = alternates_bubbled,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.hairpinning.direct-bubble-acceptance",
    .title = "Hairpinning: a direct bubble from elsewhere than the embedded mapping is accepted only with the nonce "
             "of the indirect bubble",
    .description = "NAT profile port-restricted cone (no hairpinning). The application sends to a peer behind the "
                   "same NAT (Teredo address embedding 198.51.100.1:41670, server 203.0.113.3); once the IUT's "
                   "indirect bubble is seen, lanpeer sends the IUT's local address direct bubbles from that peer: "
                   "from port 41671 with the nonce plus one, from 41673 without nonce, from 41672 with the "
                   "indirect bubble's nonce. Then peer A (198.51.100.7) gets a packet and answers the IUT's direct "
                   "bubble from its embedded mapping.",
    .judgement = "The queued packet goes to 192.0.2.20:41672 (the nonce-matching bubble accepted, the others "
                 "dropped: attributed by port); peer A's packet goes to its mapping.",
    .role = "client",
    .requirements = {"R6081-5.6.4.3-01", "R6081-5.6.4.3-02", "R6081-5.6.4.3-03"},
    .capabilities = {"hairpinning"},
    .topology = kTopology,
    .captures = client_captures(),
    .body = direct_bubble_acceptance,
    .before_iut = open_played_server,
});

}  // namespace teredo::conformance::client
