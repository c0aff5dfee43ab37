#include "engine/runner.hpp"

#include "engine/capabilities.hpp"
#include "engine/iut_watch.hpp"
#include "teredo/reports/gate.hpp"

#include <fnmatch.h>
#include <cmath>
#include <openssl/evp.h>
#include <sys/utsname.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace teredo::conformance {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string utc_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
}

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string data = text.str();
  unsigned char digest[32];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// TODO(merge): the exit status or signal, from iut_adapter's reaping.
std::string describe_exit(const IutProcess& iut) {
  return fmt::format("the IUT process (pid {}) is no longer running", iut.pid);
}

// How the IUT died, if it did: its main process ended, or a process of its
// tree did (a supervisor restarting a crashed worker keeps the main PID).
std::optional<std::string> iut_death(const IutProcess& iut, const std::vector<ProcessIdentity>& processes) {
  if (iut.pid <= 0) return std::nullopt;
  if (!netns::process_alive(iut.pid)) return describe_exit(iut);
  return lost_process(processes);
}

struct AttemptResult {
  Verdict verdict = Verdict::error;
  double duration_ms = 0;
  std::uint64_t seed = 0;
  std::vector<Assertion> assertions;
  std::vector<Message> messages;
  json evidence;
};

AttemptResult run_attempt(const CaseSpec& spec, const Adapter& adapter, const Catalog& catalog, std::uint64_t seed,
                          const std::string& evidence_dir, const std::string& evidence_rel) {
  AttemptResult result;
  result.seed = seed;
  const auto start = Clock::now();
  fs::create_directories(evidence_dir);
  json pcaps = json::array(), logs = json::array();
  try {
    netns::Topology topology =
        netns::load_topology(std::string(TEREDO_SOURCE_DIR) + "/netns/topologies/" + spec.topology + ".json");
    if (spec.nat_profile) {
      for (auto& [name, host] : topology.hosts) {
        if (host.nat) netns::apply_nat_profile(*spec.nat_profile, *host.nat);
      }
    }
    netns::LabOptions lab_options;
    lab_options.seed = seed;
    auto lab = netns::Lab::up(topology, lab_options);
    // Native IPv6 paths work only once the links have their link-local
    // addresses; a case must not race the kernel's linkwatch.
    if (!lab->wait_ipv6_ready()) throw std::runtime_error("the lab's IPv6 links did not come up within 3 s");
    std::map<std::string, std::unique_ptr<Capture>> captures;
    for (const auto& v : spec.captures) {
      captures.emplace(v.name, std::make_unique<Capture>(v.name, lab->netns(v.host), v.interface,
                                                         evidence_dir + "/" + v.name + ".pcap"));
    }
    IutProcess iut;
    bool died = false;
    CaseRun run(spec, catalog, *lab, adapter, captures, seed);
    try {
      // The first capability of the case that has a launch variant picks it.
      std::string variant;
      for (const auto& [key, capability] : kLaunchVariants) {
        if (variant.empty() && std::find(spec.capabilities.begin(), spec.capabilities.end(), capability) !=
                                   spec.capabilities.end()) {
          variant = capability;
        }
      }
      if (spec.before_iut) spec.before_iut(run);
      std::vector<ProcessIdentity> iut_processes;
      const auto launch = [&] {
        iut = start_iut(adapter, spec.role, *lab, iut_host(spec.role), lab_placeholders(*lab), variant);
        iut_processes = process_tree(iut.pid);
        run.info(fmt::format("{} {} started in {} (pid {})", adapter.name, spec.role, lab->netns(iut_host(spec.role)),
                             iut.pid),
                 "iut_started");
      };
      launch();
      run.set_iut_restarter([&] {
        // A restart the case asks for must not hide a death before it.
        if (const auto death = iut_death(iut, iut_processes); death && !died) {
          died = true;
          run.iut_died(*death);
        }
        stop_iut(iut);
        iut = IutProcess{};
        launch();
      });
      spec.body(run);
      run.fixture.reset();
      result.verdict = run.verdict();
      // An IUT that died during the case has failed it, whatever the body
      // judged (JUDGING.md §1): a control barrier it could not answer, an
      // inconclusive silence.
      if (const auto death = iut_death(iut, iut_processes); death && !died) {
        died = true;
        run.iut_died(*death);
      }
    } catch (const AdapterError& e) {
      run.info(std::string("harness error: ") + e.what(), "adapter_error");
      result.verdict = Verdict::error;
    } catch (const std::exception& e) {
      run.info(std::string("harness error: ") + e.what(), "harness_error");
      result.verdict = Verdict::error;
    }
    // ... or threw: a socket error the death caused is not the harness's.
    if (iut.pid > 0 && !died && !netns::process_alive(iut.pid)) {
      died = true;
      run.iut_died(describe_exit(iut));
    }
    if (died) result.verdict = Verdict::fail;
    if (iut.pid > 0) stop_iut(iut);
    for (auto& [name, capture] : captures) {
      capture->stop();
      pcaps.push_back({{"path", evidence_rel + "/" + name + ".pcap"},
                       {"vantage", name},
                       {"packets", capture->count()},
                       {"sha256", file_sha256(capture->path())}});
    }
    if (!iut.log_path.empty() && fs::exists(iut.log_path)) {
      fs::copy_file(iut.log_path, evidence_dir + "/iut.log", fs::copy_options::overwrite_existing);
      logs.push_back({{"path", evidence_rel + "/iut.log"}, {"what", "IUT stdout and stderr"}});
    }
    result.assertions = run.assertions();
    result.messages = run.messages();
  } catch (const std::exception& e) {
    result.verdict = Verdict::error;
    result.messages.push_back({0, "error", std::string("harness error: ") + e.what(), "harness_error"});
  }
  result.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  result.evidence = {{"dir", evidence_rel}, {"pcaps", pcaps}, {"logs", logs}};
  return result;
}

