#include "fuzz/session.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "capture/pcap_file.hpp"
#include "engine/data_dir.hpp"
#include "engine/iut_watch.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/minimizer.hpp"
#include "fuzz/oracles.hpp"
#include "fuzz/rig.hpp"
#include "kit/lab_facts.hpp"
#include "kit/packets.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/netns/topology.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::fuzz {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace teredo::wire;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kQuiet = std::chrono::milliseconds(2000);  // before a second probe
constexpr std::size_t kBatch = 64;  // datagrams per sendmmsg
// A run goes through the rig's states in turn, a fresh IUT each time, so
// that a long run spends its time in every state and a short one reaches
// each: a state lasts the datagram budget shared among the states, at most
// this many datagrams.
constexpr std::uint64_t kMaxStateSpan = 200000;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string utc_now() { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))); }

// What the IUT sends, seen on the driver's interface: every IPv4 frame from
// one of the IUT's addresses, handed to the main thread.
class OutputTap {
 public:
  OutputTap(const std::string& netns, const std::vector<std::string>& iut_addresses) {  // its eth0
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    {
      netns::NetnsGuard guard(netns);
      handle_ = pcap_create("eth0", errbuf);
      if (handle_ == nullptr) throw std::runtime_error(std::string("fuzz capture: ") + errbuf);
      pcap_set_snaplen(handle_, 262144);
      pcap_set_immediate_mode(handle_, 1);
      pcap_set_timeout(handle_, 10);
      pcap_set_buffer_size(handle_, 16 << 20);
      if (pcap_activate(handle_) < 0) {
        const std::string why = pcap_geterr(handle_);
        pcap_close(handle_);
        throw std::runtime_error("fuzz capture on the driver's eth0: " + why);
      }
    }
    bpf_program filter{};
    std::string expression;
    for (const std::string& a : iut_addresses) expression += (expression.empty() ? "" : " or ") + ("ip src host " + a);
    if (pcap_compile(handle_, &filter, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 ||
        pcap_setfilter(handle_, &filter) != 0) {
      const std::string why = pcap_geterr(handle_);
      pcap_close(handle_);
      throw std::runtime_error("fuzz capture filter: " + why);
    }
    pcap_freecode(&filter);
    link_ = static_cast<LinkType>(pcap_datalink(handle_));
    thread_ = std::thread([this] { loop(); });
  }
  ~OutputTap() {
    stopping_ = true;
    // pcap_next_ex keeps polling until a frame arrives (TPACKET_V3), see
    // Capture::stop: wake it.
    pcap_breakloop(handle_);
    if (thread_.joinable()) thread_.join();
    pcap_close(handle_);
  }
  OutputTap(const OutputTap&) = delete;
  OutputTap& operator=(const OutputTap&) = delete;

  std::vector<ByteVector> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(frames_, {});
  }
  [[nodiscard]] LinkType link() const noexcept { return link_; }
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

 private:
  void loop() {
    while (!stopping_) {
      pcap_pkthdr* header = nullptr;
      const u_char* data = nullptr;
      const int rc = pcap_next_ex(handle_, &header, &data);
      if (rc < 0) break;
      if (rc != 1) continue;
      ++count_;
      std::lock_guard<std::mutex> lock(mutex_);
      if (frames_.size() < 100000) frames_.emplace_back(data, data + header->caplen);  // bounded if never taken
    }
  }
  pcap_t* handle_ = nullptr;
  LinkType link_ = LinkType::ethernet;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> count_{0};
  std::mutex mutex_;
  std::vector<ByteVector> frames_;
  std::thread thread_;
};

// A finding: an oracle fired.
struct Finding {
  std::string id, oracle, signature, requirement, detail;
  std::string state_key, state;  // the rig's state the datagrams were sent in
  std::optional<netns::ExitStatus> exit;
  std::uint64_t found_at_datagram = 0;
  double found_at_s = 0;
  std::vector<Sent> history;    // the last two probe windows (see history_)
  std::vector<Sent> minimized;  // what reproduces (the history when minimization did not)
  MinimizeResult minimization;
  double minimize_s = 0;
  std::string minimize_note;
  int hits = 1;
  std::string dir;
  std::string log;  // the failing instance's log
};

// What an oracle says about an instance.
struct Observation {
  std::string oracle, signature, requirement, detail;
  std::optional<netns::ExitStatus> exit;
};

struct MinimizeStopped {};

std::string without_core_note(std::string text) {
  const std::string note = " (core dumped)";
  if (text.size() >= note.size() && text.compare(text.size() - note.size(), note.size(), note) == 0) {
    text.resize(text.size() - note.size());
  }
  return text;
}

}  // namespace

class FuzzSession {
 public:
  FuzzSession(const Adapter& adapter, std::unique_ptr<RoleRig> rig, const FuzzOptions& options,
              const std::atomic<bool>& interrupted)
      : adapter_(adapter), rig_(std::move(rig)), options_(options), interrupted_(interrupted) {}
  // Also when run() throws: the IUT, the capture, the sockets, then the lab.
  ~FuzzSession() {
    stop_iut_now();
    tap_.reset();
    rig_.reset();
  }
  FuzzSession(const FuzzSession&) = delete;
  FuzzSession& operator=(const FuzzSession&) = delete;

