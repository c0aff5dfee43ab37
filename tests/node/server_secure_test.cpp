// RFC 4380 §5.2.2 secure qualification at the server: R4380-5.3.1-06 (drop an
// RS without valid authentication) and R4380-5.3.2-10..13 (a signed RA).
#include <gtest/gtest.h>

#include "server_fixture.hpp"
#include "teredo/wire/datagram.hpp"

namespace teredo::node::test {
namespace {

constexpr std::string_view kId = "client-1";
constexpr std::string_view kSecret = "s3cret";
const ByteVector kNonce = hex("0011223344556677");

ServerConfig secure_config(wire::MacAlgorithm algorithm = wire::MacAlgorithm::hmac_sha1) {
  auto config = server_config();
  SecureQualification secure;
  secure.algorithm = algorithm;
  secure.clients.push_back({bytes_of(kId), bytes_of(kSecret), false});
  secure.clients.push_back({bytes_of("old-client"), bytes_of("old-secret"), true});
  config.secure = secure;
  return config;
}

// An RS signed as §5.2.2 says: MAC over nonce | confirmation | IPv6 packet
// (an RS carries no origin indication).
ByteVector signed_rs(std::string_view id, std::string_view secret, const EVP_MD* md = EVP_sha1()) {
  const ByteVector rs = rs_packet(false);
  const ByteVector mac = hmac(md, secret, concat({kNonce, hex("00"), rs}));
  return concat({auth_header(bytes_of(id), mac, kNonce), rs});
}

TEST(NodeServerSecure, ValidRsGetsASignedRa) {
  Server server(secure_config());
  const auto out = deliver(server, kPrimaryEp, kClient, signed_rs(kId, kSecret));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  const ByteVector& p = out.datagrams[0].payload;
  // 00 01 | ID-len 8 | AU-len 20 (HMAC-SHA1) | "client-1" | MAC | nonce | 00
  ASSERT_GT(p.size(), 4u + 8 + 20 + 8 + 1 + 8);
  EXPECT_EQ(hexstr(Bytes(p).first(12)), "00010814" + hexstr(bytes_of(kId)));  // R4380-5.3.2-11 (id)
  const Bytes mac = Bytes(p).subspan(12, 20);
  EXPECT_EQ(hexstr(Bytes(p).subspan(32, 8)), hexstr(kNonce));  // R4380-5.3.2-11 (nonce)
  EXPECT_EQ(p[40], 0x00);                                      // R4380-5.3.2-12: id valid
  EXPECT_EQ(hexstr(Bytes(p).subspan(41, 8)), "000063bf39cc9bf8");  // R4380-5.1.1-02: auth first
  const Bytes ipv6 = Bytes(p).subspan(49);
  // R4380-5.3.2-10/13: the MAC verifies with this client's secret over
  // nonce | confirmation | origin indication | IPv6 packet.
  const ByteVector expected = hmac(EVP_sha1(), kSecret, concat({kNonce, hex("00"), Bytes(p).subspan(41, 8), ipv6}));
  EXPECT_EQ(hexstr(mac), hexstr(expected));
  EXPECT_EQ(ipv6[0] >> 4, 6);
}

TEST(NodeServerSecure, Md5IsSupportedWhenConfigured) {
  Server server(secure_config(wire::MacAlgorithm::hmac_md5));
  const auto out = deliver(server, kPrimaryEp, kClient, signed_rs(kId, kSecret, EVP_md5()));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  const ByteVector& p = out.datagrams[0].payload;
  EXPECT_EQ(p[3], 16);  // AU-len of HMAC-MD5
  const std::size_t at = 4 + kId.size();
  const ByteVector expected = hmac(
      EVP_md5(), kSecret,
      concat({kNonce, hex("00"), Bytes(p).subspan(at + 16 + 9, 8), Bytes(p).subspan(at + 16 + 9 + 8)}));
  EXPECT_EQ(hexstr(Bytes(p).subspan(at, 16)), hexstr(expected));
}

TEST(NodeServerSecure, ExpiredClientGetsANonZeroConfirmation) {
  Server server(secure_config());
  const auto out = deliver(server, kPrimaryEp, kClient, signed_rs("old-client", "old-secret"));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  const ByteVector& p = out.datagrams[0].payload;
  const std::size_t conf_at = 4 + std::string_view("old-client").size() + 20 + 8;
  EXPECT_NE(p[conf_at], 0) << "R4380-5.3.2-12";
  // The MAC covers the confirmation byte actually sent.
  const ByteVector expected = hmac(EVP_sha1(), "old-secret",
                                   concat({kNonce, Bytes(p).subspan(conf_at, 1),
                                           Bytes(p).subspan(conf_at + 1, 8), Bytes(p).subspan(conf_at + 9)}));
  EXPECT_EQ(hexstr(Bytes(p).subspan(4 + 10, 20)), hexstr(expected));
}

TEST(NodeServerSecure, RsWithoutValidAuthenticationIsDropped) {
  Server server(secure_config());
  struct Case {
    const char* name;
    ByteVector payload;
    const char* code;
  };
  ByteVector flipped = signed_rs(kId, kSecret);
  flipped[4 + kId.size()] ^= 0x80;  // first MAC byte
  ByteVector other_nonce = signed_rs(kId, kSecret);
  other_nonce[4 + kId.size() + 20] ^= 0x01;  // nonce no longer matches the MAC
  const std::vector<Case> cases = {
      {"no authentication", rs_packet(false), "drop_auth_missing"},
      {"nonce-only header", concat({auth_header({}, {}, kNonce), rs_packet(false)}), "drop_auth_unknown_client"},
      {"unknown id", signed_rs("client-2", kSecret), "drop_auth_unknown_client"},
      {"wrong secret", signed_rs(kId, "guess"), "drop_auth_bad_mac"},
      {"flipped MAC bit", flipped, "drop_auth_bad_mac"},
      {"altered nonce", other_nonce, "drop_auth_bad_mac"},
      {"MD5 MAC to a SHA1 server", signed_rs(kId, kSecret, EVP_md5()), "drop_auth_bad_mac"},
  };
  for (const Case& c : cases) {
    const auto out = deliver(server, kPrimaryEp, kClient, c.payload);
    EXPECT_TRUE(out.datagrams.empty()) << c.name;
    EXPECT_TRUE(has_drop(out, c.code, "R4380-5.3.1-06")) << c.name << "\n" << dump(out);
  }
}

TEST(NodeServerSecure, ConeRuleStillAppliesToSignedRs) {
  Server server(secure_config());
  const ByteVector rs = rs_packet(true);
  const ByteVector mac = hmac(EVP_sha1(), kSecret, concat({kNonce, hex("00"), rs}));
  const auto out = deliver(server, kPrimaryEp, kClient, concat({auth_header(bytes_of(kId), mac, kNonce), rs}));
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  EXPECT_EQ(out.datagrams[0].from, kSecondaryEp);
}

}  // namespace
}  // namespace teredo::node::test
