// Internal helpers of the renderers: text cleaning and escaping for XML, HTML
// and Markdown, number formatting, and lenient reads of the JSON that has no
// C++ types (interop.json, a fuzz report's "fuzz" section: a missing field
// renders as empty). report.json itself is read through report.hpp's types.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "teredo/reports/report.hpp"
#include "teredo/reports/verdict.hpp"

namespace teredo::reports::detail {

using nlohmann::json;

// (The verdicts, levels and roles are teredo/reports/verdict.hpp's.)

// Valid UTF-8 that every XML 1.0 and HTML consumer accepts: a byte that is not
// part of a well-formed UTF-8 sequence becomes the text "\xNN"; C0 controls
// other than tab, LF and CR, DEL and C1 controls become "\xNN" or "\u{NN}";
// the non-characters U+FFFE and U+FFFF become "\u{FFFE}" / "\u{FFFF}".
std::string clean_text(std::string_view in);

// XML character data (attribute = false) or an attribute value in double
// quotes (attribute = true: also &quot; &apos; and tab/LF/CR as character
// references, so parsers do not normalise them away).
std::string xml_escape(std::string_view in, bool attribute = false);
// HTML text or a double-quoted attribute value: & < > " ' escaped.
std::string html_escape(std::string_view in);
// A relative href from a path: every byte but [A-Za-z0-9-._~/] percent-encoded,
// so a ':' can never make it a URL scheme.
std::string url_path_encode(std::string_view path);
// The id/fragment of a case's anchor ("case-" + id, whitespace replaced).
std::string case_anchor(std::string_view case_id);
// A GitHub-flavoured Markdown table cell: one line, pipes and inline markup
// escaped.
std::string md_cell(std::string_view in);

// "0.812" from 812 (milliseconds as seconds, three decimals, no locale).
std::string seconds(std::int64_t ms);
// "96.0" (one decimal, no locale).
std::string one_decimal(double value);
// Truncates to at most max bytes on a UTF-8 boundary, adding "..." when cut.
std::string truncate(std::string_view in, std::size_t max);

// Lenient field access.
const json& field(const json& object, std::string_view key);  // null json when absent
const json& array(const json& object, std::string_view key);  // empty array when not an array
// A string field as text: strings as is, numbers and booleans as JSON, null
// or absent as "".
std::string text(const json& object, std::string_view key);
std::string text(const json& value);
std::int64_t integer(const json& object, std::string_view key, std::int64_t fallback = 0);
std::vector<std::string> strings(const json& object, std::string_view key);

// An assertion's requirement ID, or "harness rule" for the harness's own
// rules (requirement null, e.g. code iut_died).
std::string requirement_label(const Assertion& assertion);

}  // namespace teredo::reports::detail
