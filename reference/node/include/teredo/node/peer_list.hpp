// The list of recent peers (RFC 4380 §5.2, kept "identical" by relays, §5.4):
// one entry per peer IPv6 address with its mapped endpoint, trust, last
// reception/transmission, the §5.2.6 bubble budget and a bounded queue of
// packets waiting for the peer to become trusted.
//
// Memory is bounded: at most `capacity` entries (least recently used evicted,
// R4380-5.2-06, §7.3.3, §7.3.5), at most `queue_bytes_per_peer` and
// `queue_packets_per_peer` queued per entry, `queue_bytes_total` overall.
// Lookup is O(1): an unordered_map keyed with SipHash under a caller-supplied
// key (attacker-chosen addresses cannot force collisions), threaded by two
// intrusive lists: LRU order (idle expiry, eviction) and the retry order of
// entries waiting for an answer to a bubble.
//
// Peer pointers stay valid until that entry is erased or evicted (map nodes
// do not move on rehash).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "teredo/node/addressing.hpp"
#include "teredo/node/endpoint.hpp"
#include "teredo/node/time.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv6.hpp"

namespace teredo::node {

// §5.2.6: at most 4 bubbles per peer in 300 s without a direct response.
inline constexpr std::size_t kMaxBubblesInWindow = 4;

// Protocol durations, already scaled by the owner's TimeScale.
struct PeerTimers {
  Duration validity = 30s;        // §5.2.4: valid while something arrived in the last 30 s
  Duration bubble_spacing = 2s;   // §5.2.6: no bubble within 2 s of the last transmission
  Duration bubble_window = 300s;  // §5.2.6: the window of the 4-bubble budget
  // No send, receive or bubble for this long removes the entry. 300 s, not
  // 30 s: an entry must outlive its bubble window, or dropping and recreating
  // it would reset the budget §5.2.6 caps.
  Duration idle_timeout = 300s;
};

struct PeerListConfig {
  std::size_t capacity = 1024;
  std::size_t queue_bytes_per_peer = 1280;  // one full-size packet, as Miredo
  std::size_t queue_packets_per_peer = 8;
  std::size_t queue_bytes_total = 256 * 1024;
  PeerTimers timers;
  SipKey hash_key{};  // the I/O edge fills it from a CSPRNG; zero in tests
};

struct Peer {
  wire::Ipv6Address address;
  UdpEndpoint mapped;  // where to send; from the address until a packet arrives
  bool trusted = false;
  Time created{};
  Time last_receive{};
  Time last_send{};  // any transmission: data or bubble (§5.2.6)

  // The last kMaxBubblesInWindow bubble times, as a ring; bubble_count counts
  // bubbles since the last direct response (saturating).
  std::array<Time, kMaxBubblesInWindow> bubble_times{};
  std::uint32_t bubble_count = 0;

  std::vector<wire::ByteVector> queue;
  std::size_t queued_bytes = 0;

  // Client-only state (RFC 4380 §5.2; the server and relay leave it alone).
  // §5.2.9: "the value of the last nonce sent to the peer", the data of the
  // echo request of a direct IPv6 connectivity test still waiting for its reply.
  std::array<std::uint8_t, 8> echo_nonce{};
  bool echo_pending = false;
  // §5.2.8: the local peer address and port learned from a discovery bubble,
  // and when that bubble arrived (a local peer stays one for 600 s, §5.2.4).
  std::optional<UdpEndpoint> local;
  Time last_discovery{};
  // RFC 6081 §5.2.1 (symmetric NAT support): the nonce of the last indirect
  // bubble sent to the peer, and of the last one received from it (0: none).
  std::uint32_t nonce_sent = 0;
  std::uint32_t nonce_received = 0;
  // RFC 6081 §5.4.1 and §5.5.1 (port-preserving and sequential port-symmetric
  // NAT extensions), kept by client_random_port.cpp.
  struct RandomPort {
    std::uint16_t local = 0;        // the local port listened on for this peer (0: none)
    std::uint16_t predicted = 0;    // "Random Port": the external port predicted for it
    std::uint16_t peer = 0;         // "Peer Random Port"
    bool direct_receive_primary = false;
    bool direct_receive_random = false;
    unsigned refresh_count = 0;     // "Connection Refresh Count"
    std::optional<Time> last_data_send;
    // §5.5.1 Echo Test state and its failover timer.
    std::array<std::uint8_t, 8> echo_nonce1{};
    std::array<std::uint8_t, 8> echo_nonce2{};
    std::uint16_t echo_lower = 0;
    std::uint16_t echo_upper = 0;
    unsigned echo_retries = 0;
    std::optional<Time> echo_failover;
  } random_port;
  // RFC 6081 §5.6.1 (hairpinning): the peer's advertised alternate
  // address/port list. §5.7.1 (server load reduction): the Count of
  // Solicitations Transmitted (0: no solicitation outstanding).
  std::vector<UdpEndpoint> alternates;
  unsigned solicitations = 0;
  // RFC 6081 §5.3.1: the Symmetric Peer flag (client_upnp.cpp).
  bool symmetric = false;
};

enum class EnqueueResult : std::uint8_t { queued, too_large, peer_queue_full, total_queue_full };
// The event code a refused enqueue is logged with ("drop_queue_full", ...).
std::string_view to_event_code(EnqueueResult r) noexcept;

class PeerList {
 public:
  explicit PeerList(PeerListConfig config = {});
  PeerList(const PeerList&) = delete;
  PeerList& operator=(const PeerList&) = delete;

