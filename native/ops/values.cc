#include "ops/values.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <cstring>

#include "constants.h"

namespace np::js {

namespace {

// A value by its name in a table of native/constants.h, else as its number.
template <size_t N>
Napi::Value named(Napi::Env env, const names::Name (&table)[N], int64_t v) {
  if (const char* n = names::name_of(table, v)) return Napi::String::New(env, n);
  return Napi::Number::New(env, static_cast<double>(v));
}

template <size_t N>
void set_named(Napi::Object o, const char* key, const names::Name (&table)[N], int64_t v) {
  o.Set(key, named(o.Env(), table, v));
}

void add_kind_data(Napi::Env env, Napi::Object o, const rtnl::Link& l) {
  if (l.bridge) {
    auto b = Napi::Object::New(env);
    const auto& x = *l.bridge;
    // Bridge timers travel in clock_t (1/100 s); shown in seconds as `ip -d` does.
    if (x.stp_state) b.Set("stp", *x.stp_state != 0);
    if (x.ageing_time) b.Set("ageingTime", *x.ageing_time / 100.0);
    if (x.forward_delay) b.Set("forwardDelay", *x.forward_delay / 100.0);
    if (x.priority) b.Set("priority", *x.priority);
    if (x.vlan_filtering) b.Set("vlanFiltering", *x.vlan_filtering != 0);
    if (x.mcast_snooping) b.Set("multicastSnooping", *x.mcast_snooping != 0);
    if (x.default_pvid) b.Set("defaultPvid", *x.default_pvid);
    o.Set("bridge", b);
  }
  if (l.vxlan) {
    auto v = Napi::Object::New(env);
    const auto& x = *l.vxlan;
    if (x.vni) v.Set("vni", *x.vni);
    if (x.group.set()) {
      bool mcast = x.group.family == AF_INET ? (x.group.bytes[0] & 0xf0) == 0xe0 : x.group.bytes[0] == 0xff;
      v.Set(mcast ? "group" : "remote", rtnl::format_ip(x.group));
    }
    if (x.local.set()) v.Set("local", rtnl::format_ip(x.local));
    if (x.device) v.Set("device", *x.device);
    if (x.port) v.Set("dstport", *x.port);
    if (x.port_low && x.port_high) {
      auto r = Napi::Array::New(env, 2);
      r.Set(0u, *x.port_low);
      r.Set(1u, *x.port_high);
      v.Set("srcPortRange", r);
    }
    if (x.ttl) v.Set("ttl", *x.ttl);
    if (x.tos) v.Set("tos", *x.tos);
    if (x.learning) v.Set("learning", *x.learning != 0);
    if (x.proxy) v.Set("proxy", *x.proxy != 0);
    if (x.l2miss) v.Set("l2miss", *x.l2miss != 0);
    if (x.l3miss) v.Set("l3miss", *x.l3miss != 0);
    if (x.udp_csum) v.Set("udpChecksum", *x.udp_csum != 0);
    if (x.ageing) v.Set("ageing", *x.ageing);
    o.Set("vxlan", v);
  }
  if (l.macvlan) {
    auto m = Napi::Object::New(env);
    if (l.macvlan->mode) set_named(m, "mode", names::kMacvlanModes, *l.macvlan->mode);
    if (l.macvlan->flags) m.Set("flags", *l.macvlan->flags);
    o.Set("macvlan", m);
  }
  if (l.vlan) {
    auto m = Napi::Object::New(env);
    if (l.vlan->id) m.Set("id", *l.vlan->id);
    if (l.vlan->protocol) set_named(m, "protocol", names::kVlanProtocols, *l.vlan->protocol);
    o.Set("vlan", m);
  }
  if (l.ipvlan) {
    auto m = Napi::Object::New(env);
    if (l.ipvlan->mode) set_named(m, "mode", names::kIpvlanModes, *l.ipvlan->mode);
    if (l.ipvlan->flags) m.Set("flags", *l.ipvlan->flags);
    o.Set("ipvlan", m);
  }
  if (l.port) {
    auto p = Napi::Object::New(env);
    const auto& x = *l.port;
    if (x.hairpin) p.Set("hairpin", *x.hairpin != 0);
    if (x.learning) p.Set("learning", *x.learning != 0);
    if (x.unicast_flood) p.Set("flood", *x.unicast_flood != 0);
    if (x.isolated) p.Set("isolated", *x.isolated != 0);
    if (x.state) p.Set("state", *x.state);
    if (x.priority) p.Set("priority", *x.priority);
    if (x.cost) p.Set("cost", *x.cost);
    o.Set("bridgePort", p);
  }
  if (l.addr_gen_mode) set_named(o, "addrGenMode", names::kAddrGenModes, *l.addr_gen_mode);
}

}  // namespace

Napi::Object link_to_js(Napi::Env env, const rtnl::Link& l) {
  auto o = Napi::Object::New(env);
  o.Set("index", l.index);
  o.Set("name", l.name);
  if (l.kind) o.Set("kind", *l.kind);
  o.Set("type", l.type);
  o.Set("flags", l.flags);
  o.Set("up", (l.flags & IFF_UP) != 0);
  o.Set("running", (l.flags & IFF_RUNNING) != 0);
  o.Set("lowerUp", (l.flags & IFF_LOWER_UP) != 0);
  if (l.operstate) {
    const char* state = names::name_of(names::kOperstates, *l.operstate);
    o.Set("operstate", state ? state : "unknown");
  }
  if (l.mtu) o.Set("mtu", *l.mtu);
  if (l.min_mtu) o.Set("minMtu", *l.min_mtu);
  if (l.max_mtu) o.Set("maxMtu", *l.max_mtu);
  if (l.address) o.Set("mac", *l.address);
  if (l.broadcast) o.Set("broadcast", *l.broadcast);
  if (l.perm_address) o.Set("permanentMac", *l.perm_address);
  if (l.master) o.Set("master", *l.master);
  if (l.link) o.Set("link", *l.link);
  if (l.link_netnsid) o.Set("linkNetnsId", *l.link_netnsid);
  if (l.txqlen) o.Set("txqlen", *l.txqlen);
  if (l.group) o.Set("group", *l.group);
  if (l.promiscuity) o.Set("promiscuity", *l.promiscuity);
  if (l.num_tx_queues) o.Set("numTxQueues", *l.num_tx_queues);
  if (l.num_rx_queues) o.Set("numRxQueues", *l.num_rx_queues);
  if (l.carrier) o.Set("carrier", *l.carrier != 0);
  if (l.alias) o.Set("alias", *l.alias);
  if (l.qdisc) o.Set("qdisc", *l.qdisc);
  if (l.slave_kind) o.Set("portKind", *l.slave_kind);
  add_kind_data(env, o, l);
  if (!l.unknown.empty()) {
    auto arr = Napi::Array::New(env, l.unknown.size());
    for (size_t i = 0; i < l.unknown.size(); i++) {
      auto pair = Napi::Object::New(env);
      pair.Set("type", l.unknown[i].first);
      pair.Set("data", bytes_to_js(env, l.unknown[i].second));
      arr.Set(i, pair);
    }
    o.Set("unknownAttributes", arr);
  }
  return o;
}

Napi::Array links_to_js(Napi::Env env, const std::vector<rtnl::Link>& links) {
  return array_to_js(env, links, link_to_js);
}

Napi::Object neigh_table_to_js(Napi::Env env, const rtnl::NeighTable& t) {
  auto ab = Napi::ArrayBuffer::New(env, t.cols.size() * sizeof(uint32_t));
  if (!t.cols.empty()) std::memcpy(ab.Data(), t.cols.data(), t.cols.size() * sizeof(uint32_t));
  napi_value text;
  NAPI_THROW_IF_FAILED(env, napi_create_string_latin1(env, t.text.data(), t.text.size(), &text), Napi::Object());
  // The kernel reports ages in USER_HZ ticks.
  static const double tick_ms = 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  auto o = Napi::Object::New(env);
  o.Set("cols", Napi::Uint32Array::New(env, t.cols.size(), ab, 0));
  o.Set("text", Napi::Value(env, text));
  o.Set("tickMs", tick_ms);
  return o;
}

Napi::Buffer<uint8_t> builder_to_buffer(Napi::Env env, const nl::Builder& b) {
  return Napi::Buffer<uint8_t>::Copy(env, b.data(), b.size());
}

Napi::Buffer<char> bytes_to_js(Napi::Env env, const std::string& bytes) {
  return Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size());
}

