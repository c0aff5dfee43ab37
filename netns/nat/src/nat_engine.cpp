#include "teredo/nat/nat_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "teredo/wire/checksum.hpp"

namespace teredo::nat {

using netns::Filtering;
using netns::Mapping;

std::string to_string(const Endpoint& e) {
  return fmt::format("{}.{}.{}.{}:{}", e.ip >> 24, (e.ip >> 16) & 0xFF, (e.ip >> 8) & 0xFF, e.ip & 0xFF, e.port);
}

const char* to_string(Outcome o) {
  switch (o) {
#define TEREDO_NAT_NAME(n) \
  case Outcome::n:         \
    return #n;
    TEREDO_NAT_OUTCOMES(TEREDO_NAT_NAME)
#undef TEREDO_NAT_NAME
    case Outcome::count_:
      break;
  }
  return "unknown";
}

namespace {

constexpr std::uint8_t kProtocolIcmp = 1;
constexpr std::uint8_t kProtocolUdp = 17;

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}

// A checked view of an IPv4 packet carrying UDP (or ICMP).
struct Ipv4View {
  std::span<std::uint8_t> packet;  // cut to the total length
  std::size_t header_length = 0;
  std::uint8_t protocol = 0;
  bool fragment = false;
  [[nodiscard]] std::uint32_t source() const { return get32(packet.data() + 12); }
  [[nodiscard]] std::uint32_t destination() const { return get32(packet.data() + 16); }
};

bool view_ipv4(std::span<std::uint8_t> packet, Ipv4View& v) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) return false;
  v.header_length = std::size_t{packet[0] & 0x0Fu} * 4;
  const std::size_t total = get16(packet.data() + 2);
  if (v.header_length < 20 || total < v.header_length || total > packet.size()) return false;
  v.packet = packet.first(total);
  v.protocol = packet[9];
  const std::uint16_t fragment_field = get16(packet.data() + 6);
  v.fragment = (fragment_field & 0x3FFF) != 0;  // MF set or an offset
  return true;
}

// A 16-bit checksum field that covers a field being rewritten.
struct ChecksumField {
  std::uint8_t* at = nullptr;  // nullptr: none
  bool zero_means_none = false;  // UDP over IPv4: 0 is "no checksum" and stays 0
};

// Writes `size` (2 or 4) bytes of `value` at `field` and adjusts each covering
// checksum incrementally (RFC 1624), so a checksum that arrived wrong leaves
// the NAT wrong by the same amount: the box must not repair what a
// conformance case corrupted on purpose.
void rewrite(std::uint8_t* field, std::size_t size, std::uint32_t value,
             std::initializer_list<ChecksumField> checksums) {
  std::uint8_t before[4], after[4];
  std::memcpy(before, field, size);
  if (size == 2) {
    put16(after, static_cast<std::uint16_t>(value));
  } else {
    put32(after, value);
  }
  std::memcpy(field, after, size);
  for (const ChecksumField& c : checksums) {
    if (c.at == nullptr) continue;
    const std::uint16_t old_sum = get16(c.at);
    if (c.zero_means_none && old_sum == 0) continue;
    std::uint16_t new_sum = wire::checksum_update(old_sum, {before, size}, {after, size});
    if (c.zero_means_none && new_sum == 0) new_sum = 0xFFFF;
    put16(c.at, new_sum);
  }
}

bool valid_udp(const Ipv4View& v) {
  if (v.packet.size() < v.header_length + 8) return false;
  const std::size_t udp_length = get16(v.packet.data() + v.header_length + 4);
  return udp_length >= 8 && udp_length <= v.packet.size() - v.header_length;
}

}  // namespace

NatEngine::NatEngine(EngineConfig config) : config_(std::move(config)), random_(config_.seed) {}

NatEngine::Key NatEngine::key_for(const Endpoint& internal, const Endpoint& remote) const {
  Key k{internal, {}};
  switch (config_.nat.mapping) {
    case Mapping::endpoint_independent:
      break;
    case Mapping::address_dependent:
      k.remote.ip = remote.ip;
      break;
    case Mapping::address_and_port_dependent:
      k.remote = remote;
      break;
  }
  return k;
}

