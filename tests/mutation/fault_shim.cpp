// An LD_PRELOAD shim that turns the (correct) reference IUT into a mutant with
// one fault, named by TEREDO_FAULT (tests/mutation/fault_table.hpp). It sits
// between teredo-ref and the lab: it interposes the calls teredo-ref's I/O
// layer makes (reference/io: bind, setsockopt, recvmmsg, sendmmsg, and read /
// write / ioctl on the TUN device) and rewrites what the reference sends or
// what it is handed, so that the reference's own code stays correct.
//
// "Accepts what it must refuse" faults are receive-side rewrites: the shim
// repairs or disguises the faulty input so that the reference takes it (a
// recomputed checksum, a non-global IPv4 swapped for a global stand-in and
// swapped back on the way out). Checksums are kept valid by RFC 1624
// incremental updates, so a checksum that was wrong on purpose stays wrong
// unless the fault is about checksums.
//
// Built for the mutation test only; never installed.
//
// Without fortification: its inline read() wrapper would collide with the
// read() defined here.
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "mutation/fault_table.hpp"
#include "teredo/wire/checksum.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/teredo_address.hpp"
#include "teredo/wire/trailer.hpp"

namespace {

using namespace teredo::wire;

std::string_view g_fault;  // empty: the shim passes everything through

bool fault(std::string_view name) noexcept { return g_fault == name; }

template <class F>
F real(const char* name) {
  void* p = ::dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    std::fprintf(stderr, "fault shim: no next %s\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(p);
}

// --- sockets and the TUN device ------------------------------------------------------------------------------------

constexpr int kMaxFd = 4096;
std::vector<int> g_bound;  // UDP/IPv4 sockets in bind order (server: primary, secondary)
int g_tun_fd = -1;

// --- IPv4 stand-ins: "this non-global address is global" -----------------------------------------------------------

struct StandIn {
  Ipv4Address real, stand_in;
};
std::vector<StandIn> g_stand_ins;

Ipv4Address stand_in_for(Ipv4Address real) {
  for (const auto& s : g_stand_ins) {
    if (s.real == real) return s.stand_in;
  }
  // 203.0.113.200+: global unicast, documentation range, unused by the lab.
  const Ipv4Address s = Ipv4Address::from_octets(203, 0, 113, static_cast<std::uint8_t>(200 + g_stand_ins.size() % 50));
  g_stand_ins.push_back({real, s});
  return s;
}

std::optional<Ipv4Address> real_for(Ipv4Address stand_in) noexcept {
  for (const auto& s : g_stand_ins) {
    if (s.stand_in == stand_in) return s.real;
  }
  return std::nullopt;
}

Ipv4Address ipv4_of(const sockaddr_in& a) noexcept { return Ipv4Address{ntohl(a.sin_addr.s_addr)}; }
void set_ipv4(sockaddr_in& a, Ipv4Address v) noexcept { a.sin_addr.s_addr = htonl(v.value); }

// --- an IPv6 packet being rewritten ---------------------------------------------------------------------------------

constexpr std::size_t kSource = 8, kDestination = 24, kPayload = 40;

struct Packet {
  ByteVector bytes;

  [[nodiscard]] bool valid() const noexcept { return bytes.size() >= kPayload && (bytes[0] >> 4) == 6; }
  [[nodiscard]] std::uint8_t next_header() const noexcept { return bytes[6]; }
  [[nodiscard]] bool icmpv6() const noexcept { return valid() && next_header() == kNextHeaderIcmpv6 && bytes.size() >= kPayload + 4; }
  [[nodiscard]] int icmp_type() const noexcept { return icmpv6() ? bytes[kPayload] : -1; }
  [[nodiscard]] bool ra() const noexcept { return icmp_type() == kIcmpv6RouterAdvertisement; }
  [[nodiscard]] bool rs() const noexcept { return icmp_type() == kIcmpv6RouterSolicitation; }
  [[nodiscard]] bool bubble() const noexcept {
    return valid() && next_header() == kNextHeaderNone && bytes[4] == 0 && bytes[5] == 0;
  }
  [[nodiscard]] Ipv6Address address(std::size_t at) const noexcept {
    Ipv6Address a;
    std::memcpy(a.bytes.data(), bytes.data() + at, 16);
    return a;
  }
  // Where the transport checksum lies (ICMPv6 or UDP), or 0.
  [[nodiscard]] std::size_t checksum_at() const noexcept {
    if (!valid()) return 0;
    if (next_header() == kNextHeaderIcmpv6 && bytes.size() >= kPayload + 4) return kPayload + 2;
    if (next_header() == kNextHeaderUdp && bytes.size() >= kPayload + 8) return kPayload + 6;
    return 0;
  }
  // Writes `value` at `at`, updating the transport checksum incrementally
  // (RFC 1624) when the bytes are covered by it: addresses (pseudo-header)
  // or the payload. A wrong checksum stays wrong.
  void patch(std::size_t at, Bytes value) {
    if (at + value.size() > bytes.size()) return;
    const std::size_t begin = at & ~std::size_t{1};
    const std::size_t end = (at + value.size() + 1) & ~std::size_t{1};
    ByteVector before(bytes.begin() + static_cast<std::ptrdiff_t>(begin),
                      bytes.begin() + static_cast<std::ptrdiff_t>(std::min(end, bytes.size())));
    std::memcpy(bytes.data() + at, value.data(), value.size());
    ByteVector after(bytes.begin() + static_cast<std::ptrdiff_t>(begin),
                     bytes.begin() + static_cast<std::ptrdiff_t>(std::min(end, bytes.size())));
    before.resize(end - begin, 0);
    after.resize(end - begin, 0);
    const std::size_t c = checksum_at();
    const bool covered = at >= kSource && !(at < c + 2 && at + value.size() > c);
    if (c == 0 || !covered) return;
    const std::uint16_t old_sum = static_cast<std::uint16_t>((bytes[c] << 8) | bytes[c + 1]);
    if (next_header() == kNextHeaderUdp && old_sum == 0) return;  // no checksum to keep
    const std::uint16_t sum = checksum_update(old_sum, before, after);
    bytes[c] = static_cast<std::uint8_t>(sum >> 8);
    bytes[c + 1] = static_cast<std::uint8_t>(sum & 0xFF);
  }
  void patch_address(std::size_t at, const Ipv6Address& a) { patch(at, a.bytes); }
  void patch_u8(std::size_t at, std::uint8_t v) {
    const std::uint8_t b[1] = {v};
    patch(at, b);
  }
  void patch_u16(std::size_t at, std::uint16_t v) {
    const std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v & 0xFF)};
    patch(at, b);
  }
  // Recomputes the ICMPv6 checksum from scratch (repairs a wrong one).
  void recompute_icmpv6() {
    if (!icmpv6()) return;
    bytes[kPayload + 2] = bytes[kPayload + 3] = 0;
    const Bytes message(bytes.data() + kPayload, bytes.size() - kPayload);
    const std::uint16_t sum = icmpv6_checksum(address(kSource), address(kDestination), message);
    bytes[kPayload + 2] = static_cast<std::uint8_t>(sum >> 8);
    bytes[kPayload + 3] = static_cast<std::uint8_t>(sum & 0xFF);
  }
  // The offset of the first RA option of `type`, or 0.
  [[nodiscard]] std::size_t ra_option(std::uint8_t type) const noexcept {
    std::size_t at = kPayload + 16;
    while (at + 2 <= bytes.size() && bytes[at + 1] != 0) {
      if (bytes[at] == type) return at;
      at += std::size_t{bytes[at + 1]} * 8;
    }
    return 0;
  }
};

