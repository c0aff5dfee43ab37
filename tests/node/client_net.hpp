// A small in-memory Internet for client scenarios: a virtual clock, the real
// reference Server and Relay, Teredo clients behind NAT boxes, and scripted
// endpoints. NAT boxes are the lab's NatEngine (RFC 4787 profiles: full,
// restricted and port-restricted cone, symmetric), optional idle mapping
// lifetime, no hairpinning. Clients behind one NAT share a LAN: unicast
// between their local addresses and the 224.0.0.253 group reach each other
// directly.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "client_fixture.hpp"
#include "teredo/nat/nat_engine.hpp"
#include "teredo/netns/topology.hpp"
#include "teredo/wire/frame.hpp"

namespace teredo::node::test {

// The lab's NAT profiles; the box itself is netns/nat's NatEngine (RFC 4787
// mapping and filtering), the one NAT model of the project.
enum class NatKind { full_cone, restricted, port_restricted, symmetric };

// A NatEngine at a public address: the in-memory Internet hands it each
// datagram as the IPv4/UDP packet it would be. Ports are allocated in
// sequence from first_port (so a test can name the mapping), none preserved,
// no hairpinning; mappings idle longer than `lifetime` expire (never, when
// unset).
class Nat {
 public:
  Nat(NatKind kind, wire::Ipv4Address public_address, std::uint16_t first_port = 20000,
      std::optional<Duration> lifetime = std::nullopt)
      : public_(public_address), engine_(config(kind, public_address, first_port, lifetime)) {}

  [[nodiscard]] wire::Ipv4Address public_address() const { return public_; }

  // The public endpoint a datagram from `internal` to `to` leaves with; none
  // when the NAT drops it (hairpinning).
  std::optional<UdpEndpoint> outbound(Time now, UdpEndpoint internal, UdpEndpoint to) {
    ByteVector packet = ipv4_udp(internal, to);
    if (engine_.from_inside(now, packet).verdict != nat::Verdict::send) return std::nullopt;
    return UdpEndpoint{wire::Ipv4Address{read32(packet, 12)}, read16(packet, 20)};
  }
  // The internal endpoint a datagram from `from` to the public endpoint goes
  // to; none when no mapping lets it in.
  std::optional<UdpEndpoint> inbound(Time now, UdpEndpoint public_ep, UdpEndpoint from) {
    ByteVector packet = ipv4_udp(from, public_ep);
    if (engine_.from_outside(now, packet).verdict != nat::Verdict::send) return std::nullopt;
    return UdpEndpoint{wire::Ipv4Address{read32(packet, 16)}, read16(packet, 22)};
  }
  // Every mapping moves to a new port (a NAT reboot, a rebinding).
  void rebind(Time now) { engine_.rebind(now); }

 private:
  static nat::EngineConfig config(NatKind kind, wire::Ipv4Address public_address, std::uint16_t first_port,
                                  std::optional<Duration> lifetime) {
    static constexpr const char* kProfiles[] = {"full-cone", "restricted-cone", "port-restricted-cone", "symmetric"};
    nat::EngineConfig c;
    EXPECT_TRUE(netns::apply_nat_profile(kProfiles[static_cast<int>(kind)], c.nat));
    c.nat.port_preservation = false;
    c.nat.hairpinning = false;
    c.nat.mapping_lifetime_ms =
        lifetime ? std::chrono::duration_cast<std::chrono::milliseconds>(*lifetime).count() : std::int64_t{1} << 40;
    c.outside_address = public_address.value;
    c.first_port = first_port;
    c.nat.sequential_ports = true;
    return c;
  }
  static ByteVector ipv4_udp(UdpEndpoint from, UdpEndpoint to) {
    return wire::build_ipv4_udp({from.address, from.port, to.address, to.port}, {});
  }
  static std::uint16_t read16(const ByteVector& p, std::size_t at) {
    return static_cast<std::uint16_t>((p[at] << 8) | p[at + 1]);
  }
  static std::uint32_t read32(const ByteVector& p, std::size_t at) {
    return (std::uint32_t{read16(p, at)} << 16) | read16(p, at + 2);
  }