  json run();
  // Sends `inputs` one at a time in the state, each judged by the oracles
  // (death, wire invariants, log), then two liveness probes; writes
  // OUT/replay/replay.json.
  json replay(const std::string& pcap_path, const std::vector<ReplayInput>& inputs);
  // Sends the whole capture to a fresh IUT in the state and, when an oracle
  // fires, minimizes it as a finding of the run (OUT/fuzz/...).
  json minimize_capture(const std::vector<ReplayInput>& inputs);
  json summary() const;
  json by_state_json() const;
  void write_summary() const;
  // The summary as a second Ctrl-C leaves it (stopped_by "abort").
  void write_aborted_summary() {
    aborted_ = true;
    write_summary();
  }

 private:
  // The lab and the IUT.
  void bring_up();  // the lab, the tap, the rig's sockets, a fresh IUT in the state (AdapterError when not)
  void start_fresh();
  void stop_iut_now();
  std::optional<Observation> death();
  std::string read_log(std::uint64_t from = 0) const;  // the current instance's log from byte `from`
  std::optional<LogFinding> scan_new_log();
  // The rig's exchanges, with the IUT's liveness.
  bool alive() const { return iut_.pid > 0 && netns::process_alive(iut_.pid); }
  bool enter_state();
  // Every state of the rig once, on a fresh IUT each (AdapterError naming the
  // first one not reached), ending in the first on a fresh IUT.
  void check_every_state();
  // The next state of the rotation on a fresh IUT; false when it is not
  // reached (twice).
  bool rotate_state();
  bool probe() { return rig_->probe([this] { return alive(); }); }
  // The IUT tree's resident memory (KiB), and the memory oracle over it.
  std::uint64_t tree_rss_kib() const;
  // `confirm`: past the bound, then past it again by the bound (a fuzz
  // run); else past it once (a replayed subset in minimization).
  std::optional<Observation> memory_growth(bool confirm = true);
  void send_all(const std::vector<const Sent*>& batch) { rig_->send(batch); }
  std::optional<Observation> check_output();
  // Findings.
  bool handle(Observation observation);
  bool reproduces(const Finding& finding, const std::vector<const Sent*>& datagrams, Clock::time_point deadline);
  void send_paced(const std::vector<const Sent*>& datagrams);  // about 6,000/s
  void write_finding(const Finding& finding) const;
  void progress(bool final) const;

  const Adapter& adapter_;
  std::unique_ptr<RoleRig> rig_;
  FuzzOptions options_;
  const std::atomic<bool>& interrupted_;
  std::unique_ptr<netns::Lab> lab_;
  std::unique_ptr<OutputTap> tap_;
  IutProcess iut_;
  std::vector<ProcessIdentity> iut_tree_;
  std::uint64_t rss_baseline_kib_ = 0;  // the instance's resident memory once qualified
  std::uint64_t rss_first_over_kib_ = 0, first_over_at_ = 0;  // when it first went past the bound
  std::uint64_t log_offset_ = 0;
  std::string log_pending_;
  // The datagrams of the last two probe windows: what the IUT sends is
  // seen on the capture a little after its probe answer on the socket, so a
  // wire finding seen just after a good probe may come from the window
  // before it.
  std::vector<Sent> history_;
  std::size_t window_start_ = 0;  // where the current probe window begins in history_
  // Figures.
  Clock::time_point started_ = Clock::now();
  std::string started_at_ = utc_now();
  double minimizing_s_ = 0;
  double generating_s_ = 0, sending_s_ = 0, judging_s_ = 0;  // of the fuzzing time
  std::uint64_t sent_ = 0, fuzzed_ = 0, valid_ = 0, replayed_ = 0, probes_ = 0, probes_failed_ = 0, restarts_ = 0;
  // Per state (summary by_state): generated datagrams mutated and valid, and
  // how many times a fresh IUT was brought into it.
  struct StateCounts {
    std::uint64_t mutated = 0, valid = 0, entered = 0;
  };
  std::map<std::string, StateCounts> by_state_;
  // by_state_'s own lock: enter_state counts under it while handle() may
  // hold mutex_ (order: mutex_, then this one).
  mutable std::mutex by_state_mutex_;
  // One generated datagram, counted in the state it was made for.
  void count(const Sent& s) {
    const bool valid = s.mutations.empty();
    (valid ? valid_ : fuzzed_) += 1;
    const std::lock_guard<std::mutex> lock(by_state_mutex_);
    StateCounts& c = by_state_[rig_->state_of(s)];
    (valid ? c.valid : c.mutated) += 1;
  }
  std::string stopped_by_ = "running";
  mutable std::mutex mutex_;  // findings_ and the figures the signal thread reads
  std::vector<Finding> findings_;
  // The finding being minimized: a second Ctrl-C that ends the process
  // before it is written still reports it (and exit status 1).
  std::optional<Observation> in_progress_;
  std::string in_progress_id_;
  std::atomic<bool> aborted_{false};  // a second Ctrl-C: the summary is written from the signal thread
  bool state_lost_ = false;  // a fresh instance the rig asked for did not reach the state
};

