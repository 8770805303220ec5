// Neighbours (ARP/NDP) and bridge FDB entries: RTM_{NEW,DEL,GET}NEIGH.
//
// TypeScript validates and resolves names; requests arrive here as plain objects:
//   { op: 'add'|'replace'|'append'|'delete'|'get', family: 'inet'|'inet6'|'bridge',
//     ifindex, dst?, lladdr?, state?, self?, master?, proxy?, router?, sticky?,
//     externLearned?, vlan?, port?, vni?, srcVni?, via? }
// Several requests go out in as few sendmsg calls as the receive buffer allows for
// their acks; a failed step names itself and, when asked, the steps that succeeded
// are undone.
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>

#include "netlink/parser.h"
#include "ops/js.h"
#include "ops/ops.h"
#include "rtnl/neigh.h"

namespace np::ops {

namespace {

[[noreturn]] void type_error(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }

std::optional<uint32_t> opt_u32(const Napi::Object& o, const char* key, uint32_t max) {
  auto v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsNumber()) type_error(o.Env(), std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= max) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw Napi::RangeError::New(o.Env(), std::string(key) + " out of range");
  }
  return static_cast<uint32_t>(d);
}

bool opt_bool(const Napi::Object& o, const char* key) {
  auto v = o.Get(key);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

std::string opt_str(const Napi::Object& o, const char* key) {
  auto v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return {};
  if (!v.IsString()) type_error(o.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

uint8_t family_from(Napi::Env env, const std::string& f, bool allow_unspec) {
  if (f == "inet") return AF_INET;
  if (f == "inet6") return AF_INET6;
  if (f == "bridge") return AF_BRIDGE;
  if (allow_unspec && f.empty()) return AF_UNSPEC;
  type_error(env, "family must be 'inet', 'inet6' or 'bridge'");
}

std::string parse_mac(Napi::Env env, const std::string& s) {
  unsigned v[6];
  char tail;
  if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6) {
    type_error(env, "invalid MAC address " + s);
  }
  std::string out(6, '\0');
  for (int i = 0; i < 6; i++) out[i] = static_cast<char>(v[i]);
  return out;
}

// NUD_* for a state name: `ip neigh` names for neighbours, `bridge fdb` names for the
// FDB (where, as in bridge(8), permanent and static keep NUD_NOARP set and a vxlan
// device insists on NUD_PERMANENT or NUD_REACHABLE).
uint16_t state_from(Napi::Env env, const std::string& s, uint8_t family) {
  if (family == AF_BRIDGE) {
    if (s.empty() || s == "permanent") return NUD_NOARP | NUD_PERMANENT;
    if (s == "static") return NUD_NOARP | NUD_REACHABLE;
    if (s == "dynamic") return NUD_REACHABLE;
    type_error(env, "FDB state must be 'permanent', 'static' or 'dynamic'");
  }
  static const std::pair<const char*, uint16_t> names[] = {
      {"permanent", NUD_PERMANENT}, {"noarp", NUD_NOARP},   {"reachable", NUD_REACHABLE},
      {"stale", NUD_STALE},         {"delay", NUD_DELAY},   {"probe", NUD_PROBE},
      {"failed", NUD_FAILED},       {"incomplete", NUD_INCOMPLETE}, {"none", NUD_NONE},
  };
  if (s.empty()) return NUD_PERMANENT;
  for (auto& [name, bits] : names) {
    if (s == name) return bits;
  }
  type_error(env, "invalid neighbour state " + s);
}

rtnl::NeighRequest request_from(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) type_error(env, "neighbour request must be an object");
  auto o = v.As<Napi::Object>();
  rtnl::NeighRequest r;
  std::string op = opt_str(o, "op");
  r.family = family_from(env, opt_str(o, "family"), false);
  if (op == "add") {
    r.flags = NLM_F_CREATE | NLM_F_EXCL;
  } else if (op == "replace") {
    r.flags = NLM_F_CREATE | NLM_F_REPLACE;
  } else if (op == "append") {
    r.flags = NLM_F_CREATE | NLM_F_APPEND;
  } else if (op == "delete") {
    r.type = RTM_DELNEIGH;
  } else if (op == "get") {
    r.type = RTM_GETNEIGH;
  } else {
    type_error(env, "op must be add, replace, append, delete or get");
  }
  r.ifindex = static_cast<int32_t>(opt_u32(o, "ifindex", 0x7fffffff).value_or(0));
  std::string dst = opt_str(o, "dst");
  if (!dst.empty()) {
    try {
      r.dst = rtnl::parse_ip(dst);
    } catch (const nl::NlError&) {
      type_error(env, "invalid address " + dst);
    }
    // Neighbours are keyed by an address of their own family; a VTEP may be either.
    if (r.family != AF_BRIDGE && r.dst.family != r.family) type_error(env, "address family mismatch: " + dst);
  }
  std::string mac = opt_str(o, "lladdr");
  if (!mac.empty()) r.lladdr = parse_mac(env, mac);
  // Deletes carry the default state too, as iproute2 sends them (the kernel ignores it).
  if (r.type != RTM_GETNEIGH) r.state = state_from(env, opt_str(o, "state"), r.family);
  if (opt_bool(o, "self")) r.ntf |= NTF_SELF;
  if (opt_bool(o, "master")) r.ntf |= NTF_MASTER;
  if (opt_bool(o, "proxy")) r.ntf |= NTF_PROXY;
  if (opt_bool(o, "router")) r.ntf |= NTF_ROUTER;
  if (opt_bool(o, "sticky")) r.ntf |= NTF_STICKY;
  if (opt_bool(o, "externLearned")) r.ntf |= NTF_EXT_LEARNED;
  if (auto x = opt_u32(o, "vlan", 4094)) r.vlan = static_cast<uint16_t>(*x);
  if (auto x = opt_u32(o, "port", 0xffff)) r.port = static_cast<uint16_t>(*x);
  r.vni = opt_u32(o, "vni", 0xffffff);
  r.src_vni = opt_u32(o, "srcVni", 0xffffff);
  r.via = opt_u32(o, "via", 0x7fffffff);
  return r;
}

// The RTM_DELNEIGH that undoes a successful RTM_NEWNEIGH (a vxlan append undoes only
// its own remote: NDA_DST and friends select it).
rtnl::NeighRequest undo_of(const rtnl::NeighRequest& r) {
  rtnl::NeighRequest d = r;
  d.type = RTM_DELNEIGH;
  d.flags = 0;
  d.ntf &= NTF_SELF | NTF_MASTER | NTF_PROXY;
  return d;
}

const char* op_name(uint16_t type) {
  return type == RTM_NEWNEIGH ? "RTM_NEWNEIGH" : type == RTM_DELNEIGH ? "RTM_DELNEIGH" : "RTM_GETNEIGH";
}

struct BatchOptions {
  bool rollback = false;        // undo the steps that succeeded when one fails
  bool ignore_missing = false;  // ENOENT on delete is success (flush racing the kernel)
};

// Sends every request, chunked; returns how many took effect. On the first failed
// chunk throws NlError naming the failed step (its index in reqs) after undoing, if
// asked, every step that succeeded. A single request fails without a step index.
size_t apply_batch(nl::Socket& sock, const std::vector<rtnl::NeighRequest>& reqs, BatchOptions opt) {
  const size_t per_send = sock.acks_per_send();
  std::vector<size_t> done;  // indices that succeeded, for rollback
  size_t applied = 0;
  for (size_t start = 0; start < reqs.size(); start += per_send) {
    size_t end = std::min(reqs.size(), start + per_send);
    nl::Builder b(std::max<size_t>(4096, (end - start) * 128));
    for (size_t i = start; i < end; i++) rtnl::encode_neigh(b, reqs[i]);
    auto results = sock.transact(b, {}, op_name(reqs[start].type));
    std::optional<size_t> failed;
    for (size_t i = 0; i < results.size(); i++) {
      const auto& s = results[i];
      bool ok = s.err == 0 || (opt.ignore_missing && s.err == ENOENT && reqs[start + i].type == RTM_DELNEIGH);
      if (ok) {
        if (s.err == 0) applied++;
        if (s.err == 0 && reqs[start + i].type == RTM_NEWNEIGH) done.push_back(start + i);
      } else if (!failed) {
        failed = i;
      }
    }
    if (!failed) continue;
    const auto& s = results[*failed];
    if (opt.rollback && !done.empty()) {
      nl::Builder u(std::max<size_t>(4096, done.size() * 128));
      for (size_t k = 0; k < done.size(); k++) {
        rtnl::encode_neigh(u, undo_of(reqs[done[k]]));
        // Flush the undo in chunks too; errors here cannot be reported better than the
        // original failure, so they are ignored.
        if (u.messages().size() == per_send || k + 1 == done.size()) {
          sock.transact(u, {}, "RTM_DELNEIGH");
          u.clear();
        }
      }
    }
    size_t idx = start + *failed;
    nl::NlError e(s.err, op_name(reqs[idx].type), s.ext, reqs.size() > 1 ? static_cast<int>(idx) : -1);
    e.missing_attr = s.missing_attr;
    e.from_kernel = true;
    throw e;
  }
  return applied;
}

// A RTM_GETNEIGH dump: every entry it finds goes to each(); reset() drops what was
// collected before a retry (NLM_F_DUMP_INTR).
template <typename Each, typename Reset>
void dump(nl::Socket& sock, const rtnl::NeighDumpFilter& f, Each&& each, Reset&& reset) {
  nl::Builder b(4096);
  rtnl::encode_neigh_dump(b, f);
  nl::Attrs tb;  // reused: no allocation per entry
  sock.request(
      b,
      [&](size_t, const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWNEIGH) return;
        auto n = rtnl::decode_neigh(m, tb);
        // An FDB dump answers only AF_BRIDGE; a neighbour dump of AF_UNSPEC walks every
        // table (arp, ndisc), and nothing else is asked for.
        if ((f.family == AF_BRIDGE) == (n.family == AF_BRIDGE)) each(n);
      },
      "RTM_GETNEIGH", reset);
}

