// teredo-ref: the reference Teredo server, relay, host-specific relay and client.
// Exit codes: 0 clean shutdown (SIGTERM, SIGINT, SIGHUP) or --help;
// 1 a system call failed (the message names the step); 2 a bad value;
// 3 bad usage. Each failure is one line on stderr.
#include <signal.h>
#include <unistd.h>

#include <exception>
#include <iostream>
#include <variant>

#include "options.hpp"
#include "run.hpp"
#include "teredo/io/clock.hpp"
#include "teredo/io/error.hpp"

int main(int argc, char** argv) {
  using namespace teredo::ref;
  // A log reader that goes away must not kill the daemon.
  ::signal(SIGPIPE, SIG_IGN);

  Options options;
  try {
    options = parse_options(argc, argv);
  } catch (const ExitRequest& e) {
    return e.code;
  } catch (const BadValue& e) {
    std::cerr << "teredo-ref: " << e.what() << '\n';
    return kExitBadValue;
  } catch (const UsageError& e) {
    std::cerr << "teredo-ref: " << e.what() << " (see --help)\n";
    return kExitUsage;
  }

  try {
    // First: a SIGTERM from now on waits for the loop, which shuts down cleanly.
    teredo::io::SignalFd signals{SIGTERM, SIGINT, SIGHUP};
    teredo::io::EventLog log(STDOUT_FILENO, teredo::io::monotonic_now());
    return std::visit([&](const auto& o) { return run(o, signals, log); }, options);
  } catch (const BadValue& e) {
    std::cerr << "teredo-ref: " << e.what() << '\n';
    return kExitBadValue;
  } catch (const teredo::io::IoError& e) {
    std::cerr << "teredo-ref: " << e.what() << '\n';
    return kExitRuntime;
  } catch (const std::exception& e) {
    std::cerr << "teredo-ref: internal error: " << e.what() << '\n';
    return kExitRuntime;
  }
}
