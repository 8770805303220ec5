// log: log the packet to the kernel log (level) or to an nflog group.
//   [ log prefix pfx  ]
//   NFTA_LOG_PREFIX str | GROUP be16 | SNAPLEN be32 | QTHRESHOLD be16 | LEVEL be32 | FLAGS be32
#include "nft/expr.h"

NP_NFT_EXPR(log, NFTA_LOG_MAX, {"prefix", NFTA_LOG_PREFIX, Strz}, {"group", NFTA_LOG_GROUP, Be16},
            {"snaplen", NFTA_LOG_SNAPLEN, Be32}, {"qthreshold", NFTA_LOG_QTHRESHOLD, Be16},
            {"level", NFTA_LOG_LEVEL, Be32}, {"flags", NFTA_LOG_FLAGS, Be32})
