// A tiny in-memory network for scenario tests: a virtual clock, the server
// and relay under test, and scripted Teredo clients with public mappings.
// Datagrams are delivered in FIFO order by destination endpoint; every one
// that was put on the "wire" is logged so tests can check invariants (no
// datagram to a non-global IPv4, no loop).
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <vector>

#include "node_test_util.hpp"
#include "teredo/node/relay.hpp"
#include "teredo/node/server.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace teredo::node::test {

// A client that reached its mapping through a NAT we do not model: it owns
// `mapped` and a Teredo address; it answers an indirect bubble (one that came
// from its server with an origin indication) with a direct bubble to the
// origin, as RFC 4380 §5.2.3 allows, and keeps every other IPv6 packet.
struct ScriptedClient {
  UdpEndpoint mapped;
  wire::Ipv6Address address;
  bool answer_bubbles = true;
  std::vector<ByteVector> received;         // non-bubble IPv6 packets
  std::vector<UdpEndpoint> bubble_origins;  // origins of indirect bubbles seen

  void receive(UdpEndpoint /*from*/, Bytes payload, std::vector<OutgoingDatagram>& send) {
    const auto d = wire::parse_datagram(payload);
    ASSERT_TRUE(d) << wire::to_string(d.error());
    if (wire::is_bubble(d->ipv6)) {
      if (d->origin) {
        const UdpEndpoint origin{d->origin->address, d->origin->port};
        bubble_origins.push_back(origin);
        if (answer_bubbles) {
          send.push_back({mapped, origin, wire::build_bubble(address, d->ipv6.header.source)});
        }
      }
      return;
    }
    received.emplace_back(d->ipv6.packet.begin(), d->ipv6.packet.end());
  }
};

class Network {
 public:
  Server* server = nullptr;
  Relay* relay = nullptr;
  std::vector<ScriptedClient*> clients;
  Time now{0};

  std::vector<OutgoingDatagram> log;  // every datagram put on the wire, in order
  std::vector<Time> log_times;
  std::vector<OutgoingDatagram> undeliverable;
  std::vector<ByteVector> relay_tunnel;
  std::vector<ByteVector> server_tunnel;
  std::vector<Event> events;

  void send(OutgoingDatagram d) { queue_.push_back(std::move(d)); }

  void take(Outbox& out, std::vector<ByteVector>& tunnel) {
    for (auto& d : out.datagrams) queue_.push_back(std::move(d));
    for (auto& p : out.to_tunnel) tunnel.push_back(std::move(p));
    for (auto& e : out.events) events.push_back(std::move(e));
    out.clear();
  }

  void from_native(Bytes ipv6) {
    Outbox out;
    relay->handle_ipv6(now, ipv6, out);
    take(out, relay_tunnel);
    run();
  }

  // Delivers until nothing is in flight; a bound catches forwarding loops.
  void run(std::size_t max_steps = 10000) {
    std::size_t steps = 0;
    while (!queue_.empty()) {
      ASSERT_LT(++steps, max_steps) << "forwarding loop";
      OutgoingDatagram d = std::move(queue_.front());
      queue_.pop_front();
      log.push_back(d);
      log_times.push_back(now);
      deliver(d);
    }
  }

  // Fires the relay's timers up to `t`, in order, then sets the clock to t.
  void advance_to(Time t) {
    while (relay != nullptr) {
      const auto next = relay->next_timeout();
      if (!next || *next > t) break;
      now = std::max(now, *next);
      Outbox out;
      relay->handle_timeout(now, out);
      take(out, relay_tunnel);
      run();
    }
    now = t;
  }

  // Datagrams of the log that went from `from` to `to`.
  std::vector<std::size_t> sent(UdpEndpoint from, UdpEndpoint to) const {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < log.size(); ++i) {
      if (log[i].from == from && log[i].to == to) idx.push_back(i);
    }
    return idx;
  }

 private:
  void deliver(const OutgoingDatagram& d) {
    Outbox out;
    if (server != nullptr && (d.to == server->primary_endpoint() || d.to == server->secondary_endpoint())) {
      server->handle_datagram(now, d.to, d.from, d.payload, out);
      take(out, server_tunnel);
      return;
    }
    if (relay != nullptr && d.to == relay->config().local) {
      relay->handle_datagram(now, d.from, d.payload, out);
      take(out, relay_tunnel);
      return;
    }
    for (ScriptedClient* c : clients) {
      if (c->mapped == d.to) {
        std::vector<OutgoingDatagram> replies;
        c->receive(d.from, d.payload, replies);
        for (auto& r : replies) queue_.push_back(std::move(r));
        return;
      }
    }
    undeliverable.push_back(d);
  }

  std::deque<OutgoingDatagram> queue_;
};

}  // namespace teredo::node::test