json assertion_json(const Assertion& a) {
  json frames = json::array();
  for (const auto& f : a.frames) frames.push_back({{"capture", f.capture}, {"frame", f.frame}});
  // The harness's own rules (an IUT that died) cite no requirement.
  return {{"requirement", a.requirement.empty() ? json(nullptr) : json(a.requirement)}, {"level", to_string(a.level)}, {"outcome", a.outcome},
          {"expected", a.expected},       {"observed", a.observed},      {"message", a.message},
          {"code", a.code.empty() ? json(nullptr) : json(a.code)},       {"frames", frames}};
}

Level case_level(const CaseSpec& spec, const Catalog& catalog) {
  Level strongest = Level::may;
  for (const auto& id : spec.requirements) {
    if (const Requirement* r = catalog.find(id)) {
      if (static_cast<int>(r->level) < static_cast<int>(strongest)) strongest = r->level;
    }
  }
  return strongest;
}

std::string shell_quote(const std::string& s) { return "'" + s + "'"; }

json run_case(const CaseSpec& spec, const Adapter& adapter, const Catalog& catalog, const RunOptions& options,
              std::uint64_t seed) {
  json c;
  c["case_id"] = spec.id;
  c["title"] = spec.title;
  c["description"] = spec.description;
  c["judgement"] = spec.judgement;
  c["role"] = spec.role;
  c["level"] = to_string(case_level(spec, catalog));
  c["requirements"] = spec.requirements;
  std::set<std::string> sections;
  for (const auto& id : spec.requirements) {
    if (const Requirement* r = catalog.find(id)) sections.insert(r->doc + " " + r->section);
  }
  c["rfc_sections"] = std::vector<std::string>(sections.begin(), sections.end());
  c["topology"] = spec.topology;
  c["nat_profile"] = spec.nat_profile ? json(*spec.nat_profile) : json(nullptr);
  c["reproducer"] = fmt::format("teredo-conform run --iut {} --cases {} --seed {}", shell_quote(adapter.path),
                                shell_quote(spec.id), seed);
  c["baseline"] = nullptr;
  json attempts = json::array();
  std::vector<std::string> missing;
  for (const auto& cap : spec.capabilities) {
    if (!adapter.has(cap)) missing.push_back(cap);
  }
  // not-applicable only for what the RFC makes optional (JUDGING.md §6,
  // engine/capabilities.hpp); a missing launch form is inconclusive, a
  // missing behaviour the RFC requires a fail.
  const MissingCapabilities absent = judge_missing_capabilities(missing);
  if (absent.outcome != MissingCapabilities::Outcome::run) {
    json assertions = json::array();
    const char* verdict = "not-applicable";
    if (absent.outcome == MissingCapabilities::Outcome::inconclusive) verdict = "inconclusive";
    if (absent.outcome == MissingCapabilities::Outcome::fail) {
      verdict = "fail";
      const Requirement* r = catalog.find(absent.requirement);
      assertions.push_back({{"requirement", absent.requirement},
                            {"level", to_string(r ? r->level : Level::must)},
                            {"outcome", "fail"},
                            {"expected", "the adapter declares how to use it"},
                            {"observed", absent.reason},
                            {"message", absent.reason},
                            {"code", "required_capability_undeclared"},
                            {"frames", json::array()}});
    }
    c["verdict"] = verdict;
    c["duration_ms"] = 0;
    c["attempts"] = json::array();
    c["assertions"] = assertions;
    c["messages"] = json::array({{{"t_ms", 0}, {"level", "info"}, {"text", absent.reason},
                                  {"code", "capability_undeclared"}}});
    c["evidence"] = {{"dir", nullptr}, {"pcaps", json::array()}, {"logs", json::array()}};
    return c;
  }
  const std::string case_dir_rel = "cases/" + spec.id;
  std::vector<AttemptResult> results;
  for (int n = 1; n <= 1 + options.retries; ++n) {
    const std::string rel = case_dir_rel + "/attempt-" + std::to_string(n);
    results.push_back(run_attempt(spec, adapter, catalog, seed + static_cast<std::uint64_t>(n - 1),
                                  options.out_dir + "/" + rel, rel));
    attempts.push_back({{"n", n},
                        {"verdict", to_string(results.back().verdict)},
                        {"duration_ms", static_cast<std::int64_t>(results.back().duration_ms)},
                        {"seed", results.back().seed}});
    // Only a warn (the IUT may vary: flaky) or a harness error (the harness
    // may do better) is worth another attempt. A fail is final: no later
    // attempt may downgrade it (JUDGING.md, "Attempts").
    const Verdict v = results.back().verdict;
    if (v != Verdict::warn && v != Verdict::error) break;
  }
  std::vector<Verdict> verdicts;
  for (const auto& r : results) verdicts.push_back(r.verdict);
  const Verdict final = combine_attempts(verdicts);
  const AttemptResult& last = results.back();
  double total_ms = 0;
  for (const auto& r : results) total_ms += r.duration_ms;
  c["verdict"] = to_string(final);
  c["duration_ms"] = static_cast<std::int64_t>(total_ms);
  c["attempts"] = attempts;
  json assertions = json::array();
  // The evidence of a failing attempt is the one a vendor wants to read.
  const AttemptResult* shown = &last;
  for (const auto& r : results) {
    if (r.verdict == Verdict::fail || r.verdict == Verdict::warn) {
      shown = &r;
      break;
    }
  }
  for (const auto& a : shown->assertions) assertions.push_back(assertion_json(a));
  c["assertions"] = assertions;
  json messages = json::array();
  for (const auto& m : shown->messages) {
    messages.push_back({{"t_ms", m.t_ms}, {"level", m.level}, {"text", m.text},
                        {"code", m.code.empty() ? json(nullptr) : json(m.code)}});
  }
  c["messages"] = messages;
  c["evidence"] = shown->evidence;
  return c;
}

