#include "engine/runner.hpp"

#include "engine/capabilities.hpp"
#include "engine/data_dir.hpp"
#include "engine/iut_watch.hpp"
#include "teredo/reports/check.hpp"
#include "teredo/reports/gate.hpp"
#include "teredo/reports/report.hpp"

#include <fnmatch.h>
#include <cmath>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace teredo::conformance {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string utc_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
}

// Streamed: a capture may be as large as the evidence cap.
std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[32];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

namespace {

// "pid 4242 killed by SIGSEGV (core dumped)", from the status kept when the
// IUT (a child of ours) was reaped.
std::string describe_exit(const IutProcess& iut) {
  const auto status = iut_exit_status(iut);
  return fmt::format("pid {} {}", iut.pid, status ? netns::describe(*status) : std::string("is no longer running"));
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
  // Where the attempt's time went (s): lab up, IUT start, the case, teardown;
  // and of them, waiting for a CPU slot.
  double lab_up_s = 0, iut_start_s = 0, body_s = 0, teardown_s = 0, cpu_wait_s = 0;
  std::uint64_t seed = 0;
  std::vector<Assertion> assertions;
  std::vector<Message> messages;
  reports::Evidence evidence;
};

// The lab's build, the IUT's start and the lab's teardown each hold one of
// `cpu` (engine/schedule.hpp), asked for at the case's `rank`; the case
// itself, which mostly waits, holds none, and neither does an IUT restart the
// case asks for (it is part of what the case times).
AttemptResult run_attempt(const CaseSpec& spec, const Adapter& adapter, const Catalog& catalog, std::uint64_t seed,
                          const std::string& evidence_dir, const std::string& evidence_rel,
                          std::uint64_t evidence_cap_bytes, CpuSlots& cpu, std::size_t rank) {
  AttemptResult result;
  result.seed = seed;
  const auto start = Clock::now();
  // The phase the attempt is in: the time until the next one (or an
  // exception's way to the next catch) is counted to it.
  double* phase = &result.lab_up_s;
  auto phase_start = start;
  const auto enter = [&phase, &phase_start](double* next) {
    const auto now = Clock::now();
    *phase += std::chrono::duration<double>(now - phase_start).count();
    phase = next;
    phase_start = now;
  };
  const auto hold_cpu = [&cpu, &result, rank] {
    CpuSlots::Held held = cpu.hold(rank);
    result.cpu_wait_s += held.waited.count();
    return held;
  };
  const auto t_ms = [&start] {
    return static_cast<std::int64_t>(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  };
  std::vector<reports::Pcap> pcaps;
  std::vector<reports::Log> logs;
  // Evidence that cannot be written makes the attempt a harness error; the
  // run goes on with the next case.
  std::error_code unwritable;
  fs::create_directories(evidence_dir, unwritable);
  if (unwritable) {
    result.messages.push_back({0, "error",
                               fmt::format("harness error: the case's evidence cannot be written: {}: {}", evidence_dir,
                                           unwritable.message()),
                               "evidence_unwritable"});
    result.evidence = {.dir = std::nullopt, .pcaps = pcaps, .logs = logs, .cap_bytes = evidence_cap_bytes};
    return result;
  }
  try {
    netns::Topology topology =
        netns::load_topology(topology_file(spec.topology));
    if (spec.nat_profile) {
      bool applied = false;
      for (auto& [name, host] : topology.hosts) {
        if (host.nat) applied = netns::apply_nat_profile(*spec.nat_profile, *host.nat) || applied;
      }
      // Never a lab other than the one the verdict names (case_spec_problems
      // refuses such a case before any run; this is the last guard).
      if (!applied) {
        throw std::runtime_error(fmt::format("NAT profile '{}' not applied: no NAT in topology {}",
                                             *spec.nat_profile, spec.topology));
      }
    }
    netns::LabOptions lab_options;
    lab_options.seed = seed;
    lab_options.log_cap_bytes = evidence_cap_bytes;
    // Held from the end of the case until the lab is down (it is declared
    // before the lab, so the lab goes down first).
    std::optional<CpuSlots::Held> teardown_slot;
    auto lab = [&] {
      const CpuSlots::Held building = hold_cpu();
      return netns::Lab::up(topology, lab_options);
    }();
    // Native IPv6 paths work only once the links have their link-local
    // addresses; a case must not race the kernel's linkwatch.
    if (!lab->wait_ipv6_ready()) throw std::runtime_error("the lab's IPv6 links did not come up within 3 s");
    std::map<std::string, std::unique_ptr<Capture>> captures;
    for (const auto& v : spec.captures) {
      captures.emplace(v.name, std::make_unique<Capture>(v.name, lab->netns(v.host), v.interface,
                                                         evidence_dir + "/" + v.name + ".pcap", evidence_cap_bytes));
    }
    IutProcess iut;
    bool died = false;
    CaseRun run(spec, catalog, *lab, adapter, captures, seed);
    try {
      const std::string variant = launch_variant_for(spec.capabilities);
      enter(&result.body_s);
      if (spec.before_iut) spec.before_iut(run);
      enter(&result.iut_start_s);
      std::vector<ProcessIdentity> iut_processes;
      const auto launch = [&] {
        iut = start_iut(adapter, spec.role, *lab, iut_host(spec.role), lab_placeholders(*lab), variant);
        iut_processes = process_tree(iut.pid);
        run.info(fmt::format("{} {} started in {} (pid {})", adapter.name, spec.role, lab->netns(iut_host(spec.role)),
                             iut.pid),
                 "iut_started");
      };
      {
        const CpuSlots::Held starting = hold_cpu();
        launch();
      }
      enter(&result.body_s);
      run.set_iut_restarter([&](bool crash) {
        // A restart the case asks for must not hide a death before it.
        if (const auto death = iut_death(iut, iut_processes); death && !died) {
          died = true;
          run.iut_died(*death);
        }
        if (crash) {
          kill_iut(iut);
        } else {
          stop_iut(iut);
        }
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
    enter(&result.teardown_s);
    // ... or threw: a socket error the death caused is not the harness's.
    if (iut.pid > 0 && !died && !netns::process_alive(iut.pid)) {
      died = true;
      run.iut_died(describe_exit(iut));
    }
    if (died) result.verdict = Verdict::fail;
    if (iut.pid > 0) stop_iut(iut);
    std::vector<Message> evidence_notes;
    for (auto& [name, capture] : captures) {
      capture->stop();
      if (!capture->write_error().empty()) {
        // A harness fault, but never one that hides the IUT's death.
        if (!died) result.verdict = Verdict::error;
        evidence_notes.push_back({t_ms(), "error", "harness error: the case's evidence cannot be written: " +
                                                       capture->write_error(), "evidence_unwritable"});
      }
      const std::uint64_t dropped = capture->dropped();
      if (dropped > 0 && capture->write_error().empty()) {
        evidence_notes.push_back(
            {t_ms(), "warn",
             fmt::format("evidence capped: {}.pcap keeps the first {} frames ({} bytes at most, --evidence-cap-mb); "
                         "{} later frames were not kept, and the case judged without them",
                         name, capture->count(), evidence_cap_bytes, dropped),
             "evidence_capped"});
      }
      pcaps.push_back({.path = evidence_rel + "/" + name + ".pcap",
                       .vantage = name,
                       .packets = capture->count(),
                       .sha256 = file_sha256(capture->path()),
                       .capped = dropped > 0});
    }
    if (!iut.log_path.empty() && fs::exists(iut.log_path)) {
      // The IUT is stopped; whatever it started may still hold its output
      // open until the lab goes down.
      const std::uint64_t discarded = lab->log_discarded(iut.log_path, std::chrono::milliseconds(1000));
      fs::copy_file(iut.log_path, evidence_dir + "/iut.log", fs::copy_options::overwrite_existing);
      logs.push_back({.path = evidence_rel + "/iut.log", .what = "IUT stdout and stderr", .capped = discarded > 0});
      if (discarded > 0) {
        evidence_notes.push_back({t_ms(), "warn",
                                  fmt::format("evidence capped: iut.log keeps the first {} bytes of the IUT's output "
                                              "(--evidence-cap-mb); {} later bytes were discarded",
                                              evidence_cap_bytes, discarded),
                                  "evidence_capped"});
      }
    }
    result.assertions = run.assertions();
    result.messages = run.messages();
    result.messages.insert(result.messages.end(), evidence_notes.begin(), evidence_notes.end());
    teardown_slot.emplace(hold_cpu());
  } catch (const std::exception& e) {
    result.verdict = Verdict::error;
    result.messages.push_back({0, "error", std::string("harness error: ") + e.what(), "harness_error"});
  }
  enter(phase);
  // The attempt's own time: a wait for a CPU slot is the schedule's, not the
  // case's (case_durations.json, built from these, orders the next runs).
  result.duration_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - start).count() - 1000.0 * result.cpu_wait_s;
  result.evidence = {.dir = evidence_rel, .pcaps = pcaps, .logs = logs, .cap_bytes = evidence_cap_bytes};
  return result;
}

// An empty string as null (an assertion's or a message's absent field).
std::optional<std::string> or_null(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

reports::Assertion report_assertion(const Assertion& a) {
  reports::Assertion out{.requirement = or_null(a.requirement),  // the harness's own rules cite none
                         .level = a.level,
                         .outcome = reports::verdict_from_string(a.outcome).value_or(Verdict::error),
                         .expected = a.expected,
                         .observed = a.observed,
                         .message = a.message,
                         .code = or_null(a.code),
                         .frames = {}};
  for (const auto& f : a.frames) out.frames.push_back({.capture = f.capture, .frame = f.frame});
  return out;
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

// The case's entry of report.json; `timing` gets its phases (summed over
// its attempts).
reports::Case run_case(const CaseSpec& spec, const Adapter& adapter, const Catalog& catalog, const RunOptions& options,
                       std::uint64_t seed, CpuSlots& cpu, CaseTiming& timing) {
  reports::Case c;
  c.case_id = spec.id;
  c.title = spec.title;
  c.description = spec.description;
  c.judgement = spec.judgement;
  c.role = spec.role;
  c.level = case_level(spec, catalog);
  c.requirements = spec.requirements;
  std::set<std::string> sections;
  for (const auto& id : spec.requirements) {
    if (const Requirement* r = catalog.find(id)) sections.insert(r->doc + " " + r->section);
  }
  c.rfc_sections.assign(sections.begin(), sections.end());
  c.topology = spec.topology;
  c.nat_profile = spec.nat_profile;
  // Exactly this case with exactly its seed and number of attempts; the run's
  // --out, --jobs and gate options do not change a verdict.
  c.reproducer = shell_join({"teredo-conform", "run", "--iut", adapter.path, "--role", spec.role, "--cases", spec.id,
                             "--case-seed", std::to_string(seed), "--retries", std::to_string(options.retries)});
  std::vector<std::string> missing;
  for (const auto& cap : spec.capabilities) {
    if (!adapter.has(cap)) missing.push_back(cap);
  }
  // not-applicable only for what the RFC makes optional (JUDGING.md §6,
  // engine/capabilities.hpp); a missing launch form is inconclusive, a
  // missing behaviour the RFC requires a fail.
  const MissingCapabilities absent = judge_missing_capabilities(missing);
  if (absent.outcome != MissingCapabilities::Outcome::run) {
    c.verdict = Verdict::not_applicable;
    if (absent.outcome == MissingCapabilities::Outcome::inconclusive) c.verdict = Verdict::inconclusive;
    if (absent.outcome == MissingCapabilities::Outcome::fail) {
      c.verdict = Verdict::fail;
      const Requirement* r = catalog.find(absent.requirement);
      c.assertions.push_back({.requirement = absent.requirement,
                              .level = r ? r->level : Level::must,
                              .outcome = Verdict::fail,
                              .expected = "the adapter declares how to use it",
                              .observed = absent.reason,
                              .message = absent.reason,
                              .code = "required_capability_undeclared",
                              .frames = {}});
    }
    c.messages.push_back({.t_ms = 0, .level = "info", .text = absent.reason, .code = "capability_undeclared"});
    return c;
  }
  const std::string case_dir_rel = "cases/" + spec.id;
  std::vector<AttemptResult> results;
  for (int n = 1; n <= 1 + options.retries; ++n) {
    const std::string rel = case_dir_rel + "/attempt-" + std::to_string(n);
    results.push_back(run_attempt(spec, adapter, catalog, seed + static_cast<std::uint64_t>(n - 1),
                                  options.out_dir + "/" + rel, rel, options.evidence_cap_bytes, cpu, timing.rank));
    const AttemptResult& done = results.back();
    ++timing.attempts;
    timing.lab_up_s += done.lab_up_s;
    timing.iut_start_s += done.iut_start_s;
    timing.body_s += done.body_s;
    timing.teardown_s += done.teardown_s;
    timing.cpu_wait_s += done.cpu_wait_s;
    c.attempts.push_back({.n = n,
                          .verdict = results.back().verdict,
                          .duration_ms = static_cast<std::int64_t>(results.back().duration_ms),
                          .seed = results.back().seed});
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
  c.verdict = final;
  c.duration_ms = static_cast<std::int64_t>(total_ms);
  // The evidence of a failing attempt is the one a vendor wants to read.
  const AttemptResult* shown = &last;
  for (const auto& r : results) {
    if (r.verdict == Verdict::fail || r.verdict == Verdict::warn) {
      shown = &r;
      break;
    }
  }
  for (const auto& a : shown->assertions) c.assertions.push_back(report_assertion(a));
  for (const auto& m : shown->messages) {
    c.messages.push_back({.t_ms = m.t_ms, .level = m.level, .text = m.text, .code = or_null(m.code)});
  }
  c.evidence = shown->evidence;
  return c;
}

}  // namespace

std::string shell_quote(const std::string& text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::strchr("_-./:@%+,", ch) != nullptr;
  });
  if (plain) return text;
  std::string quoted = "'";
  for (const char ch : text) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return quoted + "'";
}

std::string shell_join(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& w : words) line += (line.empty() ? "" : " ") + shell_quote(w);
  return line;
}

std::uint64_t case_seed(const RunOptions& options, std::size_t index) {
  return options.case_seed ? *options.case_seed : options.seed * 1000 + index;
}

std::string check_seeds(const RunOptions& options, std::size_t selected) {
  const auto retries = static_cast<std::uint64_t>(std::max(0, options.retries));
  if (options.case_seed) {
    if (selected != 1) {
      return fmt::format("--case-seed is the seed of one case, but the selection has {} (give --cases one case ID)",
                         selected);
    }
    if (*options.case_seed > kMaxSeed - retries) {
      return fmt::format("--case-seed {} with --retries {} goes past the largest seed {}", *options.case_seed,
                         retries, kMaxSeed);
    }
    return "";
  }
  const std::uint64_t last = selected == 0 ? 0 : selected - 1;
  if (options.seed > kMaxMasterSeed || options.seed * 1000 > kMaxSeed - last - retries) {
    return fmt::format("--seed {} is too large for {} cases (case seeds seed*1000+index must stay at most {})",
                       options.seed, selected, kMaxSeed);
  }
  return "";
}

std::vector<std::string> case_spec_problems(const std::vector<CaseSpec>& cases, const Catalog& catalog,
                                            const std::string& topologies_dir) {
  std::vector<std::string> problems;
  std::set<std::string> ids;
  std::map<std::string, std::optional<netns::Topology>> topologies;
  for (const CaseSpec& c : cases) {
    const std::string at = "case " + (c.id.empty() ? std::string("(no id)") : c.id);
    if (c.id.empty() || !ids.insert(c.id).second) problems.push_back(at + ": its ID is empty or used twice");
    if (c.role != "server" && c.role != "client" && c.role != "relay" && c.role != "host-relay") {
      problems.push_back(fmt::format("{}: unknown role '{}'", at, c.role));
    }
    if (c.requirements.empty()) problems.push_back(at + ": cites no requirement");
    for (const auto& r : c.requirements) {
      if (catalog.find(r) == nullptr) problems.push_back(fmt::format("{}: requirement {} is not in the catalog", at, r));
    }
    for (const auto& cap : c.capabilities) {
      if (find_capability(cap) == nullptr) problems.push_back(fmt::format("{}: unknown capability '{}'", at, cap));
    }
    if (!c.body) problems.push_back(at + ": has no body");
    auto [it, fresh] = topologies.try_emplace(c.topology);
    if (fresh) {
      try {
        it->second = netns::load_topology(topologies_dir + "/" + c.topology + ".json");
      } catch (const std::exception&) {
        it->second.reset();
      }
    }
    if (!it->second) {
      problems.push_back(fmt::format("{}: topology '{}' does not load from {}", at, c.topology, topologies_dir));
      continue;
    }
    const netns::Topology& topology = *it->second;
    if (c.nat_profile) {
      netns::NatConfig probe;
      if (!netns::apply_nat_profile(*c.nat_profile, probe)) {
        problems.push_back(fmt::format("{}: unknown NAT profile '{}'", at, *c.nat_profile));
      } else if (std::none_of(topology.hosts.begin(), topology.hosts.end(),
                              [](const auto& h) { return h.second.nat.has_value(); })) {
        problems.push_back(
            fmt::format("{}: NAT profile '{}' but topology '{}' has no NAT", at, *c.nat_profile, c.topology));
      }
    }
    for (const auto& v : c.captures) {
      if (!topology.hosts.count(v.host)) {
        problems.push_back(fmt::format("{}: capture '{}' on host '{}', which topology '{}' lacks", at, v.name, v.host,
                                       c.topology));
      }
    }
  }
  return problems;
}

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

double coverage_percent(std::size_t covered, std::size_t testable) {
  return testable ? std::round(1000.0 * static_cast<double>(covered) / static_cast<double>(testable)) / 10.0 : 0.0;
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
    requirements[id] = requirement_entry(r, it != covered_by.end() ? it->second : std::vector<std::string>{});
  }
  return {{"requirements", requirements},
          {"coverage",
           {{"testable", testable},
            {"covered", covered},
            {"percent", coverage_percent(covered, testable)},
            {"uncovered", uncovered}}}};
}

Suite::Suite(const Adapter& adapter, const Catalog& catalog, RunOptions options)
    : adapter_(adapter),
      catalog_(catalog),
      options_(std::move(options)),
      selected_(select_cases(adapter_, options_)),
      start_(Clock::now()),
      started_at_(utc_now()) {
  selection_size_ = selected_.size();
  positions_.resize(selected_.size());
  std::iota(positions_.begin(), positions_.end(), 0);
  const CaseDurations durations = load_case_durations(default_case_durations_path());
  std::vector<std::string> ids;
  for (const CaseSpec* spec : selected_) ids.push_back(spec->id);
  if (options_.shard) {
    const auto shards = partition_cases(ids, durations, options_.shard->count);
    positions_ = shards[static_cast<std::size_t>(options_.shard->index - 1)];
    std::vector<const CaseSpec*> mine;
    std::vector<std::string> my_ids;
    for (const std::size_t p : positions_) {
      mine.push_back(selected_[p]);
      my_ids.push_back(ids[p]);
    }
    selected_ = std::move(mine);
    ids = std::move(my_ids);
  }
  order_ = longest_first(ids, durations);
  rlimit files{};
  const std::uint64_t fd_limit =
      ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY ? files.rlim_cur : 1u << 20;
  concurrency_ = resolve_concurrency(options_.jobs, selected_.size(), std::max(1u, std::thread::hardware_concurrency()),
                                     fd_limit);
  results_.resize(selected_.size());
  finished_.assign(selected_.size(), false);
  timings_.resize(selected_.size());
  progress_.total = selected_.size();
}

void Suite::freeze() {
  std::lock_guard<std::mutex> lock(mutex_);
  frozen_ = true;
}

void Suite::run(const std::function<void(const Progress&)>& progress, const std::atomic<bool>& interrupted) {
  fs::create_directories(options_.out_dir);
  CpuSlots cpu(concurrency_.cpu);
  std::size_t started = 0;
  const auto seconds_since_start = [this] { return std::chrono::duration<double>(Clock::now() - start_).count(); };
  const auto stop = [&] { return interrupted || frozen_; };
  run_in_order(order_, concurrency_.labs, [&] {
    std::lock_guard<std::mutex> lock(mutex_);
    return stop();
  }, [&](std::size_t index) {
    const CaseSpec& spec = *selected_[index];
    CaseTiming timing;
    timing.position = index;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      timing.rank = started++;
      timing.queued = timing.rank >= static_cast<std::size_t>(concurrency_.labs);
    }
    timing.started_s = seconds_since_start();
    json result;
    try {
      result = run_case(spec, adapter_, catalog_, options_, case_seed(options_, positions_[index]), cpu, timing);
    } catch (const std::exception& e) {
      // A harness bug: the case has no verdict, the run goes on and its
      // report is incomplete.
      std::fprintf(stderr, "\nteredo-conform: %s: harness error: %s\n", spec.id.c_str(), e.what());
      return;
    }
    timing.ended_s = seconds_since_start();
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop()) return;  // a case cut short by Ctrl-C is not reported as a verdict
    results_[index] = std::move(result);
    finished_[index] = true;
    timings_[index] = timing;
    ++progress_.done;
    const Verdict verdict = results_[index].verdict;
    if (verdict == Verdict::fail || verdict == Verdict::error || verdict == Verdict::flaky || verdict == Verdict::warn) {
      ++progress_.failures;
    }
    const std::string v(to_string(verdict));
    progress_.elapsed_s = seconds_since_start();
    progress_.last_case = spec.id;
    progress_.last_verdict = v;
    progress(progress_);
  });
}

