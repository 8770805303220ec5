// payload: load bytes from a packet header into a register, or write a register back.
//   [ payload load 4b @ network header + 16 => reg 1 ]
//   NFTA_PAYLOAD_DREG be32 | SREG be32 | BASE be32 (NFT_PAYLOAD_*_HEADER) | OFFSET be32 |
//   LEN be32 | CSUM_TYPE be32 | CSUM_OFFSET be32 | CSUM_FLAGS be32
#include "nft/expr.h"

NP_NFT_EXPR(payload, NFTA_PAYLOAD_MAX, {"dreg", NFTA_PAYLOAD_DREG, Be32}, {"sreg", NFTA_PAYLOAD_SREG, Be32},
            {"base", NFTA_PAYLOAD_BASE, Be32}, {"offset", NFTA_PAYLOAD_OFFSET, Be32},
            {"len", NFTA_PAYLOAD_LEN, Be32}, {"csumType", NFTA_PAYLOAD_CSUM_TYPE, Be32},
            {"csumOffset", NFTA_PAYLOAD_CSUM_OFFSET, Be32}, {"csumFlags", NFTA_PAYLOAD_CSUM_FLAGS, Be32})
