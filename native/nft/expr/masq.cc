// masq: source NAT to the address of the outgoing interface.
//   [ masq ]      [ masq flags 0x4 ]
//   NFTA_MASQ_FLAGS be32 (NF_NAT_RANGE_*) | REG_PROTO_MIN be32 | REG_PROTO_MAX be32
#include "nft/expr.h"

NP_NFT_EXPR(masq, NFTA_MASQ_MAX, {"flags", NFTA_MASQ_FLAGS, Be32}, {"regProtoMin", NFTA_MASQ_REG_PROTO_MIN, Be32},
            {"regProtoMax", NFTA_MASQ_REG_PROTO_MAX, Be32})
