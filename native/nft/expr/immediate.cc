// immediate: load a constant into a register; into the verdict register (0) it is the
// rule's verdict (accept, drop, jump...).
//   [ immediate reg 0 jump -> n1_in ]       [ immediate reg 1 0x0100000a ]
//   NFTA_IMMEDIATE_DREG be32 | DATA nft_data (a value, or NFTA_DATA_VERDICT)
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"dreg", NFTA_IMMEDIATE_DREG, FieldKind::Be32},
    {"data", NFTA_IMMEDIATE_DATA, FieldKind::DataOrVerdict},
};
}  // namespace

const ExprSpec immediate{"immediate", kFields, std::size(kFields), NFTA_IMMEDIATE_MAX};

}  // namespace np::nft::expr