namespace {

int family_number(uint8_t af) { return af == AF_INET6 ? 6 : af == AF_INET ? 4 : af; }

}  // namespace

Napi::Object address_to_js(Napi::Env env, const rtnl::Address& a) {
  auto o = Napi::Object::New(env);
  o.Set("family", family_number(a.family));
  o.Set("index", a.index);
  o.Set("address", a.address);
  o.Set("prefixlen", a.prefixlen);
  o.Set("cidr", a.address + "/" + std::to_string(a.prefixlen));
  if (!a.peer.empty()) o.Set("peer", a.peer);
  if (!a.broadcast.empty()) o.Set("broadcast", a.broadcast);
  if (!a.label.empty()) o.Set("label", a.label);
  o.Set("scope", named(env, names::kScopes, a.scope));
  o.Set("flags", a.flags);
  if (a.valid_lft) o.Set("validLifetime", *a.valid_lft);
  if (a.preferred_lft) o.Set("preferredLifetime", *a.preferred_lft);
  if (a.metric) o.Set("metric", *a.metric);
  return o;
}

Napi::Object route_to_js(Napi::Env env, const rtnl::Route& r) {
  auto o = Napi::Object::New(env);
  o.Set("family", family_number(r.family));
  if (r.dst.empty() && r.dst_len == 0) o.Set("dst", "default");
  else o.Set("dst", (r.dst.empty() ? std::string(r.family == AF_INET6 ? "::" : "0.0.0.0") : r.dst) + "/" + std::to_string(r.dst_len));
  if (!r.src.empty()) o.Set("src", r.src + "/" + std::to_string(r.src_len));
  if (!r.gateway.empty()) o.Set("gateway", r.gateway);
  if (r.oif) o.Set("oif", r.oif);
  if (r.iif) o.Set("iif", r.iif);
  if (!r.prefsrc.empty()) o.Set("prefsrc", r.prefsrc);
  if (r.priority) o.Set("metric", *r.priority);
  o.Set("table", r.table);
  o.Set("protocol", named(env, names::kRouteProtocols, r.protocol));
  o.Set("scope", named(env, names::kScopes, r.scope));
  o.Set("type", named(env, names::kRouteTypes, r.type));
  o.Set("flags", r.flags);
  o.Set("onlink", (r.flags & RTNH_F_ONLINK) != 0);
  if (r.tos) o.Set("tos", r.tos);
  if (r.mtu) o.Set("mtu", *r.mtu);
  return o;
}

}  // namespace np::js
