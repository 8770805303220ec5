// ct: conntrack state of the packet (state, status, mark...) into a register, or set it.
//   [ ct load state => reg 1 ]      [ ct set mark with reg 1 ]
//   NFTA_CT_KEY be32 (NFT_CT_*) | DREG be32 | DIRECTION u8 | SREG be32
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"key", NFTA_CT_KEY, FieldKind::Be32},
    {"dreg", NFTA_CT_DREG, FieldKind::Be32},
    {"direction", NFTA_CT_DIRECTION, FieldKind::U8},
    {"sreg", NFTA_CT_SREG, FieldKind::Be32},
};
}  // namespace

const ExprSpec ct{"ct", kFields, std::size(kFields), NFTA_CT_MAX};

}  // namespace np::nft::expr
