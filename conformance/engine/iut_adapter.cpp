#include "engine/iut_adapter.hpp"

#include "engine/data_dir.hpp"
#include "teredo/reports/json_schema.hpp"

#include <openssl/evp.h>
#include <signal.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string_view>
#include <thread>

namespace teredo::conformance {

namespace fs = std::filesystem;
using nlohmann::json;
using schema::JsonSchema;
using schema::SchemaError;
using schema::SchemaProblem;

namespace {

std::string sha256_of(const std::string& text) {
  unsigned char digest[32];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

int signal_number(const std::string& name) {
  static const std::map<std::string, int> kSignals = {
      {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT}, {"SIGKILL", SIGKILL}, {"SIGHUP", SIGHUP}, {"SIGQUIT", SIGQUIT}};
  const auto it = kSignals.find(name);
  return it == kSignals.end() ? -1 : it->second;
}

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last.empty() ? "no output" : last;
}

std::string last_output(const std::string& path) {
  const std::string last = last_line(path);
  return last == "no output" ? "it printed nothing" : "its last output: " + last;
}

}  // namespace

std::string Adapter::version() const {
  if (version_command.empty()) return "unknown";
  std::vector<std::string> argv;
  for (const auto& arg : version_command) argv.push_back(expand(arg, {{"teredo_ref", tool_path("teredo-ref", TEREDO_REF_BIN)}}));
  const auto r = netns::run_command(argv);
  std::istringstream in(r.output);
  std::string first;
  std::getline(in, first);
  return first.empty() ? "unknown" : first;
}

std::string adapter_schema_path() { return adapters_dir() + "/adapter.schema.json"; }

namespace {

// adapter.schema.json, read once: the one definition of a valid adapter.
const JsonSchema& adapter_schema() {
  static const JsonSchema schema = [] {
    try {
      return JsonSchema::load(adapter_schema_path());
    } catch (const SchemaError& e) {
      throw AdapterError(fmt::format("the adapter schema is unusable: {}", e.what()));
    }
  }();
  return schema;
}

// The parts of a launch; the schema has vouched for every key and type.
ReadinessProbe readiness(const json& ready) {
  ReadinessProbe probe;
  probe.kind = ready.value("kind", probe.kind);
  probe.port = ready.value("port", 0);
  probe.pattern = ready.value("pattern", "");
  probe.interface = ready.value("interface", "");
  probe.delay = std::chrono::milliseconds(ready.value("delay_ms", probe.delay.count()));
  probe.timeout = std::chrono::milliseconds(ready.value("timeout_ms", probe.timeout.count()));
  return probe;
}

RoleLaunch role_launch(const json& rj) {
  RoleLaunch launch;
  launch.command = rj.at("command").get<std::vector<std::string>>();
  launch.config_template = rj.value("config", "");
  for (const auto& [key, capability] : kLaunchVariants) {
    if (!rj.contains(key)) continue;
    const json& variant = rj.at(key);
    RoleLaunch::Variant v{variant.at("command").get<std::vector<std::string>>(), variant.value("config", ""), {}};
    if (variant.contains("timers_ms")) {
      for (const auto& [name, ms] : variant.at("timers_ms").items()) v.timers_ms[name] = ms.get<std::int64_t>();
    }
    launch.variants.emplace(capability, std::move(v));
  }
  if (rj.contains("ready")) launch.ready = readiness(rj.at("ready"));
  if (rj.contains("address")) {
    const json& address = rj.at("address");
    launch.address = AddressProbe{address.at("kind").get<std::string>(), address.at("interface").get<std::string>(),
                                  address.at("pattern").get<std::string>()};
  }
  launch.stop_signal = signal_number(rj.value("stop_signal", "SIGTERM"));
  return launch;
}

}  // namespace

Adapter load_adapter(const std::string& name_or_path) {
  std::string path = name_or_path;
  if (name_or_path.find('/') == std::string::npos && !fs::is_regular_file(name_or_path)) {
    path = adapters_dir() + "/" + name_or_path + ".json";
  }
  std::ifstream in(path);
  if (!in) throw AdapterError(fmt::format("no IUT adapter '{}' (not a file, not in {})", name_or_path, adapters_dir()));
  std::stringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::parse_error& e) {
    throw AdapterError(fmt::format("{}: malformed JSON at byte {}", path, e.byte));
  }
  // Every rule of a valid adapter is in the schema: keys, types, ranges,
  // capabilities, placeholders, which launch goes with which role.
  const std::vector<SchemaProblem> problems = adapter_schema().validate(j);
  if (!problems.empty()) {
    throw AdapterError(fmt::format("{}: {}{}", path, to_string(problems.front()),
                                   problems.size() > 1 ? fmt::format(" (and {} more)", problems.size() - 1) : ""));
  }
  Adapter a;
  a.path = path;
  a.sha256 = sha256_of(text.str());
  a.name = j.at("name").get<std::string>();
  a.description = j.value("description", "");
  a.version_command = j.value("version_command", std::vector<std::string>{});
  for (const auto& c : j.value("capabilities", std::vector<std::string>{})) a.capabilities.insert(c);
  const json timers = j.value("timers_ms", json::object());
  for (const auto& [k, v] : timers.items()) a.timers_ms[k] = v.get<std::int64_t>();
  for (const auto& [role, rj] : j.at("roles").items()) a.roles.emplace(role, role_launch(rj));
  return a;
}

