#include "teredo/netns/lab.hpp"

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include "engine/data_dir.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace teredo::netns {

namespace fs = std::filesystem;

namespace {

std::mutex g_live_mutex;
std::set<Lab*> g_live;
bool g_tearing_down = false;  // under g_live_mutex: the process is exiting, no new lab

std::string switch_host(const std::string& segment) { return "sw-" + segment; }

std::string first_ipv4(const Interface& itf) {
  for (const auto& a : itf.addresses) {
    if (!a.ipv6) return a.address;
  }
  return {};
}

std::string nat_binary(const LabOptions& options) {
  if (!options.nat_binary.empty()) return options.nat_binary;
  if (const char* env = std::getenv("TEREDO_NAT_BIN"); env && *env) return env;
#ifdef TEREDO_NAT_DEFAULT_PATH
  return conformance::tool_path("teredo-nat", TEREDO_NAT_DEFAULT_PATH);
#else
  return conformance::tool_path("teredo-nat", "teredo-nat");
#endif
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last.empty() ? "no output" : last;
}

std::string route_line(const Route& r, const Host& host) {
  std::string to = r.to;
  const bool via_v6 = r.via.find(':') != std::string::npos;
  if (to == "default6" || (to == "default" && via_v6)) to = "::/0";
  (void)host;
  std::string line = "route add " + to;
  if (!r.via.empty()) line += " via " + r.via;
  if (!r.dev.empty()) line += " dev " + r.dev;
  return line;
}

}  // namespace

Lab::Lab(Topology topology, LabOptions options, std::string prefix)
    : topology_(std::move(topology)),
      options_(std::move(options)),
      prefix_(std::move(prefix)),
      registry_(options_.run_root, prefix_) {}

std::unique_ptr<Lab> Lab::up(const Topology& topology, LabOptions options) {
  std::string prefix = options.prefix.empty() ? make_prefix() : options.prefix;
  if (!has_lab_prefix(prefix) || prefix.size() != 9) {
    throw LabError(fmt::format("bad lab prefix '{}': expected tc- and six hex digits", prefix));
  }
  // A lab claims its prefix by creating its run directory (mkdir fails when
  // it exists), so labs built at once, by one run or by several, never share
  // one; nor does a lab share one with namespaces of another run root, since
  // teardown deletes every namespace its record names. A drawn prefix that
  // is taken is drawn again.
  std::error_code ec;
  fs::create_directories(options.run_root, ec);
  for (int draw = 1;; ++draw) {
    bool namespaces_exist = false;
    for (const auto& entry : fs::directory_iterator("/run/netns", ec)) {
      namespaces_exist = namespaces_exist || entry.path().filename().string().rfind(prefix + "-", 0) == 0;
    }
    if (!namespaces_exist && ::mkdir((options.run_root + "/" + prefix).c_str(), 0755) == 0) break;
    if (!namespaces_exist && errno != EEXIST) {
      throw LabError(fmt::format("cannot create run directory {}/{}: {}", options.run_root, prefix,
                                 std::strerror(errno)));
    }
    if (!options.prefix.empty() || draw == 16) {
      throw LabError(fmt::format("a lab with prefix {} already exists", prefix));
    }
    prefix = make_prefix();
  }
  std::unique_ptr<Lab> lab(new Lab(topology, std::move(options), prefix));
  {
    std::lock_guard<std::mutex> lock(g_live_mutex);
    if (g_tearing_down) throw LabError("the process is exiting: no new lab");
    g_live.insert(lab.get());
  }
  try {
    std::lock_guard<std::mutex> lock(lab->state_mutex_);
    lab->build();
  } catch (...) {
    lab->down();
    throw;
  }
  return lab;
}

Lab::~Lab() {
  if (!released_) down();
  std::lock_guard<std::mutex> lock(g_live_mutex);
  g_live.erase(this);
}

std::string Lab::netns(const std::string& host) const {
  if (!topology_.hosts.count(host) &&
      !(host.rfind("sw-", 0) == 0 && topology_.segments.count(host.substr(3)))) {
    throw LabError(fmt::format("unknown host '{}' in lab {}", host, prefix_));
  }
  return prefix_ + "-" + host;
}

std::string Lab::nat_control(const std::string& host) const {
  return run_dir() + "/nat-" + host + ".sock";
}