namespace {
std::mutex g_running_mutex;
FuzzSession* g_running = nullptr;
// The session a second Ctrl-C reports (running_fuzz_summary), for the scope
// of a run.
struct Running {
  explicit Running(FuzzSession* session) {
    std::lock_guard<std::mutex> lock(g_running_mutex);
    g_running = session;
  }
  ~Running() {
    std::lock_guard<std::mutex> lock(g_running_mutex);
    g_running = nullptr;
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
};
}  // namespace

void FuzzSession::stop_iut_now() {
  if (iut_.pid > 0) stop_iut(iut_);
  iut_ = IutProcess{};
}

void FuzzSession::start_fresh() {
  stop_iut_now();
  // A fresh log per instance: a log-line readiness probe must not find the
  // last instance's line, and a finding keeps the log of the failing one.
  std::error_code ignored;
  fs::remove(lab_->run_dir() + "/iut-" + rig_->role() + ".log", ignored);
  log_offset_ = 0;
  log_pending_.clear();
  iut_ = start_iut(adapter_, rig_->role(), *lab_, iut_host(rig_->role()), lab_placeholders(*lab_),
                   rig_->launch_capability());
  iut_tree_ = process_tree(iut_.pid);
  ++restarts_;
}

std::optional<Observation> FuzzSession::death() {
  if (iut_.pid <= 0) return std::nullopt;
  if (!netns::process_alive(iut_.pid)) {
    const auto status = iut_exit_status(iut_);
    const std::string how = status ? netns::describe(*status) : std::string("is no longer running");
    return Observation{"iut_died", without_core_note(how), "", fmt::format("the IUT (pid {}) {}", iut_.pid, how),
                       status};
  }
  if (const auto lost = lost_process(iut_tree_)) {
    return Observation{"iut_died", "a process of the IUT ended", "", *lost, std::nullopt};
  }
  return std::nullopt;
}

std::string FuzzSession::read_log(std::uint64_t from) const {
  std::ifstream in(iut_.log_path.empty() ? lab_->run_dir() + "/iut-" + rig_->role() + ".log" : iut_.log_path, std::ios::binary);
  if (from > 0) in.seekg(static_cast<std::streamoff>(from));
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<LogFinding> FuzzSession::scan_new_log() {
  const std::string fresh = read_log(log_offset_);
  if (fresh.empty()) return std::nullopt;
  log_offset_ += fresh.size();
  std::string text = log_pending_ + fresh;
  const std::size_t last = text.rfind('\n');
  if (last == std::string::npos) {
    log_pending_ = std::move(text);
    return std::nullopt;
  }
  log_pending_ = text.substr(last + 1);
  text.resize(last + 1);
  auto found = scan_log(text);
  if (found && found->kind == "python_traceback" && found->signature.ends_with("unknown")) {
    // The exception line may not be written yet.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (const auto again = scan_log(text + log_pending_ + read_log(log_offset_))) found = again;
  }
  return found;
}

bool FuzzSession::enter_state() {
  if (!rig_->enter_state([this] { return alive(); })) return false;
  rss_baseline_kib_ = tree_rss_kib();
  rss_first_over_kib_ = 0;
  {
    std::lock_guard<std::mutex> lock(by_state_mutex_);
    ++by_state_[rig_->state_key()].entered;
  }
  return true;
}

void FuzzSession::check_every_state() {
  const std::vector<std::string> keys = rig_->state_keys();
  for (std::size_t i = 1; i <= keys.size(); ++i) {
    (void)rig_->select_state(keys[i % keys.size()]);
    start_fresh();
    if (!enter_state()) {
      throw AdapterError(fmt::format("{} {} did not reach the state {} ({}): {}", adapter_.name, rig_->role(),
                                     rig_->state_key(), rig_->state(), rig_->probe_description()));
    }
  }
}

bool FuzzSession::rotate_state() {
  const std::vector<std::string> keys = rig_->state_keys();
  const auto at = std::find(keys.begin(), keys.end(), rig_->state_key());
  const std::size_t next = at == keys.end() ? 0 : static_cast<std::size_t>(at - keys.begin() + 1) % keys.size();
  (void)rig_->select_state(keys[next]);
  history_.clear();
  window_start_ = 0;
  // Each with a retry: one lost datagram of the played parties is not a
  // verdict (and reached once already, check_every_state).
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      start_fresh();
    } catch (const AdapterError&) {
      return false;
    }
    if (enter_state()) return true;
  }
  return false;
}

std::uint64_t FuzzSession::tree_rss_kib() const {
  std::uint64_t total = 0;
  for (const ProcessIdentity& p : iut_tree_) {
    std::ifstream in("/proc/" + std::to_string(p.pid) + "/status");
    std::stringstream text;
    text << in.rdbuf();
    if (const auto kib = vm_rss_kib(text.str())) total += *kib;
  }
  return total;
}

std::optional<Observation> FuzzSession::memory_growth(bool confirm) {
  const std::uint64_t now = tree_rss_kib();
  const std::uint64_t limit = options_.rss_growth_mb * 1024;
  if (now <= rss_baseline_kib_ + limit) return std::nullopt;
  // Past the bound once is not yet a leak: an allocator's cache or ASan's
  // quarantine (256 MiB by default) grows to a plateau and stays there. A
  // finding when the memory then grows by the bound again.
  if (confirm && rss_first_over_kib_ == 0) {
    rss_first_over_kib_ = now;
    first_over_at_ = sent_;
    return std::nullopt;
  }
  if (confirm && now <= rss_first_over_kib_ + limit) return std::nullopt;
  return Observation{"memory_growth", fmt::format("resident memory grew by more than {} MiB", options_.rss_growth_mb),
                     "",
                     confirm ? fmt::format("the IUT's resident memory (its process tree, /proc/PID/status VmRSS) went "
                                           "from {} KiB once qualified to {} KiB after {} datagrams, and on to {} KiB "
                                           "after {}: it kept growing past the bound",
                                           rss_baseline_kib_, rss_first_over_kib_, first_over_at_, now, sent_)
                             : fmt::format("the IUT's resident memory (its process tree, /proc/PID/status VmRSS) went "
                                           "from {} KiB once qualified to {} KiB",
                                           rss_baseline_kib_, now),
                     std::nullopt};
}

