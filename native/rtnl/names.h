// Names of rtnetlink message types, as errors report them ("RTM_GETLINK").
#pragma once

#include <linux/rtnetlink.h>

#include <cstdint>
#include <string>

namespace np::rtnl {

// The message types netplumb speaks; others are named by number ("RTM[100]").
inline std::string message_name(uint16_t type) {
#define NP_RTM(n) {n, #n}
  static constexpr struct {
    uint16_t type;
    const char* name;
  } names[] = {
      NP_RTM(RTM_NEWLINK),  NP_RTM(RTM_DELLINK),  NP_RTM(RTM_GETLINK),  NP_RTM(RTM_SETLINK),
      NP_RTM(RTM_NEWADDR),  NP_RTM(RTM_DELADDR),  NP_RTM(RTM_GETADDR),  NP_RTM(RTM_NEWROUTE),
      NP_RTM(RTM_DELROUTE), NP_RTM(RTM_GETROUTE), NP_RTM(RTM_NEWNEIGH), NP_RTM(RTM_DELNEIGH),
      NP_RTM(RTM_GETNEIGH), NP_RTM(RTM_NEWRULE),  NP_RTM(RTM_DELRULE),  NP_RTM(RTM_GETRULE),
      NP_RTM(RTM_GETNETCONF), NP_RTM(RTM_NEWNSID), NP_RTM(RTM_DELNSID), NP_RTM(RTM_GETNSID),
  };
#undef NP_RTM
  for (const auto& n : names) {
    if (n.type == type) return n.name;
  }
  return "RTM[" + std::to_string(type) + "]";
}

}  // namespace np::rtnl
