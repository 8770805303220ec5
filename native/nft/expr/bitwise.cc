// bitwise: dreg = (sreg & mask) ^ xor, or a shift by DATA.
//   [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]
//   NFTA_BITWISE_SREG be32 | DREG be32 | OP be32 (absent: mask/xor) | LEN be32 |
//   MASK nft_data | XOR nft_data | DATA nft_data (shift amount)
#include "nft/expr.h"

NP_NFT_EXPR(bitwise, NFTA_BITWISE_MAX, {"sreg", NFTA_BITWISE_SREG, Be32}, {"dreg", NFTA_BITWISE_DREG, Be32},
            {"op", NFTA_BITWISE_OP, Be32}, {"len", NFTA_BITWISE_LEN, Be32}, {"mask", NFTA_BITWISE_MASK, Data},
            {"xor", NFTA_BITWISE_XOR, Data}, {"data", NFTA_BITWISE_DATA, Data})
