// run | list | iut check: the conformance driver.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "teredo/reports/report.hpp"
#include "teredo/reports/verdict.hpp"

#include <atomic>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "cli/commands.hpp"
#include "cli/rootless.hpp"
#include "engine/catalog.hpp"
#include "engine/data_dir.hpp"
#include "engine/iut_adapter.hpp"
#include "engine/runner.hpp"
#include "fuzz/regressions.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace teredo::conformance;

namespace {

std::atomic<bool> g_interrupted{false};

// OUT/.lock, held (flock) for the whole run: two runs writing one directory
// would overwrite each other's evidence under each other's report. Creating
// it is also the check that --out can be written at all.
class OutDirLock {
 public:
  explicit OutDirLock(const std::string& out_dir) : path_(out_dir + "/.lock") {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw InputError(fmt::format("--out {}: cannot create it: {}", out_dir, ec.message()));
    for (int attempt = 0; attempt < 3 && fd_ < 0; ++attempt) {
      const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) throw InputError(fmt::format("--out {}: cannot write in it: {}", out_dir, std::strerror(errno)));
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int saved = errno;
        char text[32] = {};
        const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
        ::close(fd);
        std::string pid = n > 0 ? std::string(text, static_cast<std::size_t>(n)) : "";
        while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
        if (saved == EWOULDBLOCK) {
          throw InputError(fmt::format("--out {} is in use by another run (pid {})", out_dir,
                                       pid.empty() ? "unknown" : pid));
        }
        throw InputError(fmt::format("--out {}: cannot lock {}: {}", out_dir, path_, std::strerror(saved)));
      }
      // The previous holder removes the file when it ends: a lock on a file
      // no longer at that path guards nothing, so take the new one.
      struct stat held {}, named {};
      if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
          held.st_dev == named.st_dev) {
        fd_ = fd;
      } else {
        ::close(fd);
      }
    }
    if (fd_ < 0) throw InputError(fmt::format("--out {}: cannot lock {}", out_dir, path_));
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      throw InputError(fmt::format("--out {}: cannot write in it: {}", out_dir, std::strerror(errno)));
    }
  }
  OutDirLock(const OutDirLock&) = delete;
  OutDirLock& operator=(const OutDirLock&) = delete;
  ~OutDirLock() { release(); }
  void release() noexcept {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());
    ::close(fd_);
    fd_ = -1;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::string format_duration(double seconds) {
  const int s = static_cast<int>(seconds);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

// A seed as the command line gives it: decimal digits only (no sign, no
// blanks), from 0 to `max`; anything else is bad usage (exit 3), never a
// number that wraps around.
CLI::Validator seed_range(std::uint64_t max) {
  return CLI::Validator(
      [max](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const char* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || error != std::errc{} || stop != end || value > max) {
          return fmt::format("'{}' is not a seed: an integer from 0 to {}", text, max);
        }
        return {};
      },
      fmt::format("0..{}", max), "seed");
}

// --jobs: "auto" (kJobsAuto) or 1..64; nullopt otherwise.
std::optional<int> parse_jobs(const std::string& text) {
  if (text == "auto") return kJobsAuto;
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || text.front() == '-' || error != std::errc{} || stop != end || value < 1 || value > 64) {
    return std::nullopt;
  }
  return value;
}

std::uint64_t to_seed(const std::string& text) {
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string g_command_line;

// The end of a run: the report is written once, by the main thread when the
// cases are done or by the signal thread on a second Ctrl-C, whichever comes
// first; the other waits and keeps its exit code.
struct RunEnd {
  std::mutex mutex;
  bool written = false;
  int code = 2;
};

}  // namespace

void print_summary(const json& document, int code, const std::string& out_dir) {
  const reports::Report report = reports::report_from_json(document);
  const reports::Summary& s = report.summary;
  std::string counts;  // "12 pass, 0 fail, ..." in the verdicts' order
  for (const std::string_view v : reports::kVerdictNames) {
    const auto n = s.by_verdict.find(std::string(v));
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n == s.by_verdict.end() ? 0 : n->second, v);
  }
  std::cerr << fmt::format("{} cases: {}; coverage {:.1f}%; gate {} (exit {}){}\n", s.total, counts, s.coverage.percent,
                           report.gate ? report.gate->result : std::string(), code,
                           report.complete ? "" : " — INCOMPLETE: interrupted");
  std::cerr << "reports: " << out_dir << "/report.json, junit.xml, report.html\n";
}

