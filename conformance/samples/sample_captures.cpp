#include "samples/sample_captures.hpp"

#include "capture/pcap_file.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::samples {

using namespace teredo::wire;

namespace {

// Documentation addresses only (RFC 5737, RFC 3849).
const Ipv4Address kServerPrimary = Ipv4Address::from_octets(203, 0, 113, 1);
const Ipv4Address kServerSecondary = Ipv4Address::from_octets(203, 0, 113, 2);
const Ipv4Address kClientA = Ipv4Address::from_octets(198, 51, 100, 7);
const Ipv4Address kClientB = Ipv4Address::from_octets(198, 51, 100, 9);
const Ipv4Address kRelay = Ipv4Address::from_octets(192, 0, 2, 10);
constexpr std::uint16_t kPortA = 40000;
constexpr std::uint16_t kPortB = 50000;
constexpr std::uint16_t kRelayPort = 3545;
constexpr std::int64_t kStartUs = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

Ipv6Address v6(std::string_view text) { return parse_ipv6(text).value(); }
Bytes as_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

class Builder {
 public:
  void add(std::string description, Ipv4UdpEndpoints e, ByteVector payload) {
    e.identification = static_cast<std::uint16_t>(0x1000 + frames_.size());
    SampleFrame f;
    f.timestamp_us = kStartUs + static_cast<std::int64_t>(frames_.size()) * 50000;
    f.description = std::move(description);
    f.frame = build_ethernet_ipv4_udp(e, payload);
    f.udp_payload = std::move(payload);
    frames_.push_back(std::move(f));
  }
  std::vector<SampleFrame> take() { return std::move(frames_); }

 private:
  std::vector<SampleFrame> frames_;
};

ByteVector datagram(const std::optional<AuthenticationFields>& auth,
                    const std::optional<OriginIndication>& origin, Bytes ipv6) {
  ByteVector out;
  append_datagram(out, auth, origin, ipv6);
  return out;
}

ByteVector teredo_ra(const Ipv6Address& source, const Ipv6Address& destination, Ipv4Address server) {
  ByteVector options;
  append_prefix_information_option(options, PrefixInformation{.prefix_length = 64,
                                                              .flags = 0x00,
                                                              .valid_lifetime = 0xFFFFFFFF,
                                                              .preferred_lifetime = 0xFFFFFFFF,
                                                              .prefix = teredo_prefix(server)});
  append_mtu_option(options, 1280);
  RouterAdvertisement ra;
  ra.router_lifetime = 0;
  ra.reachable_time = 0;
  ra.retrans_timer = 2000;
  return build_router_advertisement(source, destination, ra, options);
}

}  // namespace

