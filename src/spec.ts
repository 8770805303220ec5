// Validation and normalisation of link, address and route requests into the plain
// step objects the native batch encoder takes. Everything here runs before anything
// reaches the kernel; bad input throws TypeError or RangeError.
import type {
  NativeAddressStep, NativeBridgeOptions, NativeBridgePortOptions, NativeHandle, NativeLinkCommon, NativeLinkDeleteStep,
  NativeLinkStep, NativeRouteStep, NativeStep, NativeVxlanOptions,
} from './binding';
import * as G from './constants';
import { handleOf } from './handle';
import { ipFamily, parsePrefix } from './ip';
import type { Netns } from './netns';
import {
  IPV4_CONF,
  type AddrGenMode, type BridgeOptions, type BridgePortOptions, type BridgePortState, type Ipv4Conf, type IpvlanMode,
  type IpvlanOptions, type MacvlanMode, type MacvlanOptions,
  type RouteType, type Scope, type VlanOptions, type VxlanOptions,
} from './types';
import {
  checkIfname, checkInt as int, checkIp, checkLinkRef, checkMac, checkOneOf as oneOf, checkOptBool as optBool, own,
} from './validate';

/** A link given by name or ifindex. */
export type LinkRef = string | number;

/** Attributes every link kind takes. */
export interface LinkBaseSpec {
  /** IFLA_IFNAME, 1-15 bytes. */
  name: string;
  /** Request this ifindex (ifi_index at creation); EBUSY if taken. */
  index?: number;
  /** IFLA_MTU. */
  mtu?: number;
  /** IFLA_ADDRESS, 'aa:bb:cc:dd:ee:ff'. */
  mac?: string;
  /** IFF_UP in the same RTM_NEWLINK. */
  up?: boolean;
  /** IFLA_MASTER: enslave to this bridge at creation. */
  master?: LinkRef;
  /** IFLA_NET_NS_FD: create the link directly inside this namespace. */
  netns?: Netns;
  /** IFLA_TXQLEN. */
  txqlen?: number;
  /** IFLA_GROUP (links of a group can be deleted together). */
  group?: number;
  /** IFLA_IFALIAS. */
  alias?: string;
  /** IFLA_NUM_TX_QUEUES / IFLA_NUM_RX_QUEUES; 1 avoids one queue per possible CPU. */
  numTxQueues?: number;
  numRxQueues?: number;
  /** IPv6 address generation mode, applied before the link comes up. */
  addrGenMode?: AddrGenMode;
  /**
   * IPv4 per-device settings (IFLA_INET_CONF), applied before the link comes up. The
   * kernel refuses IFLA_AF_SPEC in the creating message (EAFNOSUPPORT), so they go in a
   * follow-up change in the same sendmsg.
   */
  ipv4Conf?: Ipv4Conf;
  /** Bridge-port options once enslaved (needs `master`). */
  bridgePort?: BridgePortOptions;
}

/** The far end of a veth pair (VETH_INFO_PEER). */
export interface VethPeerSpec {
  name: string;
  /** Create the peer directly in this namespace. */
  netns?: Netns;
  index?: number;
  mac?: string;
  mtu?: number;
  up?: boolean;
  txqlen?: number;
  group?: number;
  alias?: string;
  numTxQueues?: number;
  numRxQueues?: number;
}

/** What links.add creates: one of the modelled kinds, or any other kind by name with raw data. */
export type LinkSpec =
  | (LinkBaseSpec & { kind: 'veth'; peer: VethPeerSpec })
  | (LinkBaseSpec & { kind: 'bridge'; bridge?: BridgeOptions })
  | (LinkBaseSpec & { kind: 'vxlan'; vxlan: VxlanOptions })
  | (LinkBaseSpec & { kind: 'macvlan' | 'macvtap'; parent: LinkRef; macvlan?: MacvlanOptions })
  | (LinkBaseSpec & { kind: 'vlan'; parent: LinkRef; vlan: VlanOptions })
  | (LinkBaseSpec & { kind: 'ipvlan' | 'ipvtap'; parent: LinkRef; ipvlan?: IpvlanOptions })
  | (LinkBaseSpec & { kind: 'dummy' | 'ifb' | 'nlmon' })
  | GenericLinkSpec;

