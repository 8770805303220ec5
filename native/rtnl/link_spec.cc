#include "rtnl/link_spec.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cerrno>

#include "netlink/socket.h"

namespace np::rtnl {

namespace {

// The common attributes, shared by the main link, a veth peer and a change.
void put_common(nl::Builder& b, const LinkCommon& c, bool creating) {
  if (creating) {
    if (!c.name.empty()) b.put_strz(IFLA_IFNAME, c.name);
  } else {
    if (c.index == 0 && !c.name.empty()) b.put_strz(IFLA_IFNAME, c.name);
    else if (!c.rename.empty()) b.put_strz(IFLA_IFNAME, c.rename);
  }
  if (c.netns_fd >= 0) b.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(c.netns_fd));
  if (!c.mac.empty()) b.put(IFLA_ADDRESS, c.mac.data(), c.mac.size());
  if (c.mtu) b.put_u32(IFLA_MTU, *c.mtu);
  if (c.txqlen) b.put_u32(IFLA_TXQLEN, *c.txqlen);
  if (c.group) b.put_u32(IFLA_GROUP, *c.group);
  if (c.num_tx_queues) b.put_u32(IFLA_NUM_TX_QUEUES, *c.num_tx_queues);
  if (c.num_rx_queues) b.put_u32(IFLA_NUM_RX_QUEUES, *c.num_rx_queues);
  if (c.link) b.put_u32(IFLA_LINK, static_cast<uint32_t>(*c.link));
  if (c.master) b.put_u32(IFLA_MASTER, static_cast<uint32_t>(*c.master));
  // The kernel ignores IFLA_IFALIAS when it creates a link: a creation sends it in a
  // follow-up change instead.
  if (c.alias && !creating) b.put_str(IFLA_IFALIAS, *c.alias);
}

ifinfomsg header(int32_t index, std::optional<bool> up) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  if (up) {
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = *up ? IFF_UP : 0;
  }
  return ifi;
}

void put_bridge(nl::Builder& b, const BridgeOptions& o) {
  if (o.forward_delay) b.put_u32(IFLA_BR_FORWARD_DELAY, *o.forward_delay);
  if (o.ageing_time) b.put_u32(IFLA_BR_AGEING_TIME, *o.ageing_time);
  if (o.stp_state) b.put_u32(IFLA_BR_STP_STATE, *o.stp_state);
  if (o.priority) b.put_u16(IFLA_BR_PRIORITY, *o.priority);
  if (o.vlan_filtering) b.put_u8(IFLA_BR_VLAN_FILTERING, *o.vlan_filtering);
  if (o.mcast_snooping) b.put_u8(IFLA_BR_MCAST_SNOOPING, *o.mcast_snooping);
  if (o.default_pvid) b.put_u16(IFLA_BR_VLAN_DEFAULT_PVID, *o.default_pvid);
}

void put_vxlan(nl::Builder& b, const VxlanOptions& o) {
  if (o.vni) b.put_u32(IFLA_VXLAN_ID, *o.vni);
  if (o.group.set()) b.put(o.group.family == AF_INET6 ? IFLA_VXLAN_GROUP6 : IFLA_VXLAN_GROUP, o.group.bytes, o.group.size());
  if (o.local.set()) b.put(o.local.family == AF_INET6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, o.local.bytes, o.local.size());
  if (o.device) b.put_u32(IFLA_VXLAN_LINK, *o.device);
  if (o.ttl) b.put_u8(IFLA_VXLAN_TTL, *o.ttl);
  if (o.tos) b.put_u8(IFLA_VXLAN_TOS, *o.tos);
  if (o.learning) b.put_u8(IFLA_VXLAN_LEARNING, *o.learning);
  if (o.proxy) b.put_u8(IFLA_VXLAN_PROXY, *o.proxy);
  if (o.l2miss) b.put_u8(IFLA_VXLAN_L2MISS, *o.l2miss);
  if (o.l3miss) b.put_u8(IFLA_VXLAN_L3MISS, *o.l3miss);
  if (o.ageing) b.put_u32(IFLA_VXLAN_AGEING, *o.ageing);
  if (o.port_low && o.port_high) {
    ifla_vxlan_port_range r{htons(*o.port_low), htons(*o.port_high)};
    b.put(IFLA_VXLAN_PORT_RANGE, &r, sizeof r);
  }
  if (o.port) b.put_be16(IFLA_VXLAN_PORT, *o.port);
  if (o.udp_csum) b.put_u8(IFLA_VXLAN_UDP_CSUM, *o.udp_csum);
}