// Rewrites the IPv4 address a Teredo address at `at` embeds (bytes 12-15,
// bit-inverted), when `change` gives a new one.
template <class Change>
void rewrite_embedded(Packet& p, std::size_t at, Change change) {
  Ipv6Address a = p.address(at);
  if (!is_teredo(a)) return;
  const Ipv4Address embedded{~((std::uint32_t{a.bytes[12]} << 24) | (std::uint32_t{a.bytes[13]} << 16) |
                               (std::uint32_t{a.bytes[14]} << 8) | std::uint32_t{a.bytes[15]})};
  const std::optional<Ipv4Address> now = change(embedded);
  if (!now) return;
  const auto o = now->octets();
  for (std::size_t i = 0; i < 4; ++i) a.bytes[12 + i] = static_cast<std::uint8_t>(~o[i]);
  p.patch_address(at, a);
}

std::optional<Ipv4Address> to_stand_in(Ipv4Address a) {
  if (is_global_unicast(a)) return std::nullopt;
  return stand_in_for(a);
}

// --- a Teredo UDP payload being rewritten ---------------------------------------------------------------------------

struct Datagram {
  std::optional<Nonce> nonce;  // authentication present
  ByteVector client_id, authentication_value;
  std::uint8_t confirmation = 0;
  std::optional<OriginIndication> origin;
  bool origin_first = false;
  Packet ipv6;
  ByteVector trailer;

