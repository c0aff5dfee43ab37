// RFC 4380 §5.4 and §5.4.2: what the relay does with datagrams from Teredo
// clients. Most cases first make the client a trusted peer (the §5.4.1
// exchange of relay_driver.hpp's contact()), since a relay may drop packets
// from clients it never sent to (R4380-5.4.2-03); then the client sends
// IPv6 packets over UDP to the relay, and the native side (v6host:eth0) shows
// what was forwarded.
#include <fmt/format.h>

#include <thread>

#include "cases/relay/relay_driver.hpp"

namespace teredo::conformance::relay {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

// A trusted client, or an inconclusive assertion on every requirement.
bool trusted_client(CaseRun& run, NativeHost& host, const Peer& c, const std::string& tag,
                    const std::vector<std::string>& requirements) {
  const Contact k = contact(run, host, c, marker(tag, 0));
  if (k.trusted()) {
    run.info("setup: " + k.story(c), "client_trusted_setup");
    return true;
  }
  for (const auto& r : requirements) {
    run.inconclusive(r, "the client could not be made a trusted peer of the relay first: " + k.story(c),
                     "client_not_trusted");
  }
  return false;
}

void reply_forwarded_native(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5101);
  const Peer c = make_peer(run, kClients, 42001);
  if (!trusted_client(run, host, c, "reply-native", {"R4380-5.4-01", "R4380-5.4.2-04"})) return;
  const std::string m = marker("reply-native", 1);
  const ByteVector packet = echo_with(c.teredo, host.address(), m);
  const std::uint64_t after = native_mark(run);
  const Sent s = client_send(run, c, packet);
  const auto f = wait_native(run, c.teredo, host.address(), after);
  const std::string expected = fmt::format(
      "the echo request {} -> {} forwarded onto the native side (v6host:eth0), its IPv6 payload unchanged",
      to_string(c.teredo), kV6Host);
  if (!f) {
    // Not forwarded: a discard only if the relay is shown alive afterwards
    // (a native packet to another client makes it bubble).
    const Peer fresh = make_peer(run, kClients, 42002);
    kit::judge_unanswered(run, {"R4380-5.4-01", "R4380-5.4.2-04"},
                          fmt::format("the trusted client's echo request (driver frame {})", s.frame), expected,
                          frames_of({s.frame}), control_bubble(host, fresh), "trusted_client_not_forwarded",
                          kDeliveryTimeout);
    return;
  }
  const auto n = native_ipv6(run.capture("v6host").link_type(), f->data);
  const auto sent = parse_ipv6_packet(packet);
  const bool same_payload = n && sent && same(n->payload, sent->payload);
  const std::vector<FrameRef> frames = {frame_ref(s.frame), frame_ref(f->number, "v6host")};
  const std::string observed = fmt::format("{} (v6host frame {}), payload {}", describe_native(*f, run.capture("v6host").link_type()),
                                           f->number, same_payload ? "identical" : "changed");
  run.check("R4380-5.4-01", "trusted_client_not_forwarded", true,
            "a client the relay sent to can reach the native side through it", observed, frames);
  run.check("R4380-5.4.2-04", "native_payload_altered", same_payload, expected, observed, frames);
}

