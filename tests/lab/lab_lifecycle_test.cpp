// Labs leave nothing behind: not after 20 rounds, not after their runner is
// killed with SIGKILL (then `lab clean`), and two at once do not collide. A
// bad topology creates nothing at all.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "lab_probe.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::labtest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kTopologies = std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/";

std::string capture(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) out.append(buffer, n);
  ::pclose(p);
  return out;
}

// Everything a lab with this prefix could have left: namespaces, links and
// nft tables in the root namespace, processes, its run directory.
std::vector<std::string> leftovers(const std::string& prefix) {
  std::vector<std::string> found;
  const auto scan = [&](const std::string& what, const std::string& text) {
    if (text.find(prefix) != std::string::npos) found.push_back(what + ": " + text);
  };
  scan("netns", capture("ip netns list"));
  scan("link", capture("ip -o link"));
  scan("nft", capture("nft list tables 2>/dev/null"));
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    std::replace(text.begin(), text.end(), '\0', ' ');
    if (text.find(prefix) != std::string::npos && text.find("teredo-nat") != std::string::npos) {
      found.push_back("process " + pid + ": " + text);
    }
  }
  if (fs::exists(netns::default_run_root() + "/" + prefix)) found.push_back("run dir of " + prefix);
  return found;
}

class LabLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root for network namespaces";
  }
};

TEST_F(LabLifecycleTest, TwentyRoundsLeaveNothing) {
  const netns::Topology t = netns::load_topology(kTopologies + "client-nat.json");
  for (int round = 0; round < 20; ++round) {
    std::string prefix;
    {
      auto lab = netns::Lab::up(t);
      prefix = lab->prefix();
      ASSERT_TRUE(fs::exists("/run/netns/" + prefix + "-nat"));
    }
    EXPECT_EQ(leftovers(prefix), std::vector<std::string>{}) << "round " << round;
  }
}