/** Any other kind (IFLA_INFO_KIND) with optional pre-encoded IFLA_INFO_DATA attributes. */
export interface GenericLinkSpec extends LinkBaseSpec {
  kind: 'other';
  /** The kernel's kind name: 'wireguard', 'geneve', ... */
  type: string;
  /** IFLA_INFO_DATA payload: netlink attributes, encoded by the caller. */
  infoData?: Buffer;
  /** IFLA_LINK. */
  parent?: LinkRef;
}

/** Changes links.set applies to an existing link (RTM_NEWLINK without NLM_F_CREATE). */
export interface LinkChanges {
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** New IFLA_IFNAME. */
  name?: string;
  /** Enslave to this master; null releases (nomaster). */
  master?: LinkRef | null;
  /** Move into this namespace. */
  netns?: Netns;
  alias?: string;
  txqlen?: number;
  /** IFLA_GROUP: a link moved into a group can be deleted with the group (links.delete({ group })). */
  group?: number;
  addrGenMode?: AddrGenMode;
  /**
   * IPv4 per-device settings (IFLA_INET_CONF), as /proc/sys/net/ipv4/conf/<if>/ names
   * them. In the same message as the rest, or, when the change also sets `up`, in a
   * message just before it, so that they are in force when the link comes up.
   */
  ipv4Conf?: Ipv4Conf;
  bridgePort?: BridgePortOptions;
  /** Change bridge options (the link must be a bridge). */
  bridge?: BridgeOptions;
}

/** An address of a link, for addresses.delete (RTM_DELADDR). */
export interface AddressKey {
  /** The link, by name or ifindex. */
  dev: LinkRef;
  /** 'address/prefixlen' ('10.0.0.2/24', 'fd00::2/64'); a bare address is a host prefix. */
  address: string;
}

/** An address to add or replace (RTM_NEWADDR): the link, the address and its options. */
export interface AddressSpec extends AddressKey, AddressOptions {}

/** Options of addresses.add / replace (RTM_NEWADDR). */
export interface AddressOptions {
  /** Point-to-point peer address. */
  peer?: string;
  /** IPv4 broadcast; true computes it from the prefix (`brd +`). */
  broadcast?: string | true;
  /** IFA_LABEL (IPv4), must start with the link's name. */
  label?: string;
  scope?: Scope | number;
  /** IFA_F_NODAD: skip duplicate address detection (IPv6). */
  nodad?: boolean;
  /** IFA_F_NOPREFIXROUTE: do not add the prefix route. */
  noprefixroute?: boolean;
  /** IFA_F_HOMEADDRESS, IFA_F_MANAGETEMPADDR, IFA_F_MCAUTOJOIN. */
  homeaddress?: boolean;
  managetempaddr?: boolean;
  mcautojoin?: boolean;
  /** IFA_CACHEINFO lifetimes in seconds; absent = forever. */
  validLifetime?: number;
  preferredLifetime?: number;
  /** IFA_RT_PRIORITY: metric of the prefix route. */
  metric?: number;
}

/** A route for routes.add / replace / append / delete (RTM_NEWROUTE, RTM_DELROUTE). */
export interface RouteSpec {
  /** 'default', 'default6' or a prefix 'a.b.c.d/len' (a bare address means /32 or /128). */
  dst: string;
  gateway?: string;
  dev?: LinkRef;
  /** RTA_PREFSRC. */
  prefsrc?: string;
  metric?: number;
  /** Table id or 'main' (254, default) / 'local' (255) / 'default' (253). */
  table?: number | 'main' | 'local' | 'default';
  /** Default 'boot', as `ip route add`. */
  protocol?: 'boot' | 'static' | 'kernel' | 'redirect' | 'ra' | 'dhcp' | number;
  /** Default: 'host' for local routes, 'link' for direct routes without gateway, else 'universe'. */
  scope?: Scope | number;
  type?: RouteType;
  /** RTNH_F_ONLINK: the gateway is on the link even if no prefix covers it. */
  onlink?: boolean;
  /** RTAX_MTU. */
  mtu?: number;
  tos?: number;
  /** 4 or 6; inferred from dst/gateway when absent. */
  family?: 4 | 6;
}

