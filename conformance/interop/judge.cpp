#include "interop/judge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>

#include "kit/datagram.hpp"
#include "kit/lab_facts.hpp"
#include "kit/packets.hpp"

namespace teredo::conformance::interop {

namespace {

using Kind = Packet::Kind;
namespace lab = kit::lab;

const wire::Ipv4Address kPrimary = kit::ipv4(lab::kServerPrimary);
const wire::Ipv4Address kSecondary = kit::ipv4(lab::kServerSecondary);
const wire::Ipv4Address kRelay4 = kit::ipv4(lab::kRelay);
const wire::Ipv4Address kNatOut = kit::ipv4(lab::kNatOutside);
const wire::Ipv4Address kClientLan = kit::ipv4(lab::kClientLan);
const wire::Ipv6Address kV6Host = kit::ipv6(lab::kV6Host);

bool is_server(wire::Ipv4Address a) { return a == kPrimary || a == kSecondary; }

// Reads the IPv6 packet: its kind and the fields the judgements use.
void read_ipv6(const wire::Ipv6PacketView& ip, Packet& p) {
  p.source6 = ip.header.source;
  p.destination6 = ip.header.destination;
  if (wire::is_bubble(ip)) {
    p.kind = Kind::bubble;
    return;
  }
  const auto icmp = wire::parse_icmpv6(ip);
  if (!icmp) return;
  if (icmp->type == wire::kIcmpv6RouterSolicitation) {
    p.kind = Kind::rs;
  } else if (icmp->type == wire::kIcmpv6RouterAdvertisement) {
    p.kind = Kind::ra;
    if (const auto ra = wire::parse_router_advertisement(*icmp); ra && ra->options.prefix_information) {
      p.ra_prefix = ra->options.prefix_information->prefix;
    }
  } else if (const auto echo = wire::parse_echo(*icmp)) {
    p.kind = echo->reply ? Kind::echo_reply : Kind::echo_request;
    p.echo_data.assign(echo->data.begin(), echo->data.end());
  }
}

std::string endpoint_of(wire::Ipv4Address a, std::uint16_t port) { return kit::endpoint(a, port); }

}  // namespace

std::string Packet::cite() const { return fmt::format("{}#{}", vantage, frame); }

std::vector<Packet> read_packets(const std::string& vantage, wire::LinkType link,
                                 const std::vector<CapturedFrame>& frames) {
  std::vector<Packet> out;
  for (const CapturedFrame& f : frames) {
    Packet p;
    p.vantage = vantage;
    p.frame = f.number;
    if (const auto d = kit::CapturedDatagram::parse(f, link, vantage); d && !d->carrier.ipv6) {
      if (!d->datagram) continue;  // UDP that is not Teredo: not evidence here
      p.encapsulated = true;
      p.source4 = d->carrier.source4;
      p.destination4 = d->carrier.destination4;
      p.source_port = d->carrier.source_port;
      p.destination_port = d->carrier.destination_port;
      p.origin = d->datagram->origin;
      if (d->datagram->authentication) p.nonce = d->datagram->authentication->nonce;
      read_ipv6(d->datagram->ipv6, p);
    } else if (const auto ip = kit::native_ipv6(link, f.data)) {
      read_ipv6(*ip, p);
    } else {
      continue;
    }
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

using Match = std::function<bool(const Packet&)>;

std::vector<const Packet*> find_all(const Evidence& e, const std::string& vantage, const Match& match) {
  std::vector<const Packet*> out;
  for (const Packet& p : e.packets) {
    if (p.vantage == vantage && match(p)) out.push_back(&p);
  }
  return out;
}
const Packet* find_first(const Evidence& e, const std::string& vantage, const Match& match) {
  for (const Packet& p : e.packets) {
    if (p.vantage == vantage && match(p)) return &p;
  }
  return nullptr;
}

FrameCite cite(const Packet* p) { return {p->vantage + ".pcap", p->frame}; }

Finding finding(char scenario, std::string verdict, std::string party, std::string requirement, std::string reason,
                std::vector<const Packet*> frames = {}) {
  Finding f{scenario, std::move(verdict), std::move(party), std::move(requirement), std::move(reason), {}};
  for (const Packet* p : frames) {
    if (p != nullptr) f.frames.push_back(cite(p));
  }
  return f;
}

std::string cites(const std::vector<const Packet*>& packets, std::size_t max = 3) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < packets.size() && i < max; ++i) out.push_back(packets[i]->cite());
  if (packets.size() > max) out.push_back(fmt::format("and {} more", packets.size() - max));
  return fmt::format("{}", fmt::join(out, ", "));
}

// A party that died in the cell failed every scenario it plays in
// (conformance/JUDGING.md §1), whatever its captures show.
std::optional<Finding> death(char scenario, const Evidence& e, std::initializer_list<const char*> parties) {
  for (const char* party : parties) {
    const auto it = e.died.find(party);
    if (it != e.died.end()) {
      return finding(scenario, "fail", party, "",
                     fmt::format("the {} {} during the cell (an implementation that dies has failed)", party,
                                 it->second));
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- Q

bool client_rs(const Packet& p) {
  return p.encapsulated && p.kind == Kind::rs && p.source4 == kClientLan && is_server(p.destination4) &&
         p.destination_port == lab::kTeredoPort;
}
// At the server: the client's RS after the NAT (the control RS comes from the relay's host).
bool mapped_rs(const Packet& p) {
  return p.encapsulated && p.kind == Kind::rs && p.source4 == kNatOut && is_server(p.destination4);
}
bool ra_to_mapping(const Packet& p) {
  return p.encapsulated && p.kind == Kind::ra && is_server(p.source4) && p.destination4 == kNatOut;
}
bool ra_to_client(const Packet& p) {
  return p.encapsulated && p.kind == Kind::ra && p.destination4 == kClientLan;
}

// The server's RAs to the client's mapping, each against the RS it answers
// (the RS whose link-local source is the RA's IPv6 destination): §5.3.2's
// origin indication and prefix.
std::optional<Finding> server_ra_problem(const Evidence& e) {
  const auto rss = find_all(e, "server", mapped_rs);
  for (const Packet* ra : find_all(e, "server", ra_to_mapping)) {
    const Packet* rs = nullptr;
    for (const Packet* candidate : rss) {
      if (candidate->source6 == ra->destination6 && candidate->frame < ra->frame) rs = candidate;
    }
    if (rs == nullptr) continue;  // not an answer to a client RS seen here: no claim about it
    if (!ra->origin) {
      return finding('Q', "fail", "server", "R4380-5.3.2-01",
                     fmt::format("the server's RA {} answering RS {} carries no origin indication", ra->cite(),
                                 rs->cite()),
                     {rs, ra});
    }
    if (ra->origin->address != rs->source4 || ra->origin->port != rs->source_port) {
      return finding('Q', "fail", "server", "R4380-5.3.2-01",
                     fmt::format("the server's RA {} reports the mapping {} but RS {} came from {}", ra->cite(),
                                 endpoint_of(ra->origin->address, ra->origin->port), rs->cite(),
                                 endpoint_of(rs->source4, rs->source_port)),
                     {rs, ra});
    }
    const wire::Ipv6Address expected = wire::teredo_prefix(kPrimary);
    if (!ra->ra_prefix || !std::equal(expected.bytes.begin(), expected.bytes.begin() + 8, ra->ra_prefix->bytes.begin())) {
      return finding('Q', "fail", "server", "R4380-5.3.2-02",
                     fmt::format("the server's RA {} advertises {} instead of {}/64, the prefix of its address {} "
                                 "(the one its clients are given)",
                                 ra->cite(), ra->ra_prefix ? wire::to_string(*ra->ra_prefix) + "/64" : "no prefix",
                                 wire::to_string(expected), lab::kServerPrimary),
                     {rs, ra});
    }
  }
  return std::nullopt;
}

}  // namespace

Finding judge_qualification(const Evidence& e) {
  if (auto d = death('Q', e, {"client", "server"})) return *d;
  const auto sent = find_all(e, "client-lan", client_rs);
  if (sent.empty()) {
    return finding('Q', "inconclusive", "", "R4380-5.2.1-01",
                   "the client sent no RS to its server within the window; silence proves nothing about what it "
                   "would have sent");
  }
  if (auto problem = server_ra_problem(e)) return *problem;
  const auto at_server = find_all(e, "server", mapped_rs);
  const auto answered = find_all(e, "server", ra_to_mapping);
  const auto received = find_all(e, "client-lan", ra_to_client);

  if (e.client_address) {
    const auto address = wire::parse_teredo(*e.client_address);
    if (!address) {
      return finding('Q', "fail", "client", "R4380-5.2.1-07",
                     fmt::format("the client configured {}, not a Teredo address", *e.client_address));
    }
    if (received.empty()) {
      return finding('Q', "fail", "client", "R4380-5.2.1-03",
                     fmt::format("the client configured {} though no RA reached it (RSs {})", *e.client_address,
                                 cites(sent)),
                     {sent.front()});
    }
    // The origin indications the client was given: its address must embed one.
    const auto embedded = [&](const Packet* ra) {
      return ra->origin && ra->origin->address == address->mapped_ipv4 && ra->origin->port == address->mapped_port;
    };
    const auto source = std::find_if(received.begin(), received.end(), embedded);
    if (source == received.end() || address->server != kPrimary) {
      const Packet* last = received.back();
      return finding(
          'Q', "fail", "client", "R4380-5.2.1-07",
          fmt::format("the client configured {} (server {}, mapping {}) but the RAs it received ({}) give server {} "
                      "and mapping {}",
                      *e.client_address, wire::to_string(address->server),
                      endpoint_of(address->mapped_ipv4, address->mapped_port), cites(received), lab::kServerPrimary,
                      last->origin ? endpoint_of(last->origin->address, last->origin->port) : "none"),
          {last});
    }
    // The RA the server sent with that origin indication, and the RS it answered.
    const auto sent_ra = std::find_if(answered.begin(), answered.end(), embedded);
    const Packet* ra = sent_ra == answered.end() ? nullptr : *sent_ra;
    const Packet* rs = nullptr;
    for (const Packet* candidate : at_server) {
      if (ra != nullptr && candidate->source6 == ra->destination6 && candidate->frame < ra->frame) rs = candidate;
    }
    return finding('Q', "pass", "", "R4380-5.2.1-07",
                   fmt::format("the client qualified as {}: server {} and the NAT's mapping {}, as the origin "
                               "indication reported it; path: RS {} -> RA {} -> {}",
                               *e.client_address, lab::kServerPrimary,
                               endpoint_of(address->mapped_ipv4, address->mapped_port), rs ? rs->cite() : "?",
                               ra ? ra->cite() : "?", (*source)->cite()),
                   {rs, ra, *source});
  }

  // No address.
  if (!received.empty()) {
    std::set<std::pair<std::uint32_t, std::uint16_t>> mappings;
    for (const Packet* ra : received) {
      if (ra->origin) mappings.insert({ra->origin->address.value, ra->origin->port});
    }
    if (mappings.size() >= 2) {
      return finding('Q', "pass", "", "R4380-5.2.1-05",
                     fmt::format("the RAs the client received ({}) report {} different mappings: a symmetric NAT, "
                                 "behind which the client rightly configured no Teredo address",
                                 cites(received), mappings.size()),
                     {received.front(), received.back()});
    }
    return finding('Q', "fail", "client", "R4380-5.2.1-07",
                   fmt::format("RAs answering its RSs reached the client ({}) but it configured no Teredo address",
                               cites(received)),
                   {received.front()});
  }
  if (!answered.empty()) {
    return finding('Q', "inconclusive", "nat", "R4380-5.3.2-05",
                   fmt::format("the server answered ({}) but the {} NAT passed none of its RAs to the client",
                               cites(answered), e.nat_profile),
                   {answered.front()});
  }
  if (at_server.empty()) {
    return finding('Q', "inconclusive", "nat", "R4380-5.2.1-01",
                   fmt::format("none of the client's RSs ({}) reached the server through the {} NAT", cites(sent),
                               e.nat_profile),
                   {sent.front()});
  }
  const auto control = find_first(e, "server", [](const Packet& p) {
    return p.encapsulated && p.kind == Kind::ra && p.destination4 == kRelay4 && p.destination_port == kControlPort;
  });
  if (control != nullptr) {
    return finding('Q', "fail", "server", "R4380-5.3.1-05",
                   fmt::format("the server never answered the client's RSs ({}) though it answered the control RS "
                               "({})",
                               cites(at_server), control->cite()),
                   {at_server.front(), control});
  }
  return finding('Q', "inconclusive", "", "R4380-5.3.1-05",
                 fmt::format("the server answered neither the client's RSs ({}) nor the control RS", cites(at_server)),
                 {at_server.front()});
}

// ---------------------------------------------------------------- N

namespace {

// A datagram whose IPv6 source is a Teredo address embedding the datagram's
// own IPv4 source and port (RFC 4380 §5.4.2: what a relay accepts).
bool from_embedded_mapping(const Packet& p) {
  const auto source = wire::parse_teredo(p.source6);
  return source && source->mapped_ipv4 == p.source4 && source->mapped_port == p.source_port;
}

// The client's datagrams reached `vantage` only from another mapping than
// the one its address embeds (a NAT that maps each destination anew): the
// receiver may drop them (§5.4.2), so what follows proves nothing about it.
std::optional<Finding> from_other_mapping(const Evidence& e, const std::string& vantage,
                                          const wire::Ipv6Address& client) {
  const auto other = find_first(e, vantage, [&](const Packet& p) {
    return p.encapsulated && p.source6 == client && p.source4 == kNatOut && !from_embedded_mapping(p);
  });
  if (other == nullptr) return std::nullopt;
  const auto embedded = wire::parse_teredo(client);
  return finding('N', "inconclusive", "nat", "R4380-5.4.2-02",
                 fmt::format("the client's datagrams reached the {} ({}) from {}, not from the mapping its address "
                             "embeds ({}): the {} NAT mapped them anew, and RFC 4380 §5.4.2 has such packets dropped",
                             vantage, other->cite(), endpoint_of(other->source4, other->source_port),
                             embedded ? endpoint_of(embedded->mapped_ipv4, embedded->mapped_port) : "?",
                             e.nat_profile),
                 {other});
}

// An echo of `kind` whose data holds `marker`: the ping6 pattern of a
// direction, or the whole data of the client's direct connectivity test.
bool carries(const Packet& p, Kind kind, const std::string& marker) {
  return p.kind == kind && kit::contains(p.echo_data, marker);
}

// The packet `kind` marked `marker`, going from the native host to the
// client through the relay: reached the client's LAN (nullopt), or where it
// stopped and whose deviation stopped it.
std::optional<Finding> trace_to_client(const Evidence& e, const wire::Ipv6Address& client, Kind kind,
                                       const std::string& marker, const std::string& what) {
  const auto delivered = find_first(e, "client-lan", [&](const Packet& p) {
    return p.encapsulated && p.destination4 == kClientLan && carries(p, kind, marker);
  });
  if (delivered != nullptr) return std::nullopt;
  const auto at_relay = find_first(e, "relay-native",
                                   [&](const Packet& p) { return !p.encapsulated && carries(p, kind, marker); });
  if (at_relay == nullptr) {
    return finding('N', "inconclusive", "", "R4380-5.4.2-04",
                   fmt::format("{} never reached the relay's native side: the lab's IPv6 routing, not a party", what));
  }
  const auto relay_sent = find_first(e, "relay", [&](const Packet& p) {
    return p.encapsulated && p.source4 == kRelay4 && p.destination4 == kNatOut && carries(p, kind, marker);
  });
  if (relay_sent != nullptr) {
    return finding('N', "inconclusive", "nat", "R4380-5.4.1-03",
                   fmt::format("the relay sent {} to the client's mapping ({}) but the {} NAT did not pass it", what,
                               relay_sent->cite(), e.nat_profile),
                   {at_relay, relay_sent});
  }
  const auto client_bubble = find_first(e, "relay", [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.destination4 == kRelay4 && p.source6 == client &&
           from_embedded_mapping(p);
  });
  if (client_bubble == nullptr) {
    if (const auto remapped = from_other_mapping(e, "relay", client)) return *remapped;
  }
  if (client_bubble != nullptr) {
    return finding('N', "fail", "relay", "R4380-5.4.1-08",
                   fmt::format("the relay received {} ({}) and then the client's bubble ({}) but never sent the "
                               "packet to the client",
                               what, at_relay->cite(), client_bubble->cite()),
                   {at_relay, client_bubble});
  }
  const auto via_server = find_first(e, "relay", [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.source4 == kRelay4 && is_server(p.destination4) &&
           p.destination6 == client;
  });
  const auto direct = find_first(e, "relay", [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.source4 == kRelay4 && p.destination4 == kNatOut &&
           p.destination6 == client;
  });
  if (via_server == nullptr && direct == nullptr) {
    return finding('N', "fail", "relay", "R4380-5.4.1-05",
                   fmt::format("the relay received {} ({}) but never forwarded it nor bubbled toward the client",
                               what, at_relay->cite()),
                   {at_relay});
  }
  if (via_server != nullptr) {
    const auto server_got = find_first(e, "server", [&](const Packet& p) {
      return p.encapsulated && p.kind == Kind::bubble && p.source4 == kRelay4 && p.destination6 == client;
    });
    const auto server_fwd = find_first(e, "server", [&](const Packet& p) {
      return p.encapsulated && p.kind == Kind::bubble && is_server(p.source4) && p.destination4 == kNatOut &&
             p.destination6 == client;
    });
    if (server_got != nullptr && server_fwd == nullptr) {
      return finding('N', "fail", "server", "R4380-5.3.1-15",
                     fmt::format("the server received the relay's bubble for its client ({}) but never forwarded it "
                                 "to the client's mapping",
                                 server_got->cite()),
                     {via_server, server_got});
    }
    const auto client_got = find_first(e, "client-lan", [&](const Packet& p) {
      return p.encapsulated && p.kind == Kind::bubble && is_server(p.source4) && p.destination6 == client;
    });
    if (server_fwd != nullptr && client_got == nullptr) {
      return finding('N', "inconclusive", "nat", "R4380-5.3.1-15",
                     fmt::format("the server forwarded the relay's bubble ({}) but the {} NAT did not pass it",
                                 server_fwd->cite(), e.nat_profile),
                     {server_fwd});
    }
    if (client_got != nullptr) {
      const auto client_answered = find_first(e, "client-lan", [&](const Packet& p) {
        return p.encapsulated && p.kind == Kind::bubble && p.source4 == kClientLan && p.destination4 == kRelay4;
      });
      if (client_answered == nullptr) {
        return finding('N', "fail", "client", "R4380-5.2.3-04",
                       fmt::format("the client received the relay's bubble through its server with an origin "
                                   "indication ({}) but never sent a bubble to the relay",
                                   client_got->cite()),
                       {client_got});
      }
      return finding('N', "inconclusive", "nat", "R4380-5.2.3-04",
                     fmt::format("the client's bubble to the relay ({}) never reached the relay through the {} NAT",
                                 client_answered->cite(), e.nat_profile),
                     {client_answered});
    }
  }
  return finding('N', "inconclusive", "nat", "R4380-5.4.1-05",
                 fmt::format("the relay reached for the client ({}) but nothing came back through the {} NAT",
                             (direct != nullptr ? direct : via_server)->cite(), e.nat_profile),
                 {direct != nullptr ? direct : via_server});
}

// The packet `kind` marked `marker` from the client to the native host.
std::optional<Finding> trace_to_native(const Evidence& e, Kind kind, const std::string& marker,
                                       const std::string& what, bool client_owes_it) {
  const auto delivered = find_first(e, "native-host", [&](const Packet& p) {
    return !p.encapsulated && p.destination6 == kV6Host && carries(p, kind, marker);
  });
  if (delivered != nullptr) return std::nullopt;
  const auto left = find_first(e, "client-lan", [&](const Packet& p) {
    return p.encapsulated && p.source4 == kClientLan && carries(p, kind, marker);
  });
  if (left == nullptr) {
    if (client_owes_it) {
      return finding('N', "fail", "client", "R4380-5.2.3-05",
                     fmt::format("the client received the native host's echo request but never sent {}", what));
    }
    return finding('N', "inconclusive", "", "R4380-5.2.4-03",
                   fmt::format("the client never sent {}; silence proves nothing about what it would have sent",
                               what));
  }
  if (left->destination4 == kRelay4) {
    const auto got = find_first(e, "relay", [&](const Packet& p) {
      return p.encapsulated && p.destination4 == kRelay4 && carries(p, kind, marker) && from_embedded_mapping(p);
    });
    if (got == nullptr) {
      if (const auto remapped = from_other_mapping(e, "relay", left->source6)) return *remapped;
    }
    if (got == nullptr) {
      return finding('N', "inconclusive", "nat", "R4380-5.4.2-04",
                     fmt::format("the client sent {} to the relay ({}) but the {} NAT did not pass it", what,
                                 left->cite(), e.nat_profile),
                     {left});
    }
    return finding('N', "fail", "relay", "R4380-5.4.2-04",
                   fmt::format("the relay received {} from the client ({}) but never delivered it to the native host",
                               what, got->cite()),
                   {left, got});
  }
  if (is_server(left->destination4)) {
    const auto got = find_first(e, "server", [&](const Packet& p) {
      return p.encapsulated && is_server(p.destination4) && carries(p, kind, marker);
    });
    if (got == nullptr) {
      return finding('N', "inconclusive", "nat", "R4380-5.3.1-12",
                     fmt::format("the client sent {} to its server ({}) but the {} NAT did not pass it", what,
                                 left->cite(), e.nat_profile),
                     {left});
    }
    return finding('N', "fail", "server", "R4380-5.3.1-12",
                   fmt::format("the server received {} from the client ({}) but never routed it to the native host",
                               what, got->cite()),
                   {left, got});
  }
  return finding('N', "fail", "client", "R4380-5.2.4-03",
                 fmt::format("the client sent {} ({}) to {}, neither its server nor the relay", what, left->cite(),
                             wire::to_string(left->destination4)),
                 {left});
}

// Where one marked packet was seen, vantage by vantage in the direction it
// travelled: the path.
std::string path_of(const Evidence& e, Kind kind, const char* marker, bool toward_client) {
  std::vector<std::string> hops;
  for (const VantagePoint& v : kVantagePoints) {
    if (const auto p = find_first(e, v.name, [&](const Packet& q) { return carries(q, kind, marker); })) {
      hops.push_back(p->cite());
    }
  }
  if (toward_client) std::reverse(hops.begin(), hops.end());
  return fmt::format("{}", fmt::join(hops, " -> "));
}

}  // namespace

Finding judge_native(const Evidence& e) {
  if (auto d = death('N', e, {"client", "server", "relay"})) return *d;
  if (!e.client_address) {
    // A client that rightly stayed unqualified behind a symmetric NAT (Q
    // passed on §5.2.1) has no address to reach: N does not apply.
    const Finding q = judge_qualification(e);
    if (q.verdict == "pass" && q.requirement == "R4380-5.2.1-05") {
      return finding('N', "not-applicable", "", "R4380-5.2.1-05",
                     "the client rightly stayed unqualified behind a symmetric NAT (see Q): Teredo does not "
                     "operate there, there is no Teredo address to reach");
    }
  }
  if (!e.client_address || !e.pinged) {
    return finding('N', "inconclusive", "", "R4380-5.2.1-07",
                   "the client has no Teredo address (see Q): there is nothing to reach through the relay");
  }
  const auto client = wire::parse_ipv6(*e.client_address);
  if (!client) return finding('N', "error", "", "", "the client's address does not parse: a harness fault");

  // client -> native host: the request, then the reply. A client holds its
  // first packet to a native host until its direct connectivity test
  // (§5.2.9: an echo request of its own through its server, answered through
  // the relay) succeeds; when the request never left, that test is traced.
  const bool request_left = find_first(e, "client-lan", [](const Packet& p) {
                              return p.encapsulated && p.source4 == kClientLan &&
                                     carries(p, Kind::echo_request, kOutMarker);
                            }) != nullptr;
  if (!request_left) {
    const auto test = find_first(e, "client-lan", [](const Packet& p) {
      return p.encapsulated && p.source4 == kClientLan && p.kind == Kind::echo_request && p.destination6 == kV6Host &&
             !p.echo_data.empty();
    });
    if (test != nullptr) {
      const std::string data(test->echo_data.begin(), test->echo_data.end());
      const std::string what = fmt::format("its direct connectivity test ({})", test->cite());
      if (auto f = trace_to_native(e, Kind::echo_request, data, what, false)) return *f;
      if (auto f = trace_to_client(e, *client, Kind::echo_reply, data,
                                   fmt::format("the native host's reply to the client's direct connectivity test ({})",
                                               test->cite()))) {
        return *f;
      }
      return finding('N', "fail", "client", "R4380-5.2.4-03",
                     fmt::format("the client's direct connectivity test ({}) was answered but the client never sent "
                                 "the echo request it held for the native host",
                                 test->cite()),
                     {test});
    }
  }
  if (auto f = trace_to_native(e, Kind::echo_request, kOutMarker, "its echo request to the native host", false)) {
    return *f;
  }
  if (find_first(e, "native-host", [](const Packet& p) { return carries(p, Kind::echo_reply, kOutMarker); }) ==
      nullptr) {
    return finding('N', "inconclusive", "", "",
                   "the native host did not answer the client's echo request: the lab's host, not a party");
  }
  if (auto f = trace_to_client(e, *client, Kind::echo_reply, kOutMarker, "the native host's echo reply")) return *f;

  // native host -> client: the request, then the reply.
  if (find_first(e, "native-host", [](const Packet& p) { return carries(p, Kind::echo_request, kInMarker); }) ==
      nullptr) {
    return finding('N', "error", "", "", "the native host's ping6 sent nothing: a harness fault");
  }
  if (auto f = trace_to_client(e, *client, Kind::echo_request, kInMarker, "the native host's echo request")) {
    return *f;
  }
  if (auto f = trace_to_native(e, Kind::echo_reply, kInMarker, "its echo reply", true)) return *f;

  return finding('N', "pass", "", "R4380-5.4.2-04",
                 fmt::format("ping6 both ways. client->native request: {}; reply: {}. native->client request: {}; "
                             "reply: {}",
                             path_of(e, Kind::echo_request, kOutMarker, false),
                             path_of(e, Kind::echo_reply, kOutMarker, true), path_of(e, Kind::echo_request, kInMarker, true),
                             path_of(e, Kind::echo_reply, kInMarker, false)),
                 {find_first(e, "client-lan", [](const Packet& p) { return carries(p, Kind::echo_reply, kOutMarker); }),
                  find_first(e, "client-lan", [](const Packet& p) { return carries(p, Kind::echo_request, kInMarker); })});
}

// ---------------------------------------------------------------- D

namespace {

struct Side {
  const char* name;     // "client A"
  const char* lan;      // its capture
  const char* outside;  // its NAT's outside capture
  wire::Ipv4Address lan4, mapped4;
  wire::Ipv6Address address;
};

// X's packet `kind` marked `marker` toward Y: reached Y's LAN (nullopt), or
// where it stopped and whose deviation stopped it.
std::optional<Finding> trace_peer(const Evidence& e, const Side& x, const Side& y, Kind kind, const char* marker,
                                  const std::string& what, bool x_owes_it) {
  const auto at_y = find_first(e, y.lan, [&](const Packet& p) {
    return p.encapsulated && p.destination4 == y.lan4 && carries(p, kind, marker);
  });
  if (at_y != nullptr) return std::nullopt;
  const auto left = find_first(e, x.lan, [&](const Packet& p) {
    return p.encapsulated && p.source4 == x.lan4 && carries(p, kind, marker);
  });
  if (left != nullptr) {
    if (is_server(left->destination4)) {
      return finding('D', "fail", "client", "R4380-5.2.4-06",
                     fmt::format("{} sent {} ({}) to its server instead of the peer's mapping", x.name, what,
                                 left->cite()),
                     {left});
    }
    const auto arrived = find_first(e, y.outside, [&](const Packet& p) {
      return p.encapsulated && p.destination4 == y.mapped4 && carries(p, kind, marker);
    });
    return finding('D', "inconclusive", "nat", "R4380-5.2.4-06",
                   fmt::format("{} sent {} ({}){}; the {} NAT did not pass it to {}", x.name, what, left->cite(),
                               arrived ? fmt::format(", it reached {}'s NAT ({})", y.name, arrived->cite()) : "",
                               e.nat_profile, y.name),
                   {left, arrived});
  }
  if (x_owes_it) {
    return finding('D', "fail", "client", "R4380-5.2.3-05",
                   fmt::format("{} received the echo request but never sent {}", x.name, what));
  }
  // The request is held until the peer is trusted (§5.2.4 case 5): trace the
  // bubbles that open the path.
  const auto indirect = find_first(e, x.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.source4 == x.lan4 && is_server(p.destination4) &&
           p.destination6 == y.address;
  });
  const auto peer_bubble = find_first(e, x.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.destination4 == x.lan4 && p.source6 == y.address;
  });
  if (peer_bubble != nullptr) {
    return finding('D', "fail", "client", "R4380-5.2.3-10",
                   fmt::format("{} received {}'s direct bubble ({}) but never sent the packet it held for it", x.name,
                               y.name, peer_bubble->cite()),
                   {peer_bubble});
  }
  if (indirect == nullptr) {
    return finding('D', "inconclusive", "", "R4380-5.2.4-06",
                   fmt::format("{} sent neither {} nor a bubble through its server toward {}; silence proves nothing "
                               "about what it would have sent",
                               x.name, what, y.name));
  }
  const auto server_fwd = find_first(e, "d-server", [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && is_server(p.source4) && p.destination4 == y.mapped4 &&
           p.destination6 == y.address;
  });
  const auto server_got = find_first(e, "d-server", [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && is_server(p.destination4) && p.destination6 == y.address;
  });
  if (server_got != nullptr && server_fwd == nullptr) {
    return finding('D', "fail", "server", "R4380-5.3.1-15",
                   fmt::format("the server received {}'s bubble for {} ({}) but never forwarded it to {}'s mapping",
                               x.name, y.name, server_got->cite(), y.name),
                   {server_got});
  }
  const auto y_got = find_first(e, y.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && is_server(p.source4) && p.destination6 == y.address;
  });
  if (y_got == nullptr) {
    return finding('D', "inconclusive", "nat", "R4380-5.3.1-15",
                   fmt::format("{}'s bubble through the server ({}) never reached {} through the {} NAT", x.name,
                               indirect->cite(), y.name, e.nat_profile),
                   {indirect, server_fwd});
  }
  const auto y_answered = find_first(e, y.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.source4 == y.lan4 && !is_server(p.destination4);
  });
  if (y_answered == nullptr) {
    return finding('D', "fail", "client", "R4380-5.2.3-04",
                   fmt::format("{} received {}'s bubble through its server with an origin indication ({}) but never "
                               "sent a direct bubble back",
                               y.name, x.name, y_got->cite()),
                   {y_got});
  }
  return finding('D', "inconclusive", "nat", "R4380-5.2.3-04",
                 fmt::format("{}'s direct bubble ({}) never reached {} through the {} NAT", y.name, y_answered->cite(),
                             x.name, e.nat_profile),
                 {y_answered});
}

}  // namespace

