// Each ops file registers its flat functions on the module's exports.
#pragma once

#include <napi.h>

namespace np::ops {

void register_netns(Napi::Env env, Napi::Object exports);
void register_link(Napi::Env env, Napi::Object exports);
void register_nft(Napi::Env env, Napi::Object exports);

}  // namespace np::ops
