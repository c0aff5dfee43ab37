// `teredo-conform run` as a CI pipeline meets it: a clean run exits 0 with a
// report that passes its own checks; an adapter whose command does not exist
// is a harness error (exit 2), never an IUT failure; Ctrl-C leaves no lab and
// a report marked incomplete; bad usage exits 3. A bad adapter is one line
// and exit 2 before anything starts; an IUT that dies at start is reported
// with its exit status or signal; a case's reproducer re-runs exactly that
// case with exactly its seed; command_line is the real argv; seeds out of
// range exit 3.
// Run hygiene: one run per --out, bad inputs refused before any lab, every
// terminating signal tears the labs down, a second Ctrl-C still writes what
// finished, unwritable evidence is a case error, and evidence is capped with
// memory bounded.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "conform_process.hpp"
#include "teredo/reports/check.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

class DriverTest : public teredo::testing::ConformProcessTest {
 protected:
  // What the run printed on stdout.
  std::string out() const { return file_text(dir_ / "stdout"); }
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
  // Waits until the run's stderr shows `text`; false if it exited first.
  bool wait_for_text(pid_t pid, const std::string& text, const std::string& name = "stderr") const {
    for (;;) {
      if (err(name).find(text) != std::string::npos) return true;
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
        return err(name).find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  // The registry records (in the default run root) still owned by `pid`.
  static std::vector<std::string> labs_of(pid_t pid) {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/run/teredo-conform", ec)) {
      std::ifstream in(entry.path() / "registry.json");
      if (!in) continue;
      const json rec = json::parse(in, nullptr, false);
      if (rec.is_object() && rec.value("owner_pid", 0) == pid) found.push_back(entry.path().string());
    }
    return found;
  }
  // An adapter for the reference server that takes `delay_s` seconds to
  // start: long cases, so that a signal lands while one is running.
  fs::path slow_adapter(int delay_s) const {
    const fs::path adapter = dir_ / "slow.json";
    std::ofstream(adapter) << R"({"name": "slow-reference", "roles": {"server": {
        "command": ["sh", "-c", "sleep )" << delay_s << R"(; exec {teredo_ref} server --primary {server_v4} --secondary {server_v4_secondary}"],
        "ready": {"kind": "udp-port", "port": 3544, "timeout_ms": )" << (delay_s * 1000 + 5000) << R"(}}}})";
    return adapter;
  }
  static std::string sha256_of(const fs::path& file) {
    std::string out;
    FILE* p = ::popen(("sha256sum '" + file.string() + "'").c_str(), "r");
    if (p == nullptr) return out;
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, p) != nullptr) out += buffer;
    ::pclose(p);
    return out.substr(0, out.find(' '));
  }
  static std::size_t lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }
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

// Two runs writing one --out would overwrite each other's pcaps under each
// other's report: the second is refused at once, naming the first.
TEST_F(DriverTest, SecondRunWithTheSameOutIsRefused) {
  const std::string out = (dir_ / "out").string();
  const pid_t first = start({"run", "--iut", slow_adapter(3).string(), "--cases", "server.rs.reply-from-primary",
                             "--retries", "0", "--out", out},
                            "first.stderr");
  ASSERT_TRUE(wait_for_text(first, "cases against", "first.stderr")) << err("first.stderr");
  const int second = wait_exit(start({"run", "--iut", "reference", "--cases", "server.rs.reply-from-primary",
                                      "--retries", "0", "--out", out},
                                     "second.stderr"));
  EXPECT_EQ(second, 2) << err("second.stderr");
  EXPECT_EQ(lines(err("second.stderr")), 1u) << err("second.stderr");
  EXPECT_NE(err("second.stderr").find("pid " + std::to_string(first)), std::string::npos) << err("second.stderr");
  EXPECT_EQ(wait_exit(first), 0) << err("first.stderr");
  // The first run's evidence is its own.
  const json r = report();
  ASSERT_EQ(r["cases"].size(), 1u);
  for (const auto& p : r["cases"][0]["evidence"]["pcaps"]) {
    EXPECT_EQ(sha256_of(dir_ / "out" / p["path"].get<std::string>()), p["sha256"].get<std::string>()) << p;
  }
  EXPECT_FALSE(fs::exists(dir_ / "out" / ".lock")) << "the lock goes with the run";
}

