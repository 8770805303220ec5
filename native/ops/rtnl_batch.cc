// The rtnetlink batch engine: steps (rtnl_steps.h) encoded into one buffer and sent with
// one sendmsg on a namespace's route socket, every ack matched to its step; several
// batches on several namespaces in one native call; and the codec entry point that
// shows the bytes.
//
// Each step's result is the first error among its messages (a link change can take
// several), or the link the kernel echoed.
#include <cerrno>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <sys/socket.h>

#include "ops/async.h"
#include "ops/entry.h"
#include "ops/rtnl_steps.h"
#include "ops/values.h"
#include "rtnl/link.h"

namespace np::ops {

namespace {

struct StepOutcome {
  js::Failure failure;  // err == 0: success
  std::optional<rtnl::Link> link;  // echoed RTM_NEWLINK
};

// Encodes every step into one buffer, sends it with one sendmsg on h's route socket and
// collects each step's outcome. Runs on the pool.
std::vector<StepOutcome> run_batch(const Handle& h, const std::vector<Step>& steps) {
  std::vector<StepOutcome> out(steps.size());
  if (steps.empty()) return out;
  if (has_pending_netns(steps)) throw nl::NlError(EBADF, "netns", "a namespace this batch moves a link into is not created yet");
  // Each step may take several messages; remember which step each belongs to.
  nl::Builder b(1 << 20);
  std::vector<size_t> owner;
  for (size_t i = 0; i < steps.size(); i++) {
    size_t n = encode_step(b, steps[i]);
    owner.insert(owner.end(), n, i);
  }
  auto results = js::with_socket(h, NETLINK_ROUTE, [&](nl::Socket& sock) {
    return sock.transact(
        b,
        [&](size_t msg, const nlmsghdr* m) {
          if (m->nlmsg_type == RTM_NEWLINK) out[owner[msg]].link = rtnl::decode_link(m);
        },
        "rtnetlink batch");
  });
  for (size_t m = 0; m < results.size(); m++) {
    auto& so = out[owner[m]];
    if (results[m].err == ENOENT) {
      auto* n = std::get_if<NeighStep>(&steps[owner[m]]);
      if (n && n->missing_ok && n->req.type == RTM_DELNEIGH) continue;
    }
    if (results[m].err && !so.failure.err) {
      so.failure.err = results[m].err;
      // A link change may include an AF_BRIDGE RTM_SETLINK (a port set disabled): name it.
      so.failure.op = b.header_at(b.messages()[m])->nlmsg_type == RTM_SETLINK ? "RTM_SETLINK" : step_op_name(steps[owner[m]]);
      so.failure.ext = results[m].ext;
      so.failure.from_kernel = true;
      so.failure.step = static_cast<int>(owner[m]);
      so.failure.missing_attr = results[m].missing_attr;
      so.failure.message = so.failure.op + (so.failure.ext.empty() ? "" : ": " + so.failure.ext);
    }
  }
  return out;
}

Napi::Array outcomes_to_js(Napi::Env env, const std::vector<StepOutcome>& steps) {
  return js::array_to_js(env, steps, [](Napi::Env env, const StepOutcome& s) {
    auto o = Napi::Object::New(env);
    if (s.failure.err) o.Set("error", js::to_error(env, s.failure).Value());
    if (s.link) o.Set("link", js::link_to_js(env, *s.link));
    return o;
  });
}

// rtnlBatch(handle, steps): Promise<{ error?, link? }[]>
Napi::Value RtnlBatch(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "steps"});
  auto h = args.handle(0);
  auto arr = args.arr(1);
  auto steps = std::make_shared<std::vector<Step>>(read_steps(arr));
  return js::run_async<std::vector<StepOutcome>>(
      info.Env(), [h, steps] { return run_batch(h, *steps); },
      [](Napi::Env env, std::vector<StepOutcome>& r) -> Napi::Value { return outcomes_to_js(env, r); });
}