std::string Suite::critical_path() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto last = critical_case(timings_);
  if (!last) return "";
  const CaseSpec& spec = *selected_[*last];
  return describe_critical_path(timings_[*last], spec.id, spec.title, spec.description,
                                std::chrono::duration<double>(Clock::now() - start_).count());
}

reports::Run report_run(const std::string& started_at, std::int64_t duration_ms, const std::vector<std::string>& roles,
                const RunOptions& options) {
  utsname uts{};
  ::uname(&uts);
  reports::Run run{
      .run_id = fmt::format("run-{}-{}", ::getpid(), std::time(nullptr)),
      .started_at = started_at,
      .finished_at = utc_now(),
      .duration_ms = duration_ms,
      .harness = {.name = "teredo-conform",
                  .version = "0.1.0",
                  .git_commit = or_null(std::string(TEREDO_GIT_COMMIT) == "unknown" ? "" : TEREDO_GIT_COMMIT)},
      .host = {.kernel = uts.release, .cpus = static_cast<std::int64_t>(std::thread::hardware_concurrency())},
      .command_line = options.command_line,
      .master_seed = options.seed,
      .selection = {.roles = roles, .cases = options.cases},
      .options = {.jobs = options.jobs, .strict = options.strict, .baseline = or_null(options.baseline)},
      .shard = std::nullopt,
      .merged_from = std::nullopt};
  if (options.shard) run.shard = reports::ShardRef{.index = options.shard->index, .count = options.shard->count};
  return run;
}

