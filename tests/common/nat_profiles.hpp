// The NAT profiles the interop suites run Teredo through, and whether RFC 4380
// must work through each (a cone NAT: ping6 is required to pass; behind the
// others the outcome is recorded, not required).
#pragma once

#include <ostream>
#include <string>

namespace teredo::test {

struct NatProfileCase {
  std::string profile;
  bool ping_required;  // RFC 4380 works through this NAT: ping6 must pass
};
inline void PrintTo(const NatProfileCase& c, std::ostream* os) { *os << c.profile; }

inline const NatProfileCase kNatProfileCases[] = {
    {"full-cone", true},
    {"restricted-cone", true},
    {"port-restricted-cone", true},
    {"symmetric", false},
    {"linux-masquerade", false},
};

// A GoogleTest parameter name: the profile with '-' turned into '_'.
inline std::string profile_test_name(const NatProfileCase& c) {
  std::string name = c.profile;
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

}  // namespace teredo::test