  static std::optional<Datagram> parse(Bytes payload) {
    const auto r = parse_datagram(payload, {.accept_trailers = true});
    if (!r) return std::nullopt;
    const TeredoDatagram& t = r.value();
    Datagram d;
    if (t.authentication) {
      d.nonce = t.authentication->nonce;
      d.client_id.assign(t.authentication->client_id.begin(), t.authentication->client_id.end());
      d.authentication_value.assign(t.authentication->authentication_value.begin(),
                                    t.authentication->authentication_value.end());
      d.confirmation = t.authentication->confirmation;
    }
    d.origin = t.origin;
    d.ipv6.bytes.assign(t.ipv6.packet.begin(), t.ipv6.packet.end());
    d.trailer.assign(t.ipv6.trailer.begin(), t.ipv6.trailer.end());
    return d;
  }

  [[nodiscard]] ByteVector encode() const {
    std::optional<AuthenticationFields> a;
    if (nonce) a = AuthenticationFields{client_id, authentication_value, *nonce, confirmation};
    ByteVector out;
    if (origin_first && origin && a) {
      append_origin_indication(out, *origin);
      (void)append_authentication(out, *a);
      out.insert(out.end(), ipv6.bytes.begin(), ipv6.bytes.end());
      out.insert(out.end(), trailer.begin(), trailer.end());
      return out;
    }
    (void)append_datagram(out, a, origin, ipv6.bytes, trailer);
    return out;
  }
};

// --- state the faults keep ------------------------------------------------------------------------------------------

std::optional<Nonce> g_last_rs_nonce, g_first_rs_nonce;
bool g_ra_received = false;
std::vector<Ipv4Address> g_answered_servers;  // IPv4 sources of the RAs received
std::optional<Ipv4Address> g_first_ra_from;
std::optional<OriginIndication> g_first_origin;

bool answered(Ipv4Address server) noexcept {
  return std::find(g_answered_servers.begin(), g_answered_servers.end(), server) != g_answered_servers.end();
}

// Server link-local address for `server` (RFC 4380 §5.3.2: cone bit set, ~3544, ~IPv4).
Ipv6Address server_link_local(Ipv4Address server) noexcept {
  Ipv6Address a;
  a.bytes[0] = 0xfe;
  a.bytes[1] = 0x80;
  a.bytes[8] = 0x80;
  a.bytes[10] = static_cast<std::uint8_t>(~(kUdpPortTeredo >> 8));
  a.bytes[11] = static_cast<std::uint8_t>(~kUdpPortTeredo & 0xFF);
  const auto o = server.octets();
  for (std::size_t i = 0; i < 4; ++i) a.bytes[12 + i] = static_cast<std::uint8_t>(~o[i]);
  return a;
}

// --- receive side -------------------------------------------------------------------------------------------------

[[noreturn]] void crash() {
  std::fprintf(stderr, "fault shim: %.*s: crashing on purpose\n", static_cast<int>(g_fault.size()), g_fault.data());
  std::fflush(stderr);
  ::signal(SIGSEGV, SIG_DFL);
  ::raise(SIGSEGV);
  std::abort();
}

