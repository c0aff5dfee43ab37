// ParseError names, Result, and one crafted rejection input per error code:
// a table of {name, parser, input, expected error} run as one test per row,
// and a check that the table covers every code reference/wire can return.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <set>
#include <string>
#include <string_view>

#include "captures.hpp"
#include "teredo/wire/wire.hpp"
#include "wire_test_util.hpp"

namespace teredo::wire {
namespace {

using test::hex;

// --- names -------------------------------------------------------------------

bool is_snake_case(std::string_view s) {
  if (s.empty() || s.front() < 'a' || s.front() > 'z' || s.back() == '_') return false;
  char previous = 0;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok || (c == '_' && previous == '_')) return false;
    previous = c;
  }
  return true;
}

TEST(ParseErrorNames, NonEmptyUniqueSnakeCase) {
  const auto all = all_parse_errors();
  ASSERT_GT(all.size(), 30u);
  std::set<std::string_view> names;
  for (ParseError e : all) {
    const std::string_view name = to_string(e);
    EXPECT_FALSE(name.empty()) << static_cast<int>(e);
    EXPECT_TRUE(is_snake_case(name)) << '"' << name << '"';
    EXPECT_NE(name, "unknown_error");
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  }
  EXPECT_EQ(names.size(), all.size());
}

TEST(ParseErrorNames, ListIsTheEnumInOrder) {
  const auto all = all_parse_errors();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), ParseError::none);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(all[i]), i);
  }
}

TEST(ParseErrorNames, StableSpellings) {
  // Names are printed in reports and by the decode CLI: pin a few.
  EXPECT_EQ(to_string(ParseError::none), "none");
  EXPECT_EQ(to_string(ParseError::truncated_origin_indication), "truncated_origin_indication");
  EXPECT_EQ(to_string(ParseError::non_first_fragment), "non_first_fragment");
  EXPECT_EQ(to_string(ParseError::bad_icmpv6_checksum), "bad_icmpv6_checksum");
  EXPECT_EQ(to_string(ParseError::trailing_bytes_after_ipv6_packet),
            "trailing_bytes_after_ipv6_packet");
  EXPECT_EQ(to_string(static_cast<ParseError>(250)), "unknown_error");
}

TEST(Result, HoldsAValueOrAnError) {
  const Result<int> good = 42;
  EXPECT_TRUE(good.ok());
  EXPECT_TRUE(static_cast<bool>(good));
  EXPECT_EQ(good.error(), ParseError::none);
  EXPECT_EQ(*good, 42);
  EXPECT_EQ(good.value(), 42);
  const Result<int> bad = ParseError::truncated_echo;
  EXPECT_FALSE(bad.ok());
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(bad.error(), ParseError::truncated_echo);
  EXPECT_EQ(*bad, 0);  // default-constructed value
}

// --- the rejection table ---------------------------------------------------------

enum class Parser {
  link_ethernet,    // find_udp_carrier(ethernet, hex)
  link_raw,         // find_udp_carrier(raw, hex)
  link_type_147,    // find_udp_carrier(LinkType 147, hex)
  datagram,         // parse_datagram(hex)
  ipv6_packet,      // parse_ipv6_packet(hex)
  icmpv6,           // parse_icmpv6(parse_ipv6_packet(hex)), checksum verified
  echo,             // parse_echo over an ICMPv6 message given as hex
  rs,               // parse_router_solicitation over an ICMPv6 message
  ra,               // parse_router_advertisement over an ICMPv6 message
  nd_options,       // parse_nd_options(hex)
  authentication,   // parse_authentication(hex)
  origin,           // parse_origin_indication(hex)
  ipv4_text,        // parse_ipv4(text)
  ipv6_text,        // parse_ipv6(text)
  teredo_text,      // parse_teredo(text)
  nonce_trailer,    // parse_nonce_trailer of the first trailer in hex
  alternate_trailer,  // parse_alternate_address_trailer of the first trailer
  nd_trailer,       // parse_neighbor_discovery_trailer of the first trailer
  random_port_trailer,  // parse_random_port_trailer of the first trailer
};

struct Rejection {
  const char* name;
  Parser parser;
  std::string_view input;  // hex, or text for the *_text parsers
  ParseError expected;
};

void PrintTo(const Rejection& r, std::ostream* os) { *os << r.name; }

// Pieces of crafted inputs.
#define IPV4_UDP_HDR(total, frag, proto) \
  "45 00 " total " 0000 " frag " 40 " proto " 0000 c0000201 c0000202"
