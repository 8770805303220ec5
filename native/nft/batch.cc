#include "nft/batch.h"

#include <linux/netfilter.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

using np::nl::StepResult;

namespace np::nft {

namespace {

// An upper bound of one element's encoded size inside NFTA_SET_ELEM_LIST_ELEMENTS.
size_t elem_size_bound(const Elem& e) {
  auto data = [](size_t n) { return 4 + 4 + nl::align4(n); };
  size_t n = 4 + 8 + 12 + 12 + data(e.key.size());
  if (e.key_end) n += data(e.key_end->size());
  if (e.data) n += e.data->is_verdict ? 4 + 4 + 8 + 4 + nl::align4(e.data->chain.size() + 1) : data(e.data->value.size());
  if (e.comment) n += 4 + nl::align4(e.comment->size() + 3);
  return n;
}

// An attribute holds at most 64 KiB, so a long element list goes out as several
// messages of the same batch (still one transaction), as nft does.
constexpr size_t kElemsPerMessage = 60000;

void encode_obj(nl::Builder& b, const Op& op, std::vector<size_t>& op_of_msg, size_t index) {
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        const uint16_t flags = static_cast<uint16_t>(op.flags | NLM_F_ACK);
        if constexpr (std::is_same_v<T, ElemList>) {
          size_t i = 0;
          do {
            const size_t first = i;
            for (size_t size = 0; i < o.elems.size(); i++) {
              size_t n = elem_size_bound(o.elems[i]);
              if (i > first && size + n > kElemsPerMessage) break;
              size += n;
            }
            put_header(b, op.msg, o.family, flags);
            encode_elems(b, o, first, i);
            op_of_msg.push_back(index);
          } while (i < o.elems.size());
        } else {
          put_header(b, op.msg, o.family, flags);
          if constexpr (std::is_same_v<T, Table>) encode_table(b, o);
          else if constexpr (std::is_same_v<T, Chain>) encode_chain(b, o);
          else if constexpr (std::is_same_v<T, Rule>) encode_rule(b, o);
          else encode_set(b, o);
          op_of_msg.push_back(index);
        }
      },
      op.obj);
}

// One dump request, decoded message by message; retried on NLM_F_DUMP_INTR.
template <typename T, typename Encode, typename Decode>
std::vector<T> dump(nl::Socket& sock, uint16_t msg, uint16_t reply, Encode enc, Decode dec) {
  nl::Builder b(4096);
  enc(b);
  std::vector<T> out;
  sock.request(
      b,
      [&](size_t, const nlmsghdr* m) {
        if (m->nlmsg_type == msg_type(reply)) out.push_back(dec(m));
      },
      msg_name(msg), [&] { out.clear(); });
  return out;
}

bool removes(uint16_t msg) { return msg == NFT_MSG_DELSETELEM || msg == kMsgDestroySetElem; }

const char* family_name(uint8_t f) {
  switch (f) {
    case NFPROTO_INET: return "inet";
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_ARP: return "arp";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_NETDEV: return "netdev";
    default: return "family?";
  }
}

// The operation in nft's words, for errors: "create element inet netplumb pub4".
std::string describe(const Op& op) {
  const bool del = op.msg == NFT_MSG_DELTABLE || op.msg == NFT_MSG_DELCHAIN || op.msg == NFT_MSG_DELRULE ||
                   op.msg == NFT_MSG_DELSET || op.msg == NFT_MSG_DELSETELEM;
  const bool destroy = op.msg >= kMsgDestroyTable && op.msg <= kMsgDestroySetElem;
  const bool rule = std::holds_alternative<Rule>(op.obj);
  std::string verb = destroy ? "destroy"
                     : del   ? "delete"
                     : op.flags & NLM_F_REPLACE ? "replace"
                     : op.flags & NLM_F_EXCL    ? "create"
                     : rule && !(op.flags & NLM_F_APPEND) ? "insert"
                                                          : "add";
  return std::visit(
      [&](const auto& o) -> std::string {
        using T = std::decay_t<decltype(o)>;
        std::string head = verb + " ";
        if constexpr (std::is_same_v<T, Table>) return head + "table " + family_name(o.family) + " " + o.name;
        else if constexpr (std::is_same_v<T, Chain>) return head + "chain " + family_name(o.family) + " " + o.table + " " + o.name;
        else if constexpr (std::is_same_v<T, Rule>) {
          std::string s = head + "rule " + family_name(o.family) + " " + o.table + " " + o.chain;
          return o.handle && !o.has_exprs ? s + " handle " + std::to_string(o.handle) : s;
        } else if constexpr (std::is_same_v<T, Set>) {
          return head + ((o.flags.value_or(0) & NFT_SET_MAP) ? "map " : "set ") + family_name(o.family) + " " + o.table + " " + o.name;
        } else {
          return head + "element " + family_name(o.family) + " " + o.table + " " + o.set;
        }
      },
      op.obj);
}

