// fuzz_encapsulation: the two Teredo encapsulations (RFC 4380 §5.1.1) on
// their own. Input: bytes that may start with one.
// Properties: a parsed encapsulation is a prefix of the input of the size its
// length bytes announce, and append_authentication / append_origin_indication
// write exactly those bytes back from the parsed fields; failures are the
// documented errors.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_common.hpp"
#include "teredo/wire/encapsulation.hpp"

using namespace teredo::wire;
using teredo::fuzz::be16;
using teredo::fuzz::be32;
using teredo::fuzz::check_error;
using teredo::fuzz::same_bytes;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);

  const auto auth = parse_authentication(input);
  const std::size_t auth_size =
      size >= 4 ? kAuthenticationFixedSize + std::size_t{data[2]} + std::size_t{data[3]} : 0;
  if (auth) {
    const Authentication& a = *auth;
    FUZZ_CHECK(be16(data) == kIndicatorAuthentication);
    FUZZ_CHECK(a.encoded.data() == data && a.encoded.size() == auth_size);
    FUZZ_CHECK(a.client_id.size() == data[2] && a.client_id.data() == data + 4);
    FUZZ_CHECK(a.authentication_value.size() == data[3] &&
               a.authentication_value.data() == data + 4 + data[2]);
    FUZZ_CHECK(same_bytes(a.nonce, input.subspan(auth_size - 9, kNonceSize)));
    FUZZ_CHECK(a.confirmation == data[auth_size - 1]);
    ByteVector out;
    const AuthenticationFields fields{a.client_id, a.authentication_value, a.nonce, a.confirmation};
    FUZZ_CHECK(append_authentication(out, fields));
    FUZZ_CHECK(same_bytes(out, a.encoded));
    const auto again = parse_authentication(out);
    FUZZ_CHECK(again && same_bytes(again->encoded, out) && again->nonce == a.nonce);
  } else {
    check_error(auth.error());
    const bool truncated = size < 4 || size < auth_size;
    FUZZ_CHECK(auth.error() ==
               (truncated ? ParseError::truncated_authentication : ParseError::unknown_encapsulation));
  }

  const auto origin = parse_origin_indication(input);
  if (origin) {
    FUZZ_CHECK(size >= kOriginIndicationSize && be16(data) == kIndicatorOrigin);
    FUZZ_CHECK(origin->port == static_cast<std::uint16_t>(~be16(data + 2)));
    FUZZ_CHECK(origin->address.value == ~be32(data + 4));
    ByteVector out;
    append_origin_indication(out, *origin);
    FUZZ_CHECK(same_bytes(out, input.first(kOriginIndicationSize)));
    const auto again = parse_origin_indication(out);
    FUZZ_CHECK(again && *again == *origin);
  } else {
    check_error(origin.error());
    FUZZ_CHECK(origin.error() == (size < kOriginIndicationSize ? ParseError::truncated_origin_indication
                                                               : ParseError::unknown_encapsulation));
  }

  // Any port and address survive the bit inversion both ways.
  if (size >= 6) {
    const OriginIndication any{be16(data), Ipv4Address{be32(data + 2)}};
    ByteVector out;
    append_origin_indication(out, any);
    FUZZ_CHECK(out.size() == kOriginIndicationSize);
    const auto back = parse_origin_indication(out);
    FUZZ_CHECK(back && *back == any);
  }

  // Overlong fields are refused and nothing is written.
  if (size > 255) {
    ByteVector out = {0xAA};
    AuthenticationFields fields;
    fields.client_id = input;
    FUZZ_CHECK(!append_authentication(out, fields) && out.size() == 1);
    fields.client_id = {};
    fields.authentication_value = input;
    FUZZ_CHECK(!append_authentication(out, fields) && out.size() == 1);
  }
  return 0;
}
