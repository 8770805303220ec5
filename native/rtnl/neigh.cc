#include "rtnl/neigh.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "rtnl/link.h"

namespace np::rtnl {

namespace {

constexpr auto kNeighPolicy = nl::policy<NDA_MAX>({
    NL_ATTR(NDA_DST, Binary, 4), NL_ATTR(NDA_LLADDR, Binary), NL_ATTR(NDA_CACHEINFO, Binary, sizeof(nda_cacheinfo)),
    NL_ATTR(NDA_PROBES, U32), NL_ATTR(NDA_VLAN, U16), NL_ATTR(NDA_PORT, U16), NL_ATTR(NDA_VNI, U32),
    NL_ATTR(NDA_IFINDEX, U32), NL_ATTR(NDA_MASTER, U32), NL_ATTR(NDA_LINK_NETNSID, U32), NL_ATTR(NDA_SRC_VNI, U32),
    NL_ATTR(NDA_PROTOCOL, U8), NL_ATTR(NDA_NH_ID, U32), NL_ATTR(NDA_FDB_EXT_ATTRS, Nested),
    NL_ATTR(NDA_FLAGS_EXT, U32),
});

}  // namespace

void encode_neigh(nl::Builder& b, const NeighRequest& r) {
  uint16_t flags = r.flags;
  if (r.type != RTM_GETNEIGH) flags |= NLM_F_ACK;
  b.put_header(r.type, flags);
  ndmsg ndm{};
  ndm.ndm_family = r.family;
  ndm.ndm_ifindex = r.ifindex;
  ndm.ndm_state = r.state;
  ndm.ndm_flags = r.ntf;
  b.put_extra_header(ndm);
  // Attribute order as iproute2 sends it (ip neigh: dst first; bridge fdb: lladdr
  // first), so captures of both compare byte for byte.
  auto put_dst = [&] {
    if (r.dst.set()) b.put(NDA_DST, r.dst.bytes, r.dst.size());
  };
  auto put_lladdr = [&] {
    if (!r.lladdr.empty()) b.put(NDA_LLADDR, r.lladdr.data(), r.lladdr.size());
  };
  if (r.family == AF_BRIDGE) {
    put_lladdr();
    put_dst();
  } else {
    put_dst();
    put_lladdr();
  }
  if (r.vlan) b.put_u16(NDA_VLAN, *r.vlan);
  if (r.port) b.put_be16(NDA_PORT, *r.port);
  if (r.vni) b.put_u32(NDA_VNI, *r.vni);
  if (r.src_vni) b.put_u32(NDA_SRC_VNI, *r.src_vni);
  if (r.via) b.put_u32(NDA_IFINDEX, *r.via);
  if (r.protocol) b.put_u8(NDA_PROTOCOL, *r.protocol);
}

void encode_neigh_dump(nl::Builder& b, const NeighDumpFilter& f) {
  b.put_header(RTM_GETNEIGH, NLM_F_DUMP);
  ndmsg ndm{};
  ndm.ndm_family = f.family;
  if (f.family == AF_BRIDGE) {
    // rtnl_fdb_dump: the header's ifindex selects a bridge port; no NDA_IFINDEX needed.
    ndm.ndm_ifindex = f.ifindex;
    b.put_extra_header(ndm);
  } else {
    // neigh_valid_dump_req (strict): header all zero but NTF_PROXY; filters as attributes.
    if (f.proxy) ndm.ndm_flags = NTF_PROXY;
    b.put_extra_header(ndm);
    if (f.ifindex) b.put_u32(NDA_IFINDEX, static_cast<uint32_t>(f.ifindex));
  }
  if (f.master) b.put_u32(NDA_MASTER, static_cast<uint32_t>(f.master));
}

Neigh decode_neigh(const nlmsghdr* h, nl::Attrs& tb) {
  const auto& ndm = nl::parse_message<ndmsg>(h, tb, kNeighPolicy, "RTM_NEWNEIGH", "NDA");
  Neigh n{.family = ndm.ndm_family, .flags = ndm.ndm_flags, .type = ndm.ndm_type, .ifindex = ndm.ndm_ifindex,
          .state = ndm.ndm_state};
  if (tb.has(NDA_DST)) {
    n.dst = ip_from_bytes(tb.bytes(NDA_DST));
    if (!n.dst.set()) throw nl::ParseError("NDA: attribute NDA_DST is neither 4 nor 16 bytes");
  }
  if (tb.has(NDA_LLADDR)) n.lladdr = std::string(tb.bytes(NDA_LLADDR));
  if (tb.has(NDA_VLAN)) n.vlan = tb.u16(NDA_VLAN);
  if (tb.has(NDA_PORT)) n.port = tb.be16(NDA_PORT);
  if (tb.has(NDA_VNI)) n.vni = tb.u32(NDA_VNI);
  if (tb.has(NDA_SRC_VNI)) n.src_vni = tb.u32(NDA_SRC_VNI);
  if (tb.has(NDA_IFINDEX)) n.via = tb.u32(NDA_IFINDEX);
  if (tb.has(NDA_MASTER)) n.master = tb.u32(NDA_MASTER);
  if (tb.has(NDA_PROBES)) n.probes = tb.u32(NDA_PROBES);
  if (tb.has(NDA_NH_ID)) n.nh_id = tb.u32(NDA_NH_ID);
  if (tb.has(NDA_FLAGS_EXT)) n.flags_ext = tb.u32(NDA_FLAGS_EXT);
  if (tb.has(NDA_LINK_NETNSID)) n.link_netnsid = static_cast<int32_t>(tb.u32(NDA_LINK_NETNSID));
  if (tb.has(NDA_PROTOCOL)) n.protocol = tb.u8(NDA_PROTOCOL);
  if (tb.has(NDA_CACHEINFO)) {
    nda_cacheinfo ci;
    std::memcpy(&ci, tb.bytes(NDA_CACHEINFO).data(), sizeof ci);
    n.cacheinfo = NeighCacheInfo{ci.ndm_confirmed, ci.ndm_used, ci.ndm_updated, ci.ndm_refcnt};
  }
  return n;
}

Neigh decode_neigh(const nlmsghdr* h) {
  nl::Attrs tb;
  return decode_neigh(h, tb);
}


void NeighTable::add(const Neigh& n) {
  size_t at = cols.size();
  cols.resize(at + kCols, 0);
  uint32_t* row = cols.data() + at;
  row[kHead] = n.family | static_cast<uint32_t>(n.flags) << 8 | static_cast<uint32_t>(n.state) << 16;
  row[kIfindex] = static_cast<uint32_t>(n.ifindex);
  uint32_t has = 0;
  if (n.dst.set()) {
    has |= kHasDst;
    row[kDstLen] = static_cast<uint32_t>(append_ip(text, n.dst));
  }
  if (n.lladdr) {
    has |= kHasLladdr;
    row[kLladdrLen] = static_cast<uint32_t>(append_hwaddr(text, n.lladdr->data(), n.lladdr->size()));
  }
  auto put = [&](const auto& v, uint32_t c, uint32_t bit) {
    if (v) {
      has |= bit;
      row[c] = static_cast<uint32_t>(*v);
    }
  };
  put(n.probes, kProbes, kHasProbes);
  put(n.master, kMaster, kHasMaster);
  put(n.link_netnsid, kLinkNetnsid, kHasLinkNetnsid);  // signed: JS reads it back with | 0
  put(n.protocol, kProtocol, kHasProtocol);
  put(n.vlan, kVlan, kHasVlan);
  put(n.port, kPort, kHasPort);
  put(n.vni, kVni, kHasVni);
  put(n.src_vni, kSrcVni, kHasSrcVni);
  put(n.via, kVia, kHasVia);
  put(n.nh_id, kNhId, kHasNhId);
  if (n.cacheinfo) {
    has |= kHasCacheinfo;
    row[kConfirmed] = n.cacheinfo->confirmed;
    row[kUsed] = n.cacheinfo->used;
    row[kUpdated] = n.cacheinfo->updated;
    row[kRefcnt] = n.cacheinfo->refcnt;
  }
  row[kPresent] = has;
}

}  // namespace np::rtnl
