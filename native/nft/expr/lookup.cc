// lookup: is the key in sreg (a concatenation spans several registers) in the set? For a
// map, the element's data goes to dreg; dreg 0 makes it a verdict map.
//   [ lookup reg 1 set guard4 dreg 0 ]
//   NFTA_LOOKUP_SREG be32 | DREG be32 | SET str | SET_ID be32 (set made in this batch) |
//   FLAGS be32 (NFT_LOOKUP_F_INV)
#include "nft/expr.h"

NP_NFT_EXPR(lookup, NFTA_LOOKUP_MAX, {"sreg", NFTA_LOOKUP_SREG, Be32}, {"dreg", NFTA_LOOKUP_DREG, Be32},
            {"set", NFTA_LOOKUP_SET, Strz}, {"setId", NFTA_LOOKUP_SET_ID, Be32}, {"flags", NFTA_LOOKUP_FLAGS, Be32})
