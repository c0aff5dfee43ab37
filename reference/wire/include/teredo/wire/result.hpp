// Errors are values in the wire layer: every parser returns a Result that holds
// either the parsed view or a named ParseError. The names are stable: reports,
// case messages and the decode CLI print them as they are.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace teredo::wire {

#define TEREDO_WIRE_PARSE_ERRORS(X)                                                        \
  X(none)                                                                                  \
  /* link layer and carrier (frame.hpp) */                                                 \
  X(unsupported_link_type)                                                                 \
  X(truncated_link_header)                                                                 \
  X(not_ip)                                                                                \
  X(truncated_ipv4_header)                                                                 \
  X(bad_ipv4_header)                                                                       \
  X(non_first_fragment)                                                               \
  X(truncated_ipv6_extension_header)                                                       \
  X(not_udp)                                                                               \
  X(truncated_udp_header)                                                                  \
  X(bad_udp_length)                                                                        \
  /* Teredo encapsulations (encapsulation.hpp, datagram.hpp) */                            \
  X(empty_datagram)                                                                        \
  X(truncated_authentication)                                                              \
  X(truncated_origin_indication)                                                           \
  X(duplicate_authentication)                                                              \
  X(duplicate_origin_indication)                                                           \
  X(authentication_after_origin_indication)                                                \
  X(unknown_encapsulation)                                                                 \
  /* IPv6 (ipv6.hpp) */                                                                    \
  X(not_ipv6)                                                                              \
  X(truncated_ipv6_header)                                                                 \
  X(truncated_ipv6_payload)                                                                \
  X(trailing_bytes_after_ipv6_packet)                                                      \
  /* ICMPv6, ND, echo, bubbles (icmpv6.hpp, nd.hpp) */                                     \
  X(not_icmpv6)                                                                            \
  X(truncated_icmpv6)                                                                      \
  X(bad_icmpv6_checksum)                                                                   \
  X(wrong_icmpv6_type)                                                                     \
  X(truncated_router_solicitation)                                                         \
  X(truncated_router_advertisement)                                                        \
  X(truncated_echo)                                                                        \
  X(nd_option_zero_length)                                                                 \
  X(nd_option_overlong)                                                                    \
  X(truncated_nd_option)                                                                   \
  X(bad_prefix_information_length)                                                         \
  X(bad_mtu_option_length)                                                                 \
  /* addresses (ipv4.hpp, ipv6.hpp, teredo_address.hpp) */                                 \
  X(bad_ipv4_text)                                                                         \
  X(bad_ipv6_text)                                                                         \
  X(not_teredo_prefix)                                                                      \
  /* RFC 6081 trailers (trailer.hpp) */                                                    \
  X(wrong_trailer_type)                                                                    \
  X(bad_trailer_length)                                                                    \
  X(bad_alternate_address)                                                                 \
  X(bad_discovery_type)

enum class ParseError : std::uint8_t {
#define TEREDO_WIRE_ENUM(name) name,
  TEREDO_WIRE_PARSE_ERRORS(TEREDO_WIRE_ENUM)
#undef TEREDO_WIRE_ENUM
};

// The stable name of an error, e.g. "truncated_origin_indication".
std::string_view to_string(ParseError error) noexcept;

// Every error code, for tests and documentation that must cover them all.
std::span<const ParseError> all_parse_errors() noexcept;

// A value or a ParseError. T must be default-constructible (views are).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(ParseError error) : error_(error) {}    // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return error_ == ParseError::none; }
  explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] ParseError error() const noexcept { return error_; }
  [[nodiscard]] const T& value() const noexcept { return value_; }
  [[nodiscard]] T& value() noexcept { return value_; }
  const T& operator*() const noexcept { return value_; }
  const T* operator->() const noexcept { return &value_; }

 private:
  T value_{};
  ParseError error_ = ParseError::none;
};

}  // namespace teredo::wire
