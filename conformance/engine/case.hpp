// A conformance case: stable ID, what it checks (requirement IDs from the
// catalog), what it needs (role, capabilities, topology), and a body that
// plays every other party and judges what the IUT did from the captures.
// Cases register themselves (TEREDO_CASE) from conformance/cases/<role>/.
#pragma once

#include "teredo/reports/verdict.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/capture.hpp"
#include "engine/catalog.hpp"
#include "engine/iut_adapter.hpp"
#include "teredo/netns/lab.hpp"

namespace teredo::conformance {

class CaseRun;

struct VantagePoint {
  std::string name;  // capture file <name>.pcap
  std::string host, interface;
};

struct CaseSpec {
  std::string id{};         // e.g. server.rs.cone-reply-from-secondary: never reused
  std::string title{};
  std::string description{};  // what the case does
  std::string judgement{};    // what counts as pass
  std::string role{};         // server | client | relay | host-relay
  std::vector<std::string> requirements{};
  std::vector<std::string> capabilities{};  // the adapter must declare each, else not-applicable
  std::string topology = "server-only";
  std::optional<std::string> nat_profile{};
  std::vector<VantagePoint> captures = {{"driver", "driver", "eth0"}};
  std::function<void(CaseRun&)> body{};
  // Runs before the IUT is started (its result kept in CaseRun::fixture), for
  // parties that must be listening before the IUT's first packet: the played
  // server of the client cases. Optional.
  std::function<void(CaseRun&)> before_iut{};
};

std::vector<CaseSpec>& case_registry();

struct CaseRegistrar {
  explicit CaseRegistrar(CaseSpec spec) { case_registry().push_back(std::move(spec)); }
};
#define TEREDO_CASE_CONCAT2(a, b) a##b
#define TEREDO_CASE_CONCAT(a, b) TEREDO_CASE_CONCAT2(a, b)
// TEREDO_CASE({.id = ..., ...}) at namespace scope registers a case.
#define TEREDO_CASE(...) \
  static const ::teredo::conformance::CaseRegistrar TEREDO_CASE_CONCAT(case_registrar_, __LINE__)(__VA_ARGS__)

using Verdict = reports::Verdict;  // teredo/reports/verdict.hpp

// The final verdict of a case from the verdicts of its attempts, in order
// (conformance/JUDGING.md, "Attempts"): a fail on any attempt is final, never
// downgraded by a later attempt; `flaky` only when the IUT varied (a warn on
// one attempt, a pass on another); an attempt that ended in a harness error
// says nothing about the IUT and is left out, so `error` only when every
// attempt was one.
Verdict combine_attempts(const std::vector<Verdict>& attempts);

struct FrameRef {
  std::string capture;  // file name relative to the case's evidence dir
  std::uint64_t frame = 0;
};

struct Assertion {
  std::string requirement;
  Level level = Level::must;
  std::string outcome;  // pass | fail | warn | inconclusive
  std::string expected, observed, message, code;
  std::vector<FrameRef> frames;
};

// The named reason of an assertion (conformance/JUDGING.md §8): snake_case in
// the style of Zeek's weird names, at least two words, saying what is wrong
// when the assertion fails ("ra_not_from_secondary", "nonce_not_echoed").
// It is the assertion's identity, recorded on a pass too, so a generic name
// ("check_failed") says nothing and is refused.
constexpr bool is_assertion_code(std::string_view name) {
  if (name.size() < 3 || name.size() > 64) return false;
  if (name.front() < 'a' || name.front() > 'z' || name.back() == '_') return false;
  bool two_words = false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '_') {
      if (name[i - 1] == '_') return false;
      two_words = true;
    } else if ((c < 'a' || c > 'z') && (c < '0' || c > '9')) {
      return false;
    }
  }
  constexpr std::string_view kGeneric[] = {"check_failed",      "assertion_failed", "test_failed",
                                           "case_failed",       "requirement_failed", "requirement_not_met",
                                           "not_ok",            "not_conformant",   "unexpected_result",
                                           "unexpected_behaviour", "wrong_behaviour", "bad_result"};
  for (const std::string_view generic : kGeneric) {
    if (name == generic) return false;
  }
  return two_words;
}

// An assertion code, checked when the case compiles: a literal that is not
// a specific snake_case name does not compile.
class AssertionCode {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor): written as a plain literal at the call.
  consteval AssertionCode(const char* name) : name_(name) {
    if (!is_assertion_code(name_)) {
      throw "an assertion code is a specific snake_case name (conformance/JUDGING.md, 8)";
    }
  }
  // A code known only at run time (the kit's judgements carry theirs):
  // throws std::invalid_argument when it is not an assertion code.
  static AssertionCode checked(std::string_view name);
  [[nodiscard]] constexpr std::string_view name() const noexcept { return name_; }

 private:
  struct Unchecked {};
  constexpr AssertionCode(Unchecked, std::string_view name) : name_(name) {}
  std::string_view name_;
};

