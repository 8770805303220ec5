#include "nft/nft.h"

#include <arpa/inet.h>

#include <array>

#include "netlink/nfnetlink.h"

namespace np::nft {

const char* msg_name(uint16_t msg) {
  static const char* names[] = {
      "NFT_MSG_NEWTABLE",     "NFT_MSG_GETTABLE",    "NFT_MSG_DELTABLE",     "NFT_MSG_NEWCHAIN",
      "NFT_MSG_GETCHAIN",     "NFT_MSG_DELCHAIN",    "NFT_MSG_NEWRULE",      "NFT_MSG_GETRULE",
      "NFT_MSG_DELRULE",      "NFT_MSG_NEWSET",      "NFT_MSG_GETSET",       "NFT_MSG_DELSET",
      "NFT_MSG_NEWSETELEM",   "NFT_MSG_GETSETELEM",  "NFT_MSG_DELSETELEM",   "NFT_MSG_NEWGEN",
      "NFT_MSG_GETGEN",       "NFT_MSG_TRACE",       "NFT_MSG_NEWOBJ",       "NFT_MSG_GETOBJ",
      "NFT_MSG_DELOBJ",       "NFT_MSG_GETOBJ_RESET", "NFT_MSG_NEWFLOWTABLE", "NFT_MSG_GETFLOWTABLE",
      "NFT_MSG_DELFLOWTABLE", "NFT_MSG_GETRULE_RESET", "NFT_MSG_DESTROYTABLE", "NFT_MSG_DESTROYCHAIN",
      "NFT_MSG_DESTROYRULE",  "NFT_MSG_DESTROYSET",  "NFT_MSG_DESTROYSETELEM",
  };
  return msg < std::size(names) ? names[msg] : "NFT_MSG_?";
}

size_t put_header(nl::Builder& b, uint16_t msg, uint8_t family, uint16_t flags) {
  return nl::put_nfgen_header(b, msg_type(msg), flags, family);
}

size_t put_batch(nl::Builder& b, uint16_t type, uint32_t genid) {
  size_t off = nl::put_nfgen_header(b, type, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  if (genid) b.put_be32(NFNL_BATCH_GENID, genid);
  return off;
}

void put_data(nl::Builder& b, uint16_t attr, std::string_view value) {
  size_t n = b.nest_start(NESTED(attr));
  b.put(NFTA_DATA_VALUE, value.data(), value.size());
  b.nest_end(n);
}

void put_verdict(nl::Builder& b, uint16_t attr, int32_t code, std::string_view chain) {
  size_t n = b.nest_start(NESTED(attr));
  size_t v = b.nest_start(NESTED(NFTA_DATA_VERDICT));
  b.put_be32(NFTA_VERDICT_CODE, static_cast<uint32_t>(code));
  if (!chain.empty()) b.put_strz(NFTA_VERDICT_CHAIN, chain);
  b.nest_end(v);
  b.nest_end(n);
}

void put_data(nl::Builder& b, uint16_t attr, const Data& d) {
  if (d.is_verdict) put_verdict(b, attr, d.code, d.chain);
  else put_data(b, attr, d.value);
}

namespace {

constexpr auto kDataPolicy = nl::policy<NFTA_DATA_MAX>({
    NL_ATTR(NFTA_DATA_VALUE, Binary), NL_ATTR(NFTA_DATA_VERDICT, Nested),
});

constexpr auto kVerdictPolicy = nl::policy<NFTA_VERDICT_MAX>({
    NL_ATTR(NFTA_VERDICT_CODE, U32), NL_ATTR(NFTA_VERDICT_CHAIN, String),
});

}  // namespace

void parse_nested(nl::Attrs& tb, const nlattr* a, const nl::Policy* policy, uint16_t max, const char* what) {
  tb.parse(nl::Attrs::payload(a), nl::Attrs::payload_len(a), policy, max, what);
}

Data decode_data(const nlattr* a, const char* what) {
  nl::Attrs tb;
  parse_nested(tb, a, kDataPolicy.data(), NFTA_DATA_MAX, what);
  Data d;
  if (tb.has(NFTA_DATA_VERDICT)) {
    nl::Attrs v;
    parse_nested(v, tb.get(NFTA_DATA_VERDICT), kVerdictPolicy.data(), NFTA_VERDICT_MAX, "NFTA_DATA_VERDICT");
    d.is_verdict = true;
    if (v.has(NFTA_VERDICT_CODE)) d.code = static_cast<int32_t>(v.be32(NFTA_VERDICT_CODE));
    if (v.has(NFTA_VERDICT_CHAIN)) d.chain = v.str(NFTA_VERDICT_CHAIN);
  } else if (tb.has(NFTA_DATA_VALUE)) {
    d.value = std::string(tb.bytes(NFTA_DATA_VALUE));
  } else {
    throw nl::ParseError(std::string(what) + ": nft_data holds neither a value nor a verdict");
  }
  return d;
}

Body body(const nlmsghdr* h, const char* what) {
  const auto* g = reinterpret_cast<const nfgenmsg*>(nl::family_header(h, sizeof(nfgenmsg), what));
  const size_t hdr = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
  return {reinterpret_cast<const uint8_t*>(h) + hdr, h->nlmsg_len - std::min<size_t>(hdr, h->nlmsg_len),
          g->nfgen_family};
}

std::string be_u32_bytes(uint32_t v) {
  uint32_t be = htonl(v);
  return std::string(reinterpret_cast<const char*>(&be), 4);
}

}  // namespace np::nft
