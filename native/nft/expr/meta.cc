// meta: packet metadata (iifname, l4proto, nfproto, mark...) into a register, or set it.
//   [ meta load iifname => reg 1 ]        [ meta set mark with reg 1 ]
//   NFTA_META_KEY be32 (NFT_META_*) | DREG be32 | SREG be32
#include "nft/expr.h"

NP_NFT_EXPR(meta, NFTA_META_MAX, {"key", NFTA_META_KEY, Be32}, {"dreg", NFTA_META_DREG, Be32},
            {"sreg", NFTA_META_SREG, Be32})
