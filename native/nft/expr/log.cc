// log: log the packet to the kernel log (level) or to an nflog group.
//   [ log prefix pfx  ]
//   NFTA_LOG_PREFIX str | GROUP be16 | SNAPLEN be32 | QTHRESHOLD be16 | LEVEL be32 | FLAGS be32
#include "nft/expr.h"

namespace np::nft::expr {

namespace {
constexpr FieldSpec kFields[] = {
    {"prefix", NFTA_LOG_PREFIX, FieldKind::Strz},
    {"group", NFTA_LOG_GROUP, FieldKind::Be16},
    {"snaplen", NFTA_LOG_SNAPLEN, FieldKind::Be32},
    {"qthreshold", NFTA_LOG_QTHRESHOLD, FieldKind::Be16},
    {"level", NFTA_LOG_LEVEL, FieldKind::Be32},
    {"flags", NFTA_LOG_FLAGS, FieldKind::Be32},
};
}  // namespace

const ExprSpec log{"log", kFields, std::size(kFields), NFTA_LOG_MAX};

}  // namespace np::nft::expr
