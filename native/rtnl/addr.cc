#include "rtnl/addr.h"

#include <array>

#include "netlink/parser.h"

namespace np::rtnl {

namespace {

constexpr auto kAddrPolicy = nl::policy<IFA_MAX>({
    NL_ATTR(IFA_ADDRESS, Binary, 4), NL_ATTR(IFA_LOCAL, Binary, 4), NL_ATTR(IFA_LABEL, String),
    NL_ATTR(IFA_BROADCAST, Binary, 4), NL_ATTR(IFA_CACHEINFO, Binary, sizeof(ifa_cacheinfo)), NL_ATTR(IFA_FLAGS, U32),
    NL_ATTR(IFA_RT_PRIORITY, U32),
});

constexpr uint32_t kForever = 0xffffffffu;

}  // namespace

void encode_addr(nl::Builder& b, uint16_t type, uint16_t nlflags, const AddressSpec& a) {
  b.put_header(type, nlflags | NLM_F_ACK);
  ifaddrmsg ifa{};
  ifa.ifa_family = a.local.family;
  ifa.ifa_prefixlen = a.prefixlen;
  ifa.ifa_flags = static_cast<uint8_t>(a.flags & 0xff);
  ifa.ifa_scope = a.scope;
  ifa.ifa_index = static_cast<uint32_t>(a.index);
  b.put_extra_header(ifa);
  // As iproute2: IFA_LOCAL is the address; IFA_ADDRESS the peer, or the address again.
  b.put(IFA_LOCAL, a.local.bytes, a.local.size());
  const IpAddr& addr = a.peer.set() ? a.peer : a.local;
  b.put(IFA_ADDRESS, addr.bytes, addr.size());
  if (a.broadcast.set()) b.put(IFA_BROADCAST, a.broadcast.bytes, a.broadcast.size());
  if (!a.label.empty()) b.put_strz(IFA_LABEL, a.label);
  if (a.flags > 0xff) b.put_u32(IFA_FLAGS, a.flags);
  if (a.valid_lft || a.preferred_lft) {
    ifa_cacheinfo ci{};
    ci.ifa_valid = a.valid_lft.value_or(kForever);
    ci.ifa_prefered = a.preferred_lft.value_or(ci.ifa_valid);
    b.put(IFA_CACHEINFO, &ci, sizeof ci);
  }
  if (a.metric) b.put_u32(IFA_RT_PRIORITY, *a.metric);
}

void encode_addr_dump(nl::Builder& b, uint8_t family, int32_t index) {
  b.put_header(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = family;
  ifa.ifa_index = static_cast<uint32_t>(index);  // strict check: kernel filters by index
  b.put_extra_header(ifa);
}

Address decode_addr(const nlmsghdr* h) {
  nl::Attrs tb;
  const auto& ifa = nl::parse_message<ifaddrmsg>(h, tb, kAddrPolicy, "RTM_NEWADDR", "IFA");
  Address a{.family = ifa.ifa_family, .prefixlen = ifa.ifa_prefixlen, .scope = ifa.ifa_scope, .flags = ifa.ifa_flags,
            .index = static_cast<int32_t>(ifa.ifa_index)};
  auto ip = [&](uint16_t t) { return format_ip(ip_from_bytes(tb.bytes(t))); };
  std::string local = tb.has(IFA_LOCAL) ? ip(IFA_LOCAL) : "";
  std::string address = tb.has(IFA_ADDRESS) ? ip(IFA_ADDRESS) : "";
  a.address = local.empty() ? address : local;
  if (!local.empty() && !address.empty() && local != address) a.peer = address;
  if (tb.has(IFA_BROADCAST)) a.broadcast = ip(IFA_BROADCAST);
  if (tb.has(IFA_LABEL)) a.label = tb.str(IFA_LABEL);
  if (tb.has(IFA_FLAGS)) a.flags = tb.u32(IFA_FLAGS);
  if (tb.has(IFA_RT_PRIORITY)) a.metric = tb.u32(IFA_RT_PRIORITY);
  if (tb.has(IFA_CACHEINFO)) {
    ifa_cacheinfo ci;
    std::memcpy(&ci, tb.bytes(IFA_CACHEINFO).data(), sizeof ci);
    if (ci.ifa_valid != kForever) a.valid_lft = ci.ifa_valid;
    if (ci.ifa_prefered != kForever) a.preferred_lft = ci.ifa_prefered;
  }
  return a;
}

}  // namespace np::rtnl
