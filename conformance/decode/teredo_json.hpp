// Turns bytes into the JSON that `teredo-conform decode` prints and that the
// oracle tests compare with tshark. One decision lives here: which UDP
// datagrams are Teredo. Like tshark, a datagram to or from port 3544 is always
// decoded (and RFC 6081 trailers are accepted there); any other datagram is
// Teredo only if it parses strictly: encapsulations, then an IPv6 header whose
// payload length matches the rest exactly (tshark's teredo_udp heuristic),
// and whose first IPv6 extension header, if any, fits in that payload (tshark
// never tries its heuristic on ports other dissectors own, such as DNS).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

#include "teredo/wire/wire.hpp"

namespace teredo::decode {

// JSON for one Teredo UDP payload. `trusted_teredo` says the datagram is known
// to be Teredo (port 3544, or a user's --hex), which accepts trailers;
// otherwise an IPv6 first extension header that overruns the payload is an
// error (truncated_ipv6_extension_header) too.
// On a parse failure the object holds "error": "<ParseError name>".
nlohmann::ordered_json decode_teredo_payload(wire::Bytes udp_payload, bool trusted_teredo);

// JSON for one captured frame: {"frame": N, "teredo": bool, "carrier": ...,
// then the fields of decode_teredo_payload}.
nlohmann::ordered_json decode_frame(std::uint64_t number, wire::LinkType link_type,
                                    wire::Bytes frame);

// JSON for one Teredo address (server, flags, cone, random bits, mapped port
// and IPv4, the IPv4's §5.2.4 scope).
nlohmann::ordered_json describe_teredo_address(const wire::TeredoAddress& address);

}  // namespace teredo::decode
