// nfnetlink's framing, shared by nftables and conntrack: every message is an nlmsghdr
// followed by an nfgenmsg (family, version 0, a resource id in network order).
#pragma once

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstdint>

#include "netlink/builder.h"

namespace np::nl {

// nlmsghdr (type = subsystem << 8 | message) + nfgenmsg; returns the message's offset.
inline size_t put_nfgen_header(Builder& b, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id = 0) {
  size_t off = b.put_header(type, flags);
  nfgenmsg g{};
  g.nfgen_family = family;
  g.version = NFNETLINK_V0;
  g.res_id = htons(res_id);
  b.put_extra_header(g);
  return off;
}

}  // namespace np::nl
