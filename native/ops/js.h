// The native boundary: async workers, errors, handles and decoded objects as JS values.
//
// Every async operation is a baton: its inputs are copied into C++ values on the JS
// thread, the work runs on the libuv pool without touching Napi or env, and the result
// (or error) is turned into JS on the JS thread.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "netlink/socket.h"
#include "netns/netns.h"
#include "rtnl/addr.h"
#include "rtnl/link.h"
#include "rtnl/neigh.h"
#include "rtnl/route.h"

namespace np::js {

// An error caught on the pool thread, kept as plain data until OnError.
struct Failure {
  int err = 0;
  std::string op;
  std::string message;
  std::string ext;
  bool from_kernel = false;
  int step = -1;
  int64_t missing_attr = -1;
};

Failure capture_current_exception();
// A JS Error carrying errno/op/extack/step, which the TypeScript layer turns into a
// NetlinkError.
Napi::Error to_error(Napi::Env env, const Failure& f);

// One async operation's state: the promise, the work, its result or failure, and how
// the result becomes JS. run() happens off the JS thread (touching no Napi), settle()
// on it. The libuv-pool worker and the namespace-thread operation both carry one.
template <typename R>
class Baton {
 public:
  using Work = std::function<R()>;
  using ToJs = std::function<Napi::Value(Napi::Env, R&)>;

  Baton(Napi::Env env, Work work, ToJs to_js)
      : deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), to_js_(std::move(to_js)) {}

  Napi::Promise promise() { return deferred_.Promise(); }
  const Failure& failure() const { return failure_; }

  // Returns false if the work threw (its failure kept for settle).
  bool run() noexcept {
    try {
      result_.emplace(work_());
      return true;
    } catch (...) {
      failure_ = capture_current_exception();
      return false;
    }
  }

  void settle(Napi::Env env) {
    Napi::HandleScope scope(env);
    if (!result_) {
      deferred_.Reject(to_error(env, failure_).Value());
      return;
    }
    try {
      deferred_.Resolve(to_js_(env, *result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  ToJs to_js_;
  std::optional<R> result_;
  Failure failure_;
};

template <typename R>
class FnWorker : public Napi::AsyncWorker {
 public:
  using Work = typename Baton<R>::Work;
  using ToJs = typename Baton<R>::ToJs;

  FnWorker(Napi::Env env, Work work, ToJs to_js)
      : Napi::AsyncWorker(env, "netplumb"), baton_(env, std::move(work), std::move(to_js)) {}

  Napi::Promise promise() { return baton_.promise(); }

 protected:
  void Execute() override {
    if (!baton_.run()) SetError(baton_.failure().message);
  }
  void OnOK() override { baton_.settle(Env()); }
  void OnError(const Napi::Error&) override { baton_.settle(Env()); }

 private:
  Baton<R> baton_;
};

// Queues work on the libuv pool and returns its promise.
template <typename R>
Napi::Promise run_async(Napi::Env env, std::function<R()> work, typename FnWorker<R>::ToJs to_js) {
  auto* w = new FnWorker<R>(env, std::move(work), std::move(to_js));
  auto p = w->promise();
  w->Queue();
  return p;
}

// Work that runs on the namespace thread itself rather than on the libuv pool: for an
// operation that is namespace-thread work from start to end (creating a namespace),
// the pool thread would only wait in between, and each hand-off between threads costs
// a wake-up (tens of microseconds on a VM). Settled on the JS thread.
class NsOp {
 public:
  virtual ~NsOp() = default;
  virtual void run() noexcept = 0;          // on the namespace thread
  virtual void settle(Napi::Env env) = 0;   // on the JS thread
};

// Queues op on the namespace thread; its settle() runs on env's JS thread after. Takes
// ownership. The pending operation keeps the event loop alive, like a libuv work item.
void submit_ns_op(Napi::Env env, NsOp* op);

template <typename R>
class NsFnOp : public NsOp {
 public:
  NsFnOp(Napi::Env env, typename Baton<R>::Work work, typename Baton<R>::ToJs to_js)
      : baton_(env, std::move(work), std::move(to_js)) {}
  Napi::Promise promise() { return baton_.promise(); }
  void run() noexcept override { baton_.run(); }
  void settle(Napi::Env env) override { baton_.settle(env); }

 private:
  Baton<R> baton_;
};

// Runs work on the namespace thread and returns its promise.
template <typename R>
Napi::Promise run_on_ns_thread(Napi::Env env, std::function<R()> work, typename FnWorker<R>::ToJs to_js) {
  auto* op = new NsFnOp<R>(env, std::move(work), std::move(to_js));
  auto p = op->promise();
  submit_ns_op(env, op);
  return p;
}

// Queues work(socket) on the libuv pool with the namespace's netlink socket of
// `protocol` (opened on first use), holding the socket's mutex for the whole exchange.
template <typename R, typename Work>
Napi::Promise on_socket(Napi::Env env, std::shared_ptr<ns::NsHandle> h, int protocol, Work work,
                        typename FnWorker<R>::ToJs to_js) {
  return run_async<R>(
      env,
      [h, protocol, work] {
        auto sock = h->socket(protocol);
        std::lock_guard<std::mutex> lk(sock->mutex());
        return work(*sock);
      },
      std::move(to_js));
}

// Runs fn on the JS thread, turning C++ exceptions into JS exceptions.
template <typename F>
Napi::Value guard(Napi::Env env, F&& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw to_error(env, capture_current_exception());
  }
}

// Namespace handles cross the boundary as opaque externals.
Napi::Value wrap_handle(Napi::Env env, std::shared_ptr<ns::NsHandle> h);
std::shared_ptr<ns::NsHandle> unwrap_handle(const Napi::Value& v);

std::string arg_string(const Napi::CallbackInfo& info, size_t i, const char* what);
uint32_t arg_u32(const Napi::CallbackInfo& info, size_t i, const char* what);

Napi::Object link_to_js(Napi::Env env, const rtnl::Link& l);
Napi::Array links_to_js(Napi::Env env, const std::vector<rtnl::Link>& links);
Napi::Object address_to_js(Napi::Env env, const rtnl::Address& a);
Napi::Object route_to_js(Napi::Env env, const rtnl::Route& r);
// Names as iproute2 prints them; numbers for values without a name.
Napi::Value scope_to_js(Napi::Env env, uint8_t scope);
Napi::Value rtn_type_to_js(Napi::Env env, uint8_t type);
Napi::Value protocol_to_js(Napi::Env env, uint8_t proto);

template <typename T, typename F>
Napi::Array array_to_js(Napi::Env env, const std::vector<T>& v, F&& one) {
  auto arr = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) arr.Set(i, one(env, v[i]));
  return arr;
}

// Neighbour and FDB entries as { cols: Uint32Array, text: string, tickMs }, which
// src/neigh-table.ts turns into Neighbour and FdbEntry objects.
Napi::Object neigh_table_to_js(Napi::Env env, const rtnl::NeighTable& t);

Napi::Buffer<uint8_t> builder_to_buffer(Napi::Env env, const nl::Builder& b);

}  // namespace np::js
