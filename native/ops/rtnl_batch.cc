// The rtnetlink batch engine: steps (rtnl_steps.h) encoded into one buffer and sent with
// one sendmsg on a namespace's route socket, every ack matched to its step; several
// batches on several namespaces in one native call; and the codec entry point that
// shows the bytes.
//
// Each step's result is the first error among its messages (a link change can take
// several), or the link the kernel echoed.
#include <cerrno>
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

// rtnlCreateSequence(dir, name, pendingHandle, [[handle, steps], ...]): as rtnlSequence,
// after making the named namespace (as nsCreate) and giving it to pendingHandle, which
// the steps may use as a batch's namespace and as a link's netns. It all runs on the
// namespace thread: one hand-off there and one back for the namespace and every batch.
// Fails as a whole (nothing made) if the namespace cannot be made.
Napi::Value RtnlCreateSequence(const Napi::CallbackInfo& info) {
  js::Args args(info, {"dir", "name", "pending", "batches"});
  std::string dir = args.str(0);
  std::string name = args.str(1);
  auto pending = args.handle(2);
  if (!pending->is_pending()) args.at(2).fail("must be a pending namespace handle (nsPending)");
  auto batches = args.arr(3);
  auto seq = read_sequence(batches);
  return js::run_on_ns_thread<SequenceOutcome>(
      info.Env(),
      [dir, name, pending, seq] {
        auto made = ns::create_named(dir, name);
        pending->adopt(*made);
        for (auto& [h, steps] : *seq) set_pending_netns(steps, pending->fd());
        return run_sequence(*seq);
      },
      sequence_to_js);
}

constexpr Entry kEntries[] = {
    {"rtnlBatch", RtnlBatch},
    {"rtnlSequence", RtnlSequence},
    {"rtnlCreateSequence", RtnlCreateSequence},
    {"encodeRtnlSteps", EncodeRtnlSteps},
};

}  // namespace

std::span<const Entry> rtnl_batch_entries() { return kEntries; }

}  // namespace np::ops