// Rewrites one received datagram in place (`size` bytes of `capacity`).
void on_receive(std::uint8_t* buffer, unsigned& size, std::size_t capacity, sockaddr_in* from) {
  const Bytes payload(buffer, size);
  if (fault("server-crash-truncated-auth") && size >= 2 && buffer[0] == 0 && buffer[1] == 1 &&
      !parse_authentication(payload)) {
    crash();
  }
  auto parsed = Datagram::parse(payload);
  if (!parsed) {
    if (fault("relay-crash-invalid-ipv6") || fault("client-crash-malformed")) crash();
    return;
  }
  Datagram d = std::move(*parsed);
  Packet& p = d.ipv6;
  const Ipv4Address source = from ? ipv4_of(*from) : Ipv4Address{};
  bool changed = false;

  if (p.ra()) {
    g_ra_received = true;
    if (!answered(source)) g_answered_servers.push_back(source);
  }
  // Server: RS validity (RFC 2461 §6.1.1) not checked.
  if (p.rs()) {
    if (fault("server-accept-rs-hop-limit") && p.bytes[7] != 255) {
      p.bytes[7] = 255;
      changed = true;
    } else if (fault("server-accept-rs-bad-checksum")) {
      p.recompute_icmpv6();
      changed = true;
    } else if (fault("server-accept-rs-code") && p.bytes[kPayload + 1] != 0) {
      p.patch_u8(kPayload + 1, 0);
      changed = true;
    }
  }
  // Client: RA validity not checked.
  if (p.ra()) {
    if (fault("client-accept-ra-bad-checksum")) {
      p.recompute_icmpv6();
      changed = true;
    } else if (fault("client-accept-ra-hop-limit") && p.bytes[7] != 255) {
      p.bytes[7] = 255;
      changed = true;
    } else if (fault("client-accept-ra-global-source") && !p.address(kSource).is_link_local()) {
      p.patch_address(kSource, server_link_local(source));
      changed = true;
    } else if (fault("client-accept-ra-wrong-nonce") && d.nonce && g_last_rs_nonce && *d.nonce != *g_last_rs_nonce) {
      d.nonce = g_last_rs_nonce;
      changed = true;
    } else if (fault("client-accept-ra-no-origin") && !d.origin) {
      d.origin = OriginIndication{40000, Ipv4Address::from_octets(203, 0, 113, 250)};
      changed = true;
    } else if (fault("client-accept-non-global-mapping") && d.origin && !is_global_unicast(d.origin->address)) {
      d.origin->address = stand_in_for(d.origin->address);
      changed = true;
    } else if (fault("client-accept-foreign-prefix")) {
      if (const std::size_t o = p.ra_option(3); o != 0 && o + 32 <= p.bytes.size()) {
        const Ipv6Address want = teredo_prefix(source);
        if (!std::equal(want.bytes.begin(), want.bytes.begin() + 8, p.bytes.begin() + static_cast<std::ptrdiff_t>(o + 16))) {
          Ipv6Address prefix = want;
          p.patch(o + 16, prefix.bytes);
          changed = true;
        }
      }
    } else if (fault("client-symmetric-accepted") && d.origin) {
      if (!g_first_ra_from) {
        g_first_ra_from = source;
        g_first_origin = d.origin;
      } else if (source != *g_first_ra_from && !(*d.origin == *g_first_origin)) {
        d.origin = g_first_origin;
        changed = true;
      }
    }
  }
  // A local entry matched on the LAN address alone (§5.2.3 case 5 wants the
  // port too): a unicast bubble from another port of an address that sent a
  // discovery bubble is taken as coming from the discovery bubble's port.
  if (fault("client-local-port-ignored") && from && p.bubble()) {
    static std::map<std::uint32_t, std::uint16_t> discovered_port;  // by LAN address
    const bool multicast = p.address(kDestination).bytes[0] == 0xFF;
    const auto it = discovered_port.find(from->sin_addr.s_addr);
    if (multicast) {
      discovered_port[from->sin_addr.s_addr] = from->sin_port;
    } else if (it != discovered_port.end()) {
      from->sin_port = it->second;
    }
  }
  if (fault("client-accept-ra-wrong-port") && from && ntohs(from->sin_port) == kUdpPortTeredo + 1) {
    from->sin_port = htons(kUdpPortTeredo);
  }
  // Non-global IPv4 not refused: sources and Teredo destinations get global stand-ins.
  if (fault("server-accept-non-global-source") && from && !is_global_unicast(source)) {
    set_ipv4(*from, stand_in_for(source));
  }
  if (fault("server-forward-non-global-destination") && p.valid()) {
    rewrite_embedded(p, kDestination, to_stand_in);
    changed = true;
  }
  // A source mapping that differs from the datagram's endpoint accepted: the
  // endpoint is taken from the address.
  if ((fault("server-accept-spoofed-source") || fault("relay-accept-mapping-mismatch")) && from && p.valid()) {
    if (const auto t = parse_teredo(p.address(kSource))) {
      set_ipv4(*from, t.value().mapped_ipv4);
      from->sin_port = htons(t.value().mapped_port);
    }
  }
  // RFC 6081 §5.6.4.3's nonce rule defeated: a direct bubble from elsewhere
  // than the mapping its source embeds arrives without its trailers.
  if (fault("client-hairpin-nonce-stripped") && from && p.valid() && p.bubble() && !d.origin && !d.trailer.empty()) {
    if (const auto t = parse_teredo(p.address(kSource));
        t && (ntohl(from->sin_addr.s_addr) != t.value().mapped_ipv4.value ||
              ntohs(from->sin_port) != t.value().mapped_port)) {
      d.trailer.clear();
      changed = true;
    }
  }
  if ((fault("server-accept-trailer-01") || fault("relay-accept-trailer-01") || fault("client-accept-trailer-01")) &&
      !d.trailer.empty()) {
    d.trailer.clear();
    changed = true;
  }
  if (!changed) return;
  const ByteVector out = d.encode();
  if (out.size() > capacity) return;
  std::memcpy(buffer, out.data(), out.size());
  size = static_cast<unsigned>(out.size());
}