void Lab::add_namespace(const std::string& name) {
  run_step("create namespace " + name, {"ip", "netns", "add", name});
  // The pinned baseline (cf. packetdrill's defaults.sh), set before any
  // interface exists so every interface inherits the defaults.
  for (const char* key : {"net/ipv4/conf/all/rp_filter", "net/ipv4/conf/default/rp_filter",
                          "net/ipv6/conf/all/accept_dad", "net/ipv6/conf/default/accept_dad",
                          "net/ipv6/conf/all/accept_ra", "net/ipv6/conf/default/accept_ra"}) {
    write_sysctl(name, key, "0");
  }
}

void Lab::build() {
  RegistryRecord& rec = registry_.record();
  rec.topology = topology_.name;
  rec.detached = options_.detached;
  for (const auto& [name, host] : topology_.hosts) rec.namespaces.push_back(netns(name));
  for (const auto& [segment, members] : topology_.segments) rec.namespaces.push_back(netns(switch_host(segment)));
  registry_.save();  // before anything exists: a crash from here on leaves a record

  for (const auto& [name, host] : topology_.hosts) {
    add_namespace(netns(name));
    const std::string forward = host.forwarding || (host.nat && host.nat->kernel()) ? "1" : "0";
    write_sysctl(netns(name), "net/ipv4/ip_forward", forward);
    write_sysctl(netns(name), "net/ipv6/conf/all/forwarding", forward);
  }
  for (const auto& [segment, members] : topology_.segments) {
    const std::string sw = netns(switch_host(segment));
    add_namespace(sw);
    // A switch speaks no IPv6 of its own (no MLD or RS noise in captures).
    write_sysctl(sw, "net/ipv6/conf/default/disable_ipv6", "1");
    write_sysctl(sw, "net/ipv6/conf/all/disable_ipv6", "1");
  }
  for (const auto& [a, b] : topology_.links) {
    run_step(fmt::format("link {}:{} <-> {}:{}", a.host, a.interface, b.host, b.interface),
             {"ip", "link", "add", "name", a.interface, "netns", netns(a.host), "type", "veth", "peer",
              "name", b.interface, "netns", netns(b.host)});
  }
  for (const auto& [segment, members] : topology_.segments) {
    const std::string sw = netns(switch_host(segment));
    std::string batch = "link set lo alias " + owner_marker(registry_.record()) +
                        "\nlink add br0 type bridge mcast_snooping 0\nlink set br0 up\n";
    for (std::size_t i = 0; i < members.size(); ++i) {
      const Endpoint& m = members[i];
      const std::string port = fmt::format("p{}", i);
      run_step(fmt::format("segment {}: attach {}:{}", segment, m.host, m.interface),
               {"ip", "link", "add", "name", m.interface, "netns", netns(m.host), "type", "veth", "peer",
                "name", port, "netns", sw});
      batch += fmt::format("link set {} master br0\nlink set {} up\n", port, port);
    }
    run_step("segment " + segment + ": bridge", {"ip", "-batch", "-"}, batch, sw);
    // A switch is a pure layer-2 device: no netfilter on bridged frames
    // (br_netfilter, when present, runs iptables hooks on every frame, a cost
    // no real switch adds and that falls on whichever lab process sent the
    // frame). Absent when the kernel has no br_netfilter: nothing to turn off.
    for (const char* key : {"net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
                            "net/bridge/bridge-nf-call-arptables"}) {
      if (std::filesystem::exists(std::string("/proc/sys/") + key)) write_sysctl(sw, key, "0");
    }
    if (options_.threaded_napi) {
      for (std::size_t i = 0; i < members.size(); ++i) thread_napi(sw, fmt::format("p{}", i));
    }
  }

  for (const auto& [name, host] : topology_.hosts) {
    for (const auto& [ifname, itf] : host.interfaces) disable_checksum_offload(netns(name), ifname);
    configure_host(host);
  }
  // (After the hosts are configured: a veth has NAPI instances only when up.)
  if (options_.threaded_napi) {
    for (const auto& [a, b] : topology_.links) {
      thread_napi(netns(a.host), a.interface);
      thread_napi(netns(b.host), b.interface);
    }
  }
  for (const auto& [name, host] : topology_.hosts) {
    if (host.nat) start_nat(host);
  }
}

