// teredo-ref's command line (label unit: no privileges, no namespaces):
// bad values exit 2 and bad usage exit 3, each with one line on stderr; the
// JSON config stands for the flags; and, on loopback, the server loop runs,
// logs a node drop event in the documented format and stops cleanly on SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("teredo-ref-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // Starts teredo-ref with stdout and stderr to files; returns its pid.
  pid_t start(const std::vector<std::string>& args) {
    std::vector<std::string> argv{TEREDO_REF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> pointers;
    for (auto& a : argv) pointers.push_back(a.data());
    pointers.push_back(nullptr);
    const std::string out = (dir_ / "out").string(), err = (dir_ / "err").string();
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execv(pointers[0], pointers.data());
      ::_exit(127);
    }
    return pid;
  }
  Outcome finish(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return Outcome{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp((dir_ / "out").string()),
               slurp((dir_ / "err").string())};
  }
  Outcome run(const std::vector<std::string>& args) { return finish(start(args)); }

  fs::path dir_;
};

void expect_one_line(const Outcome& r) {
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  EXPECT_EQ(r.err.rfind("teredo-ref: ", 0), 0u) << r.err;
}

TEST_F(CliTest, BadValuesExit2WithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"server", "--primary", "203.0.113"},
      {"server", "--primary", "203.0.113.1", "--secondary", "203.0.113.1"},
      {"server", "--primary", "203.0.113.1", "--port", "70000"},
      {"server", "--primary", "203.0.113.1", "--port", "abc"},
      {"server", "--primary", "203.0.113.1", "--mtu", "1000"},
      {"server", "--primary", "203.0.113.1", "--time-scale", "0"},
      {"server", "--primary", "203.0.113.1", "--time-scale", "-1"},
      {"server", "--primary", "203.0.113.1", "--time-scale", "nan"},
      {"server", "--primary", "203.0.113.1", "--forward-native", "maybe"},
      {"server", "--primary", "203.0.113.1", "--secret-file", "/nonexistent/secret", "--client-id", "a"},
      {"server", "--primary", "203.0.113.1", "--packet-ring", "a-name-far-too-long"},
      {"server", "--primary", "203.0.113.1", "--packet-ring", "no-such-if0"},
      {"relay", "--bind", "198.51.100.20:0"},
      {"relay", "--bind", "198.51.100.20:x"},
      {"relay", "--bind", "2001:db8::1"},
      {"relay", "--bind", "198.51.100.20", "--interface", "a-name-far-too-long"},
      {"relay", "--bind", "198.51.100.20", "--prefix", "2002::/16"},
      {"relay", "--bind", "198.51.100.20", "--peers", "0"},
      {"relay", "--bind", "198.51.100.20", "--packet-ring", "a-name-far-too-long"},
      {"relay", "--bind", "198.51.100.20", "--packet-ring", "no-such-if0"},
      {"relay", "--bind", "0.0.0.0", "--packet-ring", "lo"},
      {"host-relay", "--bind", "198.51.100.20", "--packet-ring", "no-such-if0"},
      {"host-relay", "--bind", "198.51.100.20", "--host-address", "not-an-address"},
      {"client", "--server", "203.0.113"},
      {"client", "--server", "203.0.113.1", "--server-secondary", "203.0.113.1"},
      {"client", "--server", "203.0.113.1", "--bind", "192.0.2.10:x"},
      {"client", "--server", "203.0.113.1", "--interface", "a-name-far-too-long"},
      {"client", "--server", "203.0.113.1", "--local-subnet", "192.0.2.0/40"},
      {"client", "--server", "203.0.113.1", "--local-subnet", "192.0.2/24"},
      {"client", "--server", "203.0.113.1", "--refresh-interval", "0.5"},
      {"client", "--server", "203.0.113.1", "--offline-retry", "-1"},
      {"client", "--server", "203.0.113.1", "--time-scale", "0"},
      {"client", "--server", "203.0.113.1", "--secret-file", "/nonexistent/secret", "--client-id", "a"},
      {"client", "--server", "203.0.113.1", "--secret-file", "/nonexistent/secret", "--client-id", "a",
       "--client-id", "b"},
  };
  for (const auto& args : cases) {
    const Outcome r = run(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    SCOPED_TRACE(joined);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    expect_one_line(r);
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(CliTest, BadUsageExits3WithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"serve"},
      {"server"},
      {"server", "--primary"},
      {"server", "--primary", "203.0.113.1", "--bogus"},
      {"server", "--primary", "203.0.113.1", "--client-id", "alice"},
      {"server", "--primary", "203.0.113.1", "extra"},
      {"relay"},
      {"relay", "--bind", "198.51.100.20", "--config"},
      {"client"},
      {"client", "--server", "203.0.113.1", "--client-id", "alice"},
      {"client", "--server", "203.0.113.1", "--primary", "203.0.113.1"},
  };
  for (const auto& args : cases) {
    const Outcome r = run(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    SCOPED_TRACE(joined);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    expect_one_line(r);
  }
}

TEST_F(CliTest, ConfigFileStandsForFlags) {
  // Unknown key: usage. Wrong types, bad JSON, mode mismatch with the file's
  // values: as flags would be.
  Outcome r = run({"--config", file("unknown.json", R"({"mode": "server", "primary": "203.0.113.1", "colour": "red"})")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("unknown key 'colour'"), std::string::npos) << r.err;
  r = run({"--config", file("bad.json", "{\"mode\": ")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  expect_one_line(r);
  r = run({"--config", file("port.json", R"({"mode": "server", "primary": "203.0.113.1", "port": 99999})")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run({"--config", file("flag.json", R"({"mode": "server", "primary": "203.0.113.1", "verbose": "yes"})")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run({"relay", "--config", file("mode.json", R"({"mode": "server", "primary": "203.0.113.1"})")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  r = run({"--config", file("nomode.json", R"({"primary": "203.0.113.1"})")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  r = run({"--config", "/nonexistent.json"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // The command line overrides the file: the file's bad port is replaced.
  r = run({"--config", file("override.json", R"({"mode": "server", "primary": "203.0.113.1", "port": 0})"), "--port",
           "abc"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("abc"), std::string::npos) << "the command line's value is the one judged: " << r.err;
}

TEST_F(CliTest, HelpAndVersionExit0) {
  Outcome r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("host-relay"), std::string::npos);
  r = run({"server", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--secret-file"), std::string::npos);
  r = run({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("teredo-ref ", 0), 0u) << r.out;
}

// The server loop on loopback, unprivileged: a datagram from 127.0.0.1 is a
// non-global source (R4380-5.3.1-04); the node drops it and the daemon logs
// exactly one line for it. SIGTERM ends it with status 0.
TEST_F(CliTest, ServerOnLoopbackLogsDropsAndStopsOnSigterm) {
  const auto port = static_cast<std::uint16_t>(20000 + ::getpid() % 20000);
  // Through a config file whose port the command line overrides.
  const std::string config = file("server.json", R"({"mode": "server", "primary": "127.0.0.1",
      "secondary": "127.0.0.2", "port": 0, "forward_native": "off", "time-scale": 0.01})");
  const pid_t pid = start({"--config", config, "--port", std::to_string(port)});
  const auto ready = [&] { return slurp((dir_ / "out").string()).find(" ready server ") != std::string::npos; };
  for (int i = 0; i < 300 && !ready(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(ready()) << slurp((dir_ / "out").string()) << slurp((dir_ / "err").string());

  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(0x7F000001);
  const char junk[] = "not teredo";
  ASSERT_GT(::sendto(fd, junk, sizeof junk, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);
  ::close(fd);
  const auto dropped = [&] { return slurp((dir_ / "out").string()).find("drop_non_global_source") != std::string::npos; };
  for (int i = 0; i < 300 && !dropped(); ++i) std::this_thread::sleep_for(10ms);

  ::kill(pid, SIGTERM);
  const Outcome r = finish(pid);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"((^|\n)\+\d{2}:\d{2}:\d{2}\.\d{6} drop drop_non_global_source R4380-5\.3\.1-04 loopback from 127\.0\.0\.1:\d+\n)")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\+00:00:00\.\d{6} start teredo-ref \S+ server pid \d+ time-scale 0\.01 wall \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ monotonic \d+\.\d{6}\n)")))
      << r.out;
  EXPECT_NE(r.out.find("stop SIGTERM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stopped"), std::string::npos) << r.out;
}

}  // namespace
