// Decoded objects as JS values: links, addresses, routes, neighbour tables, buffers.
// The other direction (JS to C++) is reader.h.
#pragma once

#include <napi.h>

#include <vector>

#include "netlink/builder.h"
#include "rtnl/addr.h"
#include "rtnl/link.h"
#include "rtnl/neigh.h"
#include "rtnl/route.h"

namespace np::js {

Napi::Object link_to_js(Napi::Env env, const rtnl::Link& l);
Napi::Array links_to_js(Napi::Env env, const std::vector<rtnl::Link>& links);
Napi::Object address_to_js(Napi::Env env, const rtnl::Address& a);
Napi::Object route_to_js(Napi::Env env, const rtnl::Route& r);

template <typename T, typename F>
Napi::Array array_to_js(Napi::Env env, const std::vector<T>& v, F&& one) {
  auto arr = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) arr.Set(i, one(env, v[i]));
  return arr;
}

// Neighbour and FDB entries as { cols: Uint32Array, text: string, tickMs }, which
// src/neigh-table.ts turns into Neighbour and FdbEntry objects.
Napi::Object neigh_table_to_js(Napi::Env env, const rtnl::NeighTable& t);

Napi::Buffer<uint8_t> builder_to_buffer(Napi::Env env, const nl::Builder& b);
Napi::Buffer<char> bytes_to_js(Napi::Env env, const std::string& bytes);

}  // namespace np::js
