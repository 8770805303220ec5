#include "ops/reader.h"

#include <cmath>
#include <cstring>

#include "ops/entry.h"
#include "rtnl/link_spec.h"

namespace np::js {

std::string Where::path() const {
  std::string parent = parent_ ? parent_->path() : std::string();
  if (is_index_) return parent + "[" + std::to_string(index_) + "]";
  if (parent.empty()) return key_ ? key_ : "";
  return parent + "." + key_;
}

void Where::type_error(const char* want, const Napi::Value& got) const {
  throw BadArg(BadArg::Type, std::string(op_) + ": " + path() + " must be " + want + ", got " + type_name(got));
}

void Where::range_error(const std::string& detail) const {
  throw BadArg(BadArg::Range, std::string(op_) + ": " + path() + " " + detail);
}

void Where::fail(const std::string& detail) const {
  throw BadArg(BadArg::Type, std::string(op_) + ": " + path() + " " + detail);
}

const char* type_name(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_function: return "function";
    case napi_external: return "an external";
    case napi_bigint: return "bigint";
    case napi_object:
      if (v.IsArray()) return "array";
      if (v.IsBuffer()) return "Buffer";
      return "object";
  }
  return "something else";
}

// The primitive readers ask N-API for the value directly and take its "expected"
// status as the type check: one call where a check and a read would be two (these run
// for every key of every step and element).
std::string to_string(const Napi::Value& v, const Where& w) {
  napi_env env = v.Env();
  char buf[64];
  size_t len = 0;
  napi_status st = napi_get_value_string_utf8(env, v, buf, sizeof buf, &len);
  if (st == napi_string_expected) w.type_error("a string", v);
  NAPI_THROW_IF_FAILED(env, st, std::string());
  if (len < sizeof buf - 1) return std::string(buf, len);
  // Possibly cut: ask for the length, then the whole string.
  NAPI_THROW_IF_FAILED(env, napi_get_value_string_utf8(env, v, nullptr, 0, &len), std::string());
  std::string out(len, '\0');
  NAPI_THROW_IF_FAILED(env, napi_get_value_string_utf8(env, v, out.data(), len + 1, &len), std::string());
  return out;
}

bool to_bool(const Napi::Value& v, const Where& w) {
  bool b = false;
  napi_status st = napi_get_value_bool(v.Env(), v, &b);
  if (st == napi_boolean_expected) w.type_error("a boolean", v);
  NAPI_THROW_IF_FAILED(v.Env(), st, false);
  return b;
}

double to_double(const Napi::Value& v, const Where& w) {
  double d = 0;
  napi_status st = napi_get_value_double(v.Env(), v, &d);
  if (st == napi_number_expected) w.type_error("a number", v);
  NAPI_THROW_IF_FAILED(v.Env(), st, 0);
  return d;
}

int64_t to_integer(const Napi::Value& v, const Where& w, int64_t min, int64_t max) {
  double d = to_double(v, w);
  if (!std::isfinite(d) || std::trunc(d) != d) w.type_error("an integer", v);
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    w.range_error("must be in " + std::to_string(min) + ".." + std::to_string(max) + ", got " + std::to_string(static_cast<int64_t>(d)));
  }
  return static_cast<int64_t>(d);
}

std::string to_bytes(const Napi::Value& v, const Where& w) {
  if (!v.IsBuffer()) w.type_error("a Buffer", v);
  auto b = v.As<Napi::Buffer<uint8_t>>();
  return std::string(reinterpret_cast<const char*>(b.Data()), b.Length());
}

rtnl::IpAddr to_ip(const Napi::Value& v, const Where& w) {
  auto s = to_string(v, w);
  auto a = rtnl::parse_ip(s);
  if (!a.set()) w.fail("must be an IPv4 or IPv6 address, got '" + s + "'");
  return a;
}

