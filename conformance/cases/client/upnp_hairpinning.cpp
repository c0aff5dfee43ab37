// RFC 6081 §5.6.3, the Hairpinning Extension's UPnP part, and
// R6081-5.6.4.1-03: the client maps its Local Port on the NAT's UPnP IGD
// before qualifying (with §5.3.3's parameters), keeps that mapping as its
// UPnP Mapped Address/Port, compares it with the server's after
// qualification (zeroed when they are the same: a single NAT) and, when it
// is still non-zero, lists it in the Alternate Address Trailer of its
// indirect bubbles. These cases need one launch with both extensions: the
// capabilities upnp_symmetric_nat and hairpinning, which select the
// adapter's "upnp_hairpinning" launch (engine/iut_adapter.hpp
// kLaunchVariants); an adapter declaring only one of them is not-applicable.
//
// The lab has a single NAT, with a UPnP IGD (profile
// "port-restricted-cone+upnp"). The "same" outcome is that NAT as it is.
// The "different" outcome is a nested NAT: the Teredo server, which the
// driver plays, reports the mapping an outer NAT in front of the lab's
// would have given (198.51.100.66:47000) instead of the one it sees. To the
// IUT the two are the same thing, a server reporting a mapping other than
// its IGD's: it learns the mapping only from the RA's origin indication.
//
// Also here, RFC 6081 §5.3.3's first step and §5.3.1's persisted port: the
// IUT is stopped without its shutdown (SIGKILL to the process the engine
// started) and started again with the same run directory; the new instance
// must delete the mapping the old one left before it qualifies.
//
// Verdicts by content: the IGD's record of the SOAP calls (upnp_igd.hpp),
// the Alternate Address Trailer's entries, and the order of the SOAP request
// and the first RS in the one lan capture.
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "cases/client/client_driver.hpp"
#include "cases/client/extension_trailers.hpp"
#include "cases/client/upnp_igd.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;
using upnp::call_text;
using upnp::first_call;
using upnp::IgdCall;
using upnp::iut_calls;

constexpr const char* kProfile = "port-restricted-cone+upnp";
// The mapping the played server reports for a nested NAT: an outer NAT's
// address and port, neither the lab NAT's outside address nor any port it
// forwards.
constexpr const char* kOuterNat = "198.51.100.66";
constexpr std::uint16_t kOuterPort = 47000;

// The entries of an Alternate Address Trailer value (2 reserved bytes, then
// 6 bytes each: IPv4 address, port).
std::vector<Endpoint> alternate_entries(const trailers::Trailer& t) {
  std::vector<Endpoint> entries;
  const ByteVector& v = t.value;
  for (std::size_t i = 2; i + 6 <= v.size(); i += 6) {
    entries.push_back({Ipv4Address{(std::uint32_t{v[i]} << 24) | (std::uint32_t{v[i + 1]} << 16) |
                                   (std::uint32_t{v[i + 2]} << 8) | v[i + 3]},
                       static_cast<std::uint16_t>((v[i + 4] << 8) | v[i + 5])});
  }
  return entries;
}

std::string entries_text(const std::vector<Endpoint>& entries) {
  std::string s;
  for (const auto& e : entries) s += (s.empty() ? "" : ", ") + to_text(e);
  return s.empty() ? "no entry" : s;
}

// What the IUT did before and after qualifying, as one case reads it.
struct Observed {
  std::optional<Ipv6Address> address{};
  std::optional<Seen> rs{};  // its first RS on the LAN: the Local Port
  std::vector<IgdCall> calls{};
  const IgdCall* add = nullptr;
  const IgdCall* external = nullptr;
  std::optional<Endpoint> server_mapping{};  // what the played server reported
  std::optional<Seen> indirect{};            // the indirect bubble for a new peer
  std::optional<trailers::Trailer> alternate{};
  std::string story{};
};

