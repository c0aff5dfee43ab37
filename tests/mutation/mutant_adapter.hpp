// A mutant of the reference adapter: reference.json with every launch
// command run under the mutation fault shim (fault_shim.cpp) with one fault
// (fault_table.hpp). The placeholders ({teredo_ref}, ...) stay for the engine
// to expand. Used by the mutation test and by the wire fuzzer's lab test (a
// relay with a planted defect).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace teredo::testing {

inline nlohmann::json mutant_adapter(const nlohmann::json& reference, const std::string& fault,
                                     const std::string& shim_path) {
  nlohmann::json adapter = reference;
  adapter["name"] = "reference+" + fault;
  adapter["description"] = "teredo-ref under the mutation fault shim: " + fault;
  const std::function<void(nlohmann::json&)> prefix = [&](nlohmann::json& node) {
    if (!node.is_object()) return;
    for (auto& [key, value] : node.items()) {
      if (key == "command" && value.is_array()) {
        nlohmann::json command = nlohmann::json::array({"env", "LD_PRELOAD=" + shim_path, "TEREDO_FAULT=" + fault});
        for (const auto& word : value) command.push_back(word);
        value = command;
      } else {
        prefix(value);
      }
    }
  };
  prefix(adapter["roles"]);
  return adapter;
}

}  // namespace teredo::testing
