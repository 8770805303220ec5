// ct: conntrack state of the packet (state, status, mark...) into a register, or set it.
//   [ ct load state => reg 1 ]      [ ct set mark with reg 1 ]
//   NFTA_CT_KEY be32 (NFT_CT_*) | DREG be32 | DIRECTION u8 | SREG be32
#include "nft/expr.h"

NP_NFT_EXPR(ct, NFTA_CT_MAX, {"key", NFTA_CT_KEY, Be32}, {"dreg", NFTA_CT_DREG, Be32},
            {"direction", NFTA_CT_DIRECTION, U8}, {"sreg", NFTA_CT_SREG, Be32})
