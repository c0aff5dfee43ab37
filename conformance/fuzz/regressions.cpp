#include "fuzz/regressions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "fuzz/rig.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::conformance::fuzz {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace teredo::wire;

namespace {

constexpr auto kSettle = std::chrono::milliseconds(300);  // for what the datagrams make the IUT send
constexpr auto kQuiet = std::chrono::milliseconds(2000);  // before the second liveness probe

bool id_ok(const std::string& id) {
  return !id.empty() && id.size() <= 80 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string slug(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) {
      out += l;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.substr(0, 60);
}

std::vector<Sent> datagrams_of(const json& regression, const std::string& file) {
  std::vector<Sent> out;
  for (const json& d : regression.at("datagrams")) {
    Sent s;
    if (!from_hex(d.at("hex").get<std::string>(), s.payload)) {
      throw std::runtime_error(file + ": a datagram's hex does not read");
    }
    s.base = d.value("built_from", "regression");
    if (d.contains("native_to") && d["native_to"].is_string()) {
      const auto to = parse_ipv6(d["native_to"].get<std::string>());
      if (!to) throw std::runtime_error(file + ": native_to is not an IPv6 address");
      s.native_to = *to;
      s.native_port = d.value("native_port", std::uint16_t{0});
    }
    out.push_back(std::move(s));
  }
  if (out.empty()) throw std::runtime_error(file + ": no datagram");
  return out;
}

}  // namespace

std::string malformed_input_requirement(const std::string& role) {
  // A client silently drops a datagram that is not a well-formed Teredo
  // packet (§5.2.3).
  if (role == "client") return "R4380-5.2.3-01";
  return role == "relay" ? "R4380-5.4.2-01" : "R4380-5.3.1-02";
}

json regression_from_finding(const json& finding, const std::string& id) {
  const std::string role = finding.value("role", "");
  if (!make_rig(role, 1)) throw std::runtime_error("the finding's role '" + role + "' has no rig to replay it");
  const std::string oracle = finding.value("oracle", "");
  const std::string signature = finding.value("signature", "");
  const std::string name = id.empty() ? slug(role + "-" + signature) : id;
  if (!id_ok(name)) throw std::runtime_error("'" + name + "' is not a regression ID ([a-z0-9-], at most 80)");
  if (!finding.value("minimization", json::object()).value("reproduced", false)) {
    throw std::runtime_error("the finding did not reproduce on a fresh IUT: it is no regression to keep");
  }
  json datagrams = json::array();
  for (const json& d : finding.at("datagrams")) {
    datagrams.push_back({{"hex", d.at("hex")},
                         {"native_to", d.value("native_to", json(nullptr))},
                         {"native_port", d.value("native_port", 0)},
                         {"built_from", d.value("built_from", "")},
                         {"mutations", d.value("mutations", json::array())}});
  }
  const json requirement = finding.value("requirement", json(nullptr));
  // The rig's state the finding was made in (finding.json state_key; older
  // findings: the role's first state).
  const std::string state = finding.value("state_key", "");
  return {{"id", name},
          {"role", role},
          {"state", state.empty() ? json(nullptr) : json(state)},
          {"title", fmt::format("Fuzz regression: {} ({}) does not come back", signature, oracle)},
          {"requirement", requirement.is_string() ? requirement : json(malformed_input_requirement(role))},
          {"found",
           {{"oracle", oracle},
            {"signature", signature},
            {"requirement", requirement},
            {"detail", finding.value("detail", "")},
            {"iut", finding.value("iut", json::object())},
            {"seed", finding.value("seed", 0)},
            {"finding", finding.value("id", "")}}},
          {"datagrams", datagrams}};
}

CaseSpec regression_case(const json& regression, const std::string& file) {
  const std::string id = regression.value("id", "");
  if (!id_ok(id)) throw std::runtime_error(file + ": id '" + id + "' is not [a-z0-9-]");
  const std::string role = regression.value("role", "");
  // A rig offering every state, to check the file's state and learn the
  // launch it needs.
  auto probe_rig = make_rig(role, 1, {"secure_qualification"});
  if (!probe_rig) throw std::runtime_error(file + ": role '" + role + "' has no fuzz rig");
  const json state_value = regression.value("state", json(nullptr));
  const std::string state = state_value.is_string() ? state_value.get<std::string>() : probe_rig->state_key();
  if (!probe_rig->select_state(state)) {
    throw std::runtime_error(file + ": state '" + state + "' is not one of the " + role + " rig's states");
  }
  const std::string requirement = regression.value("requirement", "");
  auto datagrams = std::make_shared<const std::vector<Sent>>(datagrams_of(regression, file));
  const json found = regression.value("found", json::object());
  CaseSpec spec;
  spec.id = "regression." + id;
  spec.title = regression.value("title", "Fuzz regression " + id);
  spec.description = fmt::format(
      "Replays the {} datagram(s) of a fuzz finding ({}: {}, found against {}) {}.", datagrams->size(),
      found.value("oracle", "?"), found.value("signature", "?"),
      found.value("iut", json::object()).value("name", "?"), probe_rig->state());
  spec.judgement =
      "Pass when the IUT survives them, sends nothing breaking its role's wire invariants "
      "(conformance/fuzz/README.md) and then answers its liveness probe (a second one after a quiet pause).";
  spec.role = role;
  spec.requirements = {requirement};
  spec.topology = probe_rig->topology();
  spec.nat_profile = probe_rig->nat_profile();
  // A state with its own launch (the secure server) needs the capability:
  // not-applicable for an IUT that does not declare it.
  if (const std::string capability = probe_rig->launch_capability(); !capability.empty()) {
    spec.capabilities = {capability};
  }
  // "driver.pcap": where the rig's wire invariants look (the client's own
  // link for a client).
  spec.captures = {{"driver", probe_rig->tap_host(), "eth0"}};
  if (role == "relay") spec.captures = {{"driver", "driver", "eth0"}, {"v6host", "v6host", "eth0"}};
  spec.body = [datagrams, role, requirement, state](CaseRun& run) {
    auto rig = make_rig(role, run.seed(), run.adapter().capabilities);
    (void)rig->select_state(state);  // offered: the case needs the capability that offers it
    rig->open(run.lab(), run.adapter());
    // The engine judges the IUT's death; a dead IUT answers no probe.
    const Alive alive = [] { return true; };
    if (!rig->enter_state(alive)) {
      run.inconclusive(requirement, "the IUT did not reach the state the finding was made in: " +
                                        rig->probe_description(),
                       "state_not_reached");
      return;
    }
    Capture& capture = run.capture("driver");
    const std::uint64_t mark = capture.count();
    std::vector<const Sent*> batch;
    for (const Sent& s : *datagrams) batch.push_back(&s);
    rig->send(batch);
    std::this_thread::sleep_for(kSettle);
    // What the IUT sent after the datagrams, by its source address.
    const std::vector<std::string> sources = rig->iut_addresses();
    std::optional<WireViolation> broken;
    std::uint64_t broken_frame = 0;
    for (const CapturedFrame& f : capture.frames([](const CapturedFrame&) { return true; }, mark)) {
      const auto carrier = find_udp_carrier(capture.link_type(), f.data);
      if (!carrier || carrier->ipv6) continue;
      if (std::find(sources.begin(), sources.end(), to_string(carrier->source4)) == sources.end()) continue;
      IutDatagram d{carrier->source4, carrier->destination4, carrier->source_port, carrier->destination_port,
                    carrier->payload_truncated ? Bytes{} : carrier->payload};
      auto v = rig->check(d);
      if (v && carrier->payload_truncated && v->code == "payload_not_teredo") v.reset();
      if (v) {
        broken = std::move(v);
        broken_frame = f.number;
        break;
      }
    }
    std::vector<FrameRef> frames;
    if (broken_frame != 0) frames.push_back({"driver.pcap", broken_frame});
    run.check(requirement, "fuzz_invariant_broken", !broken,
              "nothing breaking the role's wire invariants after the datagrams",
              broken ? fmt::format("{} ({}{})", broken->detail, broken->code,
                                   broken->requirement.empty() ? "" : ", " + broken->requirement)
                     : "nothing the IUT sent broke an invariant",
              frames);
    bool live = rig->probe(alive);
    if (!live) {
      std::this_thread::sleep_for(kQuiet);
      live = rig->probe(alive);
    }
    run.check(requirement, "unresponsive_after_datagrams", live, "the liveness probe answered after the datagrams",
              live ? "answered" : "two probes failed, the second after a quiet pause: " + rig->probe_description());
  };
  return spec;
}

void register_regressions(const std::string& dir) {
  static std::once_flag once;
  std::exception_ptr error;
  std::call_once(once, [&] {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    try {
      for (const fs::path& f : files) {
        std::ifstream in(f);
        const json j = json::parse(in, nullptr, false);
        if (j.is_discarded()) throw std::runtime_error(f.string() + ": not JSON");
        case_registry().push_back(regression_case(j, f.string()));
      }
    } catch (...) {
      error = std::current_exception();
    }
  });
  if (error) std::rethrow_exception(error);
}

}  // namespace teredo::conformance::fuzz
