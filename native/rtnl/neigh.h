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
#include "constants.h"
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
  uint8_t family = 0, flags = 0, type = 0;  // ndm_flags: NTF_*; ndm_type: RTN_*
  int32_t ifindex = 0;
  uint16_t state = 0;  // NUD_*
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
consteval uint32_t neigh_col(std::string_view name) { return static_cast<uint32_t>(names::of(names::kNeighColumns, name)); }
consteval uint32_t neigh_has(std::string_view name) { return static_cast<uint32_t>(names::of(names::kNeighPresent, name)); }

struct NeighTable {
  static constexpr uint32_t kHead = neigh_col("head"), kIfindex = neigh_col("ifindex"), kPresent = neigh_col("present"),
                            kDstLen = neigh_col("dstLen"), kLladdrLen = neigh_col("lladdrLen"), kProbes = neigh_col("probes"),
                            kMaster = neigh_col("master"), kLinkNetnsid = neigh_col("linkNetnsid"), kProtocol = neigh_col("protocol"),
                            kVlan = neigh_col("vlan"), kPort = neigh_col("port"), kVni = neigh_col("vni"), kSrcVni = neigh_col("srcVni"),
                            kVia = neigh_col("via"), kNhId = neigh_col("nhId"), kConfirmed = neigh_col("confirmed"), kUsed = neigh_col("used"),
                            kUpdated = neigh_col("updated"), kRefcnt = neigh_col("refcnt"), kCols = neigh_col("count");
  static constexpr uint32_t kHasDst = neigh_has("dst"), kHasLladdr = neigh_has("lladdr"), kHasProbes = neigh_has("probes"),
                            kHasMaster = neigh_has("master"), kHasLinkNetnsid = neigh_has("linkNetnsid"),
                            kHasProtocol = neigh_has("protocol"), kHasVlan = neigh_has("vlan"), kHasPort = neigh_has("port"),
                            kHasVni = neigh_has("vni"), kHasSrcVni = neigh_has("srcVni"), kHasVia = neigh_has("via"), kHasNhId = neigh_has("nhId"),
                            kHasCacheinfo = neigh_has("cacheinfo");

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
