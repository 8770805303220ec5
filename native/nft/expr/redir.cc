// redir: destination NAT to the local host, optionally to a port held in a register.
//   [ redir proto_min reg 1 ]
//   NFTA_REDIR_REG_PROTO_MIN be32 | REG_PROTO_MAX be32 | FLAGS be32 (NF_NAT_RANGE_*)
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"regProtoMin", NFTA_REDIR_REG_PROTO_MIN, FieldKind::Be32},
    {"regProtoMax", NFTA_REDIR_REG_PROTO_MAX, FieldKind::Be32},
    {"flags", NFTA_REDIR_FLAGS, FieldKind::Be32},
};
}  // namespace

const ExprSpec redir{"redir", kFields, std::size(kFields), NFTA_REDIR_MAX};

}  // namespace np::nft::expr
