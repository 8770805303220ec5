// Namespace operations: create, open, delete, list, close.
#include <fcntl.h>
#include <sys/socket.h>

#include "netns/netns.h"
#include "ops/js.h"
#include "ops/ops.h"

namespace np::ops {

namespace {

using Handle = std::shared_ptr<ns::NsHandle>;

Napi::Value to_handle(Napi::Env env, Handle& h) { return js::wrap_handle(env, h); }

// nsCreate(dir: string, name: string | null): Promise<handle>
Napi::Value NsCreate(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string dir = js::arg_string(info, 0, "dir");
  bool anonymous = info[1].IsNull() || info[1].IsUndefined();
  std::string name = anonymous ? "" : js::arg_string(info, 1, "name");
  // All of it is namespace-thread work (unshare, the socket inside, the bind mount):
  // run it there directly rather than through a pool thread that would wait for it.
  return js::run_on_ns_thread<Handle>(
      env,
      [dir, name, anonymous] { return anonymous ? ns::create_anonymous() : ns::create_named(dir, name); },
      to_handle);
}

// nsBindSync(handle, dir, name): handle of the named file — the same bind on the calling
// thread (a mount and an open: cheaper than a hop to the pool and back).
Napi::Value NsBindSync(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto h = js::unwrap_handle(info[0]);
  std::string dir = js::arg_string(info, 1, "dir");
  std::string name = js::arg_string(info, 2, "name");
  return js::guard(env, [&]() -> Napi::Value {
    ns::bind_named(*h, dir, name);
    auto named = ns::NsHandle::open_path(dir + "/" + name);
    // The same namespace: its sockets serve the named handle too (a pooled namespace
    // taken by name keeps the socket it was prepared with, no trip to open another).
    named->share_sockets(*h);
    return js::wrap_handle(env, named);
  });
}

// nsPending(): a handle for a namespace that rtnlCreateSequence makes
Napi::Value NsPending(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return js::guard(env, [&] { return js::wrap_handle(env, ns::NsHandle::pending()); });
}

// nsOpen(path: string): handle
Napi::Value NsOpen(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string path = js::arg_string(info, 0, "path");
  return js::guard(env, [&] { return js::wrap_handle(env, ns::NsHandle::open_path(path)); });
}

// nsCurrent(): handle for the calling thread's namespace
Napi::Value NsCurrent(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return js::guard(env, [&] { return js::wrap_handle(env, ns::open_current()); });
}

// nsDelete(dir, name): Promise<void>
Napi::Value NsDelete(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string dir = js::arg_string(info, 0, "dir");
  std::string name = js::arg_string(info, 1, "name");
  return js::run_async<bool>(
      env, [dir, name] { ns::delete_named(dir, name); return true; },
      [](Napi::Env env, bool&) { return env.Undefined(); });
}

// nsList(dir): Promise<string[]>
Napi::Value NsList(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string dir = js::arg_string(info, 0, "dir");
  return js::run_async<std::vector<std::string>>(
      env, [dir] { return ns::list_named(dir); },
      [](Napi::Env env, std::vector<std::string>& names) -> Napi::Value {
        auto arr = Napi::Array::New(env, names.size());
        for (size_t i = 0; i < names.size(); i++) arr.Set(i, names[i]);
        return arr;
      });
}

// nsClose(handle): closes the fd and sockets; idempotent.
Napi::Value NsClose(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "expected a namespace handle");
  try {
    js::unwrap_handle(info[0])->close();
  } catch (const nl::NlError&) {
    // already closed
  }
  return info.Env().Undefined();
}

// nsInfo(handle): { dev, ino, fd, sends, receives } — identity of the namespace and
// the route socket's sendmsg/recvmsg counters.
Napi::Value NsInfo(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return js::guard(env, [&]() -> Napi::Value {
    auto h = js::unwrap_handle(info[0]);
    auto o = Napi::Object::New(env);
    o.Set("dev", static_cast<double>(h->dev()));
    o.Set("ino", static_cast<double>(h->ino()));
    o.Set("fd", h->fd());
    return o;
  });
}

// nsSocketStats(handle): { sends, receives } of the route socket (opens it if needed).
Napi::Value NsSocketStats(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return js::guard(env, [&]() -> Napi::Value {
    auto h = js::unwrap_handle(info[0]);
    auto s = h->socket(NETLINK_ROUTE);
    auto o = Napi::Object::New(env);
    o.Set("sends", static_cast<double>(s->sends()));
    o.Set("receives", static_cast<double>(s->receives()));
    o.Set("portId", s->port_id());
    return o;
  });
}

}  // namespace

void register_netns(Napi::Env env, Napi::Object exports) {
  exports.Set("nsCreate", Napi::Function::New(env, NsCreate, "nsCreate"));
  exports.Set("nsOpen", Napi::Function::New(env, NsOpen, "nsOpen"));
  exports.Set("nsBindSync", Napi::Function::New(env, NsBindSync, "nsBindSync"));
  exports.Set("nsCurrent", Napi::Function::New(env, NsCurrent, "nsCurrent"));
  exports.Set("nsDelete", Napi::Function::New(env, NsDelete, "nsDelete"));
  exports.Set("nsList", Napi::Function::New(env, NsList, "nsList"));
  exports.Set("nsClose", Napi::Function::New(env, NsClose, "nsClose"));
  exports.Set("nsInfo", Napi::Function::New(env, NsInfo, "nsInfo"));
  exports.Set("nsPending", Napi::Function::New(env, NsPending, "nsPending"));
  exports.Set("nsSocketStats", Napi::Function::New(env, NsSocketStats, "nsSocketStats"));
}

}  // namespace np::ops