// R6081-5.6.3-01: qualification with the IGD; the AddPortMapping judged.
// Returns false (every requirement recorded inconclusive) when the case
// cannot go on.
bool qualify_with_igd(CaseRun& run, PlayedServer& server, const std::vector<std::string>& reqs, Observed& o) {
  o.address = qualify(run, server, reqs);
  if (!o.address) return false;
  o.rs = upnp::first_rs(run);
  if (!o.rs) {
    for (const auto& r : reqs) {
      run.inconclusive(r, "the IUT qualified but its RS is not in the lan capture: its Local Port is unknown",
                       "rs_not_captured");
    }
    return false;
  }
  const std::uint16_t local_port = o.rs->carrier.source_port;
  o.calls = iut_calls(run);
  o.add = first_call(o.calls, "AddPortMapping");
  o.external = o.add != nullptr ? first_call(o.calls, "GetExternalIPAddress", o.add->index) : nullptr;
  const auto rs = server.seen();
  if (!rs.empty()) o.server_mapping = rs.back().plan.origin.value_or(rs.back().from);
  o.story = fmt::format("the IUT qualified as {} (first RS {} from Local Port {}; the played server reported the "
                        "mapping {})",
                        to_string(*o.address), describe(*o.rs), local_port,
                        o.server_mapping ? to_text(*o.server_mapping) : std::string("?"));
  // R6081-5.6.3-01: "Prior to beginning the qualification procedure, the
  // Teredo client MUST invoke the AddPortMapping function (as specified in
  // Section 2.4.16 of [UPNPWANIP]) with the parameters specified in Section
  // 5.3.3."
  if (o.add == nullptr) {
    run.check("R6081-5.6.3-01", "add_port_mapping_missing", false,
              "an AddPortMapping call to the NAT's IGD before qualification",
              o.story + fmt::format("; the IGD received no AddPortMapping from {} ({} call(s) of it in all)",
                                    kClientLan, o.calls.size()),
              lan_frames({o.rs->frame}));
    for (const auto& r : reqs) {
      if (r == "R6081-5.6.3-01") continue;
      run.inconclusive(r, "no AddPortMapping: the IUT holds no UPnP mapping to store, compare or advertise",
                       "add_port_mapping_missing");
    }
    return false;
  }
  const std::vector<std::string> wrong = upnp::add_port_mapping_problems(*o.add, local_port);
  run.check("R6081-5.6.3-01", "add_port_mapping_parameters", wrong.empty(),
            upnp::add_port_mapping_expected(local_port),
            o.story + "; " + call_text(*o.add) + (wrong.empty() ? "" : "; wrong: " + fmt::format("{}", fmt::join(wrong, "; "))),
            lan_frames({o.rs->frame}));
  o.story += "; " + call_text(*o.add) + "; " +
             (o.external != nullptr ? call_text(*o.external) : std::string("no GetExternalIPAddress"));
  if (o.add->error != 0 || o.external == nullptr || o.external->error != 0) {
    for (const auto& r : reqs) {
      if (r == "R6081-5.6.3-01") continue;
      run.inconclusive(r, o.story + ": no UPnP mapping completed (AddPortMapping and GetExternalIPAddress), so "
                                    "none to store, compare or advertise",
                       "no_upnp_mapping");
    }
    return false;
  }
  return true;
}