CommitResult send_batch(nl::Socket& sock, const std::vector<Op>& ops, uint32_t genid, CommitResult& res);

}  // namespace

void resolve_elements(std::vector<Op>& ops, nl::Socket* sock) {
  for (size_t i = 0; i < ops.size(); i++) {
    Op& op = ops[i];
    if (!op.inputs) continue;
    auto& l = std::get<ElemList>(op.obj);
    std::optional<SetShape> made;
    for (size_t j = 0; j < i && !made; j++) {
      const auto* s = std::get_if<Set>(&ops[j].obj);
      if (s && ops[j].msg == NFT_MSG_NEWSET && s->family == l.family && s->table == l.table && s->name == l.set) made = SetShape::of(*s);
    }
    if (!made && !sock) {
      throw nl::NlError(EINVAL, "encode", "the types of set " + l.set + " are unknown here: create it in the same batch");
    }
    const SetShape& shape = made ? *made : set_shapes(*sock).get(*sock, l.family, l.table, l.set);
    try {
      l.elems = encode_values(shape, l.set, *op.inputs, removes(op.msg));
    } catch (const ElemError& e) {
      throw OpElemError(e, i);
    }
    op.inputs.reset();
  }
}

std::vector<size_t> encode_batch(nl::Builder& b, const std::vector<Op>& ops, uint32_t genid) {
  std::vector<size_t> op_of_msg;
  put_batch(b, NFNL_MSG_BATCH_BEGIN, genid);
  for (size_t i = 0; i < ops.size(); i++) encode_obj(b, ops[i], op_of_msg, i);
  put_batch(b, NFNL_MSG_BATCH_END);
  return op_of_msg;
}

CommitResult commit(nl::Socket& sock, std::vector<Op>& ops, uint32_t genid) {
  CommitResult res;
  res.handles.assign(ops.size(), 0);
  if (ops.empty()) return res;
  resolve_elements(ops, &sock);
  try {
    return send_batch(sock, ops, genid, res);
  } catch (...) {
    set_shapes(sock).clear();
    throw;
  }
}

