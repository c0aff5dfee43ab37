// A sample interop.json for the output tests: two NAT profiles, one client,
// two servers, one relay, every verdict, hostile text.
#pragma once

#include <nlohmann/json.hpp>

#include "interop/output.hpp"
#include "interop/plan.hpp"

namespace teredo::conformance::interop {

inline nlohmann::json sample_interop() {
  const Plan plan = make_plan({{"reference"}, {"reference", "miredo"}, {"reference"}, {"full-cone", "symmetric"}, "QN"});
  std::vector<CellResult> cells;
  const char* verdicts[] = {"pass", "fail", "inconclusive", "not-applicable", "error"};
  int i = 0;
  for (const Cell& cell : plan.cells) {
    CellResult r;
    r.cell = cell;
    r.dir = "cells/" + cell.id();
    r.duration_ms = 1234;
    r.client_address = "2001:0:cb00:7101:0:3cb2:39cc:9bfe";
    r.files = {"server.pcap", "client.log"};
    for (const char letter : plan.letters) {
      const std::string verdict = verdicts[i++ % 5];
      r.findings.push_back(Finding{letter, verdict, verdict == "fail" ? "server" : "",
                                   verdict == "fail" ? "R4380-5.3.2-02" : "",
                                   "a reason with <markup> & \"quotes\" \x01", {{"server.pcap", 3}}});
    }
    cells.push_back(r);
  }
  return interop_json(plan, cells, {"2026-12-06T10:00:00Z", 5000, "teredo-conform interop"});
}

}  // namespace teredo::conformance::interop
