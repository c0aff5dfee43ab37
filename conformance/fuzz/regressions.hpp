// Fuzz findings kept as regression cases (issue 13): `teredo-conform fuzz
// promote FINDING_DIR` writes a finding's minimized datagrams to
// conformance/regressions/<id>.json, and `run` executes every such file
// against every IUT of its role as the case `regression.<id>`:
//
//   the fuzzer's rig (fuzz/rig.hpp) brings the IUT into the state the
//   finding was made in (server: after a qualified client; relay: with a
//   trusted Teredo peer and a native host), sends the datagrams, then judges
//   with the fuzzer's oracles: pass when the IUT survives (the engine fails
//   a case whose IUT dies, JUDGING.md §1), breaks no wire invariant of its
//   role with what it sends, and stays live (its liveness probe answered;
//   a second one after a quiet pause). A state the IUT does not reach is
//   inconclusive (state_not_reached), never a fail.
//
// The requirement a regression cites is the finding's, or, for a finding
// no requirement names (a crash, a deaf IUT), the role's rule for malformed
// input: a server MUST silently discard what is not a well-formed Teredo
// packet (R4380-5.3.1-02), a relay discards what is not a valid IPv6 packet
// (R4380-5.4.2-01).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/case.hpp"

namespace teredo::conformance::fuzz {

// The regression file of a finding (OUT/fuzz/findings/<id>/finding.json).
// `id` names it (a case ID part: [a-z0-9-]); empty: derived from the role,
// oracle and signature. Throws std::runtime_error on a finding it cannot use.
nlohmann::json regression_from_finding(const nlohmann::json& finding, const std::string& id);

// The case of a regression file; throws std::runtime_error naming what is
// wrong with it.
CaseSpec regression_case(const nlohmann::json& regression, const std::string& file);

// Appends the cases of every *.json in `dir` (sorted by name) to the case
// registry, once per process; a missing directory has none. Throws
// std::runtime_error naming a file that is not a valid regression.
void register_regressions(const std::string& dir);

// The requirement a regression of `role` cites when its finding names none.
std::string malformed_input_requirement(const std::string& role);

}  // namespace teredo::conformance::fuzz
