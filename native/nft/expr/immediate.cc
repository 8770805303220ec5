// immediate: load a constant into a register; into the verdict register (0) it is the
// rule's verdict (accept, drop, jump...).
//   [ immediate reg 0 jump -> n1_in ]       [ immediate reg 1 0x0100000a ]
//   NFTA_IMMEDIATE_DREG be32 | DATA nft_data (a value, or NFTA_DATA_VERDICT)
#include "nft/expr.h"

NP_NFT_EXPR(immediate, NFTA_IMMEDIATE_MAX, {"dreg", NFTA_IMMEDIATE_DREG, Be32},
            {"data", NFTA_IMMEDIATE_DATA, DataOrVerdict})