// The application sends to a Teredo peer the IUT has no communication with;
// the indirect bubble to the peer's server is read.
bool read_indirect_bubble(CaseRun& run, const std::vector<std::string>& reqs, Observed& o) {
  const Timers t = timers(run);
  App app(run);
  const Peer p = make_peer(run, kPeerA, 41701);
  (void)run.udp_socket("server", kPeerServer, kTeredoPort);
  Capture& lan_capture = run.capture("lan");
  const std::uint64_t before = lan_mark(run);
  std::string error;
  if (!app.send(p.teredo, kit::bytes_of(marker("upnp-hairpin", 1).c_str()), &error)) {
    for (const auto& r : reqs) run.inconclusive(r, "the application could not send: " + error, "application_send_refused");
    return false;
  }
  const FrameMatch bubble = iut_bubble_for(lan_capture, p.teredo);
  o.indirect = wait_seen(run, [&](const CapturedFrame& f) {
    const auto s = parse_seen(f, lan_capture.link_type());
    return bubble(f) && s && to_endpoint(*s, kPeerServer, kTeredoPort);
  }, t.bubble + 1500ms, before);
  if (!o.indirect) {
    for (const auto& r : reqs) {
      run.inconclusive(r, o.story + fmt::format("; the application's packet to the Teredo peer {} produced no "
                                                "indirect bubble to {}:3544 within {}: no trailer to read",
                                                to_string(p.teredo), kPeerServer, ms_text(t.bubble + 1500ms)),
                       "no_indirect_bubble");
    }
    return false;
  }
  o.alternate = trailers::find(*o.indirect, trailers::kAlternateAddress);
  o.story += fmt::format("; the indirect bubble {} with trailers {}", describe(*o.indirect),
                         trailers::text(trailers::read(*o.indirect)));
  const Endpoint local{kit::ipv4(kClientLan), o.indirect->carrier.source_port};
  const auto entries = o.alternate ? alternate_entries(*o.alternate) : std::vector<Endpoint>{};
  if (!o.alternate || std::find(entries.begin(), entries.end(), local) == entries.end()) {
    // The trailer itself (R6081-5.6.4.1-01/02) is client.hairpinning.indirect-bubble's.
    for (const auto& r : reqs) {
      if (r == "R6081-5.6.3-01") continue;
      run.inconclusive(r, o.story + fmt::format(": no Alternate Address Trailer listing the local address/port {} "
                                                "(client.hairpinning.indirect-bubble judges that): what else it "
                                                "lists says nothing about the UPnP mapping",
                                                to_text(local)),
                       "no_alternate_address_trailer");
    }
    return false;
  }
  return true;
}

// The UPnP mapping the IGD assigned: its external address (the lab NAT's
// outside address, which is what GetExternalIPAddress returns) and the
// NewExternalPort of the successful AddPortMapping.
std::optional<Endpoint> upnp_mapping(const Observed& o) {
  const auto port = o.add->value("NewExternalPort");
  if (!port || port->empty() || port->size() > 5 || !std::all_of(port->begin(), port->end(), ::isdigit)) return std::nullopt;
  const unsigned long n = std::stoul(*port);
  if (n == 0 || n > 65535) return std::nullopt;
  return Endpoint{kit::ipv4(kNatOutside), static_cast<std::uint16_t>(n)};
}

// ---------------------------------------------------------------------------

void single_nat(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R6081-5.6.3-01", "R6081-5.6.3-03", "R6081-5.6.3-04"};
  Observed o;
  if (!qualify_with_igd(run, server, reqs, o)) return;
  const auto mapped = upnp_mapping(o);
  // The single NAT: the server saw (and reported) the IGD's own mapping.
  if (!mapped || !o.server_mapping || *o.server_mapping != *mapped) {
    for (const auto& r : {"R6081-5.6.3-03", "R6081-5.6.3-04"}) {
      run.inconclusive(r, o.story + fmt::format(": the server's mapping is not the UPnP one ({}): not the "
                                                "single-NAT situation the case needs",
                                                mapped ? to_text(*mapped) : std::string("no valid port")),
                       "not_single_nat");
    }
    return;
  }
  if (!read_indirect_bubble(run, {"R6081-5.6.3-03", "R6081-5.6.3-04"}, o)) return;
  const auto entries = alternate_entries(*o.alternate);
  const bool listed = std::find(entries.begin(), entries.end(), *mapped) != entries.end();
  const std::string observed = o.story + "; entries " + entries_text(entries);
  const std::vector<FrameRef> frames = lan_frames({o.rs->frame, o.indirect->frame});
  // R6081-5.6.3-04: "If both are the same, the Teredo client is positioned
  // behind a single NAT and the UPnP Mapped Address/Port MUST be zeroed
  // out." Zeroed, it is not in the trailer (R6081-5.6.4.1-03 lists it only
  // when non-zero).
  run.check("R6081-5.6.3-04", "upnp_mapping_not_zeroed", !listed,
            fmt::format("the UPnP mapping {} (the same as the server's) zeroed out: not in the Alternate Address "
                        "Trailer, which lists the local address/port only",
                        to_text(*mapped)),
            observed, frames);
  // R6081-5.6.3-03: "After the qualification procedure, the mapped
  // address/port learned from the Teredo server MUST be compared to the UPnP
  // Mapped Address/Port." Here equal, so zeroed (client.upnp-hairpinning.
  // nested-nat shows the other outcome).
  run.check("R6081-5.6.3-03", "upnp_mapping_not_compared", !listed,
            "the server's mapping compared with the UPnP one after qualification: equal, so the UPnP one is gone "
            "from what the IUT advertises",
            observed, frames);
}