// An IPv6 packet read from the TUN device (relay, client).
void on_tun_read(std::uint8_t* buffer, std::size_t size) {
  if (!fault("relay-forward-non-global-destination") && !fault("client-non-global-peer")) return;
  Packet p{ByteVector(buffer, buffer + size)};
  if (!p.valid()) return;
  rewrite_embedded(p, kDestination, to_stand_in);
  std::memcpy(buffer, p.bytes.data(), size);
}

// --- send side ----------------------------------------------------------------------------------------------------

struct Outgoing {
  int fd;
  sockaddr_in to;
  ByteVector payload;
  int ttl;  // -1: none
  std::chrono::milliseconds delay{0};  // sent later, from a thread of the shim
};

// The client-alternate-upnp-dropped and client-upnp-mapping-not-zeroed
// faults: the Alternate Address Trailer (type 3) among `trailer` loses its
// second entry (length 14 -> 8) or gains the mapping the packet's Teredo
// source embeds as a second (8 -> 14). True when it changed.
bool rewrite_alternate_trailer(ByteVector& trailer, const Packet& p) {
  for (std::size_t i = 0; i + 2 <= trailer.size();) {
    const std::size_t length = trailer[i + 1];
    if (i + 2 + length > trailer.size()) return false;
    if (trailer[i] == 0x03 && length == 14 && fault("client-alternate-upnp-dropped")) {
      trailer[i + 1] = 8;
      trailer.erase(trailer.begin() + static_cast<std::ptrdiff_t>(i + 2 + 8),
                    trailer.begin() + static_cast<std::ptrdiff_t>(i + 2 + 14));
      return true;
    }
    if (trailer[i] == 0x03 && length == 8 && fault("client-upnp-mapping-not-zeroed")) {
      const auto t = parse_teredo(p.address(kSource));
      if (!t) return false;
      const std::uint32_t a = t.value().mapped_ipv4.value;
      const std::uint16_t port = t.value().mapped_port;
      const std::uint8_t entry[6] = {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                                     static_cast<std::uint8_t>(a >> 8),  static_cast<std::uint8_t>(a),
                                     static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port)};
      trailer[i + 1] = 14;
      trailer.insert(trailer.begin() + static_cast<std::ptrdiff_t>(i + 2 + 8), entry, entry + 6);
      return true;
    }
    i += 2 + length;
  }
  return false;
}