// codec: encodeRtnlSteps(steps): Buffer — the messages rtnlBatch would send for these
// steps (seq 0, port 0), for comparing bytes with iproute2's or a hand-built request.
Napi::Value EncodeRtnlSteps(const Napi::CallbackInfo& info) {
  js::Args args(info, {"steps"});
  auto arr = args.arr(0);
  auto steps = read_steps(arr);
  return js::encoded(info.Env(), [&](nl::Builder& b) { for (const auto& s : steps) encode_step(b, s); }, 1 << 16);
}

using Sequence = std::vector<std::pair<Handle, std::vector<Step>>>;
using SequenceOutcome = std::vector<std::vector<StepOutcome>>;

// [[handle, steps], ...]
std::shared_ptr<Sequence> read_sequence(js::Arr& batches) {
  auto seq = std::make_shared<Sequence>();
  for (uint32_t i = 0; i < batches.size(); i++) {
    js::Arr pair = batches.arr(i);
    pair.expect_size(2);
    auto h = js::to_handle(pair[0], pair.at(0));
    js::Arr steps = pair.arr(1);
    seq->emplace_back(h, read_steps(steps));
  }
  return seq;
}

// The batches in order; after one with a failed step the rest come back empty.
SequenceOutcome run_sequence(const Sequence& seq) {
  SequenceOutcome out;
  bool failed = false;
  for (auto& [h, steps] : seq) {
    if (failed) {
      out.emplace_back();
      continue;
    }
    out.push_back(run_batch(h, steps));
    for (auto& s : out.back()) failed = failed || s.failure.err != 0;
  }
  return out;
}

Napi::Value sequence_to_js(Napi::Env env, SequenceOutcome& r) { return js::array_to_js(env, r, outcomes_to_js); }

// rtnlSequence([[handle, steps], ...]): Promise<{ error?, link? }[][]>
// Several batches, each on its own namespace's socket, one after the other in one
// native call (no return to JS in between); stops after the first batch with a failed
// step (later batches come back empty).
Napi::Value RtnlSequence(const Napi::CallbackInfo& info) {
  js::Args args(info, {"batches"});
  auto batches = args.arr(0);
  auto seq = read_sequence(batches);
  return js::run_async<SequenceOutcome>(info.Env(), [seq] { return run_sequence(*seq); }, sequence_to_js);
}

// An operation that makes a named namespace on the namespace thread, gives it to a
// pending handle, and then sends batches (rest()). The batches need no namespace
// entered (the sockets are open), so when more work waits on the namespace thread once
// the namespace is made they go to a spill worker and the namespace thread goes on;
// otherwise they run where the namespace was made (no hand-off).
class CreateOp : public js::NsOp {
 public:
  CreateOp(Napi::Env env, std::string dir, std::string name, Handle pending)
      : baton_(env, [this] { return rest(); }, sequence_to_js),
        dir_(std::move(dir)), name_(std::move(name)), pending_(std::move(pending)) {}

  Napi::Promise promise() { return baton_.promise(); }
  void settle(Napi::Env env) override { baton_.settle(env); }

 protected:
  // On the namespace thread: makes the namespace; false (and rest() rethrows) on failure.
  bool make() noexcept {
    try {
      auto made = ns::create_named(dir_, name_);
      pending_->adopt(*made);
      return true;
    } catch (...) {
      made_failed_ = std::current_exception();
      return false;
    }
  }
  // The rest on a spill worker; the op finishes there.
  void spill() {
    ns::SpillWorkers::instance().submit([this] {
      baton_.run();
      finish();
    });
  }
  // The rest here, or on a spill worker if work waits on the namespace thread: run()'s result.
  bool go_on() {
    if (!made_failed_ && ns::NsThread::instance().backlog()) {
      spill();
      return false;
    }
    baton_.run();
    return true;
  }
  // The batches, into the namespace made (set_pending_netns), after any check of the subclass.
  SequenceOutcome send(Sequence& seq) {
    for (auto& [h, steps] : seq) set_pending_netns(steps, pending_->fd());
    return run_sequence(seq);
  }
  virtual SequenceOutcome rest() = 0;

