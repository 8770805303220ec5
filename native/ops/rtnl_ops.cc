// rtnetlink writes as batches, and address and route reads.
//
// rtnlBatch takes steps already validated and normalised by TypeScript (indices, not
// names, for every reference; enums by name), turns them into C++ values on the JS
// thread, and on the pool encodes every step's messages into one buffer and sends it
// with one sendmsg. Each step's result is the first error among its messages.
#include <sys/socket.h>

#include <cerrno>
#include <type_traits>
#include <variant>

#include "netlink/parser.h"
#include "ops/js.h"
#include "ops/ops.h"
#include "rtnl/addr.h"
#include "rtnl/link.h"
#include "rtnl/link_spec.h"
#include "rtnl/route.h"

namespace np::ops {

namespace {

using Handle = std::shared_ptr<ns::NsHandle>;

// Strict reader of the plain objects TypeScript hands over. It reads the object's own
// properties once (one napi call for the names, one per present value) instead of one
// lookup per field it might have: a step has a few fields set out of dozens possible,
// and each napi property lookup by C string builds a JS string.
class Obj {
 public:
  Obj(Napi::Object o, std::string what) : o_(o), what_(std::move(what)) {
    auto names = o.GetPropertyNames();
    uint32_t n = names.Length();
    fields_.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value key = names.Get(i);
      Napi::Value v = o.Get(key);
      if (v.IsUndefined() || v.IsNull()) continue;
      fields_.emplace_back(key.As<Napi::String>().Utf8Value(), v);
    }
  }
  bool has(const char* k) const { return find(k) != nullptr; }
  template <typename T = uint32_t>
  std::optional<T> num(const char* k) const {
    const Napi::Value* v = find(k);
    if (!v) return std::nullopt;
    if (!v->IsNumber()) fail(k, "a number");
    if constexpr (std::is_floating_point_v<T>) return static_cast<T>(v->As<Napi::Number>().DoubleValue());
    else return static_cast<T>(v->As<Napi::Number>().Int64Value());
  }
  std::optional<bool> boolean(const char* k) const {
    const Napi::Value* v = find(k);
    if (!v) return std::nullopt;
    if (!v->IsBoolean()) fail(k, "a boolean");
    return v->As<Napi::Boolean>().Value();
  }
  std::optional<uint8_t> flag(const char* k) const {
    auto b = boolean(k);
    if (!b) return std::nullopt;
    return static_cast<uint8_t>(*b ? 1 : 0);
  }
  std::optional<std::string> str(const char* k) const {
    const Napi::Value* v = find(k);
    if (!v) return std::nullopt;
    if (!v->IsString()) fail(k, "a string");
    return v->As<Napi::String>().Utf8Value();
  }
  std::optional<Obj> obj(const char* k) const {
    const Napi::Value* v = find(k);
    if (!v) return std::nullopt;
    if (!v->IsObject()) fail(k, "an object");
    return Obj(v->As<Napi::Object>(), what_ + "." + k);
  }
  // Every field as (name, u32): for objects keyed by names the caller looks up in a
  // table (ipv4Conf), after TypeScript checked names and ranges.
  std::vector<std::pair<std::string, uint32_t>> u32_fields() const {
    std::vector<std::pair<std::string, uint32_t>> out;
    out.reserve(fields_.size());
    for (const auto& [name, v] : fields_) {
      if (!v.IsNumber()) fail(name.c_str(), "a number");
      out.emplace_back(name, static_cast<uint32_t>(v.As<Napi::Number>().Int64Value()));
    }
    return out;
  }
  Napi::Value raw(const char* k) const {
    const Napi::Value* v = find(k);
    return v ? *v : o_.Env().Undefined();
  }
  [[noreturn]] void fail(const char* k, const char* want) const {
    throw Napi::TypeError::New(o_.Env(), what_ + "." + k + " must be " + want);
  }

