// Public data types: plain objects decoded from netlink messages.
import * as G from './constants';
import type { NetlinkError } from './errors';

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
  /** IFLA_INET6_ADDR_GEN_MODE. */
  addrGenMode?: AddrGenMode | number;
  /** Kind-specific data, decoded with the field names links.add takes. */
  bridge?: BridgeOptions;
  vxlan?: Omit<VxlanOptions, 'device'> & { device?: number };
  macvlan?: MacvlanOptions;
  vlan?: VlanOptions;
  ipvlan?: IpvlanOptions;
  /** Bridge-port state when `portKind` is 'bridge' (`state` as its number, BR_STATE_*). */
  bridgePort?: Omit<BridgePortOptions, 'state' | 'flush'> & { state?: number };
  /** Attributes netplumb does not decode, as raw (type, bytes); only from the codec decoder. */
  unknownAttributes?: { type: number; data: Buffer }[];
}

/** IPv6 address generation mode of a link (IFLA_INET6_ADDR_GEN_MODE). */
export type AddrGenMode = 'eui64' | 'none' | 'stable_privacy' | 'random';


/**
 * The IPv4 per-device settings a link request can carry (IFLA_AF_SPEC / AF_INET /
 * IFLA_INET_CONF), by their /proc/sys/net/ipv4/conf/<if>/ names, with the values each
 * accepts: [min, max]. Ranges are those the kernel's sysctl documentation gives (and a
 * proposed netlink policy enforces); mc_forwarding is absent: it is read-only, the
 * multicast router's. medium_id takes -1.
 */
export const IPV4_CONF = {
  forwarding: [0, 1],
  proxy_arp: [0, 1],
  accept_redirects: [0, 1],
  secure_redirects: [0, 1],
  send_redirects: [0, 1],
  shared_media: [0, 1],
  rp_filter: [0, 2],
  accept_source_route: [0, 1],
  bootp_relay: [0, 1],
  log_martians: [0, 1],
  tag: [0, 0xffffffff],
  arp_filter: [0, 1],
  medium_id: [-1, 0x7fffffff],
  disable_xfrm: [0, 1],
  disable_policy: [0, 1],
  force_igmp_version: [0, 3],
  arp_announce: [0, 2],
  arp_ignore: [0, 8],
  promote_secondaries: [0, 1],
  arp_accept: [0, 2],
  arp_notify: [0, 1],
  accept_local: [0, 1],
  src_valid_mark: [0, 1],
  proxy_arp_pvlan: [0, 1],
  route_localnet: [0, 1],
  igmpv2_unsolicited_report_interval: [0, 0x7fffffff],
  igmpv3_unsolicited_report_interval: [0, 0x7fffffff],
  ignore_routes_with_linkdown: [0, 1],
  drop_unicast_in_l2_multicast: [0, 1],
  drop_gratuitous_arp: [0, 1],
  bc_forwarding: [0, 1],
  arp_evict_nocarrier: [0, 1],
} as const satisfies Record<string, readonly [number, number]>;

/** The name of an IPv4 per-device setting (a file in /proc/sys/net/ipv4/conf/<if>/). */
export type Ipv4ConfName = keyof typeof IPV4_CONF;

/**
 * IPv4 per-device settings to apply in a link request (IFLA_INET_CONF): integers in the
 * setting's range (IPV4_CONF), or booleans for the 0/1 ones. As the kernel applies them
 * from netlink, only the value changes: a /proc write's side effects (a route cache
 * flush for disable_policy and the like, LRO off for forwarding, a netconf
 * notification) do not happen.
 */
export type Ipv4Conf = { [K in Ipv4ConfName]?: number | boolean };

/** STP state of a bridge port (IFLA_BRPORT_STATE, BR_STATE_*): 0..4 in this order. */
export type BridgePortState = 'disabled' | 'listening' | 'learning' | 'forwarding' | 'blocking';


/** Bridge options (IFLA_BR_*); times in seconds. */
export interface BridgeOptions {
  /** IFLA_BR_STP_STATE. */
  stp?: boolean;
  /** IFLA_BR_VLAN_FILTERING. */
  vlanFiltering?: boolean;
  /** IFLA_BR_AGEING_TIME, seconds (FDB entry lifetime). */
  ageingTime?: number;
  /** IFLA_BR_FORWARD_DELAY, seconds. */
  forwardDelay?: number;
  /** IFLA_BR_MCAST_SNOOPING. */
  multicastSnooping?: boolean;
  /** IFLA_BR_PRIORITY (STP bridge priority). */
  priority?: number;
  /** IFLA_BR_VLAN_DEFAULT_PVID. */
  defaultPvid?: number;
}

