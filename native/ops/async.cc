#include "ops/async.h"

#include "netns/thread.h"

namespace np::js {

namespace {

// Per environment: one thread-safe function through which the namespace thread hands
// finished operations back, referenced (keeping the loop alive) while any is pending.
struct NsCompletions;
void settle_ns_op(Napi::Env env, Napi::Function, NsCompletions* c, NsOp* op);
using NsTsfn = Napi::TypedThreadSafeFunction<NsCompletions, NsOp, settle_ns_op>;

struct NsCompletions {
  NsTsfn tsfn;
  size_t pending = 0;
};

void settle_ns_op(Napi::Env env, Napi::Function, NsCompletions* c, NsOp* op) {
  std::unique_ptr<NsOp> owned(op);
  if (env == nullptr) return;  // the environment is going away: drop it
  if (--c->pending == 0) c->tsfn.Unref(env);
  owned->settle(env);
}

}  // namespace

void submit_ns_op(Napi::Env env, NsOp* op) {
  auto* c = env.GetInstanceData<NsCompletions>();
  if (c == nullptr) {
    auto fresh = std::make_unique<NsCompletions>();
    fresh->tsfn = NsTsfn::New(env, "netplumb-netns", 0, 1, fresh.get());
    fresh->tsfn.Unref(env);
    c = fresh.release();
    env.SetInstanceData(c);
  }
  if (c->pending++ == 0) c->tsfn.Ref(env);
  NsTsfn tsfn = c->tsfn;
  // napi_closing: the environment is gone; nobody will settle it.
  op->done = [op, tsfn]() mutable {
    if (tsfn.NonBlockingCall(op) != napi_ok) delete op;
  };
  ns::NsThread::instance().submit([op] {
    if (op->run()) op->finish();
  });
}

}  // namespace np::js
