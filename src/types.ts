// Public data types: plain objects decoded from netlink messages.

/** Operational state (IFLA_OPERSTATE, RFC 2863). */
export type OperState = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up';

/** A network interface as RTM_NEWLINK describes it. */
export interface Link {
  /** ifindex, unique within its namespace. */
  index: number;
  /** IFLA_IFNAME. */
  name: string;
  /** IFLA_INFO_KIND ('veth', 'bridge', 'vxlan', ...); absent for physical and loopback devices. */
  kind?: string;
  /** ARPHRD_* link type (1 ethernet, 772 loopback). */
  type: number;
  /** IFF_* flags as the kernel reports them. */
  flags: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING. */
  running: boolean;
  /** IFF_LOWER_UP: carrier. */
  lowerUp: boolean;
  /** IFLA_OPERSTATE. */
  operstate?: OperState | string;
  /** IFLA_MTU, IFLA_MIN_MTU, IFLA_MAX_MTU. */
  mtu?: number;
  minMtu?: number;
  maxMtu?: number;
  /** IFLA_ADDRESS as 'aa:bb:cc:dd:ee:ff'. */
  mac?: string;
  /** IFLA_BROADCAST. */
  broadcast?: string;
  /** IFLA_PERM_ADDRESS. */
  permanentMac?: string;
  /** IFLA_MASTER: ifindex of the bridge (or bond) this link is a port of. */
  master?: number;
  /** IFLA_LINK: the parent (macvlan, vxlan) or, for veth, the peer's ifindex. */
  link?: number;
  /** IFLA_LINK_NETNSID: the namespace (as seen from this one) where `link` lives. */
  linkNetnsId?: number;
  /** IFLA_TXQLEN. */
  txqlen?: number;
  /** IFLA_GROUP. */
  group?: number;
  /** IFLA_PROMISCUITY: promiscuity count. */
  promiscuity?: number;
  /** IFLA_NUM_TX_QUEUES / IFLA_NUM_RX_QUEUES. */
  numTxQueues?: number;
  numRxQueues?: number;
  /** IFLA_CARRIER. */
  carrier?: boolean;
  /** IFLA_IFALIAS. */
  alias?: string;
  /** IFLA_QDISC. */
  qdisc?: string;
  /** IFLA_INFO_SLAVE_KIND: the kind of the master this link is a port of ('bridge'). */
  portKind?: string;
  /** Attributes netplumb does not decode, as raw (type, bytes); only from the codec decoder. */
  unknownAttributes?: { type: number; data: Buffer }[];
}

/** Neighbour cache states (NUD_*), as `ip neigh` names them. */
export type NeighbourState =
  | 'permanent' | 'noarp' | 'reachable' | 'stale' | 'delay' | 'probe' | 'failed' | 'incomplete' | 'none';

/** FDB entry states, as `bridge fdb` names them (permanent = local to the bridge). */
export type FdbState = 'permanent' | 'static' | 'dynamic' | 'stale';

/** NTF_* entry flags, as `ip -j neigh` and `bridge -j fdb` name them. */
export type NeighbourFlag = 'use' | 'self' | 'master' | 'proxy' | 'extern_learn' | 'offload' | 'sticky' | 'router';

/** NDA_CACHEINFO: ages of a neighbour entry. */
export interface NeighbourCacheInfo {
  confirmedMs: number;
  usedMs: number;
  updatedMs: number;
  refcnt: number;
}

/** An ARP (IPv4) or NDP (IPv6) entry as RTM_NEWNEIGH describes it. */
export interface Neighbour {
  /** 4 (ARP) or 6 (NDP). */
  family: 4 | 6;
  /** ndm_ifindex: the device the entry belongs to. */
  ifindex: number;
  /** NDA_DST: the neighbour's IP address. */
  address: string;
  /** NDA_LLADDR: its link-layer address; absent while unresolved and for proxy entries. */
  mac?: string;
  /** ndm_state, by name. */
  state: NeighbourState;
  /** NTF_PROXY: a proxy ARP/NDP entry. */
  proxy: boolean;
  /** NTF_ROUTER: an IPv6 router. */
  router: boolean;
  /** Every NTF_* flag set. */
  flags: NeighbourFlag[];
  /** ndm_state as the raw NUD_* bits. */
  ndmState: number;
  /** NDA_PROBES. */
  probes?: number;
  /** NDA_MASTER. */
  master?: number;
  /** NDA_PROTOCOL: who installed the entry. */
  protocol?: number;
  /** NDA_LINK_NETNSID. */
  linkNetnsId?: number;
  /** NDA_CACHEINFO. */
  cacheinfo?: NeighbourCacheInfo;
}

/** A bridge forwarding database entry (RTM_NEWNEIGH, family AF_BRIDGE). */
export interface FdbEntry {
  /** ndm_ifindex: the bridge port, bridge or VXLAN device holding the entry. */
  ifindex: number;
  /** NDA_LLADDR. */
  mac: string;
  /** NDA_DST: remote VTEP (VXLAN). */
  dst?: string;
  /** NDA_VLAN. */
  vlan?: number;
  /** NDA_PORT: remote UDP port (VXLAN). */
  port?: number;
  /** NDA_VNI (VXLAN). */
  vni?: number;
  /** NDA_SRC_VNI (collect-metadata VXLAN). */
  srcVni?: number;
  /** NDA_IFINDEX: the underlay device towards the remote (VXLAN `via`). */
  via?: number;
  /** NDA_NH_ID: nexthop group (VXLAN). */
  nhid?: number;
  /** ndm_state, by name. */
  state: FdbState;
  /** NTF_SELF: the device's own table (VXLAN, bridge itself), not its master's. */
  self: boolean;
  /** Every NTF_* flag set ('master': the entry lives in the master bridge). */
  flags: NeighbourFlag[];
  /** ndm_state as the raw NUD_* bits. */
  ndmState: number;
  /** NDA_MASTER: ifindex of the bridge. */
  master?: number;
  /** NDA_LINK_NETNSID. */
  linkNetnsId?: number;
  /** NDA_PROTOCOL. */
  protocol?: number;
  /** NDA_CACHEINFO. */
  cacheinfo?: NeighbourCacheInfo;
}
