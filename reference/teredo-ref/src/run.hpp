// Running a parsed configuration: build the node, hand it to its runner.
#pragma once

#include "options.hpp"
#include "teredo/io/event_log.hpp"
#include "teredo/io/event_loop.hpp"

namespace teredo::ref {

// Each returns the exit code after a clean shutdown; setup failures throw
// io::IoError (exit 1) or BadValue (exit 2).
int run(const ServerOptions& options, io::SignalFd& signals, io::EventLog& log);
int run(const RelayOptions& options, io::SignalFd& signals, io::EventLog& log);
int run(const ClientOptions& options, io::SignalFd& signals, io::EventLog& log);

}  // namespace teredo::ref
