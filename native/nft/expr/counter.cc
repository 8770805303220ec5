// counter: counts packets and bytes that reach it.
//   [ counter pkts 0 bytes 0 ]
//   NFTA_COUNTER_BYTES be64 | PACKETS be64 (both optional: start values)
#include "nft/expr.h"

NP_NFT_EXPR(counter, NFTA_COUNTER_MAX, {"bytes", NFTA_COUNTER_BYTES, Be64}, {"packets", NFTA_COUNTER_PACKETS, Be64})
