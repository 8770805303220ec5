// notrack: skip connection tracking for this packet. No attributes: not even an empty
// NFTA_EXPR_DATA, as libnftnl sends it.
//   [ notrack ]
#include "nft/expr.h"

namespace np::nft::expr {

const ExprSpec notrack{"notrack", nullptr, 0, 0, false};

}  // namespace np::nft::expr
