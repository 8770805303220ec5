// Connection tracking: filtered listing and deletion of IPv4 or IPv6 entries (ctnetlink).
//
// Filters arrive validated by src/conntrack.ts as
//   { family: 4 | 6, protocol?: number, replySrc?: '10.0.0.2' | 'fd00::2', replySrcPort?: number, origDstPort?: number }
// and run on the namespace's NETLINK_NETFILTER socket, the one nftables uses.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "nfct/conntrack.h"
#include "ops/async.h"
#include "ops/entry.h"
#include "ops/reader.h"
#include "ops/values.h"
#include "rtnl/ip.h"

namespace np::ops {

namespace {

nfct::Filter filter_from(js::Obj& o) {
  nfct::Filter f;
  const auto fam = o.num<uint8_t>("family", 4);
  if (fam != 4 && fam != 6) o.fail("family", "must be 4 or 6");
  f.family = fam == 6 ? AF_INET6 : AF_INET;
  f.proto = o.num<uint8_t>("protocol", 0);
  if (auto a = o.ip("replySrc")) {
    if (a->family != f.family) o.fail("replySrc", fam == 6 ? "must be an IPv6 address" : "must be an IPv4 address");
    nfct::Addr addr{};
    std::memcpy(addr.data(), a->bytes, a->size());
    f.reply_src = addr;
  }
  f.reply_sport = o.num<uint16_t>("replySrcPort");
  f.orig_dport = o.num<uint16_t>("origDstPort");
  o.done();
  return f;
}

Napi::Object tuple_to_js(Napi::Env env, const nfct::Tuple& t) {
  auto o = Napi::Object::New(env);
  o.Set("src", rtnl::format_ip(t.family, t.src.data()));
  o.Set("dst", rtnl::format_ip(t.family, t.dst.data()));
  if (t.has_ports) {
    o.Set("srcPort", t.sport);
    o.Set("dstPort", t.dport);
  }
  if (t.zone) o.Set("zone", *t.zone);
  return o;
}

Napi::Object entry_to_js(Napi::Env env, const nfct::Entry& e) {
  auto o = Napi::Object::New(env);
  o.Set("family", e.orig.family == AF_INET6 ? 6 : 4);
  o.Set("protocol", e.orig.proto);
  o.Set("original", tuple_to_js(env, e.orig));
  o.Set("reply", tuple_to_js(env, e.reply));
  if (e.id) o.Set("id", *e.id);
  if (e.status) o.Set("status", *e.status);
  if (e.timeout) o.Set("timeout", *e.timeout);
  if (e.mark) o.Set("mark", *e.mark);
  if (e.zone) o.Set("zone", *e.zone);
  return o;
}

// ctList(handle, filter): Promise<Entry[]>
Napi::Value CtList(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "filter"});
  auto h = args.handle(0);
  js::Obj o = args.obj(1);
  auto f = filter_from(o);
  return js::on_socket<std::vector<nfct::Entry>>(
      info.Env(), h, NETLINK_NETFILTER, [f](nl::Socket& s) { return nfct::list(s, f); },
      [](Napi::Env env, std::vector<nfct::Entry>& v) -> Napi::Value { return js::array_to_js(env, v, entry_to_js); });
}

// ctDelete(handle, filter): Promise<number> (how many entries were deleted)
Napi::Value CtDelete(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "filter"});
  auto h = args.handle(0);
  js::Obj o = args.obj(1);
  auto f = filter_from(o);
  // Deletion goes by tuple, and only port protocols' tuples are encoded here.
  if (f.proto != IPPROTO_TCP && f.proto != IPPROTO_UDP && f.proto != IPPROTO_SCTP) {
    o.fail("protocol", "must be 6 (tcp), 17 (udp) or 132 (sctp)");
  }
  return js::on_socket<size_t>(
      info.Env(), h, NETLINK_NETFILTER, [f](nl::Socket& s) { return nfct::remove(s, f); },
      [](Napi::Env env, size_t& n) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(n)); });
}

constexpr Entry kEntries[] = {
    {"ctList", CtList},
    {"ctDelete", CtDelete},
};

}  // namespace

std::span<const Entry> conntrack_entries() { return kEntries; }

}  // namespace np::ops
