// rtnetlink addresses: RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR.
//
//   +----------+---------------------------------------------+----------------------
//   | nlmsghdr | ifaddrmsg                                   | IFA_LOCAL, IFA_ADDRESS,
//   |          | family u8, prefixlen u8, flags u8, scope u8, | IFA_BROADCAST, IFA_LABEL,
//   |          | index u32                                   | IFA_FLAGS u32, IFA_CACHEINFO
//   +----------+---------------------------------------------+----------------------
// For IPv4, IFA_LOCAL is the interface's own address and IFA_ADDRESS the peer (equal
// to IFA_LOCAL unless point-to-point); IPv6 uses IFA_ADDRESS alone unless a peer is set.
#pragma once

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <optional>
#include <string>

#include "netlink/builder.h"
#include "rtnl/ip.h"

namespace np::rtnl {

struct AddressSpec {
  int32_t index = 0;
  IpAddr local;
  uint8_t prefixlen = 0;
  IpAddr peer;        // point-to-point peer, optional
  IpAddr broadcast;   // IPv4 only, optional
  std::string label;  // IPv4 only, optional
  uint8_t scope = RT_SCOPE_UNIVERSE;
  uint32_t flags = 0;  // IFA_F_*
  std::optional<uint32_t> valid_lft, preferred_lft;  // seconds; absent = forever
  std::optional<uint32_t> metric;                     // IFA_RT_PRIORITY of the prefix route
};

// RTM_NEWADDR (nlflags: NLM_F_CREATE|NLM_F_EXCL for add, NLM_F_CREATE|NLM_F_REPLACE
// for replace) or RTM_DELADDR.
void encode_addr(nl::Builder& b, uint16_t type, uint16_t nlflags, const AddressSpec& a);
// RTM_GETADDR dump; family 0 = both, index 0 = every link (filtered in the kernel).
void encode_addr_dump(nl::Builder& b, uint8_t family, int32_t index);

struct Address {
  uint8_t family = 0, prefixlen = 0, scope = 0;
  uint32_t flags = 0;  // IFA_FLAGS when present (it carries the bits above 8), else ifa_flags
  int32_t index = 0;
  std::string address;  // IFA_LOCAL if present, else IFA_ADDRESS
  std::string peer;     // IFA_ADDRESS when it differs from IFA_LOCAL
  std::string broadcast, label;
  std::optional<uint32_t> valid_lft, preferred_lft, metric;
};

Address decode_addr(const nlmsghdr* h);

}  // namespace np::rtnl
