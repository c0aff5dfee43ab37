#include "teredo/wire/result.hpp"

#include <array>

namespace teredo::wire {

namespace {
constexpr std::array kNames = {
#define TEREDO_WIRE_NAME(name) std::string_view{#name},
    TEREDO_WIRE_PARSE_ERRORS(TEREDO_WIRE_NAME)
#undef TEREDO_WIRE_NAME
};
constexpr std::array kErrors = {
#define TEREDO_WIRE_VALUE(name) ParseError::name,
    TEREDO_WIRE_PARSE_ERRORS(TEREDO_WIRE_VALUE)
#undef TEREDO_WIRE_VALUE
};
}  // namespace

std::string_view to_string(ParseError error) noexcept {
  const auto index = static_cast<std::size_t>(error);
  return index < kNames.size() ? kNames[index] : std::string_view{"unknown_error"};
}

std::span<const ParseError> all_parse_errors() noexcept { return kErrors; }

}  // namespace teredo::wire
