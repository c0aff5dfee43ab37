// bench_codec: nanoseconds per packet to decode four Teredo datagrams, with our
// codec (teredo_wire) and, in the same run and over the same bytes, with
// libtins. See bench/README.md for how to run it and what the figures mean.
//
// The four datagrams are built once, before any timing, with our builders:
//   rs_auth         RS with authentication (nonce), fe80::8000:ffff:ffff:fffd ->
//                   ff02::2, with a source link-layer address option
//   ra_auth_origin  RA with authentication and origin indication, prefix
//                   information 2001:0:<server>::/64 and MTU 1280 options
//   data_echo       ICMPv6 echo request between two Teredo addresses (100 bytes)
//   bubble          a bubble (next header 59, no payload) between the same two
//
// "Decode" for teredo_wire is the whole path a node runs on a received UDP
// payload: parse_datagram -> parse_icmpv6 with checksum verification ->
// parse_router_solicitation / parse_router_advertisement / parse_echo (or
// parse_datagram -> is_bubble).
//
// libtins knows nothing of the Teredo encapsulations, so its decode starts at
// the IPv6 header, skipping the same number of bytes our parser consumed
// (computed once at setup). It builds a Tins::IPv6 (which parses the ICMPv6
// PDU and its option list) and reads the options through the ICMPv6 accessors.
//
// Checksums and libtins: libtins does NOT verify checksums when it parses, and
// has no API to verify a received one (checksums are only computed when a PDU
// is serialized). What it offers are the Tins::Utils sums that its own
// ICMPv6::write_serialization uses (pseudoheader_checksum + sum_range), so two
// libtins variants are timed:
//   .../libtins         parse + options + ICMPv6 checksum checked with
//                       Tins::Utils::pseudoheader_checksum + Tins::Utils::sum_range
//                       over the received bytes (the same work ours does)
//   .../libtins_nocsum  parse + options, no checksum verification at all
// The bubble carries no checksum, so it has only the one libtins variant.
//
// After the run a table gives the median CPU ns/packet of each, the
// libtins/ours ratios, and the check of the target: the RA with
// authentication and origin decoded (checksum verified) in at most 40 ns and
// at least 3x faster than libtins.

#include <benchmark/benchmark.h>
#include <tins/constants.h>
#include <tins/icmpv6.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/utils/checksum_utils.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "teredo/wire/wire.hpp"

namespace w = teredo::wire;

