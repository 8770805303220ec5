#include <arpa/inet.h>

#include <array>

#include "nft/objects.h"

namespace np::nft {

namespace {

constexpr uint8_t kUdataRuleComment = 0;  // NFTNL_UDATA_RULE_COMMENT

constexpr auto kPolicy = nl::policy<NFTA_RULE_MAX>({
    NL_ATTR(NFTA_RULE_TABLE, String), NL_ATTR(NFTA_RULE_CHAIN, String), NL_ATTR(NFTA_RULE_HANDLE, U64),
    NL_ATTR(NFTA_RULE_EXPRESSIONS, Nested), NL_ATTR(NFTA_RULE_POSITION, U64), NL_ATTR(NFTA_RULE_USERDATA, Binary),
});

}  // namespace

void encode_rule(nl::Builder& b, const Rule& r) {
  if (!r.table.empty()) b.put_strz(NFTA_RULE_TABLE, r.table);
  if (!r.chain.empty()) b.put_strz(NFTA_RULE_CHAIN, r.chain);
  if (r.handle) b.put_be64(NFTA_RULE_HANDLE, r.handle);
  if (r.position) b.put_be64(NFTA_RULE_POSITION, r.position);
  if (r.has_exprs) encode_exprs(b, NFTA_RULE_EXPRESSIONS, r.exprs);
  if (r.comment) {
    auto u = udata_comment(kUdataRuleComment, *r.comment);
    b.put(NFTA_RULE_USERDATA, u.data(), u.size());
  }
}

Rule decode_rule(const nlmsghdr* h) {
  auto m = body(h, "NFT_MSG_NEWRULE");
  nl::Attrs tb;
  tb.parse(m.data, m.len, kPolicy.data(), NFTA_RULE_MAX, "NFTA_RULE");
  Rule r;
  r.family = m.family;
  if (tb.has(NFTA_RULE_TABLE)) r.table = tb.str(NFTA_RULE_TABLE);
  if (tb.has(NFTA_RULE_CHAIN)) r.chain = tb.str(NFTA_RULE_CHAIN);
  if (tb.has(NFTA_RULE_HANDLE)) r.handle = be64toh(tb.u64(NFTA_RULE_HANDLE));
  if (tb.has(NFTA_RULE_POSITION)) r.position = be64toh(tb.u64(NFTA_RULE_POSITION));
  if (tb.has(NFTA_RULE_EXPRESSIONS)) {
    r.has_exprs = true;
    r.exprs = decode_exprs(tb.get(NFTA_RULE_EXPRESSIONS));
  }
  if (tb.has(NFTA_RULE_USERDATA)) r.comment = parse_udata_comment(tb.bytes(NFTA_RULE_USERDATA), kUdataRuleComment);
  return r;
}

}  // namespace np::nft
