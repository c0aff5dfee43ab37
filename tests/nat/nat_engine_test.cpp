// NatEngine, the lab NAT's translation logic, driven directly under a virtual
// clock: IPv4/UDP packets crafted with build_ipv4_udp go through from_inside
// and from_outside, and the results are checked against RFC 4787 (mapping and
// filtering behaviours, REQ-6 outbound refresh, REQ-9 hairpinning, REQ-14
// ICMP) and RFC 768/791/792 (headers, checksums). Every expected value is
// derived here from the RFC and the test's own input; checksums are
// re-verified independently over the rewritten bytes, and header fields are
// read back with this file's own offsets, never with the engine's helpers.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "teredo/nat/nat_engine.hpp"
#include "teredo/netns/topology.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/checksum.hpp"
#include "teredo/wire/frame.hpp"
#include "teredo/wire/ipv4.hpp"

namespace teredo::nat {

// Readable failure messages (GoogleTest finds these by ADL).
void PrintTo(Outcome o, std::ostream* os) { *os << to_string(o); }
void PrintTo(const Endpoint& e, std::ostream* os) { *os << to_string(e); }
void PrintTo(Verdict v, std::ostream* os) { *os << (v == Verdict::send ? "send" : "drop"); }

namespace {

using wire::Bytes;
using wire::ByteVector;
using wire::ChecksumAccumulator;
using namespace std::chrono_literals;

constexpr std::uint32_t ipv4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// The lab's addressing: a LAN 192.168.1.0/24 behind 198.51.100.1.
constexpr std::uint32_t kInside = ipv4(192, 168, 1, 1);
constexpr std::uint32_t kOutside = ipv4(198, 51, 100, 1);
// Inside hosts.
const Endpoint kHost{ipv4(192, 168, 1, 10), 4000};
const Endpoint kHost2{ipv4(192, 168, 1, 11), 4001};
// Remotes: A, A' (same IP, other port) and B (other IP), RFC 4787 §4.1 terms.
const Endpoint kA{ipv4(203, 0, 113, 1), 3544};
const Endpoint kAPrime{ipv4(203, 0, 113, 1), 3545};
const Endpoint kB{ipv4(203, 0, 113, 2), 3544};

constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;

const ByteVector kPayload = {'t', 'e', 'r', 'e', 'd', 'o', 0x00, 0xFF, 0x60, 0x00, 0x00, 0x00, 0x01};

// ---- packet helpers, independent of the engine --------------------------

std::uint16_t rd16(const ByteVector& p, std::size_t at) {
  return static_cast<std::uint16_t>((p.at(at) << 8) | p.at(at + 1));
}
std::uint32_t rd32(const ByteVector& p, std::size_t at) {
  return (std::uint32_t{rd16(p, at)} << 16) | rd16(p, at + 2);
}
void wr16(ByteVector& p, std::size_t at, std::uint16_t v) {
  p.at(at) = static_cast<std::uint8_t>(v >> 8);
  p.at(at + 1) = static_cast<std::uint8_t>(v);
}
void wr32(ByteVector& p, std::size_t at, std::uint32_t v) {
  wr16(p, at, static_cast<std::uint16_t>(v >> 16));
  wr16(p, at + 2, static_cast<std::uint16_t>(v));
}
std::size_t ihl(const ByteVector& p) { return std::size_t{p.at(0) & 0x0Fu} * 4; }
Endpoint source(const ByteVector& p) { return {rd32(p, 12), rd16(p, ihl(p))}; }
Endpoint destination(const ByteVector& p) { return {rd32(p, 16), rd16(p, ihl(p) + 2)}; }

ByteVector udp(const Endpoint& from, const Endpoint& to, const ByteVector& payload = kPayload) {
  wire::Ipv4UdpEndpoints e;
  e.source = wire::Ipv4Address{from.ip};
  e.source_port = from.port;
  e.destination = wire::Ipv4Address{to.ip};
  e.destination_port = to.port;
  e.identification = 0x1234;
  return wire::build_ipv4_udp(e, payload);
}

// Recomputes the IPv4 header checksum of p (after a test edited the header).
void refresh_ip_checksum(ByteVector& p, std::size_t header_at = 0) {
  const std::size_t length = std::size_t{p.at(header_at) & 0x0Fu} * 4;
  wr16(p, header_at + 10, 0);
  ChecksumAccumulator sum;
  sum.add(Bytes(p).subspan(header_at, length));
  wr16(p, header_at + 10, sum.finish());
}

// RFC 791: the header's one's-complement sum, checksum included, is 0xFFFF
// (finish() == 0). RFC 768: same over the pseudo-header and the datagram of
// the UDP length, unless the checksum field is 0 (none sent).
::testing::AssertionResult checksums_valid(const ByteVector& p) {
  if (p.size() < 20) return ::testing::AssertionFailure() << "short packet";
  const std::size_t header = ihl(p);
  ChecksumAccumulator ip;
  ip.add(Bytes(p).first(header));
  if (ip.finish() != 0) return ::testing::AssertionFailure() << "IPv4 header checksum does not verify";
  if (p.at(9) != kProtoUdp) return ::testing::AssertionSuccess();
  const std::uint16_t udp_length = rd16(p, header + 4);
  if (rd16(p, header + 6) == 0) return ::testing::AssertionSuccess();
  ChecksumAccumulator u;
  u.add_u32(rd32(p, 12));
  u.add_u32(rd32(p, 16));
  u.add_u16(kProtoUdp);
  u.add_u16(udp_length);
  u.add(Bytes(p).subspan(header, udp_length));
  if (u.finish() != 0) return ::testing::AssertionFailure() << "UDP checksum does not verify";
  return ::testing::AssertionSuccess();
}

ByteVector payload_of(const ByteVector& p) {
  const std::size_t at = ihl(p) + 8;
  const std::size_t end = ihl(p) + rd16(p, ihl(p) + 4);
  return ByteVector(p.begin() + static_cast<std::ptrdiff_t>(at), p.begin() + static_cast<std::ptrdiff_t>(end));
}

EngineConfig config_for(const std::string& profile) {
  EngineConfig c;
  EXPECT_TRUE(netns::apply_nat_profile(profile, c.nat)) << profile;
  c.inside_address = kInside;
  c.outside_address = kOutside;
  c.nat.mapping_lifetime_ms = 120000;
  return c;
}

struct Result {
  Decision decision;
  ByteVector packet;  // as the engine left it
};

Result out(NatEngine& nat, Time t, const Endpoint& from, const Endpoint& to) {
  Result r{{}, udp(from, to)};
  r.decision = nat.from_inside(t, r.packet);
  return r;
}
Result in(NatEngine& nat, Time t, const Endpoint& from, const Endpoint& to) {
  Result r{{}, udp(from, to)};
  r.decision = nat.from_outside(t, r.packet);
  return r;
}
Result out_raw(NatEngine& nat, Time t, ByteVector p) {
  Result r{{}, std::move(p)};
  r.decision = nat.from_inside(t, r.packet);
  return r;
}
Result in_raw(NatEngine& nat, Time t, ByteVector p) {
  Result r{{}, std::move(p)};
  r.decision = nat.from_outside(t, r.packet);
  return r;
}

// The external endpoint of a packet the NAT translated outbound.
Endpoint mapped(const Result& r) {
  EXPECT_EQ(r.decision.outcome, Outcome::translated);
  EXPECT_EQ(r.decision.verdict, Verdict::send);
  return source(r.packet);
}

// Each evaluates its Result argument once (it may be a call to the engine).
#define EXPECT_PASSED(result, expected)                 \
  do {                                                  \
    const Result& r_ = (result);                        \
    EXPECT_EQ(r_.decision.outcome, expected);           \
    EXPECT_EQ(r_.decision.verdict, Verdict::send);      \
  } while (0)
#define EXPECT_DROPPED(result, expected)                \
  do {                                                  \
    const Result& r_ = (result);                        \
    EXPECT_EQ(r_.decision.outcome, expected);           \
    EXPECT_EQ(r_.decision.verdict, Verdict::drop);      \
  } while (0)

// ---- sanity of the fixtures themselves -----------------------------------

TEST(NatEngineFixture, CraftedPacketsAreValid) {
  const ByteVector p = udp(kHost, kA);
  ASSERT_EQ(p.size(), 20u + 8u + kPayload.size());
  EXPECT_EQ(p[0], 0x45);
  EXPECT_EQ(rd16(p, 2), p.size());
  EXPECT_EQ(source(p), kHost);
  EXPECT_EQ(destination(p), kA);
  EXPECT_TRUE(checksums_valid(p));
  EXPECT_EQ(payload_of(p), kPayload);
  ByteVector bad = p;
  bad[30] ^= 0x01;  // a payload byte: the UDP checksum must catch it
  EXPECT_FALSE(checksums_valid(bad));
  bad = p;
  bad[8] ^= 0x01;  // TTL: the header checksum must catch it
  EXPECT_FALSE(checksums_valid(bad));
}

// ---- RFC 4787 §4.1 mapping and §5 filtering, per profile -----------------

struct ProfileCase {
  const char* profile;
  // Mapping (§4.1): is the external endpoint towards A' (same IP, other port)
  // and towards B (other IP) the one used towards A?
  bool same_for_a_prime;
  bool same_for_b;
  // Filtering (§5), after the host sent only to A: which remotes get in.
  bool a_passes;
  bool a_prime_passes;
  bool b_passes;
};

std::ostream& operator<<(std::ostream& os, const ProfileCase& c) { return os << c.profile; }

// full-cone: EIM + EIF; restricted-cone: EIM + ADF; port-restricted-cone:
// EIM + APDF; symmetric: APDM + APDF (RFC 4787 §4.1, §5; RFC 3489 §5).
const ProfileCase kProfiles[] = {
    {"full-cone", true, true, true, true, true},
    {"restricted-cone", true, true, true, true, false},
    {"port-restricted-cone", true, true, true, false, false},
    {"symmetric", false, false, true, false, false},
};

class NatProfileTest : public ::testing::TestWithParam<ProfileCase> {};

TEST_P(NatProfileTest, MappingTowardsAAPrimeAndB) {
  const ProfileCase& c = GetParam();
  NatEngine nat(config_for(c.profile));
  const Result to_a = out(nat, 0ms, kHost, kA);
  const Result to_a_prime = out(nat, 1ms, kHost, kAPrime);
  const Result to_b = out(nat, 2ms, kHost, kB);
  const Endpoint ea = mapped(to_a), eap = mapped(to_a_prime), eb = mapped(to_b);
  // The mapped address is the NAT's outside address; the first mapping
  // preserves the internal port (port preservation is on by default).
  EXPECT_EQ(ea, (Endpoint{kOutside, kHost.port}));
  EXPECT_EQ(eap.ip, kOutside);
  EXPECT_EQ(eb.ip, kOutside);
  EXPECT_EQ(eap == ea, c.same_for_a_prime) << to_string(ea) << " vs " << to_string(eap);
  EXPECT_EQ(eb == ea, c.same_for_b) << to_string(ea) << " vs " << to_string(eb);
  if (!c.same_for_a_prime && !c.same_for_b) {
    EXPECT_NE(eap, eb);
  }
  // One mapping per distinct external endpoint.
  const std::set<Endpoint> distinct = {ea, eap, eb};
  EXPECT_EQ(nat.mapping_count(), distinct.size());
  // Destinations untouched, both checksums verify, payload unchanged.
  EXPECT_EQ(destination(to_a.packet), kA);
  EXPECT_EQ(destination(to_a_prime.packet), kAPrime);
  EXPECT_EQ(destination(to_b.packet), kB);
  for (const Result* r : {&to_a, &to_a_prime, &to_b}) {
    EXPECT_TRUE(checksums_valid(r->packet));
    EXPECT_EQ(payload_of(r->packet), kPayload);
  }
}

TEST_P(NatProfileTest, FilteringAfterSendingOnlyToA) {
  const ProfileCase& c = GetParam();
  NatEngine nat(config_for(c.profile));
  const Endpoint ext = mapped(out(nat, 0ms, kHost, kA));
  const struct {
    Endpoint remote;
    bool passes;
  } probes[] = {{kA, c.a_passes}, {kAPrime, c.a_prime_passes}, {kB, c.b_passes}};
  Time t = 1ms;
  for (const auto& probe : probes) {
    SCOPED_TRACE(to_string(probe.remote));
    const ByteVector before = udp(probe.remote, ext);
    const Result r = in(nat, t, probe.remote, ext);
    t += 1ms;
    if (probe.passes) {
      EXPECT_PASSED(r, Outcome::translated);
      EXPECT_EQ(source(r.packet), probe.remote);  // the remote is not rewritten
      EXPECT_EQ(destination(r.packet), kHost);
      EXPECT_TRUE(checksums_valid(r.packet));
      EXPECT_EQ(payload_of(r.packet), kPayload);
    } else {
      EXPECT_DROPPED(r, Outcome::filtered);
      EXPECT_EQ(r.packet, before);  // a dropped packet is not half-rewritten
    }
  }
  // A port nothing is mapped on.
  EXPECT_DROPPED(in(nat, t, kA, Endpoint{kOutside, 60001}), Outcome::no_mapping);
  const auto passed = static_cast<std::uint64_t>(c.a_passes + c.a_prime_passes + c.b_passes);
  EXPECT_EQ(nat.counter(Outcome::translated), 1 + passed);
  EXPECT_EQ(nat.counter(Outcome::filtered), 3 - passed);
  EXPECT_EQ(nat.counter(Outcome::no_mapping), 1u);
}

TEST_P(NatProfileTest, ReplyFromEachContactedRemotePasses) {
  // Whatever the filtering, a remote the host sent to may answer on the
  // endpoint the host's packet came from (RFC 4787 §5).
  const ProfileCase& c = GetParam();
  NatEngine nat(config_for(c.profile));
  for (const Endpoint& remote : {kA, kAPrime, kB}) {
    const Endpoint ext = mapped(out(nat, 0ms, kHost, remote));
    const Result r = in(nat, 1ms, remote, ext);
    EXPECT_PASSED(r, Outcome::translated);
    EXPECT_EQ(destination(r.packet), kHost);
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, NatProfileTest, ::testing::ValuesIn(kProfiles),
                         [](const ::testing::TestParamInfo<ProfileCase>& param_info) {
                           std::string name = param_info.param.profile;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(NatEngineMapping, AddressDependentMapping) {
  // Not a named profile, but a behaviour of RFC 4787 §4.1: A and A' share a
  // mapping, B gets another.
  EngineConfig c = config_for("full-cone");
  c.nat.mapping = netns::Mapping::address_dependent;
  NatEngine nat(c);
  const Endpoint ea = mapped(out(nat, 0ms, kHost, kA));
  const Endpoint eap = mapped(out(nat, 0ms, kHost, kAPrime));
  const Endpoint eb = mapped(out(nat, 0ms, kHost, kB));
  EXPECT_EQ(ea, eap);
  EXPECT_NE(ea, eb);
  EXPECT_EQ(eb.ip, kOutside);
  EXPECT_EQ(nat.mapping_count(), 2u);
}

TEST(NatEngineMapping, AddressDependentFilteringIgnoresPortOnly) {
  // ADF: after sending to A only, A' (same IP) gets in, B does not; after
  // sending to B, B does.
  NatEngine nat(config_for("restricted-cone"));
  const Endpoint ext = mapped(out(nat, 0ms, kHost, kA));
  EXPECT_DROPPED(in(nat, 1ms, kB, ext), Outcome::filtered);
  EXPECT_EQ(mapped(out(nat, 2ms, kHost, kB)), ext);
  EXPECT_PASSED(in(nat, 3ms, kB, ext), Outcome::translated);
  EXPECT_PASSED(in(nat, 3ms, Endpoint{kB.ip, 9}, ext), Outcome::translated);
}

TEST(NatEngineMapping, FilteringSwitchedAtRunTimeAdmitsAnotherPortOfAPermittedAddress) {
  // The "filtering" control command: a symmetric (port-preserving) NAT
  // switched to address-dependent filtering admits A' (A's address, another
  // port) at the mapping that sent to A; B stays out; switched back, A' is
  // filtered again. The mapping behaviour does not change.
  NatEngine nat(config_for("symmetric"));
  EXPECT_EQ(nat.filtering(), netns::Filtering::address_and_port_dependent);
  const Endpoint ext = mapped(out(nat, 0ms, kHost, kA));
  EXPECT_DROPPED(in(nat, 1ms, kAPrime, ext), Outcome::filtered);
  nat.set_filtering(netns::Filtering::address_dependent);
  EXPECT_PASSED(in(nat, 2ms, kAPrime, ext), Outcome::translated);
  EXPECT_DROPPED(in(nat, 2ms, kB, ext), Outcome::filtered);
  EXPECT_NE(mapped(out(nat, 3ms, kHost, kB)), ext);  // still a mapping per destination
  nat.set_filtering(netns::Filtering::address_and_port_dependent);
  EXPECT_DROPPED(in(nat, 4ms, kAPrime, ext), Outcome::filtered);
}

TEST(NatEngineMapping, MappingsViewListsPermissions) {
  NatEngine nat(config_for("port-restricted-cone"));
  mapped(out(nat, 0ms, kHost, kA));
  mapped(out(nat, 0ms, kHost, kB));
  const auto views = nat.mappings();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].internal, kHost);
  EXPECT_EQ(views[0].external_port, kHost.port);
  std::vector<Endpoint> permitted = views[0].permitted;
  std::sort(permitted.begin(), permitted.end());
  EXPECT_EQ(permitted, (std::vector<Endpoint>{kA, kB}));
}

// ---- header details --------------------------------------------------------

TEST(NatEngineHeaders, OnlyAddressPortAndChecksumsChange) {
  NatEngine nat(config_for("full-cone"));
  EngineConfig c = config_for("full-cone");
  c.nat.port_preservation = false;  // so the port does change
  NatEngine random_nat(c);
  for (NatEngine* engine : {&nat, &random_nat}) {
    const ByteVector before = udp(kHost, kA);
    const Result r = out(*engine, 0ms, kHost, kA);
    ASSERT_EQ(r.packet.size(), before.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
      const bool may_change = (i >= 10 && i < 16) ||  // header checksum, source address
                              (i >= 20 && i < 22) ||  // UDP source port
                              (i >= 26 && i < 28);    // UDP checksum
      if (!may_change) {
        EXPECT_EQ(r.packet[i], before[i]) << "byte " << i;
      }
    }
    EXPECT_EQ(rd32(r.packet, 12), kOutside);
    EXPECT_TRUE(checksums_valid(r.packet));
  }
}

TEST(NatEngineHeaders, ZeroUdpChecksumStaysZero) {
  // RFC 768: 0 means no checksum; a NAT must not invent one (nor would a
  // recomputed value be wrong, but "none" must stay "none").
  NatEngine nat(config_for("full-cone"));
  ByteVector p = udp(kHost, kA);
  wr16(p, 26, 0);
  const Result r = out_raw(nat, 0ms, p);
  EXPECT_PASSED(r, Outcome::translated);
  EXPECT_EQ(rd16(r.packet, 26), 0);
  EXPECT_TRUE(checksums_valid(r.packet));
}

TEST(NatEngineHeaders, IpOptionsMoveTheUdpHeader) {
  // IHL 6: four bytes of options (NOPs), the UDP header starts at 24.
  ByteVector p = udp(kHost, kA);
  p.insert(p.begin() + 20, {0x01, 0x01, 0x01, 0x01});
  p[0] = 0x46;
  wr16(p, 2, static_cast<std::uint16_t>(p.size()));
  refresh_ip_checksum(p);
  ASSERT_TRUE(checksums_valid(p));
  NatEngine nat(config_for("full-cone"));
  const Result r = out_raw(nat, 0ms, p);
  EXPECT_PASSED(r, Outcome::translated);
  EXPECT_EQ(source(r.packet), (Endpoint{kOutside, kHost.port}));
  EXPECT_EQ(destination(r.packet), kA);
  EXPECT_EQ(r.packet[20], 0x01);  // options untouched
  EXPECT_TRUE(checksums_valid(r.packet));
  EXPECT_EQ(payload_of(r.packet), kPayload);
  const Result back = in(nat, 1ms, kA, Endpoint{kOutside, kHost.port});
  EXPECT_PASSED(back, Outcome::translated);
}

TEST(NatEngineHeaders, LinkLayerPaddingAfterTotalLengthIsIgnored) {
  // A frame's trailing padding (Ethernet minimum size) is not part of the
  // IPv4 packet: the checksums cover the total length only.
  NatEngine nat(config_for("full-cone"));
  ByteVector p = udp(kHost, kA);
  const std::size_t total = p.size();
  p.insert(p.end(), 6, 0xEE);
  const Result r = out_raw(nat, 0ms, p);
  EXPECT_PASSED(r, Outcome::translated);
  ByteVector packet(r.packet.begin(), r.packet.begin() + static_cast<std::ptrdiff_t>(total));
  EXPECT_TRUE(checksums_valid(packet));
  EXPECT_EQ(ByteVector(r.packet.begin() + static_cast<std::ptrdiff_t>(total), r.packet.end()), ByteVector(6, 0xEE));
}

TEST(NatEngineHeaders, UdpShorterThanIpPayload) {
  // The UDP length (RFC 768) says where the datagram ends; bytes after it in
  // the IPv4 payload are not covered by the UDP checksum, so a rewritten
  // checksum must be computed over the UDP length only.
  ByteVector p = udp(kHost, kA);
  p.insert(p.end(), {0xAA, 0xBB, 0xCC, 0xDD});
  wr16(p, 2, static_cast<std::uint16_t>(p.size()));
  refresh_ip_checksum(p);
  ASSERT_TRUE(checksums_valid(p));
  NatEngine nat(config_for("full-cone"));
  const Result r = out_raw(nat, 0ms, p);
  EXPECT_PASSED(r, Outcome::translated);
  EXPECT_EQ(rd16(r.packet, 24), 8 + kPayload.size());
  EXPECT_TRUE(checksums_valid(r.packet));
  EXPECT_EQ(payload_of(r.packet), kPayload);
  const Result back = [&] {
    ByteVector q = udp(kA, Endpoint{kOutside, kHost.port});
    q.insert(q.end(), {0x01, 0x02, 0x03});
    wr16(q, 2, static_cast<std::uint16_t>(q.size()));
    refresh_ip_checksum(q);
    return in_raw(nat, 1ms, q);
  }();
  EXPECT_PASSED(back, Outcome::translated);
  EXPECT_TRUE(checksums_valid(back.packet));
}

// ---- port allocation ---------------------------------------------------------

TEST(NatEnginePorts, PreservationKeepsTheFirstAndMovesTheSecond) {
  NatEngine nat(config_for("port-restricted-cone"));
  const Endpoint first = mapped(out(nat, 0ms, kHost, kA));
  const Endpoint other_host_same_port{kHost2.ip, kHost.port};
  const Endpoint second = mapped(out(nat, 0ms, other_host_same_port, kA));
  EXPECT_EQ(first.port, kHost.port);
  EXPECT_NE(second.port, kHost.port);
  EXPECT_GE(second.port, 1024);
  // Each reply reaches its own host.
  const Result r1 = in(nat, 1ms, kA, first);
  const Result r2 = in(nat, 1ms, kA, second);
  EXPECT_EQ(destination(r1.packet), kHost);
  EXPECT_EQ(destination(r2.packet), other_host_same_port);
}

std::vector<std::uint16_t> random_ports(std::uint64_t seed, std::uint16_t first, std::uint16_t last) {
  EngineConfig c = config_for("full-cone");
  c.nat.port_preservation = false;
  c.seed = seed;
  c.first_port = first;
  c.last_port = last;
  NatEngine nat(c);
  std::vector<std::uint16_t> ports;
  for (std::uint16_t i = 0; i < 8; ++i) {
    const Endpoint host{kHost.ip, static_cast<std::uint16_t>(40000 + i)};
    ports.push_back(mapped(out(nat, 0ms, host, kA)).port);
  }
  return ports;
}

TEST(NatEnginePorts, RandomAllocationIsSeeded) {
  const auto a = random_ports(7, 1024, 65535);
  const auto b = random_ports(7, 1024, 65535);
  const auto other = random_ports(8, 1024, 65535);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
  EXPECT_EQ(std::set<std::uint16_t>(a.begin(), a.end()).size(), a.size());
  for (auto p : a) EXPECT_GE(p, 1024);
  // Random means not the internal ports 40000..40007 in order.
  std::vector<std::uint16_t> internal;
  for (std::uint16_t i = 0; i < 8; ++i) internal.push_back(static_cast<std::uint16_t>(40000 + i));
  EXPECT_NE(a, internal);
}

TEST(NatEnginePorts, RandomAllocationStaysInRange) {
  const auto ports = random_ports(3, 20000, 20015);
  EXPECT_EQ(std::set<std::uint16_t>(ports.begin(), ports.end()).size(), ports.size());
  for (auto p : ports) {
    EXPECT_GE(p, 20000);
    EXPECT_LE(p, 20015);
  }
}

TEST(NatEnginePorts, PreservationOutsideTheRangeDrawsFromTheRange) {
  EngineConfig c = config_for("full-cone");
  c.first_port = 30000;
  c.last_port = 30009;
  NatEngine nat(c);
  const Endpoint e = mapped(out(nat, 0ms, kHost, kA));  // internal port 4000
  EXPECT_GE(e.port, 30000);
  EXPECT_LE(e.port, 30009);
}

TEST(NatEnginePorts, EveryPortOfTheRangeIsUsableThenExhausted) {
  // Range 5000..5001 (two ports): two hosts on port 5000 get 5000 and 5001;
  // the third finds no free port.
  EngineConfig c = config_for("port-restricted-cone");
  c.first_port = 5000;
  c.last_port = 5001;
  NatEngine nat(c);
  const Endpoint h1{ipv4(192, 168, 1, 10), 5000}, h2{ipv4(192, 168, 1, 11), 5000}, h3{ipv4(192, 168, 1, 12), 5000};
  EXPECT_EQ(mapped(out(nat, 0ms, h1, kA)).port, 5000);
  EXPECT_EQ(mapped(out(nat, 0ms, h2, kA)).port, 5001);
  const ByteVector before = udp(h3, kA);
  const Result r = out(nat, 0ms, h3, kA);
  EXPECT_DROPPED(r, Outcome::ports_exhausted);
  EXPECT_EQ(r.packet, before);
  EXPECT_EQ(nat.counter(Outcome::ports_exhausted), 1u);
  EXPECT_EQ(nat.mapping_count(), 2u);
  // An existing mapping still works.
  EXPECT_EQ(mapped(out(nat, 1ms, h1, kB)).port, 5000);
}

TEST(NatEnginePorts, SinglePortRangeWithoutPreservation) {
  EngineConfig c = config_for("full-cone");
  c.nat.port_preservation = false;
  c.first_port = 7000;
  c.last_port = 7000;
  NatEngine nat(c);
  EXPECT_EQ(mapped(out(nat, 0ms, kHost, kA)).port, 7000);
  EXPECT_DROPPED(out(nat, 0ms, kHost2, kA), Outcome::ports_exhausted);
}

TEST(NatEnginePorts, SymmetricExhaustsPerDestination) {
  // APDM: one mapping per remote endpoint, so three remotes need three ports.
  EngineConfig c = config_for("symmetric");
  c.first_port = 5000;
  c.last_port = 5001;
  NatEngine nat(c);
  const Endpoint h{kHost.ip, 5000};
  EXPECT_EQ(mapped(out(nat, 0ms, h, kA)).port, 5000);
  EXPECT_EQ(mapped(out(nat, 0ms, h, kAPrime)).port, 5001);
  EXPECT_DROPPED(out(nat, 0ms, h, kB), Outcome::ports_exhausted);
}

TEST(NatEnginePorts, SequentialAllocationGivesTheNextFreePortAndWraps) {
  // The in-memory network of the node tests relies on this: mappings it can name.
  EngineConfig c = config_for("symmetric");
  c.nat.port_preservation = false;
  c.nat.sequential_ports = true;
  c.first_port = 40000;
  c.last_port = 40003;
  NatEngine nat(c);
  EXPECT_EQ(mapped(out(nat, 0ms, kHost, kA)).port, 40000);
  EXPECT_EQ(mapped(out(nat, 0ms, kHost, kB)).port, 40001);
  EXPECT_EQ(mapped(out(nat, 0ms, kHost, kA)).port, 40000);  // the existing mapping
  // A rebind moves each mapping on to the next ports, never back to one just left.
  EXPECT_EQ(nat.rebind(1ms), 2u);
  std::set<std::uint16_t> moved;
  for (const MappingView& m : nat.mappings()) moved.insert(m.external_port);
  EXPECT_EQ(moved, (std::set<std::uint16_t>{40002, 40003}));
  // The search wraps to the start of the range, skipping ports in use.
  EXPECT_EQ(mapped(out(nat, 2ms, kHost, kAPrime)).port, 40000);
  EXPECT_EQ(mapped(out(nat, 2ms, kHost2, kA)).port, 40001);
  EXPECT_DROPPED(out(nat, 2ms, kHost2, kB), Outcome::ports_exhausted);
}

// RFC 6081 §5.4 (port-preserving symmetric NAT) predicts a mapping's
// external port from its internal one: the "symmetric" profile keeps a new
// internal port's number outside.
TEST(NatEnginePorts, SymmetricProfileKeepsANewInternalPortsNumberOutside) {
  NatEngine nat(config_for("symmetric"));
  EXPECT_EQ(mapped(out(nat, 0ms, kHost, kA)).port, kHost.port);
  // A second mapping of the same internal port (another destination) cannot.
  EXPECT_NE(mapped(out(nat, 1ms, kHost, kB)).port, kHost.port);
  // A port the host has just opened (its "random port") keeps its number,
  // towards any first destination.
  const Endpoint random_port{kHost.ip, 51234};
  EXPECT_EQ(mapped(out(nat, 2ms, random_port, kB)).port, 51234);
  EXPECT_EQ(nat.mapping_count(), 3u);
}

// RFC 6081 §5.5 (sequential port-symmetric NAT): no port preservation, each
// new mapping takes the next port, so a mapping made between two others is
// their midpoint: the Echo Test's prediction (§5.5.4.4).
TEST(NatEnginePorts, SymmetricSequentialProfileGivesEachNewMappingTheNextPort) {
  EngineConfig c = config_for("symmetric-sequential");
  c.first_port = 40000;
  c.last_port = 40100;
  NatEngine nat(c);
  const Endpoint random_port{kHost.ip, 40050};  // free in the range, yet not preserved
  const std::uint16_t lower = mapped(out(nat, 0ms, random_port, kA)).port;
  const std::uint16_t middle = mapped(out(nat, 1ms, random_port, kAPrime)).port;
  const std::uint16_t upper = mapped(out(nat, 2ms, random_port, kB)).port;
  EXPECT_EQ(lower, 40000);
  EXPECT_EQ(middle, 40001);
  EXPECT_EQ(upper, 40002);
  EXPECT_EQ((lower + upper) / 2, middle);
  // Another internal endpoint continues the sequence.
  EXPECT_EQ(mapped(out(nat, 3ms, kHost2, kA)).port, 40003);
}

// ---- lifetime (RFC 4787 REQ-5, REQ-6) -------------------------------------

TEST(NatEngineLifetime, InboundDoesNotRefresh) {
  NatEngine nat(config_for("full-cone"));
  const Endpoint ext = mapped(out(nat, 0ms, kHost, kA));
  EXPECT_PASSED(in(nat, 60s, kA, ext), Outcome::translated);
  EXPECT_PASSED(in(nat, 119s, kA, ext), Outcome::translated);
  // 121 s after the only outbound packet, despite inbound traffic at 119 s.
  EXPECT_DROPPED(in(nat, 121s, kA, ext), Outcome::no_mapping);
  EXPECT_EQ(nat.mapping_count(), 0u);
}

TEST(NatEngineLifetime, OutboundRefreshKeepsTheMapping) {
  NatEngine nat(config_for("port-restricted-cone"));
  const Endpoint ext = mapped(out(nat, 0ms, kHost, kA));
  EXPECT_EQ(mapped(out(nat, 100s, kHost, kA)), ext);
  EXPECT_PASSED(in(nat, 200s, kA, ext), Outcome::translated);  // 100 s idle
  EXPECT_DROPPED(in(nat, 221s, kA, ext), Outcome::no_mapping);  // 121 s idle
}

TEST(NatEngineLifetime, OutboundToAnyRemoteRefreshesAnEndpointIndependentMapping) {
  // EIM: the packet to B uses (and refreshes) the mapping A answers on.
  NatEngine nat(config_for("port-restricted-cone"));
  const Endpoint ext = mapped(out(nat, 0ms, kHost, kA));
  EXPECT_EQ(mapped(out(nat, 100s, kHost, kB)), ext);
  EXPECT_PASSED(in(nat, 200s, kA, ext), Outcome::translated);
}

TEST(NatEngineLifetime, ExpiredMappingIsReplacedByAFreshOne) {
  NatEngine nat(config_for("port-restricted-cone"));
  const Endpoint ext = mapped(out(nat, 0ms, kHost, kA));
  mapped(out(nat, 0ms, kHost, kB));
  // 121 s idle: the next outbound creates a fresh mapping, which only knows A.
  const Endpoint fresh = mapped(out(nat, 121s, kHost, kA));
  EXPECT_EQ(fresh.ip, kOutside);
  EXPECT_EQ(nat.mapping_count(), 1u);
  EXPECT_PASSED(in(nat, 122s, kA, fresh), Outcome::translated);
  EXPECT_DROPPED(in(nat, 122s, kB, fresh), Outcome::filtered);
  if (fresh.port != ext.port) {
    EXPECT_DROPPED(in(nat, 122s, kA, ext), Outcome::no_mapping);
  }
}

TEST(NatEngineLifetime, ExpiredMappingMayMoveToANewPort) {
  // A new mapping allocates its port again: with a two-port range and the old
  // port taken by another host meanwhile, it must move to the other one.
  EngineConfig c = config_for("full-cone");
  c.first_port = 5000;
  c.last_port = 5001;
  NatEngine nat(c);
  const Endpoint h1{kHost.ip, 5000}, h2{kHost2.ip, 5000};
  EXPECT_EQ(mapped(out(nat, 0ms, h1, kA)).port, 5000);
  // h1's mapping expires; h2 (same internal port) now preserves 5000.
  EXPECT_EQ(nat.expire_idle(121s), 1u);
  EXPECT_EQ(mapped(out(nat, 121s, h2, kA)).port, 5000);
  EXPECT_EQ(mapped(out(nat, 122s, h1, kA)).port, 5001);
  EXPECT_EQ(destination(in(nat, 123s, kA, Endpoint{kOutside, 5000}).packet), h2);
  EXPECT_EQ(destination(in(nat, 123s, kA, Endpoint{kOutside, 5001}).packet), h1);
}

TEST(NatEngineLifetime, ExpireIdleDropsOnlyIdleMappings) {
  NatEngine nat(config_for("full-cone"));
  const Endpoint e1 = mapped(out(nat, 0ms, kHost, kA));
  const Endpoint e2 = mapped(out(nat, 0ms, kHost2, kA));
  mapped(out(nat, 60s, kHost2, kA));
  EXPECT_EQ(nat.expire_idle(119s), 0u);  // REQ-5: not in less than 2 minutes
  EXPECT_EQ(nat.expire_idle(150s), 1u);
  EXPECT_EQ(nat.mapping_count(), 1u);
  EXPECT_DROPPED(in(nat, 150s, kA, e1), Outcome::no_mapping);
  EXPECT_PASSED(in(nat, 150s, kA, e2), Outcome::translated);
}

TEST(NatEngineLifetime, ConfiguredLifetimeIsHonoured) {
  EngineConfig c = config_for("full-cone");
  c.nat.mapping_lifetime_ms = 5000;
  NatEngine nat(c);
  const Endpoint ext = mapped(out(nat, 0ms, kHost, kA));
  EXPECT_PASSED(in(nat, 4999ms, kA, ext), Outcome::translated);
  EXPECT_DROPPED(in(nat, 5001ms, kA, ext), Outcome::no_mapping);
}

// ---- scripted events -----------------------------------------------------------

TEST(NatEngineEvents, RebindMovesEveryMappingAndResetsPermissions) {
  NatEngine nat(config_for("port-restricted-cone"));
  const Endpoint e1 = mapped(out(nat, 0ms, kHost, kA));
  const Endpoint e2 = mapped(out(nat, 0ms, kHost2, kA));
  EXPECT_EQ(nat.rebind(1s), 2u);
  ASSERT_EQ(nat.mapping_count(), 2u);
  std::map<Endpoint, std::uint16_t> now_at;
  for (const auto& m : nat.mappings()) {
    now_at[m.internal] = m.external_port;
    EXPECT_TRUE(m.permitted.empty());
  }
  ASSERT_EQ(now_at.size(), 2u);
  const Endpoint n1{kOutside, now_at.at(kHost)}, n2{kOutside, now_at.at(kHost2)};
  EXPECT_NE(n1.port, e1.port);
  EXPECT_NE(n2.port, e2.port);
  // The old ports lead nowhere.
  EXPECT_DROPPED(in(nat, 2s, kA, e1), Outcome::no_mapping);
  EXPECT_DROPPED(in(nat, 2s, kA, e2), Outcome::no_mapping);
  // The new ports filter A until the host sends again.
  EXPECT_DROPPED(in(nat, 2s, kA, n1), Outcome::filtered);
  EXPECT_EQ(mapped(out(nat, 3s, kHost, kA)), n1);
  const Result r = in(nat, 4s, kA, n1);
  EXPECT_PASSED(r, Outcome::translated);
  EXPECT_EQ(destination(r.packet), kHost);
}

TEST(NatEngineEvents, RebindNeverReusesAPortAnotherMappingLeft) {
  // Four ports, two mappings on 5000 and 5001: after a rebind both must be on
  // 5002/5003, or a peer still sending to an old port would reach the other
  // host. Over several seeds, since the draw is random.
  for (std::uint64_t seed = 1; seed <= 32; ++seed) {
    SCOPED_TRACE(seed);
    EngineConfig c = config_for("full-cone");
    c.seed = seed;
    c.first_port = 5000;
    c.last_port = 5003;
    NatEngine nat(c);
    const Endpoint h1{kHost.ip, 5000}, h2{kHost2.ip, 5001};
    ASSERT_EQ(mapped(out(nat, 0ms, h1, kA)).port, 5000);
    ASSERT_EQ(mapped(out(nat, 0ms, h2, kA)).port, 5001);
    EXPECT_EQ(nat.rebind(1s), 2u);
    std::set<std::uint16_t> ports;
    for (const auto& m : nat.mappings()) ports.insert(m.external_port);
    EXPECT_EQ(ports, (std::set<std::uint16_t>{5002, 5003}));
    EXPECT_DROPPED(in(nat, 2s, kA, Endpoint{kOutside, 5000}), Outcome::no_mapping);
    EXPECT_DROPPED(in(nat, 2s, kA, Endpoint{kOutside, 5001}), Outcome::no_mapping);
  }
}

TEST(NatEngineEvents, RebindOfASymmetricNatKeepsOneMappingPerRemote) {
  NatEngine nat(config_for("symmetric"));
  const Endpoint ea = mapped(out(nat, 0ms, kHost, kA));
  const Endpoint eb = mapped(out(nat, 0ms, kHost, kB));
  EXPECT_EQ(nat.rebind(1s), 2u);
  const Endpoint na = mapped(out(nat, 2s, kHost, kA));
  const Endpoint nb = mapped(out(nat, 2s, kHost, kB));
  EXPECT_EQ(nat.mapping_count(), 2u);  // the packets found the moved mappings
  EXPECT_NE(na, ea);
  EXPECT_NE(nb, eb);
  EXPECT_NE(na, nb);
}

TEST(NatEngineEvents, RebindRestartsTheLifetime) {
  NatEngine nat(config_for("full-cone"));
  mapped(out(nat, 0ms, kHost, kA));
  nat.rebind(100s);
  const auto views = nat.mappings();
  ASSERT_EQ(views.size(), 1u);
  const Endpoint moved{kOutside, views[0].external_port};
  EXPECT_PASSED(in(nat, 200s, kA, moved), Outcome::translated);  // 100 s after the rebind
}

TEST(NatEngineEvents, ExpireAll) {
  NatEngine nat(config_for("full-cone"));
  const Endpoint e1 = mapped(out(nat, 0ms, kHost, kA));
  const Endpoint e2 = mapped(out(nat, 0ms, kHost2, kB));
  EXPECT_EQ(nat.expire_all(), 2u);
  EXPECT_EQ(nat.mapping_count(), 0u);
  EXPECT_TRUE(nat.mappings().empty());
  EXPECT_DROPPED(in(nat, 1ms, kA, e1), Outcome::no_mapping);
  EXPECT_DROPPED(in(nat, 1ms, kB, e2), Outcome::no_mapping);
  EXPECT_EQ(nat.expire_all(), 0u);
  // The next outbound packet maps again.
  EXPECT_EQ(mapped(out(nat, 2ms, kHost, kA)).ip, kOutside);
  EXPECT_EQ(nat.mapping_count(), 1u);
}

TEST(NatEngineEvents, BlackoutDropsBothDirectionsUntilItEnds) {
  NatEngine nat(config_for("full-cone"));
  const Endpoint ext = mapped(out(nat, 0ms, kHost, kA));
  EXPECT_PASSED(in(nat, 9s, kA, ext), Outcome::translated);
  nat.blackout(10s, 5s);
  for (Time t : {Time{10s}, Time{12s}, Time{15s} - Time{1}}) {
    const ByteVector before_out = udp(kHost, kA), before_in = udp(kA, ext);
    const Result o = out(nat, t, kHost, kA);
    const Result i = in(nat, t, kA, ext);
    EXPECT_DROPPED(o, Outcome::blackout);
    EXPECT_DROPPED(i, Outcome::blackout);
    EXPECT_EQ(o.packet, before_out);
    EXPECT_EQ(i.packet, before_in);
  }
  // Blackout packets are not outbound traffic: they refresh nothing, create
  // nothing.
  EXPECT_DROPPED(out(nat, 12s, kHost2, kA), Outcome::blackout);
  EXPECT_EQ(nat.mapping_count(), 1u);
  EXPECT_EQ(nat.counter(Outcome::blackout), 7u);
  EXPECT_PASSED(in(nat, 15s, kA, ext), Outcome::translated);
  EXPECT_PASSED(out(nat, 15s, kHost, kA), Outcome::translated);
}

// ---- hairpinning (RFC 4787 REQ-9) ------------------------------------------

TEST(NatEngineHairpin, FullConeDeliversWithTheSendersExternalEndpoint) {
  EngineConfig c = config_for("full-cone");
  c.nat.hairpinning = true;
  NatEngine nat(c);
  const Endpoint ex = mapped(out(nat, 0ms, kHost, kA));
  const Endpoint ey = mapped(out(nat, 0ms, kHost2, kA));
  const Result r = out(nat, 1ms, kHost, ey);
  EXPECT_PASSED(r, Outcome::hairpinned);
  EXPECT_EQ(source(r.packet), ex);   // REQ-9: X's external endpoint, not 192.168.1.10
  EXPECT_EQ(destination(r.packet), kHost2);
  EXPECT_TRUE(checksums_valid(r.packet));
  EXPECT_EQ(payload_of(r.packet), kPayload);
  EXPECT_EQ(nat.counter(Outcome::hairpinned), 1u);
}

TEST(NatEngineHairpin, FollowsTheTargetsFiltering) {
  EngineConfig c = config_for("port-restricted-cone");
  c.nat.hairpinning = true;
  NatEngine nat(c);
  const Endpoint ex = mapped(out(nat, 0ms, kHost, kA));
  const Endpoint ey = mapped(out(nat, 0ms, kHost2, kA));
  // Y never sent to X's external endpoint: APDF drops X's packet.
  EXPECT_DROPPED(out(nat, 1ms, kHost, ey), Outcome::filtered);
  // Y sends to X's external endpoint; X has just sent to Y's, so X accepts.
  const Result to_x = out(nat, 2ms, kHost2, ex);
  EXPECT_PASSED(to_x, Outcome::hairpinned);
  EXPECT_EQ(source(to_x.packet), ey);
  EXPECT_EQ(destination(to_x.packet), kHost);
  EXPECT_TRUE(checksums_valid(to_x.packet));
  // Now Y has sent to ex, so X's packets reach Y.
  const Result to_y = out(nat, 3ms, kHost, ey);
  EXPECT_PASSED(to_y, Outcome::hairpinned);
  EXPECT_EQ(source(to_y.packet), ex);
  EXPECT_EQ(destination(to_y.packet), kHost2);
  EXPECT_TRUE(checksums_valid(to_y.packet));
}

TEST(NatEngineHairpin, RestrictedConeFiltersOnTheNatsAddressOnly) {
  // ADF: once Y sent to the NAT's own address (to X's external endpoint),
  // hairpinned packets from any inside host (source: the NAT's address, some
  // port) reach Y; with APDF only X's would.
  for (const bool address_only : {true, false}) {
    SCOPED_TRACE(address_only ? "restricted-cone" : "port-restricted-cone");
    EngineConfig c = config_for(address_only ? "restricted-cone" : "port-restricted-cone");
    c.nat.hairpinning = true;
    NatEngine nat(c);
    const Endpoint z_host{ipv4(192, 168, 1, 12), 4002};
    const Endpoint ex = mapped(out(nat, 0ms, kHost, kA));
    const Endpoint ey = mapped(out(nat, 0ms, kHost2, kA));
    const Endpoint ez = mapped(out(nat, 0ms, z_host, kA));
    EXPECT_DROPPED(out(nat, 1ms, kHost, ey), Outcome::filtered);  // Y sent nothing inside yet
    const Result to_x = out(nat, 2ms, kHost2, ex);                 // X sent to ey at 1 ms
    EXPECT_PASSED(to_x, Outcome::hairpinned);
    EXPECT_EQ(source(to_x.packet), ey);
    const Result from_z = out(nat, 3ms, z_host, ey);
    if (address_only) {
      EXPECT_PASSED(from_z, Outcome::hairpinned);
      EXPECT_EQ(source(from_z.packet), ez);
      EXPECT_EQ(destination(from_z.packet), kHost2);
    } else {
      EXPECT_DROPPED(from_z, Outcome::filtered);
    }
  }
}

TEST(NatEngineHairpin, DisabledDropsAndCreatesNoMapping) {
  NatEngine nat(config_for("full-cone"));  // hairpinning defaults to off
  const Endpoint ey = mapped(out(nat, 0ms, kHost2, kA));
  const ByteVector before = udp(kHost, ey);
  const Result r = out(nat, 1ms, kHost, ey);
  EXPECT_DROPPED(r, Outcome::hairpin_disabled);
  EXPECT_EQ(r.packet, before);
  EXPECT_EQ(nat.mapping_count(), 1u);
  EXPECT_EQ(nat.counter(Outcome::hairpin_disabled), 1u);
}

TEST(NatEngineHairpin, UnmappedTargetPort) {
  EngineConfig c = config_for("full-cone");
  c.nat.hairpinning = true;
  NatEngine nat(c);
  EXPECT_DROPPED(out(nat, 0ms, kHost, Endpoint{kOutside, 60001}), Outcome::no_mapping);
}

// ---- ICMP (RFC 4787 REQ-14, RFC 792) ---------------------------------------

// An ICMP error from `router` to `to` quoting `quoted` (an IPv4 packet, cut to
// its header plus `quote_bytes` of payload).
ByteVector icmp_error(std::uint32_t router, std::uint32_t to, std::uint8_t type, std::uint8_t code,
                      const ByteVector& quoted, std::size_t quote_bytes) {
  const std::size_t q = std::min(quoted.size(), ihl(quoted) + quote_bytes);
  ByteVector p(20 + 8 + q, 0);
  p[0] = 0x45;
  wr16(p, 2, static_cast<std::uint16_t>(p.size()));
  p[8] = 64;
  p[9] = kProtoIcmp;
  wr32(p, 12, router);
  wr32(p, 16, to);
  refresh_ip_checksum(p);
  p[20] = type;
  p[21] = code;
  std::copy(quoted.begin(), quoted.begin() + static_cast<std::ptrdiff_t>(q), p.begin() + 28);
  ChecksumAccumulator sum;
  sum.add(Bytes(p).subspan(20));
  wr16(p, 22, sum.finish());
  return p;
}

bool icmp_checksum_valid(const ByteVector& p) {
  ChecksumAccumulator sum;
  sum.add(Bytes(p).subspan(20, rd16(p, 2) - 20));
  return sum.finish() == 0;
}

TEST(NatEngineIcmp, DestinationUnreachableGoesBackToTheInsideHost) {
  for (const std::size_t quote : {std::size_t{8}, kPayload.size() + 8}) {
    SCOPED_TRACE(quote);
    NatEngine nat(config_for("port-restricted-cone"));
    const Result sent = out(nat, 0ms, kHost, kA);
    const Endpoint ext = mapped(sent);
    const std::uint32_t router = ipv4(203, 0, 113, 254);
    const ByteVector error = icmp_error(router, kOutside, 3, 3, sent.packet, quote);
    ASSERT_TRUE(icmp_checksum_valid(error));
    const Result r = in_raw(nat, 1ms, error);
    EXPECT_PASSED(r, Outcome::icmp_translated);
    ASSERT_EQ(r.packet.size(), error.size());
    // Outer header: to the inside host, from the router, checksum valid.
    EXPECT_EQ(rd32(r.packet, 16), kHost.ip);
    EXPECT_EQ(rd32(r.packet, 12), router);
    ChecksumAccumulator outer;
    outer.add(Bytes(r.packet).first(20));
    EXPECT_EQ(outer.finish(), 0);
    // ICMP: type and code kept, checksum valid.
    EXPECT_EQ(r.packet[20], 3);
    EXPECT_EQ(r.packet[21], 3);
    EXPECT_TRUE(icmp_checksum_valid(r.packet));
    // The quoted packet is the host's own, as it sent it: source rewritten
    // back to 192.168.1.10:4000, destination A, header checksum valid.
    const ByteVector inner(r.packet.begin() + 28, r.packet.end());
    EXPECT_EQ(source(inner), kHost);
    EXPECT_EQ(destination(inner), kA);
    ChecksumAccumulator quoted_header;
    quoted_header.add(Bytes(inner).first(20));
    EXPECT_EQ(quoted_header.finish(), 0);
    EXPECT_NE(ext, kHost);  // the test did exercise a rewrite of the address
  }
}

TEST(NatEngineIcmp, TimeExceededIsTranslatedToo) {
  NatEngine nat(config_for("symmetric"));
  const Result sent = out(nat, 0ms, kHost, kB);
  mapped(sent);
  const Result r = in_raw(nat, 1ms, icmp_error(ipv4(203, 0, 113, 9), kOutside, 11, 0, sent.packet, 8));
  EXPECT_PASSED(r, Outcome::icmp_translated);
  EXPECT_EQ(rd32(r.packet, 16), kHost.ip);
  EXPECT_TRUE(icmp_checksum_valid(r.packet));
}

TEST(NatEngineIcmp, Rejections) {
  NatEngine nat(config_for("full-cone"));
  const Result sent = out(nat, 0ms, kHost, kA);
  mapped(sent);
  const std::uint32_t router = ipv4(203, 0, 113, 254);
  // Quoting a port nothing is mapped on.
  ByteVector unmapped = sent.packet;
  wr16(unmapped, 20, 60001);
  EXPECT_DROPPED(in_raw(nat, 1ms, icmp_error(router, kOutside, 3, 3, unmapped, 8)), Outcome::no_mapping);
  // Quoting a packet that did not come from the NAT.
  ByteVector foreign = sent.packet;
  wr32(foreign, 12, ipv4(198, 51, 100, 77));
  EXPECT_DROPPED(in_raw(nat, 1ms, icmp_error(router, kOutside, 3, 3, foreign, 8)), Outcome::not_for_nat);
  // Not an error message (echo request).
  EXPECT_DROPPED(in_raw(nat, 1ms, icmp_error(router, kOutside, 8, 0, sent.packet, 8)),
                 Outcome::unsupported_protocol);
  // The quote is too short for the UDP ports (4 bytes of UDP header).
  EXPECT_DROPPED(in_raw(nat, 1ms, icmp_error(router, kOutside, 3, 3, sent.packet, 4)), Outcome::malformed);
  // An ICMP message shorter than its 8-byte header.
  ByteVector tiny = icmp_error(router, kOutside, 3, 3, sent.packet, 8);
  tiny.resize(24);
  wr16(tiny, 2, 24);
  refresh_ip_checksum(tiny);
  EXPECT_DROPPED(in_raw(nat, 1ms, tiny), Outcome::malformed);
  // Addressed to another host.
  EXPECT_DROPPED(in_raw(nat, 1ms, icmp_error(router, ipv4(198, 51, 100, 2), 3, 3, sent.packet, 8)),
                 Outcome::not_for_nat);
  EXPECT_EQ(nat.counter(Outcome::icmp_translated), 0u);
}

// ---- drops -----------------------------------------------------------------

TEST(NatEngineDrops, Malformed) {
  NatEngine nat(config_for("full-cone"));
  mapped(out(nat, 0ms, kHost, kA));
  const ByteVector good_out = udp(kHost, kA);
  const ByteVector good_in = udp(kA, Endpoint{kOutside, kHost.port});
  struct Mutation {
    const char* what;
    void (*apply)(ByteVector&);
  };
  const Mutation mutations[] = {
      {"empty", [](ByteVector& p) { p.clear(); }},
      {"truncated header (19 bytes)", [](ByteVector& p) { p.resize(19); }},
      {"IPv6 version", [](ByteVector& p) { p[0] = 0x65; }},
      {"IHL 4 (16-byte header)", [](ByteVector& p) { p[0] = 0x44; }},
      {"IHL 15 beyond the total length", [](ByteVector& p) { p[0] = 0x4F; }},
      {"total length beyond the buffer", [](ByteVector& p) { wr16(p, 2, static_cast<std::uint16_t>(p.size() + 1)); }},
      {"total length below the header", [](ByteVector& p) { wr16(p, 2, 19); }},
      {"UDP header cut by the total length", [](ByteVector& p) { wr16(p, 2, 24); }},
      {"UDP length below 8", [](ByteVector& p) { wr16(p, 24, 7); }},
      {"UDP length beyond the packet",
       [](ByteVector& p) { wr16(p, 24, static_cast<std::uint16_t>(p.size() - 20 + 1)); }},
  };
  std::uint64_t expected = 0;
  for (const auto& m : mutations) {
    SCOPED_TRACE(m.what);
    ByteVector o = good_out, i = good_in;
    m.apply(o);
    m.apply(i);
    const ByteVector o_before = o, i_before = i;
    const Result ro = out_raw(nat, 1ms, o);
    const Result ri = in_raw(nat, 1ms, i);
    EXPECT_DROPPED(ro, Outcome::malformed);
    EXPECT_DROPPED(ri, Outcome::malformed);
    EXPECT_EQ(ro.packet, o_before);
    EXPECT_EQ(ri.packet, i_before);
    expected += 2;
  }
  EXPECT_EQ(nat.counter(Outcome::malformed), expected);
  EXPECT_EQ(nat.mapping_count(), 1u);  // no malformed packet created a mapping
}

TEST(NatEngineDrops, Fragments) {
  NatEngine nat(config_for("full-cone"));
  mapped(out(nat, 0ms, kHost, kA));
  const struct {
    const char* what;
    std::uint16_t field;
    bool fragment;
  } cases[] = {
      {"more fragments", 0x2000, true},
      {"offset 8 bytes", 0x0001, true},
      {"last fragment, offset", 0x1FFF, true},
      {"don't fragment only", 0x4000, false},  // DF is not a fragment
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ByteVector o = udp(kHost, kA), i = udp(kA, Endpoint{kOutside, kHost.port});
    wr16(o, 6, c.field);
    wr16(i, 6, c.field);
    refresh_ip_checksum(o);
    refresh_ip_checksum(i);
    const Result ro = out_raw(nat, 1ms, o), ri = in_raw(nat, 1ms, i);
    if (c.fragment) {
      EXPECT_DROPPED(ro, Outcome::fragment);
      EXPECT_DROPPED(ri, Outcome::fragment);
    } else {
      EXPECT_PASSED(ro, Outcome::translated);
      EXPECT_PASSED(ri, Outcome::translated);
      EXPECT_EQ(rd16(ro.packet, 6), 0x4000);
      EXPECT_TRUE(checksums_valid(ro.packet));
      EXPECT_TRUE(checksums_valid(ri.packet));
    }
  }
  EXPECT_EQ(nat.counter(Outcome::fragment), 6u);
}

TEST(NatEngineDrops, NonUdp) {
  NatEngine nat(config_for("full-cone"));
  mapped(out(nat, 0ms, kHost, kA));
  for (const std::uint8_t proto : {kProtoTcp, std::uint8_t{47}, kProtoIcmp}) {
    SCOPED_TRACE(static_cast<int>(proto));
    ByteVector o = udp(kHost, kA);
    o[9] = proto;
    refresh_ip_checksum(o);
    EXPECT_DROPPED(out_raw(nat, 1ms, o), Outcome::unsupported_protocol);
    if (proto != kProtoIcmp) {  // inbound ICMP has its own path (above)
      ByteVector i = udp(kA, Endpoint{kOutside, kHost.port});
      i[9] = proto;
      refresh_ip_checksum(i);
      EXPECT_DROPPED(in_raw(nat, 1ms, i), Outcome::unsupported_protocol);
    }
  }
  EXPECT_EQ(nat.counter(Outcome::unsupported_protocol), 5u);
}

TEST(NatEngineDrops, NotForTheNat) {
  NatEngine nat(config_for("full-cone"));
  mapped(out(nat, 0ms, kHost, kA));
  const Result r = in(nat, 1ms, kA, Endpoint{ipv4(198, 51, 100, 2), kHost.port});
  EXPECT_DROPPED(r, Outcome::not_for_nat);
  EXPECT_EQ(nat.counter(Outcome::not_for_nat), 1u);
}

// ---- counters ------------------------------------------------------------------

TEST(NatEngineCounters, EachOutcomeIsCountedOnce) {
  EngineConfig c = config_for("port-restricted-cone");
  c.first_port = 5000;
  c.last_port = 5001;
  c.nat.hairpinning = true;
  NatEngine nat(c);
  const Endpoint x{kHost.ip, 5000}, y{kHost2.ip, 5001};
  std::uint64_t calls = 0;
  const auto o = [&](Time t, const Endpoint& from, const Endpoint& to) {
    ++calls;
    return out(nat, t, from, to);
  };
  const auto i = [&](Time t, const Endpoint& from, const Endpoint& to) {
    ++calls;
    return in(nat, t, from, to);
  };
  const Result sent = o(0ms, x, kA);                           // translated
  o(0ms, y, kA);                                               // translated
  i(1ms, kA, Endpoint{kOutside, 5000});                        // translated
  i(1ms, kB, Endpoint{kOutside, 5000});                        // filtered
  i(1ms, kA, Endpoint{kOutside, 6000});                        // no_mapping
  i(1ms, kA, Endpoint{ipv4(198, 51, 100, 9), 5000});           // not_for_nat
  o(1ms, Endpoint{ipv4(192, 168, 1, 12), 7}, kA);             // ports_exhausted
  o(1ms, y, Endpoint{kOutside, 5000});                         // filtered (x sent nothing to y)
  o(1ms, x, Endpoint{kOutside, 5001});                         // hairpinned (y just sent to x)
  ByteVector frag = udp(x, kA);
  wr16(frag, 6, 0x2000);
  ++calls;
  out_raw(nat, 1ms, frag);                                     // fragment
  ByteVector tcp = udp(x, kA);
  tcp[9] = kProtoTcp;
  ++calls;
  out_raw(nat, 1ms, tcp);                                      // unsupported_protocol
  ++calls;
  out_raw(nat, 1ms, ByteVector(10, 0x45));                     // malformed
  ++calls;
  in_raw(nat, 1ms, icmp_error(ipv4(203, 0, 113, 254), kOutside, 3, 3, sent.packet, 8));  // icmp_translated
  nat.blackout(2ms, 1ms);
  o(2ms, x, kA);                                               // blackout
  EngineConfig no_hairpin = c;
  no_hairpin.nat.hairpinning = false;
  NatEngine other(no_hairpin);
  out(other, 0ms, x, Endpoint{kOutside, 5001});
  EXPECT_EQ(other.counter(Outcome::hairpin_disabled), 1u);

  const std::pair<Outcome, std::uint64_t> expected[] = {
      {Outcome::translated, 3},       {Outcome::hairpinned, 1},   {Outcome::icmp_translated, 1},
      {Outcome::malformed, 1},        {Outcome::fragment, 1},     {Outcome::unsupported_protocol, 1},
      {Outcome::blackout, 1},         {Outcome::hairpin_disabled, 0}, {Outcome::no_mapping, 1},
      {Outcome::filtered, 2},         {Outcome::not_for_nat, 1},  {Outcome::ports_exhausted, 1},
  };
  std::uint64_t total = 0;
  for (const auto& [outcome, n] : expected) {
    EXPECT_EQ(nat.counter(outcome), n) << to_string(outcome);
    total += n;
  }
  EXPECT_EQ(total, calls);
  EXPECT_EQ(static_cast<std::size_t>(Outcome::count_), std::size(expected));
}

TEST(NatEngineCounters, OutcomeNames) {
  EXPECT_STREQ(to_string(Outcome::translated), "translated");
  EXPECT_STREQ(to_string(Outcome::ports_exhausted), "ports_exhausted");
  EXPECT_STREQ(to_string(Outcome::hairpin_disabled), "hairpin_disabled");
  EXPECT_EQ(to_string(Endpoint{ipv4(198, 51, 100, 1), 3544}), "198.51.100.1:3544");
}

// ---- static port mappings (a UPnP IGD's AddPortMapping) -----------------------

// Any remote reaches a forwarded port, whatever the profile's filtering: that
// is what RFC 6081 §5.3.3 relies on ("any external host should be able to
// send packets to the Teredo client by sending packets to the mapped
// address/port").
TEST(NatEnginePortMapping, EveryRemoteReachesTheForwardedPortInEveryProfile) {
  for (const char* profile : {"full-cone", "restricted-cone", "port-restricted-cone", "symmetric"}) {
    SCOPED_TRACE(profile);
    NatEngine nat(config_for(profile));
    ASSERT_EQ(nat.add_port_mapping(0ms, 40000, kHost), PortMappingResult::ok);
    for (const Endpoint& remote : {kA, kAPrime, kB}) {
      const Result r = in(nat, 1ms, remote, Endpoint{kOutside, 40000});
      EXPECT_PASSED(r, Outcome::translated);
      EXPECT_EQ(destination(r.packet), kHost);
      EXPECT_EQ(source(r.packet), remote);
      EXPECT_TRUE(checksums_valid(r.packet));
    }
    // Another port stays closed.
    EXPECT_DROPPED(in(nat, 1ms, kA, Endpoint{kOutside, 40001}), Outcome::no_mapping);
  }
}

TEST(NatEnginePortMapping, EveryProfileSendsANewFlowFromTheForwardedPort) {
  // A cone NAT has one mapping per host endpoint: the forward is that mapping.
  NatEngine cone(config_for("port-restricted-cone"));
  const Endpoint host{kHost.ip, 40000};
  ASSERT_EQ(cone.add_port_mapping(0ms, 40000, host), PortMappingResult::ok);
  EXPECT_EQ(mapped(out(cone, 1ms, host, kA)), (Endpoint{kOutside, 40000}));
  EXPECT_EQ(mapped(out(cone, 1ms, host, kB)), (Endpoint{kOutside, 40000}));
  EXPECT_EQ(cone.mapping_count(), 1u);
  // RFC 6081 §3.2's UPnP-enabled symmetric NAT: the forward is every
  // destination's mapping ("the Teredo server reflects back the reserved
  // mapped address/port"), so two servers see the same port; another port of
  // the host is still mapped per destination.
  for (const char* profile : {"symmetric", "symmetric-sequential"}) {
    SCOPED_TRACE(profile);
    NatEngine symmetric(config_for(profile));
    ASSERT_EQ(symmetric.add_port_mapping(0ms, 40000, host), PortMappingResult::ok);
    EXPECT_EQ(mapped(out(symmetric, 1ms, host, kA)), (Endpoint{kOutside, 40000}));
    EXPECT_EQ(mapped(out(symmetric, 1ms, host, kB)), (Endpoint{kOutside, 40000}));
    EXPECT_EQ(symmetric.mapping_count(), 1u);
    const Endpoint other{kHost.ip, 40001};
    EXPECT_NE(mapped(out(symmetric, 1ms, other, kA)).port, mapped(out(symmetric, 1ms, other, kB)).port);
    // Deleted, the forward maps nothing any more: new flows are mapped per
    // destination again.
    ASSERT_EQ(symmetric.delete_port_mapping(40000), PortMappingResult::ok);
    const Endpoint prime{kA.ip, static_cast<std::uint16_t>(kA.port + 100)};
    EXPECT_NE(mapped(out(symmetric, 2ms, host, prime)).port, mapped(out(symmetric, 2ms, host, kB)).port);
  }
}

TEST(NatEnginePortMapping, ConflictsDeletionAndPermanence) {
  NatEngine nat(config_for("symmetric"));
  ASSERT_EQ(nat.add_port_mapping(0ms, 40000, kHost), PortMappingResult::ok);
  EXPECT_EQ(nat.add_port_mapping(0ms, 40000, kHost), PortMappingResult::ok);  // the same again
  EXPECT_EQ(nat.add_port_mapping(0ms, 40000, kHost2), PortMappingResult::conflict);
  EXPECT_EQ(nat.add_port_mapping(0ms, 40001, Endpoint{kInside, 9}), PortMappingResult::bad_internal_client);
  // A dynamic mapping's port is not the IGD's to give away.
  const Endpoint dynamic = mapped(out(nat, 0ms, kHost2, kA));
  EXPECT_EQ(nat.add_port_mapping(0ms, dynamic.port, kHost), PortMappingResult::conflict);
  // Lease 0: neither idleness, nor expire, nor rebind removes or moves it.
  EXPECT_EQ(nat.expire_idle(std::chrono::hours(1)), 1u);  // only the dynamic one
  EXPECT_EQ(nat.expire_all(), 0u);
  EXPECT_EQ(nat.rebind(std::chrono::hours(1)), 0u);
  EXPECT_PASSED(in(nat, std::chrono::hours(2), kB, Endpoint{kOutside, 40000}), Outcome::translated);
  const auto views = nat.mappings();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_TRUE(views[0].port_mapping);
  EXPECT_EQ(views[0].internal, kHost);
  EXPECT_EQ(nat.delete_port_mapping(40000), PortMappingResult::ok);
  EXPECT_EQ(nat.delete_port_mapping(40000), PortMappingResult::no_such_entry);
  EXPECT_DROPPED(in(nat, std::chrono::hours(2), kB, Endpoint{kOutside, 40000}), Outcome::no_mapping);
}

TEST(NatEnginePortMapping, ConeForwardReplacesTheHostsDynamicMapping) {
  NatEngine nat(config_for("port-restricted-cone"));
  const Endpoint before = mapped(out(nat, 0ms, kHost, kA));
  ASSERT_EQ(nat.add_port_mapping(0ms, 40000, kHost), PortMappingResult::ok);
  EXPECT_EQ(nat.mapping_count(), 1u);
  EXPECT_EQ(mapped(out(nat, 1ms, kHost, kA)), (Endpoint{kOutside, 40000}));
  EXPECT_DROPPED(in(nat, 1ms, kA, before), Outcome::no_mapping);
  // Deleted, the host's next packet gets a dynamic mapping again.
  ASSERT_EQ(nat.delete_port_mapping(40000), PortMappingResult::ok);
  EXPECT_EQ(nat.mapping_count(), 0u);
  mapped(out(nat, 2ms, kHost, kA));
  EXPECT_EQ(nat.mapping_count(), 1u);
}

TEST(NatEnginePortMapping, TrafficToTheNatItselfIsNotTranslated) {
  NatEngine nat(config_for("full-cone"));
  EXPECT_DROPPED(out(nat, 0ms, kHost, Endpoint{kInside, 5000}), Outcome::not_for_nat);
  EXPECT_EQ(nat.mapping_count(), 0u);
}

}  // namespace
}  // namespace teredo::nat
