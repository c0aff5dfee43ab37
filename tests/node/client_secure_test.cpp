// RFC 4380 §5.2.2 secure qualification at the client: the RS's client id and
// HMAC (SHA1 by default, MD5 as an option), the RA's nonce and HMAC checks,
// the confirmation byte; against hand-made RAs and the reference server.
#include <gtest/gtest.h>

#include "client_net.hpp"

namespace teredo::node::test {
namespace {

ClientConfig secure_config(wire::MacAlgorithm algorithm = wire::MacAlgorithm::hmac_sha1,
                           std::string secret = "s3cret") {
  ClientConfig c = client_config();
  c.secure = ClientCredentials{bytes_of("client-7"), bytes_of(secret), algorithm};
  return c;
}

TEST(NodeClientSecure, RsCarriesTheClientIdAndAnHmacSha1) {
  Driver d(secure_config());
  const Outbox out = d.start();
  ASSERT_EQ(out.datagrams.size(), 1u) << dump(out);
  const ByteVector& p = out.datagrams[0].payload;
  // 00 01 | ID-len 8 | AU-len 20 | "client-7" | HMAC | nonce | confirmation 0.
  ASSERT_GT(p.size(), 4u + 8 + 20 + 8 + 1);
  EXPECT_EQ(hexstr(Bytes(p).first(4)), "00010814");
  EXPECT_EQ(hexstr(Bytes(p).subspan(4, 8)), hexstr(bytes_of("client-7")));
  const Bytes mac = Bytes(p).subspan(12, 20);
  const Bytes nonce = Bytes(p).subspan(32, 8);
  EXPECT_EQ(p[40], 0);  // R4380-5.2.2-01
  const Bytes rs = Bytes(p).subspan(41);
  // R4380-5.2.2-05: HMAC-SHA1(secret, nonce | confirmation | IPv6 packet).
  EXPECT_EQ(hexstr(mac), hexstr(hmac(EVP_sha1(), "s3cret", concat({nonce, hex("00"), rs}))));
}

TEST(NodeClientSecure, HmacMd5IsTheOption) {
  Driver d(secure_config(wire::MacAlgorithm::hmac_md5));
  const ByteVector p = d.start().datagrams.at(0).payload;
  EXPECT_EQ(hexstr(Bytes(p).first(4)), "00010810");  // AU-len 16
  const Bytes mac = Bytes(p).subspan(12, 16);
  const Bytes nonce = Bytes(p).subspan(28, 8);
  EXPECT_EQ(hexstr(mac), hexstr(hmac(EVP_md5(), "s3cret", concat({nonce, hex("00"), Bytes(p).subspan(37)}))));
}

TEST(NodeClientSecure, RaWithAValidHmacQualifies) {
  Driver d(secure_config());
  RaSpec spec;
  spec.md = EVP_sha1();
  spec.secret = "s3cret";
  Outbox out = d.receive(kPrimaryEp, make_ra(parse_rs(d.start().datagrams.at(0)), spec));
  out = d.receive(kSecondaryEp, make_ra(parse_rs(out.datagrams.at(0)), spec));
  EXPECT_EQ(d.client.state(), QualificationState::qualified) << dump(out);
  EXPECT_FALSE(has_event(out, "obtain_new_key"));
}

TEST(NodeClientSecure, WrongOrMissingHmacIsRefused) {
  struct Case {
    const char* name;
    std::function<void(RaSpec&)> mutate;
    const char* code;
  };
  const Case cases[] = {
      {"wrong secret", [](RaSpec& s) { s.md = EVP_sha1(); s.secret = "guess"; }, "drop_ra_bad_mac"},
      {"flipped bit", [](RaSpec& s) { s.md = EVP_sha1(); s.secret = "s3cret"; s.corrupt_mac = true; }, "drop_ra_bad_mac"},
      {"md5 instead of sha1", [](RaSpec& s) { s.md = EVP_md5(); s.secret = "s3cret"; }, "drop_ra_bad_mac"},
      {"no value (AU-len 0)", [](RaSpec&) {}, "drop_ra_bad_mac"},
      {"no authentication", [](RaSpec& s) { s.auth = false; }, "drop_ra_auth_missing"},
  };
  for (const Case& c : cases) {
    Driver d(secure_config());
    RaSpec spec;
    c.mutate(spec);
    const Outbox out = d.receive(kPrimaryEp, make_ra(parse_rs(d.start().datagrams.at(0)), spec));
    // R4380-5.2.2-04: a failed verification means the RA is discarded.
    EXPECT_TRUE(has_drop(out, c.code, "R4380-5.2.2-04")) << c.name << "\n" << dump(out);
    EXPECT_EQ(d.client.state(), QualificationState::probing_restricted) << c.name;
  }
}

TEST(NodeClientSecure, NonZeroConfirmationAsksForANewKey) {
  Driver d(secure_config());
  RaSpec spec;
  spec.md = EVP_sha1();
  spec.secret = "s3cret";
  spec.confirmation = 1;
  const Outbox out = d.receive(kPrimaryEp, make_ra(parse_rs(d.start().datagrams.at(0)), spec));
  // R4380-5.2.2-03: reported; the RA itself is valid.
  const auto events = events_with(out, "obtain_new_key");
  ASSERT_EQ(events.size(), 1u) << dump(out);
  EXPECT_EQ(events[0].requirement, "R4380-5.2.2-03");
  EXPECT_EQ(d.client.state(), QualificationState::checking_symmetric);
}

struct SecureLab {
  Server server;
  ClientHost host;
  ClientNet net;
  SecureLab(SecureQualification secure, ClientConfig config)
      : server([&] {
          ServerConfig c = server_config();
          c.secure = std::move(secure);
          return c;
        }()),
        host(std::move(config), nullptr) {
    net.server = &server;
    net.hosts = {&host};
  }
};

TEST(NodeClientSecure, QualifiesWithTheReferenceServer) {
  for (auto algorithm : {wire::MacAlgorithm::hmac_sha1, wire::MacAlgorithm::hmac_md5}) {
    SecureLab lab(SecureQualification{algorithm, {{bytes_of("client-7"), bytes_of("s3cret"), false}}},
                  secure_config(algorithm));
    lab.net.start(lab.host);
    EXPECT_EQ(lab.host.client.state(), QualificationState::qualified) << wire::to_string(algorithm);
    EXPECT_EQ(lab.host.client.address(), client_teredo());
  }
}

TEST(NodeClientSecure, ExpiredKeyAtTheReferenceServerIsReported) {
  SecureLab lab(SecureQualification{wire::MacAlgorithm::hmac_sha1, {{bytes_of("client-7"), bytes_of("s3cret"), true}}},
                secure_config());
  lab.net.start(lab.host);
  EXPECT_EQ(lab.host.client.state(), QualificationState::qualified);
  std::size_t reported = 0;
  for (const Event& e : lab.net.events) reported += e.code == "obtain_new_key" ? 1 : 0;
  EXPECT_EQ(reported, 2u);  // the primary's RA and the secondary's
}

TEST(NodeClientSecure, WrongSecretNeverQualifies) {
  SecureLab lab(SecureQualification{wire::MacAlgorithm::hmac_sha1, {{bytes_of("client-7"), bytes_of("other"), false}}},
                secure_config());
  lab.net.start(lab.host);
  lab.net.advance_to(Time{20s});
  // The server refuses every RS (R4380-5.3.1-06); the client gives up.
  EXPECT_EQ(lab.host.client.state(), QualificationState::offline);
  EXPECT_EQ(lab.net.sent(lab.host, kPrimaryEp).size(), 4u);
}

}  // namespace
}  // namespace teredo::node::test
