#include "teredo/wire/encapsulation.hpp"

namespace teredo::wire {

Result<Authentication> parse_authentication(Bytes buffer) noexcept {
  ByteReader r(buffer);
  std::uint16_t indicator = 0;
  std::uint8_t id_length = 0;
  std::uint8_t value_length = 0;
  Authentication a;
  if (!r.u16(indicator) || !r.u8(id_length) || !r.u8(value_length) ||
      !r.take(id_length, a.client_id) || !r.take(value_length, a.authentication_value) ||
      !r.copy(a.nonce) || !r.u8(a.confirmation)) {
    return ParseError::truncated_authentication;
  }
  if (indicator != kIndicatorAuthentication) return ParseError::unknown_encapsulation;
  a.encoded = buffer.first(r.position());
  return a;
}

Result<OriginIndication> parse_origin_indication(Bytes buffer) noexcept {
  ByteReader r(buffer);
  std::uint16_t indicator = 0;
  std::uint16_t port = 0;
  std::uint32_t address = 0;
  if (!r.u16(indicator) || !r.u16(port) || !r.u32(address)) {
    return ParseError::truncated_origin_indication;
  }
  if (indicator != kIndicatorOrigin) return ParseError::unknown_encapsulation;
  // §5.1.1: each bit of the port and address is reversed on the wire.
  return OriginIndication{static_cast<std::uint16_t>(~port), Ipv4Address{~address}};
}

bool append_authentication(ByteVector& out, const AuthenticationFields& fields) {
  if (fields.client_id.size() > 255 || fields.authentication_value.size() > 255) return false;
  ByteWriter w(out);
  w.u16(kIndicatorAuthentication);
  w.u8(static_cast<std::uint8_t>(fields.client_id.size()));
  w.u8(static_cast<std::uint8_t>(fields.authentication_value.size()));
  w.bytes(fields.client_id);
  w.bytes(fields.authentication_value);
  w.bytes(fields.nonce);
  w.u8(fields.confirmation);
  return true;
}

void append_origin_indication(ByteVector& out, const OriginIndication& origin) {
  ByteWriter w(out);
  w.u16(kIndicatorOrigin);
  w.u16(static_cast<std::uint16_t>(~origin.port));
  w.u32(~origin.address.value);
}

}  // namespace teredo::wire
