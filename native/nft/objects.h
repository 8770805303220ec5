// nftables objects: tables, chains, rules, sets and set elements, as plain structs with
// one encoder (attributes after the nfgenmsg) and one decoder (a whole message) each.
// Attribute order follows libnftnl so that messages compare byte for byte with nft's.
//
//   NFT_MSG_NEWTABLE    NFTA_TABLE_NAME, FLAGS, HANDLE, USERDATA
//   NFT_MSG_NEWCHAIN    NFTA_CHAIN_TABLE, HANDLE, NAME, TYPE, POLICY,
//                       HOOK { HOOK_NUM, HOOK_PRIORITY, HOOK_DEV }, FLAGS, USERDATA
//   NFT_MSG_NEWRULE     NFTA_RULE_TABLE, CHAIN, HANDLE, POSITION, EXPRESSIONS, USERDATA
//   NFT_MSG_NEWSET      NFTA_SET_TABLE, NAME, HANDLE, FLAGS, KEY_TYPE, KEY_LEN, DATA_TYPE,
//                       DATA_LEN, POLICY, DESC { SIZE }, ID, TIMEOUT, GC_INTERVAL, USERDATA
//   NFT_MSG_NEWSETELEM  NFTA_SET_ELEM_LIST_TABLE, SET, SET_ID,
//                       ELEMENTS { [i] { FLAGS, TIMEOUT, EXPIRATION, KEY, KEY_END, DATA, USERDATA } }
//
// Userdata is libnftnl's TLV format (type u8, length u8, value): nft keeps rule and
// element comments there, and for sets the byte order of keys and data and the
// `typeof` expressions it prints keys with.
#pragma once

#include <endian.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nft/expr.h"
#include "nft/nft.h"

namespace np::nft {

struct Table {
  uint8_t family = 0;
  std::string name;
  std::optional<uint32_t> flags;
  uint64_t handle = 0;  // 0: none
  std::optional<uint32_t> use;
  std::optional<std::string> comment;  // NFTNL_UDATA_TABLE_COMMENT
};

struct Hook {
  uint32_t num = 0;
  int32_t priority = 0;
  std::string device;  // netdev family
};

struct Chain {
  uint8_t family = 0;
  std::string table, name;
  uint64_t handle = 0;
  std::optional<Hook> hook;
  std::optional<std::string> type;  // filter, nat, route
  std::optional<uint32_t> policy;   // NF_ACCEPT, NF_DROP
  std::optional<uint32_t> flags, use;
  std::optional<std::string> comment;  // NFTNL_UDATA_CHAIN_COMMENT
};

struct Rule {
  uint8_t family = 0;
  std::string table, chain;
  uint64_t handle = 0;
  uint64_t position = 0;
  std::vector<Expr> exprs;
  bool has_exprs = false;
  std::optional<std::string> comment;  // NFTNL_UDATA_RULE_COMMENT
};

// One key or data expression as nft's `typeof` remembers it: the expression type
// (EXPR_PAYLOAD 7, EXPR_META 9, EXPR_CT 12...) and its u32 attributes.
struct TypeofPart {
  uint32_t etype = 0;
  std::vector<std::pair<uint8_t, uint32_t>> attrs;
};

struct SetUserdata {
  std::optional<uint32_t> key_byteorder, data_byteorder, merge, data_interval;
  std::vector<TypeofPart> key_typeof, data_typeof;
  std::optional<std::string> comment;
};

struct Set {
  uint8_t family = 0;
  std::string table, name;
  uint64_t handle = 0;
  std::optional<uint32_t> flags, key_type, key_len, data_type, data_len, policy, size, id, gc_interval;
  std::optional<uint64_t> timeout;  // ms
  std::optional<SetUserdata> udata;
};

struct Elem {
  std::string key;
  std::optional<std::string> key_end;
  std::optional<Data> data;
  uint32_t flags = 0;  // NFT_SET_ELEM_INTERVAL_END
  std::optional<uint64_t> timeout, expiration;  // ms
  std::optional<std::string> comment;  // NFTNL_UDATA_SET_ELEM_COMMENT
};

struct ElemList {
  uint8_t family = 0;
  std::string table, set;
  uint32_t set_id = 0;
  std::vector<Elem> elems;
  bool has_elems = true;  // false: no ELEMENTS attribute (flush the set)
};

void encode_table(nl::Builder& b, const Table& t);
Table decode_table(const nlmsghdr* h);
void encode_chain(nl::Builder& b, const Chain& c);
Chain decode_chain(const nlmsghdr* h);
void encode_rule(nl::Builder& b, const Rule& r);
Rule decode_rule(const nlmsghdr* h);
void encode_set(nl::Builder& b, const Set& s);
Set decode_set(const nlmsghdr* h);
// The elements [first, last) of l: a long list goes out as several messages.
void encode_elems(nl::Builder& b, const ElemList& l, size_t first = 0, size_t last = SIZE_MAX);
ElemList decode_elems(const nlmsghdr* h);

// libnftnl userdata TLVs.
std::string udata_comment(uint8_t type, const std::string& comment);
std::optional<std::string> parse_udata_comment(std::string_view udata, uint8_t type);
std::string encode_set_udata(const SetUserdata& u);
SetUserdata decode_set_udata(std::string_view udata);

}  // namespace np::nft
