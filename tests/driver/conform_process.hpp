// Runs teredo-conform as a CI pipeline would, in a per-test directory: its
// exit code, its stderr, and the report.json it wrote.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace teredo::testing {

class ConformProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    dir_ = std::filesystem::temp_directory_path() /
           ("teredo-conform-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Starts teredo-conform with `args`, its stderr into `stderr_name` and its
  // stdout into "stdout" in the test's directory; returns its PID.
  pid_t start(const std::vector<std::string>& args, const std::string& stderr_name = "stderr") const {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string log = (dir_ / stderr_name).string();
      const std::string out = (dir_ / "stdout").string();
      if (std::freopen(log.c_str(), "w", stderr) == nullptr) ::_exit(126);
      if (std::freopen(out.c_str(), "w", stdout) == nullptr) ::_exit(126);
      std::vector<char*> argv{const_cast<char*>(TEREDO_CONFORM_BIN)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(TEREDO_CONFORM_BIN, argv.data());
      ::_exit(127);
    }
    return pid;
  }
  // The exit code, or 128 + the signal that ended it.
  static int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  int run(const std::vector<std::string>& args) const { return wait_exit(start(args)); }

  [[nodiscard]] std::string out_dir() const { return (dir_ / "out").string(); }
  [[nodiscard]] nlohmann::json report() const {
    std::ifstream in(dir_ / "out" / "report.json");
    return nlohmann::json::parse(in);
  }
  [[nodiscard]] std::string file_text(const std::filesystem::path& path) const {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  [[nodiscard]] std::string err(const std::string& name = "stderr") const { return file_text(dir_ / name); }

  std::filesystem::path dir_;
};

}  // namespace teredo::testing
