# Writes a C++ header holding files as std::string_view constants, so the
# pages stay self-contained with their CSS, JavaScript and template kept as
# real files (and the report's JSON Schema in the library, so the checker runs
# the published file). Run at build time (cmake -P) by reports/CMakeLists.txt:
#   -DASSET_DIR=dir -DASSETS=a.css,b.js -DOUT=header -DNAMESPACE=ns
# "report.html" becomes kReportHtml, "base.css" kBaseCss,
# "teredo-compliance-report.schema.json" kTeredoComplianceReportSchemaJson.
string(REPLACE "," ";" assets "${ASSETS}")
get_filename_component(from "${ASSET_DIR}" NAME)
set(text "// Generated at build time by reports/cmake/embed_assets.cmake from reports/${from}/: edit those files.\n")
string(APPEND text "#pragma once\n\n#include <string_view>\n\nnamespace ${NAMESPACE} {\n")
foreach(asset IN LISTS assets)
  file(READ "${ASSET_DIR}/${asset}" hex HEX)
  string(LENGTH "${hex}" digits)
  math(EXPR size "${digits} / 2")
  string(REGEX REPLACE "[.-]" ";" parts "${asset}")
  set(name "k")
  foreach(part IN LISTS parts)
    string(SUBSTRING "${part}" 0 1 head)
    string(SUBSTRING "${part}" 1 -1 tail)
    string(TOUPPER "${head}" head)
    string(APPEND name "${head}${tail}")
  endforeach()
  # 24 bytes a line, each as \xNN (safe for any byte: the next escape ends the previous one).
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  string(REPEAT "\\\\x[0-9a-f][0-9a-f]" 24 line)
  string(REGEX REPLACE "(${line})" "\\1\"\n    \"" escaped "${escaped}")
  string(APPEND text "\n// reports/${from}/${asset}\ninline constexpr std::string_view ${name}{\n    \"${escaped}\",\n    ${size}};\n")
endforeach()
string(APPEND text "\n}  // namespace ${NAMESPACE}\n")
# Rewritten only when it changes, so a touched asset with the same bytes rebuilds nothing.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
