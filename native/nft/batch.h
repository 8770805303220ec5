// nftables transactions and reads.
//
// A transaction is one sendmsg carrying
//
//   NFNL_MSG_BATCH_BEGIN [NFNL_BATCH_GENID]   no reply
//   op 0 ... op n-1 (each NLM_F_ACK)          one ack each; NEWRULE also echoes (NLM_F_ECHO)
//   NFNL_MSG_BATCH_END                        no reply
//
// The kernel applies all of it or none of it. It keeps processing after a failed
// message (so every error comes back), then aborts; the first failure names its step.
// With a generation id, the kernel refuses the whole batch (ERESTART on BATCH_BEGIN) if
// the ruleset changed since that generation was read.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "netlink/socket.h"
#include "nft/elements.h"
#include "nft/objects.h"

namespace np::nft {

struct Op {
  uint16_t msg = 0;    // NFT_MSG_*
  uint16_t flags = 0;  // NLM_F_CREATE, EXCL, APPEND, REPLACE, ECHO (ACK is always added)
  std::variant<Table, Chain, Rule, Set, ElemList> obj;
  // An element list given as values: resolve_elements encodes them into the ElemList.
  std::optional<std::vector<ElemInput>> inputs;
};

// A value of element `index` of op `op` that does not fit its set's types.
struct OpElemError : ElemError {
  size_t op;
  OpElemError(const ElemError& e, size_t op_) : ElemError(e), op(op_) {}
};

// Encodes the element lists given as values, with the types of their sets: a set
// created earlier in the same batch, else (with a socket) the set in the kernel.
// Throws OpElemError for a value that does not fit.
void resolve_elements(std::vector<Op>& ops, nl::Socket* sock);

struct CommitResult {
  std::vector<uint64_t> handles;  // per op: the handle the kernel echoed (rules), else 0
};

// Encodes the batch (seq 0; the socket numbers messages when it sends). An element
// list too long for one attribute becomes several messages; returns, for each message
// after BATCH_BEGIN, the index of its op.
std::vector<size_t> encode_batch(nl::Builder& b, const std::vector<Op>& ops, uint32_t genid);
// resolve_elements, then sends the batch. A failure forgets the set types the socket
// remembered (a set may have been made again with others).
CommitResult commit(nl::Socket& sock, std::vector<Op>& ops, uint32_t genid);

// NFT_MSG_GETGEN: the ruleset generation.
uint32_t get_generation(nl::Socket& sock);

std::vector<Table> list_tables(nl::Socket& sock, uint8_t family);
std::vector<Chain> list_chains(nl::Socket& sock, uint8_t family, const std::string& table);
std::vector<Set> list_sets(nl::Socket& sock, uint8_t family, const std::string& table, const std::string& set = "");
std::vector<Rule> list_rules(nl::Socket& sock, uint8_t family, const std::string& table, const std::string& chain);
std::vector<Elem> list_elems(nl::Socket& sock, uint8_t family, const std::string& table, const std::string& set);

// A whole table read consistently: retried while the generation moves under it.
struct TableDump {
  uint32_t generation = 0;
  Table table;
  std::vector<Chain> chains;
  std::vector<Set> sets;
  std::vector<std::vector<Elem>> elems;  // per set
  std::vector<Rule> rules;
};
TableDump dump_table(nl::Socket& sock, uint8_t family, const std::string& table);

}  // namespace np::nft
