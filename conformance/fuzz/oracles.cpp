#include "fuzz/oracles.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cstring>
#include <stdexcept>

#include "fuzz/generator.hpp"

namespace teredo::conformance::fuzz {

using namespace teredo::wire;

namespace {

// Digits and hex addresses out, so two runs of one defect share a signature.
std::string normalized(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
      i += 2;
      while (i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i]))) ++i;
      --i;
      out += "0x?";
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]))) ++i;
      out += '#';
      continue;
    }
    out += c;
  }
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The first `words` words of `text`.
std::string_view first_words(std::string_view text, int words) {
  std::size_t end = 0;
  for (int w = 0; w < words && end < text.size(); ++w) {
    while (end < text.size() && text[end] == ' ') ++end;
    while (end < text.size() && text[end] != ' ') ++end;
  }
  return text.substr(0, end);
}

}  // namespace

ByteVector probe_rs(const Nonce& nonce, const std::optional<GeneratorContext::Signing>& signing) {
  const ByteVector rs = build_router_solicitation(parse_ipv6("fe80::ffff:ffff:fffd").value(),
                                                  parse_ipv6("ff02::2").value(), {});
  ByteVector payload;
  if (!signing) {
    (void)append_datagram(payload, AuthenticationFields{{}, {}, nonce, 0}, std::nullopt, rs);
    return payload;
  }
  const auto value = compute_authentication_value(signing->algorithm, signing->secret, nonce, 0, {}, rs);
  if (!value) throw std::runtime_error("probe_rs: OpenSSL could not compute the authentication value");
  (void)append_datagram(payload, AuthenticationFields{signing->client_id, value->view(), nonce, 0}, std::nullopt, rs);
  return payload;
}

bool is_ra_for(Bytes payload, const std::optional<Nonce>& nonce) {
  const auto d = parse_datagram(payload, DatagramParseOptions{.accept_trailers = true});
  if (!d) return false;
  const auto icmp = parse_icmpv6(d->ipv6, ChecksumPolicy::verify);
  if (!icmp || icmp->type != kIcmpv6RouterAdvertisement || !parse_router_advertisement(*icmp)) return false;
  return !nonce || (d->authentication && d->authentication->nonce == *nonce);
}

std::optional<std::uint64_t> vm_rss_kib(std::string_view proc_status) {
  constexpr std::string_view kKey = "VmRSS:";
  std::size_t at = proc_status.find(kKey);
  while (at != std::string_view::npos && at != 0 && proc_status[at - 1] != '\n') at = proc_status.find(kKey, at + 1);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + kKey.size();
  while (i < proc_status.size() && (proc_status[i] == ' ' || proc_status[i] == '\t')) ++i;
  std::uint64_t kib = 0;
  std::size_t digits = 0;
  for (; i < proc_status.size() && proc_status[i] >= '0' && proc_status[i] <= '9' && digits < 15; ++i, ++digits) {
    kib = kib * 10 + static_cast<std::uint64_t>(proc_status[i] - '0');
  }
  if (digits == 0 || proc_status.substr(i, 3) != " kB") return std::nullopt;
  return kib;
}