// The dump as a NeighTable (list, listSync).
rtnl::NeighTable dump_table(const std::shared_ptr<ns::NsHandle>& h, const rtnl::NeighDumpFilter& f) {
  auto sock = h->socket(NETLINK_ROUTE);
  std::lock_guard<std::mutex> lk(sock->mutex());
  rtnl::NeighTable t;
  dump(*sock, f, [&](const rtnl::Neigh& n) { t.add(n); }, [&] { t.clear(); });
  return t;
}

rtnl::NeighDumpFilter dump_filter_from(Napi::Env env, const Napi::Value& v) {
  rtnl::NeighDumpFilter f;
  if (!v.IsObject()) return f;
  auto o = v.As<Napi::Object>();
  f.family = family_from(env, opt_str(o, "family"), true);
  f.ifindex = static_cast<int32_t>(opt_u32(o, "ifindex", 0x7fffffff).value_or(0));
  f.master = static_cast<int32_t>(opt_u32(o, "master", 0x7fffffff).value_or(0));
  f.proxy = opt_bool(o, "proxy");
  return f;
}

using Handle = std::shared_ptr<ns::NsHandle>;

// neighApply(handle, requests[], rollback, ignoreMissing?): Promise<number> — how many
// took effect; with ignoreMissing a delete that finds nothing (ENOENT) is not a failure.
Napi::Value NeighApply(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  if (!info[1].IsArray()) type_error(env, "requests must be an array");
  auto arr = info[1].As<Napi::Array>();
  std::vector<rtnl::NeighRequest> reqs;
  reqs.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    reqs.push_back(request_from(env, arr.Get(i)));
    if (reqs.back().type == RTM_GETNEIGH) type_error(env, "neighApply does not take get requests");
  }
  BatchOptions opt;
  opt.rollback = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  opt.ignore_missing = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  return js::run_async<double>(
      env,
      [h, reqs = std::move(reqs), opt] {
        auto sock = h->socket(NETLINK_ROUTE);
        std::lock_guard<std::mutex> lk(sock->mutex());
        return static_cast<double>(apply_batch(*sock, reqs, opt));
      },
      [](Napi::Env env, double& n) -> Napi::Value { return Napi::Number::New(env, n); });
}

