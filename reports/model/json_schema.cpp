#include "teredo/reports/json_schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>

namespace teredo::schema {

using nlohmann::json;

namespace {

// Read by the validator or by people, never enforced.
// "format" is an annotation in draft 2020-12 (the report's timestamps carry
// a pattern too); "version" is the report schema's own (its format version).
const std::set<std::string> kAnnotations = {"$schema",  "$id",      "$defs",  "$comment", "title",
                                            "description", "default", "examples", "format", "version"};
const std::set<std::string> kSubschemaKeywords = {"additionalProperties", "items", "propertyNames",
                                                  "if",                   "then",  "else",
                                                  "not"};
const std::set<std::string> kNumberKeywords = {"minimum",  "maximum",  "minLength",    "maxLength",
                                               "minItems", "maxItems", "minProperties"};
const std::set<std::string> kTypes = {"object", "array", "string", "integer", "number", "boolean", "null"};

std::string escape_token(const std::string& token) {
  std::string out;
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// A value as a message quotes it: strings in single quotes, long ones cut.
std::string show(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (value.is_string()) text = "'" + text.substr(1, text.size() - 2) + "'";
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string type_of(const json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_null()) return "null";
  if (value.is_number_integer() || value.is_number_unsigned()) return "an integer";
  return "a number";
}

bool has_type(const json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    if (value.is_number_integer() || value.is_number_unsigned()) return true;
    if (!value.is_number_float()) return false;
    const double d = value.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

std::size_t code_points(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::vector<std::string> strings_of(const json& array) {
  std::vector<std::string> out;
  for (const auto& v : array) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string did_you_mean(const json& value, const std::vector<std::string>& candidates,
                         const std::string& around = {}) {
  if (!value.is_string()) return "";
  const std::string near = nearest_spelling(value.get<std::string>(), candidates);
  if (near.empty()) return "";
  const std::string open = around.empty() ? "" : "{", close = around.empty() ? "" : "}";
  return fmt::format(" (did you mean {}{}{}?)", open, near, close);
}

void check_schema(const json& root, const json& node, const std::string& where) {
  if (node.is_boolean()) return;
  if (!node.is_object()) throw SchemaError(fmt::format("schema {}: a schema is an object or a boolean", where));
  for (const auto& [key, value] : node.items()) {
    const std::string at = where + "/" + escape_token(key);
    if (key == "$defs" || key == "properties") {
      if (!value.is_object()) throw SchemaError(fmt::format("schema {}: must be an object", at));
      for (const auto& [name, sub] : value.items()) check_schema(root, sub, at + "/" + escape_token(name));
    } else if (kAnnotations.count(key)) {
      continue;
    } else if (kSubschemaKeywords.count(key)) {
      check_schema(root, value, at);
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      if (!value.is_array() || value.empty()) throw SchemaError(fmt::format("schema {}: must be a non-empty array", at));
      for (std::size_t i = 0; i < value.size(); ++i) check_schema(root, value[i], at + "/" + std::to_string(i));
    } else if (key == "$ref") {
      const std::string ref = value.is_string() ? value.get<std::string>() : "";
      if (ref.rfind("#/", 0) != 0) throw SchemaError(fmt::format("schema {}: only \"#/...\" references", at));
      if (!root.contains(json::json_pointer(ref.substr(1)))) {
        throw SchemaError(fmt::format("schema {}: {} does not resolve", at, ref));
      }
    } else if (key == "type") {
      const json types = value.is_array() ? value : json::array({value});
      for (const auto& t : types) {
        if (!t.is_string() || !kTypes.count(t.get<std::string>())) {
          throw SchemaError(fmt::format("schema {}: {} is not a type", at, t.dump()));
        }
      }
    } else if (key == "enum" || key == "required" || key == "x-placeholders") {
      if (!value.is_array()) throw SchemaError(fmt::format("schema {}: must be an array", at));
      if (key != "enum" && strings_of(value).size() != value.size()) {
        throw SchemaError(fmt::format("schema {}: must list strings", at));
      }
    } else if (kNumberKeywords.count(key)) {
      if (!value.is_number()) throw SchemaError(fmt::format("schema {}: must be a number", at));
    } else if (key == "const") {
      continue;
    } else if (key == "uniqueItems") {
      if (!value.is_boolean()) throw SchemaError(fmt::format("schema {}: must be a boolean", at));
    } else if (key == "pattern") {
      if (!value.is_string()) throw SchemaError(fmt::format("schema {}: must be a string", at));
      try {
        std::regex(value.get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw SchemaError(fmt::format("schema {}: {} is not an ECMAScript regular expression: {}", at, value.dump(), e.what()));
      }
    } else {
      throw SchemaError(fmt::format("schema {}: keyword '{}' is not supported (teredo/reports/json_schema.hpp)", at, key));
    }
  }
}

// Every "pattern" of a schema, compiled.
void collect_patterns(const json& node, std::map<std::string, std::regex>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "pattern" && value.is_string() && !out.contains(value.get<std::string>())) {
        out.emplace(value.get<std::string>(), std::regex(value.get<std::string>(), std::regex::ECMAScript));
      } else if (key != "const" && key != "enum" && key != "default" && key != "examples") {
        collect_patterns(value, out);
      }
    }
  } else if (node.is_array()) {
    for (const auto& v : node) collect_patterns(v, out);
  }
}

class Validator {
 public:
  Validator(const json& root, const std::map<std::string, std::regex>& patterns, std::vector<SchemaProblem>& out)
      : root_(root), patterns_(patterns), out_(out) {}

  void check(const json& schema, const json& value, const std::string& pointer) {
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) fail(pointer, "is not allowed here");
      return;
    }
    if (const auto ref = schema.find("$ref"); ref != schema.end()) {
      check(root_.at(json::json_pointer(ref->get<std::string>().substr(1))), value, pointer);
    }
    if (const auto type = schema.find("type"); type != schema.end()) {
      const json types = type->is_array() ? *type : json::array({*type});
      const bool any = std::any_of(types.begin(), types.end(),
                                   [&value](const json& t) { return has_type(value, t.get<std::string>()); });
      if (!any) {
        std::string expected;
        for (const auto& t : types) expected += (expected.empty() ? "" : " or ") + t.get<std::string>();
        fail(pointer, fmt::format("{} is {}, must be {}", show(value), type_of(value), expected));
        return;  // the other keywords would only repeat it
      }
    }
    if (const auto options = schema.find("enum"); options != schema.end()) {
      if (std::find(options->begin(), options->end(), value) == options->end()) {
        const auto title = schema.find("title");
        const std::string what = title != schema.end() && title->is_string()
                                     ? fmt::format("is not a known {}", title->get<std::string>())
                                     : "is not one of " + joined(strings_of(*options));
        fail(pointer, fmt::format("{} {}{}", show(value), what, did_you_mean(value, strings_of(*options))));
      }
    }
    if (const auto c = schema.find("const"); c != schema.end() && value != *c) {
      fail(pointer, fmt::format("{} must be {}", show(value), show(*c)));
    }
    if (value.is_number()) check_number(schema, value, pointer);
    if (value.is_string()) check_string(schema, value.get<std::string>(), pointer);
    if (value.is_object()) check_object(schema, value, pointer);
    if (value.is_array()) check_array(schema, value, pointer);
    if (const auto all = schema.find("allOf"); all != schema.end()) {
      for (const auto& sub : *all) check(sub, value, pointer);
    }
    if (const auto any = schema.find("anyOf"); any != schema.end()) {
      if (std::none_of(any->begin(), any->end(), [&](const json& sub) { return passes(sub, value); })) {
        fail(pointer, fmt::format("{} matches none of the {} forms allowed here{}", show(value), any->size(), why_not(*any, value)));
      }
    }
    if (const auto one = schema.find("oneOf"); one != schema.end()) {
      const auto n = std::count_if(one->begin(), one->end(), [&](const json& sub) { return passes(sub, value); });
      if (n == 0) fail(pointer, fmt::format("{} matches none of the {} forms allowed here{}", show(value), one->size(), why_not(*one, value)));
      if (n > 1) fail(pointer, fmt::format("{} matches {} of the forms allowed here, must match exactly one", show(value), n));
    }
    if (const auto condition = schema.find("if"); condition != schema.end()) {
      const auto branch = schema.find(passes(*condition, value) ? "then" : "else");
      if (branch != schema.end()) check(*branch, value, pointer);
    }
    if (const auto refused = schema.find("not"); refused != schema.end() && passes(*refused, value)) {
      const auto why = schema.find("description");
      fail(pointer, why != schema.end() && why->is_string() ? why->get<std::string>() : "is not allowed here");
    }
  }

 private:
  static std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

  bool passes(const json& schema, const json& value) const {
    std::vector<SchemaProblem> scratch;
    Validator(root_, patterns_, scratch).check(schema, value, "");
    return scratch.empty();
  }

  // " (first: ...)": why the first alternative refused the value, so a message
  // about an anyOf/oneOf says more than "none matched".
  std::string why_not(const json& alternatives, const json& value) const {
    if (alternatives.empty()) return "";
    std::vector<SchemaProblem> scratch;
    Validator(root_, patterns_, scratch).check(alternatives.front(), value, "");
    return scratch.empty() ? "" : " (" + scratch.front().message + ")";
  }

  void fail(const std::string& pointer, std::string message) { out_.push_back({pointer, std::move(message)}); }

  void check_number(const json& schema, const json& value, const std::string& pointer) {
    const double v = value.get<double>();
    if (const auto min = schema.find("minimum"); min != schema.end() && v < min->get<double>()) {
      fail(pointer, fmt::format("{} is below the minimum {}", show(value), min->dump()));
    }
    if (const auto max = schema.find("maximum"); max != schema.end() && v > max->get<double>()) {
      fail(pointer, fmt::format("{} is above the maximum {}", show(value), max->dump()));
    }
  }

  void check_string(const json& schema, const std::string& text, const std::string& pointer) {
    if (const auto min = schema.find("minLength"); min != schema.end() && static_cast<double>(code_points(text)) < min->get<double>()) {
      fail(pointer, min->get<double>() <= 1 ? "must not be empty"
                                             : fmt::format("must have at least {} characters", min->dump()));
    }
    if (const auto max = schema.find("maxLength"); max != schema.end() && static_cast<double>(code_points(text)) > max->get<double>()) {
      fail(pointer, fmt::format("must have at most {} characters", max->dump()));
    }
    if (const auto pattern = schema.find("pattern"); pattern != schema.end() &&
                                                       !std::regex_search(text, patterns_.at(pattern->get<std::string>()))) {
      fail(pointer, fmt::format("{} does not match {}", show(json(text)), pattern->get<std::string>()));
    }
    if (const auto names = schema.find("x-placeholders"); names != schema.end()) {
      const std::vector<std::string> known = strings_of(*names);
      // The placeholder syntax of expand() (engine/iut_adapter.cpp): {[a-z0-9_]+}.
      for (std::size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
        std::size_t end = open + 1;
        while (end < text.size() && (std::islower(static_cast<unsigned char>(text[end])) ||
                                     std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
          ++end;
        }
        if (end == open + 1 || end >= text.size() || text[end] != '}') continue;
        const std::string name = text.substr(open + 1, end - open - 1);
        if (std::find(known.begin(), known.end(), name) != known.end()) continue;
        std::string hint = did_you_mean(json(name), known, "{}");
        if (hint.empty()) {
          std::string list;
          for (const auto& k : known) list += (list.empty() ? "" : " ") + ("{" + k + "}");
          hint = " (known here: " + list + ")";
        }
        fail(pointer, fmt::format("unknown placeholder {{{}}}{}", name, hint));
      }
    }
  }

  void check_object(const json& schema, const json& value, const std::string& pointer) {
    if (const auto required = schema.find("required"); required != schema.end()) {
      for (const auto& name : *required) {
        if (!value.contains(name.get<std::string>())) {
          fail(pointer + "/" + escape_token(name.get<std::string>()), "is required but missing");
        }
      }
    }
    if (const auto min = schema.find("minProperties"); min != schema.end() && static_cast<double>(value.size()) < min->get<double>()) {
      fail(pointer, fmt::format("must have at least {} member(s)", min->dump()));
    }
    const auto properties = schema.find("properties");
    const auto additional = schema.find("additionalProperties");
    const auto names = schema.find("propertyNames");
    std::vector<std::string> known;
    if (properties != schema.end()) {
      for (const auto& [name, sub] : properties->items()) known.push_back(name);
    }
    for (const auto& [key, member] : value.items()) {
      const std::string at = pointer + "/" + escape_token(key);
      if (names != schema.end()) check(*names, json(key), at);
      if (properties != schema.end() && properties->contains(key)) {
        check((*properties)[key], member, at);
      } else if (additional != schema.end()) {
        if (additional->is_boolean() && !additional->get<bool>()) {
          fail(at, fmt::format("'{}' is not a known key here{}", key, did_you_mean(json(key), known)));
        } else {
          check(*additional, member, at);
        }
      }
    }
  }

  void check_array(const json& schema, const json& value, const std::string& pointer) {
    if (const auto min = schema.find("minItems"); min != schema.end() && static_cast<double>(value.size()) < min->get<double>()) {
      fail(pointer, min->get<double>() <= 1 ? "must not be empty"
                                             : fmt::format("must have at least {} items", min->dump()));
    }
    if (const auto max = schema.find("maxItems"); max != schema.end() && static_cast<double>(value.size()) > max->get<double>()) {
      fail(pointer, max->get<double>() < 1 ? "must be empty" : fmt::format("must have at most {} items", max->dump()));
    }
    if (const auto items = schema.find("items"); items != schema.end()) {
      for (std::size_t i = 0; i < value.size(); ++i) check(*items, value[i], pointer + "/" + std::to_string(i));
    }
    if (const auto unique = schema.find("uniqueItems"); unique != schema.end() && unique->get<bool>()) {
      for (std::size_t i = 1; i < value.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (value[i] == value[j]) {
            fail(pointer + "/" + std::to_string(i), fmt::format("{} repeats item {}: items must be unique", show(value[i]), j));
            break;
          }
        }
      }
    }
  }

  const json& root_;
  const std::map<std::string, std::regex>& patterns_;
  std::vector<SchemaProblem>& out_;
};

}  // namespace

JsonSchema::JsonSchema(json schema) : root_(std::move(schema)) {
  check_schema(root_, root_, "");
  auto patterns = std::make_shared<std::map<std::string, std::regex>>();
  collect_patterns(root_, *patterns);
  patterns_ = std::move(patterns);
}

JsonSchema JsonSchema::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw SchemaError(fmt::format("cannot read the schema {}", path));
  json schema = json::parse(in, nullptr, false);
  if (schema.is_discarded()) throw SchemaError(fmt::format("the schema {} is not valid JSON", path));
  try {
    return JsonSchema(std::move(schema));
  } catch (const SchemaError& e) {
    throw SchemaError(fmt::format("{}: {}", path, e.what()));
  }
}

