// `teredo-conform run` as a CI pipeline meets it: a clean run exits 0 with a
// report that passes its own checks; an adapter whose command does not exist
// is a harness error (exit 2), never an IUT failure; Ctrl-C leaves no lab and
// a report marked incomplete; bad usage exits 3. A bad adapter is one line
// and exit 2 before anything starts; an IUT that dies at start is reported
// with its exit status or signal; a case's reproducer re-runs exactly that
// case with exactly its seed; command_line is the real argv; seeds out of
// range exit 3.
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
      const std::string out = (dir_ / "stdout").string();
      std::freopen(out.c_str(), "w", stdout);
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
  std::string err() const { return read(dir_ / "stderr"); }
  std::string out() const { return read(dir_ / "stdout"); }
  static std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Runs `command` with /bin/sh -c (teredo-conform found in PATH), stderr to
  // the fixture's file; returns the exit code.
  int run_shell(const std::string& command) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string log = (dir_ / "stderr").string();
      std::freopen(log.c_str(), "w", stderr);
      std::freopen("/dev/null", "w", stdout);
      const char* path = std::getenv("PATH");
      const std::string bin_dir = fs::path(TEREDO_CONFORM_BIN).parent_path().string();
      ::setenv("PATH", (bin_dir + ":" + (path ? path : "/usr/bin:/bin")).c_str(), 1);
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return wait_exit(pid);
  }
  // The words /bin/sh makes of `line`, each followed by '|'.
  static std::string shell_words(const std::string& line) {
    std::string words;
    FILE* p = ::popen(("printf '%s|' " + line).c_str(), "r");
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) words.append(buffer, n);
    ::pclose(p);
    return words;
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

// One line on stderr, exit 2, no output directory: nothing was started.
TEST_F(DriverTest, BadAdapterIsOneLineExitTwoAndNothingStarts) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {R"({"name": "v", "roles": {"server": {"command": ["s"]}}, "capabilities": ["secure_qualifcation"]})",
       "/capabilities/0: 'secure_qualifcation' is not a known capability (did you mean secure_qualification?)"},
      {R"({"name": "v", "roles": {"server": {"command": ["s"], "vendor_flags": []}}})",
       "/roles/server/vendor_flags: 'vendor_flags' is not a known key here"},
      {R"({"name": "v", "roles": {"server": {"command": ["s"], "redy": {"kind": "udp-port", "port": 3544}}}})",
       "/roles/server/redy: 'redy' is not a known key here (did you mean ready?)"},
      {R"({"name": "v", "roles": {"server": {"command": ["s", "{sever_v4}"]}}})",
       "/roles/server/command/1: unknown placeholder {sever_v4} (did you mean {server_v4}?)"},
      {R"({"name": "v", "roles": {"server": {"command": ["s"], "ready": {"kind": "udp-port", "port": 99999}}}})",
       "/roles/server/ready/port: 99999 is above the maximum 65535"},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const fs::path adapter = dir_ / ("bad-" + std::to_string(i) + ".json");
    std::ofstream(adapter) << rows[i].first;
    const std::string line = "teredo-conform: " + adapter.string() + ": " + rows[i].second + "\n";
    const fs::path out_dir = dir_ / ("out-" + std::to_string(i));
    EXPECT_EQ(wait_exit(start({"run", "--iut", adapter.string(), "--out", out_dir.string()})), 2) << err();
    EXPECT_EQ(err(), line);
    EXPECT_FALSE(fs::exists(out_dir)) << "a refused adapter started a run";
    EXPECT_EQ(wait_exit(start({"iut", "check", adapter.string()})), 2) << err();
    EXPECT_EQ(err(), line);
    EXPECT_EQ(out(), "") << "iut check started a lab for a refused adapter";
  }
}

TEST_F(DriverTest, IutThatDiesAtStartIsReportedWithItsSignal) {
  const fs::path adapter = dir_ / "segv.json";
  std::ofstream(adapter) << R"({"name": "segv", "roles": {"server": {
      "command": ["/bin/sh", "-c", "echo starting; kill -SEGV $$"],
      "ready": {"kind": "udp-port", "port": 3544, "timeout_ms": 3000}}}})";
  const int code = wait_exit(start({"run", "--iut", adapter.string(), "--cases", "server.rs.reply-from-primary",
                                    "--retries", "0", "--out", (dir_ / "out").string()}));
  EXPECT_NE(code, 0) << "an IUT that crashed at start never passes the gate\n" << err();
  const json r = report();
  ASSERT_EQ(r["cases"].size(), 1u);
  EXPECT_NE(r["cases"][0]["verdict"], "pass");
  std::string said;
  for (const auto& m : r["cases"][0]["messages"]) said += m["text"].get<std::string>() + "\n";
  EXPECT_NE(said.find("segv server killed by SIGSEGV"), std::string::npos) << said;
  EXPECT_NE(said.find("its last output: starting"), std::string::npos) << said;
}