bool NatEngine::allocate_port(std::uint16_t preferred, std::uint16_t avoid, std::uint16_t& out) {
  const auto free = [&](std::uint32_t p) {
    return p >= config_.first_port && p <= config_.last_port && p != avoid && !by_port_.count(static_cast<std::uint16_t>(p));
  };
  if (config_.nat.port_preservation && free(preferred)) {
    out = preferred;
    return true;
  }
  const std::uint32_t span = std::uint32_t{config_.last_port} - config_.first_port + 1;
  if (by_port_.size() >= span) return false;  // every port of the range in use
  if (config_.nat.sequential_ports) {
    for (std::uint32_t i = 0; i < span; ++i) {
      const std::uint32_t p = config_.first_port + (next_sequential_ + i) % span;
      if (free(p)) {
        next_sequential_ = (p - config_.first_port + 1) % span;
        out = static_cast<std::uint16_t>(p);
        return true;
      }
    }
    return false;
  }
  // Random draws, then a linear scan from a random start if the range is crowded.
  for (int attempt = 0; attempt < 64; ++attempt) {
    const auto p = static_cast<std::uint32_t>(config_.first_port + random_() % span);
    if (free(p)) {
      out = static_cast<std::uint16_t>(p);
      return true;
    }
  }
  const auto start = static_cast<std::uint32_t>(random_() % span);
  for (std::uint32_t i = 0; i < span; ++i) {
    const std::uint32_t p = config_.first_port + (start + i) % span;
    if (free(p)) {
      out = static_cast<std::uint16_t>(p);
      return true;
    }
  }
  return false;
}

bool NatEngine::expired(Time now, const Binding& m) const {
  return !m.port_mapping && now - m.last_outbound > std::chrono::milliseconds(config_.nat.mapping_lifetime_ms);
}

NatEngine::Binding* NatEngine::outbound_mapping(Time now, const Endpoint& internal, const Endpoint& remote) {
  const Key key = key_for(internal, remote);
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    Binding& m = by_port_.at(it->second);
    if (!expired(now, m)) return &m;
    by_port_.erase(it->second);  // expired: a new mapping, maybe on a new port
    by_key_.erase(it);
  }
  // A static forward of this host endpoint (add_port_mapping) is the
  // mapping of its every flow, whatever the mapping behaviour: RFC 6081
  // §3.2's UPnP-enabled symmetric NAT, through which "the Teredo server
  // reflects back the reserved mapped address/port".
  if (auto it = by_key_.find(Key{internal, {}}); it != by_key_.end()) {
    if (Binding& m = by_port_.at(it->second); m.port_mapping) return &m;
  }
  std::uint16_t port = 0;
  if (!allocate_port(internal.port, 0, port)) return nullptr;
  Binding m;
  m.internal = internal;
  m.external_port = port;
  m.key = key;
  m.last_outbound = now;
  by_key_.emplace(key, port);
  return &by_port_.emplace(port, std::move(m)).first->second;
}

NatEngine::Binding* NatEngine::inbound_mapping(Time now, std::uint16_t external_port) {
  auto it = by_port_.find(external_port);
  if (it == by_port_.end()) return nullptr;
  if (expired(now, it->second)) {
    by_key_.erase(it->second.key);
    by_port_.erase(it);
    return nullptr;
  }
  return &it->second;
}

bool NatEngine::permits(const Binding& m, const Endpoint& remote) const {
  if (m.port_mapping) return true;  // a port forward admits every remote
  switch (config_.nat.filtering) {
    case Filtering::endpoint_independent:
      return true;
    case Filtering::address_dependent:
      for (const auto& [e, when] : m.permitted) {
        if (e.ip == remote.ip) return true;
      }
      return false;
    case Filtering::address_and_port_dependent:
      return m.permitted.count(remote) != 0;
  }
  return false;
}

Decision NatEngine::from_inside(Time now, std::span<std::uint8_t> packet) {
  Ipv4View v;
  if (!view_ipv4(packet, v)) return count(Verdict::drop, Outcome::malformed);
  if (now < blackout_until_) return count(Verdict::drop, Outcome::blackout);
  if (v.fragment) return count(Verdict::drop, Outcome::fragment);
  if (v.protocol != kProtocolUdp) return count(Verdict::drop, Outcome::unsupported_protocol);
  if (!valid_udp(v)) return count(Verdict::drop, Outcome::malformed);
  std::uint8_t* udp = v.packet.data() + v.header_length;
  const Endpoint internal{v.source(), get16(udp)};
  const Endpoint remote{v.destination(), get16(udp + 2)};
  // Addressed to the NAT box itself (its IGD): its own stack answers.
  if (remote.ip == config_.inside_address) return count(Verdict::drop, Outcome::not_for_nat);
  const bool hairpin = remote.ip == config_.outside_address;
  if (hairpin && !config_.nat.hairpinning) return count(Verdict::drop, Outcome::hairpin_disabled);

  Binding* m = outbound_mapping(now, internal, remote);
  if (m == nullptr) return count(Verdict::drop, Outcome::ports_exhausted);
  m->permitted[remote] = now;
  m->last_outbound = now;
  ++outbound_by_host_[internal.ip];
  const Endpoint external{config_.outside_address, m->external_port};
  const ChecksumField ip_sum{v.packet.data() + 10, false};
  const ChecksumField udp_sum{udp + 6, true};  // the pseudo-header holds the addresses
  rewrite(v.packet.data() + 12, 4, external.ip, {ip_sum, udp_sum});
  rewrite(udp, 2, external.port, {udp_sum});
  if (!hairpin) return count(Verdict::send, Outcome::translated);
  // RFC 4787 REQ-9: a hairpinned packet is translated twice and is seen by
  // its target as coming from the sender's external endpoint.
  Binding* target = inbound_mapping(now, remote.port);
  if (target == nullptr) return count(Verdict::drop, Outcome::no_mapping);
  if (!permits(*target, external)) return count(Verdict::drop, Outcome::filtered);
  rewrite(v.packet.data() + 16, 4, target->internal.ip, {ip_sum, udp_sum});
  rewrite(udp + 2, 2, target->internal.port, {udp_sum});
  return count(Verdict::send, Outcome::hairpinned);
}

