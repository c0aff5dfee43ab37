// The fuzz oracles that judge text and bytes: sanitizer and panic reports in
// an IUT's log, and the wire invariants of what a server sends.
#include <gtest/gtest.h>

#include "fuzz/oracles.hpp"

namespace {

using namespace teredo::wire;
using teredo::conformance::fuzz::check_iut_datagram;
using teredo::conformance::fuzz::IutDatagram;
using teredo::conformance::fuzz::IutRole;
using teredo::conformance::fuzz::NonceBook;
using teredo::conformance::fuzz::scan_log;

TEST(VmRss, ReadsTheResidentSetFromProcStatus) {
  using teredo::conformance::fuzz::vm_rss_kib;
  const char* status = "Name:\tpython3\nVmPeak:\t  30000 kB\nVmRSS:\t   12345 kB\nRssAnon:\t 8000 kB\n";
  EXPECT_EQ(vm_rss_kib(status), 12345u);
  EXPECT_FALSE(vm_rss_kib("Name:\tkthreadd\nState:\tS (sleeping)\n"));  // a kernel thread has none
  EXPECT_FALSE(vm_rss_kib("VmRSS:\t  kB\n"));
  EXPECT_FALSE(vm_rss_kib("XVmRSS:\t 5 kB\n"));  // only a line that starts with the key
}

TEST(ScanLog, FindsAddressSanitizerWithAnAddressFreeSignature) {
  const auto a = scan_log("ready server\n==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address "
                          "0x602000000011 at pc 0x55d4 bp 0x7ffc\nREAD of size 1\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, "AddressSanitizer");
  EXPECT_EQ(a->signature, "AddressSanitizer: heap-buffer-overflow");
  const auto b = scan_log("==17==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6020000000ff\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(a->signature, b->signature);
  const auto leak = scan_log("==9==ERROR: LeakSanitizer: detected memory leaks\n");
  ASSERT_TRUE(leak);
  EXPECT_EQ(leak->signature, "LeakSanitizer: detected memory leaks");
}

TEST(ScanLog, FindsUndefinedBehaviourReports) {
  const auto a = scan_log("server.cpp:120:17: runtime error: index 9 out of bounds for type 'uint8_t [8]'\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, "UndefinedBehaviorSanitizer");
  EXPECT_EQ(a->signature, "runtime error: index # out of at server.cpp:#:#");
  const auto b = scan_log("SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior server.cpp:120:17 in\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, "UndefinedBehaviorSanitizer");
}

TEST(ScanLog, FindsAPythonTracebackNamedByItsException) {
  const auto t = scan_log("datagram of 61 bytes\nTraceback (most recent call last):\n  File \"s.py\", line 3, in <module>\n"
                          "    x = payload[99]\nIndexError: index out of range\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, "python_traceback");
  EXPECT_EQ(t->signature, "python traceback: IndexError");
  // Cut before the exception line: still a finding.
  const auto cut = scan_log("Traceback (most recent call last):\n  File \"s.py\", line 3\n");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->signature, "python traceback: unknown");
}

TEST(ScanLog, FindsAGoPanic) {
  const auto p = scan_log("goroutine 1 started\npanic: runtime error: index out of range [5] with length 3\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, "go_panic");
  EXPECT_EQ(p->signature, "go panic: runtime error: index out");
}

TEST(ScanLog, IgnoresAnOrdinaryLog) {
  EXPECT_FALSE(scan_log("ready server 203.0.113.1:3544\nRS from 198.51.100.7:41000 answered\nerror: bad checksum, "
                        "dropped\npanicking is not a panic:\n"));
  EXPECT_FALSE(scan_log(""));
}

constexpr Nonce kNonce = {9, 8, 7, 6, 5, 4, 3, 2};

// An RA as a server sends it: authentication (nonce), origin, RA.
ByteVector ra_payload(const Nonce& nonce) {
  ByteVector options;
  PrefixInformation prefix;
  prefix.prefix = teredo_prefix(*parse_ipv4("203.0.113.1"));
  append_prefix_information_option(options, prefix);
  const ByteVector ra = build_router_advertisement(*parse_ipv6("fe80::8000:f227:348f:fefe"),
                                                   *parse_ipv6("fe80::ffff:ffff:fffd"), RouterAdvertisement{}, options);
  ByteVector out;
  EXPECT_TRUE(append_datagram(out, AuthenticationFields{{}, {}, nonce, 0},
                              OriginIndication{41000, *parse_ipv4("198.51.100.7")}, ra));
  return out;
}

IutDatagram from_server(const char* to, const ByteVector& payload) {
  return IutDatagram{*parse_ipv4("203.0.113.1"), *parse_ipv4(to), 3544, 41000, payload};
}

TEST(WireInvariants, AnRaEchoingASentNonceToAGlobalAddressKeepsThemAll) {
  NonceBook book;
  const ByteVector ra = ra_payload(kNonce);
  book.record_sent(ra);  // the RS carried the same encapsulation
  EXPECT_EQ(book.size(), 1u);
  EXPECT_FALSE(check_iut_datagram(from_server("198.51.100.7", ra), book));
  // A forwarded bubble too.
  ByteVector bubble;
  ASSERT_TRUE(append_datagram(bubble, std::nullopt, std::nullopt,
                              build_bubble(*parse_ipv6("2001:0:cb00:7101::1"), *parse_ipv6("2001:0:cb00:7101::2"))));
  EXPECT_FALSE(check_iut_datagram(from_server("198.51.100.7", bubble), book));
}

TEST(WireInvariants, AnRaToANonGlobalAddressBreaksR4380_5_3_2_09) {
  NonceBook book;
  book.record_sent(ra_payload(kNonce));
  const auto v = check_iut_datagram(from_server("192.88.99.7", ra_payload(kNonce)), book);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->code, "datagram_to_non_global_ipv4");
  EXPECT_EQ(v->requirement, "R4380-5.3.2-09");
}

TEST(WireInvariants, AForwardedPacketToANonGlobalAddressBreaksR4380_5_3_1_14) {
  ByteVector bubble;
  ASSERT_TRUE(append_datagram(bubble, std::nullopt, std::nullopt,
                              build_bubble(*parse_ipv6("2001:0:cb00:7101::1"), *parse_ipv6("2001:0:cb00:7101::2"))));
  const auto v = check_iut_datagram(from_server("10.1.2.3", bubble), NonceBook{});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->code, "datagram_to_non_global_ipv4");
  EXPECT_EQ(v->requirement, "R4380-5.3.1-14");
}

TEST(WireInvariants, APayloadOurDecoderRejectsBreaksR4380_5_3_1_02) {
  const ByteVector garbage = {0x00, 0x01, 0xff, 0xff, 0x60};
  const auto v = check_iut_datagram(from_server("198.51.100.7", garbage), NonceBook{});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->code, "payload_not_teredo");
  EXPECT_EQ(v->requirement, "R4380-5.3.1-02");
  // Trailers (RFC 6081 §4) are not a defect.
  ByteVector trailer = ra_payload(kNonce);
  trailer.insert(trailer.end(), {0x01, 0x04, 1, 2, 3, 4});
  NonceBook book;
  book.record_sent(trailer);
  EXPECT_FALSE(check_iut_datagram(from_server("198.51.100.7", trailer), book));
}

TEST(WireInvariants, AnRaWithANonceNoRsCarriedBreaksR4380_5_3_2_11) {
  NonceBook book;
  book.record_sent(ra_payload(kNonce));
  const Nonce other = {1, 1, 1, 1, 1, 1, 1, 1};
  const auto v = check_iut_datagram(from_server("198.51.100.7", ra_payload(other)), book);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->code, "ra_nonce_unmatched");
  EXPECT_EQ(v->requirement, "R4380-5.3.2-11");
}

// What a relay sends: bubbles and the packets it carries (RFC 4380 §5.4).
IutDatagram from_relay(const char* to, const ByteVector& payload) {
  return IutDatagram{*parse_ipv4("198.51.100.20"), *parse_ipv4(to), 3544, 3544, payload};
}

ByteVector bubble_to(const Ipv6Address& destination) {
  ByteVector out;
  EXPECT_TRUE(append_datagram(out, std::nullopt, std::nullopt,
                              build_bubble(*parse_ipv6("2001:db8:1::10"), destination)));
  return out;
}

Ipv6Address teredo_embedding(const char* mapped) {
  TeredoAddress t;
  t.server = *parse_ipv4("203.0.113.1");
  t.mapped_ipv4 = *parse_ipv4(mapped);
  t.mapped_port = 52101;
  return t.to_ipv6();
}

TEST(WireInvariants, ARelayBubblingAPeerWithANonGlobalMappingBreaksR4380_5_4_1_01) {
  // The bubble goes to the peer's server (a global address): what breaks
  // the rule is that the relay processed the packet at all.
  const auto v = check_iut_datagram(from_relay("203.0.113.1", bubble_to(teredo_embedding("192.88.99.7"))),
                                    NonceBook{}, IutRole::relay);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->code, "teredo_destination_not_global");
  EXPECT_EQ(v->requirement, "R4380-5.4.1-01");
  EXPECT_NE(v->detail.find("192.88.99.7:52101"), std::string::npos) << v->detail;
  // A global mapping is what a relay bubbles.
  EXPECT_FALSE(check_iut_datagram(from_relay("203.0.113.1", bubble_to(teredo_embedding("198.51.100.8"))),
                                  NonceBook{}, IutRole::relay));
  // A server forwarding the same bubble is judged by where it goes, not by
  // the relay's rule.
  EXPECT_FALSE(check_iut_datagram(from_server("198.51.100.7", bubble_to(teredo_embedding("192.88.99.7"))),
                                  NonceBook{}));
}

TEST(WireInvariants, ARelaysDatagramToANonGlobalAddressCitesTheRelaysRule) {
  const auto v = check_iut_datagram(from_relay("192.88.99.7", bubble_to(teredo_embedding("198.51.100.8"))),
                                    NonceBook{}, IutRole::relay);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->code, "datagram_to_non_global_ipv4");
  EXPECT_EQ(v->requirement, "R4380-5.4.1-01");
  // A malformed payload is a defect no catalog sentence names for a relay.
  const auto bad = check_iut_datagram(from_relay("198.51.100.7", ByteVector{0x00, 0x01, 0xff, 0xff, 0x60}),
                                      NonceBook{}, IutRole::relay);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->code, "payload_not_teredo");
  EXPECT_EQ(bad->requirement, "");
  // An RA's nonce is the server's business.
  EXPECT_FALSE(check_iut_datagram(from_relay("198.51.100.7", ra_payload({9, 9, 9, 9, 9, 9, 9, 9})), NonceBook{},
                                  IutRole::relay));
}

