// Event stream: a NETLINK_ROUTE socket subscribed to RTNLGRP_* groups, polled on the
// caller's event loop.
//
// The socket is opened inside the namespace by the namespace thread (socket(2) binds
// it to the opener's namespace), made non-blocking and watched with a uv_poll_t on the
// loop of the environment that opened it (napi_get_uv_event_loop; never the default
// loop, so worker threads get their own). There is no thread per monitor: when the
// socket is readable the poll callback, on the JS thread, reads until EAGAIN, decodes
// each notification and hands the whole batch to JavaScript in one call.
//
// The kernel drops notifications a full receive buffer cannot take and reports it as
// ENOBUFS on the next recv: that becomes a `resync` event and reading goes on.
//
// Lifetime: the Monitor owns itself (self_) while its uv handle is open. close(), or
// the environment's async cleanup hook at teardown, stops polling and uv_close()s the
// handle; the close callback closes the fd and lets go.
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>

#include "constants.h"
#include "netlink/parser.h"
#include "netlink/socket.h"
#include "ops/entry.h"
#include "ops/reader.h"
#include "ops/values.h"
#include "rtnl/addr.h"
#include "rtnl/link.h"
#include "rtnl/neigh.h"
#include "rtnl/route.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace np::ops {

namespace {

// Group selection bits as TypeScript passes them (the one table's MONITOR_GROUPS).
constexpr uint32_t kLinks = names::of(names::kMonitorGroups, "links");
constexpr uint32_t kAddresses = names::of(names::kMonitorGroups, "addresses");
constexpr uint32_t kRoutes = names::of(names::kMonitorGroups, "routes");
constexpr uint32_t kNeighbours = names::of(names::kMonitorGroups, "neighbours");

// Enough for `ip monitor`-like use; a burst bigger than this becomes a resync.
constexpr int kDefaultRcvbuf = 1 << 20;
// Datagrams read per poll callback before yielding to the loop (the poll is level
// triggered, so whatever is left wakes us again at once).
constexpr int kMaxReadsPerWake = 4096;
constexpr size_t kRecvBuffer = 64 * 1024;

class Monitor {
 public:
  static std::shared_ptr<Monitor> open(Napi::Env env, ns::NsHandle& h, uint32_t groups, int rcvbuf,
                                       Napi::Function cb);
  void ref(bool on) {
    if (closing_) return;
    if (on) uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
    else uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  }
  void close();
  bool closed() const { return closing_; }
  ~Monitor() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  Monitor() = default;
  static void on_poll(uv_poll_t* p, int status, int events);
  static void on_closed(uv_handle_t* h);
  static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void* arg);
  // Reads until EAGAIN and hands the events to JavaScript; `overflow`: the kernel
  // reported dropped notifications before this read.
  void drain(bool overflow);
  void decode_into(const uint8_t* data, size_t len, Napi::Array& out, uint32_t& n);

  napi_env env_ = nullptr;
  int fd_ = -1;
  uv_poll_t poll_{};
  Napi::FunctionReference cb_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  std::shared_ptr<Monitor> self_;
  bool closing_ = false;
};

void join(int fd, int group) {
  if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
    int e = errno;
    throw nl::NlError(e, "NETLINK_ADD_MEMBERSHIP", std::strerror(e));
  }
}

std::shared_ptr<Monitor> Monitor::open(Napi::Env env, ns::NsHandle& h, uint32_t groups, int rcvbuf,
                                       Napi::Function cb) {
  std::shared_ptr<Monitor> m(new Monitor());
  m->env_ = env;
  // Only socket(2) needs the namespace; options and membership apply to the socket.
  int fd = h.run_inside([] {
    int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    return s < 0 ? -errno : s;
  });
  if (fd < 0) throw nl::NlError(-fd, "socket(AF_NETLINK)", std::strerror(-fd));
  m->fd_ = fd;
  int size = rcvbuf > 0 ? rcvbuf : kDefaultRcvbuf;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    throw nl::NlError(e, "bind(AF_NETLINK)", std::strerror(e));
  }
  if (groups & kLinks) join(fd, RTNLGRP_LINK);
  if (groups & kAddresses) {
    join(fd, RTNLGRP_IPV4_IFADDR);
    join(fd, RTNLGRP_IPV6_IFADDR);
  }
  if (groups & kRoutes) {
    join(fd, RTNLGRP_IPV4_ROUTE);
    join(fd, RTNLGRP_IPV6_ROUTE);
  }
  if (groups & kNeighbours) join(fd, RTNLGRP_NEIGH);

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) {
    throw nl::NlError(EIO, "monitor", "no event loop for this environment");
  }
  int r = uv_poll_init(loop, &m->poll_, fd);
  if (r != 0) throw nl::NlError(-r, "uv_poll_init", uv_strerror(r));
  m->poll_.data = m.get();
  m->self_ = m;  // from here the uv handle exists and must be closed to free m
  m->cb_ = Napi::Persistent(cb);
  m->ctx_ = std::make_unique<Napi::AsyncContext>(env, "netplumb.Monitor");
  if (napi_add_async_cleanup_hook(env, on_env_cleanup, m.get(), &m->hook_) != napi_ok) m->hook_ = nullptr;
  r = uv_poll_start(&m->poll_, UV_READABLE, on_poll);
  if (r != 0) {
    m->close();
    throw nl::NlError(-r, "uv_poll_start", uv_strerror(r));
  }
  return m;
}

