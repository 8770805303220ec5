#include "ops/js.h"

#include <linux/if.h>

#include <cerrno>
#include <cstring>

#include "netlink/parser.h"

namespace np::js {

Failure capture_current_exception() {
  Failure f;
  try {
    throw;
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

namespace {

struct HandleBox {
  std::shared_ptr<ns::NsHandle> h;
};

const char* operstate_name(uint8_t s) {
  static const char* names[] = {"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"};
  return s < 7 ? names[s] : "unknown";
}

}  // namespace

Napi::Value wrap_handle(Napi::Env env, std::shared_ptr<ns::NsHandle> h) {
  return Napi::External<HandleBox>::New(env, new HandleBox{std::move(h)},
                                        [](Napi::Env, HandleBox* box) { delete box; });
}

std::shared_ptr<ns::NsHandle> unwrap_handle(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a namespace handle");
  auto h = v.As<Napi::External<HandleBox>>().Data()->h;
  h->check_open();
  return h;
}

std::string arg_string(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

uint32_t arg_u32(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

Napi::Object link_to_js(Napi::Env env, const rtnl::Link& l) {
  auto o = Napi::Object::New(env);
  o.Set("index", l.index);
  o.Set("name", l.name);
  if (l.kind) o.Set("kind", *l.kind);
  o.Set("type", l.type);
  o.Set("flags", l.flags);
  o.Set("up", (l.flags & IFF_UP) != 0);
  o.Set("running", (l.flags & IFF_RUNNING) != 0);
  o.Set("lowerUp", (l.flags & IFF_LOWER_UP) != 0);
  if (l.operstate) o.Set("operstate", operstate_name(*l.operstate));
  if (l.mtu) o.Set("mtu", *l.mtu);
  if (l.min_mtu) o.Set("minMtu", *l.min_mtu);
  if (l.max_mtu) o.Set("maxMtu", *l.max_mtu);
  if (l.address) o.Set("mac", *l.address);
  if (l.broadcast) o.Set("broadcast", *l.broadcast);
  if (l.perm_address) o.Set("permanentMac", *l.perm_address);
  if (l.master) o.Set("master", *l.master);
  if (l.link) o.Set("link", *l.link);
  if (l.link_netnsid) o.Set("linkNetnsId", *l.link_netnsid);
  if (l.txqlen) o.Set("txqlen", *l.txqlen);
  if (l.group) o.Set("group", *l.group);
  if (l.promiscuity) o.Set("promiscuity", *l.promiscuity);
  if (l.num_tx_queues) o.Set("numTxQueues", *l.num_tx_queues);
  if (l.num_rx_queues) o.Set("numRxQueues", *l.num_rx_queues);
  if (l.carrier) o.Set("carrier", *l.carrier != 0);
  if (l.alias) o.Set("alias", *l.alias);
  if (l.qdisc) o.Set("qdisc", *l.qdisc);
  if (l.slave_kind) o.Set("portKind", *l.slave_kind);
  if (!l.unknown.empty()) {
    auto arr = Napi::Array::New(env, l.unknown.size());
    for (size_t i = 0; i < l.unknown.size(); i++) {
      auto pair = Napi::Object::New(env);
      pair.Set("type", l.unknown[i].first);
      pair.Set("data", Napi::Buffer<char>::Copy(env, l.unknown[i].second.data(), l.unknown[i].second.size()));
      arr.Set(i, pair);
    }
    o.Set("unknownAttributes", arr);
  }
  return o;
}

Napi::Array links_to_js(Napi::Env env, const std::vector<rtnl::Link>& links) {
  auto arr = Napi::Array::New(env, links.size());
  for (size_t i = 0; i < links.size(); i++) arr.Set(i, link_to_js(env, links[i]));
  return arr;
}

Napi::Buffer<uint8_t> builder_to_buffer(Napi::Env env, const nl::Builder& b) {
  return Napi::Buffer<uint8_t>::Copy(env, b.data(), b.size());
}

}  // namespace np::js