#define ADDRS "20010db8000000000000000000000001 20010db8000000000000000000000002"
#define BUBBLE "60000000 0000 3b ff " ADDRS
#define AUTH "0001 0000 0102030405060708 00"
#define ORIGIN "0000 feae fefdfcfb"
#define MACS "020000000002 020000000001"

// The captured RS (ndpi-teredo.pcap frame 1) with its last byte changed.
constexpr std::string_view kBadChecksumRs =
    "6000000000083aff fe800000000000000000fffffffffffe ff020000000000000000000000000002"
    "85007d38 00000001";

const Rejection kRejections[] = {
    // link layer and carrier
    {"unsupported_link_type", Parser::link_type_147, BUBBLE, ParseError::unsupported_link_type},
    {"ethernet_13_bytes", Parser::link_ethernet, MACS "08", ParseError::truncated_link_header},
    {"vlan_tag_cut", Parser::link_ethernet, MACS "8100 00", ParseError::truncated_link_header},
    {"arp_ethertype", Parser::link_ethernet, MACS "0806 0001080006040001", ParseError::not_ip},
    {"ip_version_5", Parser::link_raw, "5500001c", ParseError::not_ip},
    {"ipv4_19_bytes", Parser::link_raw, "45000014 00000000 40110000 c0000201 c00002",
     ParseError::truncated_ipv4_header},
    {"ipv4_ihl_4", Parser::link_raw, "44000014 00000000 40110000 c0000201 c0000202",
     ParseError::bad_ipv4_header},
    {"ipv4_total_length_19", Parser::link_raw, "45000013 00000000 40110000 c0000201 c0000202",
     ParseError::bad_ipv4_header},
    {"ipv4_fragment_offset_8", Parser::link_raw,
     IPV4_UDP_HDR("0020", "2001", "11") "03e80dd8000c0000 61626364",
     ParseError::non_first_fragment},
    {"ipv6_fragment_offset_8", Parser::link_raw,
     "60000000 0014 2c 40 " ADDRS " 11000008 00000001 03e80dd8000c0000 61626364",
     ParseError::non_first_fragment},
    {"ipv6_hop_by_hop_cut", Parser::link_raw, "60000000 0004 00 40 " ADDRS " 11000104",
     ParseError::truncated_ipv6_extension_header},
    {"ipv4_tcp", Parser::link_raw,
     IPV4_UDP_HDR("0028", "0000", "06") "0050005000000000 0000000050020000 00000000",
     ParseError::not_udp},
    {"ipv6_no_next_header", Parser::link_raw, BUBBLE, ParseError::not_udp},
    {"udp_7_bytes", Parser::link_raw, IPV4_UDP_HDR("001b", "0000", "11") "03e80dd8000800",
     ParseError::truncated_udp_header},
    {"udp_length_7", Parser::link_raw, IPV4_UDP_HDR("001c", "0000", "11") "03e80dd800070000",
     ParseError::bad_udp_length},
    // Teredo encapsulations
    {"empty_datagram", Parser::datagram, "", ParseError::empty_datagram},
    {"authentication_12_bytes", Parser::datagram, "0001 0000 0102030405060708",
     ParseError::truncated_authentication},
    {"authentication_id_len_past_end", Parser::authentication, "0001 ff00 0102030405060708 00",
     ParseError::truncated_authentication},
    {"origin_7_bytes", Parser::datagram, "0000 feae fefdfc",
     ParseError::truncated_origin_indication},
    {"origin_direct_3_bytes", Parser::origin, "0000fe", ParseError::truncated_origin_indication},
    {"two_authentications", Parser::datagram, AUTH AUTH BUBBLE,
     ParseError::duplicate_authentication},
    {"two_origins", Parser::datagram, ORIGIN ORIGIN BUBBLE,
     ParseError::duplicate_origin_indication},
    {"origin_then_authentication", Parser::datagram, ORIGIN AUTH BUBBLE,
     ParseError::authentication_after_origin_indication},
    {"indicator_0002", Parser::datagram, "0002 0000 " BUBBLE, ParseError::unknown_encapsulation},
    {"lone_zero_byte", Parser::datagram, "00", ParseError::unknown_encapsulation},
    {"origin_wrong_indicator", Parser::origin, "0001 feae fefdfcfb",
     ParseError::unknown_encapsulation},
    // IPv6
    {"datagram_ipv4_inside", Parser::datagram, "4500001c", ParseError::not_ipv6},
    {"ipv6_empty", Parser::ipv6_packet, "", ParseError::not_ipv6},
    {"ipv6_4_bytes", Parser::ipv6_packet, "60000000", ParseError::truncated_ipv6_header},
    {"ipv6_payload_length_1", Parser::ipv6_packet, "60000000 0001 3b ff " ADDRS,
     ParseError::truncated_ipv6_payload},
    {"datagram_trailer", Parser::datagram, BUBBLE "00",
     ParseError::trailing_bytes_after_ipv6_packet},
    // ICMPv6, ND, echo
    {"icmpv6_on_bubble", Parser::icmpv6, BUBBLE, ParseError::not_icmpv6},
    {"icmpv6_3_bytes", Parser::icmpv6, "60000000 0003 3a ff " ADDRS " 800000",
     ParseError::truncated_icmpv6},
    {"icmpv6_bad_checksum", Parser::icmpv6, kBadChecksumRs, ParseError::bad_icmpv6_checksum},
    {"echo_parser_on_rs", Parser::echo, "85000000 00000000", ParseError::wrong_icmpv6_type},
    {"rs_parser_on_ra", Parser::rs, "86000000 00000000 00000000 00000000",
     ParseError::wrong_icmpv6_type},
    {"rs_3_reserved_bytes", Parser::rs, "85000000 000000",
     ParseError::truncated_router_solicitation},
    {"ra_8_fixed_bytes", Parser::ra, "86000000 00000000 00000000",
     ParseError::truncated_router_advertisement},
    {"echo_2_bytes", Parser::echo, "80000000 0001", ParseError::truncated_echo},
    {"nd_zero_length", Parser::nd_options, "0100 000000000000", ParseError::nd_option_zero_length},
    {"nd_overlong", Parser::nd_options, "0102 000000000000", ParseError::nd_option_overlong},
    {"nd_one_byte", Parser::nd_options, "05", ParseError::truncated_nd_option},
    {"prefix_information_length_3", Parser::nd_options,
     "0303 4040 ffffffff ffffffff 00000000 2001000000000000",
     ParseError::bad_prefix_information_length},
    {"prefix_information_length_5", Parser::nd_options,
     "0305 4040 ffffffff ffffffff 00000000 20010000000000000000000000000000 0000000000000000",
     ParseError::bad_prefix_information_length},
    {"mtu_length_2", Parser::nd_options, "0502 0000 00000500 0000000000000000",
     ParseError::bad_mtu_option_length},
    {"ra_with_zero_length_option", Parser::ra, "86000000 00000000 00000000 00000000 0300",
     ParseError::nd_option_zero_length},
    // addresses
    {"ipv4_three_parts", Parser::ipv4_text, "1.2.3", ParseError::bad_ipv4_text},
    {"ipv6_two_double_colons", Parser::ipv6_text, "1::2::3", ParseError::bad_ipv6_text},
    {"teredo_text_not_ipv6", Parser::teredo_text, "2001:0:zz::", ParseError::bad_ipv6_text},
    {"teredo_text_6to4", Parser::teredo_text, "2002:c288:1c4c::c288:1c4d",
     ParseError::not_teredo_prefix},
    // RFC 6081 §4 trailers: type, length, value.
    {"nonce_trailer_length_3", Parser::nonce_trailer, "01 03 aa bb cc", ParseError::bad_trailer_length},
    {"nonce_trailer_read_as_random_port", Parser::random_port_trailer, "01 04 aa bb cc dd",
     ParseError::wrong_trailer_type},
    {"alternate_trailer_length_7", Parser::alternate_trailer, "03 07 00 00 c0 00 02 14 0d", ParseError::bad_trailer_length},
    {"alternate_trailer_port_zero", Parser::alternate_trailer, "03 08 00 00 c0 00 02 14 00 00",
     ParseError::bad_alternate_address},
    {"alternate_trailer_multicast", Parser::alternate_trailer, "03 08 00 00 e0 00 00 fd 0d d8",
     ParseError::bad_alternate_address},
    {"nd_trailer_type_2", Parser::nd_trailer, "04 04 02 00 00 00", ParseError::bad_discovery_type},
    {"random_port_trailer_length_4", Parser::random_port_trailer, "05 04 00 00 30 39", ParseError::bad_trailer_length},
};