// The datagrams to send in place of one the reference sends.
std::vector<Outgoing> on_send(int fd, const sockaddr_in& to_in, Bytes payload, int ttl) {
  std::vector<Outgoing> out;
  Outgoing o{fd, to_in, ByteVector(payload.begin(), payload.end()), ttl, {}};
  auto parsed = Datagram::parse(payload);
  if (!parsed) {
    out.push_back(std::move(o));
    return out;
  }
  Datagram d = std::move(*parsed);
  Packet& p = d.ipv6;
  const bool ra = p.ra();
  bool changed = false;
  int copies = 1;
  bool repeat_later = false;
  // Non-global stand-ins go back to the real address on the way out.
  const bool restore = fault("server-accept-non-global-source") || fault("server-forward-non-global-destination") ||
                       fault("relay-forward-non-global-destination") || fault("client-non-global-peer");
  if (const auto real = real_for(ipv4_of(o.to)); real && restore) set_ipv4(o.to, *real);
  if (restore && !g_stand_ins.empty() && p.valid()) {
    for (const std::size_t at : {kSource, kDestination}) rewrite_embedded(p, at, real_for);
    changed = true;
  }
  if (ra) {
    static unsigned ras_due = 0;
    if (fault("server-drops-every-other-rs") && ras_due++ % 2 == 0) return out;
    if (fault("server-ra-no-origin")) d.origin.reset();
    if (fault("server-ra-origin-not-obfuscated") && d.origin) {
      d.origin->port = static_cast<std::uint16_t>(~d.origin->port);
      d.origin->address.value = ~d.origin->address.value;
    }
    if (fault("server-ra-origin-wrong-port") && d.origin) ++d.origin->port;
    if (fault("server-cone-ignored") && g_bound.size() >= 2 && fd == g_bound[1]) o.fd = g_bound[0];
    if (fault("server-reply-from-secondary") && g_bound.size() >= 2 && fd == g_bound[0]) o.fd = g_bound[1];
    if (fault("server-ra-nonce-not-echoed")) d.nonce.reset();
    if (fault("server-ra-nonce-replaced") && d.nonce) (*d.nonce)[7] ^= 1;
    if (fault("server-ra-origin-before-auth")) d.origin_first = true;
    if (fault("server-ra-prefix-wrong")) {
      if (const std::size_t at = p.ra_option(3); at != 0) p.patch_u8(at + 16 + 7, static_cast<std::uint8_t>(p.bytes[at + 16 + 7] ^ 1));
    }
    if (fault("server-ra-mtu-1400")) {
      if (const std::size_t at = p.ra_option(5); at != 0 && at + 8 <= p.bytes.size()) p.patch_u16(at + 6, 1400);
    }
    if (fault("server-ra-wrong-port")) o.to.sin_port = htons(static_cast<std::uint16_t>(ntohs(o.to.sin_port) + 1));
    if (fault("server-ra-wrong-destination")) p.patch_u8(kDestination + 15, static_cast<std::uint8_t>(p.bytes[kDestination + 15] ^ 1));
    if (fault("server-ra-source-cone-clear")) p.patch_u8(kSource + 8, static_cast<std::uint8_t>(p.bytes[kSource + 8] & 0x7F));
    changed = true;
  } else if (p.valid() && !p.rs()) {
    if (fault("server-forward-wrong-origin") && d.origin) {
      ++d.origin->port;
      changed = true;
    }
    if (fault("server-forward-from-secondary") && g_bound.size() >= 2 && fd == g_bound[0]) o.fd = g_bound[1];
    if (p.bubble() && (fault("relay-no-bubble"))) return out;
    if (p.bubble() && fault("client-bubble-burst")) copies = 3;
    if (p.bubble() && fault("relay-bubble-repeated-fast")) repeat_later = true;
    // RFC 6081 §5.6.3 / R6081-5.6.4.1-03 faults on the Alternate Address
    // Trailer (type 3) of the client's indirect bubbles.
    if (p.bubble() && (fault("client-alternate-upnp-dropped") || fault("client-upnp-mapping-not-zeroed"))) {
      changed = rewrite_alternate_trailer(d.trailer, p) || changed;
    }
    if (fault("client-z-flag") && is_teredo(p.address(kSource))) {
      p.patch_u8(kSource + 8, static_cast<std::uint8_t>(p.bytes[kSource + 8] | 0x40));
      changed = true;
    }
  }
  if (p.rs()) {
    if (d.nonce) {
      g_last_rs_nonce = d.nonce;
      if (!g_first_rs_nonce) g_first_rs_nonce = d.nonce;
    }
    if (fault("client-rs-cone-bit")) {
      p.patch_u8(kSource + 8, static_cast<std::uint8_t>(p.bytes[kSource + 8] | 0x80));
      changed = true;
    }
    if (fault("client-rs-nonce-repeated") && d.nonce) {
      d.nonce = g_first_rs_nonce;
      changed = true;
    }
    if (fault("client-rs-no-nonce")) {
      d.nonce.reset();
      changed = true;
    }
    // A refresh RS: to a server that has answered already.
    if (fault("client-no-refresh") && g_ra_received && answered(ipv4_of(o.to))) return out;
  }
  if (fault("client-discovery-ttl") && o.ttl == 1) o.ttl = 8;
  // A sender that appends RFC 6081's Alternate Address Trailer to everything
  // it sends, not only to a client's indirect bubbles (R6081-4.3-01).
  if ((fault("server-alternate-address-trailer") || fault("relay-alternate-address-trailer")) && p.valid()) {
    const AlternateAddress entry{Ipv4Address::from_octets(192, 0, 2, 33), 40001};
    changed = append_alternate_address_trailer(d.trailer, &entry, 1) || changed;
  }
  if (changed) o.payload = d.encode();
  if (fault("client-traffic-before-qualification") && p.rs() && !g_ra_received) {
    // A bubble from the RS's link-local source to the server, ahead of the RS.
    Outgoing b = o;
    b.payload = build_bubble(p.address(kSource), p.address(kDestination));
    out.push_back(std::move(b));
  }
  for (int i = 0; i < copies; ++i) out.push_back(o);
  if (repeat_later) {
    for (const int ms : {500, 1000}) {
      Outgoing later = o;
      later.delay = std::chrono::milliseconds(ms);
      out.push_back(std::move(later));
    }
  }
  return out;
}