// neighGet(handle, request): Promise<NeighTable> of one row (RTM_GETNEIGH for one address).
Napi::Value NeighGet(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto r = request_from(env, info[1]);
  if (r.type != RTM_GETNEIGH) type_error(env, "neighGet takes a get request");
  return js::run_async<rtnl::NeighTable>(
      env,
      [h, r] {
        auto sock = h->socket(NETLINK_ROUTE);
        std::lock_guard<std::mutex> lk(sock->mutex());
        nl::Builder b(4096);
        rtnl::encode_neigh(b, r);
        rtnl::NeighTable out;
        sock->request(b, [&](size_t, const nlmsghdr* m) {
          if (m->nlmsg_type == RTM_NEWNEIGH && out.size() == 0) out.add(rtnl::decode_neigh(m));
        }, "RTM_GETNEIGH");
        return out;
      },
      [](Napi::Env env, rtnl::NeighTable& t) -> Napi::Value { return js::neigh_table_to_js(env, t); });
}

// neighList(handle, filter): Promise<NeighTable> (RTM_GETNEIGH dump).
Napi::Value NeighList(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto f = dump_filter_from(env, info[1]);
  return js::run_async<rtnl::NeighTable>(
      env, [h, f] { return dump_table(h, f); },
      [](Napi::Env env, rtnl::NeighTable& t) -> Napi::Value { return js::neigh_table_to_js(env, t); });
}