#undef IPV4_UDP_HDR
#undef ADDRS
#undef BUBBLE
#undef AUTH
#undef ORIGIN
#undef MACS

Icmpv6Message message_of(const ByteVector& m) {
  Icmpv6Message msg;
  msg.type = m.at(0);
  msg.code = m.at(1);
  msg.checksum = static_cast<std::uint16_t>((m.at(2) << 8) | m.at(3));
  msg.body = Bytes(m).subspan(4);
  msg.message = m;
  return msg;
}

ParseError run(const Rejection& r) {
  if (r.parser == Parser::ipv4_text) return parse_ipv4(r.input).error();
  if (r.parser == Parser::ipv6_text) return parse_ipv6(r.input).error();
  if (r.parser == Parser::teredo_text) return parse_teredo(r.input).error();
  const ByteVector in = hex(r.input);
  switch (r.parser) {
    case Parser::link_ethernet: return find_udp_carrier(LinkType::ethernet, in).error();
    case Parser::link_raw: return find_udp_carrier(LinkType::raw, in).error();
    case Parser::link_type_147: return find_udp_carrier(static_cast<LinkType>(147), in).error();
    case Parser::datagram: return parse_datagram(in).error();
    case Parser::ipv6_packet: return parse_ipv6_packet(in).error();
    case Parser::icmpv6: {
      const auto p = parse_ipv6_packet(in);
      if (!p) return p.error();
      return parse_icmpv6(*p).error();
    }
    case Parser::echo: return parse_echo(message_of(in)).error();
    case Parser::rs: return parse_router_solicitation(message_of(in)).error();
    case Parser::ra: return parse_router_advertisement(message_of(in)).error();
    case Parser::nd_options: return parse_nd_options(in).error();
    case Parser::authentication: return parse_authentication(in).error();
    case Parser::origin: return parse_origin_indication(in).error();
    case Parser::nonce_trailer:
    case Parser::alternate_trailer:
    case Parser::nd_trailer:
    case Parser::random_port_trailer: {
      TrailerWalk walk(in);
      Trailer t;
      if (!walk.next(t)) return ParseError::none;  // a table row must hold one well-formed TLV
      if (r.parser == Parser::nonce_trailer) return parse_nonce_trailer(t).error();
      if (r.parser == Parser::alternate_trailer) return parse_alternate_address_trailer(t).error();
      if (r.parser == Parser::nd_trailer) return parse_neighbor_discovery_trailer(t).error();
      return parse_random_port_trailer(t).error();
    }
    case Parser::ipv4_text:
    case Parser::ipv6_text:
    case Parser::teredo_text: break;
  }
  ADD_FAILURE() << "unhandled parser for " << r.name;
  return ParseError::none;
}