void nested_nat(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R6081-5.6.3-01", "R6081-5.6.3-02", "R6081-5.6.3-03", "R6081-5.6.4.1-03"};
  Observed o;
  if (!qualify_with_igd(run, server, reqs, o)) return;
  const auto mapped = upnp_mapping(o);
  const Endpoint outer{kit::ipv4(kOuterNat), kOuterPort};
  if (!mapped || !o.server_mapping || *o.server_mapping != outer) {
    for (const auto& r : {"R6081-5.6.3-02", "R6081-5.6.3-03", "R6081-5.6.4.1-03"}) {
      run.inconclusive(r, o.story + fmt::format(": the played server's mapping is not {} or the UPnP one has no "
                                                "valid port: not the nested-NAT situation the case needs",
                                                to_text(outer)),
                       "not_nested_nat");
    }
    return;
  }
  if (!read_indirect_bubble(run, {"R6081-5.6.3-02", "R6081-5.6.3-03", "R6081-5.6.4.1-03"}, o)) return;
  const auto entries = alternate_entries(*o.alternate);
  const bool listed = std::find(entries.begin(), entries.end(), *mapped) != entries.end();
  const std::string observed = o.story + "; entries " + entries_text(entries);
  const std::vector<FrameRef> frames = lan_frames({o.rs->frame, o.indirect->frame});
  const std::string expected =
      fmt::format("the Alternate Address Trailer lists the UPnP mapping {} (the IGD's external address and the "
                  "mapped port) besides the local address/port",
                  to_text(*mapped));
  // R6081-5.6.4.1-03: "If the UPnP Mapped Address/Port is non-zero, the
  // Alternate Address Trailer MUST also include it in the list."
  run.check("R6081-5.6.4.1-03", "upnp_mapping_not_advertised", listed, expected, observed, frames);
  // R6081-5.6.3-02: "If the AddPortMapping function is successful, the Teredo
  // client MUST store the mapping assigned by the NAT in its UPnP Mapped
  // Address/Port state": the stored value is the one advertised.
  run.check("R6081-5.6.3-02", "upnp_mapping_not_stored", listed, expected, observed, frames);
  // R6081-5.6.3-03: the comparison after qualification: the server's mapping
  // differs, so the UPnP one stays (not zeroed).
  run.check("R6081-5.6.3-03", "upnp_mapping_not_compared", listed,
            fmt::format("the server's mapping {} compared with the UPnP one: different (nested NATs), so the UPnP "
                        "one kept and advertised",
                        to_text(outer)),
            observed, frames);
}

void open_outer_nat_server(CaseRun& run) {
  open_played_server(run);
  // Both server addresses report the outer NAT's mapping (a cone outer NAT:
  // the same from either address).
  played_server(run).set_default(RaPlan{.origin = Endpoint{kit::ipv4(kOuterNat), kOuterPort}});
}

// ---------------------------------------------------------------------------
// §5.3.1 / §5.3.3: the persisted port after an unclean stop.

// A SOAP request on the LAN naming `action` in its SOAPAction header
// ("urn:schemas-upnp-org:service:WANIPConnection:1#<action>"; only a UPnP
// client on the LAN, the IUT, sends one): the place of the call among the
// IUT's datagrams in the same capture, by content.
FrameMatch soap_request(const std::string& action) {
  return [needle = "#" + action](const CapturedFrame& f) {
    const auto& d = f.data;
    return std::search(d.begin(), d.end(), needle.begin(), needle.end()) != d.end();
  };
}