// IFLA_BRPORT_* attributes, the same inside IFLA_INFO_SLAVE_DATA and IFLA_PROTINFO.
void put_port_attrs(nl::Builder& b, const BridgePortOptions& p) {
  if (p.state) b.put_u8(IFLA_BRPORT_STATE, *p.state);
  if (p.priority) b.put_u16(IFLA_BRPORT_PRIORITY, *p.priority);
  if (p.cost) b.put_u32(IFLA_BRPORT_COST, *p.cost);
  if (p.hairpin) b.put_u8(IFLA_BRPORT_MODE, *p.hairpin);
  if (p.learning) b.put_u8(IFLA_BRPORT_LEARNING, *p.learning);
  if (p.unicast_flood) b.put_u8(IFLA_BRPORT_UNICAST_FLOOD, *p.unicast_flood);
  if (p.isolated) b.put_u8(IFLA_BRPORT_ISOLATED, *p.isolated);
  if (p.proxyarp) b.put_u8(IFLA_BRPORT_PROXYARP, *p.proxyarp);
  if (p.proxyarp_wifi) b.put_u8(IFLA_BRPORT_PROXYARP_WIFI, *p.proxyarp_wifi);
  if (p.neigh_suppress) b.put_u8(IFLA_BRPORT_NEIGH_SUPPRESS, *p.neigh_suppress);
  if (p.flush) b.put_flag(IFLA_BRPORT_FLUSH);
}

void put_port(nl::Builder& b, const BridgePortOptions& p) {
  size_t info = b.nest_start(IFLA_LINKINFO);
  b.put_str(IFLA_INFO_SLAVE_KIND, "bridge");
  size_t data = b.nest_start(IFLA_INFO_SLAVE_DATA);
  put_port_attrs(b, p);
  b.nest_end(data);
  b.nest_end(info);
}

// Port options that have to go in an AF_BRIDGE RTM_SETLINK (see encode_link_change).
bool port_apart(const BridgePortOptions& p) { return p.state && *p.state == BR_STATE_DISABLED; }

//   RTM_SETLINK
//   +----------+----------------------+--------------------------------------+
//   | nlmsghdr | ifinfomsg            | IFLA_PROTINFO (NLA_F_NESTED)         |
//   |          | family AF_BRIDGE,    |  IFLA_BRPORT_STATE u8, ...           |
//   |          | index (never a name) |                                      |
//   +----------+----------------------+--------------------------------------+
// The kernel hands it to the port's bridge (ndo_bridge_setlink), which applies the
// same IFLA_BRPORT_* as IFLA_INFO_SLAVE_DATA does (br_setport); without NLA_F_NESTED it
// would take IFLA_PROTINFO as a bare state byte (the old RSTP daemon's format).
size_t put_port_setlink(nl::Builder& b, int32_t index, const BridgePortOptions& p) {
  if (index == 0) throw nl::NlError(EINVAL, "encode", "a bridge port set disabled must be given by index");
  b.put_header(RTM_SETLINK, NLM_F_ACK);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_BRIDGE;
  ifi.ifi_index = index;
  b.put_extra_header(ifi);
  size_t info = b.nest_start(IFLA_PROTINFO | NLA_F_NESTED);
  put_port_attrs(b, p);
  b.nest_end(info);
  return 1;
}

