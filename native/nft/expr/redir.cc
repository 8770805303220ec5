// redir: destination NAT to the local host, optionally to a port held in a register.
//   [ redir proto_min reg 1 ]
//   NFTA_REDIR_REG_PROTO_MIN be32 | REG_PROTO_MAX be32 | FLAGS be32 (NF_NAT_RANGE_*)
#include "nft/expr.h"

NP_NFT_EXPR(redir, NFTA_REDIR_MAX, {"regProtoMin", NFTA_REDIR_REG_PROTO_MIN, Be32},
            {"regProtoMax", NFTA_REDIR_REG_PROTO_MAX, Be32}, {"flags", NFTA_REDIR_FLAGS, Be32})
