#include "interop/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "teredo/reports/json_schema.hpp"
#include "teredo/netns/topology.hpp"
#include "engine/data_dir.hpp"

namespace teredo::conformance::interop {

namespace fs = std::filesystem;
using schema::nearest_spelling;

const std::vector<Scenario>& offered_scenarios() {
  static const std::vector<Scenario> kScenarios = {
      {'Q', "qualification",
       "the client qualifies with the server through the NAT: its Teredo address embeds the server's prefix and "
       "the mapping the NAT gave its RS, as the server's origin indication reported it (or it stays unqualified "
       "when the mappings show a symmetric NAT)",
       {"R4380-5.2.1-01", "R4380-5.2.1-03", "R4380-5.2.1-05", "R4380-5.2.1-07", "R4380-5.3.1-05", "R4380-5.3.2-01",
        "R4380-5.3.2-02"}},
      {'N', "native reachability",
       "ping6 both ways between the client and the native IPv6 host through the relay, each hop traced in the "
       "captures",
       {"R4380-5.2.3-04", "R4380-5.2.3-05", "R4380-5.3.1-12", "R4380-5.3.1-15", "R4380-5.4.1-05", "R4380-5.4.1-08",
        "R4380-5.4.2-02", "R4380-5.4.2-04"}},
      {'D', "direct",
       "two clients, each behind a NAT of the cell's profile, ping6 each other: the marked packets cross straight "
       "from one NAT's outside to the other's, none through the server. Client A is the cell's client, client B the "
       "next client of the plan (the same implementation when the plan has one client)",
       {"R4380-5.2.3-04", "R4380-5.2.3-05", "R4380-5.2.3-10", "R4380-5.2.4-06", "R4380-5.3.1-15"}},
      {'L', "local discovery",
       "two clients of the cell's client implementation on one LAN behind one NAT that does not hairpin ping6 each "
       "other: the marked packets go from one client's LAN address to the other's, none through the NAT or the "
       "server. Not-applicable unless the client declares local_discovery",
       {"R4380-5.2.3-10", "R4380-5.2.3-12", "R4380-5.2.3-13", "R4380-5.2.4-04", "R4380-5.2.8-03"}},
      {'S', "secure qualification",
       "client and server share a secret (their secure launches): the RSs and RAs carry the authentication "
       "encapsulation for the client identifier with MACs that verify, and the client qualifies. Not-applicable "
       "unless both declare secure_qualification",
       {"R4380-5.2.2-01", "R4380-5.2.2-05", "R4380-5.3.2-10", "R4380-5.3.2-11", "R4380-5.3.2-12", "R4380-5.3.2-13",
        "R4380-5.2.1-07"}},
      {'R', "rebind",
       "after N the NAT remaps every mapping to a new port: the client's next refresh RS comes from the new mapping, "
       "the client takes the address the RA gives, and ping6 both ways through the relay works from it",
       {"R4380-5.2.5-02", "R4380-5.2.5-05", "R4380-5.2.5-06", "R4380-5.3.1-05", "R4380-5.4.2-04"}},
      {'H', "hairpin",
       "two clients of the cell's client implementation behind one hairpinning NAT (two subnets of its LAN, so "
       "local discovery stays out) ping6 each other through the hairpin, none through the server (RFC 6081's "
       "hairpinning extension, R6081-5.6-*, is implemented by neither client yet: RFC 4380's bubble procedure is "
       "judged)",
       {"R4380-5.2.3-07", "R4380-5.2.3-10", "R4380-5.2.3-18", "R4380-5.2.4-06", "R4380-5.3.1-15"}},
      {'E', "extension direct",
       "D again behind a symmetric NAT kind with the RFC 6081 extension made for it on (symmetric: §5.4 port-"
       "preserving; symmetric-sequential: §5.5 sequential port; a symmetric profile with +upnp: §5.3 UPnP) in each "
       "client that declares it, and the server's trailers launch; judged as D against RFC 6081 Figure 1's promise "
       "(no promised path: an inconclusive is not-applicable). Not-applicable behind other NATs, without a server "
       "declaring rfc6081_trailers, or when neither client declares the extension",
       {"R6081-4-01", "R6081-5.2-01", "R6081-5.2.4.1-01", "R6081-5.3.3-02", "R6081-5.4.4.3-02", "R6081-5.5.4.1.1-01",
        "R4380-5.2.4-06"}},
  };
  return kScenarios;
}

const Scenario& scenario(char letter) {
  for (const Scenario& s : offered_scenarios()) {
    if (s.letter == letter) return s;
  }
  std::string offered;
  for (const Scenario& s : offered_scenarios()) offered += s.letter;
  throw PlanError(fmt::format("scenario '{}' is not offered (this version offers {})", letter, offered));
}

std::string Cell::id() const { return fmt::format("{}--{}--{}--{}", nat, client, server, relay); }

const Adapter& Plan::adapter(const std::string& role, const std::string& name) const {
  const std::vector<Adapter>& list = role == "client" ? clients : role == "server" ? servers : relays;
  for (const Adapter& a : list) {
    if (a.name == name) return a;
  }
  throw PlanError(fmt::format("no {} adapter named {} in the plan", role, name));
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> builtin_adapters_with_role(const std::string& role) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(adapters_dir())) {
    const fs::path& p = entry.path();
    if (p.extension() != ".json" || p.filename() == "adapter.schema.json") continue;
    const Adapter a = load_adapter(p.string());
    if (a.roles.count(role) != 0) names.push_back(p.stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

// A name a cell id and a folder can carry.
bool safe_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  }) && name.find("--") == std::string::npos;
}

