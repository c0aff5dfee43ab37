// Light structural checks of a report.json, in C++, that the driver runs
// before writing (the full JSON Schema, reports/schema/, is checked by the
// tests with python3-jsonschema).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace teredo::reports {

inline constexpr std::string_view kSchemaName = "teredo-compliance-report";
inline constexpr std::string_view kSchemaVersion = "1.4.0";

// Every problem found, one line each ("cases[3].verdict: ..."); empty when the
// report is sound. Checks: schema name and major version 1; the required keys
// and their types; verdict, level, role and outcome enums; unique case IDs;
// attempts consistent with the verdict (a flaky case passed last after an
// earlier attempt did not; otherwise the last attempt's verdict is the case's);
// requirement IDs cited by cases present in `requirements`, `covered_by`
// naming cases that cite them; summary counts equal to the cases (total, by
// verdict, by level); coverage arithmetic; the gate consistent with the cases
// (gate.h: blocking, result, exit code, policy).
std::vector<std::string> check_report(const nlohmann::json& report);

}  // namespace teredo::reports
