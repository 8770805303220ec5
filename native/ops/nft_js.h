// nftables objects at the native boundary: operations read strictly from what src/nft
// builds (the NativeNftOp union in src/binding.ts), and tables, chains, rules, sets and
// elements written back as JS values. Element values cross as plain values and are
// encoded by native/nft/elements.h.
#pragma once

#include <napi.h>

#include <vector>

#include "nft/batch.h"
#include "nft/datatypes.h"
#include "nft/elements.h"
#include "ops/reader.h"

namespace np::ops {

// An array of operations (argument `ops`).
std::vector<nft::Op> read_ops(js::Arr& ops);
// A plain value: a string, a number, or an array of them (one per part).
nft::Datum read_value(const Napi::Value& v, const js::Where& w);
// The JS error of an element value that does not fit, raised while committing.
js::BadArg elem_error(const char* entry, const nft::OpElemError& e);

Napi::Value table_to_js(Napi::Env env, const nft::Table& t);
Napi::Value chain_to_js(Napi::Env env, const nft::Chain& c);
Napi::Value rule_to_js(Napi::Env env, const nft::Rule& r);
// A set; with its elements decoded by its types when given.
Napi::Value set_to_js(Napi::Env env, const nft::Set& s, std::vector<nft::Elem>* elems = nullptr);
Napi::Value exprs_to_js(Napi::Env env, const std::vector<nft::Expr>& exprs);
// Elements as the kernel holds them (bytes), for the message decoder.
Napi::Value raw_elem_to_js(Napi::Env env, const nft::Elem& e);
Napi::Value value_to_js(Napi::Env env, const nft::Datum& v);

}  // namespace np::ops
