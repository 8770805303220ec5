// Writing links: RTM_NEWLINK (create and change) and RTM_DELLINK, with the kind-specific
// IFLA_INFO_DATA of veth, bridge, vxlan, macvlan, vlan and ipvlan, raw info data for
// any other kind, and bridge-port options as IFLA_INFO_SLAVE_DATA.
//
//   RTM_NEWLINK
//   +----------+-----------+------------+-----------+--------------------------------+
//   | nlmsghdr | ifinfomsg | IFLA_IFNAME| IFLA_MTU..| IFLA_LINKINFO                  |
//   |          | index,    |            |           |  IFLA_INFO_KIND "veth"         |
//   |          | flags/    |            |           |  IFLA_INFO_DATA                |
//   |          | change    |            |           |   VETH_INFO_PEER               |
//   |          | (IFF_UP)  |            |           |    ifinfomsg + IFLA_IFNAME,    |
//   |          |           |            |           |    IFLA_NET_NS_FD, ...         |
//   +----------+-----------+------------+-----------+--------------------------------+
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netlink/builder.h"
#include "rtnl/ip.h"

namespace np::rtnl {

// Attributes every link has, for creation and for change.
struct LinkCommon {
  int32_t index = 0;        // create: requested ifindex (0 = kernel picks); change: target
  std::string name;         // create: IFLA_IFNAME; change: target when index == 0
  std::string rename;       // change only: new IFLA_IFNAME
  std::optional<uint32_t> mtu, txqlen, group, num_tx_queues, num_rx_queues;
  std::optional<int32_t> master;  // 0 = nomaster
  std::optional<int32_t> link;    // IFLA_LINK: parent device
  std::optional<std::string> alias;
  std::string mac;                // raw bytes, empty = unset
  std::optional<bool> up;
  int netns_fd = -1;              // IFLA_NET_NS_FD
  std::optional<uint8_t> addr_gen_mode;  // IFLA_AF_SPEC/AF_INET6/IFLA_INET6_ADDR_GEN_MODE
  // IFLA_AF_SPEC/AF_INET/IFLA_INET_CONF: (IPV4_DEVCONF_* index, value) pairs.
  std::vector<std::pair<uint16_t, uint32_t>> ipv4_conf;
  bool has_af_spec() const { return addr_gen_mode.has_value() || !ipv4_conf.empty(); }
};

struct BridgeOptions {
  std::optional<uint32_t> stp_state, ageing_time, forward_delay;
  std::optional<uint16_t> priority, default_pvid;
  std::optional<uint8_t> vlan_filtering, mcast_snooping;
};

struct VxlanOptions {
  std::optional<uint32_t> vni;
  IpAddr local, group;  // group: multicast group or unicast remote
  std::optional<uint32_t> device;
  std::optional<uint16_t> port;  // host order; sent big endian
  std::optional<uint16_t> port_low, port_high;
  std::optional<uint8_t> ttl, tos, learning, proxy, l2miss, l3miss, udp_csum;
  std::optional<uint32_t> ageing;
};

struct MacvlanOptions {
  std::optional<uint32_t> mode;
  std::optional<uint16_t> flags;
};

struct VlanOptions {
  std::optional<uint16_t> id;
  std::optional<uint16_t> protocol;  // ETH_P_8021Q / ETH_P_8021AD, host order
};

struct IpvlanOptions {
  std::optional<uint16_t> mode, flags;
};

struct BridgePortOptions {
  std::optional<uint8_t> hairpin, learning, unicast_flood, isolated, state;
  // IFLA_BRPORT_PROXYARP, IFLA_BRPORT_PROXYARP_WIFI, IFLA_BRPORT_NEIGH_SUPPRESS
  std::optional<uint8_t> proxyarp, proxyarp_wifi, neigh_suppress;
  std::optional<uint16_t> priority;
  std::optional<uint32_t> cost;
  bool flush = false;  // IFLA_BRPORT_FLUSH: forget the FDB entries learned on the port
  bool any() const {
    return hairpin || learning || unicast_flood || isolated || state || priority || cost || flush || proxyarp ||
           proxyarp_wifi || neigh_suppress;
  }
};

struct LinkSpec {
  std::string kind;  // IFLA_INFO_KIND; empty on a change that does not touch kind data
  LinkCommon common;
  std::optional<LinkCommon> peer;  // veth
  BridgeOptions bridge;
  VxlanOptions vxlan;
  MacvlanOptions macvlan;
  VlanOptions vlan;
  IpvlanOptions ipvlan;
  std::string raw_info_data;  // other kinds: IFLA_INFO_DATA payload as given
  BridgePortOptions port;
};

// Appends the messages that create the link: the RTM_NEWLINK itself
// (NLM_F_CREATE|NLM_F_EXCL, plus NLM_F_ECHO if echo) and, when needed, follow-up
// changes in the same batch: IFLA_AF_SPEC (IPv6 address generation mode, IPv4 device
// settings; the kernel refuses it at creation with EAFNOSUPPORT, for AF_INET and
// AF_INET6 alike: rtnl_create_link validates the request against the device it has
// just allocated, which has no IPv4 or IPv6 state before registration), the alias
// (ignored at creation) and
// bridge-port options, with the link brought up only after them; likewise a peer's up
// and alias when the peer stays here. Follow-ups of links created in another namespace
// are the caller's. Returns the number of messages appended.
size_t encode_link_create(nl::Builder& b, const LinkSpec& s, bool echo);
// Appends the messages that change an existing link (RTM_NEWLINK without
// NLM_F_CREATE): one, plus one before it when IFLA_AF_SPEC has to be in force before
// an up/down in the same change, plus one after it (RTM_SETLINK, AF_BRIDGE) when the
// bridge port goes to state disabled; returns how many.
//
// Why a port's disabled state goes apart: after an RTM_NEWLINK that changed anything,
// the kernel announces NETDEV_CHANGE, on which the bridge re-enables a disabled port
// that is up with carrier (br_port_carrier_check); a disabled state set in
// IFLA_INFO_SLAVE_DATA is undone before the request returns. The AF_BRIDGE RTM_SETLINK
// (IFLA_PROTINFO, as `bridge link set` sends it) sets it without that notification.
// It addresses the link by index only.
size_t encode_link_change(nl::Builder& b, const LinkSpec& s);
// RTM_DELLINK by index, by name, or every link of a group (index 0 + IFLA_GROUP).
void encode_link_delete(nl::Builder& b, int32_t index, const std::string& name, std::optional<uint32_t> group);



}  // namespace np::rtnl
