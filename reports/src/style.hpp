// The stylesheet shared by report.html and the matrix page (inlined: the
// pages are self-contained).
#pragma once

#include <string_view>

namespace teredo::reports::detail {

inline constexpr std::string_view kBaseCss = R"css(
:root{--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--na:#57606a;--inc:#8250df;--err:#82071e;--flaky:#bc4c00;
--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--bg:#fff}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:1280px;padding:1rem 1.5rem 3rem;color:var(--fg);background:var(--bg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",sans-serif}
h1{font-size:1.6rem;margin:.2rem 0 .3rem}h2{font-size:1.25rem;margin:1.6rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1rem;margin:1rem 0 .4rem}h4{font-size:.9rem;margin:.9rem 0 .3rem;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
code,pre,kbd{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:.4rem .6rem;margin:.2rem 0}
td pre{margin:0}
a{color:#0969da}
.muted{color:var(--muted)}
[hidden]{display:none!important}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.v{display:inline-block;min-width:4.5em;text-align:center;padding:0 .5em;border-radius:1em;border:1px solid currentColor;
font-weight:600;font-size:12px;white-space:nowrap}
.v-pass{color:var(--pass)}.v-fail{color:var(--fail)}.v-warn{color:var(--warn)}.v-not-applicable{color:var(--na)}
.v-inconclusive{color:var(--inc)}.v-error{color:var(--err)}.v-flaky{color:var(--flaky)}.v-missing{color:var(--muted);border-style:dashed}
.banner{padding:.6rem .9rem;border-radius:6px;border:1px solid var(--line);margin:.8rem 0}
.gate-pass{background:#dafbe1;border-color:#4ac26b}.gate-fail{background:#ffebe9;border-color:#ff8182}
.gate-error{background:#ffd8d3;border-color:#cf222e}.gate-inconclusive{background:#fff8c5;border-color:#d4a72c}
.incomplete{background:#fff8c5;border-color:#d4a72c}
@media print{body{max-width:none;padding:0;font-size:11px}.noprint,#filters{display:none!important}
a{color:inherit;text-decoration:none}tbody.case{break-inside:avoid}thead{display:table-header-group}
.banner{border-width:2px}pre{border:none;padding:0}}
)css";

}  // namespace teredo::reports::detail
