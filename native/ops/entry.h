// The table of native entry points: every function the addon exports is one Entry, and
// entry.cc registers them all behind one wrapper that turns any C++ exception into the
// JS error errors.cc makes of it. An entry point's name (for messages) reaches it as
// the callback's data: Args reads it from there.
#pragma once

#include <napi.h>

#include <span>

namespace np::ops {

using EntryFn = Napi::Value (*)(const Napi::CallbackInfo&);

struct Entry {
  const char* name;
  EntryFn fn;
};

// Each family's entry points (one ops file each).
std::span<const Entry> netns_entries();
std::span<const Entry> link_entries();
std::span<const Entry> rtnl_batch_entries();
std::span<const Entry> addr_route_entries();
std::span<const Entry> raw_entries();
std::span<const Entry> neigh_entries();
std::span<const Entry> sysctl_entries();
std::span<const Entry> monitor_entries();
std::span<const Entry> nft_entries();
std::span<const Entry> nft_codec_entries();
std::span<const Entry> conntrack_entries();
// Allocator statistics for scripts/soak.mjs: only in builds made with netplumb_debug=1.
std::span<const Entry> debug_entries();

// Sets every entry point on exports.
void register_entries(Napi::Env env, Napi::Object exports);

}  // namespace np::ops