std::string expand(const std::string& text, const Placeholders& values) {
  static const std::regex kPlaceholder(R"(\{([a-z0-9_]+)\})");
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), kPlaceholder);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out.append(text, last, static_cast<std::size_t>(m.position()) - last);
    const auto value = values.find(m[1].str());
    if (value == values.end()) throw AdapterError(fmt::format("unknown placeholder {{{}}} in '{}'", m[1].str(), text));
    out += value->second;
    last = static_cast<std::size_t>(m.position() + m.length());
  }
  out.append(text, last, std::string::npos);
  return out;
}

std::string iut_host(const std::string& role) {
  if (role == "server") return "server";
  if (role == "client") return "client";
  return "relay";
}

namespace {

// The values every lab gives, whatever the launch.
Placeholders lab_level_placeholders(const std::string& prefix) {
  return {{"server_v4", "203.0.113.1"},
          {"server_v4_secondary", "203.0.113.2"},
          {"relay_v4", "198.51.100.20"},
          {"iface", prefix + "-tun"},
          {"teredo_ref", tool_path("teredo-ref", TEREDO_REF_BIN)},
          {"secret", "teredo-conformance-secret"},
          {"client_id", "client-7"},
          // The client's LAN address and the service port a case configures
          // (§5.2.10: it must match a NAT port reservation).
          {"client_v4", "192.0.2.10"},
          {"service_port", "45123"}};
}

}  // namespace

Placeholders lab_placeholders(const netns::Lab& lab) { return lab_level_placeholders(lab.prefix()); }

Placeholders launch_placeholders(const std::string& prefix, const std::string& run_dir, const std::string& ns,
                                 const std::string& role) {
  Placeholders values = lab_level_placeholders(prefix);
  values["run_dir"] = run_dir;
  values["prefix"] = prefix;
  values["ns"] = ns;
  values["config"] = run_dir + "/iut-" + role + ".conf";
  return values;
}

std::optional<netns::ExitStatus> iut_exit_status(const IutProcess& iut) {
  if (iut.pid <= 0) return std::nullopt;
  return netns::exit_status(iut.pid);
}

std::string launch_variant_for(const std::vector<std::string>& capabilities) {
  const auto needs = [&](std::string_view capability) {
    return std::find(capabilities.begin(), capabilities.end(), capability) != capabilities.end();
  };
  for (const auto& [key, capability] : kLaunchVariants) {
    bool all = true;
    std::string_view rest = capability;
    for (auto plus = rest.find('+'); all; plus = rest.find('+')) {
      all = needs(rest.substr(0, plus));
      if (plus == std::string_view::npos) break;
      rest.remove_prefix(plus + 1);
    }
    if (all) return capability;
  }
  return {};
}

std::map<std::string, std::int64_t> launch_timers_ms(const Adapter& adapter, const std::string& role,
                                                     const std::string& capability) {
  std::map<std::string, std::int64_t> timers = adapter.timers_ms;
  const auto launch = adapter.roles.find(role);
  if (launch == adapter.roles.end() || capability.empty()) return timers;
  const auto variant = launch->second.variants.find(capability);
  if (variant == launch->second.variants.end()) return timers;
  for (const auto& [name, ms] : variant->second.timers_ms) timers[name] = ms;
  return timers;
}

