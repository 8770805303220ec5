// range: is the register within [from, to] (op eq) or outside it (op neq)?
//   [ range neq reg 1 0x0000e803 0x0000d007 ]
//   NFTA_RANGE_SREG be32 | OP be32 (NFT_RANGE_EQ/NEQ) | FROM_DATA nft_data | TO_DATA nft_data
#include "nft/expr.h"

NP_NFT_EXPR(range, NFTA_RANGE_MAX, {"sreg", NFTA_RANGE_SREG, Be32}, {"op", NFTA_RANGE_OP, Be32},
            {"from", NFTA_RANGE_FROM_DATA, Data}, {"to", NFTA_RANGE_TO_DATA, Data})
