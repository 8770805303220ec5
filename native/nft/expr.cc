#include "nft/expr.h"

#include <arpa/inet.h>
#include <endian.h>

#include <array>
#include <cstring>

namespace np::nft {

namespace {

const ExprSpec* const kExprs[] = {
    &expr::payload, &expr::meta,  &expr::cmp,     &expr::bitwise, &expr::immediate, &expr::lookup,
    &expr::nat,     &expr::masq,  &expr::redir,   &expr::ct,      &expr::fib,       &expr::counter,
    &expr::range,   &expr::limit, &expr::log,     &expr::reject,  &expr::notrack,
};

constexpr auto kElemPolicy = nl::policy<NFTA_EXPR_MAX>({
    NL_ATTR(NFTA_EXPR_NAME, String), NL_ATTR(NFTA_EXPR_DATA, Nested),
});

nl::Kind policy_kind(FieldKind k) {
  switch (k) {
    case FieldKind::Be16: return nl::Kind::U16;
    case FieldKind::Be32: return nl::Kind::U32;
    case FieldKind::Be64: return nl::Kind::U64;
    case FieldKind::U8: return nl::Kind::U8;
    case FieldKind::Strz: return nl::Kind::String;
    default: return nl::Kind::Nested;
  }
}

void encode_field(nl::Builder& b, const FieldSpec& f, const Value& v) {
  switch (f.kind) {
    case FieldKind::Be16: b.put_be16(f.attr, static_cast<uint16_t>(v.num)); break;
    case FieldKind::Be32: b.put_be32(f.attr, static_cast<uint32_t>(v.num)); break;
    case FieldKind::Be64: b.put_be64(f.attr, v.num); break;
    case FieldKind::U8: b.put_u8(f.attr, static_cast<uint8_t>(v.num)); break;
    case FieldKind::Strz: b.put_strz(f.attr, v.str); break;
    case FieldKind::Data:
    case FieldKind::DataOrVerdict: put_data(b, f.attr, v.data); break;
  }
}

}  // namespace

const ExprSpec* find_expr(std::string_view name) {
  for (const auto* s : kExprs) {
    if (name == s->name) return s;
  }
  return nullptr;
}

void encode_expr(nl::Builder& b, const Expr& e) {
  size_t elem = b.nest_start(NESTED(NFTA_LIST_ELEM));
  b.put_strz(NFTA_EXPR_NAME, e.name);
  if (e.raw) {
    if (e.raw_has_data) b.put(NESTED(NFTA_EXPR_DATA), e.raw_data.data(), e.raw_data.size());
    b.nest_end(elem);
    return;
  }
  const ExprSpec* spec = find_expr(e.name);
  if (!spec) throw nl::BuildError("unknown nftables expression '" + e.name + "'");
  if (spec->has_data) {
    size_t data = b.nest_start(NESTED(NFTA_EXPR_DATA));
    for (size_t i = 0; i < spec->count; i++) {
      const FieldSpec& f = spec->fields[i];
      for (const auto& [key, v] : e.fields) {
        if (key == f.key) encode_field(b, f, v);
      }
    }
    b.nest_end(data);
  }
  b.nest_end(elem);
}

Expr decode_expr(const nlattr* elem) {
  nl::Attrs tb;
  parse_nested(tb, elem, kElemPolicy.data(), NFTA_EXPR_MAX, "NFTA_LIST_ELEM");
  if (!tb.has(NFTA_EXPR_NAME)) throw nl::ParseError("expression without NFTA_EXPR_NAME");
  Expr e;
  e.name = tb.str(NFTA_EXPR_NAME);
  const ExprSpec* spec = find_expr(e.name);
  if (!spec) {
    e.raw = true;
    if (tb.has(NFTA_EXPR_DATA)) {
      e.raw_has_data = true;
      e.raw_data = std::string(tb.bytes(NFTA_EXPR_DATA));
    }
    return e;
  }
  if (!tb.has(NFTA_EXPR_DATA)) return e;
  // The policy for this expression, built from its table.
  std::vector<nl::Policy> policy(spec->max + 1);
  for (size_t i = 0; i < spec->count; i++) {
    const FieldSpec& f = spec->fields[i];
    policy[f.attr] = {policy_kind(f.kind), f.key};
  }
  nl::Attrs d;
  parse_nested(d, tb.get(NFTA_EXPR_DATA), policy.data(), spec->max, spec->name);
  for (size_t i = 0; i < spec->count; i++) {
    const FieldSpec& f = spec->fields[i];
    if (!d.has(f.attr)) continue;
    Value v;
    v.kind = f.kind;
    switch (f.kind) {
      case FieldKind::Be16: v.num = d.be16(f.attr); break;
      case FieldKind::Be32: v.num = d.be32(f.attr); break;
      case FieldKind::Be64: {
        uint64_t be;
        std::memcpy(&be, nl::Attrs::payload(d.get(f.attr)), 8);
        v.num = be64toh(be);
        break;
      }
      case FieldKind::U8: v.num = d.u8(f.attr); break;
      case FieldKind::Strz: v.str = d.str(f.attr); break;
      case FieldKind::Data:
      case FieldKind::DataOrVerdict: v.data = decode_data(d.get(f.attr), f.key); break;
    }
    e.fields.emplace_back(f.key, std::move(v));
  }
  return e;
}

void encode_exprs(nl::Builder& b, uint16_t attr, const std::vector<Expr>& exprs) {
  size_t list = b.nest_start(NESTED(attr));
  for (const auto& e : exprs) encode_expr(b, e);
  b.nest_end(list);
}

std::vector<Expr> decode_exprs(const nlattr* list) {
  std::vector<Expr> out;
  const uint8_t* p = nl::Attrs::payload(list);
  size_t len = nl::Attrs::payload_len(list);
  size_t off = 0;
  while (off + NLA_HDRLEN <= len) {
    nlattr a;
    std::memcpy(&a, p + off, sizeof a);
    if (a.nla_len < NLA_HDRLEN || off + a.nla_len > len) throw nl::ParseError("expression list: bad element length");
    out.push_back(decode_expr(reinterpret_cast<const nlattr*>(p + off)));
    off += nl::align4(a.nla_len);
  }
  return out;
}

}  // namespace np::nft