namespace {

// Writes the report of what `suite` finished (once, see RunEnd) and returns
// the exit code.
int finish_run(Suite& suite, RunEnd& end, const RunOptions& options, const std::set<std::string>& known,
               bool interrupted) {
  std::lock_guard<std::mutex> lock(end.mutex);
  if (end.written) return end.code;
  json report = suite.report(interrupted);
  end.code = apply_gate(report, options.strict, options.baseline, known);
  end.written = true;
  write_report_files(report, options.out_dir);
  print_summary(report, end.code, options.out_dir);
  return end.code;
}

// Every signal that ends the process: the first stops starting cases and lets
// the running ones finish, then the report is written as usual. A second one
// writes the report of the cases finished so far (incomplete, exit 2), then
// tears every lab down and exits.
void install_interrupt_handler(const std::shared_ptr<Suite>& suite, const std::shared_ptr<RunEnd>& end,
                               const std::shared_ptr<OutDirLock>& lock, const RunOptions& options,
                               const std::set<std::string>& known) {
  netns::install_teardown_on_signals(
      [](int) {
        g_interrupted = true;
        std::fprintf(stderr, "\nteredo-conform: interrupted: finishing the running cases (again to abort)\n");
      },
      [suite, end, lock, options, known](int) {
        std::fprintf(stderr, "\nteredo-conform: aborting: writing the report of the finished cases\n");
        suite->freeze();
        int code = 2;
        try {
          code = finish_run(*suite, *end, options, known, true);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "teredo-conform: cannot write the report: %s\n", e.what());
        }
        lock->release();
        return code;
      });
}

// The catalog, and the case definitions checked against it: a case that
// would run in another lab than its verdict names is refused before any run.
Catalog load_catalog(const std::string& path) {
  Catalog catalog = [&] {
    try {
      return Catalog::load(path.empty() ? Catalog::default_path() : path);
    } catch (const std::exception& e) {
      throw InputError(e.what());
    }
  }();
  // Fuzz findings kept as cases (fuzz/regressions.hpp).
  try {
    fuzz::register_regressions(regressions_dir());
  } catch (const std::exception& e) {
    throw InputError(std::string("a regression case: ") + e.what());
  }
  const auto problems =
      case_spec_problems(case_registry(), catalog, topologies_dir());
  if (!problems.empty()) {
    throw InputError(fmt::format("{} case definition problem(s): {}", problems.size(), fmt::join(problems, "; ")));
  }
  return catalog;
}

}  // namespace

void set_command_line(const std::vector<std::string>& argv) { g_command_line = shell_join(argv); }
const std::string& command_line() { return g_command_line; }

