// The installed tool runs without the source tree: `cmake --install` into a
// temporary prefix, then `<prefix>/bin/teredo-conform run --iut reference
// --role server` in a private mount namespace where this source tree, the
// build tree and ../shared are covered by empty tmpfs mounts. Every path
// compiled into the binaries (TEREDO_SOURCE_DIR, the build-tree teredo-ref
// and teredo-nat) then points at nothing, so a pass proves the resolver read
// the prefix's share/teredo-conformance and ran the prefix's bin/ programs;
// report.json names the adapter file it loaded, which must be the prefix's.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

std::string text_of(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Covers `dir` with an empty tmpfs in this (private) mount namespace.
bool hide(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return true;
  return ::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755") == 0;
}

class InstalledRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces and mounts";
    dir_ = fs::temp_directory_path() / ("teredo-installed-run-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  // argv, stdout and stderr into dir_/<log>; with hide_sources, in a private
  // mount namespace with the source, build and ../shared trees covered.
  int run(const std::vector<std::string>& args, const std::string& log, bool hide_sources) const {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (std::freopen((dir_ / log).c_str(), "w", stdout) == nullptr) ::_exit(126);
      if (::dup2(::fileno(stdout), 2) < 0) ::_exit(126);
      if (hide_sources) {
        if (::unshare(CLONE_NEWNS) != 0) ::_exit(124);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(124);
        const fs::path source = TEREDO_SOURCE_DIR;
        if (!hide(source) || !hide(TEREDO_BINARY_DIR) || !hide(source.parent_path() / "shared")) ::_exit(124);
        if (fs::exists(source / "CMakeLists.txt") || fs::exists(fs::path(TEREDO_BINARY_DIR) / "CMakeCache.txt")) {
          ::_exit(125);
        }
        for (const char* name : {"TEREDO_CONFORMANCE_DATA", "TEREDO_NAT_BIN", "TEREDO_REQUIREMENTS",
                                 "TEREDO_CASE_DURATIONS"}) {
          ::unsetenv(name);
        }
      }
      if (::chdir(dir_.c_str()) != 0) ::_exit(126);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return wait_exit(pid);
  }

  fs::path dir_;
};

}  // namespace

TEST_F(InstalledRunTest, ServerRolePassesFromAPrefixWithTheSourceTreeHidden) {
  const fs::path prefix = dir_ / "prefix";
  ASSERT_EQ(run({TEREDO_CMAKE_COMMAND, "--install", TEREDO_BINARY_DIR, "--prefix", prefix.string()}, "install.log",
                false),
            0)
      << text_of(dir_ / "install.log");

  const fs::path share = prefix / "share" / "teredo-conformance";
  for (const fs::path& p : {prefix / "bin" / "teredo-conform", prefix / "bin" / "teredo-ref",
                            prefix / "bin" / "teredo-nat", share / "catalog" / "requirements.json",
                            share / "catalog" / "case_durations.json", share / "adapters" / "reference.json",
                            share / "adapters" / "adapter.schema.json", share / "topologies" / "server-only.json",
                            share / "schemas" / "teredo-compliance-report.schema.json", share / "uncovered.json"}) {
    EXPECT_TRUE(fs::is_regular_file(p)) << p << " is not installed";
  }

  const fs::path out = dir_ / "out";
  const int rc = run({(prefix / "bin" / "teredo-conform").string(), "run", "--iut", "reference", "--role", "server",
                      "--out", out.string()},
                     "run.log", true);
  ASSERT_NE(rc, 124) << "could not make a private mount namespace covering the source tree";
  ASSERT_NE(rc, 125) << "the source or build tree is still visible under the tmpfs";
  ASSERT_EQ(rc, 0) << text_of(dir_ / "run.log");

  std::ifstream in(out / "report.json");
  const nlohmann::json report = nlohmann::json::parse(in);
  EXPECT_EQ(report["iut"]["adapter"], (share / "adapters" / "reference.json").string())
      << "the adapter was not read from the prefix";
  EXPECT_EQ(report["gate"]["result"], "pass");
  EXPECT_GT(report["summary"]["by_verdict"]["pass"].get<int>(), 0);
  EXPECT_EQ(report["summary"]["by_verdict"]["fail"], 0);
  EXPECT_EQ(report["run"]["selection"]["roles"], nlohmann::json::array({"server"}));
}
