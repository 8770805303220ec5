// Errors at the native boundary: the one place where a C++ failure becomes a JS error.
//
// Three kinds of failure reach JavaScript:
//   - a bad argument (BadArg, thrown by the reader before any work starts): a TypeError
//     or RangeError whose message names the entry point and where the value sits
//     ("rtnlBatch: steps[2].vxlan.vni must be a number, got string");
//   - a refused request or a failed system call (nl::NlError, also parse and build
//     errors): a plain Error carrying errno/op/extack/step, which src/errors.ts turns
//     into a NetlinkError;
//   - anything else (bad_alloc, a bug): the same shape with EIO or ENOMEM.
// Synchronous entry points are wrapped by entry.cc, asynchronous work is settled by
// async.h; both come here.
#pragma once

#include <napi.h>

#include <cstdint>
#include <exception>
#include <string>

#include "netlink/socket.h"

namespace np::js {

// A value of the wrong type or out of range, found while reading arguments.
class BadArg : public std::exception {
 public:
  enum Kind { Type, Range };
  BadArg(Kind kind, std::string message) : kind(kind), message(std::move(message)) {}
  const char* what() const noexcept override { return message.c_str(); }
  Kind kind;
  std::string message;
};

// An error caught off the JS thread, kept as plain data until it is turned into JS.
struct Failure : nl::ErrorInfo {
  // A bad argument found off the JS thread (an element value checked against its set's
  // types at commit): thrown in JS as a TypeError or RangeError with `message`.
  enum Js { System, Type, Range } js = System;
  std::string message;
};

// The exception being handled, as a Failure (call inside a catch block).
Failure capture_current_exception();

// A JS Error carrying errno/op/extack/step/missingAttribute and `native: true` (or the
// TypeError/RangeError of a bad argument).
Napi::Error to_error(Napi::Env env, const Failure& f);

// The exception being handled (call inside a catch block) as the JS error to throw:
// BadArg as TypeError/RangeError, everything else through to_error.
Napi::Error current_to_js(Napi::Env env);

}  // namespace np::js
