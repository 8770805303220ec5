#include "rtnl/link.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if_link.h>

#include <array>

#include "rtnl/ip.h"

namespace np::rtnl {

using nl::Kind;
using nl::Policy;

namespace {

constexpr auto kLinkPolicy = [] {
  std::array<Policy, IFLA_MAX + 1> p{};
  p[IFLA_ADDRESS] = {Kind::Binary, "IFLA_ADDRESS"};
  p[IFLA_BROADCAST] = {Kind::Binary, "IFLA_BROADCAST"};
  p[IFLA_IFNAME] = {Kind::String, "IFLA_IFNAME"};
  p[IFLA_MTU] = {Kind::U32, "IFLA_MTU"};
  p[IFLA_LINK] = {Kind::U32, "IFLA_LINK"};
  p[IFLA_QDISC] = {Kind::String, "IFLA_QDISC"};
  p[IFLA_MASTER] = {Kind::U32, "IFLA_MASTER"};
  p[IFLA_TXQLEN] = {Kind::U32, "IFLA_TXQLEN"};
  p[IFLA_OPERSTATE] = {Kind::U8, "IFLA_OPERSTATE"};
  p[IFLA_LINKINFO] = {Kind::Nested, "IFLA_LINKINFO"};
  p[IFLA_IFALIAS] = {Kind::String, "IFLA_IFALIAS"};
  p[IFLA_GROUP] = {Kind::U32, "IFLA_GROUP"};
  p[IFLA_PROMISCUITY] = {Kind::U32, "IFLA_PROMISCUITY"};
  p[IFLA_NUM_TX_QUEUES] = {Kind::U32, "IFLA_NUM_TX_QUEUES"};
  p[IFLA_NUM_RX_QUEUES] = {Kind::U32, "IFLA_NUM_RX_QUEUES"};
  p[IFLA_CARRIER] = {Kind::U8, "IFLA_CARRIER"};
  p[IFLA_LINK_NETNSID] = {Kind::U32, "IFLA_LINK_NETNSID"};
  p[IFLA_MIN_MTU] = {Kind::U32, "IFLA_MIN_MTU"};
  p[IFLA_MAX_MTU] = {Kind::U32, "IFLA_MAX_MTU"};
  p[IFLA_PERM_ADDRESS] = {Kind::Binary, "IFLA_PERM_ADDRESS"};
  p[IFLA_AF_SPEC] = {Kind::Nested, "IFLA_AF_SPEC"};
  return p;
}();

constexpr auto kInfoPolicy = [] {
  std::array<Policy, IFLA_INFO_MAX + 1> p{};
  p[IFLA_INFO_KIND] = {Kind::String, "IFLA_INFO_KIND"};
  p[IFLA_INFO_DATA] = {Kind::Nested, "IFLA_INFO_DATA"};
  p[IFLA_INFO_SLAVE_KIND] = {Kind::String, "IFLA_INFO_SLAVE_KIND"};
  p[IFLA_INFO_SLAVE_DATA] = {Kind::Nested, "IFLA_INFO_SLAVE_DATA"};
  return p;
}();

constexpr auto kBridgePolicy = [] {
  std::array<Policy, IFLA_BR_MAX + 1> p{};
  p[IFLA_BR_FORWARD_DELAY] = {Kind::U32, "IFLA_BR_FORWARD_DELAY"};
  p[IFLA_BR_AGEING_TIME] = {Kind::U32, "IFLA_BR_AGEING_TIME"};
  p[IFLA_BR_STP_STATE] = {Kind::U32, "IFLA_BR_STP_STATE"};
  p[IFLA_BR_PRIORITY] = {Kind::U16, "IFLA_BR_PRIORITY"};
  p[IFLA_BR_VLAN_FILTERING] = {Kind::U8, "IFLA_BR_VLAN_FILTERING"};
  p[IFLA_BR_MCAST_SNOOPING] = {Kind::U8, "IFLA_BR_MCAST_SNOOPING"};
  p[IFLA_BR_VLAN_DEFAULT_PVID] = {Kind::U16, "IFLA_BR_VLAN_DEFAULT_PVID"};
  return p;
}();

constexpr auto kVxlanPolicy = [] {
  std::array<Policy, IFLA_VXLAN_MAX + 1> p{};
  p[IFLA_VXLAN_ID] = {Kind::U32, "IFLA_VXLAN_ID"};
  p[IFLA_VXLAN_GROUP] = {Kind::Binary, "IFLA_VXLAN_GROUP", 4};
  p[IFLA_VXLAN_GROUP6] = {Kind::Binary, "IFLA_VXLAN_GROUP6", 16};
  p[IFLA_VXLAN_LOCAL] = {Kind::Binary, "IFLA_VXLAN_LOCAL", 4};
  p[IFLA_VXLAN_LOCAL6] = {Kind::Binary, "IFLA_VXLAN_LOCAL6", 16};
  p[IFLA_VXLAN_LINK] = {Kind::U32, "IFLA_VXLAN_LINK"};
  p[IFLA_VXLAN_TTL] = {Kind::U8, "IFLA_VXLAN_TTL"};
  p[IFLA_VXLAN_TOS] = {Kind::U8, "IFLA_VXLAN_TOS"};
  p[IFLA_VXLAN_LEARNING] = {Kind::U8, "IFLA_VXLAN_LEARNING"};
  p[IFLA_VXLAN_AGEING] = {Kind::U32, "IFLA_VXLAN_AGEING"};
  p[IFLA_VXLAN_PORT_RANGE] = {Kind::Binary, "IFLA_VXLAN_PORT_RANGE", 4};
  p[IFLA_VXLAN_PROXY] = {Kind::U8, "IFLA_VXLAN_PROXY"};
  p[IFLA_VXLAN_L2MISS] = {Kind::U8, "IFLA_VXLAN_L2MISS"};
  p[IFLA_VXLAN_L3MISS] = {Kind::U8, "IFLA_VXLAN_L3MISS"};
  p[IFLA_VXLAN_PORT] = {Kind::U16, "IFLA_VXLAN_PORT"};
  p[IFLA_VXLAN_UDP_CSUM] = {Kind::U8, "IFLA_VXLAN_UDP_CSUM"};
  return p;
}();

constexpr auto kMacvlanPolicy = [] {
  std::array<Policy, IFLA_MACVLAN_MAX + 1> p{};
  p[IFLA_MACVLAN_MODE] = {Kind::U32, "IFLA_MACVLAN_MODE"};
  p[IFLA_MACVLAN_FLAGS] = {Kind::U16, "IFLA_MACVLAN_FLAGS"};
  return p;
}();

constexpr auto kVlanPolicy = [] {
  std::array<Policy, IFLA_VLAN_MAX + 1> p{};
  p[IFLA_VLAN_ID] = {Kind::U16, "IFLA_VLAN_ID"};
  p[IFLA_VLAN_PROTOCOL] = {Kind::U16, "IFLA_VLAN_PROTOCOL"};
  return p;
}();

constexpr auto kIpvlanPolicy = [] {
  std::array<Policy, IFLA_IPVLAN_MAX + 1> p{};
  p[IFLA_IPVLAN_MODE] = {Kind::U16, "IFLA_IPVLAN_MODE"};
  p[IFLA_IPVLAN_FLAGS] = {Kind::U16, "IFLA_IPVLAN_FLAGS"};
  return p;
}();

constexpr auto kBrportPolicy = [] {
  std::array<Policy, IFLA_BRPORT_MAX + 1> p{};
  p[IFLA_BRPORT_STATE] = {Kind::U8, "IFLA_BRPORT_STATE"};
  p[IFLA_BRPORT_PRIORITY] = {Kind::U16, "IFLA_BRPORT_PRIORITY"};
  p[IFLA_BRPORT_COST] = {Kind::U32, "IFLA_BRPORT_COST"};
  p[IFLA_BRPORT_MODE] = {Kind::U8, "IFLA_BRPORT_MODE"};
  p[IFLA_BRPORT_LEARNING] = {Kind::U8, "IFLA_BRPORT_LEARNING"};
  p[IFLA_BRPORT_UNICAST_FLOOD] = {Kind::U8, "IFLA_BRPORT_UNICAST_FLOOD"};
  p[IFLA_BRPORT_ISOLATED] = {Kind::U8, "IFLA_BRPORT_ISOLATED"};
  return p;
}();

constexpr auto kAfSpecInet6Policy = [] {
  std::array<Policy, IFLA_INET6_MAX + 1> p{};
  p[IFLA_INET6_ADDR_GEN_MODE] = {Kind::U8, "IFLA_INET6_ADDR_GEN_MODE"};
  return p;
}();

template <typename T>
void opt(const nl::Attrs& tb, uint16_t t, std::optional<T>& out, T (nl::Attrs::*get)(uint16_t) const) {
  if (tb.has(t)) out = (tb.*get)(t);
}

IpAddr ip_attr(const nl::Attrs& tb, uint16_t t) {
  auto v = tb.bytes(t);
  return ip_from_bytes(v.data(), v.size());
}

void decode_info_data(Link& l, const nlattr* data) {
  const uint8_t* p = nl::Attrs::payload(data);
  size_t n = nl::Attrs::payload_len(data);
  nl::Attrs tb;
  const std::string& k = *l.kind;
  if (k == "bridge") {
    tb.parse(p, n, kBridgePolicy.data(), IFLA_BR_MAX, "IFLA_BR");
    BridgeOptions o;
    opt(tb, IFLA_BR_FORWARD_DELAY, o.forward_delay, &nl::Attrs::u32);
    opt(tb, IFLA_BR_AGEING_TIME, o.ageing_time, &nl::Attrs::u32);
    opt(tb, IFLA_BR_STP_STATE, o.stp_state, &nl::Attrs::u32);
    opt(tb, IFLA_BR_PRIORITY, o.priority, &nl::Attrs::u16);
    opt(tb, IFLA_BR_VLAN_FILTERING, o.vlan_filtering, &nl::Attrs::u8);
    opt(tb, IFLA_BR_MCAST_SNOOPING, o.mcast_snooping, &nl::Attrs::u8);
    opt(tb, IFLA_BR_VLAN_DEFAULT_PVID, o.default_pvid, &nl::Attrs::u16);
    l.bridge = o;
  } else if (k == "vxlan") {
    tb.parse(p, n, kVxlanPolicy.data(), IFLA_VXLAN_MAX, "IFLA_VXLAN");
    VxlanOptions o;
    opt(tb, IFLA_VXLAN_ID, o.vni, &nl::Attrs::u32);
    if (tb.has(IFLA_VXLAN_GROUP)) o.group = ip_attr(tb, IFLA_VXLAN_GROUP);
    if (tb.has(IFLA_VXLAN_GROUP6)) o.group = ip_attr(tb, IFLA_VXLAN_GROUP6);
    if (tb.has(IFLA_VXLAN_LOCAL)) o.local = ip_attr(tb, IFLA_VXLAN_LOCAL);
    if (tb.has(IFLA_VXLAN_LOCAL6)) o.local = ip_attr(tb, IFLA_VXLAN_LOCAL6);
    opt(tb, IFLA_VXLAN_LINK, o.device, &nl::Attrs::u32);
    opt(tb, IFLA_VXLAN_TTL, o.ttl, &nl::Attrs::u8);
    opt(tb, IFLA_VXLAN_TOS, o.tos, &nl::Attrs::u8);
    opt(tb, IFLA_VXLAN_LEARNING, o.learning, &nl::Attrs::u8);
    opt(tb, IFLA_VXLAN_AGEING, o.ageing, &nl::Attrs::u32);
    opt(tb, IFLA_VXLAN_PROXY, o.proxy, &nl::Attrs::u8);
    opt(tb, IFLA_VXLAN_L2MISS, o.l2miss, &nl::Attrs::u8);
    opt(tb, IFLA_VXLAN_L3MISS, o.l3miss, &nl::Attrs::u8);
    opt(tb, IFLA_VXLAN_UDP_CSUM, o.udp_csum, &nl::Attrs::u8);
    opt(tb, IFLA_VXLAN_PORT, o.port, &nl::Attrs::be16);
    if (tb.has(IFLA_VXLAN_PORT_RANGE)) {
      ifla_vxlan_port_range r;
      std::memcpy(&r, tb.bytes(IFLA_VXLAN_PORT_RANGE).data(), sizeof r);
      o.port_low = ntohs(r.low);
      o.port_high = ntohs(r.high);
    }
    l.vxlan = o;
  } else if (k == "macvlan" || k == "macvtap") {
    tb.parse(p, n, kMacvlanPolicy.data(), IFLA_MACVLAN_MAX, "IFLA_MACVLAN");
    MacvlanOptions o;
    opt(tb, IFLA_MACVLAN_MODE, o.mode, &nl::Attrs::u32);
    opt(tb, IFLA_MACVLAN_FLAGS, o.flags, &nl::Attrs::u16);
    l.macvlan = o;
  } else if (k == "vlan") {
    tb.parse(p, n, kVlanPolicy.data(), IFLA_VLAN_MAX, "IFLA_VLAN");
    VlanOptions o;
    opt(tb, IFLA_VLAN_ID, o.id, &nl::Attrs::u16);
    opt(tb, IFLA_VLAN_PROTOCOL, o.protocol, &nl::Attrs::be16);
    l.vlan = o;
  } else if (k == "ipvlan" || k == "ipvtap") {
    tb.parse(p, n, kIpvlanPolicy.data(), IFLA_IPVLAN_MAX, "IFLA_IPVLAN");
    IpvlanOptions o;
    opt(tb, IFLA_IPVLAN_MODE, o.mode, &nl::Attrs::u16);
    opt(tb, IFLA_IPVLAN_FLAGS, o.flags, &nl::Attrs::u16);
    l.ipvlan = o;
  }
}

void decode_port_data(Link& l, const nlattr* data) {
  nl::Attrs tb;
  tb.parse(nl::Attrs::payload(data), nl::Attrs::payload_len(data), kBrportPolicy.data(), IFLA_BRPORT_MAX,
           "IFLA_BRPORT");
  BridgePortOptions o;
  opt(tb, IFLA_BRPORT_STATE, o.state, &nl::Attrs::u8);
  opt(tb, IFLA_BRPORT_PRIORITY, o.priority, &nl::Attrs::u16);
  opt(tb, IFLA_BRPORT_COST, o.cost, &nl::Attrs::u32);
  opt(tb, IFLA_BRPORT_MODE, o.hairpin, &nl::Attrs::u8);
  opt(tb, IFLA_BRPORT_LEARNING, o.learning, &nl::Attrs::u8);
  opt(tb, IFLA_BRPORT_UNICAST_FLOOD, o.unicast_flood, &nl::Attrs::u8);
  opt(tb, IFLA_BRPORT_ISOLATED, o.isolated, &nl::Attrs::u8);
  l.port = o;
}

// IFLA_AF_SPEC is a nest of per-family nests; only AF_INET6's address generation mode
// is decoded.
void decode_af_spec(Link& l, const nlattr* spec) {
  const uint8_t* p = nl::Attrs::payload(spec);
  size_t n = nl::Attrs::payload_len(spec);
  while (n >= NLA_HDRLEN) {
    nlattr a;
    std::memcpy(&a, p, sizeof a);
    if (a.nla_len < NLA_HDRLEN || a.nla_len > n) throw nl::ParseError("IFLA_AF_SPEC: bad nested length");
    if ((a.nla_type & NLA_TYPE_MASK) == AF_INET6) {
      nl::Attrs tb;
      tb.parse(p + NLA_HDRLEN, a.nla_len - NLA_HDRLEN, kAfSpecInet6Policy.data(), IFLA_INET6_MAX, "IFLA_INET6");
      if (tb.has(IFLA_INET6_ADDR_GEN_MODE)) l.addr_gen_mode = tb.u8(IFLA_INET6_ADDR_GEN_MODE);
    }
    size_t step = nl::align4(a.nla_len);
    if (step >= n) break;
    p += step;
    n -= step;
  }
}

std::string hw(const nl::Attrs& tb, uint16_t t) {
  auto v = tb.bytes(t);
  return format_hwaddr(v.data(), v.size());
}

}  // namespace


void encode_link_get(nl::Builder& b, const LinkQuery& q) {
  b.put_header(RTM_GETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = q.family;
  ifi.ifi_index = q.index;
  b.put_extra_header(ifi);
  if (q.index == 0) b.put_strz(IFLA_IFNAME, q.name);
  if (q.ext_mask) b.put_u32(IFLA_EXT_MASK, q.ext_mask);
}

void encode_link_dump(nl::Builder& b, const LinkDumpFilter& f) {
  b.put_header(RTM_GETLINK, NLM_F_DUMP);
  ifinfomsg ifi{};
  ifi.ifi_family = f.family;
  ifi.ifi_index = f.index;
  b.put_extra_header(ifi);
  if (f.ext_mask) b.put_u32(IFLA_EXT_MASK, f.ext_mask);
  // Kernel-side filters (honoured with NETLINK_GET_STRICT_CHK).
  if (f.master) b.put_u32(IFLA_MASTER, static_cast<uint32_t>(f.master));
  if (!f.kind.empty()) {
    size_t nest = b.nest_start(IFLA_LINKINFO);
    b.put_str(IFLA_INFO_KIND, f.kind);
    b.nest_end(nest);
  }
}

Link decode_link(const nlmsghdr* h, bool keep_unknown) {
  const auto* ifi = reinterpret_cast<const ifinfomsg*>(nl::family_header(h, sizeof(ifinfomsg), "RTM_NEWLINK"));
  Link l;
  l.index = ifi->ifi_index;
  l.type = ifi->ifi_type;
  l.flags = ifi->ifi_flags;
  const size_t hdr = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg));
  nl::Attrs tb;
  tb.parse(reinterpret_cast<const uint8_t*>(h) + hdr, h->nlmsg_len - std::min<size_t>(hdr, h->nlmsg_len),
           kLinkPolicy.data(), IFLA_MAX, "IFLA");
  if (tb.has(IFLA_IFNAME)) l.name = tb.str(IFLA_IFNAME);
  if (tb.has(IFLA_MTU)) l.mtu = tb.u32(IFLA_MTU);
  if (tb.has(IFLA_MIN_MTU)) l.min_mtu = tb.u32(IFLA_MIN_MTU);
  if (tb.has(IFLA_MAX_MTU)) l.max_mtu = tb.u32(IFLA_MAX_MTU);
  if (tb.has(IFLA_MASTER)) l.master = tb.u32(IFLA_MASTER);
  if (tb.has(IFLA_LINK)) l.link = tb.u32(IFLA_LINK);
  if (tb.has(IFLA_TXQLEN)) l.txqlen = tb.u32(IFLA_TXQLEN);
  if (tb.has(IFLA_GROUP)) l.group = tb.u32(IFLA_GROUP);
  if (tb.has(IFLA_PROMISCUITY)) l.promiscuity = tb.u32(IFLA_PROMISCUITY);
  if (tb.has(IFLA_NUM_TX_QUEUES)) l.num_tx_queues = tb.u32(IFLA_NUM_TX_QUEUES);
  if (tb.has(IFLA_NUM_RX_QUEUES)) l.num_rx_queues = tb.u32(IFLA_NUM_RX_QUEUES);
  if (tb.has(IFLA_LINK_NETNSID)) l.link_netnsid = static_cast<int32_t>(tb.u32(IFLA_LINK_NETNSID));
  if (tb.has(IFLA_OPERSTATE)) l.operstate = tb.u8(IFLA_OPERSTATE);
  if (tb.has(IFLA_CARRIER)) l.carrier = tb.u8(IFLA_CARRIER);
  if (tb.has(IFLA_ADDRESS)) l.address = hw(tb, IFLA_ADDRESS);
  if (tb.has(IFLA_BROADCAST)) l.broadcast = hw(tb, IFLA_BROADCAST);
  if (tb.has(IFLA_PERM_ADDRESS)) l.perm_address = hw(tb, IFLA_PERM_ADDRESS);
  if (tb.has(IFLA_IFALIAS)) l.alias = tb.str(IFLA_IFALIAS);
  if (tb.has(IFLA_QDISC)) l.qdisc = tb.str(IFLA_QDISC);
  if (tb.has(IFLA_LINKINFO)) {
    auto* a = tb.get(IFLA_LINKINFO);
    nl::Attrs info;
    info.parse(nl::Attrs::payload(a), nl::Attrs::payload_len(a), kInfoPolicy.data(), IFLA_INFO_MAX,
               "IFLA_LINKINFO");
    if (info.has(IFLA_INFO_KIND)) l.kind = info.str(IFLA_INFO_KIND);
    if (info.has(IFLA_INFO_SLAVE_KIND)) l.slave_kind = info.str(IFLA_INFO_SLAVE_KIND);
    if (l.kind && info.has(IFLA_INFO_DATA)) decode_info_data(l, info.get(IFLA_INFO_DATA));
    if (l.slave_kind == "bridge" && info.has(IFLA_INFO_SLAVE_DATA)) decode_port_data(l, info.get(IFLA_INFO_SLAVE_DATA));
  }
  if (tb.has(IFLA_AF_SPEC)) decode_af_spec(l, tb.get(IFLA_AF_SPEC));
  if (keep_unknown) {
    for (const auto& u : tb.unknown()) {
      l.unknown.emplace_back(u.type, std::string(reinterpret_cast<const char*>(u.data), u.len));
    }
  }
  return l;
}

}  // namespace np::rtnl
