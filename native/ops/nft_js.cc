#include "ops/nft_js.h"

#include "ops/values.h"

namespace np::ops {

namespace {

using js::Obj;

nft::Data data_from(const Napi::Value& v, const js::Where& w) {
  nft::Data d;
  if (v.IsBuffer()) {
    d.value = js::to_bytes(v, w);
    return d;
  }
  if (!v.IsObject() || v.IsArray()) w.type_error("a Buffer or a verdict { code, chain? }", v);
  Obj o(v, w);
  d.is_verdict = true;
  d.code = o.req_num<int32_t>("code");
  d.chain = o.str("chain").value_or("");
  o.done();
  return d;
}

Napi::Value data_to(Napi::Env env, const nft::Data& d) {
  if (!d.is_verdict) return js::bytes_to_js(env, d.value);
  auto o = Napi::Object::New(env);
  o.Set("code", d.code);
  if (!d.chain.empty()) o.Set("chain", d.chain);
  return o;
}

nft::Expr expr_from(Obj& o) {
  nft::Expr e;
  e.name = o.req_str("type");
  if (auto raw = o.bytes("raw")) {
    e.raw = true;
    e.raw_has_data = true;
    e.raw_data = *raw;
    return e;
  }
  const nft::ExprSpec* spec = nft::find_expr(e.name);
  if (!spec) o.fail("type", "is not an expression netplumb knows: '" + e.name + "' (give raw bytes)");
  for (size_t i = 0; i < spec->count; i++) {
    const auto& f = spec->fields[i];
    auto v = o.value(f.key);
    if (!v) continue;
    js::Where w(&o.where(), f.key);
    nft::Value val;
    val.kind = f.kind;
    switch (f.kind) {
      case nft::FieldKind::Strz: val.str = js::to_string(*v, w); break;
      case nft::FieldKind::Data:
      case nft::FieldKind::DataOrVerdict: val.data = data_from(*v, w); break;
      case nft::FieldKind::U8: val.num = js::to_number<uint8_t>(*v, w); break;
      case nft::FieldKind::Be16: val.num = js::to_number<uint16_t>(*v, w); break;
      case nft::FieldKind::Be32: val.num = static_cast<uint32_t>(js::to_number<int64_t>(*v, w)); break;
      case nft::FieldKind::Be64: val.num = js::to_number<uint64_t>(*v, w); break;
    }
    e.fields.emplace_back(f.key, std::move(val));
  }
  return e;
}

std::vector<nft::TypeofPart> typeof_from(js::Arr& a) {
  std::vector<nft::TypeofPart> parts;
  for (uint32_t i = 0; i < a.size(); i++) {
    Obj p = a.obj(i);
    nft::TypeofPart part;
    part.etype = p.req_num<uint32_t>("etype");
    js::Arr attrs = p.req_arr("attrs");
    for (uint32_t j = 0; j < attrs.size(); j++) {
      js::Arr pair = attrs.arr(j);
      pair.expect_size(2);
      part.attrs.emplace_back(pair.num<uint8_t>(0), pair.num<uint32_t>(1));
    }
    p.done();
    parts.push_back(std::move(part));
  }
  return parts;
}

Napi::Array typeof_to(Napi::Env env, const std::vector<nft::TypeofPart>& parts) {
  return js::array_to_js(env, parts, [](Napi::Env env, const nft::TypeofPart& part) {
    auto p = Napi::Object::New(env);
    p.Set("etype", part.etype);
    p.Set("attrs", js::array_to_js(env, part.attrs, [](Napi::Env env, const std::pair<uint8_t, uint32_t>& a) {
      auto pair = Napi::Array::New(env, 2);
      pair.Set(0u, a.first);
      pair.Set(1u, a.second);
      return pair;
    }));
    return p;
  });
}

// Type names (key: ['ipv4_addr', 'inet_service']) as the layout they make.
nft::Layout layout_from(js::Arr& names) {
  std::vector<std::string> n;
  for (uint32_t i = 0; i < names.size(); i++) n.push_back(js::to_string(names[i], names.at(i)));
  try {
    return nft::Layout::of(n);
  } catch (const nft::ValueError& e) {
    names.where().fail(e.what());
  }
}

nft::Set set_from(Obj& o, uint8_t family) {
  nft::Set s{.family = family, .table = o.req_str("table"), .name = o.str("name").value_or(""),
             .handle = o.num<uint64_t>("handle", 0), .flags = o.num<uint32_t>("flags"),
             .policy = o.num<uint32_t>("policy"), .size = o.num<uint32_t>("size"), .id = o.num<uint32_t>("id"),
             .gc_interval = o.num<uint32_t>("gcInterval"), .timeout = o.num<uint64_t>("timeout")};
  auto key = o.arr("key");
  auto data = o.value("data");
  auto key_typeof = o.arr("keyTypeof");
  auto data_typeof = o.arr("dataTypeof");
  auto comment = o.str("comment");
  if (!key) {
    if (data || key_typeof || data_typeof || comment) o.fail("key", "is required with data, typeof or a comment");
    return s;
  }
  // As nft declares a set: key type and length, the byte order in userdata, and for a map
  // its data type (NFT_DATA_VERDICT for verdicts) and byte order.
  nft::Layout k = layout_from(*key);
  s.key_type = k.id();
  s.key_len = k.len();
  nft::SetUserdata u;
  u.key_byteorder = k.byteorder();
  if (data) {
    s.flags = s.flags.value_or(0) | NFT_SET_MAP;
    if (data->IsString() && js::to_string(*data, js::Where(&o.where(), "data")) == "verdict") {
      s.data_type = NFT_DATA_VERDICT;
      s.data_len = 0;
      u.data_byteorder = 0;
    } else {
      js::Arr d(*data, js::Where(&o.where(), "data"));
      nft::Layout dl = layout_from(d);
      s.data_type = dl.id();
      s.data_len = dl.len();
      u.data_byteorder = dl.byteorder();
    }
    u.data_interval = 0;
  }
  if (key_typeof) u.key_typeof = typeof_from(*key_typeof);
  if (data_typeof) u.data_typeof = typeof_from(*data_typeof);
  u.comment = comment;
  s.udata = u;
  return s;
}

nft::ElemInput elem_from(Obj& o) {
  nft::ElemInput e;
  auto key = o.value("key");
  if (!key) o.fail("key", "is required");
  e.key = read_value(*key, js::Where(&o.where(), "key"));
  if (auto v = o.value("value")) {
    js::Where w(&o.where(), "value");
    if (v->IsObject() && !v->IsArray()) e.verdict = data_from(*v, w);
    else e.value = read_value(*v, w);
  }
  e.timeout = o.num<uint64_t>("timeout");
  e.comment = o.str("comment");
  o.done();
  return e;
}

nft::Op op_from(Obj& o) {
  nft::Op op{.msg = o.req_num<uint16_t>("msg"), .flags = o.req_num<uint16_t>("nlFlags")};
  auto kind = o.req_str("kind");
  uint8_t family = o.req_num<uint8_t>("family");
  if (kind == "table") {
    op.obj = nft::Table{.family = family, .name = o.str("name").value_or(""), .flags = o.num<uint32_t>("flags"),
                        .handle = o.num<uint64_t>("handle", 0), .comment = o.str("comment")};
  } else if (kind == "chain") {
    nft::Chain c{.family = family, .table = o.req_str("table"), .name = o.str("name").value_or(""),
                 .handle = o.num<uint64_t>("handle", 0), .type = o.str("type"), .policy = o.num<uint32_t>("policy"),
                 .flags = o.num<uint32_t>("flags"), .comment = o.str("comment")};
    if (auto h = o.obj("hook")) {
      c.hook = nft::Hook{.num = h->req_num<uint32_t>("num"), .priority = h->req_num<int32_t>("priority"),
                         .device = h->str("device").value_or("")};
      h->done();
    }
    op.obj = std::move(c);
  } else if (kind == "rule") {
    nft::Rule r{.family = family, .table = o.req_str("table"), .chain = o.req_str("chain"),
                .handle = o.num<uint64_t>("handle", 0), .position = o.num<uint64_t>("position", 0),
                .comment = o.str("comment")};
    if (auto exprs = o.arr("exprs")) {
      r.has_exprs = true;
      for (uint32_t i = 0; i < exprs->size(); i++) {
        Obj e = exprs->obj(i);
        r.exprs.push_back(expr_from(e));
        e.done();
      }
    }
    op.obj = std::move(r);
  } else if (kind == "set") {
    op.obj = set_from(o, family);
  } else if (kind == "elements") {
    nft::ElemList l{.family = family, .table = o.req_str("table"), .set = o.req_str("set"),
                    .set_id = o.num<uint32_t>("setId", 0)};
    if (auto a = o.arr("elements")) {
      std::vector<nft::ElemInput> in;
      in.reserve(a->size());
      for (uint32_t i = 0; i < a->size(); i++) {
        Obj e = a->obj(i);
        in.push_back(elem_from(e));
      }
      op.inputs = std::move(in);
    } else {
      l.has_elems = false;  // flush
    }
    op.obj = std::move(l);
  } else {
    o.fail("kind", "must be table, chain, rule, set or elements, got '" + kind + "'");
  }
  return op;
}

Napi::Value elem_out_to_js(Napi::Env env, const nft::ElemOutput& e) {
  js::Out o(env);
  o.set("key", value_to_js(env, e.key));
  if (e.value) o.set("value", value_to_js(env, *e.value));
  if (e.verdict) o.set("verdict", data_to(env, *e.verdict));
  return o.opt("timeout", e.timeout).opt("expires", e.expires).opt("comment", e.comment);
}

}  // namespace

nft::Datum read_value(const Napi::Value& v, const js::Where& w) {
  auto scalar = [](const Napi::Value& x, const js::Where& at) {
    napi_valuetype t = x.Type();
    if (t == napi_string) return nft::Scalar::of(js::to_string(x, at));
    if (t == napi_number) return nft::Scalar::of(js::to_double(x, at));
    at.type_error("a string or a number", x);
  };
  napi_valuetype t = v.Type();
  if (t == napi_string || t == napi_number) return {scalar(v, w)};
  js::Arr a(v, w);
  nft::Datum out;
  out.reserve(a.size());
  for (uint32_t i = 0; i < a.size(); i++) out.push_back(scalar(a[i], a.at(i)));
  return out;
}

js::BadArg elem_error(const char* entry, const nft::OpElemError& e) {
  std::string detail = e.what();
  std::string msg = std::string(entry) + ": ops[" + std::to_string(e.op) + "].elements[" + std::to_string(e.index) + "]." + e.field +
                    (detail.rfind('[', 0) == 0 ? "" : " ") + detail;
  return js::BadArg(e.range ? js::BadArg::Range : js::BadArg::Type, msg);
}

std::vector<nft::Op> read_ops(js::Arr& a) {
  std::vector<nft::Op> ops;
  ops.reserve(a.size());
  for (uint32_t i = 0; i < a.size(); i++) {
    Obj o = a.obj(i);
    ops.push_back(op_from(o));
    o.done();
  }
  return ops;
}

Napi::Value value_to_js(Napi::Env env, const nft::Datum& v) {
  auto one = [&](const nft::Scalar& s) -> Napi::Value {
    if (s.is_string) return Napi::String::New(env, s.str);
    return Napi::Number::New(env, s.num);
  };
  if (v.size() == 1) return one(v[0]);
  auto a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(i, one(v[i]));
  return a;
}

Napi::Value exprs_to_js(Napi::Env env, const std::vector<nft::Expr>& exprs) {
  return js::array_to_js(env, exprs, [](Napi::Env env, const nft::Expr& e) {
    auto o = Napi::Object::New(env);
    o.Set("type", e.name);
    if (e.raw) {
      if (e.raw_has_data) o.Set("raw", js::bytes_to_js(env, e.raw_data));
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
  });
}

Napi::Value table_to_js(Napi::Env env, const nft::Table& t) {
  js::Out o(env);
  o.set("family", t.family).set("name", t.name).opt("flags", t.flags).set("handle", t.handle);
  return o.opt("use", t.use).opt("comment", t.comment);
}

Napi::Value chain_to_js(Napi::Env env, const nft::Chain& c) {
  js::Out o(env);
  o.set("family", c.family).set("table", c.table).set("name", c.name).set("handle", c.handle);
  if (c.hook) {
    js::Out h(env);
    h.set("num", c.hook->num).set("priority", c.hook->priority).opt("device", c.hook->device);
    o.set("hook", h.object());
  }
  o.opt("type", c.type).opt("policy", c.policy).opt("flags", c.flags).opt("use", c.use);
  return o.opt("comment", c.comment);
}

Napi::Value rule_to_js(Napi::Env env, const nft::Rule& r) {
  js::Out o(env);
  o.set("family", r.family).set("table", r.table).set("chain", r.chain).set("handle", r.handle);
  if (r.position) o.set("position", r.position);
  return o.set("exprs", exprs_to_js(env, r.exprs)).opt("comment", r.comment);
}

Napi::Value set_to_js(Napi::Env env, const nft::Set& s, std::vector<nft::Elem>* elems) {
  js::Out o(env);
  o.set("family", s.family).set("table", s.table).set("name", s.name).set("handle", s.handle);
  o.opt("flags", s.flags).opt("keyType", s.key_type).opt("keyLen", s.key_len).opt("dataType", s.data_type);
  o.opt("dataLen", s.data_len).opt("policy", s.policy).opt("size", s.size).opt("gcInterval", s.gc_interval);
  o.opt("timeout", s.timeout);
  // The types by name, when netplumb knows them.
  if (auto k = nft::Layout::from_id(s.key_type.value_or(0))) o.set("key", k->name());
  if ((s.flags.value_or(0) & NFT_SET_MAP) && s.data_type) {
    if (*s.data_type == NFT_DATA_VERDICT) o.set("data", "verdict");
    else if (auto d = nft::Layout::from_id(*s.data_type)) o.set("data", d->name());
  }
  if (s.udata) {
    const auto& ud = *s.udata;
    js::Out u(env);
    u.opt("keyByteorder", ud.key_byteorder).opt("dataByteorder", ud.data_byteorder).opt("merge", ud.merge);
    u.opt("dataInterval", ud.data_interval);
    if (!ud.key_typeof.empty()) u.set("keyTypeof", typeof_to(env, ud.key_typeof));
    if (!ud.data_typeof.empty()) u.set("dataTypeof", typeof_to(env, ud.data_typeof));
    o.set("udata", u.opt("comment", ud.comment).object());
  }
  if (elems) {
    if (auto shape = nft::SetShape::of(s)) {
      o.set("elements", js::array_to_js(env, nft::decode_values(*shape, std::move(*elems)), elem_out_to_js));
    } else {
      // Types netplumb cannot decode: the raw keys, as hex text.
      o.set("elements", js::array_to_js(env, *elems, [](Napi::Env env, const nft::Elem& e) {
        static const char digits[] = "0123456789abcdef";
        std::string hex;
        for (unsigned char c : e.key) {
          hex.push_back(digits[c >> 4]);
          hex.push_back(digits[c & 15]);
        }
        return js::Out(env).set("key", hex).object();
      }));
    }
  }
  return o;
}

Napi::Value raw_elem_to_js(Napi::Env env, const nft::Elem& e) {
  js::Out o(env);
  o.set("key", js::bytes_to_js(env, e.key));
  if (e.key_end) o.set("keyEnd", js::bytes_to_js(env, *e.key_end));
  if (e.data) o.set("data", data_to(env, *e.data));
  o.set("flags", e.flags).opt("timeout", e.timeout).opt("expiration", e.expiration).opt("comment", e.comment);
  return o;
}

}  // namespace np::ops
