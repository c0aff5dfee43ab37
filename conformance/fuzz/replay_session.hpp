// `teredo-conform replay --role server`: the lab side. Builds a server-only
// lab, starts the IUT server as the server cases do, and sends it, one by
// one and each from a socket of its own, the datagrams a capture sent to a
// Teredo server (fuzz/replay.hpp). Every RS is judged (an RA repeating its
// nonce; silence judged against a later control RS); every datagram is
// followed by a look at the IUT's process tree: an IUT that dies fails
// there (code iut_died) and the replay stops.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/iut_adapter.hpp"
#include "fuzz/replay.hpp"

namespace teredo::conformance::fuzz {

// Runs the replay and writes OUT/replay/replay.json; returns it. Its
// "exit_code" follows the gate (reports/gate.hpp): 1 a fail, else 4 an
// inconclusive RS, else 0. Throws AdapterError when the IUT cannot start.
nlohmann::json replay_server(const Adapter& adapter, const std::string& pcap_path,
                             const std::vector<ReplayDatagram>& datagrams, const std::string& out_dir,
                             const std::atomic<bool>& interrupted);

}  // namespace teredo::conformance::fuzz