/** A reference to a link that may need resolving to an ifindex before sending. */
export class Ref {
  constructor(readonly name: string) {}
}

/** A link reference in a step: an ifindex, or a name Batch resolves before sending. */
export type StepRef = number | Ref;
/** A step as the native encoder takes it (NativeStep), its link references possibly still names. */
export type Step = NativeStep<StepRef>;

// The kernel's numbers for these names: the one table, src/constants.ts.
const SCOPES: Readonly<Record<Scope, number>> = G.SCOPES;
const ROUTE_TYPES: Readonly<Record<RouteType, number>> = G.ROUTE_TYPES;
const PROTOCOLS: Readonly<Record<string, number>> = G.ROUTE_PROTOCOLS;
const TABLES: Readonly<Record<'default' | 'main' | 'local', number>> = G.ROUTE_TABLES;
const IFA_F = G.ADDRESS_FLAGS;
const ADDR_GEN_MODES = Object.keys(G.ADDR_GEN_MODES) as AddrGenMode[];
const MACVLAN_MODES = Object.keys(G.MACVLAN_MODES) as MacvlanMode[];
const IPVLAN_MODES = Object.keys(G.IPVLAN_MODES) as IpvlanMode[];
const BRIDGE_PORT_STATES: Readonly<Record<BridgePortState, number>> = G.BRIDGE_PORT_STATES;
const KIND_RE = /^[a-z0-9_.-]{1,31}$/;

function optInt(v: unknown, what: string, min: number, max: number): number | undefined {
  return v === undefined ? undefined : int(v, what, min, max);
}

/** A macvlan's or ipvlan's options: a mode by name and 16 bits of flags. */
function modeAndFlags<M extends string>(
  v: { mode?: M; flags?: number } | undefined,
  what: string,
  modes: readonly M[],
): { mode: M | undefined; flags: number | undefined } | undefined {
  if (v === undefined) return undefined;
  const o = own(v, what);
  return { mode: oneOf(o.mode, `${what}.mode`, modes), flags: optInt(o.flags, `${what}.flags`, 0, 0xffff) };
}

