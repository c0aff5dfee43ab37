#include "report_fixture.hpp"

#include "teredo/reports/check.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace teredo::reports::test {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* const kSha = "3f0a6b1c2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

json requirement(const std::string& section, const std::string& level, const std::string& role, const std::string& summary,
                 const std::string& testable = "yes") {
  return {{"doc", "RFC4380"}, {"section", section}, {"level", level}, {"role", role},
          {"summary", summary}, {"quote", ""}, {"testable", testable}, {"covered_by", json::array()}};
}

json assertion(const std::string& req, const std::string& level, const std::string& outcome, const json& expected,
               const json& observed, const json& message, const json& frames = json::array(), const json& code = nullptr) {
  return {{"requirement", req}, {"level", level},   {"outcome", outcome}, {"expected", expected},
          {"observed", observed}, {"message", message}, {"code", code},       {"frames", frames}};
}

json evidence_for(const std::string& id, bool with_files) {
  const std::string dir = "cases/" + id;
  json e = {{"dir", dir}, {"pcaps", json::array()}, {"logs", json::array()}};
  if (with_files) {
    e["pcaps"].push_back({{"path", dir + "/driver.pcap"}, {"vantage", "driver"}, {"packets", 4}, {"sha256", kSha}});
    e["pcaps"].push_back({{"path", dir + "/nat-outer.pcap"}, {"vantage", "nat-outer"}, {"packets", 4}, {"sha256", kSha}});
    e["logs"].push_back({{"path", dir + "/iut.log"}, {"what", "IUT stdout+stderr"}});
  }
  return e;
}

struct CaseSpec {
  std::string id, title, role, level, verdict;
  std::vector<std::string> reqs;
  std::vector<std::string> sections;
  std::string topology = "server-only";
  json nat = nullptr;
};

json make_case(const CaseSpec& s, std::uint64_t seed) {
  const bool ran = s.verdict != "not-applicable";
  json c = {{"case_id", s.id},
            {"title", s.title},
            {"description", "Plays the other parties of " + s.id + " and captures what the IUT sends."},
            {"judgement", "Passes when every cited requirement holds on the wire."},
            {"role", s.role},
            {"level", s.level},
            {"requirements", s.reqs},
            {"rfc_sections", s.sections},
            {"topology", s.topology},
            {"nat_profile", s.nat},
            {"verdict", s.verdict},
            {"duration_ms", ran ? 640 : 0},
            {"attempts", json::array()},
            {"assertions", json::array()},
            {"messages", json::array()},
            {"evidence", evidence_for(s.id, ran)},
            {"reproducer", "teredo-conform run --iut miredo --cases '" + s.id + "' --seed " + std::to_string(seed)},
            {"baseline", nullptr}};
  if (ran) {
    const std::string attempt_verdict = s.verdict == "flaky" ? "pass" : s.verdict;
    c["attempts"].push_back({{"n", 1}, {"verdict", attempt_verdict}, {"duration_ms", 640}, {"seed", seed}});
  }
  const std::string outcome = s.verdict == "warn" ? "warn" : s.verdict == "fail" ? "fail" : s.verdict == "inconclusive" ? "inconclusive" : "pass";
  if (ran && s.verdict != "error") {
    for (const std::string& r : s.reqs) {
      c["assertions"].push_back(assertion(r, s.level, outcome, "RA from 203.0.113.2:3544", outcome == "pass" ? "RA from 203.0.113.2:3544" : "nothing within 4 s",
                                          outcome == "pass" ? "as expected" : "not met", json::array({{{"capture", "driver.pcap"}, {"frame", 2}}})));
    }
  }
  c["messages"].push_back({{"t_ms", 0}, {"level", "info"}, {"text", "lab up"}, {"code", nullptr}});
  return c;
}

void set_verdict(json& c, const std::string& verdict) {
  c["verdict"] = verdict;
  if (verdict == "not-applicable") {
    c["attempts"] = json::array();
    c["assertions"] = json::array();
    c["duration_ms"] = 0;
    return;
  }
  if (verdict == "flaky") {
    c["attempts"] = json::array({{{"n", 1}, {"verdict", "warn"}, {"duration_ms", 2500}, {"seed", 17}},
                                 {{"n", 2}, {"verdict", "pass"}, {"duration_ms", 800}, {"seed", 18}}});
    c["duration_ms"] = 3300;
  } else {
    c["attempts"] = json::array({{{"n", 1}, {"verdict", verdict}, {"duration_ms", 640}, {"seed", 21}}});
    c["duration_ms"] = 640;
  }
  const std::string outcome = verdict == "warn" ? "warn" : verdict == "fail" ? "fail" : verdict == "inconclusive" ? "inconclusive" : "pass";
  for (json& a : c["assertions"]) a["outcome"] = outcome;
  if (verdict != "fail" && verdict != "warn") c["baseline"] = nullptr;
}

}  // namespace

