// Connection tracking over NETLINK_NETFILTER (subsystem NFNL_SUBSYS_CTNETLINK): dump
// IPv4 or IPv6 entries with a filter, delete them by their original tuple. No conntrack(8).
//
// Every ctnetlink message is an nfnetlink message:
//
//   +----------+---------------------------------------+--------------------------------
//   | nlmsghdr | nfgenmsg                              | attributes (CTA_*)
//   | type =   | family u8 (AF_INET/6), version (0),   | integers big endian, except the
//   | 1<<8|m   | res_id be16 (0)                       | CTA_FILTER flags (host order)
//   +----------+---------------------------------------+--------------------------------
//
// An entry (IPCTNL_MSG_CT_NEW, as a dump answers) carries both directions' tuples:
//
//   CTA_TUPLE_ORIG (NESTED)                   the first packet's view
//     CTA_TUPLE_IP (NESTED)
//       CTA_IP_V4_SRC  4 bytes                address, network order (AF_INET)
//       CTA_IP_V4_DST  4 bytes
//       CTA_IP_V6_SRC  16 bytes               or these (AF_INET6)
//       CTA_IP_V6_DST  16 bytes
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
// ports for TCP and UDP only, so every entry is checked here again; an IPv6 address is
// never given to the kernel's filter (its comparison is inverted, see encode_dump).
// IPCTNL_MSG_CT_DELETE takes CTA_TUPLE_ORIG (complete) and CTA_ID: the entry dumped, not
// a newer one that reuses its tuple (ENOENT then, as for an entry gone meanwhile).
#pragma once

#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <array>
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

// An address of either family, network order: IPv4 in the first 4 bytes.
using Addr = std::array<uint8_t, 16>;

// One direction of a flow. Addresses in network order, ports in host order.
struct Tuple {
  uint8_t family = AF_INET;  // AF_INET or AF_INET6: which CTA_IP_* the addresses came as
  Addr src{};
  Addr dst{};
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

// What to match; unset fields match anything, proto 0 any protocol. One family per dump.
struct Filter {
  uint8_t family = AF_INET;  // AF_INET or AF_INET6
  uint8_t proto = 0;
  std::optional<Addr> reply_src;  // network order, of `family`
  std::optional<uint16_t> reply_sport;
  std::optional<uint16_t> orig_dport;
};

bool matches(const Filter& f, const Entry& e);

// nlmsghdr + nfgenmsg (of `family`) for ctnetlink message `msg`.
size_t put_header(nl::Builder& b, uint16_t msg, uint16_t flags, uint8_t family = AF_INET);
// IPCTNL_MSG_CT_GET | NLM_F_DUMP of the filter family's entries, with the kernel-side filter.
void encode_dump(nl::Builder& b, const Filter& f);
// IPCTNL_MSG_CT_DELETE | NLM_F_ACK of one entry, by its original tuple and id.
void encode_delete(nl::Builder& b, const Entry& e);
// An IPCTNL_MSG_CT_NEW message (dump reply or event).
Entry decode(const nlmsghdr* h);

// The entries of f's family matching f.
std::vector<Entry> list(nl::Socket& sock, const Filter& f);
// Deletes every entry of f's family matching f: one dump, then the deletes in as few sendmsg
// calls as the receive buffer has room for their acks (one, unless there are hundreds).
// Returns how many were deleted; an entry that vanished meanwhile is not counted.
size_t remove(nl::Socket& sock, const Filter& f);

}  // namespace np::nfct