// Sends one datagram with the real sendmsg (the TTL as a control message).
bool send_outgoing(Outgoing& o) {
  static const auto send_one = real<ssize_t (*)(int, const msghdr*, int)>("sendmsg");
  iovec v{o.payload.data(), o.payload.size()};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr m{};
  m.msg_name = &o.to;
  m.msg_namelen = sizeof o.to;
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  if (o.ttl >= 0) {
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_TTL;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &o.ttl, sizeof o.ttl);
  }
  return send_one(o.fd, &m, 0) >= 0;
}

// --- the fault named in the environment --------------------------------------------------------------------------

__attribute__((constructor)) void load_fault() {
  const char* name = std::getenv("TEREDO_FAULT");
  if (name == nullptr || *name == '\0') return;
  const auto* row = teredo::mutation::find_fault(name);
  if (row == nullptr) {
    std::fprintf(stderr, "fault shim: unknown TEREDO_FAULT '%s'\n", name);
    std::_Exit(97);
  }
  g_fault = row->name;
  std::fprintf(stderr, "fault shim: %s (%s)\n", name, std::string(row->what).c_str());
  if (fault("client-crash-after-2s")) {
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::seconds(2));
      std::fprintf(stderr, "fault shim: client-crash-after-2s: aborting\n");
      std::abort();
    }).detach();
  }
}

}  // namespace

// --- the interposed calls ------------------------------------------------------------------------------------------

#define TEREDO_SHIM_EXPORT __attribute__((visibility("default")))

extern "C" {

TEREDO_SHIM_EXPORT int bind(int fd, const sockaddr* address, socklen_t length) noexcept {
  static const auto next = real<int (*)(int, const sockaddr*, socklen_t)>("bind");
  const int r = next(fd, address, length);
  if (r == 0 && address != nullptr && address->sa_family == AF_INET && fd >= 0 && fd < kMaxFd) {
    int type = 0;
    socklen_t type_length = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 && type == SOCK_DGRAM) {
      g_bound.push_back(fd);
      if (fault("server-ecn-ce") || fault("relay-ecn-ce")) {
        const int tos = 0x03;
        (void)::setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
      }
    }
  }
  return r;
}

