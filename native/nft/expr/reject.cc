// reject: drop the packet and answer with an ICMP error or a TCP reset.
//   [ reject type 0 code 3 ]
//   NFTA_REJECT_TYPE be32 (NFT_REJECT_ICMP_UNREACH, TCP_RST, ICMPX_UNREACH) | ICMP_CODE u8
#include "nft/expr.h"

NP_NFT_EXPR(reject, NFTA_REJECT_MAX, {"rejectType", NFTA_REJECT_TYPE, Be32},
            {"icmpCode", NFTA_REJECT_ICMP_CODE, U8})
