// What every runner (server, relay, client) shares: how a failed send is
// logged and how a stop signal ends the loop.
#pragma once

#include <string>

#include "teredo/io/event_log.hpp"
#include "teredo/io/event_loop.hpp"
#include "teredo/io/runners.hpp"
#include "teredo/io/udp_socket.hpp"

namespace teredo::io::detail {

std::string signal_name(int signal);
// One line when some datagrams of a send could not be sent.
void report_send(EventLog& log, node::Time now, const SendReport& r, node::UdpEndpoint from);
// SIGTERM/SIGINT/SIGHUP: log the signal and the counters, then leave the loop.
void add_stop_handler(EventLoop& loop, SignalFd& signals, EventLog& log, const RunnerStats& stats,
                      int& stop_signal);

}  // namespace teredo::io::detail