// Per-family settings, both families in one IFLA_AF_SPEC (the kernel applies each
// family's nest in turn):
//
//   IFLA_AF_SPEC
//    +- AF_INET
//    |   +- IFLA_INET_CONF (NLA_F_NESTED)
//    |       +- [IPV4_DEVCONF_ARP_NOTIFY] u32     attribute type = the 1-based index
//    |       +- [IPV4_DEVCONF_RP_FILTER]  u32     (inet_set_link_af)
//    +- AF_INET6
//        +- IFLA_INET6_ADDR_GEN_MODE u8
//
// IFLA_INET_CONF carries NLA_F_NESTED: today's kernels walk it without looking, but a
// strict parse of it (as proposed with per-setting ranges) refuses a nest without the
// flag. The other nests go as iproute2 sends them (no flag).
void put_af_spec(nl::Builder& b, const LinkCommon& c) {
  size_t af = b.nest_start(IFLA_AF_SPEC);
  if (!c.ipv4_conf.empty()) {
    size_t v4 = b.nest_start(AF_INET);
    size_t conf = b.nest_start(IFLA_INET_CONF | NLA_F_NESTED);
    for (const auto& [index, value] : c.ipv4_conf) b.put_u32(index, value);
    b.nest_end(conf);
    b.nest_end(v4);
  }
  if (c.addr_gen_mode) {
    size_t v6 = b.nest_start(AF_INET6);
    b.put_u8(IFLA_INET6_ADDR_GEN_MODE, *c.addr_gen_mode);
    b.nest_end(v6);
  }
  b.nest_end(af);
}

// IFLA_LINKINFO { IFLA_INFO_KIND, IFLA_INFO_DATA { ... } } for a create or a kind change.
void put_linkinfo(nl::Builder& b, const LinkSpec& s) {
  size_t info = b.nest_start(IFLA_LINKINFO);
  b.put_str(IFLA_INFO_KIND, s.kind);
  size_t data = b.nest_start(IFLA_INFO_DATA);
  size_t before = b.size();
  if (!s.raw_info_data.empty()) {
    // Caller-supplied attributes (kind 'other', whatever its name): appended as is
    // inside IFLA_INFO_DATA (the caller vouches for their encoding).
    b.put_raw(s.raw_info_data.data(), s.raw_info_data.size());
  } else if (s.kind == "veth" && s.peer) {
    // VETH_INFO_PEER is an ifinfomsg followed by the peer's attributes (not a plain nest).
    size_t peer = b.nest_start(VETH_INFO_PEER);
    // Never IFF_UP here: the kernel opens the peer before pairing it and refuses
    // (ENOTCONN). The peer comes up in a follow-up change.
    b.put_extra_header(header(s.peer->index, std::nullopt));
    put_common(b, *s.peer, true);
    b.nest_end(peer);
  } else if (s.kind == "bridge") {
    put_bridge(b, s.bridge);
  } else if (s.kind == "vxlan") {
    put_vxlan(b, s.vxlan);
  } else if (s.kind == "macvlan" || s.kind == "macvtap") {
    if (s.macvlan.mode) b.put_u32(IFLA_MACVLAN_MODE, *s.macvlan.mode);
    if (s.macvlan.flags) b.put_u16(IFLA_MACVLAN_FLAGS, *s.macvlan.flags);
  } else if (s.kind == "vlan") {
    if (s.vlan.id) b.put_u16(IFLA_VLAN_ID, *s.vlan.id);
    if (s.vlan.protocol) b.put_be16(IFLA_VLAN_PROTOCOL, *s.vlan.protocol);
  } else if (s.kind == "ipvlan" || s.kind == "ipvtap") {
    if (s.ipvlan.mode) b.put_u16(IFLA_IPVLAN_MODE, *s.ipvlan.mode);
    if (s.ipvlan.flags) b.put_u16(IFLA_IPVLAN_FLAGS, *s.ipvlan.flags);
  }
  if (b.size() == before) b.nest_cancel(data);
  else b.nest_end(data);
  b.nest_end(info);
}

// A change message addressed by index when known, else by name.
size_t start_change(nl::Builder& b, const LinkCommon& target, std::optional<bool> up) {
  b.put_header(RTM_NEWLINK, NLM_F_ACK);
  b.put_extra_header(header(target.index, up));
  if (target.index == 0) b.put_strz(IFLA_IFNAME, target.name);
  return 1;
}

}  // namespace

