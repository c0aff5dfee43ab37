// The datagram generator: reproducible from its seed, valid datagrams that
// our decoder accepts, and mutations that reach every field they name.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <set>

#include "fuzz/generator.hpp"
#include "teredo/wire/hmac.hpp"

namespace {

using namespace teredo::wire;
using teredo::conformance::fuzz::DatagramGenerator;
using teredo::conformance::fuzz::GeneratedDatagram;
using teredo::conformance::fuzz::GeneratorContext;
using teredo::conformance::fuzz::nonce_of;
using teredo::conformance::fuzz::Template;

GeneratorContext lab_context() {
  GeneratorContext c;
  c.server = *parse_ipv4("203.0.113.1");
  c.server_link_local = *parse_ipv6("fe80::8000:f227:348f:fefe");
  c.client_ipv4 = *parse_ipv4("198.51.100.7");
  c.client_port = 41000;
  c.client_teredo = TeredoAddress{c.server, 0, c.client_port, c.client_ipv4}.to_ipv6();
  c.peer_teredo = TeredoAddress{c.server, 0, 41001, c.client_ipv4}.to_ipv6();
  c.native_host = *parse_ipv6("2001:db8:1::10");
  c.non_global = *parse_ipv4("192.88.99.7");
  return c;
}

TEST(DatagramGenerator, SameSeedGivesTheSameSequence) {
  DatagramGenerator a(42, lab_context()), b(42, lab_context()), c(43, lab_context());
  int differ_from_other_seed = 0;
  for (int i = 0; i < 2000; ++i) {
    const GeneratedDatagram x = a.next(), y = b.next(), z = c.next();
    ASSERT_EQ(x.payload, y.payload) << "datagram " << i;
    ASSERT_EQ(x.mutations, y.mutations) << "datagram " << i;
    ASSERT_EQ(x.base, y.base) << "datagram " << i;
    if (x.payload != z.payload) ++differ_from_other_seed;
  }
  EXPECT_GT(differ_from_other_seed, 1900);
}

TEST(DatagramGenerator, ValidDatagramsParseAndKeepTheirChecksums) {
  DatagramGenerator g(7, lab_context());
  std::set<Template> bases;
  for (int i = 0; i < 500; ++i) {
    const GeneratedDatagram d = g.next_valid();
    ASSERT_TRUE(d.valid());
    bases.insert(d.base);
    const auto parsed = parse_datagram(d.payload);
    ASSERT_TRUE(parsed) << to_string(d.base) << ": " << to_string(parsed.error()) << " " << to_hex(d.payload);
    if (d.base == Template::bubble) {
      EXPECT_TRUE(is_bubble(parsed->ipv6));
      continue;
    }
    const auto icmp = parse_icmpv6(parsed->ipv6, ChecksumPolicy::verify);
    ASSERT_TRUE(icmp) << to_string(d.base) << ": " << to_string(icmp.error());
    const bool rs = d.base == Template::rs_plain || d.base == Template::rs_auth ||
                    d.base == Template::rs_auth_origin || d.base == Template::rs_origin;
    EXPECT_EQ(icmp->type, rs ? kIcmpv6RouterSolicitation : kIcmpv6EchoRequest);
    EXPECT_EQ(parsed->authentication.has_value(), d.base == Template::rs_auth || d.base == Template::rs_auth_origin);
    EXPECT_EQ(parsed->origin.has_value(), d.base == Template::rs_auth_origin || d.base == Template::rs_origin);
  }
  EXPECT_EQ(bases.size(), 8u);  // every template
}

// The planted-bug IUT of tests/fuzz crashes on this defect: ID-len and
// AU-len announce more bytes than the payload has after the 4-byte header.
bool auth_length_past_end(const ByteVector& p) {
  return p.size() >= 4 && p[0] == 0 && p[1] == 1 && std::size_t{4} + p[2] + p[3] > p.size();
}

TEST(DatagramGenerator, MutationsReachEveryFieldAndBothSidesOfTheDecoder) {
  DatagramGenerator g(1, lab_context());
  std::map<std::string, int> seen;
  int valid = 0, rejected = 0, accepted_mutants = 0, past_end = 0, oversize = 0;
  for (int i = 0; i < 20000; ++i) {
    const GeneratedDatagram d = g.next();
    for (const auto& m : d.mutations) ++seen[m];
    if (d.valid()) ++valid;
    const bool parses = static_cast<bool>(parse_datagram(d.payload));
    if (!d.valid() && parses) ++accepted_mutants;
    if (!parses) ++rejected;
    if (auth_length_past_end(d.payload)) ++past_end;
    if (d.payload.size() > 1280) ++oversize;
    ASSERT_LE(d.payload.size(), 4096u);
  }
  for (const char* field : {"auth.id_len", "auth.au_len", "encapsulation.order", "encapsulation.duplicate",
                            "origin.value", "ipv6.version", "ipv6.payload_length", "ipv6.next_header",
                            "ipv6.hop_limit", "ipv6.source", "ipv6.destination", "icmpv6.type", "icmpv6.code",
                            "icmpv6.checksum", "nd.option", "nd.option_length", "trailer.add", "truncate",
                            "oversize", "bytes.flip", "bytes.set", "bytes.insert", "bytes.delete"}) {
    EXPECT_GT(seen[field], 50) << field;
  }
  EXPECT_NEAR(valid, 20000 / 8, 400);
  EXPECT_GT(rejected, 4000);           // malformed input the server must drop
  EXPECT_GT(accepted_mutants, 4000);   // and mutants deep enough to pass the decoder
  EXPECT_GT(past_end, 100);
  EXPECT_GT(oversize, 100);
}

// With a shared secret (the server's "after a secure RS" state) the
// authenticated RSs carry the client identifier and a value that verifies
// over the datagram as sent, also when a field behind the authentication
// check was mutated; a mutated identifier or value leaves it unsigned. The
// same seed and secret give the same sequence.
TEST(DatagramGenerator, SignsAuthenticatedRsWithTheSharedSecret) {
  for (const MacAlgorithm algorithm : {MacAlgorithm::hmac_sha1, MacAlgorithm::hmac_md5}) {
    GeneratorContext secure = lab_context();
    const std::string id = "client-7", secret = "teredo-conformance-secret";
    secure.signing = GeneratorContext::Signing{ByteVector(id.begin(), id.end()), ByteVector(secret.begin(), secret.end()),
                                               algorithm};
    DatagramGenerator signing(11, secure), again(11, secure);
    int valid_signed = 0, mutated_signed = 0, mutated_unsigned = 0;
    for (int i = 0; i < 4000; ++i) {
      const GeneratedDatagram d = signing.next(), same = again.next();
      ASSERT_EQ(d.payload, same.payload) << i;
      if (d.base != Template::rs_auth && d.base != Template::rs_auth_origin) continue;
      const bool auth_mutated = std::any_of(d.mutations.begin(), d.mutations.end(), [](const std::string& m) {
        return m.starts_with("auth.") || m.starts_with("bytes.") || m == "truncate" || m == "oversize" ||
               m.starts_with("encapsulation.") ||
               m == "ipv6.payload_length";  // the verifier's packet is what the length says
      });
      const auto parsed = parse_datagram(d.payload, DatagramParseOptions{.accept_trailers = true});
      if (d.valid()) {
        ASSERT_TRUE(parsed) << to_hex(d.payload);
        ASSERT_TRUE(parsed->authentication);
        EXPECT_EQ(std::string(parsed->authentication->client_id.begin(), parsed->authentication->client_id.end()), id);
        EXPECT_TRUE(verify_authentication(*parsed, algorithm, secure.signing->secret)) << to_hex(d.payload);
        ++valid_signed;
      } else if (!auth_mutated && parsed && parsed->authentication) {
        EXPECT_TRUE(verify_authentication(*parsed, algorithm, secure.signing->secret))
            << "mutations behind the check keep a valid value: " << d.mutations.front() << " " << to_hex(d.payload);
        ++mutated_signed;
      }
      if (std::find(d.mutations.begin(), d.mutations.end(), "auth.value") != d.mutations.end() && parsed &&
          parsed->authentication) {
        EXPECT_FALSE(verify_authentication(*parsed, algorithm, secure.signing->secret));
        ++mutated_unsigned;
      }
    }
    EXPECT_GT(valid_signed, 20);
    EXPECT_GT(mutated_signed, 100);
    EXPECT_GT(mutated_unsigned, 5);
  }
}

TEST(NonceOf, ReadsTheNonceAsAServerDoes) {
  ByteVector p;
  const Nonce n = {1, 2, 3, 4, 5, 6, 7, 8};
  const ByteVector id = {0xaa, 0xbb};
  ASSERT_TRUE(append_authentication(p, AuthenticationFields{id, {}, n, 0}));
  append_origin_indication(p, OriginIndication{41000, *parse_ipv4("198.51.100.7")});
  EXPECT_EQ(nonce_of(p), n);
  ByteVector origin_first;
  append_origin_indication(origin_first, OriginIndication{41000, *parse_ipv4("198.51.100.7")});
  ASSERT_TRUE(append_authentication(origin_first, AuthenticationFields{{}, {}, n, 0}));
  EXPECT_EQ(nonce_of(origin_first), n);
  ByteVector cut(p.begin(), p.begin() + 10);
  EXPECT_FALSE(nonce_of(cut));
  EXPECT_FALSE(nonce_of(ByteVector{0x60, 0, 0, 0}));
}

}  // namespace
