// payload: load bytes from a packet header into a register, or write a register back.
//   [ payload load 4b @ network header + 16 => reg 1 ]
//   NFTA_PAYLOAD_DREG be32 | SREG be32 | BASE be32 (NFT_PAYLOAD_*_HEADER) | OFFSET be32 |
//   LEN be32 | CSUM_TYPE be32 | CSUM_OFFSET be32 | CSUM_FLAGS be32
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"dreg", NFTA_PAYLOAD_DREG, FieldKind::Be32},          {"sreg", NFTA_PAYLOAD_SREG, FieldKind::Be32},
    {"base", NFTA_PAYLOAD_BASE, FieldKind::Be32},          {"offset", NFTA_PAYLOAD_OFFSET, FieldKind::Be32},
    {"len", NFTA_PAYLOAD_LEN, FieldKind::Be32},            {"csumType", NFTA_PAYLOAD_CSUM_TYPE, FieldKind::Be32},
    {"csumOffset", NFTA_PAYLOAD_CSUM_OFFSET, FieldKind::Be32}, {"csumFlags", NFTA_PAYLOAD_CSUM_FLAGS, FieldKind::Be32},
};
}  // namespace

const ExprSpec payload{"payload", kFields, std::size(kFields), NFTA_PAYLOAD_MAX};

}  // namespace np::nft::expr