reports::Iut report_iut(const Adapter& adapter) {
  std::vector<std::string> capabilities(adapter.capabilities.begin(), adapter.capabilities.end());
  std::vector<std::string> adapter_roles;
  for (const auto& [role, launch] : adapter.roles) adapter_roles.push_back(role);
  return reports::Iut{.name = adapter.name,
                      .version = adapter.version(),
                      .adapter = adapter.path,
                      .adapter_sha256 = adapter.sha256,
                      .roles = adapter_roles,
                      .capabilities = capabilities};
}

reports::Requirement requirement_entry(const Requirement& r, std::vector<std::string> covered_by) {
  return reports::Requirement{.doc = r.doc,
                              .section = r.section,
                              .level = r.level,
                              .role = r.role,
                              .summary = r.summary,
                              .quote = r.quote,
                              .testable = r.testable,
                              .covered_by = std::move(covered_by)};
}

json Suite::report(bool interrupted) const {
  std::vector<reports::Case> finished_cases;
  std::vector<const CaseSpec*> finished_specs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < selected_.size(); ++i) {
      if (!finished_[i]) continue;
      finished_cases.push_back(results_[i]);
      finished_specs.push_back(selected_[i]);
    }
  }
  const Adapter& adapter = adapter_;
  const Catalog& catalog = catalog_;
  const RunOptions& options = options_;
  reports::Report report;
  report.schema = reports::schema_name();
  report.schema_version = reports::schema_version();
  report.complete = !interrupted && finished_cases.size() == selected_.size();
  std::vector<std::string> roles = options.roles;
  if (roles.empty()) {
    for (const auto& [role, launch] : adapter.roles) roles.push_back(role);
  }
  // run.options.jobs: the labs the run allowed at once (the number --jobs
  // auto chose).
  RunOptions as_run = options;
  as_run.jobs = concurrency_.labs;
  report.run = report_run(
      started_at_, static_cast<std::int64_t>(std::chrono::duration<double, std::milli>(Clock::now() - start_).count()),
      roles, as_run);
  report.iut = report_iut(adapter);
  std::vector<const CaseSpec*> ran;
  for (std::size_t i = 0; i < finished_cases.size(); ++i) {
    if (finished_cases[i].verdict != Verdict::not_applicable) ran.push_back(finished_specs[i]);
  }
  const json cov = coverage(catalog, roles, ran);
  cov["requirements"].get_to(report.requirements);
  // A case may cite a requirement outside the roles' testable set (another
  // role's, or one the catalog calls untestable): list it too.
  for (const CaseSpec* spec : ran) {
    for (const auto& id : spec->requirements) {
      if (report.requirements.contains(id)) continue;
      const Requirement* r = catalog.find(id);
      if (r == nullptr) continue;
      std::vector<std::string> covered_by;
      for (const CaseSpec* other : ran) {
        if (std::find(other->requirements.begin(), other->requirements.end(), id) != other->requirements.end()) {
          covered_by.push_back(other->id);
        }
      }
      report.requirements[id] = requirement_entry(*r, covered_by);
    }
  }
  report.summary = reports::summarize(finished_cases, cov["coverage"].get<reports::Coverage>());
  report.cases = std::move(finished_cases);
  return report;
}

