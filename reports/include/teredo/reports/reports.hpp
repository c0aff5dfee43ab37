// teredo_reports: report.json (reports/FORMAT.md) -> JUnit XML, HTML, the
// interop matrix (HTML, Markdown); structural checks; the gate rule.
#pragma once

#include "teredo/reports/check.hpp"
#include "teredo/reports/gate.hpp"
#include "teredo/reports/html.hpp"
#include "teredo/reports/junit.hpp"
#include "teredo/reports/matrix.hpp"
#include "teredo/reports/write.hpp"
