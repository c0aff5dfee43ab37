// Helpers shared by the wire unit tests. They are written independently of
// reference/wire on purpose: fixtures are decoded with this file's own hex
// reader and glibc's inet_pton, never with the code under test, so a codec bug
// cannot make both the fixture and the check wrong in the same way.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/fixtures.hpp"
#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"

namespace teredo::wire::test {

using teredo::test::concat;
using teredo::test::hex;
using teredo::test::hexstr;
using teredo::test::v4;
using teredo::test::v6;

inline ByteVector to_vector(Bytes b) { return ByteVector(b.begin(), b.end()); }

}  // namespace teredo::wire::test
