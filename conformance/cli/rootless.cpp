#include "cli/rootless.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"

namespace teredo::cli {

namespace {

std::optional<long> read_setting(const char* path) {
  std::ifstream in(path);
  long value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

// Writes `text` to a /proc file in one write(2), as the kernel requires for
// uid_map and gid_map.
bool write_proc(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

std::string errno_text(const std::string& what) { return fmt::format("{}: {}", what, std::strerror(errno)); }

}  // namespace

UsernsSettings read_userns_settings() {
  return {read_setting("/proc/sys/kernel/unprivileged_userns_clone"), read_setting("/proc/sys/user/max_user_namespaces"),
          read_setting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")};
}

std::string userns_refusal(int error, const UsernsSettings& s) {
  const std::string prefix = "not root, and the kernel refuses an unprivileged user namespace: ";
  if (s.unprivileged_userns_clone && *s.unprivileged_userns_clone == 0) {
    return prefix + "kernel.unprivileged_userns_clone = 0 (run as root, or set it to 1)";
  }
  if (s.max_user_namespaces && *s.max_user_namespaces == 0) {
    return prefix + "user.max_user_namespaces = 0 (run as root, or raise it)";
  }
  if (s.apparmor_restrict_unprivileged_userns && *s.apparmor_restrict_unprivileged_userns != 0) {
    return prefix + "kernel.apparmor_restrict_unprivileged_userns = 1 (run as root, set it to 0, or give teredo-conform "
                    "an AppArmor profile with userns)";
  }
  if (error == ENOSPC) {
    return prefix + fmt::format("user.max_user_namespaces ({}) is used up (run as root, or raise it)",
                                s.max_user_namespaces ? std::to_string(*s.max_user_namespaces) : "unknown");
  }
  if (error == EINVAL) return "not root, and a threaded process cannot enter a user namespace (a harness bug)";
  return prefix + fmt::format("unshare: {} (kernel.unprivileged_userns_clone = {}, user.max_user_namespaces = {})",
                              std::strerror(error),
                              s.unprivileged_userns_clone ? std::to_string(*s.unprivileged_userns_clone) : "absent",
                              s.max_user_namespaces ? std::to_string(*s.max_user_namespaces) : "absent");
}

std::optional<std::string> become_lab_root() {
  if (::geteuid() == 0) return std::nullopt;
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0) {
    return userns_refusal(errno, read_userns_settings());
  }
  // An unprivileged writer may map its own ids only, and its gid only once
  // setgroups(2) is denied.
  if (!write_proc("/proc/self/setgroups", "deny")) return errno_text("user namespace: /proc/self/setgroups");
  if (!write_proc("/proc/self/uid_map", fmt::format("0 {} 1", uid))) return errno_text("user namespace: uid_map");
  if (!write_proc("/proc/self/gid_map", fmt::format("0 {} 1", gid))) return errno_text("user namespace: gid_map");
  // Mounts made here stay here; a private /run for `ip netns` and the registry.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno_text("mount namespace: /");
  if (::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    return errno_text("mount namespace: tmpfs on /run");
  }
  std::cerr << fmt::format(
      "teredo-conform: not root: running in a private user, network and mount namespace (uid {} as root)\n", uid);
  return std::nullopt;
}

void require_lab_root(const std::string& command) {
  if (auto refusal = become_lab_root()) throw InputError(command + ": " + *refusal);
}

}  // namespace teredo::cli