void spoofed_source_dropped(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5102);
  const Peer c = make_peer(run, kClients, 42011);
  const std::vector<std::string> requirements = {"R4380-5.4.2-02"};
  if (!trusted_client(run, host, c, "spoofed", requirements)) return;
  const Ipv6Address native = host.address();
  std::vector<Probe> probes;
  // 1: C's Teredo address from another port of C's IPv4 address.
  Peer other_port = make_peer(run, kClients, 42012);
  other_port.teredo = c.teredo;
  const std::string m1 = marker("spoofed", 1);
  probes.push_back(probe_native(run, other_port, echo_with(c.teredo, native, m1),
                                fmt::format("an echo request with C's Teredo source {} (embeds {}) from port 42012",
                                            to_string(c.teredo), c.where()),
                                c.teredo, native));
  // 2: from another IPv4 address, same port.
  Peer other_address = make_peer(run, kClients2, 42011);
  other_address.teredo = c.teredo;
  const std::string m2 = marker("spoofed", 2);
  probes.push_back(probe_native(run, other_address, echo_with(c.teredo, native, m2),
                                "an echo request with C's Teredo source from 198.51.100.8:42011", c.teredo, native));
  // 3: a non-Teredo source from C's real endpoint.
  const Ipv6Address foreign = ipv6("2001:db8:5::7");
  const std::string m3 = marker("spoofed", 3);
  probes.push_back(probe_native(run, c, echo_with(foreign, native, m3),
                                "an echo request with the non-Teredo source 2001:db8:5::7 from C's endpoint", foreign,
                                native));
  judge_silence(run, requirements, probes, control_forward(c, native));
}

void non_global_source_dropped(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5103);
  const Peer c = make_peer(run, kClients, 42021);
  const std::vector<std::string> requirements = {"R4380-5.4.2-02", "R4380-4-04"};
  if (!trusted_client(run, host, c, "non-global-source", requirements)) return;
  // A client on 192.88.99.7 whose Teredo address embeds that real endpoint:
  // its mapping matches, but no valid Teredo address embeds a non-global IPv4.
  const Peer x = make_peer(run, kNonGlobal, 42022);
  const std::string m = marker("non-global-source", 1);
  std::vector<Probe> probes;
  probes.push_back(probe_native(run, x, echo_with(x.teredo, host.address(), m),
                                fmt::format("an echo request from {} (embeds 192.88.99.7:42022, its real endpoint)",
                                            to_string(x.teredo)),
                                x.teredo, host.address()));
  judge_silence(run, requirements, probes, control_forward(c, host.address()));
}

void spoofed_bubble_no_remap(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5104);
  const Peer c = make_peer(run, kClients, 42031);
  Capture& capture = run.capture("driver");
  const Contact k = contact(run, host, c, marker("remap", 0));
  if (!k.trusted() || !k.bubble) {
    run.inconclusive("R4380-5.4.2-02",
                     "the client could not be made a trusted peer through a bubble exchange first: " + k.story(c),
                     "client_not_trusted");
    return;
  }
  // An attacker on another port sends a bubble with C's Teredo source to the
  // relay's bubble source (which it could have learnt as C's server).
  Peer attacker = make_peer(run, kClients, 42032);
  attacker.teredo = c.teredo;
  const Sent spoof = client_send(run, attacker, bubble_packet(c.teredo, k.bubble->datagram->ipv6.header.source),
                                 k.relay_address, k.relay_port);
  std::this_thread::sleep_for(200ms);
  const std::string m = marker("remap", 1);
  const auto sent = host.send(c.teredo, bytes_of(m.c_str()));
  const auto to_c = relay_delivery(capture, c, m);
  const auto to_attacker = relay_delivery(capture, attacker, m);
  const auto f = capture.wait_for([&](const CapturedFrame& x) { return to_c(x) || to_attacker(x); }, kDeliveryTimeout,
                                  sent.driver_mark);
  const std::string expected = fmt::format(
      "the bubble with source {} from {} (not the mapping its address embeds) discarded: the next packet for the "
      "client still goes to {}",
      to_string(c.teredo), attacker.where(), c.where());
  std::vector<FrameRef> frames = frames_of({spoof.frame});
  frames.push_back(frame_ref(sent.frame, "v6host"));
  if (!f) {
    run.inconclusive("R4380-5.4.2-02",
                     fmt::format("the packet after the spoofed bubble (v6host frame {}) went "
                                 "nowhere within {} ms",
                                 sent.frame, kDeliveryTimeout.count()),
                     "next_packet_delivered_nowhere");
    return;
  }
  frames.push_back(frame_ref(f->number));
  run.check("R4380-5.4.2-02", "mapping_changed_by_spoofed_bubble", to_c(*f), expected,
            fmt::format("after the spoofed bubble (driver frame {}): {}", spoof.frame,
                        describe_frame(*f, capture.link_type())),
            frames);
}