  wire::Ipv4Address public_;
  nat::NatEngine engine_;
};

struct ClientHost {
  Client client;
  Nat* nat = nullptr;  // null: on a public address
  std::vector<ByteVector> tunnel;
  ClientHost(ClientConfig config, Nat* n) : client(std::move(config)), nat(n) {}
  [[nodiscard]] UdpEndpoint local() const { return client.config().local; }
};

struct Logged {
  OutgoingDatagram datagram;  // as the sender emitted it
  UdpEndpoint from;           // as the Internet saw it (after NAT)
  Time at;
};

class ClientNet {
 public:
  Time now{0};
  Server* server = nullptr;
  Relay* relay = nullptr;
  std::vector<ClientHost*> hosts;
  // Scripted endpoints: they get (source as seen, datagram) and may answer.
  std::map<std::uint64_t, std::function<void(UdpEndpoint, const OutgoingDatagram&)>> scripted;
  std::vector<Logged> log;
  std::vector<OutgoingDatagram> undeliverable;
  std::vector<OutgoingDatagram> filtered;  // dropped by a NAT (incl. hairpin)
  std::vector<ByteVector> server_tunnel, relay_tunnel;
  std::vector<Event> events;

  static std::uint64_t key(UdpEndpoint e) { return (std::uint64_t{e.address.value} << 16) | e.port; }
  void script(UdpEndpoint at, std::function<void(UdpEndpoint, const OutgoingDatagram&)> f) {
    scripted[key(at)] = std::move(f);
  }
  void send(OutgoingDatagram d, ClientHost* sender = nullptr) { queue_.push_back({std::move(d), sender}); }

  void collect(Outbox& out, ClientHost* host, std::vector<ByteVector>* tunnel) {
    for (auto& d : out.datagrams) queue_.push_back({std::move(d), host});
    for (auto& p : out.to_tunnel) tunnel->push_back(std::move(p));
    for (auto& e : out.events) events.push_back(std::move(e));
    out.clear();
  }
  void start(ClientHost& h) {
    Outbox out;
    h.client.start(now, out);
    collect(out, &h, &h.tunnel);
    run();
  }
  void tun(ClientHost& h, Bytes packet) {
    Outbox out;
    h.client.handle_ipv6(now, packet, out);
    collect(out, &h, &h.tunnel);
    run();
  }
  void from_native(Bytes packet) {
    Outbox out;
    relay->handle_ipv6(now, packet, out);
    collect(out, nullptr, &relay_tunnel);
    run();
  }

  void run(std::size_t max_steps = 100000) {
    std::size_t steps = 0;
    while (!queue_.empty()) {
      ASSERT_LT(++steps, max_steps) << "forwarding loop";
      auto [d, sender] = std::move(queue_.front());
      queue_.pop_front();
      deliver(d, sender);
    }
  }

  // Fires every timer due up to `t` in time order, then sets the clock to t.
  void advance_to(Time t) {
    for (std::size_t guard = 0;; ++guard) {
      ASSERT_LT(guard, 1000000u) << "timer storm";
      std::optional<Time> next;
      ClientHost* who = nullptr;
      for (ClientHost* h : hosts) {
        const auto n = h->client.next_timeout();
        if (n && (!next || *n < *next)) {
          next = n;
          who = h;
        }
      }
      bool relay_next = false;
      if (relay != nullptr) {
        const auto n = relay->next_timeout();
        if (n && (!next || *n < *next)) {
          next = n;
          relay_next = true;
        }
      }
      if (!next || *next > t) break;
      now = std::max(now, *next);
      Outbox out;
      if (relay_next) {
        relay->handle_timeout(now, out);
        collect(out, nullptr, &relay_tunnel);
      } else {
        who->client.handle_timeout(now, out);
        collect(out, who, &who->tunnel);
      }
      run();
    }
    now = t;
  }
  void advance(Duration d) { advance_to(now + d); }