function optString(v: unknown, what: string, maxBytes = 255): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string`);
  if (Buffer.byteLength(v) > maxBytes) throw new RangeError(`${what} longer than ${maxBytes} bytes`);
  return v;
}

function refOrIndex(v: LinkRef, what: string): Ref | number {
  const r = checkLinkRef(v, what);
  return typeof r === 'number' ? r : new Ref(r);
}

function nsHandle(ns: unknown, what: string): NativeHandle {
  if (typeof ns === 'object' && ns !== null && (ns as Netns).closed === true) throw new TypeError(`${what} is a closed Netns handle`);
  return handleOf(ns, what);
}

function common(s: Partial<LinkBaseSpec & VethPeerSpec>, what: string, out: Omit<NativeLinkCommon, 'index'> & { index?: StepRef }): void {
  if (s.index !== undefined) out.index = int(s.index, `${what}.index`, 1, 0x7fffffff);
  if (s.mtu !== undefined) out.mtu = int(s.mtu, `${what}.mtu`, 1, 0x7fffffff);
  if (s.mac !== undefined) out.mac = checkMac(s.mac, `${what}.mac`);
  if (s.up !== undefined) out.up = optBool(s.up, `${what}.up`);
  if (s.txqlen !== undefined) out.txqlen = int(s.txqlen, `${what}.txqlen`, 0, 0xffffffff);
  if (s.group !== undefined) out.group = int(s.group, `${what}.group`, 0, 0xffffffff);
  if (s.alias !== undefined) out.alias = optString(s.alias, `${what}.alias`, 255);
  if (s.numTxQueues !== undefined) out.numTxQueues = int(s.numTxQueues, `${what}.numTxQueues`, 1, 4096);
  if (s.numRxQueues !== undefined) out.numRxQueues = int(s.numRxQueues, `${what}.numRxQueues`, 1, 4096);
  if (s.netns !== undefined) out.netns = nsHandle(s.netns, `${what}.netns`);
}

/** Checks one value of an options object; `what` is its path ('bridge.stp'). */
type Check<T> = (v: unknown, what: string) => T;

const intIn = (min: number, max: number): Check<number | undefined> => (v, what) => optInt(v, what, min, max);

/** Bridge timers: seconds, sent in clock_t (1/100 s) as a u32. */
const seconds: Check<number | undefined> = (v, what) => {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v >= 0) || v > 42949672) throw new RangeError(`${what} must be seconds in 0..42949672`);
  return v;
};

/** An options object checked key by key, in the order of `checks` (the keys it takes). */
function checked<T extends object>(opts: object, what: string, checks: { [K in keyof T]-?: Check<T[K]> }): T {
  const o = own(opts, what) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, check] of Object.entries<Check<unknown>>(checks)) out[key] = check(o[key], `${what}.${key}`);
  return out as T;
}

function bridgeOptions(opts: BridgeOptions | undefined, what: string): NativeBridgeOptions | undefined {
  if (opts === undefined) return undefined;
  return checked<NativeBridgeOptions>(opts, what, {
    stp: optBool, vlanFiltering: optBool, ageingTime: seconds, forwardDelay: seconds, multicastSnooping: optBool,
    priority: intIn(0, 65535), defaultPvid: intIn(0, 4094),
  });
}

/**
 * IPv4 per-device settings as { name: u32 }: every name known (IPV4_CONF), every value
 * an integer in its range or, for 0/1 settings, a boolean. medium_id's -1 goes as its
 * u32 form. Undefined when there is nothing to set.
 */
export function ipv4ConfOf(opts: Ipv4Conf | undefined, what: string): Record<string, number> | undefined {
  if (opts === undefined) return undefined;
  const c = own(opts, what) as Record<string, unknown>;
  const out: Record<string, number> = {};
  let n = 0;
  for (const key of Object.keys(c)) {
    const v = c[key];
    if (v === undefined) continue;
    if (!Object.hasOwn(IPV4_CONF, key)) {
      const hint = key === 'mc_forwarding' ? ' (read-only: the multicast router sets it)' : ` (one of ${Object.keys(IPV4_CONF).join(', ')})`;
      throw new TypeError(`${what}.${key} is not a settable IPv4 device setting${hint}`);
    }
    const [min, max] = IPV4_CONF[key as keyof typeof IPV4_CONF];
    let value: number;
    if (typeof v === 'boolean') {
      if (min !== 0 || max !== 1) throw new TypeError(`${what}.${key} must be an integer in ${min}..${max}, got ${v}`);
      value = v ? 1 : 0;
    } else {
      value = int(v, `${what}.${key}`, min, max);
    }
    out[key] = value >>> 0;
    n += 1;
  }
  return n === 0 ? undefined : out;
}

function portState(v: unknown, what: string): number | undefined {
  if (v === undefined || typeof v === 'number') return optInt(v, what, 0, 4);
  if (typeof v === 'string' && Object.hasOwn(BRIDGE_PORT_STATES, v)) return BRIDGE_PORT_STATES[v as BridgePortState];
  throw new TypeError(`${what} must be one of ${Object.keys(BRIDGE_PORT_STATES).join(', ')} or 0..4, got ${String(v)}`);
}

/**
 * Whether a step's bridge-port options include state 'disabled': the native encoder
 * sends that in an AF_BRIDGE RTM_SETLINK, which names the link by index only.
 */
export function portDisabled(step: Step): boolean {
  return step.op === 'linkAdd' || step.op === 'linkSet' ? step.bridgePort?.state === 0 : false;
}

function portOptions(opts: BridgePortOptions | undefined, what: string): NativeBridgePortOptions | undefined {
  if (opts === undefined) return undefined;
  return checked<NativeBridgePortOptions>(opts, what, {
    hairpin: optBool, learning: optBool, flood: optBool, isolated: optBool, proxyArp: optBool, proxyArpWifi: optBool, neighSuppress: optBool, state: portState, flush: optBool,
    priority: intIn(0, 63), cost: intIn(1, 0xffffffff),
  });
}

function isMulticast(ip: string): boolean {
  return ipFamily(ip) === 4 ? Number(ip.split('.')[0]) >= 224 && Number(ip.split('.')[0]) <= 239 : ip.toLowerCase().startsWith('ff');
}

function vxlanOptions(opts: VxlanOptions | undefined, what: string, creating: boolean): NativeVxlanOptions<StepRef> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${what} must be an object with at least a vni`);
  const v = own(opts, what);
  const out: NativeVxlanOptions<StepRef> = {};
  if (creating || v.vni !== undefined) out.vni = int(v.vni, `${what}.vni`, 0, 0xffffff);
  if (v.local !== undefined) out.local = checkIp(v.local, `${what}.local`);
  if (v.remote !== undefined && v.group !== undefined) throw new TypeError(`${what}: give remote or group, not both`);
  if (v.remote !== undefined) {
    out.remote = checkIp(v.remote, `${what}.remote`);
    if (isMulticast(out.remote)) throw new TypeError(`${what}.remote must be unicast; use group for multicast`);
  }
  if (v.group !== undefined) {
    out.group = checkIp(v.group, `${what}.group`);
    if (!isMulticast(out.group)) throw new TypeError(`${what}.group must be a multicast address; use remote for unicast`);
    if (v.device === undefined) throw new TypeError(`${what}.group needs ${what}.device`);
  }
  if (v.device !== undefined) out.device = refOrIndex(v.device, `${what}.device`);
  if (v.dstport !== undefined) out.dstport = int(v.dstport, `${what}.dstport`, 1, 65535);
  if (v.srcPortRange !== undefined) {
    const r = v.srcPortRange;
    if (!Array.isArray(r) || r.length !== 2) throw new TypeError(`${what}.srcPortRange must be [low, high]`);
    const lo = int(r[0], `${what}.srcPortRange[0]`, 1, 65535);
    const hi = int(r[1], `${what}.srcPortRange[1]`, 1, 65535);
    if (lo > hi) throw new RangeError(`${what}.srcPortRange: low ${lo} above high ${hi}`);
    out.srcPortRange = [lo, hi];
  }
  out.ttl = optInt(v.ttl, `${what}.ttl`, 0, 255);
  out.tos = optInt(v.tos, `${what}.tos`, 0, 255);
  out.learning = optBool(v.learning, `${what}.learning`);
  out.proxy = optBool(v.proxy, `${what}.proxy`);
  out.l2miss = optBool(v.l2miss, `${what}.l2miss`);
  out.l3miss = optBool(v.l3miss, `${what}.l3miss`);
  out.udpChecksum = optBool(v.udpChecksum, `${what}.udpChecksum`);
  out.ageing = optInt(v.ageing, `${what}.ageing`, 0, 0xffffffff);
  return out;
}

