// Link reads: RTM_GETLINK get and dump, and the codec entry points tests use. Writes go
// through rtnl batches (rtnl_batch.cc).
#include <sys/socket.h>

#include "netlink/parser.h"
#include "ops/async.h"
#include "ops/entry.h"
#include "ops/reader.h"
#include "ops/values.h"
#include "rtnl/link.h"

namespace np::ops {

namespace {

// A link by name or ifindex.
rtnl::LinkQuery query_from(const js::Args& args, size_t i) {
  rtnl::LinkQuery q;
  if (args[i].IsNumber()) q.index = args.num<int32_t>(i);
  else if (args[i].IsString()) q.name = args.str(i);
  else args.at(i).type_error("a link name or ifindex", args[i]);
  return q;
}

rtnl::LinkDumpFilter filter_from(js::Obj& o) {
  rtnl::LinkDumpFilter f;
  f.master = o.num<int32_t>("master", 0);
  f.kind = o.str("kind").value_or("");
  return f;
}

rtnl::Link get_link(const std::shared_ptr<ns::NsHandle>& h, const rtnl::LinkQuery& q) {
  return js::with_socket(h, NETLINK_ROUTE, [&](nl::Socket& s) {
    return js::get_one<rtnl::Link>(
        s, "RTM_GETLINK", RTM_NEWLINK, [&](nl::Builder& b) { rtnl::encode_link_get(b, q); },
        [](const nlmsghdr* m) { return rtnl::decode_link(m); });
  });
}

// linkGet(handle, nameOrIndex): Promise<Link>
Napi::Value LinkGet(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "link"});
  auto h = args.handle(0);
  auto q = query_from(args, 1);
  return js::run_async<rtnl::Link>(
      info.Env(), [h, q] { return get_link(h, q); },
      [](Napi::Env env, rtnl::Link& l) -> Napi::Value { return js::link_to_js(env, l); });
}

// linkGetSync(handle, nameOrIndex): Link — the same request on the calling thread: one
// sendmsg and one recvmsg, no thread hop (which costs more than the request itself).
Napi::Value LinkGetSync(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "link"});
  auto h = args.handle(0);
  auto q = query_from(args, 1);
  return js::link_to_js(info.Env(), get_link(h, q));
}

// linkList(handle, { master?, kind? }): Promise<Link[]>
Napi::Value LinkList(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "filter"});
  auto h = args.handle(0);
  js::Obj o = args.obj(1);
  auto f = filter_from(o);
  o.done();
  return js::on_socket<std::vector<rtnl::Link>>(
      info.Env(), h, NETLINK_ROUTE,
      [f](nl::Socket& s) {
        return js::collect<rtnl::Link>(
            s, "RTM_GETLINK", RTM_NEWLINK, [&](nl::Builder& b) { rtnl::encode_link_dump(b, f); },
            [](const nlmsghdr* m) { return rtnl::decode_link(m); });
      },
      [](Napi::Env env, std::vector<rtnl::Link>& links) -> Napi::Value { return js::links_to_js(env, links); });
}

// codec: encodeLinkGet(nameOrIndex, family?, extMask?): Buffer (seq 0)
Napi::Value EncodeLinkGet(const Napi::CallbackInfo& info) {
  js::Args args(info, {"link", "family", "extMask"});
  auto q = query_from(args, 0);
  q.family = args.num<uint8_t>(1, q.family);
  q.ext_mask = args.num<uint32_t>(2, q.ext_mask);
  return js::encoded(info.Env(), [&](nl::Builder& b) { rtnl::encode_link_get(b, q); });
}

// codec: encodeLinkDump({ master?, kind?, family?, extMask?, index? }): Buffer (seq 0)
Napi::Value EncodeLinkDump(const Napi::CallbackInfo& info) {
  js::Args args(info, {"filter"});
  js::Obj o = args.obj(0);
  auto f = filter_from(o);
  f.family = o.num<uint8_t>("family", f.family);
  f.ext_mask = o.num<uint32_t>("extMask", f.ext_mask);
  f.index = o.num<int32_t>("index", 0);
  o.done();
  return js::encoded(info.Env(), [&](nl::Builder& b) { rtnl::encode_link_dump(b, f); });
}

// codec: decodeLinks(buffer): Link[] — every RTM_NEWLINK in a stream of messages,
// with attributes netplumb does not model kept as unknownAttributes.
Napi::Value DecodeLinks(const Napi::CallbackInfo& info) {
  js::Args args(info, {"buffer"});
  // A copy in aligned storage: a Buffer may start at any offset of its ArrayBuffer.
  std::string data = args.bytes(0);
  std::vector<rtnl::Link> links;
  nl::MessageIterator it(data);
  while (const nlmsghdr* m = it.next()) {
    if (m->nlmsg_type == RTM_NEWLINK || m->nlmsg_type == RTM_DELLINK) links.push_back(rtnl::decode_link(m, true));
  }
  return js::links_to_js(info.Env(), links);
}

constexpr Entry kEntries[] = {
    {"linkGet", LinkGet},
    {"linkGetSync", LinkGetSync},
    {"linkList", LinkList},
    {"encodeLinkGet", EncodeLinkGet},
    {"encodeLinkDump", EncodeLinkDump},
    {"decodeLinks", DecodeLinks},
};

}  // namespace

std::span<const Entry> link_entries() { return kEntries; }

}  // namespace np::ops
