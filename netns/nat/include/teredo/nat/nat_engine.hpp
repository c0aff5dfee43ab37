// The NAT box's translation logic, sans I/O: IPv4 packets in (rewritten in
// place), a decision out, time passed in by the caller. RFC 4787 mapping and
// filtering behaviours, port preservation or random ports, hairpinning,
// mapping lifetime, ICMP error translation, and the scripted events of the lab
// (rebind, expire, blackout). teredo-nat wraps it in sockets; tests drive it
// directly under a virtual clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "teredo/netns/topology.hpp"

namespace teredo::nat {

using Time = std::chrono::nanoseconds;  // monotonic, arbitrary epoch

struct Endpoint {
  std::uint32_t ip = 0;  // host order
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};
std::string to_string(const Endpoint& e);

struct EngineConfig {
  netns::NatConfig nat;
  std::uint32_t inside_address = 0;
  std::uint32_t outside_address = 0;
  std::uint64_t seed = 1;
  std::uint16_t first_port = 1024;  // the range external ports are drawn from
  std::uint16_t last_port = 65535;
  // nat.sequential_ports: a port that is not preserved is the next free one
  // after the last given (from first_port on), not a random draw: a NAT that
  // allocates in sequence, and mappings a test can predict.
};

enum class Verdict : std::uint8_t { send, drop };

// Why a packet was dropped (or "translated"): the counters' names.
#define TEREDO_NAT_OUTCOMES(X) \
  X(translated)                \
  X(hairpinned)                \
  X(icmp_translated)           \
  X(malformed)                 \
  X(fragment)                  \
  X(unsupported_protocol)      \
  X(blackout)                  \
  X(hairpin_disabled)          \
  X(no_mapping)                \
  X(filtered)                  \
  X(not_for_nat)               \
  X(ports_exhausted)

enum class Outcome : std::uint8_t {
#define TEREDO_NAT_ENUM(n) n,
  TEREDO_NAT_OUTCOMES(TEREDO_NAT_ENUM)
#undef TEREDO_NAT_ENUM
      count_
};
const char* to_string(Outcome o);

struct Decision {
  Verdict verdict = Verdict::drop;
  Outcome outcome = Outcome::malformed;
};

struct MappingView {
  Endpoint internal;
  std::uint16_t external_port = 0;
  std::vector<Endpoint> permitted;  // remotes this mapping has sent to
  bool port_mapping = false;        // a static entry (UPnP AddPortMapping)
};

// Why add_port_mapping/delete_port_mapping refused (UPnP WANIPConnection
// error codes where one fits).
enum class PortMappingResult : std::uint16_t {
  ok = 0,
  no_such_entry = 714,        // NoSuchEntryInArray
  conflict = 718,             // ConflictInMappingEntry: the port belongs to another host or flow
  bad_internal_client = 402,  // not an address on the inside
};

class NatEngine {
 public:
  explicit NatEngine(EngineConfig config);

  // A packet that arrived on the inside interface. On send, the packet has
  // been rewritten and goes to its (new) destination: outside, or back inside
  // when hairpinned.
  Decision from_inside(Time now, std::span<std::uint8_t> packet);
  // A packet that arrived on the outside interface.
  Decision from_outside(Time now, std::span<std::uint8_t> packet);

  // Scripted events. rebind: every mapping moves to a new external port (and
  // loses its filter permissions, as a fresh mapping would); expire: every
  // mapping is gone; blackout: nothing passes until now + duration.
  std::size_t rebind(Time now);
  std::size_t expire_all();
  void blackout(Time now, Time duration);
  // Drops mappings idle longer than the lifetime (outbound refresh only,
  // RFC 4787 REQ-6).
  std::size_t expire_idle(Time now);
  // Changes the filtering behaviour from now on (existing mappings keep the
  // remotes they permitted): a case that needs RFC 4787's address-dependent
  // filtering behind a symmetric mapping switches it before the IUT starts.
  void set_filtering(netns::Filtering filtering) noexcept { config_.nat.filtering = filtering; }
  [[nodiscard]] netns::Filtering filtering() const noexcept { return config_.nat.filtering; }

  // Static port mappings (what a UPnP IGD's AddPortMapping creates): every
  // packet to the outside address at `external_port` goes to `internal`,
  // from any remote, and the entry never expires (lease 0) nor moves (it
  // survives rebind and expire, which model the dynamic state). Outbound
  // from `internal`, every new flow uses the same port whatever the mapping
  // behaviour (a cone's single mapping; for a symmetric NAT RFC 6081 §3.2's
  // UPnP-enabled symmetric NAT, where "the Teredo server reflects back the
  // reserved mapped address/port"). Flows mapped before the forward keep
  // their ports.
  PortMappingResult add_port_mapping(Time now, std::uint16_t external_port, const Endpoint& internal);
  PortMappingResult delete_port_mapping(std::uint16_t external_port);

  [[nodiscard]] std::size_t mapping_count() const noexcept { return by_port_.size(); }
  // Packets from inside host `ip` (host order) sent on outside (or hairpinned) so far.
  [[nodiscard]] std::uint64_t outbound_from(std::uint32_t ip) const {
    const auto it = outbound_by_host_.find(ip);
    return it == outbound_by_host_.end() ? 0 : it->second;
  }
  [[nodiscard]] std::vector<MappingView> mappings() const;
  [[nodiscard]] std::uint64_t counter(Outcome o) const noexcept {
    return counters_[static_cast<std::size_t>(o)];
  }

 private:
  // The internal endpoint, plus the remote's address (address-dependent
  // mapping) or address and port (address-and-port-dependent), zero otherwise.
  struct Key {
    Endpoint internal;
    Endpoint remote;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      const std::uint64_t a = (std::uint64_t{k.internal.ip} << 16) | k.internal.port;
      const std::uint64_t b = (std::uint64_t{k.remote.ip} << 16) | k.remote.port;
      return std::hash<std::uint64_t>{}(a * 0x9E3779B97F4A7C15ULL ^ b);
    }
  };
  struct Binding {
    Endpoint internal;
    std::uint16_t external_port = 0;
    Key key;
    std::map<Endpoint, Time> permitted;
    Time last_outbound{};
    bool port_mapping = false;  // static: never expires, admits every remote
  };

  Decision count(Verdict v, Outcome o) {
    ++counters_[static_cast<std::size_t>(o)];
    return {v, o};
  }
  Key key_for(const Endpoint& internal, const Endpoint& remote) const;
  Binding* outbound_mapping(Time now, const Endpoint& internal, const Endpoint& remote);
  Binding* inbound_mapping(Time now, std::uint16_t external_port);
  bool permits(const Binding& m, const Endpoint& remote) const;
  bool expired(Time now, const Binding& m) const;
  bool allocate_port(std::uint16_t preferred, std::uint16_t avoid, std::uint16_t& out);
  Decision icmp_from_outside(Time now, std::span<std::uint8_t> packet, std::size_t header_length);

  EngineConfig config_;
  std::mt19937_64 random_;
  std::unordered_map<std::uint16_t, Binding> by_port_;
  std::unordered_map<Key, std::uint16_t, KeyHash> by_key_;
  std::uint32_t next_sequential_ = 0;  // sequential_ports: where the next search starts (0: first_port)
  Time blackout_until_{};
  std::uint64_t counters_[static_cast<std::size_t>(Outcome::count_)] = {};
  std::unordered_map<std::uint32_t, std::uint64_t> outbound_by_host_;
};

}  // namespace teredo::nat