namespace {

// ---------------------------------------------------------------------------
// The packets
// ---------------------------------------------------------------------------

struct Packet {
  std::string kind;
  w::ByteVector bytes;          // the UDP payload
  std::size_t ipv6_offset = 0;  // Teredo encapsulation bytes before the IPv6 header
};

w::Ipv6Address ipv6(const char* text) {
  auto a = w::parse_ipv6(text);
  if (!a) std::terminate();
  return *a;
}

const w::Ipv4Address kServer = w::Ipv4Address::from_octets(203, 0, 113, 1);

struct Packets {
  Packet rs, ra, data, bubble;
};

const Packets& packets() {
  static const Packets p = [] {
    Packets out;
    const w::Nonce nonce{0x5e, 0x11, 0x0c, 0x27, 0x9a, 0x41, 0xd3, 0x08};
    const w::AuthenticationFields auth{{}, {}, nonce, 0};
    const w::Ipv6Address client_ll = ipv6("fe80::8000:ffff:ffff:fffd");
    const w::Ipv6Address server_ll = ipv6("fe80::8000:f227:bec4:6a64");

    // (a) RS, authentication, source link-layer option.
    {
      w::ByteVector options;
      const std::array<std::uint8_t, 6> lla{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
      w::append_source_link_layer_option(options, lla);
      const auto rs = w::build_router_solicitation(client_ll, ipv6("ff02::2"), options);
      out.rs.kind = "rs_auth";
      if (!w::append_datagram(out.rs.bytes, auth, std::nullopt, rs)) std::terminate();
    }
    // (b) RA, authentication + origin indication, prefix information + MTU.
    {
      w::ByteVector options;
      w::PrefixInformation pi;
      pi.prefix = w::teredo_prefix(kServer);
      w::append_prefix_information_option(options, pi);
      w::append_mtu_option(options, 1280);
      w::RouterAdvertisement fields;
      fields.router_lifetime = 0;
      fields.reachable_time = 0;
      fields.retrans_timer = 2000;
      const auto ra = w::build_router_advertisement(server_ll, client_ll, fields, options);
      const w::OriginIndication origin{40000, w::Ipv4Address::from_octets(198, 51, 100, 7)};
      out.ra.kind = "ra_auth_origin";
      if (!w::append_datagram(out.ra.bytes, auth, origin, ra)) std::terminate();
    }
    // (c) and (d) between two Teredo addresses.
    const w::Ipv6Address a = w::TeredoAddress{kServer, w::make_teredo_flags(false, 0x1234), 40000,
                                              w::Ipv4Address::from_octets(198, 51, 100, 7)}
                                 .to_ipv6();
    const w::Ipv6Address b = w::TeredoAddress{kServer, w::make_teredo_flags(true, 0x0abc), 51000,
                                              w::Ipv4Address::from_octets(192, 0, 2, 200)}
                                 .to_ipv6();
    {
      w::ByteVector payload(52);
      for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
      w::EchoMessage echo;
      echo.identifier = 0x4242;
      echo.sequence = 7;
      echo.data = payload;
      out.data.kind = "data_echo";
      out.data.bytes = w::build_echo(a, b, 64, echo);  // 40 + 8 + 52 = 100 bytes
    }
    {
      out.bubble.kind = "bubble";
      out.bubble.bytes = w::build_bubble(a, b);
    }
    // The offset libtins starts at: what our parser consumed before the IPv6
    // header. Computed once here, never in the timed loops.
    for (Packet* pk : {&out.rs, &out.ra, &out.data, &out.bubble}) {
      auto d = w::parse_datagram(pk->bytes);
      if (!d) std::terminate();
      pk->ipv6_offset = static_cast<std::size_t>(d->ipv6.packet.data() - pk->bytes.data());
    }
    return out;
  }();
  return p;
}

// ---------------------------------------------------------------------------
// teredo_wire decoders. Each returns whether the packet decoded as expected;
// the benchmark checks that once before timing.
// ---------------------------------------------------------------------------

bool ours_rs(w::Bytes udp_payload) {
  auto d = w::parse_datagram(udp_payload);
  benchmark::DoNotOptimize(d);
  if (!d) return false;
  auto m = w::parse_icmpv6(d->ipv6, w::ChecksumPolicy::verify);
  benchmark::DoNotOptimize(m);
  if (!m) return false;
  auto rs = w::parse_router_solicitation(*m);
  benchmark::DoNotOptimize(rs);
  return rs.ok() && !rs->options.source_link_layer.empty();
}

bool ours_ra(w::Bytes udp_payload) {
  auto d = w::parse_datagram(udp_payload);
  benchmark::DoNotOptimize(d);
  if (!d) return false;
  auto m = w::parse_icmpv6(d->ipv6, w::ChecksumPolicy::verify);
  benchmark::DoNotOptimize(m);
  if (!m) return false;
  auto ra = w::parse_router_advertisement(*m);
  benchmark::DoNotOptimize(ra);
  return ra.ok() && ra->options.prefix_information.has_value() && ra->options.mtu == 1280u &&
         d->authentication.has_value() && d->origin.has_value();
}

bool ours_data(w::Bytes udp_payload) {
  auto d = w::parse_datagram(udp_payload);
  benchmark::DoNotOptimize(d);
  if (!d) return false;
  auto m = w::parse_icmpv6(d->ipv6, w::ChecksumPolicy::verify);
  benchmark::DoNotOptimize(m);
  if (!m) return false;
  auto echo = w::parse_echo(*m);
  benchmark::DoNotOptimize(echo);
  return echo.ok() && echo->data.size() == 52;
}

bool ours_bubble(w::Bytes udp_payload) {
  auto d = w::parse_datagram(udp_payload);
  benchmark::DoNotOptimize(d);
  if (!d) return false;
  const bool bubble = w::is_bubble(d->ipv6);
  benchmark::DoNotOptimize(bubble);
  return bubble;
}

// ---------------------------------------------------------------------------
// libtins decoders, over the same bytes from ipv6_offset on.
// ---------------------------------------------------------------------------

enum class TinsChecksum { utils, none };

// libtins has no checksum verification (see the top of this file). This is
// the check built from the sums libtins offers, the same ones its
// ICMPv6::write_serialization uses: pseudo-header + message, folded; a
// correct message (checksum field included) sums to 0xFFFF.
bool tins_icmpv6_checksum_ok(const Tins::IPv6& ip, const std::uint8_t* ipv6_start) {
  const std::uint32_t header = ip.header_size();  // fixed header + extension headers
  const std::uint32_t length = std::uint32_t{ip.payload_length()} + 40u - header;
  const std::uint8_t* message = ipv6_start + header;
  std::uint32_t sum = Tins::Utils::pseudoheader_checksum(ip.src_addr(), ip.dst_addr(),
                                                         static_cast<std::uint16_t>(length),
                                                         Tins::Constants::IP::PROTO_ICMPV6) +
                      Tins::Utils::sum_range(message, message + length);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return sum == 0xFFFF;
}

template <TinsChecksum C>
bool tins_rs(const std::uint8_t* p, std::uint32_t n) {
  Tins::IPv6 ip(p, n);
  const auto* icmp = ip.find_pdu<Tins::ICMPv6>();
  if (icmp == nullptr || icmp->type() != Tins::ICMPv6::ROUTER_SOLICIT) return false;
  if constexpr (C == TinsChecksum::utils) {
    if (!tins_icmpv6_checksum_ok(ip, p)) return false;
  }
  const auto lla = icmp->source_link_layer_addr();  // searches the option list
  benchmark::DoNotOptimize(lla);
  return true;
}

template <TinsChecksum C>
bool tins_ra(const std::uint8_t* p, std::uint32_t n) {
  Tins::IPv6 ip(p, n);
  const auto* icmp = ip.find_pdu<Tins::ICMPv6>();
  if (icmp == nullptr || icmp->type() != Tins::ICMPv6::ROUTER_ADVERT) return false;
  if constexpr (C == TinsChecksum::utils) {
    if (!tins_icmpv6_checksum_ok(ip, p)) return false;
  }
  const auto hop_limit = icmp->hop_limit();
  const auto lifetime = icmp->router_lifetime();
  const auto prefix = icmp->prefix_info();  // searches the option list
  const auto mtu = icmp->mtu();             // searches the option list
  benchmark::DoNotOptimize(hop_limit);
  benchmark::DoNotOptimize(lifetime);
  benchmark::DoNotOptimize(prefix);
  benchmark::DoNotOptimize(mtu);
  return prefix.prefix_len == 64 && mtu.second == 1280;
}

template <TinsChecksum C>
bool tins_data(const std::uint8_t* p, std::uint32_t n) {
  Tins::IPv6 ip(p, n);
  const auto* icmp = ip.find_pdu<Tins::ICMPv6>();
  if (icmp == nullptr || icmp->type() != Tins::ICMPv6::ECHO_REQUEST) return false;
  if constexpr (C == TinsChecksum::utils) {
    if (!tins_icmpv6_checksum_ok(ip, p)) return false;
  }
  const auto id = icmp->identifier();
  const auto seq = icmp->sequence();
  const auto* raw = icmp->find_pdu<Tins::RawPDU>();
  benchmark::DoNotOptimize(id);
  benchmark::DoNotOptimize(seq);
  benchmark::DoNotOptimize(raw);
  return raw != nullptr && raw->payload().size() == 52;
}

bool tins_bubble(const std::uint8_t* p, std::uint32_t n) {
  Tins::IPv6 ip(p, n);
  const bool bubble = ip.next_header() == w::kNextHeaderNone && ip.payload_length() == 0 &&
                      ip.inner_pdu() == nullptr;
  benchmark::DoNotOptimize(bubble);
  return bubble;
}

// ---------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------

using OursDecoder = bool (*)(w::Bytes);
using TinsDecoder = bool (*)(const std::uint8_t*, std::uint32_t);

void bench_ours(benchmark::State& state, const Packet& packet, OursDecoder decode,
                const char* label) {
  w::Bytes bytes(packet.bytes);
  if (!decode(bytes)) {
    state.SkipWithError("teredo_wire did not decode the packet as expected");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes);
    const bool ok = decode(bytes);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::to_string(packet.bytes.size()) + " B, " + label);
}

void bench_tins(benchmark::State& state, const Packet& packet, TinsDecoder decode,
                const char* label) {
  const std::uint8_t* start = packet.bytes.data() + packet.ipv6_offset;
  const auto size = static_cast<std::uint32_t>(packet.bytes.size() - packet.ipv6_offset);
  try {
    if (!decode(start, size)) {
      state.SkipWithError("libtins did not decode the packet as expected");
      return;
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(start);
    const bool ok = decode(start, size);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::to_string(size) + " B from offset " + std::to_string(packet.ipv6_offset) +
                 ", " + label);
}

constexpr const char* kOursLabel = "checksum verified";
constexpr const char* kOursBubbleLabel = "no checksum in a bubble";
constexpr const char* kTinsUtilsLabel = "checksum: Tins::Utils sums (libtins has no verify API)";
constexpr const char* kTinsNoCsumLabel = "NO checksum verification";
constexpr const char* kTinsBubbleLabel = "no checksum in a bubble";

struct Kind {
  const Packet* packet;
  OursDecoder ours;
  TinsDecoder tins;         // with the Tins::Utils checksum where there is one
  TinsDecoder tins_nocsum;  // nullptr when the packet has no checksum
};

std::vector<Kind> kinds() {
  const Packets& p = packets();
  return {
      {&p.rs, ours_rs, tins_rs<TinsChecksum::utils>, tins_rs<TinsChecksum::none>},
      {&p.ra, ours_ra, tins_ra<TinsChecksum::utils>, tins_ra<TinsChecksum::none>},
      {&p.data, ours_data, tins_data<TinsChecksum::utils>, tins_data<TinsChecksum::none>},
      {&p.bubble, ours_bubble, tins_bubble, nullptr},
  };
}

void add_benchmark(const std::string& name, std::function<void(benchmark::State&)> run) {
  benchmark::RegisterBenchmark(name.c_str(), [run = std::move(run)](benchmark::State& state) {
    run(state);
  })->Unit(benchmark::kNanosecond);
}

void register_benchmarks() {
  for (const Kind& k : kinds()) {
    const Packet& packet = *k.packet;
    const std::string base = "decode/" + packet.kind + "/";
    const bool has_checksum = k.tins_nocsum != nullptr;
    const char* ours_label = has_checksum ? kOursLabel : kOursBubbleLabel;
    const char* tins_label = has_checksum ? kTinsUtilsLabel : kTinsBubbleLabel;
    add_benchmark(base + "teredo_wire", [&packet, d = k.ours, ours_label](benchmark::State& s) {
      bench_ours(s, packet, d, ours_label);
    });
    add_benchmark(base + "libtins", [&packet, d = k.tins, tins_label](benchmark::State& s) {
      bench_tins(s, packet, d, tins_label);
    });
    if (has_checksum) {
      add_benchmark(base + "libtins_nocsum", [&packet, d = k.tins_nocsum](benchmark::State& s) {
        bench_tins(s, packet, d, kTinsNoCsumLabel);
      });
    }
  }
}

// ---------------------------------------------------------------------------
// Reporter: hands every report to the reporter --benchmark_format asks for
// (console or json; csv, deprecated upstream, is shown as console), and keeps
// per benchmark the median CPU time (the "median" aggregate with
// --benchmark_repetitions, else the median of the iteration runs) for the
// ratio table.
// ---------------------------------------------------------------------------

class RatioReporter : public benchmark::BenchmarkReporter {
 public:
  explicit RatioReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner)
      : inner_(std::move(inner)) {}

  bool ReportContext(const Context& context) override { return inner_->ReportContext(context); }
  void Finalize() override { inner_->Finalize(); }

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const double ns =
          r.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e9;
      Samples& s = samples_[r.run_name.function_name];
      if (r.run_type == Run::RT_Aggregate) {
        if (r.aggregate_name == "median") s.median = ns;
      } else {
        s.runs.push_back(ns);
      }
    }
    inner_->ReportRuns(runs);
  }

  [[nodiscard]] std::optional<double> median_ns(const std::string& name) const {
    const auto it = samples_.find(name);
    if (it == samples_.end()) return std::nullopt;
    if (it->second.median) return it->second.median;
    std::vector<double> v = it->second.runs;
    if (v.empty()) return std::nullopt;
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
  }

 private:
  struct Samples {
    std::optional<double> median;
    std::vector<double> runs;
  };
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  std::map<std::string, Samples> samples_;
};