 private:
  const Napi::Value* find(const char* k) const {
    for (const auto& [name, v] : fields_)
      if (name == k) return &v;
    return nullptr;
  }
  Napi::Object o_;
  std::string what_;
  std::vector<std::pair<std::string, Napi::Value>> fields_;
};

rtnl::IpAddr ip_of(const Obj& o, const char* k) {
  auto s = o.str(k);
  return s ? rtnl::parse_ip(*s) : rtnl::IpAddr{};
}

// IFLA_NET_NS_FD of a namespace that does not exist yet (a pending handle); replaced
// by set_pending_netns before anything is encoded.
constexpr int kPendingNetns = -2;

struct LinkStep {
  enum Op { Create, Change, Delete } op;
  rtnl::LinkSpec spec;
  bool echo = false;
  std::optional<uint32_t> group;  // delete by group
  std::vector<Handle> holds;      // namespaces whose fds the messages carry
};

struct AddrStep {
  uint16_t type, flags;
  rtnl::AddressSpec spec;
};

struct RouteStep {
  uint16_t type, flags;
  rtnl::RouteSpec spec;
};

// A neighbour or FDB entry, in the same sendmsg as the link steps before it (an entry
// on a link this batch creates names it by its requested ifindex).
struct NeighStep {
  rtnl::NeighRequest req;
  bool missing_ok = false;  // a delete that finds nothing (ENOENT) is a success
};

using Step = std::variant<LinkStep, AddrStep, RouteStep, NeighStep>;

void read_common(const Obj& o, rtnl::LinkCommon& c, std::vector<Handle>& holds) {
  c.index = o.num<int32_t>("index").value_or(0);
  c.name = o.str("name").value_or("");
  c.rename = o.str("rename").value_or("");
  c.mtu = o.num("mtu");
  c.txqlen = o.num("txqlen");
  c.group = o.num("group");
  c.num_tx_queues = o.num("numTxQueues");
  c.num_rx_queues = o.num("numRxQueues");
  c.master = o.num<int32_t>("master");
  c.link = o.num<int32_t>("link");
  c.alias = o.str("alias");
  if (auto mac = o.str("mac")) c.mac = rtnl::parse_hwaddr(*mac);
  c.up = o.boolean("up");
  if (o.has("netns")) {
    auto h = js::unwrap_handle(o.raw("netns"));
    holds.push_back(h);
    // A namespace still to be made: its fd goes in when the call that makes it has it.
    c.netns_fd = h->is_pending() ? kPendingNetns : h->fd();
  }
  if (auto m = o.str("addrGenMode")) {
    c.addr_gen_mode = static_cast<uint8_t>(rtnl::value_of(rtnl::kAddrGenModes, *m, "addrGenMode"));
  }
  if (auto conf = o.obj("ipv4Conf")) {
    for (const auto& [name, value] : conf->u32_fields()) {
      c.ipv4_conf.emplace_back(static_cast<uint16_t>(rtnl::value_of(rtnl::kIpv4DevConf, name, "ipv4Conf setting")), value);
    }
  }
}

void read_kind(const Obj& o, rtnl::LinkSpec& s, std::vector<Handle>& holds) {
  if (auto peer = o.obj("peer")) {
    s.peer.emplace();
    read_common(*peer, *s.peer, holds);
  }
  if (auto b = o.obj("bridge")) {
    auto secs = [&](const char* k) -> std::optional<uint32_t> {
      auto v = b->num<double>(k);
      if (!v) return std::nullopt;
      return static_cast<uint32_t>(*v * 100 + 0.5);  // seconds -> clock_t
    };
    if (auto stp = b->boolean("stp")) s.bridge.stp_state = *stp ? 1 : 0;
    s.bridge.ageing_time = secs("ageingTime");
    s.bridge.forward_delay = secs("forwardDelay");
    s.bridge.priority = b->num<uint16_t>("priority");
    s.bridge.vlan_filtering = b->flag("vlanFiltering");
    s.bridge.mcast_snooping = b->flag("multicastSnooping");
    s.bridge.default_pvid = b->num<uint16_t>("defaultPvid");
  }
  if (auto v = o.obj("vxlan")) {
    auto& x = s.vxlan;
    x.vni = v->num("vni");
    x.local = ip_of(*v, "local");
    x.group = v->has("group") ? ip_of(*v, "group") : ip_of(*v, "remote");
    x.device = v->num("device");
    x.port = v->num<uint16_t>("dstport");
    if (v->has("srcPortRange")) {
      auto r = v->raw("srcPortRange").As<Napi::Array>();
      x.port_low = static_cast<uint16_t>(r.Get(0u).As<Napi::Number>().Uint32Value());
      x.port_high = static_cast<uint16_t>(r.Get(1u).As<Napi::Number>().Uint32Value());
    }
    x.ttl = v->num<uint8_t>("ttl");
    x.tos = v->num<uint8_t>("tos");
    x.learning = v->flag("learning");
    x.proxy = v->flag("proxy");
    x.l2miss = v->flag("l2miss");
    x.l3miss = v->flag("l3miss");
    x.udp_csum = v->flag("udpChecksum");
    x.ageing = v->num("ageing");
  }
  if (auto m = o.obj("macvlan")) {
    if (auto mode = m->str("mode")) s.macvlan.mode = rtnl::value_of(rtnl::kMacvlanModes, *mode, "macvlan mode");
    s.macvlan.flags = m->num<uint16_t>("flags");
  }
  if (auto m = o.obj("vlan")) {
    s.vlan.id = m->num<uint16_t>("id");
    if (auto p = m->str("protocol")) {
      s.vlan.protocol = static_cast<uint16_t>(rtnl::value_of(rtnl::kVlanProtocols, *p, "vlan protocol"));
    }
  }
  if (auto m = o.obj("ipvlan")) {
    if (auto mode = m->str("mode")) {
      s.ipvlan.mode = static_cast<uint16_t>(rtnl::value_of(rtnl::kIpvlanModes, *mode, "ipvlan mode"));
    }
    s.ipvlan.flags = m->num<uint16_t>("flags");
  }
  if (o.has("infoData")) {
    auto v = o.raw("infoData");
    if (!v.IsBuffer()) o.fail("infoData", "a Buffer");
    auto buf = v.As<Napi::Buffer<uint8_t>>();
    s.raw_info_data.assign(reinterpret_cast<const char*>(buf.Data()), buf.Length());
  }
  if (auto p = o.obj("bridgePort")) {
    s.port.hairpin = p->flag("hairpin");
    s.port.learning = p->flag("learning");
    s.port.unicast_flood = p->flag("flood");
    s.port.isolated = p->flag("isolated");
    s.port.proxyarp = p->flag("proxyArp");
    s.port.proxyarp_wifi = p->flag("proxyArpWifi");
    s.port.neigh_suppress = p->flag("neighSuppress");
    s.port.state = p->num<uint8_t>("state");
    s.port.priority = p->num<uint16_t>("priority");
    s.port.cost = p->num("cost");
    s.port.flush = p->boolean("flush").value_or(false);
  }
}

rtnl::AddressSpec read_addr(const Obj& o) {
  rtnl::AddressSpec a;
  a.index = o.num<int32_t>("index").value_or(0);
  a.local = rtnl::parse_ip(o.str("address").value_or(""));
  a.prefixlen = o.num<uint8_t>("prefixlen").value_or(a.local.family == AF_INET6 ? 128 : 32);
  a.peer = ip_of(o, "peer");
  a.broadcast = ip_of(o, "broadcast");
  a.label = o.str("label").value_or("");
  a.scope = o.num<uint8_t>("scope").value_or(RT_SCOPE_UNIVERSE);
  a.flags = o.num("flags").value_or(0);
  a.valid_lft = o.num("validLifetime");
  a.preferred_lft = o.num("preferredLifetime");
  a.metric = o.num("metric");
  return a;
}

rtnl::RouteSpec read_route(const Obj& o) {
  rtnl::RouteSpec r;
  r.family = o.num<uint8_t>("family").value_or(4) == 6 ? AF_INET6 : AF_INET;
  r.dst = ip_of(o, "dst");
  r.dst_len = o.num<uint8_t>("dstLen").value_or(0);
  r.src = ip_of(o, "src");
  r.src_len = o.num<uint8_t>("srcLen").value_or(0);
  r.gateway = ip_of(o, "gateway");
  r.prefsrc = ip_of(o, "prefsrc");
  r.oif = o.num<int32_t>("oif").value_or(0);
  r.priority = o.num("metric");
  r.table = o.num("table").value_or(RT_TABLE_MAIN);
  r.protocol = o.num<uint8_t>("protocol").value_or(RTPROT_BOOT);
  r.scope = o.num<uint8_t>("scope").value_or(RT_SCOPE_UNIVERSE);
  r.type = o.num<uint8_t>("type").value_or(RTN_UNICAST);
  r.tos = o.num<uint8_t>("tos").value_or(0);
  if (o.boolean("onlink").value_or(false)) r.flags |= RTNH_F_ONLINK;
  r.mtu = o.num("mtu");
  return r;
}

Step read_step(const Napi::Object& raw, size_t i) {
  Obj o(raw, "step[" + std::to_string(i) + "]");
  std::string op = o.str("op").value_or("");
  if (op == "linkAdd" || op == "linkSet") {
    LinkStep s;
    s.op = op == "linkAdd" ? LinkStep::Create : LinkStep::Change;
    s.spec.kind = o.str("kind").value_or("");
    read_common(o, s.spec.common, s.holds);
    read_kind(o, s.spec, s.holds);
    s.echo = o.boolean("echo").value_or(false);
    return s;
  }
  if (op == "linkDel") {
    LinkStep s;
    s.op = LinkStep::Delete;
    s.spec.common.index = o.num<int32_t>("index").value_or(0);
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
    s.req = neigh_request_from(raw.Env(), o.raw("req"));
    if (s.req.type == RTM_GETNEIGH) o.fail("req", "a change, not a get");
    s.req.ifindex = o.num<int32_t>("index").value_or(0);
    if (auto via = o.num("via")) s.req.via = *via;
    s.missing_ok = o.boolean("missingOk").value_or(false);
    return s;
  }
  throw Napi::TypeError::New(raw.Env(), "step[" + std::to_string(i) + "]: unknown op '" + op + "'");
}

const char* op_name(const Step& s) {
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

struct StepOutcome {
  js::Failure failure;  // err == 0: success
  std::optional<rtnl::Link> link;  // echoed RTM_NEWLINK
};

std::vector<Step> read_steps(Napi::Env env, const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, "steps must be an array");
  auto arr = v.As<Napi::Array>();
  std::vector<Step> steps;
  steps.reserve(arr.Length());
  try {
    for (uint32_t i = 0; i < arr.Length(); i++) {
      auto s = arr.Get(i);
      if (!s.IsObject()) throw Napi::TypeError::New(env, "step must be an object");
      steps.push_back(read_step(s.As<Napi::Object>(), i));
    }
  } catch (const nl::NlError& e) {
    throw Napi::TypeError::New(env, e.ext.empty() ? e.what() : e.ext);
  }
  return steps;
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

// Puts the fd of a namespace just made where the steps refer to it while pending.
void set_pending_netns(std::vector<Step>& steps, int fd) {
  each_netns_fd(steps, [fd](int& f) {
    if (f == kPendingNetns) f = fd;
  });
}

// Encodes every step into one buffer, sends it with one sendmsg on h's route socket and
// collects each step's outcome. Runs on the pool.
std::vector<StepOutcome> run_batch(const Handle& h, const std::vector<Step>& steps) {
  std::vector<StepOutcome> out(steps.size());
  if (steps.empty()) return out;
  each_netns_fd(steps, [](const int& f) {
    if (f == kPendingNetns) throw nl::NlError(EBADF, "netns", "a namespace this batch moves a link into is not created yet");
  });
  // Each step may take several messages; remember which step each belongs to.
  nl::Builder b(1 << 20);
  std::vector<size_t> owner;
  for (size_t i = 0; i < steps.size(); i++) {
    size_t n = encode_step(b, steps[i]);
    owner.insert(owner.end(), n, i);
  }
  auto sock = h->socket(NETLINK_ROUTE);
  std::lock_guard<std::mutex> lk(sock->mutex());
  auto results = sock->transact(
      b,
      [&](size_t msg, const nlmsghdr* m) {
        if (m->nlmsg_type == RTM_NEWLINK) out[owner[msg]].link = rtnl::decode_link(m);
      },
      "rtnetlink batch");
  for (size_t m = 0; m < results.size(); m++) {
    auto& so = out[owner[m]];
    if (results[m].err == ENOENT) {
      auto* n = std::get_if<NeighStep>(&steps[owner[m]]);
      if (n && n->missing_ok && n->req.type == RTM_DELNEIGH) continue;
    }
    if (results[m].err && !so.failure.err) {
      so.failure.err = results[m].err;
      // A link change may include an AF_BRIDGE RTM_SETLINK (a port set disabled): name it.
      so.failure.op = b.header_at(b.messages()[m])->nlmsg_type == RTM_SETLINK ? "RTM_SETLINK" : op_name(steps[owner[m]]);
      so.failure.ext = results[m].ext;
      so.failure.from_kernel = true;
      so.failure.step = static_cast<int>(owner[m]);
      so.failure.missing_attr = results[m].missing_attr;
      so.failure.message = so.failure.op + (so.failure.ext.empty() ? "" : ": " + so.failure.ext);
    }
  }
  return out;
}

Napi::Array outcomes_to_js(Napi::Env env, const std::vector<StepOutcome>& steps) {
  auto arr = Napi::Array::New(env, steps.size());
  for (size_t i = 0; i < steps.size(); i++) {
    auto o = Napi::Object::New(env);
    if (steps[i].failure.err) o.Set("error", js::to_error(env, steps[i].failure).Value());
    if (steps[i].link) o.Set("link", js::link_to_js(env, *steps[i].link));
    arr.Set(i, o);
  }
  return arr;
}

// rtnlBatch(handle, steps): Promise<{ error?, link? }[]>
Napi::Value RtnlBatch(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto steps = std::make_shared<std::vector<Step>>(read_steps(env, info[1]));
  return js::run_async<std::vector<StepOutcome>>(
      env, [h, steps] { return run_batch(h, *steps); },
      [](Napi::Env env, std::vector<StepOutcome>& r) -> Napi::Value { return outcomes_to_js(env, r); });
}

// codec: encodeRtnlSteps(steps): Buffer — the messages rtnlBatch would send for these
// steps (seq 0, port 0), for comparing bytes with iproute2's or a hand-built request.
Napi::Value EncodeRtnlSteps(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto steps = read_steps(env, info[0]);
  return js::guard(env, [&]() -> Napi::Value {
    nl::Builder b(1 << 16);
    for (const auto& s : steps) encode_step(b, s);
    return js::builder_to_buffer(env, b);
  });
}

using Sequence = std::vector<std::pair<Handle, std::vector<Step>>>;
using SequenceOutcome = std::vector<std::vector<StepOutcome>>;

std::shared_ptr<Sequence> read_sequence(Napi::Env env, const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, "expected an array of [handle, steps]");
  auto arr = v.As<Napi::Array>();
  auto seq = std::make_shared<Sequence>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    auto pair = arr.Get(i);
    if (!pair.IsArray()) throw Napi::TypeError::New(env, "expected [handle, steps]");
    auto p = pair.As<Napi::Array>();
    seq->emplace_back(js::unwrap_handle(p.Get(0u)), read_steps(env, p.Get(1u)));
  }
  return seq;
}