// A bad baseline found after the run used to cost the whole report: it is
// read first, and refused before any lab exists.
TEST_F(DriverTest, BadBaselineIsRefusedBeforeAnyLab) {
  const std::pair<std::string, std::string> baselines[] = {
      {"not-json", "{\"known_failures\": [\"x\""},
      {"wrong-shape", "{\"failures\": []}"},
      {"not-a-case-id", "{\"known_failures\": [17]}"},
  };
  for (const auto& [name, text] : baselines) {
    const fs::path file = dir_ / (name + ".json");
    std::ofstream(file) << text;
    const int code = wait_exit(start({"run", "--iut", "reference", "--role", "server", "--baseline", file.string(),
                                      "--out", (dir_ / "out").string()}));
    EXPECT_EQ(code, 2) << name << ": " << err();
    EXPECT_EQ(lines(err()), 1u) << name << ": one line, nothing run\n" << err();
    EXPECT_NE(err().find("--baseline"), std::string::npos) << err();
    EXPECT_FALSE(fs::exists(dir_ / "out" / "report.json")) << name;
  }
}

// An --out that cannot be written: one line, exit 2, nothing run. (Root
// writes through permission bits, so the directory sits under a file.)
TEST_F(DriverTest, UnwritableOutIsRefusedAtOnce) {
  std::ofstream(dir_ / "a-file") << "x";
  const int code = wait_exit(start({"run", "--iut", "reference", "--cases", "server.rs.reply-from-primary", "--out",
                                    (dir_ / "a-file" / "out").string()}));
  EXPECT_EQ(code, 2) << err();
  EXPECT_EQ(lines(err()), 1u) << err();
  EXPECT_NE(err().find("--out"), std::string::npos) << err();
}

// A case whose evidence cannot be written is a harness error with a clear
// message, and the run goes on with the next case.
TEST_F(DriverTest, UnwritableEvidenceIsACaseErrorAndTheRunGoesOn) {
  fs::create_directories(dir_ / "out" / "cases");
  std::ofstream(dir_ / "out" / "cases" / "server.rs.discard-bad-checksum") << "in the way";
  const int code = wait_exit(start({"run", "--iut", "reference", "--cases", "server.rs.discard-[bc]*", "--retries",
                                    "0", "--jobs", "1", "--out", (dir_ / "out").string()}));
  EXPECT_EQ(code, 2) << err();
  EXPECT_EQ(err().find("terminate called"), std::string::npos) << err();
  const json r = report();
  ASSERT_EQ(r["cases"].size(), 2u) << err();
  EXPECT_TRUE(r["complete"].get<bool>());
  for (const auto& c : r["cases"]) {
    if (c["case_id"] == "server.rs.discard-bad-checksum") {
      EXPECT_EQ(c["verdict"], "error");
      ASSERT_FALSE(c["messages"].empty());
      EXPECT_EQ(c["messages"].back()["code"], "evidence_unwritable") << c["messages"];
      EXPECT_NE(c["messages"].back()["text"].get<std::string>().find("evidence cannot be written"), std::string::npos);
    } else {
      EXPECT_EQ(c["verdict"], "pass") << c["messages"];
    }
  }
  EXPECT_EQ(teredo::reports::check_report(r), std::vector<std::string>{});
}

// SIGQUIT, like SIGINT, lets the running cases finish, writes an incomplete
// report and leaves no lab (it used to dump core with the labs up).
TEST_F(DriverTest, SigquitLeavesNoLabAndAnIncompleteReport) {
  const pid_t pid = start({"run", "--iut", "reference", "--role", "server", "--out", (dir_ / "out").string(),
                           "--jobs", "1", "--retries", "0"});
  ASSERT_TRUE(wait_for_text(pid, "[1/")) << err();
  ::kill(pid, SIGQUIT);
  EXPECT_EQ(wait_exit(pid), 2) << err();
  const json r = report();
  EXPECT_FALSE(r["complete"].get<bool>());
  EXPECT_GT(r["summary"]["total"].get<int>(), 0);
  EXPECT_EQ(labs_of(pid), std::vector<std::string>{});
}

// A run whose stdout and stderr go into a pipe nobody reads any more (a
// `| head` that has exited) goes on to the end: SIGPIPE never kills it.
TEST_F(DriverTest, ClosedOutputPipeNeverKillsTheRun) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const std::string out = (dir_ / "out").string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    ::execl(TEREDO_CONFORM_BIN, TEREDO_CONFORM_BIN, "run", "--iut", "reference", "--cases", "server.rs.discard-[bc]*",
            "--retries", "0", "--jobs", "2", "--out", out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  EXPECT_EQ(wait_exit(pid), 0) << "128+13 is a death by SIGPIPE";
  const json r = report();
  EXPECT_TRUE(r["complete"].get<bool>());
  EXPECT_EQ(r["cases"].size(), 2u);
  EXPECT_EQ(labs_of(pid), std::vector<std::string>{});
}

