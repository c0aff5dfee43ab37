// teredo-conform: the command line of the harness.
//   decode   --pcap FILE | --hex BYTES      one JSON object per frame
//   address  ADDR | --server --port --ipv4  decode or build a Teredo address
//   samples  --out FILE                     write the project's own sample capture
//   lab      up | exec | down | list | clean   the network-namespace lab
//   run, list, iut check                     the conformance driver
//   report   render | check | matrix         views and checks of report.json files
//   fuzz     --iut --role server              the wire fuzzer (OUT/fuzz/)
//   interop  --client --server --relay --nat   pairwise interop grid (OUT/interop.html)
// Exit codes: 0 done, 2 bad input, 3 bad usage (see cli/commands.hpp).
#include <iostream>

#include "capture/pcap_file.hpp"
#include "cli/commands.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/netns/topology.hpp"

int main(int argc, char** argv) {
  using namespace teredo::cli;
  CLI::App app{"teredo-conform: Teredo (RFC 4380, RFC 5991) conformance and fuzz harness"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "teredo-conform 0.1.0");
  std::vector<Command> commands = add_decode_commands(app);
  for (auto& c : add_lab_commands(app)) commands.push_back(std::move(c));
  for (auto& c : add_run_commands(app)) commands.push_back(std::move(c));
  for (auto& c : add_report_commands(app)) commands.push_back(std::move(c));
  for (auto& c : add_fuzz_commands(app)) commands.push_back(std::move(c));
  for (auto& c : add_interop_commands(app)) commands.push_back(std::move(c));

  set_command_line(std::vector<std::string>(argv, argv + argc));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "teredo-conform: " << e.what() << " (see --help)\n";
    return kExitUsage;
  }

  try {
    for (const Command& c : commands) {
      if (c.app->parsed()) return c.run();
    }
  } catch (const UsageError& e) {
    std::cerr << "teredo-conform " << e.what() << " (see --help)\n";
    return kExitUsage;
  } catch (const InputError& e) {
    std::cerr << "teredo-conform: " << e.what() << '\n';
    return kExitInput;
  } catch (const teredo::capture::CaptureError& e) {
    std::cerr << "teredo-conform: " << e.what() << '\n';
    return kExitInput;
  } catch (const teredo::netns::TopologyError& e) {
    std::cerr << "teredo-conform: bad topology: " << e.what() << '\n';
    return kExitInput;
  } catch (const teredo::netns::LabError& e) {
    std::cerr << "teredo-conform: lab: " << e.what() << '\n';
    return kExitInput;
  } catch (const std::exception& e) {
    std::cerr << "teredo-conform: internal error: " << e.what() << '\n';
    return kExitInput;
  }
  return kExitUsage;
}
