// nftables: transactions, reads and the codec entry points tests use. JS objects arrive
// already validated and normalised by src/nft (numbers, strings, Buffers); this file
// only moves them into the structs of native/nft and back.
#include <endian.h>
#include <sys/socket.h>

#include <cstring>

#include "netlink/parser.h"
#include "nft/batch.h"
#include "ops/js.h"
#include "ops/ops.h"

namespace np::ops {

namespace {

using Obj = Napi::Object;

// One property lookup, not Has + Get: each crosses N-API with a fresh key string, and
// a small transaction (publishing a port) probes a few dozen optional keys.
bool has(const Obj& o, const char* k) {
  auto v = o.Get(k);
  return !v.IsUndefined() && !v.IsNull();
}
std::string str(const Obj& o, const char* k) {
  auto v = o.Get(k);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(k) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}
double num(const Obj& o, const char* k) {
  auto v = o.Get(k);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(k) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
uint32_t u32(const Obj& o, const char* k) { return static_cast<uint32_t>(static_cast<int64_t>(num(o, k))); }
uint64_t u64(const Obj& o, const char* k) { return static_cast<uint64_t>(num(o, k)); }
std::optional<uint32_t> opt_u32(const Obj& o, const char* k) {
  return has(o, k) ? std::optional<uint32_t>(u32(o, k)) : std::nullopt;
}
std::optional<uint64_t> opt_u64(const Obj& o, const char* k) {
  return has(o, k) ? std::optional<uint64_t>(u64(o, k)) : std::nullopt;
}
std::optional<std::string> opt_str(const Obj& o, const char* k) {
  return has(o, k) ? std::optional<std::string>(str(o, k)) : std::nullopt;
}
std::string bytes(const Napi::Value& v, const char* k) {
  if (!v.IsBuffer()) throw Napi::TypeError::New(v.Env(), std::string(k) + " must be a Buffer");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  return std::string(reinterpret_cast<const char*>(b.Data()), b.Length());
}
Obj obj(const Napi::Value& v, const char* what) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be an object");
  return v.As<Obj>();
}
Napi::Array arr(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be an array");
  return v.As<Napi::Array>();
}

nft::Data data_from(const Napi::Value& v, const char* k) {
  nft::Data d;
  if (v.IsBuffer()) {
    d.value = bytes(v, k);
  } else {
    auto o = obj(v, k);
    d.is_verdict = true;
    d.code = static_cast<int32_t>(num(o, "code"));
    if (has(o, "chain")) d.chain = str(o, "chain");
  }
  return d;
}

Napi::Value data_to(Napi::Env env, const nft::Data& d) {
  if (!d.is_verdict) return Napi::Buffer<char>::Copy(env, d.value.data(), d.value.size());
  auto o = Obj::New(env);
  o.Set("code", d.code);
  if (!d.chain.empty()) o.Set("chain", d.chain);
  return o;
}

nft::Expr expr_from(const Napi::Value& v) {
  auto o = obj(v, "expression");
  nft::Expr e;
  e.name = str(o, "type");
  if (has(o, "raw")) {
    e.raw = true;
    e.raw_has_data = true;
    e.raw_data = bytes(o.Get("raw"), "raw");
    return e;
  }
  const nft::ExprSpec* spec = nft::find_expr(e.name);
  if (!spec) throw Napi::TypeError::New(v.Env(), "unknown expression type '" + e.name + "' (give raw bytes)");
  for (size_t i = 0; i < spec->count; i++) {
    const auto& f = spec->fields[i];
    if (!has(o, f.key)) continue;
    nft::Value val;
    val.kind = f.kind;
    switch (f.kind) {
      case nft::FieldKind::Strz: val.str = str(o, f.key); break;
      case nft::FieldKind::Data:
      case nft::FieldKind::DataOrVerdict: val.data = data_from(o.Get(f.key), f.key); break;
      default: val.num = u64(o, f.key); break;
    }
    e.fields.emplace_back(f.key, std::move(val));
  }
  return e;
}

Napi::Value expr_to(Napi::Env env, const nft::Expr& e) {
  auto o = Obj::New(env);
  o.Set("type", e.name);
  if (e.raw) {
    if (e.raw_has_data) o.Set("raw", Napi::Buffer<char>::Copy(env, e.raw_data.data(), e.raw_data.size()));
    return o;
  }
  for (const auto& [k, v] : e.fields) {
    switch (v.kind) {
      case nft::FieldKind::Strz: o.Set(k, v.str); break;
      case nft::FieldKind::Data:
      case nft::FieldKind::DataOrVerdict: o.Set(k, data_to(env, v.data)); break;
      default: o.Set(k, static_cast<double>(v.num)); break;
    }
  }
  return o;
}

std::vector<nft::Expr> exprs_from(const Napi::Value& v) {
  auto a = arr(v, "exprs");
  std::vector<nft::Expr> out;
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(expr_from(a.Get(i)));
  return out;
}

Napi::Array exprs_to(Napi::Env env, const std::vector<nft::Expr>& exprs) {
  auto a = Napi::Array::New(env, exprs.size());
  for (size_t i = 0; i < exprs.size(); i++) a.Set(i, expr_to(env, exprs[i]));
  return a;
}

std::vector<nft::TypeofPart> typeof_from(const Napi::Value& v) {
  auto a = arr(v, "typeof");
  std::vector<nft::TypeofPart> parts;
  for (uint32_t i = 0; i < a.Length(); i++) {
    auto p = obj(a.Get(i), "typeof part");
    nft::TypeofPart part;
    part.etype = u32(p, "etype");
    auto attrs = arr(p.Get("attrs"), "typeof attrs");
    for (uint32_t j = 0; j < attrs.Length(); j++) {
      auto pair = arr(attrs.Get(j), "typeof attr");
      part.attrs.emplace_back(static_cast<uint8_t>(pair.Get(0u).As<Napi::Number>().Uint32Value()),
                              pair.Get(1u).As<Napi::Number>().Uint32Value());
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

Napi::Array typeof_to(Napi::Env env, const std::vector<nft::TypeofPart>& parts) {
  auto a = Napi::Array::New(env, parts.size());
  for (size_t i = 0; i < parts.size(); i++) {
    auto p = Obj::New(env);
    p.Set("etype", parts[i].etype);
    auto attrs = Napi::Array::New(env, parts[i].attrs.size());
    for (size_t j = 0; j < parts[i].attrs.size(); j++) {
      auto pair = Napi::Array::New(env, 2);
      pair.Set(0u, parts[i].attrs[j].first);
      pair.Set(1u, parts[i].attrs[j].second);
      attrs.Set(j, pair);
    }
    p.Set("attrs", attrs);
    a.Set(i, p);
  }
  return a;
}

// Elements packed by src/nft (packElements) into one Buffer, so a small transaction
// crosses N-API in one read instead of a handful per element. Per element, little-endian:
//   u32 flags | u16 key length | u16 key-end length | u16 data length | key | key end | data
// A zero key-end or data length means none (the kernel takes neither empty). Only
// elements with plain byte data and no timeout, expiration or comment are packed.
std::vector<nft::Elem> unpack_elems(const Napi::Value& v) {
  if (!v.IsBuffer()) throw Napi::TypeError::New(v.Env(), "packed elements must be a Buffer");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  const uint8_t* p = b.Data();
  size_t left = b.Length();
  auto take = [&](void* out, size_t n) {
    if (n > left) throw Napi::TypeError::New(v.Env(), "packed elements are truncated");
    std::memcpy(out, p, n);
    p += n;
    left -= n;
  };
  auto bytes_of = [&](uint16_t n) {
    if (n > left) throw Napi::TypeError::New(v.Env(), "packed elements are truncated");
    std::string out(reinterpret_cast<const char*>(p), n);
    p += n;
    left -= n;
    return out;
  };
  std::vector<nft::Elem> out;
  while (left > 0) {
    uint32_t flags;
    uint16_t klen, kelen, dlen;
    take(&flags, 4);
    take(&klen, 2);
    take(&kelen, 2);
    take(&dlen, 2);
    klen = le16toh(klen);
    kelen = le16toh(kelen);
    dlen = le16toh(dlen);
    nft::Elem e;
    e.flags = le32toh(flags);
    e.key = bytes_of(klen);
    if (kelen) e.key_end = bytes_of(kelen);
    if (dlen) {
      nft::Data d;
      d.value = bytes_of(dlen);
      e.data = std::move(d);
    }
    out.push_back(std::move(e));
  }
  return out;
}

nft::Elem elem_from(const Napi::Value& v) {
  auto o = obj(v, "element");
  nft::Elem e;
  e.key = bytes(o.Get("key"), "key");
  // Each optional property read once (this runs per element of every commit).
  auto present = [](const Napi::Value& x) { return !x.IsUndefined() && !x.IsNull(); };
  auto number = [](const Napi::Value& x, const char* k) {
    if (!x.IsNumber()) throw Napi::TypeError::New(x.Env(), std::string(k) + " must be a number");
    return x.As<Napi::Number>().DoubleValue();
  };
  if (auto x = o.Get("keyEnd"); present(x)) e.key_end = bytes(x, "keyEnd");
  if (auto x = o.Get("data"); present(x)) e.data = data_from(x, "data");
  if (auto x = o.Get("flags"); present(x)) e.flags = static_cast<uint32_t>(static_cast<int64_t>(number(x, "flags")));
  if (auto x = o.Get("timeout"); present(x)) e.timeout = static_cast<uint64_t>(number(x, "timeout"));
  if (auto x = o.Get("expiration"); present(x)) e.expiration = static_cast<uint64_t>(number(x, "expiration"));
  if (auto x = o.Get("comment"); present(x)) {
    if (!x.IsString()) throw Napi::TypeError::New(x.Env(), "comment must be a string");
    e.comment = x.As<Napi::String>().Utf8Value();
  }
  return e;
}

Napi::Value elem_to(Napi::Env env, const nft::Elem& e) {
  auto o = Obj::New(env);
  o.Set("key", Napi::Buffer<char>::Copy(env, e.key.data(), e.key.size()));
  if (e.key_end) o.Set("keyEnd", Napi::Buffer<char>::Copy(env, e.key_end->data(), e.key_end->size()));
  if (e.data) o.Set("data", data_to(env, *e.data));
  o.Set("flags", e.flags);
  if (e.timeout) o.Set("timeout", static_cast<double>(*e.timeout));
  if (e.expiration) o.Set("expiration", static_cast<double>(*e.expiration));
  if (e.comment) o.Set("comment", *e.comment);
  return o;
}

nft::Op op_from(const Napi::Value& v) {
  auto o = obj(v, "operation");
  nft::Op op;
  op.msg = static_cast<uint16_t>(u32(o, "msg"));
  op.flags = static_cast<uint16_t>(u32(o, "nlFlags"));
  op.what = str(o, "what");
  auto kind = str(o, "kind");
  uint8_t family = static_cast<uint8_t>(u32(o, "family"));
  if (kind == "table") {
    nft::Table t;
    t.family = family;
    if (has(o, "name")) t.name = str(o, "name");
    t.flags = opt_u32(o, "flags");
    if (has(o, "handle")) t.handle = u64(o, "handle");
    t.comment = opt_str(o, "comment");
    op.obj = t;
  } else if (kind == "chain") {
    nft::Chain c;
    c.family = family;
    c.table = str(o, "table");
    if (has(o, "name")) c.name = str(o, "name");
    if (has(o, "handle")) c.handle = u64(o, "handle");
    if (has(o, "hook")) {
      auto h = obj(o.Get("hook"), "hook");
      nft::Hook hook;
      hook.num = u32(h, "num");
      hook.priority = static_cast<int32_t>(num(h, "priority"));
      if (has(h, "device")) hook.device = str(h, "device");
      c.hook = hook;
    }
    c.type = opt_str(o, "type");
    c.policy = opt_u32(o, "policy");
    c.flags = opt_u32(o, "flags");
    c.comment = opt_str(o, "comment");
    op.obj = c;
  } else if (kind == "rule") {
    nft::Rule r;
    r.family = family;
    r.table = str(o, "table");
    r.chain = str(o, "chain");
    if (has(o, "handle")) r.handle = u64(o, "handle");
    if (has(o, "position")) r.position = u64(o, "position");
    if (has(o, "exprs")) {
      r.has_exprs = true;
      r.exprs = exprs_from(o.Get("exprs"));
    }
    r.comment = opt_str(o, "comment");
    op.obj = r;
  } else if (kind == "set") {
    nft::Set s;
    s.family = family;
    s.table = str(o, "table");
    if (has(o, "name")) s.name = str(o, "name");
    if (has(o, "handle")) s.handle = u64(o, "handle");
    s.flags = opt_u32(o, "flags");
    s.key_type = opt_u32(o, "keyType");
    s.key_len = opt_u32(o, "keyLen");
    s.data_type = opt_u32(o, "dataType");
    s.data_len = opt_u32(o, "dataLen");
    s.policy = opt_u32(o, "policy");
    s.size = opt_u32(o, "size");
    s.id = opt_u32(o, "id");
    s.timeout = opt_u64(o, "timeout");
    s.gc_interval = opt_u32(o, "gcInterval");
    if (has(o, "udata")) {
      auto u = obj(o.Get("udata"), "udata");
      nft::SetUserdata ud;
      ud.key_byteorder = opt_u32(u, "keyByteorder");
      ud.data_byteorder = opt_u32(u, "dataByteorder");
      ud.merge = opt_u32(u, "merge");
      ud.data_interval = opt_u32(u, "dataInterval");
      if (has(u, "keyTypeof")) ud.key_typeof = typeof_from(u.Get("keyTypeof"));
      if (has(u, "dataTypeof")) ud.data_typeof = typeof_from(u.Get("dataTypeof"));
      ud.comment = opt_str(u, "comment");
      s.udata = ud;
    }
    op.obj = s;
  } else if (kind == "elements") {
    nft::ElemList l;
    l.family = family;
    l.table = str(o, "table");
    l.set = str(o, "set");
    if (has(o, "setId")) l.set_id = u32(o, "setId");
    if (auto packed = o.Get("packed"); !packed.IsUndefined()) {
      l.elems = unpack_elems(packed);
    } else if (has(o, "elements")) {
      auto a = arr(o.Get("elements"), "elements");
      for (uint32_t i = 0; i < a.Length(); i++) l.elems.push_back(elem_from(a.Get(i)));
    } else {
      l.has_elems = false;
    }
    op.obj = l;
  } else {
    throw Napi::TypeError::New(v.Env(), "unknown operation kind '" + kind + "'");
  }
  return op;
}

std::vector<nft::Op> ops_from(const Napi::Value& v) {
  auto a = arr(v, "operations");
  std::vector<nft::Op> ops;
  for (uint32_t i = 0; i < a.Length(); i++) ops.push_back(op_from(a.Get(i)));
  return ops;
}

Napi::Value table_to(Napi::Env env, const nft::Table& t) {
  auto o = Obj::New(env);
  o.Set("family", t.family);
  o.Set("name", t.name);
  if (t.flags) o.Set("flags", *t.flags);
  o.Set("handle", static_cast<double>(t.handle));
  if (t.use) o.Set("use", *t.use);
  if (t.comment) o.Set("comment", *t.comment);
  return o;
}

Napi::Value chain_to(Napi::Env env, const nft::Chain& c) {
  auto o = Obj::New(env);
  o.Set("family", c.family);
  o.Set("table", c.table);
  o.Set("name", c.name);
  o.Set("handle", static_cast<double>(c.handle));
  if (c.hook) {
    auto h = Obj::New(env);
    h.Set("num", c.hook->num);
    h.Set("priority", c.hook->priority);
    if (!c.hook->device.empty()) h.Set("device", c.hook->device);
    o.Set("hook", h);
  }
  if (c.type) o.Set("type", *c.type);
  if (c.policy) o.Set("policy", *c.policy);
  if (c.flags) o.Set("flags", *c.flags);
  if (c.use) o.Set("use", *c.use);
  if (c.comment) o.Set("comment", *c.comment);
  return o;
}

Napi::Value rule_to(Napi::Env env, const nft::Rule& r) {
  auto o = Obj::New(env);
  o.Set("family", r.family);
  o.Set("table", r.table);
  o.Set("chain", r.chain);
  o.Set("handle", static_cast<double>(r.handle));
  if (r.position) o.Set("position", static_cast<double>(r.position));
  o.Set("exprs", exprs_to(env, r.exprs));
  if (r.comment) o.Set("comment", *r.comment);
  return o;
}

Napi::Value set_to(Napi::Env env, const nft::Set& s) {
  auto o = Obj::New(env);
  o.Set("family", s.family);
  o.Set("table", s.table);
  o.Set("name", s.name);
  o.Set("handle", static_cast<double>(s.handle));
  auto opt = [&](const char* k, const std::optional<uint32_t>& v) {
    if (v) o.Set(k, *v);
  };
  opt("flags", s.flags);
  opt("keyType", s.key_type);
  opt("keyLen", s.key_len);
  opt("dataType", s.data_type);
  opt("dataLen", s.data_len);
  opt("policy", s.policy);
  opt("size", s.size);
  opt("gcInterval", s.gc_interval);
  if (s.timeout) o.Set("timeout", static_cast<double>(*s.timeout));
  if (s.udata) {
    auto u = Obj::New(env);
    const auto& ud = *s.udata;
    if (ud.key_byteorder) u.Set("keyByteorder", *ud.key_byteorder);
    if (ud.data_byteorder) u.Set("dataByteorder", *ud.data_byteorder);
    if (ud.merge) u.Set("merge", *ud.merge);
    if (ud.data_interval) u.Set("dataInterval", *ud.data_interval);
    if (!ud.key_typeof.empty()) u.Set("keyTypeof", typeof_to(env, ud.key_typeof));
    if (!ud.data_typeof.empty()) u.Set("dataTypeof", typeof_to(env, ud.data_typeof));
    if (ud.comment) u.Set("comment", *ud.comment);
    o.Set("udata", u);
  }
  return o;
}

template <typename T, typename F>
Napi::Array list_to(Napi::Env env, const std::vector<T>& v, F f) {
  auto a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(i, f(env, v[i]));
  return a;
}

using Handle = std::shared_ptr<ns::NsHandle>;

template <typename R, typename Work, typename ToJs>
Napi::Value on_netfilter(Napi::Env env, Handle h, Work work, ToJs to_js) {
  return js::on_socket<R>(env, std::move(h), NETLINK_NETFILTER, std::move(work), std::move(to_js));
}

// Runs work(socket) on the calling (JS) thread with the namespace's NETLINK_NETFILTER
// socket, holding its mutex: the synchronous twin of on_netfilter, for callers whose
// request costs less than the hop to the libuv pool. Errors are thrown as on_netfilter
// rejects them.
template <typename Work, typename ToJs>
Napi::Value on_netfilter_sync(Napi::Env env, const Handle& h, Work work, ToJs to_js) {
  return js::guard(env, [&]() -> Napi::Value {
    auto sock = h->socket(NETLINK_NETFILTER);
    std::lock_guard<std::mutex> lk(sock->mutex());
    auto r = work(*sock);
    return to_js(env, r);
  });
}

Napi::Value commit_to(Napi::Env env, nft::CommitResult& r) {
  auto o = Obj::New(env);
  auto a = Napi::Array::New(env, r.handles.size());
  for (size_t i = 0; i < r.handles.size(); i++) a.Set(i, static_cast<double>(r.handles[i]));
  o.Set("handles", a);
  return o;
}

Napi::Value sets_to(Napi::Env env, std::vector<nft::Set>& v) { return list_to(env, v, set_to); }

// nftCommit(handle, ops, genid): Promise<{ handles: number[] }>
Napi::Value NftCommit(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto ops = std::make_shared<std::vector<nft::Op>>(ops_from(info[1]));
  uint32_t genid = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 0;
  return on_netfilter<nft::CommitResult>(
      env, h, [ops, genid](nl::Socket& s) { return nft::commit(s, *ops, genid); }, commit_to);
}

// nftCommitSync(handle, ops, genid): { handles: number[] } — the same batch, sent and
// acked on the calling thread (one sendmsg, the acks read back), no pool hop.
Napi::Value NftCommitSync(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto ops = ops_from(info[1]);
  uint32_t genid = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 0;
  return on_netfilter_sync(env, h, [&](nl::Socket& s) { return nft::commit(s, ops, genid); }, commit_to);
}

// nftGeneration(handle): Promise<number>
Napi::Value NftGeneration(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  return on_netfilter<uint32_t>(
      env, h, [](nl::Socket& s) { return nft::get_generation(s); },
      [](Napi::Env env, uint32_t& g) -> Napi::Value { return Napi::Number::New(env, g); });
}

// nftListTables(handle, family): Promise<Table[]>
Napi::Value NftListTables(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  uint8_t family = static_cast<uint8_t>(js::arg_u32(info, 1, "family"));
  return on_netfilter<std::vector<nft::Table>>(
      env, h, [family](nl::Socket& s) { return nft::list_tables(s, family); },
      [](Napi::Env env, std::vector<nft::Table>& v) -> Napi::Value { return list_to(env, v, table_to); });
}

// nftListRules(handle, family, table, chain): Promise<Rule[]>
Napi::Value NftListRules(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  uint8_t family = static_cast<uint8_t>(js::arg_u32(info, 1, "family"));
  auto table = js::arg_string(info, 2, "table");
  auto chain = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : std::string();
  return on_netfilter<std::vector<nft::Rule>>(
      env, h, [family, table, chain](nl::Socket& s) { return nft::list_rules(s, family, table, chain); },
      [](Napi::Env env, std::vector<nft::Rule>& v) -> Napi::Value { return list_to(env, v, rule_to); });
}

// nftListSets(handle, family, table, set?): Promise<Set[]>
Napi::Value NftListSets(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  uint8_t family = static_cast<uint8_t>(js::arg_u32(info, 1, "family"));
  auto table = js::arg_string(info, 2, "table");
  auto set = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : std::string();
  return on_netfilter<std::vector<nft::Set>>(
      env, h, [family, table, set](nl::Socket& s) { return nft::list_sets(s, family, table, set); }, sets_to);
}

// nftListSetsSync(handle, family, table, set?): Set[] — on the calling thread (what
// commitSync needs to encode elements of a set it has not seen yet).
Napi::Value NftListSetsSync(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  uint8_t family = static_cast<uint8_t>(js::arg_u32(info, 1, "family"));
  auto table = js::arg_string(info, 2, "table");
  auto set = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : std::string();
  return on_netfilter_sync(env, h, [&](nl::Socket& s) { return nft::list_sets(s, family, table, set); }, sets_to);
}

// nftListElements(handle, family, table, set): Promise<Elem[]>
Napi::Value NftListElements(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  uint8_t family = static_cast<uint8_t>(js::arg_u32(info, 1, "family"));
  auto table = js::arg_string(info, 2, "table");
  auto set = js::arg_string(info, 3, "set");
  return on_netfilter<std::vector<nft::Elem>>(
      env, h, [family, table, set](nl::Socket& s) { return nft::list_elems(s, family, table, set); },
      [](Napi::Env env, std::vector<nft::Elem>& v) -> Napi::Value { return list_to(env, v, elem_to); });
}

// nftDumpTable(handle, family, table): Promise<{ generation, table, chains, sets, rules }>
Napi::Value NftDumpTable(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  uint8_t family = static_cast<uint8_t>(js::arg_u32(info, 1, "family"));
  auto table = js::arg_string(info, 2, "table");
  return on_netfilter<nft::TableDump>(
      env, h, [family, table](nl::Socket& s) { return nft::dump_table(s, family, table); },
      [](Napi::Env env, nft::TableDump& d) -> Napi::Value {
        auto o = Obj::New(env);
        o.Set("generation", d.generation);
        o.Set("table", table_to(env, d.table));
        o.Set("chains", list_to(env, d.chains, chain_to));
        auto sets = Napi::Array::New(env, d.sets.size());
        for (size_t i = 0; i < d.sets.size(); i++) {
          auto s = set_to(env, d.sets[i]).As<Obj>();
          s.Set("elements", list_to(env, d.elems[i], elem_to));
          sets.Set(i, s);
        }
        o.Set("sets", sets);
        o.Set("rules", list_to(env, d.rules, rule_to));
        return o;
      });
}

// codec: nftEncodeBatch(ops, genid): Buffer — the whole batch as commit would send it (seq 0).
Napi::Value NftEncodeBatch(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return js::guard(env, [&]() -> Napi::Value {
    auto ops = ops_from(info[0]);
    uint32_t genid = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
    nl::Builder b(64u << 20);
    nft::encode_batch(b, ops, genid);
    return js::builder_to_buffer(env, b);
  });
}

// codec: nftDecodeExprs(buffer): Expr[] — the payload of an NFTA_RULE_EXPRESSIONS attribute.
Napi::Value NftDecodeExprs(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "expected a Buffer");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  return js::guard(env, [&]() -> Napi::Value {
    // Wrap the payload in an attribute header so the list decoder sees one nest.
    std::vector<uint8_t> data(NLA_HDRLEN + buf.Length());
    nlattr a{static_cast<uint16_t>(data.size()), NFTA_RULE_EXPRESSIONS};
    std::memcpy(data.data(), &a, sizeof a);
    std::memcpy(data.data() + NLA_HDRLEN, buf.Data(), buf.Length());
    return exprs_to(env, nft::decode_exprs(reinterpret_cast<const nlattr*>(data.data())));
  });
}

// codec: nftDecodeMessages(buffer): { type, family, flags, object }[] — nftables
// messages (as nft sends them or the kernel answers) decoded as tables, chains, rules,
// sets and element lists.
Napi::Value NftDecodeMessages(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "expected a Buffer");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  return js::guard(env, [&]() -> Napi::Value {
    std::vector<uint8_t> data(buf.Data(), buf.Data() + buf.Length());
    nl::MessageIterator it(data.data(), data.size());
    auto out = Napi::Array::New(env);
    uint32_t n = 0;
    while (const nlmsghdr* m = it.next()) {
      auto o = Obj::New(env);
      o.Set("type", m->nlmsg_type);
      o.Set("flags", m->nlmsg_flags);
      if ((m->nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES) {
        uint16_t msg = m->nlmsg_type & 0xff;
        o.Set("msg", nft::msg_name(msg));
        switch (msg) {
          case NFT_MSG_NEWTABLE: case NFT_MSG_DELTABLE: case nft::kMsgDestroyTable:
            o.Set("object", table_to(env, nft::decode_table(m))); break;
          case NFT_MSG_NEWCHAIN: case NFT_MSG_DELCHAIN: case nft::kMsgDestroyChain:
            o.Set("object", chain_to(env, nft::decode_chain(m))); break;
          case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE: case nft::kMsgDestroyRule:
            o.Set("object", rule_to(env, nft::decode_rule(m))); break;
          case NFT_MSG_NEWSET: case NFT_MSG_DELSET: case nft::kMsgDestroySet:
            o.Set("object", set_to(env, nft::decode_set(m))); break;
          case NFT_MSG_NEWSETELEM: case NFT_MSG_DELSETELEM: case nft::kMsgDestroySetElem: {
            auto l = nft::decode_elems(m);
            auto lo = Obj::New(env);
            lo.Set("family", l.family);
            lo.Set("table", l.table);
            lo.Set("set", l.set);
            lo.Set("elements", list_to(env, l.elems, elem_to));
            o.Set("object", lo);
            break;
          }
          default: break;
        }
      }
      out.Set(n++, o);
    }
    return out;
  });
}

}  // namespace

void register_nft(Napi::Env env, Napi::Object exports) {
  exports.Set("nftCommit", Napi::Function::New(env, NftCommit, "nftCommit"));
  exports.Set("nftCommitSync", Napi::Function::New(env, NftCommitSync, "nftCommitSync"));
  exports.Set("nftGeneration", Napi::Function::New(env, NftGeneration, "nftGeneration"));
  exports.Set("nftListTables", Napi::Function::New(env, NftListTables, "nftListTables"));
  exports.Set("nftListRules", Napi::Function::New(env, NftListRules, "nftListRules"));
  exports.Set("nftListSets", Napi::Function::New(env, NftListSets, "nftListSets"));
  exports.Set("nftListSetsSync", Napi::Function::New(env, NftListSetsSync, "nftListSetsSync"));
  exports.Set("nftListElements", Napi::Function::New(env, NftListElements, "nftListElements"));
  exports.Set("nftDumpTable", Napi::Function::New(env, NftDumpTable, "nftDumpTable"));
  exports.Set("nftEncodeBatch", Napi::Function::New(env, NftEncodeBatch, "nftEncodeBatch"));
  exports.Set("nftDecodeExprs", Napi::Function::New(env, NftDecodeExprs, "nftDecodeExprs"));
  exports.Set("nftDecodeMessages", Napi::Function::New(env, NftDecodeMessages, "nftDecodeMessages"));
}

}  // namespace np::ops
