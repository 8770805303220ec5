// The raw escape hatch: pre-encoded rtnetlink messages sent as one batch.
//
// The caller's buffer is checked to be a well-formed sequence of request messages
// (on the JS thread, so a bad one is a TypeError and nothing is sent), copied into a
// Builder, and sent in one sendmsg by Socket::transact, which numbers the messages
// and matches every reply and ack to its step.
#include <sys/socket.h>

#include <cstring>

#include "netlink/builder.h"
#include "ops/async.h"
#include "ops/entry.h"
#include "ops/reader.h"
#include "ops/values.h"
#include "rtnl/names.h"

namespace np::ops {

namespace {

struct RawStepOut {
  std::string op;
  nl::StepResult result;
  std::vector<std::string> replies;  // whole messages, header included
};

// Copies buf into b message by message. Returns what is wrong with it, or "".
//
// Every message must be a request (NLM_F_REQUEST: the kernel silently drops others)
// and not a netlink control message. NLM_F_ACK is added to each: a request the kernel
// answers with nothing on success (a NEW or DEL without it) would otherwise leave the
// exchange waiting forever; for dumps the kernel ignores it.
std::string copy_messages(const uint8_t* buf, size_t len, nl::Builder& b) {
  if (len == 0) return "the buffer holds no netlink message";
  size_t off = 0;
  for (size_t i = 0; off < len; i++) {
    const std::string at = "message " + std::to_string(i) + " (offset " + std::to_string(off) + ")";
    if (len - off < sizeof(nlmsghdr)) {
      return at + ": " + std::to_string(len - off) + " trailing bytes are too short for a netlink header";
    }
    nlmsghdr h;
    std::memcpy(&h, buf + off, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len - off) {
      return at + ": nlmsg_len " + std::to_string(h.nlmsg_len) + " does not fit the " +
             std::to_string(len - off) + " bytes left";
    }
    if (h.nlmsg_type < NLMSG_MIN_TYPE) {
      return at + ": type " + std::to_string(h.nlmsg_type) + " is a netlink control message, not a request";
    }
    if (!(h.nlmsg_flags & NLM_F_REQUEST)) return at + ": NLM_F_REQUEST is not set";
    if (b.size() + nl::align4(h.nlmsg_len) > b.capacity()) {
      return at + ": the batch exceeds " + std::to_string(b.capacity()) + " bytes";
    }
    size_t m = b.put_message(h, buf + off);
    b.set_flags(m, static_cast<uint16_t>(h.nlmsg_flags | NLM_F_ACK));
    off += std::min(nl::align4(h.nlmsg_len), len - off);
  }
  return "";
}

// rtnlRaw(handle, messages): Promise<{ error?, replies: Buffer[], dumpInterrupted? }[]>
Napi::Value RtnlRaw(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "messages"});
  auto h = args.handle(0);
  std::string in = args.bytes(1);
  nl::Builder b;
  std::string bad = copy_messages(reinterpret_cast<const uint8_t*>(in.data()), in.size(), b);
  if (!bad.empty()) args.at(1).fail("is not a well-formed netlink message sequence: " + bad);

  return js::run_async<std::vector<RawStepOut>>(
      info.Env(),
      [h, b]() mutable {
        const size_t n = b.messages().size();
        std::vector<RawStepOut> out(n);
        for (size_t i = 0; i < n; i++) out[i].op = rtnl::message_name(b.header_at(b.messages()[i])->nlmsg_type);
        auto results = js::with_socket(h, NETLINK_ROUTE, [&](nl::Socket& sock) {
          return sock.transact(
              b,
              [&](size_t step, const nlmsghdr* m) {
                out[step].replies.emplace_back(reinterpret_cast<const char*>(m), m->nlmsg_len);
              },
              "rawRequest");
        });
        for (size_t i = 0; i < n; i++) out[i].result = std::move(results[i]);
        return out;
      },
      [](Napi::Env env, std::vector<RawStepOut>& steps) -> Napi::Value {
        auto arr = Napi::Array::New(env, steps.size());
        for (size_t i = 0; i < steps.size(); i++) {
          auto& s = steps[i];
          auto o = Napi::Object::New(env);
          if (s.result.err) {
            js::Failure f;
            f.err = s.result.err;
            f.op = s.op;
            f.ext = s.result.ext;
            f.from_kernel = true;
            f.step = static_cast<int>(i);
            f.missing_attr = s.result.missing_attr;
            f.message = s.result.ext.empty() ? s.op : s.op + ": " + s.result.ext;
            o.Set("error", js::to_error(env, f).Value());
          }
          o.Set("replies", js::array_to_js(env, s.replies, js::bytes_to_js));
          if (s.result.dump_interrupted) o.Set("dumpInterrupted", true);
          arr.Set(i, o);
        }
        return arr;
      });
}

constexpr Entry kEntries[] = {{"rtnlRaw", RtnlRaw}};

}  // namespace

std::span<const Entry> raw_entries() { return kEntries; }

}  // namespace np::ops
