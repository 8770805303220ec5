#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "nft/objects.h"

namespace np::nft {

namespace {

// libnftnl's set userdata types (NFTNL_UDATA_SET_*).
enum : uint8_t {
  kKeyByteorder = 0,
  kDataByteorder = 1,
  kMergeElements = 2,
  kKeyTypeof = 3,
  kDataTypeof = 4,
  kDataInterval = 6,
  kSetComment = 7,
};
// Inside a typeof: the expression type, then its data (NFTNL_UDATA_SET_TYPEOF_*).
constexpr uint8_t kTypeofExpr = 0;
constexpr uint8_t kTypeofData = 1;
constexpr uint32_t kExprConcat = 13;  // nft's EXPR_CONCAT
constexpr uint8_t kElemComment = 0;   // NFTNL_UDATA_SET_ELEM_COMMENT

constexpr auto kPolicy = nl::policy<NFTA_SET_MAX>({
    NL_ATTR(NFTA_SET_TABLE, String), NL_ATTR(NFTA_SET_NAME, String), NL_ATTR(NFTA_SET_FLAGS, U32),
    NL_ATTR(NFTA_SET_KEY_TYPE, U32), NL_ATTR(NFTA_SET_KEY_LEN, U32), NL_ATTR(NFTA_SET_DATA_TYPE, U32),
    NL_ATTR(NFTA_SET_DATA_LEN, U32), NL_ATTR(NFTA_SET_POLICY, U32), NL_ATTR(NFTA_SET_DESC, Nested),
    NL_ATTR(NFTA_SET_ID, U32), NL_ATTR(NFTA_SET_TIMEOUT, U64), NL_ATTR(NFTA_SET_GC_INTERVAL, U32),
    NL_ATTR(NFTA_SET_USERDATA, Binary), NL_ATTR(NFTA_SET_HANDLE, U64),
});

constexpr auto kDescPolicy = nl::policy<NFTA_SET_DESC_MAX>({
    NL_ATTR(NFTA_SET_DESC_SIZE, U32), NL_ATTR(NFTA_SET_DESC_CONCAT, Nested),
});

constexpr auto kListPolicy = nl::policy<NFTA_SET_ELEM_LIST_MAX>({
    NL_ATTR(NFTA_SET_ELEM_LIST_TABLE, String), NL_ATTR(NFTA_SET_ELEM_LIST_SET, String),
    NL_ATTR(NFTA_SET_ELEM_LIST_ELEMENTS, Nested), NL_ATTR(NFTA_SET_ELEM_LIST_SET_ID, U32),
});

constexpr auto kElemPolicy = nl::policy<NFTA_SET_ELEM_MAX>({
    NL_ATTR(NFTA_SET_ELEM_KEY, Nested), NL_ATTR(NFTA_SET_ELEM_DATA, Nested), NL_ATTR(NFTA_SET_ELEM_FLAGS, U32),
    NL_ATTR(NFTA_SET_ELEM_TIMEOUT, U64), NL_ATTR(NFTA_SET_ELEM_EXPIRATION, U64),
    NL_ATTR(NFTA_SET_ELEM_USERDATA, Binary), NL_ATTR(NFTA_SET_ELEM_KEY_END, Nested),
});

// A TLV writer for libnftnl userdata: type u8, length u8, value; nests are TLVs whose
// value is more TLVs.
class Udata {
 public:
  void put_u32(uint8_t type, uint32_t v) {  // host byte order, as libnftnl writes it
    char b[4];
    std::memcpy(b, &v, 4);
    put(type, std::string_view(b, 4));
  }
  void put(uint8_t type, std::string_view v) {
    if (v.size() > 255) throw nl::BuildError("set userdata field longer than 255 bytes");
    s_.push_back(static_cast<char>(type));
    s_.push_back(static_cast<char>(v.size()));
    s_.append(v);
  }
  size_t nest_start(uint8_t type) {
    s_.push_back(static_cast<char>(type));
    s_.push_back(0);
    return s_.size();
  }
  void nest_end(size_t start) {
    size_t len = s_.size() - start;
    if (len > 255) throw nl::BuildError("set userdata nest longer than 255 bytes");
    s_[start - 1] = static_cast<char>(len);
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

void put_typeof_data(Udata& u, const TypeofPart& p) {
  u.put_u32(kTypeofExpr, p.etype);
  size_t d = u.nest_start(kTypeofData);
  for (const auto& [t, v] : p.attrs) u.put_u32(t, v);
  u.nest_end(d);
}

// key_typeof: one expression, or a concatenation of them (nested by index).
void put_typeof(Udata& u, uint8_t type, const std::vector<TypeofPart>& parts) {
  if (parts.empty()) return;
  size_t n = u.nest_start(type);
  if (parts.size() == 1) {
    put_typeof_data(u, parts[0]);
  } else {
    u.put_u32(kTypeofExpr, kExprConcat);
    size_t d = u.nest_start(kTypeofData);
    for (size_t i = 0; i < parts.size(); i++) {
      size_t sub = u.nest_start(static_cast<uint8_t>(i));
      put_typeof_data(u, parts[i]);
      u.nest_end(sub);
    }
    u.nest_end(d);
  }
  u.nest_end(n);
}

using Tlvs = std::vector<std::pair<uint8_t, std::string_view>>;

Tlvs parse_tlvs(std::string_view s) {
  Tlvs out;
  size_t off = 0;
  while (off + 2 <= s.size()) {
    uint8_t t = static_cast<uint8_t>(s[off]);
    uint8_t len = static_cast<uint8_t>(s[off + 1]);
    if (off + 2 + len > s.size()) throw nl::ParseError("set userdata: truncated field");
    out.emplace_back(t, s.substr(off + 2, len));
    off += 2 + len;
  }
  return out;
}

uint32_t tlv_u32(std::string_view v) {
  uint32_t x = 0;
  std::memcpy(&x, v.data(), std::min<size_t>(4, v.size()));
  return x;
}

TypeofPart parse_typeof_data(std::string_view s) {
  TypeofPart p;
  for (auto [t, v] : parse_tlvs(s)) {
    if (t == kTypeofExpr) p.etype = tlv_u32(v);
    else if (t == kTypeofData) {
      for (auto [at, av] : parse_tlvs(v)) p.attrs.emplace_back(at, tlv_u32(av));
    }
  }
  return p;
}

std::vector<TypeofPart> parse_typeof(std::string_view s) {
  TypeofPart top = parse_typeof_data(s);
  if (top.etype != kExprConcat) return {top};
  std::vector<TypeofPart> parts;
  for (auto [t, v] : parse_tlvs(s)) {
    if (t != kTypeofData) continue;
    for (auto [i, sub] : parse_tlvs(v)) parts.push_back(parse_typeof_data(sub));
  }
  return parts;
}

void put_key(nl::Builder& b, uint16_t attr, const std::string& key) { put_data(b, attr, std::string_view(key)); }

}  // namespace

std::string encode_set_udata(const SetUserdata& s) {
  Udata u;
  if (s.key_byteorder) u.put_u32(kKeyByteorder, *s.key_byteorder);
  if (s.data_byteorder) u.put_u32(kDataByteorder, *s.data_byteorder);
  if (s.merge) u.put_u32(kMergeElements, *s.merge);
  put_typeof(u, kKeyTypeof, s.key_typeof);
  put_typeof(u, kDataTypeof, s.data_typeof);
  if (s.data_interval) u.put_u32(kDataInterval, *s.data_interval);
  if (s.comment) u.put(kSetComment, std::string(*s.comment) + '\0');
  return u.str();
}

SetUserdata decode_set_udata(std::string_view udata) {
  SetUserdata s;
  for (auto [t, v] : parse_tlvs(udata)) {
    switch (t) {
      case kKeyByteorder: s.key_byteorder = tlv_u32(v); break;
      case kDataByteorder: s.data_byteorder = tlv_u32(v); break;
      case kMergeElements: s.merge = tlv_u32(v); break;
      case kKeyTypeof: s.key_typeof = parse_typeof(v); break;
      case kDataTypeof: s.data_typeof = parse_typeof(v); break;
      case kDataInterval: s.data_interval = tlv_u32(v); break;
      case kSetComment: s.comment = std::string(v.substr(0, v.find('\0'))); break;
      default: break;
    }
  }
  return s;
}

void encode_set(nl::Builder& b, const Set& s) {
  if (!s.table.empty()) b.put_strz(NFTA_SET_TABLE, s.table);
  if (!s.name.empty()) b.put_strz(NFTA_SET_NAME, s.name);
  if (s.handle) b.put_be64(NFTA_SET_HANDLE, s.handle);
  if (s.flags) b.put_be32(NFTA_SET_FLAGS, *s.flags);
  if (s.key_type) b.put_be32(NFTA_SET_KEY_TYPE, *s.key_type);
  if (s.key_len) b.put_be32(NFTA_SET_KEY_LEN, *s.key_len);
  if (s.data_type) b.put_be32(NFTA_SET_DATA_TYPE, *s.data_type);
  if (s.data_len) b.put_be32(NFTA_SET_DATA_LEN, *s.data_len);
  if (s.policy) b.put_be32(NFTA_SET_POLICY, *s.policy);
  if (s.size) {
    size_t n = b.nest_start(NESTED(NFTA_SET_DESC));
    b.put_be32(NFTA_SET_DESC_SIZE, *s.size);
    b.nest_end(n);
  }
  if (s.id) b.put_be32(NFTA_SET_ID, *s.id);
  if (s.timeout) b.put_be64(NFTA_SET_TIMEOUT, *s.timeout);
  if (s.gc_interval) b.put_be32(NFTA_SET_GC_INTERVAL, *s.gc_interval);
  if (s.udata) {
    auto u = encode_set_udata(*s.udata);
    if (!u.empty()) b.put(NFTA_SET_USERDATA, u.data(), u.size());
  }
}

Set decode_set(const nlmsghdr* h) {
  auto m = body(h, "NFT_MSG_NEWSET");
  nl::Attrs tb;
  tb.parse(m.data, m.len, kPolicy.data(), NFTA_SET_MAX, "NFTA_SET");
  Set s;
  s.family = m.family;
  if (tb.has(NFTA_SET_TABLE)) s.table = tb.str(NFTA_SET_TABLE);
  if (tb.has(NFTA_SET_NAME)) s.name = tb.str(NFTA_SET_NAME);
  if (tb.has(NFTA_SET_HANDLE)) s.handle = be64toh(tb.u64(NFTA_SET_HANDLE));
  if (tb.has(NFTA_SET_FLAGS)) s.flags = tb.be32(NFTA_SET_FLAGS);
  if (tb.has(NFTA_SET_KEY_TYPE)) s.key_type = tb.be32(NFTA_SET_KEY_TYPE);
  if (tb.has(NFTA_SET_KEY_LEN)) s.key_len = tb.be32(NFTA_SET_KEY_LEN);
  if (tb.has(NFTA_SET_DATA_TYPE)) s.data_type = tb.be32(NFTA_SET_DATA_TYPE);
  if (tb.has(NFTA_SET_DATA_LEN)) s.data_len = tb.be32(NFTA_SET_DATA_LEN);
  if (tb.has(NFTA_SET_POLICY)) s.policy = tb.be32(NFTA_SET_POLICY);
  if (tb.has(NFTA_SET_ID)) s.id = tb.be32(NFTA_SET_ID);
  if (tb.has(NFTA_SET_TIMEOUT)) s.timeout = be64toh(tb.u64(NFTA_SET_TIMEOUT));
  if (tb.has(NFTA_SET_GC_INTERVAL)) s.gc_interval = tb.be32(NFTA_SET_GC_INTERVAL);
  if (tb.has(NFTA_SET_DESC)) {
    nl::Attrs d;
    parse_nested(d, tb.get(NFTA_SET_DESC), kDescPolicy.data(), NFTA_SET_DESC_MAX, "NFTA_SET_DESC");
    if (d.has(NFTA_SET_DESC_SIZE)) s.size = d.be32(NFTA_SET_DESC_SIZE);
  }
  if (tb.has(NFTA_SET_USERDATA)) s.udata = decode_set_udata(tb.bytes(NFTA_SET_USERDATA));
  return s;
}

void encode_elems(nl::Builder& b, const ElemList& l, size_t first, size_t last) {
  if (!l.table.empty()) b.put_strz(NFTA_SET_ELEM_LIST_TABLE, l.table);
  if (!l.set.empty()) b.put_strz(NFTA_SET_ELEM_LIST_SET, l.set);
  if (l.set_id) b.put_be32(NFTA_SET_ELEM_LIST_SET_ID, l.set_id);
  if (!l.has_elems) return;
  size_t list = b.nest_start(NESTED(NFTA_SET_ELEM_LIST_ELEMENTS));
  last = std::min(last, l.elems.size());
  for (size_t i = first; i < last; i++) {
    const Elem& e = l.elems[i];
    // libnftnl numbers the list entries 1, 2, ...; the kernel ignores the type.
    size_t n = b.nest_start(NESTED(static_cast<uint16_t>(i - first + 1)));
    if (e.flags) b.put_be32(NFTA_SET_ELEM_FLAGS, e.flags);
    if (e.timeout) b.put_be64(NFTA_SET_ELEM_TIMEOUT, *e.timeout);
    if (e.expiration) b.put_be64(NFTA_SET_ELEM_EXPIRATION, *e.expiration);
    put_key(b, NFTA_SET_ELEM_KEY, e.key);
    if (e.key_end) put_key(b, NFTA_SET_ELEM_KEY_END, *e.key_end);
    if (e.data) put_data(b, NFTA_SET_ELEM_DATA, *e.data);
    if (e.comment) {
      auto u = udata_comment(kElemComment, *e.comment);
      b.put(NFTA_SET_ELEM_USERDATA, u.data(), u.size());
    }
    b.nest_end(n);
  }
  b.nest_end(list);
}

ElemList decode_elems(const nlmsghdr* h) {
  auto m = body(h, "NFT_MSG_NEWSETELEM");
  nl::Attrs tb;
  tb.parse(m.data, m.len, kListPolicy.data(), NFTA_SET_ELEM_LIST_MAX, "NFTA_SET_ELEM_LIST");
  ElemList l;
  l.family = m.family;
  if (tb.has(NFTA_SET_ELEM_LIST_TABLE)) l.table = tb.str(NFTA_SET_ELEM_LIST_TABLE);
  if (tb.has(NFTA_SET_ELEM_LIST_SET)) l.set = tb.str(NFTA_SET_ELEM_LIST_SET);
  if (!tb.has(NFTA_SET_ELEM_LIST_ELEMENTS)) return l;
  const nlattr* list = tb.get(NFTA_SET_ELEM_LIST_ELEMENTS);
  const uint8_t* p = nl::Attrs::payload(list);
  size_t len = nl::Attrs::payload_len(list), off = 0;
  while (off + NLA_HDRLEN <= len) {
    nlattr a;
    std::memcpy(&a, p + off, sizeof a);
    if (a.nla_len < NLA_HDRLEN || off + a.nla_len > len) throw nl::ParseError("set element list: bad length");
    nl::Attrs et;
    parse_nested(et, reinterpret_cast<const nlattr*>(p + off), kElemPolicy.data(), NFTA_SET_ELEM_MAX,
                 "NFTA_LIST_ELEM");
    Elem e;
    if (et.has(NFTA_SET_ELEM_KEY)) e.key = decode_data(et.get(NFTA_SET_ELEM_KEY), "NFTA_SET_ELEM_KEY").value;
    if (et.has(NFTA_SET_ELEM_KEY_END))
      e.key_end = decode_data(et.get(NFTA_SET_ELEM_KEY_END), "NFTA_SET_ELEM_KEY_END").value;
    if (et.has(NFTA_SET_ELEM_DATA)) e.data = decode_data(et.get(NFTA_SET_ELEM_DATA), "NFTA_SET_ELEM_DATA");
    if (et.has(NFTA_SET_ELEM_FLAGS)) e.flags = et.be32(NFTA_SET_ELEM_FLAGS);
    if (et.has(NFTA_SET_ELEM_TIMEOUT)) e.timeout = be64toh(et.u64(NFTA_SET_ELEM_TIMEOUT));
    if (et.has(NFTA_SET_ELEM_EXPIRATION)) e.expiration = be64toh(et.u64(NFTA_SET_ELEM_EXPIRATION));
    if (et.has(NFTA_SET_ELEM_USERDATA))
      e.comment = parse_udata_comment(et.bytes(NFTA_SET_ELEM_USERDATA), kElemComment);
    l.elems.push_back(std::move(e));
    off += nl::align4(a.nla_len);
  }
  return l;
}

}  // namespace np::nft
