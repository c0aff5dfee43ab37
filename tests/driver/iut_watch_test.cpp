// The IUT's process tree (conformance/engine/iut_watch.hpp): a worker that
// dies under a supervisor that lives on is a death of the IUT.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "engine/iut_watch.hpp"

namespace {

using namespace teredo::conformance;
using namespace std::chrono_literals;

// A supervisor (our child) with one worker (its child) that the supervisor
// replaces when it dies, like miredo-server's.
struct Supervisor {
  pid_t pid = 0;
  Supervisor() {
    pid = ::fork();
    if (pid == 0) {
      for (int restarts = 0; restarts < 3; ++restarts) {
        const pid_t worker = ::fork();
        if (worker == 0) {
          ::sleep(30);
          ::_exit(0);
        }
        int status = 0;
        ::waitpid(worker, &status, 0);
      }
      ::_exit(0);
    }
  }
  ~Supervisor() {
    for (const auto& p : process_tree(pid)) ::kill(p.pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  [[nodiscard]] std::vector<ProcessIdentity> settled_tree() const {
    for (int i = 0; i < 200; ++i) {
      auto tree = process_tree(pid);
      if (tree.size() == 2) return tree;
      std::this_thread::sleep_for(5ms);
    }
    return process_tree(pid);
  }
};

TEST(IutWatch, TheTreeHoldsTheSupervisorAndItsWorker) {
  const Supervisor s;
  const auto tree = s.settled_tree();
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(tree[0].pid, s.pid);
  EXPECT_EQ(tree[1].parent, s.pid);
  EXPECT_EQ(lost_process(tree), std::nullopt);
}

TEST(IutWatch, AWorkerReplacedByItsSupervisorIsADeath) {
  const Supervisor s;
  const auto tree = s.settled_tree();
  ASSERT_EQ(tree.size(), 2u);
  ::kill(tree[1].pid, SIGSEGV);
  // The supervisor lives on and starts a new worker: the root PID alone
  // would show nothing.
  std::optional<std::string> lost;
  for (int i = 0; i < 200 && !lost; ++i) {
    lost = lost_process(tree);
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(lost.has_value());
  EXPECT_NE(lost->find("pid " + std::to_string(tree[1].pid)), std::string::npos) << *lost;
  EXPECT_NE(lost->find("lived on"), std::string::npos) << *lost;
  EXPECT_TRUE(read_process(s.pid).has_value());
}

TEST(IutWatch, AReusedPidIsNotTheSameProcess) {
  const Supervisor s;
  auto tree = s.settled_tree();
  ASSERT_EQ(tree.size(), 2u);
  tree[1].start_time += 1;  // as if the PID now named a later process
  EXPECT_TRUE(lost_process(tree).has_value());
}

// miredo's privileged helper runs client-hook, a shell script, at every
// address change: a program the IUT runs may end; only its own forks count.
TEST(IutWatch, AProgramTheIutRunsMayEnd) {
  const pid_t root = ::fork();
  if (root == 0) {
    const pid_t hook = ::fork();
    if (hook == 0) {
      ::execl("/bin/sleep", "sleep", "0.3", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::sleep(30);
    ::_exit(0);
  }
  std::vector<ProcessIdentity> tree;
  bool hook_seen = false;
  for (int i = 0; i < 200 && !hook_seen; ++i) {
    std::this_thread::sleep_for(5ms);
    hook_seen = false;
    if (::DIR* dir = ::opendir("/proc")) {
      while (const dirent* e = ::readdir(dir)) {
        const auto p = read_process(static_cast<pid_t>(std::atoi(e->d_name)));
        hook_seen |= p && p->parent == root && p->name == "sleep";
      }
      ::closedir(dir);
    }
  }
  ASSERT_TRUE(hook_seen);
  tree = process_tree(root);
  EXPECT_EQ(tree.size(), 1u) << "the hook runs another executable";
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(lost_process(tree), std::nullopt);
  ::kill(root, SIGKILL);
  int status = 0;
  ::waitpid(root, &status, 0);
}

TEST(IutWatch, AGoneRootHasNoTree) { EXPECT_TRUE(process_tree(0x3ffffff0).empty()); }

}  // namespace
