// RFC 4380 §5.3.1, second half: what the server does with an accepted packet
// that is not an RS: answer it locally, or forward it to a Teredo client.
#include <string>

#include "teredo/node/addressing.hpp"
#include "teredo/node/server.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node {

void Server::handle_local(UdpEndpoint local, UdpEndpoint from, const wire::TeredoDatagram& d,
                          Outbox& out) {
  const wire::Ipv6Header& h = d.ipv6.header;
  // R4380-5.3.1-10: the server "may have to process" echo requests sent to it.
  if (config_.answer_echo && h.next_header == wire::kNextHeaderIcmpv6) {
    const auto icmp = wire::parse_icmpv6(d.ipv6, wire::ChecksumPolicy::verify);
    if (!icmp) {
      out.drop(wire::to_string(icmp.error()), "R4380-5.3.1-10", "from " + to_string(from));
      return;
    }
    if (icmp->type == wire::kIcmpv6EchoRequest && icmp->code == 0) {
      const auto echo = wire::parse_echo(*icmp);
      if (!echo) {
        out.drop(wire::to_string(echo.error()), "R4380-5.3.1-10", "from " + to_string(from));
        return;
      }
      wire::EchoMessage reply = *echo;
      reply.reply = true;
      // The request passed R4380-5.3.1-07 (Teredo source matching `from`):
      // the reply goes back the way it came, from the address it reached.
      wire::ByteVector packet = wire::build_echo(link_local_, h.source, 64, reply);
      if (send(local, from, std::move(packet), "R4380-5.3.1-10", out)) {
        out.action("echo_answered", "R4380-5.3.1-10", "to " + to_string(from));
      }
      return;
    }
  }
  out.drop("drop_local_unhandled", "R4380-5.3.1-10",
           "next header " + std::to_string(h.next_header) +
               (h.next_header == wire::kNextHeaderIcmpv6 && !d.ipv6.payload.empty()
                    ? " type " + std::to_string(d.ipv6.payload[0])
                    : std::string()) +
               " from " + to_string(from));
}

void Server::forward_to_client(UdpEndpoint from, const wire::TeredoDatagram& d,
                               const wire::TeredoAddress& destination, Outbox& out) {
  // R4380-5.3.1-13, R4380-5.3.1-14: the IPv4 address in the Teredo
  // destination must be global unicast, or the packet is silently dropped.
  if (!wire::is_global_unicast(destination.mapped_ipv4)) {
    out.drop("drop_non_global_destination_ipv4", "R4380-5.3.1-14",
             std::string(wire::to_string(wire::classify_ipv4(destination.mapped_ipv4))) + " " +
                 wire::to_string(destination.mapped_ipv4) + " from " + to_string(from));
    return;
  }
  // R4380-5.3.1-15: to the IPv4 address and port in the destination, from the
  // server's (primary) address and the Teredo port.
  const UdpEndpoint to{destination.mapped_ipv4, destination.mapped_port};
  wire::ByteVector payload;
  payload.reserve(wire::kOriginIndicationSize + d.ipv6.packet.size());
  // R4380-5.3.1-16: for a client of this server (bits 32-63 are our primary
  // IPv4) an origin indication carries the sender's IPv4 address and port.
  const bool ours = destination.server == config_.primary;
  if (ours) wire::append_origin_indication(payload, wire::OriginIndication{from.port, from.address});
  payload.insert(payload.end(), d.ipv6.packet.begin(), d.ipv6.packet.end());
  // RFC 6081 §4 (accept_trailers): the trailers travel with the packet, so
  // a peer's indirect bubble reaches the client with its Nonce, Alternate
  // Address or Random Port Trailer (§5.2.4.3, §5.6.4.2, §5.4.4.4 read them
  // "via client B's Teredo server", §6's examples).
  payload.insert(payload.end(), d.ipv6.trailer.begin(), d.ipv6.trailer.end());
  if (send(primary_endpoint(), to, std::move(payload), "R4380-5.3.1-14", out) && out.record_actions) {
    out.action(wire::is_bubble(d.ipv6) ? "bubble_forwarded" : "forwarded_to_client",
               ours ? "R4380-5.3.1-16" : "R4380-5.3.1-15",
               to_string(from) + " -> " + to_string(to) + (ours ? " with origin" : ""));
  }
}

bool Server::send(UdpEndpoint from, UdpEndpoint to, wire::ByteVector payload,
                  std::string_view requirement, Outbox& out) const {
  // §5.2.4 via R4380-5.3.1-14 / R4380-5.3.2-09: never to a non-global IPv4.
  if (!wire::is_global_unicast(to.address)) {
    out.drop("drop_non_global_destination_ipv4", requirement, "to " + to_string(to));
    return false;
  }
  if (to.port == 0) {
    out.drop("drop_zero_destination_port", "", "to " + to_string(to));
    return false;
  }
  // Hardening (Miredo advisory MTFL-SA-0603): a bubble addressed to a Teredo
  // address that maps to the server itself would loop through it forever.
  if (is_own_endpoint(to)) {
    out.drop("drop_loop_to_self", "", "MTFL-SA-0603 to " + to_string(to));
    return false;
  }
  out.datagrams.push_back(OutgoingDatagram{from, to, std::move(payload)});
  return true;
}

}  // namespace teredo::node
