// nftables expressions: one file per expression under expr/, each a table of its
// attributes in the order libnftnl emits them (so the bytes match what nft sends), and
// one generic encode/decode pair that every table drives.
//
// A rule's expression list:
//
//   NFTA_RULE_EXPRESSIONS(NESTED) {
//     NFTA_LIST_ELEM(NESTED) { NFTA_EXPR_NAME "payload", NFTA_EXPR_DATA(NESTED) { NFTA_PAYLOAD_* } }
//     NFTA_LIST_ELEM(NESTED) { NFTA_EXPR_NAME "cmp", ... }
//   }
//
// An expression the tables do not know (a newer kernel's) decodes to its name and the
// raw bytes of NFTA_EXPR_DATA, and encodes back from them unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netlink/builder.h"
#include "netlink/parser.h"
#include "nft/nft.h"

namespace np::nft {

// How one attribute is carried.
enum class FieldKind : uint8_t {
  Be16,           // NLA_U16, big endian (log group)
  Be32,           // NLA_U32, big endian (registers, keys, ops, flags)
  Be64,           // NLA_U64, big endian (counters, rates)
  U8,             // NLA_U8 (reject icmp code)
  Strz,           // NUL-terminated string (set names, log prefix)
  Data,           // nft_data holding a value
  DataOrVerdict,  // nft_data holding a value or a verdict (immediate)
};

struct FieldSpec {
  const char* key;  // the name the JS side uses
  uint16_t attr;
  FieldKind kind;
};

struct ExprSpec {
  const char* name;          // NFTA_EXPR_NAME
  const FieldSpec* fields;   // in emission order
  size_t count;
  uint16_t max;              // NFTA_<EXPR>_MAX
  bool has_data = true;      // false: no NFTA_EXPR_DATA at all (notrack)
};

struct Value {
  FieldKind kind = FieldKind::Be32;
  uint64_t num = 0;   // Be32, Be64, U8
  std::string str;    // Strz
  Data data;          // Data, DataOrVerdict
};

struct Expr {
  std::string name;
  std::vector<std::pair<std::string, Value>> fields;  // only the attributes present
  bool raw = false;      // an expression the tables do not know
  std::string raw_data;  // its NFTA_EXPR_DATA payload
  bool raw_has_data = false;
};

// The table for an expression name, or nullptr.
const ExprSpec* find_expr(std::string_view name);

void encode_expr(nl::Builder& b, const Expr& e);
Expr decode_expr(const nlattr* elem);
// NFTA_RULE_EXPRESSIONS and friends: a list of NFTA_LIST_ELEM.
void encode_exprs(nl::Builder& b, uint16_t attr, const std::vector<Expr>& exprs);
std::vector<Expr> decode_exprs(const nlattr* list);

// The per-expression tables (expr/*.cc).
namespace expr {
using enum FieldKind;
extern const ExprSpec payload, meta, cmp, bitwise, immediate, lookup, nat, masq, redir, ct, fib, counter,
    range, limit, log, reject, notrack;
}

// One expression's table, in an expr/ file: NP_NFT_EXPR(meta, NFTA_META_MAX,
// {"key", NFTA_META_KEY, Be32}, ...) defines expr::meta, its fields in emission order.
#define NP_NFT_EXPR(ident, max, ...)                                                      \
  namespace np::nft::expr {                                                               \
  namespace {                                                                             \
  constexpr FieldSpec ident##_fields[] = {__VA_ARGS__};                                   \
  }                                                                                       \
  const ExprSpec ident{#ident, ident##_fields, std::size(ident##_fields), max};           \
  }

}  // namespace np::nft
