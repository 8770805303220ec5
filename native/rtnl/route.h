// rtnetlink routes: RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE.
//
//   +----------+-------------------------------------------------+-------------------
//   | nlmsghdr | rtmsg                                           | RTA_DST, RTA_GATEWAY,
//   |          | family, dst_len, src_len, tos, table, protocol, | RTA_OIF, RTA_PREFSRC,
//   |          | scope, type (u8 each), flags u32 (RTNH_F_*)     | RTA_PRIORITY, RTA_TABLE,
//   |          |                                                 | RTA_METRICS{RTAX_MTU}
//   +----------+-------------------------------------------------+-------------------
// Tables above 255 do not fit rtm_table: they go in RTA_TABLE with rtm_table = 0
// (RT_TABLE_UNSPEC), as iproute2 does.
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <optional>
#include <string>

#include "netlink/builder.h"
#include "rtnl/ip.h"

namespace np::rtnl {

struct RouteSpec {
  uint8_t family = AF_INET;
  IpAddr dst;            // unset = default route
  uint8_t dst_len = 0;
  IpAddr src;            // source prefix (policy), rarely used
  uint8_t src_len = 0;
  IpAddr gateway;
  IpAddr prefsrc;
  int32_t oif = 0;
  std::optional<uint32_t> priority;  // metric
  uint32_t table = RT_TABLE_MAIN;
  uint8_t protocol = RTPROT_BOOT;
  uint8_t scope = RT_SCOPE_UNIVERSE;
  uint8_t type = RTN_UNICAST;
  uint8_t tos = 0;
  uint32_t flags = 0;  // RTNH_F_ONLINK
  std::optional<uint32_t> mtu;
};

// RTM_NEWROUTE (add: CREATE|EXCL, replace: CREATE|REPLACE, append: CREATE|APPEND) or
// RTM_DELROUTE.
void encode_route(nl::Builder& b, uint16_t type, uint16_t nlflags, const RouteSpec& r);

struct RouteFilter {
  uint8_t family = 0;
  std::optional<uint32_t> table;
  std::optional<uint8_t> protocol, type;
  int32_t oif = 0;
};
// RTM_GETROUTE dump, filtered in the kernel (strict check) by table, protocol, type, oif.
void encode_route_dump(nl::Builder& b, const RouteFilter& f);

struct RouteQuery {
  IpAddr dst;
  IpAddr src;
  int32_t oif = 0;
  int32_t iif = 0;
  uint32_t mark = 0;
};
// RTM_GETROUTE for one destination (ip route get).
void encode_route_get(nl::Builder& b, const RouteQuery& q);

struct Route {
  uint8_t family = 0, dst_len = 0, src_len = 0, tos = 0, protocol = 0, scope = 0, type = 0;
  uint32_t table = 0;
  uint32_t flags = 0;
  std::string dst, src, gateway, prefsrc;
  int32_t oif = 0, iif = 0;
  std::optional<uint32_t> priority, mtu;
};

Route decode_route(const nlmsghdr* h);

}  // namespace np::rtnl