/** Normalises a links.add spec into a 'linkAdd' step. */
export function linkAddStep(input: LinkSpec): NativeLinkStep<StepRef> {
  if (typeof input !== 'object' || input === null) throw new TypeError('link spec must be an object');
  const spec = own(input, 'link spec');
  const s: LinkBaseSpec = spec;
  const out: NativeLinkStep<StepRef> = { op: 'linkAdd', name: checkIfname(s.name, 'link name') };
  if (typeof spec.kind !== 'string') throw new TypeError('link spec needs a kind');
  common(s, 'link', out);
  if (s.master !== undefined) out.master = refOrIndex(s.master, 'master');
  out.addrGenMode = oneOf(s.addrGenMode, 'addrGenMode', ADDR_GEN_MODES);
  out.ipv4Conf = ipv4ConfOf(s.ipv4Conf, 'ipv4Conf');
  out.bridgePort = portOptions(s.bridgePort, 'bridgePort');
  if (out.bridgePort && s.master === undefined) throw new TypeError('bridgePort options need a master');
  switch (spec.kind) {
    case 'veth': {
      if (typeof spec.peer !== 'object' || spec.peer === null) throw new TypeError('a veth needs a peer: { name, netns? }');
      const p = own(spec.peer, 'peer');
      const peer: NativeLinkCommon = { name: checkIfname(p.name, 'peer name') };
      common(p, 'peer', peer);
      out.kind = 'veth';
      out.peer = peer;
      break;
    }
    case 'bridge':
      out.kind = 'bridge';
      out.bridge = bridgeOptions(spec.bridge, 'bridge');
      break;
    case 'vxlan':
      out.kind = 'vxlan';
      out.vxlan = vxlanOptions(spec.vxlan, 'vxlan', true);
      break;
    case 'macvlan':
    case 'macvtap':
    case 'vlan':
    case 'ipvlan':
    case 'ipvtap':
      // Links on top of a parent (IFLA_LINK).
      out.kind = spec.kind;
      out.link = refOrIndex(spec.parent, 'parent');
      if (spec.kind === 'macvlan' || spec.kind === 'macvtap') {
        out.macvlan = modeAndFlags(spec.macvlan, 'macvlan', MACVLAN_MODES);
      } else if (spec.kind === 'vlan') {
        if (typeof spec.vlan !== 'object' || spec.vlan === null) throw new TypeError('a vlan needs vlan: { id }');
        const vl = own(spec.vlan, 'vlan');
        out.vlan = { id: int(vl.id, 'vlan.id', 0, 4094), protocol: oneOf(vl.protocol, 'vlan.protocol', ['802.1Q', '802.1ad'] as const) };
      } else if (spec.kind === 'ipvlan' || spec.kind === 'ipvtap') {
        out.ipvlan = modeAndFlags(spec.ipvlan, 'ipvlan', IPVLAN_MODES);
      }
      break;
    case 'dummy':
    case 'ifb':
    case 'nlmon':
      out.kind = spec.kind;
      break;
    case 'other': {
      if (typeof spec.type !== 'string' || !KIND_RE.test(spec.type)) {
        throw new TypeError(`kind 'other' needs type: the kernel's kind name ([a-z0-9_.-], 1-31 chars), got ${String(spec.type)}`);
      }
      out.kind = spec.type;
      if (spec.infoData !== undefined) {
        if (!Buffer.isBuffer(spec.infoData)) throw new TypeError('infoData must be a Buffer');
        if (spec.infoData.length > 60000) throw new RangeError('infoData larger than a netlink attribute can hold');
        out.infoData = spec.infoData;
      }
      if (spec.parent !== undefined) out.link = refOrIndex(spec.parent, 'parent');
      break;
    }
    default:
      throw new TypeError(
        `unknown link kind ${JSON.stringify((spec as { kind: unknown }).kind)}: use veth, bridge, vxlan, macvlan, macvtap, vlan, ipvlan, ipvtap, dummy, ifb, nlmon, or { kind: 'other', type: '<kernel kind>' }`,
      );
  }
  return out;
}

