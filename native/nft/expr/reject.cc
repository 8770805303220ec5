// reject: drop the packet and answer with an ICMP error or a TCP reset.
//   [ reject type 0 code 3 ]
//   NFTA_REJECT_TYPE be32 (NFT_REJECT_ICMP_UNREACH, TCP_RST, ICMPX_UNREACH) | ICMP_CODE u8
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"rejectType", NFTA_REJECT_TYPE, FieldKind::Be32},
    {"icmpCode", NFTA_REJECT_ICMP_CODE, FieldKind::U8},
};
}  // namespace

const ExprSpec reject{"reject", kFields, std::size(kFields), NFTA_REJECT_MAX};

}  // namespace np::nft::expr
