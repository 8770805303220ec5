// Address and route reads: RTM_GETADDR and RTM_GETROUTE dumps, and RTM_GETROUTE for
// one destination (`ip route get`). Writes go through rtnl batches (rtnl_batch.cc).
#include <sys/socket.h>

#include "ops/async.h"
#include "ops/entry.h"
#include "ops/reader.h"
#include "ops/values.h"
#include "rtnl/addr.h"
#include "rtnl/route.h"

namespace np::ops {

namespace {

uint8_t family_of(uint32_t n) { return n == 4 ? AF_INET : n == 6 ? AF_INET6 : AF_UNSPEC; }

// addrList(handle, family (0|4|6), index): Promise<Address[]>
Napi::Value AddrList(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "family", "index"});
  auto h = args.handle(0);
  uint8_t family = family_of(args.num<uint8_t>(1));
  int32_t index = args.num<int32_t>(2);
  return js::on_socket<std::vector<rtnl::Address>>(
      info.Env(), h, NETLINK_ROUTE,
      [family, index](nl::Socket& s) {
        return js::collect<rtnl::Address>(
            s, "RTM_GETADDR", RTM_NEWADDR, [&](nl::Builder& b) { rtnl::encode_addr_dump(b, family, index); },
            [](const nlmsghdr* m) { return rtnl::decode_addr(m); });
      },
      [](Napi::Env env, std::vector<rtnl::Address>& v) -> Napi::Value { return js::array_to_js(env, v, js::address_to_js); });
}

// routeList(handle, { family?, table?, protocol?, type?, oif? }): Promise<Route[]>
Napi::Value RouteList(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "filter"});
  auto h = args.handle(0);
  rtnl::RouteFilter f;
  {
    js::Obj o = args.obj(1);
    f.family = family_of(o.num<uint8_t>("family", 0));
    f.table = o.num("table");
    f.protocol = o.num<uint8_t>("protocol");
    f.type = o.num<uint8_t>("type");
    f.oif = o.num<int32_t>("oif", 0);
    o.done();
  }
  return js::on_socket<std::vector<rtnl::Route>>(
      info.Env(), h, NETLINK_ROUTE,
      [f](nl::Socket& s) {
        return js::collect<rtnl::Route>(
            s, "RTM_GETROUTE", RTM_NEWROUTE, [&](nl::Builder& b) { rtnl::encode_route_dump(b, f); },
            [](const nlmsghdr* m) { return rtnl::decode_route(m); });
      },
      [](Napi::Env env, std::vector<rtnl::Route>& v) -> Napi::Value { return js::array_to_js(env, v, js::route_to_js); });
}

// routeGet(handle, { dst, src?, oif?, iif?, mark? }): Promise<Route>
Napi::Value RouteGet(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "query"});
  auto h = args.handle(0);
  rtnl::RouteQuery q;
  {
    js::Obj o = args.obj(1);
    auto dst = o.ip("dst");
    if (!dst) o.fail("dst", "is required");
    q.dst = *dst;
    q.src = o.ip("src").value_or(rtnl::IpAddr{});
    q.oif = o.num<int32_t>("oif", 0);
    q.iif = o.num<int32_t>("iif", 0);
    q.mark = o.num<uint32_t>("mark", 0);
    o.done();
  }
  return js::on_socket<rtnl::Route>(
      info.Env(), h, NETLINK_ROUTE,
      [q](nl::Socket& s) {
        return js::get_one<rtnl::Route>(
            s, "RTM_GETROUTE", RTM_NEWROUTE, [&](nl::Builder& b) { rtnl::encode_route_get(b, q); },
            [](const nlmsghdr* m) { return rtnl::decode_route(m); });
      },
      [](Napi::Env env, rtnl::Route& r) -> Napi::Value { return js::route_to_js(env, r); });
}

constexpr Entry kEntries[] = {
    {"addrList", AddrList},
    {"routeList", RouteList},
    {"routeGet", RouteGet},
};

}  // namespace

std::span<const Entry> addr_route_entries() { return kEntries; }

}  // namespace np::ops
