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
    const auto& x = *l.bridge;
    Out b(env);
    // Bridge timers travel in clock_t (1/100 s); shown in seconds as `ip -d` does.
    auto secs = [](const std::optional<uint32_t>& t) { return t ? std::optional<double>(*t / 100.0) : std::nullopt; };
    b.flag("stp", x.stp_state).opt("ageingTime", secs(x.ageing_time)).opt("forwardDelay", secs(x.forward_delay));
    b.opt("priority", x.priority).flag("vlanFiltering", x.vlan_filtering).flag("multicastSnooping", x.mcast_snooping);
    o.Set("bridge", b.opt("defaultPvid", x.default_pvid).object());
  }
  if (l.vxlan) {
    const auto& x = *l.vxlan;
    Out v(env);
    v.opt("vni", x.vni);
    if (x.group.set()) {
      bool mcast = x.group.family == AF_INET ? (x.group.bytes[0] & 0xf0) == 0xe0 : x.group.bytes[0] == 0xff;
      v.set(mcast ? "group" : "remote", rtnl::format_ip(x.group));
    }
    if (x.local.set()) v.set("local", rtnl::format_ip(x.local));
    v.opt("device", x.device).opt("dstport", x.port);
    if (x.port_low && x.port_high) {
      auto r = Napi::Array::New(env, 2);
      r.Set(0u, *x.port_low);
      r.Set(1u, *x.port_high);
      v.set("srcPortRange", r);
    }
    v.opt("ttl", x.ttl).opt("tos", x.tos).flag("learning", x.learning).flag("proxy", x.proxy);
    v.flag("l2miss", x.l2miss).flag("l3miss", x.l3miss).flag("udpChecksum", x.udp_csum).opt("ageing", x.ageing);
    o.Set("vxlan", v.object());
  }
  if (l.macvlan) {
    Out m(env);
    if (l.macvlan->mode) set_named(m.object(), "mode", names::kMacvlanModes, *l.macvlan->mode);
    o.Set("macvlan", m.opt("flags", l.macvlan->flags).object());
  }
  if (l.vlan) {
    Out m(env);
    m.opt("id", l.vlan->id);
    if (l.vlan->protocol) set_named(m.object(), "protocol", names::kVlanProtocols, *l.vlan->protocol);
    o.Set("vlan", m.object());
  }
  if (l.ipvlan) {
    Out m(env);
    if (l.ipvlan->mode) set_named(m.object(), "mode", names::kIpvlanModes, *l.ipvlan->mode);
    o.Set("ipvlan", m.opt("flags", l.ipvlan->flags).object());
  }
  if (l.port) {
    const auto& x = *l.port;
    Out p(env);
    p.flag("hairpin", x.hairpin).flag("learning", x.learning).flag("flood", x.unicast_flood);
    p.flag("isolated", x.isolated).flag("proxyArp", x.proxyarp).flag("proxyArpWifi", x.proxyarp_wifi);
    p.flag("neighSuppress", x.neigh_suppress).opt("state", x.state).opt("priority", x.priority).opt("cost", x.cost);
    o.Set("bridgePort", p.object());
  }
  if (l.addr_gen_mode) set_named(o, "addrGenMode", names::kAddrGenModes, *l.addr_gen_mode);
}

}  // namespace

Napi::Object link_to_js(Napi::Env env, const rtnl::Link& l) {
  Out o(env);
  o.set("index", l.index).set("name", l.name).opt("kind", l.kind).set("type", l.type).set("flags", l.flags);
  o.set("up", (l.flags & IFF_UP) != 0).set("running", (l.flags & IFF_RUNNING) != 0);
  o.set("lowerUp", (l.flags & IFF_LOWER_UP) != 0);
  if (l.operstate) {
    const char* state = names::name_of(names::kOperstates, *l.operstate);
    o.set("operstate", state ? state : "unknown");
  }
  o.opt("mtu", l.mtu).opt("minMtu", l.min_mtu).opt("maxMtu", l.max_mtu);
  o.opt("mac", l.address).opt("broadcast", l.broadcast).opt("permanentMac", l.perm_address);
  o.opt("master", l.master).opt("link", l.link).opt("linkNetnsId", l.link_netnsid);
  o.opt("txqlen", l.txqlen).opt("group", l.group).opt("promiscuity", l.promiscuity);
  o.opt("numTxQueues", l.num_tx_queues).opt("numRxQueues", l.num_rx_queues).flag("carrier", l.carrier);
  o.opt("alias", l.alias).opt("qdisc", l.qdisc).opt("portKind", l.slave_kind);
  add_kind_data(env, o, l);
  if (!l.unknown.empty()) {
    o.set("unknownAttributes", array_to_js(env, l.unknown, [](Napi::Env env, const auto& u) {
      return Out(env).set("type", u.first).set("data", bytes_to_js(env, u.second)).object();
    }));
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
  Out o(env);
  o.set("family", family_number(a.family)).set("index", a.index).set("address", a.address);
  o.set("prefixlen", a.prefixlen).set("cidr", a.address + "/" + std::to_string(a.prefixlen));
  o.opt("peer", a.peer).opt("broadcast", a.broadcast).opt("label", a.label);
  o.set("scope", named(env, names::kScopes, a.scope)).set("flags", a.flags);
  return o.opt("validLifetime", a.valid_lft).opt("preferredLifetime", a.preferred_lft).opt("metric", a.metric);
}

Napi::Object route_to_js(Napi::Env env, const rtnl::Route& r) {
  Out o(env);
  o.set("family", family_number(r.family));
  if (r.dst.empty() && r.dst_len == 0) o.set("dst", "default");
  else o.set("dst", (r.dst.empty() ? std::string(r.family == AF_INET6 ? "::" : "0.0.0.0") : r.dst) + "/" + std::to_string(r.dst_len));
  if (!r.src.empty()) o.set("src", r.src + "/" + std::to_string(r.src_len));
  o.opt("gateway", r.gateway);
  if (r.oif) o.set("oif", r.oif);
  if (r.iif) o.set("iif", r.iif);
  o.opt("prefsrc", r.prefsrc).opt("metric", r.priority).set("table", r.table);
  o.set("protocol", named(env, names::kRouteProtocols, r.protocol)).set("scope", named(env, names::kScopes, r.scope));
  o.set("type", named(env, names::kRouteTypes, r.type)).set("flags", r.flags);
  o.set("onlink", (r.flags & RTNH_F_ONLINK) != 0);
  if (r.tos) o.set("tos", r.tos);
  return o.opt("mtu", r.mtu);
}

}  // namespace np::js