size_t encode_link_create(nl::Builder& b, const LinkSpec& s, bool echo) {
  const auto& c = s.common;
  // The kernel will not take IFLA_AF_SPEC at creation and ignores IFLA_IFALIAS there,
  // and bridge-port options apply to an existing port: all follow as changes, and "up"
  // waits until after them so that e.g. IPv6 autoconf never starts on a link that asked
  // for addr_gen_mode none. A link created in another namespace cannot be addressed
  // from this socket: the caller applies its follow-ups (and its "up") there.
  const bool follow = c.has_af_spec() || s.port.any() || c.alias.has_value();
  const bool stays_here = c.netns_fd < 0;
  std::optional<bool> up_now = follow ? std::nullopt : c.up;

  b.put_header(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK | (echo ? NLM_F_ECHO : 0));
  b.put_extra_header(header(c.index, up_now));
  put_common(b, c, true);
  put_linkinfo(b, s);
  size_t n = 1;
  if (follow && stays_here) {
    LinkCommon target;
    target.index = c.index;
    target.name = c.name;
    const bool af_first = c.has_af_spec() && c.up.has_value();
    if (af_first) {
      n += start_change(b, target, std::nullopt);
      put_af_spec(b, c);
    }
    n += start_change(b, target, c.up);
    if (c.alias) b.put_str(IFLA_IFALIAS, *c.alias);
    if (c.has_af_spec() && !af_first) put_af_spec(b, c);
    if (port_apart(s.port)) n += put_port_setlink(b, c.index, s.port);
    else if (s.port.any()) put_port(b, s.port);
  }
  if (s.peer && s.peer->netns_fd < 0 && (s.peer->up || s.peer->alias)) {
    // The peer stays in this namespace: bring it up (and name it) here. A peer created
    // in another namespace gets these through that namespace's socket, from the caller.
    LinkCommon target;
    target.index = s.peer->index;
    target.name = s.peer->name;
    n += start_change(b, target, s.peer->up);
    if (s.peer->alias) b.put_str(IFLA_IFALIAS, *s.peer->alias);
  }
  return n;
}

size_t encode_link_change(nl::Builder& b, const LinkSpec& s) {
  const auto& c = s.common;
  size_t n = 0;
  // In one RTM_NEWLINK the kernel changes the flags before it applies IFLA_AF_SPEC
  // (do_setlink): with an up or down in the same change, the per-family settings go
  // first, in a message of their own, so that they are in force when the link comes up
  // (no IPv6 autoconf under the old addr_gen_mode, arp_notify seen by NETDEV_UP).
  // Otherwise they ride in the one message.
  const bool af_first = c.has_af_spec() && c.up.has_value();
  const bool apart = s.kind.empty() && port_apart(s.port);
  if (af_first) {
    n += start_change(b, c, std::nullopt);
    put_af_spec(b, c);
  }
  // The RTM_NEWLINK itself, unless all it would carry went apart (an empty one still
  // takes the RTNL lock, for nothing); a change of nothing at all is still one message.
  const bool carries = c.up || !c.rename.empty() || c.netns_fd >= 0 || !c.mac.empty() || c.mtu || c.txqlen ||
                       c.group || c.num_tx_queues || c.num_rx_queues || c.link || c.master || c.alias ||
                       (c.has_af_spec() && !af_first) || !s.kind.empty() || (s.port.any() && !apart);
  if (carries || (n == 0 && !apart)) {
    n += start_change(b, c, c.up);
    LinkCommon rest = c;
    rest.name.clear();  // the target name went in start_change
    put_common(b, rest, false);
    if (c.has_af_spec() && !af_first) put_af_spec(b, c);
    if (!s.kind.empty()) put_linkinfo(b, s);
    else if (s.port.any() && !apart) put_port(b, s.port);
  }
  if (apart) n += put_port_setlink(b, c.index, s.port);
  return n;
}

void encode_link_delete(nl::Builder& b, int32_t index, const std::string& name, std::optional<uint32_t> group) {
  b.put_header(RTM_DELLINK, NLM_F_ACK);
  ifinfomsg ifi{};
  ifi.ifi_index = index;
  b.put_extra_header(ifi);
  if (index == 0 && !name.empty()) b.put_strz(IFLA_IFNAME, name);
  if (group) b.put_u32(IFLA_GROUP, *group);
}

}  // namespace np::rtnl
