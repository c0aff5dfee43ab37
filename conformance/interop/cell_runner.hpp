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

// Runs `cell` for `letters` and writes its captures and logs to
// out_dir/cells/<id>/. A fault of the harness (the lab cannot be built, an
// adapter's command cannot be started) gives every letter the verdict
// "error", with the reason.
CellResult run_cell(const Plan& plan, const Cell& cell, const std::string& out_dir);

}  // namespace teredo::conformance::interop
