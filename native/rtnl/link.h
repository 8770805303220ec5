// rtnetlink links: RTM_GETLINK requests and RTM_NEWLINK decoding.
//
//   +----------+-------------------------------------------+-----------------
//   | nlmsghdr | ifinfomsg                                 | attributes
//   |          | family u8, pad u8, type u16 (ARPHRD_*),    | IFLA_IFNAME,
//   |          | index s32, flags u32 (IFF_*), change u32   | IFLA_MTU, ...
//   +----------+-------------------------------------------+-----------------
#pragma once

#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlink/builder.h"
#include "netlink/parser.h"
#include "rtnl/link_spec.h"

namespace np::rtnl {

// What iproute2 asks for in `ip link show`: VF info, stats included.
inline constexpr uint32_t kDefaultExtMask = RTEXT_FILTER_VF;

struct LinkQuery {
  int32_t index = 0;      // 0: by name
  std::string name;       // used when index == 0
  uint8_t family = AF_PACKET;
  uint32_t ext_mask = kDefaultExtMask;
};

struct LinkDumpFilter {
  uint8_t family = AF_PACKET;
  uint32_t ext_mask = kDefaultExtMask;
  int32_t master = 0;     // IFLA_MASTER: only ports of this bridge (kernel-side filter)
  std::string kind;       // IFLA_LINKINFO/IFLA_INFO_KIND: only links of this kind
  int32_t index = 0;      // ifi_index; strict checking rejects it (codec tests use that)
};

// RTM_GETLINK for one link (ip link show dev NAME).
void encode_link_get(nl::Builder& b, const LinkQuery& q);
// RTM_GETLINK with NLM_F_DUMP (ip link show).
void encode_link_dump(nl::Builder& b, const LinkDumpFilter& f);

struct Link {
  int32_t index = 0;
  uint16_t type = 0;  // ARPHRD_*
  uint32_t flags = 0; // IFF_*
  std::string name;
  std::optional<uint32_t> mtu, min_mtu, max_mtu, master, link, txqlen, group, promiscuity;
  std::optional<uint32_t> num_tx_queues, num_rx_queues;
  std::optional<int32_t> link_netnsid;
  std::optional<uint8_t> operstate, carrier;
  std::optional<std::string> address, broadcast, perm_address, alias, qdisc;
  std::optional<std::string> kind, slave_kind;
  // Kind-specific data (IFLA_INFO_DATA) decoded with the same structures used to
  // create links, and bridge-port state (IFLA_INFO_SLAVE_DATA).
  std::optional<BridgeOptions> bridge;
  std::optional<VxlanOptions> vxlan;
  std::optional<MacvlanOptions> macvlan;
  std::optional<VlanOptions> vlan;
  std::optional<IpvlanOptions> ipvlan;
  std::optional<BridgePortOptions> port;
  std::optional<uint8_t> addr_gen_mode;
  // Attributes the table does not decode (a newer kernel's, or ones netplumb does not
  // model), as (type, bytes); filled only when asked for.
  std::vector<std::pair<uint16_t, std::string>> unknown;
};

// Decodes one RTM_NEWLINK/RTM_DELLINK message; throws nl::ParseError naming the
// attribute at fault.
Link decode_link(const nlmsghdr* h, bool keep_unknown = false);

}  // namespace np::rtnl