void invalid_ipv6_dropped(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5105);
  const Peer c = make_peer(run, kClients, 42041);
  const std::vector<std::string> requirements = {"R4380-5.4.2-01"};
  if (!trusted_client(run, host, c, "invalid", requirements)) return;
  Capture& v6 = run.capture("v6host");
  const Ipv6Address native = host.address();
  std::vector<Probe> probes;
  const auto add = [&](ByteVector payload, const std::string& mark, const std::string& what) {
    Probe p;
    p.capture = "v6host";
    p.after = native_mark(run);
    const Sent s = client_send(run, c, payload);
    p.sent = frames_of({s.frame});
    p.what = fmt::format("{} from {} (driver frame {})", what, c.where(), s.frame);
    p.reaction = native_containing(v6, mark);
    p.expected = "silently discarded: no native packet holding its bytes on v6host:eth0 within 1000 ms";
    probes.push_back(std::move(p));
  };
  {  // version 4 in the first nibble
    const std::string m = marker("invalid", 1);
    ByteVector p = echo_with(c.teredo, native, m);
    p[0] = static_cast<std::uint8_t>(0x40 | (p[0] & 0x0f));
    add(p, m, "an echo request C -> v6host whose IPv6 version field is 4");
  }
  {  // payload length 40 bytes longer than the datagram holds
    const std::string m = marker("invalid", 2);
    ByteVector p = echo_with(c.teredo, native, m);
    const auto plen = static_cast<std::uint16_t>(((p[4] << 8) | p[5]) + 40);
    p[4] = static_cast<std::uint8_t>(plen >> 8);
    p[5] = static_cast<std::uint8_t>(plen & 0xff);
    add(p, m, "an echo request C -> v6host whose payload length runs 40 bytes past the datagram");
  }
  {  // junk that is no IPv6 at all
    const std::string m = marker("invalid", 3);
    ByteVector p(24, 0xa5);
    const Bytes b = bytes_of(m.c_str());
    p.insert(p.end(), b.begin(), b.end());
    add(p, m, "a datagram of 0xa5 bytes and text (not an IPv6 packet)");
  }
  {  // a header cut at 39 bytes: too short to be IPv6
    const std::string m = marker("invalid", 4);
    ByteVector p = echo_with(c.teredo, native, m);
    p.resize(39);
    add(p, "\x7e\x1a", "the first 39 bytes of an echo request C -> v6host (a truncated IPv6 header)");
    probes.back().reaction = native_carrying(v6, c.teredo, native);
    probes.back().expected = fmt::format("silently discarded: no native packet {} -> {} within 1000 ms",
                                         to_string(c.teredo), kV6Host);
  }
  judge_silence(run, requirements, probes, control_forward(c, native));
}

