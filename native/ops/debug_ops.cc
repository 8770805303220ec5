// Internal diagnostics for the soak script (scripts/soak.mjs): the C allocator's own
// view of the heap. Only in builds configured with netplumb_debug=1
// (`npx node-gyp rebuild --netplumb_debug=1`, which defines NETPLUMB_DEBUG_OPS); an
// ordinary build exports none of them. glibc only (mallinfo2 appeared in glibc 2.33).
#include <malloc.h>

#include "ops/entry.h"
#include "ops/reader.h"

namespace np::ops {

#ifdef NETPLUMB_DEBUG_OPS

namespace {

// mallinfo2(): arena = bytes obtained with sbrk/from arenas, uordblks = in use,
// fordblks = free but kept, keepcost = trimmable top, hblkhd = bytes in mmapped chunks.
Napi::Value debug_malloc_info(const Napi::CallbackInfo& info) {
  js::Args args(info, {});
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = mallinfo2();
  o.Set("arena", Napi::Number::New(env, static_cast<double>(m.arena)));
  o.Set("ordblks", Napi::Number::New(env, static_cast<double>(m.ordblks)));
  o.Set("hblks", Napi::Number::New(env, static_cast<double>(m.hblks)));
  o.Set("hblkhd", Napi::Number::New(env, static_cast<double>(m.hblkhd)));
  o.Set("uordblks", Napi::Number::New(env, static_cast<double>(m.uordblks)));
  o.Set("fordblks", Napi::Number::New(env, static_cast<double>(m.fordblks)));
  o.Set("keepcost", Napi::Number::New(env, static_cast<double>(m.keepcost)));
#endif
  return o;
}

// malloc_trim(0): returns free memory of every arena to the kernel. Returns whether
// anything was released.
Napi::Value debug_malloc_trim(const Napi::CallbackInfo& info) {
  js::Args args(info, {});
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

constexpr Entry kEntries[] = {
    {"_debugMallocInfo", debug_malloc_info},
    {"_debugMallocTrim", debug_malloc_trim},
};

}  // namespace

std::span<const Entry> debug_entries() { return kEntries; }

#else

std::span<const Entry> debug_entries() { return {}; }

#endif

}  // namespace np::ops
