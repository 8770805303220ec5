// fib: a route lookup for the packet's source or destination (address type, oif...).
//   [ fib daddr type => reg 1 ]
//   NFTA_FIB_FLAGS be32 (NFTA_FIB_F_*) | RESULT be32 (NFT_FIB_RESULT_*) | DREG be32
#include "nft/expr.h"

NP_NFT_EXPR(fib, NFTA_FIB_MAX, {"flags", NFTA_FIB_FLAGS, Be32}, {"result", NFTA_FIB_RESULT, Be32},
            {"dreg", NFTA_FIB_DREG, Be32})