void unknown_peer(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5106);
  const Peer u = make_peer(run, kClients, 42051);
  Capture& capture = run.capture("driver");
  const Ipv6Address native = host.address();
  const std::string m = marker("unknown-peer", 1);
  const std::uint64_t after = native_mark(run);
  const Sent s = client_send(run, u, echo_with(u.teredo, native, m));
  const auto f = wait_native(run, u.teredo, native, after);
  if (f) {
    // Accepted: the new entry is trusted, so the way back needs no bubble.
    const std::string back = marker("unknown-peer", 2);
    const auto sent = host.send(u.teredo, bytes_of(back.c_str()));
    const auto direct = capture.wait_for(relay_delivery(capture, u, back), kDeliveryTimeout, sent.driver_mark);
    const auto bubbles = capture.frames(relay_bubble_for(capture, u.teredo), sent.driver_mark);
    run.check(
        "R4380-5.4.2-03", "unknown_peer_neither_dropped_nor_trusted", true,
        "either: dropped (a relay may drop packets from clients absent from its peer list) or accepted with "
        "the entry trusted",
        fmt::format("accepted: forwarded natively (v6host frame {}); a packet back (v6host frame {}) went {}",
                    f->number, sent.frame,
                    direct ? fmt::format("straight to {} (frame {}), the entry trusted", u.where(), direct->number)
                           : fmt::format("not straight to the client within {} ms (bubble frames: {})",
                                         kDeliveryTimeout.count(), bubbles.empty() ? 0 : bubbles.front().number)),
        {frame_ref(s.frame), frame_ref(f->number, "v6host")});
    run.check("R4380-5.4-01", "client_packets_not_accepted", true, "packets from Teredo clients accepted",
              fmt::format("forwarded natively (v6host frame {})", f->number),
              {frame_ref(s.frame), frame_ref(f->number, "v6host")});
    return;
  }
  // Dropped: allowed. The relay must then accept the client once it has sent
  // to it (§5.4: 'only accept packets from Teredo clients if they have
  // previously sent traffic to these Teredo clients').
  const Contact k = contact(run, host, u, marker("unknown-peer", 3));
  if (!k.trusted()) {
    run.inconclusive("R4380-5.4.2-03",
                     "the unsolicited packet was not forwarded, and the relay could not be brought "
                     "to send to the client either: " +
                         k.story(u),
                     "client_not_trusted");
    return;
  }
  const std::string again = marker("unknown-peer", 4);
  const std::uint64_t after2 = native_mark(run);
  const Sent s2 = client_send(run, u, echo_with(u.teredo, native, again));
  const auto f2 = wait_native(run, u.teredo, native, after2);
  std::vector<FrameRef> frames = {frame_ref(s.frame)};
  for (const auto& x : k.frames()) frames.push_back(x);
  frames.push_back(frame_ref(s2.frame));
  if (f2) frames.push_back(frame_ref(f2->number, "v6host"));
  run.check(
      "R4380-5.4.2-03", "unknown_peer_neither_dropped_nor_trusted", true,
      "either: dropped (a relay may drop packets from clients absent from its peer list) or accepted",
      fmt::format("dropped: nothing on v6host:eth0 within {} ms of driver frame {}", kDeliveryTimeout.count(), s.frame),
      {frame_ref(s.frame)});
  const std::string expected01 =
      "once the relay has sent to the client, the client's packets to the native side are accepted";
  if (!f2) {
    kit::judge_unanswered(run, {"R4380-5.4-01"},
                          fmt::format("the client's echo request after the exchange ({}) (driver frame {})",
                                      k.story(u), s2.frame),
                          expected01, frames, control_bubble(host, make_peer(run, kClients, 42059)),
                          "trusted_client_not_forwarded", kDeliveryTimeout);
    return;
  }
  run.check("R4380-5.4-01", "trusted_client_not_forwarded", true, expected01,
            fmt::format("after the exchange ({}), the client's echo request (driver frame {}) was forwarded "
                        "(v6host frame {})",
                        k.story(u), s2.frame, f2->number),
            frames);
}

void outside_served_range(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5107);
  const Peer c = make_peer(run, kClients, 42061);
  const std::vector<std::string> requirements = {"R4380-5.4.2-05"};
  if (!trusted_client(run, host, c, "outside", requirements)) return;
  Capture& v6 = run.capture("v6host");
  Capture& driver = run.capture("driver");
  std::vector<Probe> probes;
  int n = 0;
  for (const char* text : {"fe80::10", "ff0e::10", "ff02::1", "::1"}) {
    const Ipv6Address d = ipv6(text);
    const std::string m = marker("outside", ++n);
    Probe p = probe_native(run, c, echo_with(c.teredo, d, m), fmt::format("an echo request C -> {}", text), c.teredo, d);
    p.reaction = native_containing(v6, m);
    probes.push_back(std::move(p));
  }
  // Another Teredo client: the relay serves the native side, not Teredo to
  // Teredo (its own prefix comes back to it).
  const Ipv6Address d = teredo_address(kServer, 0, kClients2, 42062);
  const std::string m = marker("outside", ++n);
  Probe p;
  p.capture = "driver";
  p.after = driver.count();
  const Sent s = client_send(run, c, echo_with(c.teredo, d, m));
  p.sent = frames_of({s.frame});
  p.what = fmt::format("an echo request C -> {} (another Teredo client, 198.51.100.8:42062; driver frame {})",
                       to_string(d), s.frame);
  p.reaction = relay_carrying(driver, d);
  p.expected = "silently discarded: no bubble or datagram from the relay for " + to_string(d) + " within 1000 ms";
  probes.push_back(std::move(p));
  judge_silence(run, requirements, probes, control_forward(c, host.address()));
}

