#include "rtnl/route.h"

#include <array>

#include "netlink/parser.h"

namespace np::rtnl {

namespace {

constexpr auto kRoutePolicy = nl::policy<RTA_MAX>({
    NL_ATTR(RTA_DST, Binary, 4), NL_ATTR(RTA_SRC, Binary, 4), NL_ATTR(RTA_IIF, U32), NL_ATTR(RTA_OIF, U32),
    NL_ATTR(RTA_GATEWAY, Binary, 4), NL_ATTR(RTA_PRIORITY, U32), NL_ATTR(RTA_PREFSRC, Binary, 4),
    NL_ATTR(RTA_METRICS, Nested), NL_ATTR(RTA_TABLE, U32),
});

constexpr auto kMetricsPolicy = nl::policy<RTAX_MAX>({
    NL_ATTR(RTAX_MTU, U32),
});

void put_ip(nl::Builder& b, uint16_t type, const IpAddr& a) {
  if (a.set()) b.put(type, a.bytes, a.size());
}

}  // namespace

void encode_route(nl::Builder& b, uint16_t type, uint16_t nlflags, const RouteSpec& r) {
  b.put_header(type, nlflags | NLM_F_ACK);
  rtmsg rt{};
  rt.rtm_family = r.family;
  rt.rtm_dst_len = r.dst_len;
  rt.rtm_src_len = r.src_len;
  rt.rtm_tos = r.tos;
  rt.rtm_table = r.table < 256 ? static_cast<uint8_t>(r.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  rt.rtm_protocol = r.protocol;
  rt.rtm_scope = r.scope;
  rt.rtm_type = r.type;
  rt.rtm_flags = r.flags;
  b.put_extra_header(rt);
  if (r.table >= 256) b.put_u32(RTA_TABLE, r.table);
  if (r.dst_len) put_ip(b, RTA_DST, r.dst);
  if (r.src_len) put_ip(b, RTA_SRC, r.src);
  put_ip(b, RTA_GATEWAY, r.gateway);
  put_ip(b, RTA_PREFSRC, r.prefsrc);
  if (r.oif) b.put_u32(RTA_OIF, static_cast<uint32_t>(r.oif));
  if (r.priority) b.put_u32(RTA_PRIORITY, *r.priority);
  if (r.mtu) {
    size_t n = b.nest_start(RTA_METRICS | NLA_F_NESTED);
    b.put_u32(RTAX_MTU, *r.mtu);
    b.nest_end(n);
  }
}

void encode_route_dump(nl::Builder& b, const RouteFilter& f) {
  b.put_header(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg rt{};
  rt.rtm_family = f.family;
  if (f.table) rt.rtm_table = *f.table < 256 ? static_cast<uint8_t>(*f.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  if (f.protocol) rt.rtm_protocol = *f.protocol;
  if (f.type) rt.rtm_type = *f.type;
  b.put_extra_header(rt);
  if (f.table) b.put_u32(RTA_TABLE, *f.table);
  if (f.oif) b.put_u32(RTA_OIF, static_cast<uint32_t>(f.oif));
}

void encode_route_get(nl::Builder& b, const RouteQuery& q) {
  b.put_header(RTM_GETROUTE, 0);
  rtmsg rt{};
  rt.rtm_family = q.dst.family;
  rt.rtm_dst_len = q.dst.family == AF_INET6 ? 128 : 32;
  if (q.src.set()) rt.rtm_src_len = rt.rtm_dst_len;
  b.put_extra_header(rt);
  put_ip(b, RTA_DST, q.dst);
  put_ip(b, RTA_SRC, q.src);
  if (q.oif) b.put_u32(RTA_OIF, static_cast<uint32_t>(q.oif));
  if (q.iif) b.put_u32(RTA_IIF, static_cast<uint32_t>(q.iif));
  if (q.mark) b.put_u32(RTA_MARK, q.mark);
}

Route decode_route(const nlmsghdr* h) {
  nl::Attrs tb;
  const auto& rt = nl::parse_message<rtmsg>(h, tb, kRoutePolicy, "RTM_NEWROUTE", "RTA");
  Route r{.family = rt.rtm_family, .dst_len = rt.rtm_dst_len, .src_len = rt.rtm_src_len, .tos = rt.rtm_tos,
          .protocol = rt.rtm_protocol, .scope = rt.rtm_scope, .type = rt.rtm_type, .table = rt.rtm_table,
          .flags = rt.rtm_flags};
  auto ip = [&](uint16_t t) { return format_ip(ip_from_bytes(tb.bytes(t))); };
  if (tb.has(RTA_DST)) r.dst = ip(RTA_DST);
  if (tb.has(RTA_SRC)) r.src = ip(RTA_SRC);
  if (tb.has(RTA_GATEWAY)) r.gateway = ip(RTA_GATEWAY);
  if (tb.has(RTA_PREFSRC)) r.prefsrc = ip(RTA_PREFSRC);
  if (tb.has(RTA_OIF)) r.oif = static_cast<int32_t>(tb.u32(RTA_OIF));
  if (tb.has(RTA_IIF)) r.iif = static_cast<int32_t>(tb.u32(RTA_IIF));
  if (tb.has(RTA_PRIORITY)) r.priority = tb.u32(RTA_PRIORITY);
  if (tb.has(RTA_TABLE)) r.table = tb.u32(RTA_TABLE);
  if (tb.has(RTA_METRICS)) {
    auto* m = tb.get(RTA_METRICS);
    nl::Attrs mt;
    mt.parse(nl::Attrs::payload(m), nl::Attrs::payload_len(m), kMetricsPolicy.data(), RTAX_MAX, "RTA_METRICS");
    if (mt.has(RTAX_MTU)) r.mtu = mt.u32(RTAX_MTU);
  }
  return r;
}

}  // namespace np::rtnl