// The value of --NAME=VALUE on the command line, read before
// benchmark::Initialize consumes it; empty if absent.
std::string flag_value(int argc, char** argv, std::string_view name) {
  std::string value;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg.size() > name.size() + 3 && arg.substr(0, 2) == "--" &&
        arg.substr(2, name.size()) == name && arg[2 + name.size()] == '=') {
      value = std::string(arg.substr(3 + name.size()));
    }
  }
  return value;
}

// The display reporter Google Benchmark would have made from the flags
// (json, or console with --benchmark_color honoured).
std::unique_ptr<benchmark::BenchmarkReporter> make_display_reporter(const std::string& format,
                                                                    const std::string& color) {
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
  bool use_color = isatty(fileno(stdout)) != 0;
  if (color == "true" || color == "yes" || color == "1" || color == "always") use_color = true;
  if (color == "false" || color == "no" || color == "0" || color == "never") use_color = false;
  return std::make_unique<benchmark::ConsoleReporter>(
      use_color ? benchmark::ConsoleReporter::OO_Color : benchmark::ConsoleReporter::OO_None);
}

std::string cell(std::optional<double> v, const char* format) {
  if (!v) return "n/a";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, *v);
  return buffer;
}

std::optional<double> ratio(std::optional<double> num, std::optional<double> den) {
  if (!num || !den || *den <= 0) return std::nullopt;
  return *num / *den;
}

