// netplumb native module: flat functions over opaque namespace handles. Classes,
// validation and shaping live in TypeScript (src/); every entry point is listed in
// ops/entry.h and typed in src/binding.ts.
#include <napi.h>

#include "ops/entry.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  np::ops::register_entries(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(netplumb, Init)
