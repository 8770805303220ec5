// Connection tracking over NETLINK_NETFILTER (subsystem NFNL_SUBSYS_CTNETLINK): dump
// IPv4 entries with a filter, delete them by their original tuple. No conntrack(8).
//
// Every ctnetlink message is an nfnetlink message:
//
//   +----------+---------------------------------------+--------------------------------
//   | nlmsghdr | nfgenmsg                              | attributes (CTA_*)
//   | type =   | family u8 (AF_INET), version u8 (0),  | integers big endian, except the
//   | 1<<8|m   | res_id be16 (0)                       | CTA_FILTER flags (host order)
//   +----------+---------------------------------------+--------------------------------
//
// An entry (IPCTNL_MSG_CT_NEW, as a dump answers) carries both directions' tuples:
//
//   CTA_TUPLE_ORIG (NESTED)                   the first packet's view
//     CTA_TUPLE_IP (NESTED)
//       CTA_IP_V4_SRC  4 bytes                address, network order
//       CTA_IP_V4_DST  4 bytes
//     CTA_TUPLE_PROTO (NESTED)
//       CTA_PROTO_NUM       u8                IPPROTO_TCP/UDP/SCTP/ICMP...
//       CTA_PROTO_SRC_PORT  be16              tcp, udp, sctp, dccp, udplite
//       CTA_PROTO_DST_PORT  be16
//     CTA_TUPLE_ZONE  be16                    only for a zone of one direction
//   CTA_TUPLE_REPLY (NESTED)                  the answer's view: after DNAT its source is
//     ...same layout...                       the address the flow was translated to
//   CTA_ZONE be16, CTA_STATUS be32, CTA_TIMEOUT be32 (seconds), CTA_MARK be32,
//   CTA_ID be32, CTA_PROTOINFO, CTA_COUNTERS_*, ...
//
// A filtered dump (IPCTNL_MSG_CT_GET | NLM_F_DUMP, kernel 5.9+) carries partial tuples
// plus CTA_FILTER { CTA_FILTER_ORIG_FLAGS u32, CTA_FILTER_REPLY_FLAGS u32 } naming which
// of their fields must match. Older kernels ignore CTA_FILTER and the kernel matches
// ports for TCP and UDP only, so every entry is checked here again.
// IPCTNL_MSG_CT_DELETE takes CTA_TUPLE_ORIG (complete) and CTA_ID: the entry dumped, not
// a newer one that reuses its tuple (ENOENT then, as for an entry gone meanwhile).
#pragma once

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "netlink/builder.h"
#include "netlink/socket.h"

namespace np::nfct {

// CTA_FILTER_*_FLAGS bits (the kernel's nf_internals.h; fixed ABI, not in the uapi).
inline constexpr uint32_t kFilterIpSrc = 1u << 0;
inline constexpr uint32_t kFilterIpDst = 1u << 1;
inline constexpr uint32_t kFilterProtoNum = 1u << 3;
inline constexpr uint32_t kFilterProtoSrcPort = 1u << 4;
inline constexpr uint32_t kFilterProtoDstPort = 1u << 5;

inline constexpr uint16_t msg_type(uint16_t msg) { return static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg); }

// One direction of a flow. Addresses in network order, ports in host order.
struct Tuple {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint8_t proto = 0;
  bool has_ports = false;
  uint16_t sport = 0;
  uint16_t dport = 0;
  std::optional<uint16_t> zone;  // CTA_TUPLE_ZONE
};

struct Entry {
  Tuple orig;
  Tuple reply;
  std::optional<uint32_t> id;
  std::optional<uint32_t> status;   // IPS_* bits
  std::optional<uint32_t> timeout;  // seconds left
  std::optional<uint32_t> mark;
  std::optional<uint16_t> zone;     // CTA_ZONE (both directions)
};

// What to match; unset fields match anything, proto 0 any protocol.
struct Filter {
  uint8_t proto = 0;
  std::optional<uint32_t> reply_src;  // network order
  std::optional<uint16_t> reply_sport;
  std::optional<uint16_t> orig_dport;
};

bool matches(const Filter& f, const Entry& e);

// nlmsghdr + nfgenmsg (AF_INET) for ctnetlink message `msg`.
size_t put_header(nl::Builder& b, uint16_t msg, uint16_t flags);
// IPCTNL_MSG_CT_GET | NLM_F_DUMP of AF_INET entries, with the kernel-side filter.
void encode_dump(nl::Builder& b, const Filter& f);
// IPCTNL_MSG_CT_DELETE | NLM_F_ACK of one entry, by its original tuple and id.
void encode_delete(nl::Builder& b, const Entry& e);
// An IPCTNL_MSG_CT_NEW message (dump reply or event).
Entry decode(const nlmsghdr* h);

// The AF_INET entries matching f.
std::vector<Entry> list(nl::Socket& sock, const Filter& f);
// Deletes every AF_INET entry matching f: one dump, then the deletes in as few sendmsg
// calls as the receive buffer has room for their acks (one, unless there are hundreds).
// Returns how many were deleted; an entry that vanished meanwhile is not counted.
size_t remove(nl::Socket& sock, const Filter& f);

}  // namespace np::nfct
