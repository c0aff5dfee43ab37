// bench_checksum: the RFC 1071 Internet checksum over 1280 bytes (the IPv6
// minimum MTU, the largest packet a Teredo node must handle), as a sanity
// figure for the checksum that every ICMPv6 decode in bench_codec verifies.
//
//   checksum/1280/teredo_wire         ChecksumAccumulator::add + finish
//   checksum/1280/teredo_wire_icmpv6  icmpv6_checksum (pseudo-header, the
//                                     checksum field skipped)
//   checksum/1280/libtins             Tins::Utils::sum_range, for comparison
//
// Throughput is shown twice: bytes_per_second (Google Benchmark's, binary
// prefixes: Gi/s) and the "GB" rate counter, shown as GB=<x>/s (10^9 bytes
// per second).

#include <benchmark/benchmark.h>
#include <tins/utils/checksum_utils.h>

#include <cstddef>
#include <cstdint>

#include "teredo/wire/checksum.hpp"
#include "teredo/wire/icmpv6.hpp"

namespace w = teredo::wire;

namespace {

constexpr std::size_t kSize = 1280;

w::ByteVector make_buffer() {
  w::ByteVector v(kSize);
  std::uint32_t x = 0x12345678;
  for (auto& b : v) {  // xorshift: data the compiler cannot know
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return v;
}

void set_throughput(benchmark::State& state) {
  const auto bytes = static_cast<std::int64_t>(state.iterations()) * std::int64_t{kSize};
  state.SetBytesProcessed(bytes);
  state.counters["GB"] = benchmark::Counter(static_cast<double>(kSize) / 1e9,
                                            benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ChecksumOurs(benchmark::State& state) {
  const w::ByteVector buffer = make_buffer();
  w::Bytes bytes(buffer);
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes);
    w::ChecksumAccumulator sum;
    sum.add(bytes);
    const std::uint16_t c = sum.finish();
    benchmark::DoNotOptimize(c);
  }
  set_throughput(state);
}

void BM_ChecksumOursIcmpv6(benchmark::State& state) {
  const w::ByteVector buffer = make_buffer();
  w::Bytes bytes(buffer);
  w::Ipv6Address source, destination;
  source.bytes[0] = 0xfe;
  source.bytes[1] = 0x80;
  source.bytes[15] = 1;
  destination.bytes[0] = 0xfe;
  destination.bytes[1] = 0x80;
  destination.bytes[15] = 2;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes);
    const std::uint16_t c = w::icmpv6_checksum(source, destination, bytes);
    benchmark::DoNotOptimize(c);
  }
  set_throughput(state);
}

void BM_ChecksumTins(benchmark::State& state) {
  const w::ByteVector buffer = make_buffer();
  const std::uint8_t* p = buffer.data();
  for (auto _ : state) {
    benchmark::DoNotOptimize(p);
    const std::uint16_t c = Tins::Utils::sum_range(p, p + kSize);
    benchmark::DoNotOptimize(c);
  }
  set_throughput(state);
}

}  // namespace

BENCHMARK(BM_ChecksumOurs)->Name("checksum/1280/teredo_wire")->Unit(benchmark::kNanosecond);
BENCHMARK(BM_ChecksumOursIcmpv6)
    ->Name("checksum/1280/teredo_wire_icmpv6")
    ->Unit(benchmark::kNanosecond);
BENCHMARK(BM_ChecksumTins)->Name("checksum/1280/libtins")->Unit(benchmark::kNanosecond);
