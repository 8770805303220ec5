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
  try {
    throw;
  } catch (const BadArg& e) {
    f.js = e.kind == BadArg::Range ? Failure::Range : Failure::Type;
    f.err = EINVAL;
    f.message = e.message;
  } catch (const nl::NlError& e) {
    f.err = e.err;
    f.op = e.op;
    f.ext = e.ext;
    f.from_kernel = e.from_kernel;
    f.step = e.step;
    f.missing_attr = e.missing_attr;
    f.message = e.what();
  } catch (const nl::ParseError& e) {
    f.err = EBADMSG;
    f.op = "decode";
    f.message = e.what();
    f.ext = e.what();  // names the attribute at fault
  } catch (const nl::BuildError& e) {
    f.err = EMSGSIZE;
    f.op = "encode";
    f.message = e.what();
    f.ext = e.what();
  } catch (const std::bad_alloc&) {
    f.err = ENOMEM;
    f.op = "alloc";
    f.message = "out of memory";
  } catch (const std::exception& e) {
    f.err = EIO;
    f.op = "internal";
    f.message = e.what();
    f.ext = e.what();
  } catch (...) {
    f.err = EIO;
    f.op = "internal";
    f.message = "unknown native error";
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
