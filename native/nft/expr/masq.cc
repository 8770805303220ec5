// masq: source NAT to the address of the outgoing interface.
//   [ masq ]      [ masq flags 0x4 ]
//   NFTA_MASQ_FLAGS be32 (NF_NAT_RANGE_*) | REG_PROTO_MIN be32 | REG_PROTO_MAX be32
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"flags", NFTA_MASQ_FLAGS, FieldKind::Be32},
    {"regProtoMin", NFTA_MASQ_REG_PROTO_MIN, FieldKind::Be32},
    {"regProtoMax", NFTA_MASQ_REG_PROTO_MAX, FieldKind::Be32},
};
}  // namespace

const ExprSpec masq{"masq", kFields, std::size(kFields), NFTA_MASQ_MAX};

}  // namespace np::nft::expr
