// Decoded objects as JS values: links, addresses, routes, neighbour tables, buffers.
// The other direction (JS to C++) is reader.h.
#pragma once

#include <napi.h>

#include <optional>
#include <string>
#include <vector>

#include "netlink/builder.h"
#include "rtnl/addr.h"
#include "rtnl/link.h"
#include "rtnl/neigh.h"
#include "rtnl/route.h"

namespace np::js {

// Writes a decoded struct onto a new JS object. One rule for every *_to_js: what the
// kernel did not send (an empty optional, an empty string) is left off the object, not
// set to undefined or 0, so `'mtu' in link` means the kernel reported an MTU.
class Out {
 public:
  explicit Out(Napi::Env env) : o_(Napi::Object::New(env)) {}
  template <typename T>
  Out& set(const char* key, const T& v) {
    o_.Set(key, v);
    return *this;
  }
  template <typename T>
  Out& opt(const char* key, const std::optional<T>& v) {
    if (v) o_.Set(key, *v);
    return *this;
  }
  Out& opt(const char* key, const std::string& v) {
    if (!v.empty()) o_.Set(key, v);
    return *this;
  }
  // A netlink u8 attribute that is a yes/no.
  Out& flag(const char* key, const std::optional<uint8_t>& v) {
    if (v) o_.Set(key, *v != 0);
    return *this;
  }
  Napi::Object object() const { return o_; }
  operator Napi::Object() const { return o_; }  // NOLINT: returned as the result
  operator Napi::Value() const { return o_; }   // NOLINT

 private:
  Napi::Object o_;
};

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

// What a codec entry point returns: the messages `encode` writes into a new Builder
// (sequence 0), as a Buffer. `capacity` bounds the whole buffer (see nl::Builder).
template <typename F>
Napi::Buffer<uint8_t> encoded(Napi::Env env, F&& encode, size_t capacity = 4096) {
  nl::Builder b(capacity);
  encode(b);
  return builder_to_buffer(env, b);
}
Napi::Buffer<char> bytes_to_js(Napi::Env env, const std::string& bytes);

}  // namespace np::js