std::optional<Observation> FuzzSession::check_output() {
  std::optional<Observation> first;
  for (const ByteVector& frame : tap_->take()) {
    const auto carrier = find_udp_carrier(tap_->link(), frame);
    if (!carrier || carrier->ipv6) continue;
    IutDatagram d{carrier->source4, carrier->destination4, carrier->source_port, carrier->destination_port,
                  carrier->payload};
    if (carrier->payload_truncated) d.payload = {};  // a first fragment: judge only its addresses
    auto v = rig_->check(d);
    if (v && carrier->payload_truncated && v->code == "payload_not_teredo") v.reset();
    if (v && !first) first = Observation{"wire_invariant", v->code, v->requirement, v->detail, std::nullopt};
  }
  return first;
}

void FuzzSession::send_paced(const std::vector<const Sent*>& datagrams) {
  for (std::size_t at = 0; at < datagrams.size(); at += kBatch) {
    const std::vector<const Sent*> batch(datagrams.begin() + static_cast<std::ptrdiff_t>(at),
                                         datagrams.begin() + static_cast<std::ptrdiff_t>(std::min(datagrams.size(), at + kBatch)));
    send_all(batch);
    // Paced (about 6,000/s): a slow server must not drop the datagram that
    // reproduces because its socket buffer was full.
    if (at + kBatch < datagrams.size()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

json FuzzSession::minimize_capture(const std::vector<ReplayInput>& inputs) {
  const Running running(this);
  bring_up();
  for (const ReplayInput& in : inputs) {
    history_.push_back(in.sent);
    count(in.sent);
  }
  std::vector<const Sent*> all;
  for (const Sent& s : history_) all.push_back(&s);
  (void)tap_->take();
  send_paced(all);
  sent_ = inputs.size();
  // Every oracle, once: what the whole capture does to a fresh IUT.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::optional<Observation> o = death();
  if (!o) o = check_output();
  if (!o) {
    ++probes_;
    bool answered = probe();
    if (!answered) {
      ++probes_failed_;
      std::this_thread::sleep_for(kQuiet);
      ++probes_;
      answered = probe();
      if (!answered) ++probes_failed_;
    }
    o = death();
    if (!o) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (const auto report = scan_new_log()) o = Observation{"sanitizer", report->signature, "", report->line, {}};
    }
    if (!o && !answered) {
      o = Observation{"unresponsive", "two consecutive liveness probes unanswered", "",
                      "after the capture, two liveness probes failed: each time " + rig_->probe_description(), {}};
    }
    if (!o && answered) o = memory_growth(false);
  }
  if (o) {
    window_start_ = history_.size();
    (void)handle(std::move(*o));
  }
  stopped_by_ = interrupted_ ? "interrupt" : "datagrams";
  stop_iut_now();
  write_summary();
  return summary();
}

bool FuzzSession::reproduces(const Finding& f, const std::vector<const Sent*>& datagrams, Clock::time_point deadline) {
  if (interrupted_ || Clock::now() > deadline) throw MinimizeStopped{};
  start_fresh();
  if (!enter_state()) return false;  // the fresh instance did not reach the state
  (void)tap_->take();
  send_paced(datagrams);
  replayed_ += datagrams.size();
  // A valid RS after the datagrams: its answer shows the server read them
  // all (it reads in order), its absence is the unresponsive oracle.
  bool answered = probe();
  if (!answered && f.oracle == "unresponsive") answered = probe();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (f.oracle == "iut_died") {
    const auto d = death();
    return d && d->signature == f.signature;
  }
  if (f.oracle == "unresponsive") return !answered && !death();
  // Memory grows over many datagrams: a subset reproduces only if it alone
  // grows the fresh instance past the bound.
  if (f.oracle == "memory_growth") return answered && memory_growth(false).has_value();
  if (f.oracle == "sanitizer") {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    log_offset_ = 0;
    log_pending_.clear();
    const auto found = scan_new_log();
    return found && found->signature == f.signature;
  }
  if (f.oracle == "wire_invariant") {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto o = check_output();
    return o && o->signature == f.signature;
  }
  return false;
}

// Records a finding (or one more hit of a known one), minimizes it, writes
// it, and leaves a fresh, qualified IUT behind. False when the IUT cannot be
// brought back into the state (the run ends).
bool FuzzSession::handle(Observation o) {
  // A sanitizer's report is the better signature of a death it caused.
  if (o.oracle == "iut_died") {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log_offset_ = 0;
    log_pending_.clear();
    if (const auto report = scan_new_log()) {
      o = Observation{"sanitizer", report->signature, "", report->line + " (" + o.detail + ")", o.exit};
    }
  }
  const std::string key = o.oracle + "|" + o.signature;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Finding& known : findings_) {
      if (known.oracle + "|" + known.signature == key) {
        ++known.hits;
        // The first repeats, then one line per hundred: a defect every
        // generated datagram of some kind triggers must not flood the log.
        if (known.hits <= 3 || known.hits % 100 == 0) {
          std::fprintf(stderr, "%steredo-conform fuzz: %s again (%s), hit %d\n", ::isatty(2) ? "\n" : "",
                       known.id.c_str(), o.signature.c_str(), known.hits);
        }
        history_.clear();
        window_start_ = 0;
        // A live IUT that broke an invariant again goes on as it is; a dead
        // or deaf one is started afresh.
        if (o.oracle != "iut_died" && o.oracle != "unresponsive" && o.oracle != "memory_growth" && !death()) {
          return true;
        }
        try {
          start_fresh();
        } catch (const AdapterError&) {
          return false;
        }
        return enter_state();
      }
    }
  }
  Finding f;
  f.state_key = rig_->state_key();
  f.state = rig_->state();
  f.oracle = o.oracle;
  f.signature = o.signature;
  f.requirement = o.requirement;
  f.detail = o.detail;
  f.exit = o.exit;
  f.found_at_datagram = sent_;
  f.found_at_s = seconds_since(started_);
  f.history = std::move(history_);
  history_.clear();
  window_start_ = 0;
  f.log = read_log();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    f.id = fmt::format("{:04}-{}", findings_.size() + 1, f.oracle);
    in_progress_ = o;
    in_progress_id_ = f.id;
  }
  f.dir = options_.out_dir + "/fuzz/findings/" + f.id;
  std::fprintf(stderr, "%steredo-conform fuzz: finding %s: %s (%s) after %llu datagrams; minimizing %zu datagrams\n",
               ::isatty(2) ? "\n" : "", f.id.c_str(), f.oracle.c_str(), f.signature.c_str(),
               static_cast<unsigned long long>(sent_),
               f.history.size());
  const auto begin = Clock::now();
  const auto deadline = begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.minimize_seconds));
  std::size_t runs = 0;  // fresh IUTs started, also when a bound cuts minimization short
  try {
    f.minimization = ddmin(
        f.history.size(),
        [&](std::span<const std::size_t> subset) {
          ++runs;
          std::vector<const Sent*> datagrams;
          datagrams.reserve(subset.size());
          for (const std::size_t i : subset) datagrams.push_back(&f.history[i]);
          return reproduces(f, datagrams, deadline);
        },
        MinimizeLimits{.max_calls = options_.minimize_calls});
    if (!f.minimization.reproduced) {
      f.minimize_note = "the history did not reproduce the finding on a fresh IUT: kept whole";
    } else if (f.minimization.exhausted) {
      f.minimize_note = "stopped at the predicate-call bound: reproduces, may not be 1-minimal";
    }
  } catch (const MinimizeStopped&) {
    f.minimization.kept.clear();
    for (std::size_t i = 0; i < f.history.size(); ++i) f.minimization.kept.push_back(i);
    f.minimize_note = interrupted_ ? "interrupted: kept whole" : "minimization time bound reached: kept whole";
  }
  f.minimization.calls = runs;
  f.minimize_s = seconds_since(begin);
  minimizing_s_ += f.minimize_s;
  for (const std::size_t i : f.minimization.kept) f.minimized.push_back(f.history[i]);
  std::fprintf(stderr, "teredo-conform fuzz: %s minimized to %zu datagram(s) in %.1f s (%zu fresh IUTs)\n", f.id.c_str(),
               f.minimized.size(), f.minimize_s, f.minimization.calls);
  write_finding(f);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    findings_.push_back(std::move(f));
    in_progress_.reset();
  }
  if (interrupted_) return false;
  try {
    start_fresh();
  } catch (const AdapterError&) {
    return false;
  }
  return enter_state();
}