// What a client sends (RFC 4380 §5.2).
IutDatagram from_client(const char* to, std::uint16_t port, const ByteVector& payload) {
  return IutDatagram{*parse_ipv4("192.0.2.10"), *parse_ipv4(to), 51000, port, payload};
}

ByteVector client_rs(std::uint8_t hop_limit = 255, const char* destination = "ff02::2") {
  const ByteVector rs =
      build_router_solicitation(*parse_ipv6("fe80::ffff:ffff:fffe"), *parse_ipv6(destination), {}, hop_limit);
  ByteVector out;
  EXPECT_TRUE(append_datagram(out, AuthenticationFields{{}, {}, Nonce{1, 2, 3, 4, 5, 6, 7, 8}, 0}, std::nullopt, rs));
  return out;
}

TEST(WireInvariants, AClientsRsAndDiscoveryBubbleKeepThemAll) {
  const NonceBook none;
  EXPECT_FALSE(check_iut_datagram(from_client("203.0.113.1", 3544, client_rs()), none, IutRole::client));
  // §5.2.8: a local discovery bubble goes to 224.0.0.253:3544, not global but allowed.
  Ipv6Header h;
  h.next_header = kNextHeaderNone;
  h.hop_limit = 1;
  h.source = TeredoAddress{*parse_ipv4("203.0.113.1"), 0, 51000, *parse_ipv4("198.51.100.1")}.to_ipv6();
  h.destination = *parse_ipv6("ff02::1");
  ByteVector bubble;
  append_ipv6_packet(bubble, h, {});
  EXPECT_FALSE(check_iut_datagram(from_client("224.0.0.253", 3544, bubble), none, IutRole::client));
  // The same to another multicast group or port is not a discovery bubble.
  const auto v = check_iut_datagram(from_client("224.0.0.1", 3544, bubble), none, IutRole::client);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->code, "datagram_to_non_global_ipv4");
  EXPECT_EQ(v->requirement, "R4380-5.2.4-07");
}