// neighListSync(handle, filter): NeighTable — the same dump on the calling thread, no hop
// to the libuv pool and back.
Napi::Value NeighListSync(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto f = dump_filter_from(env, info[1]);
  return js::guard(env, [&]() -> Napi::Value { return js::neigh_table_to_js(env, dump_table(h, f)); });
}

// neighFlush(handle, filter, includePermanent): Promise<number> — deletes the
// neighbours a dump finds (ip neigh flush: all but permanent and noarp unless asked),
// in batches, under one hold of the socket.
Napi::Value NeighFlush(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto f = dump_filter_from(env, info[1]);
  if (f.family == AF_BRIDGE) type_error(env, "neighFlush does not flush the FDB");
  bool all = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  return js::run_async<double>(
      env,
      [h, f, all] {
        auto sock = h->socket(NETLINK_ROUTE);
        std::lock_guard<std::mutex> lk(sock->mutex());
        std::vector<rtnl::NeighRequest> dels;
        dump(
            *sock, f,
            [&](const rtnl::Neigh& n) {
              if (!all && !f.proxy && (n.state & (NUD_PERMANENT | NUD_NOARP))) return;
              if (!n.dst.set()) return;
              rtnl::NeighRequest d;
              d.type = RTM_DELNEIGH;
              d.family = n.family;
              d.ifindex = n.ifindex;
              d.ntf = n.flags & NTF_PROXY;
              d.dst = n.dst;
              dels.push_back(std::move(d));
            },
            [&] { dels.clear(); });
        BatchOptions opt;
        opt.ignore_missing = true;
        return static_cast<double>(apply_batch(*sock, dels, opt));
      },
      [](Napi::Env env, double& n) -> Napi::Value { return Napi::Number::New(env, n); });
}

// codec: encodeNeigh(request) / encodeNeighDump(filter): Buffer (seq 0)
Napi::Value EncodeNeigh(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto r = request_from(env, info[0]);
  return js::guard(env, [&]() -> Napi::Value {
    nl::Builder b(4096);
    rtnl::encode_neigh(b, r);
    return js::builder_to_buffer(env, b);
  });
}

Napi::Value EncodeNeighDump(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto f = dump_filter_from(env, info[0]);
  return js::guard(env, [&]() -> Napi::Value {
    nl::Builder b(4096);
    rtnl::encode_neigh_dump(b, f);
    return js::builder_to_buffer(env, b);
  });
}

// codec: decodeNeighs(buffer): NeighTable of every RTM_NEWNEIGH/RTM_DELNEIGH in a message stream.
Napi::Value DecodeNeighs(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsBuffer()) type_error(env, "expected a Buffer");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  return js::guard(env, [&]() -> Napi::Value {
    std::vector<uint8_t> data(buf.Data(), buf.Data() + buf.Length());
    rtnl::NeighTable t;
    nl::Attrs tb;
    nl::MessageIterator it(data.data(), data.size());
    while (const nlmsghdr* m = it.next()) {
      if (m->nlmsg_type == RTM_NEWNEIGH || m->nlmsg_type == RTM_DELNEIGH) t.add(rtnl::decode_neigh(m, tb));
    }
    return js::neigh_table_to_js(env, t);
  });
}

}  // namespace

rtnl::NeighRequest neigh_request_from(Napi::Env env, const Napi::Value& v) { return request_from(env, v); }

void register_neigh(Napi::Env env, Napi::Object exports) {
  exports.Set("neighApply", Napi::Function::New(env, NeighApply, "neighApply"));
  exports.Set("neighGet", Napi::Function::New(env, NeighGet, "neighGet"));
  exports.Set("neighList", Napi::Function::New(env, NeighList, "neighList"));
  exports.Set("neighListSync", Napi::Function::New(env, NeighListSync, "neighListSync"));
  exports.Set("neighFlush", Napi::Function::New(env, NeighFlush, "neighFlush"));
  exports.Set("encodeNeigh", Napi::Function::New(env, EncodeNeigh, "encodeNeigh"));
  exports.Set("encodeNeighDump", Napi::Function::New(env, EncodeNeighDump, "encodeNeighDump"));
  exports.Set("decodeNeighs", Napi::Function::New(env, DecodeNeighs, "decodeNeighs"));
}

}  // namespace np::ops