  js::Baton<SequenceOutcome> baton_;
  std::string dir_;
  std::string name_;
  Handle pending_;
  std::exception_ptr made_failed_;
};

// rtnlCreateSequence(dir, name, pendingHandle, [[handle, steps], ...]): as rtnlSequence,
// after making the named namespace (as nsCreate) and giving it to pendingHandle, which
// the steps may use as a batch's namespace and as a link's netns. One hand-off to the
// namespace thread and one back for the namespace and every batch (CreateOp).
// Fails as a whole (nothing made) if the namespace cannot be made.
class CreateSequenceOp : public CreateOp {
 public:
  CreateSequenceOp(Napi::Env env, std::string dir, std::string name, Handle pending, std::shared_ptr<Sequence> seq)
      : CreateOp(env, std::move(dir), std::move(name), std::move(pending)), seq_(std::move(seq)) {}

  bool run() noexcept override {
    make();
    return go_on();
  }

 private:
  SequenceOutcome rest() override {
    if (made_failed_) std::rethrow_exception(made_failed_);
    return send(*seq_);
  }

  std::shared_ptr<Sequence> seq_;
};

Napi::Value RtnlCreateSequence(const Napi::CallbackInfo& info) {
  js::Args args(info, {"dir", "name", "pending", "batches"});
  std::string dir = args.str(0);
  std::string name = args.str(1);
  auto pending = args.handle(2);
  if (!pending->is_pending()) args.at(2).fail("must be a pending namespace handle (nsPending)");
  auto batches = args.arr(3);
  auto seq = read_sequence(batches);
  Napi::Env env = info.Env();
  auto* op = new CreateSequenceOp(env, dir, name, pending, seq);
  auto promise = op->promise();
  js::submit_ns_op(env, op);
  return promise;
}

// A named namespace made ahead of the batches that go into it, so that the caller's own
// work (a record to commit before anything of it exists in the kernel) overlaps the
// namespace's making. rtnlCreateBegin starts making it on the namespace thread and
// returns [promise, gate]; rtnlGateOpen(gate, batches) gives it the batches, sent as soon
// as the namespace is made, in the same operation (the promise settles as
// rtnlCreateSequence's); rtnlGateAbort(gate) withdraws: the namespace, if made, is
// deleted and the promise rejects with ECANCELED. The namespace thread never waits on
// JS: made before the gate opens, the operation parks, and the opening queues the rest.
// A gate dropped unopened (garbage collected) aborts.
struct Gate {
  enum class State { Making, Parked, Running, Over };
  std::mutex mu;
  State state = State::Making;
  bool used = false;  // opened or aborted
  std::shared_ptr<Sequence> seq;  // null when aborted
  std::function<void()> resume;   // while parked: queues the rest on a spill worker
};

struct GateBox {
  std::shared_ptr<Gate> gate;
};

// napi_type_tag of gates.
constexpr napi_type_tag kGateTag = {0x6e6574706c756d62ULL, 0x4761746500000001ULL};

class GatedCreateOp : public CreateOp {
 public:
  GatedCreateOp(Napi::Env env, std::string dir, std::string name, Handle pending, std::shared_ptr<Gate> gate)
      : CreateOp(env, std::move(dir), std::move(name), std::move(pending)), gate_(std::move(gate)) {}

  bool run() noexcept override {
    bool made = make();
    std::unique_lock<std::mutex> lk(gate_->mu);
    if (made && !gate_->used) {
      gate_->state = Gate::State::Parked;
      // Opened later, from the JS thread: a hand-off either way, so to a spill worker,
      // and the namespace thread stays free.
      gate_->resume = [this] { spill(); };
      return false;
    }
    gate_->state = made ? Gate::State::Running : Gate::State::Over;
    lk.unlock();
    return go_on();
  }

 private:
  // After the namespace: the batches, or (aborted) the namespace deleted again.
  SequenceOutcome rest() override {
    if (made_failed_) std::rethrow_exception(made_failed_);
    std::shared_ptr<Sequence> seq;
    {
      std::lock_guard<std::mutex> lk(gate_->mu);
      seq = gate_->seq;
      gate_->state = Gate::State::Over;
    }
    if (!seq) {
      try {
        ns::delete_named(dir_, name_);
      } catch (...) {
        // Removed by someone else meanwhile: nothing of ours is left either way.
      }
      pending_->close();
      throw nl::NlError(ECANCELED, "netns", "the attach was withdrawn before its batches were sent");
    }
    return send(*seq);
  }

