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

namespace client_bound {

using teredo::conformance::fuzz::Audience;
using teredo::conformance::fuzz::ClientBinding;
using teredo::conformance::fuzz::rebind_for_client;

// The client rig's view: the IUT client's placeholders.
GeneratorContext client_context() {
  GeneratorContext c = lab_context();
  c.iut_link_local = *parse_ipv6("fe80::ffff:ffff:fffe");
  c.iut_mapped_ipv4 = *parse_ipv4("198.51.100.1");
  c.iut_mapped_port = 40000;
  c.iut_teredo = TeredoAddress{c.server, 0, c.iut_mapped_port, c.iut_mapped_ipv4}.to_ipv6();
  c.peer_teredo = TeredoAddress{*parse_ipv4("203.0.113.3"), 0, 41001, *parse_ipv4("198.51.100.7")}.to_ipv6();
  c.local_peer_teredo = TeredoAddress{c.server, 0, 41500, *parse_ipv4("198.51.100.1")}.to_ipv6();
  return c;
}

bool is_ra(Template t) { return t == Template::ra || t == Template::ra_no_origin; }

TEST(ClientBoundGenerator, ValidDatagramsAreWhatEachPartySendsAClient) {
  const GeneratorContext c = client_context();
  DatagramGenerator g(11, c, Audience::client_qualifying);
  std::set<Template> bases;
  for (int i = 0; i < 200; ++i) {
    const GeneratedDatagram d = g.next_valid();
    ASSERT_TRUE(is_ra(d.base)) << to_string(d.base);
    bases.insert(d.base);
    const auto parsed = parse_datagram(d.payload);
    ASSERT_TRUE(parsed) << to_hex(d.payload);
    ASSERT_TRUE(parsed->authentication);
    EXPECT_EQ(parsed->origin.has_value(), d.base == Template::ra);
    if (parsed->origin) {
      EXPECT_EQ(parsed->origin->address, c.iut_mapped_ipv4);
      EXPECT_EQ(parsed->origin->port, c.iut_mapped_port);
    }
    EXPECT_EQ(parsed->ipv6.header.destination, c.iut_link_local);
    EXPECT_EQ(parsed->ipv6.header.source, c.server_link_local);
    EXPECT_EQ(parsed->ipv6.header.hop_limit, 255);
    const auto icmp = parse_icmpv6(parsed->ipv6, ChecksumPolicy::verify);
    ASSERT_TRUE(icmp);
    const auto ra = parse_router_advertisement(*icmp);
    ASSERT_TRUE(ra);
    EXPECT_EQ(ra->options.prefix_information_count, 1);  // §5.2.1: exactly one
    EXPECT_EQ(ra->options.prefix_information->prefix, teredo_prefix(c.server));
  }
  EXPECT_EQ(bases.size(), 2u);

  g.set_audience(Audience::client_qualified);
  bases.clear();
  for (int i = 0; i < 400; ++i) {
    const GeneratedDatagram d = g.next_valid();
    bases.insert(d.base);
    const auto parsed = parse_datagram(d.payload);
    ASSERT_TRUE(parsed) << to_string(d.base) << " " << to_hex(d.payload);
    const auto& h = parsed->ipv6.header;
    switch (d.base) {
      case Template::bubble_to_client:
      case Template::bubble_via_server:
        EXPECT_TRUE(is_bubble(parsed->ipv6));
        EXPECT_EQ(h.source, c.peer_teredo);
        EXPECT_EQ(h.destination, c.iut_teredo);
        // Forwarded by the server: the origin indication of the peer.
        EXPECT_EQ(parsed->origin.has_value(), d.base == Template::bubble_via_server);
        if (parsed->origin) {
          EXPECT_EQ(parsed->origin->port, 41001);
        }
        break;
      case Template::echo_to_client:
      case Template::data_from_relay: {
        EXPECT_EQ(h.source, d.base == Template::echo_to_client ? c.peer_teredo : c.native_host);
        EXPECT_EQ(h.destination, c.iut_teredo);
        const auto icmp = parse_icmpv6(parsed->ipv6, ChecksumPolicy::verify);
        ASSERT_TRUE(icmp);
        EXPECT_EQ(icmp->type, kIcmpv6EchoRequest);
        break;
      }
      default: ADD_FAILURE() << "not a qualified-client template: " << to_string(d.base);
    }
  }
  EXPECT_EQ(bases.size(), 4u);  // no discovery bubble unless declared
  g.set_discovery(true);
  bool discovery = false;
  for (int i = 0; i < 100 && !discovery; ++i) {
    const GeneratedDatagram d = g.next_valid();
    if (d.base != Template::discovery_bubble) continue;
    discovery = true;
    const auto parsed = parse_datagram(d.payload);
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(is_bubble(parsed->ipv6));
    EXPECT_EQ(parsed->ipv6.header.destination, *parse_ipv6("ff02::1"));
    EXPECT_EQ(parsed->ipv6.header.hop_limit, 1);  // §5.2.8
    EXPECT_EQ(parsed->ipv6.header.source, c.local_peer_teredo);
  }
  EXPECT_TRUE(discovery);
}

TEST(ClientBoundGenerator, MutatedRasAreReproducibleAndReachBothSidesOfTheDecoder) {
  DatagramGenerator a(5, client_context(), Audience::client_qualifying);
  DatagramGenerator b(5, client_context(), Audience::client_qualifying);
  int rejected = 0, accepted_mutants = 0;
  std::map<std::string, int> seen;
  for (int i = 0; i < 5000; ++i) {
    const GeneratedDatagram x = a.next(), y = b.next();
    ASSERT_EQ(x.payload, y.payload);
    ASSERT_TRUE(is_ra(x.base));
    for (const auto& m : x.mutations) ++seen[m];
    const bool parses = static_cast<bool>(parse_datagram(x.payload));
    if (!parses) ++rejected;
    if (parses && !x.valid()) ++accepted_mutants;
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(accepted_mutants, 1000);
  for (const char* field : {"auth.id_len", "origin.value", "ipv6.destination", "icmpv6.checksum", "nd.option_length",
                            "bytes.flip"}) {
    EXPECT_GT(seen[field], 20) << field;
  }
}

// A server's sequence does not depend on the client templates being there:
// the first datagrams of seed 1 are the bytes they were before (recorded).
TEST(ClientBoundGenerator, TheServerSequenceIsUnchanged) {
  DatagramGenerator g(1, lab_context());
  const GeneratedDatagram first = g.next();
  EXPECT_LT(static_cast<int>(first.base), static_cast<int>(Template::ra));
  DatagramGenerator again(1, lab_context(), teredo::conformance::fuzz::Audience::server);
  EXPECT_EQ(again.next().payload, first.payload);
}

TEST(RebindForClient, PutsTheClientsNonceMappingAndAddressesInPlaceKeepingChecksumsAsRightOrWrong) {
  const GeneratorContext c = client_context();
  const ClientBinding from{Nonce{}, c.iut_link_local, c.iut_teredo, c.iut_mapped_ipv4, c.iut_mapped_port};
  const ClientBinding to{Nonce{9, 8, 7, 6, 5, 4, 3, 2}, *parse_ipv6("fe80::8000:ffff:ffff:fffe"),
                         TeredoAddress{c.server, 0x1234, 51000, c.iut_mapped_ipv4}.to_ipv6(),
                         *parse_ipv4("198.51.100.1"), 51000};
  DatagramGenerator g(3, c, Audience::client_qualifying);
  int ras = 0;
  for (int i = 0; i < 50; ++i) {
    GeneratedDatagram d = g.next_valid();
    rebind_for_client(d.payload, from, to);
    const auto parsed = parse_datagram(d.payload);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->authentication->nonce, to.nonce);
    EXPECT_EQ(parsed->ipv6.header.destination, to.link_local);
    EXPECT_TRUE(parse_icmpv6(parsed->ipv6, ChecksumPolicy::verify)) << "the checksum follows the address";
    if (parsed->origin) {
      EXPECT_EQ(parsed->origin->port, 51000);
    }
    ++ras;
  }
  EXPECT_EQ(ras, 50);
  g.set_audience(Audience::client_qualified);
  int echoes = 0;
  for (int i = 0; i < 200; ++i) {
    GeneratedDatagram d = g.next_valid();
    if (d.base != Template::echo_to_client) continue;
    ++echoes;
    // A corrupted checksum stays corrupted by as much.
    ByteVector bad = d.payload;
    bad[bad.size() - 1] ^= 0x40;  // a data byte: the checksum no longer matches
    rebind_for_client(d.payload, from, to);
    rebind_for_client(bad, from, to);
    const auto good = parse_datagram(d.payload);
    ASSERT_TRUE(good);
    EXPECT_EQ(good->ipv6.header.destination, to.teredo);
    EXPECT_TRUE(parse_icmpv6(good->ipv6, ChecksumPolicy::verify));
    const auto wrong = parse_datagram(bad);
    ASSERT_TRUE(wrong);
    EXPECT_FALSE(parse_icmpv6(wrong->ipv6, ChecksumPolicy::verify));
  }
  EXPECT_GT(echoes, 10);
  // Nothing naming the placeholders: left as it is (but for the nonce).
  ByteVector other = DatagramGenerator(4, lab_context()).next_valid().payload;
  const ByteVector before = other;
  rebind_for_client(other, from, to);
  if (!nonce_of(before)) {
    EXPECT_EQ(other, before);
  }
}

}  // namespace client_bound