std::string to_hwaddr(const Napi::Value& v, const Where& w) {
  auto s = to_string(v, w);
  auto raw = rtnl::parse_hwaddr(s);
  if (raw.empty()) w.fail("must be a hardware address like aa:bb:cc:dd:ee:ff, got '" + s + "'");
  return raw;
}

namespace {

struct HandleBox {
  std::shared_ptr<ns::NsHandle> h;
};

// napi_type_tag of namespace handles (random, fixed: tags only need to differ).
constexpr napi_type_tag kHandleTag = {0x6e6574706c756d62ULL, 0x4e73486e646c0001ULL};

}  // namespace

void tag_external(Napi::Env env, const Napi::Value& v, const napi_type_tag& tag) {
  NAPI_THROW_IF_FAILED_VOID(env, napi_type_tag_object(env, v, &tag));
}

bool has_tag(const Napi::Value& v, const napi_type_tag& tag) {
  bool ok = false;
  return napi_check_object_type_tag(v.Env(), v, &tag, &ok) == napi_ok && ok;
}

Napi::Value wrap_handle(Napi::Env env, std::shared_ptr<ns::NsHandle> h) {
  auto ext = Napi::External<HandleBox>::New(env, new HandleBox{std::move(h)},
                                            [](Napi::Env, HandleBox* box) { delete box; });
  tag_external(env, ext, kHandleTag);
  return ext;
}

std::shared_ptr<ns::NsHandle> to_handle(const Napi::Value& v, const Where& w) {
  if (!v.IsExternal() || !has_tag(v, kHandleTag)) w.type_error("a namespace handle", v);
  auto h = v.As<Napi::External<HandleBox>>().Data()->h;
  h->check_open();
  return h;
}

Obj::Obj(const Napi::Value& v, Where where) : where_(where) {
  napi_env env = v.Env();
  napi_valuetype vt;
  NAPI_THROW_IF_FAILED_VOID(env, napi_typeof(env, v, &vt));
  bool array = false;
  if (vt == napi_object) NAPI_THROW_IF_FAILED_VOID(env, napi_is_array(env, v, &array));
  // (A Buffer passed for an object fails as having unknown keys '0', '1'...)
  if (vt != napi_object || array) where_.type_error("an object", v);
  napi_value names;
  NAPI_THROW_IF_FAILED_VOID(env, napi_get_all_property_names(env, v, napi_key_own_only,
                                                             static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                                             napi_key_numbers_to_strings, &names));
  uint32_t n = 0;
  NAPI_THROW_IF_FAILED_VOID(env, napi_get_array_length(env, names, &n));
  for (uint32_t i = 0; i < n; i++) {
    napi_value key, value;
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_element(env, names, i, &key));
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_property(env, v, key, &value));
    napi_valuetype t;
    NAPI_THROW_IF_FAILED_VOID(env, napi_typeof(env, value, &t));
    if (t == napi_undefined) continue;
    if (count_ == kMaxKeys) where_.fail("has more than " + std::to_string(kMaxKeys) + " keys");
    Field& f = fields_[count_];
    size_t len = 0;
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_value_string_utf8(env, key, f.name, kMaxName, &len));
    f.long_name = len >= kMaxName - 1;
    f.value = Napi::Value(env, value);
    count_++;
  }
}

int Obj::find(const char* k) const {
  for (uint32_t i = 0; i < count_; i++) {
    if (!fields_[i].long_name && std::strcmp(fields_[i].name, k) == 0) return static_cast<int>(i);
  }
  return -1;
}

int Obj::need(const char* k) {
  int i = take(k);
  if (i < 0) fail(k, "is required");
  return i;
}

void Obj::fail(const char* k, const std::string& detail) const { Where(&where_, k).fail(detail); }

std::optional<Napi::Value> Obj::value(const char* k) {
  int i = take(k);
  if (i < 0) return std::nullopt;
  return fields_[i].value;
}

std::optional<bool> Obj::boolean(const char* k) {
  int i = take(k);
  if (i < 0) return std::nullopt;
  return to_bool(fields_[i].value, Where(&where_, fields_[i].name));
}