// The batches in order; after one with a failed step the rest come back empty.
SequenceOutcome run_sequence(const Sequence& seq) {
  SequenceOutcome out;
  bool failed = false;
  for (auto& [h, steps] : seq) {
    if (failed) {
      out.emplace_back();
      continue;
    }
    out.push_back(run_batch(h, steps));
    for (auto& s : out.back()) failed = failed || s.failure.err != 0;
  }
  return out;
}

Napi::Value sequence_to_js(Napi::Env env, SequenceOutcome& r) {
  auto arr = Napi::Array::New(env, r.size());
  for (size_t i = 0; i < r.size(); i++) arr.Set(i, outcomes_to_js(env, r[i]));
  return arr;
}

// rtnlSequence([[handle, steps], ...]): Promise<{ error?, link? }[][]>
// Several batches, each on its own namespace's socket, one after the other in one
// native call (no return to JS in between); stops after the first batch with a failed
// step (later batches come back empty).
Napi::Value RtnlSequence(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto seq = read_sequence(env, info[0]);
  return js::run_async<SequenceOutcome>(
      env, [seq] { return run_sequence(*seq); }, sequence_to_js);
}

// rtnlCreateSequence(dir, name, pendingHandle, [[handle, steps], ...]): as rtnlSequence,
// after making the named namespace (as nsCreate) and giving it to pendingHandle, which
// the steps may use as a batch's namespace and as a link's netns. It all runs on the
// namespace thread: one hand-off there and one back for the namespace and every batch.
// Fails as a whole (nothing made) if the namespace cannot be made.
Napi::Value RtnlCreateSequence(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string dir = js::arg_string(info, 0, "dir");
  std::string name = js::arg_string(info, 1, "name");
  auto pending = js::unwrap_handle(info[2]);
  if (!pending->is_pending()) throw Napi::TypeError::New(env, "expected a pending namespace handle");
  auto seq = read_sequence(env, info[3]);
  return js::run_on_ns_thread<SequenceOutcome>(
      env,
      [dir, name, pending, seq] {
        auto made = ns::create_named(dir, name);
        pending->adopt(*made);
        for (auto& [h, steps] : *seq) set_pending_netns(steps, pending->fd());
        return run_sequence(*seq);
      },
      sequence_to_js);
}

