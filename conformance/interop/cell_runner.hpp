// One interop cell in the lab: the client-nat topology with the cell's NAT
// profile, the three implementations started through their adapters, a
// capture at every vantage point (judge.hpp kVantagePoints) kept under the
// cell's folder, the scenarios' stimuli, then the judgement from the
// captures alone.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "interop/judge.hpp"
#include "interop/plan.hpp"

namespace teredo::conformance::interop {

struct CellResult {
  Cell cell;
  std::string dir;  // relative to OUT: "cells/<id>"
  std::int64_t duration_ms = 0;
  std::optional<std::string> client_address;
  std::vector<Finding> findings;  // one per letter of the plan, in plan order
  std::vector<std::string> files;  // captures and logs in `dir`, by name
};

// Client B of D and E: the client after the cell's in the plan's order
// (wrapping around), so each implementation meets the next one; the cell's
// own client when the plan has one.
const Adapter& direct_partner(const Plan& plan, const Cell& cell);

// The direct-path table of D and E (RFC 6081 extensions off and on): per NAT
// profile, client pair and server (the relay plays no part), "yes" where the
// verdict is pass (the captures show every marked packet crossing from one
// NAT's outside to the other's), else "no" with the verdict and its reason.
// Empty when the plan has neither D nor E.
std::string direct_path_table(const Plan& plan, const std::vector<CellResult>& results);

// Runs `cell` for `letters` and writes its captures and logs to
// out_dir/cells/<id>/. A fault of the harness (the lab cannot be built, an
// adapter's command cannot be started) gives every letter the verdict
// "error", with the reason.
CellResult run_cell(const Plan& plan, const Cell& cell, const std::string& out_dir);

}  // namespace teredo::conformance::interop
