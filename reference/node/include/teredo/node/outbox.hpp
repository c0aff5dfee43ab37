// What a state machine emits for one input: UDP datagrams to send, IPv6
// packets for the native side (TUN), and events, one log line each. The
// machine only appends; clearing between calls is the caller's business.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "teredo/node/endpoint.hpp"
#include "teredo/wire/bytes.hpp"

namespace teredo::node {

struct OutgoingDatagram {
  UdpEndpoint from;  // which local address/port sends it (a server has two)
  UdpEndpoint to;
  wire::ByteVector payload;  // the UDP payload: [auth][origin] IPv6 packet
  // IPv4 TTL for this datagram; 0 = the socket's default. A client's local
  // discovery bubble (RFC 4380 §5.2.8, R4380-5.2.8-04) goes to the
  // link-scope group 224.0.0.253 with TTL 1.
  std::uint8_t ttl = 0;
};

enum class EventKind : std::uint8_t {
  drop,    // an input (or part of it) was discarded
  action,  // something was sent, delivered, created or removed
};
std::string_view to_string(EventKind kind) noexcept;

struct Event {
  EventKind kind = EventKind::drop;
  // Stable snake_case code ("rs_answered", "drop_non_global_source", or a
  // wire ParseError name such as "truncated_origin_indication"). Always a
  // string with static storage duration.
  std::string_view code;
  // The requirement ID from conformance/catalog/requirements.json it relates to
  // ("R4380-5.3.1-04"), or empty for hardening the RFCs do not ask for (the
  // text then names the reason, e.g. Miredo advisory MTFL-SA-0603).
  std::string_view requirement;
  std::string text;  // short human detail: addresses, counts
};

struct Outbox {
  std::vector<OutgoingDatagram> datagrams;
  std::vector<wire::ByteVector> to_tunnel;
  std::vector<Event> events;
  // Drops are always recorded; action events (one per answered RS or
  // forwarded packet) can be switched off for benchmarks.
  bool record_actions = true;

  void clear() noexcept {
    datagrams.clear();
    to_tunnel.clear();
    events.clear();
  }
  void drop(std::string_view code, std::string_view requirement, std::string text = {}) {
    events.push_back(Event{EventKind::drop, code, requirement, std::move(text)});
  }
  void action(std::string_view code, std::string_view requirement, std::string text = {}) {
    if (record_actions) events.push_back(Event{EventKind::action, code, requirement, std::move(text)});
  }
};

// One log line: "drop drop_non_global_source R4380-5.3.1-04 from 10.0.0.5:1234"
std::string to_string(const Event& event);

}  // namespace teredo::node