json run_suite(const Adapter& adapter, const Catalog& catalog, const RunOptions& options,
               const std::function<void(const Progress&)>& progress, const std::atomic<bool>& interrupted) {
  Suite suite(adapter, catalog, options);
  suite.run(progress, interrupted);
  return suite.report(interrupted);
}

std::set<std::string> load_baseline(const std::string& path) {
  std::set<std::string> known;
  if (path.empty()) return known;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the baseline " + path);
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error("the baseline " + path + " is not JSON");
  const auto case_id = [&path](const json& id) {
    if (!id.is_string() || id.get<std::string>().empty()) {
      throw std::runtime_error("the baseline " + path + " names a case that is not a string: " + id.dump());
    }
    return id.get<std::string>();
  };
  if (j.is_object() && j.contains("known_failures") && j["known_failures"].is_array()) {
    for (const auto& id : j["known_failures"]) known.insert(case_id(id));
  } else if (j.is_object() && j.contains("cases") && j["cases"].is_array()) {
    for (const auto& c : j["cases"]) {
      if (!c.is_object() || !c.contains("case_id") || !c.value("verdict", json()).is_string()) {
        throw std::runtime_error("the baseline " + path + " has a case without case_id and verdict");
      }
      const auto v = reports::verdict_from_string(c["verdict"].get<std::string>());
      if (v == Verdict::fail || v == Verdict::warn || v == Verdict::flaky || v == Verdict::inconclusive) {
        known.insert(case_id(c["case_id"]));
      }
    }
  } else {
    throw std::runtime_error("the baseline " + path + " is neither a report nor {\"known_failures\": [...]}");
  }
  return known;
}