IutProcess start_iut(const Adapter& adapter, const std::string& role, netns::Lab& lab, const std::string& host,
                     Placeholders values, const std::string& capability) {
  const auto it = adapter.roles.find(role);
  if (it == adapter.roles.end()) throw AdapterError(fmt::format("adapter {} has no role {}", adapter.name, role));
  const RoleLaunch& launch = it->second;
  for (auto& [name, value] : launch_placeholders(lab.prefix(), lab.run_dir(), lab.netns(host), role)) {
    values[name] = std::move(value);
  }
  const auto variant = launch.variants.find(capability);
  const bool use_variant = variant != launch.variants.end();
  const std::string& config_template = use_variant ? variant->second.config_template : launch.config_template;
  if (!config_template.empty()) std::ofstream(values["config"]) << expand(config_template, values);
  std::vector<std::string> argv;
  for (const auto& arg : use_variant ? variant->second.command : launch.command) argv.push_back(expand(arg, values));
  IutProcess iut;
  iut.host = host;
  iut.role = role;
  iut.stop_signal = launch.stop_signal;
  iut.log_path = lab.run_dir() + "/iut-" + role + ".log";
  try {
    iut.pid = lab.spawn(host, argv, iut.log_path);
  } catch (const netns::LabError& e) {
    throw AdapterError(fmt::format("{} {} could not be started: {}", adapter.name, role, e.what()));
  }

  const auto deadline = std::chrono::steady_clock::now() + launch.ready.timeout;
  const auto started = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (const auto ended = iut_exit_status(iut)) {
      throw AdapterError(fmt::format("{} {} {} at start; {}", adapter.name, role, netns::describe(*ended),
                                     last_output(iut.log_path)));
    }
    bool ready = false;
    if (launch.ready.kind == "delay") {
      ready = std::chrono::steady_clock::now() - started >= launch.ready.delay;
    } else if (launch.ready.kind == "udp-port") {
      const auto r = lab.exec(host, {"ss", "-H", "-u", "-l", "-n", fmt::format("sport = :{}", launch.ready.port)});
      ready = r.exit_code == 0 && !r.output.empty();
    } else if (launch.ready.kind == "log-line") {
      std::ifstream log(iut.log_path);
      std::stringstream text;
      text << log.rdbuf();
      ready = text.str().find(expand(launch.ready.pattern, values)) != std::string::npos;
    } else if (launch.ready.kind == "interface-address") {
      const auto r = lab.exec(host, {"ip", "-o", "addr", "show", "dev", expand(launch.ready.interface, values)});
      ready = r.exit_code == 0 && r.output.find(expand(launch.ready.pattern, values)) != std::string::npos;
    }
    if (ready) return iut;
    if (std::chrono::steady_clock::now() > deadline) {
      stop_iut(iut);
      throw AdapterError(fmt::format("{} {} not ready after {} ms ({}): {}", adapter.name, role,
                                     launch.ready.timeout.count(), launch.ready.kind, last_line(iut.log_path)));
    }
  }
}

std::optional<std::string> observe_iut_address(const Adapter& adapter, const std::string& role, netns::Lab& lab,
                                               const std::string& host) {
  const auto it = adapter.roles.find(role);
  if (it == adapter.roles.end() || !it->second.address) return std::nullopt;
  const AddressProbe& probe = *it->second.address;
  const Placeholders values = launch_placeholders(lab.prefix(), lab.run_dir(), lab.netns(host), role);
  const auto r = lab.exec(host, {"ip", "-o", "addr", "show", "dev", expand(probe.interface, values)});
  if (r.exit_code != 0) return std::nullopt;
  const std::string pattern = expand(probe.pattern, values);
  // "5: name    inet6 2001:0:cb00:7101:.../128 scope global ..." per line.
  // A tentative address (duplicate address detection still running) is not
  // usable yet: the kernel would pick another source for the IUT's traffic.
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("tentative") != std::string::npos || line.find("dadfailed") != std::string::npos) continue;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      if (word.rfind(pattern, 0) != 0) continue;
      const auto slash = word.find('/');
      return slash == std::string::npos ? word : word.substr(0, slash);
    }
  }
  return std::nullopt;
}

void stop_iut(const IutProcess& iut) {
  if (!netns::process_alive(iut.pid)) return;
  ::kill(iut.pid, iut.stop_signal);
  for (int i = 0; i < 200 && netns::process_alive(iut.pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  netns::stop_process(iut.pid, 100);
}

void kill_iut(const IutProcess& iut) {
  if (iut.pid <= 0 || !netns::process_alive(iut.pid)) return;
  ::kill(iut.pid, SIGKILL);
  for (int i = 0; i < 400 && netns::process_alive(iut.pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace teredo::conformance