/** Normalises links.set changes into a 'linkSet' step aimed at ref. */
export function linkSetStep(ref: LinkRef, changes: LinkChanges): NativeLinkStep<StepRef> {
  const target = checkLinkRef(ref);
  const c = own(changes, 'link changes');
  const out: NativeLinkStep<StepRef> = { op: 'linkSet' };
  if (typeof target === 'number') out.index = target;
  else out.name = target;
  if (c.name !== undefined) {
    out.rename = checkIfname(c.name, 'new name');
    // A rename needs the target by index (IFLA_IFNAME then carries the new name).
    if (typeof target === 'string') out.index = new Ref(target);
  }
  if (c.up !== undefined) out.up = optBool(c.up, 'up');
  if (c.mtu !== undefined) out.mtu = int(c.mtu, 'mtu', 1, 0x7fffffff);
  if (c.mac !== undefined) out.mac = checkMac(c.mac);
  if (c.master !== undefined) out.master = c.master === null ? 0 : refOrIndex(c.master, 'master');
  if (c.netns !== undefined) out.netns = nsHandle(c.netns, 'netns');
  if (c.alias !== undefined) out.alias = optString(c.alias, 'alias', 255);
  if (c.txqlen !== undefined) out.txqlen = int(c.txqlen, 'txqlen', 0, 0xffffffff);
  if (c.group !== undefined) out.group = int(c.group, 'group', 0, 0xffffffff);
  out.addrGenMode = oneOf(c.addrGenMode, 'addrGenMode', ADDR_GEN_MODES);
  out.ipv4Conf = ipv4ConfOf(c.ipv4Conf, 'ipv4Conf');
  out.bridgePort = portOptions(c.bridgePort, 'bridgePort');
  // A port set disabled is addressed by index (see portDisabled): look the name up.
  if (portDisabled(out) && out.index === undefined) out.index = new Ref(target as string);
  if (c.bridge !== undefined) {
    out.kind = 'bridge';
    out.bridge = bridgeOptions(c.bridge, 'bridge');
  }
  return out;
}