class RejectionTable : public testing::TestWithParam<Rejection> {};

TEST_P(RejectionTable, ProducesTheExpectedError) {
  const Rejection& r = GetParam();
  EXPECT_EQ(to_string(run(r)), to_string(r.expected)) << r.name;
}

INSTANTIATE_TEST_SUITE_P(Crafted, RejectionTable, testing::ValuesIn(kRejections),
                         [](const testing::TestParamInfo<Rejection>& p) {
                           return std::string(p.param.name);
                         });

// The checksum row is only meaningful if the unflipped packet is accepted.
TEST(RejectionTableControls, UnflippedRsVerifies) {
  std::string good(kBadChecksumRs);
  good.back() = '0';
  const ByteVector bytes = hex(good);
  const auto p = parse_ipv6_packet(bytes);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(parse_icmpv6(*p).ok());
}

TEST(RejectionTableCoverage, CoversEveryErrorTheCodecCanReturn) {
  std::set<ParseError> covered;
  for (const Rejection& r : kRejections) covered.insert(r.expected);
  EXPECT_EQ(covered.count(ParseError::none), 0u) << "a rejection row expects success";
  for (ParseError e : all_parse_errors()) {
    if (e == ParseError::none) continue;
    EXPECT_EQ(covered.count(e), 1u) << "no rejection row produces " << to_string(e);
  }
  // Every code but none is covered: a code no parser returns has no place in the list.
  EXPECT_EQ(covered.size(), all_parse_errors().size() - 1);
}

TEST(RejectionTableCoverage, KnownGapsAreReportedAsBoolByWire) {
  // The conditions those two codes name are observable, just not as a ParseError.
  ByteVector out;
  EXPECT_FALSE(from_hex("0g", out));
  const ByteVector echo = build_echo(test::v6("::1"), test::v6("::2"), 1, EchoMessage{});
  const auto p = parse_ipv6_packet(echo);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(is_bubble(*p));
}

}  // namespace
}  // namespace teredo::wire
