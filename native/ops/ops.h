// Each ops file registers its flat functions on the module's exports.
#pragma once

#include <napi.h>

#include "rtnl/neigh.h"

namespace np::ops {

// A neighbour or FDB request from the plain object TypeScript hands over (neigh_ops.cc's
// format: { op, family, ifindex, dst?, lladdr?, state?, self?, master?, ... }); throws a
// TypeError naming the field at fault. Shared by neighApply and the rtnl batches.
rtnl::NeighRequest neigh_request_from(Napi::Env env, const Napi::Value& v);

void register_netns(Napi::Env env, Napi::Object exports);
void register_link(Napi::Env env, Napi::Object exports);
void register_rtnl(Napi::Env env, Napi::Object exports);
void register_raw(Napi::Env env, Napi::Object exports);
void register_neigh(Napi::Env env, Napi::Object exports);
void register_sysctl(Napi::Env env, Napi::Object exports);
void register_monitor(Napi::Env env, Napi::Object exports);
void register_nft(Napi::Env env, Napi::Object exports);
void register_conntrack(Napi::Env env, Napi::Object exports);
// Internal, undocumented: allocator statistics for the soak script.
void register_debug(Napi::Env env, Napi::Object exports);

}  // namespace np::ops