  [[nodiscard]] const PeerListConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return config_.capacity; }
  [[nodiscard]] std::size_t queued_bytes_total() const noexcept { return queued_total_; }

  [[nodiscard]] Peer* find(const wire::Ipv6Address& address) noexcept;
  [[nodiscard]] const Peer* find(const wire::Ipv6Address& address) const noexcept;

  struct Insertion {
    Peer* peer = nullptr;  // null only when capacity is 0
    bool created = false;
    bool evicted = false;            // the least recently used entry made room
    std::size_t evicted_packets = 0;  // packets that were queued for it
  };
  // Finds or creates. A new entry is untrusted, has no mapping and, per
  // R4380-5.2.6-01, last reception and transmission 30 s (validity) in the
  // past and no bubbles, so a first bubble may go at once.
  Insertion find_or_insert(Time now, const wire::Ipv6Address& address);
  // Marks the entry as used now (most recently used; postpones idle expiry).
  void touch(Peer& peer, Time now) noexcept;
  // Removes the entry; its queued packets are discarded (R4380-5.4.1-09).
  // Returns how many packets were discarded.
  std::size_t erase(Peer& peer) noexcept;

  // §5.2.4: an entry is valid while its last reception is under 30 s old.
  [[nodiscard]] bool is_valid(const Peer& peer, Time now) const noexcept;

  // §5.2.6 bubble budget.
  [[nodiscard]] std::size_t bubbles_in_window(const Peer& peer, Time now) const noexcept;
  [[nodiscard]] bool spacing_elapsed(const Peer& peer, Time now) const noexcept;
  [[nodiscard]] bool bubble_allowed(const Peer& peer, Time now) const noexcept {
    return spacing_elapsed(peer, now) && bubbles_in_window(peer, now) < kMaxBubblesInWindow;
  }
  // Records a bubble: R4380-5.2.6-06 (last transmission), R4380-5.2.6-07 (count).
  void record_bubble(Peer& peer, Time now) noexcept;
  // A direct response arrived: the budget starts afresh.
  static void reset_bubbles(Peer& peer) noexcept { peer.bubble_count = 0; }

  // The bounded queue (R4380-5.4.1-07, R4380-5.4.1-10).
  EnqueueResult enqueue(Peer& peer, wire::Bytes packet);
  std::vector<wire::ByteVector> take_queue(Peer& peer) noexcept;
  std::size_t clear_queue(Peer& peer) noexcept;

  // Entries waiting for an answer to a bubble, oldest schedule first. With a
  // constant spacing, scheduling right after record_bubble keeps this list in
  // deadline order.
  void schedule_retry(Peer& peer) noexcept;  // (re)appends at the back
  void cancel_retry(Peer& peer) noexcept;
  [[nodiscard]] bool retry_scheduled(const Peer& peer) const noexcept;
  [[nodiscard]] Peer* retry_front() noexcept;
  [[nodiscard]] const Peer* retry_front() const noexcept;

  // Idle expiry in LRU order.
  [[nodiscard]] std::optional<Time> next_expiry() const noexcept;
  struct Expired {
    std::size_t peers = 0;
    std::size_t packets = 0;  // queued packets discarded with them
  };
  Expired expire(Time now) noexcept;

 private:
  struct Node : Peer {
    Time last_used{};
    Node* lru_prev = nullptr;  // towards least recently used
    Node* lru_next = nullptr;
    Node* retry_prev = nullptr;
    Node* retry_next = nullptr;
    bool in_retry = false;
  };
  struct KeyHash {
    SipKey key;
    std::size_t operator()(const wire::Ipv6Address& a) const noexcept {
      return static_cast<std::size_t>(siphash24(key, a.bytes));
    }
  };
  static Node& node(Peer& peer) noexcept { return static_cast<Node&>(peer); }
  static const Node& node(const Peer& peer) noexcept { return static_cast<const Node&>(peer); }
  void lru_unlink(Node& n) noexcept;
  void lru_append(Node& n) noexcept;
  void retry_unlink(Node& n) noexcept;

  PeerListConfig config_;
  std::unordered_map<wire::Ipv6Address, Node, KeyHash> map_;
  Node* lru_head_ = nullptr;  // least recently used
  Node* lru_tail_ = nullptr;
  Node* retry_head_ = nullptr;
  Node* retry_tail_ = nullptr;
  std::size_t queued_total_ = 0;
};

}  // namespace teredo::node