std::set<std::string> known_failures(const std::string& path) {
  std::set<std::string> known;
  if (path.empty()) return known;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the baseline " + path);
  const json j = json::parse(in);
  if (j.contains("known_failures")) {
    for (const auto& id : j["known_failures"]) known.insert(id.get<std::string>());
  } else if (j.contains("cases")) {
    for (const auto& c : j["cases"]) {
      const std::string v = c.value("verdict", "");
      if (v == "fail" || v == "warn" || v == "flaky") known.insert(c.value("case_id", ""));
    }
  } else {
    throw std::runtime_error("the baseline " + path + " is neither a report nor {\"known_failures\": [...]}");
  }
  return known;
}

}  // namespace

std::vector<const CaseSpec*> select_cases(const Adapter& adapter, const RunOptions& options) {
  std::vector<const CaseSpec*> out;
  for (const CaseSpec& spec : case_registry()) {
    if (!adapter.roles.count(spec.role)) continue;
    if (!options.roles.empty() &&
        std::find(options.roles.begin(), options.roles.end(), spec.role) == options.roles.end()) {
      continue;
    }
    if (fnmatch(options.cases.c_str(), spec.id.c_str(), 0) != 0) continue;
    out.push_back(&spec);
  }
  return out;
}

json coverage(const Catalog& catalog, const std::vector<std::string>& roles, const std::vector<const CaseSpec*>& cases) {
  std::map<std::string, std::vector<std::string>> covered_by;
  for (const CaseSpec* c : cases) {
    for (const auto& id : c->requirements) covered_by[id].push_back(c->id);
  }
  json requirements = json::object();
  std::vector<std::string> uncovered;
  std::size_t testable = 0, covered = 0;
  for (const auto& [id, requirement] : catalog.all()) {
    const Requirement& r = requirement;  // a lambda cannot capture a structured binding in C++20
    if (!r.testable_black_box()) continue;
    const bool in_scope = std::any_of(roles.begin(), roles.end(), [&r](const std::string& role) { return r.applies_to(role); });
    if (!in_scope) continue;
    ++testable;
    const auto it = covered_by.find(id);
    if (it != covered_by.end()) {
      ++covered;
    } else {
      uncovered.push_back(id);
    }
    requirements[id] = {{"doc", r.doc},           {"section", r.section}, {"level", to_string(r.level)},
                        {"role", r.role},          {"summary", r.summary}, {"testable", r.testable},
                        {"covered_by", it != covered_by.end() ? json(it->second) : json::array()}};
  }
  return {{"requirements", requirements},
          {"coverage",
           {{"testable", testable},
            {"covered", covered},
            {"percent", testable ? std::round(1000.0 * static_cast<double>(covered) / static_cast<double>(testable)) / 10.0
                                 : 0.0},
            {"uncovered", uncovered}}}};
}

