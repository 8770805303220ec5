// cmp: compare a register with a constant; a mismatch ends the rule.
//   [ cmp eq reg 1 0x0000580a ]
//   NFTA_CMP_SREG be32 | OP be32 (NFT_CMP_EQ, NEQ, LT, LTE, GT, GTE) | DATA nft_data
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"sreg", NFTA_CMP_SREG, FieldKind::Be32},
    {"op", NFTA_CMP_OP, FieldKind::Be32},
    {"data", NFTA_CMP_DATA, FieldKind::Data},
};
}  // namespace

const ExprSpec cmp{"cmp", kFields, std::size(kFields), NFTA_CMP_MAX};

}  // namespace np::nft::expr
