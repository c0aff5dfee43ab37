// The checks of a report.json that the driver runs before writing and
// `teredo-conform report check` runs on a file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "teredo/reports/report.hpp"

namespace teredo::reports {

// Every problem found, one line each ("/cases/3/verdict: ..."); empty when
// the report is sound. First the published JSON Schema (reports/schema/,
// embedded): keys, types, enums, patterns, relative evidence paths, the
// gate's result and exit code, the policy following --strict, attempts
// required unless the case was judged without running, "known" only on a
// fail, warn or inconclusive. Then, on a report the schema accepts, the
// rules across fields it cannot state: unique case IDs; attempts numbered
// 1, 2, ... and combining to the case's verdict (JUDGING.md §5); cited
// requirement IDs present in `requirements`, `covered_by` naming cases that
// cite them; summary counts equal to the cases; coverage arithmetic; the
// gate's blocking list and result as gate.hpp decides; shard numbering; a
// fuzz report's findings and cases one to one.
std::vector<std::string> check_report(const nlohmann::json& report);

}  // namespace teredo::reports
