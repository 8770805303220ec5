#include "ops/errors.h"

#include <cerrno>
#include <cstring>
#include <new>

#include "netlink/builder.h"
#include "netlink/parser.h"
#include "netlink/socket.h"

namespace np::js {

Failure capture_current_exception() {
  Failure f;
  // `detail`: the message is also the `ext` src/errors.ts shows (it names what failed).
  auto as = [&f](int err, const char* op, std::string message, bool detail) {
    f.err = err;
    f.op = op;
    if (detail) f.ext = message;
    f.message = std::move(message);
  };
  try {
    throw;
  } catch (const BadArg& e) {
    f.js = e.kind == BadArg::Range ? Failure::Range : Failure::Type;
    f.err = EINVAL;
    f.message = e.message;
  } catch (const nl::NlError& e) {
    static_cast<nl::ErrorInfo&>(f) = e;
    f.message = e.what();
  } catch (const nl::ParseError& e) {
    as(EBADMSG, "decode", e.what(), true);  // names the attribute at fault
  } catch (const nl::BuildError& e) {
    as(EMSGSIZE, "encode", e.what(), true);
  } catch (const std::bad_alloc&) {
    as(ENOMEM, "alloc", "out of memory", false);
  } catch (const std::exception& e) {
    as(EIO, "internal", e.what(), true);
  } catch (...) {
    as(EIO, "internal", "unknown native error", false);
  }
  return f;
}

Napi::Error to_error(Napi::Env env, const Failure& f) {
  if (f.js == Failure::Type) return Napi::TypeError::New(env, f.message);
  if (f.js == Failure::Range) return Napi::RangeError::New(env, f.message);
  auto e = Napi::Error::New(env, f.message.empty() ? std::strerror(f.err) : f.message);
  auto o = e.Value();
  o.Set("errno", f.err);
  o.Set("op", f.op);
  o.Set("strerror", std::strerror(f.err));
  if (!f.ext.empty()) o.Set(f.from_kernel ? "extack" : "detail", f.ext);
  if (f.step >= 0) o.Set("step", f.step);
  if (f.missing_attr >= 0) o.Set("missingAttribute", static_cast<double>(f.missing_attr));
  o.Set("native", true);
  return e;
}

Napi::Error current_to_js(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error& e) {
    return e;
  } catch (...) {
    return to_error(env, capture_current_exception());
  }
}

}  // namespace np::js
