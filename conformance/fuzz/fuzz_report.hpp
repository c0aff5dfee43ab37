// report.json for a `teredo-conform fuzz` run (reports/FORMAT.md, the same
// format `run` writes, so junit.xml, report.html, the gate, `report check`
// and `report matrix` read it unchanged):
//  - every finding is a case `fuzz.<role>.<finding id>` with the verdict
//    fail: one assertion (the oracle, its requirement or null for a harness
//    rule such as the IUT's death, what was observed), the finding's
//    reproducer.pcap and iut.log as evidence, and `replay` as the
//    reproducer command; a failing JUnit test and a row of the HTML table
//    each, and exit 1 through the gate;
//  - the `fuzz` section holds the run's figures: role, seed, datagrams
//    sent, rate, per-state counts, probes, how it stopped, the findings;
//  - a fuzz run judges no catalog requirement as a case does: selection.roles
//    is empty, so coverage is 0 of 0, and requirements lists only those
//    the findings cite.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/catalog.hpp"
#include "engine/iut_adapter.hpp"

namespace teredo::conformance::fuzz {

// The report (gate applied) from the session's summary and the findings'
// finding.json files under out_dir/fuzz/findings/. `exit_code` receives the
// gate's exit code.
nlohmann::json fuzz_report(const nlohmann::json& summary, const Adapter& adapter, const Catalog& catalog,
                           const std::string& out_dir, int& exit_code);

// The case ID of a finding of a role.
std::string finding_case_id(const std::string& role, const std::string& finding_id);

}  // namespace teredo::conformance::fuzz
