#include "teredo/node/peer_list.hpp"

#include <algorithm>
#include <utility>

namespace teredo::node {

std::string_view to_event_code(EnqueueResult r) noexcept {
  switch (r) {
    case EnqueueResult::queued: return "queued";
    case EnqueueResult::too_large: return "drop_queue_packet_too_large";
    case EnqueueResult::peer_queue_full: return "drop_queue_full";
    case EnqueueResult::total_queue_full: return "drop_queue_full_total";
  }
  return "drop_queue_full";
}

PeerList::PeerList(PeerListConfig config)
    : config_(std::move(config)), map_(0, KeyHash{config_.hash_key}) {}

Peer* PeerList::find(const wire::Ipv6Address& address) noexcept {
  const auto it = map_.find(address);
  return it == map_.end() ? nullptr : &it->second;
}

const Peer* PeerList::find(const wire::Ipv6Address& address) const noexcept {
  const auto it = map_.find(address);
  return it == map_.end() ? nullptr : &it->second;
}

PeerList::Insertion PeerList::find_or_insert(Time now, const wire::Ipv6Address& address) {
  Insertion result;
  if (Peer* existing = find(address)) {
    result.peer = existing;
    return result;
  }
  if (config_.capacity == 0) return result;
  // R4380-5.2-06, §7.3.3/§7.3.5: bounded list, least recently used entry goes.
  if (map_.size() >= config_.capacity && lru_head_ != nullptr) {
    result.evicted = true;
    result.evicted_packets = erase(*lru_head_);
  }
  auto [it, inserted] = map_.try_emplace(address);
  (void)inserted;
  Node& n = it->second;
  n.address = address;
  n.created = now;
  // R4380-5.2.6-01: last reception and last transmission 30 s in the past,
  // zero bubbles: invalid for sending, and a first bubble may go at once.
  n.last_receive = now - config_.timers.validity;
  n.last_send = now - config_.timers.validity;
  n.last_used = now;
  lru_append(n);
  result.peer = &n;
  result.created = true;
  return result;
}

void PeerList::touch(Peer& peer, Time now) noexcept {
  Node& n = node(peer);
  n.last_used = now;
  if (lru_tail_ == &n) return;
  lru_unlink(n);
  lru_append(n);
}

std::size_t PeerList::erase(Peer& peer) noexcept {
  Node& n = node(peer);
  const std::size_t packets = clear_queue(n);
  lru_unlink(n);
  retry_unlink(n);
  const wire::Ipv6Address key = n.address;  // erase destroys n
  map_.erase(key);
  return packets;
}

bool PeerList::is_valid(const Peer& peer, Time now) const noexcept {
  return now - peer.last_receive < config_.timers.validity;
}

std::size_t PeerList::bubbles_in_window(const Peer& peer, Time now) const noexcept {
  const std::size_t recorded = std::min<std::size_t>(peer.bubble_count, kMaxBubblesInWindow);
  std::size_t in_window = 0;
  for (std::size_t i = 0; i < recorded; ++i) {
    if (now - peer.bubble_times[i] < config_.timers.bubble_window) ++in_window;
  }
  return in_window;
}

bool PeerList::spacing_elapsed(const Peer& peer, Time now) const noexcept {
  return now - peer.last_send >= config_.timers.bubble_spacing;
}

void PeerList::record_bubble(Peer& peer, Time now) noexcept {
  peer.bubble_times[peer.bubble_count % kMaxBubblesInWindow] = now;
  // Saturate on a multiple of the ring size so the ring index stays right.
  if (peer.bubble_count < 0xFFFFFFF0U) ++peer.bubble_count;
  peer.last_send = now;
  touch(peer, now);
}

EnqueueResult PeerList::enqueue(Peer& peer, wire::Bytes packet) {
  if (packet.size() > config_.queue_bytes_per_peer) return EnqueueResult::too_large;
  if (peer.queue.size() >= config_.queue_packets_per_peer ||
      peer.queued_bytes + packet.size() > config_.queue_bytes_per_peer) {
    return EnqueueResult::peer_queue_full;
  }
  if (queued_total_ + packet.size() > config_.queue_bytes_total) {
    return EnqueueResult::total_queue_full;
  }
  peer.queue.emplace_back(packet.begin(), packet.end());
  peer.queued_bytes += packet.size();
  queued_total_ += packet.size();
  return EnqueueResult::queued;
}

std::vector<wire::ByteVector> PeerList::take_queue(Peer& peer) noexcept {
  queued_total_ -= peer.queued_bytes;
  peer.queued_bytes = 0;
  std::vector<wire::ByteVector> out;
  out.swap(peer.queue);
  return out;
}

std::size_t PeerList::clear_queue(Peer& peer) noexcept {
  const std::size_t packets = peer.queue.size();
  queued_total_ -= peer.queued_bytes;
  peer.queued_bytes = 0;
  std::vector<wire::ByteVector>().swap(peer.queue);  // release the memory too
  return packets;
}

void PeerList::schedule_retry(Peer& peer) noexcept {
  Node& n = node(peer);
  retry_unlink(n);
  n.in_retry = true;
  n.retry_prev = retry_tail_;
  n.retry_next = nullptr;
  if (retry_tail_ != nullptr) retry_tail_->retry_next = &n;
  retry_tail_ = &n;
  if (retry_head_ == nullptr) retry_head_ = &n;
}

void PeerList::cancel_retry(Peer& peer) noexcept { retry_unlink(node(peer)); }

bool PeerList::retry_scheduled(const Peer& peer) const noexcept { return node(peer).in_retry; }

Peer* PeerList::retry_front() noexcept { return retry_head_; }
const Peer* PeerList::retry_front() const noexcept { return retry_head_; }

std::optional<Time> PeerList::next_expiry() const noexcept {
  if (lru_head_ == nullptr) return std::nullopt;
  return lru_head_->last_used + config_.timers.idle_timeout;
}

PeerList::Expired PeerList::expire(Time now) noexcept {
  Expired expired;
  while (lru_head_ != nullptr && lru_head_->last_used + config_.timers.idle_timeout <= now) {
    expired.packets += erase(*lru_head_);
    ++expired.peers;
  }
  return expired;
}

void PeerList::lru_unlink(Node& n) noexcept {
  if (n.lru_prev != nullptr) n.lru_prev->lru_next = n.lru_next;
  if (n.lru_next != nullptr) n.lru_next->lru_prev = n.lru_prev;
  if (lru_head_ == &n) lru_head_ = n.lru_next;
  if (lru_tail_ == &n) lru_tail_ = n.lru_prev;
  n.lru_prev = n.lru_next = nullptr;
}

void PeerList::lru_append(Node& n) noexcept {
  n.lru_prev = lru_tail_;
  n.lru_next = nullptr;
  if (lru_tail_ != nullptr) lru_tail_->lru_next = &n;
  lru_tail_ = &n;
  if (lru_head_ == nullptr) lru_head_ = &n;
}

void PeerList::retry_unlink(Node& n) noexcept {
  if (!n.in_retry) return;
  if (n.retry_prev != nullptr) n.retry_prev->retry_next = n.retry_next;
  if (n.retry_next != nullptr) n.retry_next->retry_prev = n.retry_prev;
  if (retry_head_ == &n) retry_head_ = n.retry_next;
  if (retry_tail_ == &n) retry_tail_ = n.retry_prev;
  n.retry_prev = n.retry_next = nullptr;
  n.in_retry = false;
}

}  // namespace teredo::node
