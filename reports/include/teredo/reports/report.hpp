// report.json as C++ types (reports/FORMAT.md; the published contract is the
// JSON Schema reports/schema/teredo-compliance-report.schema.json, embedded in
// the library). The runner writes a report through these types, the checker
// and the renderers read it back through them, and a test compares their keys
// with the schema's, so the shape is written down once in C++ and once as the
// contract, and the two cannot drift.
//
// A std::optional member is a key that is null when empty, unless its
// comment says "absent": then the key is left out when empty.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "teredo/reports/json_schema.hpp"
#include "teredo/reports/verdict.hpp"

// An optional value is null in JSON (the report's nullable keys).
namespace nlohmann {
template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& value) {
    if (value) j = *value;
    else j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& value) {
    if (j.is_null()) value.reset();
    else value = j.template get<T>();
  }
};
}  // namespace nlohmann

namespace teredo::reports {

// The published schema, as embedded at build time.
const nlohmann::json& report_schema_json();
const schema::JsonSchema& report_schema();
// The format's name (schema.const) and version ("version") as the embedded
// schema states them.
const std::string& schema_name();
const std::string& schema_version();

struct Harness {
  std::string name, version;
  std::optional<std::string> git_commit;
};
struct Host {
  std::string kernel;
  std::int64_t cpus = 1;
};
struct Selection {
  std::vector<std::string> roles;
  std::string cases;
};
struct RunOptionsRecord {
  std::int64_t jobs = 1;
  bool strict = false;
  std::optional<std::string> baseline;
};
struct ShardRef {
  std::int64_t index = 1, count = 1;
};
struct MergedShard {
  std::int64_t index = 1, count = 1;
  std::string run_id;
  std::int64_t duration_ms = 0;
  std::int64_t cases = 0;
};
struct Run {
  std::string run_id, started_at, finished_at;
  std::int64_t duration_ms = 0;
  Harness harness;
  Host host;
  std::string command_line;
  std::uint64_t master_seed = 0;
  Selection selection;
  RunOptionsRecord options;
  std::optional<ShardRef> shard;                        // absent for a whole run
  std::optional<std::vector<MergedShard>> merged_from;  // absent unless merged
};
struct Iut {
  std::string name;
  std::optional<std::string> version;
  std::string adapter;
  std::optional<std::string> adapter_sha256;
  std::vector<std::string> roles, capabilities;
};
struct Requirement {
  std::string doc, section;
  Level level = Level::must;
  std::string role, summary, quote, testable;
  std::vector<std::string> covered_by;
};
struct Attempt {
  std::int64_t n = 1;
  Verdict verdict = Verdict::error;
  std::int64_t duration_ms = 0;
  std::uint64_t seed = 0;
};
struct Frame {
  std::string capture;
  std::uint64_t frame = 1;
};
struct Assertion {
  std::optional<std::string> requirement;  // null: a rule of the harness's own
  Level level = Level::must;
  Verdict outcome = Verdict::pass;  // pass | fail | warn | inconclusive
  std::optional<std::string> expected, observed, message, code;
  std::vector<Frame> frames;
};
struct Message {
  std::int64_t t_ms = 0;
  std::string level;  // info | warn | error
  std::string text;
  std::optional<std::string> code;
};
struct Pcap {
  std::string path, vantage;
  std::uint64_t packets = 0;
  std::string sha256;
  std::optional<bool> capped;  // absent in 1.0
};
struct Log {
  std::string path, what;
  std::optional<bool> capped;  // absent in 1.0
};
struct Evidence {
  std::optional<std::string> dir;
  std::vector<Pcap> pcaps;
  std::vector<Log> logs;
  std::optional<std::uint64_t> cap_bytes;  // absent for a case that did not run
};
struct Case {
  std::string case_id, title, description, judgement, role;
  Level level = Level::must;
  std::vector<std::string> requirements, rfc_sections;
  std::string topology;
  std::optional<std::string> nat_profile;
  Verdict verdict = Verdict::error;
  std::int64_t duration_ms = 0;
  std::vector<Attempt> attempts;
  std::vector<Assertion> assertions;
  std::vector<Message> messages;
  Evidence evidence;
  std::string reproducer;
  std::optional<std::string> baseline;  // "known" or null
};
using VerdictCounts = std::map<std::string, std::int64_t>;  // by verdict name
struct Coverage {
  std::int64_t testable = 0, covered = 0;
  double percent = 0;
  std::vector<std::string> uncovered;
};
struct Summary {
  std::int64_t total = 0;
  VerdictCounts by_verdict;                    // every verdict, zeros included
  std::map<std::string, VerdictCounts> by_level;  // by level name, zeros left out
  Coverage coverage;
};
struct Gate {
  std::string policy;  // default | strict
  std::optional<std::string> baseline_file;
  std::string result;  // pass | fail | error | inconclusive
  int exit_code = 0;
  std::vector<std::string> blocking;
};
struct Report {
  std::string schema, schema_version;
  bool complete = false;
  Run run;
  Iut iut;
  std::map<std::string, Requirement> requirements;
  std::vector<Case> cases;
  Summary summary;
  std::optional<Gate> gate;  // absent only before the gate is applied
  // 1.4: a fuzz run's figures, written and read by conformance/fuzz (the
  // schema's $defs/fuzz); kept as JSON here.
  std::optional<nlohmann::json> fuzz;
};

// A report.json that does not read into these types (the schema rejects
// it): what() is one line naming the first problem ("/cases/3/verdict: ...").
struct InvalidReport : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// report.json as these types: the one read of the document every renderer
// and the gate make. Throws InvalidReport.
Report report_from_json(const nlohmann::json& document);

// The summary the cases count (total, by verdict with zeros, by level
// without), with `coverage` as given.
Summary summarize(const std::vector<Case>& cases, Coverage coverage);

// The types with keys that may be absent, serialized by hand.
#define TEREDO_REPORT_JSON(T)                       \
  void to_json(nlohmann::json& j, const T& value); \
  void from_json(const nlohmann::json& j, T& value);
TEREDO_REPORT_JSON(Run)
TEREDO_REPORT_JSON(Pcap)
TEREDO_REPORT_JSON(Log)
TEREDO_REPORT_JSON(Evidence)
TEREDO_REPORT_JSON(Report)
#undef TEREDO_REPORT_JSON

// The types whose every key is always present (null for an empty optional).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Harness, name, version, git_commit)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Host, kernel, cpus)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Selection, roles, cases)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RunOptionsRecord, jobs, strict, baseline)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ShardRef, index, count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MergedShard, index, count, run_id, duration_ms, cases)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Iut, name, version, adapter, adapter_sha256, roles, capabilities)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Requirement, doc, section, level, role, summary, quote, testable, covered_by)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Attempt, n, verdict, duration_ms, seed)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Frame, capture, frame)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Assertion, requirement, level, outcome, expected, observed, message, code, frames)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Message, t_ms, level, text, code)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Case, case_id, title, description, judgement, role, level, requirements, rfc_sections, topology, nat_profile, verdict, duration_ms, attempts, assertions, messages, evidence, reproducer, baseline)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Coverage, testable, covered, percent, uncovered)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Summary, total, by_verdict, by_level, coverage)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Gate, policy, baseline_file, result, exit_code, blocking)


}  // namespace teredo::reports
