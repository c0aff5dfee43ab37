#include "template.hpp"

#include <stdexcept>
#include <vector>

#include "text.hpp"

namespace teredo::reports::detail {

namespace {

using nlohmann::json;

struct Node {
  enum class Kind { text, escaped, raw, section, inverted };
  Kind kind = Kind::text;
  std::string value;  // the text, or the name
  std::vector<Node> children;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

class Parser {
 public:
  explicit Parser(std::string_view page) : page_(page) {}

  // The nodes up to {{/section}} (an empty section: up to the end of the page).
  std::vector<Node> parse(const std::string& section = {}) {
    std::vector<Node> nodes;
    while (pos_ < page_.size()) {
      const std::size_t open = page_.find("{{", pos_);
      if (open == std::string_view::npos) break;
      const bool triple = page_.compare(open, 3, "{{{") == 0;
      const std::string_view closer = triple ? "}}}" : "}}";
      const std::size_t close = page_.find(closer, open);
      if (close == std::string_view::npos) throw std::invalid_argument("template: unclosed tag at byte " + std::to_string(open));
      const std::size_t end = close + closer.size();
      std::string_view tag = page_.substr(open + closer.size(), close - open - closer.size());
      const char sigil = triple || tag.empty() ? '\0' : tag.front();
      const bool structural = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!';
      if (structural) tag.remove_prefix(1);
      const std::string name(trim(tag));

      // A structural tag alone on its line takes its indentation and newline with it.
      std::size_t text_end = open, next = end;
      if (structural) {
        const std::size_t line = page_.rfind('\n', open == 0 ? 0 : open - 1);
        const std::size_t from = line == std::string_view::npos || open == 0 ? 0 : line + 1;
        const std::size_t eol = page_.find('\n', end);
        const std::size_t to = eol == std::string_view::npos ? page_.size() : eol;
        if (from >= pos_ && blank(page_.substr(from, open - from)) && blank(page_.substr(end, to - end))) {
          text_end = from;
          next = eol == std::string_view::npos ? page_.size() : eol + 1;
        }
      }
      if (text_end > pos_) nodes.push_back(Node{Node::Kind::text, std::string(page_.substr(pos_, text_end - pos_)), {}});
      pos_ = next;

      switch (sigil) {
        case '!': break;
        case '/':
          if (name != section) {
            throw std::invalid_argument("template: {{/" + name + "}} closes " + (section.empty() ? "nothing" : section));
          }
          return nodes;
        case '#':
        case '^': {
          Node node{sigil == '#' ? Node::Kind::section : Node::Kind::inverted, name, {}};
          node.children = parse(name);
          nodes.push_back(std::move(node));
          break;
        }
        default: nodes.push_back(Node{triple ? Node::Kind::raw : Node::Kind::escaped, name, {}});
      }
    }
    if (!section.empty()) throw std::invalid_argument("template: {{#" + section + "}} is not closed");
    if (pos_ < page_.size()) nodes.push_back(Node{Node::Kind::text, std::string(page_.substr(pos_)), {}});
    pos_ = page_.size();
    return nodes;
  }

 private:
  std::string_view page_;
  std::size_t pos_ = 0;
};

using Contexts = std::vector<const json*>;

const json* lookup(const std::string& name, const Contexts& contexts) {
  if (name == ".") return contexts.back();
  const std::size_t dot = name.find('.');
  const std::string first = name.substr(0, dot);
  for (auto c = contexts.rbegin(); c != contexts.rend(); ++c) {
    if (!(*c)->is_object()) continue;
    const auto found = (*c)->find(first);
    if (found == (*c)->end()) continue;
    const json* value = &*found;
    for (std::size_t at = dot; at != std::string::npos && value != nullptr;) {
      const std::size_t after = name.find('.', at + 1);
      const std::string part = name.substr(at + 1, after == std::string::npos ? std::string::npos : after - at - 1);
      const auto inner = value->is_object() ? value->find(part) : value->end();
      value = value->is_object() && inner != value->end() ? &*inner : nullptr;
      at = after;
    }
    return value;
  }
  return nullptr;
}

bool truthy(const json* v) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string()) return !v->get_ref<const std::string&>().empty();
  if (v->is_array()) return !v->empty();
  return true;
}

std::string as_text(const json* v) {
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return v->get<std::string>();
  return v->dump(-1, ' ', false, json::error_handler_t::replace);
}

void render(const std::vector<Node>& nodes, Contexts& contexts, std::string& out) {
  for (const Node& node : nodes) {
    switch (node.kind) {
      case Node::Kind::text: out += node.value; break;
      case Node::Kind::escaped: out += html_escape(as_text(lookup(node.value, contexts))); break;
      case Node::Kind::raw: out += as_text(lookup(node.value, contexts)); break;
      case Node::Kind::section: {
        const json* v = lookup(node.value, contexts);
        if (!truthy(v)) break;
        if (v->is_array()) {
          for (const json& element : *v) {
            contexts.push_back(&element);
            render(node.children, contexts, out);
            contexts.pop_back();
          }
        } else {
          contexts.push_back(v);
          render(node.children, contexts, out);
          contexts.pop_back();
        }
        break;
      }
      case Node::Kind::inverted:
        if (!truthy(lookup(node.value, contexts))) render(node.children, contexts, out);
        break;
    }
  }
}

}  // namespace

std::string render_template(std::string_view page, const nlohmann::json& view) {
  const std::vector<Node> nodes = Parser(page).parse();
  Contexts contexts{&view};
  std::string out;
  render(nodes, contexts, out);
  return out;
}

}  // namespace teredo::reports::detail
