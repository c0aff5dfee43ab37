#include "teredo/node/endpoint.hpp"
#include "teredo/node/outbox.hpp"

namespace teredo::node {

std::string to_string(const UdpEndpoint& endpoint) {
  return wire::to_string(endpoint.address) + ":" + std::to_string(endpoint.port);
}

std::string_view to_string(EventKind kind) noexcept {
  return kind == EventKind::drop ? "drop" : "action";
}

std::string to_string(const Event& event) {
  std::string line(to_string(event.kind));
  line += ' ';
  line += event.code;
  if (!event.requirement.empty()) {
    line += ' ';
    line += event.requirement;
  }
  if (!event.text.empty()) {
    line += ' ';
    line += event.text;
  }
  return line;
}

}  // namespace teredo::node