Finding judge_direct(const Evidence& e) {
  if (auto d = death('D', e, {"client", "server"})) return *d;
  if (!e.direct_a || !e.direct_b) {
    // Client A stands where Q's client stands (192.0.2.10 behind
    // 198.51.100.1): Q's judgement of its captures says whether it rightly
    // stayed unqualified behind a symmetric NAT, where D does not apply.
    Evidence as_q = e;
    as_q.client_address = e.direct_a;
    for (Packet& p : as_q.packets) {
      if (p.vantage == "d-client-a-lan") p.vantage = "client-lan";
      if (p.vantage == "d-server") p.vantage = "server";
    }
    const Finding q = judge_qualification(as_q);
    if (!e.direct_a && q.verdict == "pass" && q.requirement == "R4380-5.2.1-05") {
      return finding('D', "not-applicable", "", "R4380-5.2.1-05",
                     "client A rightly stayed unqualified behind a symmetric NAT: Teredo does not operate there, "
                     "there is no peer to reach");
    }
    return finding('D', "inconclusive", "", "R4380-5.2.1-07",
                   fmt::format("client {} did not qualify in the two-client lab: there is no peer address to reach",
                               !e.direct_a ? "A" : "B"));
  }
  const auto a6 = wire::parse_ipv6(*e.direct_a);
  const auto b6 = wire::parse_ipv6(*e.direct_b);
  if (!a6 || !b6) return finding('D', "error", "", "", "a client's address does not parse: a harness fault");
  const Side a{"client A", "d-client-a-lan", "d-nat-a-outside", kit::ipv4(kClientALan), kit::ipv4(kNatAOutside), *a6};
  const Side b{"client B", "d-client-b-lan", "d-nat-b-outside", kit::ipv4(kClientBLan), kit::ipv4(kNatBOutside), *b6};
  if (auto f = trace_peer(e, a, b, Kind::echo_request, kAtoBMarker, "its echo request to client B", false)) return *f;
  if (auto f = trace_peer(e, b, a, Kind::echo_reply, kAtoBMarker, "its echo reply to client A", true)) return *f;
  if (auto f = trace_peer(e, b, a, Kind::echo_request, kBtoAMarker, "its echo request to client A", false)) return *f;
  if (auto f = trace_peer(e, a, b, Kind::echo_reply, kBtoAMarker, "its echo reply to client B", true)) return *f;
  // Direct: each marked packet crossed from one NAT's outside straight to
  // the other's, and none went through the server.
  for (const char* marker : {kAtoBMarker, kBtoAMarker}) {
    if (const auto via = find_first(e, "d-server", [&](const Packet& p) {
          return carries(p, Kind::echo_request, marker) || carries(p, Kind::echo_reply, marker);
        })) {
      return finding('D', "fail", "client", "R4380-5.2.4-06",
                     fmt::format("the ping went through the server ({}), not directly between the clients",
                                 via->cite()),
                     {via});
    }
  }
  const auto crossed = [&](const Side& to, const Side& from, Kind kind, const char* marker) {
    return find_first(e, to.outside, [&](const Packet& p) {
      return p.encapsulated && p.source4 == from.mapped4 && p.destination4 == to.mapped4 && carries(p, kind, marker);
    });
  };
  const Packet* hops[] = {crossed(b, a, Kind::echo_request, kAtoBMarker), crossed(a, b, Kind::echo_reply, kAtoBMarker),
                          crossed(a, b, Kind::echo_request, kBtoAMarker), crossed(b, a, Kind::echo_reply, kBtoAMarker)};
  for (const Packet* hop : hops) {
    if (hop == nullptr) {
      return finding('D', "inconclusive", "", "R4380-5.2.4-06",
                     "the ping went both ways but a marked packet was not seen crossing between the NATs' outsides");
    }
  }
  return finding('D', "pass", "", "R4380-5.2.4-06",
                 fmt::format("ping6 both ways, directly: A->B request {}, reply {}; B->A request {}, reply {} (each "
                             "from one NAT's outside to the other's); none through the server",
                             hops[0]->cite(), hops[1]->cite(), hops[2]->cite(), hops[3]->cite()),
                 {hops[0], hops[1], hops[2], hops[3]});
}

Finding judge(char scenario, const Evidence& e) {
  switch (scenario) {
    case 'Q':
      return judge_qualification(e);
    case 'N':
      return judge_native(e);
    case 'D':
      return judge_direct(e);
    default:
      return finding(scenario, "error", "", "", fmt::format("no judgement for scenario {}", scenario));
  }
}

}  // namespace teredo::conformance::interop
