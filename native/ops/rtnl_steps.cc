#include "ops/rtnl_steps.h"

#include <linux/rtnetlink.h>

#include "constants.h"


namespace np::ops {

namespace {

using js::Obj;

// A name from an enumeration (native/constants.h: the names iproute2 uses), read from key k.
template <size_t N>
std::optional<uint32_t> named(const names::Name (&table)[N], Obj& o, const char* k) {
  auto name = o.str(k);
  if (!name) return std::nullopt;
  if (auto v = names::value_of(table, *name)) return static_cast<uint32_t>(*v);
  o.fail(k, "must be one of " + names::list(table) + ", got '" + *name + "'");
}

// The keys every link takes (a veth peer takes these too).
void read_common(Obj& o, rtnl::LinkCommon& c, std::vector<Handle>& holds) {
  c.index = o.num<int32_t>("index", 0);
  c.name = o.str("name").value_or("");
  c.mtu = o.num("mtu");
  c.txqlen = o.num("txqlen");
  c.group = o.num("group");
  c.num_tx_queues = o.num("numTxQueues");
  c.num_rx_queues = o.num("numRxQueues");
  c.alias = o.str("alias");
  if (auto mac = o.hwaddr("mac")) c.mac = *mac;
  c.up = o.boolean("up");
  if (auto h = o.handle("netns")) {
    holds.push_back(h);
    // A namespace still to be made: its fd goes in when the call that makes it has it.
    c.netns_fd = h->is_pending() ? kPendingNetns : h->fd();
  }
}

// The keys of an existing or new link of this namespace.
void read_own(Obj& o, rtnl::LinkCommon& c) {
  c.rename = o.str("rename").value_or("");
  c.master = o.num<int32_t>("master");
  c.link = o.num<int32_t>("link");
  if (auto m = named(names::kAddrGenModes, o, "addrGenMode")) c.addr_gen_mode = static_cast<uint8_t>(*m);
  if (auto conf = o.obj("ipv4Conf")) {
    conf->each([&](const char* name, const Napi::Value& v, const js::Where& w) {
      auto id = names::value_of(names::kIpv4DevConf, name);
      if (!id) w.fail("is not an IPv4 device setting");
      c.ipv4_conf.emplace_back(static_cast<uint16_t>(*id), js::to_number<uint32_t>(v, w));
    });
  }
}

void read_bridge(Obj& b, rtnl::BridgeOptions& x) {
  auto secs = [&](const char* k) -> std::optional<uint32_t> {
    auto v = b.num<double>(k);
    if (!v) return std::nullopt;
    return static_cast<uint32_t>(*v * 100 + 0.5);  // seconds -> clock_t
  };
  if (auto stp = b.boolean("stp")) x.stp_state = *stp ? 1 : 0;
  x.ageing_time = secs("ageingTime");
  x.forward_delay = secs("forwardDelay");
  x.priority = b.num<uint16_t>("priority");
  if (auto v = b.boolean("vlanFiltering")) x.vlan_filtering = *v;
  if (auto v = b.boolean("multicastSnooping")) x.mcast_snooping = *v;
  x.default_pvid = b.num<uint16_t>("defaultPvid");
  b.done();
}

void read_vxlan(Obj& v, rtnl::VxlanOptions& x) {
  x.vni = v.num("vni");
  if (auto a = v.ip("local")) x.local = *a;
  // One attribute carries both: a multicast group or a unicast remote.
  auto group = v.ip("group");
  auto remote = v.ip("remote");
  if (group) x.group = *group;
  else if (remote) x.group = *remote;
  x.device = v.num("device");
  x.port = v.num<uint16_t>("dstport");
  if (auto r = v.arr("srcPortRange")) {
    r->expect_size(2);
    x.port_low = r->num<uint16_t>(0);
    x.port_high = r->num<uint16_t>(1);
  }
  x.ttl = v.num<uint8_t>("ttl");
  x.tos = v.num<uint8_t>("tos");
  if (auto b = v.boolean("learning")) x.learning = *b;
  if (auto b = v.boolean("proxy")) x.proxy = *b;
  if (auto b = v.boolean("l2miss")) x.l2miss = *b;
  if (auto b = v.boolean("l3miss")) x.l3miss = *b;
  if (auto b = v.boolean("udpChecksum")) x.udp_csum = *b;
  x.ageing = v.num("ageing");
  v.done();
}

void read_port(Obj& p, rtnl::BridgePortOptions& x) {
  if (auto b = p.boolean("hairpin")) x.hairpin = *b;
  if (auto b = p.boolean("learning")) x.learning = *b;
  if (auto b = p.boolean("flood")) x.unicast_flood = *b;
  if (auto b = p.boolean("isolated")) x.isolated = *b;
  if (auto b = p.boolean("proxyArp")) x.proxyarp = *b;
  if (auto b = p.boolean("proxyArpWifi")) x.proxyarp_wifi = *b;
  if (auto b = p.boolean("neighSuppress")) x.neigh_suppress = *b;
  x.state = p.num<uint8_t>("state");
  x.priority = p.num<uint16_t>("priority");
  x.cost = p.num("cost");
  x.flush = p.flag("flush");
  p.done();
}

void read_kind(Obj& o, rtnl::LinkSpec& s, std::vector<Handle>& holds) {
  s.kind = o.str("kind").value_or("");
  if (auto peer = o.obj("peer")) {
    s.peer.emplace();
    read_common(*peer, *s.peer, holds);
    peer->done();
  }
  if (auto b = o.obj("bridge")) read_bridge(*b, s.bridge);
  if (auto v = o.obj("vxlan")) read_vxlan(*v, s.vxlan);
  if (auto m = o.obj("macvlan")) {
    s.macvlan.mode = named(names::kMacvlanModes, *m, "mode");
    s.macvlan.flags = m->num<uint16_t>("flags");
    m->done();
  }
  if (auto m = o.obj("vlan")) {
    s.vlan.id = m->num<uint16_t>("id");
    if (auto p = named(names::kVlanProtocols, *m, "protocol")) s.vlan.protocol = static_cast<uint16_t>(*p);
    m->done();
  }
  if (auto m = o.obj("ipvlan")) {
    if (auto mode = named(names::kIpvlanModes, *m, "mode")) s.ipvlan.mode = static_cast<uint16_t>(*mode);
    s.ipvlan.flags = m->num<uint16_t>("flags");
    m->done();
  }
  if (auto raw = o.bytes("infoData")) s.raw_info_data = *raw;
  if (auto p = o.obj("bridgePort")) read_port(*p, s.port);
}

rtnl::AddressSpec read_addr(Obj& o) {
  rtnl::AddressSpec a;
  a.index = o.req_num<int32_t>("index");
  auto local = o.ip("address");
  if (!local) o.fail("address", "is required");
  a.local = *local;
  a.prefixlen = o.num<uint8_t>("prefixlen", a.local.family == AF_INET6 ? 128 : 32);
  a.peer = o.ip("peer").value_or(rtnl::IpAddr{});
  a.broadcast = o.ip("broadcast").value_or(rtnl::IpAddr{});
  a.label = o.str("label").value_or("");
  a.scope = o.num<uint8_t>("scope", RT_SCOPE_UNIVERSE);
  a.flags = o.num<uint32_t>("flags", 0);
  a.valid_lft = o.num("validLifetime");
  a.preferred_lft = o.num("preferredLifetime");
  a.metric = o.num("metric");
  return a;
}

rtnl::RouteSpec read_route(Obj& o) {
  rtnl::RouteSpec r;
  r.family = o.num<uint8_t>("family", 4) == 6 ? AF_INET6 : AF_INET;
  r.dst = o.ip("dst").value_or(rtnl::IpAddr{});
  r.dst_len = o.num<uint8_t>("dstLen", 0);
  r.src = o.ip("src").value_or(rtnl::IpAddr{});
  r.src_len = o.num<uint8_t>("srcLen", 0);
  r.gateway = o.ip("gateway").value_or(rtnl::IpAddr{});
  r.prefsrc = o.ip("prefsrc").value_or(rtnl::IpAddr{});
  r.oif = o.num<int32_t>("oif", 0);
  r.priority = o.num("metric");
  r.table = o.num<uint32_t>("table", RT_TABLE_MAIN);
  r.protocol = o.num<uint8_t>("protocol", RTPROT_BOOT);
  r.scope = o.num<uint8_t>("scope", RT_SCOPE_UNIVERSE);
  r.type = o.num<uint8_t>("type", RTN_UNICAST);
  r.tos = o.num<uint8_t>("tos", 0);
  if (o.flag("onlink")) r.flags |= RTNH_F_ONLINK;
  r.mtu = o.num("mtu");
  return r;
}

Step read_step(Obj& o) {
  std::string op = o.req_str("op");
  if (op == "linkAdd" || op == "linkSet") {
    LinkStep s;
    s.op = op == "linkAdd" ? LinkStep::Create : LinkStep::Change;
    read_common(o, s.spec.common, s.holds);
    read_own(o, s.spec.common);
    read_kind(o, s.spec, s.holds);
    s.echo = o.flag("echo");
    return s;
  }
  if (op == "linkDel") {
    LinkStep s;
    s.op = LinkStep::Delete;
    s.spec.common.index = o.num<int32_t>("index", 0);
    s.spec.common.name = o.str("name").value_or("");
    s.group = o.num("group");
    return s;
  }
  if (op == "addrAdd" || op == "addrReplace" || op == "addrDel") {
    AddrStep s;
    s.type = op == "addrDel" ? RTM_DELADDR : RTM_NEWADDR;
    s.flags = op == "addrAdd" ? (NLM_F_CREATE | NLM_F_EXCL) : op == "addrReplace" ? (NLM_F_CREATE | NLM_F_REPLACE) : 0;
    s.spec = read_addr(o);
    return s;
  }
  if (op == "routeAdd" || op == "routeReplace" || op == "routeAppend" || op == "routeDel") {
    RouteStep s;
    s.type = op == "routeDel" ? RTM_DELROUTE : RTM_NEWROUTE;
    s.flags = op == "routeAdd"       ? (NLM_F_CREATE | NLM_F_EXCL)
              : op == "routeReplace" ? (NLM_F_CREATE | NLM_F_REPLACE)
              : op == "routeAppend"  ? (NLM_F_CREATE | NLM_F_APPEND)
                                     : 0;
    s.spec = read_route(o);
    return s;
  }
  if (op == "neigh") {
    NeighStep s;
    auto req = o.obj("req");
    if (!req) o.fail("req", "is required");
    s.req = neigh_request_from(*req);
    if (s.req.type == RTM_GETNEIGH) o.fail("req", "must be a change, not a get");
    s.req.ifindex = o.num<int32_t>("index", 0);
    if (auto via = o.num<uint32_t>("via")) s.req.via = *via;
    s.missing_ok = o.flag("missingOk");
    return s;
  }
  o.fail("op", "must be linkAdd, linkSet, linkDel, addrAdd, addrReplace, addrDel, routeAdd, routeReplace, routeAppend, routeDel or neigh, got '" + op + "'");
}

// Calls fn on every IFLA_NET_NS_FD the steps carry (links and veth peers).
template <typename Steps, typename F>
void each_netns_fd(Steps& steps, F fn) {
  for (auto& s : steps) {
    if (auto* l = std::get_if<LinkStep>(&s)) {
      fn(l->spec.common.netns_fd);
      if (l->spec.peer) fn(l->spec.peer->netns_fd);
    }
  }
}

}  // namespace

std::vector<Step> read_steps(js::Arr& arr) {
  std::vector<Step> steps;
  steps.reserve(arr.size());
  for (uint32_t i = 0; i < arr.size(); i++) {
    Obj o = arr.obj(i);
    steps.push_back(read_step(o));
    o.done();
  }
  return steps;
}

const char* step_op_name(const Step& s) {
  if (auto* l = std::get_if<LinkStep>(&s)) return l->op == LinkStep::Delete ? "RTM_DELLINK" : "RTM_NEWLINK";
  if (auto* a = std::get_if<AddrStep>(&s)) return a->type == RTM_DELADDR ? "RTM_DELADDR" : "RTM_NEWADDR";
  if (auto* n = std::get_if<NeighStep>(&s)) return n->req.type == RTM_DELNEIGH ? "RTM_DELNEIGH" : "RTM_NEWNEIGH";
  return std::get<RouteStep>(s).type == RTM_DELROUTE ? "RTM_DELROUTE" : "RTM_NEWROUTE";
}

size_t encode_step(nl::Builder& b, const Step& s) {
  if (auto* l = std::get_if<LinkStep>(&s)) {
    switch (l->op) {
      case LinkStep::Create: return rtnl::encode_link_create(b, l->spec, l->echo);
      case LinkStep::Change: return rtnl::encode_link_change(b, l->spec);
      case LinkStep::Delete:
        rtnl::encode_link_delete(b, l->spec.common.index, l->spec.common.name, l->group);
        return 1;
    }
  }
  if (auto* a = std::get_if<AddrStep>(&s)) {
    rtnl::encode_addr(b, a->type, a->flags, a->spec);
    return 1;
  }
  if (auto* n = std::get_if<NeighStep>(&s)) {
    rtnl::encode_neigh(b, n->req);
    return 1;
  }
  const auto& r = std::get<RouteStep>(s);
  rtnl::encode_route(b, r.type, r.flags, r.spec);
  return 1;
}

bool has_pending_netns(const std::vector<Step>& steps) {
  bool pending = false;
  each_netns_fd(steps, [&](const int& f) { pending = pending || f == kPendingNetns; });
  return pending;
}

void set_pending_netns(std::vector<Step>& steps, int fd) {
  each_netns_fd(steps, [fd](int& f) {
    if (f == kPendingNetns) f = fd;
  });
}

}  // namespace np::ops
