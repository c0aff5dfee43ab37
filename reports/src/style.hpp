// The stylesheet shared by report.html and the matrix page (inlined: the
// pages are self-contained): reports/assets/base.css.
#pragma once

#include <string_view>

#include "report_assets.hpp"

namespace teredo::reports::detail {

inline constexpr std::string_view kBaseCss = assets::kBaseCss;

}  // namespace teredo::reports::detail
