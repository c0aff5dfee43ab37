// RFC 4380 §5.3.1: which datagrams the server accepts, and where an accepted
// packet goes (local processing, the IPv6 side, or a Teredo client).
#include <string>

#include "teredo/node/addressing.hpp"
#include "teredo/node/server.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

namespace {
std::string from_text(UdpEndpoint from) { return "from " + to_string(from); }
}  // namespace

Server::Server(ServerConfig config)
    : config_(std::move(config)),
      // R4380-5.3.2-03: the link-local address derived from our IPv4 and port, cone bit 1.
      link_local_(config_.link_local.value_or(server_link_local(config_.primary, config_.port))) {}

bool Server::is_own_endpoint(UdpEndpoint e) const noexcept {
  return e == primary_endpoint() || e == secondary_endpoint();
}

void Server::handle_datagram(Time now, UdpEndpoint local, UdpEndpoint from, wire::Bytes payload,
                             Outbox& out) {
  (void)now;  // §5.3: the server is stateless; nothing here depends on time
  if (!is_own_endpoint(local)) {
    out.drop("drop_unknown_local_endpoint", "", "received on " + to_string(local));
    return;
  }
  // R4380-5.1.2-01: the link MTU is 1280; with the largest encapsulations in
  // front nothing legitimate is longer. Checked before parsing so a flood of
  // jumbo datagrams costs nothing.
  if (payload.size() > config_.mtu + kMaxEncapsulationOverhead) {
    out.drop("drop_oversized", "R4380-5.1.2-01",
             std::to_string(payload.size()) + " bytes " + from_text(from));
    return;
  }
  // Hardening (Miredo advisory MTFL-SA-0603): a datagram from our own
  // address and port is our own output coming back; answering it loops.
  if (is_own_endpoint(from)) {
    out.drop("drop_loop_from_self", "", "MTFL-SA-0603 " + from_text(from));
    return;
  }
  // R4380-5.3.1-04: the IPv4 source must be global unicast (§5.2.4).
  if (!wire::is_global_unicast(from.address)) {
    out.drop("drop_non_global_source", "R4380-5.3.1-04",
             std::string(wire::to_string(wire::classify_ipv4(from.address))) + " " + from_text(from));
    return;
  }
  // Nothing can be sent back to UDP port 0 (hardening).
  if (from.port == 0) {
    out.drop("drop_zero_source_port", "", from_text(from));
    return;
  }
  // R4380-5.3.1-02: not a well-formed Teredo IPv6 packet (§5.1.1): silently dropped.
  const auto parsed = wire::parse_datagram(payload, {.accept_trailers = config_.accept_trailers});
  if (!parsed) {
    out.drop(wire::to_string(parsed.error()), "R4380-5.3.1-02", from_text(from));
    return;
  }
  const wire::TeredoDatagram& d = *parsed;
  // R4380-5.1.2-01: an IPv6 packet over the link MTU is not ours to carry.
  if (d.ipv6.packet.size() > config_.mtu) {
    out.drop("drop_oversized", "R4380-5.1.2-01",
             "IPv6 packet of " + std::to_string(d.ipv6.packet.size()) + " bytes " + from_text(from));
    return;
  }
  const wire::Ipv6Header& h = d.ipv6.header;
  // R4380-5.3.1-05: link-local source, destination ff02::2, an ICMPv6 RS:
  // accepted (subject to RS validation and secure qualification).
  if (h.source.is_link_local() && h.destination == all_routers() &&
      h.next_header == wire::kNextHeaderIcmpv6 && !d.ipv6.payload.empty() &&
      d.ipv6.payload[0] == wire::kIcmpv6RouterSolicitation) {
    handle_rs(local, from, d, out);
    return;
  }
  // R4380-5.3.1-03: neither a bubble nor ICMPv6 (unless also a relay, R4380-5.4.3-02).
  if (!wire::is_bubble(d.ipv6) && h.next_header != wire::kNextHeaderIcmpv6 &&
      !config_.forward_any_protocol) {
    out.drop("drop_not_bubble_or_icmpv6", "R4380-5.3.1-03",
             "next header " + std::to_string(h.next_header) + " " + from_text(from));
    return;
  }
  if (!accept_source(from, d, out)) return;
  dispatch(local, from, d, out);
}

