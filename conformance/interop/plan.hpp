// The interop plan: which implementation plays each role (client, server,
// relay), behind which NAT profile, for which scenarios. Every cell is one
// client × server × relay × NAT profile combination, run in a lab of its own
// (netns/topologies/client-nat.json); each scenario letter is judged in it.
// The plan is deterministic: NAT profiles in nat_profiles() order, then
// clients, servers and relays in the order given (defaults: the built-in
// adapters in name order), so two runs of the same command draw the same
// grid in the same order.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/iut_adapter.hpp"

namespace teredo::conformance::interop {

// Bad input to the plan (an unknown adapter, profile or letter): one line,
// the command exits 2.
class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A scenario this version offers: its letter in the grid, what it proves, and
// the requirements its verdict rests on (conformance/catalog/requirements.json).
struct Scenario {
  char letter;
  std::string name;
  std::string summary;
  std::vector<std::string> requirements;
};
// Q, N, D, L, S, R, H, in grid order (conformance/interop/README.md); any
// other letter is bad input.
const std::vector<Scenario>& offered_scenarios();
const Scenario& scenario(char letter);  // throws PlanError for a letter not offered

struct Cell {
  std::string nat, client, server, relay;  // profile and adapter names
  // "<nat>--<client>--<server>--<relay>": the cell's folder under OUT/cells/.
  [[nodiscard]] std::string id() const;
};

struct Plan {
  std::vector<Adapter> clients, servers, relays;
  std::vector<std::string> nat_profiles;
  std::string letters;  // offered_scenarios() order, each at most once
  std::vector<Cell> cells;
  [[nodiscard]] const Adapter& adapter(const std::string& role, const std::string& name) const;
};

// What the command line asked for; an empty list means the default.
struct PlanRequest {
  std::vector<std::string> clients, servers, relays;  // built-in names or adapter files
  std::vector<std::string> nat_profiles;
  std::string letters;
};

// The built-in adapters (conformance/iut/*.json) that declare `role`, by name.
std::vector<std::string> builtin_adapters_with_role(const std::string& role);

// Loads every adapter (load_adapter), checks it declares the role it is asked
// to play, the profiles (netns nat_profiles()) and the letters. Throws
// PlanError with one line naming the first problem.
Plan make_plan(const PlanRequest& request);

// The plan as printed before the run starts: one line per axis, then one line
// per cell, numbered.
std::string describe_plan(const Plan& plan);

// "a,b,,c" -> {"a","b","c"} (empty items dropped).
std::vector<std::string> split_list(const std::string& text);

}  // namespace teredo::conformance::interop