void print_summary(const RatioReporter& reporter, std::FILE* out) {
  std::fprintf(out, "\nMedian CPU time per packet (ns); ratio = libtins / teredo_wire\n");
  std::fprintf(out, "%-16s %12s %12s %8s %15s %8s\n", "kind", "teredo_wire", "libtins", "ratio",
               "libtins_nocsum", "ratio");
  for (const Kind& k : kinds()) {
    const std::string base = "decode/" + k.packet->kind + "/";
    const auto ours = reporter.median_ns(base + "teredo_wire");
    const auto tins = reporter.median_ns(base + "libtins");
    const auto nocsum = reporter.median_ns(base + "libtins_nocsum");
    std::fprintf(out, "%-16s %12s %12s %8s %15s %8s\n", k.packet->kind.c_str(),
                 cell(ours, "%.1f").c_str(), cell(tins, "%.1f").c_str(),
                 cell(ratio(tins, ours), "%.1fx").c_str(),
                 k.tins_nocsum ? cell(nocsum, "%.1f").c_str() : "-",
                 k.tins_nocsum ? cell(ratio(nocsum, ours), "%.1fx").c_str() : "-");
  }
  std::fprintf(out,
               "(libtins: checksum checked with Tins::Utils sums, libtins has no verify API;\n"
               " libtins_nocsum: libtins as it parses, without any checksum verification)\n");

  const auto ours = reporter.median_ns("decode/ra_auth_origin/teredo_wire");
  const auto tins = reporter.median_ns("decode/ra_auth_origin/libtins");
  const auto nocsum = reporter.median_ns("decode/ra_auth_origin/libtins_nocsum");
  if (!ours || !tins) return;
  const double r = *tins / *ours;
  std::fprintf(out, "\nTarget, RA with authentication + origin, checksum verified:\n");
  std::fprintf(out, "  <= 40 ns/packet:         %s (%.1f ns)\n", *ours <= 40.0 ? "PASS" : "FAIL",
               *ours);
  std::fprintf(out, "  >= 3x libtins:           %s (%.1fx)\n", r >= 3.0 ? "PASS" : "FAIL", r);
  if (nocsum) {
    const double rn = *nocsum / *ours;
    std::fprintf(out, "  >= 3x libtins_nocsum:    %s (%.1fx, libtins doing less work)\n",
                 rn >= 3.0 ? "PASS" : "FAIL", rn);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string format = flag_value(argc, argv, "benchmark_format");
  const std::string color = flag_value(argc, argv, "benchmark_color");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_benchmarks();
  RatioReporter reporter(make_display_reporter(format, color));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::fflush(stdout);
  // With --benchmark_format=json, stdout stays machine-readable and the
  // summary goes to stderr.
  print_summary(reporter, format == "json" ? stderr : stdout);
  benchmark::Shutdown();
  return 0;
}