// Runs one dump on the route socket, decoding each reply with decode.
template <typename T, typename Encode, typename Decode>
std::vector<T> dump(const Handle& h, const char* op, uint16_t want, Encode encode, Decode decode) {
  auto sock = h->socket(NETLINK_ROUTE);
  std::lock_guard<std::mutex> lk(sock->mutex());
  nl::Builder b(4096);
  encode(b);
  std::vector<T> out;
  sock->request(
      b, [&](size_t, const nlmsghdr* m) {
        if (m->nlmsg_type == want) out.push_back(decode(m));
      },
      op, [&] { out.clear(); });
  return out;
}

// addrList(handle, family (0|4|6), index): Promise<Address[]>
Napi::Value AddrList(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  uint32_t fam = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  uint8_t family = fam == 4 ? AF_INET : fam == 6 ? AF_INET6 : AF_UNSPEC;
  int32_t index = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
  return js::run_async<std::vector<rtnl::Address>>(
      env,
      [h, family, index] {
        return dump<rtnl::Address>(
            h, "RTM_GETADDR", RTM_NEWADDR, [&](nl::Builder& b) { rtnl::encode_addr_dump(b, family, index); },
            rtnl::decode_addr);
      },
      [](Napi::Env env, std::vector<rtnl::Address>& v) -> Napi::Value {
        return js::array_to_js(env, v, js::address_to_js);
      });
}