void Lab::thread_napi(const std::string& ns, const std::string& ifname) {
  set_ethtool_feature(ns, ifname, ETHTOOL_SGRO, true, "GRO");  // a veth with GRO receives through NAPI
  // sysfs shows the namespace it was mounted in: `ip netns exec` remounts it.
  run_step("threaded NAPI on " + ifname + " in " + ns,
           {"ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /sys/class/net/" + ifname + "/threaded"}, {}, {});
}

void Lab::configure_host(const Host& host) {
  std::string batch = "link set lo alias " + owner_marker(registry_.record()) + "\nlink set lo up\n";
  for (const auto& [ifname, itf] : host.interfaces) {
    for (const auto& a : itf.addresses) {
      batch += fmt::format("address add {} dev {}{}\n", a.text(), ifname, a.ipv6 ? " nodad" : "");
    }
    batch += fmt::format("link set {} up\n", ifname);
  }
  for (const auto& r : host.routes) batch += route_line(r, host) + "\n";
  run_step("configure host " + host.name, {"ip", "-batch", "-"}, batch, netns(host.name));
}

void Lab::start_nat(const Host& host) {
  const NatConfig& nat = *host.nat;
  const std::string ns = netns(host.name);
  const std::string inside_address = first_ipv4(host.interfaces.at(nat.inside));
  const std::string outside_address = first_ipv4(host.interfaces.at(nat.outside));
  if (inside_address.empty() || outside_address.empty()) {
    throw LabError(fmt::format("NAT on {}: inside and outside interfaces need an IPv4 address", host.name));
  }
  const std::string table = "tc_" + prefix_.substr(3);
  if (nat.kernel()) {
    // Kernel conntrack NAT, for realism. New inbound flows to the NAT host's
    // outside address are dropped before conntrack confirms them, so a probe
    // from outside cannot create an entry that shifts later mappings.
    run_step("NAT " + host.name + ": nftables masquerade", {"nft", "-f", "-"},
             fmt::format("table ip {0} {{\n"
                         "  chain post {{ type nat hook postrouting priority 100; oifname \"{1}\" masquerade; }}\n"
                         "  chain guard {{ type filter hook prerouting priority -150; iifname \"{1}\" ct state new drop; }}\n"
                         "}}\n",
                         table, nat.outside),
             ns);
    return;
  }
  // teredo-nat reads and writes the frames itself: the kernel of the NAT host
  // must neither forward them nor answer them (no port unreachable from the
  // outside address, no conntrack state).
  // With an IGD, SSDP's multicast M-SEARCH from the LAN reaches its socket.
  const std::string ssdp_in =
      nat.upnp ? fmt::format("    iifname \"{}\" ip daddr 239.255.255.250 udp dport 1900 accept\n", nat.inside) : "";
  run_step("NAT " + host.name + ": nftables guard", {"nft", "-f", "-"},
           fmt::format("table ip {0} {{\n"
                       "  chain guard {{ type filter hook prerouting priority -300;\n"
                       "{4}"
                       "    iifname \"{1}\" ip daddr != {2} drop\n"
                       "    iifname \"{3}\" drop\n"
                       "  }}\n"
                       "}}\n",
                       table, nat.inside, inside_address, nat.outside, ssdp_in),
           ns);
  NatBoxConfig box{nat, inside_address, outside_address, nat_control(host.name), options_.seed};
  const std::string config_path = run_dir() + "/nat-" + host.name + ".json";
  {
    std::ofstream out(config_path);
    out << nat_box_config_to_json(box) << '\n';
  }
  const std::string log = run_dir() + "/nat-" + host.name + ".log";
  const pid_t pid = spawn_locked(host.name, {nat_binary(options_), "--config", config_path}, log);
  // Ready when its control socket answers.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    try {
      if (nat_command(host.name, "ping").find("pong") != std::string::npos) return;
    } catch (const LabError&) {
    }
    if (!process_alive(pid)) {
      throw LabError(fmt::format("NAT {}: teredo-nat exited: {}", host.name, tail_of(log)));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw LabError(fmt::format("NAT {}: teredo-nat not ready after 5 s: {}", host.name, tail_of(log)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

pid_t Lab::spawn(const std::string& host, const std::vector<std::string>& argv, const std::string& log_path) {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (down_) throw LabError(fmt::format("lab {} is down: cannot start {}", prefix_, argv.empty() ? "" : argv[0]));
  return spawn_locked(host, argv, log_path);
}

pid_t Lab::spawn_locked(const std::string& host, const std::vector<std::string>& argv, const std::string& log_path) {
  const std::string ns = netns(host);
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  std::shared_ptr<LogTap> tap;
  if (options_.log_cap_bytes > 0 && !log_path.empty()) {
    tap = std::make_shared<LogTap>(options_.log_cap_bytes);
    log_taps_[log_path].push_back(tap);
  }
  const pid_t pid = spawn_in(ns, argv, log_path, tap);
  registry_.record().processes.push_back({pid, host, command});
  registry_.save();
  return pid;
}

std::uint64_t Lab::log_discarded(const std::string& log_path, std::chrono::milliseconds timeout) const {
  std::vector<std::shared_ptr<LogTap>> taps;
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    const auto it = log_taps_.find(log_path);
    if (it != log_taps_.end()) taps = it->second;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::uint64_t discarded = 0;
  for (const auto& tap : taps) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    tap->wait_drained(std::max(left, std::chrono::milliseconds(0)));
    discarded += tap->discarded();
  }
  return discarded;
}

CommandResult Lab::exec(const std::string& host, const std::vector<std::string>& argv, const std::string& input) {
  return run_command(argv, input, netns(host));
}

int Lab::socket(const std::string& host, int domain, int type, int protocol) const {
  return socket_in(netns(host), domain, type, protocol);
}

bool Lab::wait_ipv6_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& [name, host] : topology_.hosts) {
    for (const auto& [ifname, interface] : host.interfaces) {
      const bool ipv6 = std::any_of(interface.addresses.begin(), interface.addresses.end(),
                                    [](const Cidr& a) { return a.ipv6; });
      if (!ipv6) continue;
      for (;;) {
        const auto r = exec(name, {"ip", "-6", "-o", "addr", "show", "dev", ifname, "scope", "link"});
        if (r.exit_code == 0 && r.output.find("inet6 fe80") != std::string::npos &&
            r.output.find("tentative") == std::string::npos) {
          break;
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  return true;
}

std::string Lab::nat_command(const std::string& host, const std::string& command) const {
  const std::string path = nat_control(host);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw LabError("socket: " + std::string(std::strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    throw LabError("control socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int saved = errno;
    ::close(fd);
    throw LabError(fmt::format("NAT {}: control socket: {}", host, std::strerror(saved)));
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string line = command + "\n";
  (void)!::write(fd, line.data(), line.size());
  std::string answer;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
    if (answer.back() == '\n') break;
  }
  ::close(fd);
  if (answer.empty()) throw LabError(fmt::format("NAT {}: no answer to '{}'", host, command));
  answer.pop_back();
  return answer;
}

void Lab::down() noexcept {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (down_) return;
  down_ = true;
  try {
    for (auto it = registry_.record().processes.rbegin(); it != registry_.record().processes.rend(); ++it) {
      stop_process(it->pid, 500);
    }
    for (const auto& ns : registry_.record().namespaces) {
      // Whatever else runs in our namespaces was started by this run.
      const CommandResult pids = run_command({"ip", "netns", "pids", ns});
      std::istringstream list(pids.output);
      pid_t pid = 0;
      while (list >> pid) ::kill(pid, SIGKILL);
      (void)run_command({"ip", "netns", "del", ns});
    }
  } catch (...) {
    // Teardown must go on; `lab clean` finds whatever is left.
  }
  registry_.remove();
}

std::string owner_marker(const RegistryRecord& record) {
  return fmt::format("teredo-conform:owner={}:start={}:detached={}", record.owner_pid, record.owner_start_time,
                     record.detached ? 1 : 0);
}

std::optional<NamespaceOwner> namespace_owner(const std::string& netns) {
  CommandResult r;
  try {
    r = run_command({"ip", "-o", "link", "show", "dev", "lo"}, {}, netns);
  } catch (const LabError&) {
    return std::nullopt;  // gone meanwhile
  }
  const auto at = r.output.find("teredo-conform:owner=");
  if (r.exit_code != 0 || at == std::string::npos) return std::nullopt;
  int pid = 0, detached = 0;
  unsigned long long start = 0;
  if (std::sscanf(r.output.c_str() + at, "teredo-conform:owner=%d:start=%llu:detached=%d", &pid, &start, &detached) !=
          3 ||
      pid <= 0) {
    return std::nullopt;
  }
  return NamespaceOwner{static_cast<pid_t>(pid), static_cast<std::uint64_t>(start), detached != 0};
}

namespace {

bool owner_alive(const NamespaceOwner& owner) {
  RegistryRecord r;
  r.owner_pid = owner.pid;
  r.owner_start_time = owner.start_time;
  return netns::owner_alive(r);
}

// Kills what runs in `ns` (started by its dead run) and deletes it.
void remove_namespace(const std::string& ns, CleanReport& report) {
  const CommandResult pids = run_command({"ip", "netns", "pids", ns});
  std::istringstream list(pids.output);
  pid_t pid = 0;
  while (list >> pid) {
    ::kill(pid, SIGKILL);
    report.processes.push_back(pid);
  }
  (void)run_command({"ip", "netns", "del", ns});
  report.namespaces.push_back(ns);
}

}  // namespace

CleanReport clean_leftovers(const std::string& run_root, bool include_detached) {
  CleanReport report;
  std::set<std::string> claimed_prefixes;
  for (const auto& [dir, record] : Registry::list(run_root)) {
    const bool dead = !owner_alive(record);
    if (!dead || (record.detached && !include_detached)) {
      claimed_prefixes.insert(record.prefix);
      continue;
    }
    // The run's processes are the ones inside its namespaces: a recorded PID
    // alone may have been reused by now, so it is never killed on its own.
    for (const auto& ns : record.namespaces) {
      if (!fs::exists("/run/netns/" + ns)) continue;
      // The same name under another run root, owned by a live run: not this
      // record's namespace any more.
      const auto owner = namespace_owner(ns);
      if (owner && owner->pid != record.owner_pid && owner_alive(*owner)) continue;
      remove_namespace(ns, report);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    report.runs.push_back(record.prefix);
  }
  // Namespaces with our prefix that no record of this run root claims: the
  // run that made them may use another run root, so only the owner written
  // in the namespace itself decides, and only a dead owner lets it go.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/run/netns", ec)) {
    const std::string name = entry.path().filename().string();
    if (!has_lab_prefix(name) || claimed_prefixes.count(prefix_of(name))) continue;
    if (fs::exists(run_root + "/" + prefix_of(name))) continue;  // being built right now
    const auto owner = namespace_owner(name);
    if (!owner) {
      report.unknown_owner.push_back(name);
      continue;
    }
    if (owner_alive(*owner) || (owner->detached && !include_detached)) continue;
    remove_namespace(name, report);
  }
  return report;
}

bool remove_run(const std::string& run_root, const std::string& prefix) {
  RegistryRecord record;
  const std::string dir = run_root + "/" + prefix;
  if (!Registry::load(dir + "/registry.json", record)) return false;
  for (const auto& ns : record.namespaces) {
    const CommandResult pids = run_command({"ip", "netns", "pids", ns});
    std::istringstream list(pids.output);
    pid_t pid = 0;
    while (list >> pid) ::kill(pid, SIGKILL);
    (void)run_command({"ip", "netns", "del", ns});
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return true;
}

void teardown_all_labs() noexcept {
  std::lock_guard<std::mutex> lock(g_live_mutex);
  g_tearing_down = true;
  for (Lab* lab : g_live) lab->down();
}

const std::vector<int>& terminating_signals() {
  static const std::vector<int> kSignals = {SIGINT,  SIGTERM,   SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2,
                                            SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGPWR,  SIGIO};
  return kSignals;
}

void install_teardown_on_signals(std::function<void(int)> on_first, std::function<int(int)> before_exit) {
  static std::once_flag once;
  std::call_once(once, [on_first = std::move(on_first), before_exit = std::move(before_exit)] {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : terminating_signals()) sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    std::thread([set, on_first, before_exit] {
      int sig = 0;
      sigwait(&set, &sig);
      if (on_first) {
        on_first(sig);
        sigwait(&set, &sig);
      }
      int code = 128 + sig;
      if (before_exit) {
        try {
          code = before_exit(sig);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "teredo-conform: %s\n", e.what());
        }
      }
      teardown_all_labs();
      std::fprintf(stderr, "teredo-conform: stopped by signal %d; labs removed\n", sig);
      std::_Exit(code);
    }).detach();
  });
}

}  // namespace teredo::netns
