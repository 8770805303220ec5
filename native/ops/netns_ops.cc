// Namespace operations: create, open, bind, delete, list, close, and a handle's identity.
#include <fcntl.h>
#include <sys/socket.h>

#include "netns/netns.h"
#include "ops/async.h"
#include "ops/entry.h"
#include "ops/reader.h"
#include "ops/values.h"

namespace np::ops {

namespace {

using Handle = std::shared_ptr<ns::NsHandle>;

Napi::Value to_handle(Napi::Env env, Handle& h) { return js::wrap_handle(env, h); }

// nsCreate(dir: string, name: string | null): Promise<handle>; null: anonymous
Napi::Value NsCreate(const Napi::CallbackInfo& info) {
  js::Args args(info, {"dir", "name"});
  std::string dir = args.str(0);
  bool anonymous = args[1].IsNull();
  std::string name = anonymous ? "" : args.str(1);
  // All of it is namespace-thread work (unshare, the socket inside, the bind mount):
  // run it there directly rather than through a pool thread that would wait for it.
  return js::run_on_ns_thread<Handle>(
      info.Env(), [dir, name, anonymous] { return anonymous ? ns::create_anonymous() : ns::create_named(dir, name); },
      to_handle);
}

// nsBindSync(handle, dir, name): handle of the named file — the bind on the calling
// thread (a mount and an open: cheaper than a hop to the pool and back).
Napi::Value NsBindSync(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "dir", "name"});
  auto h = args.handle(0);
  std::string dir = args.str(1);
  std::string name = args.str(2);
  ns::bind_named(*h, dir, name);
  auto named = ns::NsHandle::open_path(dir + "/" + name);
  // The same namespace: its sockets serve the named handle too (a pooled namespace
  // taken by name keeps the socket it was prepared with, no trip to open another).
  named->share_sockets(*h);
  return js::wrap_handle(info.Env(), named);
}

// nsPending(): a handle for a namespace that rtnlCreateSequence makes
Napi::Value NsPending(const Napi::CallbackInfo& info) {
  js::Args args(info, {});
  return js::wrap_handle(info.Env(), ns::NsHandle::pending());
}

// nsOpen(path): handle
Napi::Value NsOpen(const Napi::CallbackInfo& info) {
  js::Args args(info, {"path"});
  return js::wrap_handle(info.Env(), ns::NsHandle::open_path(args.str(0)));
}

// nsCurrent(): handle for the calling thread's namespace
Napi::Value NsCurrent(const Napi::CallbackInfo& info) {
  js::Args args(info, {});
  return js::wrap_handle(info.Env(), ns::open_current());
}

// nsDelete(dir, name): Promise<void>
Napi::Value NsDelete(const Napi::CallbackInfo& info) {
  js::Args args(info, {"dir", "name"});
  std::string dir = args.str(0);
  std::string name = args.str(1);
  return js::run_async<bool>(
      info.Env(), [dir, name] { ns::delete_named(dir, name); return true; },
      [](Napi::Env env, bool&) { return env.Undefined(); });
}

// nsList(dir): Promise<string[]>
Napi::Value NsList(const Napi::CallbackInfo& info) {
  js::Args args(info, {"dir"});
  std::string dir = args.str(0);
  return js::run_async<std::vector<std::string>>(
      info.Env(), [dir] { return ns::list_named(dir); },
      [](Napi::Env env, std::vector<std::string>& names) -> Napi::Value {
        return js::array_to_js(env, names, [](Napi::Env env, const std::string& n) { return Napi::String::New(env, n); });
      });
}

// nsClose(handle): closes the fd and sockets; idempotent.
Napi::Value NsClose(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle"});
  try {
    args.handle(0)->close();
  } catch (const nl::NlError&) {
    // already closed
  }
  return info.Env().Undefined();
}

// nsInfo(handle): { dev, ino, fd } — the namespace's identity, and its fd (-1 while a
// pending handle waits for its namespace).
Napi::Value NsInfo(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle"});
  auto h = args.handle(0);
  auto o = Napi::Object::New(info.Env());
  o.Set("dev", static_cast<double>(h->dev()));
  o.Set("ino", static_cast<double>(h->ino()));
  o.Set("fd", h->fd());
  return o;
}

// nsSocketStats(handle): { sends, receives, portId } of the route socket (opened if needed).
Napi::Value NsSocketStats(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle"});
  auto s = args.handle(0)->socket(NETLINK_ROUTE);
  auto o = Napi::Object::New(info.Env());
  o.Set("sends", static_cast<double>(s->sends()));
  o.Set("receives", static_cast<double>(s->receives()));
  o.Set("portId", s->port_id());
  return o;
}

constexpr Entry kEntries[] = {
    {"nsCreate", NsCreate},   {"nsOpen", NsOpen},       {"nsBindSync", NsBindSync}, {"nsCurrent", NsCurrent},
    {"nsDelete", NsDelete},   {"nsList", NsList},       {"nsClose", NsClose},       {"nsInfo", NsInfo},
    {"nsPending", NsPending}, {"nsSocketStats", NsSocketStats},
};

}  // namespace

std::span<const Entry> netns_entries() { return kEntries; }

}  // namespace np::ops
