// meta: packet metadata (iifname, l4proto, nfproto, mark...) into a register, or set it.
//   [ meta load iifname => reg 1 ]        [ meta set mark with reg 1 ]
//   NFTA_META_KEY be32 (NFT_META_*) | DREG be32 | SREG be32
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"key", NFTA_META_KEY, FieldKind::Be32},
    {"dreg", NFTA_META_DREG, FieldKind::Be32},
    {"sreg", NFTA_META_SREG, FieldKind::Be32},
};
}  // namespace

const ExprSpec meta{"meta", kFields, std::size(kFields), NFTA_META_MAX};

}  // namespace np::nft::expr
