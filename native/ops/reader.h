// The one reader of JS values at the native boundary.
//
// Every entry point reads its arguments through Args, every object through Obj, every
// array through Arr. A value of the wrong type, a number out of range and a key the
// reader was not asked for are a BadArg (a TypeError or RangeError in JS) whose message
// names the entry point and where the value sits:
//
//   rtnlBatch: steps[2].vxlan.vni must be a number, got string
//   rtnlBatch: unknown key 'mtU' in steps[0]
//
// so a misspelt option fails loudly instead of doing nothing. Strictness costs one walk
// of an object's own keys: Obj reads them all at once (one N-API call for the names,
// one per present value) and marks each key as its accessor reads it; done() refuses
// whatever is left. A key whose value is undefined counts as absent.
//
// Everything is read on the JS thread, before any work is queued, into plain C++
// values (the "baton" of async work never holds a Napi value).
#pragma once

#include <napi.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "netns/netns.h"
#include "ops/errors.h"
#include "rtnl/ip.h"

namespace np::js {

// Where a value sits: the entry point, an argument, then keys and indexes below it.
// A chain of parents, spelled out only when an error needs it; a child points at its
// parent, so readers are neither copied nor moved once made.
class Where {
 public:
  Where(const char* op, const char* arg) : op_(op), key_(arg) {}
  Where(const Where* parent, const char* key) : op_(parent->op_), parent_(parent), key_(key) {}
  Where(const Where* parent, uint32_t index) : op_(parent->op_), parent_(parent), index_(index), is_index_(true) {}

  const char* op() const { return op_; }
  // "steps[2].vxlan"
  std::string path() const;
  [[noreturn]] void type_error(const char* want, const Napi::Value& got) const;
  [[noreturn]] void range_error(const std::string& detail) const;
  [[noreturn]] void fail(const std::string& detail) const;  // a TypeError: "<op>: <path> <detail>"

 private:
  const char* op_;
  const Where* parent_ = nullptr;
  const char* key_ = nullptr;
  uint32_t index_ = 0;
  bool is_index_ = false;
};

// JS type name for messages: "string", "number", "array", "Buffer", "null"...
const char* type_name(const Napi::Value& v);

// Conversions of one value, each checking its type (and range).
std::string to_string(const Napi::Value& v, const Where& w);
bool to_bool(const Napi::Value& v, const Where& w);
double to_double(const Napi::Value& v, const Where& w);
int64_t to_integer(const Napi::Value& v, const Where& w, int64_t min, int64_t max);
// The bytes of a Buffer.
std::string to_bytes(const Napi::Value& v, const Where& w);
std::shared_ptr<ns::NsHandle> to_handle(const Napi::Value& v, const Where& w);
// "10.0.0.1", "fd00::1".
rtnl::IpAddr to_ip(const Napi::Value& v, const Where& w);
// "aa:bb:cc:dd:ee:ff" (up to 32 bytes) as raw bytes.
std::string to_hwaddr(const Napi::Value& v, const Where& w);

template <typename T>
T to_number(const Napi::Value& v, const Where& w) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(to_double(v, w));
  } else {
    using L = std::numeric_limits<T>;
    // Doubles hold integers exactly up to 2^53: larger 64-bit limits are clamped there.
    constexpr int64_t kMax = int64_t{1} << 53;
    const int64_t max = static_cast<uint64_t>(L::max()) > static_cast<uint64_t>(kMax) ? kMax : static_cast<int64_t>(L::max());
    const int64_t min = L::is_signed ? (static_cast<int64_t>(L::min()) < -kMax ? -kMax : static_cast<int64_t>(L::min())) : 0;
    return static_cast<T>(to_integer(v, w, min, max));
  }
}

// Boxes a namespace handle as an opaque external tagged as one (to_handle refuses any
// other external, such as a monitor).
Napi::Value wrap_handle(Napi::Env env, std::shared_ptr<ns::NsHandle> h);
// Marks an external made by an entry point as being of `tag`'s kind, and checks it.
void tag_external(Napi::Env env, const Napi::Value& v, const napi_type_tag& tag);
bool has_tag(const Napi::Value& v, const napi_type_tag& tag);

class Arr;

// A plain object's own keys, read strictly.
class Obj {
 public:
  Obj(const Napi::Value& v, Where where);
  Obj(const Obj&) = delete;
  Obj& operator=(const Obj&) = delete;

  const Where& where() const { return where_; }
  // Whether the key is present (its value not undefined); does not count as reading it.
  bool has(const char* k) const { return find(k) >= 0; }
  // The value of a present key (marking it read), or nullopt.
  std::optional<Napi::Value> value(const char* k);