  // Datagrams a host emitted (before NAT) to `to`.
  std::vector<Logged> sent(const ClientHost& h, UdpEndpoint to) const {
    std::vector<Logged> found;
    for (const Logged& l : log) {
      if (l.datagram.from == h.local() && l.datagram.to == to) found.push_back(l);
    }
    return found;
  }
  std::vector<Logged> sent_to(UdpEndpoint to) const {
    std::vector<Logged> found;
    for (const Logged& l : log) {
      if (l.datagram.to == to) found.push_back(l);
    }
    return found;
  }

 private:
  struct InFlight {
    OutgoingDatagram datagram;
    ClientHost* sender;
  };
  static constexpr wire::Ipv4Address kGroup{0xE00000FD};  // 224.0.0.253

  bool same_lan(const ClientHost* a, const ClientHost* b) const { return a != b && a->nat != nullptr && a->nat == b->nat; }

  void to_host(ClientHost& h, UdpEndpoint internal_to, UdpEndpoint from, const OutgoingDatagram& d) {
    Outbox out;
    if (internal_to == h.local()) {
      h.client.handle_datagram(now, from, d.payload, out);
    } else if (internal_to == h.client.config().secondary_local) {
      h.client.handle_secondary_datagram(now, from, d.payload, out);
    } else {
      undeliverable.push_back(d);
      return;
    }
    collect(out, &h, &h.tunnel);
  }

  void deliver(const OutgoingDatagram& d, ClientHost* sender) {
    UdpEndpoint from = d.from;
    if (sender != nullptr && sender->nat != nullptr) {
      if (d.to.address == kGroup) {
        // Link-scope multicast: TTL 1, the LAN only.
        log.push_back({d, d.from, now});
        EXPECT_EQ(d.ttl, 1) << "a discovery bubble leaves with TTL 1 (R4380-5.2.8-04)";
        for (ClientHost* h : hosts) {
          if (!same_lan(sender, h)) continue;
          Outbox out;
          h->client.handle_discovery_datagram(now, d.from, d.payload, out);
          collect(out, h, &h->tunnel);
        }
        return;
      }
      for (ClientHost* h : hosts) {
        if (same_lan(sender, h) && (d.to == h->local() || d.to == h->client.config().secondary_local)) {
          log.push_back({d, d.from, now});
          to_host(*h, d.to, d.from, d);
          return;
        }
      }
      const auto mapped = sender->nat->outbound(now, d.from, d.to);
      if (!mapped) {
        filtered.push_back(d);  // no hairpinning
        return;
      }
      from = *mapped;
    }
    log.push_back({d, from, now});
    Outbox out;
    if (server != nullptr && (d.to == server->primary_endpoint() || d.to == server->secondary_endpoint())) {
      server->handle_datagram(now, d.to, from, d.payload, out);
      collect(out, nullptr, &server_tunnel);
      return;
    }
    if (relay != nullptr && d.to == relay->config().local) {
      relay->handle_datagram(now, from, d.payload, out);
      collect(out, nullptr, &relay_tunnel);
      return;
    }
    for (ClientHost* h : hosts) {
      if (h->nat == nullptr && (d.to == h->local() || d.to == h->client.config().secondary_local)) {
        to_host(*h, d.to, from, d);
        return;
      }
    }
    for (ClientHost* h : hosts) {
      if (h->nat == nullptr || d.to.address != h->nat->public_address()) continue;
      const auto internal = h->nat->inbound(now, d.to, from);
      if (!internal) {
        filtered.push_back(d);
        return;
      }
      for (ClientHost* target : hosts) {
        if (target->nat == h->nat &&
            (*internal == target->local() || *internal == target->client.config().secondary_local)) {
          to_host(*target, *internal, from, d);
          return;
        }
      }
      undeliverable.push_back(d);
      return;
    }
    const auto it = scripted.find(key(d.to));
    if (it != scripted.end()) {
      it->second(from, d);
      return;
    }
    undeliverable.push_back(d);
  }

  std::deque<InFlight> queue_;
};

}  // namespace teredo::node::test
