#include "rtnl/link.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if_link.h>

#include <array>

#include "rtnl/ip.h"

namespace np::rtnl {

namespace {

constexpr auto kLinkPolicy = nl::policy<IFLA_MAX>({
    NL_ATTR(IFLA_ADDRESS, Binary), NL_ATTR(IFLA_BROADCAST, Binary), NL_ATTR(IFLA_IFNAME, String),
    NL_ATTR(IFLA_MTU, U32), NL_ATTR(IFLA_LINK, U32), NL_ATTR(IFLA_QDISC, String), NL_ATTR(IFLA_MASTER, U32),
    NL_ATTR(IFLA_TXQLEN, U32), NL_ATTR(IFLA_OPERSTATE, U8), NL_ATTR(IFLA_LINKINFO, Nested),
    NL_ATTR(IFLA_IFALIAS, String), NL_ATTR(IFLA_GROUP, U32), NL_ATTR(IFLA_PROMISCUITY, U32),
    NL_ATTR(IFLA_NUM_TX_QUEUES, U32), NL_ATTR(IFLA_NUM_RX_QUEUES, U32), NL_ATTR(IFLA_CARRIER, U8),
    NL_ATTR(IFLA_LINK_NETNSID, U32), NL_ATTR(IFLA_MIN_MTU, U32), NL_ATTR(IFLA_MAX_MTU, U32),
    NL_ATTR(IFLA_PERM_ADDRESS, Binary), NL_ATTR(IFLA_AF_SPEC, Nested),
});

constexpr auto kInfoPolicy = nl::policy<IFLA_INFO_MAX>({
    NL_ATTR(IFLA_INFO_KIND, String), NL_ATTR(IFLA_INFO_DATA, Nested), NL_ATTR(IFLA_INFO_SLAVE_KIND, String),
    NL_ATTR(IFLA_INFO_SLAVE_DATA, Nested),
});

constexpr auto kBridgePolicy = nl::policy<IFLA_BR_MAX>({
    NL_ATTR(IFLA_BR_FORWARD_DELAY, U32), NL_ATTR(IFLA_BR_AGEING_TIME, U32), NL_ATTR(IFLA_BR_STP_STATE, U32),
    NL_ATTR(IFLA_BR_PRIORITY, U16), NL_ATTR(IFLA_BR_VLAN_FILTERING, U8), NL_ATTR(IFLA_BR_MCAST_SNOOPING, U8),
    NL_ATTR(IFLA_BR_VLAN_DEFAULT_PVID, U16),
});

constexpr auto kVxlanPolicy = nl::policy<IFLA_VXLAN_MAX>({
    NL_ATTR(IFLA_VXLAN_ID, U32), NL_ATTR(IFLA_VXLAN_GROUP, Binary, 4), NL_ATTR(IFLA_VXLAN_GROUP6, Binary, 16),
    NL_ATTR(IFLA_VXLAN_LOCAL, Binary, 4), NL_ATTR(IFLA_VXLAN_LOCAL6, Binary, 16), NL_ATTR(IFLA_VXLAN_LINK, U32),
    NL_ATTR(IFLA_VXLAN_TTL, U8), NL_ATTR(IFLA_VXLAN_TOS, U8), NL_ATTR(IFLA_VXLAN_LEARNING, U8),
    NL_ATTR(IFLA_VXLAN_AGEING, U32), NL_ATTR(IFLA_VXLAN_PORT_RANGE, Binary, 4), NL_ATTR(IFLA_VXLAN_PROXY, U8),
    NL_ATTR(IFLA_VXLAN_L2MISS, U8), NL_ATTR(IFLA_VXLAN_L3MISS, U8), NL_ATTR(IFLA_VXLAN_PORT, U16),
    NL_ATTR(IFLA_VXLAN_UDP_CSUM, U8),
});

constexpr auto kMacvlanPolicy = nl::policy<IFLA_MACVLAN_MAX>({
    NL_ATTR(IFLA_MACVLAN_MODE, U32), NL_ATTR(IFLA_MACVLAN_FLAGS, U16),
});

constexpr auto kVlanPolicy = nl::policy<IFLA_VLAN_MAX>({
    NL_ATTR(IFLA_VLAN_ID, U16), NL_ATTR(IFLA_VLAN_PROTOCOL, U16),
});

constexpr auto kIpvlanPolicy = nl::policy<IFLA_IPVLAN_MAX>({
    NL_ATTR(IFLA_IPVLAN_MODE, U16), NL_ATTR(IFLA_IPVLAN_FLAGS, U16),
});

constexpr auto kBrportPolicy = nl::policy<IFLA_BRPORT_MAX>({
    NL_ATTR(IFLA_BRPORT_STATE, U8), NL_ATTR(IFLA_BRPORT_PRIORITY, U16), NL_ATTR(IFLA_BRPORT_COST, U32),
    NL_ATTR(IFLA_BRPORT_MODE, U8), NL_ATTR(IFLA_BRPORT_LEARNING, U8), NL_ATTR(IFLA_BRPORT_UNICAST_FLOOD, U8),
    NL_ATTR(IFLA_BRPORT_ISOLATED, U8), NL_ATTR(IFLA_BRPORT_PROXYARP, U8), NL_ATTR(IFLA_BRPORT_PROXYARP_WIFI, U8),
    NL_ATTR(IFLA_BRPORT_NEIGH_SUPPRESS, U8),
});

constexpr auto kAfSpecInet6Policy = nl::policy<IFLA_INET6_MAX>({
    NL_ATTR(IFLA_INET6_ADDR_GEN_MODE, U8),
});

template <typename T>
void opt(const nl::Attrs& tb, uint16_t t, std::optional<T>& out, T (nl::Attrs::*get)(uint16_t) const) {
  if (tb.has(t)) out = (tb.*get)(t);
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
    if (tb.has(IFLA_VXLAN_GROUP)) o.group = ip_from_bytes(tb.bytes(IFLA_VXLAN_GROUP));
    if (tb.has(IFLA_VXLAN_GROUP6)) o.group = ip_from_bytes(tb.bytes(IFLA_VXLAN_GROUP6));
    if (tb.has(IFLA_VXLAN_LOCAL)) o.local = ip_from_bytes(tb.bytes(IFLA_VXLAN_LOCAL));
    if (tb.has(IFLA_VXLAN_LOCAL6)) o.local = ip_from_bytes(tb.bytes(IFLA_VXLAN_LOCAL6));
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
  opt(tb, IFLA_BRPORT_PROXYARP, o.proxyarp, &nl::Attrs::u8);
  opt(tb, IFLA_BRPORT_PROXYARP_WIFI, o.proxyarp_wifi, &nl::Attrs::u8);
  opt(tb, IFLA_BRPORT_NEIGH_SUPPRESS, o.neigh_suppress, &nl::Attrs::u8);
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
  nl::Attrs tb;
  const auto& ifi = nl::parse_message<ifinfomsg>(h, tb, kLinkPolicy, "RTM_NEWLINK", "IFLA");
  Link l;
  l.index = ifi.ifi_index;
  l.type = ifi.ifi_type;
  l.flags = ifi.ifi_flags;
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
