#include "fuzz/fuzz_report.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "engine/runner.hpp"
#include "teredo/reports/check.hpp"

namespace teredo::conformance::fuzz {

namespace fs = std::filesystem;
using nlohmann::json;

std::string finding_case_id(const std::string& role, const std::string& finding_id) {
  return fmt::format("fuzz.{}.{}", role, finding_id);
}

namespace {

// What each oracle checks, for the case's judgement.
std::string oracle_rule(const std::string& oracle) {
  if (oracle == "iut_died") return "The IUT must not die during the run (JUDGING.md §1: an IUT that dies fails).";
  if (oracle == "unresponsive") {
    return "The IUT must stay live: two liveness probes in a row failing while it runs is a finding.";
  }
  if (oracle == "sanitizer") {
    return "The IUT's log must hold no sanitizer report, Python traceback or Go panic.";
  }
  if (oracle == "memory_growth") return "The IUT's resident memory must stay within the bound over a qualified start.";
  return "Every datagram the IUT sends must keep the wire invariants of its role (conformance/fuzz/README.md).";
}

json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  json j = json::parse(in, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

}  // namespace

json fuzz_report(const json& summary, const Adapter& adapter, const Catalog& catalog, const std::string& out_dir,
                 int& exit_code) {
  const std::string role = summary.value("role", "");
  RunOptions options;
  options.command_line = summary.value("command_line", "");
  options.seed = summary.value("seed", std::uint64_t{1});
  options.cases = "fuzz." + role + ".*";
  options.jobs = 1;
  reports::Report report;
  report.schema = reports::schema_name();
  report.schema_version = reports::schema_version();
  // Ctrl-C ends a fuzz run early and still writes whole findings; only a
  // second one (abort) leaves the report incomplete.
  report.complete = summary.value("stopped_by", "") != "abort";
  report.run = report_run(summary.value("started_at", utc_now()),
                          static_cast<std::int64_t>(1000.0 * summary.value("duration_s", 0.0)), {}, options);
  report.iut = report_iut(adapter);
  json findings = json::array();
  for (const json& listed : summary.value("findings", json::array())) {
    const std::string id = listed.value("id", "");
    const std::string case_id = finding_case_id(role, id);
    json section_entry = listed;
    section_entry["case_id"] = listed["dir"].is_null() ? json(nullptr) : json(case_id);
    findings.push_back(section_entry);
    if (listed["dir"].is_null()) continue;  // aborted while minimized: never written
    const std::string dir = listed["dir"].get<std::string>();
    const json finding = read_json_file(fs::path(out_dir) / dir / "finding.json");
    if (finding.is_null()) continue;
    const std::string requirement = finding["requirement"].is_string() ? finding["requirement"].get<std::string>() : "";
    const Requirement* r = requirement.empty() ? nullptr : catalog.find(requirement);
    const Level level = r != nullptr ? r->level : Level::must;
    reports::Case c;
    if (r != nullptr) {
      c.requirements.push_back(requirement);
      c.rfc_sections.push_back(fmt::format("{} {}", r->doc, r->section));
      if (!report.requirements.contains(requirement)) report.requirements[requirement] = requirement_entry(*r, {});
    }
    const std::size_t kept = finding.value("datagrams_after_minimization", std::size_t{0});
    const std::string pcap = dir + "/reproducer.pcap";
    if (fs::exists(fs::path(out_dir) / pcap)) {
      c.evidence.pcaps.push_back({.path = pcap,
                                  .vantage = "reproducer",
                                  .packets = kept,
                                  .sha256 = file_sha256((fs::path(out_dir) / pcap).string()),
                                  .capped = false});
    }
    const std::string oracle = finding.value("oracle", "");
    const std::string signature = finding.value("signature", "");
    reports::Assertion assertion{
        .requirement = r != nullptr ? std::optional<std::string>(requirement) : std::nullopt,
        .level = level,
        .outcome = Verdict::fail,
        .expected = oracle == "wire_invariant" ? "no datagram breaking the invariant" : "the IUT alive and well",
        .observed = finding.value("detail", ""),
        .message = oracle_rule(oracle),
        .code = oracle == "wire_invariant" ? signature : oracle,
        .frames = {}};
    for (std::uint64_t i = 1; i <= kept; ++i) assertion.frames.push_back({.capture = "reproducer.pcap", .frame = i});
    const auto duration_ms = static_cast<std::int64_t>(1000.0 * finding["minimization"].value("seconds", 0.0));
    c.case_id = case_id;
    c.title = fmt::format("Fuzz finding {}: {} ({})", id, oracle, signature);
    c.description = fmt::format(
        "{}. Found after {} datagram(s) (seed {}), seen {} time(s); minimized from {} to {} datagram(s) "
        "against fresh IUTs.",
        finding.value("state", ""), finding.value("found_after_datagrams", std::uint64_t{0}),
        finding.value("seed", std::uint64_t{0}), finding.value("hits", 1),
        finding.value("datagrams_before_minimization", std::size_t{0}), kept);
    c.judgement = oracle_rule(oracle);
    c.role = role;
    c.level = level;
    c.topology = summary.value("topology", "");
    c.verdict = Verdict::fail;
    c.duration_ms = duration_ms;
    // One attempt: the run that found it (the minimization's fresh IUTs are
    // its replays, not attempts of their own).
    c.attempts.push_back({.n = 1, .verdict = Verdict::fail, .duration_ms = duration_ms, .seed = finding.value("seed", std::uint64_t{0})});
    c.assertions.push_back(std::move(assertion));
    c.evidence.dir = dir;
    c.evidence.logs.push_back({.path = dir + "/iut.log", .what = "the failing IUT's log", .capped = std::nullopt});
    c.reproducer = fmt::format("teredo-conform replay --iut '{}' --role {} --pcap '{}'", adapter.path, role, pcap);
    report.cases.push_back(std::move(c));
  }
  report.summary = reports::summarize(report.cases, {});
  report.fuzz = json{{"role", role},
                     {"seed", summary.value("seed", std::uint64_t{1})},
                     {"stopped_by", summary.value("stopped_by", "")},
                     {"duration_s", summary.value("duration_s", 0.0)},
                     {"fuzzing_s", summary.value("fuzzing_s", 0.0)},
                     {"minimizing_s", summary.value("minimizing_s", 0.0)},
                     {"datagrams_sent", summary.value("datagrams_sent", std::uint64_t{0})},
                     {"rate_per_s", summary.value("rate_per_s", 0.0)},
                     {"by_state", summary.value("by_state", json::object())},
                     {"probes", summary.value("probes", json::object())},
                     {"iut_starts", summary.value("iut_starts", std::uint64_t{0})},
                     {"iut_datagrams_seen", summary.value("iut_datagrams_seen", std::uint64_t{0})},
                     {"summary_file", "fuzz/summary.json"},
                     {"findings", findings}};
  json document = report;
  exit_code = apply_gate(document, false, "");
  return document;
}

}  // namespace teredo::conformance::fuzz
