// RFC 6081 §5.3, the UPnP-enabled Symmetric NAT Extension, on the client:
// the UPnP calls before qualification (§5.3.3), the one at shutdown
// (§5.3.5), and where data and direct bubbles go to a peer behind a
// symmetric NAT (§5.3.4). The NAT is the lab's with a UPnP IGD (profile
// "<profile>+upnp": SSDP and SOAP WANIPConnection:1 in teredo-nat, whose
// port mappings are entries of the NAT's own table), read through
// upnp_igd.hpp: the calls are judged from its record, by content.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <thread>

#include "cases/client/client_driver.hpp"
#include "cases/client/upnp_igd.hpp"

namespace teredo::conformance::client {
namespace {

using namespace teredo::wire;
using namespace std::chrono_literals;

using upnp::call_text;
using upnp::first_call;
using upnp::first_rs;
using upnp::IgdCall;
using upnp::iut_calls;

constexpr const char* kUpnpCapability = upnp::kCapability;

void before_iut_refusing(CaseRun& run, const std::string& action) {
  open_played_server(run);
  // The IGD fails the action with 501 (Action Failed) from now on.
  (void)run.lab().nat_command("nat", "upnp-refuse " + action + " 501");
}

// ---------------------------------------------------------------------------

void initialization(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R6081-5.3.3-02", "R6081-5.3.3-04", "R6081-5.3.3-06"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto rs = first_rs(run);
  if (!rs) {
    for (const auto& r : reqs) {
      run.inconclusive(r, "the IUT qualified but its RS is not in the lan capture: its Local Port is unknown",
                       "rs_not_captured");
    }
    return;
  }
  const std::uint16_t local_port = rs->carrier.source_port;
  const std::vector<IgdCall> calls = iut_calls(run);
  const IgdCall* add = first_call(calls, "AddPortMapping");
  const std::string qualified =
      fmt::format("the IUT qualified as {} (first RS {} from Local Port {})", to_string(*address), describe(*rs),
                  local_port);
  // R6081-5.3.3-02: "The Teredo client MUST then invoke the AddPortMapping
  // function ... with the following parameters: NewRemoteHost: "" (empty
  // string), NewExternalPort: Local Port value, NewProtocol: UDP,
  // NewInternalPort: Local Port value, NewInternalClient: Local Address
  // value, NewEnabled: TRUE, NewPortMappingDescription: "TEREDO",
  // NewLeaseDuration: 0". Prior to beginning qualification (§5.3.3): the
  // call must come before any UDP packet of the IUT left through the NAT.
  if (add == nullptr) {
    run.check(reqs[0], "add_port_mapping_missing", false,
              "an AddPortMapping call to the NAT's IGD before qualification",
              qualified + fmt::format("; the IGD received no AddPortMapping from {} ({} call(s) of it in all)",
                                      kClientLan, calls.size()),
              lan_frames({rs->frame}));
    run.inconclusive(reqs[1], "no AddPortMapping: nothing to proceed from", "add_port_mapping_missing");
    run.inconclusive(reqs[2], "no AddPortMapping: GetExternalIPAddress follows a successful one",
                     "add_port_mapping_missing");
    return;
  }
  const std::vector<std::string> wrong = upnp::add_port_mapping_problems(*add, local_port);
  run.check(reqs[0], "add_port_mapping_parameters", wrong.empty(),
            upnp::add_port_mapping_expected(local_port),
            qualified + "; " + call_text(*add) + (wrong.empty() ? "" : "; wrong: " + fmt::format("{}", fmt::join(wrong, "; "))),
            lan_frames({rs->frame}));
  if (add->error != 0) {
    run.inconclusive(reqs[1], fmt::format("the IGD refused the AddPortMapping (UPnP error {}): the case needs a "
                                          "successful one",
                                          add->error),
                     "add_port_mapping_refused");
    run.inconclusive(reqs[2], "the AddPortMapping failed: GetExternalIPAddress follows a successful one",
                     "add_port_mapping_refused");
    return;
  }
  // R6081-5.3.3-04: "Otherwise, it MUST proceed as follows"; R6081-5.3.3-06:
  // "The Teredo client MUST then call the GetExternalIPAddress function".
  // Initialization precedes qualification: by the time the IUT has
  // qualified, the call is made or never will be.
  const IgdCall* external = first_call(calls, "GetExternalIPAddress", add->index);
  const std::string observed =
      qualified + "; " + call_text(*add) + "; " +
      (external != nullptr ? call_text(*external) : std::string("no GetExternalIPAddress after it"));
  run.check(reqs[2], "get_external_ip_address_missing", external != nullptr,
            "a GetExternalIPAddress call after the successful AddPortMapping, before the IUT qualified", observed,
            lan_frames({rs->frame}));
  run.check(reqs[1], "did_not_proceed_after_add", external != nullptr,
            "after a successful AddPortMapping, §5.3.3's next steps (GetExternalIPAddress)", observed,
            lan_frames({rs->frame}));
  if (external != nullptr && external->outbound_before != 0) {
    run.info(fmt::format("GetExternalIPAddress came after {} UDP packet(s) of the IUT (during qualification)",
                         external->outbound_before));
  }
}

void shutdown(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::vector<std::string> reqs = {"R6081-5.3.5-01", "R6081-5.3.5.1-01", "R6081-5.3.3-05"};
  const auto address = qualify(run, server, reqs);
  if (!address) return;
  const auto before_restart = iut_calls(run);
  const IgdCall* add = first_call(before_restart, "AddPortMapping");
  if (add == nullptr || add->error != 0) {
    for (const auto& r : reqs) {
      run.inconclusive(r, add == nullptr ? "the IUT made no AddPortMapping call: it holds no mapping to delete"
                                         : fmt::format("the IUT's AddPortMapping failed (UPnP error {}): it holds "
                                                       "no mapping to delete",
                                                       add->error),
                       "no_upnp_mapping");
    }
    return;
  }
  const std::string mapped_port = add->arguments.count("NewExternalPort") ? add->arguments.at("NewExternalPort") : "";
  std::size_t last = before_restart.empty() ? 0 : before_restart.back().index;
  // The IUT is stopped (its adapter's stop signal) and started again; the new
  // instance's own AddPortMapping shows the old one's shutdown is over.
  run.restart_iut();
  const std::vector<IgdCall> calls = upnp::calls_once_added_again(run, last);
  const IgdCall* again = first_call(calls, "AddPortMapping", last);
  const IgdCall* removal = upnp::removal_before(calls, last, again);
  const std::string story = fmt::format(
      "the IUT held the mapping of {}; stopped and started again; {}; {}", call_text(*add),
      removal != nullptr ? call_text(*removal) : std::string("no DeletePortMapping from it since"),
      again != nullptr ? "the new instance's " + call_text(*again) : std::string("no AddPortMapping of a new instance "
                                                                                "within 10 s"));
  if (removal == nullptr && again == nullptr) {
    for (const auto& r : reqs) {
      run.inconclusive(r, story + ": without the new instance's call nothing shows the shutdown is over",
                       "restart_not_observed");
    }
    return;
  }
  // R6081-5.3.5-01: "When Teredo client functionality is being shut down,
  // uninitialization MUST be performed as specified in Section 5.3.5.1."
  run.check(reqs[0], "no_uninitialization_at_shutdown", removal != nullptr,
            "a DeletePortMapping call when the IUT shut down, before its next instance's AddPortMapping", story);
  if (removal == nullptr) {
    run.inconclusive(reqs[1], "no DeletePortMapping to judge", "no_uninitialization_at_shutdown");
    run.inconclusive(reqs[2], "no DeletePortMapping naming the mapped port", "no_uninitialization_at_shutdown");
    return;
  }
  // R6081-5.3.5.1-01: "the Teredo client MUST call the DeletePortMapping
  // function ... with the following parameters: NewRemoteHost: "" (empty
  // string), NewExternalPort: the mapped port, NewProtocol: UDP".
  const auto value = [&](const char* name) {
    const auto it = removal->arguments.find(name);
    return it == removal->arguments.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
  };
  const bool parameters = value("NewRemoteHost") == std::string() && value("NewExternalPort") == mapped_port &&
                          value("NewProtocol") == std::string("UDP");
  run.check(reqs[1], "delete_port_mapping_parameters", parameters,
            fmt::format("DeletePortMapping(NewRemoteHost=\"\", NewExternalPort={}, NewProtocol=UDP)", mapped_port),
            story);
  // R6081-5.3.3-05: "The Teredo client MUST set the UPnP-Mapped Port (and
  // Persisted UPnP-Mapped Port, if supported) to the Local Port value
  // specified in AddPortMapping": the mapped port it deletes is that value.
  run.check(reqs[2], "mapped_port_not_local_port", value("NewExternalPort") == mapped_port,
            fmt::format("the mapped port the IUT deletes is the Local Port of its AddPortMapping, {}", mapped_port),
            story);
}

void add_refused(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const std::string req = "R6081-5.3.3-03";
  const Timers t = timers(run);
  const auto address = wait_address(run, 3 * t.retry + 3000ms);
  const auto calls = iut_calls(run);
  const IgdCall* add = first_call(calls, "AddPortMapping");
  if (add == nullptr) {
    run.inconclusive(req, "the IUT made no AddPortMapping call: the IGD had nothing to refuse", "no_add_port_mapping");
    return;
  }
  const auto rs = server.seen();
  // R6081-5.3.3-03: "If the AddPortMapping function fails, the Teredo client
  // MUST continue without using this extension."
  if (!address) {
    if (rs.empty()) {
      run.inconclusive(req, call_text(*add) + "; then no RS at all within the qualification time: silence proves "
                                            "nothing",
                       "no_rs_after_refusal");
    } else {
      run.check(req, "did_not_continue", false,
                "after the refused AddPortMapping, qualification as usual (the played server answers every RS)",
                call_text(*add) + fmt::format("; {} RS(s) answered, but no Teredo address configured", rs.size()));
    }
    return;
  }
  const IgdCall* later = nullptr;
  for (const auto& c : calls) {
    if (c.index > add->index && c.action != "DeletePortMapping") later = later == nullptr ? &c : later;
  }
  run.check(req, "used_upnp_after_failed_add", later == nullptr,
            "qualification without the extension: no further UPnP use (GetExternalIPAddress, AddPortMapping) after "
            "the refusal",
            call_text(*add) + fmt::format("; the IUT qualified as {}", to_string(*address)) +
                (later != nullptr ? "; then " + call_text(*later) : std::string()));
}

void external_refused(CaseRun& run) {
  PlayedServer& server = played_server(run);
  (void)server;
  const std::string req = "R6081-5.3.3-07";
  const Timers t = timers(run);
  const auto address = wait_address(run, 3 * t.retry + 3000ms);
  const auto calls = iut_calls(run);
  const IgdCall* add = first_call(calls, "AddPortMapping");
  const IgdCall* external = add != nullptr ? first_call(calls, "GetExternalIPAddress", add->index) : nullptr;
  if (add == nullptr || add->error != 0 || external == nullptr) {
    run.inconclusive(req, add == nullptr ? "no AddPortMapping from the IUT"
                          : add->error != 0 ? "its AddPortMapping failed (UPnP error " + std::to_string(add->error) + ")"
                                            : "no GetExternalIPAddress from the IUT: the IGD had nothing to refuse",
                     "no_refused_external_address");
    return;
  }
  if (!address) {
    run.inconclusive(req, call_text(*external) + "; the IUT did not qualify: the end of its initialization is not "
                                                "observable",
                     "iut_not_qualified");
    return;
  }
  const IgdCall* removal = first_call(calls, "DeletePortMapping", external->index);
  // R6081-5.3.3-07: "If the GetExternalIPAddress function fails, the Teredo
  // client SHOULD perform the uninitialization procedure specified in
  // Section 5.3.5.1 and continue without using this extension."
  const std::string port = add->arguments.count("NewExternalPort") ? add->arguments.at("NewExternalPort") : "";
  const bool ok = removal != nullptr && removal->arguments.count("NewExternalPort") &&
                  removal->arguments.at("NewExternalPort") == port;
  run.check(req, "mapping_kept_after_failed_external_address", ok,
            fmt::format("a DeletePortMapping of port {} after the failed GetExternalIPAddress, then qualification",
                        port),
            call_text(*add) + "; " + call_text(*external) + "; " +
                (removal != nullptr ? call_text(*removal) : std::string("no DeletePortMapping")) +
                fmt::format("; the IUT qualified as {}", to_string(*address)));
}

// The nonce of an RFC 6081 nonce trailer (type 0x01, length 4), if any.
std::optional<std::uint32_t> nonce_trailer(const Seen& s) {
  if (!s.datagram) return std::nullopt;
  const Bytes t = s.datagram->ipv6.trailer;
  for (std::size_t i = 0; i + 2 <= t.size();) {
    const std::size_t length = t[i + 1];
    if (i + 2 + length > t.size()) break;
    if (t[i] == 0x01 && length == 4) {
      return (std::uint32_t{t[i + 2]} << 24) | (std::uint32_t{t[i + 3]} << 16) | (std::uint32_t{t[i + 4]} << 8) |
             t[i + 5];
    }
    i += 2 + length;
  }
  return std::nullopt;
}

void symmetric_peer(CaseRun& run) {
  PlayedServer& server = played_server(run);
  const Timers t = timers(run);
  const std::vector<std::string> data_reqs = {"R6081-5.3.4.3-01"};
  const std::vector<std::string> flag_reqs = {"R6081-5.3.3-08", "R6081-5.3.3-09", "R6081-5.3.3-10",
                                              "R6081-5.3.3-11", "R6081-5.3.3-12", "R6081-5.3.3-13",
                                              "R6081-5.3.4.1-01", "R6081-5.3.4.1-02"};
  std::vector<std::string> all = data_reqs;
  all.insert(all.end(), flag_reqs.begin(), flag_reqs.end());
  all.push_back("R6081-5.3.4.2-01");
  const auto address = qualify(run, server, all);
  if (!address) return;
  const auto mapping = server.mapping();
  const auto calls = iut_calls(run);
  const IgdCall* add = first_call(calls, "AddPortMapping");
  const std::string setup = fmt::format(
      "the IUT's mapping {} (the NAT's UPnP forward: {}); the played secondary address answered with the "
      "mapping {}:3 (another than the primary's: the IUT is to conclude a symmetric NAT); the IUT qualified as {}",
      to_text(*mapping), add != nullptr ? call_text(*add) : std::string("no AddPortMapping"), kNatOutside,
      to_string(*address));
  if (add == nullptr || add->error != 0) {
    for (const auto& r : all) {
      run.inconclusive(r, setup + ": the IUT holds no UPnP mapping; nothing reaches it from an unknown mapping",
                       "no_upnp_mapping");
    }
    return;
  }
  // The peer: its Teredo address embeds E = 198.51.100.7:41001; its NAT
  // (symmetric) sends its bubbles toward the IUT from F = 198.51.100.7:41002.
  const Peer peer = make_peer(run, kPeerA, 41001);
  const Peer elsewhere = make_peer(run, kPeerA, 41002);
  const Endpoint embedded{kit::ipv4(kPeerA), 41001};
  const Endpoint other{kit::ipv4(kPeerA), 41002};
  App app(run);
  Capture& lan_capture = run.capture("lan");
  const std::string mark = fmt::format("upnp-data-{:x}", run.seed());
  const std::uint64_t before = lan_mark(run);
  std::string error;
  if (!app.send(peer.teredo, kit::bytes_of(mark.c_str()), &error)) {
    for (const auto& r : all) run.inconclusive(r, "the application could not send: " + error, "app_send_failed");
    return;
  }
  // The IUT's indirect bubble to the peer's server carries its nonce (§5.2.4.1).
  const FrameMatch bubble = iut_bubble_for(lan_capture, peer.teredo);
  const LinkType link = lan_capture.link_type();
  const Ipv4Address peer_server = kit::ipv4(kPeerServer);
  const auto indirect = wait_seen(
      run,
      [&](const CapturedFrame& f) {
        if (!bubble(f)) return false;
        const auto c = find_udp_carrier(link, f.data);
        return c && c->destination4 == peer_server;
      },
      t.bubble + 1500ms, before);
  const auto nonce = indirect ? nonce_trailer(*indirect) : std::nullopt;
  if (!nonce) {
    for (const auto& r : all) {
      run.inconclusive(r,
                       setup + (indirect ? "; its indirect bubble " + describe(*indirect) + " has no nonce trailer"
                                         : std::string("; no indirect bubble to the peer's server")) +
                           ": a direct bubble from another mapping than the peer's address embeds cannot be "
                           "accepted (RFC 6081 §5.2.4.4)",
                       "no_indirect_bubble_nonce");
    }
    return;
  }
  // The peer's direct bubble, from F, with that nonce, to the IUT's mapping
  // (the UPnP forward lets it in).
  ByteVector reply = kit::bubble_packet(peer.teredo, *address);
  const ByteVector trailer{0x01, 0x04, static_cast<std::uint8_t>(*nonce >> 24), static_cast<std::uint8_t>(*nonce >> 16),
                           static_cast<std::uint8_t>(*nonce >> 8), static_cast<std::uint8_t>(*nonce)};
  reply.insert(reply.end(), trailer.begin(), trailer.end());
  const std::uint64_t sent = send_from(run, elsewhere, reply, *mapping);
  const auto data = wait_seen(run, iut_containing(lan_capture, mark), 1500ms, before);
  const std::string story =
      setup + fmt::format("; the application sent to the peer {} (Teredo address embeds {}); the IUT's indirect "
                          "bubble {} (nonce {:08x}); the peer's direct bubble with that nonce from {} (inet frame {})",
                          to_string(peer.teredo), to_text(embedded), describe(*indirect), *nonce, to_text(other), sent);
  if (!data) {
    for (const auto& r : all) {
      run.inconclusive(r, story + "; no packet holding the data within 1500 ms", "data_not_released");
    }
    return;
  }
  const Endpoint to{data->carrier.destination4, data->carrier.destination_port};
  // R6081-5.3.4.3-01: with the Symmetric NAT flag and the UPnP-Enabled NAT
  // flag TRUE, the UPnP-Mapped Address/Port zero and the peer's Symmetric
  // Peer flag TRUE, "the Teredo client MUST send the data packet to the
  // mapped address/port embedded in the peer's Teredo IPv6 address".
  const bool to_embedded = to == embedded;
  run.check(data_reqs[0], "data_not_to_embedded_mapping", to_embedded,
            fmt::format("the data to the mapping in the peer's address, {}", to_text(embedded)),
            story + "; then " + describe(*data), lan_frames({indirect->frame, data->frame}));
  // The four criteria are the IUT's own state: the embedded destination shows
  // it set each as §5.3.3 and §5.3.4.1 say; another destination does not
  // tell which one it missed.
  for (const auto& r : flag_reqs) {
    if (to_embedded) {
      run.check(r, "criteria_state", true,
                "the state §5.3.4.3 needs (the UPnP-Enabled NAT flag from GetExternalIPAddress, symmetric NAT from "
                "the two servers' mappings, the UPnP mapping equal to the server's and zeroed, the peer marked "
                "symmetric from its bubble's mapping)",
                story + "; the data went to the embedded mapping, which only that state allows",
                lan_frames({indirect->frame, data->frame}));
    } else {
      run.inconclusive(r, story + "; the data went to " + to_text(to) +
                              ": one of §5.3.4.3's four criteria was not met, the capture does not show which",
                       "criteria_not_observable");
    }
  }
  // R6081-5.3.4.2-01: the same criteria for direct bubbles. The peer's next
  // indirect bubble, relayed by the IUT's server with F as its origin and a
  // nonce of its own: the direct bubble answering it (RFC 6081 §5.2.4.2: it
  // echoes that nonce, which is how it is told from any other bubble) goes to
  // the embedded mapping, not to F.
  std::this_thread::sleep_for(t.bubble + 100ms);  // §5.2.6: not within the bubble interval of the data
  const std::uint64_t mark2 = lan_mark(run);
  const auto peer_nonce = static_cast<std::uint32_t>(run.random()() | 1u);
  ByteVector relayed;
  ByteVector relayed_bubble = kit::bubble_packet(peer.teredo, *address);
  const ByteVector peer_trailer{0x01, 0x04, static_cast<std::uint8_t>(peer_nonce >> 24),
                                static_cast<std::uint8_t>(peer_nonce >> 16), static_cast<std::uint8_t>(peer_nonce >> 8),
                                static_cast<std::uint8_t>(peer_nonce)};
  (void)append_datagram(relayed, std::nullopt, OriginIndication{other.port, other.address}, relayed_bubble,
                        peer_trailer);
  server.send_from_primary(*mapping, relayed);
  const auto direct = wait_seen(
      run,
      [&](const CapturedFrame& f) {
        if (!bubble(f)) return false;
        const auto seen = parse_seen(f, link);
        return seen && seen->carrier.destination4 == embedded.address && nonce_trailer(*seen) == peer_nonce;
      },
      t.bubble + 1500ms, mark2);
  if (!direct) {
    run.inconclusive("R6081-5.3.4.2-01",
                     story + fmt::format("; the peer's indirect bubble (nonce {:08x}) relayed by {}:3544 with origin "
                                         "{}; no direct bubble toward the peer echoing that nonce within {}",
                                         peer_nonce, kServer, to_text(other), ms_text(t.bubble + 1500ms)),
                     "no_direct_bubble");
    return;
  }
  const Endpoint bubble_to{direct->carrier.destination4, direct->carrier.destination_port};
  run.check("R6081-5.3.4.2-01", "direct_bubble_not_to_embedded_mapping", bubble_to == embedded,
            fmt::format("the direct bubble to the mapping in the peer's address, {} (not the origin {})",
                        to_text(embedded), to_text(other)),
            story + fmt::format("; the peer's indirect bubble relayed with origin {} and nonce {:08x}; then {} "
                                "(echoing that nonce)",
                                to_text(other), peer_nonce, describe(*direct)),
            lan_frames({data->frame, direct->frame}));
}

void open_refusing_add(CaseRun& run) { before_iut_refusing(run, "AddPortMapping"); }
void open_refusing_external(CaseRun& run) { before_iut_refusing(run, "GetExternalIPAddress"); }

// The secondary address reports another mapping (port 3 of the NAT's
// outside address, never a port the IUT's NAT forwards here), the primary
// the one it sees: chosen by the address each RS went to, not by the RSs'
// order (a retried RS to the primary must not take the secondary's answer).
void open_symmetric_servers(CaseRun& run) {
  open_played_server(run);
  played_server(run).answer_secondary_with(RaPlan{.origin = Endpoint{kit::ipv4(kNatOutside), 3}});
}

}  // namespace

TEREDO_CASE({
    .id = "client.upnp.initialization",
    .title = "UPnP: AddPortMapping of the Local Port (\"TEREDO\", lease 0) before qualification, then "
             "GetExternalIPAddress",
    .description = "NAT profile symmetric with a UPnP IGD (symmetric+upnp). The IUT starts with its UPnP "
                   "launch; the played server answers every RS. The IGD's record of the IUT's SOAP calls is read "
                   "once the IUT has qualified, and its Local Port from its first RS on the LAN.",
    .judgement = "An AddPortMapping with NewRemoteHost \"\", NewExternalPort and NewInternalPort the Local Port, "
                 "NewProtocol UDP, NewInternalClient 192.0.2.10, NewEnabled 1, description \"TEREDO\", lease 0, "
                 "made before any UDP packet of the IUT left through the NAT; then a GetExternalIPAddress.",
    .role = "client",
    .requirements = {"R6081-5.3.3-02", "R6081-5.3.3-04", "R6081-5.3.3-06"},
    .capabilities = {kUpnpCapability},
    .topology = kTopology,
    .nat_profile = std::string("symmetric+upnp"),
    .captures = client_captures(),
    .body = initialization,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.upnp.shutdown-deletes-mapping",
    .title = "UPnP: shutting down deletes the mapping (DeletePortMapping of the mapped port)",
    .description = "NAT profile symmetric+upnp. After qualification (the IUT's AddPortMapping succeeded), the IUT "
                   "is stopped with its adapter's stop signal and started again; the IGD's record is read until "
                   "the new instance's AddPortMapping.",
    .judgement = "Between the two AddPortMapping calls, a DeletePortMapping with NewRemoteHost \"\", "
                 "NewExternalPort the first call's port (the Local Port), NewProtocol UDP.",
    .role = "client",
    .requirements = {"R6081-5.3.5-01", "R6081-5.3.5.1-01", "R6081-5.3.3-05"},
    .capabilities = {kUpnpCapability},
    .topology = kTopology,
    .nat_profile = std::string("symmetric+upnp"),
    .captures = client_captures(),
    .body = shutdown,
    .before_iut = open_played_server,
});

TEREDO_CASE({
    .id = "client.upnp.add-refused-continues",
    .title = "UPnP: a failed AddPortMapping leaves the client qualifying without the extension",
    .description = "NAT profile symmetric+upnp, its IGD failing every AddPortMapping with UPnP error 501 (Action "
                   "Failed). The played server answers every RS.",
    .judgement = "The IUT qualifies (its Teredo address on its interface) and makes no further UPnP call "
                 "(GetExternalIPAddress, AddPortMapping) after the refusal.",
    .role = "client",
    .requirements = {"R6081-5.3.3-03"},
    .capabilities = {kUpnpCapability},
    .topology = kTopology,
    .nat_profile = std::string("symmetric+upnp"),
    .captures = client_captures(),
    .body = add_refused,
    .before_iut = open_refusing_add,
});

TEREDO_CASE({
    .id = "client.upnp.external-address-refused",
    .title = "UPnP: a failed GetExternalIPAddress is followed by DeletePortMapping, then qualification",
    .description = "NAT profile symmetric+upnp, its IGD failing every GetExternalIPAddress with UPnP error 501. "
                   "The played server answers every RS.",
    .judgement = "After the refused GetExternalIPAddress, a DeletePortMapping of the port the IUT had mapped, and "
                 "the IUT qualifies (SHOULD: a warning when it does not delete).",
    .role = "client",
    .requirements = {"R6081-5.3.3-07"},
    .capabilities = {kUpnpCapability},
    .topology = kTopology,
    .nat_profile = std::string("symmetric+upnp"),
    .captures = client_captures(),
    .body = external_refused,
    .before_iut = open_refusing_external,
});

TEREDO_CASE({
    .id = "client.upnp.symmetric-peer-embedded-mapping",
    .title = "UPnP behind a symmetric NAT: data and direct bubbles to a symmetric peer go to its embedded mapping",
    .description = "NAT profile port-restricted-cone with a UPnP IGD (port-restricted-cone+upnp): the IUT's "
                   "UPnP forward is the mapping the primary server sees (a single NAT). The played secondary "
                   "address answers with another mapping (port 3), so the IUT concludes a symmetric NAT. The "
                   "application sends to a Teredo peer whose address embeds 198.51.100.7:41001; the peer answers "
                   "the IUT's indirect bubble with a direct bubble carrying its nonce from 198.51.100.7:41002 (its "
                   "NAT's other mapping), which the UPnP forward lets in. Then the peer's next indirect bubble is "
                   "relayed by the IUT's server with origin 198.51.100.7:41002.",
    .judgement = "The released data, and the direct bubble answering the relayed indirect bubble (told by the "
                 "nonce it echoes), go to 198.51.100.7:41001 (the embedded mapping), not to 198.51.100.7:41002.",
    .role = "client",
    .requirements = {"R6081-5.3.4.3-01", "R6081-5.3.4.2-01", "R6081-5.3.3-08", "R6081-5.3.3-09",
                     "R6081-5.3.3-10", "R6081-5.3.3-11", "R6081-5.3.3-12", "R6081-5.3.3-13", "R6081-5.3.4.1-01",
                     "R6081-5.3.4.1-02"},
    .capabilities = {kUpnpCapability},
    .topology = kTopology,
    .nat_profile = std::string("port-restricted-cone+upnp"),
    .captures = client_captures(),
    .body = symmetric_peer,
    .before_iut = open_symmetric_servers,
});

}  // namespace teredo::conformance::client
