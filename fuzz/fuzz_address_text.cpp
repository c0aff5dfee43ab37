// fuzz_address_text: the text parsers. parse_ipv6 / parse_teredo(string_view)
// / parse_ipv4, and from_hex.
// Properties: to_string(parse(x)) parses to the same value and is a fixed
// point; a text parser reads all of its input (no NUL may end the text early);
// IPv4 is strict dotted quad, so its canonical text is the input itself;
// parse_teredo(text) agrees with parse_ipv6 + parse_teredo(address).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/teredo_address.hpp"

using namespace teredo::wire;
using teredo::fuzz::check_error;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool has_nul = text.find('\0') != std::string_view::npos;

  const auto v6 = parse_ipv6(text);
  if (v6) {
    FUZZ_CHECK(!has_nul);
    const std::string canonical = to_string(*v6);
    FUZZ_CHECK(!canonical.empty() && canonical.size() < 46);
    for (char c : canonical) FUZZ_CHECK(!std::isupper(static_cast<unsigned char>(c)));  // RFC 5952 §4.3
    const auto again = parse_ipv6(canonical);
    FUZZ_CHECK(again && *again == *v6);
    FUZZ_CHECK(to_string(*again) == canonical);
  } else {
    check_error(v6.error());
    FUZZ_CHECK(v6.error() == ParseError::bad_ipv6_text);
  }

  const auto teredo = parse_teredo(text);
  if (v6) {
    const auto from_address = parse_teredo(*v6);
    FUZZ_CHECK(teredo.ok() == from_address.ok() && teredo.ok() == is_teredo(*v6));
    if (teredo) {
      FUZZ_CHECK(*teredo == *from_address);
      FUZZ_CHECK(teredo->to_ipv6() == *v6);
      const auto reparsed = parse_teredo(to_string(teredo->to_ipv6()));
      FUZZ_CHECK(reparsed && *reparsed == *teredo);
    } else {
      check_error(teredo.error());
      FUZZ_CHECK(teredo.error() == ParseError::not_teredo_prefix);
    }
  } else {
    FUZZ_CHECK(!teredo && teredo.error() == ParseError::bad_ipv6_text);
  }

  const auto v4 = parse_ipv4(text);
  if (v4) {
    FUZZ_CHECK(!has_nul);
    FUZZ_CHECK(to_string(*v4) == text);  // strict dotted quad: no other spelling is accepted
    FUZZ_CHECK(to_string(classify_ipv4(*v4)) != "unknown");
    FUZZ_CHECK(is_global_unicast(*v4) == (classify_ipv4(*v4) == Ipv4Scope::global_unicast));
  } else {
    check_error(v4.error());
    FUZZ_CHECK(v4.error() == ParseError::bad_ipv4_text);
  }

  ByteVector bytes;
  if (from_hex(text, bytes)) {
    const std::string hex = to_hex(bytes);
    FUZZ_CHECK(hex.size() == 2 * bytes.size());
    ByteVector again;
    FUZZ_CHECK(from_hex(hex, again) && again == bytes);
    FUZZ_CHECK(bytes.size() <= text.size() / 2);
  }
  return 0;
}