namespace {

// One sendmsg of the whole batch; the first failed step names itself.
CommitResult send_batch(nl::Socket& sock, const std::vector<Op>& ops, uint32_t genid, CommitResult& res) {
  nl::Builder b(64u << 20);
  auto op_of_msg = encode_batch(b, ops, genid);
  const size_t n = op_of_msg.size();
  std::vector<bool> silent(n + 2, false);
  silent.front() = silent.back() = true;
  std::vector<StepResult> results;
  try {
    results = sock.transact(
        b,
        [&](size_t step, const nlmsghdr* m) {
          // NLM_F_ECHO: the kernel sends the new rule back, handle included.
          if (step >= 1 && step <= n && m->nlmsg_type == msg_type(NFT_MSG_NEWRULE)) {
            res.handles[op_of_msg[step - 1]] = decode_rule(m).handle;
          }
        },
        "nftables transaction", &silent);
  } catch (const nl::NlError& e) {
    if (e.err != EMSGSIZE) throw;
    int sndbuf = 0;
    socklen_t len = sizeof sndbuf;
    getsockopt(sock.fd(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
    throw nl::NlError(EMSGSIZE, "nftables transaction",
                      "the batch is " + std::to_string(b.size()) + " bytes, more than the socket send buffer (" +
                          std::to_string(sndbuf) + "); raise net.core.wmem_max or commit in smaller transactions");
  }
  if (results.front().err) {
    const auto& r = results.front();
    std::string ext = r.err == ERESTART ? "the ruleset changed since generation " + std::to_string(genid) +
                                              "; nothing was applied"
                                        : (r.ext.empty() ? std::strerror(r.err) : r.ext);
    nl::NlError e(r.err, "NFNL_MSG_BATCH_BEGIN", ext);
    throw e;
  }
  for (size_t i = 1; i <= n; i++) {
    const auto& r = results[i];
    if (!r.err) continue;
    const size_t index = op_of_msg[i - 1];
    const Op& op = ops[index];
    std::string ext = describe(op) + ": " + (r.ext.empty() ? std::strerror(r.err) : r.ext);
    nl::NlError e(r.err, msg_name(op.msg), ext, static_cast<int>(index));
    e.missing_attr = r.missing_attr;
    throw e;
  }
  return res;
}

}  // namespace

uint32_t get_generation(nl::Socket& sock) {
  nl::Builder b(256);
  put_header(b, NFT_MSG_GETGEN, AF_UNSPEC, 0);
  uint32_t gen = 0;
  bool got = false;
  sock.request(
      b,
      [&](size_t, const nlmsghdr* m) {
        if (m->nlmsg_type != msg_type(NFT_MSG_NEWGEN)) return;
        auto body_ = body(m, "NFT_MSG_NEWGEN");
        static const nl::Policy policy[NFTA_GEN_MAX + 1] = {{}, {nl::Kind::U32, "NFTA_GEN_ID"}};
        nl::Attrs tb;
        tb.parse(body_.data, body_.len, policy, NFTA_GEN_MAX, "NFTA_GEN");
        if (tb.has(NFTA_GEN_ID)) {
          gen = tb.be32(NFTA_GEN_ID);
          got = true;
        }
      },
      "NFT_MSG_GETGEN");
  if (!got) throw nl::NlError(EBADMSG, "NFT_MSG_GETGEN", "reply without NFTA_GEN_ID");
  return gen;
}

std::vector<Table> list_tables(nl::Socket& sock, uint8_t family) {
  return dump<Table>(
      sock, NFT_MSG_GETTABLE, NFT_MSG_NEWTABLE, [&](nl::Builder& b) { put_header(b, NFT_MSG_GETTABLE, family, NLM_F_DUMP); },
      decode_table);
}

std::vector<Chain> list_chains(nl::Socket& sock, uint8_t family, const std::string& table) {
  return dump<Chain>(
      sock, NFT_MSG_GETCHAIN, NFT_MSG_NEWCHAIN,
      [&](nl::Builder& b) {
        put_header(b, NFT_MSG_GETCHAIN, family, NLM_F_DUMP);
        b.put_strz(NFTA_CHAIN_TABLE, table);
      },
      decode_chain);
}

std::vector<Set> list_sets(nl::Socket& sock, uint8_t family, const std::string& table, const std::string& set) {
  return dump<Set>(
      sock, NFT_MSG_GETSET, NFT_MSG_NEWSET,
      [&](nl::Builder& b) {
        put_header(b, NFT_MSG_GETSET, family, set.empty() ? NLM_F_DUMP : 0);
        b.put_strz(NFTA_SET_TABLE, table);
        if (!set.empty()) b.put_strz(NFTA_SET_NAME, set);
      },
      decode_set);
}

std::vector<Rule> list_rules(nl::Socket& sock, uint8_t family, const std::string& table, const std::string& chain) {
  return dump<Rule>(
      sock, NFT_MSG_GETRULE, NFT_MSG_NEWRULE,
      [&](nl::Builder& b) {
        put_header(b, NFT_MSG_GETRULE, family, NLM_F_DUMP);
        b.put_strz(NFTA_RULE_TABLE, table);
        if (!chain.empty()) b.put_strz(NFTA_RULE_CHAIN, chain);
      },
      decode_rule);
}

std::vector<Elem> list_elems(nl::Socket& sock, uint8_t family, const std::string& table, const std::string& set) {
  auto lists = dump<ElemList>(
      sock, NFT_MSG_GETSETELEM, NFT_MSG_NEWSETELEM,
      [&](nl::Builder& b) {
        put_header(b, NFT_MSG_GETSETELEM, family, NLM_F_DUMP);
        b.put_strz(NFTA_SET_ELEM_LIST_TABLE, table);
        b.put_strz(NFTA_SET_ELEM_LIST_SET, set);
      },
      decode_elems);
  std::vector<Elem> out;
  for (auto& l : lists) {
    for (auto& e : l.elems) out.push_back(std::move(e));
  }
  return out;
}

TableDump dump_table(nl::Socket& sock, uint8_t family, const std::string& table) {
  for (int attempt = 0; attempt < nl::Socket::kDumpRetries; attempt++) {
    TableDump d;
    d.generation = get_generation(sock);
    nl::Builder b(4096);
    put_header(b, NFT_MSG_GETTABLE, family, 0);
    b.put_strz(NFTA_TABLE_NAME, table);
    sock.request(b, [&](size_t, const nlmsghdr* m) {
      if (m->nlmsg_type == msg_type(NFT_MSG_NEWTABLE)) d.table = decode_table(m);
    }, "NFT_MSG_GETTABLE");
    d.chains = list_chains(sock, family, table);
    d.sets = list_sets(sock, family, table);
    for (const auto& s : d.sets) d.elems.push_back(list_elems(sock, family, table, s.name));
    d.rules = list_rules(sock, family, table, "");
    if (get_generation(sock) == d.generation) return d;
  }
  throw nl::NlError(EINTR, "NFT_MSG_GETTABLE", "the ruleset kept changing while it was read");
}

}  // namespace np::nft
