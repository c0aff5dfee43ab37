// The one resolver of the tool's run-time data and shipped programs
// (conformance/engine/data_dir.hpp): override, installed layout, source tree.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/data_dir.hpp"

namespace fs = std::filesystem;
using teredo::conformance::DataDir;
using teredo::conformance::resolve_data_dir;
using teredo::conformance::resolve_tool;

namespace {

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("teredo-data-dir-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "prefix" / "bin");
    fs::create_directories(root_ / "source");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

}  // namespace

TEST_F(DataDirTest, SourceTreeWhenNothingIsInstalledBesideTheExecutable) {
  const DataDir d = resolve_data_dir(nullptr, root_ / "prefix" / "bin", root_ / "source");
  EXPECT_EQ(d.root, root_ / "source");
  EXPECT_FALSE(d.installed);
}

TEST_F(DataDirTest, InstalledShareFolderBesideTheExecutableWins) {
  fs::create_directories(root_ / "prefix" / "share" / "teredo-conformance");
  const DataDir d = resolve_data_dir("", root_ / "prefix" / "bin", root_ / "source");
  EXPECT_EQ(d.root, root_ / "prefix" / "share" / "teredo-conformance");
  EXPECT_TRUE(d.installed);
}

TEST_F(DataDirTest, EnvironmentOverrideWinsOverAnInstalledFolder) {
  fs::create_directories(root_ / "prefix" / "share" / "teredo-conformance");
  const fs::path elsewhere = root_ / "elsewhere";
  const DataDir d = resolve_data_dir(elsewhere.c_str(), root_ / "prefix" / "bin", root_ / "source");
  EXPECT_EQ(d.root, elsewhere);
  EXPECT_TRUE(d.installed);
}

TEST_F(DataDirTest, UnknownExecutableFolderFallsBackToTheSourceTree) {
  const DataDir d = resolve_data_dir(nullptr, fs::path(), root_ / "source");
  EXPECT_EQ(d.root, root_ / "source");
}

TEST_F(DataDirTest, ShippedProgramBesideTheExecutableWinsOnlyWhenExecutable) {
  const fs::path bin = root_ / "prefix" / "bin";
  EXPECT_EQ(resolve_tool("teredo-ref", bin, "/build/teredo-ref"), "/build/teredo-ref");
  std::ofstream(bin / "teredo-ref") << "#!/bin/sh\n";
  ASSERT_EQ(::chmod((bin / "teredo-ref").c_str(), 0644), 0);
  EXPECT_EQ(resolve_tool("teredo-ref", bin, "/build/teredo-ref"), "/build/teredo-ref") << "not executable";
  ASSERT_EQ(::chmod((bin / "teredo-ref").c_str(), 0755), 0);
  EXPECT_EQ(resolve_tool("teredo-ref", bin, "/build/teredo-ref"), (bin / "teredo-ref").string());
}

// This test binary runs from the build tree: every kind of data the tool
// reads resolves to a file or folder that exists in the source tree.
TEST(DataDirOfThisBuild, EveryKindOfDataResolvesToAnExistingPath) {
  if (const char* env = std::getenv("TEREDO_CONFORMANCE_DATA"); env && *env) {
    GTEST_SKIP() << "TEREDO_CONFORMANCE_DATA is set: this checks the build-tree resolution";
  }
  using namespace teredo::conformance;
  EXPECT_FALSE(data_dir().installed);
  EXPECT_EQ(data_dir().root, fs::path(TEREDO_SOURCE_DIR));
  EXPECT_TRUE(fs::is_regular_file(catalog_file("requirements.json")));
  EXPECT_TRUE(fs::is_regular_file(catalog_file("case_durations.json")));
  EXPECT_TRUE(fs::is_regular_file(adapters_dir() + "/reference.json"));
  EXPECT_TRUE(fs::is_regular_file(adapters_dir() + "/adapter.schema.json"));
  EXPECT_TRUE(fs::is_regular_file(topology_file("server-only")));
  EXPECT_TRUE(fs::is_regular_file(uncovered_file()));
}