json make_report(const FixtureOptions& o) {
  json report = {
      {"schema", "teredo-compliance-report"},
      {"schema_version", teredo::reports::schema_version()},
      {"complete", true},
      {"run",
       {{"run_id", "tc-1a2b3c"},
        {"started_at", "2026-11-26T16:00:00Z"},
        {"finished_at", "2026-11-26T16:01:10Z"},
        {"duration_ms", 70000},
        {"harness", {{"name", "teredo-conform"}, {"version", "0.1.0"}, {"git_commit", "abc1234def"}}},
        {"host", {{"kernel", "6.1.0"}, {"cpus", 2}}},
        {"command_line", "teredo-conform run --iut " + o.iut_name + (o.strict ? " --strict" : "")},
        {"master_seed", 1},
        {"selection", {{"roles", {"server", "client", "relay"}}, {"cases", "*"}}},
        {"options", {{"jobs", 2}, {"strict", o.strict}, {"baseline", "baseline.json"}}}}},
      {"iut",
       {{"name", o.iut_name},
        {"version", o.iut_version},
        {"adapter", "conformance/iut/" + o.iut_name + ".json"},
        {"adapter_sha256", kSha},
        {"roles", {"server", "client", "relay"}},
        {"capabilities", {"local_discovery"}}}},
      {"requirements", json::object()},
      {"cases", json::array()},
      {"summary", json::object()},
      {"gate", json::object()}};

  json& reqs = report["requirements"];
  reqs["R4380-5.3.2-02"] = requirement("5.3.2", "MUST", "server", "The RA advertises 2001:0::/32 plus the server's IPv4.");
  reqs["R4380-5.3.2-07"] = requirement("5.3.2", "MUST", "server", "An RS with the cone bit is answered from the secondary address.");
  reqs["R4380-5.3.2-07"]["quote"] = kConeQuote;
  reqs["R4380-5.3.1-03"] = requirement("5.3.1", "SHOULD", "server", "Packets that are neither bubbles nor ICMPv6 should be dropped.");
  reqs["R4380-5.3.1-04"] = requirement("5.3.1", "MUST", "server", "Packets from a non-global IPv4 source are dropped silently.");
  reqs["R4380-5.2.1-01"] = requirement("5.2.1", "MUST", "client", "Qualification starts with an RS to the server with the cone bit set.");
  reqs["R4380-5.2.1-02"] = requirement("5.2.1", "MUST", "client", "A client behind a symmetric NAT stays unqualified.");
  reqs["R5991-4-01"] = requirement("4", "MUST", "client", "Secure qualification carries a valid HMAC.");
  reqs["R5991-4-01"]["doc"] = "RFC5991";
  reqs["R4380-5.4.2-01"] = requirement("5.4.2", "MUST", "relay", "The relay sends a bubble before forwarding to a new peer.");
  reqs["R4380-5.4.1-01"] = requirement("5.4.1", "MUST", "relay", "Native IPv6 to a Teredo client is forwarded after the test.");
  // Testable but cited by no case: uncovered.
  reqs["R4380-5.2.3-01"] = requirement("5.2.3", "SHOULD", "client", "The client refreshes its mapping every 30 seconds.");
  reqs["R4380-5.4.3-02"] = requirement("5.4.3", "MAY", "relay", "A relay may rate-limit bubbles.");

  const std::vector<CaseSpec> specs = {
      {"server.rs.answer-rs", "The server answers an RS with an RA " + kUnicode, "server", "MUST", "pass", {"R4380-5.3.2-02"}, {"RFC4380 5.3.2"}},
      {kFailCase, "Cone RS answered from the secondary address", "server", "MUST", "fail", {"R4380-5.3.2-07"}, {"RFC4380 5.3.2"}},
      {kWarnCase, "Unauthenticated non-ICMPv6 packets are dropped", "server", "SHOULD", "warn", {"R4380-5.3.1-03"}, {"RFC4380 5.3.1"}},
      {"server.forward.drop-non-global", "Non-global IPv4 sources are dropped", "server", "MUST", "pass", {"R4380-5.3.1-04"}, {"RFC4380 5.3.1"}},
      {kNaCase, "Secure qualification with HMAC-SHA1", "client", "MUST", "not-applicable", {"R5991-4-01"}, {"RFC5991 4"}, "client-nat", "full-cone"},
      {kInconclusiveCase, "Symmetric NAT keeps the client unqualified", "client", "MUST", "inconclusive", {"R4380-5.2.1-02"}, {"RFC4380 5.2.1"}, "client-nat", "symmetric"},
      {kKnownCase, "Qualification through a cone NAT", "client", "MUST", "fail", {"R4380-5.2.1-01"}, {"RFC4380 5.2.1"}, "client-nat", "full-cone"},
      {kErrorCase, "Direct connectivity test with bubbles", "relay", "MUST", o.with_error ? "error" : "pass", {"R4380-5.4.2-01"}, {"RFC4380 5.4.2"}, "two-clients", "port-restricted-cone"},
      {kFlakyCase, "Native IPv6 is forwarded to a Teredo client", "relay", "MUST", "flaky", {"R4380-5.4.1-01"}, {"RFC4380 5.4.1", "RFC4380 5.4.2"}, "client-nat", "full-cone"},
  };
  std::uint64_t seed = 11;
  for (const CaseSpec& s : specs) {
    if (std::find(o.drop.begin(), o.drop.end(), s.id) != o.drop.end()) continue;
    json c = make_case(s, seed++);
    if (s.verdict == "flaky") set_verdict(c, "flaky");
    report["cases"].push_back(std::move(c));
  }
  for (json& c : report["cases"]) {
    const std::string id = c["case_id"];
    if (id == kFailCase) {
      json& a = c["assertions"][0];
      a["expected"] = "RA from 203.0.113.2:3544 (the secondary address)";
      a["observed"] = "RA from 203.0.113.1:3544 " + kHostile + " " + kUnicode;
      a["message"] = "source was the primary address " + kHostile;
      a["code"] = nullptr;
      a["frames"] = json::array({{{"capture", "driver.pcap"}, {"frame", 2}}, {{"capture", "nat-outer.pcap"}, {"frame", 5}}});
      c["messages"].push_back({{"t_ms", 12}, {"level", "warn"}, {"text", kBinary}, {"code", "truncated_origin_indication"}});
      c["title"] = c["title"].get<std::string>() + " " + kHostile;
    } else if (id == kKnownCase) {
      c["baseline"] = "known";
    } else if (id == kErrorCase && o.with_error) {
      c["messages"].push_back({{"t_ms", 40}, {"level", "error"}, {"text", "lab: cannot create veth tc-1a2b3c-r0: File exists"}, {"code", "lab_setup_failed"}});
      c["evidence"]["pcaps"] = json::array();
    } else if (id == kNaCase) {
      c["messages"] = json::array({{{"t_ms", 0}, {"level", "info"}, {"text", "the adapter does not declare secure_qualification:hmac-sha1"}, {"code", nullptr}}});
      c["evidence"] = {{"dir", nullptr}, {"pcaps", json::array()}, {"logs", json::array()}};
    }
    const auto forced = o.force.find(id);
    if (forced != o.force.end()) set_verdict(c, forced->second);
  }
  finalize(report);
  return report;
}

