#include "text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace teredo::reports::detail {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void append_byte_escape(std::string& out, unsigned char byte) {
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0x0F];
}

void append_codepoint_escape(std::string& out, std::uint32_t cp) {
  out += "\\u{";
  std::array<char, 8> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), cp, 16);
  for (const char* p = buf.data(); p != r.ptr; ++p) {
    out += static_cast<char>(*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
  }
  out += '}';
}

// Length of the well-formed UTF-8 sequence starting at in[i] (1..4) and its
// code point, or 0 when the bytes there are not one (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view in, std::size_t i, std::uint32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > in.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  return len;
}

}  // namespace

std::string clean_text(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(in, i, cp);
    if (len == 0) {
      append_byte_escape(out, static_cast<unsigned char>(in[i]));
      ++i;
      continue;
    }
    if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') {
      append_byte_escape(out, static_cast<unsigned char>(cp));
    } else if (cp == 0x7F) {
      append_byte_escape(out, 0x7F);
    } else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF) {
      append_codepoint_escape(out, cp);
    } else {
      out.append(in.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string xml_escape(std::string_view in, bool attribute) {
  const std::string clean = clean_text(in);
  std::string out;
  out.reserve(clean.size() + clean.size() / 8);
  for (const char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += attribute ? "&quot;" : "\""; break;
      case '\'': out += attribute ? "&apos;" : "'"; break;
      case '\n': out += attribute ? "&#10;" : "\n"; break;
      case '\t': out += attribute ? "&#9;" : "\t"; break;
      // A bare CR in character data would be normalised to LF by parsers.
      case '\r': out += "&#13;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html_escape(std::string_view in) {
  const std::string clean = clean_text(in);
  std::string out;
  out.reserve(clean.size() + clean.size() / 8);
  for (const char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url_path_encode(std::string_view path) {
  std::string out;
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string case_anchor(std::string_view case_id) {
  std::string out = "case-";
  for (const char c : case_id) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    out += space ? '_' : c;
  }
  return out;
}

std::string md_cell(std::string_view in) {
  const std::string clean = clean_text(in);
  std::string out;
  for (const char c : clean) {
    switch (c) {
      case '\n':
      case '\r':
      case '\t': out += ' '; break;
      case '\\':
      case '|':
      case '*':
      case '_':
      case '`':
      case '[':
      case ']':
      case '<':
      case '>':
      case '&':
      case '~':
        out += '\\';
        out += c;
        break;
      default: out += c;
    }
  }
  return out;
}

std::string seconds(std::int64_t ms) {
  if (ms < 0) ms = 0;
  std::string frac = std::to_string(ms % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  return std::to_string(ms / 1000) + "." + frac;
}

std::string one_decimal(double value) {
  if (!std::isfinite(value)) return "0.0";
  std::array<char, 64> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed, 1);
  if (r.ec != std::errc{}) return "0.0";
  return std::string(buf.data(), r.ptr);
}

std::string truncate(std::string_view in, std::size_t max) {
  if (in.size() <= max) return std::string(in);
  std::size_t cut = max;
  // Step back over UTF-8 continuation bytes so a character is never split.
  while (cut > 0 && (static_cast<unsigned char>(in[cut]) & 0xC0u) == 0x80u) --cut;
  return std::string(in.substr(0, cut)) + "...";
}

const json& field(const json& object, std::string_view key) {
  static const json null_value;
  if (!object.is_object()) return null_value;
  const auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

const json& array(const json& object, std::string_view key) {
  static const json empty = json::array();
  const json& value = field(object, key);
  return value.is_array() ? value : empty;
}

std::string text(const json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>();
  if (value.is_null()) return {};
  if (value.is_number() || value.is_boolean()) return value.dump();
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string text(const json& object, std::string_view key) { return text(field(object, key)); }

std::string requirement_label(const Assertion& assertion) { return assertion.requirement.value_or("harness rule"); }

std::int64_t integer(const json& object, std::string_view key, std::int64_t fallback) {
  const json& value = field(object, key);
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(u);
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && std::abs(d) < 9.0e18) return static_cast<std::int64_t>(std::llround(d));
  }
  return fallback;
}

std::vector<std::string> strings(const json& object, std::string_view key) {
  std::vector<std::string> out;
  for (const json& v : array(object, key)) out.push_back(text(v));
  return out;
}

}  // namespace teredo::reports::detail
