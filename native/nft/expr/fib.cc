// fib: a route lookup for the packet's source or destination (address type, oif...).
//   [ fib daddr type => reg 1 ]
//   NFTA_FIB_FLAGS be32 (NFTA_FIB_F_*) | RESULT be32 (NFT_FIB_RESULT_*) | DREG be32
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"flags", NFTA_FIB_FLAGS, FieldKind::Be32},
    {"result", NFTA_FIB_RESULT, FieldKind::Be32},
    {"dreg", NFTA_FIB_DREG, FieldKind::Be32},
};
}  // namespace

const ExprSpec fib{"fib", kFields, std::size(kFields), NFTA_FIB_MAX};

}  // namespace np::nft::expr