std::vector<SchemaProblem> JsonSchema::validate(const json& document) const {
  std::vector<SchemaProblem> problems;
  Validator(root_, *patterns_, problems).check(root_, document, "");
  // Document order: by pointer, token by token, array indices as numbers.
  const auto tokens = [](const std::string& pointer) {
    std::vector<std::string> out;
    for (std::size_t at = 1; at <= pointer.size();) {
      const std::size_t next = std::min(pointer.find('/', at), pointer.size());
      out.push_back(pointer.substr(at, next - at));
      at = next + 1;
    }
    return out;
  };
  const auto before = [](const std::string& a, const std::string& b) {
    const bool numbers = !a.empty() && !b.empty() && std::all_of(a.begin(), a.end(), ::isdigit) &&
                         std::all_of(b.begin(), b.end(), ::isdigit);
    if (numbers && a.size() != b.size()) return a.size() < b.size();
    return a < b;
  };
  std::stable_sort(problems.begin(), problems.end(), [&](const SchemaProblem& x, const SchemaProblem& y) {
    const auto a = tokens(x.pointer), b = tokens(y.pointer);
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), before);
  });
  return problems;
}

std::string to_string(const SchemaProblem& problem) {
  return fmt::format("{}: {}", problem.pointer.empty() ? "/" : problem.pointer, problem.message);
}

std::string nearest_spelling(const std::string& word, const std::vector<std::string>& candidates) {
  const std::size_t allowed = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  std::string best;
  std::size_t best_distance = allowed + 1;
  for (const auto& candidate : candidates) {
    // Levenshtein distance, one row at a time.
    std::vector<std::size_t> row(candidate.size() + 1);
    for (std::size_t j = 0; j <= candidate.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= word.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= candidate.size(); ++j) {
        const std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (word[i - 1] == candidate[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    if (row.back() < best_distance) {
      best_distance = row.back();
      best = candidate;
    }
  }
  return best_distance == 0 ? "" : best;
}

}  // namespace teredo::schema
