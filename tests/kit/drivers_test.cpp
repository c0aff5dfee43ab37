// The role drivers' pure functions, linked from the kit library: what the
// played parties send and what the role matchers accept.
#include <gtest/gtest.h>

#include "cases/client/client_driver.hpp"
#include "cases/relay/relay_driver.hpp"
#include "cases/server/driver.hpp"
#include "kit_frames.hpp"

namespace teredo::conformance {
namespace {

using namespace teredo::wire;

client::RsSeen rs_seen(const Nonce& nonce) {
  client::RsSeen rs;
  rs.payload = server::rs_datagram({.nonce = nonce});
  rs.from = client::Endpoint{kit::ipv4("198.51.100.1"), 40000};
  rs.authenticated = true;
  rs.nonce = nonce;
  return rs;
}

TEST(ServerDriver, RsDatagramCarriesNonceAndTrailer) {
  const Nonce nonce = {9, 8, 7, 6, 5, 4, 3, 2};
  const ByteVector rs = server::rs_datagram({.nonce = nonce, .trailer = {0x81, 0x02, 0xab, 0xcd}});
  const auto d = kit::parse_teredo_payload(rs);
  ASSERT_TRUE(static_cast<bool>(d));
  ASSERT_TRUE(d->authentication.has_value());
  EXPECT_EQ(d->authentication->nonce, nonce);
  EXPECT_TRUE(kit::same(d->ipv6.trailer, ByteVector{0x81, 0x02, 0xab, 0xcd}));
  EXPECT_EQ(d->ipv6.header.destination, kit::ipv6("ff02::2"));
}

TEST(ServerDriver, ServerLinkLocalIsTheObfuscatedConeAddress) {
  // RFC 4380 §5.3.2 (and the Miredo/Windows value): fe80::8000:f227:34ff:8efe for 203.0.113.1.
  EXPECT_EQ(to_string(server::server_link_local(server::kPrimary)), "fe80::8000:f227:34ff:8efe");
}

TEST(ClientDriver, ValidRaEchoesNonceAndGivesTheMapping) {
  const Nonce nonce = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto rs = rs_seen(nonce);
  const ByteVector ra = client::ra_datagram(rs, {}, rs.from, false);
  const auto d = kit::parse_teredo_payload(ra);
  ASSERT_TRUE(d && d->authentication && d->origin);
  EXPECT_EQ(d->authentication->nonce, nonce);
  EXPECT_EQ(d->origin->port, 40000);
  EXPECT_EQ(d->origin->address, kit::ipv4("198.51.100.1"));
  EXPECT_EQ(d->ipv6.header.source, kit::server_link_local(client::kServer));
}

TEST(ClientDriver, WrongNonceFaultFlipsOneBit) {
  const Nonce nonce = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto rs = rs_seen(nonce);
  const auto d = kit::parse_teredo_payload(client::ra_datagram(rs, {.fault = client::RaFault::wrong_nonce}, rs.from, false));
  ASSERT_TRUE(d && d->authentication);
  int bits = 0;
  for (std::size_t i = 0; i < nonce.size(); ++i) bits += __builtin_popcount(d->authentication->nonce[i] ^ nonce[i]);
  EXPECT_EQ(bits, 1);
}

TEST(ClientDriver, FaultsLeaveOutWhatTheyName) {
  const auto rs = rs_seen({1, 1, 1, 1, 1, 1, 1, 1});
  const auto no_origin = kit::parse_teredo_payload(client::ra_datagram(rs, {.fault = client::RaFault::no_origin}, rs.from, false));
  ASSERT_TRUE(static_cast<bool>(no_origin));
  EXPECT_FALSE(no_origin->origin.has_value());
  const auto no_auth = kit::parse_teredo_payload(client::ra_datagram(rs, {.fault = client::RaFault::no_auth}, rs.from, false));
  ASSERT_TRUE(static_cast<bool>(no_auth));
  EXPECT_FALSE(no_auth->authentication.has_value());
}

TEST(RelayDriver, IndirectBubbleGoesToTheClientsServer) {
  kit::Peer client;
  client.address = relay::kClients;
  client.port = 43001;
  client.teredo = kit::teredo_address(relay::kServer, 0, relay::kClients, 43001);
  const ByteVector b = kit::bubble_packet(kit::ipv6("2001:db8:1::10"), client.teredo);
  const auto via_server = relay::as_reply(kit::test::udp_frame(1, relay::kRelay, 3544, relay::kServer, 3544, b),
                                          LinkType::ethernet);
  const auto direct = relay::as_reply(kit::test::udp_frame(2, relay::kRelay, 3544, relay::kClients, 43001, b),
                                      LinkType::ethernet);
  ASSERT_TRUE(via_server && direct);
  EXPECT_TRUE(relay::indirect(*via_server, client));
  EXPECT_FALSE(relay::indirect(*direct, client));
}

}  // namespace
}  // namespace teredo::conformance