int apply_gate(json& report, bool strict, const std::string& baseline_path) {
  return apply_gate(report, strict, baseline_path, load_baseline(baseline_path));
}

int apply_gate(reports::Report& report, bool strict, const std::string& baseline_path,
               const std::set<std::string>& known) {
  // A known failure is one the IUT is judged for (the schema's $defs/case).
  for (reports::Case& c : report.cases) {
    if ((c.verdict == Verdict::fail || c.verdict == Verdict::warn || c.verdict == Verdict::inconclusive) &&
        known.count(c.case_id) != 0) {
      c.baseline = "known";
    }
  }
  reports::Gate gate{.policy = strict ? "strict" : "default",
                     .baseline_file = or_null(baseline_path),
                     .result = "",
                     .exit_code = 0,
                     .blocking = {}};
  // One gate rule for the exit code, junit.xml and the HTML (reports/gate.hpp).
  gate.blocking = reports::blocking_cases(report.cases, strict);
  gate.exit_code = reports::cases_exit_code(report.cases, strict);
  if (!report.complete) gate.exit_code = 2;  // an interrupted run is a harness error
  gate.result = reports::gate_result(gate.exit_code);
  report.gate = std::move(gate);
  return report.gate->exit_code;
}

int apply_gate(json& report, bool strict, const std::string& baseline_path, const std::set<std::string>& known) {
  // Read into the types once (reports/report.hpp), gated there, written back.
  reports::Report typed = reports::report_from_json(report);
  const int code = apply_gate(typed, strict, baseline_path, known);
  report = typed;
  return code;
}

}  // namespace teredo::conformance
