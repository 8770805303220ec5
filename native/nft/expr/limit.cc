// limit: token bucket; over the rate the rule stops here (or, inverted, continues).
//   [ limit rate 10/second burst 5 type packets flags 0x0 ]
//   NFTA_LIMIT_RATE be64 | UNIT be64 (seconds) | BURST be32 | TYPE be32 (NFT_LIMIT_PKTS/
//   PKT_BYTES) | FLAGS be32 (NFT_LIMIT_F_INV)
#include "nft/expr.h"

NP_NFT_EXPR(limit, NFTA_LIMIT_MAX, {"rate", NFTA_LIMIT_RATE, Be64}, {"unit", NFTA_LIMIT_UNIT, Be64},
            {"burst", NFTA_LIMIT_BURST, Be32}, {"limitType", NFTA_LIMIT_TYPE, Be32},
            {"flags", NFTA_LIMIT_FLAGS, Be32})
