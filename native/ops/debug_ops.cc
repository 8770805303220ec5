// Internal diagnostics for the soak script (scripts/soak.mjs): the C allocator's own
// view of the heap. Undocumented and not part of the public API; the underscore names
// say so. glibc only (mallinfo2 appeared in glibc 2.33).
#include <malloc.h>

#include "ops/ops.h"

namespace np::ops {

namespace {

// mallinfo2(): arena = bytes obtained with sbrk/from arenas, uordblks = in use,
// fordblks = free but kept, keepcost = trimmable top, hblkhd = bytes in mmapped chunks.
Napi::Value debug_malloc_info(const Napi::CallbackInfo& info) {
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
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace

void register_debug(Napi::Env env, Napi::Object exports) {
  exports.Set("_debugMallocInfo", Napi::Function::New(env, debug_malloc_info, "_debugMallocInfo"));
  exports.Set("_debugMallocTrim", Napi::Function::New(env, debug_malloc_trim, "_debugMallocTrim"));
}

}  // namespace np::ops