void flag_bits_ignored(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5108);
  // Every flag bit but the cone bit: the z bits and RFC 5991's random bits.
  const Peer c = make_peer(run, kClients, 42071, 0x7fff);
  const Contact k = contact(run, host, c, marker("flags", 0));
  const std::string expected = fmt::format(
      "a client with flags 0x7fff ({}) handled like one with flags 0x0000: bubbled, trusted after its answer, its "
      "queued packet delivered and its own packets forwarded",
      to_string(c.teredo));
  if (!k.trusted()) {
    // Not served: a refusal of the flags only if the relay bubbles for a
    // client with flags 0x0000 afterwards.
    kit::judge_unanswered(run, {"R4380-4-03"}, "the exchange with the flagged client: " + k.story(c), expected,
                          k.frames(), control_bubble(host, make_peer(run, kClients, 42072)),
                          "flagged_client_not_served", kDeliveryTimeout);
    return;
  }
  const std::string m = marker("flags", 1);
  const std::uint64_t after = native_mark(run);
  const Sent s = client_send(run, c, echo_with(c.teredo, host.address(), m));
  const auto f = wait_native(run, c.teredo, host.address(), after);
  std::vector<FrameRef> frames = k.frames();
  frames.push_back(frame_ref(s.frame));
  if (f) frames.push_back(frame_ref(f->number, "v6host"));
  run.check("R4380-4-03", "flagged_client_not_served", f.has_value(), expected,
            k.story(c) +
                (f ? fmt::format("; its echo request (driver frame {}) forwarded (v6host frame {})", s.frame, f->number)
                   : fmt::format("; its echo request (driver frame {}) not forwarded within {} ms", s.frame,
                                 kDeliveryTimeout.count())),
            frames);
}

void trailer_discard_type(CaseRun& run) {
  open_server(run);
  NativeHost host(run, 5109);
  const Peer c = make_peer(run, kClients, 42081);
  const std::vector<std::string> requirements = {"R6081-4.1-01"};
  if (!trusted_client(run, host, c, "trailer", requirements)) return;
  const std::string m = marker("trailer", 1);
  ByteVector payload = echo_with(c.teredo, host.address(), m);
  payload.insert(payload.end(), {0x41, 0x02, 0xab, 0xcd});
  Probe p = probe_native(run, c, payload,
                         "an echo request C -> v6host followed by an unknown trailer of type 0x41 (high bits 01), "
                         "length 2",
                         c.teredo, host.address());
  p.reaction = native_containing(run.capture("v6host"), m);
  // Type 0x81 (high bits 10: skip when unknown): recorded only.
  const std::string m2 = marker("trailer", 2);
  ByteVector skip = echo_with(c.teredo, host.address(), m2);
  skip.insert(skip.end(), {0x81, 0x02, 0xab, 0xcd});
  const std::uint64_t after = native_mark(run);
  const Sent s = client_send(run, c, skip);
  judge_silence(run, requirements, {p}, control_forward(c, host.address()));
  const auto forwarded = run.capture("v6host").frames(native_containing(run.capture("v6host"), m2), after);
  run.info(forwarded.empty()
               ? fmt::format("the packet with a type 0x81 trailer (driver frame {}) was not forwarded: the relay does "
                             "not accept trailers (RFC 4380 length rule)",
                             s.frame)
               : fmt::format("the packet with a type 0x81 trailer (driver frame {}) was forwarded (v6host frame {})",
                             s.frame, forwarded.front().number),
           "skip_type_trailer_handling");
}

}  // namespace