std::optional<std::string> Obj::str(const char* k) {
  int i = take(k);
  if (i < 0) return std::nullopt;
  return to_string(fields_[i].value, Where(&where_, fields_[i].name));
}

std::string Obj::req_str(const char* k) {
  int i = need(k);
  return to_string(fields_[i].value, Where(&where_, fields_[i].name));
}

std::optional<std::string> Obj::bytes(const char* k) {
  int i = take(k);
  if (i < 0) return std::nullopt;
  return to_bytes(fields_[i].value, Where(&where_, fields_[i].name));
}

std::optional<rtnl::IpAddr> Obj::ip(const char* k) {
  int i = take(k);
  if (i < 0) return std::nullopt;
  return to_ip(fields_[i].value, Where(&where_, fields_[i].name));
}

std::optional<std::string> Obj::hwaddr(const char* k) {
  int i = take(k);
  if (i < 0) return std::nullopt;
  return to_hwaddr(fields_[i].value, Where(&where_, fields_[i].name));
}

std::shared_ptr<ns::NsHandle> Obj::handle(const char* k) {
  int i = take(k);
  if (i < 0) return nullptr;
  return to_handle(fields_[i].value, Where(&where_, fields_[i].name));
}

std::optional<Obj> Obj::obj(const char* k) {
  int i = take(k);
  if (i < 0) return std::nullopt;
  return std::optional<Obj>(std::in_place, fields_[i].value, Where(&where_, fields_[i].name));
}

std::optional<Arr> Obj::arr(const char* k) {
  int i = take(k);
  if (i < 0) return std::nullopt;
  return std::optional<Arr>(std::in_place, fields_[i].value, Where(&where_, fields_[i].name));
}

Arr Obj::req_arr(const char* k) {
  int i = need(k);
  return Arr(fields_[i].value, Where(&where_, fields_[i].name));
}

void Obj::done() const {
  const uint64_t all = count_ == 64 ? ~uint64_t{0} : (uint64_t{1} << count_) - 1;
  if ((read_ & all) == all) return;
  for (uint32_t i = 0; i < count_; i++) {
    if (read_ & (uint64_t{1} << i)) continue;
    std::string name = fields_[i].name;
    if (fields_[i].long_name) name += "...";
    std::string path = where_.path();
    throw BadArg(BadArg::Type, std::string(where_.op()) + ": unknown key '" + name + "' in " + (path.empty() ? "the argument" : path));
  }
}

Arr::Arr(const Napi::Value& v, Where where) : where_(where) {
  if (!v.IsArray()) where_.type_error("an array", v);
  arr_ = v.As<Napi::Array>();
  size_ = arr_.Length();
}

void Arr::expect_size(uint32_t n) const {
  if (size_ != n) where_.fail("must have " + std::to_string(n) + " elements, got " + std::to_string(size_));
}

Args::Args(const Napi::CallbackInfo& info, std::initializer_list<const char*> names)
    : info_(info), op_(static_cast<const ops::Entry*>(info.Data())->name) {
  // Copied: the initializer list's array ends with the full expression that made it.
  size_t n = 0;
  for (const char* name : names) {
    if (n < kMaxArgs) names_[n++] = name;
  }
  for (size_t i = names.size(); i < info.Length(); i++) {
    if (!info[i].IsUndefined()) {
      throw BadArg(BadArg::Type, std::string(op_) + " takes " + std::to_string(names.size()) + " argument" +
                                     (names.size() == 1 ? "" : "s") + ", got " + std::to_string(info.Length()));
    }
  }
}

std::optional<std::string> Args::opt_str(size_t i) const {
  if (!present(i)) return std::nullopt;
  return str(i);
}

Napi::Function Args::function(size_t i) const {
  if (!info_[i].IsFunction()) at(i).type_error("a function", info_[i]);
  return info_[i].As<Napi::Function>();
}

}  // namespace np::js