std::vector<SampleFrame> lifecycle_frames() {
  Builder b;
  const Ipv6Address all_routers = v6("ff02::2");
  const Ipv6Address server_ll = v6("fe80::8000:5445:5245:444f");
  const Ipv6Address client_cone_ll = v6("fe80::8000:ffff:ffff:fffd");
  const Ipv6Address client_ll = v6("fe80::ffff:ffff:fffd");
  const OriginIndication origin_a{kPortA, kClientA};
  const Ipv4UdpEndpoints a_to_primary{kClientA, kPortA, kServerPrimary, kUdpPortTeredo};
  const Ipv4UdpEndpoints primary_to_a{kServerPrimary, kUdpPortTeredo, kClientA, kPortA};
  const Ipv4UdpEndpoints secondary_to_a{kServerSecondary, kUdpPortTeredo, kClientA, kPortA};

  // §5.2.1 with the cone bit set (RFC 4380 behaviour): the server answers a
  // cone RS from its secondary address.
  const Nonce n1 = {0x4e, 0x6f, 0x6e, 0x63, 0x65, 0x2d, 0x30, 0x31};
  b.add("RS, cone bit set, nonce", a_to_primary,
        datagram(AuthenticationFields{.nonce = n1}, std::nullopt,
                 build_router_solicitation(client_cone_ll, all_routers, {})));
  b.add("RA from the secondary address, nonce echoed, origin indication", secondary_to_a,
        datagram(AuthenticationFields{.nonce = n1}, origin_a,
                 teredo_ra(server_ll, client_cone_ll, kServerPrimary)));

  // RFC 5991 §3: the cone bit clear, answered from the primary address.
  const Nonce n2 = {0x4e, 0x6f, 0x6e, 0x63, 0x65, 0x2d, 0x30, 0x32};
  ByteVector slla;
  const std::uint8_t mac[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
  append_source_link_layer_option(slla, mac);
  b.add("RS, cone bit clear, source link-layer option", a_to_primary,
        datagram(AuthenticationFields{.nonce = n2}, std::nullopt,
                 build_router_solicitation(client_ll, all_routers, slla)));
  b.add("RA from the primary address", primary_to_a,
        datagram(AuthenticationFields{.nonce = n2}, origin_a,
                 teredo_ra(server_ll, client_ll, kServerPrimary)));

  // §5.2.2 secure qualification: client id and HMAC-SHA1 authentication value.
  const Nonce n3 = {0x4e, 0x6f, 0x6e, 0x63, 0x65, 0x2d, 0x30, 0x33};
  const Bytes secret = as_bytes(kSampleSecret);
  const ByteVector rs = build_router_solicitation(client_ll, all_routers, {});
  const auto rs_mac = compute_authentication_value(MacAlgorithm::hmac_sha1, secret, n3, 0, {}, rs);
  b.add("RS with client identifier and HMAC-SHA1 value", a_to_primary,
        datagram(AuthenticationFields{.client_id = as_bytes(kSampleClientId),
                                      .authentication_value = rs_mac->view(),
                                      .nonce = n3,
                                      .confirmation = 0},
                 std::nullopt, rs));
  const ByteVector ra = teredo_ra(server_ll, client_ll, kServerPrimary);
  ByteVector origin_bytes;
  append_origin_indication(origin_bytes, origin_a);
  // Confirmation 1: "the client should obtain a new key" (§5.2.2).
  const auto ra_mac =
      compute_authentication_value(MacAlgorithm::hmac_sha1, secret, n3, 1, origin_bytes, ra);
  b.add("RA with client identifier, HMAC-SHA1 value, confirmation 1", primary_to_a,
        datagram(AuthenticationFields{.client_id = as_bytes(kSampleClientId),
                                      .authentication_value = ra_mac->view(),
                                      .nonce = n3,
                                      .confirmation = 1},
                 origin_a, ra));

  // §5.2.4: bubbles between two clients, direct and through B's server.
  const TeredoAddress ta{kServerPrimary, make_teredo_flags(false, 0x1234), kPortA, kClientA};
  const TeredoAddress tb{kServerPrimary, make_teredo_flags(false, 0x0a5a), kPortB, kClientB};
  b.add("direct bubble A to B", Ipv4UdpEndpoints{kClientA, kPortA, kClientB, kPortB},
        build_bubble(ta.to_ipv6(), tb.to_ipv6()));
  b.add("indirect bubble A to B through the server", a_to_primary,
        build_bubble(ta.to_ipv6(), tb.to_ipv6()));
  b.add("server forwards the bubble to B with A's origin", Ipv4UdpEndpoints{kServerPrimary, kUdpPortTeredo, kClientB, kPortB},
        datagram(std::nullopt, origin_a, build_bubble(ta.to_ipv6(), tb.to_ipv6())));
  b.add("B answers A with a direct bubble", Ipv4UdpEndpoints{kClientB, kPortB, kClientA, kPortA},
        build_bubble(tb.to_ipv6(), ta.to_ipv6()));
  const std::uint8_t ping_data[] = {'t', 'e', 'r', 'e', 'd', 'o', '-', 'p', 'i', 'n', 'g'};
  b.add("echo request A to B on the direct path", Ipv4UdpEndpoints{kClientA, kPortA, kClientB, kPortB},
        build_echo(ta.to_ipv6(), tb.to_ipv6(), 64, EchoMessage{false, 0x7465, 1, ping_data}));
  b.add("echo reply B to A on the direct path", Ipv4UdpEndpoints{kClientB, kPortB, kClientA, kPortA},
        build_echo(tb.to_ipv6(), ta.to_ipv6(), 64, EchoMessage{true, 0x7465, 1, ping_data}));

  // §5.2.9 direct IPv6 connectivity test to a native host, and the reply
  // through its relay (on a port other than 3544).
  const Ipv6Address native = v6("2001:db8::10");
  const std::uint8_t nonce_data[] = {0x4e, 0x6f, 0x6e, 0x63, 0x65, 0x2d, 0x30, 0x34};
  b.add("direct IPv6 connectivity test: echo request through the server", a_to_primary,
        build_echo(ta.to_ipv6(), native, 21, EchoMessage{false, 0, 0, nonce_data}));
  b.add("relay bubble to A through the server (origin: relay)", primary_to_a,
        datagram(std::nullopt, OriginIndication{kRelayPort, kRelay},
                 build_bubble(native, ta.to_ipv6())));
  b.add("echo reply from the native host, sent by its relay", Ipv4UdpEndpoints{kRelay, kRelayPort, kClientA, kPortA},
        build_echo(native, ta.to_ipv6(), 60, EchoMessage{true, 0, 0, nonce_data}));
  return b.take();
}

void write_lifecycle_pcap(const std::string& path) {
  capture::PcapWriter writer(path, static_cast<std::uint32_t>(LinkType::ethernet));
  for (const SampleFrame& f : lifecycle_frames()) writer.write(f.timestamp_us, f.frame);
  writer.close();
}

}  // namespace teredo::samples