TEREDO_CASE({.id = "relay.receive.reply-forwarded-native",
             .title = "A trusted client's packet to the native side is forwarded, unchanged",
             .description = "After a bubble exchange makes client 198.51.100.7:42001 a trusted peer, the client sends "
                            "an ICMPv6 echo request to 2001:db8:1::10 over UDP to the relay.",
             .judgement = "Pass when the echo request shows up on v6host:eth0 with its IPv6 payload unchanged: §5.4 "
                          "'Teredo relays should be able to receive packets sent over IPv4 and UDP by Teredo "
                          "clients'; §5.4.2 'If the destination belongs to a range of IPv6 addresses served by the "
                          "relay, the packet SHOULD be accepted and forwarded to the destination'.",
             .role = "relay",
             .requirements = {"R4380-5.4-01", "R4380-5.4.2-04"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = reply_forwarded_native});

TEREDO_CASE({.id = "relay.receive.spoofed-source-dropped",
             .title = "Packets whose Teredo source does not match their IPv4 source are discarded",
             .description = "Client C (198.51.100.7:42011) is made trusted. Then three echo requests to v6host: with "
                            "C's Teredo source from port 42012; with C's Teredo source from 198.51.100.8:42011; with "
                            "the non-Teredo source 2001:db8:5::7 from C's endpoint. Then a valid control from C.",
             .judgement = "Pass when none reaches v6host:eth0 within 1 s while the control does: §5.4.2 'the "
                          "Teredo relay examines whether the IPv6 source address is a valid Teredo address, and if "
                          "the mapped IPv4 address and mapped port match the IPv4 source address and port number "
                          "from which the packet is received. If this is not the case, the packet is silently "
                          "discarded'.",
             .role = "relay",
             .requirements = {"R4380-5.4.2-02"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = spoofed_source_dropped});

TEREDO_CASE({.id = "relay.receive.non-global-source-dropped",
             .title = "A packet from a Teredo address embedding a non-global IPv4 address is discarded",
             .description = "Client C (198.51.100.7:42021) is made trusted. A client on 192.88.99.7:42022 (6to4 "
                            "anycast, not global per §5.2.4) whose Teredo address embeds that real endpoint sends an "
                            "echo request to v6host. Then a valid control from C.",
             .judgement = "Pass when it does not reach v6host:eth0 within 1 s while the control does: a valid "
                          "Teredo address embeds a global unicast IPv4 address (§4, R4380-4-04), so the source is "
                          "not 'a valid Teredo address' (§5.4.2).",
             .role = "relay",
             .requirements = {"R4380-5.4.2-02", "R4380-4-04"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = non_global_source_dropped});

TEREDO_CASE({.id = "relay.receive.spoofed-bubble-no-remap",
             .title = "A bubble with a trusted client's address from another endpoint does not move the client",
             .description = "Client C (198.51.100.7:42031) is made trusted by a bubble exchange. An attacker on "
                            "198.51.100.7:42032 sends a bubble with C's Teredo source to the relay's bubble source "
                            "address; then v6host sends a packet to C.",
             .judgement = "Pass when that packet still goes to 198.51.100.7:42031: the spoofed bubble's source does "
                          "not match the datagram's endpoint, so §5.4.2 says it 'is silently discarded' and cannot "
                          "change the peer entry.",
             .role = "relay",
             .requirements = {"R4380-5.4.2-02"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = spoofed_bubble_no_remap});

TEREDO_CASE({.id = "relay.receive.invalid-ipv6-dropped",
             .title = "Datagrams that hold no valid IPv6 packet are discarded",
             .description = "Client C (198.51.100.7:42041) is made trusted, then sends: an echo request with IPv6 "
                            "version 4; one whose payload length runs 40 bytes past the datagram; 0xa5 junk with a "
                            "text marker; a 39-byte truncated header. Then a valid control from C.",
             .judgement = "Pass when nothing of them reaches v6host:eth0 within 1 s while the control does: §5.4.2 "
                          "'the Teredo relay checks that it contains a valid IPv6 packet as specified in [RFC2460]. "
                          "If this is not the case, the packet is silently discarded'.",
             .role = "relay",
             .requirements = {"R4380-5.4.2-01"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = invalid_ipv6_dropped});

TEREDO_CASE({.id = "relay.receive.unknown-peer",
             .title = "A packet from a client the relay never sent to: dropped or accepted, and accepted after contact",
             .description = "Client U (198.51.100.7:42051), unknown to the relay, sends an echo request to v6host. "
                            "If it is forwarded, v6host sends a packet back; if not, the relay is brought to contact "
                            "U (bubble exchange) and U sends again.",
             .judgement = "R4380-5.4.2-03 passes either way ('If this is not the case, the packet may be silently "
                          "discarded'), the observation recorded. R4380-5.4-01 passes when U's packets are forwarded "
                          "at the latest once the relay has sent to U ('only accept packets from Teredo clients if "
                          "they have previously sent traffic to these Teredo clients').",
             .role = "relay",
             .requirements = {"R4380-5.4.2-03", "R4380-5.4-01"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = unknown_peer});

TEREDO_CASE({.id = "relay.receive.outside-served-range",
             .title = "Packets to destinations outside the relay's native range are discarded",
             .description = "Client C (198.51.100.7:42061) is made trusted, then sends echo requests to fe80::10, "
                            "ff0e::10, ff02::1, ::1 and to another Teredo client (198.51.100.8:42062). Then a valid "
                            "control from C to v6host.",
             .judgement = "Pass when none shows up on v6host:eth0 and the relay emits nothing for the Teredo "
                          "destination within 1 s while the control is forwarded: §5.4.2 'If the destination belongs "
                          "to a range of IPv6 addresses served by the relay, the packet SHOULD be accepted and "
                          "forwarded ... In the other cases, the packet SHOULD be silently discarded'. A relay "
                          "serves the native IPv6 side: link-local, multicast, loopback and Teredo (2001::/32, "
                          "reached directly by clients) destinations are outside any relay's range.",
             .role = "relay",
             .requirements = {"R4380-5.4.2-05"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = outside_served_range});

TEREDO_CASE({.id = "relay.receive.flag-bits-ignored",
             .title = "Clients whose addresses carry z and random flag bits are served like any other",
             .description = "v6host sends a packet to a client with flags 0x7fff (every bit but cone); the client "
                            "answers the relay's bubble and then sends an echo request to v6host.",
             .judgement = "Pass when the exchange completes and the echo request is forwarded: §4 'must be set to "
                          "zero and ignored on receipt' (RFC 5991 makes 12 of these bits random).",
             .role = "relay",
             .requirements = {"R4380-4-03"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = flag_bits_ignored});

TEREDO_CASE({.id = "relay.receive.trailer-discard-type",
             .title = "A packet with an unknown trailer of type 01xxxxxx is discarded",
             .description = "Client C (198.51.100.7:42081) is made trusted, then sends an echo request to v6host "
                            "followed by the trailer 41 02 ab cd; then the same with 81 02 ab cd (recorded only); "
                            "then a valid control.",
             .judgement = "Pass when the 0x41 one is not forwarded within 1 s while the control is: RFC 6081 §4.1: for an "
                          "unrecognized trailer type whose two high-order bits are '01 - discard the packet' (a relay without RFC 6081 discards any trailing "
                          "bytes as an inconsistent length).",
             .role = "relay",
             .requirements = {"R6081-4.1-01"},
             .topology = "relay-only",
             .captures = relay_captures(),
             .body = trailer_discard_type});

}  // namespace teredo::conformance::relay
