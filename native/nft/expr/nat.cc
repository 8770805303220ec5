// nat: source or destination NAT to the address (and port) held in registers.
//   [ nat dnat ip addr_min reg 1 proto_min reg 9 ]
//   NFTA_NAT_TYPE be32 (NFT_NAT_SNAT/DNAT) | FAMILY be32 (NFPROTO_IPV4/6) |
//   REG_ADDR_MIN be32 | REG_ADDR_MAX be32 | REG_PROTO_MIN be32 | REG_PROTO_MAX be32 |
//   FLAGS be32 (NF_NAT_RANGE_*)
#include "nft/expr.h"

NP_NFT_EXPR(nat, NFTA_NAT_MAX, {"natType", NFTA_NAT_TYPE, Be32}, {"family", NFTA_NAT_FAMILY, Be32},
            {"regAddrMin", NFTA_NAT_REG_ADDR_MIN, Be32}, {"regAddrMax", NFTA_NAT_REG_ADDR_MAX, Be32},
            {"regProtoMin", NFTA_NAT_REG_PROTO_MIN, Be32}, {"regProtoMax", NFTA_NAT_REG_PROTO_MAX, Be32},
            {"flags", NFTA_NAT_FLAGS, Be32})