void FuzzSession::write_finding(const Finding& f) const {
  fs::create_directories(f.dir);
  {
    capture::PcapWriter pcap(f.dir + "/reproducer.pcap", 1 /* LINKTYPE_ETHERNET */);
    std::int64_t t = 0;
    for (const Sent& s : f.minimized) {
      pcap.write(t += 1000, rig_->reproducer_frame(s));
    }
    pcap.close();
  }
  std::ofstream(f.dir + "/iut.log", std::ios::binary) << f.log;
  json datagrams = json::array();
  for (const Sent& s : f.minimized) {
    // native_to: sent by the native host to [native_to]:native_port (relay).
    datagrams.push_back({{"hex", to_hex(s.payload)}, {"bytes", s.payload.size()}, {"built_from", s.base},
                         {"mutations", s.mutations}, {"state", rig_->state_of(s)},
                         {"native_to", s.native_to ? json(to_string(*s.native_to)) : json(nullptr)},
                         {"native_port", s.native_port}});
  }
  json exit = nullptr;
  if (f.exit) {
    exit = {{"code", f.exit->signal ? json(nullptr) : json(f.exit->code)},
            {"signal", f.exit->signal ? json(f.exit->signal) : json(nullptr)},
            {"core_dumped", f.exit->core_dumped},
            {"description", netns::describe(*f.exit)}};
  }
  const json j = {
      {"id", f.id},
      {"oracle", f.oracle},
      {"signature", f.signature},
      {"requirement", f.requirement.empty() ? json(nullptr) : json(f.requirement)},
      {"detail", f.detail},
      {"role", rig_->role()},
      {"iut", {{"name", adapter_.name}, {"adapter", adapter_.path}}},
      {"seed", options_.seed},
      {"state", f.state},
      {"state_key", f.state_key},
      {"found_after_datagrams", f.found_at_datagram},
      {"found_after_s", f.found_at_s},
      {"iut_exit", exit},
      {"hits", f.hits},
      {"datagrams_before_minimization", f.history.size()},
      {"datagrams_after_minimization", f.minimized.size()},
      {"minimization",
       {{"fresh_iut_runs", f.minimization.calls},
        {"reproduced", f.minimization.reproduced},
        {"bound_reached", f.minimization.exhausted},
        {"seconds", f.minimize_s},
        {"note", f.minimize_note.empty() ? json(nullptr) : json(f.minimize_note)}}},
      {"reproducer", "reproducer.pcap"},
      {"datagrams", datagrams}};
  std::ofstream(f.dir + "/finding.json") << j.dump(2) << '\n';
}

