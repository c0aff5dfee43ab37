// Labs need root: they create network namespaces, veths, TUNs and nft tables.
// An unprivileged caller gets a private root instead, as `unshare -Urnm`
// gives one: the process moves into a new user namespace that maps the
// caller's uid and gid to 0 (and nothing else), a new network namespace (the
// labs' links and the run's own loopback live there) and a new mount
// namespace with a private tmpfs on /run (where `ip netns` pins namespaces and
// the lab registry lives: the host's /run belongs to the real root, which the
// user namespace does not map). Programs the run starts (ip, nft, the IUT)
// inherit all three. Files the run writes belong to the caller.
#pragma once

#include <optional>
#include <string>

namespace teredo::cli {

// A kernel setting that bears on unprivileged user namespaces; nullopt when
// this kernel has no such file.
struct UsernsSettings {
  std::optional<long> unprivileged_userns_clone;             // kernel.unprivileged_userns_clone (Debian patch)
  std::optional<long> max_user_namespaces;                   // user.max_user_namespaces
  std::optional<long> apparmor_restrict_unprivileged_userns;  // kernel.apparmor_restrict_unprivileged_userns
};
UsernsSettings read_userns_settings();

// The one line that says why unshare(CLONE_NEWUSER) failed with `error`,
// naming the setting that forbids it when one does.
std::string userns_refusal(int error, const UsernsSettings& settings);

// nullopt: the process is root now (it was, or it entered the namespaces
// above); otherwise the one line why it cannot be. Call it while the process
// has one thread (the kernel refuses a new user namespace to a threaded one).
std::optional<std::string> become_lab_root();

// become_lab_root(), or InputError ("<command>: <why>", exit code 2).
void require_lab_root(const std::string& command);

}  // namespace teredo::cli
