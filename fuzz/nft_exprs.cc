// nft::decode_exprs on the payload of an NFTA_RULE_EXPRESSIONS attribute (as the
// nftDecodeExprs codec entry point wraps it): every expression table under
// native/nft/expr/, nft_data values and verdicts, unknown expressions kept raw. The
// decoded list must re-encode to a fixed point.
#include <linux/netfilter/nf_tables.h>

#include <cstring>

#include "fuzz/fuzz.h"
#include "nft/expr.h"

namespace {

using namespace np;

std::vector<uint8_t> wrap(const uint8_t* data, size_t size) {
  std::vector<uint8_t> a(NLA_HDRLEN + size);
  nlattr h{static_cast<uint16_t>(a.size()), NFTA_RULE_EXPRESSIONS};
  std::memcpy(a.data(), &h, sizeof h);
  if (size) std::memcpy(a.data() + NLA_HDRLEN, data, size);
  return a;
}

// encode_exprs writes one nest: decode its payload again.
std::vector<nft::Expr> decode_nest(const nl::Builder& b) {
  return nft::decode_exprs(reinterpret_cast<const nlattr*>(b.data()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 0xffff - NLA_HDRLEN) return -1;  // an attribute's length is 16 bits
  auto attr = wrap(data, size);
  std::vector<nft::Expr> exprs;
  try {
    exprs = nft::decode_exprs(reinterpret_cast<const nlattr*>(attr.data()));
  } catch (const nl::ParseError&) {
    return 0;
  }
  fuzz::expect_fixed_point([&](std::vector<uint8_t>& first, std::vector<uint8_t>& second) {
    nl::Builder b1;
    nft::encode_exprs(b1, NFTA_RULE_EXPRESSIONS, exprs);
    first = fuzz::bytes_of(b1);
    nl::Builder b2;
    nft::encode_exprs(b2, NFTA_RULE_EXPRESSIONS, decode_nest(b1));
    second = fuzz::bytes_of(b2);
  });
  return 0;
}
