// nftables entry points: transactions (async and on the calling thread) and reads that
// decode every object back, set elements as values. The JS shapes are nft_js.h's.
#include <sys/socket.h>

#include "nft/batch.h"
#include "ops/async.h"
#include "ops/entry.h"
#include "ops/nft_js.h"
#include "ops/reader.h"
#include "ops/values.h"

namespace np::ops {

namespace {

using Handle = std::shared_ptr<ns::NsHandle>;

template <typename R, typename Work, typename ToJs>
Napi::Value on_netfilter(Napi::Env env, Handle h, Work work, ToJs to_js) {
  return js::on_socket<R>(env, std::move(h), NETLINK_NETFILTER, std::move(work), std::move(to_js));
}

Napi::Value commit_to(Napi::Env env, nft::CommitResult& r) {
  auto o = Napi::Object::New(env);
  o.Set("handles", js::array_to_js(env, r.handles, [](Napi::Env env, uint64_t h) { return Napi::Number::New(env, static_cast<double>(h)); }));
  return o;
}

// The commit, with an element value that does not fit its set reported as the
// TypeError/RangeError of that value.
nft::CommitResult commit(const char* entry, nl::Socket& s, std::vector<nft::Op>& ops, uint32_t genid) {
  try {
    return nft::commit(s, ops, genid);
  } catch (const nft::OpElemError& e) {
    throw elem_error(entry, e);
  }
}

// nftCommit(handle, ops, generation?): Promise<{ handles: number[] }>
Napi::Value NftCommit(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "ops", "generation"});
  auto h = args.handle(0);
  auto arr = args.arr(1);
  auto ops = std::make_shared<std::vector<nft::Op>>(read_ops(arr));
  uint32_t genid = args.num<uint32_t>(2, 0);
  const char* entry = args.op();
  return on_netfilter<nft::CommitResult>(
      info.Env(), h, [ops, genid, entry](nl::Socket& s) { return commit(entry, s, *ops, genid); }, commit_to);
}

// nftCommitSync(handle, ops, generation?): { handles: number[] } — the same batch, sent
// and acked on the calling thread (one sendmsg, the acks read back), no pool hop.
Napi::Value NftCommitSync(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "ops", "generation"});
  auto h = args.handle(0);
  auto arr = args.arr(1);
  auto ops = read_ops(arr);
  uint32_t genid = args.num<uint32_t>(2, 0);
  auto r = js::with_socket(h, NETLINK_NETFILTER, [&](nl::Socket& s) { return commit(args.op(), s, ops, genid); });
  return commit_to(info.Env(), r);
}

// nftGeneration(handle): Promise<number>
Napi::Value NftGeneration(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle"});
  return on_netfilter<uint32_t>(
      info.Env(), args.handle(0), [](nl::Socket& s) { return nft::get_generation(s); },
      [](Napi::Env env, uint32_t& g) -> Napi::Value { return Napi::Number::New(env, g); });
}

// nftListTables(handle, family): Promise<Table[]>
Napi::Value NftListTables(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "family"});
  auto h = args.handle(0);
  auto family = args.num<uint8_t>(1);
  return on_netfilter<std::vector<nft::Table>>(
      info.Env(), h, [family](nl::Socket& s) { return nft::list_tables(s, family); },
      [](Napi::Env env, std::vector<nft::Table>& v) -> Napi::Value { return js::array_to_js(env, v, table_to_js); });
}

// nftListRules(handle, family, table, chain?): Promise<Rule[]>
Napi::Value NftListRules(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "family", "table", "chain"});
  auto h = args.handle(0);
  auto family = args.num<uint8_t>(1);
  auto table = args.str(2);
  auto chain = args.opt_str(3).value_or("");
  return on_netfilter<std::vector<nft::Rule>>(
      info.Env(), h, [family, table, chain](nl::Socket& s) { return nft::list_rules(s, family, table, chain); },
      [](Napi::Env env, std::vector<nft::Rule>& v) -> Napi::Value { return js::array_to_js(env, v, rule_to_js); });
}

// nftListSets(handle, family, table): Promise<Set[]> (without elements)
Napi::Value NftListSets(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "family", "table"});
  auto h = args.handle(0);
  auto family = args.num<uint8_t>(1);
  auto table = args.str(2);
  return on_netfilter<std::vector<nft::Set>>(
      info.Env(), h, [family, table](nl::Socket& s) { return nft::list_sets(s, family, table); },
      [](Napi::Env env, std::vector<nft::Set>& v) -> Napi::Value {
        return js::array_to_js(env, v, [](Napi::Env env, const nft::Set& s) { return set_to_js(env, s); });
      });
}

struct SetWithElems {
  nft::Set set;
  std::vector<nft::Elem> elems;
};

// nftGetSet(handle, family, table, set): Promise<Set & { elements }> — NFT_MSG_GETSET
// and its elements (NFT_MSG_GETSETELEM dump), decoded with the set's types.
Napi::Value NftGetSet(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "family", "table", "set"});
  auto h = args.handle(0);
  auto family = args.num<uint8_t>(1);
  auto table = args.str(2);
  auto set = args.str(3);
  return on_netfilter<SetWithElems>(
      info.Env(), h,
      [family, table, set](nl::Socket& s) {
        auto sets = nft::list_sets(s, family, table, set);
        if (sets.empty()) throw nl::NlError(ENOENT, "NFT_MSG_GETSET", "no set " + set + " in table " + table);
        return SetWithElems{std::move(sets[0]), nft::list_elems(s, family, table, set)};
      },
      [](Napi::Env env, SetWithElems& r) -> Napi::Value { return set_to_js(env, r.set, &r.elems); });
}

// nftDumpTable(handle, family, table): Promise<{ generation, table, chains, sets, rules }>
Napi::Value NftDumpTable(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "family", "table"});
  auto h = args.handle(0);
  auto family = args.num<uint8_t>(1);
  auto table = args.str(2);
  return on_netfilter<nft::TableDump>(
      info.Env(), h, [family, table](nl::Socket& s) { return nft::dump_table(s, family, table); },
      [](Napi::Env env, nft::TableDump& d) -> Napi::Value {
        auto o = Napi::Object::New(env);
        o.Set("generation", d.generation);
        o.Set("table", table_to_js(env, d.table));
        o.Set("chains", js::array_to_js(env, d.chains, chain_to_js));
        auto sets = Napi::Array::New(env, d.sets.size());
        for (size_t i = 0; i < d.sets.size(); i++) sets.Set(i, set_to_js(env, d.sets[i], &d.elems[i]));
        o.Set("sets", sets);
        o.Set("rules", js::array_to_js(env, d.rules, rule_to_js));
        return o;
      });
}

constexpr Entry kEntries[] = {
    {"nftCommit", NftCommit},         {"nftCommitSync", NftCommitSync}, {"nftGeneration", NftGeneration},
    {"nftListTables", NftListTables}, {"nftListRules", NftListRules},   {"nftListSets", NftListSets},
    {"nftGetSet", NftGetSet},         {"nftDumpTable", NftDumpTable},
};

}  // namespace

std::span<const Entry> nft_entries() { return kEntries; }

}  // namespace np::ops
