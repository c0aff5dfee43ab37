// `teredo-conform run` as an unprivileged user (nobody): it enters a private
// user + network + mount namespace (cli/rootless.hpp) and runs the server
// role there. Where the kernel refuses such a namespace, it prints one line
// naming the setting and exits 2; the second test makes a refusing kernel
// without touching the host: inside a user namespace of its own whose
// user.max_user_namespaces is 0 (a per-namespace limit), nobody's attempt
// to nest one more fails as it would on a host with the setting at 0.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

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

std::optional<long> setting(const char* path) {
  std::ifstream in(path);
  long v = 0;
  if (!(in >> v)) return std::nullopt;
  return v;
}

bool write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

class RootlessRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
    dir_ = fs::temp_directory_path() / ("teredo-rootless-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_EQ(::chown(dir_.c_str(), kNobody, kNobody), 0);
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  // In the child: become nobody (no groups), then exec teredo-conform with
  // its output into dir_/<log>. Returns only on failure.
  void exec_as_nobody(const std::vector<std::string>& args, const std::string& log) const {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(124);
    if (::getuid() == 0 || ::geteuid() == 0) ::_exit(124);
    if (::chdir(dir_.c_str()) != 0) ::_exit(125);
    if (std::freopen((dir_ / log).c_str(), "w", stdout) == nullptr) ::_exit(125);
    if (std::freopen((dir_ / (log + ".err")).c_str(), "w", stderr) == nullptr) ::_exit(125);
    std::vector<char*> argv{const_cast<char*>(TEREDO_CONFORM_BIN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(TEREDO_CONFORM_BIN, argv.data());
    ::_exit(126);
  }

  std::vector<std::string> server_run(const std::string& out) const {
    return {"run", "--iut", "reference", "--role", "server", "--out", (dir_ / out).string()};
  }

  fs::path dir_;
};

}  // namespace

TEST_F(RootlessRunTest, ServerRolePassesAsNobody) {
  const std::optional<long> clone = setting("/proc/sys/kernel/unprivileged_userns_clone");
  const std::optional<long> max = setting("/proc/sys/user/max_user_namespaces");
  const bool refused = (clone && *clone == 0) || (max && *max == 0);

  const pid_t pid = ::fork();
  if (pid == 0) exec_as_nobody(server_run("out"), "run.log");
  const int rc = wait_exit(pid);
  ASSERT_NE(rc, 124) << "could not become nobody";
  ASSERT_NE(rc, 126) << "nobody cannot execute " << TEREDO_CONFORM_BIN << " (is the build tree readable?)";
  const std::string err = text_of(dir_ / "run.log.err");
  std::cout << "nobody: exit " << rc << ", stderr: " << err;

  if (refused) {
    // This kernel forbids unprivileged user namespaces: the one-line refusal.
    EXPECT_EQ(rc, 2) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_NE(err.find(clone && *clone == 0 ? "kernel.unprivileged_userns_clone = 0" : "user.max_user_namespaces = 0"),
              std::string::npos)
        << err;
    return;
  }
  ASSERT_EQ(rc, 0) << err << text_of(dir_ / "run.log");
  EXPECT_NE(err.find("private user, network and mount namespace"), std::string::npos) << err;
  const fs::path report_path = dir_ / "out" / "report.json";
  struct stat st{};
  ASSERT_EQ(::stat(report_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody) << "the report belongs to the caller, not to root";
  std::ifstream in(report_path);
  const nlohmann::json report = nlohmann::json::parse(in);
  EXPECT_EQ(report["gate"]["result"], "pass");
  EXPECT_GT(report["summary"]["by_verdict"]["pass"].get<int>(), 0);
  EXPECT_EQ(report["summary"]["by_verdict"]["fail"], 0);
  EXPECT_EQ(report["run"]["selection"]["roles"], nlohmann::json::array({"server"}));
}

TEST_F(RootlessRunTest, RefusedUserNamespaceIsOneLineNamingTheSettingAndExitTwo) {
  int ready[2], mapped[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(mapped), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    ::close(mapped[1]);
    if (::unshare(CLONE_NEWUSER) != 0) ::_exit(120);
    char c = 'u';
    if (::write(ready[1], &c, 1) != 1 || ::read(mapped[0], &c, 1) != 1 || c != 'm') ::_exit(121);
    // Root of this namespace (ids 0 and nobody are mapped through): no user
    // namespace may be made below it.
    if (!write_file("/proc/sys/user/max_user_namespaces", "0")) ::_exit(122);
    exec_as_nobody(server_run("refused"), "refused.log");
  }
  ::close(ready[1]);
  ::close(mapped[0]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const std::string proc = "/proc/" + std::to_string(pid);
  const bool maps = write_file(proc + "/uid_map", "0 0 1\n65534 65534 1\n") &&
                    write_file(proc + "/gid_map", "0 0 1\n65534 65534 1\n");
  c = maps ? 'm' : 'x';
  ASSERT_EQ(::write(mapped[1], &c, 1), 1);
  const int rc = wait_exit(pid);
  ASSERT_TRUE(maps) << "could not map ids into the test's user namespace";
  ASSERT_NE(rc, 122) << "could not set user.max_user_namespaces inside the test's user namespace";
  ASSERT_LT(rc, 120) << "test setup failed (" << rc << ")";
  const std::string err = text_of(dir_ / "refused.log.err");
  std::cout << "nobody, user.max_user_namespaces = 0: exit " << rc << ", stderr: " << err;
  EXPECT_EQ(rc, 2) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line: " << err;
  EXPECT_NE(err.find("user.max_user_namespaces = 0"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "refused" / "report.json")) << "nothing ran";
}