/** A 'linkDel' step: by name or index, or every link of a group. */
export function linkDeleteStep(ref: LinkRef | { group: number }): NativeLinkDeleteStep {
  if (typeof ref === 'object' && ref !== null && 'group' in ref) {
    return { op: 'linkDel', group: int(ref.group, 'group', 0, 0xffffffff) };
  }
  const r = checkLinkRef(ref as LinkRef);
  return typeof r === 'number' ? { op: 'linkDel', index: r } : { op: 'linkDel', name: r };
}

function broadcastOf(address: string, prefixlen: number): string {
  const n = address.split('.').reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
  const host = prefixlen === 32 ? 0 : (0xffffffff >>> prefixlen) >>> 0;
  const b = (n | host) >>> 0;
  return [b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255].join('.');
}

function scopeOf(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return int(v, what, 0, 255);
  const s = oneOf(v, what, Object.keys(SCOPES) as Scope[]);
  return s === undefined ? undefined : SCOPES[s];
}

/**
 * The address spec of a call in either form: addresses.add({ dev, address, ...opts }),
 * or the positional (dev, cidr, opts) of netplumb 0.1, kept for one minor version.
 */
export function addressSpecOf(a: AddressSpec | LinkRef, cidr?: string, opts?: AddressOptions): AddressSpec {
  if (typeof a === 'object' && a !== null && cidr === undefined && opts === undefined) return a;
  return { ...(opts === undefined ? {} : own(opts, 'address options')), dev: a as LinkRef, address: cidr as string };
}

/** An address step ('addrAdd' | 'addrReplace' | 'addrDel'). */
export function addressStep(op: 'addrAdd' | 'addrReplace' | 'addrDel', spec: AddressSpec | AddressKey): NativeAddressStep<StepRef> {
  const o = own(spec as AddressSpec, 'address');
  const a = parsePrefix(o.address, 'address');
  const out: NativeAddressStep<StepRef> = { op, index: refOrIndex(o.dev, 'dev'), address: a.address, prefixlen: a.prefixlen };
  if (o.peer !== undefined) {
    out.peer = checkIp(o.peer, 'peer');
    if (ipFamily(o.peer) !== a.family) throw new TypeError('peer must be of the same family as the address');
  }
  if (o.broadcast !== undefined) {
    if (a.family !== 4) throw new TypeError('broadcast is IPv4 only');
    out.broadcast = o.broadcast === true ? broadcastOf(a.address, a.prefixlen) : checkIp(o.broadcast, 'broadcast');
  }
  if (o.label !== undefined) {
    if (a.family !== 4) throw new TypeError('label is IPv4 only');
    // Labels are conventionally 'dev:tag' (ip's aliases): ':' is allowed here, unlike
    // in interface names; the kernel wants the link's name as the prefix.
    if (typeof o.label !== 'string' || !/^[^\s/\0]{1,15}$/.test(o.label) || Buffer.byteLength(o.label) > 15) {
      throw new TypeError(`label must be 1-15 bytes without '/', NUL or whitespace, got ${JSON.stringify(o.label)}`);
    }
    out.label = o.label;
  }
  out.scope = scopeOf(o.scope, 'scope');
  let flags = 0;
  for (const [k, bit] of Object.entries(IFA_F) as [keyof typeof IFA_F, number][]) {
    if (optBool(o[k], k)) flags |= bit;
  }
  out.flags = flags;
  out.validLifetime = optInt(o.validLifetime, 'validLifetime', 0, 0xfffffffe);
  out.preferredLifetime = optInt(o.preferredLifetime, 'preferredLifetime', 0, 0xfffffffe);
  if (out.validLifetime !== undefined && out.preferredLifetime !== undefined && out.preferredLifetime > out.validLifetime) {
    throw new RangeError('preferredLifetime may not exceed validLifetime');
  }
  out.metric = optInt(o.metric, 'metric', 0, 0xffffffff);
  return out;
}

