// `teredo-conform run` as a CI pipeline meets it: a clean run exits 0 with a
// report that passes its own checks; an adapter whose command does not exist
// is a harness error (exit 2), never an IUT failure; Ctrl-C leaves no lab and
// a report marked incomplete; bad usage exits 3.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "teredo/reports/check.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    dir_ = fs::temp_directory_path() / ("teredo-driver-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Starts teredo-conform with `args`; returns its PID.
  pid_t start(const std::vector<std::string>& args) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string log = (dir_ / "stderr").string();
      std::freopen(log.c_str(), "w", stderr);
      std::freopen("/dev/null", "w", stdout);
      std::vector<char*> argv{const_cast<char*>(TEREDO_CONFORM_BIN)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(TEREDO_CONFORM_BIN, argv.data());
      ::_exit(127);
    }
    return pid;
  }
  static int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  json report() const {
    std::ifstream in(dir_ / "out" / "report.json");
    return json::parse(in);
  }
  std::string err() const {
    std::ifstream in(dir_ / "stderr");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  fs::path dir_;
};

TEST_F(DriverTest, CleanRunExitsZeroWithASoundReport) {
  const int code = wait_exit(start({"run", "--iut", "reference", "--role", "server", "--cases", "server.rs.*",
                                    "--out", (dir_ / "out").string(), "--jobs", "2"}));
  EXPECT_EQ(code, 0) << err();
  const json r = report();
  EXPECT_TRUE(r["complete"].get<bool>());
  EXPECT_GT(r["summary"]["total"].get<int>(), 3);
  EXPECT_EQ(r["summary"]["by_verdict"]["fail"], 0);
  EXPECT_EQ(teredo::reports::check_report(r), std::vector<std::string>{});
  EXPECT_TRUE(fs::exists(dir_ / "out" / "junit.xml"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "report.html"));
  for (const auto& c : r["cases"]) {
    for (const auto& p : c["evidence"]["pcaps"]) {
      EXPECT_TRUE(fs::exists(dir_ / "out" / p["path"].get<std::string>())) << p;
    }
  }
}

TEST_F(DriverTest, AdapterWhoseCommandDoesNotExistIsAHarnessError) {
  const fs::path adapter = dir_ / "vendor.json";
  std::ofstream(adapter) << R"({"name": "vendor", "roles": {"server": {
      "command": ["/nonexistent/vendor-teredo-server", "--listen", "{server_v4}"],
      "ready": {"kind": "udp-port", "port": 3544, "timeout_ms": 1000}}}})";
  const int code = wait_exit(start({"run", "--iut", adapter.string(), "--cases", "server.rs.reply-from-primary",
                                    "--retries", "0", "--out", (dir_ / "out").string()}));
  EXPECT_EQ(code, 2) << err();
  const json r = report();
  ASSERT_EQ(r["cases"].size(), 1u);
  EXPECT_EQ(r["cases"][0]["verdict"], "error") << "a harness fault is never blamed on the IUT";
  EXPECT_EQ(r["gate"]["result"], "error");
}

TEST_F(DriverTest, SigintLeavesNoLabAndAnIncompleteReport) {
  const pid_t pid = start({"run", "--iut", "reference", "--role", "server", "--out", (dir_ / "out").string(),
                           "--jobs", "1", "--retries", "0"});
  // Let a few cases run, then interrupt.
  for (int i = 0; i < 100 && err().find("[2/") == std::string::npos; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_NE(err().find("[2/"), std::string::npos) << err();
  ::kill(pid, SIGINT);
  const int code = wait_exit(pid);
  EXPECT_EQ(code, 2) << err();
  const json r = report();
  EXPECT_FALSE(r["complete"].get<bool>());
  EXPECT_GT(r["summary"]["total"].get<int>(), 0);
  EXPECT_EQ(r["gate"]["result"], "error");
  // No lab of this run is left: every registry record belongs to a live owner
  // other than the finished run.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/run/teredo-conform", ec)) {
    std::ifstream in(entry.path() / "registry.json");
    if (!in) continue;
    const json rec = json::parse(in, nullptr, false);
    EXPECT_NE(rec.value("owner_pid", 0), pid) << entry.path();
  }
}

TEST_F(DriverTest, BadUsageExitsThree) {
  EXPECT_EQ(wait_exit(start({"run", "--jobs", "0"})), 3);
  EXPECT_EQ(wait_exit(start({"run", "--no-such-flag"})), 3);
  EXPECT_EQ(wait_exit(start({"run", "--iut", "no-such-adapter"})), 2) << err();
}

}  // namespace