// A second Ctrl-C no longer loses every finished verdict: the report of what
// finished is written (incomplete, exit 2), then the labs go down.
TEST_F(DriverTest, SecondSigintWritesTheFinishedVerdicts) {
  const pid_t pid = start({"run", "--iut", slow_adapter(4).string(), "--cases", "server.rs.discard-*", "--jobs", "1",
                           "--retries", "0", "--out", (dir_ / "out").string()});
  ASSERT_TRUE(wait_for_text(pid, "[1/")) << err();
  ::kill(pid, SIGINT);
  ASSERT_TRUE(wait_for_text(pid, "interrupted")) << err();
  // The next case's IUT takes 4 s to start: this lands while it runs.
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 2) << err();
  ASSERT_TRUE(fs::exists(dir_ / "out" / "report.json")) << err();
  const json r = report();
  EXPECT_FALSE(r["complete"].get<bool>());
  ASSERT_EQ(r["summary"]["total"].get<int>(), 1) << "the case finished before the first Ctrl-C";
  EXPECT_EQ(r["cases"][0]["verdict"], "pass");
  EXPECT_EQ(r["gate"]["result"], "error");
  EXPECT_EQ(teredo::reports::check_report(r), std::vector<std::string>{});
  EXPECT_EQ(labs_of(pid), std::vector<std::string>{});
}

// An IUT that prints without end and floods the lab: the driver's memory
// stays bounded (captures stream to disk), the capture and the log stop at
// the cap, and the report says so.
TEST_F(DriverTest, FloodingIutIsCappedAndTheDriverStaysSmall) {
  // 30 MB on stdout, then ~170 MB of UDP frames towards the driver's capture,
  // then the reference server (so the case can run).
  const fs::path adapter = dir_ / "flood.json";
  std::ofstream(adapter) << R"({"name": "flooding-reference", "roles": {"server": {
      "command": ["bash", "-c", "yes | head -c 30000000; exec 3>/dev/udp/198.51.100.7/9; for ((i = 0; i < 120000; i++)); do printf '%1400s' x >&3; done 2>/dev/null; exec 3>&-; exec {teredo_ref} server --primary {server_v4} --secondary {server_v4_secondary}"],
      "ready": {"kind": "udp-port", "port": 3544, "timeout_ms": 120000}}}})";
  const pid_t pid = start({"run", "--iut", adapter.string(), "--cases", "server.rs.reply-from-primary", "--retries",
                           "0", "--evidence-cap-mb", "1", "--out", (dir_ / "out").string()});
  // The driver's peak resident set: VmHWM while it runs, and its maximum RSS
  // once reaped.
  long peak_kb = 0;
  int status = 0;
  rusage usage{};
  for (;;) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmHWM:", 0) == 0) peak_kb = std::max(peak_kb, std::stol(line.substr(6)));
    }
    if (::wait4(pid, &status, WNOHANG, &usage) == pid) break;
    std::this_thread::sleep_for(20ms);
  }
  peak_kb = std::max(peak_kb, usage.ru_maxrss);
  std::printf("driver peak RSS %ld kB under a flood of ~170 MB of frames and 30 MB of output\n", peak_kb);
  EXPECT_TRUE(WIFEXITED(status)) << err();
  EXPECT_LT(peak_kb, 96 * 1024) << "the driver holds captured frames in memory";
  const json r = report();
  ASSERT_EQ(r["cases"].size(), 1u) << err();
  const json& c = r["cases"][0];
  EXPECT_EQ(c["evidence"]["cap_bytes"], 1 << 20);
  bool capture_capped = false, log_capped = false;
  for (const auto& p : c["evidence"]["pcaps"]) {
    const fs::path file = dir_ / "out" / p["path"].get<std::string>();
    EXPECT_LE(fs::file_size(file), 1u << 20) << p;
    EXPECT_EQ(sha256_of(file), p["sha256"].get<std::string>()) << p;
    if (p["vantage"] == "driver") capture_capped = p["capped"].get<bool>();
  }
  for (const auto& l : c["evidence"]["logs"]) {
    EXPECT_LE(fs::file_size(dir_ / "out" / l["path"].get<std::string>()), (1u << 20) + 200) << l;
    log_capped = log_capped || l["capped"].get<bool>();
  }
  EXPECT_TRUE(capture_capped) << c["evidence"];
  EXPECT_TRUE(log_capped) << c["evidence"];
  std::size_t notes = 0;
  for (const auto& m : c["messages"]) notes += m["code"] == "evidence_capped" ? 1 : 0;
  EXPECT_EQ(notes, 2u) << c["messages"];
  EXPECT_EQ(teredo::reports::check_report(r), std::vector<std::string>{});
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
