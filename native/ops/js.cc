#include "ops/js.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "netlink/parser.h"

namespace np::js {

Failure capture_current_exception() {
  Failure f;
  try {
    throw;
  } catch (const nl::NlError& e) {
    f.err = e.err;
    f.op = e.op;
    f.ext = e.ext;
    f.from_kernel = e.from_kernel;
    f.step = e.step;
    f.missing_attr = e.missing_attr;
    f.message = e.what();
  } catch (const nl::ParseError& e) {
    f.err = EBADMSG;
    f.op = "decode";
    f.message = e.what();
    f.ext = e.what();  // names the attribute at fault
  } catch (const nl::BuildError& e) {
    f.err = EMSGSIZE;
    f.op = "encode";
    f.message = e.what();
    f.ext = e.what();
  } catch (const std::bad_alloc&) {
    f.err = ENOMEM;
    f.op = "alloc";
    f.message = "out of memory";
  } catch (const std::exception& e) {
    f.err = EIO;
    f.op = "internal";
    f.message = e.what();
    f.ext = e.what();
  } catch (...) {
    f.err = EIO;
    f.op = "internal";
    f.message = "unknown native error";
  }
  return f;
}

Napi::Error to_error(Napi::Env env, const Failure& f) {
  auto e = Napi::Error::New(env, f.message.empty() ? std::strerror(f.err) : f.message);
  auto o = e.Value();
  o.Set("errno", f.err);
  o.Set("op", f.op);
  o.Set("strerror", std::strerror(f.err));
  if (!f.ext.empty()) o.Set(f.from_kernel ? "extack" : "detail", f.ext);
  if (f.step >= 0) o.Set("step", f.step);
  if (f.missing_attr >= 0) o.Set("missingAttribute", static_cast<double>(f.missing_attr));
  o.Set("native", true);
  return e;
}

namespace {

// Per environment: one thread-safe function through which the namespace thread hands
// finished operations back, referenced (keeping the loop alive) while any is pending.
struct NsCompletions;
void settle_ns_op(Napi::Env env, Napi::Function, NsCompletions* c, NsOp* op);
using NsTsfn = Napi::TypedThreadSafeFunction<NsCompletions, NsOp, settle_ns_op>;

struct NsCompletions {
  NsTsfn tsfn;
  size_t pending = 0;
};

void settle_ns_op(Napi::Env env, Napi::Function, NsCompletions* c, NsOp* op) {
  std::unique_ptr<NsOp> owned(op);
  if (env == nullptr) return;  // the environment is going away: drop it
  if (--c->pending == 0) c->tsfn.Unref(env);
  owned->settle(env);
}

}  // namespace

void submit_ns_op(Napi::Env env, NsOp* op) {
  auto* c = env.GetInstanceData<NsCompletions>();
  if (c == nullptr) {
    auto fresh = std::make_unique<NsCompletions>();
    fresh->tsfn = NsTsfn::New(env, "netplumb-netns", 0, 1, fresh.get());
    fresh->tsfn.Unref(env);
    c = fresh.release();
    env.SetInstanceData(c);
  }
  if (c->pending++ == 0) c->tsfn.Ref(env);
  NsTsfn tsfn = c->tsfn;
  ns::NsThread::instance().submit([op, tsfn]() mutable {
    op->run();
    // napi_closing: the environment is gone; nobody will settle it.
    if (tsfn.NonBlockingCall(op) != napi_ok) delete op;
  });
}

namespace {

struct HandleBox {
  std::shared_ptr<ns::NsHandle> h;
};

const char* operstate_name(uint8_t s) {
  static const char* names[] = {"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"};
  return s < 7 ? names[s] : "unknown";
}

const char* name_of(const std::vector<std::pair<const char*, uint32_t>>& table, uint32_t v) {
  for (auto& [n, x] : table) if (x == v) return n;
  return nullptr;
}

void set_named(Napi::Object o, const char* key, const std::vector<std::pair<const char*, uint32_t>>& table, uint32_t v) {
  if (const char* n = name_of(table, v)) o.Set(key, n);
  else o.Set(key, v);
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
    if (l.macvlan->mode) set_named(m, "mode", rtnl::kMacvlanModes, *l.macvlan->mode);
    if (l.macvlan->flags) m.Set("flags", *l.macvlan->flags);
    o.Set("macvlan", m);
  }
  if (l.vlan) {
    auto m = Napi::Object::New(env);
    if (l.vlan->id) m.Set("id", *l.vlan->id);
    if (l.vlan->protocol) set_named(m, "protocol", rtnl::kVlanProtocols, *l.vlan->protocol);
    o.Set("vlan", m);
  }
  if (l.ipvlan) {
    auto m = Napi::Object::New(env);
    if (l.ipvlan->mode) set_named(m, "mode", rtnl::kIpvlanModes, *l.ipvlan->mode);
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
    if (x.proxyarp) p.Set("proxyArp", *x.proxyarp != 0);
    if (x.proxyarp_wifi) p.Set("proxyArpWifi", *x.proxyarp_wifi != 0);
    if (x.neigh_suppress) p.Set("neighSuppress", *x.neigh_suppress != 0);
    if (x.state) p.Set("state", *x.state);
    if (x.priority) p.Set("priority", *x.priority);
    if (x.cost) p.Set("cost", *x.cost);
    o.Set("bridgePort", p);
  }
  if (l.addr_gen_mode) set_named(o, "addrGenMode", rtnl::kAddrGenModes, *l.addr_gen_mode);
}

}  // namespace