TEREDO_SHIM_EXPORT int setsockopt(int fd, int level, int name, const void* value, socklen_t length) noexcept {
  static const auto next = real<int (*)(int, int, int, const void*, socklen_t)>("setsockopt");
  if (level == IPPROTO_IP && name == IP_MTU_DISCOVER && (fault("server-df-set") || fault("relay-df-set"))) {
    const int always_df = IP_PMTUDISC_DO;
    return next(fd, level, name, &always_df, sizeof always_df);
  }
  return next(fd, level, name, value, length);
}

TEREDO_SHIM_EXPORT int ioctl(int fd, unsigned long request, ...) noexcept {
  static const auto next = real<int (*)(int, unsigned long, void*)>("ioctl");
  va_list arguments;
  va_start(arguments, request);
  void* argument = va_arg(arguments, void*);
  va_end(arguments);
  const int r = next(fd, request, argument);
  if (r == 0 && request == TUNSETIFF) g_tun_fd = fd;
  return r;
}

TEREDO_SHIM_EXPORT ssize_t read(int fd, void* buffer, size_t size) {
  static const auto next = real<ssize_t (*)(int, void*, size_t)>("read");
  const ssize_t n = next(fd, buffer, size);
  if (n > 0 && fd == g_tun_fd && !g_fault.empty()) on_tun_read(static_cast<std::uint8_t*>(buffer), static_cast<std::size_t>(n));
  return n;
}

TEREDO_SHIM_EXPORT ssize_t write(int fd, const void* buffer, size_t size) {
  static const auto next = real<ssize_t (*)(int, const void*, size_t)>("write");
  if (fd == g_tun_fd && fault("relay-no-native-delivery")) return static_cast<ssize_t>(size);
  return next(fd, buffer, size);
}

TEREDO_SHIM_EXPORT int recvmmsg(int fd, mmsghdr* messages, unsigned int count, int flags, timespec* timeout) {
  static const auto next = real<int (*)(int, mmsghdr*, unsigned int, int, timespec*)>("recvmmsg");
  const int n = next(fd, messages, count, flags, timeout);
  if (n <= 0 || g_fault.empty()) return n;
  for (int i = 0; i < n; ++i) {
    msghdr& h = messages[i].msg_hdr;
    if (h.msg_iovlen < 1 || h.msg_iov == nullptr) continue;
    auto* from = h.msg_name != nullptr && h.msg_namelen >= sizeof(sockaddr_in) ? static_cast<sockaddr_in*>(h.msg_name)
                                                                                : nullptr;
    on_receive(static_cast<std::uint8_t*>(h.msg_iov[0].iov_base), messages[i].msg_len, h.msg_iov[0].iov_len, from);
  }
  return n;
}

TEREDO_SHIM_EXPORT int sendmmsg(int fd, mmsghdr* messages, unsigned int count, int flags) {
  static const auto next = real<int (*)(int, mmsghdr*, unsigned int, int)>("sendmmsg");
  static const auto send_one = real<ssize_t (*)(int, const msghdr*, int)>("sendmsg");
  if (g_fault.empty()) return next(fd, messages, count, flags);
  for (unsigned int i = 0; i < count; ++i) {
    const msghdr& h = messages[i].msg_hdr;
    if (h.msg_iovlen != 1 || h.msg_name == nullptr || h.msg_namelen < sizeof(sockaddr_in)) {
      if (send_one(fd, &h, flags) < 0) return i == 0 ? -1 : static_cast<int>(i);
      continue;
    }
    int ttl = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
    }
    const Bytes payload(static_cast<const std::uint8_t*>(h.msg_iov[0].iov_base), h.msg_iov[0].iov_len);
    for (Outgoing& o : on_send(fd, *static_cast<const sockaddr_in*>(h.msg_name), payload, ttl)) {
      if (o.delay.count() > 0) {
        std::thread([later = std::move(o)]() mutable {
          std::this_thread::sleep_for(later.delay);
          later.delay = {};
          (void)send_outgoing(later);
        }).detach();
        continue;
      }
      (void)send_outgoing(o);  // a mutant's failed send is as good as a dropped one
    }
    messages[i].msg_len = static_cast<unsigned int>(h.msg_iov[0].iov_len);
  }
  return static_cast<int>(count);
}

}  // extern "C"
