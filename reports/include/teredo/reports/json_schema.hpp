// A JSON Schema (draft 2020-12) validator for the subset of keywords the
// project's own schemas use, so that a schema file stays the one definition
// of what a valid document is (conformance/iut/adapter.schema.json for IUT
// adapters, reports/schema/ for report.json): the loader and the report
// checker run the schema, they do not restate its rules.
//
// Keywords: type, enum, const, required, properties, additionalProperties,
// propertyNames, minProperties, items, minItems, maxItems, minimum, maximum,
// minLength, maxLength, pattern (ECMAScript, unanchored), uniqueItems, $ref
// (to "#/..." in the same file), allOf, anyOf, oneOf, if/then/else, not,
// boolean schemas; annotations ($schema, $id, $defs, $comment, title,
// description, default, examples, format, and the report schema's "version")
// are read, not enforced.
// One keyword of this project: "x-placeholders": [names] on a string means
// every "{name}" in it (name: [a-z0-9_]+) must be one of the names.
// A schema with any other keyword is refused when it is loaded, so a rule
// added to the file can never be silently ignored here.
//
// Messages say what is wrong in words a vendor reads: "'redy' is not a known
// key here (did you mean ready?)". A subschema's "title" names what an enum
// lists ("is not a known capability"); a "not" subschema's "description"
// says why the value is refused.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace teredo::schema {

class SchemaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SchemaProblem {
  std::string pointer;  // JSON pointer (RFC 6901) into the document; "" is the document itself
  std::string message;
};

class JsonSchema {
 public:
  // Throws SchemaError when the schema uses a keyword outside the subset, or
  // a $ref that does not resolve.
  explicit JsonSchema(nlohmann::json schema);
  // Reads and checks a schema file (SchemaError: unreadable, malformed, or
  // as above).
  static JsonSchema load(const std::string& path);

  // Every problem of `document`, in document order (an empty list: valid).
  [[nodiscard]] std::vector<SchemaProblem> validate(const nlohmann::json& document) const;

 private:
  nlohmann::json root_;
  // Every "pattern" of the schema, compiled once when it is loaded.
  std::shared_ptr<const std::map<std::string, std::regex>> patterns_;
};

// "'/a/b: message'": the one line a command prints for a problem ("/" for the
// document itself).
std::string to_string(const SchemaProblem& problem);

// The candidate nearest to `word` by edit distance when it is near enough to
// be a misspelling of it (at most a third of its letters, at least 1, at most
// 3 edits), else "".
std::string nearest_spelling(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace teredo::schema