  std::shared_ptr<Gate> gate_;
};

// Opens (seq) or aborts (null) a gate; queues the parked operation's rest.
void use_gate(const std::shared_ptr<Gate>& g, std::shared_ptr<Sequence> seq) {
  std::function<void()> resume;
  {
    std::lock_guard<std::mutex> lk(g->mu);
    if (g->used) throw std::logic_error("this gate was opened or aborted already");
    g->used = true;
    g->seq = std::move(seq);
    if (g->state == Gate::State::Parked) {
      g->state = Gate::State::Running;
      resume = std::move(g->resume);
    }
  }
  if (resume) resume();
}

// rtnlCreateBegin(dir, name, pendingHandle): [Promise<{ error?, link? }[][]>, gate]
Napi::Value RtnlCreateBegin(const Napi::CallbackInfo& info) {
  js::Args args(info, {"dir", "name", "pending"});
  std::string dir = args.str(0);
  std::string name = args.str(1);
  auto pending = args.handle(2);
  if (!pending->is_pending()) args.at(2).fail("must be a pending namespace handle (nsPending)");
  Napi::Env env = info.Env();
  auto gate = std::make_shared<Gate>();
  auto* op = new GatedCreateOp(env, dir, name, pending, gate);
  auto promise = op->promise();
  js::submit_ns_op(env, op);
  auto ext = Napi::External<GateBox>::New(env, new GateBox{gate}, [](Napi::Env, GateBox* box) {
    // Dropped unopened: abort, so the namespace does not outlive the attach that wanted it.
    std::unique_ptr<GateBox> owned(box);
    bool unused;
    {
      std::lock_guard<std::mutex> lk(owned->gate->mu);
      unused = !owned->gate->used;
    }
    if (unused) use_gate(owned->gate, nullptr);
  });
  js::tag_external(env, ext, kGateTag);
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, promise);
  out.Set(1u, ext);
  return out;
}

// rtnlGateOpen(gate, [[handle, steps], ...]): the batches for the namespace being made.
Napi::Value RtnlGateOpen(const Napi::CallbackInfo& info) {
  js::Args args(info, {"gate", "batches"});
  auto* box = args.external<GateBox>(0, kGateTag, "a gate (rtnlCreateBegin)");
  auto batches = args.arr(1);
  auto seq = read_sequence(batches);
  try {
    use_gate(box->gate, std::move(seq));
  } catch (const std::logic_error& e) {
    throw Napi::Error::New(info.Env(), std::string("rtnlGateOpen: ") + e.what());
  }
  return info.Env().Undefined();
}

// rtnlGateAbort(gate): no batches after all; the namespace is deleted once made.
Napi::Value RtnlGateAbort(const Napi::CallbackInfo& info) {
  js::Args args(info, {"gate"});
  auto* box = args.external<GateBox>(0, kGateTag, "a gate (rtnlCreateBegin)");
  try {
    use_gate(box->gate, nullptr);
  } catch (const std::logic_error& e) {
    throw Napi::Error::New(info.Env(), std::string("rtnlGateAbort: ") + e.what());
  }
  return info.Env().Undefined();
}

constexpr Entry kEntries[] = {
    {"rtnlBatch", RtnlBatch},
    {"rtnlSequence", RtnlSequence},
    {"rtnlCreateSequence", RtnlCreateSequence},
    {"rtnlCreateBegin", RtnlCreateBegin},
    {"rtnlGateOpen", RtnlGateOpen},
    {"rtnlGateAbort", RtnlGateAbort},
    {"encodeRtnlSteps", EncodeRtnlSteps},
};

}  // namespace

std::span<const Entry> rtnl_batch_entries() { return kEntries; }

}  // namespace np::ops