  template <typename T = uint32_t>
  std::optional<T> num(const char* k) {
    int i = take(k);
    if (i < 0) return std::nullopt;
    return to_number<T>(fields_[i].value, Where(&where_, fields_[i].name));
  }
  template <typename T>
  T num(const char* k, T dflt) {
    return num<T>(k).value_or(dflt);
  }
  template <typename T = uint32_t>
  T req_num(const char* k) {
    int i = need(k);
    return to_number<T>(fields_[i].value, Where(&where_, fields_[i].name));
  }
  std::optional<bool> boolean(const char* k);
  bool flag(const char* k) { return boolean(k).value_or(false); }
  std::optional<std::string> str(const char* k);
  std::string req_str(const char* k);
  std::optional<std::string> bytes(const char* k);
  std::optional<rtnl::IpAddr> ip(const char* k);
  std::optional<std::string> hwaddr(const char* k);
  std::shared_ptr<ns::NsHandle> handle(const char* k);  // nullptr if absent
  std::optional<Obj> obj(const char* k);
  std::optional<Arr> arr(const char* k);
  Arr req_arr(const char* k);

  // Reads every key, in order: fn(name, value, where). For objects keyed by names the
  // caller looks up (ipv4Conf).
  template <typename F>
  void each(F&& fn) {
    for (uint32_t i = 0; i < count_; i++) {
      read_ |= uint64_t{1} << i;
      fn(static_cast<const char*>(fields_[i].name), fields_[i].value, Where(&where_, fields_[i].name));
    }
  }

  // Refuses the keys nothing has read: "<op>: unknown key 'x' in <path>".
  void done() const;
  // A TypeError about key k: "<op>: <path>.k <detail>".
  [[noreturn]] void fail(const char* k, const std::string& detail) const;

 private:
  static constexpr uint32_t kMaxKeys = 64;
  static constexpr size_t kMaxName = 40;
  struct Field {
    char name[kMaxName];
    bool long_name;  // longer than kMaxName - 1: no key of ours, kept cut for the message
    Napi::Value value;
  };
  int find(const char* k) const;
  int take(const char* k) {
    int i = find(k);
    if (i >= 0) read_ |= uint64_t{1} << i;
    return i;
  }
  int need(const char* k);

  Where where_;
  Field fields_[kMaxKeys];
  uint32_t count_ = 0;
  uint64_t read_ = 0;
};

// An array, read element by element.
class Arr {
 public:
  Arr(const Napi::Value& v, Where where);
  Arr(const Arr&) = delete;
  Arr& operator=(const Arr&) = delete;

  const Where& where() const { return where_; }
  uint32_t size() const { return size_; }
  Napi::Value operator[](uint32_t i) const { return arr_.Get(i); }
  Where at(uint32_t i) const { return Where(&where_, i); }
  Obj obj(uint32_t i) const { return Obj(arr_.Get(i), at(i)); }
  Arr arr(uint32_t i) const { return Arr(arr_.Get(i), at(i)); }
  template <typename T>
  T num(uint32_t i) const {
    return to_number<T>(arr_.Get(i), at(i));
  }
  // Refuses any length but n.
  void expect_size(uint32_t n) const;

 private:
  Where where_;
  Napi::Array arr_;
  uint32_t size_ = 0;
};

// The arguments of one entry point, by position. Its name comes from the entry table
// (entry.h); names are the parameters', for messages. An argument past the last name
// must be undefined.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, std::initializer_list<const char*> names);

  const char* op() const { return op_; }
  Napi::Env env() const { return info_.Env(); }
  Where at(size_t i) const { return Where(op_, names_[i]); }
  Napi::Value operator[](size_t i) const { return info_[i]; }
  bool present(size_t i) const { return !info_[i].IsUndefined(); }

  std::shared_ptr<ns::NsHandle> handle(size_t i) const { return to_handle(info_[i], at(i)); }
  std::string str(size_t i) const { return to_string(info_[i], at(i)); }
  std::optional<std::string> opt_str(size_t i) const;
  bool boolean(size_t i) const { return to_bool(info_[i], at(i)); }
  bool opt_bool(size_t i, bool dflt) const { return present(i) ? boolean(i) : dflt; }
  template <typename T>
  T num(size_t i) const {
    return to_number<T>(info_[i], at(i));
  }
  template <typename T>
  T num(size_t i, T dflt) const {
    return present(i) ? num<T>(i) : dflt;
  }
  Obj obj(size_t i) const { return Obj(info_[i], at(i)); }
  Arr arr(size_t i) const { return Arr(info_[i], at(i)); }
  // A Buffer, copied out (a Buffer may start at any offset of its memory, and the work
  // that uses it runs later).
  std::string bytes(size_t i) const { return to_bytes(info_[i], at(i)); }
  Napi::Function function(size_t i) const;
  // An external made by an entry point with this tag.
  template <typename T>
  T* external(size_t i, const napi_type_tag& tag, const char* want) const {
    if (!info_[i].IsExternal() || !has_tag(info_[i], tag)) at(i).type_error(want, info_[i]);
    return info_[i].As<Napi::External<T>>().Data();
  }

 private:
  static constexpr size_t kMaxArgs = 8;
  const Napi::CallbackInfo& info_;
  const char* op_;
  const char* names_[kMaxArgs] = {};
};

}  // namespace np::js
