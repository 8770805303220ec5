// Link reads: RTM_GETLINK get and dump, and the codec entry points tests use.
#include <sys/socket.h>

#include "netlink/parser.h"
#include "ops/js.h"
#include "ops/ops.h"
#include "rtnl/link.h"

namespace np::ops {

namespace {

rtnl::LinkQuery query_from(const Napi::CallbackInfo& info, size_t i) {
  rtnl::LinkQuery q;
  if (info[i].IsNumber()) {
    q.index = info[i].As<Napi::Number>().Int32Value();
  } else {
    q.name = js::arg_string(info, i, "link name");
  }
  return q;
}

rtnl::LinkDumpFilter filter_from(const Napi::Value& v) {
  rtnl::LinkDumpFilter f;
  if (!v.IsObject()) return f;
  auto o = v.As<Napi::Object>();
  if (o.Has("master") && o.Get("master").IsNumber()) f.master = o.Get("master").As<Napi::Number>().Int32Value();
  if (o.Has("kind") && o.Get("kind").IsString()) f.kind = o.Get("kind").As<Napi::String>().Utf8Value();
  return f;
}

rtnl::Link get_link(const std::shared_ptr<ns::NsHandle>& h, const rtnl::LinkQuery& q) {
  auto sock = h->socket(NETLINK_ROUTE);
  std::lock_guard<std::mutex> lk(sock->mutex());
  nl::Builder b(4096);
  rtnl::encode_link_get(b, q);
  rtnl::Link out;
  sock->request(b, [&](size_t, const nlmsghdr* m) {
    if (m->nlmsg_type == RTM_NEWLINK) out = rtnl::decode_link(m);
  }, "RTM_GETLINK");
  return out;
}

// linkGet(handle, nameOrIndex): Promise<Link>
Napi::Value LinkGet(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto q = query_from(info, 1);
  return js::run_async<rtnl::Link>(
      env, [h, q] { return get_link(h, q); },
      [](Napi::Env env, rtnl::Link& l) -> Napi::Value { return js::link_to_js(env, l); });
}

// linkGetSync(handle, nameOrIndex): Link — the same request on the calling thread: one
// sendmsg and one recvmsg, no thread hop (which costs more than the request itself).
Napi::Value LinkGetSync(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto q = query_from(info, 1);
  return js::guard(env, [&]() -> Napi::Value { return js::link_to_js(env, get_link(h, q)); });
}

// linkList(handle, filter?): Promise<Link[]>
Napi::Value LinkList(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  auto f = filter_from(info[1]);
  return js::run_async<std::vector<rtnl::Link>>(
      env,
      [h, f] {
        auto sock = h->socket(NETLINK_ROUTE);
        std::lock_guard<std::mutex> lk(sock->mutex());
        nl::Builder b(4096);
        rtnl::encode_link_dump(b, f);
        std::vector<rtnl::Link> out;
        sock->request(
            b,
            [&](size_t, const nlmsghdr* m) {
              if (m->nlmsg_type == RTM_NEWLINK) out.push_back(rtnl::decode_link(m));
            },
            "RTM_GETLINK", [&] { out.clear(); });
        return out;
      },
      [](Napi::Env env, std::vector<rtnl::Link>& links) -> Napi::Value { return js::links_to_js(env, links); });
}

// codec: encodeLinkGet(nameOrIndex, family, extMask): Buffer (seq 0)
Napi::Value EncodeLinkGet(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto q = query_from(info, 0);
  if (info[1].IsNumber()) q.family = static_cast<uint8_t>(info[1].As<Napi::Number>().Uint32Value());
  if (info[2].IsNumber()) q.ext_mask = info[2].As<Napi::Number>().Uint32Value();
  return js::guard(env, [&]() -> Napi::Value {
    nl::Builder b(4096);
    rtnl::encode_link_get(b, q);
    return js::builder_to_buffer(env, b);
  });
}

// codec: encodeLinkDump(filter?): Buffer (seq 0)
Napi::Value EncodeLinkDump(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto f = filter_from(info[0]);
  if (info[0].IsObject()) {
    auto o = info[0].As<Napi::Object>();
    if (o.Get("family").IsNumber()) f.family = static_cast<uint8_t>(o.Get("family").As<Napi::Number>().Uint32Value());
    if (o.Get("extMask").IsNumber()) f.ext_mask = o.Get("extMask").As<Napi::Number>().Uint32Value();
    if (o.Get("index").IsNumber()) f.index = o.Get("index").As<Napi::Number>().Int32Value();
  }
  return js::guard(env, [&]() -> Napi::Value {
    nl::Builder b(4096);
    rtnl::encode_link_dump(b, f);
    return js::builder_to_buffer(env, b);
  });
}

// codec: decodeLinks(buffer): Link[] — every RTM_NEWLINK in a stream of messages,
// with attributes netplumb does not model kept as unknownAttributes.
Napi::Value DecodeLinks(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "expected a Buffer");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  return js::guard(env, [&]() -> Napi::Value {
    // Copy into aligned storage: a Buffer may start at any offset of its ArrayBuffer.
    std::vector<uint8_t> data(buf.Data(), buf.Data() + buf.Length());
    std::vector<rtnl::Link> links;
    nl::MessageIterator it(data.data(), data.size());
    while (const nlmsghdr* m = it.next()) {
      if (m->nlmsg_type == RTM_NEWLINK || m->nlmsg_type == RTM_DELLINK) links.push_back(rtnl::decode_link(m, true));
    }
    return js::links_to_js(env, links);
  });
}

}  // namespace

void register_link(Napi::Env env, Napi::Object exports) {
  exports.Set("linkGet", Napi::Function::New(env, LinkGet, "linkGet"));
  exports.Set("linkGetSync", Napi::Function::New(env, LinkGetSync, "linkGetSync"));
  exports.Set("linkList", Napi::Function::New(env, LinkList, "linkList"));
  exports.Set("encodeLinkGet", Napi::Function::New(env, EncodeLinkGet, "encodeLinkGet"));
  exports.Set("encodeLinkDump", Napi::Function::New(env, EncodeLinkDump, "encodeLinkDump"));
  exports.Set("decodeLinks", Napi::Function::New(env, DecodeLinks, "decodeLinks"));
}

}  // namespace np::ops