std::vector<Command> add_run_commands(CLI::App& app) {
  std::vector<Command> commands;

  struct RunArgs {
    std::string iut = "reference", out = "out", baseline, catalog;
    std::vector<std::string> roles;
    std::string cases = "*";
    std::string jobs = "auto";
    int retries = 1;
    std::string seed = "1", case_seed;
    std::uint64_t evidence_cap_mb = 64;
    bool strict = false;
    std::string shard;
  };
  auto r = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run conformance cases against an IUT and write report.json, junit.xml, report.html");
  run->add_option("--iut", r->iut, "IUT adapter: a name from conformance/iut (reference, miredo) or a JSON file");
  run->add_option("--role", r->roles, "Only cases of this role (server, client, relay, host-relay); repeatable");
  run->add_option("--cases", r->cases, "Only cases whose ID matches this glob");
  run->add_option("--jobs", r->jobs,
                  "Cases (one lab each) at once: auto (the default) runs up to 32 (fewer under a low open-file "
                  "limit), since a case mostly waits on RFC timers and costs no CPU meanwhile; N (1-64) caps them "
                  "at N. Either way building a lab, starting the IUT and tearing down run at most one per core at "
                  "once, the longest cases (conformance/catalog/case_durations.json) start first, and the run "
                  "ends by printing its critical path")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return parse_jobs(text) ? "" : fmt::format("'{}' is not auto or a number from 1 to 64", text);
          },
          "auto|1-64", "jobs"));
  run->add_option("--retries", r->retries, "Extra attempts after a failure; attempts that disagree give 'flaky'")
      ->check(CLI::Range(0, 5));
  run->add_option("--out", r->out, "Output directory for reports and evidence");
  run->add_option("--seed", r->seed,
                  "Master seed: case i of the selection runs with seed*1000+i (attempt n: +n-1); "
                  "the report gives each case's reproducer")
      ->check(seed_range(kMaxMasterSeed));
  run->add_option("--case-seed", r->case_seed,
                  "The seed of the one case selected (--cases ID), as a reproducer in report.json gives it; "
                  "replaces --seed")
      ->check(seed_range(kMaxSeed))
      ->excludes("--seed");
  run->add_flag("--strict", r->strict, "SHOULD failures fail the gate too");
  run->add_option("--baseline", r->baseline, "Known failures (a previous report.json or {\"known_failures\": [...]})");
  run->add_option("--requirements", r->catalog, "Requirement catalog (default conformance/catalog/requirements.json)");
  run->add_option("--evidence-cap-mb", r->evidence_cap_mb,
                  "Per case attempt, each capture and the IUT's log keep at most this many MiB (default 64); "
                  "the report says when a cap was hit")
      ->check(CLI::Range(1, 4096));
  run->add_option("--shard", r->shard,
                  "Only shard K of N of the selection (a partition every machine computes alike, balanced by "
                  "conformance/catalog/case_durations.json); join the reports with `report merge`")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return parse_shard(text) ? "" : fmt::format("'{}' is not K/N with 1 <= K <= N <= {}", text, kMaxShards);
          },
          "K/N", "shard"));
  commands.push_back({run, [r] {
                        const Catalog catalog = load_catalog(r->catalog);
                        Adapter adapter;
                        try {
                          adapter = load_adapter(r->iut);
                        } catch (const AdapterError& e) {
                          throw InputError(e.what());
                        }
                        // Read before anything is built: a bad baseline found after the run
                        // would cost the whole report.
                        std::set<std::string> known;
                        try {
                          known = load_baseline(r->baseline);
                        } catch (const std::exception& e) {
                          throw InputError(std::string("--baseline: ") + e.what());
                        }
                        RunOptions options;
                        options.roles = r->roles;
                        options.cases = r->cases;
                        options.jobs = *parse_jobs(r->jobs);
                        options.retries = r->retries;
                        options.seed = to_seed(r->seed);
                        if (!r->case_seed.empty()) options.case_seed = to_seed(r->case_seed);
                        options.out_dir = r->out;
                        options.strict = r->strict;
                        options.baseline = r->baseline;
                        options.evidence_cap_bytes = r->evidence_cap_mb << 20;
                        options.command_line = command_line();
                        if (!r->shard.empty()) options.shard = parse_shard(r->shard);
                        std::shared_ptr<Suite> suite;
                        try {
                          suite = std::make_shared<Suite>(adapter, catalog, options);
                        } catch (const std::runtime_error& e) {
                          throw InputError(e.what());  // the case durations table
                        }
                        if (suite->selection_size() == 0) {
                          throw InputError("no case matches the selection for IUT " + adapter.name);
                        }
                        if (const std::string problem = check_seeds(options, suite->selection_size());
                            !problem.empty()) {
                          throw UsageError("run: " + problem);
                        }
                        require_lab_root("run");  // every case builds a network-namespace lab
                        auto lock = std::make_shared<OutDirLock>(options.out_dir);
                        auto end = std::make_shared<RunEnd>();
                        install_interrupt_handler(suite, end, lock, options, known);
                        const bool tty = ::isatty(2);
                        std::cerr << fmt::format(
                            "teredo-conform: {} cases{} against {} (up to {} labs at once{}, {} building or tearing "
                            "down at once), evidence in {}\n",
                            suite->selected().size(),
                            options.shard ? fmt::format(" (shard {}/{} of {})", options.shard->index,
                                                        options.shard->count, suite->selection_size())
                                          : "",
                            adapter.name, suite->concurrency().labs, options.jobs == kJobsAuto ? ": --jobs auto" : "",
                            suite->concurrency().cpu, options.out_dir);
                        suite->run(
                            [tty](const Progress& p) {
                              const double eta = p.done ? p.elapsed_s / static_cast<double>(p.done) *
                                                              static_cast<double>(p.total - p.done)
                                                        : 0;
                              const std::string line =
                                  fmt::format("[{}/{}] failures {}  elapsed {}  ETA {}  {} {}", p.done, p.total,
                                              p.failures, format_duration(p.elapsed_s), format_duration(eta),
                                              p.last_verdict, p.last_case);
                              if (tty) {
                                std::cerr << "\r\033[K" << line << std::flush;
                              } else {
                                std::cerr << line << '\n';
                              }
                            },
                            g_interrupted);
                        if (tty) std::cerr << '\n';
                        const int code = finish_run(*suite, *end, options, known, g_interrupted);
                        std::cerr << suite->critical_path();
                        lock->release();
                        return code;
                      }});

  struct ListArgs {
    std::vector<std::string> roles;
    bool as_json = false, coverage = false;
    std::string catalog;
  };
  auto l = std::make_shared<ListArgs>();
  auto* list = app.add_subcommand("list", "List the cases (and requirement coverage)");
  list->add_option("--role", l->roles, "Only this role; repeatable");
  list->add_flag("--json", l->as_json, "JSON instead of text");
  list->add_flag("--coverage", l->coverage, "Requirement coverage of the testable requirements, per role");
  list->add_option("--requirements", l->catalog, "Requirement catalog");
  commands.push_back({list, [l] {
                        const Catalog catalog = load_catalog(l->catalog);
                        std::vector<std::string> roles = l->roles;
                        if (roles.empty()) roles = {"server", "client", "relay", "host-relay"};
                        std::vector<const CaseSpec*> cases;
                        for (const CaseSpec& c : case_registry()) {
                          if (std::find(roles.begin(), roles.end(), c.role) != roles.end()) cases.push_back(&c);
                        }
                        if (l->coverage) {
                          json out = json::object();
                          for (const auto& role : roles) {
                            std::vector<const CaseSpec*> of_role;
                            for (const CaseSpec* c : cases) {
                              if (c->role == role) of_role.push_back(c);
                            }
                            out[role] = coverage(catalog, {role}, of_role)["coverage"];
                          }
                          // Why each uncovered requirement has no case (conformance/uncovered.json).
                          json reasons = json::object();
                          if (std::ifstream in(uncovered_file()); in) {
                            reasons = json::parse(in, nullptr, false).value("requirements", json::object());
                          }
                          for (json& c : out) {
                            json why = json::object();
                            for (const auto& id : c["uncovered"]) {
                              why[id.get<std::string>()] = reasons.value(id.get<std::string>(), "no case yet");
                            }
                            c["uncovered_reasons"] = why;
                          }
                          if (l->as_json) {
                            std::cout << out.dump(2) << '\n';
                          } else {
                            for (const auto& [role, c] : out.items()) {
                              std::cout << fmt::format("{:<10} {:>3}/{:<3} testable requirements covered ({:.1f}%)\n", role,
                                                       c["covered"].get<int>(), c["testable"].get<int>(),
                                                       c["percent"].get<double>());
                              for (const auto& id : c["uncovered"]) {
                                std::cout << "    uncovered: " << id.get<std::string>() << " ("
                                          << c["uncovered_reasons"][id.get<std::string>()].get<std::string>() << ")\n";
                              }
                            }
                          }
                          return kExitOk;
                        }
                        json out = json::array();
                        for (const CaseSpec* c : cases) {
                          out.push_back({{"case_id", c->id}, {"role", c->role}, {"title", c->title},
                                         {"requirements", c->requirements}, {"capabilities", c->capabilities},
                                         {"topology", c->topology}});
                          if (!l->as_json) {
                            std::string reqs;
                            for (const auto& q : c->requirements) reqs += (reqs.empty() ? "" : ",") + q;
                            std::cout << fmt::format("{:<52} {}  [{}]\n", c->id, c->title, reqs);
                          }
                        }
                        if (l->as_json) std::cout << out.dump(2) << '\n';
                        return kExitOk;
                      }});

  auto* iut = app.add_subcommand("iut", "IUT adapters");
  iut->require_subcommand(1);
  auto check_file = std::make_shared<std::string>();
  auto* check = iut->add_subcommand("check", "Validate an adapter file and try to start each of its roles in a lab");
  check->add_option("FILE", *check_file, "Adapter JSON (or a built-in name)")->required();
  commands.push_back({check, [check_file] {
                        Adapter adapter;
                        try {
                          adapter = load_adapter(*check_file);
                        } catch (const AdapterError& e) {
                          throw InputError(e.what());
                        }
                        std::cout << fmt::format("{}: valid adapter '{}' ({}), roles:", adapter.path, adapter.name,
                                                 adapter.version());
                        for (const auto& [role, launch] : adapter.roles) std::cout << ' ' << role;
                        std::cout << '\n';
                        if (const auto refusal = become_lab_root()) {
                          std::cout << "the start check (which builds a lab) was skipped: " << *refusal << '\n';
                          return kExitOk;
                        }
                        int failures = 0;
                        for (const auto& [role, launch] : adapter.roles) {
                          // The plain launch, then every variant (secure, relay) the role declares.
                          std::vector<std::string> variants = {""};
                          for (const auto& [capability, variant] : launch.variants) variants.push_back(capability);
                          for (const auto& capability : variants) {
                            const std::string topology = role == "server" ? "server-only" : "client-nat";
                            const std::string what = capability.empty() ? role : role + " (" + capability + ")";
                            auto lab = netns::Lab::up(netns::load_topology(topology_file(topology)));
                            try {
                              const IutProcess p =
                                  start_iut(adapter, role, *lab, iut_host(role), lab_placeholders(*lab), capability);
                              stop_iut(p);
                              std::cout << fmt::format("  {}: started and ready in the {} lab\n", what, topology);
                            } catch (const AdapterError& e) {
                              ++failures;
                              std::cout << fmt::format("  {}: FAILED: {}\n", what, e.what());
                            }
                          }
                        }
                        return failures ? 2 : kExitOk;
                      }});
  return commands;
}

}  // namespace teredo::cli