json FuzzSession::by_state_json() const {
  const std::lock_guard<std::mutex> lock(by_state_mutex_);
  // Datagrams per state the rig made them for (mutated, valid), and fresh
  // IUTs brought into it.
  json states = json::object();
  for (const auto& [key, counts] : by_state_) {
    states[key] = {{"mutated", counts.mutated}, {"valid", counts.valid}, {"iut_starts", counts.entered}};
  }
  if (states.empty()) states[rig_->state_key()] = {{"mutated", 0}, {"valid", 0}, {"iut_starts", 0}};
  return states;
}

json FuzzSession::summary() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const double elapsed = seconds_since(started_);
  const double fuzzing = std::max(1e-3, elapsed - minimizing_s_);
  json findings = json::array();
  for (const Finding& f : findings_) {
    findings.push_back({{"id", f.id}, {"oracle", f.oracle}, {"signature", f.signature}, {"state", f.state_key},
                        {"requirement", f.requirement.empty() ? json(nullptr) : json(f.requirement)},
                        {"hits", f.hits}, {"datagrams_after_minimization", f.minimized.size()},
                        {"dir", "fuzz/findings/" + f.id}});
  }
  if (in_progress_) {
    findings.push_back({{"id", in_progress_id_}, {"oracle", in_progress_->oracle},
                        {"signature", in_progress_->signature},
                        {"requirement", in_progress_->requirement.empty() ? json(nullptr) : json(in_progress_->requirement)},
                        {"hits", 1}, {"datagrams_after_minimization", nullptr}, {"dir", nullptr},
                        {"note", "aborted while it was being minimized: not written"}});
  }
  return {{"schema", "teredo-conform-fuzz-summary"},
          {"schema_version", "1"},
          {"role", rig_->role()},
          {"topology", rig_->topology()},
          {"iut", {{"name", adapter_.name}, {"adapter", adapter_.path}}},
          {"command_line", options_.command_line},
          {"seed", options_.seed},
          {"started_at", started_at_},
          {"duration_s", elapsed},
          {"stopped_by", aborted_ ? std::string("abort") : stopped_by_},
          {"budget", {{"datagrams", options_.datagrams}, {"duration_s", options_.duration_s},
                      {"probe_every", options_.probe_every}}},
          {"datagrams_sent", sent_},
          {"rate_per_s", static_cast<double>(sent_) / fuzzing},
          {"fuzzing_s", fuzzing},
          {"minimizing_s", minimizing_s_},
          {"time_s", {{"generating", generating_s_}, {"sending", sending_s_}, {"judging", judging_s_}}},
          {"by_state", by_state_json()},
          {"probes", {{"sent", probes_}, {"failed", probes_failed_}}},
          {"replayed_datagrams", replayed_},
          {"iut_starts", restarts_},
          {"iut_datagrams_seen", tap_ ? tap_->count() : 0},
          {"findings", findings}};
}

void FuzzSession::write_summary() const {
  const json s = summary();
  fs::create_directories(options_.out_dir + "/fuzz");
  std::ofstream(options_.out_dir + "/fuzz/summary.json") << s.dump(2) << '\n';
}

void FuzzSession::progress(bool final) const {
  const double elapsed = seconds_since(started_);
  const double fuzzing = std::max(1e-3, elapsed - minimizing_s_);
  std::size_t findings = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    findings = findings_.size();
  }
  std::fprintf(stderr, "%s[fuzz %s] %llu datagrams, %.0f/s, %llu probes (%llu failed), %zu finding(s), %.0f s%s",
               ::isatty(2) ? "\r\033[K" : "", adapter_.name.c_str(), static_cast<unsigned long long>(sent_),
               static_cast<double>(sent_) / fuzzing, static_cast<unsigned long long>(probes_),
               static_cast<unsigned long long>(probes_failed_), findings, elapsed,
               final || !::isatty(2) ? "\n" : "");
}

void FuzzSession::bring_up() {
  netns::LabOptions lab_options;
  lab_options.seed = options_.seed;
  lab_options.log_cap_bytes = std::uint64_t{64} << 20;
  netns::Topology topology = netns::load_topology(topology_file(rig_->topology()));
  if (const auto profile = rig_->nat_profile()) {
    for (auto& [name, host] : topology.hosts) {
      if (host.nat && !netns::apply_nat_profile(*profile, *host.nat)) {
        throw std::runtime_error("fuzz: unknown NAT profile " + *profile);
      }
    }
  }
  lab_ = netns::Lab::up(topology, lab_options);
  tap_ = std::make_unique<OutputTap>(lab_->netns(rig_->tap_host()), rig_->iut_addresses());
  rig_->open(*lab_, adapter_);
  start_fresh();
  if (!enter_state()) {
    throw AdapterError(fmt::format("{} {} did not reach the state the datagrams are sent in ({}): {}", adapter_.name,
                                   rig_->role(), rig_->state(), rig_->probe_description()));
  }
}