struct Message {
  std::int64_t t_ms = 0;
  std::string level, text, code;
};

// What a case body works with: the lab, the running IUT, captures, sockets in
// the driver's namespaces, and the judging calls.
class CaseRun {
 public:
  CaseRun(const CaseSpec& spec, const Catalog& catalog, netns::Lab& lab, const Adapter& adapter,
          std::map<std::string, std::unique_ptr<Capture>>& captures, std::uint64_t seed);
  ~CaseRun();

  [[nodiscard]] const CaseSpec& spec() const noexcept { return spec_; }
  netns::Lab& lab() noexcept { return lab_; }
  [[nodiscard]] const Adapter& adapter() const noexcept { return adapter_; }
  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
  std::mt19937_64& random() noexcept { return random_; }
  Capture& capture(const std::string& vantage);

  // A non-blocking UDP socket bound to address:port in `host`, closed when
  // the case ends.
  int udp_socket(const std::string& host, const std::string& address, std::uint16_t port);
  void send_udp(int fd, const std::string& address, std::uint16_t port, wire::Bytes payload);

  // Judging. The level comes from the catalog; a failed SHOULD is a warning.
  // `code` names what is wrong when `ok` is false (the assertion's identity,
  // recorded on a pass too), beside the requirement it judges:
  //   run.check("R4380-5.3.2-07", "ra_not_from_secondary", from_secondary, expected, observed, frames);
  void check(const std::string& requirement, AssertionCode code, bool ok, std::string expected,
             std::string observed, std::vector<FrameRef> frames = {}, std::string message = {});
  // The lab could not reach the state to judge `requirement`; `code` names
  // why ("client_not_trusted").
  void inconclusive(const std::string& requirement, std::string why, AssertionCode code);
  // Notes beside the verdict; `code` names what the note is about
  // ("iut_started", "harness_error").
  void info(std::string text, std::string code = {});
  void warn_note(std::string text, std::string code = {});
  // The IUT process exited or was killed while the case ran
  // (conformance/JUDGING.md, "The IUT died"): the case fails with code
  // iut_died whatever else it judged. `how` gives the exit status or signal.
  // This rule is the harness's, not a requirement's: the assertion cites none.
  void iut_died(std::string how);

  [[nodiscard]] const std::vector<Assertion>& assertions() const noexcept { return assertions_; }
  [[nodiscard]] const std::vector<Message>& messages() const noexcept { return messages_; }
  [[nodiscard]] Verdict verdict() const;

  // What a case's before_iut hook set up for its body (released when the
  // body returns, before the sockets close).
  std::shared_ptr<void> fixture{};

  // Stops the IUT and starts it again the same way (same launch variant),
  // waiting for its readiness probe: for requirements about what an
  // implementation picks anew at each start (§5.2: a random service port).
  // Throws AdapterError when it cannot be restarted.
  void restart_iut();
  // The same, but the IUT is stopped without its shutdown: SIGKILL to the
  // process the engine started (that PID only), as a crash or a power loss
  // would stop it; the run directory (where an adapter keeps the IUT's
  // state, {run_dir}) stays. For requirements about state persisted across
  // reboots (RFC 6081 §5.3.1). Not a death of the IUT: the case asked for it.
  void crash_restart_iut();
  // Set by the engine before the body runs; its argument: crash (SIGKILL)
  // rather than the adapter's stop signal.
  void set_iut_restarter(std::function<void(bool crash)> restart) { restart_iut_ = std::move(restart); }

 private:
  void record_check(const std::string& requirement, bool ok, std::string expected, std::string observed,
                    std::vector<FrameRef> frames, std::string message, std::string code);
  void record_inconclusive(const std::string& requirement, std::string why, std::string code);

  const CaseSpec& spec_;
  const Catalog& catalog_;
  netns::Lab& lab_;
  const Adapter& adapter_;
  std::map<std::string, std::unique_ptr<Capture>>& captures_;
  std::uint64_t seed_;
  std::mt19937_64 random_;
  std::chrono::steady_clock::time_point started_;
  std::vector<int> sockets_;
  std::vector<Assertion> assertions_;
  std::vector<Message> messages_;
  std::function<void(bool crash)> restart_iut_{};
};

}  // namespace teredo::conformance
