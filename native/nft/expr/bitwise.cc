// bitwise: dreg = (sreg & mask) ^ xor, or a shift by DATA.
//   [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]
//   NFTA_BITWISE_SREG be32 | DREG be32 | OP be32 (absent: mask/xor) | LEN be32 |
//   MASK nft_data | XOR nft_data | DATA nft_data (shift amount)
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"sreg", NFTA_BITWISE_SREG, FieldKind::Be32}, {"dreg", NFTA_BITWISE_DREG, FieldKind::Be32},
    {"op", NFTA_BITWISE_OP, FieldKind::Be32},     {"len", NFTA_BITWISE_LEN, FieldKind::Be32},
    {"mask", NFTA_BITWISE_MASK, FieldKind::Data}, {"xor", NFTA_BITWISE_XOR, FieldKind::Data},
    {"data", NFTA_BITWISE_DATA, FieldKind::Data},
};
}  // namespace

const ExprSpec bitwise{"bitwise", kFields, std::size(kFields), NFTA_BITWISE_MAX};

}  // namespace np::nft::expr
