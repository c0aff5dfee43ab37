// report.json -> one self-contained HTML page (inline CSS and JS, no network:
// a Content-Security-Policy forbids every fetch). Works with JavaScript off
// (every case shown, details expandable); with it on, filters by verdict,
// level, role, RFC section and text. Stable hooks for tools and tests:
//   #count-total, #count-<verdict>   data-count="N"
//   #count-<LEVEL>-<verdict>         data-count="N"
//   #coverage                        data-covered, data-testable, data-percent
//   #gate                            data-result, data-exit-code, data-policy
//   tbody.case                       data-case-id, data-verdict, data-level, data-role, data-sections
//   body[data-js-ok="1"]             set once the filters initialised
// A fragment such as #verdict=fail,warn&level=MUST&section=RFC4380%205.3.2
// preselects filters (and is kept up to date as filters change).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "teredo/reports/report.hpp"

namespace teredo::reports {

std::string render_html(const Report& report);
// The same from report.json; throws InvalidReport when it does not read into
// the types.
std::string render_html(const nlohmann::json& report);

}  // namespace teredo::reports
