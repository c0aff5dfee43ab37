#include "tshark.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

extern char** environ;

namespace teredo::oracle {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp(" + pattern + "): " + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string find_tshark() {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const std::size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / "tshark";
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) {
      return candidate.string();
    }
  }
  return {};
}

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ProcessResult run_tshark(const std::string& program, const std::vector<std::string>& args) {
  const TempDir run("teredo-oracle-tshark");
  const fs::path config = run.path() / "config";
  fs::create_directory(config);
  const fs::path err_path = run.path() / "stderr.txt";

  // Everything is prepared before fork: the child only calls async-signal-safe
  // functions.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("WIRESHARK_")) continue;  // no inherited profile
    env_strings.emplace_back(*e);
  }
  env_strings.push_back("WIRESHARK_CONFIG_DIR=" + config.string());
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings;
  argv_strings.push_back(program);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (err_fd < 0) throw std::runtime_error("cannot create " + err_path.string());
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(err_fd);
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(err_fd);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    const int in_fd = ::open("/dev/null", O_RDONLY);
    if (in_fd < 0 || ::dup2(in_fd, 0) < 0 || ::dup2(out_pipe[1], 1) < 0 || ::dup2(err_fd, 2) < 0) {
      ::_exit(126);
    }
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_fd);

  ProcessResult result;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(out_pipe[0], buffer, sizeof buffer);
    if (n > 0) {
      result.out.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(out_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) break;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = read_file(err_path);
  return result;
}

std::string tshark_version(const std::string& program) {
  const ProcessResult r = run_tshark(program, {"-v"});
  return r.out.substr(0, r.out.find('\n'));
}

const std::vector<std::string>& oracle_fields() {
  static const std::vector<std::string> fields = {
      // SOURCES.md's list
      "frame.number",
      "frame.len",
      "ip.src",
      "ip.dst",
      "udp.srcport",
      "udp.dstport",
      "udp.length",
      "teredo.auth",
      "teredo.auth.idlen",
      "teredo.auth.aulen",
      "teredo.auth.id",
      "teredo.auth.value",
      "teredo.auth.nonce",
      "teredo.auth.conf",
      "teredo.orig",
      "teredo.orig.port",
      "teredo.orig.addr",
      "ipv6.plen",
      "ipv6.nxt",
      "ipv6.hlim",
      "ipv6.src",
      "ipv6.dst",
      "ipv6.src_ts_ipv4",
      "ipv6.src_tc_port",
      "ipv6.src_tc_ipv4",
      "ipv6.dst_ts_ipv4",
      "ipv6.dst_tc_port",
      "ipv6.dst_tc_ipv4",
      "icmpv6.type",
      "icmpv6.opt.prefix",
      "_ws.malformed",
      // which layer is which (carrier, GTP, inner IPv6)
      "frame.protocols",
      // ICMPv6, router advertisement, ND options, echo
      "icmpv6.code",
      "icmpv6.checksum",
      "icmpv6.checksum.status",
      "icmpv6.nd.ra.cur_hop_limit",
      "icmpv6.nd.ra.flag",
      "icmpv6.nd.ra.router_lifetime",
      "icmpv6.nd.ra.reachable_time",
      "icmpv6.nd.ra.retrans_timer",
      "icmpv6.opt.type",
      "icmpv6.opt.prefix.length",
      "icmpv6.opt.prefix.flag",
      "icmpv6.opt.prefix.valid_lifetime",
      "icmpv6.opt.prefix.preferred_lifetime",
      "icmpv6.opt.mtu",
      "icmpv6.opt.src_linkaddr",
      "icmpv6.echo.identifier",
      "icmpv6.echo.sequence_number",
  };
  return fields;
}

std::vector<std::string> oracle_arguments(const std::string& pcap) {
  std::vector<std::string> args = {"-n",
                                   "-r",
                                   pcap,
                                   "-o",
                                   "ip.defragment:FALSE",
                                   "-d",
                                   "udp.port==3544,teredo",
                                   "--enable-heuristic",
                                   "teredo_udp",
                                   "-Y",
                                   "teredo",
                                   "-T",
                                   "json"};
  for (const std::string& f : oracle_fields()) {
    args.push_back("-e");
    args.push_back(f);
  }
  return args;
}

TsharkFrames parse_tshark_json(const std::string& text) {
  const nlohmann::json doc = nlohmann::json::parse(text);  // throws on bad JSON
  if (!doc.is_array()) throw std::runtime_error("tshark JSON: not an array");
  TsharkFrames frames;
  for (const nlohmann::json& packet : doc) {
    const nlohmann::json& layers = packet.at("_source").at("layers");
    Layers out;
    for (const auto& [name, values] : layers.items()) {
      std::vector<std::string>& v = out[name];
      if (values.is_array()) {
        for (const nlohmann::json& value : values) v.push_back(value.get<std::string>());
      } else {
        v.push_back(values.get<std::string>());
      }
    }
    const auto number = out.find("frame.number");
    if (number == out.end() || number->second.size() != 1) {
      throw std::runtime_error("tshark JSON: a packet without one frame.number");
    }
    const std::uint64_t n = std::stoull(number->second.front());
    if (!frames.emplace(n, std::move(out)).second) {
      throw std::runtime_error("tshark JSON: frame " + std::to_string(n) + " twice");
    }
  }
  return frames;
}

TsharkFrames run_oracle(const std::string& tshark, const std::string& pcap) {
  const ProcessResult r = run_tshark(tshark, oracle_arguments(pcap));
  if (r.exit_code != 0) {
    throw std::runtime_error("tshark exited with " + std::to_string(r.exit_code) + " on " + pcap +
                             ": " + r.err);
  }
  return parse_tshark_json(r.out);
}

}  // namespace teredo::oracle