void Monitor::close() {
  if (closing_) return;
  closing_ = true;
  // uv_poll_stop removes the fd from the loop's epoll set at once, so the socket can
  // close now (callers see the fd gone when close() returns); the handle itself is
  // freed after uv_close's callback.
  uv_poll_stop(&poll_);
  ::close(fd_);
  fd_ = -1;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), on_closed);
}

void Monitor::on_closed(uv_handle_t* h) {
  auto* m = static_cast<Monitor*>(h->data);
  m->cb_.Reset();
  m->ctx_.reset();
  if (m->hook_) {
    napi_remove_async_cleanup_hook(m->hook_);
    m->hook_ = nullptr;
  }
  auto self = std::move(m->self_);  // may free m when this scope ends
}

void Monitor::on_env_cleanup(napi_async_cleanup_hook_handle, void* arg) {
  // Teardown of the environment: close; on_closed removes the hook, which tells
  // Node the cleanup has finished.
  static_cast<Monitor*>(arg)->close();
}

void Monitor::on_poll(uv_poll_t* p, int status, int) {
  auto* m = static_cast<Monitor*>(p->data);
  if (m->closing_) return;
  // Keep m alive even if JavaScript closes the monitor from inside the callback.
  auto keep = m->self_;
  bool overflow = false;
  if (status == UV_EBADF) {
    // libuv reports EPOLLERR as EBADF and stops polling. On a netlink socket EPOLLERR
    // means sk_err is set: ENOBUFS, the kernel dropped notifications. SO_ERROR reads
    // and clears it; then polling resumes and the loss becomes a resync.
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(m->fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && (err == ENOBUFS || err == 0)) {
      status = uv_poll_start(&m->poll_, UV_READABLE, on_poll);
      overflow = err == ENOBUFS;
    } else if (err != 0) {
      status = -err;
    }
  }
  if (status < 0) {
    Napi::Env env(m->env_);
    Napi::HandleScope scope(env);
    auto ev = Napi::Object::New(env);
    ev.Set("type", "error");
    ev.Set("errno", -status);
    ev.Set("detail", uv_strerror(status));
    auto arr = Napi::Array::New(env, 1);
    arr.Set(0u, ev);
    try {
      m->cb_.MakeCallback(env.Global(), {arr}, *m->ctx_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(m->env_, e.Value());
    }
    m->close();
    return;
  }
  m->drain(overflow);
}

Napi::Object event(Napi::Env env, const char* type, const char* kind, Napi::Value value) {
  auto o = Napi::Object::New(env);
  o.Set("type", type);
  o.Set("kind", kind);
  o.Set("value", value);
  return o;
}

Napi::Object resync(Napi::Env env, const char* reason, const std::string& detail) {
  auto o = Napi::Object::New(env);
  o.Set("type", "resync");
  o.Set("reason", reason);
  if (!detail.empty()) o.Set("detail", detail);
  return o;
}

void Monitor::decode_into(const uint8_t* data, size_t len, Napi::Array& out, uint32_t& n) {
  Napi::Env env(env_);
  try {
    nl::MessageIterator it(data, len);
    while (const nlmsghdr* h = it.next()) {
      try {
        switch (h->nlmsg_type) {
          case RTM_NEWLINK:
          case RTM_DELLINK: {
            auto* ifi = reinterpret_cast<const ifinfomsg*>(nl::family_header(h, sizeof(ifinfomsg), "RTM_NEWLINK"));
            // AF_BRIDGE link messages describe bridge port state, not the link itself.
            if (ifi->ifi_family == AF_BRIDGE) break;
            out.Set(n++, event(env, h->nlmsg_type == RTM_NEWLINK ? "new" : "delete", "link",
                               js::link_to_js(env, rtnl::decode_link(h))));
            break;
          }
          case RTM_NEWADDR:
          case RTM_DELADDR:
            out.Set(n++, event(env, h->nlmsg_type == RTM_NEWADDR ? "new" : "delete", "address",
                               js::address_to_js(env, rtnl::decode_addr(h))));
            break;
          case RTM_NEWROUTE:
          case RTM_DELROUTE:
            out.Set(n++, event(env, h->nlmsg_type == RTM_NEWROUTE ? "new" : "delete", "route",
                               js::route_to_js(env, rtnl::decode_route(h))));
            break;
          case RTM_NEWNEIGH:
          case RTM_DELNEIGH: {
            // One row of a NeighTable; src/monitor.ts makes it the Neighbour or FdbEntry.
            auto nb = rtnl::decode_neigh(h);
            rtnl::NeighTable t;
            t.add(nb);
            out.Set(n++, event(env, h->nlmsg_type == RTM_NEWNEIGH ? "new" : "delete",
                               nb.family == AF_BRIDGE ? "fdb" : "neighbour", js::neigh_table_to_js(env, t)));
            break;
          }
          default:
            break;  // NLMSG_* and groups we did not join
        }
      } catch (const nl::ParseError& e) {
        // An event we cannot decode is an event lost: say so, as for an overflow.
        out.Set(n++, resync(env, "decode", e.what()));
      } catch (const nl::NlError& e) {
        out.Set(n++, resync(env, "decode", e.what()));
      }
    }
  } catch (const nl::ParseError& e) {
    out.Set(n++, resync(env, "decode", e.what()));
  }
}

void Monitor::drain(bool overflow) {
  thread_local std::vector<uint8_t> buf(kRecvBuffer);
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  auto events = Napi::Array::New(env);
  uint32_t n = 0;
  uint32_t after_overflow = UINT32_MAX;  // n just after the last overflow resync
  bool fatal = false;
  if (overflow) {
    events.Set(n++, resync(env, "overflow", "netlink receive buffer overflowed; events were lost"));
    after_overflow = n;
  }
  for (int reads = 0; reads < kMaxReadsPerWake; reads++) {
    nl::Datagram got = nl::recv_datagram(fd_, buf, MSG_DONTWAIT);
    if (got.err) {
      int e = got.err;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      if (e == ENOBUFS) {
        // One resync stands for any run of overflows with no event between them.
        if (n != after_overflow) {
          events.Set(n++, resync(env, "overflow", "netlink receive buffer overflowed; events were lost"));
          after_overflow = n;
        }
        continue;
      }
      auto ev = Napi::Object::New(env);
      ev.Set("type", "error");
      ev.Set("errno", e);
      ev.Set("detail", std::string("recvmsg: ") + std::strerror(e));
      events.Set(n++, ev);
      fatal = true;
      break;
    }
    if (got.truncated) {
      events.Set(n++, resync(env, "truncated", "notification larger than the receive buffer"));
      continue;
    }
    if (!got.from_kernel) continue;  // only the kernel speaks on these groups
    decode_into(buf.data(), got.len, events, n);
  }
  if (n > 0) {
    try {
      cb_.MakeCallback(env.Global(), {events}, *ctx_);
    } catch (const Napi::Error& e) {
      // A listener threw: report it as Node reports exceptions from I/O callbacks.
      napi_fatal_exception(env_, e.Value());
    }
  }
  if (fatal) close();
}

struct MonitorBox {
  std::shared_ptr<Monitor> m;
};

// napi_type_tag of monitor handles (to_handle refuses them, and these refuse namespaces).
constexpr napi_type_tag kMonitorTag = {0x6e6574706c756d62ULL, 0x4d6f6e69746f0001ULL};

// monitorOpen(handle, groups, receiveBuffer, callback(events[])): monitor handle
Napi::Value MonitorOpen(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "groups", "receiveBuffer", "callback"});
  auto h = args.handle(0);
  uint32_t groups = args.num<uint32_t>(1);
  uint32_t rcvbuf = args.num<uint32_t>(2);
  auto cb = args.function(3);
  auto env = info.Env();
  auto m = Monitor::open(env, *h, groups, static_cast<int>(std::min<uint32_t>(rcvbuf, INT32_MAX)), cb);
  auto ext = Napi::External<MonitorBox>::New(env, new MonitorBox{std::move(m)}, [](Napi::Env, MonitorBox* b) { delete b; });
  js::tag_external(env, ext, kMonitorTag);
  return ext;
}

// monitorRef(monitor, on): keep the event loop alive (or not) while open.
Napi::Value MonitorRef(const Napi::CallbackInfo& info) {
  js::Args args(info, {"monitor", "on"});
  auto* box = args.external<MonitorBox>(0, kMonitorTag, "a monitor handle");
  box->m->ref(args.boolean(1));
  return info.Env().Undefined();
}

// monitorClose(monitor): stop polling and close the socket; idempotent.
Napi::Value MonitorClose(const Napi::CallbackInfo& info) {
  js::Args args(info, {"monitor"});
  args.external<MonitorBox>(0, kMonitorTag, "a monitor handle")->m->close();
  return info.Env().Undefined();
}

constexpr Entry kEntries[] = {
    {"monitorOpen", MonitorOpen},
    {"monitorRef", MonitorRef},
    {"monitorClose", MonitorClose},
};

}  // namespace

std::span<const Entry> monitor_entries() { return kEntries; }

}  // namespace np::ops
