// Connection tracking: filtered listing and deletion of IPv4 or IPv6 entries (ctnetlink).
//
// Filters arrive validated by src/conntrack.ts as
//   { family: 4 | 6, protocol?: number, replySrc?: '10.0.0.2' | 'fd00::2', replySrcPort?: number, origDstPort?: number }
// and run on the namespace's NETLINK_NETFILTER socket, the one nftables uses.
#include <arpa/inet.h>
#include <sys/socket.h>

#include "nfct/conntrack.h"
#include "ops/js.h"
#include "ops/ops.h"
#include "rtnl/ip.h"

namespace np::ops {

namespace {

std::optional<uint32_t> opt_num(const Napi::Object& o, const char* key, uint32_t max) {
  auto v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= max) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    throw Napi::RangeError::New(o.Env(), std::string(key) + " out of range");
  }
  return static_cast<uint32_t>(d);
}

nfct::Filter filter_from(const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "conntrack filter must be an object");
  auto o = v.As<Napi::Object>();
  nfct::Filter f;
  const auto fam = opt_num(o, "family", 6).value_or(4);
  if (fam != 4 && fam != 6) throw Napi::TypeError::New(o.Env(), "family must be 4 or 6");
  f.family = fam == 6 ? AF_INET6 : AF_INET;
  f.proto = static_cast<uint8_t>(opt_num(o, "protocol", 255).value_or(0));
  auto src = o.Get("replySrc");
  if (!src.IsUndefined() && !src.IsNull()) {
    nfct::Addr a{};
    if (!src.IsString() || inet_pton(f.family, src.As<Napi::String>().Utf8Value().c_str(), a.data()) != 1) {
      throw Napi::TypeError::New(o.Env(), fam == 6 ? "replySrc must be an IPv6 address" : "replySrc must be an IPv4 address");
    }
    f.reply_src = a;
  }
  if (auto p = opt_num(o, "replySrcPort", 65535)) f.reply_sport = static_cast<uint16_t>(*p);
  if (auto p = opt_num(o, "origDstPort", 65535)) f.orig_dport = static_cast<uint16_t>(*p);
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
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto f = filter_from(info[1]);
  return js::on_socket<std::vector<nfct::Entry>>(
      env, h, NETLINK_NETFILTER, [f](nl::Socket& s) { return nfct::list(s, f); },
      [](Napi::Env env, std::vector<nfct::Entry>& v) -> Napi::Value { return js::array_to_js(env, v, entry_to_js); });
}

// ctDelete(handle, filter): Promise<number> (how many entries were deleted)
Napi::Value CtDelete(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto f = filter_from(info[1]);
  // Deletion goes by tuple, and only port protocols' tuples are encoded here.
  if (f.proto != IPPROTO_TCP && f.proto != IPPROTO_UDP && f.proto != IPPROTO_SCTP) {
    throw Napi::TypeError::New(env, "ctDelete: protocol must be 6 (tcp), 17 (udp) or 132 (sctp)");
  }
  return js::on_socket<size_t>(
      env, h, NETLINK_NETFILTER, [f](nl::Socket& s) { return nfct::remove(s, f); },
      [](Napi::Env env, size_t& n) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(n)); });
}

}  // namespace

void register_conntrack(Napi::Env env, Napi::Object exports) {
  exports.Set("ctList", Napi::Function::New(env, CtList, "ctList"));
  exports.Set("ctDelete", Napi::Function::New(env, CtDelete, "ctDelete"));
}

}  // namespace np::ops