json run_suite(const Adapter& adapter, const Catalog& catalog, const RunOptions& options,
               const std::function<void(const Progress&)>& progress, const std::atomic<bool>& interrupted) {
  const auto selected = select_cases(adapter, options);
  const auto start = Clock::now();
  const std::string started_at = utc_now();
  fs::create_directories(options.out_dir);

  std::vector<json> results(selected.size());
  std::vector<bool> finished(selected.size(), false);
  std::mutex mutex;
  std::size_t next = 0;
  Progress p;
  p.total = selected.size();
  const auto worker = [&] {
    for (;;) {
      std::size_t index = 0;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (next >= selected.size() || interrupted) return;
        index = next++;
      }
      const CaseSpec& spec = *selected[index];
      json result = run_case(spec, adapter, catalog, options, options.seed * 1000 + index);
      std::lock_guard<std::mutex> lock(mutex);
      if (interrupted) return;  // a case cut short by Ctrl-C is not reported as a verdict
      results[index] = std::move(result);
      finished[index] = true;
      ++p.done;
      const std::string v = results[index]["verdict"];
      if (v == "fail" || v == "error" || v == "flaky" || v == "warn") ++p.failures;
      p.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
      p.last_case = spec.id;
      p.last_verdict = v;
      progress(p);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, options.jobs); ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  json report;
  report["schema"] = "teredo-compliance-report";
  report["schema_version"] = "1.0.0";
  report["complete"] = !interrupted && p.done == selected.size();
  utsname uts{};
  ::uname(&uts);
  std::vector<std::string> roles = options.roles;
  if (roles.empty()) {
    for (const auto& [role, launch] : adapter.roles) roles.push_back(role);
  }
  report["run"] = {{"run_id", fmt::format("run-{}-{}", ::getpid(), std::time(nullptr))},
                   {"started_at", started_at},
                   {"finished_at", utc_now()},
                   {"duration_ms", static_cast<std::int64_t>(std::chrono::duration<double, std::milli>(Clock::now() - start).count())},
                   {"harness", {{"name", "teredo-conform"}, {"version", "0.1.0"},
                                {"git_commit", std::string(TEREDO_GIT_COMMIT) == "unknown" ? json(nullptr) : json(TEREDO_GIT_COMMIT)}}},
                   {"host", {{"kernel", uts.release}, {"cpus", std::thread::hardware_concurrency()}}},
                   {"command_line", options.command_line},
                   {"master_seed", options.seed},
                   {"selection", {{"roles", roles}, {"cases", options.cases}}},
                   {"options", {{"jobs", options.jobs}, {"strict", options.strict},
                                {"baseline", options.baseline.empty() ? json(nullptr) : json(options.baseline)}}}};
  std::vector<std::string> capabilities(adapter.capabilities.begin(), adapter.capabilities.end());
  std::vector<std::string> adapter_roles;
  for (const auto& [role, launch] : adapter.roles) adapter_roles.push_back(role);
  report["iut"] = {{"name", adapter.name}, {"version", adapter.version()}, {"adapter", adapter.path},
                   {"adapter_sha256", adapter.sha256}, {"roles", adapter_roles}, {"capabilities", capabilities}};
  json cases = json::array();
  std::vector<const CaseSpec*> ran;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    if (!finished[i]) continue;
    cases.push_back(results[i]);
    if (results[i]["verdict"] != "not-applicable") ran.push_back(selected[i]);
  }
  const json cov = coverage(catalog, roles, ran);
  report["requirements"] = cov["requirements"];
  // A case may cite a requirement outside the roles' testable set (another
  // role's, or one the catalog calls untestable): list it too.
  for (const CaseSpec* spec : ran) {
    for (const auto& id : spec->requirements) {
      if (report["requirements"].contains(id)) continue;
      const Requirement* r = catalog.find(id);
      if (r == nullptr) continue;
      json covered_by = json::array();
      for (const CaseSpec* other : ran) {
        if (std::find(other->requirements.begin(), other->requirements.end(), id) != other->requirements.end()) {
          covered_by.push_back(other->id);
        }
      }
      report["requirements"][id] = {{"doc", r->doc},         {"section", r->section}, {"level", to_string(r->level)},
                                    {"role", r->role},        {"summary", r->summary}, {"testable", r->testable},
                                    {"covered_by", covered_by}};
    }
  }
  report["cases"] = cases;
  json by_verdict = {{"pass", 0}, {"fail", 0}, {"warn", 0}, {"not-applicable", 0},
                     {"inconclusive", 0}, {"error", 0}, {"flaky", 0}};
  json by_level = json::object();
  for (const auto& c : cases) {
    const std::string v = c["verdict"];
    by_verdict[v] = by_verdict[v].get<int>() + 1;
    const std::string level = c["level"];
    json& counts = by_level[level];
    if (counts.is_null()) counts = json::object();
    counts[v] = counts.value(v, 0) + 1;
  }
  report["summary"] = {{"total", cases.size()}, {"by_verdict", by_verdict}, {"by_level", by_level},
                       {"coverage", cov["coverage"]}};
  return report;
}

int apply_gate(json& report, bool strict, const std::string& baseline_path) {
  const std::set<std::string> known = known_failures(baseline_path);
  for (auto& c : report["cases"]) {
    const std::string v = c["verdict"];
    if ((v == "fail" || v == "warn") && known.count(c["case_id"].get<std::string>())) c["baseline"] = "known";
  }
  report["gate"] = {{"policy", strict ? "strict" : "default"},
                    {"baseline_file", baseline_path.empty() ? json(nullptr) : json(baseline_path)}};
  // One gate rule for the exit code, junit.xml and the HTML (reports/gate.hpp).
  const std::vector<std::string> blocking = reports::blocking_cases(report);
  int exit_code = reports::cases_exit_code(report);
  if (!report.value("complete", false)) exit_code = 2;  // an interrupted run is a harness error
  report["gate"]["result"] = exit_code == 0 ? "pass" : exit_code == 1 ? "fail" : "error";
  report["gate"]["exit_code"] = exit_code;
  report["gate"]["blocking"] = blocking;
  return exit_code;
}

}  // namespace teredo::conformance