std::vector<InvalidDocument> invalid_documents() {
  std::vector<InvalidDocument> out;
  out.push_back({"an array", json::array(), "/"});
  json numeric = make_report();
  numeric["cases"][0]["verdict"] = 3;
  out.push_back({"a numeric verdict", numeric, "/cases/0/verdict"});
  json missing = make_report();
  missing["cases"][1].erase("verdict");
  out.push_back({"a case without a verdict", missing, "/cases/1/verdict"});
  json level = make_report();
  level["cases"][2]["level"] = "OPTIONAL";
  out.push_back({"an unknown level", level, "/cases/2/level"});
  return out;
}

std::string one_clear_error_failures(const std::function<std::string(const json&)>& render) {
  std::string failures;
  for (const InvalidDocument& d : invalid_documents()) {
    try {
      (void)render(d.document);
      failures += d.what + ": rendered\n";
    } catch (const InvalidReport& e) {
      const std::string message = e.what();
      const bool clear = message.find('\n') == std::string::npos && message.starts_with("not a report.json") &&
                         message.find(d.pointer + ": ") != std::string::npos;
      if (!clear) failures += d.what + ": " + message + "\n";
    }
  }
  return failures;
}

void finalize(json& report) {
  json& reqs = report["requirements"];
  for (auto& [id, r] : reqs.items()) r["covered_by"] = json::array();
  std::map<std::string, int> by_verdict;
  json by_level = json::object();
  for (const json& c : report["cases"]) {
    const std::string verdict = c["verdict"];
    ++by_verdict[verdict];
    json& n = by_level[c["level"].get<std::string>()][verdict];
    n = n.is_null() ? 1 : n.get<int>() + 1;
    if (c["attempts"].empty()) continue;  // did not run: covers nothing
    for (const json& r : c["requirements"]) {
      if (reqs.contains(r.get<std::string>())) reqs[r.get<std::string>()]["covered_by"].push_back(c["case_id"]);
    }
  }
  int testable = 0, covered = 0;
  json uncovered = json::array();
  for (const auto& [id, r] : reqs.items()) {
    if (r["testable"] != "yes") continue;
    ++testable;
    if (r["covered_by"].empty()) uncovered.push_back(id);
    else ++covered;
  }
  json summary = {{"total", report["cases"].size()}, {"by_verdict", json::object()}, {"by_level", by_level}};
  for (const char* v : {"pass", "fail", "warn", "not-applicable", "inconclusive", "error", "flaky"}) summary["by_verdict"][v] = by_verdict[v];
  const double percent = testable == 0 ? 0.0 : std::round(1000.0 * covered / testable) / 10.0;
  summary["coverage"] = {{"testable", testable}, {"covered", covered}, {"percent", percent}, {"uncovered", uncovered}};
  report["summary"] = summary;

  const bool strict = report["run"]["options"]["strict"].get<bool>();
  json blocking = json::array();
  bool error = false, failure = false, inconclusive = false;
  for (const json& c : report["cases"]) {
    const std::string v = c["verdict"];
    const bool known = c["baseline"] == "known";
    if (v == "error") {
      error = true;
      blocking.push_back(c["case_id"]);
    } else if ((v == "fail" || (strict && v == "warn")) && !known) {
      failure = true;
      blocking.push_back(c["case_id"]);
    } else if (v == "inconclusive" && !known) {
      inconclusive = true;
      blocking.push_back(c["case_id"]);
    }
  }
  report["gate"] = {{"policy", strict ? "strict" : "default"},
                    {"baseline_file", report["run"]["options"]["baseline"]},
                    {"result", error ? "error" : failure ? "fail" : inconclusive ? "inconclusive" : "pass"},
                    {"exit_code", error ? 2 : failure ? 1 : inconclusive ? 4 : 0},
                    {"blocking", blocking}};
}