/** VXLAN options (IFLA_VXLAN_*). `device` is an ifindex when read back. */
export interface VxlanOptions {
  /** IFLA_VXLAN_ID: the VNI, 0..16777215. */
  vni?: number;
  /** IFLA_VXLAN_LOCAL / LOCAL6: source address of encapsulated packets. */
  local?: string;
  /** IFLA_VXLAN_GROUP with a unicast address: the one remote VTEP. */
  remote?: string;
  /** IFLA_VXLAN_GROUP / GROUP6 with a multicast address (needs `device`). */
  group?: string;
  /** IFLA_VXLAN_LINK: underlay device. */
  device?: string | number;
  /** IFLA_VXLAN_PORT: UDP destination port (4789 is IANA's). */
  dstport?: number;
  /** IFLA_VXLAN_PORT_RANGE: UDP source port range [low, high]. */
  srcPortRange?: [number, number];
  /** IFLA_VXLAN_TTL (0 = inherit). */
  ttl?: number;
  /** IFLA_VXLAN_TOS. */
  tos?: number;
  /** IFLA_VXLAN_LEARNING: learn remote MACs from received packets. */
  learning?: boolean;
  /** IFLA_VXLAN_PROXY: ARP proxy from the neighbour table. */
  proxy?: boolean;
  /** IFLA_VXLAN_L2MISS / L3MISS: notify on FDB / neighbour misses. */
  l2miss?: boolean;
  l3miss?: boolean;
  /** IFLA_VXLAN_UDP_CSUM: UDP checksums on IPv4 encapsulation. */
  udpChecksum?: boolean;
  /** IFLA_VXLAN_AGEING: learned FDB entry lifetime, seconds. */
  ageing?: number;
}

/** Macvlan modes (MACVLAN_MODE_*). */
export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru' | 'source';

/** Macvlan options (IFLA_MACVLAN_*). */
export interface MacvlanOptions {
  mode?: MacvlanMode;
  /** IFLA_MACVLAN_FLAGS (MACVLAN_FLAG_NOPROMISC = 1). */
  flags?: number;
}

/** VLAN options (IFLA_VLAN_*). */
export interface VlanOptions {
  /** IFLA_VLAN_ID, 0..4094. */
  id?: number;
  /** IFLA_VLAN_PROTOCOL. */
  protocol?: '802.1Q' | '802.1ad';
}

/** Ipvlan modes (IPVLAN_MODE_*). */
export type IpvlanMode = 'l2' | 'l3' | 'l3s';

/** Ipvlan options (IFLA_IPVLAN_*). */
export interface IpvlanOptions {
  mode?: IpvlanMode;
  /** IFLA_IPVLAN_FLAGS (IPVLAN_F_PRIVATE = 1, IPVLAN_F_VEPA = 2). */
  flags?: number;
}

/** Options of a link as a bridge port (IFLA_BRPORT_*, sent as IFLA_INFO_SLAVE_DATA). */
export interface BridgePortOptions {
  /** IFLA_BRPORT_MODE: hairpin (reflect frames back out of the port they came in on). */
  hairpin?: boolean;
  /** IFLA_BRPORT_LEARNING. */
  learning?: boolean;
  /** IFLA_BRPORT_UNICAST_FLOOD. */
  flood?: boolean;
  /** IFLA_BRPORT_ISOLATED: isolated ports talk only to non-isolated ones. */
  isolated?: boolean;
  /**
   * IFLA_BRPORT_PROXYARP: the bridge answers ARP requests arriving on this port from the
   * bridge device's neighbour table (when the target's MAC is in the FDB), and floods
   * nothing to this port: no broadcast, multicast or unknown unicast reaches it.
   */
  proxyArp?: boolean;
  /**
   * IFLA_BRPORT_PROXYARP_WIFI: the bridge answers ARP requests, arriving on any port, for
   * addresses whose MAC the FDB places on this port (from the bridge device's neighbour
   * table), and a request so answered is not flooded to this port. Other floods still are.
   */
  proxyArpWifi?: boolean;
  /**
   * IFLA_BRPORT_NEIGH_SUPPRESS: as proxyArpWifi, for ARP and IPv6 neighbour solicitations,
   * and bridge-wide once any port has it (answered or known requests, gratuitous ARP,
   * ARP probes, DAD and unsolicited advertisements are no longer flooded to suppressing
   * or proxyArpWifi ports); requests arriving on this port are never answered by the bridge.
   */
  neighSuppress?: boolean;
  /**
   * IFLA_BRPORT_STATE, by name or number (BR_STATE_*: 0 disabled ... 3 forwarding,
   * 4 blocking); read back as the number. The port must be up (ENETDOWN), and with
   * kernel STP on the kernel owns the states (EBUSY). With STP off, 'blocking' becomes
   * forwarding at once (br_port_state_selection); 'listening' and 'learning' stay;
   * 'disabled' stays too (it is sent as an AF_BRIDGE RTM_SETLINK, by index: in an
   * RTM_NEWLINK the kernel would re-enable the port before answering). A port leaves
   * any of them when its carrier goes down and up.
   */
  state?: BridgePortState | number;
  /** IFLA_BRPORT_FLUSH: forget the FDB entries learned on this port (a change only). */
  flush?: boolean;
  /** IFLA_BRPORT_PRIORITY. */
  priority?: number;
  /** IFLA_BRPORT_COST. */
  cost?: number;
}