// routeList(handle, { family, table, protocol, type, oif }): Promise<Route[]>
Napi::Value RouteList(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  rtnl::RouteFilter f;
  if (info[1].IsObject()) {
    Obj o(info[1].As<Napi::Object>(), "filter");
    auto fam = o.num("family").value_or(0);
    f.family = fam == 4 ? AF_INET : fam == 6 ? AF_INET6 : AF_UNSPEC;
    f.table = o.num("table");
    f.protocol = o.num<uint8_t>("protocol");
    f.type = o.num<uint8_t>("type");
    f.oif = o.num<int32_t>("oif").value_or(0);
  }
  return js::run_async<std::vector<rtnl::Route>>(
      env,
      [h, f] {
        return dump<rtnl::Route>(
            h, "RTM_GETROUTE", RTM_NEWROUTE, [&](nl::Builder& b) { rtnl::encode_route_dump(b, f); },
            rtnl::decode_route);
      },
      [](Napi::Env env, std::vector<rtnl::Route>& v) -> Napi::Value {
        return js::array_to_js(env, v, js::route_to_js);
      });
}

// routeGet(handle, { dst, src?, oif?, iif?, mark? }): Promise<Route>
Napi::Value RouteGet(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  Obj o(info[1].As<Napi::Object>(), "query");
  rtnl::RouteQuery q;
  try {
    q.dst = rtnl::parse_ip(o.str("dst").value_or(""));
    q.src = ip_of(o, "src");
  } catch (const nl::NlError& e) {
    throw Napi::TypeError::New(env, e.ext);
  }
  q.oif = o.num<int32_t>("oif").value_or(0);
  q.iif = o.num<int32_t>("iif").value_or(0);
  q.mark = o.num("mark").value_or(0);
  return js::run_async<rtnl::Route>(
      env,
      [h, q] {
        auto sock = h->socket(NETLINK_ROUTE);
        std::lock_guard<std::mutex> lk(sock->mutex());
        nl::Builder b(4096);
        rtnl::encode_route_get(b, q);
        rtnl::Route out;
        sock->request(b, [&](size_t, const nlmsghdr* m) {
          if (m->nlmsg_type == RTM_NEWROUTE) out = rtnl::decode_route(m);
        }, "RTM_GETROUTE");
        return out;
      },
      [](Napi::Env env, rtnl::Route& r) -> Napi::Value { return js::route_to_js(env, r); });
}

}  // namespace

void register_rtnl(Napi::Env env, Napi::Object exports) {
  exports.Set("rtnlBatch", Napi::Function::New(env, RtnlBatch, "rtnlBatch"));
  exports.Set("rtnlSequence", Napi::Function::New(env, RtnlSequence, "rtnlSequence"));
  exports.Set("rtnlCreateSequence", Napi::Function::New(env, RtnlCreateSequence, "rtnlCreateSequence"));
  exports.Set("encodeRtnlSteps", Napi::Function::New(env, EncodeRtnlSteps, "encodeRtnlSteps"));
  exports.Set("addrList", Napi::Function::New(env, AddrList, "addrList"));
  exports.Set("routeList", Napi::Function::New(env, RouteList, "routeList"));
  exports.Set("routeGet", Napi::Function::New(env, RouteGet, "routeGet"));
}

}  // namespace np::ops
