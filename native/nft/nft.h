// nftables over NETLINK_NETFILTER: message framing and nft_data shared by every object.
//
// Every nftables message is an nfnetlink message of subsystem NFNL_SUBSYS_NFTABLES:
//
//   +----------+----------------------------------------+------------------------
//   | nlmsghdr | nfgenmsg                               | attributes (NFTA_*)
//   | type =   | family u8 (NFPROTO_*), version u8 (0), | strings NUL-terminated,
//   | 10<<8|m  | res_id be16 (0; 10 on batch delimiters) | integers big endian
//   +----------+----------------------------------------+------------------------
//
// Values compared or stored (cmp data, set keys, immediate data) travel as nft_data:
//
//   attr(NESTED) { NFTA_DATA_VALUE: bytes }
//   attr(NESTED) { NFTA_DATA_VERDICT(NESTED) { NFTA_VERDICT_CODE be32, NFTA_VERDICT_CHAIN str } }
#pragma once

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "netlink/builder.h"
#include "netlink/parser.h"

namespace np::nft {

// Message types newer than some uapi headers (kernel 6.3+).
inline constexpr uint16_t kMsgDestroyTable = 26;
inline constexpr uint16_t kMsgDestroyChain = 27;
inline constexpr uint16_t kMsgDestroyRule = 28;
inline constexpr uint16_t kMsgDestroySet = 29;
inline constexpr uint16_t kMsgDestroySetElem = 30;

inline constexpr uint16_t msg_type(uint16_t msg) { return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg); }
inline constexpr uint16_t NESTED(uint16_t attr) { return static_cast<uint16_t>(attr | NLA_F_NESTED); }

// "NFT_MSG_NEWRULE" for an nftables message number.
const char* msg_name(uint16_t msg);

// nlmsghdr + nfgenmsg for nftables message `msg`.
size_t put_header(nl::Builder& b, uint16_t msg, uint8_t family, uint16_t flags);
// NFNL_MSG_BATCH_BEGIN/END; genid != 0 adds NFNL_BATCH_GENID (refuse if the ruleset moved on).
size_t put_batch(nl::Builder& b, uint16_t type, uint32_t genid = 0);

// A value or a verdict, as nft_data carries it.
struct Data {
  bool is_verdict = false;
  std::string value;   // NFTA_DATA_VALUE bytes
  int32_t code = 0;    // NFTA_VERDICT_CODE (NF_ACCEPT, NFT_JUMP, ...)
  std::string chain;   // NFTA_VERDICT_CHAIN for jump/goto
};

void put_data(nl::Builder& b, uint16_t attr, std::string_view value);
void put_verdict(nl::Builder& b, uint16_t attr, int32_t code, std::string_view chain);
void put_data(nl::Builder& b, uint16_t attr, const Data& d);
Data decode_data(const nlattr* a, const char* what);

// The attributes of a message after its nfgenmsg.
struct Body {
  const uint8_t* data;
  size_t len;
  uint8_t family;
};
Body body(const nlmsghdr* h, const char* what);

// Parses nested attributes with a policy table.
void parse_nested(nl::Attrs& tb, const nlattr* a, const nl::Policy* policy, uint16_t max, const char* what);

std::string be_u32_bytes(uint32_t v);

}  // namespace np::nft
