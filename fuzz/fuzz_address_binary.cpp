// fuzz_address_binary: Teredo addresses from bytes (RFC 4380 §4, RFC 5991 §4).
// Input: 16 address bytes, then a cone byte and 16 random bits for
// make_teredo_flags (missing bytes read as zero).
// Properties: parse_teredo succeeds exactly on 2001:0000::/32 and to_ipv6()
// gives the address back; every field lands where the layout puts it; any
// field values survive to_ipv6 -> parse_teredo; make_teredo_flags keeps R, U
// and G clear, the cone bit as asked and the random bits under 0x3CFF.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_common.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/teredo_address.hpp"

using namespace teredo::wire;
using teredo::fuzz::be16;
using teredo::fuzz::be32;
using teredo::fuzz::check_error;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::array<std::uint8_t, 19> in{};
  if (size > 0) std::memcpy(in.data(), data, std::min(size, in.size()));
  Ipv6Address address;
  std::copy_n(in.begin(), 16, address.bytes.begin());

  for (int i = 0; i < 8; ++i) FUZZ_CHECK(address.group(i) == be16(&in[static_cast<std::size_t>(2 * i)]));
  FUZZ_CHECK(address.is_multicast() == (in[0] == 0xff));
  FUZZ_CHECK(address.is_link_local() == (in[0] == 0xfe && (in[1] & 0xc0) == 0x80));

  const bool prefix = in[0] == 0x20 && in[1] == 0x01 && in[2] == 0x00 && in[3] == 0x00;
  FUZZ_CHECK(is_teredo(address) == prefix);
  const auto teredo = parse_teredo(address);
  FUZZ_CHECK(teredo.ok() == prefix);
  if (teredo) {
    const TeredoAddress& t = *teredo;
    FUZZ_CHECK(t.to_ipv6() == address);
    FUZZ_CHECK(t.server.value == be32(&in[4]));
    FUZZ_CHECK(t.flags == be16(&in[8]));
    FUZZ_CHECK(t.mapped_port == static_cast<std::uint16_t>(~be16(&in[10])));
    FUZZ_CHECK(t.mapped_ipv4.value == ~be32(&in[12]));
    FUZZ_CHECK(t.cone() == ((t.flags & 0x8000) != 0));
    FUZZ_CHECK(t.random_bits() == (t.flags & 0x3CFF));
    FUZZ_CHECK(t.flags_valid_to_send() == ((t.flags & 0x4300) == 0));
    const Ipv6Address p = teredo_prefix(t.server);
    FUZZ_CHECK(std::equal(p.bytes.begin(), p.bytes.begin() + 8, address.bytes.begin()));
    FUZZ_CHECK(std::all_of(p.bytes.begin() + 8, p.bytes.end(), [](std::uint8_t b) { return b == 0; }));
    const auto from_text = parse_teredo(to_string(address));
    FUZZ_CHECK(from_text && *from_text == t);
  } else {
    check_error(teredo.error());
    FUZZ_CHECK(teredo.error() == ParseError::not_teredo_prefix);
  }

  // Any field values make an address that parses back to them.
  TeredoAddress built;
  built.server = Ipv4Address{be32(&in[4])};
  built.flags = be16(&in[8]);
  built.mapped_port = be16(&in[10]);
  built.mapped_ipv4 = Ipv4Address{be32(&in[12])};
  const Ipv6Address a = built.to_ipv6();
  FUZZ_CHECK(is_teredo(a));
  const auto back = parse_teredo(a);
  FUZZ_CHECK(back && *back == built);

  // IPv4 text both ways, and the scope classification is total.
  const auto v4 = parse_ipv4(to_string(built.mapped_ipv4));
  FUZZ_CHECK(v4 && *v4 == built.mapped_ipv4);
  FUZZ_CHECK(to_string(classify_ipv4(built.mapped_ipv4)) != "unknown");
  const auto o = built.server.octets();
  FUZZ_CHECK(Ipv4Address::from_octets(o[0], o[1], o[2], o[3]) == built.server);

  // Flags we send (RFC 5991 §4).
  const bool cone = (in[16] & 1) != 0;
  const std::uint16_t random = be16(&in[17]);
  const std::uint16_t flags = make_teredo_flags(cone, random);
  TeredoAddress sent = built;
  sent.flags = flags;
  FUZZ_CHECK(sent.cone() == cone);
  FUZZ_CHECK(sent.random_bits() == (random & kFlagRandomMask));
  FUZZ_CHECK(sent.flags_valid_to_send());
  FUZZ_CHECK((flags & (kFlagReserved | kFlagUniversalLocal | kFlagGroup)) == 0);
  FUZZ_CHECK((flags & ~(kFlagCone | kFlagRandomMask) & 0xFFFF) == 0);
  FUZZ_CHECK(make_teredo_flags(sent.cone(), sent.random_bits()) == flags);
  const auto sent_back = parse_teredo(sent.to_ipv6());
  FUZZ_CHECK(sent_back && sent_back->flags == flags && sent_back->flags_valid_to_send());
  return 0;
}