json FuzzSession::replay(const std::string& pcap_path, const std::vector<ReplayInput>& inputs) {
  bring_up();
  json results = json::array();
  std::map<std::string, int> counts;
  bool died = false;
  const auto record = [&](json r, const std::optional<Observation>& o) {
    if (o) {
      // JUDGING.md 1: an IUT that dies fails, whatever else was judged.
      r.update({{"outcome", "fail"}, {"oracle", o->oracle},
                {"requirement", o->requirement.empty() ? json(nullptr) : json(o->requirement)},
                {"code", o->oracle == "wire_invariant" ? o->signature : o->oracle}, {"observed", o->detail}});
    }
    ++counts[r["outcome"].get<std::string>()];
    results.push_back(std::move(r));
  };
  for (const ReplayInput& in : inputs) {
    if (interrupted_) break;
    send_all({&in.sent});
    ++replayed_;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::optional<Observation> o = death();
    if (!o) o = check_output();
    if (!o) {
      if (const auto report = scan_new_log()) o = Observation{"sanitizer", report->signature, "", report->line, {}};
    }
    died = o && (o->oracle == "iut_died" || (o->oracle == "sanitizer" && !alive()));
    record({{"frame", in.frame}, {"what", in.what}, {"outcome", "sent"}, {"oracle", nullptr}, {"requirement", nullptr},
            {"code", "not_judged"}, {"observed", in.what + ": sent; what the IUT sent back broke no invariant"}},
           o);
    if (died) break;
  }
  if (!died && !interrupted_) {
    // Liveness after the replay, as the fuzzer judges it: two probes.
    const bool answered = probe() || probe();
    std::optional<Observation> o = death();
    if (!o && !answered) {
      o = Observation{"unresponsive", "two consecutive liveness probes unanswered", "",
                      "after the replay, two liveness probes failed: each time " + rig_->probe_description(), {}};
    }
    record({{"frame", nullptr}, {"what", "the liveness probe after the replay"}, {"outcome", "pass"},
            {"oracle", nullptr}, {"requirement", nullptr}, {"code", "alive"},
            {"observed", "the IUT answered the liveness probe after the replay"}},
           o);
  }
  stop_iut_now();
  const int exit_code = counts["fail"] > 0 ? 1 : 0;
  json out = {{"pcap", pcap_path},
              {"iut", adapter_.name},
              {"role", rig_->role()},
              {"state", rig_->state()},
              {"datagrams_in_capture", inputs.size()},
              {"replayed", replayed_},
              {"complete", replayed_ == inputs.size()},
              {"counts", counts},
              {"exit_code", exit_code},
              {"results", results}};
  fs::create_directories(options_.out_dir + "/replay");
  std::ofstream(options_.out_dir + "/replay/replay.json") << out.dump(2) << '\n';
  std::ofstream(options_.out_dir + "/replay/iut.log", std::ios::binary) << read_log();
  return out;
}