TEST(WireInvariants, AClientsDatagramToANonGlobalPeerBreaksR4380_5_2_4_07) {
  const auto v = check_iut_datagram(from_client("10.1.2.3", 40000, client_rs()), NonceBook{}, IutRole::client);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->code, "datagram_to_non_global_ipv4");
  EXPECT_EQ(v->requirement, "R4380-5.2.4-07");
}

TEST(WireInvariants, AMalformedRsBreaksR4380_5_2_1_01AndAMalformedPayloadNamesNoRequirement) {
  const NonceBook none;
  for (const auto& [payload, port] : {std::pair{client_rs(64), std::uint16_t{3544}},
                                      std::pair{client_rs(255, "ff02::1"), std::uint16_t{3544}},
                                      std::pair{client_rs(), std::uint16_t{3545}}}) {
    const auto v = check_iut_datagram(from_client("203.0.113.1", port, payload), none, IutRole::client);
    ASSERT_TRUE(v) << to_hex(payload);
    EXPECT_EQ(v->code, "rs_malformed");
    EXPECT_EQ(v->requirement, "R4380-5.2.1-01");
  }
  ByteVector corrupt = client_rs();
  corrupt[corrupt.size() - 3] ^= 0x10;  // the ICMPv6 checksum
  EXPECT_EQ(check_iut_datagram(from_client("203.0.113.1", 3544, corrupt), none, IutRole::client)->code,
            "rs_malformed");
  const auto junk = check_iut_datagram(from_client("203.0.113.1", 3544, ByteVector{0x60, 1, 2}), none, IutRole::client);
  ASSERT_TRUE(junk);
  EXPECT_EQ(junk->code, "payload_not_teredo");
  EXPECT_EQ(junk->requirement, "");
}

}  // namespace
