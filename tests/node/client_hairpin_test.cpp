// RFC 6081 §5.6 Hairpinning Extension (off by default), with UPnP only for
// what §5.6.3 and R6081-5.6.4.1-03 add: the
// Alternate Address Trailer (§4.3: type 0x03, length 2 + 6 n, reserved 0,
// IPv4 address and port) on indirect bubbles, direct bubbles to every
// address a peer advertises, and the §5.6.4.3 acceptance rules.
#include <gtest/gtest.h>

#include "client_fixture.hpp"

namespace teredo::node::test {
namespace {

constexpr UdpEndpoint kPeerMapping{v4(203, 0, 113, 5), 5000};
constexpr UdpEndpoint kPeerServer{v4(203, 0, 113, 77), 3544};
constexpr UdpEndpoint kPeerLocal{v4(192, 168, 1, 20), 42000};  // behind our NAT
wire::Ipv6Address peer_v6() { return v6("2001:0:cb00:714d:0:ec77:34ff:8efa"); }

// Bound to 0.0.0.0:40000; the edge found 192.168.1.10 toward the server.
ClientConfig hairpin_config(bool hairpinning = true) {
  ClientConfig c = client_config();
  c.local = {wire::Ipv4Address{0}, 40000};
  c.local_address = v4(192, 168, 1, 10);
  c.hairpinning = hairpinning;
  c.accept_trailers = true;
  return c;
}

struct Hairpin : Driver {
  explicit Hairpin(bool hairpinning = true) : Driver(hairpin_config(hairpinning)) { qualify(); }
  // Our indirect bubble for a packet to the peer.
  ByteVector indirect(const ByteVector& packet) { return to(tun(packet), kPeerServer).at(0).payload; }
};

// A Nonce Trailer's hex: 0104 and the nonce.
std::string fmt_nonce(std::uint32_t nonce) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0104";
  for (int shift = 28; shift >= 0; shift -= 4) s += kDigits[(nonce >> shift) & 0xF];
  return s;
}

std::uint32_t nonce_at(const ByteVector& b, std::size_t i) {
  return (std::uint32_t{b[i]} << 24) | (std::uint32_t{b[i + 1]} << 16) | (std::uint32_t{b[i + 2]} << 8) | b[i + 3];
}

TEST(NodeClientHairpin, IndirectBubbleCarriesANonceAndTheLocalAddressPort) {
  Hairpin d;
  const Outbox out = d.tun(echo(client_teredo(), peer_v6()));
  const auto indirect = to(out, kPeerServer);
  ASSERT_EQ(indirect.size(), 1u) << dump(out);
  const ByteVector plain = bubble(client_teredo(), peer_v6());
  const ByteVector& p = indirect[0].payload;
  ASSERT_EQ(p.size(), plain.size() + 6 + 10);
  EXPECT_EQ(hexstr(Bytes(p).first(plain.size())), hexstr(plain));
  // R6081-5.6.4.1-04: a Nonce Trailer, the nonce the entry keeps.
  EXPECT_EQ(hexstr(Bytes(p).subspan(plain.size(), 2)), "0104");
  EXPECT_EQ(d.client.peers().find(peer_v6())->nonce_sent, nonce_at(p, plain.size() + 2));
  EXPECT_NE(d.client.peers().find(peer_v6())->nonce_sent, 0u);
  // R6081-5.6.4.1-01/02, R6081-4.3-02..08: type 3, length 8, reserved 0,
  // 192.168.1.10 port 40000 (0x9c40).
  EXPECT_EQ(hexstr(Bytes(p).subspan(plain.size() + 6)), "03080000c0a8010a9c40");
  // R6081-4.3-01: no Alternate Address Trailer on anything else: the direct
  // bubble is plain.
  const auto direct = to(out, kPeerMapping);
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_EQ(hexstr(direct[0].payload), hexstr(plain));
}

// With UPnP as well (§5.6.3): the mapping the IGD gave is set before
// qualification (the I/O edge's AddPortMapping and GetExternalIPAddress);
// the server then sees kClient.
struct HairpinUpnp : Driver {
  explicit HairpinUpnp(UdpEndpoint upnp) : Driver(hairpin_config()) {
    Outbox out;
    client.set_upnp_mapping(upnp, out);
    qualify();
  }
  ByteVector indirect() { return to(tun(echo(client_teredo(), peer_v6())), kPeerServer).at(0).payload; }
};

TEST(NodeClientHairpin, BehindNestedNatsTheUpnpMappingIsAdvertisedToo) {
  // R6081-5.6.3-02/03: the UPnP mapping 192.0.2.1:40000 (the inner NAT's
  // outside) differs from the server's kClient: kept. R6081-5.6.4.1-03: the
  // trailer lists it after the local address/port: length 14.
  HairpinUpnp d(UdpEndpoint{v4(192, 0, 2, 1), 40000});
  ASSERT_TRUE(d.client.upnp_mapped());
  const ByteVector p = d.indirect();
  const std::size_t plain = bubble(client_teredo(), peer_v6()).size();
  ASSERT_EQ(p.size(), plain + 6 + 16);
  EXPECT_EQ(hexstr(Bytes(p).subspan(plain + 6)), "030e0000c0a8010a9c40c00002019c40");
}

TEST(NodeClientHairpin, BehindASingleNatTheZeroedUpnpMappingIsNotAdvertised) {
  // R6081-5.6.3-04: the server saw the UPnP mapping: zeroed out, so only the
  // local address/port (length 8).
  HairpinUpnp d(kClient);
  EXPECT_FALSE(d.client.upnp_mapped());
  const ByteVector p = d.indirect();
  const std::size_t plain = bubble(client_teredo(), peer_v6()).size();
  EXPECT_EQ(hexstr(Bytes(p).subspan(plain + 6)), "03080000c0a8010a9c40");
}

TEST(NodeClientHairpin, WithoutTheExtensionIndirectBubblesArePlain) {
  Hairpin d(false);
  const Outbox out = d.tun(echo(client_teredo(), peer_v6()));
  EXPECT_EQ(hexstr(to(out, kPeerServer).at(0).payload), hexstr(bubble(client_teredo(), peer_v6())));
}

TEST(NodeClientHairpin, AdvertisedAddressesEachGetADirectBubbleWithTheNonce) {
  Hairpin d;
  // An indirect bubble through our server, nonce 0xdeadbeef, two alternates:
  // 192.168.1.20:42000 and 10.0.0.5:8080.
  const Outbox out = d.receive(kPrimaryEp, concat({origin_of(kPeerMapping), bubble(peer_v6(), client_teredo()),
                                                   hex("0104 deadbeef 030e 0000 c0a80114 a410 0a000005 1f90")}));
  const ByteVector expected = concat({bubble(client_teredo(), peer_v6()), hex("0104 deadbeef")});
  // R6081-5.6.4.2-03/04: the embedded mapping and each listed address, each
  // with the received nonce (and no Alternate Address Trailer, R6081-4.3-01).
  ASSERT_EQ(out.datagrams.size(), 3u) << dump(out);
  for (const UdpEndpoint at : {kPeerMapping, kPeerLocal, UdpEndpoint{v4(10, 0, 0, 5), 8080}}) {
    const auto sent = to(out, at);
    ASSERT_EQ(sent.size(), 1u) << to_string(at) << "\n" << dump(out);
    EXPECT_EQ(hexstr(sent[0].payload), hexstr(expected)) << to_string(at);
  }
  // R6081-5.6.4.2-02: the list is in the peer entry.
  const Peer* peer = d.client.peers().find(peer_v6());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->alternates, (std::vector<UdpEndpoint>{kPeerLocal, {v4(10, 0, 0, 5), 8080}}));
}

