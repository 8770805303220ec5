// nftables codec entry points, for tests and tools: the bytes of a batch, expressions
// and messages decoded, and the data types' values (src/nft/rule.ts compiles `ip daddr
// 10.0.0.1` with nftEncodeValue, so values have one encoder).
#include <sys/socket.h>

#include <cstring>

#include "netlink/parser.h"
#include "nft/batch.h"
#include "ops/async.h"
#include "ops/entry.h"
#include "ops/nft_js.h"
#include "ops/reader.h"
#include "ops/values.h"

namespace np::ops {

namespace {

// nftEncodeBatch(handle | null, ops, generation?): Buffer — the whole batch as commit
// would send it (seq 0). Element values of sets the batch does not create are encoded
// with their types read through the handle's namespace.
Napi::Value NftEncodeBatch(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "ops", "generation"});
  auto h = args[0].IsNull() ? nullptr : args.handle(0);
  auto arr = args.arr(1);
  auto ops = read_ops(arr);
  uint32_t genid = args.num<uint32_t>(2, 0);
  try {
    if (h) js::with_socket(h, NETLINK_NETFILTER, [&](nl::Socket& s) { nft::resolve_elements(ops, &s); return 0; });
    else nft::resolve_elements(ops, nullptr);
  } catch (const nft::OpElemError& e) {
    throw elem_error(args.op(), e);
  }
  return js::encoded(info.Env(), [&](nl::Builder& b) { nft::encode_batch(b, ops, genid); }, 64u << 20);
}

// nftDecodeExprs(buffer): Expr[] — the payload of an NFTA_RULE_EXPRESSIONS attribute.
Napi::Value NftDecodeExprs(const Napi::CallbackInfo& info) {
  js::Args args(info, {"buffer"});
  std::string payload = args.bytes(0);
  // Wrapped in an attribute header so the list decoder sees one nest.
  std::vector<uint8_t> data(NLA_HDRLEN + payload.size());
  nlattr a{static_cast<uint16_t>(data.size()), NFTA_RULE_EXPRESSIONS};
  std::memcpy(data.data(), &a, sizeof a);
  std::memcpy(data.data() + NLA_HDRLEN, payload.data(), payload.size());
  return exprs_to_js(info.Env(), nft::decode_exprs(reinterpret_cast<const nlattr*>(data.data())));
}

// nftDecodeMessages(buffer): { type, flags, msg?, object? }[] — nftables messages (as
// nft sends them or the kernel answers) decoded as tables, chains, rules, sets and
// element lists (elements as bytes: a message alone does not say its set's types).
Napi::Value NftDecodeMessages(const Napi::CallbackInfo& info) {
  js::Args args(info, {"buffer"});
  auto env = info.Env();
  std::string data = args.bytes(0);
  nl::MessageIterator it(data);
  auto out = Napi::Array::New(env);
  uint32_t n = 0;
  while (const nlmsghdr* m = it.next()) {
    auto o = Napi::Object::New(env);
    o.Set("type", m->nlmsg_type);
    o.Set("flags", m->nlmsg_flags);
    if ((m->nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES) {
      uint16_t msg = m->nlmsg_type & 0xff;
      o.Set("msg", nft::msg_name(msg));
      switch (msg) {
        case NFT_MSG_NEWTABLE: case NFT_MSG_DELTABLE: case nft::kMsgDestroyTable:
          o.Set("object", table_to_js(env, nft::decode_table(m))); break;
        case NFT_MSG_NEWCHAIN: case NFT_MSG_DELCHAIN: case nft::kMsgDestroyChain:
          o.Set("object", chain_to_js(env, nft::decode_chain(m))); break;
        case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE: case nft::kMsgDestroyRule:
          o.Set("object", rule_to_js(env, nft::decode_rule(m))); break;
        case NFT_MSG_NEWSET: case NFT_MSG_DELSET: case nft::kMsgDestroySet:
          o.Set("object", set_to_js(env, nft::decode_set(m))); break;
        case NFT_MSG_NEWSETELEM: case NFT_MSG_DELSETELEM: case nft::kMsgDestroySetElem: {
          auto l = nft::decode_elems(m);
          auto lo = Napi::Object::New(env);
          lo.Set("family", l.family);
          lo.Set("table", l.table);
          lo.Set("set", l.set);
          lo.Set("elements", js::array_to_js(env, l.elems, raw_elem_to_js));
          o.Set("object", lo);
          break;
        }
        default: break;
      }
    }
    out.Set(n++, o);
  }
  return out;
}

// nftEncodeValue(types, value, what): Buffer — a value's bytes for a data type (or a
// concatenation); a value that does not fit is a TypeError or RangeError naming `what`
// ('ip daddr', the selector compiled).
Napi::Value NftEncodeValue(const Napi::CallbackInfo& info) {
  js::Args args(info, {"types", "value", "what"});
  auto types = args.arr(0);
  std::vector<std::string> names;
  for (uint32_t i = 0; i < types.size(); i++) names.push_back(js::to_string(types[i], types.at(i)));
  auto value = read_value(args[1], args.at(1));
  auto what = args.str(2);
  try {
    auto layout = nft::Layout::of(names);
    return js::bytes_to_js(info.Env(), layout.encode(value));
  } catch (const nft::ValueError& e) {
    std::string detail = e.what();
    throw js::BadArg(e.range ? js::BadArg::Range : js::BadArg::Type, what + (detail.rfind('[', 0) == 0 ? "" : " ") + detail);
  }
}

// nftDatatypes(): { name, id, len, byteorder }[] — the data types netplumb encodes.
Napi::Value NftDatatypes(const Napi::CallbackInfo& info) {
  js::Args args(info, {});
  auto types = nft::datatypes();
  return js::array_to_js(info.Env(), std::vector<nft::Datatype>(types.begin(), types.end()), [](Napi::Env env, const nft::Datatype& t) {
    auto o = Napi::Object::New(env);
    o.Set("name", t.name);
    o.Set("id", t.id);
    o.Set("len", t.len);
    o.Set("byteorder", t.byteorder);
    return o;
  });
}

constexpr Entry kEntries[] = {
    {"nftEncodeBatch", NftEncodeBatch}, {"nftDecodeExprs", NftDecodeExprs}, {"nftDecodeMessages", NftDecodeMessages},
    {"nftEncodeValue", NftEncodeValue}, {"nftDatatypes", NftDatatypes},
};

}  // namespace

std::span<const Entry> nft_codec_entries() { return kEntries; }

}  // namespace np::ops
