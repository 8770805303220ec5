// counter: counts packets and bytes that reach it.
//   [ counter pkts 0 bytes 0 ]
//   NFTA_COUNTER_BYTES be64 | PACKETS be64 (both optional: start values)
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"bytes", NFTA_COUNTER_BYTES, FieldKind::Be64},
    {"packets", NFTA_COUNTER_PACKETS, FieldKind::Be64},
};
}  // namespace

const ExprSpec counter{"counter", kFields, std::size(kFields), NFTA_COUNTER_MAX};

}  // namespace np::nft::expr