TEST(NodeClientHairpin, WithoutTheExtensionAdvertisedAddressesGetNothing) {
  Hairpin d(false);
  const Outbox out = d.receive(kPrimaryEp, concat({origin_of(kPeerMapping), bubble(peer_v6(), client_teredo()),
                                                   hex("0104 deadbeef 0308 0000 c0a80114 a410")}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerMapping);
}

TEST(NodeClientHairpin, AMalformedAlternateAddressTrailerDropsTheBubble) {
  Hairpin d;
  const ByteVector indirect = concat({origin_of(kPeerMapping), bubble(peer_v6(), client_teredo()), hex("0104 deadbeef")});
  // R6081-5.6.4.2-01 against §4.3: a length outside 8/14/20/26, a zero port
  // (R6081-4.3-08), a multicast address (R6081-4.3-07), 0.0.0.0.
  for (const char* trailer : {"0309 0000 c0a80114 a410 00", "0308 0000 c0a80114 0000", "0308 0000 e0000001 a410",
                              "0308 0000 00000000 a410"}) {
    const Outbox out = d.receive(kPrimaryEp, concat({indirect, hex(trailer)}));
    EXPECT_TRUE(has_drop(out, "drop_malformed_alternate_address_trailer", "R6081-5.6.4.2-01")) << trailer << dump(out);
    EXPECT_TRUE(out.datagrams.empty()) << trailer;
  }
  // The control: the same bubble, well formed, is answered (the drops sent
  // nothing, so the §5.2.6 spacing does not hold it back). Reserved is
  // ignored on receipt (R6081-4.3-05).
  const Outbox out = d.receive(kPrimaryEp, concat({indirect, hex("0308 ffff c0a80114 a410")}));
  EXPECT_EQ(to(out, kPeerLocal).size(), 1u) << dump(out);
}

TEST(NodeClientHairpin, DirectBubbleFromTheEmbeddedMappingIsAccepted) {
  Hairpin d;
  const ByteVector ping = echo(client_teredo(), peer_v6());
  (void)d.indirect(ping);
  // R6081-5.6.4.3-01: from the mapping the source address embeds, no nonce needed.
  const Outbox out = d.receive(kPeerMapping, bubble(peer_v6(), client_teredo()));
  const auto sent = to(out, kPeerMapping);
  ASSERT_EQ(sent.size(), 1u) << dump(out);
  EXPECT_EQ(hexstr(sent[0].payload), hexstr(ping));
}

TEST(NodeClientHairpin, DirectBubbleFromALocalAddressNeedsOurNonce) {
  Hairpin d;
  const ByteVector ping = echo(client_teredo(), peer_v6());
  const ByteVector indirect = d.indirect(ping);
  const std::uint32_t nonce = nonce_at(indirect, 40 + 2);
  const ByteVector ours = hex(fmt_nonce(nonce));
  ByteVector wrong = ours;
  wrong[5] ^= 0x01;
  // R6081-5.6.4.3-03: neither the embedded mapping nor our nonce: dropped.
  Outbox out = d.receive(kPeerLocal, concat({bubble(peer_v6(), client_teredo()), wrong}));
  EXPECT_TRUE(has_drop(out, "drop_bubble_mapping_mismatch", "R4380-5.2.3-14")) << dump(out);
  EXPECT_TRUE(out.datagrams.empty());
  out = d.receive(kPeerLocal, bubble(peer_v6(), client_teredo()));
  EXPECT_TRUE(out.datagrams.empty()) << dump(out);
  // R6081-5.6.4.3-02: with our nonce: accepted; the queued packet goes to the
  // (private) local address it came from.
  out = d.receive(kPeerLocal, concat({bubble(peer_v6(), client_teredo()), ours}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].to, kPeerLocal);
  EXPECT_EQ(hexstr(out.datagrams[0].payload), hexstr(ping));
}

}  // namespace
}  // namespace teredo::node::test
