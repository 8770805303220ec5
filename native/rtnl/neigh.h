// rtnetlink neighbours: ARP/NDP entries (AF_INET, AF_INET6) and bridge FDB entries
// (AF_BRIDGE) share one message, RTM_{NEW,DEL,GET}NEIGH.
//
//   +----------+--------------------------------------------+----------------------
//   | nlmsghdr | ndmsg                                      | attributes
//   |          | family u8, pad1 u8, pad2 u16,              | NDA_DST     IP (4/16 bytes):
//   |          | ifindex s32, state u16 (NUD_*),            |   the neighbour, or an FDB
//   |          | flags u8 (NTF_*), type u8 (RTN_*)          |   entry's remote VTEP
//   |          |                                            | NDA_LLADDR  MAC (6 bytes)
//   |          |                                            | NDA_VLAN u16, NDA_PORT be16,
//   |          |                                            | NDA_VNI u32, NDA_SRC_VNI u32,
//   |          |                                            | NDA_IFINDEX u32 (vxlan: via;
//   |          |                                            |   dump: device filter),
//   |          |                                            | NDA_MASTER u32, ...
//   +----------+--------------------------------------------+----------------------
//
// Requests: add = NLM_F_CREATE|NLM_F_EXCL, replace = NLM_F_CREATE|NLM_F_REPLACE,
// append = NLM_F_CREATE|NLM_F_APPEND (vxlan FDB: one more remote for a MAC).
// Dumps are filtered by the kernel (NETLINK_GET_STRICT_CHK): neighbours by NDA_IFINDEX
// and NDA_MASTER with an all-zero header except NTF_PROXY; FDB entries by the header's
// ifindex (bridge port) and NDA_MASTER (bridge).
#pragma once

#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlink/builder.h"
#include "netlink/parser.h"
#include "rtnl/ip.h"

namespace np::rtnl {

// One RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH request, as plain values.
struct NeighRequest {
  uint16_t type = RTM_NEWNEIGH;
  uint16_t flags = 0;            // NLM_F_CREATE|NLM_F_EXCL etc.; NLM_F_ACK is added for changes
  uint8_t family = AF_INET;      // AF_INET, AF_INET6, AF_BRIDGE
  int32_t ifindex = 0;
  uint16_t state = 0;            // NUD_*
  uint8_t ntf = 0;               // NTF_*
  IpAddr dst;                    // NDA_DST, when set
  std::string lladdr;            // NDA_LLADDR: raw bytes (6 for Ethernet), empty = absent
  std::optional<uint16_t> vlan;  // NDA_VLAN
  std::optional<uint16_t> port;  // NDA_PORT (host order here, big endian on the wire)
  std::optional<uint32_t> vni;   // NDA_VNI
  std::optional<uint32_t> src_vni;  // NDA_SRC_VNI
  std::optional<uint32_t> via;   // NDA_IFINDEX (vxlan FDB: the underlay device)
  std::optional<uint8_t> protocol;  // NDA_PROTOCOL
};

// RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH (not a dump).
void encode_neigh(nl::Builder& b, const NeighRequest& r);

struct NeighDumpFilter {
  uint8_t family = AF_UNSPEC;  // AF_UNSPEC (IPv4 and IPv6), AF_INET, AF_INET6, AF_BRIDGE
  int32_t ifindex = 0;         // neighbours: NDA_IFINDEX; FDB: ndm_ifindex (bridge port)
  int32_t master = 0;          // NDA_MASTER
  bool proxy = false;          // NTF_PROXY: proxy entries instead of the cache (not FDB)
};

// RTM_GETNEIGH with NLM_F_DUMP (ip neigh show, bridge fdb show).
void encode_neigh_dump(nl::Builder& b, const NeighDumpFilter& f);

struct NeighCacheInfo {
  uint32_t confirmed = 0, used = 0, updated = 0, refcnt = 0;  // clock_t ticks ago, as the kernel reports
};

struct Neigh {
  uint8_t family = 0;
  int32_t ifindex = 0;
  uint16_t state = 0;
  uint8_t flags = 0;
  uint8_t type = 0;
  IpAddr dst;                         // NDA_DST; unset when absent
  std::optional<std::string> lladdr;  // NDA_LLADDR, raw bytes
  std::optional<uint16_t> vlan, port;
  std::optional<uint32_t> vni, src_vni, via, master, probes, nh_id, flags_ext;
  std::optional<int32_t> link_netnsid;
  std::optional<uint8_t> protocol;
  std::optional<NeighCacheInfo> cacheinfo;
};

// Decodes one RTM_NEWNEIGH/RTM_DELNEIGH message; throws nl::ParseError naming the
// attribute at fault. A dump passes one Attrs for all its messages (no allocation each).
Neigh decode_neigh(const nlmsghdr* h, nl::Attrs& tb);
Neigh decode_neigh(const nlmsghdr* h);

// Neighbour and FDB entries laid out for JavaScript to build its objects from: numbers
// in fixed-width rows of u32 columns, the formatted address and MAC of every row back
// to back in one Latin-1 string. Thousands of entries cross the native boundary as two
// values instead of a dozen N-API calls per entry (src/neigh-table.ts reads them; the
// column order is shared with it).
//
//   row i: cols[i*kCols ..]
//   | head: family | ntf<<8 | nud<<16 | ifindex | present (kHas*) | dstLen | lladdrLen |
//   | probes | master | linkNetnsid | protocol | vlan | port | vni | srcVni | via | nhid |
//   | confirmed | used | updated | refcnt (NDA_CACHEINFO, USER_HZ ticks) |
//   text: dst (when kHasDst) then lladdr (when kHasLladdr), row after row
struct NeighTable {
  enum Col : uint32_t {
    kHead, kIfindex, kPresent, kDstLen, kLladdrLen, kProbes, kMaster, kLinkNetnsid, kProtocol,
    kVlan, kPort, kVni, kSrcVni, kVia, kNhId, kConfirmed, kUsed, kUpdated, kRefcnt, kCols,
  };
  enum Has : uint32_t {
    kHasDst = 1 << 0, kHasLladdr = 1 << 1, kHasProbes = 1 << 2, kHasMaster = 1 << 3,
    kHasLinkNetnsid = 1 << 4, kHasProtocol = 1 << 5, kHasVlan = 1 << 6, kHasPort = 1 << 7,
    kHasVni = 1 << 8, kHasSrcVni = 1 << 9, kHasVia = 1 << 10, kHasNhId = 1 << 11,
    kHasCacheinfo = 1 << 12,
  };

  std::vector<uint32_t> cols;
  std::string text;

  size_t size() const { return cols.size() / kCols; }
  void clear() {
    cols.clear();
    text.clear();
  }
  void add(const Neigh& n);
};

}  // namespace np::rtnl
