#include <array>

#include "nft/objects.h"

namespace np::nft {

namespace {

constexpr uint8_t kUdataTableComment = 0;  // NFTNL_UDATA_TABLE_COMMENT

constexpr auto kPolicy = nl::policy<NFTA_TABLE_MAX>({
    NL_ATTR(NFTA_TABLE_NAME, String), NL_ATTR(NFTA_TABLE_FLAGS, U32), NL_ATTR(NFTA_TABLE_USE, U32),
    NL_ATTR(NFTA_TABLE_HANDLE, U64), NL_ATTR(NFTA_TABLE_USERDATA, Binary),
});

}  // namespace

void encode_table(nl::Builder& b, const Table& t) {
  if (!t.name.empty()) b.put_strz(NFTA_TABLE_NAME, t.name);
  if (t.flags) b.put_be32(NFTA_TABLE_FLAGS, *t.flags);
  if (t.handle) b.put_be64(NFTA_TABLE_HANDLE, t.handle);
  if (t.comment) {
    auto u = udata_comment(kUdataTableComment, *t.comment);
    b.put(NFTA_TABLE_USERDATA, u.data(), u.size());
  }
}

Table decode_table(const nlmsghdr* h) {
  auto m = body(h, "NFT_MSG_NEWTABLE");
  nl::Attrs tb;
  tb.parse(m.data, m.len, kPolicy.data(), NFTA_TABLE_MAX, "NFTA_TABLE");
  Table t;
  t.family = m.family;
  if (tb.has(NFTA_TABLE_NAME)) t.name = tb.str(NFTA_TABLE_NAME);
  if (tb.has(NFTA_TABLE_FLAGS)) t.flags = tb.be32(NFTA_TABLE_FLAGS);
  if (tb.has(NFTA_TABLE_USE)) t.use = tb.be32(NFTA_TABLE_USE);
  if (tb.has(NFTA_TABLE_HANDLE)) t.handle = be64toh(tb.u64(NFTA_TABLE_HANDLE));
  if (tb.has(NFTA_TABLE_USERDATA)) t.comment = parse_udata_comment(tb.bytes(NFTA_TABLE_USERDATA), kUdataTableComment);
  return t;
}

std::string udata_comment(uint8_t type, const std::string& comment) {
  if (comment.size() + 1 > 255) throw nl::BuildError("comment longer than 254 bytes");
  std::string u;
  u.push_back(static_cast<char>(type));
  u.push_back(static_cast<char>(comment.size() + 1));
  u += comment;
  u.push_back('\0');
  return u;
}

std::optional<std::string> parse_udata_comment(std::string_view u, uint8_t type) {
  size_t off = 0;
  while (off + 2 <= u.size()) {
    uint8_t t = static_cast<uint8_t>(u[off]);
    uint8_t len = static_cast<uint8_t>(u[off + 1]);
    if (off + 2 + len > u.size()) break;
    if (t == type) {
      std::string_view v = u.substr(off + 2, len);
      return std::string(v.substr(0, v.find('\0')));
    }
    off += 2 + len;
  }
  return std::nullopt;
}

}  // namespace np::nft
