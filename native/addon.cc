// netplumb native module: flat functions over opaque namespace handles. Classes,
// validation and shaping live in TypeScript (src/).
#include <napi.h>

#include "ops/ops.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  np::ops::register_netns(env, exports);
  np::ops::register_link(env, exports);
  np::ops::register_rtnl(env, exports);
  np::ops::register_raw(env, exports);
  np::ops::register_neigh(env, exports);
  np::ops::register_sysctl(env, exports);
  np::ops::register_monitor(env, exports);
  np::ops::register_nft(env, exports);
  np::ops::register_conntrack(env, exports);
  np::ops::register_debug(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(netplumb, Init)
