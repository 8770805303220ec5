#include "rtnl/link.h"

#include <sys/socket.h>

#include <array>

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

std::string hw(const nl::Attrs& tb, uint16_t t) {
  auto v = tb.bytes(t);
  return format_hwaddr(reinterpret_cast<const uint8_t*>(v.data()), v.size());
}

}  // namespace

std::string format_hwaddr(const uint8_t* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 3);
  for (size_t i = 0; i < n; i++) {
    if (i) s.push_back(':');
    s.push_back(digits[p[i] >> 4]);
    s.push_back(digits[p[i] & 15]);
  }
  return s;
}

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
    if (info.has(IFLA_INFO_DATA)) l.info_data = std::string(info.bytes(IFLA_INFO_DATA));
    if (info.has(IFLA_INFO_SLAVE_DATA)) l.slave_data = std::string(info.bytes(IFLA_INFO_SLAVE_DATA));
  }
  if (keep_unknown) {
    for (const auto& u : tb.unknown()) {
      l.unknown.emplace_back(u.type, std::string(reinterpret_cast<const char*>(u.data), u.len));
    }
  }
  return l;
}

}  // namespace np::rtnl
