// lab up | exec | down | list | clean: the network-namespace lab, by hand.
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "engine/data_dir.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::cli {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

// A topology name from netns/topologies, or a path to a JSON file.
std::string topology_path(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos || fs::is_regular_file(name_or_path)) return name_or_path;
  const std::string bundled = conformance::topology_file(name_or_path);
  if (fs::exists(bundled)) return bundled;
  throw InputError(fmt::format("no topology '{}' (not a file, not in {})", name_or_path, conformance::topologies_dir()));
}

// The lab a command acts on: the one named, or the only one there is.
netns::RegistryRecord find_lab(const std::string& prefix) {
  std::vector<netns::RegistryRecord> labs;
  for (auto& [dir, record] : netns::Registry::list(netns::default_run_root())) {
    if (prefix.empty() || record.prefix == prefix) labs.push_back(record);
  }
  if (labs.empty()) {
    throw InputError(prefix.empty() ? "no lab is up" : fmt::format("no lab {}", prefix));
  }
  if (labs.size() > 1) {
    std::string names;
    for (const auto& l : labs) names += " " + l.prefix;
    throw InputError("several labs are up; name one with --lab:" + names);
  }
  return labs.front();
}

}  // namespace

std::vector<Command> add_lab_commands(CLI::App& app) {
  std::vector<Command> commands;
  auto* lab = app.add_subcommand("lab", "Build and use the network-namespace lab by hand");
  lab->require_subcommand(1);

  struct UpOptions {
    std::string topology, nat_profile, prefix;
    bool detach = false;
    std::uint64_t seed = 1;
  };
  auto u = std::make_shared<UpOptions>();
  auto* up = lab->add_subcommand("up", "Bring a topology up; it stays until Ctrl-C (or `lab down` with --detach)");
  up->add_option("TOPOLOGY", u->topology, "A name from netns/topologies, or a JSON file")->required();
  up->add_option("--nat-profile", u->nat_profile, "Give every NAT box this profile");
  up->add_option("--prefix", u->prefix, "Use this run prefix (tc- and six hex digits)");
  up->add_option("--seed", u->seed, "Seed for the NAT boxes' port allocation");
  up->add_flag("--detach", u->detach, "Leave the lab up and return");
  commands.push_back({up, [u] {
                        netns::Topology topology = netns::load_topology(topology_path(u->topology));
                        if (!u->nat_profile.empty()) {
                          for (auto& [name, host] : topology.hosts) {
                            if (host.nat && !netns::apply_nat_profile(u->nat_profile, *host.nat)) {
                              throw InputError(fmt::format("--nat-profile: unknown NAT profile '{}'", u->nat_profile));
                            }
                          }
                        }
                        netns::install_teardown_on_signals();
                        netns::LabOptions options;
                        options.prefix = u->prefix;
                        options.detached = u->detach;
                        options.seed = u->seed;
                        auto l = netns::Lab::up(topology, options);
                        ordered_json j;
                        j["prefix"] = l->prefix();
                        j["topology"] = topology.name;
                        j["run_dir"] = l->run_dir();
                        for (const auto& [name, host] : topology.hosts) j["hosts"][name] = l->netns(name);
                        std::cout << j.dump() << std::endl;
                        if (u->detach) {
                          l->release();
                          return kExitOk;
                        }
                        std::cerr << "lab " << l->prefix() << " is up; Ctrl-C tears it down" << std::endl;
                        for (;;) ::pause();
                      }});

  struct ExecOptions {
    std::string lab, host;
    std::vector<std::string> command;
  };
  auto e = std::make_shared<ExecOptions>();
  auto* exec = lab->add_subcommand("exec", "Run a command in a host of the lab: lab exec HOST -- CMD ...");
  exec->add_option("--lab", e->lab, "The lab's prefix (needed when several are up)");
  exec->add_option("HOST", e->host, "Host name from the topology")->required();
  exec->add_option("COMMAND", e->command, "The command and its arguments")->required();
  exec->prefix_command(false);
  commands.push_back({exec, [e] {
                        const netns::RegistryRecord record = find_lab(e->lab);
                        const std::string ns = record.prefix + "-" + e->host;
                        if (std::find(record.namespaces.begin(), record.namespaces.end(), ns) ==
                            record.namespaces.end()) {
                          throw InputError(fmt::format("lab {} has no host '{}'", record.prefix, e->host));
                        }
                        const pid_t pid = netns::spawn_in(ns, e->command);
                        int status = 0;
                        ::waitpid(pid, &status, 0);
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                      }});

  auto down_prefix = std::make_shared<std::string>();
  auto* down = lab->add_subcommand("down", "Tear a lab down (the only one, or PREFIX)");
  down->add_option("PREFIX", *down_prefix, "The lab's prefix");
  commands.push_back({down, [down_prefix] {
                        const netns::RegistryRecord record = find_lab(*down_prefix);
                        netns::remove_run(netns::default_run_root(), record.prefix);
                        std::cout << ordered_json{{"removed", record.prefix}}.dump() << std::endl;
                        return kExitOk;
                      }});

  auto* list = lab->add_subcommand("list", "List the labs on this machine, one JSON object each");
  commands.push_back({list, [] {
                        for (const auto& [dir, r] : netns::Registry::list(netns::default_run_root())) {
                          std::cout << ordered_json{{"prefix", r.prefix},
                                                    {"topology", r.topology},
                                                    {"owner_pid", r.owner_pid},
                                                    {"owner_alive", netns::owner_alive(r)},
                                                    {"detached", r.detached},
                                                    {"namespaces", r.namespaces}}
                                           .dump()
                                    << std::endl;
                        }
                        return kExitOk;
                      }});

  auto all = std::make_shared<bool>(false);
  auto* clean = lab->add_subcommand(
      "clean", "Remove what dead runs left behind (a namespace only when its owner is known to be dead)");
  clean->add_flag("--all", *all, "Also remove detached labs");
  commands.push_back({clean, [all] {
                        const auto report = netns::clean_leftovers(netns::default_run_root(), *all);
                        std::cout << ordered_json{{"runs", report.runs},
                                                  {"namespaces", report.namespaces},
                                                  {"processes", report.processes},
                                                  {"unknown_owner", report.unknown_owner}}
                                         .dump()
                                  << std::endl;
                        return kExitOk;
                      }});
  return commands;
}

}  // namespace teredo::cli