/** An IP address of a link (RTM_NEWADDR). */
export interface Address {
  /** 4 or 6. */
  family: 4 | 6;
  /** ifindex of the link. */
  index: number;
  /** The address itself (IFA_LOCAL, or IFA_ADDRESS when there is no IFA_LOCAL). */
  address: string;
  prefixlen: number;
  /** 'address/prefixlen'. */
  cidr: string;
  /** Point-to-point peer (IFA_ADDRESS differing from IFA_LOCAL). */
  peer?: string;
  broadcast?: string;
  label?: string;
  scope: Scope | number;
  /** IFA_F_* flags (IFA_FLAGS). */
  flags: number;
  /** Remaining lifetimes in seconds; absent means forever. */
  validLifetime?: number;
  preferredLifetime?: number;
  /** IFA_RT_PRIORITY: metric of the prefix route. */
  metric?: number;
}

/** Address and route scopes (RT_SCOPE_*). */
export type Scope = 'universe' | 'site' | 'link' | 'host' | 'nowhere';

/** Route types (RTN_*). */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'nat';

/** A route (RTM_NEWROUTE). */
export interface Route {
  family: 4 | 6;
  /** 'default' or 'prefix/len'. */
  dst: string;
  /** Source prefix (RTA_SRC), rarely used. */
  src?: string;
  /** RTA_GATEWAY. */
  gateway?: string;
  /** RTA_OIF: output ifindex. */
  oif?: number;
  /** RTA_IIF (route get with an input interface). */
  iif?: number;
  /** RTA_PREFSRC: preferred source address. */
  prefsrc?: string;
  /** RTA_PRIORITY. */
  metric?: number;
  /** Routing table id (RTA_TABLE; 254 is main, 255 local). */
  table: number;
  /** RTPROT_* name, or number. */
  protocol: string | number;
  scope: Scope | number;
  type: RouteType | number;
  /** rtm_flags (RTNH_F_*). */
  flags: number;
  /** RTNH_F_ONLINK: gateway assumed on link. */
  onlink: boolean;
  tos?: number;
  /** RTAX_MTU from RTA_METRICS. */
  mtu?: number;
}

/** One message's outcome in Netns#rawRequest: its reply messages (header included) and the kernel's error, if any. */
export interface RawStep {
  /** The kernel's NLMSG_ERROR for this message, with `step` set to its index. */
  error?: NetlinkError;
  /** Every reply message (RTM_NEW*) for this step, as whole netlink messages. */
  replies: Buffer[];
  /** Set when the kernel flagged the dump inconsistent (NLM_F_DUMP_INTR); not retried. */
  dumpInterrupted?: true;
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

/** Transport protocols whose conntrack entries can be deleted by tuple. */
export type ConntrackProtocol = 'tcp' | 'udp' | 'sctp';

/** One direction of a flow. */
export interface ConntrackTuple {
  src: string;
  dst: string;
  /** Ports, for protocols that have them (tcp, udp, sctp, dccp, udplite). */
  srcPort?: number;
  dstPort?: number;
  /** CTA_TUPLE_ZONE: a conntrack zone of this direction only. */
  zone?: number;
}

/** A conntrack entry as IPCTNL_MSG_CT_GET dumps it. */
export interface ConntrackEntry {
  /** 4 or 6: the family of its tuples' addresses. */
  family: 4 | 6;
  /** 'tcp', 'udp', 'sctp', or the IP protocol number of any other. */
  protocol: ConntrackProtocol | number;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** CTA_ID: the entry's identity (a new entry with the same tuple has another). */
  id?: number;
  /** IPS_* status bits (CTA_STATUS). */
  status?: number;
  /** Seconds left (CTA_TIMEOUT). */
  timeout?: number;
  mark?: number;
  /** CTA_ZONE: the entry's conntrack zone, when not the default. */
  zone?: number;
}

// Each union above names exactly the entries of its table in src/constants.ts (the one
// table, shared with native code): a compile error otherwise.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameNames: [
  Same<OperState, keyof typeof G.OPERSTATES>, Same<AddrGenMode, keyof typeof G.ADDR_GEN_MODES>,
  Same<BridgePortState, keyof typeof G.BRIDGE_PORT_STATES>, Same<MacvlanMode, keyof typeof G.MACVLAN_MODES>,
  Same<IpvlanMode, keyof typeof G.IPVLAN_MODES>, Same<Scope, keyof typeof G.SCOPES>, Same<RouteType, keyof typeof G.ROUTE_TYPES>,
  Same<NeighbourState, keyof typeof G.NEIGHBOUR_STATES>, Same<NeighbourFlag, keyof typeof G.NEIGHBOUR_FLAGS>,
  Same<Ipv4ConfName | 'mc_forwarding', keyof typeof G.IPV4_DEVCONF>, Same<ConntrackProtocol, keyof typeof G.IP_PROTOCOLS>,
] = [true, true, true, true, true, true, true, true, true, true, true];
void sameNames;
