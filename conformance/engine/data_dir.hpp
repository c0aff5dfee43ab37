// Where the tool finds its run-time data (requirement catalog, case
// durations, IUT adapters and their schema, lab topologies, report schemas,
// the uncovered-requirement notes) and the programs shipped with it
// (teredo-ref, teredo-nat). One resolver, used by every reader.
//
// The data folder, first match wins:
//   1. $TEREDO_CONFORMANCE_DATA (an installed-layout folder; used as given);
//   2. <folder of the running executable>/../share/teredo-conformance, when it
//      exists: the layout `cmake --install` and the .deb write;
//   3. the source tree this binary was built from (a build-tree run).
// An installed tool therefore needs neither the source tree nor ../shared.
//
// Installed layout (share/teredo-conformance/)    source tree
//   catalog/     requirements.json, case_durations.json   conformance/catalog/
//   adapters/    *.json, adapter.schema.json               conformance/iut/
//   topologies/  *.json                                    netns/topologies/
//   schemas/     report and JUnit schemas                  reports/schema/
//   uncovered.json                                         conformance/uncovered.json
//   regressions/ fuzz findings kept as cases               conformance/regressions/
//   schemas/interop.schema.json                            conformance/interop/interop.schema.json
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace teredo::conformance {

struct DataDir {
  std::filesystem::path root;
  bool installed = false;  // installed layout (1, 2) or the source tree's (3)
};

// The rule above, without side effects beyond looking at the file system:
// env_override may be null or empty.
DataDir resolve_data_dir(const char* env_override, const std::filesystem::path& exe_dir,
                         const std::filesystem::path& source_dir);

// The running process's data folder (resolved once, from /proc/self/exe).
const DataDir& data_dir();

std::string catalog_file(std::string_view name);  // e.g. "requirements.json"
std::string adapters_dir();
std::string topologies_dir();
std::string topology_file(std::string_view name);  // "<topologies>/<name>.json"
std::string uncovered_file();
std::string regressions_dir();  // fuzz/regressions.hpp
std::string interop_schema_file();  // interop.json's schema

// A program shipped with the tool: the one beside the running executable when
// there is one (an installed bin/), else the build tree's path given.
std::string resolve_tool(std::string_view name, const std::filesystem::path& exe_dir, std::string_view build_tree_path);
std::string tool_path(std::string_view name, std::string_view build_tree_path);

// The folder of the running executable (/proc/self/exe), empty if unknown.
std::filesystem::path executable_dir();

}  // namespace teredo::conformance