void persisted_port(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R6081-5.3.1-01", "R6081-5.3.3-01"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto before_crash = iut_calls(run);
  const IgdCall* add = first_call(before_crash, "AddPortMapping");
  if (add == nullptr || add->error != 0 || !add->value("NewExternalPort")) {
    for (const auto& r : reqs) {
      run.inconclusive(r, add == nullptr ? "the IUT made no AddPortMapping call: it holds no mapping to persist"
                                         : "the IUT's AddPortMapping failed: it holds no mapping to persist",
                       "no_upnp_mapping");
    }
    return;
  }
  const std::string old_port = *add->value("NewExternalPort");
  const std::size_t last = before_crash.back().index;
  // Everything the old instance sent is numbered before this mark, even a
  // frame the capture had not numbered yet (a late RS of its qualification
  // taken for the new instance's first would fail an innocent IUT).
  const std::uint64_t mark = lan_barrier(run);
  // Stopped as a crash or a power loss would (no shutdown: the mapping stays
  // in the IGD), started again with the same run directory.
  run.crash_restart_iut();
  const std::vector<IgdCall> calls = upnp::calls_once_added_again(run, last);
  const IgdCall* again = first_call(calls, "AddPortMapping", last);
  const IgdCall* removal = upnp::removal_before(calls, last, again);
  // The new instance's first RS (the old one is gone: nothing after the mark
  // is its), and the DeletePortMapping request in the same capture.
  const Timers t = timers(run);
  const auto new_address = wait_address(run, 3 * t.retry + 3000ms);
  const auto rs = upnp::first_rs(run, mark);
  const auto delete_requests = run.capture("lan").frames(soap_request("DeletePortMapping"), mark);
  const std::uint64_t delete_frame = delete_requests.empty() ? 0 : delete_requests.front().number;
  const std::string story = fmt::format(
      "the IUT held the mapping of {}; stopped with SIGKILL and started again with the same run directory; {}; {}; "
      "the new instance's first RS: {}{}",
      call_text(*add), removal != nullptr ? call_text(*removal) : std::string("no DeletePortMapping from it since"),
      again != nullptr ? "the new instance's " + call_text(*again)
                       : std::string("no AddPortMapping of a new instance within 10 s"),
      rs ? describe(*rs) : std::string("none"),
      delete_frame != 0 ? fmt::format("; the DeletePortMapping request in lan frame {}", delete_frame) : "");
  if (removal == nullptr && again == nullptr && !rs) {
    for (const auto& r : reqs) {
      run.inconclusive(r, story + ": the new instance was not seen doing anything: its initialization is not "
                                  "observable",
                       "restart_not_observed");
    }
    return;
  }
  const bool names_old = removal != nullptr && removal->value("NewExternalPort") == old_port &&
                         removal->value("NewRemoteHost") == std::string() &&
                         removal->value("NewProtocol") == std::string("UDP");
  // R6081-5.3.1-01: "A Teredo client SHOULD also maintain the following state
  // that is persisted across reboots: Persisted UPnP-Mapped Port". Only a
  // persisted port tells the new instance which mapping the old one left.
  run.check(reqs[0], "upnp_port_not_persisted", names_old,
            fmt::format("the new instance deletes the old instance's mapping, port {} (it kept the port across the "
                        "restart)",
                        old_port),
            story, lan_frames({rs ? rs->frame : 0, delete_frame}));
  if (!names_old) {
    run.inconclusive(reqs[1], story + ": no DeletePortMapping of the old port: the IUT shows no Persisted "
                                      "UPnP-Mapped Port (\"if ... supported\")",
                     "persisted_port_not_supported");
    return;
  }
  // R6081-5.3.3-01: "Prior to beginning the qualification procedure, the
  // Teredo client MUST first perform the uninitialization procedure
  // specified in Section 5.3.5.1 if the Persisted UPnP-Mapped Port is
  // supported and non-zero": before the new AddPortMapping (the IGD's
  // order) and before the new instance's first RS (the capture's order).
  if (!rs && !new_address) {
    run.inconclusive(reqs[1], story + ": no RS of the new instance to place the call against", "no_new_rs");
    return;
  }
  if (rs && delete_frame == 0) {
    run.inconclusive(reqs[1], story + ": the DeletePortMapping request is not in the lan capture: its place "
                                      "relative to the RS is unknown",
                     "soap_request_not_captured");
    return;
  }
  const bool before_add = again == nullptr || removal->index < again->index;
  const bool before_rs = !rs || delete_frame < rs->frame;
  run.check(reqs[1], "persisted_mapping_not_deleted_first", before_add && before_rs,
            fmt::format("DeletePortMapping(NewRemoteHost=\"\", NewExternalPort={}, NewProtocol=UDP) before the new "
                        "AddPortMapping and before the new instance's first RS",
                        old_port),
            story, lan_frames({delete_frame, rs ? rs->frame : 0}));
}

}  // namespace

