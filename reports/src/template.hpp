// A logic-less page template (a subset of Mustache) rendered against a JSON
// view. The view holds text, never markup: every {{name}} is HTML-escaped
// here, which is the one place report.html escapes what a report says.
//
//   {{name}}              the value as text, HTML-escaped
//   {{{name}}}            the value as it is (the embedded CSS and JavaScript assets only)
//   {{#name}}...{{/name}} each element of an array in turn; once for any other value that
//                         is not false, null, "" or an empty array (the value is then the
//                         context); nothing otherwise
//   {{^name}}...{{/name}} once when {{#name}} would render nothing
//   {{! comment}}         nothing
// A name is looked up in the innermost context first, then outwards; "." is
// the context itself; "a.b" walks into objects. A tag alone on its line
// (a section or a comment) takes the line with it, so templates can be laid
// out readably. Numbers render as JSON numbers, booleans as true/false,
// missing values and null as nothing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace teredo::reports::detail {

// Throws std::invalid_argument for a malformed template (unclosed tag or
// section, a closing tag that does not match).
std::string render_template(std::string_view page, const nlohmann::json& view);

}  // namespace teredo::reports::detail
