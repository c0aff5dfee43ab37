#include "teredo/wire/encapsulation.hpp"

#include "internal.hpp"

namespace teredo::wire {

Result<Authentication> parse_authentication(Bytes buffer) noexcept {
  return detail::parse_in_place<Authentication>(
      [buffer](Authentication& a) { return detail::parse_authentication_into(buffer, a); });
}

Result<OriginIndication> parse_origin_indication(Bytes buffer) noexcept {
  return detail::parse_in_place<OriginIndication>(
      [buffer](OriginIndication& o) { return detail::parse_origin_indication_into(buffer, o); });
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
