// `teredo-conform replay --role server`, its pure part: which datagrams of a
// capture went to a Teredo server, and how the IUT's answer to a replayed
// router solicitation is judged (the same rules as the server cases:
// conformance/JUDGING.md). The lab side is fuzz/replay_session.cpp.
//
// A replayed datagram is the captured UDP payload, sent from a driver socket
// of the lab to the IUT's primary address: the outer IPv4/UDP become the
// lab's, the IPv6 packet inside stays as captured (an RS's link-local
// addresses and ICMPv6 checksum do not depend on IPv4), so only RSs can be
// judged; other datagrams are sent (the IUT must survive them) and recorded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "teredo/wire/wire.hpp"

namespace teredo::conformance::fuzz {

struct ReplayDatagram {
  std::uint64_t frame = 0;             // its frame in the source capture
  wire::ByteVector payload;            // the UDP payload, as captured
  bool router_solicitation = false;    // a well-formed RS to our decoder (RFC 4861 §6.1.1 checks)
  std::optional<wire::Nonce> nonce{};  // the RS's authentication nonce, if any
  std::string what;                    // "RS with nonce ... from 192.0.2.1:1234 (frame 5)"
};

// A datagram a capture sent to a Teredo server (IPv4, UDP to port 3544,
// whole); nullopt for anything else. A payload our decoder rejects is kept
// too: a fuzz finding's reproducer is malformed on purpose.
std::optional<ReplayDatagram> to_teredo_server(std::uint64_t frame, wire::LinkType link, wire::Bytes data);

// A datagram of a capture for an IUT relay (`replay --role relay`): an
// IPv4/UDP datagram to port 3544 is sent from the lab's trusted client to
// the relay's Teredo port (its UDP payload as captured); an IPv6/UDP packet
// to a Teredo address is sent by the lab's native host to the same address
// and port (its UDP data as captured: a fuzz finding's reproducer holds
// both kinds). nullopt for anything else.
struct RelayReplayDatagram {
  std::uint64_t frame = 0;
  wire::ByteVector payload;                     // UDP payload / UDP data
  std::optional<wire::Ipv6Address> native_to{};  // set: from the native host to [native_to]:native_port
  std::uint16_t native_port = 0;
  std::string what;
};
std::optional<RelayReplayDatagram> to_relay_input(std::uint64_t frame, wire::LinkType link, wire::Bytes data);

// A datagram of a capture for an IUT client (`replay --role client`): an
// IPv4/UDP datagram, whole, to a port other than 3544 (what a server, a
// peer or a relay sends a client) or to the Teredo IPv4 Discovery Address
// 224.0.0.253:3544 (a local discovery bubble). `base` names the template
// the client rig sends it as, which says from which played party and in
// which state (fuzz/client_rig.cpp): from port 3544 of 203.0.113.1/.2 an
// RA is "ra", anything else "bubble_via_server"; from the played relay
// 198.51.100.9 "data_from_relay"; to 224.0.0.253 "discovery_bubble"; from
// anyone else a bubble is "bubble_to_client", the rest "echo_to_client".
// nullopt for anything else.
struct ClientReplayDatagram {
  std::uint64_t frame = 0;
  wire::ByteVector payload;
  std::string base;
  std::string what;
};
std::optional<ClientReplayDatagram> to_client_input(std::uint64_t frame, wire::LinkType link, wire::Bytes data);

struct ReplayVerdict {
  std::string outcome;      // pass | fail | inconclusive
  std::string requirement;  // the catalog ID judged
  std::string code;         // the named reason (JUDGING.md 8)
  std::string observed;
};

// A replayed RS and the UDP payloads that came back to its socket within the
// answer window; `control_answered`: whether a valid RS with a fresh nonce,
// sent after it, was answered (asked only when no RA came).
//  - An RA echoing the RS's nonce (or any RA, for an RS without one): pass.
//  - An RA with another nonce, or none, for an RS that had one: fail
//    R4380-5.3.2-11 (the RA repeats the RS's nonce).
//  - No RA, the control answered: the RS was discarded: fail R4380-5.3.1-05.
//  - No RA, the control unanswered: inconclusive (silence proves nothing).
ReplayVerdict judge_replayed_rs(const ReplayDatagram& rs, const std::vector<wire::ByteVector>& answers,
                                bool control_answered);

}  // namespace teredo::conformance::fuzz