std::optional<LogFinding> scan_log(std::string_view text) {
  static constexpr std::array<const char*, 5> kSanitizers = {"AddressSanitizer", "UndefinedBehaviorSanitizer",
                                                             "LeakSanitizer", "ThreadSanitizer", "MemorySanitizer"};
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    const std::string_view rest = end < text.size() ? text.substr(end + 1) : std::string_view{};
    // "==123==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x..."
    for (const char* sanitizer : kSanitizers) {
      const std::size_t at = line.find(sanitizer);
      if (at == std::string_view::npos) continue;
      std::string_view what = line.substr(at + std::strlen(sanitizer));
      if (!what.empty() && what.front() == ':') what.remove_prefix(1);
      what = trim(what);
      // The bug type is the first word ("heap-buffer-overflow", "SEGV",
      // "detected memory leaks" keeps three).
      const std::string_view words = first_words(what, what.starts_with("detected") ? 3 : 1);
      return LogFinding{sanitizer, normalized(fmt::format("{}: {}", sanitizer, words)), std::string(line)};
    }
    // Go: "panic: runtime error: index out of range [5] with length 3"
    if (line.starts_with("panic: ") || line.starts_with("fatal error: ")) {
      return LogFinding{"go_panic", normalized("go " + std::string(first_words(line, 5))), std::string(line)};
    }
    // UBSan without the "UndefinedBehaviorSanitizer" word: "x.cpp:12:5: runtime error: ..."
    if (const std::size_t at = line.find("runtime error:"); at != std::string_view::npos) {
      std::string_view where = trim(line.substr(0, at));
      if (!where.empty() && where.back() == ':') where.remove_suffix(1);
      const std::string_view what = trim(line.substr(at + std::strlen("runtime error:")));
      return LogFinding{"UndefinedBehaviorSanitizer",
                        normalized(fmt::format("runtime error: {} at {}", first_words(what, 4), where)),
                        std::string(line)};
    }
    // Python: the traceback's last unindented line names the exception.
    if (line.find("Traceback (most recent call last)") != std::string_view::npos) {
      std::string exception = "unknown";
      std::size_t s = 0;
      while (s < rest.size()) {
        std::size_t e = rest.find('\n', s);
        if (e == std::string_view::npos) e = rest.size();
        const std::string_view l = rest.substr(s, e - s);
        if (!l.empty() && !std::isspace(static_cast<unsigned char>(l.front()))) {
          exception = std::string(first_words(l, 1));
          if (!exception.empty() && exception.back() == ':') exception.pop_back();
          break;
        }
        s = e + 1;
      }
      return LogFinding{"python_traceback", "python traceback: " + exception, std::string(line)};
    }
    start = end + 1;
  }
  return std::nullopt;
}

namespace {
std::uint64_t key(const Nonce& n) {
  std::uint64_t k = 0;
  for (const std::uint8_t b : n) k = (k << 8) | b;
  return k;
}
}  // namespace

void NonceBook::record_sent(Bytes payload) {
  if (const auto n = nonce_of(payload)) nonces_.insert(key(*n));
}

bool NonceBook::contains(const Nonce& nonce) const { return nonces_.count(key(nonce)) != 0; }

namespace {

// What a Teredo client sends (RFC 4380 §5.2), judged apart: its rules cite
// §5.2 and differ from a server's.
std::optional<WireViolation> check_client_datagram(const IutDatagram& d) {
  static const Ipv4Address kDiscovery = *parse_ipv4("224.0.0.253");  // §5.2.8, the Teredo IPv4 Discovery Address
  const auto parsed = parse_datagram(d.payload, DatagramParseOptions{.accept_trailers = true});
  const bool discovery = d.destination == kDiscovery && d.destination_port == kUdpPortTeredo;
  if (!is_global_unicast(d.destination) && !discovery) {
    return WireViolation{"datagram_to_non_global_ipv4", "R4380-5.2.4-07",
                         fmt::format("a datagram sent from {}:{} to {}:{}, a {} address", to_string(d.source),
                                     d.source_port, to_string(d.destination), d.destination_port,
                                     to_string(classify_ipv4(d.destination)))};
  }
  if (!parsed) {
    return WireViolation{"payload_not_teredo", "",
                         fmt::format("a {}-byte UDP payload from {}:{} to {}:{} that is not a Teredo packet: {}",
                                     d.payload.size(), to_string(d.source), d.source_port, to_string(d.destination),
                                     d.destination_port, to_string(parsed.error()))};
  }
  const auto& h = parsed->ipv6.header;
  const auto loose = parse_icmpv6(parsed->ipv6, ChecksumPolicy::ignore);
  if (!loose || loose->type != kIcmpv6RouterSolicitation) return std::nullopt;
  const auto icmp = parse_icmpv6(parsed->ipv6, ChecksumPolicy::verify);
  std::string wrong;
  if (d.destination_port != kUdpPortTeredo) wrong = fmt::format("to UDP port {}", d.destination_port);
  else if (!h.source.is_link_local()) wrong = "from " + to_string(h.source) + ", not link-local";
  else if (h.destination != *parse_ipv6("ff02::2")) wrong = "to " + to_string(h.destination) + ", not ff02::2";
  else if (h.hop_limit != 255) wrong = fmt::format("hop limit {}", h.hop_limit);
  else if (!icmp) wrong = fmt::format("ICMPv6: {}", to_string(icmp.error()));
  else if (icmp->code != 0) wrong = fmt::format("ICMPv6 code {}", icmp->code);
  else if (const auto rs = parse_router_solicitation(*icmp); !rs) wrong = fmt::format("RS: {}", to_string(rs.error()));
  if (wrong.empty()) return std::nullopt;
  return WireViolation{"rs_malformed", "R4380-5.2.1-01",
                       fmt::format("an RS from {}:{} to {}:{}: {}", to_string(d.source), d.source_port,
                                   to_string(d.destination), d.destination_port, wrong)};
}

}  // namespace

