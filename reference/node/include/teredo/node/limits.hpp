// Size limits shared by the server and the relay.
#pragma once

#include <cstddef>

namespace teredo::node {

// R4380-5.1.2-01: the default Teredo link MTU.
inline constexpr std::size_t kTeredoMtu = 1280;

// Teredo overhead in front of the IPv6 packet, at most: authentication
// (4 + 255-byte id + 255-byte value + 8-byte nonce + confirmation = 523) and
// origin indication (8). A UDP payload longer than MTU + this cannot be a
// legitimate Teredo packet and is dropped before parsing.
inline constexpr std::size_t kMaxEncapsulationOverhead = 4 + 255 + 255 + 8 + 1 + 8;

}  // namespace teredo::node
