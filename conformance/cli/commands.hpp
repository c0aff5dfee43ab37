// The subcommands of teredo-conform. Each group registers its subcommands on
// the app and returns, for each, the function that runs it once parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace teredo::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInput = 2;  // bad input: files, hex, addresses, topologies
inline constexpr int kExitUsage = 3;  // unknown command or flag, missing argument

// Bad input: printed as one line on stderr, exit code 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Bad usage that CLI11 cannot see (flags that go together): exit code 3.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Command {
  CLI::App* app;
  std::function<int()> run;
};

std::vector<Command> add_decode_commands(CLI::App& app);
std::vector<Command> add_lab_commands(CLI::App& app);
std::vector<Command> add_run_commands(CLI::App& app);
std::vector<Command> add_report_commands(CLI::App& app);
std::vector<Command> add_fuzz_commands(CLI::App& app);
std::vector<Command> add_interop_commands(CLI::App& app);

// The process's argv as main received it, shell-quoted: report.json's
// run.command_line. main sets it before parsing.
void set_command_line(const std::vector<std::string>& argv);
const std::string& command_line();

// Writes report.json (and the views rendered from it) into `out_dir`.
void write_report_files(const nlohmann::json& report, const std::string& out_dir);
// The run's one-line summary and where its reports are, on stderr.
void print_summary(const nlohmann::json& report, int code, const std::string& out_dir);

}  // namespace teredo::cli
