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

#include "constants.h"
#include "netlink/parser.h"
#include "ops/async.h"
#include "ops/entry.h"
#include "ops/reader.h"
#include "ops/values.h"
#include "rtnl/neigh.h"

namespace np::ops {

namespace {

using js::Obj;

uint8_t family_from(Obj& o, bool allow_unspec) {
  auto f = o.str("family");
  if (!f && allow_unspec) return AF_UNSPEC;
  if (f == "inet") return AF_INET;
  if (f == "inet6") return AF_INET6;
  if (f == "bridge") return AF_BRIDGE;
  o.fail("family", "must be 'inet', 'inet6' or 'bridge'");
}

// NUD_* for a state name: `ip neigh` names for neighbours, `bridge fdb` names for the
// FDB (where, as in bridge(8), permanent and static keep NUD_NOARP set and a vxlan
// device insists on NUD_PERMANENT or NUD_REACHABLE).
uint16_t state_from(Obj& o, uint8_t family) {
  auto s = o.str("state");
  if (family == AF_BRIDGE) {
    if (!s || s == "permanent") return NUD_NOARP | NUD_PERMANENT;
    if (s == "static") return NUD_NOARP | NUD_REACHABLE;
    if (s == "dynamic") return NUD_REACHABLE;
    o.fail("state", "must be 'permanent', 'static' or 'dynamic' for the FDB");
  }
  if (!s) return NUD_PERMANENT;
  if (auto bits = names::value_of(names::kNeighbourStates, *s)) return static_cast<uint16_t>(*bits);
  o.fail("state", "must be one of " + names::list(names::kNeighbourStates) + ", got '" + *s + "'");
}

rtnl::NeighRequest request_from(Obj& o) {
  rtnl::NeighRequest r;
  std::string op = o.req_str("op");
  r.family = family_from(o, false);
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
    o.fail("op", "must be add, replace, append, delete or get");
  }
  r.ifindex = o.num<int32_t>("ifindex", 0);
  if (auto dst = o.ip("dst")) {
    r.dst = *dst;
    // Neighbours are keyed by an address of their own family; a VTEP may be either.
    if (r.family != AF_BRIDGE && r.dst.family != r.family) o.fail("dst", "is not of the request's family");
  }
  if (auto mac = o.hwaddr("lladdr")) r.lladdr = *mac;
  // Deletes carry the default state too, as iproute2 sends them (the kernel ignores it).
  if (r.type != RTM_GETNEIGH) r.state = state_from(o, r.family);
  if (o.flag("self")) r.ntf |= NTF_SELF;
  if (o.flag("master")) r.ntf |= NTF_MASTER;
  if (o.flag("proxy")) r.ntf |= NTF_PROXY;
  if (o.flag("router")) r.ntf |= NTF_ROUTER;
  if (o.flag("sticky")) r.ntf |= NTF_STICKY;
  if (o.flag("externLearned")) r.ntf |= NTF_EXT_LEARNED;
  if (auto x = o.num<uint16_t>("vlan")) {
    if (*x > 4094) o.fail("vlan", "must be in 0..4094");
    r.vlan = *x;
  }
  r.port = o.num<uint16_t>("port");
  r.vni = o.num<uint32_t>("vni");
  r.src_vni = o.num<uint32_t>("srcVni");
  if (r.vni > 0xffffffu || r.src_vni > 0xffffffu) o.where().range_error("has a VNI above 2^24-1");
  if (auto v = o.num<int32_t>("via")) r.via = static_cast<uint32_t>(*v);
  o.done();
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
  return js::with_socket(h, NETLINK_ROUTE, [&](nl::Socket& sock) {
    rtnl::NeighTable t;
    dump(sock, f, [&](const rtnl::Neigh& n) { t.add(n); }, [&] { t.clear(); });
    return t;
  });
}

rtnl::NeighDumpFilter dump_filter_from(Obj& o) {
  rtnl::NeighDumpFilter f;
  f.family = family_from(o, true);
  f.ifindex = o.num<int32_t>("ifindex", 0);
  f.master = o.num<int32_t>("master", 0);
  f.proxy = o.flag("proxy");
  o.done();
  return f;
}

using Handle = std::shared_ptr<ns::NsHandle>;

// neighApply(handle, requests[], rollback, ignoreMissing?): Promise<number> — how many
// took effect; with ignoreMissing a delete that finds nothing (ENOENT) is not a failure.
Napi::Value NeighApply(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "requests", "rollback", "ignoreMissing"});
  auto h = args.handle(0);
  auto arr = args.arr(1);
  std::vector<rtnl::NeighRequest> reqs;
  reqs.reserve(arr.size());
  for (uint32_t i = 0; i < arr.size(); i++) {
    Obj o = arr.obj(i);
    reqs.push_back(request_from(o));
    if (reqs.back().type == RTM_GETNEIGH) o.fail("op", "may not be get here");
  }
  BatchOptions opt;
  opt.rollback = args.boolean(2);
  opt.ignore_missing = args.opt_bool(3, false);
  return js::on_socket<double>(
      info.Env(), h, NETLINK_ROUTE,
      [reqs = std::move(reqs), opt](nl::Socket& s) { return static_cast<double>(apply_batch(s, reqs, opt)); },
      [](Napi::Env env, double& n) -> Napi::Value { return Napi::Number::New(env, n); });
}

