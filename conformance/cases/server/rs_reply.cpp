// §5.3.2: how a server answers a valid router solicitation.
#include <fmt/format.h>

#include "cases/server/driver.hpp"

namespace teredo::conformance::server {
namespace {

using namespace teredo::wire;

void cone_reply_from_secondary(CaseRun& run) {
  const int s = run.udp_socket("driver", kDriver, 40001);
  const auto before = send_to_server(run, s, rs_datagram({.cone = true}));
  const auto reply = next_reply(run, kDriver, 40001, before);
  if (!reply) {
    run.check("R4380-5.3.2-07", false, "an RA from 203.0.113.2:3544", "no answer within 1.5 s");
    return;
  }
  const std::string observed = describe(*reply);
  run.check("R4380-5.3.2-07", to_string(reply->carrier.source4) == kSecondary, "an RA from 203.0.113.2:3544",
            observed, {frame_ref(*reply)});
  run.check("R5991-3.2-03", to_string(reply->carrier.source4) == kSecondary,
            "the cone bit honoured: answered from the other address", observed, {frame_ref(*reply)});
}

void plain_reply_from_primary(CaseRun& run) {
  const int s = run.udp_socket("driver", kDriver, 40002);
  const auto before = send_to_server(run, s, rs_datagram({.cone = false}));
  const auto reply = next_reply(run, kDriver, 40002, before);
  if (!reply) {
    run.check("R4380-5.3.2-06", false, "an RA from 203.0.113.1:3544", "no answer within 1.5 s");
    return;
  }
  run.check("R4380-5.3.2-06",
            to_string(reply->carrier.source4) == kPrimary && reply->carrier.source_port == kTeredoPort,
            "an RA from 203.0.113.1:3544", describe(*reply), {frame_ref(*reply)});
  run.check("R4380-5.3.2-05",
            to_string(reply->carrier.destination4) == kDriver && reply->carrier.destination_port == 40002,
            "sent to the RS's source 198.51.100.7:40002",
            endpoint(reply->carrier.destination4, reply->carrier.destination_port), {frame_ref(*reply)});
}

}  // namespace

TEREDO_CASE({.id = "server.rs.cone-reply-from-secondary",
             .title = "An RS with the cone bit is answered from the secondary address",
             .description = "The driver sends a valid RS from fe80::8000:ffff:ffff:fffd (cone bit set) to the "
                            "primary address 203.0.113.1:3544.",
             .judgement = "Pass when the RA comes from 203.0.113.2:3544, the other server address.",
             .role = "server",
             .requirements = {"R4380-5.3.2-07", "R5991-3.2-03"},
             .body = cone_reply_from_secondary});

TEREDO_CASE({.id = "server.rs.reply-from-primary",
             .title = "An RS without the cone bit is answered from the primary address, to the RS's source",
             .description = "The driver sends a valid RS from fe80::ffff:ffff:fffd (cone bit clear) to "
                            "203.0.113.1:3544 from 198.51.100.7:40002.",
             .judgement = "Pass when the RA comes from 203.0.113.1:3544 and goes to 198.51.100.7:40002.",
             .role = "server",
             .requirements = {"R4380-5.3.2-06", "R4380-5.3.2-05"},
             .body = plain_reply_from_primary});

}  // namespace teredo::conformance::server