Decision NatEngine::from_outside(Time now, std::span<std::uint8_t> packet) {
  Ipv4View v;
  if (!view_ipv4(packet, v)) return count(Verdict::drop, Outcome::malformed);
  if (now < blackout_until_) return count(Verdict::drop, Outcome::blackout);
  if (v.destination() != config_.outside_address) return count(Verdict::drop, Outcome::not_for_nat);
  if (v.fragment) return count(Verdict::drop, Outcome::fragment);
  if (v.protocol == kProtocolIcmp) return icmp_from_outside(now, v.packet, v.header_length);
  if (v.protocol != kProtocolUdp) return count(Verdict::drop, Outcome::unsupported_protocol);
  if (!valid_udp(v)) return count(Verdict::drop, Outcome::malformed);
  std::uint8_t* udp = v.packet.data() + v.header_length;
  const Endpoint remote{v.source(), get16(udp)};
  Binding* m = inbound_mapping(now, get16(udp + 2));
  if (m == nullptr) return count(Verdict::drop, Outcome::no_mapping);
  if (!permits(*m, remote)) return count(Verdict::drop, Outcome::filtered);
  const ChecksumField udp_sum{udp + 6, true};
  rewrite(v.packet.data() + 16, 4, m->internal.ip, {{v.packet.data() + 10, false}, udp_sum});
  rewrite(udp + 2, 2, m->internal.port, {udp_sum});
  return count(Verdict::send, Outcome::translated);
}

Decision NatEngine::icmp_from_outside(Time now, std::span<std::uint8_t> packet, std::size_t header_length) {
  // RFC 4787 REQ-14: ICMP errors about a mapped flow go to the internal host.
  // Destination unreachable (3), time exceeded (11), parameter problem (12)
  // quote the original IPv4 header and at least 8 bytes of its UDP header.
  std::span<std::uint8_t> icmp = packet.subspan(header_length);
  if (icmp.size() < 8) return count(Verdict::drop, Outcome::malformed);
  const std::uint8_t type = icmp[0];
  if (type != 3 && type != 11 && type != 12) return count(Verdict::drop, Outcome::unsupported_protocol);
  std::span<std::uint8_t> quoted = icmp.subspan(8);
  if (quoted.size() < 20 || (quoted[0] >> 4) != 4) return count(Verdict::drop, Outcome::malformed);
  const std::size_t quoted_header = std::size_t{quoted[0] & 0x0Fu} * 4;
  if (quoted_header < 20 || quoted.size() < quoted_header + 8 || quoted[9] != kProtocolUdp) {
    return count(Verdict::drop, Outcome::malformed);
  }
  if (get32(quoted.data() + 12) != config_.outside_address) return count(Verdict::drop, Outcome::not_for_nat);
  std::uint8_t* quoted_udp = quoted.data() + quoted_header;
  Binding* m = inbound_mapping(now, get16(quoted_udp));
  if (m == nullptr) return count(Verdict::drop, Outcome::no_mapping);
  // The quoted header and UDP header change (with their own checksums), and
  // the ICMP checksum covers all of those bytes: it is updated from the
  // message as it was, so an error in it survives, as for UDP.
  const std::vector<std::uint8_t> before(icmp.begin() + 4, icmp.end());
  const ChecksumField quoted_ip_sum{quoted.data() + 10, false};
  const ChecksumField quoted_udp_sum{quoted_udp + 6, true};
  rewrite(quoted.data() + 12, 4, m->internal.ip, {quoted_ip_sum, quoted_udp_sum});
  rewrite(quoted_udp, 2, m->internal.port, {quoted_udp_sum});
  put16(icmp.data() + 2, wire::checksum_update(get16(icmp.data() + 2), before,
                                               std::span<const std::uint8_t>(icmp).subspan(4)));
  rewrite(packet.data() + 16, 4, m->internal.ip, {{packet.data() + 10, false}});
  return count(Verdict::send, Outcome::icmp_translated);
}

