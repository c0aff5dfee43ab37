#include "engine/data_dir.hpp"

#include <unistd.h>

#include <cstdlib>
#include <system_error>

namespace teredo::conformance {

namespace fs = std::filesystem;

namespace {

// One name per kind of data, for each of the two layouts.
struct Place {
  const char* installed;
  const char* source;
};
constexpr Place kCatalog{"catalog", "conformance/catalog"};
constexpr Place kAdapters{"adapters", "conformance/iut"};
constexpr Place kTopologies{"topologies", "netns/topologies"};
constexpr Place kUncovered{"uncovered.json", "conformance/uncovered.json"};
constexpr Place kRegressions{"regressions", "conformance/regressions"};
constexpr Place kInteropSchema{"schemas/interop.schema.json", "conformance/interop/interop.schema.json"};

std::string place(const Place& p) {
  const DataDir& d = data_dir();
  return (d.root / (d.installed ? p.installed : p.source)).string();
}

}  // namespace

DataDir resolve_data_dir(const char* env_override, const fs::path& exe_dir, const fs::path& source_dir) {
  if (env_override && *env_override) return {fs::path(env_override), true};
  if (!exe_dir.empty()) {
    const fs::path shared = exe_dir.parent_path() / "share" / "teredo-conformance";
    std::error_code ec;
    if (fs::is_directory(shared, ec)) return {shared.lexically_normal(), true};
  }
  return {source_dir, false};
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

const DataDir& data_dir() {
  static const DataDir resolved =
      resolve_data_dir(std::getenv("TEREDO_CONFORMANCE_DATA"), executable_dir(), fs::path(TEREDO_SOURCE_DIR));
  return resolved;
}

std::string catalog_file(std::string_view name) { return place(kCatalog) + "/" + std::string(name); }
std::string adapters_dir() { return place(kAdapters); }
std::string topologies_dir() { return place(kTopologies); }
std::string topology_file(std::string_view name) { return topologies_dir() + "/" + std::string(name) + ".json"; }
std::string uncovered_file() { return place(kUncovered); }
std::string regressions_dir() { return place(kRegressions); }
std::string interop_schema_file() { return place(kInteropSchema); }

std::string resolve_tool(std::string_view name, const fs::path& exe_dir, std::string_view build_tree_path) {
  if (!exe_dir.empty()) {
    const fs::path beside = exe_dir / name;
    if (::access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  return std::string(build_tree_path);
}

std::string tool_path(std::string_view name, std::string_view build_tree_path) {
  return resolve_tool(name, executable_dir(), build_tree_path);
}

}  // namespace teredo::conformance