TEST_F(DriverTest, IutThatExitsAtStartIsReportedWithItsStatus) {
  const fs::path adapter = dir_ / "exit7.json";
  std::ofstream(adapter) << R"({"name": "exit7", "roles": {"server": {"command": ["/bin/sh", "-c", "exit 7"],
      "ready": {"kind": "udp-port", "port": 3544, "timeout_ms": 3000}}}})";
  EXPECT_EQ(wait_exit(start({"iut", "check", adapter.string()})), 2) << err();
  EXPECT_NE(out().find("server: FAILED: exit7 server exited with status 7 at start; it printed nothing"),
            std::string::npos)
      << out();
}

TEST_F(DriverTest, ReproducerReRunsThatCaseWithItsSeedAndCommandLineIsTheArgv) {
  // An output directory a shell must quote: a space and a '.
  const std::string out1 = (dir_ / "first run's out").string();
  const std::vector<std::string> args = {"run",           "--iut",   "reference", "--cases", "server.rs.*reply-from-primary",
                                         "--seed",        "42",      "--retries", "0",       "--jobs",
                                         "2",             "--out",   out1};
  EXPECT_EQ(wait_exit(start(args)), 0) << err();
  const json first = json::parse(std::ifstream(fs::path(out1) / "report.json"));
  // command_line is the argv, all of it, as a shell reads it back.
  std::string argv_words = std::string(TEREDO_CONFORM_BIN) + "|";
  for (const auto& a : args) argv_words += a + "|";
  EXPECT_EQ(shell_words(first["run"]["command_line"].get<std::string>()), argv_words)
      << first["run"]["command_line"];
  ASSERT_EQ(first["cases"].size(), 2u);
  // The second case of the selection: seed 42*1000+1.
  const json& c = first["cases"][1];
  ASSERT_EQ(c["attempts"].size(), 1u);
  EXPECT_EQ(c["attempts"][0]["seed"], 42001);
  const std::string reproducer = c["reproducer"].get<std::string>();
  EXPECT_NE(reproducer.find("--case-seed 42001"), std::string::npos) << reproducer;

  const std::string out2 = (dir_ / "rerun's out").string();
  EXPECT_EQ(run_shell(reproducer + " --out " + "'" + std::string(out2).replace(out2.find('\''), 1, "'\\''") + "'"), 0)
      << reproducer << "\n" << err();
  const json again = json::parse(std::ifstream(fs::path(out2) / "report.json"));
  ASSERT_EQ(again["cases"].size(), 1u);
  EXPECT_EQ(again["cases"][0]["case_id"], c["case_id"]);
  ASSERT_EQ(again["cases"][0]["attempts"].size(), 1u);
  EXPECT_EQ(again["cases"][0]["attempts"][0]["seed"], c["attempts"][0]["seed"]);
  EXPECT_EQ(again["cases"][0]["verdict"], c["verdict"]);
  EXPECT_EQ(again["cases"][0]["reproducer"], reproducer) << "a reproducer reproduces itself";
}

TEST_F(DriverTest, SeedsOutOfRangeExitThree) {
  const std::string out_dir = (dir_ / "out").string();
  const std::vector<std::vector<std::string>> refused = {
      {"--seed", "-5"},
      {"--seed", "99999999999999999999999"},
      {"--seed", "18446744073709551616"},
      {"--seed", "9007199254740"},  // kMaxMasterSeed + 1: seed*1000+index would pass 2^53-1
      {"--seed", "12abc"},
      {"--seed", " 7"},
      {"--case-seed", "9007199254740992", "--cases", "server.rs.reply-from-primary"},
      {"--case-seed", "9007199254740991", "--cases", "server.rs.reply-from-primary"},  // its retry would pass 2^53-1
      {"--case-seed", "5", "--cases", "server.rs.*"},                                   // more than one case
      {"--case-seed", "5", "--seed", "3", "--cases", "server.rs.reply-from-primary"},
  };
  for (const auto& flags : refused) {
    std::vector<std::string> args = {"run", "--iut", "reference", "--out", out_dir};
    args.insert(args.end(), flags.begin(), flags.end());
    EXPECT_EQ(wait_exit(start(args)), 3) << flags[0] << " " << flags[1] << ": " << err();
    EXPECT_FALSE(fs::exists(out_dir)) << flags[0] << " " << flags[1];
  }
}

}  // namespace