/** A route step ('routeAdd' | 'routeReplace' | 'routeAppend' | 'routeDel'), with iproute2's defaults. */
export function routeStep(op: 'routeAdd' | 'routeReplace' | 'routeAppend' | 'routeDel', route: RouteSpec): NativeRouteStep<StepRef> {
  const r = own(route, 'route');
  let family: 4 | 6 | undefined = r.family;
  if (family !== undefined && family !== 4 && family !== 6) throw new TypeError('family must be 4 or 6');
  let dst: string | undefined;
  let dstLen = 0;
  if (r.dst === 'default' || r.dst === 'default6') {
    if (r.dst === 'default6') family = 6;
  } else {
    const d = parsePrefix(r.dst, 'dst');
    if (family !== undefined && family !== d.family) throw new TypeError('dst does not match family');
    family = d.family;
    // Host bits must be clear, as the kernel requires ("Invalid prefix for given prefix length").
    dst = d.address;
    dstLen = d.prefixlen;
  }
  let gateway: string | undefined;
  if (r.gateway !== undefined) {
    gateway = checkIp(r.gateway, 'gateway');
    const gf = ipFamily(r.gateway) as 4 | 6;
    if (family === undefined) family = gf;
    else if (gf !== family) throw new TypeError('gateway family does not match dst');
  }
  family ??= 4;
  const type = oneOf(r.type, 'type', Object.keys(ROUTE_TYPES) as RouteType[]) ?? 'unicast';
  let protocol: number;
  if (r.protocol !== undefined) {
    protocol = typeof r.protocol === 'number' ? int(r.protocol, 'protocol', 0, 255) : PROTOCOLS[oneOf(r.protocol, 'protocol', Object.keys(PROTOCOLS))!]!;
  } else {
    protocol = op === 'routeDel' ? 0 : PROTOCOLS.boot!;
  }
  let scope = scopeOf(r.scope, 'scope');
  if (scope === undefined) {
    if (op === 'routeDel') scope = SCOPES.nowhere;
    else if (type === 'local' || type === 'nat') scope = SCOPES.host;
    else if (type === 'broadcast' || type === 'multicast' || type === 'anycast') scope = SCOPES.link;
    else if (type === 'unicast' && r.gateway === undefined && family === 4) scope = SCOPES.link;
    else scope = SCOPES.universe;
  }
  const out: NativeRouteStep<StepRef> = { op, family, dst, dstLen, gateway, protocol, scope, type: ROUTE_TYPES[type] };
  if (r.prefsrc !== undefined) out.prefsrc = checkIp(r.prefsrc, 'prefsrc');
  if (r.dev !== undefined) out.oif = refOrIndex(r.dev, 'dev');
  out.metric = optInt(r.metric, 'metric', 0, 0xffffffff);
  if (r.table !== undefined) {
    out.table = typeof r.table === 'number' ? int(r.table, 'table', 1, 0xffffffff) : TABLES[oneOf(r.table, 'table', ['main', 'local', 'default'] as const)!];
  }
  out.onlink = optBool(r.onlink, 'onlink');
  out.mtu = optInt(r.mtu, 'mtu', 68, 0x7fffffff);
  out.tos = optInt(r.tos, 'tos', 0, 255);
  if (type === 'unicast' && r.gateway === undefined && r.dev === undefined && op !== 'routeDel') {
    throw new TypeError('a unicast route needs a gateway or a dev');
  }
  return out;
}

