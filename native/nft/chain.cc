#include <arpa/inet.h>

#include <array>

#include "nft/objects.h"

namespace np::nft {

namespace {

constexpr uint8_t kUdataChainComment = 0;  // NFTNL_UDATA_CHAIN_COMMENT

constexpr auto kPolicy = nl::policy<NFTA_CHAIN_MAX>({
    NL_ATTR(NFTA_CHAIN_TABLE, String), NL_ATTR(NFTA_CHAIN_HANDLE, U64), NL_ATTR(NFTA_CHAIN_NAME, String),
    NL_ATTR(NFTA_CHAIN_HOOK, Nested), NL_ATTR(NFTA_CHAIN_POLICY, U32), NL_ATTR(NFTA_CHAIN_USE, U32),
    NL_ATTR(NFTA_CHAIN_TYPE, String), NL_ATTR(NFTA_CHAIN_COUNTERS, Nested), NL_ATTR(NFTA_CHAIN_FLAGS, U32),
    NL_ATTR(NFTA_CHAIN_USERDATA, Binary),
});

constexpr auto kHookPolicy = nl::policy<NFTA_HOOK_MAX>({
    NL_ATTR(NFTA_HOOK_HOOKNUM, U32), NL_ATTR(NFTA_HOOK_PRIORITY, U32), NL_ATTR(NFTA_HOOK_DEV, String),
});

}  // namespace

void encode_chain(nl::Builder& b, const Chain& c) {
  if (!c.table.empty()) b.put_strz(NFTA_CHAIN_TABLE, c.table);
  if (c.handle) b.put_be64(NFTA_CHAIN_HANDLE, c.handle);
  if (!c.name.empty()) b.put_strz(NFTA_CHAIN_NAME, c.name);
  if (c.type) b.put_strz(NFTA_CHAIN_TYPE, *c.type);
  if (c.policy) b.put_be32(NFTA_CHAIN_POLICY, *c.policy);
  if (c.hook) {
    size_t n = b.nest_start(NESTED(NFTA_CHAIN_HOOK));
    b.put_be32(NFTA_HOOK_HOOKNUM, c.hook->num);
    b.put_be32(NFTA_HOOK_PRIORITY, static_cast<uint32_t>(c.hook->priority));
    if (!c.hook->device.empty()) b.put_strz(NFTA_HOOK_DEV, c.hook->device);
    b.nest_end(n);
  }
  if (c.flags) b.put_be32(NFTA_CHAIN_FLAGS, *c.flags);
  if (c.comment) {
    auto u = udata_comment(kUdataChainComment, *c.comment);
    b.put(NFTA_CHAIN_USERDATA, u.data(), u.size());
  }
}

Chain decode_chain(const nlmsghdr* h) {
  auto m = body(h, "NFT_MSG_NEWCHAIN");
  nl::Attrs tb;
  tb.parse(m.data, m.len, kPolicy.data(), NFTA_CHAIN_MAX, "NFTA_CHAIN");
  Chain c;
  c.family = m.family;
  if (tb.has(NFTA_CHAIN_TABLE)) c.table = tb.str(NFTA_CHAIN_TABLE);
  if (tb.has(NFTA_CHAIN_NAME)) c.name = tb.str(NFTA_CHAIN_NAME);
  if (tb.has(NFTA_CHAIN_HANDLE)) c.handle = be64toh(tb.u64(NFTA_CHAIN_HANDLE));
  if (tb.has(NFTA_CHAIN_TYPE)) c.type = tb.str(NFTA_CHAIN_TYPE);
  if (tb.has(NFTA_CHAIN_POLICY)) c.policy = tb.be32(NFTA_CHAIN_POLICY);
  if (tb.has(NFTA_CHAIN_USE)) c.use = tb.be32(NFTA_CHAIN_USE);
  if (tb.has(NFTA_CHAIN_FLAGS)) c.flags = tb.be32(NFTA_CHAIN_FLAGS);
  if (tb.has(NFTA_CHAIN_HOOK)) {
    nl::Attrs hk;
    parse_nested(hk, tb.get(NFTA_CHAIN_HOOK), kHookPolicy.data(), NFTA_HOOK_MAX, "NFTA_CHAIN_HOOK");
    Hook hook;
    if (hk.has(NFTA_HOOK_HOOKNUM)) hook.num = hk.be32(NFTA_HOOK_HOOKNUM);
    if (hk.has(NFTA_HOOK_PRIORITY)) hook.priority = static_cast<int32_t>(hk.be32(NFTA_HOOK_PRIORITY));
    if (hk.has(NFTA_HOOK_DEV)) hook.device = hk.str(NFTA_HOOK_DEV);
    c.hook = hook;
  }
  if (tb.has(NFTA_CHAIN_USERDATA)) c.comment = parse_udata_comment(tb.bytes(NFTA_CHAIN_USERDATA), kUdataChainComment);
  return c;
}

}  // namespace np::nft
