// RFC 6081 §4: trailers, the type-length-value options that may follow the
// IPv6 packet inside a Teredo UDP payload (datagram.hpp hands them over as
// ipv6.trailer when trailers are accepted). A walk over them, the typed
// values of the four trailers RFC 6081 defines, and their builders. Views:
// nothing allocates while reading.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/result.hpp"

namespace teredo::wire {

// RFC 6081 §4.2-§4.5.
inline constexpr std::uint8_t kTrailerNonce = 0x01;
inline constexpr std::uint8_t kTrailerAlternateAddress = 0x03;
inline constexpr std::uint8_t kTrailerNeighborDiscovery = 0x04;
inline constexpr std::uint8_t kTrailerRandomPort = 0x05;

// §4.1: a receiver that does not know a trailer whose type's top two bits are
// 01 drops the whole packet (R6081-5.1.2-02); other unknown ones are skipped.
inline constexpr bool trailer_type_must_be_understood(std::uint8_t type) noexcept { return (type & 0xC0) == 0x40; }

struct Trailer {
  std::uint8_t type = 0;
  Bytes value;  // Length bytes
};

// The trailers in the order they appear (R6081-5.1.2-01). next() gives the
// next well-formed one; it stops at the end or at a malformed one (fewer than
// 2 bytes left, or fewer than 2 + Length: R6081-5.1.2-04), which malformed()
// then tells apart from the end.
class TrailerWalk {
 public:
  explicit TrailerWalk(Bytes trailers) noexcept : reader_(trailers) {}
  [[nodiscard]] bool next(Trailer& out) noexcept;
  [[nodiscard]] bool malformed() const noexcept { return malformed_; }
  // Where the malformed trailer starts (bytes from the first trailer).
  [[nodiscard]] std::size_t position() const noexcept { return reader_.position(); }

 private:
  ByteReader reader_;
  bool malformed_ = false;
};

// The first trailer of `type` before any malformed one (empty Trailer::value
// and false when there is none).
bool find_trailer(Bytes trailers, std::uint8_t type, Trailer& out) noexcept;

// §4.2: the Nonce Trailer's value (Length 4).
Result<std::uint32_t> parse_nonce_trailer(const Trailer& t) noexcept;

// §4.3: the Alternate Address Trailer: 2 reserved bytes (sent 0, ignored on
// receipt) then 6-byte entries, IPv4 address and port; Length 8-26, each
// address a valid unicast IPv4 address, no port 0.
struct AlternateAddress {
  Ipv4Address address;
  std::uint16_t port = 0;
  friend bool operator==(const AlternateAddress&, const AlternateAddress&) = default;
};
struct AlternateAddresses {
  static constexpr std::size_t kMax = 4;  // (26 - 2) / 6
  std::array<AlternateAddress, kMax> entries{};
  std::size_t count = 0;
  std::uint16_t reserved = 0;
};
Result<AlternateAddresses> parse_alternate_address_trailer(const Trailer& t) noexcept;

// §4.4: the Neighbor Discovery Option Trailer: DiscoveryType then 3 reserved
// bytes (Length 4).
inline constexpr std::uint8_t kDiscoverySolicitation = 0x00;
inline constexpr std::uint8_t kDiscoveryAdvertisement = 0x01;
Result<std::uint8_t> parse_neighbor_discovery_trailer(const Trailer& t) noexcept;

// §4.5: the Random Port Trailer: a port in network byte order (Length 2).
Result<std::uint16_t> parse_random_port_trailer(const Trailer& t) noexcept;

// Builders: append one trailer to `out`. The alternate-address builder
// refuses (false, nothing appended) an empty list or more than kMax entries.
void append_nonce_trailer(ByteVector& out, std::uint32_t nonce);
bool append_alternate_address_trailer(ByteVector& out, const AlternateAddress* entries, std::size_t count);
void append_neighbor_discovery_trailer(ByteVector& out, std::uint8_t discovery_type);
void append_random_port_trailer(ByteVector& out, std::uint16_t port);

}  // namespace teredo::wire
