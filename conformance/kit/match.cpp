#include "kit/match.hpp"

#include "kit/packets.hpp"

namespace teredo::conformance::kit {

using namespace teredo::wire;

FrameMatch udp_to(LinkType link, const std::string& address, std::uint16_t port) {
  const Ipv4Address want = ipv4(address);
  return [link, want, port](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->destination4 == want && (port == 0 || c->destination_port == port);
  };
}

FrameMatch udp_from(LinkType link, const std::string& address) {
  const Ipv4Address want = ipv4(address);
  return [link, want](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->source4 == want;
  };
}

FrameMatch udp_between(LinkType link, const std::string& from, std::uint16_t from_port, const std::string& to,
                       std::uint16_t to_port) {
  const Ipv4Address source = ipv4(from), destination = ipv4(to);
  return [=](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->source4 == source && c->source_port == from_port && c->destination4 == destination &&
           c->destination_port == to_port;
  };
}

FrameMatch udp_from_containing(LinkType link, const std::string& address, const std::string& mark) {
  const Ipv4Address source = ipv4(address);
  return [link, source, mark](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    return c && !c->ipv6 && c->source4 == source && contains(c->payload, mark);
  };
}

FrameMatch udp_from_with_nonce(LinkType link, const std::string& address, const Nonce& nonce) {
  const Ipv4Address source = ipv4(address);
  return [link, source, nonce](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    if (!c || c->ipv6 || c->source4 != source) return false;
    const auto d = parse_teredo_payload(c->payload);
    return d && d->authentication && d->authentication->nonce == nonce;
  };
}

FrameMatch bubble_from(LinkType link, const std::string& address, const Ipv6Address& destination) {
  const Ipv4Address source = ipv4(address);
  return [link, source, destination](const CapturedFrame& f) {
    const auto c = find_udp_carrier(link, f.data);
    if (!c || c->ipv6 || c->source4 != source) return false;
    const auto d = parse_teredo_payload(c->payload);
    return d && d->ipv6.header.destination == destination && is_bubble(d->ipv6);
  };
}

FrameMatch native_carrying(LinkType link, const Ipv6Address& source, const Ipv6Address& destination) {
  return [link, source, destination](const CapturedFrame& f) {
    const auto n = native_ipv6(link, f.data);
    return n && n->header.source == source && n->header.destination == destination;
  };
}

}  // namespace teredo::conformance::kit