json FuzzSession::run() {
  const Running running(this);
  bring_up();
  // Before any fuzzed datagram the IUT must pass its liveness probe once
  // (twice offered): one that cannot is a harness error or an adapter that
  // does not fit (exit 2), never a finding; a client that never qualifies
  // under valid RAs would otherwise become an "unresponsive" finding.
  if (!probe() && !probe()) {
    throw AdapterError(fmt::format("{} {} failed its liveness probe before any fuzzed datagram was sent ({}): {}",
                                   adapter_.name, rig_->role(), rig_->state(), rig_->probe_description()));
  }
  // Every state on a fresh instance, ending in the first (the probe may have
  // moved the IUT on: a client qualifies).
  check_every_state();
  DatagramGenerator generator(options_.seed, rig_->context());
  const std::uint64_t states = rig_->state_keys().size();
  const std::uint64_t state_span =
      std::clamp<std::uint64_t>(options_.datagrams / states + (options_.datagrams % states != 0), kBatch, kMaxStateSpan);
  std::uint64_t next_rotation = state_span;

  const auto budget = std::chrono::duration<double>(options_.duration_s);
  auto last_progress = Clock::now(), last_log_scan = Clock::now();
  std::uint64_t since_probe = 0;
  int failed_probes = 0;
  std::vector<Sent> batch;
  std::vector<const Sent*> pointers;
  // The oracles after a batch; `closing`: the run's last look, with a probe
  // whatever the count, so that the last datagrams are judged too.
  const std::function<std::optional<Observation>(bool)> judge = [&](bool closing) -> std::optional<Observation> {
    std::optional<Observation> observed;
    if (!netns::process_alive(iut_.pid)) observed = death();
    if (!observed) observed = check_output();
    if (!observed && (closing || Clock::now() - last_log_scan > std::chrono::milliseconds(250))) {
      last_log_scan = Clock::now();
      if (const auto report = scan_new_log()) {
        observed = Observation{"sanitizer", report->signature, "", report->line, std::nullopt};
      }
    }
    if (!observed && (closing || since_probe >= options_.probe_every)) {
      since_probe = 0;
      ++probes_;
      if (probe()) {
        failed_probes = 0;
        // The datagrams before the previous probe left the server live.
        history_.erase(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(window_start_));
        window_start_ = history_.size();
        if (lost_process(iut_tree_)) observed = death();
        if (!observed) observed = memory_growth();
        if (!observed && rig_->wants_fresh_iut()) {
          // The rig's states need a new instance (a client qualifies once
          // per start): the datagrams so far could not reach it.
          history_.clear();
          window_start_ = 0;
          try {
            start_fresh();
            state_lost_ = !enter_state();
          } catch (const AdapterError&) {
            state_lost_ = true;
          }
        }
      } else {
        ++probes_failed_;
        observed = death();
        if (!observed && ++failed_probes >= 2) {
          observed = Observation{"unresponsive", "two consecutive liveness probes unanswered", "",
                                 fmt::format("two liveness probes in a row failed, the second after {} ms with no "
                                             "datagram sent: each time {}",
                                             kQuiet.count(), rig_->probe_description()),
                                 std::nullopt};
        } else if (!observed) {
          // A slow IUT may still be reading the datagrams queued before the
          // probe: the second probe comes after a quiet pause, with no new
          // datagram, so that only an IUT that stays silent when it has
          // nothing else to do is called unresponsive.
          std::this_thread::sleep_for(kQuiet);
          since_probe = options_.probe_every;  // probe again at once
          return judge(closing);
        }
      }
    }
    return observed;
  };
  for (;;) {
    if (interrupted_) {
      stopped_by_ = "interrupt";
      break;
    }
    if (sent_ >= options_.datagrams) {
      stopped_by_ = "datagrams";
      break;
    }
    if (state_lost_) {
      stopped_by_ = "iut_not_restartable";
      break;
    }
    if (Clock::now() - started_ - std::chrono::duration<double>(minimizing_s_) >= budget) {
      stopped_by_ = "duration";
      break;
    }
    if (states > 1 && sent_ >= next_rotation) {
      // The state's last datagrams judged (a probe whatever the count),
      // then the next state on a fresh IUT.
      next_rotation = sent_ + state_span;
      if (auto observed = judge(true)) {
        if (!handle(std::move(*observed))) {
          stopped_by_ = interrupted_ ? "interrupt" : "iut_not_restartable";
          break;
        }
      }
      if (interrupted_) continue;
      if (!rotate_state()) {
        stopped_by_ = "state_not_reached";
        std::fprintf(stderr, "%steredo-conform fuzz: a fresh IUT did not reach the state %s twice: %s; the run stops "
                     "(not a finding: the state was reached at the start)\n",
                     ::isatty(2) ? "\n" : "", rig_->state_key().c_str(), rig_->probe_description().c_str());
        break;
      }
      generator.set_context(rig_->context());
      failed_probes = 0;
      since_probe = 0;
    }
    const std::uint64_t n = std::min<std::uint64_t>(
        {kBatch, options_.probe_every - since_probe, options_.datagrams - sent_,
         states > 1 ? std::max<std::uint64_t>(next_rotation - sent_, 1) : kBatch});
    batch.clear();
    pointers.clear();
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
      Sent s = rig_->next(generator);
      count(s);
      batch.push_back(std::move(s));
    }
    for (const Sent& s : batch) pointers.push_back(&s);
    const auto t1 = Clock::now();
    send_all(pointers);
    const auto t2 = Clock::now();
    sent_ += n;
    since_probe += n;
    for (Sent& s : batch) history_.push_back(std::move(s));

    std::optional<Observation> observed = judge(false);
    const auto t3 = Clock::now();
    // Where a fuzzing second goes (the summary's time_s): building the
    // datagrams, handing them to the kernel, the oracles (capture, log,
    // the liveness probe) and keeping the history.
    generating_s_ += std::chrono::duration<double>(t1 - t0).count();
    sending_s_ += std::chrono::duration<double>(t2 - t1).count();
    judging_s_ += std::chrono::duration<double>(t3 - t2).count();
    if (observed) {
      const std::uint64_t starts = restarts_;
      if (!handle(std::move(*observed))) {
        stopped_by_ = interrupted_ ? "interrupt" : "iut_not_restartable";
        break;
      }
      // A fresh IUT starts a fresh probe window; a live one that broke a
      // known invariant again keeps its window, so that frequent repeats
      // never put off the liveness probe.
      if (restarts_ != starts) {
        failed_probes = 0;
        since_probe = 0;
      }
    }
    if (Clock::now() - last_progress > std::chrono::seconds(3)) {
      last_progress = Clock::now();
      progress(false);
    }
  }
  if (stopped_by_ == "datagrams" || stopped_by_ == "duration") {
    // At most two closing probes: a second failure in a row is the finding.
    for (int closing = 0; closing < 2 && !interrupted_; ++closing) {
      if (auto observed = judge(true)) {
        (void)handle(std::move(*observed));
        break;
      }
      if (failed_probes == 0) {  // answered: the last datagrams were read; what they made the IUT send too
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (auto late = check_output()) (void)handle(std::move(*late));
        break;
      }
    }
  }
  progress(true);
  stop_iut_now();
  write_summary();
  return summary();
}

json fuzz_iut(const Adapter& adapter, const std::string& role, const FuzzOptions& options,
             const std::atomic<bool>& interrupted) {
  auto rig = make_rig(role, options.seed, adapter.capabilities);
  if (!rig) throw std::invalid_argument("fuzz: no rig for the role " + role);
  FuzzSession session(adapter, std::move(rig), options, interrupted);
  return session.run();
}

json replay_through_rig(const Adapter& adapter, const std::string& role, const std::string& pcap_path,
                        const std::vector<ReplayInput>& inputs, const std::string& out_dir,
                        const std::atomic<bool>& interrupted) {
  auto rig = make_rig(role, 1, adapter.capabilities);
  if (!rig) throw std::invalid_argument("replay: no rig for the role " + role);
  FuzzOptions options;
  options.out_dir = out_dir;
  FuzzSession session(adapter, std::move(rig), options, interrupted);
  return session.replay(pcap_path, inputs);
}

json minimize_capture(const Adapter& adapter, const std::string& role, const std::vector<ReplayInput>& inputs,
                      const FuzzOptions& options, const std::atomic<bool>& interrupted) {
  auto rig = make_rig(role, options.seed, adapter.capabilities);
  if (!rig) throw std::invalid_argument("minimize: no rig for the role " + role);
  FuzzSession session(adapter, std::move(rig), options, interrupted);
  return session.minimize_capture(inputs);
}

json running_fuzz_summary() {
  std::lock_guard<std::mutex> lock(g_running_mutex);
  if (g_running == nullptr) return nullptr;
  g_running->write_aborted_summary();
  return g_running->summary();
}

}  // namespace teredo::conformance::fuzz