// Rules 5 to 7 of §5.3.1 for everything that is not an RS.
bool Server::accept_source(UdpEndpoint from, const wire::TeredoDatagram& d, Outbox& out) const {
  const wire::Ipv6Header& h = d.ipv6.header;
  if (const auto source = wire::parse_teredo(h.source)) {
    // R4380-5.3.1-07: a Teredo source whose mapped address and port are the
    // packet's IPv4 source and UDP port is accepted.
    if (source->mapped_ipv4 == from.address && source->mapped_port == from.port) return true;
    // R4380-5.3.1-09: a Teredo source that does not match: spoofed, dropped.
    out.drop("drop_source_mismatch", "R4380-5.3.1-09",
             wire::to_string(h.source) + " " + from_text(from));
    return false;
  }
  // R4380-5.3.1-08: a non-Teredo source to a Teredo address of this server
  // (bits 32-63 are our primary IPv4) is accepted.
  const auto destination = wire::parse_teredo(h.destination);
  if (destination && destination->server == config_.primary) return true;
  // R4380-5.3.1-09: every other packet is dropped.
  out.drop("drop_foreign_destination", "R4380-5.3.1-09",
           wire::to_string(h.source) + " -> " + wire::to_string(h.destination) + " " +
               from_text(from));
  return false;
}

void Server::dispatch(UdpEndpoint local, UdpEndpoint from, const wire::TeredoDatagram& d,
                      Outbox& out) {
  const wire::Ipv6Header& h = d.ipv6.header;
  // R4380-5.3.1-10: ff02::2 and our link-local address are processed here.
  if (h.destination == all_routers() || h.destination == link_local_) {
    handle_local(local, from, d, out);
    return;
  }
  // R4380-5.3.1-11: a destination that is not of global scope is never forwarded.
  if (!is_global_scope(h.destination)) {
    out.drop("drop_non_global_destination", "R4380-5.3.1-11",
             wire::to_string(h.destination) + " " + from_text(from));
    return;
  }
  // Hardening (RFC 4291 §2.5.6, a router never forwards link-local or
  // multicast sources): the server routes, so the same holds for the source.
  // One exception: a bubble from a link-local source to one of our clients.
  // Miredo's relay sends its bubbles from its TUN's link-local address;
  // §5.3.1 rule 6 accepts them (a non-Teredo source to our client), Miredo's
  // server forwards them, and a bubble carries nothing but the relay's
  // endpoint in the origin indication: refusing it would cut every Miredo
  // relay off from our clients.
  const bool link_local = h.source.bytes[0] == 0xFE && (h.source.bytes[1] & 0xC0) == 0x80;
  const bool relay_bubble = link_local && wire::is_bubble(d.ipv6) && wire::is_teredo(h.destination);
  if (!is_global_scope(h.source) && !relay_bubble) {
    out.drop("drop_non_global_ipv6_source", "",
             wire::to_string(h.source) + " " + from_text(from));
    return;
  }
  const auto destination = wire::parse_teredo(h.destination);
  if (!destination) {
    // R4380-5.3.1-12: non-Teredo global destinations go to the IPv6 Internet.
    if (!config_.forward_native) {
      out.drop("drop_native_forwarding_disabled", "R4380-5.3.1-12",
               wire::to_string(h.destination) + " " + from_text(from));
      return;
    }
    out.to_tunnel.emplace_back(d.ipv6.packet.begin(), d.ipv6.packet.end());
    if (out.record_actions) {
      out.action("forwarded_to_ipv6", "R4380-5.3.1-12",
                 wire::to_string(h.source) + " -> " + wire::to_string(h.destination));
    }
    return;
  }
  forward_to_client(from, d, *destination, out);
}

}  // namespace teredo::node