std::optional<WireViolation> check_iut_datagram(const IutDatagram& d, const NonceBook& nonces, IutRole role) {
  if (role == IutRole::client) return check_client_datagram(d);
  const bool relay = role == IutRole::relay;
  const auto parsed = parse_datagram(d.payload, DatagramParseOptions{.accept_trailers = true});
  bool is_ra = false;
  if (parsed) {
    if (const auto icmp = parse_icmpv6(parsed->ipv6, ChecksumPolicy::ignore)) {
      is_ra = icmp->type == kIcmpv6RouterAdvertisement;
    }
  }
  if (!is_global_unicast(d.destination)) {
    return WireViolation{"datagram_to_non_global_ipv4",
                         relay ? "R4380-5.4.1-01" : (is_ra ? "R4380-5.3.2-09" : "R4380-5.3.1-14"),
                         fmt::format("{} sent from {}:{} to {}:{}, a {} address", is_ra ? "an RA" : "a datagram",
                                     to_string(d.source), d.source_port, to_string(d.destination),
                                     d.destination_port, to_string(classify_ipv4(d.destination)))};
  }
  if (!parsed) {
    return WireViolation{"payload_not_teredo", relay ? "" : "R4380-5.3.1-02",
                         fmt::format("a {}-byte UDP payload from {}:{} to {}:{} that is not a Teredo packet: {}",
                                     d.payload.size(), to_string(d.source), d.source_port, to_string(d.destination),
                                     d.destination_port, to_string(parsed.error()))};
  }
  // A relay must discard a packet to a Teredo address whose embedded IPv4
  // is not global before processing it (§5.4.1): a bubble to the client's
  // server for it, or the packet itself, shows it was processed.
  if (relay && is_teredo(parsed->ipv6.header.destination)) {
    if (const auto t = parse_teredo(parsed->ipv6.header.destination); t && !is_global_unicast(t->mapped_ipv4)) {
      return WireViolation{"teredo_destination_not_global", "R4380-5.4.1-01",
                           fmt::format("a packet to {} (mapped {}:{}, a {} address) sent from {}:{} to {}:{}",
                                       to_string(parsed->ipv6.header.destination), to_string(t->mapped_ipv4),
                                       t->mapped_port, to_string(classify_ipv4(t->mapped_ipv4)), to_string(d.source),
                                       d.source_port, to_string(d.destination), d.destination_port)};
    }
  }
  if (!relay && is_ra && parsed->authentication && !nonces.contains(parsed->authentication->nonce)) {
    return WireViolation{"ra_nonce_unmatched", "R4380-5.3.2-11",
                         fmt::format("an RA to {}:{} carries nonce {}, which no RS the fuzzer sent carried",
                                     to_string(d.destination), d.destination_port,
                                     to_hex(parsed->authentication->nonce))};
  }
  return std::nullopt;
}

}  // namespace teredo::conformance::fuzz
