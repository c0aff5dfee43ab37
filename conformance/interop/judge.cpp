#include "interop/judge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <regex>
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
      if (const auto& a = d->datagram->authentication) {
        p.nonce = a->nonce;
        const wire::Bytes secret = kit::bytes_of(lab::kSecret);
        p.auth = Packet::Authentication{std::string(a->client_id.begin(), a->client_id.end()),
                                        a->authentication_value.size(), a->confirmation,
                                        wire::verify_authentication(*d->datagram, wire::MacAlgorithm::hmac_sha1, secret),
                                        wire::verify_authentication(*d->datagram, wire::MacAlgorithm::hmac_md5, secret)};
      }
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

// The RAs a client's LAN capture holds from a server with an origin
// indication, and how many distinct mappings a set of RAs reports (two or
// more: the client is behind a symmetric NAT, RFC 4380 §5.2.1).
std::vector<const Packet*> ras_with_origin(const Evidence& e, const std::string& lan) {
  return find_all(e, lan, [](const Packet& p) {
    return p.encapsulated && p.kind == Kind::ra && is_server(p.source4) && p.origin.has_value();
  });
}
std::size_t reported_mappings(const std::vector<const Packet*>& ras) {
  std::set<std::pair<std::uint32_t, std::uint16_t>> mappings;
  for (const Packet* ra : ras) {
    if (ra->origin) mappings.insert({ra->origin->address.value, ra->origin->port});
  }
  return mappings.size();
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

// The RS an RA answers: sent to the mapping the RS came from (§5.3.2), to
// its link-local source, before it. Every RS carries the same link-local
// source, so the mapping tells apart the RSs of two mappings (a symmetric
// NAT's, two clients behind one NAT) that precede their RAs.
bool answers(const Packet& ra, const Packet& rs) {
  return rs.source6 == ra.destination6 && rs.source4 == ra.destination4 && rs.source_port == ra.destination_port &&
         rs.frame < ra.frame;
}

// The server's RAs to the client's mapping, each against the RS it answers:
// §5.3.2's origin indication and prefix.
std::optional<Finding> server_ra_problem(const Evidence& e) {
  const auto rss = find_all(e, "server", mapped_rs);
  for (const Packet* ra : find_all(e, "server", ra_to_mapping)) {
    const Packet* rs = nullptr;
    for (const Packet* candidate : rss) {
      if (answers(*ra, *candidate)) rs = candidate;
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
      if (ra != nullptr && answers(*ra, *candidate)) rs = candidate;
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
    if (const std::size_t mappings = reported_mappings(received); mappings >= 2) {
      return finding('Q', "pass", "", "R4380-5.2.1-05",
                     fmt::format("the RAs the client received ({}) report {} different mappings: a symmetric NAT, "
                                 "behind which the client rightly configured no Teredo address",
                                 cites(received), mappings),
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
    const auto client_got_any = find_first(e, "client-lan", [&](const Packet& p) {
      return p.encapsulated && p.kind == Kind::bubble && is_server(p.source4) && p.destination6 == client;
    });
    // The client owes the relay a bubble only when the origin indication
    // names the relay's endpoint (§5.2.3); the server should insert it
    // (R4380-5.3.1-16).
    const auto client_got = find_first(e, "client-lan", [&](const Packet& p) {
      return p.encapsulated && p.kind == Kind::bubble && is_server(p.source4) && p.destination6 == client &&
             p.origin.has_value();
    });
    if (client_got_any != nullptr && client_got == nullptr) {
      return finding('N', "fail", "server", "R4380-5.3.1-16",
                     fmt::format("the server forwarded the relay's bubble to its client ({}) without an origin "
                                 "indication: the client has no relay endpoint to answer",
                                 client_got_any->cite()),
                     {client_got_any});
    }
    if (server_fwd != nullptr && client_got == nullptr) {
      return finding('N', "inconclusive", "nat", "R4380-5.3.1-15",
                     fmt::format("the server forwarded the relay's bubble ({}) but the {} NAT did not pass it",
                                 server_fwd->cite(), e.nat_profile),
                     {server_fwd});
    }
    if (client_got != nullptr) {
      // From the address the relay bubbled (R's captures hold N's bubbles
      // from the old address).
      const auto client_answered = find_first(e, "client-lan", [&](const Packet& p) {
        return p.encapsulated && p.kind == Kind::bubble && p.source4 == kClientLan && p.destination4 == kRelay4 &&
               p.source6 == client;
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

// N's judgement of one pair of pings from `address`, each direction marked
// (N: kOutMarker/kInMarker; R, after the rebind: kRebindOutMarker/kRebindInMarker).
Finding native_reachability(const Evidence& e, const std::string& address, const char* out_marker,
                            const char* in_marker) {
  const auto client = wire::parse_ipv6(address);
  if (!client) return finding('N', "error", "", "", "the client's address does not parse: a harness fault");

  // client -> native host: the request, then the reply. A client holds its
  // first packet to a native host until its direct connectivity test
  // (§5.2.9: an echo request of its own through its server, answered through
  // the relay) succeeds; when the request never left, that test is traced.
  const bool request_left = find_first(e, "client-lan", [&](const Packet& p) {
                              return p.encapsulated && p.source4 == kClientLan &&
                                     carries(p, Kind::echo_request, out_marker);
                            }) != nullptr;
  if (!request_left) {
    // The test the held request caused comes before anything of the native
    // host's own ping (the pings run one after the other): a test after its
    // first packet may be for that packet instead (§5.2.3 case 6).
    const auto inbound = find_first(e, "client-lan", [&](const Packet& p) {
      return p.encapsulated && p.destination4 == kClientLan && carries(p, Kind::echo_request, in_marker);
    });
    const auto test = find_first(e, "client-lan", [&](const Packet& p) {
      return p.encapsulated && p.source4 == kClientLan && p.kind == Kind::echo_request && p.source6 == *client &&
             p.destination6 == kV6Host && !p.echo_data.empty() && (inbound == nullptr || p.frame < inbound->frame);
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
  if (auto f = trace_to_native(e, Kind::echo_request, out_marker, "its echo request to the native host", false)) {
    return *f;
  }
  if (find_first(e, "native-host", [&](const Packet& p) { return carries(p, Kind::echo_reply, out_marker); }) ==
      nullptr) {
    return finding('N', "inconclusive", "", "",
                   "the native host did not answer the client's echo request: the lab's host, not a party");
  }
  if (auto f = trace_to_client(e, *client, Kind::echo_reply, out_marker, "the native host's echo reply")) return *f;

  // native host -> client: the request, then the reply.
  if (find_first(e, "native-host", [&](const Packet& p) { return carries(p, Kind::echo_request, in_marker); }) ==
      nullptr) {
    return finding('N', "error", "", "", "the native host's ping6 sent nothing: a harness fault");
  }
  if (auto f = trace_to_client(e, *client, Kind::echo_request, in_marker, "the native host's echo request")) {
    return *f;
  }
  if (auto f = trace_to_native(e, Kind::echo_reply, in_marker, "its echo reply", true)) return *f;

  return finding('N', "pass", "", "R4380-5.4.2-04",
                 fmt::format("ping6 both ways. client->native request: {}; reply: {}. native->client request: {}; "
                             "reply: {}",
                             path_of(e, Kind::echo_request, out_marker, false),
                             path_of(e, Kind::echo_reply, out_marker, true), path_of(e, Kind::echo_request, in_marker, true),
                             path_of(e, Kind::echo_reply, in_marker, false)),
                 {find_first(e, "client-lan", [&](const Packet& p) { return carries(p, Kind::echo_reply, out_marker); }),
                  find_first(e, "client-lan", [&](const Packet& p) { return carries(p, Kind::echo_request, in_marker); })});
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
  return native_reachability(e, *e.client_address, kOutMarker, kInMarker);
}

// ---------------------------------------------------------------- D

namespace {

struct Side {
  std::string name;     // "client A (reference)"
  std::string lan;      // its capture
  std::string outside;  // its NAT's outside capture
  wire::Ipv4Address lan4, mapped4;
  wire::Ipv6Address address;
  std::string server;   // the server's capture in this lab
};

// A finding of one scenario's judgement given as another's: the two-client
// scenarios (D, H) trace the same hops.
Finding as_scenario(Finding f, char letter) {
  f.scenario = letter;
  return f;
}

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
    // Neither the server nor the NAT y's address embeds (nor y's own LAN
    // address, which RFC 6081's alternate addresses may name): no NAT of the
    // lab can pass it to y. The port is not checked: RFC 6081's random ports
    // (E) rightly differ from the embedded one.
    if (left->destination4 != y.mapped4 && left->destination4 != y.lan4) {
      return finding('D', "fail", "client", "R4380-5.2.4-06",
                     fmt::format("{} sent {} ({}) to {}, which is neither its server nor {}'s NAT {} that {}'s "
                                 "address embeds",
                                 x.name, what, left->cite(), endpoint_of(left->destination4, left->destination_port),
                                 y.name, wire::to_string(y.mapped4), y.name),
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
    // x owes the reply only to a request it may accept: one from the mapping
    // y's address embeds (§5.2.3 case 3). From another mapping (a NAT that
    // mapped y's packet anew) §5.2.3 has x not trust it (R4380-5.2.3-18).
    // A request the server relayed came from no mapping of y's: y sent it to
    // its server instead of x's mapping (§5.2.4 case 5).
    const auto request = find_first(e, x.lan, [&](const Packet& p) {
      return p.encapsulated && p.destination4 == x.lan4 && carries(p, Kind::echo_request, marker) &&
             !is_server(p.source4);
    });
    const auto relayed = find_first(e, x.lan, [&](const Packet& p) {
      return p.encapsulated && p.destination4 == x.lan4 && carries(p, Kind::echo_request, marker) &&
             is_server(p.source4);
    });
    if (request == nullptr && relayed != nullptr) {
      const auto sent = find_first(e, y.lan, [&](const Packet& p) {
        return p.encapsulated && p.source4 == y.lan4 && is_server(p.destination4) &&
               carries(p, Kind::echo_request, marker);
      });
      return finding('D', "fail", "client", "R4380-5.2.4-06",
                     fmt::format("{} sent its echo request to {} to its server ({}) instead of {}'s mapping; the "
                                 "server relayed it ({})",
                                 y.name, x.name, sent ? sent->cite() : "not seen leaving it", x.name,
                                 relayed->cite()),
                     {sent, relayed});
    }
    const auto embedded = wire::parse_teredo(y.address);
    if (request != nullptr && embedded && request->source4 != y.lan4 &&
        (request->source4 != embedded->mapped_ipv4 || request->source_port != embedded->mapped_port)) {
      return finding('D', "inconclusive", "nat", "R4380-5.2.3-18",
                     fmt::format("{}'s echo request reached {} ({}) from {}, not from the mapping {}'s address embeds "
                                 "({}): the {} NAT mapped it anew, and RFC 4380 §5.2.3 has such a packet not trusted",
                                 y.name, x.name, request->cite(), endpoint_of(request->source4, request->source_port),
                                 y.name, endpoint_of(embedded->mapped_ipv4, embedded->mapped_port), e.nat_profile),
                     {request});
    }
    return finding('D', "fail", "client", "R4380-5.2.3-05",
                   fmt::format("{} received the echo request but never sent {}", x.name, what));
  }
  // The request is held until the peer is trusted (§5.2.4 case 5): trace the
  // bubbles that open the path.
  const auto indirect = find_first(e, x.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.source4 == x.lan4 && is_server(p.destination4) &&
           p.destination6 == y.address;
  });
  // y's direct bubble: from y's NAT, not the server (a bubble the server
  // forwards with an origin indication opens nothing, §5.2.3 case 4; x owes
  // it a direct bubble, traced below).
  const auto peer_bubble = find_first(e, x.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.destination4 == x.lan4 && p.source6 == y.address &&
           !is_server(p.source4);
  });
  const auto y_embedded = wire::parse_teredo(y.address);
  if (peer_bubble != nullptr && y_embedded && peer_bubble->source4 != y.lan4 &&
      (peer_bubble->source4 != y_embedded->mapped_ipv4 || peer_bubble->source_port != y_embedded->mapped_port)) {
    // RFC 4380 §5.2.3 trusts a peer only from the mapping its address
    // embeds; RFC 6081's nonce and random-port rules (§5.2.4, §5.4.4.5) may
    // trust another, and the client cases judge those, not this trace.
    return finding('D', "inconclusive", "nat", "R4380-5.2.3-18",
                   fmt::format("{}'s direct bubble reached {} ({}) from {}, not from the mapping {}'s address embeds "
                               "({}): the {} NAT mapped it anew; RFC 4380 §5.2.3 does not trust such a bubble (RFC "
                               "6081's nonce and random-port rules may, and the client cases judge them)",
                               y.name, x.name, peer_bubble->cite(),
                               endpoint_of(peer_bubble->source4, peer_bubble->source_port), y.name,
                               endpoint_of(y_embedded->mapped_ipv4, y_embedded->mapped_port), e.nat_profile),
                   {peer_bubble});
  }
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
  const auto server_fwd = find_first(e, x.server, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && is_server(p.source4) && p.destination4 == y.mapped4 &&
           p.destination6 == y.address;
  });
  const auto server_got = find_first(e, x.server, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && is_server(p.destination4) && p.destination6 == y.address;
  });
  if (server_got != nullptr && server_fwd == nullptr) {
    return finding('D', "fail", "server", "R4380-5.3.1-15",
                   fmt::format("the server received {}'s bubble for {} ({}) but never forwarded it to {}'s mapping",
                               x.name, y.name, server_got->cite(), y.name),
                   {server_got});
  }
  const auto y_got_any = find_first(e, y.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && is_server(p.source4) && p.destination6 == y.address;
  });
  if (y_got_any == nullptr) {
    return finding('D', "inconclusive", "nat", "R4380-5.3.1-15",
                   fmt::format("{}'s bubble through the server ({}) never reached {} through the {} NAT", x.name,
                               indirect->cite(), y.name, e.nat_profile),
                   {indirect, server_fwd});
  }
  // y owes a direct bubble only to one whose origin indication names x's
  // mapping (§5.2.3); the server should insert it (R4380-5.3.1-16).
  const auto y_got = find_first(e, y.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && is_server(p.source4) && p.destination6 == y.address &&
           p.origin.has_value();
  });
  if (y_got == nullptr) {
    return finding('D', "fail", "server", "R4380-5.3.1-16",
                   fmt::format("the server forwarded {}'s bubble to {} ({}) without an origin indication: {} has no "
                               "mapping of {} to answer",
                               x.name, y.name, y_got_any->cite(), y.name, x.name),
                   {y_got_any});
  }
  // y's direct bubble toward x's NAT (not a local discovery bubble to the
  // multicast group, not a bubble to a server).
  const auto y_answered = find_first(e, y.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.source4 == y.lan4 && p.destination4 == x.mapped4;
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

// The evidence of a scenario's own lab (captures "<prefix><vantage>") as Q's
// (client-lan, nat-outside, server), with `client` as the client's address:
// Q's judgement of those captures. Client A of D, L and H stands where Q's
// client stands (192.0.2.10 behind 198.51.100.1).
Evidence as_qualification(const Evidence& e, const std::string& prefix, std::optional<std::string> client) {
  Evidence as_q = e;
  as_q.client_address = std::move(client);
  for (Packet& p : as_q.packets) {
    if (p.vantage == prefix + "client-a-lan" || p.vantage == prefix + "client-lan") p.vantage = "client-lan";
    if (p.vantage == prefix + "server") p.vantage = "server";
    if (p.vantage == prefix + "nat-outside") p.vantage = "nat-outside";
  }
  return as_q;
}

// A two-client scenario where a client has no address: not-applicable when
// client A rightly stayed unqualified behind a symmetric NAT (Q's judgement
// of its captures), else inconclusive.
std::optional<Finding> pair_unqualified(const Evidence& e, char letter, const std::string& prefix) {
  if (e.direct_a && e.direct_b) return std::nullopt;
  const Finding q = judge_qualification(as_qualification(e, prefix, e.direct_a));
  if (!e.direct_a && q.verdict == "pass" && q.requirement == "R4380-5.2.1-05") {
    return finding(letter, "not-applicable", "", "R4380-5.2.1-05",
                   fmt::format("{} rightly stayed unqualified behind a symmetric NAT: Teredo does not operate there, "
                               "there is no peer to reach",
                               e.client_a_name));
  }
  if (e.direct_a && !e.direct_b) {
    // Client B (another implementation, in D) behind its own NAT: the RAs it
    // received reporting two mappings show the symmetric NAT (§5.2.1).
    const auto ras = ras_with_origin(e, prefix + "client-b-lan");
    if (const std::size_t mappings = reported_mappings(ras); mappings >= 2) {
      return finding(letter, "not-applicable", "", "R4380-5.2.1-05",
                     fmt::format("{} rightly stayed unqualified behind a symmetric NAT (its RAs {} report {} "
                                 "mappings): there is no peer to reach",
                                 e.client_b_name, cites(ras), mappings),
                     {ras.front(), ras.back()});
    }
  }
  return finding(letter, "inconclusive", "", "R4380-5.2.1-07",
                 fmt::format("{} did not qualify in the two-client lab: there is no peer address to reach",
                             !e.direct_a ? e.client_a_name : e.client_b_name));
}

}  // namespace

namespace {

// D's judgement of a two-NAT lab whose captures are named `prefix`<vantage>
// (D: "d-", E: "e-"), given as scenario `letter`.
Finding direct_path(const Evidence& e, char letter, const std::string& prefix) {
  if (auto d = death(letter, e, {"client", "server"})) return *d;
  if (auto f = pair_unqualified(e, letter, prefix)) return *f;
  const auto a6 = wire::parse_ipv6(*e.direct_a);
  const auto b6 = wire::parse_ipv6(*e.direct_b);
  if (!a6 || !b6) return finding(letter, "error", "", "", "a client's address does not parse: a harness fault");
  const Side a{e.client_a_name, prefix + "client-a-lan", prefix + "nat-a-outside", kit::ipv4(kClientALan),
               kit::ipv4(kNatAOutside), *a6, prefix + "server"};
  const Side b{e.client_b_name, prefix + "client-b-lan", prefix + "nat-b-outside", kit::ipv4(kClientBLan),
               kit::ipv4(kNatBOutside), *b6, prefix + "server"};
  const std::pair<Kind, const char*> legs[] = {{Kind::echo_request, kAtoBMarker}, {Kind::echo_reply, kAtoBMarker},
                                               {Kind::echo_request, kBtoAMarker}, {Kind::echo_reply, kBtoAMarker}};
  for (const auto& [kind, marker] : legs) {
    const bool a_sends = (kind == Kind::echo_request) == (marker == kAtoBMarker);
    const Side& from = a_sends ? a : b;
    const Side& to = a_sends ? b : a;
    const std::string what = fmt::format("its echo {} to client {}", kind == Kind::echo_request ? "request" : "reply",
                                         a_sends ? "B" : "A");
    if (auto f = trace_peer(e, from, to, kind, marker, what, kind == Kind::echo_reply)) return as_scenario(*f, letter);
  }
  // Direct: each marked packet crossed from one NAT's outside straight to
  // the other's, and none went through the server.
  for (const char* marker : {kAtoBMarker, kBtoAMarker}) {
    if (const auto via = find_first(e, prefix + "server", [&](const Packet& p) {
          return carries(p, Kind::echo_request, marker) || carries(p, Kind::echo_reply, marker);
        })) {
      // The sender: the client whose NAT it came from, or whose peer the
      // server relayed it to.
      const bool from_a = via->source4 == a.mapped4 || via->destination4 == b.mapped4;
      return finding(letter, "fail", "client", "R4380-5.2.4-06",
                     fmt::format("{} sent the ping through the server ({}), not directly to {}",
                                 from_a ? a.name : b.name, via->cite(), from_a ? b.name : a.name),
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
      return finding(letter, "inconclusive", "", "R4380-5.2.4-06",
                     "the ping went both ways but a marked packet was not seen crossing between the NATs' outsides");
    }
  }
  return finding(letter, "pass", "", "R4380-5.2.4-06",
                 fmt::format("ping6 both ways, directly: A->B request {}, reply {}; B->A request {}, reply {} (each "
                             "from one NAT's outside to the other's); none through the server",
                             hops[0]->cite(), hops[1]->cite(), hops[2]->cite(), hops[3]->cite()),
                 {hops[0], hops[1], hops[2], hops[3]});
}

}  // namespace

Finding judge_direct(const Evidence& e) { return direct_path(e, 'D', "d-"); }

// ---------------------------------------------------------------- E

std::optional<NatExtension> extension_for_nat(const std::string& nat_profile) {
  constexpr std::string_view kUpnp = "+upnp";
  const bool upnp = nat_profile.ends_with(kUpnp);
  const std::string base = upnp ? nat_profile.substr(0, nat_profile.size() - kUpnp.size()) : nat_profile;
  if (base != "symmetric" && base != "symmetric-sequential") return std::nullopt;
  // RFC 6081 §3 Figure 1, the diagonal: a NAT kind against itself.
  if (upnp) return NatExtension{"upnp_symmetric_nat", "§5.3", "UPnP port-symmetric", "SNS+UPnP", true};
  if (base == "symmetric") {
    return NatExtension{"port_preserving_symmetric_nat", "§5.4", "port-preserving port-symmetric", "SNS+PP", true};
  }
  return NatExtension{"sequential_port_symmetric_nat", "§5.5", "sequential port-symmetric", "No", false};
}

Finding judge_extension_direct(const Evidence& e) {
  const auto extension = extension_for_nat(e.nat_profile);
  if (!extension) return finding('E', "error", "", "", "no RFC 6081 extension for NAT " + e.nat_profile);
  if (auto d = death('E', e, {"client", "server"})) return *d;
  // A client running the extension configures its address behind the
  // symmetric NAT (§3.1); one that stayed unqualified after its RAs reported
  // two mappings did not use it.
  for (const auto& [runs, address, name, lan] :
       {std::tuple{e.extension_a, &e.direct_a, &e.client_a_name, "e-client-a-lan"},
        std::tuple{e.extension_b, &e.direct_b, &e.client_b_name, "e-client-b-lan"}}) {
    if (!runs || address->has_value()) continue;
    const auto ras = ras_with_origin(e, lan);
    if (const std::size_t mappings = reported_mappings(ras); mappings >= 2) {
      return finding('E', "fail", "client", "R6081-5.2-01",
                     fmt::format("{} runs {} (RFC 6081 {}, which needs §5.2) yet stayed unqualified after its RAs {} "
                                 "reported {} mappings: with the Symmetric NAT Support Extension a client behind a "
                                 "symmetric NAT configures its Teredo address (§3.1)",
                                 *name, extension->capability, extension->section, cites(ras), mappings),
                     {ras.front(), ras.back()});
    }
  }
  const bool promised = extension->connects && e.extension_a && e.extension_b;
  const std::string who = e.extension_a && e.extension_b ? "both clients"
                          : e.extension_a                ? e.client_a_name + " alone"
                                                         : e.client_b_name + " alone";
  Finding f = direct_path(e, 'E', "e-");
  const std::string figure =
      promised ? fmt::format("RFC 6081 {} on {}, Figure 1 {} for two {} NATs", extension->section, who,
                             extension->figure_1, extension->nat_kind)
               : fmt::format("RFC 6081 {} on {}; Figure 1 promises no path here ({} NATs{})", extension->section, who,
                             extension->nat_kind, e.extension_a && e.extension_b ? "" : ", one client without it");
  if (!promised && f.verdict == "inconclusive") {
    f.verdict = "not-applicable";
    f.party.clear();
  }
  f.reason = figure + ": " + f.reason;
  return f;
}

// ---------------------------------------------------------------- L

namespace {

bool discovery_bubble_from(const Packet& p, wire::Ipv4Address from) {
  return p.encapsulated && p.kind == Kind::bubble && p.source4 == from &&
         p.destination4 == kit::ipv4(kDiscoveryGroup);
}

// x's packet `kind` marked `marker` to y on their LAN: reached y from x's LAN
// address (nullopt), or what the captures say about why not.
std::optional<Finding> trace_local(const Evidence& e, const Side& x, const Side& y, Kind kind, const char* marker,
                                   const std::string& what, bool x_owes_it) {
  const auto at_y = find_first(e, y.lan, [&](const Packet& p) {
    return p.encapsulated && p.source4 == x.lan4 && p.destination4 == y.lan4 && carries(p, kind, marker);
  });
  if (at_y != nullptr) return std::nullopt;
  const auto heard = find_first(e, x.lan, [&](const Packet& p) { return discovery_bubble_from(p, y.lan4); });
  const auto left = find_first(e, x.lan, [&](const Packet& p) {
    return p.encapsulated && p.source4 == x.lan4 && carries(p, kind, marker);
  });
  if (left != nullptr) {
    if (left->destination4 == y.lan4) {
      return finding('L', "inconclusive", "", "R4380-5.2.4-04",
                     fmt::format("{} sent {} to {}'s LAN address ({}) but it never reached {}: the lab's LAN, not a "
                                 "party",
                                 x.name, what, y.name, left->cite(), y.name),
                     {left});
    }
    if (heard == nullptr) {
      return finding('L', "inconclusive", "", "R4380-5.2.8-03",
                     fmt::format("{} sent {} to {} ({}), not on the LAN, but no discovery bubble of {} ever reached "
                                 "it: RFC 4380 §5.2.8 lets a client wait 200-300 s between them, so its silence "
                                 "proves nothing",
                                 x.name, what, wire::to_string(left->destination4), left->cite(), y.name),
                     {left});
    }
    // §5.2.4 case 3: y is a local peer once its discovery bubble has been
    // received; what x sent before that (frame order in x's own capture) is
    // not astray.
    const auto astray = find_first(e, x.lan, [&](const Packet& p) {
      return p.encapsulated && p.source4 == x.lan4 && p.destination4 != y.lan4 && p.frame > heard->frame &&
             carries(p, kind, marker);
    });
    if (astray == nullptr) {
      return finding('L', "inconclusive", "", "R4380-5.2.8-03",
                     fmt::format("{} sent {} to {} ({}), not on the LAN, before {}'s discovery bubble reached it ({}): "
                                 "RFC 4380 §5.2.8 lets a client wait 200-300 s between them, so nothing made {} a "
                                 "local peer yet",
                                 x.name, what, wire::to_string(left->destination4), left->cite(), y.name,
                                 heard->cite(), y.name),
                     {left, heard});
    }
    return finding('L', "fail", "client", "R4380-5.2.4-04",
                   fmt::format("{} had {}'s local discovery bubble ({}) yet sent {} to {} ({}) instead of its local "
                               "address {}",
                               x.name, y.name, heard->cite(), what, wire::to_string(astray->destination4),
                               astray->cite(), wire::to_string(y.lan4)),
                   {heard, astray});
  }
  if (x_owes_it) {
    return finding('L', "fail", "client", "R4380-5.2.3-13",
                   fmt::format("{} received the echo request from {}'s local address but never sent {}", x.name,
                               y.name, what));
  }
  // The request is held until the local peer answers a bubble (§5.2.4 case 3).
  if (heard == nullptr) {
    return finding('L', "inconclusive", "", "R4380-5.2.8-03",
                   fmt::format("{} sent nothing toward {} and no discovery bubble of {} reached it: RFC 4380 §5.2.8 "
                               "lets a client wait 200-300 s between them, so the silence proves nothing",
                               x.name, y.name, y.name));
  }
  const auto y_answer = find_first(e, x.lan, [&](const Packet& p) {
    return p.encapsulated && p.kind == Kind::bubble && p.source4 == y.lan4 && p.destination4 == x.lan4;
  });
  if (y_answer != nullptr) {
    return finding('L', "fail", "client", "R4380-5.2.3-10",
                   fmt::format("{} had {}'s discovery bubble ({}) and {}'s unicast bubble ({}), a trusted local "
                               "peer, but never sent the packet it held",
                               x.name, y.name, heard->cite(), y.name, y_answer->cite()),
                   {heard, y_answer});
  }
  const auto x_discovery = find_first(e, y.lan, [&](const Packet& p) { return discovery_bubble_from(p, x.lan4); });
  if (x_discovery != nullptr) {
    // y's answer is looked for where y sent it: one that left y and never
    // reached x is the LAN's.
    if (const auto y_sent = find_first(e, y.lan, [&](const Packet& p) {
          return p.encapsulated && p.kind == Kind::bubble && p.source4 == y.lan4 && p.destination4 == x.lan4;
        })) {
      return finding('L', "inconclusive", "", "R4380-5.2.3-12",
                     fmt::format("{} answered {}'s local discovery bubble ({}) with a unicast bubble ({}) that never "
                                 "reached {}: the lab's LAN, not a party",
                                 y.name, x.name, x_discovery->cite(), y_sent->cite(), x.name),
                     {x_discovery, y_sent});
    }
    return finding('L', "fail", "client", "R4380-5.2.3-12",
                   fmt::format("{} received {}'s local discovery bubble ({}) but never answered it with a unicast "
                               "bubble to {}",
                               y.name, x.name, x_discovery->cite(), wire::to_string(x.lan4)),
                   {x_discovery});
  }
  return finding('L', "fail", "client", "R4380-5.2.4-04",
                 fmt::format("{} had {}'s local discovery bubble ({}) but sent neither {} nor a bubble to it", x.name,
                             y.name, heard->cite(), what),
                 {heard});
}

}  // namespace

Finding judge_local(const Evidence& e) {
  if (auto d = death('L', e, {"client", "server"})) return *d;
  if (auto f = pair_unqualified(e, 'L', "l-")) return *f;
  const auto a6 = wire::parse_ipv6(*e.direct_a);
  const auto b6 = wire::parse_ipv6(*e.direct_b);
  if (!a6 || !b6) return finding('L', "error", "", "", "a client's address does not parse: a harness fault");
  const wire::Ipv4Address nat = kit::ipv4(lab::kNatOutside);
  const Side a{e.client_a_name, "l-client-a-lan", "l-nat-outside", kit::ipv4(kClientALan), nat, *a6, "l-server"};
  const Side b{e.client_b_name, "l-client-b-lan", "l-nat-outside", kit::ipv4(kLocalClientBLan), nat, *b6, "l-server"};
  if (auto f = trace_local(e, a, b, Kind::echo_request, kAtoBMarker, "its echo request to client B", false)) return *f;
  if (auto f = trace_local(e, b, a, Kind::echo_reply, kAtoBMarker, "its echo reply to client A", true)) return *f;
  if (auto f = trace_local(e, b, a, Kind::echo_request, kBtoAMarker, "its echo request to client A", false)) return *f;
  if (auto f = trace_local(e, a, b, Kind::echo_reply, kBtoAMarker, "its echo reply to client B", true)) return *f;
  for (const char* vantage : {"l-server", "l-nat-outside"}) {
    for (const char* marker : {kAtoBMarker, kBtoAMarker}) {
      if (const auto via = find_first(e, vantage, [&](const Packet& p) {
            return carries(p, Kind::echo_request, marker) || carries(p, Kind::echo_reply, marker);
          })) {
        return finding('L', "fail", "client", "R4380-5.2.4-04",
                       fmt::format("a marked packet left the LAN ({}): the clients are local peers and §5.2.4 case 3 "
                                   "sends to the local address",
                                   via->cite()),
                       {via});
      }
    }
  }
  const auto on_lan = [&](const Side& to, const Side& from, Kind kind, const char* marker) {
    return find_first(e, to.lan, [&](const Packet& p) {
      return p.encapsulated && p.source4 == from.lan4 && p.destination4 == to.lan4 && carries(p, kind, marker);
    });
  };
  const Packet* hops[] = {on_lan(b, a, Kind::echo_request, kAtoBMarker), on_lan(a, b, Kind::echo_reply, kAtoBMarker),
                          on_lan(a, b, Kind::echo_request, kBtoAMarker), on_lan(b, a, Kind::echo_reply, kBtoAMarker)};
  const auto heard_a = find_first(e, "l-client-b-lan", [&](const Packet& p) { return discovery_bubble_from(p, a.lan4); });
  const auto heard_b = find_first(e, "l-client-a-lan", [&](const Packet& p) { return discovery_bubble_from(p, b.lan4); });
  return finding('L', "pass", "", "R4380-5.2.4-04",
                 fmt::format("ping6 both ways on the LAN, from local address to local address: A->B request {}, reply "
                             "{}; B->A request {}, reply {}; none through the NAT or the server (discovery bubbles: "
                             "A's {}, B's {})",
                             hops[0]->cite(), hops[1]->cite(), hops[2]->cite(), hops[3]->cite(),
                             heard_a ? heard_a->cite() : "not seen", heard_b ? heard_b->cite() : "not seen"),
                 {hops[0], hops[1], hops[2], hops[3]});
}

// ---------------------------------------------------------------- S

namespace {

// A finding judged on as_qualification()'s renamed captures, citing the
// scenario's own captures again ("client-lan#5" -> "s-client-lan#5").
Finding in_own_lab(Finding f, const std::string& prefix) {
  static const std::regex kCite(R"((^|[^-\w])(client-lan|nat-outside|server)(#|\.pcap))");
  f.reason = std::regex_replace(f.reason, kCite, "$1" + prefix + "$2$3");
  for (FrameCite& c : f.frames) c.capture = std::regex_replace(c.capture, kCite, "$1" + prefix + "$2$3");
  return f;
}

Finding secure_qualification(const Evidence& e, const Evidence& as_q) {
  const char* algorithm = e.mac_md5 ? "HMAC-MD5" : "HMAC-SHA1";
  const auto verifies = [&](const Packet& p) { return p.auth && (e.mac_md5 ? p.auth->verifies_md5 : p.auth->verifies_sha1); };
  const auto sent = find_all(as_q, "client-lan", client_rs);
  if (sent.empty()) {
    return finding('S', "inconclusive", "", "R4380-5.2.2-01",
                   "the client sent no RS to its server within the window; silence proves nothing about what it "
                   "would have sent");
  }
  // §5.2.2: every RS carries the authentication encapsulation for its client
  // identifier, its MAC computed with the shared secret.
  for (const Packet* rs : sent) {
    if (!rs->auth || rs->auth->client_id != lab::kClientId) {
      return finding('S', "fail", "client", "R4380-5.2.2-01",
                     fmt::format("the client's RS {} carries {} instead of the authentication encapsulation for "
                                 "client identifier '{}'",
                                 rs->cite(),
                                 rs->auth ? fmt::format("client identifier '{}'", rs->auth->client_id)
                                          : std::string("no authentication encapsulation"),
                                 lab::kClientId),
                     {rs});
    }
    if (!verifies(*rs)) {
      return finding('S', "fail", "client", "R4380-5.2.2-05",
                     fmt::format("the client's RS {} carries an authentication value ({} bytes) that does not verify "
                                 "as {} with the shared secret",
                                 rs->cite(), rs->auth->value_size, algorithm),
                     {rs});
    }
  }
  // §5.3.2: the server's RA repeats the client identifier and the nonce of
  // the RS it answers, confirmation 0, a MAC from the secret bound to the id.
  const auto at_server = find_all(as_q, "server", mapped_rs);
  for (const Packet* ra : find_all(as_q, "server", ra_to_mapping)) {
    const Packet* rs = nullptr;
    for (const Packet* candidate : at_server) {
      if (candidate->nonce && ra->nonce && *candidate->nonce == *ra->nonce && candidate->frame < ra->frame) rs = candidate;
    }
    if (!ra->auth) {
      return finding('S', "fail", "server", "R4380-5.3.2-10",
                     fmt::format("the server's RA {} carries no authentication encapsulation though its client "
                                 "qualifies securely",
                                 ra->cite()),
                     {ra});
    }
    if (rs == nullptr || ra->auth->client_id != rs->auth->client_id) {
      return finding('S', "fail", "server", "R4380-5.3.2-11",
                     fmt::format("the server's RA {} (client identifier '{}') repeats the client identifier and nonce "
                                 "of none of the RSs it received ({})",
                                 ra->cite(), ra->auth->client_id, at_server.empty() ? "none" : cites(at_server)),
                     {ra});
    }
    if (ra->auth->confirmation != 0) {
      return finding('S', "fail", "server", "R4380-5.3.2-12",
                     fmt::format("the server's RA {} carries confirmation {} for the valid identifier '{}'",
                                 ra->cite(), ra->auth->confirmation, lab::kClientId),
                     {rs, ra});
    }
    if (!verifies(*ra)) {
      return finding('S', "fail", "server", "R4380-5.3.2-13",
                     fmt::format("the server's RA {} answering RS {} carries an authentication value that does not "
                                 "verify as {} with the secret bound to '{}'",
                                 ra->cite(), rs->cite(), algorithm, lab::kClientId),
                     {rs, ra});
    }
  }
  Finding q = as_scenario(judge_qualification(as_q), 'S');
  if (q.verdict != "pass") return q;
  if (!e.client_address) {
    // Q passed without an address: the symmetric NAT's two mappings.
    q.verdict = "not-applicable";
    q.reason = "the client rightly stayed unqualified behind a symmetric NAT (" + q.reason + ")";
    return q;
  }
  const auto ras = find_all(as_q, "client-lan", ra_to_client);
  const auto signed_ra = std::find_if(ras.begin(), ras.end(), [&](const Packet* ra) { return verifies(*ra); });
  q.requirement = "R4380-5.2.2-01";
  q.reason = fmt::format("secure qualification ({}, client identifier '{}'): the client's RSs ({}) and the RA it "
                         "qualified with ({}) carry authentication values that verify; {}",
                         algorithm, lab::kClientId, cites(sent),
                         signed_ra != ras.end() ? (*signed_ra)->cite() : "?", q.reason);
  return q;
}

}  // namespace

Finding judge_secure(const Evidence& e) {
  if (auto d = death('S', e, {"client", "server"})) return *d;
  return in_own_lab(secure_qualification(e, as_qualification(e, "s-", e.client_address)), "s-");
}

// ---------------------------------------------------------------- R

Finding judge_rebind(const Evidence& e) {
  if (auto d = death('R', e, {"client", "server", "relay"})) return *d;
  if (!e.client_address) {
    const Finding q = judge_qualification(e);
    if (q.verdict == "pass" && q.requirement == "R4380-5.2.1-05") {
      return finding('R', "not-applicable", "", "R4380-5.2.1-05",
                     "the client rightly stayed unqualified behind a symmetric NAT (see Q): there is no address for a "
                     "rebind to change");
    }
    return finding('R', "inconclusive", "", "R4380-5.2.1-07",
                   "the client has no Teredo address (see Q): there is no address for a rebind to change");
  }
  if (!e.rebound) return finding('R', "error", "", "", "the NAT did not take the rebind command: a harness fault");
  const auto old = wire::parse_teredo(*e.client_address);
  if (!old) return finding('R', "error", "", "", "the client's address does not parse: a harness fault");
  // The first RS after the rebind from a mapping other than the one the old
  // address embeds.
  const auto moved = find_first(e, "server", [&](const Packet& p) {
    return p.frame > e.rebind_server_frame && mapped_rs(p) &&
           (p.source4 != old->mapped_ipv4 || p.source_port != old->mapped_port);
  });
  if (moved == nullptr) {
    return finding('R', "inconclusive", "", "R4380-5.2.5-02",
                   fmt::format("no RS from a new mapping reached the server after the NAT's rebind (the old mapping "
                               "{}): the client did not refresh within the window, and silence proves nothing",
                               endpoint_of(old->mapped_ipv4, old->mapped_port)));
  }
  if (auto problem = server_ra_problem(e)) return as_scenario(*problem, 'R');
  const auto new_mapping = [&](const Packet& p) {
    return p.origin && p.origin->address == moved->source4 && p.origin->port == moved->source_port;
  };
  const auto answered = find_first(e, "server", [&](const Packet& p) { return ra_to_mapping(p) && new_mapping(p); });
  if (answered == nullptr) {
    const auto control = find_first(e, "server", [](const Packet& p) {
      return p.encapsulated && p.kind == Kind::ra && p.destination4 == kRelay4 && p.destination_port == kControlPort;
    });
    if (control != nullptr) {
      return finding('R', "fail", "server", "R4380-5.3.1-05",
                     fmt::format("the server never answered the client's RS from its new mapping ({}) though it "
                                 "answered the control RS ({})",
                                 moved->cite(), control->cite()),
                     {moved, control});
    }
    return finding('R', "inconclusive", "", "R4380-5.3.1-05",
                   fmt::format("the server answered neither the client's RS from its new mapping ({}) nor the control "
                               "RS",
                               moved->cite()),
                   {moved});
  }
  const auto received = find_first(e, "client-lan", [&](const Packet& p) { return ra_to_client(p) && new_mapping(p); });
  if (received == nullptr) {
    return finding('R', "inconclusive", "nat", "R4380-5.2.5-05",
                   fmt::format("the server's RA reporting the new mapping ({}) never reached the client through the {} "
                               "NAT",
                               answered->cite(), e.nat_profile),
                   {moved, answered});
  }
  const std::string mapping = endpoint_of(moved->source4, moved->source_port);
  if (!e.rebind_address) {
    return finding('R', "fail", "client", "R4380-5.2.5-05",
                   fmt::format("the client received the RA reporting its new mapping {} ({}) but kept its address {}",
                               mapping, received->cite(), *e.client_address),
                   {moved, answered, received});
  }
  const auto now = wire::parse_teredo(*e.rebind_address);
  if (!now || now->mapped_ipv4 != moved->source4 || now->mapped_port != moved->source_port || now->server != kPrimary) {
    return finding('R', "fail", "client", "R4380-5.2.5-06",
                   fmt::format("after the RA reporting its new mapping {} ({}) the client configured {}, which does "
                               "not embed it",
                               mapping, received->cite(), *e.rebind_address),
                   {received});
  }
  // §5.2.5: the old address is invalidated; nothing leaves from it after the
  // RA that moved the mapping (frame order within one capture).
  const auto old6 = wire::parse_ipv6(*e.client_address);
  if (const auto stale = find_first(e, "client-lan", [&](const Packet& p) {
        return p.encapsulated && p.source4 == kClientLan && p.frame > received->frame && old6 && p.source6 == *old6;
      })) {
    return finding('R', "fail", "client", "R4380-5.2.5-06",
                   fmt::format("the client still sent from its old address {} ({}) after the RA reporting its new "
                               "mapping ({})",
                               *e.client_address, stale->cite(), received->cite()),
                   {received, stale});
  }
  if (!e.rebind_pinged) return finding('R', "error", "", "", "the pings after the rebind did not run: a harness fault");
  Finding n = as_scenario(native_reachability(e, *e.rebind_address, kRebindOutMarker, kRebindInMarker), 'R');
  if (n.verdict != "pass") return n;
  n.requirement = "R4380-5.2.5-06";
  n.reason = fmt::format("after the NAT's rebind: RS from the new mapping {} ({}) -> RA ({}) -> {}; the client moved "
                         "from {} to {}; then {}",
                         mapping, moved->cite(), answered->cite(), received->cite(), *e.client_address,
                         *e.rebind_address, n.reason);
  n.frames.insert(n.frames.begin(), {cite(moved), cite(received)});
  return n;
}

// ---------------------------------------------------------------- H

Finding judge_hairpin(const Evidence& e) {
  if (auto d = death('H', e, {"client", "server"})) return *d;
  if (auto f = pair_unqualified(e, 'H', "h-")) return *f;
  const auto a6 = wire::parse_ipv6(*e.direct_a);
  const auto b6 = wire::parse_ipv6(*e.direct_b);
  const auto a_mapped = wire::parse_teredo(*e.direct_a);
  const auto b_mapped = wire::parse_teredo(*e.direct_b);
  if (!a6 || !b6 || !a_mapped || !b_mapped) {
    return finding('H', "error", "", "", "a client's address does not parse: a harness fault");
  }
  const wire::Ipv4Address nat = kit::ipv4(lab::kNatOutside);
  const Side a{e.client_a_name, "h-client-a-lan", "h-nat-outside", kit::ipv4(kClientALan), nat, *a6, "h-server"};
  const Side b{e.client_b_name, "h-client-b-lan", "h-nat-outside", kit::ipv4(kClientBLan), nat, *b6, "h-server"};
  const auto trace = [&](const Side& x, const Side& y, Kind kind, const char* marker, const std::string& what,
                         bool owes) -> std::optional<Finding> {
    if (auto f = trace_peer(e, x, y, kind, marker, what, owes)) return as_scenario(*f, 'H');
    return std::nullopt;
  };
  if (auto f = trace(a, b, Kind::echo_request, kAtoBMarker, "its echo request to client B", false)) return *f;
  if (auto f = trace(b, a, Kind::echo_reply, kAtoBMarker, "its echo reply to client A", true)) return *f;
  if (auto f = trace(b, a, Kind::echo_request, kBtoAMarker, "its echo request to client A", false)) return *f;
  if (auto f = trace(a, b, Kind::echo_reply, kBtoAMarker, "its echo reply to client B", true)) return *f;
  for (const char* marker : {kAtoBMarker, kBtoAMarker}) {
    if (const auto via = find_first(e, "h-server", [&](const Packet& p) {
          return carries(p, Kind::echo_request, marker) || carries(p, Kind::echo_reply, marker);
        })) {
      return finding('H', "fail", "client", "R4380-5.2.4-06",
                     fmt::format("the ping went through the server ({}), not through the NAT's hairpin", via->cite()),
                     {via});
    }
  }
  // The hairpin: the packet leaves x for the NAT's outside address at y's
  // mapped port and reaches y from x's mapping (RFC 4787 REQ-9: translated
  // twice), never seen outside the NAT.
  const auto hairpinned = [&](const Side& to, const wire::TeredoAddress& from, Kind kind, const char* marker) {
    return find_first(e, to.lan, [&](const Packet& p) {
      return p.encapsulated && p.source4 == from.mapped_ipv4 && p.source_port == from.mapped_port &&
             p.destination4 == to.lan4 && carries(p, kind, marker);
    });
  };
  const Packet* hops[] = {hairpinned(b, *a_mapped, Kind::echo_request, kAtoBMarker),
                          hairpinned(a, *b_mapped, Kind::echo_reply, kAtoBMarker),
                          hairpinned(a, *b_mapped, Kind::echo_request, kBtoAMarker),
                          hairpinned(b, *a_mapped, Kind::echo_reply, kBtoAMarker)};
  for (const Packet* hop : hops) {
    if (hop == nullptr) {
      return finding('H', "inconclusive", "", "R4380-5.2.3-07",
                     "the ping went both ways but a marked packet did not arrive from the sender's mapping (the "
                     "NAT's hairpin)");
    }
  }
  return finding('H', "pass", "", "R4380-5.2.3-07",
                 fmt::format("ping6 both ways through the NAT's hairpin: A->B request {}, reply {}; B->A request {}, "
                             "reply {} (each arriving from the sender's mapping {} / {}); none through the server",
                             hops[0]->cite(), hops[1]->cite(), hops[2]->cite(), hops[3]->cite(),
                             endpoint_of(a_mapped->mapped_ipv4, a_mapped->mapped_port),
                             endpoint_of(b_mapped->mapped_ipv4, b_mapped->mapped_port)),
                 {hops[0], hops[1], hops[2], hops[3]});
}

std::optional<Finding> not_applicable(char scenario, const Pairing& pairing) {
  const std::string& client_name = pairing.client.name;
  const std::set<std::string>& client_capabilities = pairing.client.capabilities;
  const std::string& nat_profile = pairing.nat_profile;
  const auto na = [&](std::string requirement, std::string reason) {
    return finding(scenario, "not-applicable", "", std::move(requirement), std::move(reason));
  };
  switch (scenario) {
    case 'L':
      if (client_capabilities.count("local_discovery") == 0) {
        return na("R4380-5.2.8-01", fmt::format("client {} declares no local_discovery capability (RFC 4380 §5.2.8 "
                                                "local discovery is optional)",
                                                client_name));
      }
      return std::nullopt;
    case 'S':
      for (const auto& [role, party] : {std::pair{"client", &pairing.client}, std::pair{"server", &pairing.server}}) {
        if (party->capabilities.count("secure_qualification") == 0) {
          return na("R4380-5.2.2-01", fmt::format("{} {} declares no secure_qualification capability (RFC 4380 "
                                                  "§5.2.2 secure qualification is optional)",
                                                  role, party->name));
        }
      }
      return std::nullopt;
    case 'R':
    case 'H':
      if (nat_profile == "linux-masquerade") {
        return na("", scenario == 'R' ? "the kernel's NAT (linux-masquerade, nftables) takes no rebind command: this "
                                        "lab cannot make it remap"
                                      : "the kernel's NAT (linux-masquerade, nftables) does not hairpin in this lab");
      }
      return std::nullopt;
    case 'E': {
      const auto extension = extension_for_nat(nat_profile);
      if (!extension) {
        return na("", fmt::format("RFC 6081's symmetric NAT extensions are for symmetric NATs; behind {} D is the "
                                  "direct-path test",
                                  nat_profile));
      }
      if (pairing.server.capabilities.count("rfc6081_trailers") == 0) {
        return na("R6081-4-01", fmt::format("server {} declares no rfc6081_trailers capability: a server without RFC "
                                            "6081 drops the clients' indirect bubbles, which carry trailers (RFC 4380 "
                                            "§5.3.1 rule 1)",
                                            pairing.server.name));
      }
      if (client_capabilities.count(extension->capability) == 0 &&
          pairing.partner.capabilities.count(extension->capability) == 0) {
        return na("", fmt::format("neither client ({}, {}) declares {} (RFC 6081 {} is optional): E would be D",
                                  client_name, pairing.partner.name, extension->capability, extension->section));
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

Finding judge(char scenario, const Evidence& e) {
  if (const auto fault = e.harness_faults.find(scenario); fault != e.harness_faults.end()) {
    return finding(scenario, "error", "", "", "harness: " + fault->second);
  }
  switch (scenario) {
    case 'Q':
      return judge_qualification(e);
    case 'N':
      return judge_native(e);
    case 'D':
      return judge_direct(e);
    case 'L':
      return judge_local(e);
    case 'S':
      return judge_secure(e);
    case 'R':
      return judge_rebind(e);
    case 'H':
      return judge_hairpin(e);
    case 'E':
      return judge_extension_direct(e);
    default:
      return finding(scenario, "error", "", "", fmt::format("no judgement for scenario {}", scenario));
  }
}

}  // namespace teredo::conformance::interop