TEREDO_CASE({
    .id = "client.upnp-hairpinning.single-nat",
    .title = "Hairpinning with UPnP behind a single NAT: AddPortMapping before qualification; the UPnP mapping, "
             "the same as the server's, zeroed and not advertised",
    .description = "NAT profile port-restricted-cone+upnp (one NAT, with a UPnP IGD). The IUT starts with its "
                   "upnp_hairpinning launch; the played server answers every RS with the mapping it sees, which "
                   "is the IGD's forward of the Local Port. After qualification the IGD's record of the IUT's "
                   "SOAP calls is read, then the application sends to a Teredo peer (198.51.100.7, server "
                   "203.0.113.3) and the IUT's indirect bubble's Alternate Address Trailer is read.",
    .judgement = "An AddPortMapping with §5.3.3's parameters (\"\", the Local Port twice, UDP, 192.0.2.10, 1, "
                 "\"TEREDO\", 0) before any UDP packet of the IUT left through the NAT; the trailer does not list "
                 "the UPnP mapping 198.51.100.1:<Local Port> (zeroed as equal to the server's).",
    .role = "client",
    .requirements = {"R6081-5.6.3-01", "R6081-5.6.3-03", "R6081-5.6.3-04"},
    .capabilities = {upnp::kCapability, "hairpinning"},
    .topology = kTopology,
    .nat_profile = std::string(kProfile),
    .captures = client_captures(),
    .body = single_nat,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.upnp-hairpinning.nested-nat",
    .title = "Hairpinning with UPnP behind nested NATs: the UPnP mapping, other than the server's, is kept and "
             "listed in the indirect bubble's Alternate Address Trailer",
    .description = "NAT profile port-restricted-cone+upnp. The IUT starts with its upnp_hairpinning launch; the "
                   "played server (both addresses) reports the mapping 198.51.100.66:47000, as a server behind an "
                   "outer NAT in front of the lab's would see it, so the UPnP mapping (198.51.100.1:<Local Port>) "
                   "differs from the server's. After qualification the application sends to a Teredo peer "
                   "(198.51.100.7, server 203.0.113.3) and the IUT's indirect bubble is read.",
    .judgement = "An AddPortMapping with §5.3.3's parameters before qualification; the Alternate Address Trailer "
                 "lists 198.51.100.1:<the mapped port> besides the local address/port.",
    .role = "client",
    .requirements = {"R6081-5.6.3-01", "R6081-5.6.3-02", "R6081-5.6.3-03", "R6081-5.6.4.1-03"},
    .capabilities = {upnp::kCapability, "hairpinning"},
    .topology = kTopology,
    .nat_profile = std::string(kProfile),
    .captures = client_captures(),
    .body = nested_nat,
    .before_iut = open_outer_nat_server,
});

TEREDO_CASE({
    .id = "client.upnp.persisted-port-after-crash",
    .title = "UPnP: after a stop without shutdown, the new instance deletes the persisted mapping before it "
             "qualifies",
    .description = "NAT profile symmetric+upnp. After qualification (the IUT's AddPortMapping succeeded), the "
                   "process the engine started is killed with SIGKILL (no shutdown, so the mapping stays in the "
                   "IGD) and the IUT is started again with the same run directory. The IGD's record is read until "
                   "the new instance's AddPortMapping, and the lan capture for the new instance's first RS and "
                   "its DeletePortMapping request.",
    .judgement = "A DeletePortMapping with NewRemoteHost \"\", NewExternalPort the old instance's mapped port, "
                 "NewProtocol UDP (SHOULD: the port persisted), made before the new AddPortMapping and before the "
                 "new instance's first RS (MUST).",
    .role = "client",
    .requirements = {"R6081-5.3.1-01", "R6081-5.3.3-01"},
    .capabilities = {upnp::kCapability},
    .topology = kTopology,
    .nat_profile = std::string("symmetric+upnp"),
    .captures = client_captures(),
    .body = persisted_port,
    .before_iut = open_played_server,
});

}  // namespace teredo::conformance::client
