// Asynchronous work at the native boundary.
//
// Every async operation is a baton: its inputs are read into C++ values on the JS
// thread (reader.h), the work runs on the libuv pool (or the namespace thread) without
// touching Napi or env, and the result, or the error, is turned into JS on the JS
// thread (errors.h for errors).
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "netlink/builder.h"
#include "netlink/socket.h"
#include "netns/netns.h"
#include "ops/errors.h"

namespace np::js {

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
    } catch (...) {
      deferred_.Reject(current_to_js(env).Value());
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

// The promise of op, taken before `submit` hands op over (to run, settle and be deleted).
template <typename Op, typename Submit>
Napi::Promise submitted(Op* op, Submit&& submit) {
  auto p = op->promise();
  submit(op);
  return p;
}

// Queues work on the libuv pool and returns its promise.
template <typename R>
Napi::Promise run_async(Napi::Env env, std::function<R()> work, typename Baton<R>::ToJs to_js) {
  return submitted(new FnWorker<R>(env, std::move(work), std::move(to_js)), [](auto* w) { w->Queue(); });
}

// Work that runs on the namespace thread itself rather than on the libuv pool: for an
// operation that is namespace-thread work from start to end (creating a namespace),
// the pool thread would only wait in between, and each hand-off between threads costs
// a wake-up (tens of microseconds on a VM). Settled on the JS thread.
//
// An op whose work waits on JS (a namespace made ahead of the batches that go into it)
// does not hold the namespace thread meanwhile: run() returns false, and the op calls
// `done` itself, from any thread, once its work is over.
class NsOp {
 public:
  virtual ~NsOp() = default;
  // On the namespace thread. True when the work is over; false when the op parked.
  virtual bool run() noexcept = 0;
  virtual void settle(Napi::Env env) = 0;   // on the JS thread
  // Hands the op back to its JS thread, which settles and deletes it: the op's last
  // act on any other thread.
  void finish() {
    auto d = std::move(done);  // the op may be gone before d returns
    d();
  }
  // What finish() calls (set by submit_ns_op before run()).
  std::function<void()> done;
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
  bool run() noexcept override {
    baton_.run();
    return true;
  }
  void settle(Napi::Env env) override { baton_.settle(env); }

 private:
  Baton<R> baton_;
};

// Runs work on the namespace thread and returns its promise.
template <typename R>
Napi::Promise run_on_ns_thread(Napi::Env env, std::function<R()> work, typename Baton<R>::ToJs to_js) {
  return submitted(new NsFnOp<R>(env, std::move(work), std::move(to_js)), [env](auto* op) { submit_ns_op(env, op); });
}

// fn(socket) with the namespace's netlink socket of `protocol` (opened on first use),
// holding the socket's mutex for the whole exchange.
template <typename F>
auto with_socket(const std::shared_ptr<ns::NsHandle>& h, int protocol, F&& fn) {
  auto sock = h->socket(protocol);
  std::lock_guard<std::mutex> lk(sock->mutex());
  return fn(*sock);
}

// Queues fn(socket) on the libuv pool (see with_socket) and returns its promise.
template <typename R, typename Work>
Napi::Promise on_socket(Napi::Env env, std::shared_ptr<ns::NsHandle> h, int protocol, Work work,
                        typename FnWorker<R>::ToJs to_js) {
  return run_async<R>(
      env, [h, protocol, work] { return with_socket(h, protocol, work); }, std::move(to_js));
}

// One request (a get or a dump) whose replies of type `want` are decoded and
// collected; a dump interrupted by a change (NLM_F_DUMP_INTR) starts over.
template <typename T, typename Encode, typename Decode>
std::vector<T> collect(nl::Socket& sock, const char* op, uint16_t want, Encode&& encode, Decode&& decode) {
  nl::Builder b(4096);
  encode(b);
  std::vector<T> out;
  sock.request(
      b,
      [&](size_t, const nlmsghdr* m) {
        if (m->nlmsg_type == want) out.push_back(decode(m));
      },
      op, [&] { out.clear(); });
  return out;
}

// The first reply of type `want` to a single request (ENOENT-like cases are the
// kernel's error, thrown by the socket).
template <typename T, typename Encode, typename Decode>
T get_one(nl::Socket& sock, const char* op, uint16_t want, Encode&& encode, Decode&& decode) {
  nl::Builder b(4096);
  encode(b);
  T out{};
  bool got = false;
  sock.request(b, [&](size_t, const nlmsghdr* m) {
    if (m->nlmsg_type == want && !got) {
      out = decode(m);
      got = true;
    }
  }, op);
  return out;
}

}  // namespace np::js
