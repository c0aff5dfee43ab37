#include "engine/case.hpp"

#include "teredo/reports/gate.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace teredo::conformance {

std::vector<CaseSpec>& case_registry() {
  static std::vector<CaseSpec> registry;
  return registry;
}

Verdict combine_attempts(const std::vector<Verdict>& attempts) {
  return reports::combine_attempt_verdicts(attempts);
}

CaseRun::CaseRun(const CaseSpec& spec, const Catalog& catalog, netns::Lab& lab, const Adapter& adapter,
                 std::map<std::string, std::unique_ptr<Capture>>& captures, std::uint64_t seed)
    : spec_(spec),
      catalog_(catalog),
      lab_(lab),
      adapter_(adapter),
      captures_(captures),
      seed_(seed),
      random_(seed),
      started_(std::chrono::steady_clock::now()) {}

void CaseRun::restart_iut() {
  if (!restart_iut_) throw AdapterError("this run cannot restart the IUT");
  restart_iut_(false);
}

void CaseRun::crash_restart_iut() {
  if (!restart_iut_) throw AdapterError("this run cannot restart the IUT");
  restart_iut_(true);
}

CaseRun::~CaseRun() {
  fixture.reset();
  for (int fd : sockets_) ::close(fd);
}

Capture& CaseRun::capture(const std::string& vantage) {
  const auto it = captures_.find(vantage);
  if (it == captures_.end()) throw std::runtime_error("case " + spec_.id + " has no capture '" + vantage + "'");
  return *it->second;
}

int CaseRun::udp_socket(const std::string& host, const std::string& address, std::uint16_t port) {
  const int fd = lab_.socket(host, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
  sockets_.push_back(fd);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    throw std::runtime_error("bind " + address + ":" + std::to_string(port) + " in " + host + ": " +
                             std::strerror(errno));
  }
  return fd;
}

void CaseRun::send_udp(int fd, const std::string& address, std::uint16_t port, wire::Bytes payload) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad address " + address);
  if (::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    throw std::runtime_error("sendto " + address + ": " + std::strerror(errno));
  }
}

AssertionCode AssertionCode::checked(std::string_view name) {
  if (!is_assertion_code(name)) {
    throw std::invalid_argument("'" + std::string(name) +
                                "' is not an assertion code (a specific snake_case name, conformance/JUDGING.md 8)");
  }
  return AssertionCode(Unchecked{}, name);
}

void CaseRun::check(const std::string& requirement, AssertionCode code, bool ok, std::string expected,
                    std::string observed, std::vector<FrameRef> frames, std::string message) {
  record_check(requirement, ok, std::move(expected), std::move(observed), std::move(frames), std::move(message),
               std::string(code.name()));
}

void CaseRun::inconclusive(const std::string& requirement, std::string why, AssertionCode code) {
  record_inconclusive(requirement, std::move(why), std::string(code.name()));
}

void CaseRun::record_check(const std::string& requirement, bool ok, std::string expected, std::string observed,
                           std::vector<FrameRef> frames, std::string message, std::string code) {
  const Requirement* r = catalog_.find(requirement);
  if (r == nullptr) throw std::runtime_error("case " + spec_.id + " cites unknown requirement " + requirement);
  Assertion a;
  a.requirement = requirement;
  a.level = r->level;
  a.outcome = ok ? "pass" : (r->level == Level::must ? "fail" : "warn");
  a.expected = std::move(expected);
  a.observed = std::move(observed);
  // Frame 0 is how a case says "not seen": evidence cites only frames that
  // exist (numbers start at 1).
  std::erase_if(frames, [](const FrameRef& f) { return f.frame == 0; });
  a.frames = std::move(frames);
  a.message = message.empty() ? r->summary : std::move(message);
  a.code = std::move(code);
  assertions_.push_back(std::move(a));
}

void CaseRun::record_inconclusive(const std::string& requirement, std::string why, std::string code) {
  const Requirement* r = catalog_.find(requirement);
  Assertion a;
  a.requirement = requirement;
  a.level = r ? r->level : Level::must;
  a.outcome = "inconclusive";
  a.message = std::move(why);
  a.code = std::move(code);
  assertions_.push_back(std::move(a));
}

void CaseRun::info(std::string text, std::string code) {
  const auto t = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
  messages_.push_back({t.count(), "info", std::move(text), std::move(code)});
}

void CaseRun::warn_note(std::string text, std::string code) {
  const auto t = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
  messages_.push_back({t.count(), "warn", std::move(text), std::move(code)});
}

void CaseRun::iut_died(std::string how) {
  // What the case judged before it found the IUT dead may blame a
  // requirement for the death's silence ("no echo reply within 1000 ms" for
  // a client that had crashed): such a judgement proves nothing, and the
  // case fails on the death itself (JUDGING.md §1).
  for (Assertion& earlier : assertions_) {
    if (earlier.outcome != "fail" && earlier.outcome != "warn") continue;
    earlier.message = "not judged: the IUT died during the case (" + earlier.outcome + " before that was known: " +
                      earlier.message + ")";
    earlier.outcome = "inconclusive";
  }
  Assertion a;
  a.level = Level::must;
  a.outcome = "fail";
  a.expected = "the IUT runs until the case ends";
  a.observed = how;
  a.message = "the IUT died during the case: " + how;
  a.code = "iut_died";
  assertions_.push_back(std::move(a));
}

Verdict CaseRun::verdict() const {
  bool failed = false, warned = false, unsure = false;
  for (const Assertion& a : assertions_) {
    failed |= a.outcome == "fail";
    warned |= a.outcome == "warn";
    unsure |= a.outcome == "inconclusive";
  }
  if (failed) return Verdict::fail;
  if (warned) return Verdict::warn;
  if (unsure || assertions_.empty()) return Verdict::inconclusive;
  return Verdict::pass;
}

}  // namespace teredo::conformance