std::map<std::string, int> verdict_counts(const json& report) {
  std::map<std::string, int> n;
  for (const json& c : report["cases"]) ++n[c["verdict"].get<std::string>()];
  return n;
}

// --- processes and files ------------------------------------------------------

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ProcessResult result;
  TempDir dir;
  const std::string out_path = (dir.path() / "stdout").string();
  const std::string err_path = (dir.path() / "stderr").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args;
  std::vector<std::string> copy = argv;
  for (std::string& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    result.err = "posix_spawnp(" + argv.at(0) + "): " + std::strerror(rc);
    return result;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() > deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid, SIGKILL);  // helpers the program left behind in its group
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

std::string find_program(const std::vector<std::string>& names) {
  const char* path = std::getenv("PATH");
  const std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& name : names) {
    if (name.find('/') != std::string::npos) {
      if (::access(name.c_str(), X_OK) == 0) return name;
      continue;
    }
    std::stringstream s(dirs);
    std::string dir;
    while (std::getline(s, dir, ':')) {
      if (dir.empty()) continue;
      const fs::path candidate = fs::path(dir) / name;
      if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate.string();
    }
  }
  return {};
}

std::string python_with_jsonschema() {
  static const std::string found = [] {
    // Debian's python3-jsonschema is for /usr/bin/python3; a python3 earlier
    // in PATH may have its own jsonschema. Either will do.
    for (const std::string name : {"python3", "/usr/bin/python3"}) {
      const std::string program = find_program({name});
      if (program.empty()) continue;
      const ProcessResult r = run_process({program, "-c", "import jsonschema; jsonschema.Draft202012Validator"});
      if (r.exit_code == 0) return program;
    }
    return std::string();
  }();
  return found;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "teredo-reports-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

fs::path source_path(const std::string& relative) { return fs::path(TEREDO_SOURCE_DIR) / relative; }

}  // namespace teredo::reports::test