// Starts `teredo-conform lab up client-nat --prefix PREFIX` in the foreground
// (with TEREDO_RUN_ROOT=`run_root` when given) and returns its PID once the
// lab is up (it prints its JSON line then).
pid_t start_foreground_lab(const std::string& prefix, const std::string& run_root = {}) {
  int out[2];
  if (::pipe(out) != 0) return -1;
  const pid_t runner = ::fork();
  if (runner == 0) {
    if (!run_root.empty()) ::setenv("TEREDO_RUN_ROOT", run_root.c_str(), 1);
    ::dup2(out[1], 1);
    ::execl(TEREDO_CONFORM_BIN, TEREDO_CONFORM_BIN, "lab", "up", "client-nat", "--prefix", prefix.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  char line[4096] = {};
  const ssize_t n = ::read(out[0], line, sizeof line - 1);
  ::close(out[0]);
  return n > 0 ? runner : -1;
}

// `lab up` in the foreground tears its lab down on SIGINT and on SIGTERM.
void signal_case(int signal_number, const std::string& prefix) {
  const pid_t runner = start_foreground_lab(prefix);
  ASSERT_GT(runner, 0) << "lab up printed nothing";
  ASSERT_TRUE(fs::exists("/run/netns/" + prefix + "-nat"));
  ::kill(runner, signal_number);
  int status = 0;
  ::waitpid(runner, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "the runner exits by itself after tearing down";
  EXPECT_EQ(WEXITSTATUS(status), 128 + signal_number);
  EXPECT_EQ(leftovers(prefix), std::vector<std::string>{});
}

TEST_F(LabLifecycleTest, SigintTearsDown) { signal_case(SIGINT, "tc-0c1a" + std::to_string(10 + ::getpid() % 90)); }
TEST_F(LabLifecycleTest, SigtermTearsDown) { signal_case(SIGTERM, "tc-0c1b" + std::to_string(10 + ::getpid() % 90)); }
// Every signal that ends a process tears the lab down, not only the three
// a terminal sends (SIGQUIT used to dump core with the lab up).
TEST_F(LabLifecycleTest, SigquitTearsDown) { signal_case(SIGQUIT, "tc-0c1c" + std::to_string(10 + ::getpid() % 90)); }
TEST_F(LabLifecycleTest, SighupTearsDown) { signal_case(SIGHUP, "tc-0c1d" + std::to_string(10 + ::getpid() % 90)); }
TEST_F(LabLifecycleTest, Sigusr1TearsDown) { signal_case(SIGUSR1, "tc-0c1e" + std::to_string(10 + ::getpid() % 90)); }

TEST_F(LabLifecycleTest, KilledRunnerIsCleanedByLabClean) {
  const std::string prefix = "tc-0dead" + std::to_string(::getpid() % 10);
  const pid_t runner = start_foreground_lab(prefix);
  ASSERT_GT(runner, 0) << "lab up printed nothing";
  ASSERT_TRUE(fs::exists("/run/netns/" + prefix + "-client"));
  ::kill(runner, SIGKILL);
  int status = 0;
  ::waitpid(runner, &status, 0);
  EXPECT_NE(leftovers(prefix), std::vector<std::string>{}) << "SIGKILL allows no teardown";
  const std::string report = capture(std::string(TEREDO_CONFORM_BIN) + " lab clean");
  EXPECT_NE(report.find(prefix), std::string::npos) << report;
  EXPECT_EQ(leftovers(prefix), std::vector<std::string>{});
}

// `lab clean` run with another TEREDO_RUN_ROOT than a live lab's owner used
// leaves that lab alone (its namespaces name a live owner); once the owner
// is dead, the namespaces go, whichever run root the clean uses.
TEST_F(LabLifecycleTest, LabCleanFromAnotherRunRootKeepsLiveLabs) {
  const fs::path base = fs::temp_directory_path() / ("teredo-roots-" + std::to_string(::getpid()));
  const std::string root_a = (base / "a").string(), root_b = (base / "b").string();
  fs::create_directories(root_a);
  fs::create_directories(root_b);
  const std::string prefix = "tc-0ab0" + std::to_string(10 + ::getpid() % 90);
  const std::string clean_b = "TEREDO_RUN_ROOT=" + root_b + " " + TEREDO_CONFORM_BIN + " lab clean";
  const pid_t runner = start_foreground_lab(prefix, root_a);
  ASSERT_GT(runner, 0) << "lab up printed nothing";
  ASSERT_TRUE(fs::exists("/run/netns/" + prefix + "-client"));
  const std::string first = capture(clean_b);
  EXPECT_EQ(first.find(prefix), std::string::npos) << first;
  EXPECT_TRUE(fs::exists("/run/netns/" + prefix + "-client")) << "a live lab was removed: " << first;
  EXPECT_TRUE(fs::exists("/run/netns/" + prefix + "-sw-inet"));
  EXPECT_TRUE(fs::exists(root_a + "/" + prefix + "/registry.json"));

  ::kill(runner, SIGKILL);
  int status = 0;
  ::waitpid(runner, &status, 0);
  const std::string second = capture(clean_b);
  EXPECT_NE(second.find(prefix + "-client"), std::string::npos) << second;
  EXPECT_FALSE(fs::exists("/run/netns/" + prefix + "-client")) << second;
  // The run directory lives in root A: a clean there removes the record.
  const std::string third = capture("TEREDO_RUN_ROOT=" + root_a + " " + TEREDO_CONFORM_BIN + " lab clean");
  EXPECT_NE(third.find(prefix), std::string::npos) << third;
  EXPECT_FALSE(fs::exists(root_a + "/" + prefix));
  EXPECT_EQ(capture("ip netns list").find(prefix), std::string::npos);
  fs::remove_all(base);
}

TEST_F(LabLifecycleTest, TwoLabsAtOnceDoNotCollide) {
  const netns::Topology t = netns::load_topology(kTopologies + "client-nat.json");
  std::unique_ptr<netns::Lab> first, second;
  std::thread a([&] { first = netns::Lab::up(t); });
  std::thread b([&] { second = netns::Lab::up(t); });
  a.join();
  b.join();
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->prefix(), second->prefix());
  // Same addresses in both, yet each lab's traffic stays in its own lab.
  LabSocket s1(*first, "server", {"203.0.113.1", 4000});
  LabSocket s2(*second, "server", {"203.0.113.1", 4000});
  LabSocket c1(*first, "client", {"192.0.2.10", 5000});
  c1.send_to({"203.0.113.1", 4000}, "one");
  EXPECT_TRUE(s1.receive("one"));
  EXPECT_FALSE(s2.receive("one", 200));
  const std::string p1 = first->prefix(), p2 = second->prefix();
  first.reset();
  EXPECT_EQ(leftovers(p1), std::vector<std::string>{});
  EXPECT_TRUE(fs::exists("/run/netns/" + p2 + "-server")) << "tearing one lab down must not touch the other";
  second.reset();
  EXPECT_EQ(leftovers(p2), std::vector<std::string>{});
}

// A prefix whose namespaces exist, even those of a lab of another run root,
// is refused before anything is built: the refused lab's teardown would
// delete every namespace its record names, the live lab's included.
TEST_F(LabLifecycleTest, APrefixInUseIsNeverShared) {
  const fs::path base = fs::temp_directory_path() / ("teredo-claim-" + std::to_string(::getpid()));
  const netns::Topology t = netns::load_topology(kTopologies + "client-nat.json");
  netns::LabOptions in_a, in_b;
  in_a.prefix = in_b.prefix = "tc-0c1f0" + std::to_string(::getpid() % 10);
  in_a.run_root = (base / "a").string();
  in_b.run_root = (base / "b").string();
  auto live = netns::Lab::up(t, in_a);
  EXPECT_THROW(netns::Lab::up(t, in_a), netns::LabError) << "the same run root";
  EXPECT_THROW(netns::Lab::up(t, in_b), netns::LabError) << "another run root";
  EXPECT_TRUE(fs::exists("/run/netns/" + live->prefix() + "-server")) << "a refused lab tore down the live one";
  EXPECT_FALSE(fs::exists(in_b.run_root + "/" + live->prefix()));
  const std::string prefix = live->prefix();
  live.reset();
  EXPECT_EQ(leftovers(prefix), std::vector<std::string>{});
  fs::remove_all(base);
}

TEST_F(LabLifecycleTest, BadTopologiesCreateNothing) {
  const fs::path dir = fs::temp_directory_path() / ("teredo-bad-topo-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::pair<std::string, std::string> cases[] = {
      {"malformed", "{\"name\": \"x\", \"hosts\": {"},
      {"unknown-host",
       R"({"name":"x","hosts":{"a":{"interfaces":{"eth0":{"addresses":["192.0.2.1/24"]}}}},"links":[["a:eth0","ghost:eth0"]]})"},
      {"overlap",
       R"({"name":"x","hosts":{"a":{"interfaces":{"eth0":{"addresses":["192.0.2.1/24"]}}},"b":{"interfaces":{"eth0":{"addresses":["192.0.2.1/24"]}}}},"links":[["a:eth0","b:eth0"]]})"},
      {"profile",
       R"({"name":"x","hosts":{"a":{"interfaces":{"eth0":{"addresses":["192.0.2.1/24"]},"eth1":{"addresses":["198.51.100.1/24"]}},"nat":{"profile":"leaky","inside":"eth0","outside":"eth1"}},"b":{"interfaces":{"eth0":{}}},"c":{"interfaces":{"eth0":{}}}},"links":[["a:eth0","b:eth0"],["a:eth1","c:eth0"]]})"},
  };
  const std::string before = capture("ip netns list") + capture("ls " + netns::default_run_root() + " 2>/dev/null");
  const std::pair<std::string, std::string> expected_words[] = {
      {"malformed", "malformed JSON"}, {"unknown-host", "unknown host 'ghost'"},
      {"overlap", "overlapping addresses"}, {"profile", "unknown NAT profile 'leaky'"}};
  for (const auto& [name, text] : cases) {
    std::ofstream(dir / (name + ".json")) << text;
    const std::string command = std::string(TEREDO_CONFORM_BIN) + " lab up " + (dir / (name + ".json")).string() +
                                " 2>&1; echo \"exit=$?\"";
    const std::string out = capture(command);
    EXPECT_NE(out.find("exit=2"), std::string::npos) << name << ": " << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << name << ": one error line, then the exit code\n" << out;
    for (const auto& [case_name, words] : expected_words) {
      if (case_name == name) {
        EXPECT_NE(out.find(words), std::string::npos) << out;
      }
    }
  }
  EXPECT_EQ(capture("ip netns list") + capture("ls " + netns::default_run_root() + " 2>/dev/null"), before);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace teredo::labtest
