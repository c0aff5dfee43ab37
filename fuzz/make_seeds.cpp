// Writes the seed inputs of every fuzz target, built with our own encoders:
//   teredo_fuzz_make_seeds <out-dir>   ->  <out-dir>/<target>/<name>
// fuzz/corpus/ holds its output (regenerate with the command in README.md);
// CTest also runs it into the build tree, so the seeds follow the builders.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "state_harness.hpp"
#include "teredo/wire/wire.hpp"

using namespace teredo::wire;
namespace fs = std::filesystem;

namespace {

fs::path g_out;
int g_count = 0;

void write(std::string_view target, std::string_view name, Bytes bytes) {
  const fs::path dir = g_out / target;
  fs::create_directories(dir);
  std::ofstream file(dir / name, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!file) throw std::runtime_error("cannot write " + (dir / name).string());
  ++g_count;
}
void write_text(std::string_view target, std::string_view name, std::string_view text) {
  write(target, name, Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Ipv6Address v6(std::string_view text) { return parse_ipv6(text).value(); }
Bytes text_bytes(std::string_view text) {
  return Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

// The RFC 4380 §4 example: server 65.54.227.120, client 192.0.2.45:40000, cone.
TeredoAddress example_client() {
  TeredoAddress t;
  t.server = Ipv4Address::from_octets(65, 54, 227, 120);
  t.flags = kFlagCone;
  t.mapped_port = 40000;
  t.mapped_ipv4 = Ipv4Address::from_octets(192, 0, 2, 45);
  return t;
}
TeredoAddress example_peer() {
  TeredoAddress t;
  t.server = Ipv4Address::from_octets(198, 51, 100, 1);
  t.flags = make_teredo_flags(false, 0x1234);
  t.mapped_port = 3544;
  t.mapped_ipv4 = Ipv4Address::from_octets(203, 0, 113, 77);
  return t;
}

const Ipv6Address kClientLinkLocal = v6("fe80::8000:ffff:ffff:fffe");
const Ipv6Address kServerLinkLocal = v6("fe80::8000:f227:bec4:b1b4");
const Ipv6Address kAllRouters = v6("ff02::2");
constexpr Nonce kNonce = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

ByteVector ra_options(Ipv4Address server, bool with_mtu, bool with_slla, int prefixes, bool unknown) {
  ByteVector o;
  for (int i = 0; i < prefixes; ++i) {
    PrefixInformation pi;
    pi.prefix = teredo_prefix(server);
    pi.flags = i == 0 ? 0x80 : 0xC0;
    append_prefix_information_option(o, pi);
  }
  if (with_mtu) append_mtu_option(o, 1280);
  if (with_slla) {
    const std::uint8_t mac[] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
    append_source_link_layer_option(o, mac);
  }
  if (unknown) {
    const std::uint8_t route_info[] = {24, 1, 0, 0, 0, 0, 0, 0};  // RFC 4191 type 24, unknown to us
    o.insert(o.end(), std::begin(route_info), std::end(route_info));
  }
  return o;
}

ByteVector router_advertisement(const ByteVector& options) {
  RouterAdvertisement ra;
  ra.cur_hop_limit = 0;
  ra.router_lifetime = 1800;
  return build_router_advertisement(kServerLinkLocal, kClientLinkLocal, ra, options);
}

ByteVector datagram(std::optional<AuthenticationFields> auth, std::optional<OriginIndication> origin,
                    Bytes packet, Bytes trailer = {}) {
  ByteVector out;
  if (!append_datagram(out, auth, origin, packet, trailer)) throw std::runtime_error("append_datagram");
  return out;
}

ByteVector udp_in_ipv6(const Ipv6Address& source, const Ipv6Address& destination, std::uint16_t sport,
                       std::uint16_t dport, Bytes payload, bool extension_headers) {
  ByteVector udp;
  ByteWriter w(udp);
  w.u16(sport);
  w.u16(dport);
  w.u16(static_cast<std::uint16_t>(8 + payload.size()));
  w.u16(0);
  w.bytes(payload);
  Ipv6Header h;
  h.source = source;
  h.destination = destination;
  h.hop_limit = 64;
  if (!extension_headers) {
    h.next_header = kNextHeaderUdp;
    return build_ipv6_packet(h, udp);
  }
  // hop-by-hop (PadN) then a first fragment header, then UDP
  h.next_header = 0;
  ByteVector chain = {44, 0, 1, 4, 0, 0, 0, 0, kNextHeaderUdp, 0, 0x00, 0x01, 0, 0, 0, 42};
  chain.insert(chain.end(), udp.begin(), udp.end());
  return build_ipv6_packet(h, chain);
}

ByteVector gtp_u(Bytes inner) {
  ByteVector g;
  ByteWriter w(g);
  w.u8(0x30);  // version 1, PT=1, no optional fields
  w.u8(0xFF);  // T-PDU
  w.u16(static_cast<std::uint16_t>(inner.size()));
  w.u32(0x00000001);  // TEID
  w.bytes(inner);
  return g;
}

ByteVector with_link(std::uint8_t pick, Bytes header, Bytes ip) {
  ByteVector out = {pick};
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), ip.begin(), ip.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <out-dir>\n", argv[0]);
    return 2;
  }
  g_out = argv[1];

  const TeredoAddress client = example_client();
  const TeredoAddress peer = example_peer();
  const Ipv6Address client6 = client.to_ipv6();
  const Ipv6Address peer6 = peer.to_ipv6();

  // --- IPv6 packets Teredo carries ---
  const ByteVector rs = build_router_solicitation(kClientLinkLocal, kAllRouters, {});
  const ByteVector ra = router_advertisement(ra_options(client.server, false, false, 1, false));
  const ByteVector ra_full = router_advertisement(ra_options(client.server, true, true, 1, false));
  const ByteVector ra_odd = router_advertisement(ra_options(client.server, true, false, 2, true));
  const ByteVector bubble = build_bubble(client6, peer6);
  const std::uint8_t echo_data[] = {'t', 'e', 'r', 'e', 'd', 'o', '-', 'p', 'i', 'n', 'g', 0};
  const ByteVector echo_request = build_echo(client6, v6("2001:db8::1"), 21, EchoMessage{false, 0x1234, 1, echo_data});
  const ByteVector echo_reply = build_echo(v6("2001:db8::1"), client6, 59, EchoMessage{true, 0x1234, 1, echo_data});
  Ipv6Header data_header;
  data_header.next_header = 6;  // TCP: data the relay just forwards
  data_header.hop_limit = 64;
  data_header.traffic_class = 0x20;
  data_header.flow_label = 0xBEEF;
  data_header.source = client6;
  data_header.destination = peer6;
  const std::uint8_t tcp_syn[] = {0xc0, 0x01, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0x00, 0, 0, 0, 0};
  const ByteVector data_packet = build_ipv6_packet(data_header, tcp_syn);

  const AuthenticationFields plain_auth{{}, {}, kNonce, 0};
  const std::uint8_t client_id[] = {'c', 'l', 'i', 'e', 'n', 't', '-', '1'};
  const OriginIndication origin{client.mapped_port, client.mapped_ipv4};
  ByteVector origin_bytes;
  append_origin_indication(origin_bytes, origin);
  const auto mac = compute_authentication_value(MacAlgorithm::hmac_sha1, teredo::fuzz::kFuzzSecret, kNonce, 1,
                                                origin_bytes, ra);
  if (!mac) throw std::runtime_error("HMAC unavailable");
  const AuthenticationFields signed_auth{client_id, mac->view(), kNonce, 1};

  // --- fuzz_datagram: UDP payloads ---
  const ByteVector dg_rs_auth = datagram(plain_auth, std::nullopt, rs);
  const ByteVector dg_ra_origin = datagram(plain_auth, origin, ra_full);
  const ByteVector dg_ra_signed = datagram(signed_auth, origin, ra);
  write("fuzz_datagram", "rs-auth", dg_rs_auth);
  write("fuzz_datagram", "ra-auth-origin-options", dg_ra_origin);
  write("fuzz_datagram", "ra-signed", dg_ra_signed);
  write("fuzz_datagram", "ra-odd-options", datagram(std::nullopt, origin, ra_odd));
  write("fuzz_datagram", "bubble", bubble);
  write("fuzz_datagram", "bubble-origin", datagram(std::nullopt, origin, bubble));
  write("fuzz_datagram", "bubble-trailer", datagram(std::nullopt, std::nullopt, bubble, text_bytes("1234")));
  write("fuzz_datagram", "echo-request", echo_request);
  write("fuzz_datagram", "echo-reply-origin", datagram(std::nullopt, origin, echo_reply));
  write("fuzz_datagram", "data-tcp", data_packet);

  // --- fuzz_encapsulation ---
  ByteVector enc;
  (void)append_authentication(enc, plain_auth);
  write("fuzz_encapsulation", "auth-plain", enc);
  enc.clear();
  (void)append_authentication(enc, signed_auth);
  write("fuzz_encapsulation", "auth-signed", enc);
  write("fuzz_encapsulation", "origin", origin_bytes);
  write("fuzz_encapsulation", "auth-then-origin", Bytes(dg_ra_origin).first(kAuthenticationFixedSize + 8));

  // --- fuzz_nd_options and fuzz_icmpv6_echo: ICMPv6 messages ---
  const auto icmp = [](const ByteVector& packet) { return Bytes(packet).subspan(kIpv6HeaderSize); };
  write("fuzz_nd_options", "rs", icmp(rs));
  {
    ByteVector slla;
    const std::uint8_t mac_address[] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x02};
    append_source_link_layer_option(slla, mac_address);
    write("fuzz_nd_options", "rs-slla", icmp(build_router_solicitation(kClientLinkLocal, kAllRouters, slla)));
  }
  write("fuzz_nd_options", "ra", icmp(ra));
  write("fuzz_nd_options", "ra-mtu-slla", icmp(ra_full));
  write("fuzz_nd_options", "ra-two-prefixes-unknown", icmp(ra_odd));
  write("fuzz_nd_options", "options-only", ra_options(client.server, true, true, 1, true));
  write("fuzz_icmpv6_echo", "request", icmp(echo_request));
  write("fuzz_icmpv6_echo", "reply", icmp(echo_reply));
  write("fuzz_icmpv6_echo", "request-empty",
        icmp(build_echo(client6, peer6, 64, EchoMessage{false, 0, 0, {}})));

  // --- fuzz_address_text ---
  write_text("fuzz_address_text", "teredo-rfc4380", to_string(client6));
  write_text("fuzz_address_text", "teredo-rfc5991", to_string(peer6));
  write_text("fuzz_address_text", "teredo-long", "2001:0000:4136:e378:8000:63bf:3fff:fdd2");
  write_text("fuzz_address_text", "ipv4", "192.0.2.45");
  write_text("fuzz_address_text", "ipv4-mapped", "::ffff:192.0.2.45");
  write_text("fuzz_address_text", "link-local", "fe80::8000:ffff:ffff:fffe");
  write_text("fuzz_address_text", "loopback", "::1");
  write_text("fuzz_address_text", "hex", "0x00 01 00:00 60");
  // Regressions: a NUL inside the text once ended it early (fuzz/README.md).
  write_text("fuzz_address_text", "regress-nul-ipv6", std::string_view("::\0" "0", 4));
  write_text("fuzz_address_text", "regress-nul-ipv4", std::string_view("192.0.2.1\0xyz", 13));

  // --- fuzz_address_binary: 16 address bytes, cone byte, 16 random bits ---
  const auto binary = [](const Ipv6Address& a, std::uint8_t cone, std::uint16_t random) {
    ByteVector out(a.bytes.begin(), a.bytes.end());
    out.push_back(cone);
    out.push_back(static_cast<std::uint8_t>(random >> 8));
    out.push_back(static_cast<std::uint8_t>(random));
    return out;
  };
  write("fuzz_address_binary", "teredo-cone", binary(client6, 1, 0xFFFF));
  write("fuzz_address_binary", "teredo-random", binary(peer6, 0, 0x1234));
  write("fuzz_address_binary", "not-teredo", binary(v6("2001:db8::1"), 0, 0));

  // --- fuzz_frame: link-type index byte (fuzz_common.hpp kLinkTypes), frame ---
  Ipv4UdpEndpoints endpoints;
  endpoints.source = client.mapped_ipv4;
  endpoints.source_port = client.mapped_port;
  endpoints.destination = client.server;
  endpoints.destination_port = kUdpPortTeredo;
  const ByteVector ip_rs = build_ipv4_udp(endpoints, dg_rs_auth);
  const ByteVector ip_bubble = build_ipv4_udp(endpoints, bubble);
  const ByteVector ethernet = build_ethernet_ipv4_udp(endpoints, dg_ra_origin);
  write("fuzz_frame", "ethernet", with_link(1, {}, ethernet));
  {
    ByteVector vlan(ethernet.begin(), ethernet.begin() + 12);
    const std::uint8_t tags[] = {0x88, 0xA8, 0x00, 0x0A, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00};
    vlan.insert(vlan.end(), std::begin(tags), std::end(tags));
    vlan.insert(vlan.end(), ethernet.begin() + 14, ethernet.end());
    write("fuzz_frame", "ethernet-qinq", with_link(1, {}, vlan));
  }
  write("fuzz_frame", "raw-ipv4", with_link(2, {}, ip_rs));
  write("fuzz_frame", "ipv4", with_link(5, {}, ip_bubble));
  const std::uint8_t null_v4[] = {2, 0, 0, 0};     // AF_INET, little-endian writer
  const std::uint8_t loop_v6[] = {0, 0, 0, 24};    // AF_INET6 (BSD), network order
  write("fuzz_frame", "null-ipv4", with_link(0, null_v4, ip_bubble));
  const ByteVector ip6_carrier = udp_in_ipv6(v6("2001:db8::10"), v6("2001:db8::20"), 51000, kUdpPortTeredo,
                                             bubble, false);
  write("fuzz_frame", "loop-ipv6", with_link(3, loop_v6, ip6_carrier));
  const std::uint8_t sll[] = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};
  write("fuzz_frame", "linux-sll", with_link(4, sll, ip_rs));
  const std::uint8_t sll2[] = {0x86, 0xDD, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
  write("fuzz_frame", "linux-sll2-ipv6-ext",
        with_link(7, sll2, udp_in_ipv6(v6("2001:db8::10"), v6("2001:db8::20"), 51000, kUdpPortTeredo,
                                       dg_rs_auth, true)));
  write("fuzz_frame", "ipv6", with_link(6, {}, ip6_carrier));
  {
    Ipv4UdpEndpoints outer;
    outer.source = Ipv4Address::from_octets(198, 51, 100, 10);
    outer.source_port = kUdpPortGtpU;
    outer.destination = Ipv4Address::from_octets(198, 51, 100, 20);
    outer.destination_port = kUdpPortGtpU;
    write("fuzz_frame", "gtp-u", with_link(1, {}, build_ethernet_ipv4_udp(outer, gtp_u(ip_rs))));
  }

  // --- the stateful targets: event sequences (state_seeds.cpp) ---
  for (const auto& seed : teredo::fuzz::state::server_state_seeds()) write("fuzz_server_state", seed.name, seed.input);
  for (const auto& seed : teredo::fuzz::state::relay_state_seeds()) write("fuzz_relay_state", seed.name, seed.input);
  for (const auto& seed : teredo::fuzz::state::client_state_seeds()) write("fuzz_client_state", seed.name, seed.input);

  std::printf("make_seeds: %d seeds written under %s\n", g_count, g_out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "make_seeds: %s\n", e.what());
  return 1;
}