std::vector<Adapter> load_role(const std::vector<std::string>& asked, const std::string& role) {
  const std::vector<std::string> names = asked.empty() ? builtin_adapters_with_role(role) : asked;
  if (names.empty()) throw PlanError(fmt::format("no built-in adapter declares the {} role", role));
  std::vector<Adapter> out;
  std::set<std::string> seen;
  for (const std::string& n : names) {
    Adapter a;
    try {
      a = load_adapter(n);
    } catch (const AdapterError& e) {
      throw PlanError(fmt::format("--{} {}: {}", role, n, e.what()));
    }
    if (a.roles.count(role) == 0) {
      throw PlanError(fmt::format("--{} {}: adapter {} declares no {} role", role, n, a.name, role));
    }
    if (!safe_name(a.name)) {
      throw PlanError(fmt::format("--{} {}: adapter name '{}' must be letters, digits, '.', '_' or single '-'", role,
                                  n, a.name));
    }
    if (!seen.insert(a.name).second) throw PlanError(fmt::format("--{}: adapter {} given twice", role, a.name));
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

Plan make_plan(const PlanRequest& request) {
  Plan plan;
  const std::vector<std::string>& known = netns::nat_profiles();
  if (request.nat_profiles.empty()) {
    plan.nat_profiles = known;
  } else {
    // Each profile may also be asked for with a UPnP IGD in its NAT
    // ("<profile>+upnp", netns apply_nat_profile; not the kernel's NAT): the
    // default grid leaves those out, scenario E's §5.3 needs one.
    std::vector<std::string> askable;
    for (const std::string& p : known) {
      askable.push_back(p);
      if (p != "linux-masquerade") askable.push_back(p + "+upnp");
    }
    std::set<std::string> seen;
    for (const std::string& p : request.nat_profiles) {
      if (std::find(askable.begin(), askable.end(), p) == askable.end()) {
        const std::string near = nearest_spelling(p, known);
        throw PlanError(fmt::format("--nat: unknown NAT profile '{}'{}", p,
                                    near.empty() ? fmt::format(" (known: {})", fmt::join(known, ", "))
                                                 : fmt::format(" (did you mean {}?)", near)));
      }
      if (!seen.insert(p).second) throw PlanError(fmt::format("--nat: profile {} given twice", p));
    }
    // nat_profiles() order (each +upnp after its profile), whatever order
    // they were given in.
    for (const std::string& p : askable) {
      if (seen.count(p) != 0) plan.nat_profiles.push_back(p);
    }
  }
  std::set<char> letters;
  for (const char c : request.letters) {
    if (c == ',' || c == ' ') continue;
    scenario(c);  // throws for a letter not offered
    letters.insert(c);
  }
  for (const Scenario& s : offered_scenarios()) {
    if (request.letters.empty() || letters.count(s.letter) != 0) plan.letters += s.letter;
  }
  plan.clients = load_role(request.clients, "client");
  plan.servers = load_role(request.servers, "server");
  plan.relays = load_role(request.relays, "relay");
  for (const std::string& nat : plan.nat_profiles) {
    for (const Adapter& c : plan.clients) {
      for (const Adapter& s : plan.servers) {
        for (const Adapter& r : plan.relays) plan.cells.push_back(Cell{nat, c.name, s.name, r.name});
      }
    }
  }
  return plan;
}

std::string describe_plan(const Plan& plan) {
  const auto names = [](const std::vector<Adapter>& list) {
    std::vector<std::string> out;
    for (const Adapter& a : list) out.push_back(a.name);
    return fmt::format("{}", fmt::join(out, ", "));
  };
  std::string scenarios;
  for (const char c : plan.letters) {
    scenarios += fmt::format("{}{} ({})", scenarios.empty() ? "" : ", ", c, scenario(c).name);
  }
  std::string out = fmt::format(
      "interop plan: {} cells x {} scenarios\n  clients:  {}\n  servers:  {}\n  relays:   {}\n  NAT:      {}\n"
      "  scenarios: {}\n",
      plan.cells.size(), plan.letters.size(), names(plan.clients), names(plan.servers), names(plan.relays),
      fmt::join(plan.nat_profiles, ", "), scenarios);
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    const Cell& c = plan.cells[i];
    out += fmt::format("  [{}/{}] NAT {} client {} server {} relay {}\n", i + 1, plan.cells.size(), c.nat, c.client,
                       c.server, c.relay);
  }
  return out;
}

}  // namespace teredo::conformance::interop
