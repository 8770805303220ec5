#include "ops/entry.h"

#include "ops/errors.h"

namespace np::ops {

namespace {

// The one wrapper: runs the entry point; whatever it throws becomes a JS error here.
Napi::Value call(const Napi::CallbackInfo& info) {
  const auto* e = static_cast<const Entry*>(info.Data());
  try {
    return e->fn(info);
  } catch (...) {
    throw js::current_to_js(info.Env());
  }
}

}  // namespace

void register_entries(Napi::Env env, Napi::Object exports) {
  for (auto family : {netns_entries(), link_entries(), rtnl_batch_entries(), addr_route_entries(), raw_entries(),
                      neigh_entries(), sysctl_entries(), monitor_entries(), nft_entries(), nft_codec_entries(),
                      conntrack_entries(), debug_entries()}) {
    for (const Entry& e : family) {
      exports.Set(e.name, Napi::Function::New(env, call, e.name, const_cast<Entry*>(&e)));
    }
  }
}

}  // namespace np::ops