std::size_t NatEngine::rebind(Time now) {
  // Every old port stays taken until all mappings have moved, so no mapping
  // lands on a port another one just left: a peer still sending to an old
  // port must find no mapping, not another host.
  std::vector<std::uint16_t> old_ports;
  old_ports.reserve(by_port_.size());
  for (const auto& [port, m] : by_port_) {
    if (m.port_mapping) continue;  // configuration, not state
    old_ports.push_back(port);
    by_key_.erase(m.key);
  }
  std::size_t count_moved = 0;
  const bool keep_preservation = config_.nat.port_preservation;
  config_.nat.port_preservation = false;  // a rebind always changes the port
  for (const std::uint16_t old_port : old_ports) {
    std::uint16_t port = 0;
    if (!allocate_port(0, old_port, port)) continue;
    Binding m = std::move(by_port_.at(old_port));
    m.external_port = port;
    m.permitted.clear();
    m.last_outbound = now;
    by_key_.emplace(m.key, port);
    by_port_.emplace(port, std::move(m));
    ++count_moved;
  }
  config_.nat.port_preservation = keep_preservation;
  for (const std::uint16_t old_port : old_ports) by_port_.erase(old_port);
  return count_moved;
}

std::size_t NatEngine::expire_all() {
  std::size_t n = 0;
  for (auto it = by_port_.begin(); it != by_port_.end();) {
    if (it->second.port_mapping) {
      ++it;
      continue;
    }
    by_key_.erase(it->second.key);
    it = by_port_.erase(it);
    ++n;
  }
  return n;
}

PortMappingResult NatEngine::add_port_mapping(Time now, std::uint16_t external_port, const Endpoint& internal) {
  if (internal.ip == 0 || internal.ip == config_.inside_address || internal.port == 0) {
    return PortMappingResult::bad_internal_client;
  }
  const Key key{internal, {}};
  // Endpoint-independent mapping: the static entry is the host's one mapping.
  // Otherwise it is keyed by nothing a flow can produce (remote 0.0.0.0:0
  // never appears on the wire), and outbound_mapping looks that key up
  // before allocating: new flows leave from the forwarded port.
  const bool shared = config_.nat.mapping == Mapping::endpoint_independent;
  if (auto it = by_port_.find(external_port); it != by_port_.end()) {
    Binding& m = it->second;
    if (m.internal != internal) return PortMappingResult::conflict;
    if (!m.port_mapping && !(shared && m.key == key)) return PortMappingResult::conflict;
    m.port_mapping = true;  // the same host's flow on that port: it becomes the forward (RFC: overwrite)
    return PortMappingResult::ok;
  }
  if (external_port < config_.first_port || external_port > config_.last_port) return PortMappingResult::conflict;
  if (shared) {
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      // The host's dynamic mapping is elsewhere: the forward replaces it.
      by_port_.erase(it->second);
      by_key_.erase(it);
    }
  }
  Binding m;
  m.internal = internal;
  m.external_port = external_port;
  m.key = key;
  m.last_outbound = now;
  m.port_mapping = true;
  by_key_.emplace(key, external_port);
  by_port_.emplace(external_port, std::move(m));
  return PortMappingResult::ok;
}

PortMappingResult NatEngine::delete_port_mapping(std::uint16_t external_port) {
  auto it = by_port_.find(external_port);
  if (it == by_port_.end() || !it->second.port_mapping) return PortMappingResult::no_such_entry;
  if (auto k = by_key_.find(it->second.key); k != by_key_.end() && k->second == external_port) by_key_.erase(k);
  by_port_.erase(it);
  return PortMappingResult::ok;
}

void NatEngine::blackout(Time now, Time duration) { blackout_until_ = now + duration; }

std::size_t NatEngine::expire_idle(Time now) {
  std::size_t n = 0;
  const auto lifetime = std::chrono::milliseconds(config_.nat.mapping_lifetime_ms);
  for (auto it = by_port_.begin(); it != by_port_.end();) {
    if (!it->second.port_mapping && now - it->second.last_outbound > lifetime) {
      by_key_.erase(it->second.key);
      it = by_port_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

std::vector<MappingView> NatEngine::mappings() const {
  std::vector<MappingView> out;
  for (const auto& [port, m] : by_port_) {
    MappingView view{m.internal, m.external_port, {}, m.port_mapping};
    for (const auto& [e, when] : m.permitted) view.permitted.push_back(e);
    out.push_back(std::move(view));
  }
  std::sort(out.begin(), out.end(), [](const MappingView& a, const MappingView& b) {
    return a.external_port < b.external_port;
  });
  return out;
}

}  // namespace teredo::nat