Napi::Value wrap_handle(Napi::Env env, std::shared_ptr<ns::NsHandle> h) {
  return Napi::External<HandleBox>::New(env, new HandleBox{std::move(h)},
                                        [](Napi::Env, HandleBox* box) { delete box; });
}

std::shared_ptr<ns::NsHandle> unwrap_handle(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a namespace handle");
  auto h = v.As<Napi::External<HandleBox>>().Data()->h;
  h->check_open();
  return h;
}

std::string arg_string(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

uint32_t arg_u32(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

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
  if (l.operstate) o.Set("operstate", operstate_name(*l.operstate));
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
      pair.Set("data", Napi::Buffer<char>::Copy(env, l.unknown[i].second.data(), l.unknown[i].second.size()));
      arr.Set(i, pair);
    }
    o.Set("unknownAttributes", arr);
  }
  return o;
}

Napi::Array links_to_js(Napi::Env env, const std::vector<rtnl::Link>& links) {
  auto arr = Napi::Array::New(env, links.size());
  for (size_t i = 0; i < links.size(); i++) arr.Set(i, link_to_js(env, links[i]));
  return arr;
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

}  // namespace np::js

namespace np::js {

Napi::Value scope_to_js(Napi::Env env, uint8_t scope) {
  switch (scope) {
    case RT_SCOPE_UNIVERSE: return Napi::String::New(env, "universe");
    case RT_SCOPE_SITE: return Napi::String::New(env, "site");
    case RT_SCOPE_LINK: return Napi::String::New(env, "link");
    case RT_SCOPE_HOST: return Napi::String::New(env, "host");
    case RT_SCOPE_NOWHERE: return Napi::String::New(env, "nowhere");
    default: return Napi::Number::New(env, scope);
  }
}

Napi::Value rtn_type_to_js(Napi::Env env, uint8_t type) {
  static const char* names[] = {"unspec", "unicast", "local", "broadcast", "anycast", "multicast",
                                "blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve"};
  if (type < sizeof names / sizeof names[0]) return Napi::String::New(env, names[type]);
  return Napi::Number::New(env, type);
}

Napi::Value protocol_to_js(Napi::Env env, uint8_t proto) {
  switch (proto) {
    case RTPROT_UNSPEC: return Napi::String::New(env, "unspec");
    case RTPROT_REDIRECT: return Napi::String::New(env, "redirect");
    case RTPROT_KERNEL: return Napi::String::New(env, "kernel");
    case RTPROT_BOOT: return Napi::String::New(env, "boot");
    case RTPROT_STATIC: return Napi::String::New(env, "static");
    case RTPROT_RA: return Napi::String::New(env, "ra");
    case RTPROT_DHCP: return Napi::String::New(env, "dhcp");
    default: return Napi::Number::New(env, proto);
  }
}

static int family_number(uint8_t af) { return af == AF_INET6 ? 6 : af == AF_INET ? 4 : af; }

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
  o.Set("scope", scope_to_js(env, a.scope));
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
  o.Set("protocol", protocol_to_js(env, r.protocol));
  o.Set("scope", scope_to_js(env, r.scope));
  o.Set("type", rtn_type_to_js(env, r.type));
  o.Set("flags", r.flags);
  o.Set("onlink", (r.flags & RTNH_F_ONLINK) != 0);
  if (r.tos) o.Set("tos", r.tos);
  if (r.mtu) o.Set("mtu", *r.mtu);
  return o;
}

}  // namespace np::js