// neighGet(handle, request): Promise<NeighTable> of one row (RTM_GETNEIGH for one address).
Napi::Value NeighGet(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "request"});
  auto h = args.handle(0);
  Obj o = args.obj(1);
  auto r = request_from(o);
  if (r.type != RTM_GETNEIGH) o.fail("op", "must be get");
  return js::on_socket<rtnl::NeighTable>(
      info.Env(), h, NETLINK_ROUTE,
      [r](nl::Socket& s) {
        rtnl::NeighTable out;
        out.add(js::get_one<rtnl::Neigh>(
            s, "RTM_GETNEIGH", RTM_NEWNEIGH, [&](nl::Builder& b) { rtnl::encode_neigh(b, r); },
            [](const nlmsghdr* m) { return rtnl::decode_neigh(m); }));
        return out;
      },
      [](Napi::Env env, rtnl::NeighTable& t) -> Napi::Value { return js::neigh_table_to_js(env, t); });
}

Napi::Value table_to(Napi::Env env, rtnl::NeighTable& t) { return js::neigh_table_to_js(env, t); }

// neighList(handle, filter): Promise<NeighTable> (RTM_GETNEIGH dump).
Napi::Value NeighList(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "filter"});
  auto h = args.handle(0);
  Obj o = args.obj(1);
  auto f = dump_filter_from(o);
  return js::run_async<rtnl::NeighTable>(info.Env(), [h, f] { return dump_table(h, f); }, table_to);
}

// neighListSync(handle, filter): NeighTable — the same dump on the calling thread, no hop
// to the libuv pool and back.
Napi::Value NeighListSync(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "filter"});
  auto h = args.handle(0);
  Obj o = args.obj(1);
  auto f = dump_filter_from(o);
  return js::neigh_table_to_js(info.Env(), dump_table(h, f));
}

// neighFlush(handle, filter, includePermanent): Promise<number> — deletes the
// neighbours a dump finds (ip neigh flush: all but permanent and noarp unless asked),
// in batches, under one hold of the socket.
Napi::Value NeighFlush(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "filter", "includePermanent"});
  auto h = args.handle(0);
  Obj o = args.obj(1);
  auto f = dump_filter_from(o);
  if (f.family == AF_BRIDGE) o.fail("family", "may not be 'bridge': neighFlush does not flush the FDB");
  bool all = args.boolean(2);
  return js::on_socket<double>(
      info.Env(), h, NETLINK_ROUTE,
      [f, all](nl::Socket& sock) {
        std::vector<rtnl::NeighRequest> dels;
        dump(
            sock, f,
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
        return static_cast<double>(apply_batch(sock, dels, opt));
      },
      [](Napi::Env env, double& n) -> Napi::Value { return Napi::Number::New(env, n); });
}

// codec: encodeNeigh(request) / encodeNeighDump(filter): Buffer (seq 0)
Napi::Value EncodeNeigh(const Napi::CallbackInfo& info) {
  js::Args args(info, {"request"});
  Obj o = args.obj(0);
  auto r = request_from(o);
  return js::encoded(info.Env(), [&](nl::Builder& b) { rtnl::encode_neigh(b, r); });
}

Napi::Value EncodeNeighDump(const Napi::CallbackInfo& info) {
  js::Args args(info, {"filter"});
  Obj o = args.obj(0);
  auto f = dump_filter_from(o);
  return js::encoded(info.Env(), [&](nl::Builder& b) { rtnl::encode_neigh_dump(b, f); });
}

// codec: decodeNeighs(buffer): NeighTable of every RTM_NEWNEIGH/RTM_DELNEIGH in a message stream.
Napi::Value DecodeNeighs(const Napi::CallbackInfo& info) {
  js::Args args(info, {"buffer"});
  std::string data = args.bytes(0);
  rtnl::NeighTable t;
  nl::Attrs tb;
  nl::MessageIterator it(data);
  while (const nlmsghdr* m = it.next()) {
    if (m->nlmsg_type == RTM_NEWNEIGH || m->nlmsg_type == RTM_DELNEIGH) t.add(rtnl::decode_neigh(m, tb));
  }
  return js::neigh_table_to_js(info.Env(), t);
}

constexpr Entry kEntries[] = {
    {"neighApply", NeighApply},       {"neighGet", NeighGet},         {"neighList", NeighList},
    {"neighListSync", NeighListSync}, {"neighFlush", NeighFlush},     {"encodeNeigh", EncodeNeigh},
    {"encodeNeighDump", EncodeNeighDump}, {"decodeNeighs", DecodeNeighs},
};

}  // namespace

std::span<const Entry> neigh_entries() { return kEntries; }

rtnl::NeighRequest neigh_request_from(js::Obj& o) { return request_from(o); }

}  // namespace np::ops
