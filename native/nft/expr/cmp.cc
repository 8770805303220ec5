// cmp: compare a register with a constant; a mismatch ends the rule.
//   [ cmp eq reg 1 0x0000580a ]
//   NFTA_CMP_SREG be32 | OP be32 (NFT_CMP_EQ, NEQ, LT, LTE, GT, GTE) | DATA nft_data
#include "nft/expr.h"

NP_NFT_EXPR(cmp, NFTA_CMP_MAX, {"sreg", NFTA_CMP_SREG, Be32}, {"op", NFTA_CMP_OP, Be32},
            {"data", NFTA_CMP_DATA, Data})
